package shard

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"unsafe"
)

// TestShardTableLayout pins the Object size: 80 bytes is one size class,
// with the key inline.
func TestShardTableLayout(t *testing.T) {
	if s := unsafe.Sizeof(Object{}); s != 80 {
		t.Fatalf("Object is %d bytes, want 80", s)
	}
}

// tableCheck verifies t's invariants: counts, every entry reachable from
// its home position without crossing an empty one, hashes match the keys.
func tableCheck(t *testing.T, tb *table, model map[string]*Object) {
	t.Helper()
	if tb == nil {
		if len(model) != 0 {
			t.Fatalf("no table, model has %d keys", len(model))
		}
		return
	}
	if tb.n != len(model) {
		t.Fatalf("n = %d, model %d", tb.n, len(model))
	}
	seen := 0
	n := len(tb.hs)
	for i, h := range tb.hs {
		if h == 0 {
			if tb.objs[i] != nil {
				t.Fatalf("empty position %d holds an object", i)
			}
			continue
		}
		seen++
		o := tb.objs[i]
		k := o.key()
		if model[k] != o {
			t.Fatalf("position %d: key %q not in model", i, k)
		}
		if _, hh := keyHashString(k); hh != h {
			t.Fatalf("position %d: hash %x, key hashes to %x", i, h, hh)
		}
		for j := home(h, n); j != i; j = (j + 1) % n {
			if tb.hs[j] == 0 {
				t.Fatalf("position %d unreachable: empty %d after home", i, j)
			}
		}
	}
	if seen != len(model) {
		t.Fatalf("%d entries, model %d", seen, len(model))
	}
	if n > 0 && tb.n*100 > n*tableMaxLoad {
		t.Fatalf("load %d/%d", tb.n, n)
	}
}

// TestShardTableModel runs random adds, overwrites, deletes, renames and
// expiries against a map and checks the table after every step.
func TestShardTableModel(t *testing.T) {
	now := int64(1_700_000_000_000)
	e := New(Config{Workers: 1, Databases: 2, Clock: func() int64 { return now }})
	defer e.Close()
	d := e.DB(e.Worker(0), 1)
	rng := rand.New(rand.NewPCG(1, 2))
	// Keys of one slot (hash tag), short and long, so one table grows,
	// shrinks and sees long probe runs.
	keys := make([][]byte, 400)
	for i := range keys {
		if i%3 == 0 {
			keys[i] = []byte("{t}" + strconv.Itoa(i))
		} else {
			keys[i] = []byte("{t}:a-rather-long-key-name:" + strconv.Itoa(i))
		}
	}
	slot := KeySlot(keys[0])
	model := map[string]*Object{}
	vol := map[string]bool{}
	for step := 0; step < 40000; step++ {
		k := keys[rng.IntN(len(keys))]
		// Grow to most keys, then shrink back to few, twice.
		phase := (step / 10000) % 2
		switch r := rng.IntN(10); {
		case r < 5-phase*3:
			exp := int64(0)
			if rng.IntN(4) == 0 {
				exp = now + 1000
			}
			o := d.SetString(k, []byte("v"+strconv.Itoa(step)), exp)
			model[string(k)] = o
			vol[string(k)] = exp != 0
		case r < 9:
			_, had := model[string(k)]
			if d.Delete(k) != had {
				t.Fatalf("step %d: Delete(%s) != %v", step, k, had)
			}
			delete(model, string(k))
			delete(vol, string(k))
		default: // rename k to another key
			k2 := keys[rng.IntN(len(keys))]
			o := d.Lookup(k)
			if o == nil || string(k2) == string(k) {
				continue
			}
			d.Delete(k)
			d.Add(k2, o)
			delete(model, string(k))
			model[string(k2)] = o
			vol[string(k2)] = vol[string(k)]
			delete(vol, string(k))
		}
		tb := e.slots[slot].get(1)
		if step%97 == 0 || len(model) < 20 {
			tableCheck(t, tb, model)
		}
		for ks, o := range model {
			if got := d.Lookup([]byte(ks)); got != o {
				t.Fatalf("step %d: Lookup(%s) = %p, want %p", step, ks, got, o)
			}
			break
		}
		nv := 0
		for _, v := range vol {
			if v {
				nv++
			}
		}
		if got := d.VolatileLen([]int{slot}); got != nv || int(e.slots[slot].nvol) != nv {
			t.Fatalf("step %d: VolatileLen %d, slot count %d, want %d", step, got, e.slots[slot].nvol, nv)
		}
	}
	// ForEach sees every key once.
	seen := map[string]int{}
	d.ForEach(slot, func(k string, o *Object) bool {
		seen[k]++
		if model[k] != o {
			t.Fatalf("ForEach %q", k)
		}
		return true
	})
	if len(seen) != len(model) {
		t.Fatalf("ForEach saw %d keys, want %d", len(seen), len(model))
	}
	// Everything volatile expires through the active cycle.
	now += 2000
	for range 100 {
		e.Worker(0).ActiveExpireCycle()
	}
	for k, v := range vol {
		if v {
			delete(model, k)
		}
	}
	tableCheck(t, e.slots[slot].get(1), model)
	if e.slots[slot].nvol != 0 || d.VolatileLen([]int{slot}) != 0 {
		t.Fatalf("volatile keys left: %d", e.slots[slot].nvol)
	}
	// RandomKey returns live keys; Flush empties.
	for range 50 {
		k, ok := d.RandomKey([]int{slot}, rng.IntN)
		if ok != (len(model) > 0) || (ok && model[k] == nil) {
			t.Fatalf("RandomKey = %q %v", k, ok)
		}
	}
	d.Flush([]int{slot})
	if d.SlotLen(slot) != 0 || e.slots[slot].nvol != 0 {
		t.Fatal("Flush")
	}
}

// TestShardTableSwapDB swaps tables, including with an absent database.
func TestShardTableSwapDB(t *testing.T) {
	e := New(Config{Workers: 1, Databases: 3})
	defer e.Close()
	d0, d2 := e.DB(e.Worker(0), 0), e.DB(e.Worker(0), 2)
	d0.SetString([]byte("a"), []byte("1"), 0)
	e.SwapDB(0, 2)
	if d0.Exists([]byte("a")) || !d2.Exists([]byte("a")) {
		t.Fatal("SwapDB 0 2")
	}
	e.SwapDB(1, 2)
	d1 := e.DB(e.Worker(0), 1)
	if d2.Exists([]byte("a")) || !d1.Exists([]byte("a")) {
		t.Fatal("SwapDB 1 2")
	}
}

// BenchmarkExpireCycleIdle: an active-expiry tick over every slot of a
// 16-database keyspace that has keys but none with an expiry.
func BenchmarkExpireCycleIdle(b *testing.B) {
	e := New(Config{Workers: 1, Databases: 16})
	b.Cleanup(e.Close)
	w := e.Worker(0)
	for db := range 16 {
		d := e.DB(w, db)
		for i := range 20000 {
			d.SetString([]byte("key:"+strconv.Itoa(i)), []byte("v"), 0)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		w.ActiveExpireCycle()
	}
}
