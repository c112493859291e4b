package shard

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"
)

// Blocking operations (BLPOP, BLMOVE, BZPOPMIN, ...).
//
// A client that must wait is represented by a Waiter registered, in the
// job that found nothing to serve, on every key it waits for. Waiters live
// in the slot of their key (Slot.waiters), in the order they blocked, so
// that whatever moves a slot carries them.
//
// A write that may satisfy waiters calls DB.SignalReady (DB.Add does it for
// every new key, as Redis's dbAdd does): when the slot has waiters for the
// key, the key is queued on its owner's ready list, and the worker serves
// it right after the job (before the next job of the batch, as Redis serves
// blocked clients after each command). Serving walks the key's waiters in
// FIFO order: a waiter whose Ready reports that the key holds something for
// it is claimed and served (Serve pops, pushes, writes the reply); then its
// done channel is closed. A waiter whose Serve also writes a key of another
// worker (Target: BLMOVE's destination) is served from a barrier over both
// workers, so that the element is never seen in both lists or in neither;
// until that barrier runs, the key's later waiters wait too (FIFO).
//
// Exactly one party claims a waiter (an atomic CAS): a serving worker, the
// blocked connection (timeout, disconnect, shutdown) or CLIENT UNBLOCK. The
// claimer writes the outcome and calls Finish (workers do it themselves).
// Whoever waits for the client then calls Engine.RemoveWaiter, which drops
// the waiter from the queues of its keys with asynchronous jobs: claimed
// waiters never accumulate, and one met before its removal is skipped.

// waitKey names the waiters of one key of one database within a slot.
type waitKey struct {
	db  int
	key string
}

// waitQueue holds the waiters of one key in the order they blocked.
type waitQueue struct {
	ws      []*Waiter
	ready   bool // queued on the owner's ready list
	handoff bool // a barrier with another worker will serve the key
}

// readyKey is one entry of a worker's ready list.
type readyKey struct {
	slot int
	wk   waitKey
}

// Waiter states.
const (
	waiterWaiting int32 = iota
	waiterClaimed
)

// Waiter is one blocked client. The creator fills the exported fields and
// passes it to DB.Block; they are read-only afterwards.
type Waiter struct {
	// Keys are the keys waited for (in DB), owned by the waiter: never
	// the command's argument buffers.
	Keys [][]byte
	// Target is a key, other than the one being served, that Serve
	// writes (BLMOVE's destination); nil when none.
	Target []byte
	// Ready reports whether key holds something for this waiter. It is
	// called on a worker holding key's slot, possibly on several workers
	// at once for a waiter of keys on several workers, so it must only
	// read that key and must not write a reply.
	Ready func(d *DB, key []byte) bool
	// Serve serves the waiter from key, after Ready returned true in the
	// same job and the waiter was claimed; the worker(s) of key and of
	// Target are held. It must not fail to serve: whatever it writes is
	// the client's reply.
	Serve func(d *DB, key []byte)

	db    int
	e     *Engine // set by Block; counts the waiter in blocked until claimed
	state atomic.Int32
	done  chan struct{}
}

// NewWaiter returns a waiter registered on no key, for a client that
// blocks on something other than keys (WAIT): only its timeout, CLIENT
// UNBLOCK or the end of its connection finishes it.
func NewWaiter() *Waiter { return &Waiter{done: make(chan struct{})} }

// DB is the database the waiter blocked in.
func (wt *Waiter) DB() int { return wt.db }

// Claim makes the caller the only party allowed to finish the waiter. It
// reports whether the caller won; a winner must call Finish once it has
// written the waiter's outcome.
func (wt *Waiter) Claim() bool {
	if wt.state.CompareAndSwap(waiterWaiting, waiterClaimed) {
		if wt.e != nil {
			wt.e.blocked.Add(-1)
		}
		return true
	}
	return false
}

// Claimed reports whether some party has claimed the waiter.
func (wt *Waiter) Claimed() bool { return wt.state.Load() != waiterWaiting }

// Finish closes Done. Only the party whose Claim succeeded calls it.
func (wt *Waiter) Finish() { close(wt.done) }

// Done is closed once the claimer has finished the waiter.
func (wt *Waiter) Done() <-chan struct{} { return wt.done }

// Block registers wt on each of its keys (duplicates once) in database d.
// It must run in the job that found nothing to serve, on the worker(s)
// holding every key's slot, so that no write can slip between that check
// and the registration.
func (d *DB) Block(wt *Waiter) {
	wt.db = d.idx
	wt.e = d.e
	wt.done = make(chan struct{})
	for _, key := range wt.Keys {
		s := d.slotOf(key)
		if s.waiters == nil {
			s.waiters = make(map[waitKey]*waitQueue)
		}
		wk := waitKey{d.idx, string(key)}
		q := s.waiters[wk]
		if q == nil {
			q = &waitQueue{}
			s.waiters[wk] = q
		}
		if n := len(q.ws); n > 0 && q.ws[n-1] == wt {
			continue // the same key twice: BLPOP k k 0
		}
		q.ws = append(q.ws, wt)
	}
	d.e.blocked.Add(1)
}

// SignalReady announces that key may now hold something for its waiters
// (a push, an add): a no-op unless the slot has waiters for the key. The
// key is served after the current job. Call it from a job holding key's
// slot, after the write.
func (d *DB) SignalReady(key []byte) {
	s := d.slotOf(key)
	if s.waiters == nil {
		return
	}
	d.e.signal(s, KeySlot(key), waitKey{d.idx, string(key)})
}

// signal queues wk on the ready list of slot s's owner. The caller holds
// that worker.
func (e *Engine) signal(s *Slot, slot int, wk waitKey) {
	q := s.waiters[wk]
	if q == nil || q.ready {
		return
	}
	q.ready = true
	w := e.Worker(s.owner)
	w.ready = append(w.ready, readyKey{slot, wk})
}

// SignalDB marks every key of database db that has waiters as ready (for
// SWAPDB: the swapped-in database may hold what they wait for). The caller
// holds every worker.
func (e *Engine) SignalDB(db int) {
	for i := range e.slots {
		s := &e.slots[i]
		for wk := range s.waiters {
			if wk.db == db {
				e.signal(s, i, wk)
			}
		}
	}
}

// Worker returns the worker running the job that owns this DB value (nil
// for a DB made outside a job).
func (d *DB) Worker() *Worker { return d.w }

// BlockedClients is the number of registered waiters nobody has claimed
// yet: INFO's blocked_clients.
func (e *Engine) BlockedClients() int64 { return e.blocked.Load() }

// serveReady serves the keys signalled ready by the jobs just run. It runs
// on the worker between jobs; serving may signal more keys (BLMOVE pushes
// into its destination), which are served in the same call.
func (w *Worker) serveReady() {
	for len(w.ready) > 0 {
		list := w.ready
		w.ready = w.readySpare[:0]
		for _, rk := range list {
			w.serveKey(rk.slot, rk.wk, w.id, w.id)
		}
		clear(list)
		w.readySpare = list[:0]
	}
}

// serveKey serves the waiters of wk in slot, in the order they blocked,
// while the key holds something for them. Workers a and b are held (equal
// outside a barrier). A waiter that also needs another worker stops the
// walk and hands the key over to a barrier with that worker.
func (w *Worker) serveKey(slot int, wk waitKey, a, b int) {
	e := w.e
	s := &e.slots[slot]
	q := s.waiters[wk]
	if q == nil {
		return
	}
	q.ready = false
	if q.handoff {
		return // the barrier already submitted serves it
	}
	d := DB{e: e, w: w, idx: wk.db}
	key := []byte(wk.key)
	for i := 0; i < len(q.ws); {
		wt := q.ws[i]
		if wt.Claimed() {
			q.ws = removeAt(q.ws, i)
			continue
		}
		if !e.waiterReady(wt, &d, key) {
			i++
			continue
		}
		if wt.Target != nil {
			// Whether a held worker owns the target's slot: the slot map
			// may already name a worker that has not taken it over yet.
			ts := KeySlot(wt.Target)
			if !e.Worker(a).Owns(ts) && !e.Worker(b).Owns(ts) {
				q.handoff = true
				e.handoff(s.owner, ts, slot, wk)
				return
			}
		}
		q.ws = removeAt(q.ws, i)
		if !wt.Claim() {
			continue
		}
		e.serveWaiter(wt, &d, key)
		wt.Finish()
	}
	if len(q.ws) == 0 && s.waiters[wk] == q {
		delete(s.waiters, wk)
		if len(s.waiters) == 0 {
			s.waiters = nil
		}
	}
}

// handoff submits a barrier over worker a (the key's owner, running the
// caller) and the owner of target slot ts that serves wk again holding
// both. Submitting never blocks, so a worker may do it between jobs or from
// a barrier function. The target's owner is read from the slot map under
// LockMulti: a hand-off of ts to it is then queued ahead of the barrier.
// If the key's slot moves away before the barrier runs, the barrier does
// nothing: the move re-signalled the key on its new owner (migrate.go).
func (e *Engine) handoff(a, ts, slot int, wk waitKey) {
	e.LockMulti()
	b := int(e.SlotMap().Owner[ts])
	n := 2
	if b == a { // ts is on its way to a: the barrier runs after that
		n = 1
	}
	bar := NewBarrier(n, func(w *Worker) {
		if !e.Worker(a).Owns(slot) && !e.Worker(b).Owns(slot) {
			return
		}
		if q := e.slots[slot].waiters[wk]; q != nil {
			q.handoff = false
			w.serveKey(slot, wk, a, b)
		}
	})
	e.Worker(a).Submit(&Batch{Jobs: []Job{bar}})
	if n == 2 {
		e.Worker(b).Submit(&Batch{Jobs: []Job{bar}})
	}
	e.UnlockMulti()
}

// waiterReady calls wt.Ready; a panic is logged and reported as not ready.
func (e *Engine) waiterReady(wt *Waiter, d *DB, key []byte) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			e.log.Error("BUG: blocked client's Ready panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			ok = false
		}
	}()
	return wt.Ready(d, key)
}

// serveWaiter calls wt.Serve; a panic is logged (the waiter is finished
// anyway, so its client is not left waiting).
func (e *Engine) serveWaiter(wt *Waiter, d *DB, key []byte) {
	defer func() {
		if v := recover(); v != nil {
			e.log.Error("BUG: blocked client's Serve panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	wt.Serve(d, key)
}

func removeAt(ws []*Waiter, i int) []*Waiter {
	copy(ws[i:], ws[i+1:])
	ws[len(ws)-1] = nil
	return ws[:len(ws)-1]
}

// RemoveWaiter drops a finished waiter from the queues of its keys. It
// submits one job per worker owning some of the keys and does not wait:
// the caller may be any goroutine. (A waiter met before its job runs is
// skipped as claimed.) A job that finds a key's slot gone to another worker
// sends that key on to the slot's owner.
func (e *Engine) RemoveWaiter(wt *Waiter) {
	if wt.e == nil {
		return // never registered
	}
	e.removeWaiterKeys(wt, wt.Keys)
}

func (e *Engine) removeWaiterKeys(wt *Waiter, keys [][]byte) {
	sm := e.SlotMap()
	var seen [8]int
	workers := seen[:0]
	for _, key := range keys {
		o := int(sm.Owner[KeySlot(key)])
		dup := false
		for _, x := range workers {
			dup = dup || x == o
		}
		if dup {
			continue
		}
		workers = append(workers, o)
		j := removeWaiterJob{wt: wt, keys: keys}
		if len(workers) > 1 || len(keys) > 1 {
			// Several owners: each job gets the keys of its owner only.
			j.keys = nil
			for _, k := range keys {
				if int(sm.Owner[KeySlot(k)]) == o {
					j.keys = append(j.keys, k)
				}
			}
		}
		e.Worker(o).Submit(&Batch{Jobs: []Job{j}})
	}
}

// removeWaiterJob removes a waiter from the queues of keys, on the worker
// owning their slots.
type removeWaiterJob struct {
	wt   *Waiter
	keys [][]byte
}

func (j removeWaiterJob) Run(w *Worker) {
	e := w.e
	var away [][]byte
	for _, key := range j.keys {
		slot := KeySlot(key)
		if !w.Owns(slot) {
			away = append(away, key) // moved since the job was queued
			continue
		}
		s := &e.slots[slot]
		wk := waitKey{j.wt.db, string(key)}
		q := s.waiters[wk]
		if q == nil {
			continue
		}
		for i, x := range q.ws {
			if x == j.wt {
				q.ws = removeAt(q.ws, i)
				break
			}
		}
		if len(q.ws) == 0 && !q.handoff {
			delete(s.waiters, wk)
			if len(s.waiters) == 0 {
				s.waiters = nil
			}
		}
	}
	if away != nil {
		e.removeWaiterKeys(j.wt, away)
	}
}

// WaiterEntries counts the waiter registrations held in every slot,
// claimed ones not yet removed included (tests: nothing must leak). It
// runs a barrier over every worker.
func (e *Engine) WaiterEntries() int {
	var n int
	e.Do(func(*Worker) {
		for i := range e.slots {
			for _, q := range e.slots[i].waiters {
				n += len(q.ws)
			}
		}
	})
	return n
}
