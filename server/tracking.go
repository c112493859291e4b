package server

import (
	"bytes"
	"hash/maphash"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/server/cmdspec"
)

// Client-side caching (Redis 7.0's tracking.c): CLIENT TRACKING, CLIENT
// CACHING, CLIENT GETREDIR, CLIENT TRACKINGINFO and the invalidation
// messages.
//
// Default mode: after a read-only command of a tracking client, its keys
// are remembered in the tracking table (key name -> client IDs, whatever
// the database, as in Redis). The read is remembered on the worker owning
// the key, right after it ran (call; splitPart.Run for the per-worker parts
// of MGET & co.), so a write to the key, which runs on the same worker,
// always finds it. keyModified (Redis's signalModifiedKey) removes the key
// from the table and sends "invalidate" to each client that had it. Like
// Redis, the IDs of clients that turned tracking off or went away stay in
// the table and are skipped when the key is invalidated.
//
// BCAST mode: writes to keys matching a registered prefix are collected per
// writing connection and batch and sent, one message per prefix, after the
// batch's replies (Redis collects them per event loop).
//
// Ordering. Redis sends the invalidation caused by a client's own command
// after that command's reply (server.tracking_pending_keys); kvd appends it
// to the request's reply (trackReq.self). An invalidation for another
// client must not overtake a reply that client has not received yet and
// that carries the value being invalidated: while a connection's batch
// holds a read it remembered, pushes to it are held (trackConn.held) and
// written after the batch (trackingBatchDone).

// trackShards is the number of independently locked parts of the tracking
// table.
const trackShards = 64

var trackSeed = maphash.MakeSeed()

// trackStartMu serialises the asynchronous writer starts tracking makes,
// including those of redirect targets, which happen on the tracking
// client's goroutine.
var trackStartMu sync.Mutex

// trackState is the server-wide tracking state (Server.trk).
type trackState struct {
	_ [64]byte // keep gate off the cache line of the statistics before it

	// gate is the number of keys in the table plus the number of BCAST
	// prefixes: while it is 0, keyModified does nothing else.
	gate    atomic.Int64
	keys    atomic.Int64 // tracking_total_keys
	items   atomic.Int64 // tracking_total_items
	clients atomic.Int64 // tracking_clients
	nprefix atomic.Int64 // tracking_total_prefixes

	evicting  atomic.Bool
	evictRuns int // consecutive evictions that could not reach the limit; guarded by evicting

	shards [trackShards]trackShard

	regMu sync.RWMutex
	reg   map[int64]*Conn // tracking clients by ID

	pfxMu sync.RWMutex
	pfx   []*bcastPrefix // sorted by prefix
}

type trackShard struct {
	mu sync.Mutex
	m  map[string]*trackIDs
	_  [48]byte
}

// trackIDs is the set of client IDs remembered for one key.
type trackIDs struct {
	list []int64
	set  map[int64]struct{} // instead of list once it grows
}

func (t *trackIDs) add(id int64) bool {
	if t.set != nil {
		if _, ok := t.set[id]; ok {
			return false
		}
		t.set[id] = struct{}{}
		return true
	}
	for _, x := range t.list {
		if x == id {
			return false
		}
	}
	if len(t.list) >= 16 {
		t.set = make(map[int64]struct{}, 32)
		for _, x := range t.list {
			t.set[x] = struct{}{}
		}
		t.set[id] = struct{}{}
		t.list = nil
		return true
	}
	t.list = append(t.list, id)
	return true
}

func (t *trackIDs) len() int {
	if t.set != nil {
		return len(t.set)
	}
	return len(t.list)
}

func (t *trackIDs) ids() []int64 {
	if t.set == nil {
		return t.list
	}
	out := make([]int64, 0, len(t.set))
	for id := range t.set {
		out = append(out, id)
	}
	return out
}

// bcastPrefix is one BCAST prefix and the clients registered for it.
type bcastPrefix struct {
	prefix  string
	clients map[int64]*Conn // guarded by trackState.pfxMu
}

// trackMode is a tracking client's configuration; replaced whole.
type trackMode struct {
	redirect                     int64
	bcast, optin, optout, noloop bool
	prefixes                     []string // BCAST prefixes, sorted
}

// trackConn is a connection's tracking state (Conn.trk).
type trackConn struct {
	on      bool // tracking enabled; IO goroutine only
	caching bool // CLIENT CACHING given, for the next command; IO goroutine only

	mode   atomic.Pointer[trackMode] // nil while tracking is off
	broken atomic.Bool               // the redirect client went away

	pending atomic.Bool // trackingBatchDone has something to do
	mu      sync.Mutex  // guards busy, held, bcast
	busy    bool        // the batch holds a remembered read: hold pushes
	held    []byte
	bcast   map[*bcastPrefix][]string // keys this connection's batch modified, per prefix
}

// trackReq is a request's tracking state (request.trk).
type trackReq struct {
	remember bool // remember the keys if the command is read-only
	mu       sync.Mutex
	self     []byte // invalidations for the own connection, sent after the reply
	// From the parallel parts of a split command (MSET, DEL over several
	// workers): sent after the reply in key order, as Redis sends them.
	parts []trackSelf
}

type trackSelf struct {
	key   string
	dest  *Conn
	frame []byte
}

func init() {
	connResetHooks = append(connResetHooks, func(c *Conn) {
		if c.trk.on {
			c.srv.disableTracking(c)
		}
	})
}

func (t *trackState) shard(key []byte) *trackShard {
	return &t.shards[maphash.Bytes(trackSeed, key)%trackShards]
}

func (t *trackState) client(id int64) *Conn {
	t.regMu.RLock()
	c := t.reg[id]
	t.regMu.RUnlock()
	return c
}

// ---- the read side ----

// trackingDispatch runs when the connection dispatches a command while
// tracking is on: it applies Redis's resetClient rule for CLIENT CACHING
// (the flag lasts until a command other than CLIENT runs) and tells whether
// the command's keys are to be remembered if it is read-only.
func (c *Conn) trackingDispatch(args [][]byte) bool {
	caching := c.trk.caching
	if c.trk.caching && !c.isClientCommand(args) {
		c.trk.caching = false
	}
	m := c.trk.mode.Load()
	if m == nil || m.bcast {
		return false
	}
	if (m.optin && !caching) || (m.optout && caching) {
		return false
	}
	return true
}

// isClientCommand reports whether args name an existing CLIENT subcommand.
func (c *Conn) isClientCommand(args [][]byte) bool {
	if len(args) < 2 || !strings.EqualFold(string(args[0]), "client") {
		return false
	}
	cmd := c.srv.reg.Lookup(args[0])
	return cmd != nil && cmd.IsContainer() && cmd.Sub(args[1]) != nil
}

// trackingRemember remembers the keys of a read-only command a tracking
// client ran (Redis's trackingRememberKeys). It runs on the worker(s)
// holding the keys, right after the command, whatever its reply. The keys
// are the ones Redis's getKeysFromCommand finds: for fixed positions the
// command's own; for movable keys COMMAND GETKEYS's extraction, since
// where a numkeys argument is not a clean integer Redis still reads it
// with atoi ("1.5" is 1) and tracks those keys, even though the command
// itself fails.
func (s *Server) trackingRemember(x *Ctx, cmd *Command) {
	r := x.req
	if cmd.Flags&PubSub != 0 { // shard channels are not keys to track
		return
	}
	if cmd.Keys == nil { // fixed positions: no allocation per tracked read
		var buf [16]int
		pos := cmd.KeyPositions(x.Args, buf[:0])
		if len(pos) == 0 {
			return
		}
		r.c.trackBusy()
		for _, i := range pos {
			s.trackRememberKey(x.Args[i], r.c.id)
		}
	} else { // movable keys: Redis's extraction, numkeys read with atoi
		keys, ok := getKeysFromCommand(cmd, cmdspec.Lookup(cmd.Name), x.Args)
		if !ok || len(keys) == 0 {
			return
		}
		r.c.trackBusy()
		for _, k := range keys {
			s.trackRememberKey(x.Args[k.pos], r.c.id)
		}
	}
	s.trackingLimit(x)
}

// trackingRememberPart remembers the keys of one worker's part of a split
// read (MGET, EXISTS, TOUCH over several workers), on that worker.
func (p *splitPart) trackingRemember() {
	r := p.r
	r.c.trackBusy()
	s := r.c.srv
	for _, i := range p.groups {
		s.trackRememberKey(r.args[i], r.c.id)
	}
	s.trackingLimit(nil)
}

func (s *Server) trackRememberKey(key []byte, id int64) {
	t := &s.trk
	sh := t.shard(key)
	sh.mu.Lock()
	e := sh.m[string(key)]
	if e == nil {
		if sh.m == nil {
			sh.m = make(map[string]*trackIDs)
		}
		e = &trackIDs{}
		sh.m[string(key)] = e
		t.keys.Add(1)
		t.gate.Add(1)
	}
	if e.add(id) {
		t.items.Add(1)
	}
	sh.mu.Unlock()
}

// trackBusy holds pushes to c until its batch's replies are written.
func (c *Conn) trackBusy() {
	c.trk.mu.Lock()
	c.trk.busy = true
	c.trk.mu.Unlock()
	c.trk.pending.Store(true)
}

// trackingLimit is Redis's trackingLimitUsedSlots: while the table holds
// more keys than tracking-table-max-keys, random keys are invalidated.
// Redis runs it before each command; kvd right after the command that
// added keys (x, which may be nil, is that command: its own invalidations
// follow its reply).
func (s *Server) trackingLimit(x *Ctx) {
	t := &s.trk
	max := s.cfg.TrackingMaxKeys.Load()
	if max <= 0 || t.keys.Load() <= max {
		return
	}
	if !t.evicting.CompareAndSwap(false, true) {
		return
	}
	defer t.evicting.Store(false)
	effort := 100 * (t.evictRuns + 1)
	start := int(maphash.Comparable(trackSeed, t.keys.Load()) % trackShards)
	for i := 0; effort > 0 && i < trackShards*2; i++ {
		sh := &t.shards[(start+i)%trackShards]
		for effort > 0 {
			var key string
			sh.mu.Lock()
			for k := range sh.m {
				key = k
				break
			}
			n := len(sh.m)
			sh.mu.Unlock()
			if n == 0 {
				break
			}
			effort--
			s.trackingInvalidate([]byte(key), x, false)
			if t.keys.Load() <= max {
				t.evictRuns = 0
				return
			}
		}
	}
	t.evictRuns++
}

// ---- the write side ----

// keyModified is Redis's signalModifiedKey: a command calls it for every
// key it changed, on the worker that owns the key. It invalidates client
// tracking. With nothing tracked and no BCAST prefix it is one atomic load.
func (x *Ctx) keyModified(key []byte) {
	if x.Srv.trk.gate.Load() == 0 {
		return
	}
	x.Srv.trackingInvalidate(key, x, true)
}

// trackingExpired invalidates a key that expired (the engine's OnExpire
// hook, on the worker owning the key).
func (s *Server) trackingExpired(db int, key string) {
	if s.trk.gate.Load() == 0 {
		return
	}
	s.trackingInvalidate([]byte(key), nil, true)
}

// trackingInvalidate is Redis's trackingInvalidateKey. x is the running
// command (nil for an expiry or an eviction without one).
func (s *Server) trackingInvalidate(key []byte, x *Ctx, bcast bool) {
	t := &s.trk
	if bcast && t.nprefix.Load() > 0 {
		s.trackingBcastKey(key, x)
	}
	if t.keys.Load() == 0 {
		return
	}
	sh := t.shard(key)
	sh.mu.Lock()
	e := sh.m[string(key)]
	if e == nil {
		sh.mu.Unlock()
		return
	}
	delete(sh.m, string(key))
	sh.mu.Unlock()
	t.keys.Add(-1)
	t.gate.Add(-1)
	t.items.Add(-int64(e.len()))
	cur := int64(-1)
	if x != nil && x.Client != nil {
		cur = x.Client.ID
	}
	keys := [1][]byte{key}
	for _, id := range e.ids() {
		c := t.client(id)
		if c == nil {
			continue
		}
		m := c.trk.mode.Load()
		if m == nil || m.bcast {
			continue
		}
		if m.noloop && id == cur {
			continue
		}
		s.trackingSend(c, m, keys[:], false, x)
	}
}

// trackingBcastKey records a modified key for the BCAST prefixes it
// matches (Redis's trackingRememberKeyToBroadcast). Within a command, the
// key joins the connection's batch; otherwise it is sent at once.
func (s *Server) trackingBcastKey(key []byte, x *Ctx) {
	t := &s.trk
	var w *Conn
	if x != nil && x.req != nil {
		w = x.req.c
	}
	t.pfxMu.RLock()
	defer t.pfxMu.RUnlock()
	for _, p := range t.pfx {
		if !bytes.HasPrefix(key, []byte(p.prefix)) {
			continue
		}
		if w != nil {
			w.trk.mu.Lock()
			if w.trk.bcast == nil {
				w.trk.bcast = make(map[*bcastPrefix][]string)
			}
			w.trk.bcast[p] = append(w.trk.bcast[p], string(key))
			w.trk.mu.Unlock()
			w.trk.pending.Store(true)
			continue
		}
		cur := int64(-1)
		if x != nil && x.Client != nil {
			cur = x.Client.ID
		}
		keys := [1][]byte{key}
		for id, c := range p.clients {
			m := c.trk.mode.Load()
			if m == nil || !m.bcast || (m.noloop && id == cur) {
				continue
			}
			s.trackingSend(c, m, keys[:], false, x)
		}
	}
}

// trackingBroadcast sends the keys a connection's batch modified to the
// clients of the BCAST prefixes they match (Redis's
// trackingBroadcastInvalidationMessages): one message per prefix, keys
// sorted, the writer left out when it is in NOLOOP mode.
func (s *Server) trackingBroadcast(w *Conn, bc map[*bcastPrefix][]string) {
	t := &s.trk
	pfx := make([]*bcastPrefix, 0, len(bc))
	for p := range bc {
		pfx = append(pfx, p)
	}
	sort.Slice(pfx, func(i, j int) bool { return pfx[i].prefix < pfx[j].prefix })
	var keys [][]byte
	for _, p := range pfx {
		ks := bc[p]
		sort.Strings(ks)
		keys = keys[:0]
		for i, k := range ks {
			if i == 0 || k != ks[i-1] {
				keys = append(keys, []byte(k))
			}
		}
		t.pfxMu.RLock()
		targets := make([]*Conn, 0, len(p.clients))
		for _, c := range p.clients {
			targets = append(targets, c)
		}
		t.pfxMu.RUnlock()
		for _, c := range targets {
			m := c.trk.mode.Load()
			if m == nil || !m.bcast || (m.noloop && c == w) {
				continue
			}
			s.trackingSend(c, m, keys, false, nil)
		}
	}
}

// trackingFlushed is Redis's trackingInvalidateKeysOnFlush (FLUSHDB,
// FLUSHALL): every tracking client gets an invalidation with a null key
// list, and the table is emptied.
func (x *Ctx) trackingFlushed() {
	s := x.Srv
	t := &s.trk
	if t.clients.Load() > 0 {
		t.regMu.RLock()
		targets := make([]*Conn, 0, len(t.reg))
		for _, c := range t.reg {
			targets = append(targets, c)
		}
		t.regMu.RUnlock()
		sort.Slice(targets, func(i, j int) bool { return targets[i].id < targets[j].id })
		for _, c := range targets {
			if m := c.trk.mode.Load(); m != nil {
				s.trackingSend(c, m, nil, true, x)
			}
		}
	}
	if t.keys.Load() == 0 {
		return
	}
	for i := range t.shards {
		sh := &t.shards[i]
		sh.mu.Lock()
		var items int64
		for _, e := range sh.m {
			items += int64(e.len())
		}
		n := int64(len(sh.m))
		sh.m = nil
		sh.mu.Unlock()
		t.keys.Add(-n)
		t.gate.Add(-n)
		t.items.Add(-items)
	}
}

// trackingSend is Redis's sendTrackingMessage: the invalidation of keys
// (or, null, of everything) for tracking client c, delivered to c or to
// its redirect client.
func (s *Server) trackingSend(c *Conn, m *trackMode, keys [][]byte, null bool, x *Ctx) {
	dest := c
	redirected := false
	if m.redirect != 0 {
		rc := s.clientByID(m.redirect)
		if rc == nil {
			c.trk.broken.Store(true)
			if c.protoVer.Load() == 3 {
				b := make([]byte, 0, 48)
				b = append(b, ">2\r\n$21\r\ntracking-redir-broken\r\n:"...)
				b = strconv.AppendInt(b, m.redirect, 10)
				b = append(b, '\r', '\n')
				s.trackDeliver(c, b, x, keys)
			}
			return
		}
		dest, redirected = rc, true
	}
	var b []byte
	switch {
	case dest.protoVer.Load() == 3:
		b = append(make([]byte, 0, 64), ">2\r\n$10\r\ninvalidate\r\n"...)
	case redirected && dest.limitClass() == clientPubSub:
		b = append(make([]byte, 0, 96), "*3\r\n$7\r\nmessage\r\n$20\r\n__redis__:invalidate\r\n"...)
	default:
		return // RESP2 without a subscribed redirect: nothing can be sent
	}
	if null {
		// The tracking client's null, as Redis (shared.null[c->resp]).
		if c.protoVer.Load() == 3 {
			b = append(b, "_\r\n"...)
		} else {
			b = append(b, "$-1\r\n"...)
		}
	} else {
		b = append(b, '*')
		b = strconv.AppendInt(b, int64(len(keys)), 10)
		b = append(b, '\r', '\n')
		for _, k := range keys {
			b = appendBulk(b, k)
		}
	}
	s.trackDeliver(dest, b, x, keys)
}

// trackDeliver queues frame for dest: after the reply of the running
// command when dest is the client running it, else at once (or after the
// batch dest is running, see trackConn.busy).
func (s *Server) trackDeliver(dest *Conn, frame []byte, x *Ctx, keys [][]byte) {
	if x != nil && x.req != nil && x.W != &x.req.out && len(keys) == 1 {
		// A part of a split command: after the merge, in key order.
		r := x.req
		r.trk.mu.Lock()
		r.trk.parts = append(r.trk.parts, trackSelf{string(keys[0]), dest, frame})
		r.trk.mu.Unlock()
		return
	}
	if x != nil && x.Client != nil && x.Client.ID == dest.id {
		if r := x.req; r != nil && r.c == dest {
			r.trk.mu.Lock()
			r.trk.self = append(r.trk.self, frame...)
			r.trk.mu.Unlock()
			return
		}
		dest.trk.mu.Lock()
		dest.trk.busy = true
		dest.trk.held = append(dest.trk.held, frame...)
		dest.trk.mu.Unlock()
		dest.trk.pending.Store(true)
		return
	}
	dest.trackPush(frame)
}

// trackPush queues frame on c's asynchronous writer, or holds it while c's
// batch holds a remembered read.
func (c *Conn) trackPush(frame []byte) {
	c.trk.mu.Lock()
	if c.trk.busy {
		c.trk.held = append(c.trk.held, frame...)
		c.trk.mu.Unlock()
		c.trk.pending.Store(true)
		return
	}
	c.async.push(frame)
	c.trk.mu.Unlock()
}

// trackingAfterCall appends the invalidations the command caused for its
// own connection after its reply (Redis's trackingHandlePendingKeyInvalidations).
// Like Redis, they are sent even under CLIENT REPLY OFF/SKIP.
func (s *Server) trackingAfterCall(r *request) {
	r.trk.mu.Lock()
	if r.noReply {
		r.out.B = r.out.B[:0]
		r.noReply = false
	}
	r.out.B = append(r.out.B, r.trk.self...)
	r.trk.self = r.trk.self[:0]
	if len(r.trk.parts) > 0 {
		at := make(map[string]int, len(r.args))
		for i := r.cmd.FirstKey; i > 0 && i < len(r.args); i += max(r.cmd.Step, 1) {
			if _, ok := at[string(r.args[i])]; !ok {
				at[string(r.args[i])] = i
			}
		}
		sort.SliceStable(r.trk.parts, func(i, j int) bool { return at[r.trk.parts[i].key] < at[r.trk.parts[j].key] })
		for _, p := range r.trk.parts {
			if p.dest == r.c {
				r.out.B = append(r.out.B, p.frame...)
			} else {
				p.dest.trackPush(p.frame)
			}
		}
		clear(r.trk.parts)
		r.trk.parts = r.trk.parts[:0]
	}
	r.trk.mu.Unlock()
}

// trackingBatchBroadcast sends the BCAST invalidations the batch's writes
// collected, before the batch's replies are written. Redis broadcasts them
// in beforeSleep, ahead of writing the replies of that event-loop pass, so
// a client that has seen a write's reply finds its invalidation already on
// its way to every BCAST client. What goes to this connection itself is
// held (busy) until after its own replies, where Redis puts it too
// (trackingBatchDone sends it).
func (c *Conn) trackingBatchBroadcast() {
	if !c.trk.pending.Load() {
		return
	}
	c.trk.mu.Lock()
	bc := c.trk.bcast
	c.trk.bcast = nil
	if len(bc) > 0 {
		c.trk.busy = true
	}
	c.trk.mu.Unlock()
	if len(bc) > 0 {
		c.srv.trackingBroadcast(c, bc)
	}
}

// trackingBatchDone runs on the IO goroutine once the batch's replies are
// written: it writes the pushes held meanwhile (this connection's own
// invalidations among them) and sends any BCAST invalidations not yet
// broadcast.
func (c *Conn) trackingBatchDone() {
	if !c.trk.pending.Load() {
		return
	}
	c.trk.pending.Store(false)
	c.trk.mu.Lock()
	c.trk.busy = false
	held := c.trk.held
	c.trk.held = nil
	bc := c.trk.bcast
	c.trk.bcast = nil
	sync := false
	if len(held) > 0 {
		if c.async.started.Load() {
			c.async.push(held)
		} else {
			sync = true
		}
	}
	c.trk.mu.Unlock()
	if sync {
		c.writeRaw(held)
	}
	if len(bc) > 0 {
		c.srv.trackingBroadcast(c, bc)
	}
}

// trackingClose forgets a closing connection's tracking (Redis's
// freeClient → disableTracking).
func (c *Conn) trackingClose() {
	if c.trk.on {
		c.srv.disableTracking(c)
	}
}

// ---- enabling and disabling ----

// trackStart starts c's asynchronous writer so that pushes can reach it.
func trackStart(c *Conn) {
	trackStartMu.Lock()
	c.async.start()
	trackStartMu.Unlock()
}

func (s *Server) enableTracking(c *Conn, redir int64, bcast, optin, optout, noloop bool, prefixes []string) {
	t := &s.trk
	old := c.trk.mode.Load()
	m := &trackMode{redirect: redir, bcast: bcast, optin: optin, optout: optout, noloop: noloop}
	if old != nil {
		m.prefixes = old.prefixes
	}
	if bcast {
		if len(prefixes) == 0 {
			prefixes = []string{""}
		}
		t.pfxMu.Lock()
		for _, p := range prefixes {
			bp := t.prefixLocked(p, true)
			if _, ok := bp.clients[c.id]; !ok {
				bp.clients[c.id] = c
				m.prefixes = insertSorted(m.prefixes, p)
			}
		}
		t.pfxMu.Unlock()
	}
	// Nothing may overtake the replies of this batch (this +OK included).
	c.trackBusy()
	trackStart(c)
	if redir != 0 {
		if rc := s.clientByID(redir); rc != nil {
			trackStart(rc)
		}
	}
	c.trk.broken.Store(false)
	c.trk.mode.Store(m)
	if old == nil {
		t.regMu.Lock()
		if t.reg == nil {
			t.reg = make(map[int64]*Conn)
		}
		t.reg[c.id] = c
		t.regMu.Unlock()
		t.clients.Add(1)
	}
	c.trk.on = true
}

// prefixLocked finds (or with create, adds) a BCAST prefix. t.pfxMu is
// held for writing when create is true.
func (t *trackState) prefixLocked(p string, create bool) *bcastPrefix {
	i := sort.Search(len(t.pfx), func(i int) bool { return t.pfx[i].prefix >= p })
	if i < len(t.pfx) && t.pfx[i].prefix == p {
		return t.pfx[i]
	}
	if !create {
		return nil
	}
	bp := &bcastPrefix{prefix: p, clients: make(map[int64]*Conn)}
	pfx := make([]*bcastPrefix, 0, len(t.pfx)+1)
	pfx = append(append(append(pfx, t.pfx[:i]...), bp), t.pfx[i:]...)
	t.pfx = pfx
	t.nprefix.Add(1)
	t.gate.Add(1)
	return bp
}

func insertSorted(list []string, s string) []string {
	i := sort.SearchStrings(list, s)
	if i < len(list) && list[i] == s {
		return list
	}
	out := make([]string, 0, len(list)+1)
	return append(append(append(out, list[:i]...), s), list[i:]...)
}

func (s *Server) disableTracking(c *Conn) {
	t := &s.trk
	m := c.trk.mode.Load()
	if m == nil {
		return
	}
	if m.bcast {
		t.pfxMu.Lock()
		for _, p := range m.prefixes {
			bp := t.prefixLocked(p, false)
			if bp == nil {
				continue
			}
			delete(bp.clients, c.id)
			if len(bp.clients) == 0 {
				i := sort.Search(len(t.pfx), func(i int) bool { return t.pfx[i].prefix >= p })
				pfx := make([]*bcastPrefix, 0, len(t.pfx)-1)
				t.pfx = append(append(pfx, t.pfx[:i]...), t.pfx[i+1:]...)
				t.nprefix.Add(-1)
				t.gate.Add(-1)
			}
		}
		t.pfxMu.Unlock()
	}
	t.regMu.Lock()
	delete(t.reg, c.id)
	t.regMu.Unlock()
	t.clients.Add(-1)
	c.trk.mode.Store(nil)
	c.trk.broken.Store(false)
	c.trk.on = false
	c.trk.caching = false
}

// ---- CLIENT TRACKING, CACHING, GETREDIR, TRACKINGINFO ----

// cmdClientTracking is CLIENT TRACKING ON|OFF [REDIRECT id] [BCAST]
// [PREFIX p ...] [OPTIN] [OPTOUT] [NOLOOP], with Redis 7.0's checks and
// error texts.
func cmdClientTracking(c *Conn, args [][]byte, w *proto.Writer) {
	var redir int64
	var bcast, optin, optout, noloop bool
	var prefixes []string
	for j := 3; j < len(args); j++ {
		more := len(args) - 1 - j
		switch opt := strings.ToLower(string(args[j])); {
		case opt == "redirect" && more > 0:
			j++
			if redir != 0 {
				w.Error("ERR A client can only redirect to a single other client")
				return
			}
			id, ok := strictInt64(args[j])
			if !ok {
				w.Error(ErrNotInteger)
				return
			}
			if c.srv.clientByID(id) == nil {
				w.Error("ERR The client ID you want redirect to does not exist")
				return
			}
			redir = id
		case opt == "bcast":
			bcast = true
		case opt == "optin":
			optin = true
		case opt == "optout":
			optout = true
		case opt == "noloop":
			noloop = true
		case opt == "prefix" && more > 0:
			j++
			prefixes = append(prefixes, string(args[j]))
		default:
			w.Error(ErrSyntax)
			return
		}
	}
	on, ok := onOff(args[2])
	if !ok {
		w.Error(ErrSyntax)
		return
	}
	if !on {
		if c.trk.on {
			c.srv.disableTracking(c)
		}
		w.OK()
		return
	}
	m := c.trk.mode.Load()
	switch {
	case !bcast && len(prefixes) > 0:
		w.Error("ERR PREFIX option requires BCAST mode to be enabled")
		return
	case m != nil && m.bcast != bcast:
		w.Error("ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then re-enabling it with a different mode.")
		return
	case bcast && (optin || optout):
		w.Error("ERR OPTIN and OPTOUT are not compatible with BCAST")
		return
	case optin && optout:
		w.Error("ERR You can't specify both OPTIN mode and OPTOUT mode")
		return
	case m != nil && ((optin && m.optout) || (optout && m.optin)):
		w.Error("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then re-enabling it with a different mode.")
		return
	}
	if bcast && !prefixCollisionsOK(m, prefixes, w) {
		return
	}
	c.srv.enableTracking(c, redir, bcast, optin, optout, noloop, prefixes)
	w.OK()
}

// prefixCollisionsOK is Redis 7.0's checkPrefixCollisionsOrReply, bug
// included: a collision between two new prefixes found for a prefix other
// than the first one is reported, and tracking is still enabled (the
// command then also answers +OK).
func prefixCollisionsOK(m *trackMode, prefixes []string, w *proto.Writer) bool {
	overlap := func(a, b string) bool {
		n := min(len(a), len(b))
		return a[:n] == b[:n]
	}
	for i, p := range prefixes {
		if m != nil {
			for _, q := range m.prefixes {
				if overlap(q, p) {
					w.Error("ERR Prefix '" + cString(p) + "' overlaps with an existing prefix '" + cString(q) +
						"'. Prefixes for a single client must not overlap.")
					return false
				}
			}
		}
		for _, q := range prefixes[i+1:] {
			if overlap(p, q) {
				w.Error("ERR Prefix '" + cString(p) + "' overlaps with another provided prefix '" + cString(q) +
					"'. Prefixes for a single client must not overlap.")
				return i != 0
			}
		}
	}
	return true
}

// cString is s as a C format's %s prints it inside an error reply: cut at
// the first NUL, with CR and LF turned into spaces.
func cString(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	return strings.NewReplacer("\r", " ", "\n", " ").Replace(s)
}

// cmdClientCaching is CLIENT CACHING YES|NO.
func cmdClientCaching(c *Conn, args [][]byte, w *proto.Writer) {
	m := c.trk.mode.Load()
	if m == nil {
		w.Error("ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled")
		return
	}
	switch strings.ToLower(string(args[2])) {
	case "yes":
		if !m.optin {
			w.Error("ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode.")
			return
		}
	case "no":
		if !m.optout {
			w.Error("ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode.")
			return
		}
	default:
		w.Error(ErrSyntax)
		return
	}
	c.trk.caching = true
	w.OK()
}

// cmdClientGetRedir is CLIENT GETREDIR: the redirect client ID, 0 without
// one, -1 when tracking is off.
func cmdClientGetRedir(c *Conn, args [][]byte, w *proto.Writer) {
	if m := c.trk.mode.Load(); m != nil {
		w.Int(m.redirect)
		return
	}
	w.Int(-1)
}

// cmdClientTrackingInfo is CLIENT TRACKINGINFO.
func cmdClientTrackingInfo(c *Conn, args [][]byte, w *proto.Writer) {
	m := c.trk.mode.Load()
	flags := []string{"off"}
	redir := int64(-1)
	var prefixes []string
	if m != nil {
		flags = []string{"on"}
		if m.bcast {
			flags = append(flags, "bcast")
		}
		if m.optin {
			flags = append(flags, "optin")
			if c.trk.caching {
				flags = append(flags, "caching-yes")
			}
		}
		if m.optout {
			flags = append(flags, "optout")
			if c.trk.caching {
				flags = append(flags, "caching-no")
			}
		}
		if m.noloop {
			flags = append(flags, "noloop")
		}
		if c.trk.broken.Load() {
			flags = append(flags, "broken_redirect")
		}
		redir = m.redirect
		prefixes = m.prefixes
	}
	w.Map(3)
	w.BulkString("flags")
	w.StringSet(flags)
	w.BulkString("redirect")
	w.Int(redir)
	w.BulkString("prefixes")
	w.Array(len(prefixes))
	for _, p := range prefixes {
		w.BulkString(p)
	}
}

// trackingFlags appends the CLIENT LIST flags of tracking: t (tracking),
// R (broken redirect), B (broadcast).
func (c *Conn) trackingFlags(flags []byte) []byte {
	m := c.trk.mode.Load()
	if m == nil {
		return flags
	}
	flags = append(flags, 't')
	if c.trk.broken.Load() {
		flags = append(flags, 'R')
	}
	if m.bcast {
		flags = append(flags, 'B')
	}
	return flags
}

// trackingRedir is CLIENT LIST's redir= field.
func (c *Conn) trackingRedir() int64 {
	if m := c.trk.mode.Load(); m != nil {
		return m.redirect
	}
	return -1
}

// infoTrackingClients writes INFO clients' tracking line.
func (s *Server) infoTrackingClients(b *strings.Builder) {
	infoLine(b, "tracking_clients", s.trk.clients.Load())
}

// infoTrackingStats writes INFO stats' tracking lines.
func (s *Server) infoTrackingStats(b *strings.Builder) {
	infoLine(b, "tracking_total_keys", s.trk.keys.Load())
	infoLine(b, "tracking_total_items", s.trk.items.Load())
	infoLine(b, "tracking_total_prefixes", s.trk.nprefix.Load())
}
