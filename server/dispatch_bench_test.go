package server_test

import (
	"strconv"
	"testing"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/server"
)

// Dispatch microbenchmarks: a pipeline of 100 commands through one
// connection's whole in-process path (parse, command lookup, per-worker
// batching, worker hand-off or inline run, reply, write), per iteration.
// go test ./server -run '^$' -bench Dispatch -benchmem

func benchDispatch(b *testing.B, workers int, cmds func(i int) []string) {
	cfg := server.DefaultConfig()
	cfg.Workers = workers
	s := server.New(cfg)
	b.Cleanup(func() { s.Close() })
	h := server.NewConnHarness(s)
	var w proto.Writer
	for i := 0; i < 100; i++ {
		w.StringArray(cmds(i))
	}
	in := w.B
	h.Run(in) // warm up: create the keys, grow the buffers
	b.ReportAllocs()
	for b.Loop() {
		h.Run(in)
	}
}

func dispatchSet(i int) []string {
	return []string{"SET", "key:" + strconv.Itoa(i), "value-" + strconv.Itoa(100000+i)}
}

func dispatchGet(i int) []string { return []string{"GET", "key:" + strconv.Itoa(i)} }

func BenchmarkDispatchSET1Worker(b *testing.B)  { benchDispatch(b, 1, dispatchSet) }
func BenchmarkDispatchGET1Worker(b *testing.B)  { benchDispatch(b, 1, dispatchGet) }
func BenchmarkDispatchSET2Workers(b *testing.B) { benchDispatch(b, 2, dispatchSet) }
func BenchmarkDispatchGET2Workers(b *testing.B) { benchDispatch(b, 2, dispatchGet) }
func BenchmarkDispatchINCR2Workers(b *testing.B) {
	benchDispatch(b, 2, func(i int) []string { return []string{"INCR", "counter:" + strconv.Itoa(i)} })
}
func BenchmarkDispatchPING(b *testing.B) {
	benchDispatch(b, 2, func(int) []string { return []string{"PING"} })
}
