package ratelimit_test

import (
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"tokenauthority/internal/teststack"
	"tokenauthority/ratelimit"
)

func newClock() *teststack.Clock {
	return teststack.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
}

func TestAllow(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := ratelimit.New(ratelimit.Config{Rate: 2, Burst: 3, Now: c.Now})
	steps := []struct {
		advance   time.Duration
		key       string
		ok        bool
		wantAfter time.Duration
	}{
		{0, "a", true, 0},
		{0, "a", true, 0},
		{0, "a", true, 0},
		{0, "a", false, 500 * time.Millisecond}, // burst spent; 2/s refills one in 0.5 s
		{0, "b", true, 0},                       // keys do not share
		{250 * time.Millisecond, "a", false, 250 * time.Millisecond},
		{250 * time.Millisecond, "a", true, 0},
		{0, "a", false, 500 * time.Millisecond},
		{10 * time.Second, "a", true, 0}, // refilled, but never above the burst
		{0, "a", true, 0},
		{0, "a", true, 0},
		{0, "a", false, 500 * time.Millisecond},
	}
	for i, s := range steps {
		c.Advance(s.advance)
		ok, after := l.Allow(s.key)
		if ok != s.ok || after != s.wantAfter {
			t.Errorf("step %d: Allow(%q) = %v, %v; want %v, %v", i, s.key, ok, after, s.ok, s.wantAfter)
		}
	}
}

func TestDisabled(t *testing.T) {
	t.Parallel()
	for _, l := range []*ratelimit.Limiter{nil, ratelimit.New(ratelimit.Config{Rate: 0, Burst: 1})} {
		for range 1000 {
			if ok, _ := l.Allow("a"); !ok {
				t.Fatalf("a disabled limiter refused")
			}
		}
		if l.Enabled() || l.Len() != 0 {
			t.Errorf("disabled limiter: Enabled %v, Len %d", l.Enabled(), l.Len())
		}
	}
}

// TestBoundedMemory: a flood of distinct keys never grows the map past
// MaxKeys, and buckets that refilled are forgotten first, so a client in
// the middle of being limited stays limited.
func TestBoundedMemory(t *testing.T) {
	t.Parallel()
	c := newClock()
	l := ratelimit.New(ratelimit.Config{Rate: 1, Burst: 1, MaxKeys: 4096, Now: c.Now})
	for i := range 100_000 {
		l.Allow(fmt.Sprintf("k%d", i))
		if n := l.Len(); n > 4096 {
			t.Fatalf("after %d keys Len = %d; want at most 4096", i+1, n)
		}
	}
	// Idle keys are dropped once they refill.
	c.Advance(time.Minute)
	l.Allow("limited")
	if ok, _ := l.Allow("limited"); ok {
		t.Fatal("second event within the burst of 1 allowed")
	}
	for i := range 3000 {
		l.Allow(fmt.Sprintf("new%d", i))
	}
	if ok, _ := l.Allow("limited"); ok {
		t.Errorf("a limited key was forgotten while refilled ones were swept")
	}
	if n := l.Len(); n > 3100 {
		t.Errorf("Len = %d after the sweep; want the refilled keys gone", n)
	}
}

func TestRetryAfterSeconds(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		d    time.Duration
		want int
	}{{0, 1}, {time.Millisecond, 1}, {time.Second, 1}, {1001 * time.Millisecond, 2}, {90 * time.Second, 90}} {
		if got := ratelimit.RetryAfterSeconds(tc.d); got != tc.want {
			t.Errorf("RetryAfterSeconds(%v) = %d; want %d", tc.d, got, tc.want)
		}
	}
}

func TestAddrKey(t *testing.T) {
	t.Parallel()
	tcp := func(s string) net.Addr {
		a, err := net.ResolveTCPAddr("tcp", s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{tcp("127.0.0.1:5000"), "127.0.0.1"},
		{tcp("127.0.0.1:6000"), "127.0.0.1"},
		{tcp("[::ffff:10.0.0.1]:80"), "10.0.0.1"},
		{tcp("[2001:db8:1:2:3:4:5:6]:443"), "2001:db8:1:2::/64"},
		{tcp("[2001:db8:1:2:ffff::1]:443"), "2001:db8:1:2::/64"},
		{&net.UnixAddr{Name: "/run/ta.sock", Net: "unix"}, "/run/ta.sock"},
		{nil, ""},
	} {
		if got := ratelimit.AddrKey(tc.addr); got != tc.want {
			t.Errorf("AddrKey(%v) = %q; want %q", tc.addr, got, tc.want)
		}
	}
}

// TestAllowAddr takes events by address: a client's ports, and an IPv6
// client's /64, share one bucket, as their AddrKey says.
func TestAllowAddr(t *testing.T) {
	t.Parallel()
	tcp := func(s string) net.Addr {
		a, err := net.ResolveTCPAddr("tcp", s)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	for _, tc := range []struct {
		name        string
		first, then net.Addr
		shared      bool
	}{
		{"IPv4, another port", tcp("10.0.0.1:5000"), tcp("10.0.0.1:6000"), true},
		{"IPv4 and the same address mapped into IPv6", tcp("10.0.0.1:5000"), tcp("[::ffff:10.0.0.1]:80"), true},
		{"another IPv4 address", tcp("10.0.0.1:5000"), tcp("10.0.0.2:5000"), false},
		{"IPv6, same /64", tcp("[2001:db8:1:2::1]:443"), tcp("[2001:db8:1:2:ffff::9]:80"), true},
		{"IPv6, another /64", tcp("[2001:db8:1:2::1]:443"), tcp("[2001:db8:1:3::1]:443"), false},
		{"UDP and TCP from one address", &net.UDPAddr{IP: net.IPv4(10, 0, 0, 1), Port: 1}, tcp("10.0.0.1:2"), true},
		{"one Unix socket", &net.UnixAddr{Name: "/run/a.sock", Net: "unix"}, &net.UnixAddr{Name: "/run/a.sock", Net: "unix"}, true},
		{"two Unix sockets", &net.UnixAddr{Name: "/run/a.sock", Net: "unix"}, &net.UnixAddr{Name: "/run/b.sock", Net: "unix"}, false},
		{"no address", nil, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := ratelimit.New(ratelimit.Config{Rate: 1, Burst: 1, Now: newClock().Now})
			if ok, _ := l.AllowAddr(tc.first); !ok {
				t.Fatalf("AllowAddr(%v) refused the first event", tc.first)
			}
			ok, after := l.AllowAddr(tc.then)
			if ok == tc.shared {
				t.Errorf("AllowAddr(%v) after AllowAddr(%v) = %v; want shared bucket %v", tc.then, tc.first, ok, tc.shared)
			}
			if !ok && after != time.Second {
				t.Errorf("retry after %v, want 1s", after)
			}
			if got, want := l.Len(), 2; tc.shared && got != 1 || !tc.shared && got != want {
				t.Errorf("%d buckets", got)
			}
		})
	}
}

// TestAllowAddrAllocates nothing once the client's bucket exists.
func TestAllowAddrAllocates(t *testing.T) {
	l := ratelimit.New(ratelimit.Config{Rate: 1e9, Burst: 1e9})
	for _, addr := range []net.Addr{
		&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5000},
		&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Port: 443},
	} {
		l.AllowAddr(addr)
		if n := testing.AllocsPerRun(100, func() { l.AllowAddr(addr) }); n != 0 {
			t.Errorf("AllowAddr(%v) allocates %v times per call", addr, n)
		}
	}
}

// BenchmarkAllow measures the cost per request, against a bare map lookup
// under a mutex as the baseline.
func BenchmarkAllow(b *testing.B) {
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("10.0.%d.%d", i/256, i%256)
	}
	b.Run("limiter", func(b *testing.B) {
		l := ratelimit.New(ratelimit.Config{Rate: 1e9, Burst: 1e9})
		for i := 0; b.Loop(); i++ {
			l.Allow(keys[i%len(keys)])
		}
	})
	b.Run("limiter-addr", func(b *testing.B) {
		l := ratelimit.New(ratelimit.Config{Rate: 1e9, Burst: 1e9})
		addrs := make([]net.Addr, len(keys))
		for i, k := range keys {
			addrs[i] = &net.TCPAddr{IP: net.ParseIP(k), Port: 40000 + i}
		}
		for i := 0; b.Loop(); i++ {
			l.AllowAddr(addrs[i%len(addrs)])
		}
	})
	b.Run("baseline-map", func(b *testing.B) {
		var mu sync.Mutex
		m := map[string]int{}
		for i := 0; b.Loop(); i++ {
			mu.Lock()
			m[keys[i%len(keys)]]++
			mu.Unlock()
		}
	})
}
