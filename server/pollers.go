package server

import (
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"
)

// Bounds of the poller tracker: it lives in memory only, and the pick
// endpoint needs no credential, so anyone can make it remember seeds.
const (
	// pollerWindow is how long a poll is remembered. The SDK polls once a
	// second from the moment it opens the page.
	pollerWindow = time.Minute
	// maxPolledSeeds caps the seeds remembered at once. A full tracker
	// first forgets what is older than pollerWindow, then ignores new
	// seeds, so a flood of made-up seeds cannot push out one being polled.
	maxPolledSeeds = 10000
	// maxPollersPerSeed caps the addresses remembered for one seed; more
	// than one already earns the page's warning.
	maxPollersPerSeed = 8
)

// pollers remembers, per seed hash, which client addresses polled
// PickSeedToken in the last minute, so that the page creating a token for
// a seed can say where it will go (RFC 8628 section 5.4: a link with an
// attacker's seed would otherwise hand the token to the attacker). The seed
// itself is never kept: only its SHA-256, as the store keys it. Nothing is
// written to disk.
type pollers struct {
	mu    sync.Mutex
	seeds map[[32]byte][]poll
	// swept is when forgetOld last ran: once a window, so that hashes of
	// seeds nobody polls any more do not stay.
	swept time.Time
}

// poll is one address's last poll of a seed.
type poll struct {
	addr netip.Addr
	at   time.Time
}

func newPollers() *pollers {
	return &pollers{seeds: map[[32]byte][]poll{}}
}

// saw records a poll of the seed with hash from addr at now.
func (p *pollers) saw(hash [32]byte, addr net.Addr, now time.Time) {
	a, ok := hostOf(addr)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if now.Sub(p.swept) > pollerWindow {
		p.forgetOld(now)
	}
	list, known := p.seeds[hash]
	if !known && len(p.seeds) >= maxPolledSeeds {
		p.forgetOld(now)
		if len(p.seeds) >= maxPolledSeeds {
			return
		}
	}
	list = fresh(list, now)
	if i := slices.IndexFunc(list, func(q poll) bool { return q.addr == a }); i >= 0 {
		list[i].at = now
	} else if len(list) < maxPollersPerSeed {
		list = append(list, poll{addr: a, at: now})
	}
	p.seeds[hash] = list
}

// addresses returns the addresses that polled the seed with hash within
// pollerWindow of now, most recent first.
func (p *pollers) addresses(hash [32]byte, now time.Time) []string {
	p.mu.Lock()
	list := fresh(slices.Clone(p.seeds[hash]), now)
	p.mu.Unlock()
	slices.SortStableFunc(list, func(a, b poll) int { return b.at.Compare(a.at) })
	out := make([]string, len(list))
	for i, q := range list {
		out[i] = q.addr.String()
	}
	return out
}

// forgetOld drops every seed not polled within pollerWindow; p.mu is held.
func (p *pollers) forgetOld(now time.Time) {
	p.swept = now
	for h, list := range p.seeds {
		if len(fresh(list, now)) == 0 {
			delete(p.seeds, h)
		}
	}
}

// fresh returns the polls of list within pollerWindow of now, in place.
func fresh(list []poll, now time.Time) []poll {
	return slices.DeleteFunc(list, func(q poll) bool { return now.Sub(q.at) > pollerWindow })
}

// hostOf is the IP address of a client, without its port.
func hostOf(addr net.Addr) (netip.Addr, bool) {
	if addr == nil {
		return netip.Addr{}, false
	}
	if ta, ok := addr.(*net.TCPAddr); ok {
		a := ta.AddrPort().Addr()
		return a.Unmap(), a.IsValid()
	}
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		return netip.Addr{}, false
	}
	return ap.Addr().Unmap(), true
}
