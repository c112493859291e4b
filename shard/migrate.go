package shard

import (
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Moving slots between workers, adding and removing workers.
//
// A move is in-band: one Barrier over the source(s) and the destination,
// queued under LockMulti like every multi-worker job, hands the slots over
// (adopt): while the barrier holds every worker concerned, the slots'
// owner, the workers' owned lists and bitmaps and the per-slot load
// counts change; the tables and the blocked waiters stay where they are,
// in the slot, so the hand-off costs the same for an empty slot and a
// full one. The new slot map (a higher epoch) is published under the same
// LockMulti, right after the barrier is queued, so:
//
//   - a request routed with the new map is queued behind the barrier on
//     the destination, and runs after the hand-off;
//   - a barrier or gate queued under LockMulti with the map current at
//     that moment finds every slot it routed by on the worker it routed
//     to: earlier moves are ahead of it in the queues, later ones behind;
//   - a single-worker batch routed with an older map (submitted without
//     LockMulti, or run inline by TryRun) may reach the source after the
//     hand-off. Its Batch.Epoch is then older than the worker's
//     lastChange, the worker checks each Routed job against its bitmap,
//     and sends back (Batch.Ran) the first job whose slot moved and every
//     job after it, unrun, so that its submitter routes them again with
//     the new map: nothing runs twice, nothing is lost, and per-key order
//     holds because none of the sent-back jobs ran.
//
// Removing a worker moves all its slots away in one barrier and retires
// it: it leaves the published worker list but stays parked (no CPU), to
// answer whatever was routed to it before.

// MaxWorkers bounds the number of workers.
const MaxWorkers = 1024

// Errors of the slot and worker administration.
var (
	ErrClosed        = errors.New("engine closed")
	ErrLastWorker    = errors.New("cannot remove the last worker")
	ErrTooManyWorker = fmt.Errorf("cannot run more than %d workers", MaxWorkers)
)

type slotMove struct{ slot, from, to int }

// MoveSlot moves slot to worker to (its tables and blocked clients) and
// returns once the hand-off is done. Safe from any goroutine that is not a
// worker, while traffic runs.
func (e *Engine) MoveSlot(slot, to int) error {
	return e.MoveSlots([]int{slot}, to)
}

// MoveSlots moves several slots to worker to in one hand-off (one barrier,
// one new map) and returns once it is done.
func (e *Engine) MoveSlots(slots []int, to int) error {
	for _, s := range slots {
		if s < 0 || s >= NumSlots {
			return fmt.Errorf("slot %d out of range", s)
		}
	}
	e.adminMu.Lock()
	defer e.adminMu.Unlock()
	if e.closed {
		return ErrClosed
	}
	e.LockMulti()
	sm := e.slotmap.Load()
	if to < 0 || to >= sm.Workers {
		e.UnlockMulti()
		return fmt.Errorf("worker %d out of range", to)
	}
	var moves []slotMove
	var seen [NumSlots / 64]uint64
	for _, s := range slots {
		if from := int(sm.Owner[s]); from != to && seen[s>>6]&(1<<(s&63)) == 0 {
			seen[s>>6] |= 1 << (s & 63)
			moves = append(moves, slotMove{s, from, to})
		}
	}
	if len(moves) == 0 {
		e.UnlockMulti()
		return nil
	}
	nm := *sm
	nm.Epoch++
	done := e.handOver(&nm, moves)
	e.slotmap.Store(&nm)
	e.UnlockMulti()
	done.Wait()
	e.moves.Add(int64(len(moves)))
	return nil
}

// handOver queues the barrier that carries out moves (under LockMulti, the
// caller publishes nm right after) and returns what to wait for.
func (e *Engine) handOver(nm *SlotMap, moves []slotMove) *sync.WaitGroup {
	var ids []int
	for _, m := range moves {
		nm.Owner[m.slot] = uint16(m.to)
		for _, id := range [2]int{m.from, m.to} {
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	held := make([]*Worker, len(ids))
	for i, id := range ids {
		held[i] = e.Worker(id)
	}
	epoch := nm.Epoch
	b := NewBarrier(len(held), func(*Worker) { e.adopt(moves, held, epoch) })
	wg := new(sync.WaitGroup)
	wg.Add(len(held))
	for _, w := range held {
		w.Submit(&Batch{Jobs: []Job{b}, Done: wg})
	}
	return wg
}

// adopt hands the slots over. It runs inside the move's barrier, holding
// every worker in held.
func (e *Engine) adopt(moves []slotMove, held []*Worker, epoch uint64) {
	for _, m := range moves {
		s := &e.slots[m.slot]
		from, to := e.Worker(m.from), e.Worker(m.to)
		s.owner = m.to
		bit := uint64(1) << (m.slot & 63)
		from.own[m.slot>>6] &^= bit
		to.own[m.slot>>6] |= bit
		to.owned = append(to.owned, m.slot)
		to.slotHits[m.slot] += from.slotHits[m.slot]
		from.slotHits[m.slot] = 0
		// Blocked clients stay in the slot. A key whose serving was
		// handed to a barrier of the old owner (BLMOVE to another
		// worker's key) is served again by the new owner, which that
		// barrier, finding the slot gone, leaves alone. Ready lists are
		// empty between jobs, so nothing else is in flight.
		for wk, q := range s.waiters {
			q.handoff = false
			if !q.ready {
				q.ready = true
				to.ready = append(to.ready, readyKey{m.slot, wk})
			}
		}
	}
	for _, w := range held {
		// Drop the slots that left, keeping the order of the rest.
		w.owned = slices.DeleteFunc(w.owned, func(s int) bool { return !w.Owns(s) })
		w.nOwned.Store(int32(len(w.owned)))
		w.lastChange = epoch
	}
}

// AddWorker starts worker number NumWorkers() and returns its id. It owns
// no slots until some are moved to it.
func (e *Engine) AddWorker() (int, error) {
	e.adminMu.Lock()
	defer e.adminMu.Unlock()
	if e.closed {
		return 0, ErrClosed
	}
	e.LockMulti()
	defer e.UnlockMulti()
	ws := e.ws.Load()
	id := ws.n
	if id >= MaxWorkers {
		return 0, ErrTooManyWorker
	}
	nws := &workerSet{all: ws.all, n: id + 1}
	if id == len(ws.all) {
		w := newWorker(e, id)
		nws.all = append(slices.Clip(ws.all), w)
		if e.started {
			e.startWorker(w)
		}
	}
	// A retired worker comes back as it is: parked, owning nothing.
	nm := *e.slotmap.Load()
	nm.Epoch++
	nm.Workers = id + 1
	e.ws.Store(nws)
	e.slotmap.Store(&nm)
	return id, nil
}

// RemoveWorker moves every slot of the highest-numbered worker to the
// others, round robin, in one hand-off, and retires it: it leaves the
// worker list and stays parked. Its keyspace counters (hits, misses,
// expired keys) are added to worker 0's.
func (e *Engine) RemoveWorker() error {
	e.adminMu.Lock()
	defer e.adminMu.Unlock()
	if e.closed {
		return ErrClosed
	}
	e.LockMulti()
	ws := e.ws.Load()
	n := ws.n
	if n <= 1 {
		e.UnlockMulti()
		return ErrLastWorker
	}
	victim := n - 1
	sm := e.slotmap.Load()
	nm := *sm
	nm.Epoch++
	nm.Workers = n - 1
	var moves []slotMove
	for s := 0; s < NumSlots; s++ {
		if int(sm.Owner[s]) == victim {
			moves = append(moves, slotMove{s, victim, len(moves) % (n - 1)})
		}
	}
	var done *sync.WaitGroup
	if len(moves) > 0 {
		done = e.handOver(&nm, moves)
	}
	e.ws.Store(&workerSet{all: ws.all, n: n - 1})
	e.slotmap.Store(&nm)
	e.UnlockMulti()
	if done != nil {
		done.Wait()
	}
	e.moves.Add(int64(len(moves)))
	v, w0 := &ws.all[victim].Stats, &ws.all[0].Stats
	w0.hits.Add(v.hits.Swap(0))
	w0.misses.Add(v.misses.Swap(0))
	w0.expired.Add(v.expired.Swap(0))
	return nil
}

// keyJob runs fn for RunOnKey(s) on the worker owning every slot.
type keyJob struct {
	slot  int
	slots []int // when several
	fn    func(w *Worker)
}

func (j *keyJob) Run(w *Worker) { j.fn(w) }

func (j *keyJob) RoutedTo(w *Worker) bool {
	if j.slots == nil {
		return w.Owns(j.slot)
	}
	for _, s := range j.slots {
		if !w.Owns(s) {
			return false
		}
	}
	return true
}

// RunOnKey runs fn on the worker that owns key's slot and waits. When the
// slot moves before fn runs, the job follows it. Callable from any
// goroutine that is not a worker (IO goroutines, tickers).
func (e *Engine) RunOnKey(key []byte, fn func(w *Worker)) {
	j := &keyJob{slot: KeySlot(key), fn: fn}
	for !e.runOn(j, e.SlotMap()) {
	}
}

// runOn runs a single-worker job on the owner of its first slot in sm and
// reports whether it ran (false: a slot had moved; route it again).
func (e *Engine) runOn(j *keyJob, sm *SlotMap) bool {
	var wg sync.WaitGroup
	b := Batch{Jobs: []Job{j}, Done: &wg, Epoch: sm.Epoch}
	owner := j.slot
	if j.slots != nil {
		owner = j.slots[0]
	}
	w := e.Worker(int(sm.Owner[owner]))
	wg.Add(1)
	if !w.TryRun(&b) {
		w.Submit(&b)
	}
	wg.Wait()
	return b.Ran == 1
}

// RunOnKeys runs fn holding every worker that owns a slot of keys, as a
// Barrier does (fn runs once, on one of them, and may touch every key),
// and waits; with no keys it holds every worker. Correct while slots move.
// Callable from any goroutine that is not a worker.
func (e *Engine) RunOnKeys(keys [][]byte, fn func(w *Worker)) {
	if len(keys) == 0 {
		e.Do(fn)
		return
	}
	slots := make([]int, len(keys))
	for i, k := range keys {
		slots[i] = KeySlot(k)
	}
	j := &keyJob{slots: slots, fn: fn}
	for {
		sm := e.SlotMap()
		one := true
		for _, s := range slots[1:] {
			one = one && sm.Owner[s] == sm.Owner[slots[0]]
		}
		if !one {
			break
		}
		if e.runOn(j, sm) {
			return
		}
	}
	// Several owners: a barrier queued under LockMulti with the map
	// current then finds every slot where the map says.
	e.LockMulti()
	sm := e.SlotMap()
	var ids []int
	for _, s := range slots {
		if o := int(sm.Owner[s]); !slices.Contains(ids, o) {
			ids = append(ids, o)
		}
	}
	var wg sync.WaitGroup
	b := NewBarrier(len(ids), fn)
	wg.Add(len(ids))
	for _, id := range ids {
		e.Worker(id).Submit(&Batch{Jobs: []Job{b}, Done: &wg})
	}
	e.UnlockMulti()
	wg.Wait()
}
