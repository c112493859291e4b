package shard

import (
	"math"
	"slices"
	"sync"
	"time"
)

// Load measurement, for the balancer (balance.go) and INFO.
//
// Per worker the counters in WorkerStats (jobs, batches, busy time) are
// cumulative atomics; LoadStats snapshots them with the queue depth and
// the number of owned slots. Per slot, the owning worker counts key lookups
// in a worker-local array (DB.lookup: one increment, no shared write on
// the hot path); every SampleEvery a sample job on each worker folds its
// slots' counts into a decayed rate (ops per second, half-life one
// second) that anyone can read (SlotOps, HotSlots). The counts of a slot
// move with it.

// slotRateHalfLife is the half-life of the decayed per-slot rate.
const slotRateHalfLife = time.Second

// WorkerLoad is one worker's load counters (cumulative: take differences).
type WorkerLoad struct {
	ID        int
	Jobs      int64 // jobs run
	Batches   int64 // batches run
	BusyNanos int64 // time spent running jobs (the rest of the time it is parked or waiting for its exec lock)
	QueueLen  int   // batches waiting now
	Owned     int   // slots owned now
}

// SlotLoad is one slot's decayed operation rate and its owner.
type SlotLoad struct {
	Slot, Worker int
	Ops          float64
}

// LoadStats returns the active workers' load counters, by id.
func (e *Engine) LoadStats() []WorkerLoad {
	ws := e.Workers()
	out := make([]WorkerLoad, len(ws))
	for i, w := range ws {
		out[i] = w.load()
	}
	return out
}

func (w *Worker) load() WorkerLoad {
	return WorkerLoad{
		ID:        w.id,
		Jobs:      w.Stats.Jobs.Load(),
		Batches:   w.Stats.Batches.Load(),
		BusyNanos: w.Stats.BusyNanos.Load(),
		QueueLen:  w.QueueLen(),
		Owned:     w.NumOwned(),
	}
}

// appendSlotLoads appends every slot with a non-zero rate to dst, in slot
// order (the balancer's periodic snapshot: no sorting, no allocation once
// dst has grown).
func (e *Engine) appendSlotLoads(dst []SlotSnap) []SlotSnap {
	sm := e.SlotMap()
	for s := range NumSlots {
		if bits := e.slotRate[s].Load(); bits != 0 {
			if ops := math.Float64frombits(bits); ops > 0 {
				dst = append(dst, SlotSnap{Slot: s, Worker: int(sm.Owner[s]), Ops: ops})
			}
		}
	}
	return dst
}

// SlotOps is slot's decayed operation rate (key lookups per second, as of
// the last sample).
func (e *Engine) SlotOps(slot int) float64 {
	if slot < 0 || slot >= NumSlots {
		return 0
	}
	return math.Float64frombits(e.slotRate[slot].Load())
}

// HotSlots returns up to n slots with the highest rates, busiest first,
// among the slots of worker (-1: every worker). Idle slots are left out.
func (e *Engine) HotSlots(n int, worker int) []SlotLoad {
	if n <= 0 {
		return nil
	}
	sm := e.SlotMap()
	var out []SlotLoad
	for s := 0; s < NumSlots; s++ {
		if worker >= 0 && int(sm.Owner[s]) != worker {
			continue
		}
		ops := math.Float64frombits(e.slotRate[s].Load())
		if ops <= 0 {
			continue
		}
		out = append(out, SlotLoad{Slot: s, Worker: int(sm.Owner[s]), Ops: ops})
	}
	slices.SortFunc(out, func(a, b SlotLoad) int {
		switch {
		case a.Ops > b.Ops:
			return -1
		case a.Ops < b.Ops:
			return 1
		}
		return a.Slot - b.Slot
	})
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// SlotMoves is the number of slots moved so far.
func (e *Engine) SlotMoves() int64 { return e.moves.Load() }

// Bounced is the number of jobs that reached a worker after their slot had
// moved away and went back to their submitter to be routed again.
func (e *Engine) Bounced() int64 { return e.bounced.Load() }

// SampleLoad folds every worker's per-slot counts into the decayed rates
// now and waits (tests and callers that do not want to wait for the
// sampler's period).
func (e *Engine) SampleLoad() {
	var wg sync.WaitGroup
	for _, w := range e.Workers() {
		wg.Add(1)
		w.Submit(&Batch{Jobs: []Job{sampleJob{}}, Done: &wg})
	}
	wg.Wait()
}

func (e *Engine) sampleTicker(every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-t.C:
		}
		for _, w := range e.Workers() {
			if w.samplePending.CompareAndSwap(false, true) {
				// The worker's own batch: at most one is pending, and
				// only the worker goroutine touches it once queued.
				w.Submit(&w.sampleBatch)
			}
		}
	}
}

type sampleJob struct{ pending bool }

func (j sampleJob) Run(w *Worker) {
	if j.pending {
		w.samplePending.Store(false)
	}
	w.sample(time.Now())
}

// sample folds the worker's per-slot counts into the slots' rates. Runs on
// the worker.
func (w *Worker) sample(now time.Time) {
	dt := now.Sub(w.lastSample).Seconds()
	w.lastSample = now
	if dt <= 0 {
		dt = 1e-3
	}
	keep := math.Exp2(-dt / slotRateHalfLife.Seconds())
	hits := w.slotHits
	for _, s := range w.owned {
		h := hits[s]
		old := w.e.slotRate[s].Load()
		if h == 0 && old == 0 {
			continue
		}
		hits[s] = 0
		rate := math.Float64frombits(old)*keep + float64(h)/dt*(1-keep)
		if rate < 1e-3 {
			rate = 0
		}
		w.e.slotRate[s].Store(math.Float64bits(rate))
	}
	// What is left counted slots of other workers (barrier functions run
	// on one worker for all): dropped.
	clear(hits[:])
}
