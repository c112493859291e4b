package shard

import (
	"math"
	"runtime"
	"testing"
	"time"
)

// TestBalanceRunnerTickAllocs: a periodic pass over an engine whose every
// slot carries load allocates (nearly) nothing for its snapshot; the
// policy's reason string is the only allocation left.
func TestBalanceRunnerTickAllocs(t *testing.T) {
	e := New(Config{Workers: 2, Databases: 1, SampleEvery: -1})
	e.Start(0)
	defer e.Close()
	for s := range NumSlots {
		e.slotRate[s].Store(math.Float64bits(float64(1 + s%7)))
	}
	cfg := testCfg()
	r := NewEngineBalancer(e, func() (BalanceConfig, time.Duration) { return cfg, time.Second }, quiet, nil)
	defer r.Close()
	r.Tick()
	allocs := testing.AllocsPerRun(20, func() { r.Tick() })
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	for range 20 {
		r.Tick()
	}
	runtime.ReadMemStats(&m1)
	bytes := (m1.TotalAlloc - m0.TotalAlloc) / 20
	t.Logf("%.1f allocations, %d bytes per tick", allocs, bytes)
	if allocs > 16 || bytes > 4096 { // -race adds a few; before: 36 allocations, 2.3 MB
		t.Errorf("%.1f allocations, %d bytes per tick", allocs, bytes)
	}
	if got := len(r.t.SlotLoads()); got != NumSlots {
		t.Errorf("snapshot has %d slots", got)
	}
}
