package shard

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// WorkerCounters are one worker's cumulative counters, as sampled.
type WorkerCounters struct {
	ID        int
	Jobs      int64
	BusyNanos int64
	QueueLen  int
	Owned     int
}

// BalanceTarget is what the runner drives: the engine (engineTarget) or a
// test double.
type BalanceTarget interface {
	Counters() []WorkerCounters
	SlotLoads() []SlotSnap
	MoveSlots(slots []int, to int) error
	AddWorker() (int, error)
	RemoveWorker() error
}

// engineTarget drives an Engine.
type engineTarget struct{ e *Engine }

func (t engineTarget) Counters() []WorkerCounters {
	ls := t.e.LoadStats()
	out := make([]WorkerCounters, len(ls))
	for i, l := range ls {
		out[i] = WorkerCounters{ID: l.ID, Jobs: l.Jobs, BusyNanos: l.BusyNanos, QueueLen: l.QueueLen, Owned: l.Owned}
	}
	return out
}

func (t engineTarget) SlotLoads() []SlotSnap {
	hs := t.e.HotSlots(NumSlots, -1)
	out := make([]SlotSnap, len(hs))
	for i, h := range hs {
		out[i] = SlotSnap{Slot: h.Slot, Worker: h.Worker, Ops: h.Ops}
	}
	return out
}

func (t engineTarget) MoveSlots(slots []int, to int) error { return t.e.MoveSlots(slots, to) }
func (t engineTarget) AddWorker() (int, error)             { return t.e.AddWorker() }
func (t engineTarget) RemoveWorker() error                 { return t.e.RemoveWorker() }

// reusingTarget is the engine target the runner uses: it fills the same
// buffers on every sample, so a periodic pass allocates nothing for its
// snapshot. The slices it returns are valid until its next call, which is
// all the runner needs (it calls them under its mutex and keeps nothing).
type reusingTarget struct {
	engineTarget
	cs    []WorkerCounters
	slots []SlotSnap
}

func (t *reusingTarget) Counters() []WorkerCounters {
	t.cs = t.cs[:0]
	for _, w := range t.e.Workers() {
		l := w.load()
		t.cs = append(t.cs, WorkerCounters{ID: l.ID, Jobs: l.Jobs, BusyNanos: l.BusyNanos, QueueLen: l.QueueLen, Owned: l.Owned})
	}
	return t.cs
}

func (t *reusingTarget) SlotLoads() []SlotSnap {
	t.slots = t.e.appendSlotLoads(t.slots[:0])
	return t.slots
}

// NewEngineBalancer returns a runner driving e (see NewBalanceRunner).
func NewEngineBalancer(e *Engine, conf func() (BalanceConfig, time.Duration), log *slog.Logger,
	onChange func(workers int)) *BalanceRunner {
	return NewBalanceRunner(&reusingTarget{engineTarget: engineTarget{e}}, conf, log, nil, onChange)
}

// BalanceStats is what INFO and WORKERS LIST show.
type BalanceStats struct {
	Workers      []WorkerSnap // rates over the last sampling interval
	Interval     time.Duration
	Passes       int64 // policy evaluations
	Moves        int64 // slots moved by the balancer and the scaler
	ManualMoves  int64 // WORKERS MOVE
	FailedMoves  int64
	ScaleUps     int64
	ScaleDowns   int64
	MoveCost     time.Duration // measured mean cost of one move
	Last         Decision      // the last decision
	LastAction   Decision      // the last decision that did something
	LastActionOK bool
}

// BalanceRunner samples a target, runs the policy and applies decisions.
// Every method is safe for concurrent use.
type BalanceRunner struct {
	t        BalanceTarget
	conf     func() (BalanceConfig, time.Duration) // read before every pass
	log      *slog.Logger
	now      func() time.Time
	onChange func(workers int) // called after the worker count changed

	mu       sync.Mutex
	pol      *Balancer
	prev     []WorkerCounters // counters at prevAt (by position; looked up by ID)
	next     []WorkerCounters // the spare buffer sample swaps with prev
	prevAt   time.Time
	st       BalanceStats
	moveCost time.Duration // EWMA of measured MoveSlot time
	started  bool
	closed   bool

	lastStuckLog time.Time
	lastNoneKind string // kind of the last "nothing to do" logged at info (apply)

	stop     chan struct{}
	kick     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

// NewBalanceRunner returns a runner for t. conf returns the policy and the
// sampling interval (0 = no automatic passes); now is the clock (nil: the
// wall clock); onChange, when set, hears about worker count changes.
func NewBalanceRunner(t BalanceTarget, conf func() (BalanceConfig, time.Duration), log *slog.Logger,
	now func() time.Time, onChange func(workers int)) *BalanceRunner {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	cfg, _ := conf()
	r := &BalanceRunner{t: t, conf: conf, log: log, now: now, onChange: onChange,
		pol: NewBalancer(cfg), stop: make(chan struct{}), kick: make(chan struct{}, 1), done: make(chan struct{})}
	r.mu.Lock()
	r.sample() // baseline
	r.mu.Unlock()
	return r
}

// Start runs the sampling loop until Close. Calls after the first, or
// after Close, do nothing.
func (r *BalanceRunner) Start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.started || r.closed {
		return
	}
	r.started = true
	go r.loop()
}

// Kick wakes the loop (after a configuration change).
func (r *BalanceRunner) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Close stops the loop and waits for it.
func (r *BalanceRunner) Close() {
	r.stopOnce.Do(func() {
		r.mu.Lock()
		r.closed = true
		started := r.started
		r.mu.Unlock()
		close(r.stop)
		if started {
			<-r.done
		}
	})
}

func (r *BalanceRunner) loop() {
	defer close(r.done)
	tm := time.NewTimer(time.Hour)
	for {
		_, every := r.conf()
		wait := every
		if wait <= 0 {
			wait = time.Second // off: only wake to notice it switched on
		}
		tm.Reset(wait) // Go >= 1.23: no stale tick survives Stop/Reset
		select {
		case <-r.stop:
			tm.Stop()
			return
		case <-r.kick:
			tm.Stop()
			continue
		case <-tm.C:
		}
		if every > 0 {
			r.Tick()
		}
	}
}

// Tick is one automatic pass: sample, decide (scaler, then balancer),
// apply.
func (r *BalanceRunner) Tick() Decision {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, every := r.conf()
	r.st.Interval = every
	r.setConfig(cfg)
	snap := r.sample()
	d := r.pol.Decide(snap)
	r.apply(d)
	return d
}

// BalanceNow is WORKERS BALANCE: one balancing pass now over the figures
// since the previous sample.
func (r *BalanceRunner) BalanceNow() Decision {
	r.mu.Lock()
	defer r.mu.Unlock()
	cfg, _ := r.conf()
	cfg.Balance = true
	r.setConfig(cfg)
	snap := r.sample()
	d := r.pol.BalanceNow(snap)
	r.apply(d)
	return d
}

// Refresh samples now when no automatic pass runs (interval 0), so that
// WORKERS LIST shows rates since the previous look; it returns the stats.
func (r *BalanceRunner) Refresh() BalanceStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, every := r.conf(); every <= 0 || r.now().Sub(r.prevAt) > 3*every {
		r.sample()
	}
	return r.statsLocked()
}

// Stats returns the counters and the last figures.
func (r *BalanceRunner) Stats() BalanceStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.statsLocked()
}

func (r *BalanceRunner) statsLocked() BalanceStats {
	st := r.st
	st.Workers = append([]WorkerSnap(nil), r.st.Workers...)
	st.MoveCost = r.moveCost
	return st
}

// Move is WORKERS MOVE: one slot to one worker, now.
func (r *BalanceRunner) Move(slot, to int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.timedMove([]int{slot}, to); err != nil {
		return err
	}
	r.st.ManualMoves++
	r.log.Info("slot moved by WORKERS MOVE", "slot", slot, "to", to)
	return nil
}

// SetWorkers adds or drains workers until there are n (CONFIG SET workers).
func (r *BalanceRunner) SetWorkers(n int) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	cur := len(r.t.Counters())
	if n < 1 {
		return errors.New("workers must be at least 1")
	}
	if n == cur {
		return nil
	}
	kind := DecideAdd
	if n < cur {
		kind = DecideRemove
	}
	for cur < n {
		if _, err := r.t.AddWorker(); err != nil {
			return err
		}
		cur++
		r.st.ScaleUps++
		// Give the new worker an even share of the slots (by count; the
		// balancer evens the load afterwards).
		r.spreadTo(cur - 1)
	}
	for cur > n {
		if err := r.t.RemoveWorker(); err != nil {
			return err
		}
		cur--
		r.st.ScaleDowns++
	}
	d := Decision{Kind: kind, Worker: n - 1, Reason: fmt.Sprintf("CONFIG SET workers %d", n), At: r.now()}
	r.st.Last, r.st.LastAction, r.st.LastActionOK = d, d, true
	r.log.Info("worker count set", "workers", n)
	if r.onChange != nil {
		r.onChange(cur)
	}
	r.pol.lastScale = r.now() // the scaler lets the new shape settle
	return nil
}

// spreadTo moves every (id+1)-th slot from the others to worker id, so
// that it owns about 1/(id+1) of the slots.
func (r *BalanceRunner) spreadTo(id int) {
	var slots []int
	for s := id; s < NumSlots; s += id + 1 {
		slots = append(slots, s)
	}
	if err := r.timedMove(slots, id); err == nil {
		r.st.Moves += int64(len(slots))
	}
}

func (r *BalanceRunner) setConfig(cfg BalanceConfig) {
	if r.moveCost > cfg.MoveCost {
		cfg.MoveCost = r.moveCost
	}
	r.pol.Cfg = cfg
}

// sample reads the counters and turns their differences since the previous
// sample into per-worker rates.
//
// It reuses its buffers (r.st.Workers, prev/next): statsLocked copies the
// workers out, and Decide keeps nothing of the snapshot.
func (r *BalanceRunner) sample() Snapshot {
	now := r.now()
	cs := r.t.Counters()
	dt := now.Sub(r.prevAt)
	ws := r.st.Workers[:0]
	next := append(r.next[:0], cs...)
	for i, c := range cs {
		ws = append(ws, WorkerSnap{ID: c.ID, Queue: c.QueueLen, Owned: c.Owned})
		p, ok := r.prevOf(i, c.ID)
		if !ok || r.prevAt.IsZero() || dt <= 0 {
			continue
		}
		// Counters reset (CONFIG RESETSTAT) or a new worker with the same
		// id: count from zero.
		busy, jobs := c.BusyNanos-p.BusyNanos, c.Jobs-p.Jobs
		if busy < 0 || jobs < 0 {
			busy, jobs = c.BusyNanos, c.Jobs
		}
		ws[i].Busy = min(float64(busy)/float64(dt), 1)
		ws[i].Ops = float64(jobs) / dt.Seconds()
	}
	r.prev, r.next, r.prevAt = next, r.prev, now
	r.st.Workers = ws
	return Snapshot{Now: now, Workers: ws, Slots: r.t.SlotLoads()}
}

// prevOf finds worker id's previous counters (usually at position i).
func (r *BalanceRunner) prevOf(i, id int) (WorkerCounters, bool) {
	if i < len(r.prev) && r.prev[i].ID == id {
		return r.prev[i], true
	}
	for _, p := range r.prev {
		if p.ID == id {
			return p, true
		}
	}
	return WorkerCounters{}, false
}

// timedMove moves slots to worker to in one hand-off and folds its time
// into the measured cost of a move (the cost is per hand-off: the barrier
// dominates, not the number of slots).
func (r *BalanceRunner) timedMove(slots []int, to int) error {
	if len(slots) == 0 {
		return nil
	}
	start := time.Now()
	err := r.t.MoveSlots(slots, to)
	if err != nil {
		return err
	}
	el := time.Since(start)
	if r.moveCost == 0 {
		r.moveCost = el
	} else {
		r.moveCost = (r.moveCost*7 + el) / 8
	}
	return nil
}

// noneKind is the kind of a "nothing to do" reason: its words before the
// figures ("idle", "balanced", "cooling down", ...).
func noneKind(reason string) string {
	for _, k := range []string{"waiting for confirmation", "cooling down", "nothing to move"} {
		if strings.Contains(reason, k) {
			return k
		}
	}
	if i := strings.IndexByte(reason, ':'); i > 0 {
		return reason[:i]
	}
	return reason
}

// apply carries out d and records it.
func (r *BalanceRunner) apply(d Decision) {
	r.st.Passes++
	r.st.Last = d
	if d.Kind == DecideNone {
		// Every decision is logged at info level, but a run of the same
		// kind of "nothing to do" (idle, balanced, cooling down ...) only
		// when it starts, and an imbalance the balancer cannot fix again
		// at most once a minute; the repeats go to debug.
		kind := noneKind(d.Reason)
		stuck := kind == "nothing to move"
		if kind != r.lastNoneKind || (stuck && d.At.Sub(r.lastStuckLog) >= time.Minute) {
			r.lastNoneKind = kind
			if stuck {
				r.lastStuckLog = d.At
			}
			r.log.Info("balancer decision", "decision", "none", "reason", d.Reason)
		} else if r.log.Enabled(context.Background(), slog.LevelDebug) { // the args would allocate
			r.log.Debug("balancer decision", "decision", "none", "reason", d.Reason)
		}
		return
	}
	r.lastNoneKind = ""
	ok := true
	moves := d.Moves
	switch d.Kind {
	case DecideAdd:
		id, err := r.t.AddWorker()
		if err != nil {
			r.log.Warn("balancer: adding a worker failed", "err", err.Error())
			ok, moves = false, nil
			break
		}
		r.st.ScaleUps++
		for i := range moves {
			moves[i].To = id
		}
		if len(moves) == 0 {
			// No slot carries load (workers-min raised at idle): give the
			// new worker its share of the slots by count.
			r.spreadTo(id)
		}
	}
	// One hand-off per destination.
	moved, failed := 0, 0
	byDest := map[int][]int{}
	var dests []int
	for _, m := range moves {
		if _, ok := byDest[m.To]; !ok {
			dests = append(dests, m.To)
		}
		byDest[m.To] = append(byDest[m.To], m.Slot)
	}
	for _, to := range dests {
		if err := r.timedMove(byDest[to], to); err != nil {
			r.log.Warn("balancer: moving slots failed", "to", to, "slots", len(byDest[to]), "err", err.Error())
			failed += len(byDest[to])
			continue
		}
		moved += len(byDest[to])
	}
	r.st.Moves += int64(moved)
	r.st.FailedMoves += int64(failed)
	if d.Kind == DecideRemove {
		if err := r.t.RemoveWorker(); err != nil {
			r.log.Warn("balancer: removing a worker failed", "err", err.Error())
			ok = false
		} else {
			r.st.ScaleDowns++
		}
	}
	r.st.LastAction, r.st.LastActionOK = d, ok
	r.log.Info("balancer decision", "decision", d.Kind.String(), "moved", moved, "failed", failed, "reason", d.Reason)
	if (d.Kind == DecideAdd || d.Kind == DecideRemove) && ok && r.onChange != nil {
		r.onChange(len(r.t.Counters()))
	}
}
