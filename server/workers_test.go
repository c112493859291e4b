package server_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvd/kvd/server/servertest"
	"github.com/kvd/kvd/shard"
)

// WORKERS is kvd's own: Redis 7.0 has no COMMAND INFO/DOCS for it to
// compare with (command_test.go).
func init() {
	for _, name := range []string{"workers", "workers|list", "workers|slots", "workers|hotslots",
		"workers|move", "workers|balance", "workers|help"} {
		cmdtNot70[name] = true
	}
}

// workersList parses WORKERS LIST into one map per worker.
func workersList(t *testing.T, r *servertest.Raw) []map[string]string {
	t.Helper()
	reply := r.Do("WORKERS", "LIST")
	if !strings.HasPrefix(reply, "$") {
		t.Fatalf("WORKERS LIST = %q", reply)
	}
	var out []map[string]string
	for _, line := range strings.Split(strings.TrimSpace(reply[1:]), "\n") {
		m := map[string]string{}
		for _, f := range strings.Fields(line) {
			k, v, _ := strings.Cut(f, "=")
			m[k] = v
		}
		out = append(out, m)
	}
	return out
}

// workersInfo returns INFO workers as a map.
func workersInfo(t *testing.T, r *servertest.Raw) map[string]string {
	t.Helper()
	reply := r.Do("INFO", "workers")
	m := map[string]string{}
	for _, line := range strings.Split(strings.TrimPrefix(reply, "$"), "\r\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[k] = v
		}
	}
	return m
}

func TestWorkersList(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(3))
	r := s.Raw()
	ws := workersList(t, r)
	if len(ws) != 3 {
		t.Fatalf("WORKERS LIST: %v", ws)
	}
	total := 0
	for i, w := range ws {
		if w["id"] != strconv.Itoa(i) {
			t.Errorf("line %d: %v", i, w)
		}
		for _, k := range []string{"slots", "ops", "busy", "queue"} {
			if _, ok := w[k]; !ok {
				t.Errorf("worker %d lacks %s: %v", i, k, w)
			}
		}
		n, _ := strconv.Atoi(w["slots"])
		total += n
	}
	if total != shard.NumSlots {
		t.Errorf("slots sum to %d", total)
	}
	// RESP3: a verbatim string.
	r.Do("HELLO", "3")
	if got := r.Do("WORKERS", "LIST"); !strings.HasPrefix(got, "$txt:id=0 slots=") {
		t.Errorf("RESP3 WORKERS LIST = %q", got)
	}
}

func TestWorkersSlotsAndMove(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	// Round robin: worker 1 owns every odd slot, one range each.
	got := r.Do("WORKERS", "SLOTS", "1")
	if !strings.HasPrefix(got, "*[*[:1 :1 :1] *[:3 :3 :1] ") {
		t.Errorf("WORKERS SLOTS 1 = %.80q", got)
	}
	if n := strings.Count(got, "*[") - 1; n != shard.NumSlots/2 {
		t.Errorf("WORKERS SLOTS 1 has %d ranges", n)
	}

	for i := 0; i < 50; i++ {
		r.Do("SET", "k"+strconv.Itoa(i), strconv.Itoa(i))
	}
	slot := shard.KeySlot([]byte("k7"))
	from := s.Engine().SlotMap().Owner[slot]
	to := 1 - int(from)
	if got := r.Do("WORKERS", "MOVE", strconv.Itoa(slot), strconv.Itoa(to)); got != "+OK" {
		t.Fatalf("WORKERS MOVE = %s", got)
	}
	if o := int(s.Engine().SlotMap().Owner[slot]); o != to {
		t.Errorf("slot %d owned by %d after the move, want %d", slot, o, to)
	}
	if got := r.Do("GET", "k7"); got != "$7" {
		t.Errorf("GET k7 after the move = %s", got)
	}
	if got := r.Do("DBSIZE"); got != ":50" {
		t.Errorf("DBSIZE = %s", got)
	}
	// The moved slot joins its neighbours' range on its new owner
	// (round robin gave them to it).
	want := fmt.Sprintf("*[:%d :%d :%d]", slot-1, slot+1, to)
	if got := r.Do("WORKERS", "SLOTS", strconv.Itoa(to)); slot > 0 && slot < shard.NumSlots-1 && !strings.Contains(got, want) {
		t.Errorf("WORKERS SLOTS %d lacks %s", to, want)
	}
	info := workersInfo(t, r)
	if info["manual_moves"] != "1" || info["slot_moves"] != "1" {
		t.Errorf("INFO workers: manual_moves %q slot_moves %q", info["manual_moves"], info["slot_moves"])
	}

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"WORKERS", "MOVE", "16384", "0"}, "-ERR Invalid or out of range slot"},
		{[]string{"WORKERS", "MOVE", "-1", "0"}, "-ERR Invalid or out of range slot"},
		{[]string{"WORKERS", "MOVE", "x", "0"}, "-ERR Invalid or out of range slot"},
		{[]string{"WORKERS", "MOVE", "5", "2"}, "-ERR Invalid worker id"},
		{[]string{"WORKERS", "MOVE", "5", "01"}, "-ERR Invalid worker id"},
		{[]string{"WORKERS", "MOVE", "5"}, "-ERR wrong number of arguments for 'workers|move' command"},
		{[]string{"WORKERS", "SLOTS", "2"}, "-ERR Invalid worker id"},
		{[]string{"WORKERS", "SLOTS", "0", "1"}, "-ERR unknown subcommand or wrong number of arguments for 'SLOTS'. Try WORKERS HELP."},
		{[]string{"WORKERS", "HOTSLOTS", "-3"}, "-ERR value is out of range, must be positive"},
		{[]string{"WORKERS", "LIST", "x"}, "-ERR wrong number of arguments for 'workers|list' command"},
		{[]string{"WORKERS", "NOPE"}, "-ERR unknown subcommand 'NOPE'. Try WORKERS HELP."},
		{[]string{"WORKERS"}, "-ERR wrong number of arguments for 'workers' command"},
	} {
		if got := r.Do(c.args...); got != c.want {
			t.Errorf("%v = %q, want %q", c.args, got, c.want)
		}
	}
}

func TestWorkersHotSlots(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	for i := 0; i < 200; i++ {
		r.Do("INCR", "hot")
	}
	r.Do("SET", "cold", "1")
	s.Engine().SampleLoad()
	slot := shard.KeySlot([]byte("hot"))
	owner := s.Engine().SlotMap().Owner[slot]
	got := r.Do("WORKERS", "HOTSLOTS", "1")
	if !strings.HasPrefix(got, fmt.Sprintf("*[*[:%d :%d :", slot, owner)) {
		t.Errorf("WORKERS HOTSLOTS 1 = %s (hot slot %d on %d)", got, slot, owner)
	}
	if got := r.Do("WORKERS", "HOTSLOTS"); strings.Count(got, "*[") != 3 {
		t.Errorf("WORKERS HOTSLOTS = %s, want the two slots with load", got)
	}
	if got := r.Do("WORKERS", "HOTSLOTS", "0"); got != "*[]" {
		t.Errorf("WORKERS HOTSLOTS 0 = %s", got)
	}
}

func TestWorkersBalanceAndInfo(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	got := r.Do("WORKERS", "BALANCE")
	// Idle: nothing to do, and the reason says why.
	if !strings.HasPrefix(got, "$none: ") {
		t.Errorf("WORKERS BALANCE = %q", got)
	}
	info := workersInfo(t, r)
	for _, k := range []string{"workers", "workers_min", "workers_max", "rebalance_interval_ms", "worker0_load", "worker1_load",
		"busy_spread", "slot_moves", "balancer_moves", "scale_ups", "scale_downs", "balancer_passes",
		"last_decision", "last_decision_reason", "last_action", "last_action_reason"} {
		if _, ok := info[k]; !ok {
			t.Errorf("INFO workers lacks %s", k)
		}
	}
	if info["last_decision"] != "none" || info["balancer_passes"] != "1" || info["rebalance_interval_ms"] != "0" {
		t.Errorf("INFO workers: %v", info)
	}
	if !strings.HasPrefix(info["worker0"], "slots=8192,jobs=") {
		t.Errorf("worker0 = %q", info["worker0"])
	}
}

func TestWorkersConfigSetWorkers(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	for i := 0; i < 300; i++ {
		r.Do("SET", "key:"+strconv.Itoa(i), "v")
	}
	r.Do("LPUSH", "list", "a")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"CONFIG", "SET", "workers-max", "4"}, "+OK"},
		{[]string{"CONFIG", "SET", "workers", "3"}, "+OK"},
		{[]string{"CONFIG", "GET", "workers"}, "*[$workers $3]"},
		{[]string{"CONFIG", "SET", "workers", "5"}, "-ERR CONFIG SET failed (possibly related to argument 'workers') - workers must be between workers-min (1) and workers-max (4)"},
		{[]string{"CONFIG", "SET", "workers", "x"}, "-ERR CONFIG SET failed (possibly related to argument 'workers') - argument couldn't be parsed into an integer"},
		{[]string{"CONFIG", "SET", "workers-min", "0"}, "-ERR CONFIG SET failed (possibly related to argument 'workers-min') - argument must be between 1 and 1024 inclusive"},
		{[]string{"CONFIG", "SET", "scale-up-busy", "101"}, "-ERR CONFIG SET failed (possibly related to argument 'scale-up-busy') - argument must be between 1 and 100 inclusive"},
		{[]string{"DBSIZE"}, ":301"},
	} {
		if got := r.Do(c.args...); got != c.want {
			t.Errorf("%v = %q, want %q", c.args, got, c.want)
		}
	}
	ws := workersList(t, r)
	if len(ws) != 3 {
		t.Fatalf("after CONFIG SET workers 3: %v", ws)
	}
	for _, w := range ws {
		if n, _ := strconv.Atoi(w["slots"]); n < shard.NumSlots/4 {
			t.Errorf("worker %s owns %d slots", w["id"], n)
		}
	}
	if got := r.Do("CONFIG", "SET", "workers", "1"); got != "+OK" {
		t.Fatalf("CONFIG SET workers 1 = %s", got)
	}
	info := workersInfo(t, r)
	if info["workers"] != "1" || info["scale_ups"] != "1" || info["scale_downs"] != "2" {
		t.Errorf("INFO workers: workers %s ups %s downs %s", info["workers"], info["scale_ups"], info["scale_downs"])
	}
	if got := r.Do("DBSIZE"); got != ":301" {
		t.Errorf("DBSIZE = %s", got)
	}
	if got := r.Do("GET", "key:42"); got != "$v" {
		t.Errorf("GET = %s", got)
	}
	if got := r.Do("CONFIG", "SET", "workers", "0"); got != "+OK" { // 0: the number of CPUs (capped by workers-max 4)
		if !strings.Contains(got, "workers must be between") {
			t.Errorf("CONFIG SET workers 0 = %s", got)
		}
	}
}

// TestWorkersScalerOffInTests: test servers keep their worker count (no
// automatic passes unless rebalance-interval-ms is set).
func TestWorkersScalerOffInTests(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(3))
	r := s.Raw()
	if got := r.Do("CONFIG", "GET", "rebalance-interval-ms"); got != "*[$rebalance-interval-ms $0]" {
		t.Errorf("CONFIG GET rebalance-interval-ms = %s", got)
	}
	if got := workersInfo(t, r)["workers"]; got != "3" {
		t.Errorf("workers = %s", got)
	}
}

// TestWorkersScalerEnforcesLimits switches the runner on and lowers
// workers-max: the scaler drains workers down to it at its next pass.
func TestWorkersScalerEnforcesLimits(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(3))
	r := s.Raw()
	r.Do("SET", "a", "1")
	for _, args := range [][]string{
		{"CONFIG", "SET", "workers-max", "1"},
		{"CONFIG", "SET", "rebalance-interval-ms", "20"},
	} {
		if got := r.Do(args...); got != "+OK" {
			t.Fatalf("%v = %s", args, got)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// Poll INFO (the runner records a pass after applying it).
	info := workersInfo(t, r)
	for info["scale_downs"] != "2" {
		if ctx.Err() != nil {
			t.Fatalf("still %d workers; INFO workers: %v", s.Engine().NumWorkers(), info)
		}
		time.Sleep(5 * time.Millisecond)
		info = workersInfo(t, r)
	}
	if n := s.Engine().NumWorkers(); n != 1 {
		t.Errorf("%d workers", n)
	}
	if info["scale_downs"] != "2" || info["last_action"] != "remove" ||
		!strings.Contains(info["last_action_reason"], "2 workers > workers-max 1") {
		t.Errorf("INFO workers: %v", info)
	}
	if got := r.Do("CONFIG", "GET", "workers"); got != "*[$workers $1]" {
		t.Errorf("CONFIG GET workers = %s", got)
	}
	if got := r.Do("GET", "a"); got != "$1" {
		t.Errorf("GET a = %s", got)
	}
	r.Do("CONFIG", "SET", "rebalance-interval-ms", "0")
}

func TestWorkersHelpAndDocs(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	got := r.Do("WORKERS", "HELP")
	if !strings.HasPrefix(got, "*[+WORKERS <subcommand> [<arg> [value] [opt] ...]. Subcommands are: +LIST") ||
		!strings.HasSuffix(got, "+HELP +    Prints this help.]") {
		t.Errorf("WORKERS HELP = %q", got)
	}
	docs := r.Do("COMMAND", "DOCS", "workers")
	for _, want := range []string{
		"$summary $A container for worker and slot administration commands (kvd).",
		"$workers|move *[$summary $Moves a slot, with its keys and blocked clients, to a worker.",
		"$arguments *[*[$name $slot $type $integer] *[$name $worker $type $integer]]",
		"$workers|hotslots", "$workers|list", "$workers|slots", "$workers|balance", "$workers|help",
	} {
		if !strings.Contains(docs, want) {
			t.Errorf("COMMAND DOCS workers lacks %q:\n%s", want, docs)
		}
	}
	if got := r.Do("COMMAND", "INFO", "workers|move"); !strings.Contains(got, "+admin") {
		t.Errorf("COMMAND INFO workers|move = %s", got)
	}
}
