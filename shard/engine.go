package shard

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Config sets up an Engine.
type Config struct {
	Workers   int                      // number of worker goroutines, >= 1
	Databases int                      // number of logical databases, >= 1
	Clock     func() int64             // Unix milliseconds; nil means the wall clock
	Logger    *slog.Logger             // nil means slog.Default()
	OnExpire  func(db int, key string) // called on the worker when a key expires
	// Hz, when set, is read before every active-expiry tick, so that
	// CONFIG SET hz takes effect at once.
	Hz func() int
	// SampleEvery is the period of the per-slot load sampler (load.go):
	// 0 means one second, a negative value switches it off (SampleLoad
	// still works).
	SampleEvery time.Duration
}

// SlotMap is an immutable snapshot of which worker owns each slot. A new
// map with a higher Epoch is published whenever ownership or the number of
// workers changes (migrate.go), right after the hand-off is queued on the
// workers concerned: a request routed with it reaches them behind it.
type SlotMap struct {
	Epoch   uint64
	Owner   [NumSlots]uint16
	Workers int // the number of workers (ids 0..Workers-1) with this map
}

// workerSet is the published list of workers. all holds every worker ever
// started, indexed by id; the first n are active. Retired workers (ids n
// and up, removed by RemoveWorker) own nothing and stay parked, so that a
// batch routed to one before its removal is still answered (sent back).
type workerSet struct {
	all []*Worker
	n   int
}

// Engine is the sharded keyspace and its workers.
type Engine struct {
	slots   [NumSlots]Slot // values: the array is allocated once with the Engine
	ws      atomic.Pointer[workerSet]
	slotmap atomic.Pointer[SlotMap]

	// adminMu serializes slot moves and worker changes (migrate.go);
	// closed is set under it by Close.
	adminMu sync.Mutex
	closed  bool
	started bool

	moves   atomic.Int64 // slots moved
	bounced atomic.Int64 // jobs sent back to their submitter after a move
	blocked atomic.Int64 // registered waiters nobody has claimed (blocking.go)

	// slotRate holds each slot's decayed operation rate (float64 bits),
	// written by the slot's owner when it samples (load.go).
	slotRate    [NumSlots]atomic.Uint64
	sampleEvery time.Duration

	// multiMu orders the submission of batches that contain Barriers, so
	// that every worker sees barriers in the same relative order.
	multiMu sync.Mutex

	// Clock returns Unix milliseconds. Tests inject their own.
	Clock    func() int64
	OnExpire func(db int, key string)
	log      *slog.Logger

	databases int
	hz        func() int
	// ActiveExpire switches the periodic expiry cycle (DEBUG SET-ACTIVE-EXPIRE).
	ActiveExpire atomic.Bool

	stop     chan struct{}
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// New builds an engine with cfg.Workers workers owning the slots round-robin.
// Call Start to run the workers.
func New(cfg Config) *Engine {
	if cfg.Workers < 1 {
		cfg.Workers = 1
	}
	if cfg.Databases < 1 {
		cfg.Databases = 16
	}
	e := &Engine{
		Clock:     cfg.Clock,
		OnExpire:  cfg.OnExpire,
		log:       cfg.Logger,
		databases: cfg.Databases,
		hz:        cfg.Hz,
		stop:      make(chan struct{}),
	}
	if e.Clock == nil {
		e.Clock = func() int64 { return time.Now().UnixMilli() }
	}
	if e.log == nil {
		e.log = slog.Default()
	}
	e.ActiveExpire.Store(true)
	e.sampleEvery = cfg.SampleEvery
	if e.sampleEvery == 0 {
		e.sampleEvery = time.Second
	}
	if cfg.Workers > MaxWorkers {
		cfg.Workers = MaxWorkers
	}
	var workers []*Worker
	for i := 0; i < cfg.Workers; i++ {
		workers = append(workers, newWorker(e, i))
	}
	m := &SlotMap{Epoch: 1, Workers: cfg.Workers}
	for s := range e.slots {
		owner := s % cfg.Workers
		e.slots[s] = Slot{ndb: int32(cfg.Databases), owner: owner}
		m.Owner[s] = uint16(owner)
		w := workers[owner]
		w.owned = append(w.owned, s)
		w.own[s>>6] |= 1 << (s & 63)
	}
	e.slotmap.Store(m)
	for _, w := range workers {
		w.nOwned.Store(int32(len(w.owned)))
	}
	e.ws.Store(&workerSet{all: workers, n: len(workers)})
	return e
}

// Start runs the worker goroutines and the active-expiry ticker (hz cycles
// per second; 0 disables the ticker).
func (e *Engine) Start(hz int) {
	e.adminMu.Lock()
	e.started = true
	for _, w := range e.ws.Load().all {
		e.startWorker(w)
	}
	e.adminMu.Unlock()
	if e.sampleEvery > 0 {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.sampleTicker(e.sampleEvery)
		}()
	}
	if hz > 0 {
		e.wg.Add(1)
		go func() {
			defer e.wg.Done()
			e.expireTicker(time.Second / time.Duration(hz))
		}()
	}
}

func (e *Engine) startWorker(w *Worker) {
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		w.loop()
	}()
}

// Close stops the workers after they drain what is queued. A slot move or
// worker change in progress finishes first.
func (e *Engine) Close() {
	e.adminMu.Lock()
	e.closed = true
	e.adminMu.Unlock()
	e.stopOnce.Do(func() { close(e.stop) })
	e.wg.Wait()
}

// Databases is the number of logical databases.
func (e *Engine) Databases() int { return e.databases }

// NumWorkers is the number of active workers (ids 0..NumWorkers()-1). It
// changes with AddWorker and RemoveWorker.
func (e *Engine) NumWorkers() int { return e.ws.Load().n }

// Worker returns worker i: an active one, or a retired one (i at or above
// NumWorkers(), removed by RemoveWorker, owning nothing) that a batch routed
// before its removal may still reach.
func (e *Engine) Worker(i int) *Worker { return e.ws.Load().all[i] }

// Workers returns the active workers, by id. The slice is a snapshot and
// must not be modified.
func (e *Engine) Workers() []*Worker {
	ws := e.ws.Load()
	return ws.all[:ws.n:ws.n]
}

// SlotMap returns the current slot→worker map. It is immutable.
func (e *Engine) SlotMap() *SlotMap { return e.slotmap.Load() }

// WorkerOf returns the worker that owns the slot of key.
func (e *Engine) WorkerOf(key []byte) int {
	return int(e.slotmap.Load().Owner[KeySlot(key)])
}

// LockMulti and UnlockMulti bracket the submission of every batch of a
// pipeline that contains a Barrier (see the package comment).
func (e *Engine) LockMulti()   { e.multiMu.Lock() }
func (e *Engine) UnlockMulti() { e.multiMu.Unlock() }

// Barrier is a job placed in the queue of every worker a multi-worker
// command touches. The last worker to reach it runs Fn while the others
// wait; then all continue. Fn may touch the slots of every held worker.
type Barrier struct {
	pending atomic.Int32
	release chan struct{}
	Fn      func(w *Worker)
}

// NewBarrier returns a barrier for n workers.
func NewBarrier(n int, fn func(w *Worker)) *Barrier {
	b := &Barrier{release: make(chan struct{}), Fn: fn}
	b.pending.Store(int32(n))
	return b
}

// Run is called by each held worker.
func (b *Barrier) Run(w *Worker) {
	if b.pending.Add(-1) != 0 {
		<-b.release
		return
	}
	defer close(b.release)
	b.Fn(w)
}

// Do runs fn on every worker at once, atomically with respect to all other
// commands, and waits for it. For keyless commands that need a consistent
// view of the whole keyspace (FLUSHALL, SWAPDB, DBSIZE from tests).
func (e *Engine) Do(fn func(w *Worker)) {
	var wg sync.WaitGroup
	e.LockMulti()
	ws := e.Workers() // under the lock: the set cannot change until submitted
	b := NewBarrier(len(ws), fn)
	for _, w := range ws {
		wg.Add(1)
		w.Submit(&Batch{Jobs: []Job{b}, Done: &wg})
	}
	e.UnlockMulti()
	wg.Wait()
}

// AllSlots lists every slot number, for functions holding every worker.
var AllSlots = func() []int {
	s := make([]int, NumSlots)
	for i := range s {
		s[i] = i
	}
	return s
}()

// SwapDB exchanges databases a and b in every slot. The caller must hold
// every worker (inside Do or an all-worker Barrier).
func (e *Engine) SwapDB(a, b int) {
	for i := range e.slots {
		s := &e.slots[i]
		ta, tb := s.get(a), s.get(b)
		if ta != nil || tb != nil {
			s.set(a, tb)
			s.set(b, ta)
		}
	}
	// Clients blocked in either database may now find their keys
	// (Redis's swapdb scans both for ready keys): blocking.go.
	e.SignalDB(a)
	e.SignalDB(b)
}

func (e *Engine) expireTicker(every time.Duration) {
	t := time.NewTimer(every)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		if e.ActiveExpire.Load() {
			for _, w := range e.Workers() {
				if w.expirePending.CompareAndSwap(false, true) {
					w.Submit(&Batch{Jobs: []Job{expireJob{}}})
				}
			}
		}
		if e.hz != nil {
			if hz := e.hz(); hz > 0 {
				every = time.Second / time.Duration(hz)
			}
		}
		t.Reset(every)
	}
}

// RunExpireCycle runs one active-expiry cycle on every worker and waits
// (tests use it with an injected clock instead of sleeping).
func (e *Engine) RunExpireCycle() {
	var wg sync.WaitGroup
	for _, w := range e.Workers() {
		wg.Add(1)
		w.Submit(&Batch{Jobs: []Job{expireJob{}}, Done: &wg})
	}
	wg.Wait()
}

// Gate is a rendezvous of n workers: Arrive blocks until all n have
// arrived. Split commands use it so that their parallel parts observe one
// instant: no worker runs anything else between the gate opening and its
// part.
type Gate struct {
	pending atomic.Int32
	open    chan struct{}
}

// NewGate returns a gate for n arrivals.
func NewGate(n int) *Gate {
	g := &Gate{open: make(chan struct{})}
	g.pending.Store(int32(n))
	return g
}

// Arrive blocks until every worker has arrived.
func (g *Gate) Arrive() {
	if g.pending.Add(-1) == 0 {
		close(g.open)
		return
	}
	<-g.open
}
