package shard

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// jobFunc adapts a function to a Job.
type jobFunc func(w *Worker)

func (f jobFunc) Run(w *Worker) { f(w) }

// onOwner runs fn on the worker owning key's slot, as the server runs a
// single-worker command, and waits for it.
func onOwner(e *Engine, key string, fn func(d DB)) {
	var wg sync.WaitGroup
	wg.Add(1)
	w := e.Worker(e.WorkerOf([]byte(key)))
	w.Submit(&Batch{Jobs: []Job{jobFunc(func(w *Worker) { fn(e.DB(w, 0)) })}, Done: &wg})
	wg.Wait()
}

// testClock is an injected Unix-ms clock.
type testClock struct{ ms atomic.Int64 }

func (c *testClock) now() int64       { return c.ms.Load() }
func (c *testClock) advance(d int64)  { c.ms.Add(d) }
func newClock(start int64) *testClock { c := &testClock{}; c.ms.Store(start); return c }

type expiredLog struct {
	mu   sync.Mutex
	keys []string
}

func (l *expiredLog) add(db int, key string) {
	l.mu.Lock()
	l.keys = append(l.keys, fmt.Sprintf("%d/%s", db, key))
	l.mu.Unlock()
}

func (l *expiredLog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

func totalExpired(e *Engine) int64 {
	var n int64
	for _, w := range e.Workers() {
		n += w.Stats.Expired()
	}
	return n
}

// TestShardExpireLazy: a key whose time has come is gone on the next
// access, reclaimed, counted and reported, and not a millisecond earlier.
func TestShardExpireLazy(t *testing.T) {
	clk := newClock(1_700_000_000_000)
	var log expiredLog
	e := New(Config{Workers: 2, Databases: 4, Clock: clk.now, OnExpire: log.add})
	e.Start(0)
	defer e.Close()

	t0 := clk.now()
	onOwner(e, "k", func(d DB) {
		d.SetString([]byte("k"), []byte("v"), t0+100)
		d.SetString([]byte("p"), []byte("persistent"), 0)
	})
	onOwner(e, "k", func(d DB) {
		if d.VolatileLen(AllSlots) != 1 {
			t.Errorf("volatile %d, want 1", d.VolatileLen(AllSlots))
		}
	})
	clk.advance(99)
	onOwner(e, "k", func(d DB) {
		if o := d.LookupRead([]byte("k")); o == nil || string(o.Str) != "v" {
			t.Errorf("key gone 1 ms before its time")
		}
	})
	clk.advance(1)
	// Not yet touched: still counted by Len (DBSIZE counts unreclaimed
	// keys, as Redis does) but invisible to ForEach and lookups.
	onOwner(e, "k", func(d DB) {
		s := KeySlot([]byte("k"))
		if d.SlotLen(s) == 0 {
			t.Errorf("key reclaimed before any access")
		}
		d.ForEach(s, func(key string, o *Object) bool {
			if key == "k" {
				t.Errorf("ForEach returned an expired key")
			}
			return true
		})
		if d.Exists([]byte("k")) {
			t.Errorf("expired key exists")
		}
	})
	onOwner(e, "k", func(d DB) {
		if d.Lookup([]byte("k")) != nil || d.LookupRead([]byte("k")) != nil || d.Delete([]byte("k")) {
			t.Errorf("expired key still visible")
		}
		if d.VolatileLen(AllSlots) != 0 {
			t.Errorf("volatile bookkeeping kept an expired key")
		}
	})
	if n := totalExpired(e); n != 1 {
		t.Fatalf("expired counter %d, want 1", n)
	}
	if log.len() != 1 || log.keys[0] != "0/k" {
		t.Fatalf("OnExpire calls %q", log.keys)
	}
	onOwner(e, "p", func(d DB) {
		if d.Lookup([]byte("p")) == nil {
			t.Errorf("persistent key expired")
		}
	})

	// Persist and re-expire through SetExpire / SetString.
	onOwner(e, "x", func(d DB) {
		o := d.SetString([]byte("x"), []byte("1"), clk.now()+10)
		d.SetExpire([]byte("x"), o, 0)
		if d.VolatileLen(AllSlots) != 0 {
			t.Errorf("persisted key still volatile")
		}
		d.SetExpire([]byte("x"), o, clk.now()+10)
		d.SetString([]byte("x"), []byte("2"), 0) // a plain SET clears the TTL
		if o.Expire != 0 || d.VolatileLen(AllSlots) != 0 {
			t.Errorf("SetString kept the expiry")
		}
	})
	clk.advance(1000)
	onOwner(e, "x", func(d DB) {
		if o := d.Lookup([]byte("x")); o == nil || string(o.Str) != "2" {
			t.Errorf("persisted key lost")
		}
	})
}

// TestShardExpireActive: the active cycle reclaims every expired key on
// every worker without any access, leaves live ones alone, and counts them.
func TestShardExpireActive(t *testing.T) {
	clk := newClock(1_700_000_000_000)
	var log expiredLog
	e := New(Config{Workers: 4, Databases: 3, Clock: clk.now, OnExpire: log.add})
	e.Start(0) // no ticker: cycles run only when the test asks
	defer e.Close()

	t0 := clk.now()
	const n = 3000
	e.Do(func(w *Worker) {
		for i := 0; i < n; i++ {
			d := e.DB(w, i%3)
			key := []byte(fmt.Sprintf("key:%d", i))
			switch i % 4 {
			case 0, 1:
				d.SetString(key, []byte("soon"), t0+10)
			case 2:
				d.SetString(key, []byte("later"), t0+1_000_000)
			default:
				d.SetString(key, []byte("never"), 0)
			}
		}
	})
	counts := func() (live, volatile int) {
		e.Do(func(w *Worker) {
			for db := 0; db < 3; db++ {
				d := e.DB(w, db)
				live += d.Len(AllSlots)
				volatile += d.VolatileLen(AllSlots)
			}
		})
		return
	}
	e.RunExpireCycle()
	if live, vol := counts(); live != n || vol != n*3/4 || totalExpired(e) != 0 {
		t.Fatalf("before the deadline: live %d volatile %d expired %d", live, vol, totalExpired(e))
	}

	clk.advance(10)
	cycles := 0
	for ; cycles < 10000; cycles++ {
		if _, vol := counts(); vol == n/4 {
			break
		}
		e.RunExpireCycle()
	}
	live, vol := counts()
	if live != n/2 || vol != n/4 {
		t.Fatalf("after %d cycles: live %d volatile %d, want %d %d", cycles, live, vol, n/2, n/4)
	}
	if got := totalExpired(e); got != n/2 {
		t.Fatalf("expired counter %d, want %d", got, n/2)
	}
	if log.len() != n/2 {
		t.Fatalf("OnExpire called %d times, want %d", log.len(), n/2)
	}
	var ran int64
	for _, w := range e.Workers() {
		ran += w.Stats.ExpireCycles.Load()
	}
	if ran < int64(e.NumWorkers()) {
		t.Fatalf("ExpireCycles %d", ran)
	}
	// Every surviving key is one that should survive.
	e.Do(func(w *Worker) {
		for db := 0; db < 3; db++ {
			d := e.DB(w, db)
			for _, s := range AllSlots {
				d.ForEach(s, func(key string, o *Object) bool {
					if string(o.Str) == "soon" {
						t.Errorf("expired key %s survived", key)
					}
					return true
				})
			}
		}
	})
	t.Logf("%d cycles reclaimed %d keys", cycles, n/2)
}

// TestShardBarrierRace: many goroutines submit single-worker jobs,
// barriers over random worker subsets and Engine.Do concurrently. Every
// worker's data (a plain counter) is touched without locks, by its worker
// or by a barrier holding it: the race detector checks the hand-offs, the
// totals check that every job ran exactly once, and the test finishing
// shows that barriers do not deadlock.
func TestShardBarrierRace(t *testing.T) {
	const workers = 4
	e := New(Config{Workers: workers})
	e.Start(0)
	defer e.Close()

	var data [workers]int // data[i] is owned by worker i
	var want [workers]atomic.Int64

	const goroutines = 16
	const iters = 300
	var wg sync.WaitGroup
	done := make(chan struct{})
	for g := 0; g < goroutines; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			var bwg sync.WaitGroup
			for i := 0; i < iters; i++ {
				switch rng.IntN(8) {
				case 0:
					e.Do(func(w *Worker) {
						for j := range data {
							data[j]++
						}
					})
					for j := range want {
						want[j].Add(1)
					}
				case 1, 2, 3:
					w := rng.IntN(workers)
					bwg.Add(1)
					e.Worker(w).Submit(&Batch{Jobs: []Job{jobFunc(func(x *Worker) {
						if x.ID() != w {
							panic("job on the wrong worker")
						}
						data[w]++
					})}, Done: &bwg})
					want[w].Add(1)
					bwg.Wait()
				default:
					// A pipeline batch: a barrier over a random subset,
					// followed by a plain job on each member.
					var held []int
					for j := 0; j < workers; j++ {
						if rng.IntN(2) == 0 {
							held = append(held, j)
						}
					}
					if len(held) == 0 {
						held = append(held, rng.IntN(workers))
					}
					b := NewBarrier(len(held), func(*Worker) {
						for _, j := range held {
							data[j] += 10
						}
					})
					e.LockMulti()
					for _, j := range held {
						bwg.Add(1)
						jj := j
						e.Worker(j).Submit(&Batch{Jobs: []Job{b, jobFunc(func(*Worker) { data[jj]++ })}, Done: &bwg})
						want[j].Add(11)
					}
					e.UnlockMulti()
					bwg.Wait()
				}
			}
		}()
	}
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("barriers deadlocked")
	}
	e.Do(func(*Worker) {
		for j := range data {
			if int64(data[j]) != want[j].Load() {
				t.Errorf("worker %d: counter %d, want %d", j, data[j], want[j].Load())
			}
		}
	})
}

// TestShardGateAtomic: gated parts over several workers observe one
// instant. Writers set every worker's value to the same number through a
// gate; readers read every worker's value through a gate and must never
// see two different numbers.
func TestShardGateAtomic(t *testing.T) {
	const workers = 4
	e := New(Config{Workers: workers})
	e.Start(0)
	defer e.Close()

	var vals [workers]int // vals[i] owned by worker i
	gated := func(fn func(w *Worker)) {
		var wg sync.WaitGroup
		g := NewGate(workers)
		e.LockMulti()
		for i := 0; i < workers; i++ {
			wg.Add(1)
			e.Worker(i).Submit(&Batch{Jobs: []Job{jobFunc(func(w *Worker) {
				g.Arrive()
				fn(w)
			})}, Done: &wg})
		}
		e.UnlockMulti()
		wg.Wait()
	}

	const goroutines = 12
	const iters = 250
	errs := make(chan string, goroutines)
	var wg sync.WaitGroup
	for gr := 0; gr < goroutines; gr++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < iters; i++ {
				if gr%2 == 0 {
					v := gr*iters + i + 1
					gated(func(w *Worker) { vals[w.ID()] = v })
					continue
				}
				var seen [workers]int
				gated(func(w *Worker) { seen[w.ID()] = vals[w.ID()] })
				for j := 1; j < workers; j++ {
					if seen[j] != seen[0] {
						errs <- fmt.Sprintf("mixed read %v", seen)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}

	// A gate of one opens at once.
	g := NewGate(1)
	g.Arrive()
}

// TestShardHashTag follows the Redis Cluster hash tag rules.
func TestShardHashTag(t *testing.T) {
	tests := []struct{ key, tag string }{
		{"{user1000}.following", "user1000"},
		{"{user1000}.followers", "user1000"},
		{"foo{}{bar}", "foo{}{bar}"},
		{"foo{{bar}}zap", "{bar"},
		{"foo{bar}{zap}", "bar"},
		{"foo}{bar}", "bar"},
		{"{}", "{}"},
		{"{", "{"},
		{"}", "}"},
		{"}{", "}{"},
		{"a{b", "a{b"},
		{"{a}", "a"},
		{"x{a}", "a"},
		{"{}{a}", "{}{a}"},
		{"", ""},
		{"plain", "plain"},
	}
	for _, tc := range tests {
		if got := string(HashTag([]byte(tc.key))); got != tc.tag {
			t.Errorf("HashTag(%q) = %q, want %q", tc.key, got, tc.tag)
		}
	}
	if KeySlot([]byte("{user1000}.following")) != KeySlot([]byte("{user1000}.followers")) ||
		KeySlot([]byte("{user1000}.following")) != KeySlot([]byte("user1000")) {
		t.Fatalf("keys with one tag in different slots")
	}
	if KeySlot([]byte("{}a")) == KeySlot([]byte("{}b")) && KeySlot([]byte("{}c")) == KeySlot([]byte("{}a")) {
		t.Fatalf("an empty tag must not group keys")
	}
}

// TestShardKeySlotStable pins KeySlot: slot numbers decide which worker
// owns a key, and must not change between builds.
func TestShardKeySlotStable(t *testing.T) {
	golden := []struct {
		key  string
		slot int
	}{
		{"", 10649},
		{"a", 11867},
		{"b", 8091},
		{"foo", 14911},
		{"user1000", 2839},
		{"{user1000}.following", 2839},
		{"key:000123", 6025},
		{"hello world", 10600},
		{"\x00\xff", 7549},
	}
	for _, g := range golden {
		if s := KeySlot([]byte(g.key)); s != g.slot {
			t.Errorf("KeySlot(%q) = %d, want %d", g.key, s, g.slot)
		}
	}
	if KeySlot(nil) != KeySlot([]byte{}) {
		t.Errorf("nil and empty keys differ")
	}
	// Round-robin ownership spreads keys evenly over workers.
	e := New(Config{Workers: 4})
	var per [4]int
	for i := 0; i < 40000; i++ {
		k := []byte(fmt.Sprintf("key:%d", i))
		s := KeySlot(k)
		if s < 0 || s >= NumSlots {
			t.Fatalf("slot %d out of range", s)
		}
		per[e.WorkerOf(k)]++
	}
	for w, n := range per {
		if n < 9000 || n > 11000 {
			t.Errorf("worker %d owns %d of 40000 keys", w, n)
		}
	}
	for w := 0; w < 4; w++ {
		if e.Worker(w).NumOwned() != NumSlots/4 {
			t.Errorf("worker %d owns %d slots", w, e.Worker(w).NumOwned())
		}
	}
}

// TestShardObject covers value storage: copies, buffer reuse and kinds.
func TestShardObject(t *testing.T) {
	e := New(Config{Workers: 1})
	d := e.DB(e.Worker(0), 0) // engine not started: the test goroutine is the worker
	val := []byte("hello")
	d.SetString([]byte("k"), val, 0)
	val[0] = 'J'
	key := []byte("k")
	if o := d.Lookup(key); string(o.Str) != "hello" || o.Kind != KindString || o.Kind.String() != "string" {
		t.Fatalf("stored %q kind %v", o.Str, o.Kind)
	}
	key[0] = 'z'
	if d.Lookup([]byte("k")) == nil {
		t.Fatalf("stored key aliased the caller's bytes")
	}
	for k, name := range map[Kind]string{KindList: "list", KindSet: "set", KindZSet: "zset", KindHash: "hash", KindStream: "stream", 0: "none", 99: "unknown"} {
		if k.String() != name {
			t.Errorf("Kind(%d) = %q", k, k.String())
		}
	}
	// A steady-state overwrite with a same-sized value allocates nothing.
	k, v1, v2 := []byte("key:000123"), []byte("value-aaaa"), []byte("value-bbbb")
	d.SetString(k, v1, 0)
	a := testing.AllocsPerRun(200, func() {
		d.SetString(k, v2, 0)
		d.SetString(k, v1, 0)
		if d.LookupRead(k) == nil {
			t.Fatal("lost")
		}
	})
	if a != 0 {
		t.Fatalf("%.1f allocations per overwrite, want 0", a)
	}
	// A much smaller value does not keep a huge buffer alive.
	d.SetString(k, make([]byte, 1<<20), 0)
	d.SetString(k, []byte("x"), 0)
	if o := d.Lookup(k); cap(o.Str) > 64 {
		t.Fatalf("kept a %d-byte buffer for a 1-byte value", cap(o.Str))
	}
	if !d.Delete(k) || d.Delete(k) || d.Exists(k) {
		t.Fatalf("Delete")
	}
}
