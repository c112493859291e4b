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
// commands for that worker, in order. The worker runs them in order and then
// calls Done.Done() (when Done is not nil). After that it never touches the
// batch again, so the submitter may reuse it.
type Batch struct {
	Jobs []Job
	Done *sync.WaitGroup
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

	expireCursor  int
	expirePending atomic.Bool

	ready, readySpare []readyKey   // keys with waiters signalled by the current job (blocking.go)
	blocked           atomic.Int64 // waiters registered here not yet claimed (blocking.go)

	Stats WorkerStats
}

func newWorker(e *Engine, id int) *Worker {
	return &Worker{id: id, e: e, wake: make(chan struct{}, 1)}
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
		q := w.queue
		w.queue = w.spare[:0]
		w.mu.Unlock()

		w.exec.Lock()
		start := time.Now()
		w.drainNow = 0
		jobs := 0
		for _, b := range q {
			jobs += w.runBatch(b)
		}
		w.Stats.BusyNanos.Add(int64(time.Since(start)))
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
	start := time.Now()
	w.drainNow = 0
	n := w.runBatch(b)
	w.Stats.BusyNanos.Add(int64(time.Since(start)))
	w.Stats.Jobs.Add(int64(n))
	w.Stats.Batches.Add(1)
	w.exec.Unlock()
	return true
}

func (w *Worker) runBatch(b *Batch) int {
	n := len(b.Jobs) // read before Done: the submitter reuses b once released
	for _, j := range b.Jobs {
		w.runJob(j)
		if len(w.ready) > 0 {
			w.serveReady() // blocked clients the job's writes can serve (blocking.go)
		}
	}
	if b.Done != nil {
		b.Done.Done()
	}
	return n
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
// visited eventually; within one slot Go's randomized map order makes it a
// sample. Runs on the worker.
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
			for db := 0; db <= len(s.dbs); db++ {
				t := s.storage(db)
				if len(t.vol) == 0 {
					continue
				}
				for k := range t.vol {
					checked++
					o := t.m[k]
					if o == nil || o.Expire == 0 { // stale bookkeeping; cannot happen
						delete(t.vol, k)
						continue
					}
					if o.Expire <= now {
						d := DB{e: w.e, w: w, idx: db, now: now}
						d.expire(t, k)
						expired++
					}
					if checked >= expireSample {
						break
					}
				}
			}
		}
		if checked == 0 || expired*10 <= checked || time.Since(start) > expireBudget {
			return
		}
	}
}
