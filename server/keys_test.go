package server_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/server"
	"github.com/kvd/kvd/server/cmdspec"
	"github.com/kvd/kvd/server/servertest"
	"github.com/kvd/kvd/shard"
)

// keysClock is an injected keyspace clock (Unix ms) the test moves.
type keysClock struct{ ms atomic.Int64 }

func newKeysClock() *keysClock {
	c := &keysClock{}
	c.ms.Store(1_700_000_000_000)
	return c
}

func (c *keysClock) now() int64                { return c.ms.Load() }
func (c *keysClock) advance(d time.Duration)   { c.ms.Add(d.Milliseconds()) }
func (c *keysClock) opt() func(*server.Config) { return servertest.Clock(c.now) }

// keysProtocols runs fn once per protocol (RESP2 and RESP3) with a go-redis
// client.
func keysProtocols(t *testing.T, fn func(t *testing.T, s *servertest.Server, c *redis.Client), opts ...func(*server.Config)) {
	for _, p := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", p), func(t *testing.T) {
			s := servertest.Start(t, opts...)
			fn(t, s, s.Client(p))
		})
	}
}

// keysPeek reads a key of any database straight from the engine, holding
// every worker.
func keysPeek(s *servertest.Server, db int, key string) (o shard.Object, ok bool) {
	e := s.Engine()
	e.Do(func(w *shard.Worker) {
		d := e.DB(w, db)
		if p := d.Lookup([]byte(key)); p != nil {
			o, ok = *p, true
		}
	})
	return o, ok
}

// keysPut stores an object directly (kinds kvd's families may not have yet).
func keysPut(s *servertest.Server, db int, key string, o *shard.Object) {
	e := s.Engine()
	e.Do(func(w *shard.Worker) {
		d := e.DB(w, db)
		d.Add([]byte(key), o)
	})
}

func keysExpired(s *servertest.Server) int64 {
	var n int64
	for _, w := range s.Engine().Workers() {
		n += w.Stats.Expired()
	}
	return n
}

func keysHitsMisses(s *servertest.Server) (hits, misses int64) {
	for _, w := range s.Engine().Workers() {
		hits += w.Stats.Hits()
		misses += w.Stats.Misses()
	}
	return hits, misses
}

// keysOnOtherWorkers returns n keys with the given prefix owned by n
// different workers.
func keysOnOtherWorkers(t *testing.T, s *servertest.Server, prefix string, n int) []string {
	t.Helper()
	seen := map[int]bool{}
	var out []string
	for i := 0; len(out) < n && i < 10000; i++ {
		k := prefix + strconv.Itoa(i)
		w := s.Engine().WorkerOf([]byte(k))
		if !seen[w] {
			seen[w] = true
			out = append(out, k)
		}
	}
	if len(out) < n {
		t.Fatalf("could not find %d keys on different workers", n)
	}
	return out
}

func keysExpect(t *testing.T, r *servertest.Raw, want string, args ...string) {
	t.Helper()
	if got := r.Do(args...); got != want {
		t.Errorf("%v = %q, want %q", args, got, want)
	}
}

func keysNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// ---- registration ----

func TestKeysCommandTable(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(1))
	flagNames := map[string]server.Flags{
		"write": server.Write, "readonly": server.ReadOnly, "denyoom": server.DenyOOM,
		"admin": server.Admin, "pubsub": server.PubSub, "noscript": server.NoScript,
		"blocking": server.Blocking, "loading": server.Loading, "stale": server.Stale,
		"skip_monitor": server.SkipMonitor, "skip_slowlog": server.SkipSlowlog, "fast": server.Fast,
		"no_auth": server.NoAuth, "may_replicate": server.MayReplicate, "no_multi": server.NoMulti,
		"allow_busy": server.AllowBusy,
	}
	names := []string{"del", "unlink", "exists", "touch", "type", "expire", "pexpire", "expireat",
		"pexpireat", "ttl", "pttl", "expiretime", "pexpiretime", "persist", "rename", "renamenx",
		"copy", "move", "swapdb", "flushdb", "flushall", "dbsize", "keys", "scan", "randomkey",
		"object", "object|encoding", "object|freq", "object|idletime", "object|refcount", "object|help"}
	for _, name := range names {
		c := s.Registry().LookupName(name)
		spec := cmdspec.Lookup(name)
		if c == nil || spec == nil {
			t.Errorf("%s: registered %v, spec %v", name, c != nil, spec != nil)
			continue
		}
		if c.Arity != spec.Arity {
			t.Errorf("%s: arity %d, want %d", name, c.Arity, spec.Arity)
		}
		var want server.Flags
		for _, f := range append(slices.Clone(spec.Flags), spec.HiddenFlags...) {
			want |= flagNames[f]
		}
		if got := c.Flags &^ (server.Local | server.AllWorkers); got != want {
			t.Errorf("%s: flags %b, want %b (%v)", name, got, want, spec.Flags)
		}
		f, l, st := spec.LegacyRange()
		if c.FirstKey != f || c.LastKey != l || c.Step != st {
			t.Errorf("%s: key range %d %d %d, want %d %d %d", name, c.FirstKey, c.LastKey, c.Step, f, l, st)
		}
	}
	for _, name := range []string{"swapdb", "flushdb", "flushall", "dbsize", "keys", "scan", "randomkey"} {
		if s.Registry().LookupName(name).Flags&server.AllWorkers == 0 {
			t.Errorf("%s must hold every worker", name)
		}
	}
}

// ---- DEL / UNLINK / EXISTS / TOUCH / TYPE ----

func TestKeysDelExistsTouchType(t *testing.T) {
	keysProtocols(t, func(t *testing.T, s *servertest.Server, c *redis.Client) {
		ctx := context.Background()
		keysNoErr(t, c.MSet(ctx, "a", "1", "b", "2", "c", "3").Err())
		if n := c.Exists(ctx, "a", "a", "b", "nokey").Val(); n != 3 {
			t.Errorf("EXISTS a a b nokey = %d, want 3 (repeats count)", n)
		}
		if n := c.Touch(ctx, "a", "c", "nokey", "c").Val(); n != 3 {
			t.Errorf("TOUCH = %d, want 3", n)
		}
		if v := c.Type(ctx, "a").Val(); v != "string" {
			t.Errorf("TYPE a = %q", v)
		}
		if v := c.Type(ctx, "nokey").Val(); v != "none" {
			t.Errorf("TYPE nokey = %q", v)
		}
		keysPut(s, 0, "l", &shard.Object{Kind: shard.KindList, Val: &keysList{items: []string{"x"}}})
		if v := c.Type(ctx, "l").Val(); v != "list" {
			t.Errorf("TYPE l = %q", v)
		}
		if n := c.Del(ctx, "a", "nokey", "a").Val(); n != 1 {
			t.Errorf("DEL a nokey a = %d, want 1", n)
		}
		if n := c.Unlink(ctx, "b", "c", "nokey").Val(); n != 2 {
			t.Errorf("UNLINK = %d, want 2", n)
		}
		if n := c.Exists(ctx, "a", "b", "c").Val(); n != 0 {
			t.Errorf("EXISTS after DEL = %d", n)
		}
		if n := c.DBSize(ctx).Val(); n != 1 {
			t.Errorf("DBSIZE = %d, want 1", n)
		}
	})
}

func TestKeysMultiWorkerDelExists(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	r := s.Raw()
	ks := keysOnOtherWorkers(t, s, "k", 4)
	for _, k := range ks {
		keysExpect(t, r, "+OK", "SET", k, "v")
	}
	keysExpect(t, r, ":5", "EXISTS", ks[0], ks[1], ks[2], ks[3], ks[0], "nokey")
	keysExpect(t, r, ":4", "TOUCH", ks[3], ks[2], ks[1], ks[0], "nokey")
	keysExpect(t, r, ":2", "DEL", ks[0], ks[1], ks[0])
	keysExpect(t, r, ":2", "UNLINK", ks[2], ks[3], "nokey")
	keysExpect(t, r, ":0", "DBSIZE")
}

func TestKeysStatsAndAccessTime(t *testing.T) {
	clk := newKeysClock()
	s := servertest.Start(t, servertest.Workers(2), clk.opt())
	r := s.Raw()
	keysExpect(t, r, "+OK", "SET", "a", "1")
	created, _ := keysPeek(s, 0, "a")
	clk.advance(10 * time.Second)
	h0, m0 := keysHitsMisses(s)
	// Read lookups without touching: hits/misses counted, atime kept.
	for _, cmd := range [][]string{{"EXISTS", "a", "nokey"}, {"TYPE", "a"}, {"TYPE", "nokey"}, {"TTL", "a"},
		{"PTTL", "nokey"}, {"OBJECT", "ENCODING", "a"}, {"OBJECT", "IDLETIME", "a"}, {"OBJECT", "REFCOUNT", "nokey"}} {
		r.Do(cmd...)
	}
	h1, m1 := keysHitsMisses(s)
	if h1-h0 != 5 || m1-m0 != 4 {
		t.Errorf("hits +%d misses +%d, want +5 +4", h1-h0, m1-m0)
	}
	if o, _ := keysPeek(s, 0, "a"); o.Atime != created.Atime {
		t.Errorf("read-only lookups moved atime %d -> %d", created.Atime, o.Atime)
	}
	keysExpect(t, r, ":10", "OBJECT", "IDLETIME", "a")
	h1, m1 = keysHitsMisses(s)
	// Write lookups count nothing.
	r.Do("EXPIRE", "a", "100")
	r.Do("PERSIST", "a")
	r.Do("EXPIRE", "nokey", "100")
	if h2, m2 := keysHitsMisses(s); h2 != h1 || m2 != m1 {
		t.Errorf("write lookups counted: hits %d->%d misses %d->%d", h1, h2, m1, m2)
	}
	// TOUCH refreshes the access time.
	keysExpect(t, r, ":1", "TOUCH", "a")
	keysExpect(t, r, ":0", "OBJECT", "IDLETIME", "a")
}

// ---- EXPIRE family ----

func TestKeysExpireErrors(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	keysExpect(t, r, "+OK", "SET", "a", "1")
	cases := []struct {
		want string
		args []string
	}{
		{"-ERR NX and XX, GT or LT options at the same time are not compatible", []string{"EXPIRE", "a", "10", "nx", "xx"}},
		{"-ERR NX and XX, GT or LT options at the same time are not compatible", []string{"EXPIRE", "a", "10", "NX", "GT"}},
		{"-ERR NX and XX, GT or LT options at the same time are not compatible", []string{"PEXPIRE", "a", "10", "lt", "nx"}},
		{"-ERR GT and LT options at the same time are not compatible", []string{"EXPIRE", "a", "10", "gt", "lt"}},
		{"-ERR Unsupported option foo", []string{"EXPIRE", "a", "10", "foo"}},
		{"-ERR Unsupported option foo", []string{"EXPIRE", "a", "abc", "foo"}},
		{"-ERR value is not an integer or out of range", []string{"EXPIRE", "a", "abc"}},
		{"-ERR value is not an integer or out of range", []string{"EXPIRE", "a", "010"}},
		{"-ERR value is not an integer or out of range", []string{"EXPIRE", "a", "+1"}},
		{"-ERR value is not an integer or out of range", []string{"EXPIRE", "a", "1.0"}},
		{"-ERR value is not an integer or out of range", []string{"EXPIRE", "nokey", "abc"}},
		{"-ERR invalid expire time in 'expire' command", []string{"EXPIRE", "a", "9223372036854775807"}},
		{"-ERR invalid expire time in 'expire' command", []string{"EXPIRE", "a", "-9223372036854775808"}},
		{"-ERR invalid expire time in 'expire' command", []string{"EXPIRE", "nokey", "9223372036854775807"}},
		{"-ERR invalid expire time in 'pexpire' command", []string{"PEXPIRE", "a", "9223372036854775807"}},
		{"-ERR invalid expire time in 'expireat' command", []string{"EXPIREAT", "a", "9223372036854775807"}},
		{"-ERR wrong number of arguments for 'expire' command", []string{"EXPIRE", "a"}},
		{"-ERR wrong number of arguments for 'ttl' command", []string{"TTL", "a", "b"}},
	}
	for _, c := range cases {
		keysExpect(t, r, c.want, c.args...)
	}
	keysExpect(t, r, ":-1", "TTL", "a") // no error changed anything
	// PEXPIREAT accepts the largest time.
	keysExpect(t, r, ":1", "PEXPIREAT", "a", "9223372036854775807")
	keysExpect(t, r, ":9223372036854775807", "PEXPIRETIME", "a")
	keysExpect(t, r, ":9223372036854776", "EXPIRETIME", "a")
}

func TestKeysExpireOptions(t *testing.T) {
	clk := newKeysClock()
	keysProtocols(t, func(t *testing.T, s *servertest.Server, c *redis.Client) {
		ctx := context.Background()
		now := clk.now()
		keysNoErr(t, c.Set(ctx, "a", "1", 0).Err())
		check := func(what string, got bool, want bool) {
			t.Helper()
			if got != want {
				t.Errorf("%s = %v, want %v", what, got, want)
			}
		}
		check("EXPIRE nokey", c.Expire(ctx, "nokey", time.Minute).Val(), false)
		check("EXPIRE GT (no ttl)", c.ExpireGT(ctx, "a", 100*time.Second).Val(), false)
		check("EXPIRE XX (no ttl)", c.ExpireXX(ctx, "a", 100*time.Second).Val(), false)
		check("EXPIRE LT (no ttl)", c.ExpireLT(ctx, "a", 100*time.Second).Val(), true)
		if d := c.TTL(ctx, "a").Val(); d != 100*time.Second {
			t.Errorf("TTL = %v", d)
		}
		check("EXPIRE NX (has ttl)", c.ExpireNX(ctx, "a", 10*time.Second).Val(), false)
		check("EXPIRE XX", c.ExpireXX(ctx, "a", 50*time.Second).Val(), true)
		check("EXPIRE GT bigger", c.ExpireGT(ctx, "a", 200*time.Second).Val(), true)
		check("EXPIRE GT equal", c.ExpireGT(ctx, "a", 200*time.Second).Val(), false)
		check("EXPIRE LT bigger", c.ExpireLT(ctx, "a", 300*time.Second).Val(), false)
		check("EXPIRE LT smaller", c.ExpireLT(ctx, "a", 20*time.Second).Val(), true)
		if d := c.TTL(ctx, "a").Val(); d != 20*time.Second {
			t.Errorf("TTL = %v", d)
		}
		if d := c.PTTL(ctx, "a").Val(); d != 20*time.Second {
			t.Errorf("PTTL = %v", d)
		}
		if d := c.ExpireTime(ctx, "a").Val(); d != time.Duration((now+20000+500)/1000)*time.Second {
			t.Errorf("EXPIRETIME = %v", d)
		}
		if d := c.PExpireTime(ctx, "a").Val(); d != time.Duration(now+20000)*time.Millisecond {
			t.Errorf("PEXPIRETIME = %v", d)
		}
		check("PEXPIRE", c.PExpire(ctx, "a", 1500*time.Millisecond).Val(), true)
		if d := c.PTTL(ctx, "a").Val(); d != 1500*time.Millisecond {
			t.Errorf("PTTL = %v", d)
		}
		if d := c.TTL(ctx, "a").Val(); d != 2*time.Second { // rounded: (1500+500)/1000
			t.Errorf("TTL rounding = %v", d)
		}
		check("EXPIREAT", c.ExpireAt(ctx, "a", time.UnixMilli(now+60000)).Val(), true)
		if d := c.PExpireTime(ctx, "a").Val(); d != time.Duration(now+60000)*time.Millisecond {
			t.Errorf("PEXPIRETIME after EXPIREAT = %v", d)
		}
		check("PEXPIREAT", c.PExpireAt(ctx, "a", time.UnixMilli(now+61234)).Val(), true)
		if d := c.PTTL(ctx, "a").Val(); d != 61234*time.Millisecond {
			t.Errorf("PTTL after PEXPIREAT = %v", d)
		}
		check("PERSIST", c.Persist(ctx, "a").Val(), true)
		check("PERSIST again", c.Persist(ctx, "a").Val(), false)
		check("PERSIST nokey", c.Persist(ctx, "nokey").Val(), false)
		if d := c.TTL(ctx, "a").Val(); d != -1 {
			t.Errorf("TTL persistent = %v", d)
		}
		if d := c.TTL(ctx, "nokey").Val(); d != -2 {
			t.Errorf("TTL nokey = %v", d)
		}
		if d := c.PTTL(ctx, "a").Val(); d != -1 {
			t.Errorf("PTTL persistent = %v", d)
		}
		if d := c.ExpireTime(ctx, "a").Val(); d != -1 {
			t.Errorf("EXPIRETIME persistent = %v", d)
		}
		if d := c.PExpireTime(ctx, "nokey").Val(); d != -2 {
			t.Errorf("PEXPIRETIME nokey = %v", d)
		}
		// A time in the past deletes the key and replies 1; it is a
		// deletion, not an expiry.
		exp := keysExpired(s)
		check("EXPIRE negative", c.Expire(ctx, "a", -time.Second).Val(), true)
		if c.Exists(ctx, "a").Val() != 0 {
			t.Error("EXPIRE -1 did not delete the key")
		}
		keysNoErr(t, c.Set(ctx, "a", "1", 0).Err())
		check("EXPIREAT past", c.ExpireAt(ctx, "a", time.UnixMilli(now-1)).Val(), true)
		keysNoErr(t, c.Set(ctx, "a", "1", 0).Err())
		check("PEXPIREAT now", c.PExpireAt(ctx, "a", time.UnixMilli(now)).Val(), true)
		if c.Exists(ctx, "a").Val() != 0 {
			t.Error("PEXPIREAT now did not delete the key")
		}
		if e := keysExpired(s); e != exp {
			t.Errorf("expired_keys moved %d -> %d on explicit past expiry", exp, e)
		}
		// LT with a past time on a key with a TTL deletes it too.
		keysNoErr(t, c.Set(ctx, "a", "1", 0).Err())
		check("EXPIRE", c.Expire(ctx, "a", time.Hour).Val(), true)
		check("EXPIRE LT past", c.Do(ctx, "EXPIRE", "a", "-5", "LT").Val() == int64(1), true)
		check("gone", c.Exists(ctx, "a").Val() == 0, true)
		// PEXPIRE with the smallest int64 is no overflow: the key goes.
		keysNoErr(t, c.Set(ctx, "a", "1", 0).Err())
		check("PEXPIRE min", c.Do(ctx, "PEXPIRE", "a", strconv.FormatInt(math.MinInt64, 10)).Val() == int64(1), true)
		check("gone", c.Exists(ctx, "a").Val() == 0, true)
		// SET clears the TTL.
		keysNoErr(t, c.Set(ctx, "a", "1", 0).Err())
		c.Expire(ctx, "a", time.Hour)
		keysNoErr(t, c.Set(ctx, "a", "2", 0).Err())
		if d := c.TTL(ctx, "a").Val(); d != -1 {
			t.Errorf("TTL after SET = %v", d)
		}
	}, clk.opt())
}

func TestKeysExpiryWithClock(t *testing.T) {
	clk := newKeysClock()
	s := servertest.Start(t, servertest.Workers(4), clk.opt())
	r := s.Raw()
	// Lazy expiry: a read after the deadline deletes the key and counts it.
	keysExpect(t, r, "+OK", "SET", "lazy", "v")
	keysExpect(t, r, ":1", "PEXPIRE", "lazy", "1000")
	clk.advance(999 * time.Millisecond)
	keysExpect(t, r, ":1", "PTTL", "lazy")
	keysExpect(t, r, ":1", "EXISTS", "lazy")
	if e := keysExpired(s); e != 0 {
		t.Fatalf("expired_keys = %d before the deadline", e)
	}
	clk.advance(time.Millisecond)
	keysExpect(t, r, ":0", "EXISTS", "lazy")
	keysExpect(t, r, ":-2", "TTL", "lazy")
	if e := keysExpired(s); e != 1 {
		t.Errorf("expired_keys = %d after lazy expiry, want 1", e)
	}
	// Expired keys are invisible to every command before reclamation.
	keysExpect(t, r, "+OK", "SET", "k1", "v")
	keysExpect(t, r, ":1", "EXPIRE", "k1", "5")
	keysExpect(t, r, "+OK", "SET", "k2", "v")
	clk.advance(5 * time.Second)
	keysExpect(t, r, "+none", "TYPE", "k1")
	keysExpect(t, r, "*[$k2]", "KEYS", "*")
	keysExpect(t, r, "*[$0 *[$k2]]", "SCAN", "0", "COUNT", "1000")
	keysExpect(t, r, "-ERR no such key", "RENAME", "k1", "k3")
	keysExpect(t, r, ":0", "COPY", "k1", "k3")
	keysExpect(t, r, ":0", "MOVE", "k1", "1")
	keysExpect(t, r, ":0", "PERSIST", "k1")
	keysExpect(t, r, ":0", "EXPIRE", "k1", "100")
	keysExpect(t, r, "$k2", "RANDOMKEY")

	// Active expiry: the cycle reclaims keys nobody reads, and counts them.
	keysExpect(t, r, "+OK", "FLUSHALL")
	base := keysExpired(s)
	const n = 300
	for i := 0; i < n; i++ {
		k := "act" + strconv.Itoa(i)
		r.Send("SET", k, "v")
		r.Send("PEXPIRE", k, strconv.Itoa(100+i%3))
	}
	r.Send("SET", "keep", "v")
	r.Send("EXPIRE", "keep", "1000")
	r.Send("SET", "forever", "v")
	for i := 0; i < 2*n+3; i++ {
		r.ReadReply()
	}
	s.Engine().RunExpireCycle()
	if e := keysExpired(s) - base; e != 0 {
		t.Fatalf("active expiry reclaimed %d keys before their time", e)
	}
	clk.advance(200 * time.Millisecond)
	for i := 0; i < 50 && keysExpired(s)-base < n; i++ {
		s.Engine().RunExpireCycle()
	}
	if e := keysExpired(s) - base; e != n {
		t.Errorf("active expiry reclaimed %d keys, want %d", e, n)
	}
	keysExpect(t, r, ":2", "DBSIZE") // DBSIZE counts only what is stored
	keysExpect(t, r, ":2", "EXISTS", "keep", "forever")
}

// ---- RENAME / RENAMENX ----

func TestKeysRename(t *testing.T) {
	clk := newKeysClock()
	keysProtocols(t, func(t *testing.T, s *servertest.Server, c *redis.Client) {
		ctx := context.Background()
		if err := c.Rename(ctx, "nokey", "x").Err(); err == nil || err.Error() != "ERR no such key" {
			t.Errorf("RENAME nokey: %v", err)
		}
		if err := c.RenameNX(ctx, "nokey", "x").Err(); err == nil || err.Error() != "ERR no such key" {
			t.Errorf("RENAMENX nokey: %v", err)
		}
		if err := c.Rename(ctx, "nokey", "nokey").Err(); err == nil || err.Error() != "ERR no such key" {
			t.Errorf("RENAME nokey nokey: %v", err)
		}
		keysNoErr(t, c.Set(ctx, "a", "va", 0).Err())
		c.Expire(ctx, "a", 100*time.Second)
		if v := c.Rename(ctx, "a", "a").Val(); v != "OK" {
			t.Errorf("RENAME a a = %q", v)
		}
		if v, err := c.RenameNX(ctx, "a", "a").Result(); v || err != nil {
			t.Errorf("RENAMENX a a = %v %v", v, err)
		}
		if d := c.TTL(ctx, "a").Val(); d != 100*time.Second {
			t.Errorf("same-key rename changed TTL: %v", d)
		}
		keysNoErr(t, c.Rename(ctx, "a", "b").Err())
		if c.Exists(ctx, "a").Val() != 0 || c.Get(ctx, "b").Val() != "va" {
			t.Error("RENAME did not move the value")
		}
		if d := c.TTL(ctx, "b").Val(); d != 100*time.Second {
			t.Errorf("TTL after RENAME = %v, want it to move with the value", d)
		}
		// Overwrite: the destination's old TTL goes, the source's comes.
		keysNoErr(t, c.Set(ctx, "c", "vc", 0).Err())
		c.Expire(ctx, "c", 5*time.Second)
		keysNoErr(t, c.Set(ctx, "d", "vd", 0).Err())
		keysNoErr(t, c.Rename(ctx, "d", "c").Err())
		if d := c.TTL(ctx, "c").Val(); d != -1 || c.Get(ctx, "c").Val() != "vd" {
			t.Errorf("RENAME over a volatile key: ttl %v val %q", d, c.Get(ctx, "c").Val())
		}
		clk.advance(6 * time.Second)
		if c.Get(ctx, "c").Val() != "vd" {
			t.Error("renamed key expired with the overwritten key's TTL")
		}
		// RENAMENX.
		if v := c.RenameNX(ctx, "b", "c").Val(); v {
			t.Error("RENAMENX onto an existing key succeeded")
		}
		if v := c.RenameNX(ctx, "b", "e").Val(); !v {
			t.Error("RENAMENX onto a free key failed")
		}
		if d := c.TTL(ctx, "e").Val(); d != 94*time.Second {
			t.Errorf("TTL after RENAMENX = %v", d)
		}
		// A volatile source moved onto its deadline expires under its new name.
		clk.advance(94 * time.Second)
		if c.Exists(ctx, "e", "b").Val() != 0 {
			t.Error("renamed volatile key did not expire")
		}
	}, clk.opt())
}

func TestKeysRenameCopyAcrossWorkers(t *testing.T) {
	clk := newKeysClock()
	s := servertest.Start(t, servertest.Workers(4), clk.opt())
	r := s.Raw()
	ks := keysOnOtherWorkers(t, s, "x", 4)
	src, dst, dst2, dst3 := ks[0], ks[1], ks[2], ks[3]
	keysExpect(t, r, "+OK", "SET", src, "hello")
	keysExpect(t, r, ":1", "PEXPIRE", src, "50000")
	keysExpect(t, r, "+OK", "RENAME", src, dst)
	keysExpect(t, r, ":0", "EXISTS", src)
	keysExpect(t, r, "$hello", "GET", dst)
	keysExpect(t, r, ":50000", "PTTL", dst)
	keysExpect(t, r, ":1", "RENAMENX", dst, src)
	keysExpect(t, r, ":0", "RENAMENX", src, src)
	keysExpect(t, r, "+OK", "SET", dst, "other")
	keysExpect(t, r, ":0", "RENAMENX", src, dst)
	keysExpect(t, r, "+OK", "RENAME", src, dst)
	keysExpect(t, r, "$hello", "GET", dst)
	keysExpect(t, r, ":50000", "PTTL", dst)

	keysExpect(t, r, ":1", "COPY", dst, dst2)
	keysExpect(t, r, "$hello", "GET", dst2)
	keysExpect(t, r, ":50000", "PTTL", dst2)
	keysExpect(t, r, ":0", "COPY", dst, dst2)
	keysExpect(t, r, "+OK", "SET", dst3, "three")
	keysExpect(t, r, ":1", "COPY", dst3, dst2, "REPLACE")
	keysExpect(t, r, "$three", "GET", dst2)
	keysExpect(t, r, ":-1", "PTTL", dst2)
	keysExpect(t, r, ":1", "COPY", dst3, dst, "DB", "3")
	if o, ok := keysPeek(s, 3, dst); !ok || string(o.Str) != "three" {
		t.Errorf("COPY DB 3 across workers: %v %q", ok, o.Str)
	}

	// Concurrent cross-worker renames stay atomic: the value is always in
	// exactly one place.
	keysExpect(t, r, "+OK", "SET", ks[0], "ping")
	r.Do("DEL", ks[1])
	done := make(chan struct{})
	go func() {
		defer close(done)
		r2 := s.Raw()
		for i := 0; i < 200; i++ {
			if i%2 == 0 {
				r2.Do("RENAME", ks[0], ks[1])
			} else {
				r2.Do("RENAME", ks[1], ks[0])
			}
		}
	}()
	for i := 0; i < 200; i++ {
		if got := r.Do("EXISTS", ks[0], ks[1]); got != ":1" {
			t.Fatalf("EXISTS during cross-worker renames = %s", got)
		}
	}
	<-done
}

// ---- COPY ----

// keysList is a stand-in list value with a deep Copy.
type keysList struct {
	items  []string
	copies *int
}

func (l *keysList) Copy() any {
	if l.copies != nil {
		*l.copies++
	}
	return &keysList{items: slices.Clone(l.items), copies: l.copies}
}

func (l *keysList) Encoding() string { return "listpack" }

// keysNoCopy is a value without a Copier.
type keysNoCopy struct{ n int }

func TestKeysCopy(t *testing.T) {
	clk := newKeysClock()
	keysProtocols(t, func(t *testing.T, s *servertest.Server, c *redis.Client) {
		ctx := context.Background()
		keysNoErr(t, c.Set(ctx, "src", "abcdef", 0).Err())
		c.Expire(ctx, "src", 30*time.Second)
		if n := c.Copy(ctx, "nokey", "dst", 0, false).Val(); n != 0 {
			t.Errorf("COPY nokey = %d", n)
		}
		if n := c.Copy(ctx, "src", "dst", 0, false).Val(); n != 1 {
			t.Errorf("COPY = %d", n)
		}
		if v := c.Get(ctx, "dst").Val(); v != "abcdef" {
			t.Errorf("GET dst = %q", v)
		}
		if d := c.TTL(ctx, "dst").Val(); d != 30*time.Second {
			t.Errorf("COPY TTL = %v", d)
		}
		// Deep copy: an in-place overwrite of the copy (same size, same
		// buffer) must not show through the source.
		keysNoErr(t, c.Set(ctx, "dst", "XYZXYZ", 0).Err())
		if v := c.Get(ctx, "src").Val(); v != "abcdef" {
			t.Errorf("source changed through the copy: %q", v)
		}
		if n := c.Copy(ctx, "src", "dst", 0, false).Val(); n != 0 {
			t.Errorf("COPY onto existing = %d", n)
		}
		if n := c.Copy(ctx, "src", "dst", 0, true).Val(); n != 1 || c.Get(ctx, "dst").Val() != "abcdef" {
			t.Errorf("COPY REPLACE = %d", n)
		}
		if err := c.Copy(ctx, "src", "src", 0, false).Err(); err == nil || err.Error() != "ERR source and destination objects are the same" {
			t.Errorf("COPY src src: %v", err)
		}
		// Another database.
		if n := c.Copy(ctx, "src", "src", 5, false).Val(); n != 1 {
			t.Errorf("COPY src src DB 5 = %d", n)
		}
		o, ok := keysPeek(s, 5, "src")
		if !ok || string(o.Str) != "abcdef" || o.Expire != clk.now()+30000 {
			t.Errorf("COPY DB 5: %v %q %d", ok, o.Str, o.Expire)
		}
		if n := c.Copy(ctx, "src", "src", 5, false).Val(); n != 0 {
			t.Errorf("COPY DB 5 onto existing = %d", n)
		}
		if n := c.Copy(ctx, "dst", "src", 5, true).Val(); n != 1 {
			t.Errorf("COPY DB 5 REPLACE = %d", n)
		}
		// Copier values are deep-copied through Copy; the encoding follows
		// the value.
		copies := 0
		orig := &keysList{items: []string{"a", "b"}, copies: &copies}
		keysPut(s, 0, "list", &shard.Object{Kind: shard.KindList, Val: orig})
		if n := c.Copy(ctx, "list", "list2", 0, false).Val(); n != 1 {
			t.Fatalf("COPY list = %d", n)
		}
		o2, _ := keysPeek(s, 0, "list2")
		l2, _ := o2.Val.(*keysList)
		if copies != 1 || l2 == nil || l2 == orig || !slices.Equal(l2.items, orig.items) || o2.Kind != shard.KindList {
			t.Errorf("COPY of a Copier value: copies %d, %+v", copies, o2)
		}
		if v := c.Type(ctx, "list2").Val(); v != "list" {
			t.Errorf("TYPE list2 = %q", v)
		}
		if v := c.ObjectEncoding(ctx, "list2").Val(); v != "listpack" {
			t.Errorf("OBJECT ENCODING list2 = %q", v)
		}
		keysPut(s, 0, "nocopy", &shard.Object{Kind: shard.KindSet, Val: &keysNoCopy{1}})
		if err := c.Copy(ctx, "nocopy", "x", 0, false).Err(); err == nil || !strings.HasPrefix(err.Error(), "ERR ") {
			t.Errorf("COPY of a value without Copier: %v", err)
		}
		if c.Exists(ctx, "x").Val() != 0 {
			t.Error("failed COPY created the key")
		}
	}, clk.opt())
}

func TestKeysCopyErrors(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	keysExpect(t, r, "+OK", "SET", "a", "1")
	for _, c := range []struct {
		want string
		args []string
	}{
		{"-ERR source and destination objects are the same", []string{"COPY", "a", "a"}},
		{"-ERR source and destination objects are the same", []string{"COPY", "a", "a", "DB", "0"}},
		{"-ERR syntax error", []string{"COPY", "a", "b", "db"}},
		{"-ERR syntax error", []string{"COPY", "a", "b", "foo"}},
		{"-ERR value is not an integer or out of range", []string{"COPY", "a", "b", "db", "x"}},
		{"-ERR value is not an integer or out of range", []string{"COPY", "a", "b", "db", "01"}},
		{"-ERR value is out of range, value must between -2147483648 and 2147483647", []string{"COPY", "a", "b", "db", "4294967296"}},
		{"-ERR DB index is out of range", []string{"COPY", "a", "b", "db", "16"}},
		{"-ERR DB index is out of range", []string{"COPY", "a", "b", "db", "-1"}},
		{"-ERR wrong number of arguments for 'copy' command", []string{"COPY", "a"}},
		{":1", []string{"COPY", "a", "a", "db", "1"}},
		{":1", []string{"COPY", "a", "b", "replace", "db", "1", "REPLACE"}},
		{":0", []string{"COPY", "nokey", "b"}},
	} {
		keysExpect(t, r, c.want, c.args...)
	}
}

// ---- MOVE / SWAPDB / FLUSHDB / FLUSHALL ----

func TestKeysMove(t *testing.T) {
	clk := newKeysClock()
	keysProtocols(t, func(t *testing.T, s *servertest.Server, c *redis.Client) {
		ctx := context.Background()
		keysNoErr(t, c.Set(ctx, "k", "v", 0).Err())
		c.Expire(ctx, "k", 40*time.Second)
		if ok := c.Move(ctx, "nokey", 1).Val(); ok {
			t.Error("MOVE nokey succeeded")
		}
		if ok := c.Move(ctx, "k", 1).Val(); !ok {
			t.Fatal("MOVE failed")
		}
		if c.Exists(ctx, "k").Val() != 0 {
			t.Error("MOVE left the key in the source db")
		}
		o, ok := keysPeek(s, 1, "k")
		if !ok || string(o.Str) != "v" || o.Expire != clk.now()+40000 {
			t.Errorf("MOVE destination: %v %q %d", ok, o.Str, o.Expire)
		}
		keysNoErr(t, c.Set(ctx, "k", "v0", 0).Err())
		if ok := c.Move(ctx, "k", 1).Val(); ok {
			t.Error("MOVE onto an existing key succeeded")
		}
		if v := c.Get(ctx, "k").Val(); v != "v0" {
			t.Errorf("failed MOVE changed the source: %q", v)
		}
		for _, e := range []struct {
			db   string
			want string
		}{
			{"0", "ERR source and destination objects are the same"},
			{"16", "ERR DB index is out of range"},
			{"-1", "ERR DB index is out of range"},
			{"x", "ERR value is not an integer or out of range"},
			{"+1", "ERR value is not an integer or out of range"},
		} {
			if err := c.Do(ctx, "MOVE", "k", e.db).Err(); err == nil || err.Error() != e.want {
				t.Errorf("MOVE k %s: %v, want %s", e.db, err, e.want)
			}
		}
	}, clk.opt())
}

func TestKeysSwapDBAndFlush(t *testing.T) {
	keysProtocols(t, func(t *testing.T, s *servertest.Server, c *redis.Client) {
		ctx := context.Background()
		keysNoErr(t, c.MSet(ctx, "a", "0a", "b", "0b").Err())
		keysPut(s, 1, "a", &shard.Object{Kind: shard.KindString, Str: []byte("1a")})
		if v := c.Do(ctx, "SWAPDB", "0", "1").Val(); v != "OK" {
			t.Fatalf("SWAPDB = %v", v)
		}
		if v := c.Get(ctx, "a").Val(); v != "1a" {
			t.Errorf("GET a after SWAPDB = %q", v)
		}
		if n := c.DBSize(ctx).Val(); n != 1 {
			t.Errorf("DBSIZE after SWAPDB = %d", n)
		}
		if o, ok := keysPeek(s, 1, "b"); !ok || string(o.Str) != "0b" {
			t.Errorf("db 1 after SWAPDB: %v %q", ok, o.Str)
		}
		if v := c.Do(ctx, "SWAPDB", "3", "3").Val(); v != "OK" {
			t.Errorf("SWAPDB 3 3 = %v", v)
		}
		for _, e := range [][3]string{
			{"x", "0", "ERR invalid first DB index"},
			{"0", "x", "ERR invalid second DB index"},
			{"0", "16", "ERR DB index is out of range"},
			{"-1", "0", "ERR DB index is out of range"},
		} {
			if err := c.Do(ctx, "SWAPDB", e[0], e[1]).Err(); err == nil || err.Error() != e[2] {
				t.Errorf("SWAPDB %s %s: %v", e[0], e[1], err)
			}
		}
		// FLUSHDB empties only the selected database.
		if v := c.FlushDB(ctx).Val(); v != "OK" {
			t.Errorf("FLUSHDB = %q", v)
		}
		if n := c.DBSize(ctx).Val(); n != 0 {
			t.Errorf("DBSIZE after FLUSHDB = %d", n)
		}
		if _, ok := keysPeek(s, 1, "b"); !ok {
			t.Error("FLUSHDB emptied another database")
		}
		keysNoErr(t, c.Set(ctx, "z", "1", 0).Err())
		if v := c.FlushDBAsync(ctx).Val(); v != "OK" {
			t.Errorf("FLUSHDB ASYNC = %q", v)
		}
		if v := c.Do(ctx, "FLUSHDB", "sync").Val(); v != "OK" {
			t.Errorf("FLUSHDB SYNC = %v", v)
		}
		if err := c.Do(ctx, "FLUSHDB", "foo").Err(); err == nil || err.Error() != "ERR syntax error" {
			t.Errorf("FLUSHDB foo: %v", err)
		}
		if err := c.Do(ctx, "FLUSHALL", "async", "x").Err(); err == nil || err.Error() != "ERR syntax error" {
			t.Errorf("FLUSHALL async x: %v", err)
		}
		keysNoErr(t, c.Set(ctx, "z", "1", 0).Err())
		if v := c.FlushAll(ctx).Val(); v != "OK" {
			t.Errorf("FLUSHALL = %q", v)
		}
		if _, ok := keysPeek(s, 1, "b"); ok {
			t.Error("FLUSHALL left db 1")
		}
		if n := c.DBSize(ctx).Val(); n != 0 {
			t.Errorf("DBSIZE after FLUSHALL = %d", n)
		}
		if v := c.FlushAllAsync(ctx).Val(); v != "OK" {
			t.Errorf("FLUSHALL ASYNC = %q", v)
		}
	}, servertest.Workers(3))
}

func TestKeysSelectedDB(t *testing.T) {
	// End to end through SELECT: MOVE, COPY DB and SWAPDB as a client in
	// another database sees them.
	s := servertest.Start(t, servertest.Workers(2))
	ctx := context.Background()
	c0 := s.Client(2)
	c2 := redis.NewClient(&redis.Options{Addr: s.Addr, DB: 2, DisableIndentity: true})
	defer c2.Close()
	if err := c2.Ping(ctx).Err(); err != nil {
		t.Fatalf("client on db 2: %v", err)
	}
	keysNoErr(t, c0.Set(ctx, "m", "moved", 0).Err())
	if !c0.Move(ctx, "m", 2).Val() || c2.Get(ctx, "m").Val() != "moved" {
		t.Error("MOVE to db 2 not visible from db 2")
	}
	if c2.Copy(ctx, "m", "m", 0, false).Val() != 1 || c0.Get(ctx, "m").Val() != "moved" {
		t.Error("COPY DB 0 from db 2 not visible from db 0")
	}
	if c2.Move(ctx, "m", 2).Err() == nil {
		t.Error("MOVE to the current db must fail")
	}
	keysNoErr(t, c2.Set(ctx, "only2", "x", 0).Err())
	keysNoErr(t, c0.Do(ctx, "SWAPDB", "0", "2").Err())
	if c0.Get(ctx, "only2").Val() != "x" || c2.Exists(ctx, "only2").Val() != 0 {
		t.Error("SWAPDB not visible to clients of both databases")
	}
	keysNoErr(t, c2.FlushDB(ctx).Err())
	if c0.DBSize(ctx).Val() != 2 || c2.DBSize(ctx).Val() != 0 {
		t.Errorf("FLUSHDB on db 2: db0 %d db2 %d", c0.DBSize(ctx).Val(), c2.DBSize(ctx).Val())
	}
}

// ---- KEYS / SCAN / RANDOMKEY ----

func TestKeysKeys(t *testing.T) {
	keysProtocols(t, func(t *testing.T, s *servertest.Server, c *redis.Client) {
		ctx := context.Background()
		if v, err := c.Keys(ctx, "*").Result(); err != nil || len(v) != 0 {
			t.Errorf("KEYS on empty db = %v %v", v, err)
		}
		keysNoErr(t, c.MSet(ctx, "one", "1", "two", "2", "three", "3", "four", "4", "h[x]", "5", "TWO", "6").Err())
		for _, tc := range []struct {
			pat  string
			want []string
		}{
			{"*", []string{"TWO", "four", "h[x]", "one", "three", "two"}},
			{"t*", []string{"three", "two"}},
			{"*o*", []string{"four", "one", "two"}},
			{"?wo", []string{"two"}},
			{"[ot]*e", []string{"one", "three"}},
			{"[^o]*", []string{"TWO", "four", "h[x]", "three", "two"}},
			{"h\\[x\\]", []string{"h[x]"}},
			{"nomatch*", nil},
		} {
			got := c.Keys(ctx, tc.pat).Val()
			sort.Strings(got)
			if !slices.Equal(got, tc.want) {
				t.Errorf("KEYS %q = %v, want %v", tc.pat, got, tc.want)
			}
		}
	}, servertest.Workers(4))
}

func TestKeysScanErrors(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	keysExpect(t, r, "+OK", "SET", "a", "1")
	for _, c := range []struct {
		want string
		args []string
	}{
		{"-ERR invalid cursor", []string{"SCAN", "abc"}},
		{"-ERR invalid cursor", []string{"SCAN", "5x"}},
		{"-ERR invalid cursor", []string{"SCAN", " 5"}},
		{"-ERR invalid cursor", []string{"SCAN", "-"}},
		{"-ERR invalid cursor", []string{"SCAN", "18446744073709551616"}},
		{"-ERR invalid cursor", []string{"SCAN", "abc", "COUNT", "0"}},
		{"-ERR syntax error", []string{"SCAN", "0", "COUNT", "0"}},
		{"-ERR syntax error", []string{"SCAN", "0", "COUNT", "-3"}},
		{"-ERR value is not an integer or out of range", []string{"SCAN", "0", "COUNT", "x"}},
		{"-ERR syntax error", []string{"SCAN", "0", "foo"}},
		{"-ERR syntax error", []string{"SCAN", "0", "COUNT"}},
		{"-ERR syntax error", []string{"SCAN", "0", "MATCH"}},
		{"-ERR syntax error", []string{"SCAN", "0", "TYPE"}},
		{"-ERR wrong number of arguments for 'scan' command", []string{"SCAN"}},
		// Cursors strtoul accepts; past the last slot the scan is over.
		{"*[$0 *[]]", []string{"SCAN", "18446744073709551615"}},
		{"*[$0 *[]]", []string{"SCAN", "-1"}},
		{"*[$0 *[]]", []string{"SCAN", "99999"}},
		{"*[$0 *[$a]]", []string{"SCAN", ""}},
		{"*[$0 *[$a]]", []string{"SCAN", "+0"}},
		{"*[$0 *[$a]]", []string{"SCAN", "00", "count", "1000"}},
		{"*[$0 *[$a]]", []string{"SCAN", "0", "TYPE", "STRING", "count", "100000"}},
		{"*[$0 *[]]", []string{"SCAN", "0", "TYPE", "list", "count", "100000"}},
		{"*[$0 *[]]", []string{"SCAN", "0", "TYPE", "string", "TYPE", "hash", "count", "100000"}},
		{"*[$0 *[]]", []string{"SCAN", "0", "MATCH", "b*", "count", "100000"}},
	} {
		keysExpect(t, r, c.want, c.args...)
	}
}

func TestKeysScanComplete(t *testing.T) {
	keysProtocols(t, func(t *testing.T, s *servertest.Server, c *redis.Client) {
		ctx := context.Background()
		const n = 3000
		var pipe []any
		want := map[string]bool{}
		for i := 0; i < n; i++ {
			k := fmt.Sprintf("key:%d", i)
			want[k] = true
			pipe = append(pipe, k, "v")
		}
		keysNoErr(t, c.MSet(ctx, pipe...).Err())
		keysPut(s, 0, "key:list", &shard.Object{Kind: shard.KindList, Val: &keysList{}})
		keysPut(s, 0, "other", &shard.Object{Kind: shard.KindString, Str: []byte("x")})

		for _, count := range []int64{0, 1, 7, 100, 100000} {
			got := map[string]int{}
			var cursor uint64
			calls := 0
			for {
				keys, next, err := c.Scan(ctx, cursor, "key:*", count).Result()
				keysNoErr(t, err)
				for _, k := range keys {
					got[k]++
				}
				calls++
				if next == 0 {
					break
				}
				if next <= cursor || next >= shard.NumSlots {
					t.Fatalf("COUNT %d: cursor went %d -> %d", count, cursor, next)
				}
				cursor = next
			}
			if len(got) != n+1 {
				t.Errorf("COUNT %d: scan returned %d distinct keys, want %d", count, len(got), n+1)
			}
			for k := range want {
				if got[k] == 0 {
					t.Fatalf("COUNT %d: key %s never returned", count, k)
				}
			}
			if got["other"] != 0 {
				t.Errorf("COUNT %d: MATCH let 'other' through", count)
			}
			if count == 1 && calls < 100 {
				t.Errorf("COUNT 1 finished in %d calls: COUNT not honoured", calls)
			}
			if count == 100000 && calls != 1 {
				t.Errorf("COUNT 100000 took %d calls", calls)
			}
		}
		// TYPE filter.
		var lists, strs []string
		var cursor uint64
		for {
			keys, next, err := c.ScanType(ctx, cursor, "", 500, "list").Result()
			keysNoErr(t, err)
			lists = append(lists, keys...)
			keys2, _, err := c.ScanType(ctx, cursor, "", 500, "string").Result()
			keysNoErr(t, err)
			strs = append(strs, keys2...)
			if next == 0 {
				break
			}
			cursor = next
		}
		if !slices.Equal(lists, []string{"key:list"}) || len(strs) != n+1 {
			t.Errorf("SCAN TYPE: %d lists %v, %d strings", len(lists), lists, len(strs))
		}

		// Keys present for the whole scan are returned even while others
		// come and go between calls.
		got := map[string]bool{}
		cursor = 0
		for i := 0; ; i++ {
			keys, next, err := c.Scan(ctx, cursor, "", 50).Result()
			keysNoErr(t, err)
			for _, k := range keys {
				got[k] = true
			}
			c.Set(ctx, fmt.Sprintf("new:%d", i), "v", 0)
			c.Del(ctx, fmt.Sprintf("new:%d", i-3))
			if next == 0 {
				break
			}
			cursor = next
		}
		for k := range want {
			if !got[k] {
				t.Fatalf("stable key %s missed by a scan with concurrent writes", k)
			}
		}
	}, servertest.Workers(4))
}

func TestKeysRandomKey(t *testing.T) {
	clk := newKeysClock()
	keysProtocols(t, func(t *testing.T, s *servertest.Server, c *redis.Client) {
		ctx := context.Background()
		if err := c.RandomKey(ctx).Err(); !errors.Is(err, redis.Nil) {
			t.Errorf("RANDOMKEY on empty db: %v", err)
		}
		keys := []string{"a", "b", "c", "d", "e", "f", "g", "h"}
		for _, k := range keys {
			keysNoErr(t, c.Set(ctx, k, "v", 0).Err())
		}
		seen := map[string]bool{}
		for i := 0; i < 400; i++ {
			k, err := c.RandomKey(ctx).Result()
			keysNoErr(t, err)
			if !slices.Contains(keys, k) {
				t.Fatalf("RANDOMKEY = %q", k)
			}
			seen[k] = true
		}
		if len(seen) != len(keys) {
			t.Errorf("RANDOMKEY returned only %d of %d keys in 400 calls", len(seen), len(keys))
		}
		// Expired keys are never returned, and get reclaimed.
		keysNoErr(t, c.FlushDB(ctx).Err())
		for i := 0; i < 500; i++ {
			k := "vol" + strconv.Itoa(i)
			c.Set(ctx, k, "v", 0)
			c.PExpire(ctx, k, 10*time.Millisecond)
		}
		keysNoErr(t, c.Set(ctx, "live", "v", 0).Err())
		clk.advance(time.Second)
		base := keysExpired(s)
		for i := 0; i < 5; i++ {
			if k := c.RandomKey(ctx).Val(); k != "live" {
				t.Fatalf("RANDOMKEY = %q, want the only live key", k)
			}
		}
		keysNoErr(t, c.Del(ctx, "live").Err())
		if err := c.RandomKey(ctx).Err(); !errors.Is(err, redis.Nil) {
			t.Errorf("RANDOMKEY with only expired keys: %v", err)
		}
		if e := keysExpired(s) - base; e != 500 {
			t.Errorf("RANDOMKEY reclaimed %d expired keys, want all 500", e)
		}
		if n := c.DBSize(ctx).Val(); n != 0 {
			t.Errorf("DBSIZE = %d", n)
		}
	}, clk.opt(), servertest.Workers(4))
}

// ---- OBJECT ----

func TestKeysObject(t *testing.T) {
	clk := newKeysClock()
	keysProtocols(t, func(t *testing.T, s *servertest.Server, c *redis.Client) {
		ctx := context.Background()
		long44 := strings.Repeat("x", 44)
		for _, tc := range []struct {
			val, enc string
			ref      int64
		}{
			{"123", "int", math.MaxInt32},
			{"0", "int", math.MaxInt32},
			{"9999", "int", math.MaxInt32},
			{"10000", "int", 1},
			{"-5", "int", 1},
			{"-9223372036854775808", "int", 1},
			{"9223372036854775807", "int", 1},
			{"12345678901234567890", "embstr", 1},
			{"007", "embstr", 1},
			{"-0", "embstr", 1},
			{"+1", "embstr", 1},
			{" 1", "embstr", 1},
			{"", "embstr", 1},
			{long44, "embstr", 1},
			{long44 + "x", "raw", 1},
		} {
			keysNoErr(t, c.Set(ctx, "k", tc.val, 0).Err())
			if v := c.ObjectEncoding(ctx, "k").Val(); v != tc.enc {
				t.Errorf("OBJECT ENCODING of %q = %q, want %q", tc.val, v, tc.enc)
			}
			if v := c.ObjectRefCount(ctx, "k").Val(); v != tc.ref {
				t.Errorf("OBJECT REFCOUNT of %q = %d, want %d", tc.val, v, tc.ref)
			}
		}
		// A string modified in place is raw whatever it holds.
		keysPut(s, 0, "app", &shard.Object{Kind: shard.KindString, Str: []byte("12"), Enc: shard.EncRaw})
		if v := c.ObjectEncoding(ctx, "app").Val(); v != "raw" {
			t.Errorf("OBJECT ENCODING of a raw-marked int = %q", v)
		}
		if v := c.ObjectRefCount(ctx, "app").Val(); v != 1 {
			t.Errorf("OBJECT REFCOUNT of a raw-marked int = %d", v)
		}
		for _, f := range []func() error{
			func() error { return c.ObjectEncoding(ctx, "nokey").Err() },
			func() error { return c.ObjectRefCount(ctx, "nokey").Err() },
			func() error { return c.ObjectIdleTime(ctx, "nokey").Err() },
			func() error { return c.ObjectFreq(ctx, "nokey").Err() },
		} {
			if err := f(); !errors.Is(err, redis.Nil) {
				t.Errorf("OBJECT on a missing key: %v, want nil", err)
			}
		}
		// IDLETIME follows the injected clock; OBJECT and read-only
		// lookups without touch leave the access time alone.
		keysNoErr(t, c.Set(ctx, "idle", "v", 0).Err())
		clk.advance(42 * time.Second)
		c.ObjectEncoding(ctx, "idle")
		c.ObjectRefCount(ctx, "idle")
		if d := c.ObjectIdleTime(ctx, "idle").Val(); d != 42*time.Second {
			t.Errorf("OBJECT IDLETIME = %v, want 42s", d)
		}
		if d := c.ObjectIdleTime(ctx, "idle").Val(); d != 42*time.Second {
			t.Errorf("OBJECT IDLETIME touched the key: %v", d)
		}
		c.Get(ctx, "idle")
		if d := c.ObjectIdleTime(ctx, "idle").Val(); d != 0 {
			t.Errorf("OBJECT IDLETIME after GET = %v", d)
		}
		// FREQ needs an LFU policy; IDLETIME refuses one.
		errFreq := "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
		if err := c.ObjectFreq(ctx, "idle").Err(); err == nil || err.Error() != errFreq {
			t.Errorf("OBJECT FREQ without LFU: %v", err)
		}
		keysNoErr(t, s.Config().Set("maxmemory-policy", "allkeys-lfu", true))
		errIdle := "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
		if err := c.ObjectIdleTime(ctx, "idle").Err(); err == nil || err.Error() != errIdle {
			t.Errorf("OBJECT IDLETIME with LFU: %v", err)
		}
		if v, err := c.ObjectFreq(ctx, "idle").Result(); err != nil || v != 5 {
			t.Errorf("OBJECT FREQ of a fresh key = %d %v, want 5", v, err)
		}
		clk.advance(3 * time.Minute)
		if v := c.ObjectFreq(ctx, "idle").Val(); v != 2 {
			t.Errorf("OBJECT FREQ after 3 idle minutes = %d, want 2", v)
		}
		// LRU/LFU policies with a maxmemory disable shared integers.
		keysNoErr(t, c.Set(ctx, "n", "5", 0).Err())
		if v := c.ObjectRefCount(ctx, "n").Val(); v != math.MaxInt32 {
			t.Errorf("REFCOUNT with maxmemory 0 = %d", v)
		}
		keysNoErr(t, s.Config().Set("maxmemory", "100mb", true))
		if v := c.ObjectRefCount(ctx, "n").Val(); v != 1 {
			t.Errorf("REFCOUNT with an LFU maxmemory policy = %d", v)
		}
		keysNoErr(t, s.Config().Set("maxmemory-policy", "noeviction", true))
		if v := c.ObjectRefCount(ctx, "n").Val(); v != math.MaxInt32 {
			t.Errorf("REFCOUNT with noeviction = %d", v)
		}
		keysNoErr(t, s.Config().Set("maxmemory", "0", true))
		// Other kinds.
		keysPut(s, 0, "set", &shard.Object{Kind: shard.KindSet, Val: &keysNoCopy{}})
		if v := c.ObjectEncoding(ctx, "set").Val(); v != "hashtable" {
			t.Errorf("OBJECT ENCODING of a set without EncodingNamer = %q", v)
		}
		if v := c.ObjectRefCount(ctx, "set").Val(); v != 1 {
			t.Errorf("OBJECT REFCOUNT of a set = %d", v)
		}
	}, clk.opt())
}

func TestKeysObjectRaw(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	help := "*[+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are: +ENCODING <key> " +
		"+    Return the kind of internal representation used in order to store the value " +
		"+    associated with a <key>. +FREQ <key> " +
		"+    Return the access frequency index of the <key>. The returned integer is " +
		"+    proportional to the logarithm of the recent access frequency of the key. " +
		"+IDLETIME <key> +    Return the idle time of the <key>, that is the approximated number of " +
		"+    seconds elapsed since the last access to the key. +REFCOUNT <key> " +
		"+    Return the number of references of the value associated with the specified " +
		"+    <key>. +HELP +    Prints this help.]"
	keysExpect(t, r, help, "OBJECT", "HELP")
	keysExpect(t, r, help, "object", "help")
	keysExpect(t, r, "-ERR wrong number of arguments for 'object|encoding' command", "OBJECT", "ENCODING")
	keysExpect(t, r, "-ERR wrong number of arguments for 'object' command", "OBJECT")
	keysExpect(t, r, "-ERR unknown subcommand 'foo'. Try OBJECT HELP.", "OBJECT", "foo", "k")
	keysExpect(t, r, "(nil)", "OBJECT", "ENCODING", "nokey")
	keysExpect(t, r, "+OK", "SET", "k", "12")
	keysExpect(t, r, "$int", "OBJECT", "ENCODING", "k")
	keysExpect(t, r, ":2147483647", "OBJECT", "REFCOUNT", "k")
	keysExpect(t, r, ":0", "OBJECT", "IDLETIME", "k")
}

// TestKeysRaw3 checks the exact RESP3 forms of the family's replies.
func TestKeysRaw3(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	if got := r.Do("HELLO", "3"); !strings.HasPrefix(got, "%") {
		t.Fatalf("HELLO 3 = %s", got)
	}
	keysExpect(t, r, "(nil)", "RANDOMKEY")
	keysExpect(t, r, "*[]", "KEYS", "*")
	keysExpect(t, r, "*[$0 *[]]", "SCAN", "0")
	keysExpect(t, r, "+OK", "SET", "k", "v")
	keysExpect(t, r, "+string", "TYPE", "k")
	keysExpect(t, r, "+none", "TYPE", "nokey")
	keysExpect(t, r, "(nil)", "OBJECT", "ENCODING", "nokey")
	keysExpect(t, r, "$embstr", "OBJECT", "ENCODING", "k")
	keysExpect(t, r, "$k", "RANDOMKEY")
	keysExpect(t, r, "*[$k]", "KEYS", "*")
	keysExpect(t, r, "*[$0 *[$k]]", "SCAN", "0")
	keysExpect(t, r, ":1", "EXISTS", "k")
	keysExpect(t, r, ":-1", "TTL", "k")
	keysExpect(t, r, ":-2", "PTTL", "nokey")
	keysExpect(t, r, "+OK", "RENAME", "k", "k2")
	keysExpect(t, r, ":1", "COPY", "k2", "k3")
	keysExpect(t, r, ":1", "MOVE", "k3", "1")
	keysExpect(t, r, "+OK", "SWAPDB", "0", "1")
	keysExpect(t, r, "*[$k3]", "KEYS", "*")
	keysExpect(t, r, "+OK", "FLUSHDB")
	keysExpect(t, r, ":0", "DBSIZE")
	keysExpect(t, r, "+OK", "FLUSHALL")
	if got := r.Do("OBJECT", "HELP"); !strings.HasPrefix(got, "*[+OBJECT <subcommand>") {
		t.Errorf("OBJECT HELP under RESP3 = %.40s", got)
	}
}
