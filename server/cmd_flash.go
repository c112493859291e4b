package server

// The FLASH.* commands (issue 6, flash sales): see flash.go for the design.
// They are kvd's own commands. Their item argument is not a key (the state
// lives in internal keys derived from it), so COMMAND INFO reports no key
// positions; they run on the connection's IO goroutine and reach the
// owners of the item's keys through jobs.

import (
	"bytes"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/shard"
)

func registerFlash(r *Registry) {
	r.Add(&Command{Name: "flash.create", Arity: -4, Flags: Write | DenyOOM, RunConn: cmdFlashCreate})
	r.Add(&Command{Name: "flash.buy", Arity: -3, Flags: Write | DenyOOM, RunConn: cmdFlashBuy})
	r.Add(&Command{Name: "flash.confirm", Arity: 3, Flags: Write | Fast, RunConn: cmdFlashConfirm})
	r.Add(&Command{Name: "flash.cancel", Arity: 3, Flags: Write | Fast, RunConn: cmdFlashCancel})
	r.Add(&Command{Name: "flash.restock", Arity: 3, Flags: Write | DenyOOM, RunConn: cmdFlashRestock})
	r.Add(&Command{Name: "flash.delete", Arity: 2, Flags: Write, RunConn: cmdFlashDelete})
	r.Add(&Command{Name: "flash.list", Arity: 1, Flags: ReadOnly, RunConn: cmdFlashList})
	r.Add(&Command{Name: "flash.status", Arity: 2, Flags: ReadOnly, RunConn: cmdFlashStatus})
	r.Add(&Command{Name: "flash.orders", Arity: -2, Flags: ReadOnly, RunConn: cmdFlashOrders})
}

func isOpt(a []byte, name string) bool { return strings.EqualFold(string(a), name) }

// FLASH.CREATE item STOCK n [PARTS k] [LIMIT per-user] [HOLD ms] [START unix-ms] [END unix-ms] [REPLACE]
func cmdFlashCreate(c *Conn, args [][]byte, w *proto.Writer) {
	s := c.srv
	item := args[1]
	stock, parts := int64(-1), int64(0)
	var limit, hold, start, end int64
	replace := false
	for i := 2; i < len(args); i++ {
		if isOpt(args[i], "REPLACE") {
			replace = true
			continue
		}
		var dst *int64
		switch strings.ToUpper(string(args[i])) {
		case "STOCK":
			dst = &stock
		case "PARTS":
			dst = &parts
		case "LIMIT":
			dst = &limit
		case "HOLD":
			dst = &hold
		case "START":
			dst = &start
		case "END":
			dst = &end
		default:
			w.Error(ErrSyntax)
			return
		}
		if i+1 >= len(args) {
			w.Error(ErrSyntax)
			return
		}
		v, ok := strictInt64(args[i+1])
		if !ok {
			w.Error(ErrNotInteger)
			return
		}
		if v < 0 {
			w.Error("ERR " + strings.ToUpper(string(args[i])) + " must not be negative")
			return
		}
		*dst = v
		i++
	}
	switch {
	case stock < 0:
		w.Error("ERR FLASH.CREATE needs STOCK")
		return
	case parts == 0:
		parts = int64(s.eng.NumWorkers())
	}
	if parts < 1 || parts > flashMaxParts {
		w.Error("ERR PARTS must be between 1 and 1024")
		return
	}
	if end > 0 && end <= start {
		w.Error("ERR END must be after START")
		return
	}
	n := int(parts)
	core := &flashCore{
		item: string(item), metaKey: flashMetaKey(item), partKeys: flashPlaceParts(s.eng, item, n),
		limit: limit, hold: hold, start: start, end: end, partOps: make([]paddedInt64, n),
	}
	core.allKeys = append(append([][]byte(nil), core.partKeys...), core.metaKey)
	core.avail.Store(stock)
	db := c.db
	var errMsg string
	var old *flashCore
	for attempt := 0; ; attempt++ {
		// The keys to hold: the new ones and those of the item replaced.
		old = s.flashLookup(db, item)
		keys := core.allKeys
		if old != nil {
			keys = append(append([][]byte(nil), keys...), old.partKeys...)
		}
		retry := false
		s.flashOnKeys(keys, func(wk *shard.Worker) {
			d := s.eng.DB(wk, db)
			o := d.Lookup(core.metaKey)
			if o != nil {
				m, ok := o.Val.(*flashMeta)
				if o.Kind != shard.KindFlash || !ok {
					errMsg = ErrWrongType
					return
				}
				if !replace {
					errMsg = errFlashExists
					return
				}
				if m.core != old { // changed since the lookup: its keys are not held
					retry = true
					return
				}
			} else {
				old = nil
			}
			for _, k := range core.partKeys {
				if o := d.Lookup(k); o != nil {
					if _, ok := o.Val.(*flashPart); o.Kind != shard.KindFlash || !ok {
						errMsg = ErrWrongType
						return
					}
				}
			}
			if old != nil {
				for _, k := range old.partKeys {
					if o := d.Lookup(k); o != nil {
						if p, ok := o.Val.(*flashPart); ok && p.core == old {
							d.Delete(k)
						}
					}
				}
				d.Delete(old.metaKey)
				old.gone.Store(true)
			}
			ps := make([]*flashPart, n)
			for i := range ps {
				ps[i] = &flashPart{core: core, idx: i}
			}
			flashSpread(ps, stock, -1, 0)
			for i, p := range ps {
				d.Add(core.partKeys[i], &shard.Object{Kind: shard.KindFlash, Val: p})
			}
			d.Add(core.metaKey, &shard.Object{Kind: shard.KindFlash, Val: &flashMeta{core: core}})
		})
		if !retry {
			break
		}
		if old != nil {
			s.flashForget(db, old)
		}
		if attempt == 10 {
			w.Error("ERR flash item is changing concurrently, retry")
			return
		}
	}
	if errMsg != "" {
		w.Error(errMsg)
		return
	}
	if old != nil {
		s.flashForget(db, old)
	}
	s.flashRemember(db, core)
	s.flashKick()
	w.OK()
}

// FLASH.BUY item user [QTY q] [REQID id] -> [status, order-id | nil, remaining]
func cmdFlashBuy(c *Conn, args [][]byte, w *proto.Writer) {
	s := c.srv
	call := flashBuyPool.Get().(*flashBuyCall)
	defer call.release()
	a := &call.a
	a.user, a.qty = args[2], 1
	for i := 3; i < len(args); i += 2 {
		if i+1 >= len(args) {
			w.Error(ErrSyntax)
			return
		}
		switch {
		case isOpt(args[i], "QTY"):
			v, ok := strictInt64(args[i+1])
			if !ok {
				w.Error(ErrNotInteger)
				return
			}
			if v <= 0 {
				w.Error("ERR QTY must be positive")
				return
			}
			a.qty = v
		case isOpt(args[i], "REQID"):
			a.reqid = args[i+1]
		default:
			w.Error(ErrSyntax)
			return
		}
	}
	call.s, call.db = s, c.db
	var r flashBuyRes
	for attempt := 0; ; attempt++ {
		if call.core = s.flashLookup(call.db, args[1]); call.core == nil {
			w.Error(errFlashNoItem)
			return
		}
		a.rec = nil
		if r = call.run(); !r.stale {
			break
		}
		if a.rec != nil {
			call.core.reqs.Delete(string(a.reqid))
		}
		s.flashForget(call.db, call.core)
		if attempt == 1 {
			w.Error(errFlashDamaged)
			return
		}
	}
	if r.err != "" {
		w.Error(r.err)
		return
	}
	if r.replayed {
		s.flash.stats.replayed.Add(1)
	} else {
		s.flash.stats.buys[r.status].Add(1)
	}
	w.Array(3)
	w.Simple(flashStatusNames[r.status])
	if r.status == flashOK {
		var buf [48]byte
		w.Bulk(appendOrderID(buf[:0], r.seq, r.part))
	} else {
		w.Null()
	}
	w.Int(r.remaining)
	if r.rebalance {
		s.flashRebalance(call.core, call.db)
	}
}

// flashBuyCall carries one FLASH.BUY through its jobs. It is pooled, with
// its job functions bound once, so that the hot path allocates no closures.
type flashBuyCall struct {
	s    *Server
	core *flashCore
	db   int
	home int
	a    flashBuyArgs
	r    flashBuyRes
	pv   any
	hot  func(w *shard.Worker)
	all  func(w *shard.Worker)
}

var flashBuyPool = sync.Pool{New: func() any {
	c := new(flashBuyCall)
	c.hot, c.all = c.runHot, c.runAll
	return c
}}

func (c *flashBuyCall) release() {
	hot, all := c.hot, c.all
	*c = flashBuyCall{hot: hot, all: all}
	flashBuyPool.Put(c)
}

func (c *flashBuyCall) catch() {
	if v := recover(); v != nil {
		c.pv = v
	}
}

// runHot runs on the home part's worker.
func (c *flashBuyCall) runHot(w *shard.Worker) {
	defer c.catch()
	d := c.s.eng.DB(w, c.db)
	p := flashGetPart(&d, c.core, c.home)
	if p == nil {
		c.r = flashBuyRes{stale: true}
		return
	}
	c.r = c.core.buy(c.s, p, d.Now(), &c.a, nil)
}

// runAll runs holding every part of the item.
func (c *flashBuyCall) runAll(w *shard.Worker) {
	defer c.catch()
	d := c.s.eng.DB(w, c.db)
	parts := flashGetParts(&d, c.core)
	if parts == nil {
		c.r = flashBuyRes{stale: true}
		return
	}
	c.r = c.core.buy(c.s, parts[c.home], d.Now(), &c.a, parts)
}

// run runs the buy on the user's home part, then, when the home part cannot
// fill it but the item could, as one step over every part.
func (c *flashBuyCall) run() flashBuyRes {
	s := c.s
	c.home = flashHome(c.core, c.a.user)
	var deadline time.Time
	for {
		s.eng.RunOnKey(c.core.partKeys[c.home], c.hot)
		c.rethrow()
		if c.r.slow {
			s.flash.stats.crossPart.Add(1)
			s.eng.RunOnKeys(c.core.allKeys, c.all)
			c.rethrow()
		}
		if !c.r.wait {
			return c.r
		}
		// The same user's buy with this REQID is between its two steps.
		if deadline.IsZero() {
			deadline = time.Now().Add(2 * time.Second)
		} else if time.Now().After(deadline) {
			return flashBuyRes{err: errFlashBusy}
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// rethrow raises a job's panic on the IO goroutine, where the command's
// recovery turns it into an error reply.
func (c *flashBuyCall) rethrow() {
	if v := c.pv; v != nil {
		c.pv = nil
		panic(v)
	}
}

// flashWithItem looks the item named by item up in the client's database
// and calls run with it; run reports whether the item's keys turned out
// stale (deleted or replaced behind the route cache), and then the route is
// dropped and the lookup tried once more. It writes the error reply and
// returns false when the item is missing or damaged.
func (s *Server) flashWithItem(c *Conn, item []byte, w *proto.Writer, run func(core *flashCore) (stale bool)) bool {
	db := c.db
	for attempt := 0; ; attempt++ {
		core := s.flashLookup(db, item)
		if core == nil {
			w.Error(errFlashNoItem)
			return false
		}
		if !run(core) {
			return true
		}
		s.flashForget(db, core)
		if attempt == 1 {
			w.Error(errFlashDamaged)
			return false
		}
	}
}

// flashOnPart runs fn on part part(core) of the item (none when that is
// negative), following a stale route once (flashWithItem).
func (s *Server) flashOnPart(c *Conn, item []byte, w *proto.Writer, part func(core *flashCore) int, fn func(core *flashCore, p *flashPart, now int64)) bool {
	db := c.db
	return s.flashWithItem(c, item, w, func(core *flashCore) (stale bool) {
		i := part(core)
		if i < 0 {
			return false
		}
		s.flashOnKey(core.partKeys[i], func(wk *shard.Worker) {
			d := s.eng.DB(wk, db)
			p := flashGetPart(&d, core, i)
			if p == nil {
				stale = true
				return
			}
			fn(core, p, d.Now())
		})
		return stale
	})
}

// flashOnParts runs fn with every part of the item held, following a stale
// route once (flashWithItem).
func (s *Server) flashOnParts(c *Conn, item []byte, w *proto.Writer, fn func(core *flashCore, parts []*flashPart, now int64)) bool {
	db := c.db
	return s.flashWithItem(c, item, w, func(core *flashCore) (stale bool) {
		s.flashOnKeys(core.allKeys, func(wk *shard.Worker) {
			d := s.eng.DB(wk, db)
			parts := flashGetParts(&d, core)
			if parts == nil {
				stale = true
				return
			}
			fn(core, parts, d.Now())
		})
		return stale
	})
}

// FLASH.CONFIRM item order-id -> OK | EXPIRED | UNKNOWN
func cmdFlashConfirm(c *Conn, args [][]byte, w *proto.Writer) {
	seq, part, ok := parseOrderID(args[2])
	reply := "UNKNOWN"
	done := c.srv.flashOnPart(c, args[1], w, func(core *flashCore) int {
		if !ok || part < 0 || part >= len(core.partKeys) {
			return -1
		}
		return part
	}, func(core *flashCore, p *flashPart, now int64) {
		reply = core.confirm(c.srv, p, now, seq)
	})
	if done {
		w.Simple(reply)
	}
}

// FLASH.CANCEL item order-id -> 1 | 0
func cmdFlashCancel(c *Conn, args [][]byte, w *proto.Writer) {
	seq, part, ok := parseOrderID(args[2])
	var n int64
	done := c.srv.flashOnPart(c, args[1], w, func(core *flashCore) int {
		if !ok || part < 0 || part >= len(core.partKeys) {
			return -1
		}
		return part
	}, func(core *flashCore, p *flashPart, now int64) {
		if core.cancel(c.srv, p, now, seq) {
			n = 1
		}
	})
	if done {
		w.Int(n)
	}
}

// FLASH.RESTOCK item delta -> new total
func cmdFlashRestock(c *Conn, args [][]byte, w *proto.Writer) {
	s := c.srv
	delta, ok := strictInt64(args[2])
	if !ok {
		w.Error(ErrNotInteger)
		return
	}
	var total int64
	var errMsg string
	done := s.flashOnParts(c, args[1], w, func(core *flashCore, parts []*flashPart, now int64) {
		var avail, held int64
		for _, p := range parts {
			p.expire(s, now)
			avail += p.avail
			held += p.reserved + p.sold
		}
		if (delta > 0 && avail > math.MaxInt64-held-delta) || avail+delta < 0 {
			if delta > 0 {
				errMsg = ErrOverflow
			} else {
				errMsg = errFlashRestock
			}
			return
		}
		total = avail + delta + held
		if delta == 0 {
			return
		}
		flashSpread(parts, avail+delta, -1, 0)
		if prev := core.avail.Add(delta) - delta; (prev == 0) != (prev+delta == 0) {
			s.flashKick()
		}
		core.events.Add(1)
	})
	if !done {
		return
	}
	if errMsg != "" {
		w.Error(errMsg)
		return
	}
	w.Int(total)
}

// FLASH.DELETE item -> 1 | 0
func cmdFlashDelete(c *Conn, args [][]byte, w *proto.Writer) {
	s := c.srv
	db := c.db
	for attempt := 0; attempt < 10; attempt++ {
		core := s.flashLookup(db, args[1])
		if core == nil {
			w.Int(0)
			return
		}
		found, mismatch := false, false
		s.flashOnKeys(core.allKeys, func(wk *shard.Worker) {
			d := s.eng.DB(wk, db)
			o := d.Lookup(core.metaKey)
			if o == nil || o.Kind != shard.KindFlash {
				return
			}
			if m, ok := o.Val.(*flashMeta); !ok || m.core != core {
				mismatch = true
				return
			}
			for _, k := range core.partKeys {
				if o := d.Lookup(k); o != nil {
					if p, ok := o.Val.(*flashPart); ok && p.core == core {
						d.Delete(k)
					}
				}
			}
			d.Delete(core.metaKey)
			core.gone.Store(true)
			found = true
		})
		s.flashForget(db, core)
		if !mismatch {
			if found {
				w.Int(1)
			} else {
				w.Int(0)
			}
			return
		}
	}
	w.Error("ERR flash item is changing concurrently, retry")
}

// FLASH.LIST -> the items of the current database, sorted.
func cmdFlashList(c *Conn, args [][]byte, w *proto.Writer) {
	s := c.srv
	db := c.db
	var names []string
	s.flashOnKeys(nil, func(wk *shard.Worker) {
		d := s.eng.DB(wk, db)
		for _, slot := range shard.AllSlots {
			if d.SlotLen(slot) == 0 {
				continue
			}
			d.ForEach(slot, func(key string, o *shard.Object) bool {
				if o.Kind == shard.KindFlash {
					if m, ok := o.Val.(*flashMeta); ok && key == string(m.core.metaKey) {
						names = append(names, m.core.item)
					}
				}
				return true
			})
		}
	})
	sort.Strings(names)
	w.StringArray(names)
}

// FLASH.STATUS item -> map: total, available, reserved, sold, state,
// version, parts (per part: available, sold).
func cmdFlashStatus(c *Conn, args [][]byte, w *proto.Writer) {
	s := c.srv
	var sn flashSnap
	if !s.flashOnParts(c, args[1], w, func(core *flashCore, parts []*flashPart, now int64) {
		sn = core.snapshot(s, parts, now)
	}) {
		return
	}
	w.Map(7)
	w.BulkString("total")
	w.Int(sn.Total)
	w.BulkString("available")
	w.Int(sn.Available)
	w.BulkString("reserved")
	w.Int(sn.Reserved)
	w.BulkString("sold")
	w.Int(sn.Sold)
	w.BulkString("state")
	w.Simple(sn.State)
	w.BulkString("version")
	w.Int(sn.Version)
	w.BulkString("parts")
	w.Array(len(sn.Parts))
	for _, p := range sn.Parts {
		w.Map(2)
		w.BulkString("available")
		w.Int(p.Available)
		w.BulkString("sold")
		w.Int(p.Sold)
	}
}

type flashOrderOut struct {
	flashOrder
	part int
}

// FLASH.ORDERS item [USER u] [AFTER order-id] [COUNT n] -> orders in
// purchase order, each [id, user, qty, state, time].
func cmdFlashOrders(c *Conn, args [][]byte, w *proto.Writer) {
	s := c.srv
	var user []byte
	var after int64
	count := int64(math.MaxInt64)
	for i := 2; i < len(args); i += 2 {
		if i+1 >= len(args) {
			w.Error(ErrSyntax)
			return
		}
		switch {
		case isOpt(args[i], "USER"):
			user = args[i+1]
		case isOpt(args[i], "AFTER"):
			seq, _, ok := parseOrderID(args[i+1])
			if !ok {
				w.Error("ERR invalid order id")
				return
			}
			after = seq
		case isOpt(args[i], "COUNT"):
			v, ok := strictInt64(args[i+1])
			if !ok {
				w.Error(ErrNotInteger)
				return
			}
			if v <= 0 {
				w.Error("ERR COUNT must be positive")
				return
			}
			count = v
		default:
			w.Error(ErrSyntax)
			return
		}
	}
	// collect copies out the orders of p after the cursor (at most count).
	collect := func(p *flashPart, now int64, out [][]flashOrderOut) [][]flashOrderOut {
		p.expire(s, now)
		i := sort.Search(len(p.log), func(i int) bool { return p.log[i].seq > after })
		var list []flashOrderOut
		for ; i < len(p.log) && int64(len(list)) < count; i++ {
			if user != nil && !bytes.Equal([]byte(p.log[i].user), user) {
				continue
			}
			list = append(list, flashOrderOut{p.log[i], p.idx})
		}
		return append(out, list)
	}
	var lists [][]flashOrderOut
	var ok bool
	if user != nil {
		ok = s.flashOnPart(c, args[1], w, func(core *flashCore) int { return flashHome(core, user) },
			func(core *flashCore, p *flashPart, now int64) { lists = collect(p, now, lists) })
	} else {
		ok = s.flashOnParts(c, args[1], w, func(core *flashCore, parts []*flashPart, now int64) {
			for _, p := range parts {
				lists = collect(p, now, lists)
			}
		})
	}
	if !ok {
		return
	}
	// Merge the per-part lists by sequence number.
	var out []flashOrderOut
	pos := make([]int, len(lists))
	for int64(len(out)) < count {
		best := -1
		for j, l := range lists {
			if pos[j] < len(l) && (best < 0 || l[pos[j]].seq < lists[best][pos[best]].seq) {
				best = j
			}
		}
		if best < 0 {
			break
		}
		out = append(out, lists[best][pos[best]])
		pos[best]++
	}
	w.Array(len(out))
	var buf [48]byte
	for _, o := range out {
		w.Array(5)
		w.Bulk(appendOrderID(buf[:0], o.seq, o.part))
		w.BulkString(o.user)
		w.Int(o.qty)
		w.Simple(orderStateNames[o.state])
		w.Int(o.time)
	}
}
