package server

import "sync/atomic"

// Per-command statistics are striped: every worker adds to its own
// cache line (stripe = worker id), so two workers running the same command
// do not bounce one line between cores on every call; readers sum the
// stripes. The method set matches atomic.Int64's, so readers are unchanged.

const statStripes = 4 // a power of two

type stripedInt struct {
	s [statStripes]struct {
		v atomic.Int64
		_ [56]byte // one cache line per stripe
	}
}

// Add adds n to stripe 0 (callers without a stripe of their own).
func (c *stripedInt) Add(n int64) { c.s[0].v.Add(n) }

// AddAt adds n to the given stripe (any int; it is masked).
func (c *stripedInt) AddAt(stripe int, n int64) { c.s[stripe&(statStripes-1)].v.Add(n) }

// Load sums the stripes.
func (c *stripedInt) Load() int64 {
	var n int64
	for i := range c.s {
		n += c.s[i].v.Load()
	}
	return n
}

// Store sets the total to v (CONFIG RESETSTAT stores 0).
func (c *stripedInt) Store(v int64) {
	c.s[0].v.Store(v)
	for i := 1; i < statStripes; i++ {
		c.s[i].v.Store(0)
	}
}

// statStripe is the stripe of a command run on worker x.Worker, or of a
// connection for commands run elsewhere.
func statStripe(x *Ctx) int {
	if x.Worker != nil {
		return x.Worker.ID()
	}
	if x.req != nil && x.req.c != nil {
		return int(x.req.c.id)
	}
	return 0
}
