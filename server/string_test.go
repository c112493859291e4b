package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/server"
	"github.com/kvd/kvd/server/cmdspec"
	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
	"github.com/kvd/kvd/shard"
)

// strNow0 is the injected clock's start: a fixed Unix time in ms.
const strNow0 = int64(1_700_000_000_000)

// startStrings starts a server with an injected clock and returns it with
// the clock's value (tests move it forward instead of sleeping).
func startStrings(t *testing.T, workers int) (*servertest.Server, *atomic.Int64) {
	t.Helper()
	now := new(atomic.Int64)
	now.Store(strNow0)
	s := servertest.Start(t, servertest.Workers(workers), servertest.Clock(now.Load))
	return s, now
}

// strPutList stores a non-string value under key in database 0, for
// WRONGTYPE checks that must not depend on other families.
func strPutList(s *servertest.Server, key string) {
	e := s.Engine()
	e.Do(func(w *shard.Worker) {
		db := e.DB(w, 0)
		db.Add([]byte(key), &shard.Object{Kind: shard.KindList})
	})
}

// strExpire reads the absolute expiry (Unix ms, 0 = none) of a live key.
func strExpire(s *servertest.Server, key string) (int64, bool) {
	var at int64
	var ok bool
	e := s.Engine()
	e.Do(func(w *shard.Worker) {
		db := e.DB(w, 0)
		if o := db.Lookup([]byte(key)); o != nil {
			at, ok = o.Expire, true
		}
	})
	return at, ok
}

type strCase struct {
	args []string
	want string
}

func strRun(t *testing.T, r *servertest.Raw, cases []strCase) {
	t.Helper()
	for _, c := range cases {
		if got := r.Do(c.args...); got != c.want {
			t.Errorf("%s\n   got  %s\n   want %s", strings.Join(c.args, " "), got, c.want)
		}
	}
}

// strRawReply sends a command and returns the first line of its reply, to
// check RESP types the compact rendering hides ("$-1" vs "_").
func strRawReply(t *testing.T, r *servertest.Raw, args ...string) string {
	t.Helper()
	r.Send(args...)
	r.SetReadDeadline(time.Now().Add(5 * time.Second))
	line, err := r.R.ReadString('\n')
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line[0] == '$' && line != "$-1" {
		n, _ := strconv.Atoi(line[1:])
		body := make([]byte, n+2)
		io.ReadFull(r.R, body)
		return line + " " + string(body[:n])
	}
	return line
}

// TestStringRegistry checks arity, flags and key ranges against Redis 7.0's
// command table.
func TestStringRegistry(t *testing.T) {
	s := servertest.Start(t)
	flagNames := map[string]bool{"write": true, "readonly": true, "denyoom": true, "fast": true,
		"admin": true, "noscript": true, "pubsub": true, "blocking": true, "loading": true, "stale": true}
	for _, name := range []string{"get", "set", "setnx", "setex", "psetex", "getex", "getdel", "getset",
		"mget", "mset", "msetnx", "incr", "decr", "incrby", "decrby", "incrbyfloat", "append", "strlen",
		"getrange", "substr", "setrange", "lcs"} {
		spec := cmdspec.Lookup(name)
		cmd := s.Registry().LookupName(name)
		if spec == nil || cmd == nil {
			t.Errorf("%s: spec %v, command %v", name, spec != nil, cmd != nil)
			continue
		}
		if cmd.Arity != spec.Arity {
			t.Errorf("%s: arity %d, want %d", name, cmd.Arity, spec.Arity)
		}
		first, last, step := spec.LegacyRange()
		if cmd.FirstKey != first || cmd.LastKey != last || cmd.Step != step {
			t.Errorf("%s: keys %d,%d,%d, want %d,%d,%d", name, cmd.FirstKey, cmd.LastKey, cmd.Step, first, last, step)
		}
		got := map[string]bool{}
		for f, v := range map[string]bool{
			"write": cmd.Flags&server.Write != 0, "readonly": cmd.Flags&server.ReadOnly != 0,
			"denyoom": cmd.Flags&server.DenyOOM != 0, "fast": cmd.Flags&server.Fast != 0,
			"admin": cmd.Flags&server.Admin != 0, "noscript": cmd.Flags&server.NoScript != 0,
			"pubsub": cmd.Flags&server.PubSub != 0, "blocking": cmd.Flags&server.Blocking != 0,
			"loading": cmd.Flags&server.Loading != 0, "stale": cmd.Flags&server.Stale != 0,
		} {
			if v {
				got[f] = true
			}
		}
		want := map[string]bool{}
		for _, f := range spec.Flags {
			if flagNames[f] {
				want[f] = true
			}
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: flags %v, want %v", name, got, want)
		}
	}
}

// TestStringClients runs every command of the family through go-redis in
// RESP2 and RESP3.
func TestStringClients(t *testing.T) {
	s, _ := startStrings(t, 4)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			c := s.Client(proto)
			k := func(name string) string { return fmt.Sprintf("p%d:%s", proto, name) }
			check := func(what string, got, want any, err error) {
				t.Helper()
				if err != nil {
					t.Errorf("%s: %v", what, err)
					return
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s = %#v, want %#v", what, got, want)
				}
			}
			isNil := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, redis.Nil) {
					t.Errorf("%s: err %v, want redis.Nil", what, err)
				}
			}
			errIs := func(what string, err error, want string) {
				t.Helper()
				if err == nil || err.Error() != want {
					t.Errorf("%s: err %v, want %q", what, err, want)
				}
			}

			// GET / SET and its options.
			v, err := c.Set(ctx, k("a"), "hello", 0).Result()
			check("SET", v, "OK", err)
			v, err = c.Get(ctx, k("a")).Result()
			check("GET", v, "hello", err)
			_, err = c.Get(ctx, k("missing")).Result()
			isNil("GET missing", err)
			v, err = c.SetArgs(ctx, k("a"), "world", redis.SetArgs{Get: true}).Result()
			check("SET GET", v, "hello", err)
			_, err = c.SetArgs(ctx, k("new"), "x", redis.SetArgs{Get: true}).Result()
			isNil("SET GET new", err)
			v, err = c.SetArgs(ctx, k("a"), "ignored", redis.SetArgs{Mode: "NX", Get: true}).Result()
			check("SET NX GET existing", v, "world", err)
			v, err = c.Get(ctx, k("a")).Result()
			check("GET after NX", v, "world", err)
			_, err = c.SetArgs(ctx, k("nx"), "1", redis.SetArgs{Mode: "NX", Get: true}).Result()
			isNil("SET NX GET missing", err)
			v, err = c.Get(ctx, k("nx")).Result()
			check("GET after NX GET", v, "1", err)
			_, err = c.SetArgs(ctx, k("xx"), "1", redis.SetArgs{Mode: "XX"}).Result()
			isNil("SET XX missing", err)
			b, err := c.SetNX(ctx, k("snx"), "1", 0).Result()
			check("SETNX", b, true, err)
			b, err = c.SetNX(ctx, k("snx"), "2", 0).Result()
			check("SETNX again", b, false, err)
			b, err = c.SetXX(ctx, k("snx"), "3", 0).Result()
			check("SET XX", b, true, err)
			b, err = c.SetXX(ctx, k("nosuch"), "3", 0).Result()
			check("SET XX missing", b, false, err)
			v, err = c.SetArgs(ctx, k("ttl"), "v", redis.SetArgs{TTL: 100 * time.Second}).Result()
			check("SET EX", v, "OK", err)
			d, err := c.TTL(ctx, k("ttl")).Result()
			check("TTL", d, 100*time.Second, err)
			v, err = c.SetArgs(ctx, k("ttl"), "v2", redis.SetArgs{KeepTTL: true}).Result()
			check("SET KEEPTTL", v, "OK", err)
			d, err = c.TTL(ctx, k("ttl")).Result()
			check("TTL after KEEPTTL", d, 100*time.Second, err)
			v, err = c.SetEx(ctx, k("sx"), "v", 10*time.Second).Result()
			check("SETEX", v, "OK", err)
			r, err := c.Do(ctx, "psetex", k("psx"), 1500, "v").Result()
			check("PSETEX", r, "OK", err)
			d, err = c.PTTL(ctx, k("psx")).Result()
			check("PTTL", d, 1500*time.Millisecond, err)

			// GETEX, GETDEL, GETSET.
			v, err = c.GetEx(ctx, k("a"), 20*time.Second).Result()
			check("GETEX EX", v, "world", err)
			d, err = c.TTL(ctx, k("a")).Result()
			check("TTL after GETEX", d, 20*time.Second, err)
			v, err = c.GetEx(ctx, k("a"), 0).Result()
			check("GETEX PERSIST", v, "world", err)
			d, err = c.TTL(ctx, k("a")).Result()
			check("TTL after PERSIST", d, time.Duration(-1), err)
			_, err = c.GetEx(ctx, k("missing"), time.Second).Result()
			isNil("GETEX missing", err)
			v, err = c.GetSet(ctx, k("a"), "third").Result()
			check("GETSET", v, "world", err)
			_, err = c.GetSet(ctx, k("gs"), "first").Result()
			isNil("GETSET new", err)
			v, err = c.GetDel(ctx, k("gs")).Result()
			check("GETDEL", v, "first", err)
			_, err = c.GetDel(ctx, k("gs")).Result()
			isNil("GETDEL again", err)

			// MSET / MGET / MSETNX over keys on several workers.
			pairs := []any{}
			keys := []string{}
			for i := 0; i < 20; i++ {
				pairs = append(pairs, k(fmt.Sprint("m", i)), fmt.Sprint("v", i))
				keys = append(keys, k(fmt.Sprint("m", i)))
			}
			v, err = c.MSet(ctx, pairs...).Result()
			check("MSET", v, "OK", err)
			vals, err := c.MGet(ctx, append(keys, k("missing"))...).Result()
			want := []any{}
			for i := 0; i < 20; i++ {
				want = append(want, fmt.Sprint("v", i))
			}
			check("MGET", vals, append(want, nil), err)
			b, err = c.MSetNX(ctx, k("n1"), "1", k("n2"), "2", k("n3"), "3").Result()
			check("MSETNX", b, true, err)
			b, err = c.MSetNX(ctx, k("n4"), "4", k("n1"), "x").Result()
			check("MSETNX existing", b, false, err)
			n, err := c.Exists(ctx, k("n4")).Result()
			check("EXISTS n4", n, int64(0), err)

			// Counters.
			n, err = c.Incr(ctx, k("cnt")).Result()
			check("INCR", n, int64(1), err)
			n, err = c.IncrBy(ctx, k("cnt"), 41).Result()
			check("INCRBY", n, int64(42), err)
			n, err = c.Decr(ctx, k("cnt")).Result()
			check("DECR", n, int64(41), err)
			n, err = c.DecrBy(ctx, k("cnt"), 50).Result()
			check("DECRBY", n, int64(-9), err)
			v, err = c.Get(ctx, k("cnt")).Result()
			check("GET counter", v, "-9", err)
			f, err := c.IncrByFloat(ctx, k("fl"), 10.5).Result()
			check("INCRBYFLOAT", f, 10.5, err)
			f, err = c.IncrByFloat(ctx, k("fl"), 0.1).Result()
			check("INCRBYFLOAT 2", f, 10.6, err)
			v, err = c.Get(ctx, k("fl")).Result()
			check("GET float", v, "10.6", err)
			r, err = c.Do(ctx, "incrbyfloat", k("fl2"), "5.0e3").Result()
			check("INCRBYFLOAT 5.0e3", r, "5000", err)
			_, err = c.Incr(ctx, k("a")).Result()
			errIs("INCR non-integer", err, "ERR value is not an integer or out of range")
			_, err = c.IncrByFloat(ctx, k("a"), 1).Result()
			errIs("INCRBYFLOAT non-float", err, "ERR value is not a valid float")

			// Byte strings.
			n, err = c.Append(ctx, k("ap"), "hello").Result()
			check("APPEND new", n, int64(5), err)
			n, err = c.Append(ctx, k("ap"), " world").Result()
			check("APPEND", n, int64(11), err)
			n, err = c.StrLen(ctx, k("ap")).Result()
			check("STRLEN", n, int64(11), err)
			n, err = c.StrLen(ctx, k("missing")).Result()
			check("STRLEN missing", n, int64(0), err)
			v, err = c.GetRange(ctx, k("ap"), -5, -1).Result()
			check("GETRANGE", v, "world", err)
			v, err = c.GetRange(ctx, k("missing"), 0, -1).Result()
			check("GETRANGE missing", v, "", err)
			r, err = c.Do(ctx, "substr", k("ap"), 0, 4).Result()
			check("SUBSTR", r, "hello", err)
			n, err = c.SetRange(ctx, k("ap"), 6, "WORLD").Result()
			check("SETRANGE", n, int64(11), err)
			n, err = c.SetRange(ctx, k("sr"), 3, "x").Result()
			check("SETRANGE new", n, int64(4), err)
			v, err = c.Get(ctx, k("sr")).Result()
			check("GET padded", v, "\x00\x00\x00x", err)
			v, err = c.Get(ctx, k("ap")).Result()
			check("GET after SETRANGE", v, "hello WORLD", err)

			// LCS.
			c.MSet(ctx, k("l1"), "ohmytext", k("l2"), "mynewtext")
			lcs, err := c.LCS(ctx, &redis.LCSQuery{Key1: k("l1"), Key2: k("l2")}).Result()
			check("LCS", lcs.MatchString, "mytext", err)
			lcs, err = c.LCS(ctx, &redis.LCSQuery{Key1: k("l1"), Key2: k("l2"), Len: true}).Result()
			check("LCS LEN", lcs.Len, int64(6), err)
			lcs, err = c.LCS(ctx, &redis.LCSQuery{Key1: k("l1"), Key2: k("l2"), Idx: true, WithMatchLen: true}).Result()
			check("LCS IDX", lcs, &redis.LCSMatch{Len: 6, Matches: []redis.LCSMatchedPosition{
				{Key1: redis.LCSPosition{Start: 4, End: 7}, Key2: redis.LCSPosition{Start: 5, End: 8}, MatchLen: 4},
				{Key1: redis.LCSPosition{Start: 2, End: 3}, Key2: redis.LCSPosition{Start: 0, End: 1}, MatchLen: 2},
			}}, err)
			lcs, err = c.LCS(ctx, &redis.LCSQuery{Key1: k("l1"), Key2: k("l2"), Idx: true, MinMatchLen: 4}).Result()
			check("LCS IDX MINMATCHLEN", lcs, &redis.LCSMatch{Len: 6, Matches: []redis.LCSMatchedPosition{
				{Key1: redis.LCSPosition{Start: 4, End: 7}, Key2: redis.LCSPosition{Start: 5, End: 8}},
			}}, err)
		})
	}
}

// TestStringErrors checks exact error replies over the raw protocol.
func TestStringErrors(t *testing.T) {
	s, _ := startStrings(t, 2)
	strPutList(s, "list")
	r := s.Raw()
	const wt = "-WRONGTYPE Operation against a key holding the wrong kind of value"
	const notInt = "-ERR value is not an integer or out of range"
	const notFloat = "-ERR value is not a valid float"
	strRun(t, r, []strCase{
		{[]string{"SET", "k", "v"}, "+OK"},
		{[]string{"SET", "k", "v", "NX", "XX"}, "-ERR syntax error"},
		{[]string{"SET", "k", "v", "XX", "NX"}, "-ERR syntax error"},
		{[]string{"SET", "k", "v", "EX", "10", "PX", "100"}, "-ERR syntax error"},
		{[]string{"SET", "k", "v", "EXAT", "10", "PXAT", "100"}, "-ERR syntax error"},
		{[]string{"SET", "k", "v", "KEEPTTL", "EX", "10"}, "-ERR syntax error"},
		{[]string{"SET", "k", "v", "EX", "10", "KEEPTTL"}, "-ERR syntax error"},
		{[]string{"SET", "k", "v", "EX"}, "-ERR syntax error"},
		{[]string{"SET", "k", "v", "PERSIST"}, "-ERR syntax error"},
		{[]string{"SET", "k", "v", "FOO"}, "-ERR syntax error"},
		{[]string{"SET", "k", "v", "EX", "abc", "NX", "XX"}, "-ERR syntax error"},
		{[]string{"SET", "k", "v", "EX", "abc"}, notInt},
		{[]string{"SET", "k", "v", "EX", "1.5"}, notInt},
		{[]string{"SET", "k", "v", "EX", "0"}, "-ERR invalid expire time in 'set' command"},
		{[]string{"SET", "k", "v", "PX", "-1"}, "-ERR invalid expire time in 'set' command"},
		{[]string{"SET", "k", "v", "EXAT", "0"}, "-ERR invalid expire time in 'set' command"},
		{[]string{"SET", "k", "v", "EX", "9223372036854776"}, "-ERR invalid expire time in 'set' command"},
		{[]string{"SET", "k", "v", "EX", "9223372036854775"}, "-ERR invalid expire time in 'set' command"},
		{[]string{"SET", "k", "v", "PX", "9223372036854775807"}, "-ERR invalid expire time in 'set' command"},
		{[]string{"SET", "k", "v", "EX", "99999999999999999999"}, notInt},
		{[]string{"SET", "list", "v", "GET"}, wt},
		{[]string{"SET", "list", "v", "XX", "GET"}, wt},
		{[]string{"SET", "list", "v", "EX", "0", "GET"}, "-ERR invalid expire time in 'set' command"},
		{[]string{"SET", "list", "v", "NX"}, "(nil)"},
		{[]string{"SET"}, "-ERR wrong number of arguments for 'set' command"},
		{[]string{"SET", "k"}, "-ERR wrong number of arguments for 'set' command"},
		{[]string{"GET", "list"}, wt},
		{[]string{"GET"}, "-ERR wrong number of arguments for 'get' command"},
		{[]string{"GET", "a", "b"}, "-ERR wrong number of arguments for 'get' command"},
		{[]string{"SETNX", "k"}, "-ERR wrong number of arguments for 'setnx' command"},
		{[]string{"SETEX", "k", "0", "v"}, "-ERR invalid expire time in 'setex' command"},
		{[]string{"SETEX", "k", "-5", "v"}, "-ERR invalid expire time in 'setex' command"},
		{[]string{"SETEX", "k", "abc", "v"}, notInt},
		{[]string{"SETEX", "k", "9223372036854775", "v"}, "-ERR invalid expire time in 'setex' command"},
		{[]string{"SETEX", "k", "10"}, "-ERR wrong number of arguments for 'setex' command"},
		{[]string{"PSETEX", "k", "0", "v"}, "-ERR invalid expire time in 'psetex' command"},
		{[]string{"PSETEX", "k", "9223372036854775807", "v"}, "-ERR invalid expire time in 'psetex' command"},
		{[]string{"PSETEX", "k", "x", "v"}, notInt},
		{[]string{"SETEX", "list", "10", "v"}, "+OK"}, // overwrites any type
		{[]string{"GET", "list"}, "$v"},
		{[]string{"GETEX", "k", "PERSIST", "EX", "10"}, "-ERR syntax error"},
		{[]string{"GETEX", "k", "EX", "10", "PERSIST"}, "-ERR syntax error"},
		{[]string{"GETEX", "k", "KEEPTTL"}, "-ERR syntax error"},
		{[]string{"GETEX", "k", "NX"}, "-ERR syntax error"},
		{[]string{"GETEX", "k", "GET"}, "-ERR syntax error"},
		{[]string{"GETEX", "k", "EX"}, "-ERR syntax error"},
		{[]string{"GETEX", "k", "EX", "0"}, "-ERR invalid expire time in 'getex' command"},
		{[]string{"GETEX", "k", "EXAT", "9223372036854776"}, "-ERR invalid expire time in 'getex' command"},
		{[]string{"GETEX", "k", "PX", "abc"}, notInt},
		{[]string{"GETEX", "missing", "EX", "0"}, "(nil)"},
		{[]string{"GETEX"}, "-ERR wrong number of arguments for 'getex' command"},
		{[]string{"GETDEL", "k", "x"}, "-ERR wrong number of arguments for 'getdel' command"},
		{[]string{"GETSET", "k"}, "-ERR wrong number of arguments for 'getset' command"},
		{[]string{"MSET", "a"}, "-ERR wrong number of arguments for 'mset' command"},
		{[]string{"MSET", "a", "1", "b"}, "-ERR wrong number of arguments for 'mset' command"},
		{[]string{"MSETNX", "a", "1", "b"}, "-ERR wrong number of arguments for 'msetnx' command"},
		{[]string{"MSETNX", "a"}, "-ERR wrong number of arguments for 'msetnx' command"},
		{[]string{"MGET"}, "-ERR wrong number of arguments for 'mget' command"},
		{[]string{"SET", "s", "abc"}, "+OK"},
		{[]string{"INCR", "s"}, notInt},
		{[]string{"SET", "s", "01"}, "+OK"},
		{[]string{"INCR", "s"}, notInt},
		{[]string{"SET", "s", "+1"}, "+OK"},
		{[]string{"INCR", "s"}, notInt},
		{[]string{"SET", "s", " 1"}, "+OK"},
		{[]string{"DECR", "s"}, notInt},
		{[]string{"SET", "s", "-0"}, "+OK"},
		{[]string{"INCRBY", "s", "1"}, notInt},
		{[]string{"SET", "s", "1.0"}, "+OK"},
		{[]string{"DECRBY", "s", "1"}, notInt},
		{[]string{"INCRBY", "n", "abc"}, notInt},
		{[]string{"INCRBY", "n", "9223372036854775808"}, notInt},
		{[]string{"DECRBY", "n", "-9223372036854775808"}, "-ERR decrement would overflow"},
		{[]string{"SET", "n", "9223372036854775807"}, "+OK"},
		{[]string{"INCR", "n"}, "-ERR increment or decrement would overflow"},
		{[]string{"DECRBY", "n", "-1"}, "-ERR increment or decrement would overflow"},
		{[]string{"SET", "n", "-9223372036854775808"}, "+OK"},
		{[]string{"DECR", "n"}, "-ERR increment or decrement would overflow"},
		{[]string{"INCRBY", "n", "-1"}, "-ERR increment or decrement would overflow"},
		{[]string{"GET", "n"}, "$-9223372036854775808"},
		{[]string{"INCRBY", "n", "9223372036854775807"}, ":-1"},
		{[]string{"SET", "list", "x"}, "+OK"},
		{[]string{"DEL", "list"}, ":1"},
		{[]string{"INCR"}, "-ERR wrong number of arguments for 'incr' command"},
		{[]string{"INCRBY", "n"}, "-ERR wrong number of arguments for 'incrby' command"},
		{[]string{"INCRBYFLOAT", "f", "abc"}, notFloat},
		{[]string{"INCRBYFLOAT", "f", ""}, notFloat},
		{[]string{"INCRBYFLOAT", "f", " 1"}, notFloat},
		{[]string{"INCRBYFLOAT", "f", "1 "}, notFloat},
		{[]string{"INCRBYFLOAT", "f", "nan"}, notFloat},
		{[]string{"INCRBYFLOAT", "f", "1e5000"}, notFloat},
		{[]string{"INCRBYFLOAT", "f", "1e-5000"}, notFloat},
		{[]string{"INCRBYFLOAT", "f", "inf"}, "-ERR increment would produce NaN or Infinity"},
		{[]string{"INCRBYFLOAT", "f", "1e4932"}, "$1" + strings.Repeat("0", 20) + "6018949387963891323837774254533114773785041352533019486608722407533327779433142773666525563666277682061860906440460336623416164931097542108653623739947237824273607755646282077337746770628281083461244709457643633409272844851420914666765408339856497738306756454137037618440476182982865954054046320908299555942321302503320602080070208203623921079151881460203745014774931620490030394998719312614654064081373493248877120892455186383753439197870978041502797716880193955403107721911638646256939484197293128160329482360996995779489224859264034146949087194820794222433687849284561987230134006305414553626323614864479565079390052761980633463640128979696615362545507608303960553830866145592644372289102918602696741767741297153998359263135897985849697638678310586803720024647593066044070323761747439375151949994191528876172274034561238465689530914002496208547488452249219821049217690359246594326188537200846025476936856707726986425804304053688317572380292690880454677852210458790733177421098965346383845533016192965653377533421097553773202105452559589360227732550843545717469715211293029277100649951579279463212875228768700827274629951331584994203243708412190948315614798641721054158397351395747758548328754270534225721361640356227816080094892433366902417454242382629232277544026609640255325557814321580325340352330660617642326696140257239552549121071985189443846777623334881929189773707008403466595204838733621633273383631944856989484138444978386656058755310848833689791896484998847550364264104800800578245511762594691161545730891319744107953897993101008217601269310629890308357893793344340072837782716410520818640099771094401772024731084835860689936533035726854175396195351768096519310944631445923638053214575993378468775292865871435742249777979822775014324475845899615096380079899099538453121043851821349178371736640702645304284254885437611441690360616466368202194307769462209963387690446576691969551571041941288302648912827345194286271122230347823246073498285153708579500062656222714954113329293953346495615947784091175883554988117167387650681525781361864450364992605079129770604793291076559668041153558254765774288831330658676910296506538343982699076824147706077401185501337053676875440863113630172067902223837838525802181406003942606507609826320015193807633035586661539150425605940691768637845815434184585255915074081317250319572700370579877977177644345205933505850374212779064837146242765034714569464306865784829936445754893825213995710137567750342556762329137973387913047300554841737506800154984198686923965286147079273203561004647365286049876790788288301130050437207489067798842078443360167772245834103629301041345252122743437501935254370757049878526838283810705343010153283985958550741661374001212323172562230037290597675029278865489570268803618001520280748588481858632332145422181524500970533738858652881625738158955840469334830106366243262210429210258173978186522208306814207038831590332622155464159216193005478809313772661406449321989529908990407599717265354887081027622412165764793106246309910984757869627982700885055259900973567128498437782671492610351088858271463387495833021819318548705558606395846070390500323204636339383655528123657438115225035433947543876805317781492691295772410403746456774175666884503175504415270824258750305653788473882671038340481278188648013647450190431469737277008003041204693859153544058059108384516541261521127088116402349679151317227395183628490922161336429757386698401928682323657056924758648793848799822907606679071280964393541325129231682456669123450140879120137931548652537601508656209183486928384515842973760163601756230697826779237275078471824258664382133759876151537532598429521999758431018087001817485300919479583171049967781322202936864648780744025361452947117776701129210049872555316467204668470989130203733391349501708713181244068921199587314823974568234174792429139799088587794666528769986602820375968045445209219875596678877912103336949894142378173648692130854177898020194629670311101994938157038765957014792056173739623614871557317714453597336202068774935086409386414223375141765601758268418764114651053088281009248246110195084364468926837572992870110411414878770616397817334529367403238061699632089293543118185299881280463481800696201966723511922556078483839325067415562633057448408746541808590342228476964416681055875561781810005936328191844815915658719683522845979901018335050006246392027657149580332319739660376707180429166280658258434773362764563277134220525779869893832824866422909928484939374964071386248088592408142723646533801882861736205992781965360090000802821408763787641023437653119263757280212773694655213507075717622521160227187157631635583682130089364682543007292042009976150135189415923413244100006421082817394988300265734422677548100741829682842668334472314928702968616204691717366798642916146473018363370523427203416579250811577900985980957404830019403600361860520985937973506956557739754741783354728589350876379371163141086538418113791886622720"},
		{[]string{"INCRBYFLOAT", "f", "1e4932"}, "-ERR increment would produce NaN or Infinity"},
		{[]string{"SET", "s", "abc"}, "+OK"},
		{[]string{"INCRBYFLOAT", "s", "1"}, notFloat},
		{[]string{"INCRBYFLOAT", "f"}, "-ERR wrong number of arguments for 'incrbyfloat' command"},
		{[]string{"SETRANGE", "sr", "-1", "x"}, "-ERR offset is out of range"},
		{[]string{"SETRANGE", "sr", "-1", ""}, "-ERR offset is out of range"},
		{[]string{"SETRANGE", "sr", "x", "x"}, notInt},
		{[]string{"SETRANGE", "sr", "536870912", "x"}, "-ERR string exceeds maximum allowed size (proto-max-bulk-len)"},
		{[]string{"SETRANGE", "sr", "536870911", "xy"}, "-ERR string exceeds maximum allowed size (proto-max-bulk-len)"},
		{[]string{"SETRANGE", "sr", "9223372036854775807", "x"}, "-ERR string exceeds maximum allowed size (proto-max-bulk-len)"},
		{[]string{"SETRANGE", "sr", "536870912", ""}, ":0"},
		{[]string{"EXISTS", "sr"}, ":0"},
		{[]string{"GETRANGE", "k", "a", "1"}, notInt},
		{[]string{"GETRANGE", "k", "1", "a"}, notInt},
		{[]string{"SUBSTR", "k", "1"}, "-ERR wrong number of arguments for 'substr' command"},
		{[]string{"LCS", "k", "s", "IDX", "LEN"}, "-ERR If you want both the length and indexes, please just use IDX."},
		{[]string{"LCS", "k", "s", "MINMATCHLEN"}, "-ERR syntax error"},
		{[]string{"LCS", "k", "s", "MINMATCHLEN", "x"}, notInt},
		{[]string{"LCS", "k", "s", "FOO"}, "-ERR syntax error"},
		{[]string{"LCS", "k"}, "-ERR wrong number of arguments for 'lcs' command"},
	})

	// WRONGTYPE from every command that reads or modifies a string.
	strPutList(s, "list")
	strRun(t, r, []strCase{
		{[]string{"GET", "list"}, wt},
		{[]string{"GETEX", "list"}, wt},
		{[]string{"GETEX", "list", "EX", "0"}, wt},
		{[]string{"GETDEL", "list"}, wt},
		{[]string{"GETSET", "list", "v"}, wt},
		{[]string{"SET", "list", "v", "GET"}, wt},
		{[]string{"INCR", "list"}, wt},
		{[]string{"DECR", "list"}, wt},
		{[]string{"INCRBY", "list", "1"}, wt},
		{[]string{"INCRBY", "list", "x"}, notInt}, // the argument is checked first
		{[]string{"DECRBY", "list", "1"}, wt},
		{[]string{"INCRBYFLOAT", "list", "1"}, wt},
		{[]string{"INCRBYFLOAT", "list", "x"}, wt}, // the type is checked first
		{[]string{"APPEND", "list", "x"}, wt},
		{[]string{"STRLEN", "list"}, wt},
		{[]string{"GETRANGE", "list", "0", "1"}, wt},
		{[]string{"GETRANGE", "list", "x", "1"}, notInt},
		{[]string{"SUBSTR", "list", "0", "1"}, wt},
		{[]string{"SETRANGE", "list", "0", "x"}, wt},
		{[]string{"SETRANGE", "list", "0", ""}, wt},
		{[]string{"SETRANGE", "list", "-1", "x"}, "-ERR offset is out of range"},
		{[]string{"LCS", "list", "k"}, "-ERR The specified keys must contain string values"},
		{[]string{"LCS", "k", "list", "FOO"}, "-ERR The specified keys must contain string values"},
		{[]string{"MGET", "k", "list"}, "*[$v (nil)]"},
		{[]string{"MSETNX", "list", "v"}, ":0"},
		{[]string{"SETNX", "list", "v"}, ":0"},
		{[]string{"SET", "list", "v", "XX"}, "+OK"},
		{[]string{"GET", "list"}, "$v"},
	})
}

// TestStringReplies checks exact replies and RESP types in both protocols.
func TestStringReplies(t *testing.T) {
	s, _ := startStrings(t, 4)
	r := s.Raw()
	strRun(t, r, []strCase{
		{[]string{"MSET", "key1", "ohmytext", "key2", "mynewtext"}, "+OK"},
		{[]string{"LCS", "key1", "key2"}, "$mytext"},
		{[]string{"LCS", "key1", "key2", "LEN"}, ":6"},
		{[]string{"LCS", "key1", "key2", "IDX"}, "*[$matches *[*[*[:4 :7] *[:5 :8]] *[*[:2 :3] *[:0 :1]]] $len :6]"},
		{[]string{"LCS", "key1", "key2", "idx", "minmatchlen", "4", "withmatchlen"}, "*[$matches *[*[*[:4 :7] *[:5 :8] :4]] $len :6]"},
		{[]string{"LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-5"}, "*[$matches *[*[*[:4 :7] *[:5 :8]] *[*[:2 :3] *[:0 :1]]] $len :6]"},
		{[]string{"LCS", "key1", "key2", "WITHMATCHLEN"}, "$mytext"},
		{[]string{"LCS", "key1", "nokey"}, "$"},
		{[]string{"LCS", "nokey", "nokey2", "IDX"}, "*[$matches *[] $len :0]"},
		{[]string{"MSET", "a", "abcXdefYghi", "b", "abcdefghi"}, "+OK"},
		{[]string{"LCS", "a", "b", "IDX", "WITHMATCHLEN"}, "*[$matches *[*[*[:8 :10] *[:6 :8] :3] *[*[:4 :6] *[:3 :5] :3] *[*[:0 :2] *[:0 :2] :3]] $len :9]"},
		{[]string{"LCS", "a", "a", "IDX", "WITHMATCHLEN"}, "*[$matches *[*[*[:0 :10] *[:0 :10] :11]] $len :11]"},
		{[]string{"LCS", "a", "b", "IDX", "MINMATCHLEN", "1", "MINMATCHLEN", "4"}, "*[$matches *[] $len :9]"},
		{[]string{"MSET", "c", "aaaaabbbbbaaaaa", "d", "bbbbbaaaaabbbbb"}, "+OK"},
		{[]string{"LCS", "c", "d", "IDX", "WITHMATCHLEN"}, "*[$matches *[*[*[:5 :14] *[:0 :9] :10]] $len :10]"},
		{[]string{"GETRANGE", "key1", "0", "-1"}, "$ohmytext"},
		{[]string{"GETRANGE", "key1", "-3", "-1"}, "$ext"},
		{[]string{"GETRANGE", "key1", "-1", "-3"}, "$"},
		{[]string{"GETRANGE", "key1", "5", "2"}, "$"},
		{[]string{"GETRANGE", "key1", "100", "200"}, "$"},
		{[]string{"GETRANGE", "key1", "-100", "2"}, "$ohm"},
		{[]string{"GETRANGE", "key1", "-9223372036854775808", "9223372036854775807"}, "$ohmytext"},
		{[]string{"GETRANGE", "nokey", "0", "1"}, "$"},
		{[]string{"SUBSTR", "key1", "-2", "-1"}, "$xt"},
		{[]string{"SET", "e", ""}, "+OK"},
		{[]string{"GETRANGE", "e", "0", "-1"}, "$"},
		{[]string{"STRLEN", "e"}, ":0"},
		{[]string{"SETRANGE", "sr", "5", "abc"}, ":8"},
		{[]string{"GET", "sr"}, "$\x00\x00\x00\x00\x00abc"},
		{[]string{"SETRANGE", "sr", "0", ""}, ":8"},
		{[]string{"SETRANGE", "sr", "10", "!"}, ":11"},
		{[]string{"SETRANGE", "sr", "1", "XY"}, ":11"},
		{[]string{"GET", "sr"}, "$\x00XY\x00\x00abc\x00\x00!"},
		{[]string{"SETRANGE", "nokey", "3", ""}, ":0"},
		{[]string{"EXISTS", "nokey"}, ":0"},
		{[]string{"APPEND", "ap", "hello"}, ":5"},
		{[]string{"APPEND", "ap", ""}, ":5"},
		{[]string{"APPEND", "ap", " world"}, ":11"},
		{[]string{"GET", "ap"}, "$hello world"},
		{[]string{"SETNX", "nx", "1"}, ":1"},
		{[]string{"SETNX", "nx", "2"}, ":0"},
		{[]string{"GET", "nx"}, "$1"},
		{[]string{"SET", "k", "v", "NX", "GET"}, "(nil)"},
		{[]string{"SET", "k", "v2", "NX", "GET"}, "$v"},
		{[]string{"SET", "k", "v3", "XX", "GET"}, "$v"},
		{[]string{"SET", "k", "v4", "GET", "GET", "XX", "XX"}, "$v3"},
		{[]string{"SET", "k3", "v", "XX", "GET"}, "(nil)"},
		{[]string{"EXISTS", "k3"}, ":0"},
		{[]string{"SET", "k", "v", "nx"}, "(nil)"},
		{[]string{"MSETNX", "x", "1", "x", "2"}, ":1"},
		{[]string{"GET", "x"}, "$2"},
		{[]string{"MGET", "x", "nokey", "k"}, "*[$2 (nil) $v4]"},
		{[]string{"INCRBY", "cnt", "0"}, ":0"},
		{[]string{"GET", "cnt"}, "$0"},
		{[]string{"DECRBY", "cnt", "-9223372036854775807"}, ":9223372036854775807"},
	})

	// INCRBYFLOAT results, each checked on redis-server 7.0.15 (x86-64
	// long double arithmetic).
	floats := []struct{ key, incr, want string }{
		{"f1", "10.5", "10.5"}, {"f1", "0.1", "10.6"}, {"f1", "5.0e3", "5010.60000000000000009"},
		{"f1", "-5010.6", "0"},
		{"f2", "3.0e3", "3000"}, {"f2", "1.2", "3001.19999999999999996"},
		{"f3", "0.1", "0.1"}, {"f3", "0.2", "0.3"}, {"f3", "0.3", "0.6"}, {"f3", "-0.6", "0"},
		{"f4", "-0.0", "0"}, {"f5", "1e-4940", "0"}, {"f6", "1e-20", "0"}, {"f7", ".5", "0.5"},
		{"f8", "5.", "5"}, {"f9", "3", "3"}, {"f10", "1.23456789012345678901234567", "1.23456789012345679"},
		{"f11", "-1e-18", "0"}, {"f12", "1e-17", "0.00000000000000001"}, {"f13", "1.000000000000000005", "1"},
		{"f14", "+1.5", "1.5"}, {"f15", "0x1p3", "8"}, {"f16", "0xA.8p1", "21"}, {"f17", "0x.8", "0.5"},
		{"f18", "1E+2", "100"}, {"f19", "-.5e-1", "-0.05"}, {"f20", "00012.50", "12.5"},
		{"f21", "0e999999999999", "0"}, {"f22", "9007199254740993", "9007199254740993"},
		{"f23", "18446744073709551617", "18446744073709551616"},
		{"f24", "123456789012345678901234567890", "123456789012345678899921813504"},
		{"f25", "12345678901234567.5", "12345678901234567.5"},
		{"f26", "-99999.999999999999999999", "-100000"},
		{"f27", "1e308", "99999999999999999996685879655845645660560099847415567207797047994921734868838061872100126921888539320446747225054013223152134749593960583597420814430196418767959100019603190778663109604507106667939153395788938914560543563061268364901618630217086589253444881623791300855757318142424510452728255046343928578048"},
	}
	for _, f := range floats {
		if got := r.Do("INCRBYFLOAT", f.key, f.incr); got != "$"+f.want {
			t.Errorf("INCRBYFLOAT %s %s = %s, want $%s", f.key, f.incr, got, f.want)
		}
	}
	for _, bad := range []string{"1e", "", ".", "-", "1..2", "0x", "0x.", "0x1p", "1e+", "infinit", "nan(123)", "1.2e4932",
		"1.18973149535723176508e+4932", "1e999999999999999999999", "1e-999999999999999999999", "0x1p-16446", "1.8e-4951"} {
		if got := r.Do("INCRBYFLOAT", "fbad", bad); got != "-ERR value is not a valid float" {
			t.Errorf("INCRBYFLOAT %q = %s", bad, got)
		}
	}
	for _, inf := range []string{"inf", "-inf", "+Infinity", "INFINITY"} {
		if got := r.Do("INCRBYFLOAT", "fbad", inf); got != "-ERR increment would produce NaN or Infinity" {
			t.Errorf("INCRBYFLOAT %q = %s", inf, got)
		}
	}
	// The largest finite long double, written in hex and in decimal.
	maxHex := r.Do("INCRBYFLOAT", "max", "0x1.fffffffffffffffep16383")
	maxDec := r.Do("INCRBYFLOAT", "max2", "1.18973149535723176502e+4932")
	if maxHex != maxDec || len(maxHex) != 1+4933 || !strings.HasPrefix(maxHex, "$118973149535723176502126385303097020516906") ||
		!strings.HasSuffix(maxHex, "8849149662444156604419552086811989770240") {
		t.Errorf("largest long double: %.60s... (%d bytes) vs %.60s...", maxHex, len(maxHex), maxDec)
	}
	strRun(t, r, []strCase{
		{[]string{"INCRBYFLOAT", "tiny", "0x1p-16445"}, "$0"},
		{[]string{"INCRBYFLOAT", "tiny2", "0x1.8p-16446"}, "$0"},
		{[]string{"INCRBYFLOAT", "max", "0x0.0000000000000001p16383"}, "-ERR increment would produce NaN or Infinity"},
		{[]string{"SET", "big", "1.1e4932"}, "+OK"},
		{[]string{"INCRBYFLOAT", "big", "-1.1e4932"}, "$0"},
		{[]string{"EXISTS", "fbad"}, ":0"},
	})

	// RESP3: nulls are "_", LCS IDX is a map, INCRBYFLOAT stays a bulk.
	r3 := s.Raw()
	r3.Do("HELLO", "3")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"GET", "nokey"}, "_"},
		{[]string{"GETEX", "nokey"}, "_"},
		{[]string{"GETDEL", "nokey"}, "_"},
		{[]string{"GETSET", "g3", "v"}, "_"},
		{[]string{"SET", "g3", "v", "NX"}, "_"},
		{[]string{"SET", "g4", "v", "GET"}, "_"},
		{[]string{"INCRBYFLOAT", "fl3", "1.5"}, "$3 1.5"},
		{[]string{"GETRANGE", "nokey", "0", "1"}, "$0 "},
		{[]string{"LCS", "key1", "key2", "IDX"}, "%2"},
	} {
		if got := strRawReply(t, r3, c.args...); got != c.want {
			t.Errorf("RESP3 %v: first line %q, want %q", c.args, got, c.want)
		}
		if c.want == "%2" {
			// drain the rest of the map
			for i := 0; i < 4; i++ {
				r3.ReadReply()
			}
		}
	}
	strRun(t, r3, []strCase{
		{[]string{"LCS", "key1", "key2", "IDX", "WITHMATCHLEN"}, "%[$matches *[*[*[:4 :7] *[:5 :8] :4] *[*[:2 :3] *[:0 :1] :2]] $len :6]"},
		{[]string{"LCS", "nokey", "nokey2", "IDX"}, "%[$matches *[] $len :0]"},
		{[]string{"MGET", "key1", "nokey"}, "*[$ohmytext (nil)]"},
	})
	r2 := s.Raw()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"GET", "nokey"}, "$-1"},
		{[]string{"SET", "g3", "v", "NX"}, "$-1"},
		{[]string{"LCS", "key1", "key2", "IDX"}, "*4"},
	} {
		if got := strRawReply(t, r2, c.args...); got != c.want {
			t.Errorf("RESP2 %v: first line %q, want %q", c.args, got, c.want)
		}
	}
}

// TestStringExpiry moves an injected clock to check every expiry option.
func TestStringExpiry(t *testing.T) {
	s, now := startStrings(t, 4)
	r := s.Raw()
	expect := func(key string, want int64) {
		t.Helper()
		at, ok := strExpire(s, key)
		if !ok {
			t.Errorf("%s: missing, want expiry %d", key, want)
		} else if at != want {
			t.Errorf("%s: expiry %d, want %d", key, at, want)
		}
	}
	gone := func(key string) {
		t.Helper()
		if got := r.Do("EXISTS", key); got != ":0" {
			t.Errorf("%s still exists", key)
		}
	}
	n0 := strNow0
	strRun(t, r, []strCase{
		{[]string{"SET", "ex", "v", "EX", "10"}, "+OK"},
		{[]string{"SET", "px", "v", "PX", "1500"}, "+OK"},
		{[]string{"SET", "exat", "v", "EXAT", strconv.FormatInt(n0/1000+100, 10)}, "+OK"},
		{[]string{"SET", "pxat", "v", "PXAT", strconv.FormatInt(n0+2500, 10)}, "+OK"},
		{[]string{"SET", "twice", "v", "EX", "10", "EX", "20"}, "+OK"},
		{[]string{"SETEX", "setex", "30", "v"}, "+OK"},
		{[]string{"PSETEX", "psetex", "30", "v"}, "+OK"},
		{[]string{"SET", "plain", "v"}, "+OK"},
	})
	expect("ex", n0+10_000)
	expect("px", n0+1500)
	expect("exat", n0+100_000)
	expect("pxat", n0+2500)
	expect("twice", n0+20_000)
	expect("setex", n0+30_000)
	expect("psetex", n0+30)
	expect("plain", 0)

	// KEEPTTL keeps, a plain SET, GETSET and MSET drop, counters and
	// in-place edits keep the expiry.
	strRun(t, r, []strCase{
		{[]string{"SET", "ex", "v2", "KEEPTTL"}, "+OK"},
		{[]string{"SET", "ex", "v3", "KEEPTTL", "XX", "GET"}, "$v2"},
		{[]string{"SET", "fresh", "v", "KEEPTTL"}, "+OK"},
		{[]string{"SET", "px", "v2"}, "+OK"},
		{[]string{"SET", "k1", "1", "EX", "100"}, "+OK"},
		{[]string{"SET", "k2", "v", "EX", "100"}, "+OK"},
		{[]string{"SET", "k3", "1.5", "EX", "100"}, "+OK"},
		{[]string{"SET", "k4", "abc", "EX", "100"}, "+OK"},
		{[]string{"SET", "k5", "abc", "EX", "100"}, "+OK"},
		{[]string{"SET", "k6", "v", "EX", "100"}, "+OK"},
		{[]string{"SET", "k7", "v", "EX", "100"}, "+OK"},
		{[]string{"INCR", "k1"}, ":2"},
		{[]string{"INCRBYFLOAT", "k3", "1"}, "$2.5"},
		{[]string{"APPEND", "k4", "d"}, ":4"},
		{[]string{"SETRANGE", "k5", "0", "A"}, ":3"},
		{[]string{"GETSET", "k2", "w"}, "$v"},
		{[]string{"MSET", "k6", "w", "other", "x"}, "+OK"},
		{[]string{"SET", "k7", "w", "NX"}, "(nil)"},
	})
	expect("ex", n0+10_000)
	expect("fresh", 0)
	expect("px", 0)
	expect("k1", n0+100_000)
	expect("k3", n0+100_000)
	expect("k4", n0+100_000)
	expect("k5", n0+100_000)
	expect("k2", 0)
	expect("k6", 0)
	expect("k7", n0+100_000)

	// GETEX sets, replaces and removes expiries.
	strRun(t, r, []strCase{
		{[]string{"GETEX", "plain", "EX", "5"}, "$v"},
		{[]string{"SET", "g2", "v"}, "+OK"},
		{[]string{"GETEX", "g2", "PXAT", strconv.FormatInt(n0+7777, 10)}, "$v"},
		{[]string{"SET", "g3", "v", "PX", "100"}, "+OK"},
		{[]string{"GETEX", "g3", "PERSIST"}, "$v"},
		{[]string{"GETEX", "g3", "PERSIST", "PERSIST"}, "$v"},
		{[]string{"SET", "g4", "v", "PX", "100"}, "+OK"},
		{[]string{"GETEX", "g4"}, "$v"},
		{[]string{"SET", "g5", "v"}, "+OK"},
		{[]string{"GETEX", "g5", "EXAT", strconv.FormatInt(n0/1000+50, 10)}, "$v"},
		{[]string{"SET", "g6", "v"}, "+OK"},
		{[]string{"GETEX", "g6", "PX", "1"}, "$v"},
	})
	expect("plain", n0+5000)
	expect("g2", n0+7777)
	expect("g3", 0)
	expect("g4", n0+100)
	expect("g5", n0+50_000)
	expect("g6", n0+1)

	// An absolute time in the past: SET stores an already expired key,
	// GETEX returns the value and deletes the key.
	strRun(t, r, []strCase{
		{[]string{"SET", "past", "v", "EXAT", "1"}, "+OK"},
		{[]string{"GET", "past"}, "(nil)"},
		{[]string{"SET", "past2", "v", "PXAT", strconv.FormatInt(n0, 10)}, "+OK"},
		{[]string{"GET", "past2"}, "(nil)"},
		{[]string{"SET", "past3", "v"}, "+OK"},
		{[]string{"GETEX", "past3", "PXAT", strconv.FormatInt(n0-1, 10)}, "$v"},
		{[]string{"EXISTS", "past3"}, ":0"},
		{[]string{"SET", "past4", "v"}, "+OK"},
		{[]string{"GETEX", "past4", "EXAT", "1"}, "$v"},
		{[]string{"EXISTS", "past4"}, ":0"},
	})

	// Move the clock: keys expire exactly at their time.
	now.Store(n0 + 1)
	gone("g6")
	now.Store(n0 + 29)
	if got := r.Do("GET", "psetex"); got != "$v" {
		t.Errorf("psetex before expiry: %s", got)
	}
	now.Store(n0 + 30)
	gone("psetex")
	strRun(t, r, []strCase{
		{[]string{"GET", "psetex"}, "(nil)"},
		{[]string{"GETEX", "psetex"}, "(nil)"},
		{[]string{"STRLEN", "psetex"}, ":0"},
		{[]string{"INCR", "psetex"}, ":1"}, // a fresh key, without expiry
	})
	expect("psetex", 0)
	now.Store(n0 + 10_000)
	gone("ex")
	if got := r.Do("GET", "twice"); got != "$v" {
		t.Errorf("twice: %s", got)
	}
	now.Store(n0 + 20_000)
	gone("twice")
	// A relative expiry is computed from the current clock.
	strRun(t, r, []strCase{
		{[]string{"SET", "later", "v", "PX", "10"}, "+OK"},
		{[]string{"GETEX", "g3", "EX", "1"}, "$v"},
	})
	expect("later", n0+20_010)
	expect("g3", n0+21_000)

	// Expiry overflow depends on the clock: with the clock near the end of
	// int64 even a small relative time overflows, absolute ones do not.
	now.Store(math.MaxInt64 - 1000)
	strRun(t, r, []strCase{
		{[]string{"SET", "o", "v", "PX", "1000"}, "+OK"},
		{[]string{"SET", "o", "v", "PX", "1001"}, "-ERR invalid expire time in 'set' command"},
		{[]string{"SET", "o", "v", "EX", "2"}, "-ERR invalid expire time in 'set' command"},
		{[]string{"SETEX", "o", "2", "v"}, "-ERR invalid expire time in 'setex' command"},
		{[]string{"SETEX", "o", "1", "v"}, "+OK"},
		{[]string{"PSETEX", "o", "1001", "v"}, "-ERR invalid expire time in 'psetex' command"},
		{[]string{"GETEX", "o", "PX", "1001"}, "-ERR invalid expire time in 'getex' command"},
		{[]string{"GETEX", "o", "PX", "999"}, "$v"},
		{[]string{"SET", "o2", "v", "PXAT", "9223372036854775807"}, "+OK"},
	})
	expect("o", math.MaxInt64-1)
	expect("o2", math.MaxInt64)
}

// TestStringCrossWorker checks MSET, MGET, MSETNX and LCS on keys owned by
// different workers, including MSETNX atomicity under concurrency.
func TestStringCrossWorker(t *testing.T) {
	s, _ := startStrings(t, 4)
	e := s.Engine()
	ctx := context.Background()
	c := s.Client(2)

	// Keys spread over every worker.
	var keys []string
	seen := map[int]bool{}
	for i := 0; len(keys) < 64; i++ {
		k := fmt.Sprintf("key:%d", i)
		keys = append(keys, k)
		seen[e.WorkerOf([]byte(k))] = true
	}
	if len(seen) != 4 {
		t.Fatalf("keys cover %d workers", len(seen))
	}
	// A key per worker, to build calls that surely span workers.
	perWorker := map[int]string{}
	for _, k := range keys {
		if _, ok := perWorker[e.WorkerOf([]byte(k))]; !ok {
			perWorker[e.WorkerOf([]byte(k))] = k
		}
	}

	r := s.Raw()
	// MSETNX refused because of one existing key on another worker.
	if got := r.Do("SET", perWorker[3], "old"); got != "+OK" {
		t.Fatal(got)
	}
	args := []string{"MSETNX"}
	for _, k := range keys {
		args = append(args, k, "v:"+k)
	}
	if got := r.Do(args...); got != ":0" {
		t.Fatalf("MSETNX with an existing key: %s", got)
	}
	if n := c.Exists(ctx, keys...).Val(); n != 1 {
		t.Fatalf("after refused MSETNX %d keys exist, want 1", n)
	}
	r.Do("DEL", perWorker[3])
	if got := r.Do(args...); got != ":1" {
		t.Fatalf("MSETNX: %s", got)
	}
	vals := c.MGet(ctx, keys...).Val()
	for i, k := range keys {
		if vals[i] != "v:"+k {
			t.Fatalf("MGET %s = %v", k, vals[i])
		}
	}
	if got := r.Do(args...); got != ":0" {
		t.Fatalf("MSETNX again: %s", got)
	}

	// MSET over workers drops expiries everywhere.
	for _, k := range keys[:8] {
		if got := r.Do("SET", k, "v", "EX", "100"); got != "+OK" {
			t.Fatal(got)
		}
	}
	margs := []string{"MSET"}
	for _, k := range keys[:8] {
		margs = append(margs, k, "w")
	}
	if got := r.Do(margs...); got != "+OK" {
		t.Fatal(got)
	}
	for _, k := range keys[:8] {
		if at, ok := strExpire(s, k); !ok || at != 0 {
			t.Errorf("%s after MSET: expiry %d ok %v", k, at, ok)
		}
	}

	// LCS with its two keys on different workers, in both protocols.
	a, b := perWorker[0], perWorker[1]
	c.Set(ctx, a, "ohmytext", 0)
	c.Set(ctx, b, "mynewtext", 0)
	for _, p := range []int{2, 3} {
		cl := s.Client(p)
		if v := cl.LCS(ctx, &redis.LCSQuery{Key1: a, Key2: b}).Val(); v == nil || v.MatchString != "mytext" {
			t.Errorf("RESP%d cross-worker LCS = %+v", p, v)
		}
		m, err := cl.LCS(ctx, &redis.LCSQuery{Key1: a, Key2: b, Idx: true, WithMatchLen: true}).Result()
		if err != nil || m.Len != 6 || len(m.Matches) != 2 || m.Matches[0].MatchLen != 4 {
			t.Errorf("RESP%d cross-worker LCS IDX = %+v, %v", p, m, err)
		}
	}
	strPutList(s, perWorker[2])
	if got := r.Do("LCS", a, perWorker[2]); got != "-ERR The specified keys must contain string values" {
		t.Errorf("cross-worker LCS wrong type: %s", got)
	}

	// Concurrent MSETNX calls over overlapping key sets that span every
	// worker: exactly one of them wins, and all its keys are set.
	const racers = 8
	var wg sync.WaitGroup
	wins := make([]bool, racers)
	for i := 0; i < racers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			cl := s.Client(2)
			pairs := []any{}
			for j := 0; j < 16; j++ {
				pairs = append(pairs, fmt.Sprintf("race:%d", j), i)
			}
			pairs = append(pairs, fmt.Sprintf("own:%d", i), i)
			ok, err := cl.MSetNX(ctx, pairs...).Result()
			if err != nil {
				t.Errorf("racer %d: %v", i, err)
			}
			wins[i] = ok
		}(i)
	}
	wg.Wait()
	winner := -1
	for i, w := range wins {
		if w {
			if winner >= 0 {
				t.Fatalf("racers %d and %d both won", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no racer won")
	}
	for j := 0; j < 16; j++ {
		if v := c.Get(ctx, fmt.Sprintf("race:%d", j)).Val(); v != strconv.Itoa(winner) {
			t.Errorf("race:%d = %q, want %d", j, v, winner)
		}
	}
	for i := 0; i < racers; i++ {
		want := int64(0)
		if i == winner {
			want = 1
		}
		if n := c.Exists(ctx, fmt.Sprintf("own:%d", i)).Val(); n != want {
			t.Errorf("own:%d exists %d, want %d", i, n, want)
		}
	}

	// Concurrent INCRs on keys of every worker lose no update.
	var wg2 sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			cl := s.Client(2)
			for j := 0; j < 100; j++ {
				for _, k := range perWorker {
					cl.Incr(ctx, "cnt:"+k)
				}
			}
		}()
	}
	wg2.Wait()
	for _, k := range perWorker {
		if v := c.Get(ctx, "cnt:"+k).Val(); v != "400" {
			t.Errorf("cnt:%s = %s, want 400", k, v)
		}
	}
}

// TestStringSizeLimits checks the proto-max-bulk-len limits of SETRANGE,
// APPEND and LCS with a small limit.
func TestStringSizeLimits(t *testing.T) {
	s, _ := startStrings(t, 2)
	if err := s.Config().Set("proto-max-bulk-len", "1048576", false); err != nil {
		t.Fatal(err)
	}
	r := s.Raw()
	half := strings.Repeat("a", 512*1024)
	strRun(t, r, []strCase{
		{[]string{"SETRANGE", "s", "1048575", "x"}, ":1048576"},
		{[]string{"SETRANGE", "s", "1048576", "x"}, "-ERR string exceeds maximum allowed size (proto-max-bulk-len)"},
		{[]string{"SETRANGE", "s", "1048575", "xy"}, "-ERR string exceeds maximum allowed size (proto-max-bulk-len)"},
		{[]string{"SETRANGE", "s", "1048576", ""}, ":1048576"},
		{[]string{"STRLEN", "s"}, ":1048576"},
		{[]string{"APPEND", "s", "x"}, "-ERR string exceeds maximum allowed size (proto-max-bulk-len)"},
		{[]string{"APPEND", "s", ""}, ":1048576"},
		{[]string{"SETRANGE", "new", "1048576", "x"}, "-ERR string exceeds maximum allowed size (proto-max-bulk-len)"},
		{[]string{"EXISTS", "new"}, ":0"},
		{[]string{"SET", "h", half}, "+OK"},
		{[]string{"APPEND", "h", half}, ":1048576"},
		{[]string{"APPEND", "h", "z"}, "-ERR string exceeds maximum allowed size (proto-max-bulk-len)"},
		// The LCS table takes (len1+1)*(len2+1)*4 bytes: 512*512*4 is
		// exactly 1 MiB and fits, 513*512*4 does not.
		{[]string{"SET", "l1", strings.Repeat("x", 511)}, "+OK"},
		{[]string{"SET", "l2", strings.Repeat("x", 511)}, "+OK"},
		{[]string{"LCS", "l1", "l2", "LEN"}, ":511"},
		{[]string{"APPEND", "l1", "x"}, ":512"},
		{[]string{"LCS", "l1", "l2", "LEN"}, "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"},
		{[]string{"LCS", "l2", "l1"}, "-ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"},
		{[]string{"LCS", "l1", "nokey", "IDX"}, "*[$matches *[] $len :0]"},
	})
}

// TestStringVsRedis replays a script on kvd and on a real redis-server
// 7.0.15 (skipped when it is not installed) and compares every reply.
func TestStringVsRedis(t *testing.T) {
	rc, err := net.Dial("unix", redistest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	real := &strRESP{c: rc, r: bufio.NewReader(rc)}
	s := servertest.Start(t, servertest.Workers(4))
	kc, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	ours := &strRESP{c: kc, r: bufio.NewReader(kc)}

	script := `
MSET key1 ohmytext key2 mynewtext a abcXdefYghi b abcdefghi
LCS key1 key2
LCS key1 key2 IDX WITHMATCHLEN
LCS a b IDX MINMATCHLEN 3
LCS b a IDX WITHMATCHLEN
LCS key1 nokey IDX
LCS key1 key2 IDX LEN
SET k v NX GET
SET k v2 NX GET
SET k v3 XX GET
SET k v EX 0
SET k v EX 10 PX 10
SET k v EX 9223372036854775
SET k v PX 9223372036854775807
SET k v KEEPTTL KEEPTTL
GETEX k PERSIST EX 1
GETEX k EX 0
GETEX nokey EX 0
GETEX k PERSIST
SETEX k 0 v
PSETEX k -1 v
GETSET k new
GETDEL k
GETDEL k
MSETNX x 1 y 2
MSETNX x 1 z 2
MSETNX x 1 z
MGET x y z
INCR c
INCRBY c 9223372036854775806
INCR c
DECRBY c -9223372036854775808
DECRBY c 9223372036854775807
INCRBYFLOAT f 10.5
INCRBYFLOAT f 0.1
INCRBYFLOAT f 5.0e3
INCRBYFLOAT f 1e4000
INCRBYFLOAT f -1e4000
INCRBYFLOAT g 1e308
INCRBYFLOAT g 0x1p-16400
INCRBYFLOAT g2 1e-4940
INCRBYFLOAT g3 -2.5e-3
INCRBYFLOAT g3 inf
INCRBYFLOAT g3 nan
INCRBYFLOAT g4 7.0000000000000000001
INCRBYFLOAT g4 0.33333333333333333333333
APPEND ap hello
APPEND ap world
SETRANGE ap 20 !
GET ap
GETRANGE ap -5 -1
GETRANGE ap -1 -5
GETRANGE ap 3 1000
SUBSTR ap 0 0
STRLEN ap
SETRANGE ap -1 x
SETRANGE ap 536870912 x
SETRANGE nokey 5 ""
`
	for _, line := range strings.Split(strings.TrimSpace(script), "\n") {
		args := strings.Fields(line)
		for i, a := range args {
			if a == `""` {
				args[i] = ""
			}
		}
		want, got := real.do(t, args), ours.do(t, args)
		if want != got {
			t.Errorf("%s\n   redis: %.200s\n   kvd:   %.200s", line, want, got)
		}
	}
}

// strRESP is a minimal RESP client for comparing raw replies.
type strRESP struct {
	c net.Conn
	r *bufio.Reader
}

func (x *strRESP) do(t *testing.T, args []string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	x.c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := x.c.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	s, err := x.read()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func (x *strRESP) read() (string, error) {
	line, err := x.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimSuffix(line, "\r\n")
	switch line[0] {
	case '$':
		n, _ := strconv.Atoi(line[1:])
		if n < 0 {
			return line, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(x.r, buf); err != nil {
			return "", err
		}
		return "$" + string(buf[:n]), nil
	case '*', '%':
		n, _ := strconv.Atoi(line[1:])
		if line[0] == '%' {
			n *= 2
		}
		parts := []string{line[:1]}
		for i := 0; i < n; i++ {
			p, err := x.read()
			if err != nil {
				return "", err
			}
			parts = append(parts, p)
		}
		return strings.Join(parts, " ") + "]", nil
	}
	return line, nil
}
