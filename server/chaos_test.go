package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/server/servertest"
	"github.com/kvd/kvd/shard"
)

// TestChaosSlotMoves: while 50 clients run INCR on 1,000 counters (single,
// in pipelines of 16, and sweeps of all 1,000 in one pipeline), MSET/MGET pairs whose keys live on different workers,
// and BLPOP/LPUSH hand-offs (each consumer waits on two lists of different
// workers), a mover moves a random slot every millisecond (mostly the
// slot of a key in use) and adds or removes a worker every 100
// moves. Afterwards every counter equals its acknowledged INCRs, no MGET
// saw half an MSET, no reply was an error, and every pushed element was
// popped by exactly one consumer (no blocked client lost). The op counts
// are fixed; the test runs a few seconds under -race.
func TestChaosSlotMoves(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	e := s.Engine()
	ctx := context.Background()

	const (
		counters      = 1000
		incrClients   = 28
		sweepClients  = 2
		sweepRounds   = 3
		incrOps       = 200 // per client; every 4th op is a pipeline of 16 INCRs
		pairClients   = 10
		pairOps       = 300
		pairs         = 20
		queues        = 5 // consumer/producer couples
		itemsPerQueue = 300
	)
	ctr := func(i int) string { return "ctr:" + strconv.Itoa(i) }
	var pairKeys [pairs][2]string
	for p := range pairKeys {
		a := fmt.Sprintf("pair:%d:a", p)
		b := fmt.Sprintf("pair:%d:b", p)
		for i := 0; e.WorkerOf([]byte(b)) == e.WorkerOf([]byte(a)); i++ {
			b = fmt.Sprintf("pair:%d:b%d", p, i)
		}
		pairKeys[p] = [2]string{a, b}
	}
	var queueKeys [queues][2]string
	for q := range queueKeys {
		a := fmt.Sprintf("queue:%d:a", q)
		b := fmt.Sprintf("queue:%d:b", q)
		for i := 0; e.WorkerOf([]byte(b)) == e.WorkerOf([]byte(a)); i++ {
			b = fmt.Sprintf("queue:%d:b%d", q, i)
		}
		queueKeys[q] = [2]string{a, b}
	}
	// The slots of every key in use, for the mover.
	var hotSlots []int
	for i := range counters {
		hotSlots = append(hotSlots, shard.KeySlot([]byte(ctr(i))))
	}
	for _, p := range pairKeys {
		hotSlots = append(hotSlots, shard.KeySlot([]byte(p[0])), shard.KeySlot([]byte(p[1])))
	}
	for _, q := range queueKeys {
		hotSlots = append(hotSlots, shard.KeySlot([]byte(q[0])), shard.KeySlot([]byte(q[1])))
	}

	errs := make(chan string, 100)
	fail := func(format string, args ...any) {
		select {
		case errs <- fmt.Sprintf(format, args...):
		default:
		}
	}

	// The mover.
	stop := make(chan struct{})
	var moverDone sync.WaitGroup
	var moves, added, removed atomic.Int64
	moverDone.Add(1)
	go func() {
		defer moverDone.Done()
		rng := rand.New(rand.NewPCG(7, 7))
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			case <-tick.C:
			}
			if i%100 == 0 {
				n := e.NumWorkers()
				if n > 2 && (n >= 6 || rng.IntN(2) == 0) {
					if err := e.RemoveWorker(); err != nil {
						fail("RemoveWorker: %v", err)
					}
					removed.Add(1)
				} else {
					if _, err := e.AddWorker(); err != nil {
						fail("AddWorker: %v", err)
					}
					added.Add(1)
				}
				continue
			}
			slot := rng.IntN(shard.NumSlots)
			if rng.IntN(5) != 0 {
				slot = hotSlots[rng.IntN(len(hotSlots))]
			}
			if err := e.MoveSlot(slot, rng.IntN(e.NumWorkers())); err != nil {
				fail("MoveSlot: %v", err)
			}
			moves.Add(1)
		}
	}()

	var acked [counters]atomic.Int64
	var incrs, pipelines, msets, mgets, pushes, pops atomic.Int64
	var wg sync.WaitGroup
	for c := range incrClients {
		cl := s.Client(2 + c%2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 1))
			for i := range incrOps {
				if i%4 == 3 {
					var idx [16]int
					pipe := cl.Pipeline()
					cmds := make([]*redis.IntCmd, len(idx))
					for j := range idx {
						idx[j] = rng.IntN(counters)
						cmds[j] = pipe.Incr(ctx, ctr(idx[j]))
					}
					if _, err := pipe.Exec(ctx); err != nil {
						fail("pipelined INCR: %v", err)
						return
					}
					for j := range idx {
						acked[idx[j]].Add(1)
					}
					pipelines.Add(1)
					incrs.Add(int64(len(idx)))
					continue
				}
				k := rng.IntN(counters)
				if err := cl.Incr(ctx, ctr(k)).Err(); err != nil {
					fail("INCR: %v", err)
					return
				}
				acked[k].Add(1)
				incrs.Add(1)
			}
		}()
	}
	// Two clients sweep all counters in pipelines of 1,000 INCRs: a batch
	// that long is often routed before a move and submitted after it.
	var sweeps atomic.Int64
	for c := range sweepClients {
		cl := s.Client(2 + c%2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 4))
			for range sweepRounds {
				pipe := cl.Pipeline()
				for _, k := range rng.Perm(counters) {
					pipe.Incr(ctx, ctr(k))
				}
				if _, err := pipe.Exec(ctx); err != nil {
					fail("INCR sweep: %v", err)
					return
				}
				for k := range counters {
					acked[k].Add(1)
				}
				sweeps.Add(1)
				incrs.Add(counters)
			}
		}()
	}
	for c := range pairClients {
		cl := s.Client(2 + c%2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 2))
			for i := range pairOps {
				p := pairKeys[rng.IntN(pairs)]
				if i%2 == 0 {
					v := fmt.Sprintf("%d.%d", c, i)
					if err := cl.MSet(ctx, p[0], v, p[1], v).Err(); err != nil {
						fail("MSET: %v", err)
						return
					}
					msets.Add(1)
					continue
				}
				vs, err := cl.MGet(ctx, p[0], p[1]).Result()
				if err != nil {
					fail("MGET: %v", err)
					return
				}
				if vs[0] != vs[1] {
					fail("MGET %s %s saw half an MSET: %v", p[0], p[1], vs)
				}
				mgets.Add(1)
			}
		}()
	}
	// Consumers: BLPOP on the two lists of their queue; producers push
	// each item to one of the two at random.
	var popped [queues]map[string]int
	for q := range queues {
		popped[q] = map[string]int{}
		cons, prod := s.Client(2+q%2), s.Client(3-q%2)
		wg.Add(2)
		go func() {
			defer wg.Done()
			keys := queueKeys[q]
			for range itemsPerQueue {
				res, err := cons.BLPop(ctx, 20*time.Second, keys[0], keys[1]).Result()
				if err != nil {
					fail("BLPOP %v: %v (a blocked client lost?)", keys, err)
					return
				}
				popped[q][res[1]]++
				pops.Add(1)
			}
		}()
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(q), 3))
			for i := range itemsPerQueue {
				if err := prod.LPush(ctx, queueKeys[q][rng.IntN(2)], strconv.Itoa(i)).Err(); err != nil {
					fail("LPUSH: %v", err)
					return
				}
				pushes.Add(1)
				if i%8 == 0 {
					time.Sleep(100 * time.Microsecond) // let consumers block again
				}
			}
		}()
	}
	wg.Wait()
	close(stop)
	moverDone.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
	if t.Failed() {
		return
	}

	cl := s.Client(2)
	names := make([]string, counters)
	for i := range names {
		names[i] = ctr(i)
	}
	vals, err := cl.MGet(ctx, names...).Result()
	if err != nil {
		t.Fatal(err)
	}
	for i, v := range vals {
		got := int64(0)
		if v != nil {
			got, _ = strconv.ParseInt(v.(string), 10, 64)
		}
		if got != acked[i].Load() {
			t.Errorf("%s = %d, want %d acknowledged INCRs", ctr(i), got, acked[i].Load())
		}
	}
	for q := range queues {
		if len(popped[q]) != itemsPerQueue {
			t.Errorf("queue %d: %d distinct items popped, want %d", q, len(popped[q]), itemsPerQueue)
		}
		for item, n := range popped[q] {
			if n != 1 {
				t.Errorf("queue %d: item %s popped %d times", q, item, n)
			}
		}
		if n := cl.Exists(ctx, queueKeys[q][0], queueKeys[q][1]).Val(); n != 0 {
			t.Errorf("queue %d: %d lists left", q, n)
		}
	}
	if n := e.BlockedClients(); n != 0 {
		t.Errorf("%d clients still counted as blocked", n)
	}
	info := cl.Info(ctx, "clients").Val()
	if !strings.Contains(info, "blocked_clients:0") {
		t.Errorf("INFO clients: %s", info)
	}
	t.Logf("%d INCRs (%d pipelines of 16, %d of 1000), %d MSETs, %d MGETs, %d LPUSH, %d BLPOP served; "+
		"%d slot moves, %d workers added, %d removed, %d requests sent back after a move; %d workers at the end",
		incrs.Load(), pipelines.Load(), sweeps.Load(), msets.Load(), mgets.Load(), pushes.Load(), pops.Load(),
		moves.Load(), added.Load(), removed.Load(), e.Bounced(), e.NumWorkers())
}
