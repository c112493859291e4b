package shard

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
)

// keyOn returns a key (prefix + n) whose slot worker w owns.
func keyOn(e *Engine, prefix string, w int) string {
	for i := 0; ; i++ {
		k := prefix + strconv.Itoa(i)
		if e.WorkerOf([]byte(k)) == w {
			return k
		}
	}
}

// ownedEverywhere checks the ownership bookkeeping against the slot map:
// every slot owned once, bitmaps, owned lists and counts agree.
func ownedEverywhere(t *testing.T, e *Engine) {
	t.Helper()
	sm := e.SlotMap()
	e.Do(func(*Worker) {
		total := 0
		for _, w := range e.Workers() {
			total += len(w.owned)
			if w.NumOwned() != len(w.owned) {
				t.Errorf("worker %d: NumOwned %d, owned %d", w.id, w.NumOwned(), len(w.owned))
			}
			for _, s := range w.owned {
				if int(sm.Owner[s]) != w.id || !w.Owns(s) || e.slots[s].owner != w.id {
					t.Errorf("worker %d lists slot %d; map says %d", w.id, s, sm.Owner[s])
				}
			}
		}
		if total != NumSlots {
			t.Errorf("%d slots owned, want %d", total, NumSlots)
		}
	})
}

// TestMigrateMoveSlotData: a moved slot takes its keys in every database,
// their expiry bookkeeping and their load count; the new owner serves and
// expires them, the old one has no trace of the slot.
func TestMigrateMoveSlotData(t *testing.T) {
	clk := newClock(1_700_000_000_000)
	var log expiredLog
	e := New(Config{Workers: 3, Databases: 4, Clock: clk.now, OnExpire: log.add, SampleEvery: -1})
	e.Start(0)
	defer e.Close()

	k := keyOn(e, "k", 0)
	slot := KeySlot([]byte(k))
	tag := "{" + k + "}"
	onOwner(e, k, func(d DB) {
		d.SetString([]byte(k), []byte("v0"), 0)
		d.SetString([]byte(tag+"ttl"), []byte("short"), clk.now()+10)
		d3 := e.DB(d.w, 3)
		d3.SetString([]byte(tag+"db3"), []byte("v3"), 0)
	})
	if KeySlot([]byte(tag+"ttl")) != slot {
		t.Fatal("hash tag")
	}
	if err := e.MoveSlot(slot, 2); err != nil {
		t.Fatal(err)
	}
	if e.WorkerOf([]byte(k)) != 2 || e.SlotMoves() != 1 {
		t.Fatalf("owner %d after the move, moves %d", e.WorkerOf([]byte(k)), e.SlotMoves())
	}
	ownedEverywhere(t, e)
	onOwner(e, k, func(d DB) {
		if d.w.ID() != 2 {
			t.Errorf("ran on %d", d.w.ID())
		}
		if o := d.Lookup([]byte(k)); o == nil || string(o.Str) != "v0" {
			t.Errorf("value lost in the move")
		}
		d3 := e.DB(d.w, 3)
		if o := d3.Lookup([]byte(tag + "db3")); o == nil || string(o.Str) != "v3" {
			t.Errorf("db 3 lost in the move")
		}
		if d.VolatileLen([]int{slot}) != 1 {
			t.Errorf("volatile bookkeeping lost")
		}
	})
	// The active cycle of the new owner reclaims the moved volatile key;
	// the old owner does not visit the slot any more.
	clk.advance(10)
	e.Worker(0).Submit(&Batch{Jobs: []Job{expireJob{}}})
	e.RunExpireCycle()
	for range 100 {
		if log.len() > 0 {
			break
		}
		e.RunExpireCycle()
	}
	if log.len() != 1 || e.Worker(2).Stats.Expired() != 1 {
		t.Fatalf("expired %v, worker 2 counted %d", log.keys, e.Worker(2).Stats.Expired())
	}
	// Moving to the current owner is a no-op; bad arguments are errors.
	if err := e.MoveSlot(slot, 2); err != nil || e.SlotMoves() != 1 {
		t.Fatalf("no-op move: %v, moves %d", err, e.SlotMoves())
	}
	if e.MoveSlot(-1, 0) == nil || e.MoveSlot(NumSlots, 0) == nil || e.MoveSlot(0, 3) == nil || e.MoveSlot(0, -1) == nil {
		t.Fatal("out-of-range move accepted")
	}
	// And back, with the rest of worker 2's slots in one hand-off.
	var two []int
	e.Do(func(*Worker) { two = slices.Clone(e.Worker(2).owned) })
	if err := e.MoveSlots(two, 1); err != nil {
		t.Fatal(err)
	}
	if e.Worker(2).NumOwned() != 0 || e.Worker(1).NumOwned() != 2*NumSlots/3+1 {
		t.Fatalf("owned %d %d", e.Worker(1).NumOwned(), e.Worker(2).NumOwned())
	}
	ownedEverywhere(t, e)
	onOwner(e, k, func(d DB) {
		if o := d.Lookup([]byte(k)); d.w.ID() != 1 || o == nil {
			t.Errorf("after the second move: worker %d, value %v", d.w.ID(), o)
		}
	})
}

// TestMigrateStaleBatch: a batch routed before a move reaches the old
// owner afterwards; the jobs before the first one for a moved slot run,
// that one and the rest are sent back unrun.
func TestMigrateStaleBatch(t *testing.T) {
	e := New(Config{Workers: 2, SampleEvery: -1})
	e.Start(0)
	defer e.Close()
	stay, move := keyOn(e, "s", 0), keyOn(e, "m", 0)
	old := e.SlotMap().Epoch
	if err := e.MoveSlot(KeySlot([]byte(move)), 1); err != nil {
		t.Fatal(err)
	}
	var ran []string
	job := func(k string) Job {
		return &keyJob{slot: KeySlot([]byte(k)), fn: func(*Worker) { ran = append(ran, k) }}
	}
	var wg sync.WaitGroup
	wg.Add(1)
	b := &Batch{Jobs: []Job{job(stay), job(move), job(stay)}, Done: &wg, Epoch: old}
	e.Worker(0).Submit(b)
	wg.Wait()
	if b.Ran != 1 || fmt.Sprint(ran) != fmt.Sprintf("[%s]", stay) || e.Bounced() != 2 {
		t.Fatalf("Ran %d, ran %v, bounced %d", b.Ran, ran, e.Bounced())
	}
	// The same batch routed with the current map runs whole; so does one
	// without an epoch (jobs not routed by slot).
	for _, ep := range []uint64{e.SlotMap().Epoch, 0} {
		ran = nil
		wg.Add(1)
		b = &Batch{Jobs: []Job{job(stay), job(stay)}, Done: &wg, Epoch: ep}
		if !e.Worker(0).TryRun(b) {
			e.Worker(0).Submit(b)
		}
		wg.Wait()
		if b.Ran != 2 || len(ran) != 2 {
			t.Fatalf("epoch %d: Ran %d, ran %v", ep, b.Ran, ran)
		}
	}
	// RunOnKey follows the slot.
	var on int
	e.RunOnKey([]byte(move), func(w *Worker) { on = w.ID() })
	if on != 1 {
		t.Fatalf("RunOnKey ran on %d", on)
	}
}

// TestMigrateWaiters: blocked clients move with their slot, are served by
// the new owner, and are removed wherever their slot went.
func TestMigrateWaiters(t *testing.T) {
	e := New(Config{Workers: 3, SampleEvery: -1})
	e.Start(0)
	defer e.Close()
	q := keyOn(e, "q", 0)
	slot := KeySlot([]byte(q))
	var got1, got2 []string
	w1 := blkWaiter([]string{q}, "", &got1)
	w2 := blkWaiter([]string{q}, "", &got2)
	blkRegister(e, w1)
	blkRegister(e, w2)
	if err := e.MoveSlot(slot, 1); err != nil {
		t.Fatal(err)
	}
	onOwner(e, q, func(d DB) { blkPush(d, q, "a") })
	<-w1.Done()
	if fmt.Sprint(got1, got2) != fmt.Sprintf("[%s=a] []", q) || e.BlockedClients() != 1 {
		t.Fatalf("served %v %v, blocked %d", got1, got2, e.BlockedClients())
	}
	e.RemoveWaiter(w1)
	// w2 times out (claimed elsewhere), its slot moves, then it is
	// removed: the removal follows the slot.
	if !w2.Claim() {
		t.Fatal("claim")
	}
	w2.Finish()
	if err := e.MoveSlot(slot, 2); err != nil {
		t.Fatal(err)
	}
	e.RemoveWaiter(w2)
	if err := e.MoveSlot(slot, 0); err != nil {
		t.Fatal(err)
	}
	if n := e.WaiterEntries(); n != 0 {
		t.Fatalf("%d entries left", n)
	}

	// A mover (BLMOVE-like) whose target's slot moves while it waits,
	// and a waiter on the target: both are served once.
	src, dst := keyOn(e, "src", 0), keyOn(e, "dst", 1)
	var gotMove, gotDst []string
	mover := blkWaiter([]string{src}, dst, &gotMove)
	blkRegister(e, mover)
	waitDst := blkWaiter([]string{dst}, "", &gotDst)
	blkRegister(e, waitDst)
	if err := e.MoveSlot(KeySlot([]byte(dst)), 2); err != nil {
		t.Fatal(err)
	}
	onOwner(e, src, func(d DB) { blkPush(d, src, "m") })
	<-mover.Done()
	<-waitDst.Done()
	if fmt.Sprint(gotMove, gotDst) != fmt.Sprintf("[%s=m] [%s=m]", src, dst) {
		t.Fatalf("move %v, then %v", gotMove, gotDst)
	}
	e.RemoveWaiter(mover)
	e.RemoveWaiter(waitDst)
	if n, b := e.WaiterEntries(), e.BlockedClients(); n != 0 || b != 0 {
		t.Fatalf("%d entries, %d blocked", n, b)
	}
}

// TestMigrateAddRemoveWorker: a worker added owns nothing until slots move
// to it; removing the last worker spreads its slots (and their keys) over
// the others; a batch routed to a removed worker is sent back.
func TestMigrateAddRemoveWorker(t *testing.T) {
	e := New(Config{Workers: 2, SampleEvery: -1})
	e.Start(10)
	defer e.Close()
	if err := e.RemoveWorker(); err != nil {
		t.Fatal(err)
	}
	if e.RemoveWorker() != ErrLastWorker || e.NumWorkers() != 1 {
		t.Fatalf("removed the last worker")
	}
	ownedEverywhere(t, e)
	for want := 1; want <= 3; want++ {
		id, err := e.AddWorker()
		if err != nil || id != want || e.NumWorkers() != want+1 || e.Worker(id).NumOwned() != 0 {
			t.Fatalf("AddWorker: %d %v, %d workers", id, err, e.NumWorkers())
		}
	}
	// Keys everywhere, then give worker 3 a quarter of the slots.
	const n = 2000
	e.Do(func(w *Worker) {
		d := e.DB(w, 0)
		for i := range n {
			d.SetString([]byte("key:"+strconv.Itoa(i)), []byte(strconv.Itoa(i)), 0)
		}
	})
	var quarter []int
	for s := 0; s < NumSlots; s += 4 {
		quarter = append(quarter, s)
	}
	if err := e.MoveSlots(quarter, 3); err != nil {
		t.Fatal(err)
	}
	ownedEverywhere(t, e)
	if e.Worker(3).NumOwned() != NumSlots/4 {
		t.Fatalf("worker 3 owns %d", e.Worker(3).NumOwned())
	}
	k3 := keyOn(e, "key:", 3)
	stale := e.SlotMap().Epoch
	if err := e.RemoveWorker(); err != nil {
		t.Fatal(err)
	}
	ownedEverywhere(t, e)
	if e.NumWorkers() != 3 || len(e.Workers()) != 3 {
		t.Fatalf("%d workers", e.NumWorkers())
	}
	for i := range n {
		k := "key:" + strconv.Itoa(i)
		e.RunOnKey([]byte(k), func(w *Worker) {
			d := e.DB(w, 0)
			if o := d.Lookup([]byte(k)); o == nil || string(o.Str) != strconv.Itoa(i) {
				t.Errorf("%s lost", k)
			}
		})
	}
	// Something routed to the retired worker before its removal.
	var wg sync.WaitGroup
	wg.Add(1)
	ran := false
	b := &Batch{Jobs: []Job{&keyJob{slot: KeySlot([]byte(k3)), fn: func(*Worker) { ran = true }}}, Done: &wg, Epoch: stale}
	e.Worker(3).Submit(b)
	wg.Wait()
	if ran || b.Ran != 0 {
		t.Fatalf("retired worker ran a job (Ran %d)", b.Ran)
	}
	// A retired worker comes back when one is added again.
	if id, err := e.AddWorker(); err != nil || id != 3 || e.Worker(3).NumOwned() != 0 {
		t.Fatalf("re-add: %d %v", id, err)
	}
	e.RunExpireCycle()
	var keys int
	e.Do(func(w *Worker) { d := e.DB(w, 0); keys = d.Len(AllSlots) })
	if keys != n {
		t.Fatalf("%d keys, want %d", keys, n)
	}
}

// TestMigrateLoad: lookups count per slot, the sampler turns counts into
// rates, counts follow a moved slot, and the worker counters add up.
func TestMigrateLoad(t *testing.T) {
	e := New(Config{Workers: 2, SampleEvery: -1})
	e.Start(0)
	defer e.Close()
	hot, warm := keyOn(e, "hot", 0), keyOn(e, "warm", 1)
	for range 300 {
		e.RunOnKey([]byte(hot), func(w *Worker) { d := e.DB(w, 0); d.Lookup([]byte(hot)) })
	}
	for range 100 {
		e.RunOnKey([]byte(warm), func(w *Worker) { d := e.DB(w, 0); d.Lookup([]byte(warm)) })
	}
	// The hot slot moves before the sample: its count goes with it.
	hs, ws := KeySlot([]byte(hot)), KeySlot([]byte(warm))
	if err := e.MoveSlot(hs, 1); err != nil {
		t.Fatal(err)
	}
	e.SampleLoad()
	if e.SlotOps(hs) <= e.SlotOps(ws) || e.SlotOps(ws) <= 0 {
		t.Fatalf("rates hot %v warm %v", e.SlotOps(hs), e.SlotOps(ws))
	}
	top := e.HotSlots(5, -1)
	if len(top) != 2 || top[0].Slot != hs || top[0].Worker != 1 || top[1].Slot != ws {
		t.Fatalf("HotSlots %+v", top)
	}
	if h := e.HotSlots(5, 0); len(h) != 0 {
		t.Fatalf("worker 0 hot slots %+v", h)
	}
	// With no more traffic the rates decay.
	r := e.SlotOps(hs)
	e.SampleLoad()
	if e.SlotOps(hs) >= r {
		t.Fatalf("rate %v did not decay from %v", e.SlotOps(hs), r)
	}
	ls := e.LoadStats()
	var jobs int64
	for i, l := range ls {
		if l.ID != i || l.Owned != e.Worker(i).NumOwned() || l.Batches == 0 || l.BusyNanos <= 0 {
			t.Errorf("load %+v", l)
		}
		jobs += l.Jobs
	}
	if len(ls) != 2 || jobs < 400 {
		t.Fatalf("load %+v", ls)
	}
}

// TestMigrateChurn: goroutines increment counters with RunOnKey and move
// amounts between two keys with RunOnKeys while slots move at random and
// workers come and go. Under -race this checks every hand-off; at the end
// every counter equals its increments and the transfers kept the total.
func TestMigrateChurn(t *testing.T) {
	e := New(Config{Workers: 3, SampleEvery: -1})
	e.Start(10)
	defer e.Close()
	const counters = 200
	const goroutines = 8
	const iters = 600
	var want [counters]atomic.Int64
	ctr := func(i int) []byte { return []byte("ctr:" + strconv.Itoa(i)) }
	incr := func(w *Worker, k []byte, by int64) {
		d := e.DB(w, 0)
		n := int64(0)
		if o := d.Lookup(k); o != nil {
			n, _ = strconv.ParseInt(string(o.Str), 10, 64)
		}
		d.SetString(k, strconv.AppendInt(nil, n+by, 10), 0)
	}
	stop := make(chan struct{})
	var moverWG sync.WaitGroup
	var moved, changes atomic.Int64
	moverWG.Add(1)
	go func() {
		defer moverWG.Done()
		rng := rand.New(rand.NewPCG(1, 2))
		for {
			select {
			case <-stop:
				return
			default:
			}
			switch r := rng.IntN(50); {
			case r == 0 && e.NumWorkers() < 5:
				if _, err := e.AddWorker(); err != nil {
					t.Error(err)
				}
				changes.Add(1)
			case r == 1 && e.NumWorkers() > 2:
				if err := e.RemoveWorker(); err != nil {
					t.Error(err)
				}
				changes.Add(1)
			default:
				// Mostly the counters' slots, so that moves meet traffic.
				s := KeySlot(ctr(rng.IntN(counters)))
				if err := e.MoveSlot(s, rng.IntN(e.NumWorkers())); err != nil {
					t.Error(err)
				}
				moved.Add(1)
			}
		}
	}()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 9))
			for range iters {
				a, b := rng.IntN(counters), rng.IntN(counters)
				if rng.IntN(4) == 0 && a != b {
					// Move 1 from a to b atomically: the total is kept.
					e.RunOnKeys([][]byte{ctr(a), ctr(b)}, func(w *Worker) {
						incr(w, ctr(a), -1)
						incr(w, ctr(b), 1)
					})
					want[a].Add(-1)
					want[b].Add(1)
					continue
				}
				e.RunOnKey(ctr(a), func(w *Worker) { incr(w, ctr(a), 1) })
				want[a].Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	moverWG.Wait()
	ownedEverywhere(t, e)
	e.Do(func(w *Worker) {
		d := e.DB(w, 0)
		for i := range counters {
			var n int64
			if o := d.Lookup(ctr(i)); o != nil {
				n, _ = strconv.ParseInt(string(o.Str), 10, 64)
			}
			if n != want[i].Load() {
				t.Errorf("counter %d = %d, want %d", i, n, want[i].Load())
			}
		}
	})
	t.Logf("%d ops by %d goroutines; %d slot moves, %d worker changes, %d jobs sent back",
		goroutines*iters, goroutines, moved.Load(), changes.Load(), e.Bounced())
}
