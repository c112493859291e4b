package shard

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
)

// blkList is a test value: a slice of strings kept in Object.Val.
type blkList struct{ items []string }

func blkGet(d *DB, key []byte) *blkList {
	o := d.Lookup(key)
	if o == nil {
		return nil
	}
	l, _ := o.Val.(*blkList)
	return l
}

// blkPush appends to key's list, creating it through Add (which signals)
// or signalling explicitly for an existing one.
func blkPush(d DB, key string, vals ...string) {
	if l := blkGet(&d, []byte(key)); l != nil {
		l.items = append(l.items, vals...)
		d.SignalReady([]byte(key))
		return
	}
	d.Add([]byte(key), &Object{Kind: KindList, Val: &blkList{items: vals}})
}

// blkWaiter is a waiter that pops one element into got, and for a move
// pushes it onto target.
func blkWaiter(keys []string, target string, got *[]string) *Waiter {
	wt := &Waiter{}
	for _, k := range keys {
		wt.Keys = append(wt.Keys, []byte(k))
	}
	if target != "" {
		wt.Target = []byte(target)
	}
	wt.Ready = func(d *DB, key []byte) bool {
		l := blkGet(d, key)
		return l != nil && len(l.items) > 0
	}
	wt.Serve = func(d *DB, key []byte) {
		l := blkGet(d, key)
		v := l.items[0]
		l.items = l.items[1:]
		if len(l.items) == 0 {
			d.Delete(key)
		}
		*got = append(*got, string(key)+"="+v)
		if target != "" {
			blkPush(*d, target, v)
		}
	}
	return wt
}

// blkRegister runs Block in one barrier holding every worker.
func blkRegister(e *Engine, wt *Waiter) {
	e.Do(func(w *Worker) {
		d := e.DB(w, 0)
		d.Block(wt)
	})
}

func blkKeysOn(e *Engine, n int) []string {
	var keys []string
	used := map[int]bool{}
	for i := 0; len(keys) < n; i++ {
		k := "k" + strconv.Itoa(i)
		if w := e.WorkerOf([]byte(k)); !used[w] {
			used[w] = true
			keys = append(keys, k)
		}
	}
	return keys
}

func TestBlockingShardFIFO(t *testing.T) {
	e := New(Config{Workers: 3})
	e.Start(0)
	defer e.Close()
	got := make([][]string, 4)
	var ws []*Waiter
	for i := range got {
		wt := blkWaiter([]string{"q"}, "", &got[i])
		blkRegister(e, wt)
		ws = append(ws, wt)
	}
	if n := e.BlockedClients(); n != 4 {
		t.Fatalf("BlockedClients %d", n)
	}
	// The second is claimed elsewhere (a timeout): it is skipped.
	if !ws[1].Claim() {
		t.Fatal("claim")
	}
	ws[1].Finish()
	e.RemoveWaiter(ws[1])
	onOwner(e, "q", func(d DB) { blkPush(d, "q", "a", "b") })
	<-ws[0].Done()
	<-ws[2].Done()
	if fmt.Sprint(got) != "[[q=a] [] [q=b] []]" {
		t.Fatalf("served %v", got)
	}
	if n := e.BlockedClients(); n != 1 {
		t.Fatalf("BlockedClients %d", n)
	}
	if ws[3].Claimed() {
		t.Fatal("the last waiter was claimed with nothing to serve")
	}
	onOwner(e, "q", func(d DB) { blkPush(d, "q", "c") })
	<-ws[3].Done()
	if got[3][0] != "q=c" {
		t.Fatalf("last: %v", got[3])
	}
	for _, wt := range ws {
		e.RemoveWaiter(wt)
	}
	if n := e.WaiterEntries(); n != 0 {
		t.Fatalf("%d entries left", n)
	}
}

// TestBlockingShardAcrossWorkers: a waiter on keys of several workers is
// served once; a mover whose target is on another worker is served from a
// barrier and feeds the target's waiter.
func TestBlockingShardAcrossWorkers(t *testing.T) {
	e := New(Config{Workers: 4})
	e.Start(0)
	defer e.Close()
	keys := blkKeysOn(e, 3)
	var gotA, gotMove, gotB []string
	a := blkWaiter(keys, "", &gotA)
	blkRegister(e, a)
	var wg sync.WaitGroup
	for _, k := range keys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			onOwner(e, k, func(d DB) { blkPush(d, k, "v") })
		}()
	}
	wg.Wait()
	<-a.Done()
	if len(gotA) != 1 {
		t.Fatalf("served %v", gotA)
	}
	e.RemoveWaiter(a)

	src, dst := keys[0]+"s", keys[1]
	for e.WorkerOf([]byte(src)) == e.WorkerOf([]byte(dst)) {
		src += "x"
	}
	onOwner(e, dst, func(d DB) { d.Delete([]byte(dst)) })
	mover := blkWaiter([]string{src}, dst, &gotMove)
	blkRegister(e, mover)
	b := blkWaiter([]string{dst}, "", &gotB)
	blkRegister(e, b)
	onOwner(e, src, func(d DB) { blkPush(d, src, "m") })
	<-mover.Done()
	<-b.Done()
	if fmt.Sprint(gotMove, gotB) != fmt.Sprintf("[%s=m] [%s=m]", src, dst) {
		t.Fatalf("move %v, then %v", gotMove, gotB)
	}
	e.RemoveWaiter(mover)
	e.RemoveWaiter(b)
	if n := e.WaiterEntries(); n != 0 {
		t.Fatalf("%d entries left", n)
	}
	if n := e.BlockedClients(); n != 0 {
		t.Fatalf("BlockedClients %d", n)
	}
}

// TestBlockingShardSignalNoWaiters: signalling a key without waiters, and
// duplicate keys in one waiter, cost nothing and register once.
func TestBlockingShardSignalNoWaiters(t *testing.T) {
	e := New(Config{Workers: 2})
	e.Start(0)
	defer e.Close()
	onOwner(e, "k", func(d DB) {
		d.SignalReady([]byte("k"))
		if len(d.w.ready) != 0 {
			t.Errorf("ready list %v", d.w.ready)
		}
	})
	var got []string
	wt := blkWaiter([]string{"k", "k"}, "", &got)
	blkRegister(e, wt)
	if n := e.WaiterEntries(); n != 1 {
		t.Fatalf("%d entries for a key named twice", n)
	}
	onOwner(e, "k", func(d DB) { blkPush(d, "k", "1", "2") })
	<-wt.Done()
	if fmt.Sprint(got) != "[k=1]" {
		t.Fatalf("served %v", got)
	}
	e.RemoveWaiter(wt)
	if n := e.WaiterEntries(); n != 0 {
		t.Fatalf("%d entries left", n)
	}
}
