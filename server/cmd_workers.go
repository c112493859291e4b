package server

import (
	"fmt"
	"math"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/server/cmdspec"
	"github.com/kvd/kvd/shard"
)

// Adaptive sharding, server side: the balancer runner's wiring to the
// configuration (rebalance-*, workers-*, scale-*), CONFIG SET workers, the
// WORKERS command and the INFO workers figures. The policy itself is in
// shard/balance.go.

// initBalancer builds the runner; Serve starts it with the engine, Close
// stops it. Automatic passes run only when rebalance-interval-ms > 0 (the
// kvd binary's default, see AdaptiveDefaults; 0 in DefaultConfig so that
// embedded and test servers keep the worker count they were given).
func (s *Server) initBalancer() {
	if max := s.cfg.WorkersMax.Load(); s.cfg.RebalanceInterval.Load() > 0 && int64(s.cfg.Workers) > max {
		// A configured worker count above workers-max raises the limit
		// rather than being undone at the first pass.
		s.cfg.Set("workers-max", strconv.Itoa(s.cfg.Workers), false)
		s.log.Info("workers-max raised to the configured worker count", "workers", s.cfg.Workers)
	}
	s.bal = shard.NewEngineBalancer(s.eng, s.balanceConf, s.log, s.cfg.SetWorkersValue)
	s.cfg.WorkersHook = s.setWorkers
}

// AdaptiveDefaults switches on the balancer and the scaler (the kvd
// binary's defaults; a configuration file or flags applied afterwards win).
func AdaptiveDefaults(cfg *Config) {
	cfg.Set("rebalance-interval-ms", "1000", false)
	// Start with half the CPUs as workers (at least one): the connections'
	// IO goroutines need the other half. On the 2-core development machine
	// one worker serves as much as two at P1 and 10-15% more at P16
	// (go run ./bench skew -mode shape); the scaler adds workers once every
	// worker is saturated.
	cfg.Set("workers", strconv.Itoa(max(1, runtime.GOMAXPROCS(0)/2)), false)
}

// balanceConf maps the configuration to the policy's parameters.
func (s *Server) balanceConf() (shard.BalanceConfig, time.Duration) {
	c := s.cfg
	every := time.Duration(c.RebalanceInterval.Load()) * time.Millisecond
	b := shard.DefaultBalanceConfig()
	b.Threshold = float64(c.RebalanceThreshold.Load()) / 100
	b.Balance = b.Threshold > 0
	b.Scale = true
	b.WorkersMin = int(c.WorkersMin.Load())
	b.WorkersMax = int(c.WorkersMax.Load())
	b.ScaleUpBusy = float64(c.ScaleUpBusy.Load()) / 100
	b.ScaleDownBusy = float64(c.ScaleDownBusy.Load()) / 100
	b.ScaleHold = time.Duration(c.ScaleHold.Load()) * time.Second
	if every > 0 {
		// Cool-downs in sampling intervals: the interval after a move
		// still shows the old map; a moved slot stays a minute's worth.
		b.Cooldown = 3 * every
		b.SlotCooldown = 60 * every
	}
	return b, every
}

// setWorkers is CONFIG SET workers N.
func (s *Server) setWorkers(n int) error {
	lo, hi := int(s.cfg.WorkersMin.Load()), int(s.cfg.WorkersMax.Load())
	if n < lo || n > hi {
		return fmt.Errorf("workers must be between workers-min (%d) and workers-max (%d)", lo, hi)
	}
	return s.bal.SetWorkers(n)
}

// workersFlags: the read-only subcommands are like CLUSTER SLOTS (loading,
// stale); MOVE and BALANCE change the server's shape (admin).
const (
	workersFlags      = Loading | Stale
	workersAdminFlags = Admin | NoScript | Loading | Stale | NoMulti // a move waits for the workers: never inside EXEC
)

// registerWorkers registers the WORKERS container (kvd only).
func registerWorkers(r *Registry) {
	r.AddContainer("workers", -2, 0)
	r.Add(&Command{Name: "workers|list", Arity: 2, Flags: workersFlags, RunConn: cmdWorkersList})
	r.Add(&Command{Name: "workers|slots", Arity: -2, Flags: workersFlags, RunConn: cmdWorkersSlots})
	r.Add(&Command{Name: "workers|hotslots", Arity: -2, Flags: workersFlags, RunConn: cmdWorkersHotSlots})
	r.Add(&Command{Name: "workers|move", Arity: 4, Flags: workersAdminFlags, RunConn: cmdWorkersMove})
	r.Add(&Command{Name: "workers|balance", Arity: 2, Flags: workersAdminFlags, RunConn: cmdWorkersBalance})
	r.Add(&Command{Name: "workers|help", Arity: 2, Flags: workersFlags, RunConn: cmdWorkersHelp})
}

var workersHelp = []string{
	"LIST",
	"    One line per worker: id, slots owned, ops/s and busy % over the last",
	"    sampling interval, queue depth.",
	"SLOTS [<worker>]",
	"    Slot ranges and their owner: [start, end, worker], of one worker or all.",
	"HOTSLOTS [<count>]",
	"    The <count> (default 10) busiest slots: [slot, worker, ops/s].",
	"MOVE <slot> <worker>",
	"    Move a slot (its keys and blocked clients) to a worker.",
	"BALANCE",
	"    Run one balancing pass now and return its decision.",
}

func cmdWorkersHelp(c *Conn, args [][]byte, w *proto.Writer) { adminHelp(w, args[0], workersHelp) }

func cmdWorkersList(c *Conn, args [][]byte, w *proto.Writer) {
	st := c.srv.bal.Refresh()
	var b strings.Builder
	for _, ws := range st.Workers {
		fmt.Fprintf(&b, "id=%d slots=%d ops=%.0f busy=%.1f queue=%d\n", ws.ID, ws.Owned, ws.Ops, ws.Busy*100, ws.Queue)
	}
	w.Verbatim("txt", b.String())
}

// workersInt parses a non-negative integer argument.
func workersInt(a []byte) (int, bool) {
	n, ok := admInt(a)
	if !ok || n < 0 || n > 1<<31 {
		return 0, false
	}
	return int(n), true
}

func cmdWorkersSlots(c *Conn, args [][]byte, w *proto.Writer) {
	if len(args) > 3 {
		w.Error(adminSyntaxError(args))
		return
	}
	sm := c.srv.eng.SlotMap()
	only := -1
	if len(args) == 3 {
		n, ok := workersInt(args[2])
		if !ok || n >= sm.Workers {
			w.Error("ERR Invalid worker id")
			return
		}
		only = n
	}
	type rng struct{ start, end, worker int }
	var out []rng
	for s := 0; s < shard.NumSlots; s++ {
		o := int(sm.Owner[s])
		if only >= 0 && o != only {
			continue
		}
		if k := len(out) - 1; k >= 0 && out[k].end == s-1 && out[k].worker == o {
			out[k].end = s
			continue
		}
		out = append(out, rng{s, s, o})
	}
	w.Array(len(out))
	for _, r := range out {
		w.Array(3)
		w.Int(int64(r.start))
		w.Int(int64(r.end))
		w.Int(int64(r.worker))
	}
}

func cmdWorkersHotSlots(c *Conn, args [][]byte, w *proto.Writer) {
	if len(args) > 3 {
		w.Error(adminSyntaxError(args))
		return
	}
	n := 10
	if len(args) == 3 {
		v, ok := workersInt(args[2])
		if !ok {
			w.Error("ERR value is out of range, must be positive")
			return
		}
		n = v
	}
	hot := c.srv.eng.HotSlots(n, -1)
	w.Array(len(hot))
	for _, h := range hot {
		w.Array(3)
		w.Int(int64(h.Slot))
		w.Int(int64(h.Worker))
		w.Int(int64(math.Round(h.Ops)))
	}
}

func cmdWorkersMove(c *Conn, args [][]byte, w *proto.Writer) {
	slot, ok := workersInt(args[2])
	if !ok || slot >= shard.NumSlots {
		w.Error("ERR Invalid or out of range slot")
		return
	}
	to, ok := workersInt(args[3])
	if !ok || to >= c.srv.eng.NumWorkers() {
		w.Error("ERR Invalid worker id")
		return
	}
	if err := c.srv.bal.Move(slot, to); err != nil {
		w.Error("ERR " + err.Error())
		return
	}
	w.OK()
}

func cmdWorkersBalance(c *Conn, args [][]byte, w *proto.Writer) {
	d := c.srv.bal.BalanceNow()
	w.BulkString(d.String())
}

// infoWorkersBalance appends the balancer's figures to INFO workers.
func (s *Server) infoWorkersBalance(b *strings.Builder) {
	st := s.bal.Stats()
	infoLine(b, "workers_min", s.cfg.WorkersMin.Load())
	infoLine(b, "workers_max", s.cfg.WorkersMax.Load())
	infoLine(b, "rebalance_interval_ms", s.cfg.RebalanceInterval.Load())
	for _, ws := range st.Workers {
		fmt.Fprintf(b, "worker%d_load:ops_per_sec=%.0f,busy_pct=%.1f,queue=%d\r\n", ws.ID, ws.Ops, ws.Busy*100, ws.Queue)
	}
	infoLine(b, "busy_spread", fmt.Sprintf("%.2f", shard.Spread(st.Workers)))
	infoLine(b, "slot_moves", s.eng.SlotMoves())
	infoLine(b, "balancer_moves", st.Moves)
	infoLine(b, "manual_moves", st.ManualMoves)
	infoLine(b, "failed_moves", st.FailedMoves)
	infoLine(b, "scale_ups", st.ScaleUps)
	infoLine(b, "scale_downs", st.ScaleDowns)
	infoLine(b, "balancer_passes", st.Passes)
	infoLine(b, "move_cost_us", st.MoveCost.Microseconds())
	writeDecision := func(prefix string, d shard.Decision) {
		kind, reason, at := "none", d.Reason, int64(0)
		if !d.At.IsZero() {
			kind, at = d.Kind.String(), d.At.UnixMilli()
		}
		if reason == "" {
			reason = "-"
		}
		infoLine(b, prefix, kind)
		infoLine(b, prefix+"_moves", len(d.Moves))
		infoLine(b, prefix+"_reason", strings.NewReplacer("\r", " ", "\n", " ").Replace(reason))
		infoLine(b, prefix+"_time_ms", at)
	}
	writeDecision("last_decision", st.Last)
	writeDecision("last_action", st.LastAction)
}

// kvdCommandDocs is COMMAND DOCS's entry for the commands only kvd has
// (cmdspec has Redis's); nil for other names.
func kvdCommandDocs(name string) *cmdspec.Spec {
	return kvdDocs[name]
}

var kvdDocs = map[string]*cmdspec.Spec{
	"workers": {Group: "server", Summary: "A container for worker and slot administration commands (kvd).",
		Complexity: "Depends on subcommand."},
	"workers|list": {Group: "server", Summary: "Lists the workers: slots owned, ops/s, busy %, queue depth.",
		Complexity: "O(N) where N is the number of workers."},
	"workers|slots": {Group: "server", Summary: "Returns the slot ranges owned by each worker, or by one.",
		Complexity: "O(S) where S is the number of slots (16384).",
		Args:       []cmdspec.Arg{{Name: "worker", Type: "integer", KeySpecIndex: -1, Optional: true}}},
	"workers|hotslots": {Group: "server", Summary: "Returns the busiest slots with their owner and decayed ops/s.",
		Complexity: "O(S log S) where S is the number of slots with load.",
		Args:       []cmdspec.Arg{{Name: "count", Type: "integer", KeySpecIndex: -1, Optional: true}}},
	"workers|move": {Group: "server", Summary: "Moves a slot, with its keys and blocked clients, to a worker.",
		Complexity: "O(1)",
		Args:       []cmdspec.Arg{{Name: "slot", Type: "integer", KeySpecIndex: -1}, {Name: "worker", Type: "integer", KeySpecIndex: -1}}},
	"workers|balance": {Group: "server", Summary: "Runs one balancing pass now and returns its decision.",
		Complexity: "O(S log S) where S is the number of slots with load."},
	"workers|help": {Group: "server", Summary: "Shows helpful text about the different subcommands.",
		Complexity: "O(1)"},
}
