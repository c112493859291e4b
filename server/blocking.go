package server

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"os"
	"runtime/debug"
	"time"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/shard"
)

// Blocking commands (BLPOP, BLMOVE, BZPOPMIN, ...): the connection side.
//
// A command flagged Blocking is a batch boundary (dispatchBlocking): every
// earlier command of the pipeline runs first, then the command runs alone,
// as an ordinary command on the worker(s) of its keys. When it can serve,
// it replies. When it cannot and may block (x.mayBlock: not inside
// MULTI/EXEC or a script), it calls x.block in the same job, which
// registers a shard.Waiter on every key (see shard/blocking.go), and writes
// no reply. The IO goroutine then writes the replies of the earlier
// commands and waits (awaitUnblock) for whichever comes first: a worker
// serving the waiter (the reply is then in the request's buffer), the
// timeout, CLIENT UNBLOCK, a disconnect or the server shutting down. Only
// then does it dispatch the next command of the pipeline.
//
// While blocked nobody reads the connection through the proto.Reader:
// a watcher goroutine reads the socket into a side buffer, so that a
// disconnect (read error, EOF) is noticed at once; the bytes it read are
// handed back to the Reader (Feed) after the batch's arguments are
// released. The blocked command's arguments stay valid while it waits (no
// Fill or Feed happens meanwhile), but the waiter's callbacks run on
// workers, possibly racing with the end of the wait, so they never touch
// the arguments: what they need is copied when blocking.

// How a blocked request ended. The party whose Claim succeeded sets it
// before Finish.
const (
	unblockServed  int32 = iota // a worker served it: the reply is written
	unblockTimeout              // timeout, or CLIENT UNBLOCK [TIMEOUT]
	unblockError                // CLIENT UNBLOCK ... ERROR
	unblockGone                 // disconnected, killed, server shutting down
)

// errUnblocked is the reply to a client woken by CLIENT UNBLOCK ... ERROR.
const errUnblocked = "UNBLOCKED client unblocked via CLIENT UNBLOCK"

// Timeout argument errors, as Redis 7.0 writes them.
const (
	errTimeoutFloat    = "ERR timeout is not a float or out of range"
	errTimeoutNegative = "ERR timeout is negative"
)

// blockState is the blocking side of one request (request.blk). It exists
// only while dispatchBlocking runs the request, so that a blocking command
// run any other way (inside EXEC, ...) cannot block.
type blockState struct {
	waiter    *shard.Waiter
	timeout   int64                 // milliseconds; 0 waits forever
	onTimeout func(w *proto.Writer) // the timeout reply; nil: null array
	reason    int32                 // how it ended; written by the claimer
}

// blockSpec describes how a command waits and how it is served.
type blockSpec struct {
	// timeout in milliseconds, 0 for none (parseBlockTimeout).
	timeout int64
	// keys to wait for; copied.
	keys [][]byte
	// target is another key serve writes (BLMOVE's destination), or nil;
	// copied.
	target []byte
	// ready reports whether key holds something for the command. It runs
	// on key's worker, maybe at the same time as on another key's worker:
	// it may only read key, and writes no reply (x.W is nil).
	ready func(x *Ctx, key []byte) bool
	// serve serves the command from key and writes its reply into x.W.
	// It runs after ready returned true in the same job, holding the
	// workers of key and target. x.Args is nil: use copied values.
	serve func(x *Ctx, key []byte)
	// onTimeout writes the reply for a timeout; nil means the null array
	// (what Redis replies for lists, sorted sets and streams).
	onTimeout func(w *proto.Writer)
}

// mayBlock reports whether the running command may block: the connection
// dispatched it directly, not inside MULTI/EXEC or a script (where Redis
// answers as if it timed out at once).
func (x *Ctx) mayBlock() bool {
	return x.req != nil && x.req.blk != nil && x.req.blk.waiter == nil
}

// block makes the running command wait as sp describes. It must be the
// last thing the command does (in the job that found nothing to serve),
// it writes no reply, and it may only be called when mayBlock is true.
func (x *Ctx) block(sp blockSpec) {
	r := x.req
	b := r.blk
	s := x.Srv
	info := *x.Client // a copy: the connection may change its own later
	noTouch := x.DB.NoTouch
	keys := make([][]byte, len(sp.keys))
	for i, k := range sp.keys {
		keys[i] = append([]byte(nil), k...)
	}
	var target []byte
	if sp.target != nil {
		target = append([]byte{}, sp.target...)
	}
	ready, serve := sp.ready, sp.serve
	cmdName := r.cmd.Name
	wt := &shard.Waiter{Keys: keys, Target: target}
	wt.Ready = func(d *shard.DB, key []byte) bool {
		cx := Ctx{DB: *d, Worker: d.Worker(), Client: &info, Srv: s}
		cx.DB.NoTouch = noTouch
		return ready(&cx, key)
	}
	wt.Serve = func(d *shard.DB, key []byte) {
		// The waiter is claimed: the request's reply buffer is ours until
		// Finish.
		cx := Ctx{W: &r.out, DB: *d, Worker: d.Worker(), Client: &info, Srv: s}
		cx.DB.NoTouch = noTouch
		mark := len(r.out.B)
		defer func() {
			if v := recover(); v != nil {
				r.out.B = r.out.B[:mark]
				r.out.Error("ERR internal error in '" + cmdName + "': " + fmt.Sprint(v))
				s.log.Error("blocked command panicked while served", "command", cmdName, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			}
		}()
		serve(&cx, key)
	}
	x.DB.Block(wt)
	b.waiter = wt
	b.timeout = sp.timeout
	b.onTimeout = sp.onTimeout
}

// parseBlockTimeout parses a timeout in seconds as Redis 7.0's
// getTimeoutFromObjectOrReply does: a long double (strtold), times 1000,
// rounded up (ceill), converted to a long long — on x86-64 a value out of
// its range becomes LLONG_MIN, hence "negative". It returns milliseconds
// (0: wait forever) or the error text.
func parseBlockTimeout(b []byte) (int64, string) {
	f, ok := parseLongDouble(b)
	if !ok {
		return 0, errTimeoutFloat
	}
	if f.IsInf() {
		return 0, errTimeoutNegative
	}
	ms := new(big.Float).SetPrec(ldMantBits).SetMode(big.ToNearestEven)
	ms.Mul(f, big.NewFloat(1000))
	i, acc := ms.Int(nil) // truncated toward zero
	if ms.Sign() > 0 && acc == big.Below {
		i.Add(i, big.NewInt(1))
	}
	if !i.IsInt64() || i.Sign() < 0 {
		return 0, errTimeoutNegative
	}
	return i.Int64(), ""
}

// dispatchBlocking runs a blocking command alone, after everything queued
// before it, and waits if it blocked.
func (c *Conn) dispatchBlocking(r *request) {
	c.flush()
	var b blockState
	r.blk = &b
	c.route(r)
	c.flush()
	r.blk = nil
	if b.waiter == nil {
		return // served at once, or an error
	}
	c.block(r, &b)
}

// block makes r's client wait, as b says, once the replies of the batch's
// earlier commands are out; the outcome becomes r's reply.
func (c *Conn) block(r *request, b *blockState) {
	// The client sees the replies of the earlier commands before it waits.
	c.trackingBatchBroadcast() // tracking.go
	c.wbuf = c.wbuf[:0]
	for _, e := range c.reqs[:len(c.reqs)-1] {
		if !e.noReply {
			c.wbuf = append(c.wbuf, e.out.B...)
			e.noReply = true // written: writeBatch skips it
		}
	}
	if len(c.wbuf) > 0 {
		c.writeRaw(c.wbuf)
	}
	c.trackingBatchDone() // tracking.go: held invalidations reach a blocked client
	c.awaitUnblock(r, b)
	c.batchNow = time.Now()
	c.lastSeen.Store(c.batchNow.UnixMilli())
}

// cmdWait is WAIT numreplicas timeout. kvd has no replicas, so the count
// of replicas that acknowledged is always 0: WAIT answers at once when no
// replica is asked for, and otherwise blocks, like Redis, until the timeout
// (milliseconds; 0 waits for ever), CLIENT UNBLOCK or a disconnect, and
// then answers 0.
func cmdWait(c *Conn, args [][]byte, w *proto.Writer) {
	n, ok := strictInt64(args[1])
	if !ok {
		w.Error(ErrNotInteger)
		return
	}
	ms, ok := strictInt64(args[2])
	switch {
	case !ok:
		w.Error("ERR timeout is not an integer or out of range")
		return
	case ms < 0:
		w.Error(errTimeoutNegative)
		return
	}
	if n <= 0 {
		w.Int(0)
		return
	}
	r := c.reqs[len(c.reqs)-1] // the request RunConn is running: w is its out
	start := monoNow()
	c.block(r, &blockState{waiter: shard.NewWaiter(), timeout: ms, onTimeout: func(w *proto.Writer) { w.Int(0) }})
	r.blocked = monoNow() - start
}

// maxTimerMillis is the longest timeout a timer can represent; longer ones
// never fire in practice and are treated as no timeout.
const maxTimerMillis = math.MaxInt64 / int64(time.Millisecond)

// awaitUnblock waits until the blocked request r is served, times out, is
// unblocked by CLIENT UNBLOCK, or its client goes away, and writes the
// reply for the outcome.
func (c *Conn) awaitUnblock(r *request, b *blockState) {
	s := c.srv
	wt := b.waiter
	claim := func(reason int32) bool {
		if !wt.Claim() {
			return false
		}
		b.reason = reason
		wt.Finish()
		return true
	}
	unblock := func(withError bool) bool {
		if withError {
			return claim(unblockError)
		}
		return claim(unblockTimeout)
	}
	c.cs.unblock.Store(&unblock)
	s.blocked.Add(1)
	watch := c.watchInput()
	var timeout <-chan time.Time
	if b.timeout > 0 && b.timeout < maxTimerMillis {
		t := time.NewTimer(time.Duration(b.timeout) * time.Millisecond)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-wt.Done():
	case <-timeout:
		claim(unblockTimeout)
	case <-watch.done:
		claim(unblockGone)
	case <-s.shutdown:
		claim(unblockGone)
	}
	<-wt.Done() // whoever claimed it finishes at once
	s.blocked.Add(-1)
	c.cs.unblock.Store(nil)
	s.eng.RemoveWaiter(wt)
	in, gone := watch.stop()

	switch b.reason {
	case unblockTimeout:
		if b.onTimeout != nil {
			b.onTimeout(&r.out)
		} else {
			r.out.NullArray()
		}
	case unblockError:
		r.out.Error(errUnblocked)
		s.countError(errUnblocked)
		r.cmd.stats.failed.Add(1)
	}
	if gone || b.reason == unblockGone {
		// Like Redis, a client whose connection ended is freed without
		// running anything more.
		r.noReply = true
		c.quit = true
		return
	}
	c.stash = in
}

// inputWatch reads a blocked client's socket into a side buffer, so that a
// disconnect is noticed while the client waits.
type inputWatch struct {
	c    *Conn
	buf  []byte
	err  error
	done chan struct{}
}

func (c *Conn) watchInput() *inputWatch {
	iw := &inputWatch{c: c, done: make(chan struct{})}
	limit := c.rd.MaxQuery - int64(c.rd.Buffered())
	go func() {
		defer close(iw.done)
		var chunk [1024]byte
		for {
			n, err := c.nc.Read(chunk[:])
			iw.buf = append(iw.buf, chunk[:n]...)
			if err != nil {
				iw.err = err
				return
			}
			if int64(len(iw.buf)) > limit {
				iw.err = proto.ErrQueryLimit
				return
			}
		}
	}()
	return iw
}

// stop ends the watch and returns what it read; gone reports that the
// connection ended (or went over the query buffer limit) meanwhile.
func (iw *inputWatch) stop() (in []byte, gone bool) {
	c := iw.c
	select {
	case <-iw.done:
	default:
		c.nc.SetReadDeadline(time.Unix(1, 0)) // in the past: the Read returns now
		<-iw.done
		c.nc.SetReadDeadline(time.Time{})
	}
	if iw.err != nil && !errors.Is(iw.err, os.ErrDeadlineExceeded) {
		if errors.Is(iw.err, proto.ErrQueryLimit) {
			c.srv.log.Warn("closing client that exceeded the query buffer limit", "id", c.id, "addr", c.nc.RemoteAddr().String())
		}
		return nil, true
	}
	return iw.buf, false
}
