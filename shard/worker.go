package shard

import (
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// Job is one unit of work run on a worker goroutine.
type Job interface {
	Run(w *Worker)
}

// Batch is the jobs one submitter hands one worker at once: a pipeline's
// commands for that worker, in order. The worker runs them in order, sets
// Ran and then calls Done.Done() (when Done is not nil). After that it never
// touches the batch again, so the submitter may reuse it.
type Batch struct {
	Jobs []Job
	Done *sync.WaitGroup
	// Epoch is the epoch of the slot map the jobs were routed with, 0 when
	// they were not routed by slot. A batch routed before a slot of this
	// worker moved away is checked job by job (see Routed). A batch that
	// holds a Barrier or a Gate must be submitted under LockMulti with the
	// map current then: such a batch is never stale (migrate.go).
	Epoch uint64
	// Ran is written by the worker: how many jobs it ran. When it is less
	// than len(Jobs), Jobs[Ran] reached this worker after one of its slots
	// had moved away, and neither it nor any later job of the batch ran:
	// the submitter routes Jobs[Ran:] again, in order, with the current
	// slot map (which keeps per-key order: none of them has run).
	Ran int
}

// Routed is a job the submitter routed to a worker by the slots of its
// keys. In a batch routed with a slot map older than the worker's last
// ownership change, the worker asks each Routed job whether it still owns
// every slot the job touches (RoutedTo calls Worker.Owns); at the first
// that says no, it stops the batch (Batch.Ran). Other jobs always run.
type Routed interface {
	Job
	RoutedTo(w *Worker) bool
}

// WorkerStats are a worker's counters, readable from any goroutine.
type WorkerStats struct {
	Jobs         atomic.Int64 // jobs run
	Batches      atomic.Int64 // batches run
	BusyNanos    atomic.Int64 // time spent running batches
	expired      atomic.Int64
	hits         atomic.Int64
	misses       atomic.Int64
	ExpireCycles atomic.Int64
}

// Expired, Hits and Misses are the keyspace counters (expired_keys,
// keyspace_hits, keyspace_misses) this worker contributed.
func (s *WorkerStats) Expired() int64 { return s.expired.Load() }
func (s *WorkerStats) Hits() int64    { return s.hits.Load() }
func (s *WorkerStats) Misses() int64  { return s.misses.Load() }

// ResetKeyspace clears hits and misses (CONFIG RESETSTAT).
func (s *WorkerStats) ResetKeyspace() {
	s.hits.Store(0)
	s.misses.Store(0)
	s.expired.Store(0)
}

// Worker owns a set of slots and runs the jobs submitted to it, one at a
// time, in submission order.
type Worker struct {
	id int
	e  *Engine

	// exec is held by whoever runs this worker's jobs: its own goroutine
	// for a drain, or an IO goroutine running an idle worker's batch inline
	// (TryRun). It gives both the same exclusive access to the slots and the
	// happens-before edges between them.
	exec sync.Mutex

	mu     sync.Mutex // guards queue and parked
	queue  []*Batch
	parked bool
	spare  []*Batch // only the worker goroutine touches it
	wake   chan struct{}

	owned    []int // slots this worker owns; worker-local
	nOwned   atomic.Int32
	drainNow int64 // clock reading at the start of the current drain

	// own is the bitmap of owned slots and lastChange the epoch of the
	// last ownership change this worker took part in. Both are written
	// only by a slot hand-off holding the worker (migrate.go) and read by
	// whoever runs the worker's jobs.
	own        [NumSlots / 64]uint64
	lastChange uint64

	// slotHits counts the key lookups per slot since the last load sample
	// (load.go); worker-local, so counting costs one increment.
	slotHits      *[NumSlots]uint32
	lastSample    time.Time
	samplePending atomic.Bool
	sampleBatch   Batch // the sampler's batch (load.go), reused
	sampleJobs    [1]Job

	expireCursor  int
	expirePending atomic.Bool

	ready, readySpare []readyKey   // keys with waiters signalled by the current job (blocking.go)
	blocked           atomic.Int64 // waiters registered here not yet claimed (blocking.go)

	Stats WorkerStats
}

func newWorker(e *Engine, id int) *Worker {
	w := &Worker{id: id, e: e, wake: make(chan struct{}, 1), slotHits: new([NumSlots]uint32), lastSample: time.Now()}
	w.sampleJobs[0] = sampleJob{pending: true}
	w.sampleBatch.Jobs = w.sampleJobs[:]
	return w
}

// Owns reports whether the worker owns slot. Only the worker itself (a job
// running on it) or a function holding it through a barrier may call it.
func (w *Worker) Owns(slot int) bool {
	return w.own[slot>>6]&(1<<(slot&63)) != 0
}

// ID is the worker's index.
func (w *Worker) ID() int { return w.id }

// Engine returns the worker's engine.
func (w *Worker) Engine() *Engine { return w.e }

// Owned returns the slots the worker owns. Only the worker itself (or a
// function holding it through a barrier) may call it.
func (w *Worker) Owned() []int { return w.owned }

// NumOwned is the number of slots the worker owns, readable from any
// goroutine.
func (w *Worker) NumOwned() int { return int(w.nOwned.Load()) }

// QueueLen is the number of batches waiting.
func (w *Worker) QueueLen() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return len(w.queue)
}

// Submit queues a batch: one hand-off, whatever the number of jobs.
func (w *Worker) Submit(b *Batch) {
	w.mu.Lock()
	w.queue = append(w.queue, b)
	wake := w.parked
	w.parked = false
	w.mu.Unlock()
	if wake {
		select {
		case w.wake <- struct{}{}:
		default:
		}
	}
}

// monoBase anchors monoNanos.
var monoBase = time.Now()

// monoNanos reads the monotonic clock only (one clock read; time.Now
// takes two, wall and monotonic): for the busy-time counters.
func monoNanos() int64 { return int64(time.Since(monoBase)) }

func (w *Worker) now() int64 {
	if w.drainNow == 0 {
		w.drainNow = w.e.Clock()
	}
	return w.drainNow
}

// loop drains the queue until the engine stops; it parks (blocks on wake)
// whenever the queue is empty, so an idle worker burns no CPU.
func (w *Worker) loop() {
	for {
		w.mu.Lock()
		for len(w.queue) == 0 {
			w.parked = true
			w.mu.Unlock()
			select {
			case <-w.wake:
			case <-w.e.stop:
				return
			}
			w.mu.Lock()
		}
		w.mu.Unlock()
		// exec before the queue: a TryRun caller then sees either batches
		// still queued (and backs off) or nothing taken and not yet run,
		// so an inline batch never overtakes a queued one (a slot
		// hand-off, say), which is what makes Batch.Epoch checks sound.
		// Only this goroutine takes from the queue: it is still non-empty.
		w.exec.Lock()
		w.mu.Lock()
		q := w.queue
		w.queue = w.spare[:0]
		w.mu.Unlock()

		start := monoNanos()
		w.drainNow = 0
		jobs := 0
		for _, b := range q {
			jobs += w.runBatch(b)
		}
		w.Stats.BusyNanos.Add(monoNanos() - start)
		w.Stats.Jobs.Add(int64(jobs))
		w.Stats.Batches.Add(int64(len(q)))
		w.exec.Unlock()
		clear(q)
		w.spare = q
	}
}

// TryRun is the inline fast path: when the worker is idle (nobody runs its
// jobs and nothing is queued) the caller runs b on its own goroutine,
// saving the two goroutine hand-offs of Submit and wait. It reports false,
// having touched nothing, when b must be submitted instead.
//
// b must not hold a Barrier or a Gate (they wait for other workers and
// would stall an IO goroutine holding exec). Running b ahead of batches
// queued later is what Submit would have done; skipping ahead of nothing
// keeps the worker's order FIFO. b.Done, when set, is called as usual.
func (w *Worker) TryRun(b *Batch) bool {
	if !w.exec.TryLock() {
		return false
	}
	w.mu.Lock()
	idle := len(w.queue) == 0
	w.mu.Unlock()
	if !idle {
		w.exec.Unlock()
		return false
	}
	start := monoNanos()
	w.drainNow = 0
	n := w.runBatch(b)
	w.Stats.BusyNanos.Add(monoNanos() - start)
	w.Stats.Jobs.Add(int64(n))
	w.Stats.Batches.Add(1)
	w.exec.Unlock()
	return true
}

func (w *Worker) runBatch(b *Batch) int {
	n := len(b.Jobs) // read before Done: the submitter reuses b once released
	if b.Epoch != 0 && b.Epoch < w.lastChange {
		// Routed before one of this worker's slots moved: check each job.
		n = w.runChecked(b)
	} else {
		for _, j := range b.Jobs {
			w.runJob(j)
			if len(w.ready) > 0 {
				w.serveReady() // blocked clients the job's writes can serve (blocking.go)
			}
		}
	}
	b.Ran = n
	if b.Done != nil {
		b.Done.Done()
	}
	return n
}

// runChecked runs a batch routed with an old slot map: it stops at the
// first Routed job whose slots are not all this worker's, and returns how
// many jobs ran.
func (w *Worker) runChecked(b *Batch) int {
	for i, j := range b.Jobs {
		if r, ok := j.(Routed); ok && !w.routedHere(r) {
			w.e.bounced.Add(int64(len(b.Jobs) - i))
			return i
		}
		w.runJob(j)
		if len(w.ready) > 0 {
			w.serveReady()
		}
	}
	return len(b.Jobs)
}

// routedHere calls r.RoutedTo; a panic counts as "here" (the job then runs
// and reports its own failure).
func (w *Worker) routedHere(r Routed) (ok bool) {
	defer func() {
		if v := recover(); v != nil {
			w.e.log.Error("BUG: RoutedTo panicked", "worker", w.id, "panic", fmt.Sprint(v))
			ok = true
		}
	}()
	return r.RoutedTo(w)
}

// runJob runs one job. Jobs recover their own panics (a command's bug
// becomes its error reply); reaching the recover here is a bug in the job
// plumbing, and the worker logs it and goes on with the next job so that
// the batch's submitter and any barrier partners are still released.
func (w *Worker) runJob(j Job) {
	defer func() {
		if v := recover(); v != nil {
			w.e.log.Error("BUG: worker job panicked", "worker", w.id, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
	}()
	j.Run(w)
}

type expireJob struct{}

func (expireJob) Run(w *Worker) {
	w.expirePending.Store(false)
	w.ActiveExpireCycle()
}

// Active expiry effort, after Redis's ACTIVE_EXPIRE_CYCLE_*: sample up to
// expireSample volatile keys per round, run another round while more than
// a tenth of the sample had expired, and stop after expireBudget.
const (
	expireSample = 200
	expireBudget = 25 * time.Millisecond
)

// ActiveExpireCycle reclaims expired keys of the worker's slots. The walk
// resumes where the previous cycle stopped, so every volatile key is
// visited eventually; within one table Go's randomized map order makes it
// a sample. Slots without volatile keys cost one load each. Runs on the
// worker.
func (w *Worker) ActiveExpireCycle() {
	w.Stats.ExpireCycles.Add(1)
	if len(w.owned) == 0 {
		return
	}
	start := time.Now()
	now := w.e.Clock()
	for {
		checked, expired := 0, 0
		for visited := 0; visited < len(w.owned) && checked < expireSample; visited++ {
			if w.expireCursor >= len(w.owned) {
				w.expireCursor = 0
			}
			s := &w.e.slots[w.owned[w.expireCursor]]
			w.expireCursor++
			if s.nvol == 0 {
				continue
			}
			for db := 0; db < int(s.ndb) && checked < expireSample; db++ {
				t := s.get(db)
				if t == nil || len(t.vol) == 0 {
					continue
				}
				for o := range t.vol {
					checked++
					if o.Expire == 0 { // stale bookkeeping; cannot happen
						t.unvol(o)
						continue
					}
					if o.Expire <= now {
						_, h := keyHashString(o.key())
						if i := t.findObj(o, h); i >= 0 {
							d := DB{e: w.e, w: w, idx: db, now: now}
							d.expireAt(t, i)
							expired++
						} else { // not in the table; cannot happen
							t.unvol(o)
						}
					}
					if checked >= expireSample {
						break
					}
				}
				t.shrink()
			}
		}
		if checked == 0 || expired*10 <= checked || time.Since(start) > expireBudget {
			return
		}
	}
}
