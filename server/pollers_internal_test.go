package server

import (
	"crypto/sha256"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"testing"
	"time"
)

func addr(s string) net.Addr {
	return net.TCPAddrFromAddrPort(netip.MustParseAddrPort(s))
}

func TestPollers(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	seed := sha256.Sum256([]byte("seed-a"))
	other := sha256.Sum256([]byte("seed-b"))
	tests := []struct {
		name  string
		polls func(p *pollers)
		at    time.Time
		want  []string
	}{
		{"nobody polled", func(p *pollers) {}, t0, []string{}},
		{"one poller, port dropped", func(p *pollers) { p.saw(seed, addr("198.51.100.7:41000"), t0) }, t0.Add(time.Second), []string{"198.51.100.7"}},
		{"same address from two ports is one", func(p *pollers) {
			p.saw(seed, addr("198.51.100.7:41000"), t0)
			p.saw(seed, addr("198.51.100.7:41001"), t0.Add(time.Second))
		}, t0.Add(2 * time.Second), []string{"198.51.100.7"}},
		{"IPv4-mapped is IPv4", func(p *pollers) { p.saw(seed, addr("[::ffff:198.51.100.7]:1"), t0) }, t0, []string{"198.51.100.7"}},
		{"most recent first", func(p *pollers) {
			p.saw(seed, addr("198.51.100.7:1"), t0)
			p.saw(seed, addr("[2001:db8::1]:1"), t0.Add(time.Second))
		}, t0.Add(2 * time.Second), []string{"2001:db8::1", "198.51.100.7"}},
		{"another seed's poller is not this one's", func(p *pollers) { p.saw(other, addr("203.0.113.9:1"), t0) }, t0, []string{}},
		{"forgotten after a minute", func(p *pollers) { p.saw(seed, addr("198.51.100.7:1"), t0) }, t0.Add(pollerWindow + time.Second), []string{}},
		{"kept within the minute", func(p *pollers) { p.saw(seed, addr("198.51.100.7:1"), t0) }, t0.Add(pollerWindow), []string{"198.51.100.7"}},
		{"no address, no poll", func(p *pollers) { p.saw(seed, nil, t0) }, t0, []string{}},
		{"at most maxPollersPerSeed addresses", func(p *pollers) {
			for i := range maxPollersPerSeed + 5 {
				p.saw(seed, addr(fmt.Sprintf("198.51.100.%d:1", i+1)), t0)
			}
		}, t0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := newPollers()
			tc.polls(p)
			got := p.addresses(seed, tc.at)
			if tc.want == nil {
				if len(got) != maxPollersPerSeed {
					t.Errorf("remembered %d addresses; want the cap %d", len(got), maxPollersPerSeed)
				}
				return
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("addresses = %q; want %q", got, tc.want)
			}
		})
	}
}

// TestPollersBounded: a flood of made-up seeds neither grows the tracker
// past its cap nor pushes out a seed being polled; old seeds are forgotten.
func TestPollersBounded(t *testing.T) {
	t.Parallel()
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	p := newPollers()
	real := sha256.Sum256([]byte("the SDK's seed"))
	p.saw(real, addr("198.51.100.7:1"), t0)
	for i := range maxPolledSeeds * 2 {
		p.saw(sha256.Sum256([]byte(fmt.Sprint(i))), addr("203.0.113.1:1"), t0.Add(time.Second))
	}
	if n := len(p.seeds); n != maxPolledSeeds {
		t.Errorf("tracker holds %d seeds; want the cap %d", n, maxPolledSeeds)
	}
	p.saw(real, addr("198.51.100.7:1"), t0.Add(2*time.Second))
	if got := p.addresses(real, t0.Add(2*time.Second)); !slices.Equal(got, []string{"198.51.100.7"}) {
		t.Errorf("the polled seed after the flood = %q; want its poller", got)
	}
	// A minute later the flood is gone, and a new seed fits again.
	late := t0.Add(2*time.Second + pollerWindow + time.Second)
	fresh := sha256.Sum256([]byte("a new seed"))
	p.saw(fresh, addr("198.51.100.8:1"), late)
	if n := len(p.seeds); n != 1 {
		t.Errorf("tracker holds %d seeds after a quiet minute; want 1", n)
	}
	if got := p.addresses(fresh, late); !slices.Equal(got, []string{"198.51.100.8"}) {
		t.Errorf("new seed = %q", got)
	}
}

// BenchmarkPollersSaw is the cost a poll adds to PickSeedToken, with the
// tracker full.
func BenchmarkPollersSaw(b *testing.B) {
	t0 := time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC)
	p := newPollers()
	for i := range maxPolledSeeds {
		p.saw(sha256.Sum256([]byte(fmt.Sprint(i))), addr("203.0.113.1:1"), t0)
	}
	seed := sha256.Sum256([]byte("1"))
	a := addr("203.0.113.1:1")
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		p.saw(seed, a, t0.Add(time.Duration(i)))
	}
}
