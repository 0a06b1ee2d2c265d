package ratelimit

import (
	"math"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// DefaultMaxKeys bounds the number of buckets when Config.MaxKeys is zero:
// about 100 bytes each, so some 10 MB at most.
const DefaultMaxKeys = 100_000

// Config configures a Limiter.
type Config struct {
	// Rate is how many events per second each key may sustain. Zero or
	// less disables the limit: Allow always allows.
	Rate float64
	// Burst is how many events a key may have at once after a quiet
	// period; less than one means one.
	Burst int
	// MaxKeys bounds how many keys are tracked at once; zero means
	// DefaultMaxKeys.
	MaxKeys int
	// Now is the clock; nil means time.Now. Tests inject one.
	Now func() time.Time
}

// Limiter holds one token bucket per key. It is safe for concurrent use.
type Limiter struct {
	limit   rate.Limit
	burst   int
	maxKeys int
	now     func() time.Time

	mu      sync.Mutex
	buckets map[key]*rate.Limiter
	// sweepAt is the map size at which the next sweep of full buckets runs,
	// so that sweeps cost O(1) per new key on average.
	sweepAt int
}

// minSweep is the smallest map size worth a sweep.
const minSweep = 1024

// New returns a Limiter for cfg.
func New(cfg Config) *Limiter {
	l := &Limiter{
		limit:   rate.Limit(cfg.Rate),
		burst:   max(cfg.Burst, 1),
		maxKeys: cfg.MaxKeys,
		now:     cfg.Now,
		buckets: make(map[key]*rate.Limiter),
	}
	if l.maxKeys <= 0 {
		l.maxKeys = DefaultMaxKeys
	}
	l.sweepAt = min(minSweep, l.maxKeys)
	if l.now == nil {
		l.now = time.Now
	}
	return l
}

// Enabled reports whether the limiter limits anything.
func (l *Limiter) Enabled() bool { return l != nil && l.limit > 0 }

// key names a bucket: a client's network (AllowAddr), or a name (Allow).
type key struct {
	net  netip.Prefix
	name string
}

// Allow takes one event from the bucket of name. When the bucket is empty
// it returns false and how long until the next event would be allowed. A
// nil or disabled Limiter allows everything.
func (l *Limiter) Allow(name string) (ok bool, retryAfter time.Duration) {
	return l.allow(key{name: name})
}

// AllowAddr is Allow for the client at addr, whose bucket is the one of
// its AddrKey: its network is the key, and no string is built per call
// (gateways call it on every decision). Its buckets are not the ones of
// Allow(AddrKey(addr)): a Limiter's callers should use one or the other.
func (l *Limiter) AllowAddr(addr net.Addr) (ok bool, retryAfter time.Duration) {
	if !l.Enabled() {
		return true, 0
	}
	return l.allow(addrKey(addr))
}

func (l *Limiter) allow(k key) (bool, time.Duration) {
	if !l.Enabled() {
		return true, 0
	}
	now := l.now()
	l.mu.Lock()
	b := l.buckets[k]
	if b == nil {
		if len(l.buckets) >= l.sweepAt {
			l.sweep(now)
		}
		b = rate.NewLimiter(l.limit, l.burst)
		// The bucket outlives this call: its name is copied so that it does
		// not pin the memory the caller's string points into (a token id
		// from the validation index's 32 MiB record chunks).
		k.name = strings.Clone(k.name)
		l.buckets[k] = b
	}
	l.mu.Unlock()
	r := b.ReserveN(now, 1)
	if d := r.DelayFrom(now); d > 0 {
		r.CancelAt(now)
		return false, d
	}
	return true, 0
}

// Len returns the number of tracked keys.
func (l *Limiter) Len() int {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.buckets)
}

// sweep drops the buckets that have refilled (forgetting them changes
// nothing: a new one starts full too), then, if the map is still at its
// bound, arbitrary ones down to three quarters of it, so that the next
// sweep is a quarter of the bound of new keys away. l.mu is held.
func (l *Limiter) sweep(now time.Time) {
	full := float64(l.burst)
	for k, b := range l.buckets {
		if b.TokensAt(now) >= full {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= l.maxKeys {
		keep := l.maxKeys * 3 / 4
		for k := range l.buckets {
			if len(l.buckets) <= keep {
				break
			}
			delete(l.buckets, k)
		}
	}
	l.sweepAt = min(max(2*len(l.buckets), minSweep), l.maxKeys)
}

// RetryAfterSeconds rounds a wait up to whole seconds, at least one, as
// HTTP's Retry-After header counts.
func RetryAfterSeconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// AddrKey returns the key of the client at addr: its IP address, or for
// IPv6 its /64 network. An address without an IP (a Unix socket, or none
// at all) maps to its String form.
func AddrKey(addr net.Addr) string { return addrKey(addr).String() }

func addrKey(addr net.Addr) key {
	if addr == nil {
		return key{}
	}
	var ip netip.Addr
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	case *net.UDPAddr:
		ip, _ = netip.AddrFromSlice(a.IP)
	default:
		ap, err := netip.ParseAddrPort(addr.String())
		if err != nil {
			return key{name: addr.String()}
		}
		ip = ap.Addr()
	}
	ip = ip.Unmap()
	if !ip.IsValid() {
		return key{name: addr.String()}
	}
	bits := ip.BitLen()
	if ip.Is6() {
		bits = 64
	}
	p, err := ip.Prefix(bits)
	if err != nil {
		return key{name: addr.String()}
	}
	return key{net: p}
}

// String is the key as AddrKey writes it: an IPv4 address without its /32.
func (k key) String() string {
	switch {
	case !k.net.IsValid():
		return k.name
	case k.net.Bits() == k.net.Addr().BitLen():
		return k.net.Addr().String()
	}
	return k.net.String()
}
