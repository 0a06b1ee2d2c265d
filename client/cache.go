package client

import (
	"crypto/sha256"
	"strconv"
	"sync"
	"time"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// defaultCacheMax bounds the cache when WithCache is given no size.
const defaultCacheMax = 10000

// cache keeps positive verdicts for a bounded time. A nil *cache keeps
// nothing.
type cache struct {
	ttl time.Duration
	max int

	mu      sync.Mutex
	entries map[string]entry
}

type entry struct {
	v     Verdict
	until time.Time // not used at or after this instant
}

func newCache(ttl time.Duration, max int) *cache {
	if max <= 0 {
		max = defaultCacheMax
	}
	return &cache{ttl: ttl, max: max, entries: map[string]entry{}}
}

// cacheKey identifies a question without holding the secret.
func cacheKey(secret, zoo string, op pb.Operation) string {
	h := sha256.Sum256([]byte(secret))
	return string(h[:]) + "\x00" + zoo + "\x00" + strconv.Itoa(int(op))
}

func (c *cache) get(key string, now time.Time) (Verdict, bool) {
	if c == nil {
		return Verdict{}, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return Verdict{}, false
	}
	if !now.Before(e.until) {
		delete(c.entries, key)
		return Verdict{}, false
	}
	return e.v, true
}

// put keeps v until now+ttl, or until the token expires if that is sooner.
func (c *cache) put(key string, v Verdict, now time.Time) {
	if c == nil {
		return
	}
	until := now.Add(c.ttl)
	if !v.ExpireTime.IsZero() && v.ExpireTime.Before(until) {
		until = v.ExpireTime
	}
	if !now.Before(until) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= c.max {
		for k, e := range c.entries {
			if !now.Before(e.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= c.max {
			// Still full of live entries: start over rather than track
			// recency; the cost is a round of misses.
			clear(c.entries)
		}
	}
	c.entries[key] = entry{v: v, until: until}
}
