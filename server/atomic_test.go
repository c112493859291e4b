package server_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/server/servertest"
)

// atPair returns two keys owned by different workers: "a" and "b" when
// they already are, else "a" and the first "b<n>" that is.
func atPair(t *testing.T, s *servertest.Server) (string, string) {
	t.Helper()
	a := "a"
	wa := s.Engine().WorkerOf([]byte(a))
	if s.Engine().WorkerOf([]byte("b")) != wa {
		return a, "b"
	}
	for i := 0; i < 1000; i++ {
		b := "b" + strconv.Itoa(i)
		if s.Engine().WorkerOf([]byte(b)) != wa {
			return a, b
		}
	}
	t.Fatal("no key on another worker")
	return "", ""
}

// atRun runs writers and readers concurrently, each doing iters rounds of
// a pipeline of depth commands, and reports the errors they send.
func atRun(t *testing.T, s *servertest.Server, writers, readers, iters, depth int,
	write func(p redis.Pipeliner, round int), read func(p redis.Pipeliner), check func(cmds []redis.Cmder) error) {
	t.Helper()
	ctx := context.Background()
	errs := make(chan error, writers+readers)
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		c := s.Client(2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < iters; i++ {
				_, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
					for d := 0; d < depth; d++ {
						write(p, i*depth+d)
					}
					return nil
				})
				if err != nil && err != redis.Nil {
					errs <- fmt.Errorf("writer %d: %v", w, err)
					return
				}
			}
		}()
	}
	for r := 0; r < readers; r++ {
		c := s.Client(2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < iters; i++ {
				cmds, err := c.Pipelined(ctx, func(p redis.Pipeliner) error {
					for d := 0; d < depth; d++ {
						read(p)
					}
					return nil
				})
				if err != nil && err != redis.Nil {
					errs <- fmt.Errorf("reader %d: %v", r, err)
					return
				}
				if err := check(cmds); err != nil {
					errs <- fmt.Errorf("reader %d round %d: %v", r, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// atSameValues checks that every MGET of the pipeline saw one value for
// both keys (both nil counts as one value).
func atSameValues(cmds []redis.Cmder) error {
	for _, c := range cmds {
		vals, err := c.(*redis.SliceCmd).Result()
		if err != nil {
			return err
		}
		if len(vals) != 2 || vals[0] != vals[1] {
			return fmt.Errorf("MGET saw a mixed pair %v", vals)
		}
	}
	return nil
}

// TestAtomicMSetMGet: MSET and MGET over two keys on different workers are
// atomic: a reader never sees one key from one MSET and the other from
// another. 4 writers and 4 readers, 20,000 commands in all.
func TestAtomicMSetMGet(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	a, b := atPair(t, s)
	ctx := context.Background()
	s.Client(2).MSet(ctx, a, "x", b, "x")
	atRun(t, s, 4, 4, 250, 10,
		func(p redis.Pipeliner, round int) {
			v := "x"
			if round%2 == 1 {
				v = "y"
			}
			p.MSet(ctx, a, v, b, v)
		},
		func(p redis.Pipeliner) { p.MGet(ctx, a, b) },
		atSameValues)
}

// TestAtomicDelMGet: DEL of two keys on different workers is atomic
// against MGET and EXISTS: both keys or neither.
func TestAtomicDelMGet(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	a, b := atPair(t, s)
	ctx := context.Background()
	atRun(t, s, 4, 4, 250, 10,
		func(p redis.Pipeliner, round int) {
			if round%2 == 0 {
				p.MSet(ctx, a, "1", b, "1")
			} else {
				p.Del(ctx, a, b)
			}
		},
		func(p redis.Pipeliner) {
			p.MGet(ctx, a, b)
			p.Exists(ctx, a, b)
		},
		func(cmds []redis.Cmder) error {
			var mgets []redis.Cmder
			for _, c := range cmds {
				if e, ok := c.(*redis.IntCmd); ok {
					if n := e.Val(); n != 0 && n != 2 {
						return fmt.Errorf("EXISTS saw %d of the two keys", n)
					}
					continue
				}
				mgets = append(mgets, c)
			}
			return atSameValues(mgets)
		})
}

// TestAtomicMSetNX: MSETNX over two workers is not split but runs as one
// barrier holding both: readers never see half of it.
func TestAtomicMSetNX(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	a, b := atPair(t, s)
	ctx := context.Background()
	atRun(t, s, 3, 4, 250, 10,
		func(p redis.Pipeliner, round int) {
			if round%2 == 0 {
				p.MSetNX(ctx, a, strconv.Itoa(round), b, strconv.Itoa(round))
			} else {
				p.Del(ctx, a, b)
			}
		},
		func(p redis.Pipeliner) { p.MGet(ctx, a, b) },
		atSameValues)
}

// TestAtomicRename: RENAME between two workers moves the value in one
// step: MGET always sees exactly one of the two keys.
func TestAtomicRename(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	a, b := atPair(t, s)
	ctx := context.Background()
	s.Client(2).Set(ctx, a, "v", 0)
	atRun(t, s, 1, 4, 400, 10,
		func(p redis.Pipeliner, round int) {
			if round%2 == 0 {
				p.Rename(ctx, a, b)
			} else {
				p.Rename(ctx, b, a)
			}
		},
		func(p redis.Pipeliner) { p.MGet(ctx, a, b) },
		func(cmds []redis.Cmder) error {
			for _, c := range cmds {
				vals := c.(*redis.SliceCmd).Val()
				if len(vals) != 2 || (vals[0] == nil) == (vals[1] == nil) || (vals[0] != "v" && vals[1] != "v") {
					return fmt.Errorf("MGET during RENAME saw %v", vals)
				}
			}
			return nil
		})
}
