package server_test

import (
	"testing"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/server"
)

// P1 dispatch microbenchmarks: one command per read, as redis-benchmark -P 1
// sends them, through the connection's whole in-process path (per-batch
// bookkeeping, parse, lookup, inline run on the idle worker, reply, write).
// One iteration is one command.
// go test ./server -run '^$' -bench DispatchP1 -benchmem

func benchDispatchP1(b *testing.B, cmds func(i int) []string) {
	cfg := server.DefaultConfig()
	cfg.Workers = 2
	s := server.New(cfg)
	b.Cleanup(func() { s.Close() })
	h := server.NewConnHarness(s)
	in := make([][]byte, 100)
	for i := range in {
		var w proto.Writer
		w.StringArray(cmds(i))
		in[i] = w.B
		h.Run(in[i]) // warm up
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		h.Run(in[i%len(in)])
	}
}

func BenchmarkDispatchP1SET(b *testing.B) { benchDispatchP1(b, dispatchSet) }
func BenchmarkDispatchP1GET(b *testing.B) { benchDispatchP1(b, dispatchGet) }
