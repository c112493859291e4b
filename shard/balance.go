package shard

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"time"
)

// This file holds the adaptive-sharding policy: the balancer, which moves
// hot slots from the busiest worker to the least busy one, and the scaler,
// which adds or drains workers. The policy is a pure function of snapshot
// figures (per-worker busy fractions, per-slot loads, an injected "now")
// plus the small state in Balancer (hysteresis counters, cool-downs, slot
// move times), so it is tested without a clock or sleeping. The runner
// (balance_runner.go) samples the engine, feeds the policy and applies its
// decisions.

// BalanceConfig holds the policy's parameters.
type BalanceConfig struct {
	// Balance switches slot balancing between workers.
	Balance bool
	// Threshold: a pass moves slots only when the busiest worker's busy
	// fraction exceeds the mean by this fraction (0.2 = 20% over mean).
	Threshold float64
	// MinBusy: below this busy fraction the busiest worker is considered
	// idle, whatever the ratio (nothing to gain).
	MinBusy float64
	// Confirm is the number of consecutive samples the imbalance must be
	// seen before moving (filters one noisy interval). 0 or 1: at once.
	Confirm int
	// Cooldown is the minimum time between two passes that moved slots: the
	// figures of the interval after a move still partly show the old map.
	Cooldown time.Duration
	// SlotCooldown: a slot that moved does not move again within this time
	// (no ping-pong of one slot).
	SlotCooldown time.Duration
	// MoveCost is the estimated cost of one hand-off (one barrier holding
	// the source and the destination, whatever the number of slots it
	// carries). A pass moves only when its gain over Cooldown (the busy
	// share it shifts times Cooldown) exceeds it.
	MoveCost time.Duration
	// MaxMoves caps the moves of one balancing pass, MaxScaleMoves those
	// planned with a scale event.
	MaxMoves, MaxScaleMoves int

	// Scale switches adding and draining workers.
	Scale                      bool
	WorkersMin, WorkersMax     int
	ScaleUpBusy, ScaleDownBusy float64
	// ScaleHold: the up/down condition must hold this long; it is also the
	// cool-down after a scale event.
	ScaleHold time.Duration
}

// DefaultBalanceConfig returns the defaults (see the README's "Adaptive
// sharding" section for how they were chosen).
func DefaultBalanceConfig() BalanceConfig {
	return BalanceConfig{
		Balance:       true,
		Threshold:     0.20,
		MinBusy:       0.05,
		Confirm:       2,
		Cooldown:      5 * time.Second,
		SlotCooldown:  60 * time.Second,
		MoveCost:      time.Millisecond,
		MaxMoves:      1024,
		MaxScaleMoves: 2048,
		Scale:         true,
		WorkersMin:    1,
		WorkersMax:    1,
		ScaleUpBusy:   0.80,
		ScaleDownBusy: 0.35,
		ScaleHold:     10 * time.Second,
	}
}

// WorkerSnap is one worker's load over the last sampling interval.
type WorkerSnap struct {
	ID    int
	Busy  float64 // fraction of the interval spent running jobs, 0..1
	Ops   float64 // jobs per second
	Queue int     // batches waiting at the end of the interval
	Owned int     // slots owned
}

// SlotSnap is one slot's recent load (decayed op count; any unit, as long
// as it is the same for every slot of a snapshot).
type SlotSnap struct {
	Slot, Worker int
	Ops          float64
}

// Snapshot is what the policy decides on. Slots should list every slot
// that carries load; slots not listed count as idle.
type Snapshot struct {
	Now     time.Time
	Workers []WorkerSnap
	Slots   []SlotSnap
}

// DecisionKind says what a Decision does.
type DecisionKind uint8

const (
	DecideNone   DecisionKind = iota
	DecideMove                // move slots between existing workers
	DecideAdd                 // add worker Worker, then apply Moves
	DecideRemove              // apply Moves, then remove worker Worker
)

func (k DecisionKind) String() string {
	switch k {
	case DecideMove:
		return "move"
	case DecideAdd:
		return "add"
	case DecideRemove:
		return "remove"
	}
	return "none"
}

// PlannedMove moves Slot from worker From to worker To.
type PlannedMove struct {
	Slot, From, To int
	Share          float64 // busy fraction the move shifts (estimate)
}

// Decision is the outcome of one policy evaluation.
type Decision struct {
	Kind   DecisionKind
	Worker int // DecideAdd: the new worker's id; DecideRemove: the drained one
	Moves  []PlannedMove
	Reason string
	At     time.Time
}

func (d Decision) String() string {
	if d.Kind == DecideNone {
		return "none: " + d.Reason
	}
	return fmt.Sprintf("%s (%d moves): %s", d.Kind, len(d.Moves), d.Reason)
}

// Balancer is the policy's state between evaluations. It is not safe for
// concurrent use; the runner serialises calls.
type Balancer struct {
	Cfg BalanceConfig

	imbalanced int       // consecutive samples over the threshold
	lastMove   time.Time // last pass that moved slots
	lastScale  time.Time // last scale event
	upSince    time.Time // every worker >= ScaleUpBusy since (zero: not)
	downSince  time.Time // every worker < ScaleDownBusy since (zero: not)
	slotMoved  map[int]time.Time
}

// NewBalancer returns a policy with cfg.
func NewBalancer(cfg BalanceConfig) *Balancer {
	return &Balancer{Cfg: cfg, slotMoved: make(map[int]time.Time)}
}

// Decide evaluates the scaler, then the balancer, on one snapshot and
// updates the state as if the decision is applied.
func (b *Balancer) Decide(s Snapshot) Decision {
	d := b.decide(s)
	d.At = s.Now
	return d
}

func (b *Balancer) decide(s Snapshot) Decision {
	n := len(s.Workers)
	if n == 0 {
		return Decision{Reason: "no workers"}
	}
	b.trackScale(s)
	if b.Cfg.Scale {
		if d, ok := b.scale(s); ok {
			return d
		}
	}
	if !b.Cfg.Balance {
		return Decision{Reason: "balancing off"}
	}
	return b.balance(s, false)
}

// BalanceNow is one balancing pass on demand (WORKERS BALANCE): the
// threshold and the fit and cost rules apply, the confirmation count and
// the pass cool-down do not.
func (b *Balancer) BalanceNow(s Snapshot) Decision {
	d := b.balance(s, true)
	d.At = s.Now
	return d
}

// trackScale updates the hold timers of the scaling conditions.
func (b *Balancer) trackScale(s Snapshot) {
	allUp, allDown := true, true
	for _, w := range s.Workers {
		if w.Busy < b.Cfg.ScaleUpBusy {
			allUp = false
		}
		if w.Busy >= b.Cfg.ScaleDownBusy {
			allDown = false
		}
	}
	if !allUp {
		b.upSince = time.Time{}
	} else if b.upSince.IsZero() {
		b.upSince = s.Now
	}
	if !allDown {
		b.downSince = time.Time{}
	} else if b.downSince.IsZero() {
		b.downSince = s.Now
	}
}

func (b *Balancer) scale(s Snapshot) (Decision, bool) {
	c := b.Cfg
	n := len(s.Workers)
	lo, hi := max(c.WorkersMin, 1), max(c.WorkersMax, 1)
	if hi < lo {
		hi = lo
	}
	// Limits first: a changed workers-min/workers-max takes effect at once.
	if n < lo {
		return b.scaleUp(s, fmt.Sprintf("%d workers < workers-min %d", n, lo)), true
	}
	if n > hi {
		return b.scaleDown(s, fmt.Sprintf("%d workers > workers-max %d", n, hi)), true
	}
	if !b.lastScale.IsZero() && s.Now.Sub(b.lastScale) < c.ScaleHold {
		return Decision{}, false
	}
	busy := busyFigures(s.Workers)
	if !b.upSince.IsZero() && s.Now.Sub(b.upSince) >= c.ScaleHold && n < hi {
		return b.scaleUp(s, fmt.Sprintf("every worker busy >= %s for %s (%s)",
			pct(c.ScaleUpBusy), s.Now.Sub(b.upSince).Round(100*time.Millisecond), busy)), true
	}
	if !b.downSince.IsZero() && s.Now.Sub(b.downSince) >= c.ScaleHold && n > lo {
		// Hysteresis: the load of n workers spread over n-1 must stay well
		// under the scale-up mark, or the next hold would add one again.
		total := 0.0
		for _, w := range s.Workers {
			total += w.Busy
		}
		proj := total / float64(n-1)
		if proj >= c.ScaleUpBusy*0.8 {
			return Decision{}, false
		}
		return b.scaleDown(s, fmt.Sprintf("every worker busy < %s for %s (%s; %d workers would be %s busy)",
			pct(c.ScaleDownBusy), s.Now.Sub(b.downSince).Round(100*time.Millisecond), busy, n-1, pct(proj))), true
	}
	return Decision{}, false
}

// scaleUp plans worker n: every worker hands it the hottest slots that fit
// its share of the load, so that the n+1 workers end up even.
func (b *Balancer) scaleUp(s Snapshot, reason string) Decision {
	n := len(s.Workers)
	b.lastScale, b.upSince, b.downSince = s.Now, time.Time{}, time.Time{}
	b.imbalanced, b.lastMove = 0, s.Now
	total := 0.0
	for _, w := range s.Workers {
		total += w.Busy
	}
	target := total / float64(n+1)
	shares := slotShares(s)
	var moves []PlannedMove
	for _, w := range s.Workers {
		give := w.Busy - target
		for _, sl := range shares[w.ID] {
			if len(moves) >= b.Cfg.MaxScaleMoves || give <= 0 {
				break
			}
			if sl.share > give {
				continue // does not fit
			}
			moves = append(moves, PlannedMove{Slot: sl.slot, From: w.ID, To: n, Share: sl.share})
			give -= sl.share
		}
	}
	b.noteMoves(s.Now, moves)
	return Decision{Kind: DecideAdd, Worker: n, Moves: moves, Reason: reason + fmt.Sprintf(": adding worker %d", n)}
}

// scaleDown plans draining worker n-1: its loaded slots go, hottest first,
// to whichever remaining worker is least busy at that point (the engine
// moves the idle rest round-robin when it stops the worker).
func (b *Balancer) scaleDown(s Snapshot, reason string) Decision {
	n := len(s.Workers)
	victim := n - 1
	b.lastScale, b.upSince, b.downSince = s.Now, time.Time{}, time.Time{}
	b.imbalanced, b.lastMove = 0, s.Now
	load := make([]float64, n-1)
	for i := range load {
		load[i] = s.Workers[i].Busy
	}
	var moves []PlannedMove
	if n > 1 {
		for _, sl := range slotShares(s)[victim] {
			if len(moves) >= b.Cfg.MaxScaleMoves {
				break
			}
			to := 0
			for i := range load {
				if load[i] < load[to] {
					to = i
				}
			}
			load[to] += sl.share
			moves = append(moves, PlannedMove{Slot: sl.slot, From: victim, To: to, Share: sl.share})
		}
	}
	b.noteMoves(s.Now, moves)
	return Decision{Kind: DecideRemove, Worker: victim, Moves: moves, Reason: reason + fmt.Sprintf(": draining worker %d", victim)}
}

// balance is one balancing pass: move the hottest slots that fit from the
// busiest worker to the least busy one.
func (b *Balancer) balance(s Snapshot, manual bool) Decision {
	c := b.Cfg
	n := len(s.Workers)
	if n < 2 {
		b.imbalanced = 0
		return Decision{Reason: "one worker"}
	}
	hi, lo, mean := 0, 0, 0.0
	for i, w := range s.Workers {
		mean += w.Busy
		if w.Busy > s.Workers[hi].Busy {
			hi = i
		}
		if w.Busy < s.Workers[lo].Busy {
			lo = i
		}
	}
	mean /= float64(n)
	busiest, idlest := s.Workers[hi], s.Workers[lo]
	if busiest.Busy < c.MinBusy {
		b.imbalanced = 0
		return Decision{Reason: fmt.Sprintf("idle: busiest worker %d at %s < %s", busiest.ID, pct(busiest.Busy), pct(c.MinBusy))}
	}
	ratio := busiest.Busy / mean
	if ratio <= 1+c.Threshold {
		b.imbalanced = 0
		return Decision{Reason: fmt.Sprintf("balanced: max/mean %.2f <= %.2f", ratio, 1+c.Threshold)}
	}
	if !manual {
		b.imbalanced++
		if b.imbalanced < c.Confirm {
			return Decision{Reason: fmt.Sprintf("max/mean %.2f > %.2f on worker %d, waiting for confirmation (%d/%d)",
				ratio, 1+c.Threshold, busiest.ID, b.imbalanced, c.Confirm)}
		}
		if !b.lastMove.IsZero() && s.Now.Sub(b.lastMove) < c.Cooldown {
			return Decision{Reason: fmt.Sprintf("max/mean %.2f > %.2f on worker %d, cooling down (%s left)",
				ratio, 1+c.Threshold, busiest.ID, (c.Cooldown - s.Now.Sub(b.lastMove)).Round(time.Millisecond))}
		}
	}
	// Moving exactly half the gap makes the two equal; never more, so the
	// receiver cannot become the new busiest (no oscillation).
	room := (busiest.Busy - idlest.Busy) / 2
	var moves []PlannedMove
	var tooBig, cooling int
	var biggest float64
	for _, sl := range slotShares(s)[busiest.ID] {
		if len(moves) >= c.MaxMoves {
			break
		}
		if t, ok := b.slotMoved[sl.slot]; ok && s.Now.Sub(t) < c.SlotCooldown {
			cooling++
			continue
		}
		if sl.share > room {
			tooBig++
			biggest = max(biggest, sl.share)
			continue
		}
		moves = append(moves, PlannedMove{Slot: sl.slot, From: busiest.ID, To: idlest.ID, Share: sl.share})
		room -= sl.share
	}
	head := fmt.Sprintf("max/mean %.2f > %.2f: worker %d at %s, worker %d at %s",
		ratio, 1+c.Threshold, busiest.ID, pct(busiest.Busy), idlest.ID, pct(idlest.Busy))
	moved := 0.0
	for _, m := range moves {
		moved += m.Share
	}
	tooSmall := false
	if gain := time.Duration(moved * float64(c.Cooldown)); len(moves) > 0 && gain < c.MoveCost {
		// The pass would shift less busy time over the cool-down than the
		// hand-off costs.
		moves, tooSmall = nil, true
	}
	if len(moves) == 0 {
		b.imbalanced = 0
		var why []string
		if tooBig > 0 {
			why = append(why, fmt.Sprintf("%d hot slots do not fit (largest %s > half the gap)", tooBig, pct(biggest)))
		}
		if tooSmall {
			why = append(why, fmt.Sprintf("the slots that fit (%s) gain less than a move costs", pct(moved)))
		}
		if cooling > 0 {
			why = append(why, fmt.Sprintf("%d slots moved recently", cooling))
		}
		if len(why) == 0 {
			why = append(why, "no slot load recorded")
		}
		return Decision{Reason: head + "; nothing to move: " + strings.Join(why, ", ")}
	}
	b.imbalanced = 0
	b.lastMove = s.Now
	b.noteMoves(s.Now, moves)
	return Decision{Kind: DecideMove, Moves: moves,
		Reason: head + fmt.Sprintf("; moving %d slots (%s) from worker %d to worker %d", len(moves), pct(moved), busiest.ID, idlest.ID)}
}

func (b *Balancer) noteMoves(now time.Time, moves []PlannedMove) {
	if b.slotMoved == nil {
		b.slotMoved = make(map[int]time.Time)
	}
	for _, m := range moves {
		b.slotMoved[m.Slot] = now
	}
	// Forget moves older than the cool-down so the map stays small.
	for sl, t := range b.slotMoved {
		if now.Sub(t) >= b.Cfg.SlotCooldown {
			delete(b.slotMoved, sl)
		}
	}
}

type slotShare struct {
	slot  int
	share float64 // busy fraction of its worker's interval
}

// slotShares converts slot loads into busy fractions: a worker's busy time
// is split among its slots in proportion to their loads. Each worker's list
// is sorted hottest first (ties: lower slot first, for determinism).
func slotShares(s Snapshot) map[int][]slotShare {
	busy := make(map[int]float64, len(s.Workers))
	for _, w := range s.Workers {
		busy[w.ID] = w.Busy
	}
	total := make(map[int]float64, len(s.Workers))
	for _, sl := range s.Slots {
		if sl.Ops > 0 {
			total[sl.Worker] += sl.Ops
		}
	}
	out := make(map[int][]slotShare, len(s.Workers))
	for _, sl := range s.Slots {
		t := total[sl.Worker]
		if sl.Ops <= 0 || t <= 0 {
			continue
		}
		out[sl.Worker] = append(out[sl.Worker], slotShare{slot: sl.Slot, share: busy[sl.Worker] * sl.Ops / t})
	}
	for _, l := range out {
		sort.Slice(l, func(i, j int) bool {
			if l[i].share != l[j].share {
				return l[i].share > l[j].share
			}
			return l[i].slot < l[j].slot
		})
	}
	return out
}

// Spread is max/mean of the workers' busy fractions (1 = even; 0 when idle).
func Spread(ws []WorkerSnap) float64 {
	if len(ws) == 0 {
		return 0
	}
	m, sum := 0.0, 0.0
	for _, w := range ws {
		sum += w.Busy
		m = math.Max(m, w.Busy)
	}
	if sum == 0 {
		return 0
	}
	return m / (sum / float64(len(ws)))
}

func busyFigures(ws []WorkerSnap) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = fmt.Sprintf("w%d %s", w.ID, pct(w.Busy))
	}
	return strings.Join(parts, ", ")
}

func pct(f float64) string { return fmt.Sprintf("%.0f%%", f*100) }
