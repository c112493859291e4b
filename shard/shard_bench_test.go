package shard

import (
	"runtime"
	"strconv"
	"sync"
	"testing"
)

// Microbenchmarks of the keyspace and of the worker hand-off:
//
//	go test ./shard -run '^$' -bench . -benchmem

// benchKeys returns n keys "key:0".."key:n-1".
func benchKeys(n int) [][]byte {
	keys := make([][]byte, n)
	for i := range keys {
		keys[i] = []byte("key:" + strconv.Itoa(i))
	}
	return keys
}

// benchDB returns database 0 of a one-worker engine (not started: the
// benchmark goroutine plays the worker, which owns every slot).
func benchDB(b *testing.B) (*Engine, DB) {
	e := New(Config{Workers: 1, Databases: 16, Clock: func() int64 { return 1_700_000_000_000 }})
	b.Cleanup(e.Close)
	return e, e.DB(e.Worker(0), 0)
}

func BenchmarkKeySlot(b *testing.B) {
	keys := benchKeys(1024)
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		n += KeySlot(keys[i&1023])
	}
	_ = n
}

func BenchmarkKeySlotHashTag(b *testing.B) {
	key := []byte("{user:1000}:followers")
	b.ReportAllocs()
	for b.Loop() {
		KeySlot(key)
	}
}

func BenchmarkDBSetStringNew(b *testing.B) {
	_, d := benchDB(b)
	keys := benchKeys(1 << 20)
	val := make([]byte, 64)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if i&(1<<20-1) == 0 && i > 0 {
			d.Flush(AllSlots)
		}
		d.SetString(keys[i&(1<<20-1)], val, 0)
	}
}

func BenchmarkDBSetStringOverwrite(b *testing.B) {
	_, d := benchDB(b)
	keys := benchKeys(100000)
	val := make([]byte, 64)
	for _, k := range keys {
		d.SetString(k, val, 0)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		d.SetString(keys[i%len(keys)], val, 0)
	}
}

func BenchmarkDBLookupHit(b *testing.B) {
	_, d := benchDB(b)
	keys := benchKeys(100000)
	val := make([]byte, 64)
	for _, k := range keys {
		d.SetString(k, val, 0)
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if d.LookupRead(keys[i%len(keys)]) == nil {
			b.Fatal("miss")
		}
	}
}

func BenchmarkDBLookupMiss(b *testing.B) {
	_, d := benchDB(b)
	keys := benchKeys(100000)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if d.LookupRead(keys[i%len(keys)]) != nil {
			b.Fatal("hit")
		}
	}
}

func BenchmarkDBSetDelete(b *testing.B) {
	_, d := benchDB(b)
	keys := benchKeys(100000)
	val := make([]byte, 64)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		k := keys[i%len(keys)]
		d.SetString(k, val, 0)
		d.Delete(k)
	}
}

// noopJob is the cheapest job: it measures the hand-off alone.
type noopJob struct{}

func (noopJob) Run(*Worker) {}

// BenchmarkSubmitDrain: a batch of 16 jobs handed to a running worker and
// waited for, as an IO goroutine does for a pipeline (two goroutine
// hand-offs per batch).
func BenchmarkSubmitDrain(b *testing.B) {
	e := New(Config{Workers: 1, Databases: 1})
	e.Start(0)
	b.Cleanup(e.Close)
	w := e.Worker(0)
	var wg sync.WaitGroup
	jobs := make([]Job, 16)
	for i := range jobs {
		jobs[i] = noopJob{}
	}
	batch := &Batch{Jobs: jobs, Done: &wg}
	b.ReportAllocs()
	for b.Loop() {
		batch.Ran = 0
		wg.Add(1)
		w.Submit(batch)
		wg.Wait()
	}
}

// BenchmarkTryRun: the same batch run inline by the submitter while the
// worker is idle (the IO goroutine's fast path).
func BenchmarkTryRun(b *testing.B) {
	e := New(Config{Workers: 1, Databases: 1})
	e.Start(0)
	b.Cleanup(e.Close)
	w := e.Worker(0)
	jobs := make([]Job, 16)
	for i := range jobs {
		jobs[i] = noopJob{}
	}
	batch := &Batch{Jobs: jobs}
	b.ReportAllocs()
	for b.Loop() {
		batch.Ran = 0
		if !w.TryRun(batch) {
			var wg sync.WaitGroup
			wg.Add(1)
			batch.Done = &wg
			w.Submit(batch)
			wg.Wait()
			batch.Done = nil
		}
	}
}

// BenchmarkDBGetValue: a GET's keyspace work over a keyspace larger than
// the caches (512K keys, 64-byte values, visited in a scattered order as
// random clients do): find the object, read its value. Cache misses
// dominate (the map's group, the key, the object, the value).
func BenchmarkDBGetValue(b *testing.B) {
	_, d := benchDB(b)
	const n = 1 << 19
	keys := benchKeys(n)
	val := make([]byte, 64)
	for _, k := range keys {
		d.SetString(k, val, 0)
	}
	runtime.GC() // the setup's garbage is not the benchmark's
	b.ReportAllocs()
	sum := 0
	for i := 0; b.Loop(); i++ {
		o := d.LookupRead(keys[int(uint32(i)*2654435761)&(n-1)])
		sum += int(o.Str[0]) + int(o.Str[len(o.Str)-1])
	}
	_ = sum
}
