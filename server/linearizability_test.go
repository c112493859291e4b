package server_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/server/servertest"
	"github.com/kvd/kvd/shard"
)

// The linearizability model: 8 keys, each absent or holding a string.
// Operations are GET, SET, INCR and DEL of one key, plus the multi-key
// forms MGET, MSET and DEL of two keys, which kvd splits over workers when
// the keys live on different ones: the history must be explainable by
// some order of atomic operations consistent with real time.
//
// The keys form 4 pairs (2p, 2p+1), the two keys of a pair on different
// workers, and multi-key operations stay within a pair. Linearizability
// is compositional, so each pair's sub-history is checked on its own
// (porcupine's Partition): that keeps the check fast while every
// multi-key operation still spans two workers.

const linKeys = 8

type linVal struct {
	v  string
	ok bool
}

type linState [linKeys]linVal

type linOp uint8

const (
	linGet linOp = iota
	linSet
	linIncr
	linDel
	linMGet
	linMSet
	linDel2
)

type linInput struct {
	op   linOp
	k    [2]int
	vals [2]string
}

type linOutput struct {
	vals [2]linVal // GET, MGET
	n    int64     // INCR result, DEL count
	err  string
}

var linModel = porcupine.Model{
	Partition: func(history []porcupine.Operation) [][]porcupine.Operation {
		parts := make([][]porcupine.Operation, linKeys/2)
		for _, op := range history {
			p := op.Input.(linInput).k[0] / 2
			parts[p] = append(parts[p], op)
		}
		return parts
	},
	Init: func() interface{} { return linState{} },
	Step: func(st, in, out interface{}) (bool, interface{}) {
		s := st.(linState)
		i := in.(linInput)
		o := out.(linOutput)
		switch i.op {
		case linGet:
			return o.err == "" && o.vals[0] == s[i.k[0]], s
		case linMGet:
			return o.err == "" && o.vals[0] == s[i.k[0]] && o.vals[1] == s[i.k[1]], s
		case linSet:
			s[i.k[0]] = linVal{i.vals[0], true}
			return o.err == "", s
		case linMSet:
			s[i.k[0]] = linVal{i.vals[0], true}
			s[i.k[1]] = linVal{i.vals[1], true}
			return o.err == "", s
		case linIncr:
			cur := int64(0)
			if v := s[i.k[0]]; v.ok {
				n, err := strconv.ParseInt(v.v, 10, 64)
				if err != nil {
					return o.err != "", s
				}
				cur = n
			}
			s[i.k[0]] = linVal{strconv.FormatInt(cur+1, 10), true}
			return o.err == "" && o.n == cur+1, s
		case linDel, linDel2:
			n := int64(0)
			keys := i.k[:1]
			if i.op == linDel2 {
				keys = i.k[:]
			}
			for _, k := range keys {
				if s[k].ok {
					n++
				}
				s[k] = linVal{}
			}
			return o.err == "" && o.n == n, s
		}
		return false, s
	},
	Equal: func(a, b interface{}) bool { return a.(linState) == b.(linState) },
	DescribeOperation: func(in, out interface{}) string {
		i, o := in.(linInput), out.(linOutput)
		show := func(v linVal) string {
			if !v.ok {
				return "nil"
			}
			return strconv.Quote(v.v)
		}
		switch i.op {
		case linGet:
			return fmt.Sprintf("get(k%d) -> %s", i.k[0], show(o.vals[0]))
		case linMGet:
			return fmt.Sprintf("mget(k%d,k%d) -> %s,%s", i.k[0], i.k[1], show(o.vals[0]), show(o.vals[1]))
		case linSet:
			return fmt.Sprintf("set(k%d,%s)", i.k[0], i.vals[0])
		case linMSet:
			return fmt.Sprintf("mset(k%d=%s,k%d=%s)", i.k[0], i.vals[0], i.k[1], i.vals[1])
		case linIncr:
			return fmt.Sprintf("incr(k%d) -> %d %s", i.k[0], o.n, o.err)
		case linDel:
			return fmt.Sprintf("del(k%d) -> %d", i.k[0], o.n)
		default:
			return fmt.Sprintf("del(k%d,k%d) -> %d", i.k[0], i.k[1], o.n)
		}
	},
	DescribeState: func(st interface{}) string {
		s := st.(linState)
		var parts []string
		for k, v := range s {
			if v.ok {
				parts = append(parts, fmt.Sprintf("k%d=%s", k, v.v))
			}
		}
		return "{" + strings.Join(parts, " ") + "}"
	},
}

func linValOf(v interface{}) linVal {
	if v == nil {
		return linVal{}
	}
	return linVal{v.(string), true}
}

// TestLinearizable runs 12 clients (RESP2 and RESP3) doing random
// single- and multi-key operations over 8 keys spread over 4 workers and
// checks the recorded history with porcupine.
func TestLinearizable(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	var names [linKeys]string
	for i := range names {
		names[i] = ptKeyOn(t, s, fmt.Sprintf("lin%d:", i), i%4)
	}
	linCheck(t, s, names, "on 4 workers")
}

// TestLinearizableSlotMoves records the same kind of history while the
// slots of the 8 keys move between workers every few hundred microseconds
// and a worker is added or removed every 50 moves: moving slots must not
// let any client see a stale value, a lost write or half an MSET.
func TestLinearizableSlotMoves(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	e := s.Engine()
	var names [linKeys]string
	var slots [linKeys]int
	for i := range names {
		names[i] = ptKeyOn(t, s, fmt.Sprintf("lin%d:", i), i%4)
		slots[i] = shard.KeySlot([]byte(names[i]))
	}
	stop := make(chan struct{})
	done := make(chan struct{})
	var moves, changes int
	go func() {
		defer close(done)
		rng := rand.New(rand.NewPCG(3, 3))
		for i := 1; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var err error
			switch n := e.NumWorkers(); {
			case i%50 == 0 && (n >= 6 || (n > 2 && rng.IntN(2) == 0)):
				err = e.RemoveWorker()
				changes++
			case i%50 == 0:
				_, err = e.AddWorker()
				changes++
			default:
				err = e.MoveSlot(slots[rng.IntN(linKeys)], rng.IntN(n))
				moves++
			}
			if err != nil {
				t.Error(err)
				return
			}
			time.Sleep(200 * time.Microsecond)
		}
	}()
	linCheck(t, s, names, "while slots move")
	close(stop)
	<-done
	t.Logf("%d slot moves, %d worker changes, %d requests sent back after a move", moves, changes, e.Bounced())
}

// linCheck runs 12 clients over the 8 keys names and checks the history.
func linCheck(t *testing.T, s *servertest.Server, names [linKeys]string, where string) {
	const clients = 12
	const opsPerClient = 350
	ctx := context.Background()
	base := time.Now()
	now := func() int64 { return int64(time.Since(base)) }

	var mu sync.Mutex
	var history []porcupine.Operation
	errs := make(chan error, clients)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		cl := s.Client(2 + c%2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(c), 42))
			ops := make([]porcupine.Operation, 0, opsPerClient)
			defer func() {
				mu.Lock()
				history = append(history, ops...)
				mu.Unlock()
			}()
			for i := 0; i < opsPerClient; i++ {
				pair := 2 * rng.IntN(linKeys/2)
				first := rng.IntN(2)
				in := linInput{k: [2]int{pair + first, pair + 1 - first}}
				in.vals = [2]string{strconv.Itoa(rng.IntN(10)), strconv.Itoa(rng.IntN(10))}
				switch p := rng.IntN(100); {
				case p < 30:
					in.op = linGet
				case p < 50:
					in.op = linSet
				case p < 65:
					in.op = linIncr
				case p < 75:
					in.op = linDel
				case p < 85:
					in.op = linMGet
				case p < 93:
					in.op = linMSet
				default:
					in.op = linDel2
				}
				k0, k1 := names[in.k[0]], names[in.k[1]]
				var out linOutput
				call := now()
				switch in.op {
				case linGet:
					v, err := cl.Get(ctx, k0).Result()
					if err == nil {
						out.vals[0] = linVal{v, true}
					} else if err != redis.Nil {
						out.err = err.Error()
					}
				case linMGet:
					vs, err := cl.MGet(ctx, k0, k1).Result()
					if err != nil {
						out.err = err.Error()
					} else {
						out.vals = [2]linVal{linValOf(vs[0]), linValOf(vs[1])}
					}
				case linSet:
					if err := cl.Set(ctx, k0, in.vals[0], 0).Err(); err != nil {
						out.err = err.Error()
					}
				case linMSet:
					if err := cl.MSet(ctx, k0, in.vals[0], k1, in.vals[1]).Err(); err != nil {
						out.err = err.Error()
					}
				case linIncr:
					n, err := cl.Incr(ctx, k0).Result()
					out.n = n
					if err != nil {
						out.err = err.Error()
					}
				case linDel:
					n, err := cl.Del(ctx, k0).Result()
					out.n = n
					if err != nil {
						out.err = err.Error()
					}
				case linDel2:
					n, err := cl.Del(ctx, k0, k1).Result()
					out.n = n
					if err != nil {
						out.err = err.Error()
					}
				}
				ret := now()
				if out.err != "" && in.op != linIncr {
					errs <- fmt.Errorf("client %d: %s: %s", c, linModel.DescribeOperation(in, out), out.err)
					return
				}
				ops = append(ops, porcupine.Operation{ClientId: c, Input: in, Call: call, Output: out, Return: ret})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		return
	}
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(linModel, history, 60*time.Second)
	t.Logf("history: %d operations by %d clients over %d keys %s; check %s in %v",
		len(history), clients, linKeys, where, res, time.Since(start).Round(time.Millisecond))
	switch res {
	case porcupine.Ok:
	case porcupine.Illegal:
		path := filepath.Join(os.TempDir(), fmt.Sprintf("kvd-linearizability-%d.html", time.Now().UnixNano()))
		if err := porcupine.VisualizePath(linModel, info, path); err == nil {
			t.Errorf("history is not linearizable; visualization in %s", path)
		} else {
			t.Errorf("history is not linearizable (visualization failed: %v)", err)
		}
	default:
		t.Errorf("porcupine could not decide within the timeout (%s)", res)
	}
}

// TestLinearizableModel checks that the model rejects what it must: a torn
// MGET of a concurrent MSET, a stale read, a wrong INCR or DEL count.
func TestLinearizableModel(t *testing.T) {
	v := func(s string) linVal { return linVal{s, true} }
	op := func(client int, in linInput, out linOutput, call, ret int64) porcupine.Operation {
		return porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret}
	}
	mset := linInput{op: linMSet, k: [2]int{0, 1}, vals: [2]string{"2", "2"}}
	mget := linInput{op: linMGet, k: [2]int{0, 1}}
	tests := []struct {
		name    string
		history []porcupine.Operation
		ok      bool
	}{
		{"mget before concurrent mset", []porcupine.Operation{
			op(0, mset, linOutput{}, 0, 100),
			op(1, mget, linOutput{}, 10, 20),
		}, true},
		{"mget after concurrent mset", []porcupine.Operation{
			op(0, mset, linOutput{}, 0, 100),
			op(1, mget, linOutput{vals: [2]linVal{v("2"), v("2")}}, 10, 20),
		}, true},
		{"torn mget", []porcupine.Operation{
			op(0, mset, linOutput{}, 0, 100),
			op(1, mget, linOutput{vals: [2]linVal{v("2"), {}}}, 10, 20),
		}, false},
		{"stale get", []porcupine.Operation{
			op(0, linInput{op: linSet, k: [2]int{3, 2}, vals: [2]string{"7"}}, linOutput{}, 0, 10),
			op(1, linInput{op: linGet, k: [2]int{3, 2}}, linOutput{}, 20, 30),
		}, false},
		{"incr counts", []porcupine.Operation{
			op(0, linInput{op: linIncr, k: [2]int{4, 5}}, linOutput{n: 1}, 0, 10),
			op(1, linInput{op: linIncr, k: [2]int{4, 5}}, linOutput{n: 2}, 5, 30),
		}, true},
		{"lost incr", []porcupine.Operation{
			op(0, linInput{op: linIncr, k: [2]int{4, 5}}, linOutput{n: 1}, 0, 10),
			op(1, linInput{op: linIncr, k: [2]int{4, 5}}, linOutput{n: 1}, 20, 30),
		}, false},
		{"del2 count", []porcupine.Operation{
			op(0, linInput{op: linSet, k: [2]int{6, 7}, vals: [2]string{"1"}}, linOutput{}, 0, 10),
			op(1, linInput{op: linDel2, k: [2]int{7, 6}}, linOutput{n: 2}, 20, 30),
		}, false},
	}
	for _, tc := range tests {
		if got := porcupine.CheckOperations(linModel, tc.history); got != tc.ok {
			t.Errorf("%s: linearizable = %v, want %v", tc.name, got, tc.ok)
		}
	}
}
