package server

// Flash sales (issue 6): the state behind the FLASH.* commands
// (cmd_flash.go).
//
// Every byte of an item's state lives in the keyspace, in keys of kind
// shard.KindFlash (TYPE "flash"), in the database the item was created in:
//
//	__flash:meta:{<item>}              the item: its configuration and parts
//	__flash:part:{<tag>}:<item>:<i>    part i: a virtual inventory
//
// The tag of part i is chosen at FLASH.CREATE so that the key's slot
// belongs to the i-th worker (round robin over the workers owning slots):
// concurrent buyers of one item are served by PARTS workers at once. Parts
// are ordinary keys: when their slots move they move with them and keep
// working (jobs are routed by slot at run time). Commands of other types
// reply WRONGTYPE on these keys; COPY refuses them (no Copier); DEL, RENAME,
// EXPIRE or FLUSHALL destroy them as they would any key, and the FLASH.*
// commands then answer "no such flash item" or "damaged" instead of
// guessing.
//
// A part holds its available, reserved and sold units, the per-user bought
// counts and REQID results of the users whose home part it is (home =
// xxhash(user) % PARTS, so all of one user's buys serialize on one worker:
// LIMIT is exact), and the log of the orders of those users in purchase
// order. The parts of an item share one *flashCore: the immutable
// configuration plus a few atomics (the order sequence, the mirror of the
// available total, the version, statistics) and the REQID index.
//
// Order ids are "<seq>-<part>": seq comes from the item's sequence, taken
// inside the part's critical section, so ids increase in purchase order
// across parts and the order logs merge by seq; part says which part's log
// holds the order (FLASH.CONFIRM/CANCEL go straight to it).
//
// A buy runs on its home part's worker. When the home part cannot fill it
// but the item's total could, it runs again as one atomic step over every
// part (engine barrier) that moves available units to the home part (no
// false SOLDOUT); a part draining below half its fair share triggers the
// same even redistribution. HOLD reservations expire lazily on every access
// of their part and by a periodic sweep; every change bumps the version, and
// a ticker publishes status snapshots on __flash__:<item>.
//
// Decisions the issue leaves open:
//
//   - REQID scope: per item. The record (user, QTY, the reply) is kept for
//     the item's life; a repeat with the same user and QTY replays the
//     first reply whatever it was (OK, SOLDOUT, LIMIT, NOTSTARTED, ENDED)
//     and takes nothing; the same REQID with another user or QTY is an
//     error, detected through the item's REQID index wherever the other
//     user's home part is.
//   - LIMIT counts a user's live units: RESERVED and SOLD orders; an expired
//     or cancelled order gives its units back to the stock and to the user's
//     allowance.
//   - Order states: RESERVED (HOLD running), SOLD (no HOLD, or confirmed),
//     EXPIRED, CANCELLED. FLASH.CONFIRM of a SOLD order is OK (idempotent),
//     of an EXPIRED one EXPIRED, of anything else UNKNOWN. FLASH.CANCEL
//     cancels a RESERVED or SOLD order (a refund: units back to stock).
//   - FLASH.ORDERS entries are [id, user, qty, state, time (unix ms)];
//     COUNT defaults to every order.
//   - STATUS state: ENDED (END passed), PENDING (before START), SOLDOUT (no
//     unit available, reserved ones may still come back), else ACTIVE.
//   - Push message: a JSON object {"item", "version", "state", "total",
//     "available", "reserved", "sold", "parts": [{"available", "sold"}...]},
//     the same consistent snapshot FLASH.STATUS returns. version counts
//     every change, so a subscriber that sees a gap knows it missed
//     coalesced changes and may call FLASH.STATUS.

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cespare/xxhash/v2"

	"github.com/kvd/kvd/shard"
)

// Buy outcomes.
const (
	flashOK = iota
	flashSoldOut
	flashLimit
	flashNotStarted
	flashEnded
	flashNumStatus
)

var flashStatusNames = [flashNumStatus]string{"OK", "SOLDOUT", "LIMIT", "NOTSTARTED", "ENDED"}

// Order states.
const (
	orderReserved uint8 = iota + 1
	orderSold
	orderExpired
	orderCancelled
)

var orderStateNames = [...]string{"", "RESERVED", "SOLD", "EXPIRED", "CANCELLED"}

// Error texts of the flash family.
const (
	errFlashNoItem  = "ERR no such flash item"
	errFlashExists  = "ERR flash item already exists (use REPLACE)"
	errFlashDamaged = "ERR flash item is damaged: one of its internal keys was deleted or overwritten"
	errFlashReqID   = "ERR REQID already used with different arguments"
	errFlashBusy    = "ERR REQID is still being processed, retry"
	errFlashRestock = "ERR FLASH.RESTOCK would drop the total below sold + reserved"
)

// flashMaxParts bounds PARTS.
const flashMaxParts = 1024

type paddedInt64 struct {
	atomic.Int64
	_ [56]byte
}

// flashCore is what the parts of one item share.
type flashCore struct {
	item     string
	metaKey  []byte
	partKeys [][]byte
	allKeys  [][]byte // the part keys and the meta key

	limit, hold, start, end int64 // 0 = none

	seq          atomic.Int64 // last order sequence number
	events       atomic.Int64 // changes that take no sequence number; version = seq + events
	avail        atomic.Int64 // mirror of the sum of the parts' available units
	reservations atomic.Int64 // orders RESERVED
	reqs         sync.Map     // REQID -> *flashReq
	partOps      []paddedInt64
	rebalancing  atomic.Bool
	gone         atomic.Bool // deleted or replaced

	// pusher goroutine only
	pushedVer   int64
	pushedState string
	pushedAt    time.Time
}

func (c *flashCore) version() int64 { return c.seq.Load() + c.events.Load() }

// state is the item's sale state at now given its available units.
func (c *flashCore) state(now, avail int64) string {
	switch {
	case c.end > 0 && now >= c.end:
		return "ENDED"
	case now < c.start:
		return "PENDING"
	case avail <= 0:
		return "SOLDOUT"
	}
	return "ACTIVE"
}

// flashMeta is the Val of an item's meta key.
type flashMeta struct{ core *flashCore }

// Encoding names the value for OBJECT ENCODING.
func (*flashMeta) Encoding() string { return "flash-meta" }

// flashPart is the Val of a part key. Only the worker owning the key's slot
// touches it.
type flashPart struct {
	core                  *flashCore
	idx                   int
	avail, reserved, sold int64
	users                 map[string]int64 // live units per user (LIMIT > 0 only)
	log                   []flashOrder     // in seq order
	holds                 []int32          // indexes into log of reservations, in deadline order
	holdHead              int
}

// Encoding names the value for OBJECT ENCODING.
func (*flashPart) Encoding() string { return "flash-part" }

type flashOrder struct {
	seq      int64
	time     int64
	deadline int64
	qty      int64
	user     string
	state    uint8
}

// flashReq is the record of a buy made with a REQID.
type flashReq struct {
	user string
	qty  int64
	done bool // res is final (written and read by jobs of the user's home part)
	res  flashBuyRes
}

type flashBuyArgs struct {
	user  []byte
	qty   int64
	reqid []byte
	rec   *flashReq // the REQID record this buy created, while pending
}

type flashBuyRes struct {
	status    uint8
	seq       int64
	part      int
	remaining int64
	err       string
	slow      bool // needs the all-parts step
	wait      bool // another buy with the same REQID is in flight
	stale     bool // a key of the item is missing
	rebalance bool // the home part drained unevenly
	replayed  bool
}

// flashServer is the server's flash bookkeeping: caches and statistics,
// never the source of truth.
type flashServer struct {
	mu     sync.Mutex                              // guards routes (writers), items
	routes atomic.Pointer[[]map[string]*flashCore] // per database: item -> core (copy on write)
	items  map[*flashCore]int                      // live items and their database: pusher, sweeper, INFO
	once   sync.Once
	wake   chan struct{}
	done   chan struct{} // closed when the ticker goroutine returns
	stats  flashStats
}

type flashStats struct {
	buys       [flashNumStatus]atomic.Int64
	replayed   atomic.Int64
	crossPart  atomic.Int64
	rebalances atomic.Int64
	expired    atomic.Int64
	confirmed  atomic.Int64
	cancelled  atomic.Int64
	pushes     atomic.Int64
	coalesced  atomic.Int64
	sweeps     atomic.Int64
}

// --- keys -----------------------------------------------------------------

func flashMetaKey(item []byte) []byte {
	k := make([]byte, 0, len(item)+16)
	k = append(k, "__flash:meta:{"...)
	k = append(k, item...)
	return append(k, '}')
}

func flashPartKey(item []byte, i int, tag string) []byte {
	return fmt.Appendf(nil, "__flash:part:{%s}:%s:%d", tag, item, i)
}

// flashPlaceParts chooses the keys of n parts so that part i lands on the
// i-th worker owning slots (round robin), by searching hash tags.
func flashPlaceParts(e *shard.Engine, item []byte, n int) [][]byte {
	sm := e.SlotMap()
	var owners []int
	seen := make(map[int]bool)
	for s := range sm.Owner {
		w := int(sm.Owner[s])
		if !seen[w] {
			seen[w] = true
			owners = append(owners, w)
		}
	}
	sort.Ints(owners)
	h := xxhash.Sum64(item)
	keys := make([][]byte, n)
	for i := 0; i < n; i++ {
		target := owners[i%len(owners)]
		tag := ""
		for j := 0; j < 1<<20; j++ {
			t := fmt.Sprintf("%x.%d.%d", h, i, j)
			if int(sm.Owner[shard.KeySlot([]byte(t))]) == target {
				tag = t
				break
			}
		}
		if tag == "" { // cannot happen: the target owns a slot
			tag = fmt.Sprintf("%x.%d", h, i)
		}
		keys[i] = flashPartKey(item, i, tag)
	}
	return keys
}

func flashHome(c *flashCore, user []byte) int {
	return int(xxhash.Sum64(user) % uint64(len(c.partKeys)))
}

// --- running on the owners of the item's keys -----------------------------

// flashOnKey runs fn on the owner of key's slot (following slot moves) and
// waits. Callable from IO goroutines and the flash ticker, never from a
// worker. A panic in fn is raised again here, where the command's recovery
// turns it into an error reply.
func (s *Server) flashOnKey(key []byte, fn func(w *shard.Worker)) {
	var pv any
	s.eng.RunOnKey(key, func(w *shard.Worker) {
		defer func() { pv = recover() }()
		fn(w)
	})
	if pv != nil {
		panic(pv)
	}
}

// flashOnKeys runs fn atomically holding the owners of every key (all
// workers when keys is nil), and waits.
func (s *Server) flashOnKeys(keys [][]byte, fn func(w *shard.Worker)) {
	var pv any
	s.eng.RunOnKeys(keys, func(w *shard.Worker) {
		defer func() { pv = recover() }()
		fn(w)
	})
	if pv != nil {
		panic(pv)
	}
}

// --- route cache ----------------------------------------------------------

// flashLookup finds the item in database db: from the cache, else from its
// meta key. nil when there is no such item.
func (s *Server) flashLookup(db int, item []byte) *flashCore {
	if rp := s.flash.routes.Load(); rp != nil && db < len(*rp) {
		if c := (*rp)[db][string(item)]; c != nil && !c.gone.Load() {
			return c
		}
	}
	meta := flashMetaKey(item)
	var core *flashCore
	s.flashOnKey(meta, func(w *shard.Worker) {
		d := s.eng.DB(w, db)
		if o := d.Lookup(meta); o != nil && o.Kind == shard.KindFlash {
			if m, ok := o.Val.(*flashMeta); ok && m.core.item == string(item) {
				core = m.core
			}
		}
	})
	if core == nil || core.gone.Load() {
		return nil
	}
	s.flashRemember(db, core)
	return core
}

func (s *Server) flashRemember(db int, c *flashCore) {
	s.flashStart()
	s.flash.mu.Lock()
	defer s.flash.mu.Unlock()
	s.flashSetRoute(db, c.item, c)
	s.flash.items[c] = db
}

// flashForget drops a cached route (and the item from the live set) when
// it proved stale.
func (s *Server) flashForget(db int, c *flashCore) {
	s.flash.mu.Lock()
	defer s.flash.mu.Unlock()
	if rp := s.flash.routes.Load(); rp != nil && db < len(*rp) && (*rp)[db][c.item] == c {
		s.flashSetRoute(db, c.item, nil)
	}
	if s.flash.items[c] == db {
		delete(s.flash.items, c)
	}
}

// flashSetRoute publishes a new route map; s.flash.mu held.
func (s *Server) flashSetRoute(db int, item string, c *flashCore) {
	var old []map[string]*flashCore
	if rp := s.flash.routes.Load(); rp != nil {
		old = *rp
	}
	n := make([]map[string]*flashCore, max(len(old), db+1))
	copy(n, old)
	m := make(map[string]*flashCore, len(n[db])+1)
	for k, v := range n[db] {
		m[k] = v
	}
	if c == nil {
		delete(m, item)
	} else {
		m[item] = c
	}
	n[db] = m
	s.flash.routes.Store(&n)
}

// --- part operations (on the owning worker) -------------------------------

// flashGetPart returns part i of c in d, or nil when the key is missing or
// holds something else.
func flashGetPart(d *shard.DB, c *flashCore, i int) *flashPart {
	o := d.Lookup(c.partKeys[i])
	if o == nil || o.Kind != shard.KindFlash {
		return nil
	}
	p, ok := o.Val.(*flashPart)
	if !ok || p.core != c || p.idx != i {
		return nil
	}
	return p
}

// flashGetParts returns every part of c, or nil when one of its keys (the
// meta key included) is missing. The caller holds c.allKeys.
func flashGetParts(d *shard.DB, c *flashCore) []*flashPart {
	if o := d.Lookup(c.metaKey); o == nil || o.Kind != shard.KindFlash {
		return nil
	} else if m, ok := o.Val.(*flashMeta); !ok || m.core != c {
		return nil
	}
	parts := make([]*flashPart, len(c.partKeys))
	for i := range parts {
		if parts[i] = flashGetPart(d, c, i); parts[i] == nil {
			return nil
		}
	}
	return parts
}

func (p *flashPart) unuse(user string, qty int64) {
	if p.users == nil {
		return
	}
	if n := p.users[user] - qty; n > 0 {
		p.users[user] = n
	} else {
		delete(p.users, user)
	}
}

// expire returns the units of reservations whose HOLD has passed.
func (p *flashPart) expire(s *Server, now int64) {
	c := p.core
	for p.holdHead < len(p.holds) {
		o := &p.log[p.holds[p.holdHead]]
		if o.state == orderReserved {
			if o.deadline > now {
				break
			}
			o.state = orderExpired
			p.reserved -= o.qty
			p.avail += o.qty
			if c.avail.Add(o.qty) == o.qty {
				s.flashKick() // SOLDOUT -> ACTIVE
			}
			c.reservations.Add(-1)
			c.events.Add(1)
			p.unuse(o.user, o.qty)
			s.flash.stats.expired.Add(1)
		}
		p.holdHead++
	}
	if p.holdHead >= 1024 && p.holdHead*2 >= len(p.holds) {
		p.holds = append(p.holds[:0], p.holds[p.holdHead:]...)
		p.holdHead = 0
	}
}

// find returns the order with sequence seq, or nil.
func (p *flashPart) find(seq int64) *flashOrder {
	i := sort.Search(len(p.log), func(i int) bool { return p.log[i].seq >= seq })
	if i < len(p.log) && p.log[i].seq == seq {
		return &p.log[i]
	}
	return nil
}

// spread redistributes total available units over the parts evenly, giving
// part home at least need.
func flashSpread(parts []*flashPart, total int64, home int, need int64) {
	n := int64(len(parts))
	share := func(i int64, k int64, amount int64) int64 {
		v := amount / k
		if i < amount%k {
			v++
		}
		return v
	}
	if home < 0 || n == 1 {
		for i, p := range parts {
			p.avail = share(int64(i), n, total)
		}
		return
	}
	h := max(share(int64(home), n, total), need)
	parts[home].avail = h
	rest := total - h
	k := int64(0)
	for i, p := range parts {
		if i == home {
			continue
		}
		p.avail = share(k, n-1, rest)
		k++
	}
}

// buy runs a purchase on the user's home part. all is nil on the hot path
// (only the home part's worker is held) and every part of the item in the
// all-parts step.
func (c *flashCore) buy(s *Server, home *flashPart, now int64, a *flashBuyArgs, all []*flashPart) (r flashBuyRes) {
	if all != nil {
		for _, p := range all {
			p.expire(s, now)
		}
	} else {
		home.expire(s, now)
	}
	r.part = home.idx
	if a.reqid != nil && a.rec == nil {
		v, loaded := c.reqs.Load(string(a.reqid))
		if !loaded {
			rec := &flashReq{user: string(a.user), qty: a.qty}
			if v, loaded = c.reqs.LoadOrStore(string(a.reqid), rec); !loaded {
				a.rec = rec
			}
		}
		if loaded {
			rec := v.(*flashReq)
			switch {
			case rec.user != string(a.user) || rec.qty != a.qty:
				r.err = errFlashReqID
			case !rec.done:
				r.wait = true
			default:
				r = rec.res
				r.replayed = true
			}
			return r
		}
	}
	defer func() {
		if a.rec != nil && !r.slow {
			a.rec.res = r
			a.rec.done = true
		}
	}()
	switch {
	case c.start > 0 && now < c.start:
		r.status = flashNotStarted
	case c.end > 0 && now >= c.end:
		r.status = flashEnded
	case c.limit > 0 && a.qty > c.limit-home.users[string(a.user)]:
		r.status = flashLimit
	}
	if r.status != flashOK {
		r.remaining = c.avail.Load()
		return r
	}
	if home.avail < a.qty {
		if all == nil {
			if c.avail.Load() < a.qty {
				r.status, r.remaining = flashSoldOut, c.avail.Load()
				return r
			}
			r.slow = true
			return r
		}
		var total int64
		for _, p := range all {
			total += p.avail
		}
		if total < a.qty {
			r.status, r.remaining = flashSoldOut, c.avail.Load()
			return r
		}
		flashSpread(all, total, home.idx, a.qty)
		c.events.Add(1)
	}
	home.avail -= a.qty
	left := c.avail.Add(-a.qty)
	if left == 0 {
		s.flashKick() // SOLDOUT
	}
	user := string(a.user)
	o := flashOrder{seq: c.seq.Add(1), time: now, qty: a.qty, user: user, state: orderSold}
	if c.hold > 0 {
		o.state, o.deadline = orderReserved, now+c.hold
		home.reserved += a.qty
		home.holds = append(home.holds, int32(len(home.log)))
		c.reservations.Add(1)
	} else {
		home.sold += a.qty
	}
	if c.limit > 0 {
		if home.users == nil {
			home.users = make(map[string]int64)
		}
		home.users[user] += a.qty
	}
	home.log = append(home.log, o)
	c.partOps[home.idx].Add(1)
	r.seq, r.remaining = o.seq, left
	if n := int64(len(all)); all == nil {
		n = int64(len(c.partKeys))
		r.rebalance = n > 1 && left >= 2*n && home.avail*2*n < left
	}
	return r
}

// settle confirms (confirm) or cancels an order of part p.
func (c *flashCore) confirm(s *Server, p *flashPart, now, seq int64) string {
	p.expire(s, now)
	o := p.find(seq)
	if o == nil {
		return "UNKNOWN"
	}
	switch o.state {
	case orderReserved:
		o.state = orderSold
		p.reserved -= o.qty
		p.sold += o.qty
		c.reservations.Add(-1)
		c.events.Add(1)
		s.flash.stats.confirmed.Add(1)
		return "OK"
	case orderSold:
		return "OK"
	case orderExpired:
		return "EXPIRED"
	}
	return "UNKNOWN"
}

func (c *flashCore) cancel(s *Server, p *flashPart, now, seq int64) bool {
	p.expire(s, now)
	o := p.find(seq)
	if o == nil || (o.state != orderReserved && o.state != orderSold) {
		return false
	}
	if o.state == orderReserved {
		p.reserved -= o.qty
		c.reservations.Add(-1)
	} else {
		p.sold -= o.qty
	}
	o.state = orderCancelled
	p.avail += o.qty
	if c.avail.Add(o.qty) == o.qty {
		s.flashKick()
	}
	p.unuse(o.user, o.qty)
	c.events.Add(1)
	s.flash.stats.cancelled.Add(1)
	return true
}

// flashSnap is a consistent status snapshot.
type flashSnap struct {
	Item      string          `json:"item"`
	Version   int64           `json:"version"`
	State     string          `json:"state"`
	Total     int64           `json:"total"`
	Available int64           `json:"available"`
	Reserved  int64           `json:"reserved"`
	Sold      int64           `json:"sold"`
	Parts     []flashPartSnap `json:"parts"`
}

type flashPartSnap struct {
	Available int64 `json:"available"`
	Sold      int64 `json:"sold"`
}

func (c *flashCore) snapshot(s *Server, parts []*flashPart, now int64) flashSnap {
	sn := flashSnap{Item: c.item, Parts: make([]flashPartSnap, len(parts))}
	for i, p := range parts {
		p.expire(s, now)
		sn.Available += p.avail
		sn.Reserved += p.reserved
		sn.Sold += p.sold
		sn.Parts[i] = flashPartSnap{Available: p.avail, Sold: p.sold}
	}
	sn.Total = sn.Available + sn.Reserved + sn.Sold
	sn.Version = c.version()
	sn.State = c.state(now, sn.Available)
	return sn
}

// flashSnapshot takes a snapshot of c in database db; false when the item
// is gone or damaged.
func (s *Server) flashSnapshot(c *flashCore, db int) (flashSnap, bool) {
	var sn flashSnap
	ok := false
	s.flashOnKeys(c.allKeys, func(w *shard.Worker) {
		d := s.eng.DB(w, db)
		parts := flashGetParts(&d, c)
		if parts == nil {
			return
		}
		sn, ok = c.snapshot(s, parts, d.Now()), true
	})
	return sn, ok
}

// flashRebalance spreads an item's available units evenly over its parts.
func (s *Server) flashRebalance(c *flashCore, db int) {
	if !c.rebalancing.CompareAndSwap(false, true) {
		return
	}
	defer c.rebalancing.Store(false)
	s.flashOnKeys(c.allKeys, func(w *shard.Worker) {
		d := s.eng.DB(w, db)
		parts := flashGetParts(&d, c)
		if parts == nil {
			return
		}
		var total int64
		for _, p := range parts {
			p.expire(s, d.Now())
			total += p.avail
		}
		flashSpread(parts, total, -1, 0)
		c.events.Add(1)
		s.flash.stats.rebalances.Add(1)
	})
}

// --- order ids ------------------------------------------------------------

func appendOrderID(b []byte, seq int64, part int) []byte {
	b = strconv.AppendInt(b, seq, 10)
	b = append(b, '-')
	return strconv.AppendInt(b, int64(part), 10)
}

// parseOrderID parses "<seq>-<part>"; part is -1 for a bare "<seq>".
func parseOrderID(b []byte) (seq int64, part int, ok bool) {
	s := string(b)
	part = -1
	for i := 0; i < len(s); i++ {
		if s[i] == '-' {
			p, err := strconv.Atoi(s[i+1:])
			if err != nil || p < 0 {
				return 0, 0, false
			}
			part, s = p, s[:i]
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, 0, false
	}
	return v, part, true
}

// --- push and sweep ticker ------------------------------------------------

// flashStart starts, on first use, the goroutine that publishes status
// snapshots and sweeps expired reservations.
func (s *Server) flashStart() {
	s.flash.once.Do(func() {
		s.flash.mu.Lock()
		s.flash.items = make(map[*flashCore]int)
		s.flash.mu.Unlock()
		s.flash.wake = make(chan struct{}, 1)
		s.flash.done = make(chan struct{})
		go s.flashLoop()
	})
}

// flashStop waits for the ticker goroutine to return, and keeps it from
// starting later. Close calls it before stopping the engine: a tick in
// progress runs jobs on the workers, which must still be running.
func (s *Server) flashStop() {
	s.flash.once.Do(func() {})
	if s.flash.done != nil {
		<-s.flash.done
	}
}

// flashKick asks the ticker to run now (a state change).
func (s *Server) flashKick() {
	s.flashStart()
	select {
	case s.flash.wake <- struct{}{}:
	default:
	}
}

func (s *Server) flashInterval() time.Duration {
	v, _ := s.cfg.Get("flash-push-interval-ms")
	ms, err := strconv.Atoi(v)
	if err != nil || ms <= 0 {
		ms = 100
	}
	return time.Duration(ms) * time.Millisecond
}

func (s *Server) flashLoop() {
	defer close(s.flash.done)
	next := s.flashInterval()
	for {
		t := time.NewTimer(next)
		select {
		case <-s.shutdown:
			t.Stop()
			return
		case <-t.C:
		case <-s.flash.wake:
			t.Stop()
		}
		iv := s.flashInterval()
		next = min(iv, s.flashTick(iv))
	}
}

// flashTick sweeps expired reservations and publishes the snapshots that
// are due: at once on a state change, else at most one per interval. It
// returns how long until the next START or END of an item (so that ACTIVE
// and ENDED are pushed when they happen), at most iv.
func (s *Server) flashTick(iv time.Duration) (next time.Duration) {
	next = iv
	tick := time.Now()
	s.flash.mu.Lock()
	type live struct {
		c  *flashCore
		db int
	}
	items := make([]live, 0, len(s.flash.items))
	for c, db := range s.flash.items {
		items = append(items, live{c, db})
	}
	s.flash.mu.Unlock()
	for _, it := range items {
		select {
		case <-s.shutdown:
			return
		default:
		}
		c := it.c
		if c.gone.Load() {
			continue
		}
		if c.hold > 0 && c.reservations.Load() > 0 {
			s.flash.stats.sweeps.Add(1)
			for i := range c.partKeys {
				s.flashOnKey(c.partKeys[i], func(w *shard.Worker) {
					d := s.eng.DB(w, it.db)
					if p := flashGetPart(&d, c, i); p != nil {
						p.expire(s, d.Now())
					}
				})
			}
		}
		now := s.eng.Clock()
		for _, at := range [2]int64{c.start, c.end} {
			if at > now {
				next = min(next, time.Duration(at-now)*time.Millisecond)
			}
		}
		ver := c.version()
		st := c.state(now, c.avail.Load())
		urgent := st != c.pushedState
		if !urgent && (ver == c.pushedVer || tick.Sub(c.pushedAt) < iv) {
			continue
		}
		sn, ok := s.flashSnapshot(c, it.db)
		if !ok {
			s.flashForget(it.db, c)
			continue
		}
		msg, _ := json.Marshal(sn)
		s.publish([]byte("__flash__:"+c.item), msg)
		s.flash.stats.pushes.Add(1)
		if d := sn.Version - c.pushedVer - 1; c.pushedAt != (time.Time{}) && d > 0 {
			s.flash.stats.coalesced.Add(d)
		}
		c.pushedVer, c.pushedState, c.pushedAt = sn.Version, sn.State, tick
	}
	return next
}

// --- INFO -----------------------------------------------------------------

func (s *Server) infoFlash(b *strings.Builder) {
	st := &s.flash.stats
	s.flash.mu.Lock()
	var items []*flashCore
	dbOf := map[*flashCore]int{}
	for c, db := range s.flash.items {
		if !c.gone.Load() {
			items = append(items, c)
			dbOf[c] = db
		}
	}
	s.flash.mu.Unlock()
	sort.Slice(items, func(i, j int) bool {
		if items[i].item != items[j].item {
			return items[i].item < items[j].item
		}
		return dbOf[items[i]] < dbOf[items[j]]
	})
	var active int64
	for _, c := range items {
		active += c.reservations.Load()
	}
	infoLine(b, "flash_items", len(items))
	for i, name := range flashStatusNames {
		infoLine(b, "flash_buys_"+strings.ToLower(name), st.buys[i].Load())
	}
	infoLine(b, "flash_buys_replayed", st.replayed.Load())
	infoLine(b, "flash_buys_crosspart", st.crossPart.Load())
	infoLine(b, "flash_rebalances", st.rebalances.Load())
	infoLine(b, "flash_reservations_active", active)
	infoLine(b, "flash_reservations_expired", st.expired.Load())
	infoLine(b, "flash_reservations_confirmed", st.confirmed.Load())
	infoLine(b, "flash_reservation_sweeps", st.sweeps.Load())
	infoLine(b, "flash_orders_cancelled", st.cancelled.Load())
	infoLine(b, "flash_pushes_sent", st.pushes.Load())
	infoLine(b, "flash_pushes_coalesced", st.coalesced.Load())
	for i, c := range items {
		if i == 100 {
			break // INFO stays readable; FLASH.STATUS has the rest
		}
		var sum, mx int64
		mn := int64(-1)
		for i := range c.partOps {
			v := c.partOps[i].Load()
			sum += v
			mx = max(mx, v)
			if mn < 0 || v < mn {
				mn = v
			}
		}
		skew := 1.0
		if sum > 0 {
			skew = float64(mx) * float64(len(c.partOps)) / float64(sum)
		}
		infoLine(b, "flash_item_"+infoSafeName(c.item), fmt.Sprintf("db=%d,parts=%d,buys=%d,part_buys_min=%d,part_buys_max=%d,skew=%.2f,available=%d,reservations=%d,version=%d",
			dbOf[c], len(c.partOps), sum, mn, mx, skew, c.avail.Load(), c.reservations.Load(), c.version()))
	}
}

// infoSafeName keeps an item name usable as an INFO field name: bytes
// other than letters, digits, '-', '.' and '_' become '_'.
func infoSafeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}
