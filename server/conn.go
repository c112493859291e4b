package server

import (
	"errors"
	"fmt"
	"io"
	"net"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/shard"
)

// maxBatch bounds how many pipelined commands one batch holds, so that a
// deep pipeline cannot grow the reply buffers without limit.
const maxBatch = 1024

// Reply modes (CLIENT REPLY).
const (
	replyOn = iota
	replyOff
	replySkip
)

// Conn is one client connection. Its IO goroutine (serve) owns every field
// not marked otherwise.
type Conn struct {
	srv *Server
	nc  net.Conn
	id  int64
	rd  *proto.Reader

	wmu  sync.Mutex // guards writes to nc once async pushes are possible
	wbuf []byte     // batch output; IO goroutine only

	db        int
	resp3     bool
	authed    bool
	replyMode int
	noTouch   bool
	noEvict   bool
	quit      bool
	info      ClientInfo

	reqs    []*request    // the current batch; the structs are reused, never moved
	parts   []shard.Batch // per worker; reused
	pending int           // requests dispatched but not yet submitted (from reqs[submitted:])
	subm    int           // index of the first request not yet submitted
	multi   bool          // the unsubmitted part holds a barrier or gate
	wg      sync.WaitGroup
	keyPos  []int
	stash   []byte // input read while blocked, fed to rd after Release (blocking.go)

	// Routing state of the requests queued since the last flush (route,
	// flush): the one slot map they were all routed with (so that a
	// batch's requests for one key go to one worker), and the requests
	// in order (to route them again after a slot move).
	sm     *shard.SlotMap
	queued []*request
	resend []*request // scratch for flush

	// Per-batch bookkeeping: one counter update per batch instead of per
	// command. batchNow is the time a blocked command was served
	// (blocking.go).
	batchNow  time.Time
	batchCmds int64

	// Fields other goroutines read (CLIENT LIST, CLIENT KILL, INFO).
	mu       sync.Mutex // guards name, libName, libVer, flags below
	name     string
	libName  string
	libVer   string
	lastCmd  atomic.Pointer[Command] // last command dispatched (CLIENT LIST cmd=)
	created  time.Time
	lastSeen atomic.Int64 // Unix ms of the last command
	dbShared atomic.Int32
	protoVer atomic.Int32
	killed   atomic.Bool
	isMon    atomic.Bool
	cs       clientState // published by other families for CLIENT LIST/KILL/UNBLOCK (cmd_client.go)

	// async carries pushes (MONITOR lines, later Pub/Sub) to the writer
	// goroutine started on first use.
	async asyncOut
	ps    *connPubSub // subscriptions; IO goroutine only (pubsub.go)
	trk   trackConn   // client-side caching (tracking.go)
}

// request is one command of a batch. It is the shard.Job the worker runs.
type request struct {
	c       *Conn
	cmd     *Command
	args    [][]byte
	out     proto.Writer
	ctx     Ctx
	noReply bool
	done    bool        // reply already written at dispatch (errors, local commands)
	blk     *blockState // set while a blocking command may block (blocking.go)
	trk     trackReq    // client-side caching (tracking.go)

	// split execution (multi-worker SplitSum/SplitArray/SplitOK)
	split     []splitPart
	keyWorker []int // per key group: index into split
	left      atomic.Int32
	start     time.Time

	blocked time.Duration // time a local command spent blocked (WAIT): not counted as its run time
}

func (s *Server) newConn(nc net.Conn) *Conn {
	c := &Conn{srv: s, nc: nc, id: s.nextID.Add(1), rd: proto.NewReader(), created: time.Now()}
	c.rd.MaxBulk = s.cfg.ProtoMaxBulkLen.Load()
	c.rd.MaxQuery = s.cfg.QueryBufferLimit.Load()
	c.authed = s.cfg.RequirePass() == ""
	c.rd.Unauthenticated = !c.authed
	c.info.ID = c.id
	c.parts = make([]shard.Batch, s.eng.NumWorkers())
	c.lastSeen.Store(time.Now().UnixMilli())
	c.protoVer.Store(2)
	c.async.c = c
	return c
}

// serve is the IO goroutine: read, parse every complete command, dispatch,
// wait, write once per batch.
func (c *Conn) serve() {
	defer c.close()
	for !c.quit {
		_, err := c.rd.Fill(c.nc)
		if c.rd.Buffered() > 0 {
			if !c.process() {
				return
			}
		}
		if err != nil {
			if errors.Is(err, proto.ErrQueryLimit) {
				c.srv.log.Warn("closing client that exceeded the query buffer limit", "id", c.id, "addr", c.nc.RemoteAddr().String())
			}
			return
		}
	}
}

// process runs every complete command in the read buffer. It returns false
// when the connection must close.
func (c *Conn) process() bool {
	for {
		n := 0
		var perr error
		select {
		case <-c.srv.shutdown:
			return false // shutting down: answer nothing more (Redis exits)
		default:
		}
		c.lastSeen.Store(unixMsMono())
		for n < maxBatch && !c.quit && !c.killed.Load() { // CLIENT KILL: run nothing more
			args, err := c.rd.Next()
			if err != nil {
				if !errors.Is(err, proto.ErrIncomplete) {
					perr = err
				}
				break
			}
			c.dispatch(args)
			n++
		}
		if c.batchCmds > 0 {
			c.srv.stats.commands.Add(c.batchCmds)
			c.batchCmds = 0
		}
		if n > 0 {
			c.flush()
			c.trackingBatchBroadcast() // tracking.go: ahead of the replies, as Redis's beforeSleep
			if c.quit {
				// Leave Pub/Sub before QUIT's reply goes out, as Redis
				// frees the client right after it: a PUBLISH sent once the
				// client has read +OK no longer counts it.
				c.pubsubClose()
			}
			c.writeBatch()
			c.trackingBatchDone() // tracking.go
		}
		c.rd.Release()
		if c.stash != nil && perr == nil && !c.quit { // read while blocked (blocking.go)
			c.rd.Feed(c.stash)
			c.stash = nil
			continue
		}
		if perr != nil {
			var pe *proto.ProtocolError
			if errors.As(perr, &pe) {
				c.writeRaw([]byte("-ERR " + pe.Msg + "\r\n"))
				c.srv.stats.protoErrors.Add(1)
			}
			return false
		}
		if n < maxBatch || c.quit {
			return !c.quit && !c.killed.Load()
		}
	}
}

// nextReq returns a fresh request slot in the batch.
func (c *Conn) nextReq() *request {
	// Jobs already queued point at earlier requests, so requests are
	// individually allocated and only the slice of pointers grows.
	if len(c.reqs) < cap(c.reqs) {
		c.reqs = c.reqs[:len(c.reqs)+1]
		if c.reqs[len(c.reqs)-1] == nil {
			c.reqs[len(c.reqs)-1] = new(request)
		}
	} else {
		c.reqs = append(c.reqs, new(request))
	}
	r := c.reqs[len(c.reqs)-1]
	r.c = c
	r.out.Reset()
	r.out.Resp3 = c.resp3
	r.noReply = c.replyMode != replyOn
	if c.replyMode == replySkip {
		c.replyMode = replyOn
	}
	r.done = false
	return r
}

// dispatch looks the command up, checks it and either runs it here (local
// commands and errors) or queues it for its worker(s).
func (c *Conn) dispatch(args [][]byte) {
	s := c.srv
	c.batchCmds++
	r := c.nextReq()
	r.args = args
	r.trk.remember = c.trk.on && c.trackingDispatch(args) // tracking.go
	cmd := s.reg.Lookup(args[0])
	if cmd == nil {
		r.reject(unknownCommand(args))
		return
	}
	if cmd.IsContainer() && len(args) >= 2 {
		sub := cmd.Sub(args[1])
		if sub == nil {
			r.reject("ERR unknown subcommand '" + truncate(string(args[1]), 128) + "'. Try " + strings.ToUpper(cmd.Name) + " HELP.")
			return
		}
		cmd = sub
	}
	r.cmd = cmd
	if !cmd.CheckArity(len(args)) || (cmd.Split != NoSplit && cmd.Step > 1 && (len(args)-cmd.FirstKey)%cmd.Step != 0) {
		r.reject(WrongArgs(cmd.Name))
		return
	}
	// Like Redis, whether the default user needs a password is checked per
	// command: CONFIG SET requirepass "" lets waiting clients through.
	if !c.authed && cmd.Flags&NoAuth == 0 && s.cfg.RequirePass() != "" {
		r.reject(ErrNoAuth)
		return
	}
	if msg := c.pubsubDenied(cmd); msg != "" { // RESP2 subscribed mode (pubsub.go)
		r.reject(msg)
		return
	}
	// MONITOR sees worker commands as they are queued; local commands
	// (SELECT changes the db it shows) after they ran, as Redis feeds
	// monitors from call().
	monitored := s.monitors.Load() > 0 && cmd.Flags&(SkipMonitor|Admin) == 0
	var now time.Time // the MONITOR line's time, read only when someone monitors
	if monitored {
		now = time.Now()
	}
	if monitored && cmd.Flags&Local == 0 {
		s.feedMonitors(c, redactSecrets(cmd, args), now) // AUTH/HELLO secrets: "(redacted)"
	}
	c.lastCmd.Store(cmd)
	if s.paused(cmd) {
		c.flush()
		s.waitUnpaused(cmd)
		if c.killed.Load() { // killed by CLIENT KILL while held: never run
			r.done = true
			return
		}
	}
	if cmd.Flags&Local != 0 {
		// A local command sees the effects of every earlier command of
		// the batch: submit and wait first (no-op when nothing is queued).
		c.flush()
		r.done = true
		s.callLocal(cmd, c, r)
		if monitored {
			s.feedMonitors(c, redactSecrets(cmd, args), now)
		}
		return
	}
	if cmd.Flags&Blocking != 0 {
		c.dispatchBlocking(r) // blocking.go
		return
	}
	c.route(r)
}

// reject answers r with an error without running it.
func (r *request) reject(msg string) {
	r.out.Error(msg)
	r.done = true
	r.c.srv.stats.rejected.Add(1)
	if r.cmd != nil {
		r.cmd.stats.rejected.Add(1) // INFO commandstats rejected_calls
	}
	r.c.srv.countError(msg)
}

// unknownCommand is Redis's "unknown command" error: the name as "%.128s"
// and then quoted arguments while fewer than 128 bytes of them are
// written, each as "%.*s" with the room left.
func unknownCommand(args [][]byte) string {
	var tail strings.Builder
	for _, a := range args[1:] {
		if tail.Len() >= 128 {
			break
		}
		room := 128 - tail.Len()
		tail.WriteString("'")
		tail.WriteString(truncate(string(a), room))
		tail.WriteString("' ")
	}
	return "ERR unknown command '" + truncate(string(args[0]), 128) + "', with args beginning with: " + tail.String()
}

// truncate is what C's "%.<n>s" prints of s: up to its first NUL, at most
// n bytes. Redis formats client arguments into error replies that way.
func truncate(s string, n int) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		s = s[:i]
	}
	if len(s) > n {
		return s[:n]
	}
	return s
}

// route queues r on the worker(s) owning its keys.
func (c *Conn) route(r *request) {
	s := c.srv
	e := s.eng
	cmd := r.cmd
	r.ctx = Ctx{Args: r.args, W: &r.out, Client: &c.info, Srv: s, req: r}
	r.ctx.DB = e.DB(nil, c.db)
	r.ctx.DB.NoTouch = c.noTouch

	if c.sm == nil {
		c.sm = e.SlotMap()
	}
	sm := c.sm
	c.queued = append(c.queued, r)
	if cmd.Flags&AllWorkers != 0 || (cmd.FirstKey == 0 && cmd.Keys == nil) {
		c.queueBarrier(r, nil)
		return
	}
	var keys [][]byte
	c.keyPos = c.keyPos[:0]
	if cmd.Keys != nil {
		keys = cmd.Keys(r.args)
	} else {
		c.keyPos = cmd.KeyPositions(r.args, c.keyPos)
	}
	nkeys := len(c.keyPos)
	if cmd.Keys != nil {
		nkeys = len(keys)
	}
	keyAt := func(i int) []byte {
		if keys != nil {
			return keys[i]
		}
		return r.args[c.keyPos[i]]
	}
	if nkeys == 0 {
		c.queueBarrier(r, nil)
		return
	}
	w0 := int(sm.Owner[shard.KeySlot(keyAt(0))])
	same := true
	for i := 1; i < nkeys && same; i++ {
		same = int(sm.Owner[shard.KeySlot(keyAt(i))]) == w0
	}
	if same {
		p := c.part(w0)
		p.Jobs = append(p.Jobs, r)
		return
	}
	workers := make([]int, 0, 4)
	for i := 0; i < nkeys; i++ {
		w := int(sm.Owner[shard.KeySlot(keyAt(i))])
		found := false
		for _, x := range workers {
			found = found || x == w
		}
		if !found {
			workers = append(workers, w)
		}
	}
	// With keyspace notifications on, a split command runs as one barrier
	// instead, so its events come in key order, as in Redis (notify.go).
	if cmd.Split != NoSplit && cmd.Keys == nil && s.cfg.NotifyEvents.Load() == 0 {
		c.queueSplit(r, sm, workers)
		return
	}
	c.queueBarrier(r, workers)
}

// queueBarrier queues r as one barrier on the given workers (all when nil):
// the last to arrive runs the command with every held worker's data.
func (c *Conn) queueBarrier(r *request, workers []int) {
	if workers == nil {
		workers = make([]int, c.sm.Workers)
		for i := range workers {
			workers[i] = i
		}
	}
	b := shard.NewBarrier(len(workers), r.Run)
	for _, w := range workers {
		p := c.part(w)
		p.Jobs = append(p.Jobs, b)
	}
	c.multi = true
}

// part is worker i's part of the batch; parts grows when workers are added.
func (c *Conn) part(i int) *shard.Batch {
	if i >= len(c.parts) {
		c.parts = append(c.parts, make([]shard.Batch, i+1-len(c.parts))...)
	}
	return &c.parts[i]
}

// flush submits every queued part, one hand-off per worker, and waits.
//
// Slot moves (shard/migrate.go): parts holding a barrier or gate are
// submitted under LockMulti; if the slot map changed since they were
// routed, every queued request is routed again there first, with the
// current map, so that each barrier and gate holds the owners of its keys.
// Single-worker parts are submitted without the lock; a worker that meets
// one after a slot of it moved away sends back the rest of the part unrun
// (Batch.Ran), and those requests are routed again, in order, and
// submitted in another round.
func (c *Conn) flush() {
	e := c.srv.eng
	for {
		n := 0
		for i := range c.parts {
			if len(c.parts[i].Jobs) > 0 {
				n++
			}
		}
		if n == 0 {
			c.sm = nil
			c.queued = c.queued[:0]
			break
		}
		if n > 1 || c.multi || !c.tryInline() {
			locked := c.multi
			if locked {
				e.LockMulti()
				if sm := e.SlotMap(); sm != c.sm {
					n = c.reroute(sm)
				}
			}
			c.wg.Add(n)
			for i := range c.parts {
				if p := &c.parts[i]; len(p.Jobs) > 0 {
					p.Done = &c.wg
					p.Epoch = c.sm.Epoch
					e.Worker(i).Submit(p)
				}
			}
			if locked {
				e.UnlockMulti()
			}
			c.wg.Wait()
		}
		c.resend = c.resend[:0]
		for i := range c.parts {
			p := &c.parts[i]
			if len(p.Jobs) == 0 {
				continue
			}
			for _, j := range p.Jobs[p.Ran:] {
				// Only single-worker requests are ever sent back.
				if r, ok := j.(*request); ok {
					c.resend = append(c.resend, r)
				}
			}
			clear(p.Jobs)
			p.Jobs = p.Jobs[:0]
		}
		c.multi = false
		c.sm = nil
		clear(c.queued)
		c.queued = c.queued[:0]
		if len(c.resend) == 0 {
			break
		}
		for _, r := range c.resend {
			c.route(r)
		}
		clear(c.resend)
	}
}

// reroute routes every queued request again with sm and returns the number
// of parts.
func (c *Conn) reroute(sm *shard.SlotMap) int {
	for i := range c.parts {
		clear(c.parts[i].Jobs)
		c.parts[i].Jobs = c.parts[i].Jobs[:0]
	}
	c.resend = append(c.resend[:0], c.queued...)
	clear(c.queued)
	c.queued = c.queued[:0]
	c.sm = sm
	for _, r := range c.resend {
		c.route(r)
	}
	clear(c.resend)
	n := 0
	for i := range c.parts {
		if len(c.parts[i].Jobs) > 0 {
			n++
		}
	}
	return n
}

// tryInline runs the only queued part on this goroutine when its worker is
// idle (shard.Worker.TryRun): no barrier or gate is involved (c.multi is
// false), so per-connection order and atomicity are those of a hand-off.
func (c *Conn) tryInline() bool {
	for i := range c.parts {
		p := &c.parts[i]
		if len(p.Jobs) == 0 {
			continue
		}
		p.Done = nil
		p.Epoch = c.sm.Epoch
		return c.srv.eng.Worker(i).TryRun(p)
	}
	return false
}

// RoutedTo reports whether worker w owns the slots of every key of r
// (shard.Routed): asked only of requests that reach a worker after one of
// its slots moved away.
func (r *request) RoutedTo(w *shard.Worker) bool {
	cmd := r.cmd
	if cmd.Keys != nil {
		for _, k := range cmd.Keys(r.args) {
			if !w.Owns(shard.KeySlot(k)) {
				return false
			}
		}
		return true
	}
	var buf [16]int
	for _, i := range cmd.KeyPositions(r.args, buf[:0]) {
		if !w.Owns(shard.KeySlot(r.args[i])) {
			return false
		}
	}
	return true
}

// writeBatch writes the replies of the batch in request order, in one write.
func (c *Conn) writeBatch() {
	c.wbuf = c.wbuf[:0]
	for _, r := range c.reqs {
		if !r.noReply {
			c.wbuf = append(c.wbuf, r.out.B...)
		}
		if cap(r.out.B) > 64<<10 {
			r.out.B = nil // do not keep a big reply's buffer
		}
		r.args = nil
		r.ctx = Ctx{}
		r.cmd = nil
	}
	c.reqs = c.reqs[:0]
	if len(c.wbuf) > 0 {
		c.writeRaw(c.wbuf)
	}
	if cap(c.wbuf) > 1<<20 {
		c.wbuf = nil
	}
}

func (c *Conn) writeRaw(b []byte) {
	if c.async.started.Load() {
		c.async.pushOwn(b)
		return
	}
	if c.syncOverLimit(len(b)) { // client-output-buffer-limit (outbuf.go)
		return
	}
	if _, err := c.nc.Write(b); err != nil {
		c.nc.Close()
	}
}

// Run executes r on worker w (single-worker commands and barriers).
func (r *request) Run(w *shard.Worker) {
	r.ctx.Worker = w
	r.ctx.DB = w.Engine().DB(w, r.ctx.DB.Index())
	r.ctx.DB.NoTouch = r.c.noTouch
	r.c.srv.call(r.cmd, &r.ctx)
}

// splitPart is one worker's share of a split command.
type splitPart struct {
	r      *request
	worker int
	groups []int // argument index of each key group this part handles
	out    proto.Writer
	ends   []int // SplitArray: end offset in out of each group's element
	sum    int64
	gate   *shard.Gate
	failed string // a KeyFn panic, turned into the command's error reply
	ctx    Ctx    // the part's context; a field so that it is not allocated per call
}

func (c *Conn) queueSplit(r *request, sm *shard.SlotMap, workers []int) {
	cmd := r.cmd
	if cap(r.split) < len(workers) {
		r.split = make([]splitPart, len(workers))
	}
	r.split = r.split[:len(workers)]
	gate := shard.NewGate(len(workers))
	for i, w := range workers {
		p := &r.split[i]
		p.r, p.worker, p.gate, p.sum = r, w, gate, 0
		p.groups, p.ends = p.groups[:0], p.ends[:0]
		p.out.Reset()
		p.out.Resp3 = r.out.Resp3
	}
	r.keyWorker = r.keyWorker[:0]
	for i := cmd.FirstKey; i < len(r.args); i += cmd.Step {
		w := int(sm.Owner[shard.KeySlot(r.args[i])])
		for j := range r.split {
			if r.split[j].worker == w {
				r.split[j].groups = append(r.split[j].groups, i)
				r.keyWorker = append(r.keyWorker, j)
				break
			}
		}
	}
	r.left.Store(int32(len(workers)))
	r.start = time.Now()
	for i := range r.split {
		p := c.part(r.split[i].worker)
		p.Jobs = append(p.Jobs, &r.split[i])
	}
	c.multi = true
}

// Run executes one part after every part's worker has reached the gate; the
// last part to finish merges the reply.
func (p *splitPart) Run(w *shard.Worker) {
	p.gate.Arrive()
	r := p.r
	p.ctx = Ctx{Args: r.args, W: &p.out, Worker: w, Client: &r.c.info, Srv: r.c.srv, req: r}
	p.ctx.DB = w.Engine().DB(w, r.ctx.DB.Index())
	p.ctx.DB.NoTouch = r.c.noTouch
	p.runKeys(&p.ctx)
	if r.trk.remember && r.cmd.Flags&ReadOnly != 0 {
		p.trackingRemember() // tracking.go
	}
	p.ctx = Ctx{} // keep no reference to the batch's arguments
	if r.left.Add(-1) == 0 {
		r.merge()
	}
}

// runKeys runs KeyFn over the part's key groups. A panic is logged and
// recorded: the part still reaches the merge, so no partner waits forever.
func (p *splitPart) runKeys(x *Ctx) {
	r := p.r
	cmd := r.cmd
	defer func() {
		if v := recover(); v != nil {
			r.c.srv.log.Error("command panicked", "command", cmd.Name, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			p.failed = "ERR internal error in '" + cmd.Name + "': " + fmt.Sprint(v)
		}
	}()
	p.failed = ""
	for _, i := range p.groups {
		end := min(i+cmd.Step, len(r.args))
		p.sum += cmd.KeyFn(x, r.args[i], r.args[i+1:end])
		p.ends = append(p.ends, len(p.out.B))
	}
}

func (r *request) merge() {
	for i := range r.split {
		if msg := r.split[i].failed; msg != "" {
			r.out.Error(msg)
			r.c.srv.countError(msg)
			r.c.srv.recordCall(r.cmd, time.Since(r.start), true, r)
			return
		}
	}
	switch r.cmd.Split {
	case SplitSum:
		var total int64
		for i := range r.split {
			total += r.split[i].sum
		}
		r.out.Int(total)
	case SplitOK:
		r.out.OK()
	case SplitArray:
		r.out.Array(len(r.keyWorker))
		cursor := make([]int, len(r.split)) // group index within each part
		for _, j := range r.keyWorker {
			p := &r.split[j]
			k := cursor[j]
			start := 0
			if k > 0 {
				start = p.ends[k-1]
			}
			r.out.Raw(p.out.B[start:p.ends[k]])
			cursor[j]++
		}
	}
	r.c.srv.recordCall(r.cmd, time.Since(r.start), false, r)
}

func (c *Conn) close() {
	c.flush()
	c.pubsubClose()
	c.trackingClose() // tracking.go
	c.async.stop()
	c.nc.Close()
	c.srv.removeConn(c)
}

var _ io.Writer = (*net.TCPConn)(nil)
