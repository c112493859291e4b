package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
)

const setfWrongType = "WRONGTYPE Operation against a key holding the wrong kind of value"

// setfExpect runs one raw command and compares its compact rendering.
func setfExpect(t *testing.T, r *servertest.Raw, want string, args ...string) {
	t.Helper()
	if got := r.Do(args...); got != want {
		t.Errorf("%v = %q, want %q", args, got, want)
	}
}

// setfRun runs a table of raw commands and their exact replies.
func setfRun(t *testing.T, r *servertest.Raw, cases [][2]string) {
	t.Helper()
	for _, c := range cases {
		setfExpect(t, r, c[1], setfSplit(c[0])...)
	}
}

// setfSplit splits a command line on spaces; "" stands for an empty argument.
func setfSplit(line string) []string {
	args := strings.Fields(line)
	for i, a := range args {
		if a == `""` {
			args[i] = ""
		}
	}
	return args
}

// setfKeysOnWorkers returns n keys owned by n different workers.
func setfKeysOnWorkers(t *testing.T, s *servertest.Server, prefix string, n int) []string {
	t.Helper()
	seen := map[int]bool{}
	var out []string
	for i := 0; len(out) < n && i < 100000; i++ {
		k := prefix + strconv.Itoa(i)
		if w := s.Engine().WorkerOf([]byte(k)); !seen[w] {
			seen[w] = true
			out = append(out, k)
		}
	}
	if len(out) < n {
		t.Fatalf("no %d keys on different workers", n)
	}
	return out
}

func setfSorted(in []string) []string {
	out := slices.Clone(in)
	sort.Strings(out)
	return out
}

// setfIntsAscending reports whether every member is an integer and the
// list is in ascending numeric order.
func setfIntsAscending(in []string) bool {
	prev := int64(0)
	for i, m := range in {
		v, err := strconv.ParseInt(m, 10, 64)
		if err != nil || (i > 0 && v <= prev) {
			return false
		}
		prev = v
	}
	return true
}

// TestSetFamilyErrors checks exact replies and errors (RESP2), each case
// checked on redis-server 7.0.15.
func TestSetFamilyErrors(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	setfRun(t, r, [][2]string{
		{"SADD s 3 1 2 -5", ":4"},
		{"SADD s 3 4", ":1"},
		{"SREM s 4 99", ":1"},
		{"SADD h a", ":1"},
		{"SET str x", "+OK"},
		{"SMEMBERS s", "*[$-5 $1 $2 $3]"},
		{"OBJECT ENCODING s", "$intset"},
		{"OBJECT ENCODING h", "$hashtable"},
		// arity
		{"SADD s", "-ERR wrong number of arguments for 'sadd' command"},
		{"SREM s", "-ERR wrong number of arguments for 'srem' command"},
		{"SCARD", "-ERR wrong number of arguments for 'scard' command"},
		{"SISMEMBER s", "-ERR wrong number of arguments for 'sismember' command"},
		{"SMISMEMBER s", "-ERR wrong number of arguments for 'smismember' command"},
		{"SMOVE a b", "-ERR wrong number of arguments for 'smove' command"},
		{"SINTERCARD 1", "-ERR wrong number of arguments for 'sintercard' command"},
		{"SINTERSTORE d", "-ERR wrong number of arguments for 'sinterstore' command"},
		{"SSCAN s", "-ERR wrong number of arguments for 'sscan' command"},
		// SPOP
		{"SPOP s -1", "-ERR value is out of range, must be positive"},
		{"SPOP s abc", "-ERR value is out of range, must be positive"},
		{"SPOP nokey -1", "-ERR value is out of range, must be positive"},
		{"SPOP str -1", "-ERR value is out of range, must be positive"},
		{"SPOP s 0", "*[]"},
		{"SPOP nokey 3", "*[]"},
		{"SPOP nokey", "(nil)"},
		{"SPOP s 1 2", "-ERR syntax error"},
		{"SPOP str", "-" + setfWrongType},
		{"SPOP str 0", "-" + setfWrongType},
		// SRANDMEMBER
		{"SRANDMEMBER s -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"},
		{"SRANDMEMBER s 9223372036854775807 x", "-ERR syntax error"},
		{"SRANDMEMBER s abc", "-ERR value is not an integer or out of range"},
		{"SRANDMEMBER str abc", "-ERR value is not an integer or out of range"},
		{"SRANDMEMBER nokey -5", "*[]"},
		{"SRANDMEMBER nokey", "(nil)"},
		{"SRANDMEMBER s 0", "*[]"},
		{"SRANDMEMBER s 10", "*[$-5 $1 $2 $3]"},
		{"SRANDMEMBER s 9223372036854775807", "*[$-5 $1 $2 $3]"},
		{"SRANDMEMBER str", "-" + setfWrongType},
		{"SRANDMEMBER str 0", "-" + setfWrongType},
		// SINTERCARD
		{"SINTERCARD 0 s", "-ERR numkeys should be greater than 0"},
		{"SINTERCARD -1 s", "-ERR numkeys should be greater than 0"},
		{"SINTERCARD abc s", "-ERR numkeys should be greater than 0"},
		{"SINTERCARD 9223372036854775808 s", "-ERR numkeys should be greater than 0"},
		{"SINTERCARD 3 s", "-ERR Number of keys can't be greater than number of args"},
		{"SINTERCARD 1 s limit -1", "-ERR LIMIT can't be negative"},
		{"SINTERCARD 1 s limit abc", "-ERR LIMIT can't be negative"},
		{"SINTERCARD 1 s limit", "-ERR syntax error"},
		{"SINTERCARD 1 s foo 1", "-ERR syntax error"},
		{"SINTERCARD 1 s str", "-ERR syntax error"},
		{"SINTERCARD 2 s str", "-" + setfWrongType},
		{"SINTERCARD 2 nokey str", "-" + setfWrongType},
		{"SINTERCARD 2 s h", ":0"},
		{"SINTERCARD 1 s LIMIT 2", ":2"},
		{"SINTERCARD 1 s LiMiT 0", ":4"},
		{"SINTERCARD 2 s nokey", ":0"},
		// WRONGTYPE of every key, even after a missing one
		{"SINTER nokey str", "-" + setfWrongType},
		{"SINTER str nokey", "-" + setfWrongType},
		{"SDIFF nokey str", "-" + setfWrongType},
		{"SUNION s str", "-" + setfWrongType},
		{"SINTERSTORE d str", "-" + setfWrongType},
		{"SDIFFSTORE d nokey str", "-" + setfWrongType},
		{"SUNIONSTORE d str", "-" + setfWrongType},
		{"SMISMEMBER str a", "-" + setfWrongType},
		{"SISMEMBER str a", "-" + setfWrongType},
		{"SCARD str", "-" + setfWrongType},
		{"SREM str a", "-" + setfWrongType},
		{"SADD str a", "-" + setfWrongType},
		{"SMEMBERS str", "-" + setfWrongType},
		// SMOVE
		{"SMOVE s str 1", "-" + setfWrongType},
		{"SMOVE str s 1", "-" + setfWrongType},
		{"SMOVE nokey str 1", ":0"},
		{"SMOVE s h x", ":0"},
		{"SMOVE s s 1", ":1"},
		{"SMOVE s s 99", ":0"},
		// SSCAN
		{"SSCAN s abc", "-ERR invalid cursor"},
		{"SSCAN str abc", "-ERR invalid cursor"},
		{"SSCAN s 0 count 0", "-ERR syntax error"},
		{"SSCAN s 0 count -1", "-ERR syntax error"},
		{"SSCAN s 0 count abc", "-ERR value is not an integer or out of range"},
		{"SSCAN s 0 match", "-ERR syntax error"},
		{"SSCAN s 0 foo", "-ERR syntax error"},
		{"SSCAN s 0 type string", "-ERR syntax error"},
		{"SSCAN nokey 0", "*[$0 *[]]"},
		{"SSCAN nokey 0 count 0", "*[$0 *[]]"},
		{"SSCAN str 0", "-" + setfWrongType},
		{"SSCAN str 0 count 0", "-" + setfWrongType},
		{"SSCAN s -1", "*[$0 *[$-5 $1 $2 $3]]"},
		{"SSCAN s 5 COUNT 1", "*[$0 *[$-5 $1 $2 $3]]"},
		{"SSCAN s 0 MATCH -*", "*[$0 *[$-5]]"},
		{`SSCAN s "" MATCH 1`, "*[$0 *[$1]]"},
		// misc
		{"SDIFF s s", "*[]"},
		{"SDIFF s nokey s", "*[]"},
		{"SDIFF s nokey", "*[$-5 $1 $2 $3]"},
		{"SMISMEMBER nokey a b", "*[:0 :0]"},
		{"SMISMEMBER s 1 x 3", "*[:1 :0 :1]"},
		{"SISMEMBER s 01", ":0"},
		{"SISMEMBER s -5", ":1"},
		{"SISMEMBER nokey a", ":0"},
		{"SCARD nokey", ":0"},
		{"SREM nokey a", ":0"},
		{"SMEMBERS nokey", "*[]"},
		{"SINTER nokey", "*[]"},
		{"SUNION nokey", "*[]"},
		{"SINTERSTORE str nokey", ":0"},
		{"TYPE str", "+none"},
		{"SADD n 01 +1 -0 1", ":4"},
		{"OBJECT ENCODING n", "$hashtable"},
		{"SADD m 9223372036854775807 -9223372036854775808", ":2"},
		{"SMEMBERS m", "*[$-9223372036854775808 $9223372036854775807]"},
		{"SADD m 9223372036854775808", ":1"},
		{"OBJECT ENCODING m", "$hashtable"},
		{"SREM s -5 1 2 3 nothere", ":4"},
		{"EXISTS s", ":0"},
		{"SADD e \"\"", ":1"},
		{"SISMEMBER e \"\"", ":1"},
		{"SMEMBERS e", "*[$]"},
	})
	setfExpect(t, r, ":1", "SADD", "n", " 1")
	setfExpect(t, r, ":0", "SISMEMBER", "n", "1 ")
	setfExpect(t, r, ":5", "SCARD", "n")
}

// TestSetFamilyRESP3Types checks the RESP3 reply types: sets for SMEMBERS,
// SPOP with a count and the set algebra, arrays for SRANDMEMBER with a
// count, SMISMEMBER and SSCAN, nulls for a missing key.
func TestSetFamilyRESP3Types(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	r.Do("HELLO", "3")
	setfRun(t, r, [][2]string{
		{"SADD s 3 1 2 -5", ":4"},
		{"SMEMBERS s", "~[$-5 $1 $2 $3]"},
		{"SMEMBERS nokey", "~[]"},
		{"SPOP s 0", "~[]"},
		{"SPOP nokey 2", "~[]"},
		{"SPOP nokey", "(nil)"},
		{"SRANDMEMBER nokey", "(nil)"},
		{"SRANDMEMBER s 0", "*[]"},
		{"SRANDMEMBER nokey 2", "*[]"},
		{"SRANDMEMBER s 100", "*[$-5 $1 $2 $3]"},
		{"SINTER s", "~[$-5 $1 $2 $3]"},
		{"SINTER nokey", "~[]"},
		{"SUNION nokey", "~[]"},
		{"SDIFF s", "~[$-5 $1 $2 $3]"},
		{"SUNION s nokey", "~[$-5 $1 $2 $3]"},
		{"SSCAN s 0", "*[$0 *[$-5 $1 $2 $3]]"},
		{"SSCAN nokey 0", "*[$0 *[]]"},
		{"SMISMEMBER s 1 7", "*[:1 :0]"},
		{"SINTERCARD 1 s", ":4"},
		{"SPOP s 100", "~[$-5 $1 $2 $3]"},
		{"EXISTS s", ":0"},
	})
	setfExpect(t, r, ":1", "SADD", "one", "x")
	setfExpect(t, r, "~[$x]", "SPOP", "one", "1")
	setfExpect(t, r, ":1", "SADD", "two", "a")
	setfExpect(t, r, "*[$a $a]", "SRANDMEMBER", "two", "-2")
	setfExpect(t, r, "*[$a]", "SRANDMEMBER", "two", "1")
}

// TestSetFamilyGoRedis runs every command through go-redis, in RESP2 and
// RESP3.
func TestSetFamilyGoRedis(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	ctx := context.Background()
	for _, protocol := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(protocol), func(t *testing.T) {
			c := s.Client(protocol)
			p := fmt.Sprintf("p%d:", protocol)
			k, k2, k3, dst := p+"a", p+"b", p+"c", p+"dst"
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			n, err := c.SAdd(ctx, k, "1", "2", "3", "x").Result()
			must(err)
			if n != 4 {
				t.Fatalf("SADD = %d", n)
			}
			c.SAdd(ctx, k2, "2", "3", "4")
			c.SAdd(ctx, k3, "3", "9")
			if n, _ := c.SCard(ctx, k).Result(); n != 4 {
				t.Errorf("SCARD = %d", n)
			}
			if ok, _ := c.SIsMember(ctx, k, "x").Result(); !ok {
				t.Error("SISMEMBER x")
			}
			if got, _ := c.SMIsMember(ctx, k, "1", "nope", "x").Result(); !slices.Equal(got, []bool{true, false, true}) {
				t.Errorf("SMISMEMBER = %v", got)
			}
			if got, _ := c.SMembers(ctx, k).Result(); !slices.Equal(setfSorted(got), []string{"1", "2", "3", "x"}) {
				t.Errorf("SMEMBERS = %v", got)
			}
			if got, _ := c.SMembers(ctx, k2).Result(); !slices.Equal(got, []string{"2", "3", "4"}) {
				t.Errorf("SMEMBERS intset = %v, want ascending", got)
			}
			if got, _ := c.SInter(ctx, k, k2).Result(); !slices.Equal(setfSorted(got), []string{"2", "3"}) {
				t.Errorf("SINTER = %v", got)
			}
			if n, _ := c.SInterCard(ctx, 0, k, k2).Result(); n != 2 {
				t.Errorf("SINTERCARD = %d", n)
			}
			if n, _ := c.SInterCard(ctx, 1, k, k2).Result(); n != 1 {
				t.Errorf("SINTERCARD LIMIT 1 = %d", n)
			}
			if got, _ := c.SUnion(ctx, k2, k3).Result(); !slices.Equal(got, []string{"2", "3", "4", "9"}) {
				t.Errorf("SUNION = %v", got)
			}
			if got, _ := c.SDiff(ctx, k, k2, k3).Result(); !slices.Equal(setfSorted(got), []string{"1", "x"}) {
				t.Errorf("SDIFF = %v", got)
			}
			if n, _ := c.SInterStore(ctx, dst, k, k2, k3).Result(); n != 1 {
				t.Errorf("SINTERSTORE = %d", n)
			}
			if got, _ := c.SMembers(ctx, dst).Result(); !slices.Equal(got, []string{"3"}) {
				t.Errorf("SINTERSTORE result %v", got)
			}
			if n, _ := c.SUnionStore(ctx, dst, k, k3).Result(); n != 5 {
				t.Errorf("SUNIONSTORE = %d", n)
			}
			if n, _ := c.SDiffStore(ctx, dst, k2, k).Result(); n != 1 {
				t.Errorf("SDIFFSTORE = %d", n)
			}
			if got, _ := c.SMembers(ctx, dst).Result(); !slices.Equal(got, []string{"4"}) {
				t.Errorf("SDIFFSTORE result %v", got)
			}
			if n, _ := c.SDiffStore(ctx, dst, k2, k2).Result(); n != 0 {
				t.Errorf("SDIFFSTORE empty = %d", n)
			}
			if n, _ := c.Exists(ctx, dst).Result(); n != 0 {
				t.Error("empty SDIFFSTORE left the destination")
			}
			if ok, _ := c.SMove(ctx, k, k2, "x").Result(); !ok {
				t.Error("SMOVE x")
			}
			if ok, _ := c.SMove(ctx, k, k2, "x").Result(); ok {
				t.Error("SMOVE x twice")
			}
			if enc, _ := c.ObjectEncoding(ctx, k2).Result(); enc != "hashtable" {
				t.Errorf("after SMOVE of x: %s", enc)
			}
			if m, _ := c.SRandMember(ctx, k).Result(); !slices.Contains([]string{"1", "2", "3"}, m) {
				t.Errorf("SRANDMEMBER = %q", m)
			}
			if got, _ := c.SRandMemberN(ctx, k, -5).Result(); len(got) != 5 {
				t.Errorf("SRANDMEMBER -5 = %v", got)
			}
			if got, _ := c.SRandMemberN(ctx, k, 2).Result(); len(got) != 2 || got[0] == got[1] {
				t.Errorf("SRANDMEMBER 2 = %v", got)
			}
			m, err := c.SPop(ctx, k).Result()
			must(err)
			if !slices.Contains([]string{"1", "2", "3"}, m) {
				t.Errorf("SPOP = %q", m)
			}
			got, err := c.SPopN(ctx, k, 10).Result()
			must(err)
			if len(got) != 2 || !setfIntsAscending(got) {
				t.Errorf("SPOP 10 = %v (the rest, ascending)", got)
			}
			if _, err := c.SPop(ctx, k).Result(); err != redis.Nil {
				t.Errorf("SPOP of a missing key: %v", err)
			}
			if got, _ := c.SPopN(ctx, k, 3).Result(); len(got) != 0 {
				t.Errorf("SPOP count of a missing key: %v", got)
			}
			if n, _ := c.SRem(ctx, k2, "2", "x", "nope").Result(); n != 2 {
				t.Errorf("SREM = %d", n)
			}
			keys, cur, err := c.SScan(ctx, k2, 0, "", 0).Result()
			must(err)
			if cur != 0 || !slices.Equal(setfSorted(keys), []string{"3", "4"}) {
				t.Errorf("SSCAN = %v %d", keys, cur)
			}
			c.Set(ctx, p+"str", "v", 0)
			if err := c.SAdd(ctx, p+"str", "a").Err(); err == nil || err.Error() != setfWrongType {
				t.Errorf("SADD on a string: %v", err)
			}
			if err := c.SMembers(ctx, p+"str").Err(); err == nil || err.Error() != setfWrongType {
				t.Errorf("SMEMBERS on a string: %v", err)
			}
		})
	}
}

// TestSetFamilyEncoding follows OBJECT ENCODING through the intset limit
// (set-max-intset-entries) and the one-way conversion.
func TestSetFamilyEncoding(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	setfRun(t, r, [][2]string{
		{"CONFIG SET set-max-intset-entries 3", "+OK"},
		{"SADD r 3 2 1", ":3"},
		{"OBJECT ENCODING r", "$intset"},
		{"SADD r 4", ":1"},
		{"OBJECT ENCODING r", "$hashtable"},
		{"SREM r 4 3", ":2"},
		{"OBJECT ENCODING r", "$hashtable"}, // one-way
		// A new set built from r's members (SUNION, STORE) is an intset again.
		{"SUNIONSTORE r2 r", ":2"},
		{"OBJECT ENCODING r2", "$intset"},
		{"SUNION r", "*[$1 $2]"},
		{"CONFIG SET set-max-intset-entries 0", "+OK"},
		{"SADD z 1", ":1"},
		{"OBJECT ENCODING z", "$hashtable"},
		{"CONFIG SET set-max-intset-entries 512", "+OK"},
		// A hashtable of integers: SPOP of (almost) all rebuilds.
		{"SADD p a 1 2 3 4 5 6 7 8 9 10", ":11"},
		{"SREM p a", ":1"},
		{"OBJECT ENCODING p", "$hashtable"},
		{"SPOP p 100", "*[$1 $2 $3 $4 $5 $6 $7 $8 $9 $10]"},
		{"SADD p a 1 2 3 4 5 6 7 8 9 10", ":11"},
		{"SREM p a", ":1"},
		{"SCARD p", ":10"},
	})
	// SPOP 9 of 10: the member that stays goes to a new set (an intset).
	if got := r.Do("SPOP", "p", "9"); !strings.HasPrefix(got, "*[") || len(strings.Fields(got)) != 9 {
		t.Fatalf("SPOP p 9 = %q", got)
	}
	setfExpect(t, r, "$intset", "OBJECT", "ENCODING", "p")
	setfExpect(t, r, ":1", "SCARD", "p")
	// SDIFF: algorithm 1 (probe) builds an intset from the integers left;
	// algorithm 2 (copy then remove) converts on the first set's string.
	setfRun(t, r, [][2]string{
		{"SADD x1 1 2 3 4 5 6 7 8 9 10 a", ":11"},
		{"SADD x2 a", ":1"},
		{"SDIFFSTORE d x1 x2", ":10"},
		{"OBJECT ENCODING d", "$intset"},
		{"SADD y1 a 1 2", ":3"},
		{"SADD y2 a b c d e f g h i j k l m n", ":14"},
		{"SDIFFSTORE d y1 y2", ":2"},
		{"OBJECT ENCODING d", "$intset"},
		{"SADD w1 a 1 2 3 4 5 6 7 8 9", ":10"},
		{"SADD w2 a", ":1"},
		{"SADD w3 b", ":1"},
		{"SADD w4 c", ":1"},
		{"SADD w5 d", ":1"},
		{"SADD w6 e", ":1"},
		{"SDIFFSTORE d w1 w2 w3 w4 w5 w6", ":9"},
		{"OBJECT ENCODING d", "$hashtable"},
	})
}

// TestSetFamilyStore checks the STORE forms: the destination is replaced
// whatever its type, loses its expiry, may be a source, and is deleted when
// the result is empty.
func TestSetFamilyStore(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	setfRun(t, r, [][2]string{
		{"SADD a 1 2 3", ":3"},
		{"SADD b 2 3 4", ":3"},
		{"SET d str EX 100", "+OK"},
		{"SINTERSTORE d a b", ":2"},
		{"TYPE d", "+set"},
		{"TTL d", ":-1"},
		{"SMEMBERS d", "*[$2 $3]"},
		{"SUNIONSTORE a a b", ":4"},
		{"SMEMBERS a", "*[$1 $2 $3 $4]"},
		{"SDIFFSTORE a a b", ":1"},
		{"SMEMBERS a", "*[$1]"},
		{"SET d str", "+OK"},
		{"SINTERSTORE d a nokey", ":0"},
		{"EXISTS d", ":0"},
		{"SET d str", "+OK"},
		{"SDIFFSTORE d nokey a", ":0"},
		{"EXISTS d", ":0"},
		{"SET d str", "+OK"},
		{"SUNIONSTORE d nokey", ":0"},
		{"EXISTS d", ":0"},
		{"SET d str", "+OK"},
		{"SINTERSTORE d a b", ":0"},
		{"EXISTS d", ":0"},
		{"SADD e 1", ":1"},
		{"EXPIRE e 100", ":1"},
		{"SADD e 2 3 4 5 6 7 8 9 10", ":9"},
		{"TTL e", ":100"},
	})
	// SPOP's rebuild keeps the key's expiry.
	r.Do("SPOP", "e", "9")
	setfExpect(t, r, ":100", "TTL", "e")
	setfExpect(t, r, ":1", "SCARD", "e")
}

// TestSetFamilyExpiryAndCopy: expired sets are missing sets; COPY deep-copies.
func TestSetFamilyExpiryAndCopy(t *testing.T) {
	var mu sync.Mutex
	now := int64(1_700_000_000_000)
	clock := func() int64 { mu.Lock(); defer mu.Unlock(); return now }
	s := servertest.Start(t, servertest.Clock(clock))
	r := s.Raw()
	setfRun(t, r, [][2]string{
		{"SADD a 1 2 x", ":3"},
		{"SADD b 1 2", ":2"},
		{"PEXPIRE b 1000", ":1"},
		{"COPY a c", ":1"},
		{"OBJECT ENCODING c", "$hashtable"},
		{"SREM c x", ":1"},
		{"SISMEMBER a x", ":1"},
		{"COPY b bc", ":1"},
		{"OBJECT ENCODING bc", "$intset"},
		{"SADD bc 3", ":1"},
		{"SCARD b", ":2"},
		{"PTTL bc", ":1000"},
	})
	mu.Lock()
	now += 1000
	mu.Unlock()
	setfRun(t, r, [][2]string{
		{"SCARD b", ":0"},
		{"SINTERSTORE d a bc", ":0"},
		{"SUNIONSTORE u b a", ":3"},
		{"EXISTS b bc", ":0"},
	})
}

// TestSetFamilyCrossWorker runs the multi-key commands with keys on four
// different workers.
func TestSetFamilyCrossWorker(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	k := setfKeysOnWorkers(t, s, "xw", 4)
	a, b, c, d := k[0], k[1], k[2], k[3]
	r := s.Raw()
	setfRun(t, r, [][2]string{
		{"SADD " + a + " 1 2 3 4", ":4"},
		{"SADD " + b + " 3 4 5", ":3"},
		{"SADD " + c + " 4 5 6", ":3"},
		{"SMOVE " + a + " " + d + " 1", ":1"},
		{"SMEMBERS " + d, "*[$1]"},
		{"SMOVE " + d + " " + b + " 1", ":1"},
		{"EXISTS " + d, ":0"},
		{"SINTER " + a + " " + b + " " + c, "*[$4]"},
		{"SINTERCARD 3 " + a + " " + b + " " + c, ":1"},
		{"SINTERSTORE " + d + " " + a + " " + b, ":2"},
		{"SMEMBERS " + d, "*[$3 $4]"},
		{"SUNIONSTORE " + d + " " + a + " " + b + " " + c, ":6"},
		{"SMEMBERS " + d, "*[$1 $2 $3 $4 $5 $6]"},
		{"SDIFFSTORE " + d + " " + d + " " + b, ":2"},
		{"SMEMBERS " + d, "*[$2 $6]"},
		{"SDIFF " + a + " " + b + " " + c, "*[$2]"},
		{"SET " + c + " s", "+OK"},
		{"SUNION " + a + " " + c, "-" + setfWrongType},
		{"SMOVE " + a + " " + c + " 2", "-" + setfWrongType},
		{"COMMAND GETKEYS SINTERCARD 2 " + a + " " + b + " LIMIT 1", "*[$" + a + " $" + b + "]"},
	})
}

// TestSetFamilyAtomicMoves moves members between sets on different workers
// from several clients while others read: SMOVE and the set algebra run as
// barriers, so a reader never sees a member in both sets or in neither.
func TestSetFamilyAtomicMoves(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	k := setfKeysOnWorkers(t, s, "mv", 3)
	a, b, u := k[0], k[1], k[2]
	ctx := context.Background()
	const members = 40
	c0 := s.Client(2)
	all := make([]any, members)
	for i := range all {
		all[i] = "m" + strconv.Itoa(i)
	}
	if err := c0.SAdd(ctx, a, all...).Err(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for g := 0; g < 4; g++ {
		c := s.Client(2 + g%2)
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(seed, 7))
			for i := 0; i < 300; i++ {
				m := "m" + strconv.Itoa(rng.IntN(members))
				src, dst := a, b
				if rng.IntN(2) == 0 {
					src, dst = b, a
				}
				if err := c.SMove(ctx, src, dst, m).Err(); err != nil {
					errs <- err
					return
				}
			}
		}(uint64(g))
	}
	for g := 0; g < 2; g++ {
		c := s.Client(2 + g)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				got, err := c.SUnion(ctx, a, b).Result()
				if err != nil {
					errs <- err
					return
				}
				if len(got) != members {
					errs <- fmt.Errorf("SUNION saw %d members, want %d", len(got), members)
					return
				}
				if n, err := c.SInterCard(ctx, 0, a, b).Result(); err != nil || n != 0 {
					errs <- fmt.Errorf("SINTERCARD = %d, %v: a member in both sets", n, err)
					return
				}
				if n, err := c.SUnionStore(ctx, u, a, b).Result(); err != nil || n != members {
					errs <- fmt.Errorf("SUNIONSTORE = %d, %v", n, err)
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

// TestSetFamilySScan scans a hashtable while another client adds and
// removes members between the steps: every member present for the whole
// scan is returned.
func TestSetFamilySScan(t *testing.T) {
	s := servertest.Start(t)
	ctx := context.Background()
	c := s.Client(2)
	other := s.Client(3)
	const n = 1000
	var all []any
	for i := 0; i < n; i++ {
		all = append(all, "m"+strconv.Itoa(i))
	}
	if err := c.SAdd(ctx, "h", all...).Err(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	stable := map[string]bool{}
	for _, m := range all {
		stable[m.(string)] = true
	}
	returned := map[string]bool{}
	cursor := uint64(0)
	next := n
	for steps := 0; ; steps++ {
		keys, cur, err := c.SScan(ctx, "h", cursor, "", int64(1+rng.IntN(30))).Result()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keys {
			returned[m] = true
		}
		if cursor = cur; cursor == 0 {
			break
		}
		if steps > 10*n {
			t.Fatal("SSCAN does not terminate")
		}
		for j := rng.IntN(5); j > 0; j-- {
			if rng.IntN(2) == 0 {
				m := "m" + strconv.Itoa(rng.IntN(next))
				other.SRem(ctx, "h", m)
				delete(stable, m)
			} else {
				other.SAdd(ctx, "h", "m"+strconv.Itoa(next))
				next++
			}
		}
	}
	for m := range stable {
		if !returned[m] {
			t.Errorf("member %s present for the whole scan was not returned", m)
		}
	}
	// COUNT bounds a step of a hashtable; MATCH filters; an intset comes
	// whole with cursor 0.
	keys, cur, err := c.SScan(ctx, "h", 0, "", 5).Result()
	if err != nil || cur == 0 || len(keys) != 5 {
		t.Errorf("SSCAN COUNT 5: %d keys, cursor %d, %v", len(keys), cur, err)
	}
	var matched []string
	for cur := uint64(0); ; {
		keys, next, err := c.SScan(ctx, "h", cur, "m1?", 50).Result()
		if err != nil {
			t.Fatal(err)
		}
		matched = append(matched, keys...)
		if cur = next; cur == 0 {
			break
		}
	}
	for _, m := range matched {
		if len(m) != 3 || m[:2] != "m1" {
			t.Errorf("MATCH m1? returned %q", m)
		}
	}
	c.SAdd(ctx, "i", 5, 3, 1)
	if keys, cur, _ := c.SScan(ctx, "i", 0, "", 1).Result(); cur != 0 || !slices.Equal(keys, []string{"1", "3", "5"}) {
		t.Errorf("intset SSCAN = %v, %d", keys, cur)
	}
}

// TestSetFamilyRandom checks SPOP and SRANDMEMBER replies: members of the
// set, distinct unless the count is negative, and every member eventually
// drawn.
func TestSetFamilyRandom(t *testing.T) {
	s := servertest.Start(t)
	ctx := context.Background()
	c := s.Client(3)
	for _, members := range [][]any{{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j"}} {
		c.Del(ctx, "r")
		c.SAdd(ctx, "r", members...)
		want := map[string]bool{}
		for _, m := range members {
			want[fmt.Sprint(m)] = true
		}
		drawn := map[string]bool{}
		for i := 0; i < 300; i++ {
			m, err := c.SRandMember(ctx, "r").Result()
			if err != nil || !want[m] {
				t.Fatalf("SRANDMEMBER = %q, %v", m, err)
			}
			drawn[m] = true
		}
		if len(drawn) != len(want) {
			t.Errorf("300 draws gave only %d of %d members", len(drawn), len(want))
		}
		for _, count := range []int64{1, 2, 3, 4, 7, 9, 10, 11, 100, -1, -3, -10, -25} {
			got, err := c.SRandMemberN(ctx, "r", count).Result()
			if err != nil {
				t.Fatal(err)
			}
			wantLen := min(count, 10)
			if count < 0 {
				wantLen = -count
			}
			if int64(len(got)) != wantLen {
				t.Errorf("SRANDMEMBER %d: %d members", count, len(got))
			}
			seen := map[string]bool{}
			for _, m := range got {
				if !want[m] || (count > 0 && seen[m]) {
					t.Errorf("SRANDMEMBER %d: bad or repeated member %q in %v", count, m, got)
				}
				seen[m] = true
			}
		}
		// SPOP counts from both strategies (few taken; most taken).
		for _, count := range []int64{2, 8} {
			c.Del(ctx, "p")
			c.SAdd(ctx, "p", members...)
			got, err := c.SPopN(ctx, "p", count).Result()
			if err != nil || int64(len(got)) != count {
				t.Fatalf("SPOP %d = %v, %v", count, got, err)
			}
			rest, _ := c.SMembers(ctx, "p").Result()
			seen := map[string]bool{}
			for _, m := range append(got, rest...) {
				if !want[m] || seen[m] {
					t.Errorf("SPOP %d: %q bad or in both the reply and the rest", count, m)
				}
				seen[m] = true
			}
			if len(seen) != 10 {
				t.Errorf("SPOP %d: popped+rest has %d members", count, len(seen))
			}
		}
	}
	// kvd-specific: a negative count whose reply could not fit in 512mb is
	// refused up front (Redis would exhaust its memory), like HRANDFIELD.
	r := s.Raw()
	const tooBig = "-ERR reply too large: the count would make the reply exceed 512mb"
	setfExpect(t, r, tooBig, "SRANDMEMBER", "r", "-9223372036854775807")
	setfExpect(t, r, tooBig, "SRANDMEMBER", "r", "-100000000") // 7-byte bulks: 700mb

}

// ---- randomized model test ----

// setfMSet is the model of one set: its members and whether Redis keeps it
// as an intset.
type setfMSet struct {
	m      map[string]bool
	intset bool
}

// setfModel is the reference model: sets, and string keys (WRONGTYPE).
type setfModel struct {
	sets  map[string]*setfMSet
	strs  map[string]bool
	limit int
}

func setfCanonical(m string) bool {
	v, err := strconv.ParseInt(m, 10, 64)
	return err == nil && strconv.FormatInt(v, 10) == m
}

// fresh is a set built by adding members one by one (Redis's result sets).
func (md *setfModel) fresh(members []string) *setfMSet {
	s := &setfMSet{m: map[string]bool{}, intset: true}
	for _, m := range members {
		md.add(s, m)
	}
	return s
}

func (md *setfModel) add(s *setfMSet, m string) bool {
	if s.m[m] {
		return false
	}
	s.m[m] = true
	if !setfCanonical(m) || len(s.m) > md.limit {
		s.intset = false
	}
	return true
}

func (s *setfMSet) list() []string {
	out := make([]string, 0, len(s.m))
	for m := range s.m {
		out = append(out, m)
	}
	return setfSorted(out)
}

// TestSetFamilyModel applies thousands of random set commands to kvd
// (four workers, so multi-key commands cross workers; both protocols) and
// to an in-test model, and compares every reply. Orders are compared where
// Redis defines them (intsets are ascending); encodings are compared too.
func TestSetFamilyModel(t *testing.T) {
	const ops = 8000
	s := servertest.Start(t, servertest.Workers(4))
	ctx := context.Background()
	clients := []*redis.Client{s.Client(2), s.Client(3)}
	md := &setfModel{sets: map[string]*setfMSet{}, strs: map[string]bool{}, limit: 12}
	if err := clients[0].ConfigSet(ctx, "set-max-intset-entries", "12").Err(); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2024, 7))
	keys := []string{"k0", "k1", "k2", "k3", "k4", "k5", "{k0}x"}
	pool := []string{"a", "b", "c", "01", "-0", "x y", ""}
	member := func() string {
		if rng.IntN(6) == 0 {
			return pool[rng.IntN(len(pool))]
		}
		return strconv.Itoa(rng.IntN(30) - 5)
	}
	key := func() string { return keys[rng.IntN(len(keys))] }
	someKeys := func() []string {
		n := 1 + rng.IntN(3)
		out := make([]string, n)
		for i := range out {
			out[i] = key()
		}
		return out
	}
	counts := map[string]int{}

	// check compares a reply with the model's expectation.
	fail := func(op int, cmd []string, format string, a ...any) {
		t.Helper()
		t.Fatalf("op %d %q: %s", op, cmd, fmt.Sprintf(format, a...))
	}
	// wrongType reports whether any of keys holds a string.
	wrongType := func(keys ...string) bool {
		for _, k := range keys {
			if md.strs[k] {
				return true
			}
		}
		return false
	}
	get := func(k string) *setfMSet {
		if s := md.sets[k]; s != nil {
			return s
		}
		return &setfMSet{m: map[string]bool{}, intset: true}
	}
	del := func(k string) {
		delete(md.sets, k)
		delete(md.strs, k)
	}
	store := func(k string, res *setfMSet) {
		del(k)
		if len(res.m) > 0 {
			md.sets[k] = res
		}
	}
	// expectMembers compares an unordered reply; ordered when asc.
	expectMembers := func(op int, cmd []string, got []string, want *setfMSet, asc bool) {
		t.Helper()
		if !slices.Equal(setfSorted(got), want.list()) {
			fail(op, cmd, "got %v, want %v", setfSorted(got), want.list())
		}
		if asc && !setfIntsAscending(got) {
			fail(op, cmd, "got %v, want ascending (intset order)", got)
		}
	}

	for op := 0; op < ops; op++ {
		c := clients[rng.IntN(2)]
		var cmd []string
		name := []string{"sadd", "sadd", "srem", "scard", "sismember", "smismember", "smembers", "spop", "spopn",
			"srandmember", "srandmembern", "smove", "sinter", "sintercard", "sinterstore", "sunion", "sunionstore",
			"sdiff", "sdiffstore", "sscan", "encoding", "set", "del"}[rng.IntN(23)]
		counts[name]++
		do := func(args ...string) *redis.Cmd {
			cmd = args
			a := make([]any, len(args))
			for i, x := range args {
				a[i] = x
			}
			return c.Do(ctx, a...)
		}
		expectErr := func(res *redis.Cmd, want string) {
			t.Helper()
			if err := res.Err(); err == nil || err.Error() != want {
				fail(op, cmd, "error %v, want %q", err, want)
			}
		}
		expectInt := func(res *redis.Cmd, want int64) {
			t.Helper()
			n, err := res.Int64()
			if err != nil || n != want {
				fail(op, cmd, "got %d, %v, want %d", n, err, want)
			}
		}
		strs := func(res *redis.Cmd) []string {
			t.Helper()
			v, err := res.StringSlice()
			if err != nil {
				fail(op, cmd, "error %v", err)
			}
			return v
		}

		switch name {
		case "sadd":
			k := key()
			args := []string{"SADD", k}
			n := 1 + rng.IntN(4)
			if rng.IntN(4) == 0 {
				n += 8 // past the intset limit
			}
			for ; n > 0; n-- {
				args = append(args, member())
			}
			res := do(args...)
			if wrongType(k) {
				expectErr(res, setfWrongType)
				break
			}
			s := md.sets[k]
			if s == nil {
				s = &setfMSet{m: map[string]bool{}, intset: true}
				md.sets[k] = s
			}
			added := int64(0)
			for _, m := range args[2:] {
				if md.add(s, m) {
					added++
				}
			}
			expectInt(res, added)
		case "srem":
			k := key()
			args := []string{"SREM", k}
			for n := 1 + rng.IntN(4); n > 0; n-- {
				args = append(args, member())
			}
			if rng.IntN(3) == 0 {
				args = append(args, pool...) // may leave a hashtable of integers
			}
			res := do(args...)
			if wrongType(k) {
				expectErr(res, setfWrongType)
				break
			}
			s := get(k)
			removed := int64(0)
			for _, m := range args[2:] {
				if s.m[m] {
					delete(s.m, m)
					removed++
				}
			}
			if len(s.m) == 0 {
				delete(md.sets, k)
			}
			expectInt(res, removed)
		case "scard":
			k := key()
			res := do("SCARD", k)
			if wrongType(k) {
				expectErr(res, setfWrongType)
				break
			}
			expectInt(res, int64(len(get(k).m)))
		case "sismember":
			k, m := key(), member()
			res := do("SISMEMBER", k, m)
			if wrongType(k) {
				expectErr(res, setfWrongType)
				break
			}
			want := int64(0)
			if get(k).m[m] {
				want = 1
			}
			expectInt(res, want)
		case "smismember":
			k := key()
			args := []string{"SMISMEMBER", k, member(), member(), member()}
			res := do(args...)
			if wrongType(k) {
				expectErr(res, setfWrongType)
				break
			}
			got, err := res.Int64Slice()
			if err != nil {
				fail(op, cmd, "%v", err)
			}
			for i, m := range args[2:] {
				want := int64(0)
				if get(k).m[m] {
					want = 1
				}
				if got[i] != want {
					fail(op, cmd, "got %v", got)
				}
			}
		case "smembers":
			k := key()
			res := do("SMEMBERS", k)
			if wrongType(k) {
				expectErr(res, setfWrongType)
				break
			}
			expectMembers(op, cmd, strs(res), get(k), get(k).intset)
		case "spop":
			k := key()
			res := do("SPOP", k)
			if wrongType(k) {
				expectErr(res, setfWrongType)
				break
			}
			s := md.sets[k]
			if s == nil {
				if res.Err() != redis.Nil {
					fail(op, cmd, "want nil, got %v", res.Val())
				}
				break
			}
			m, err := res.Text()
			if err != nil || !s.m[m] {
				fail(op, cmd, "popped %q (%v), not a member of %v", m, err, s.list())
			}
			delete(s.m, m)
			if len(s.m) == 0 {
				delete(md.sets, k)
			}
		case "spopn":
			k := key()
			size := len(get(k).m)
			n := rng.IntN(size + 3)
			res := do("SPOP", k, strconv.Itoa(n))
			if wrongType(k) {
				expectErr(res, setfWrongType)
				break
			}
			got := strs(res)
			s := get(k)
			if len(got) != min(n, size) {
				fail(op, cmd, "%d members, want %d", len(got), min(n, size))
			}
			popped := &setfMSet{m: map[string]bool{}}
			for _, m := range got {
				if !s.m[m] || popped.m[m] {
					fail(op, cmd, "%q not a member or repeated", m)
				}
				popped.m[m] = true
			}
			if n == 0 || size == 0 {
				break
			}
			if n >= size {
				// The whole set, as a new set built from it.
				if md.fresh(s.list()).intset && !setfIntsAscending(got) {
					fail(op, cmd, "whole-set pop %v not ascending", got)
				}
				delete(md.sets, k)
				break
			}
			for m := range popped.m {
				delete(s.m, m)
			}
			if remaining := size - n; remaining*5 <= n {
				// Redis moved the members that stay to a new set and
				// returned the old one's rest in its order.
				if s.intset && !setfIntsAscending(got) {
					fail(op, cmd, "rest of an intset %v not ascending", got)
				}
				md.sets[k] = md.fresh(s.list())
			}
		case "srandmember":
			k := key()
			res := do("SRANDMEMBER", k)
			if wrongType(k) {
				expectErr(res, setfWrongType)
				break
			}
			s := md.sets[k]
			if s == nil {
				if res.Err() != redis.Nil {
					fail(op, cmd, "want nil")
				}
				break
			}
			if m, err := res.Text(); err != nil || !s.m[m] {
				fail(op, cmd, "%q (%v) not a member", m, err)
			}
		case "srandmembern":
			k := key()
			n := rng.IntN(30) - 15
			res := do("SRANDMEMBER", k, strconv.Itoa(n))
			if wrongType(k) {
				expectErr(res, setfWrongType)
				break
			}
			got := strs(res)
			s := get(k)
			want := n
			switch {
			case len(s.m) == 0:
				want = 0
			case n < 0:
				want = -n
			default:
				want = min(n, len(s.m))
			}
			if len(got) != want {
				fail(op, cmd, "%d members, want %d", len(got), want)
			}
			seen := map[string]bool{}
			for _, m := range got {
				if !s.m[m] || (n > 0 && seen[m]) {
					fail(op, cmd, "%q not a member or repeated: %v", m, got)
				}
				seen[m] = true
			}
			if n >= len(s.m) && s.intset && !setfIntsAscending(got) {
				fail(op, cmd, "whole intset %v not ascending", got)
			}
		case "smove":
			src, dst, m := key(), key(), member()
			res := do("SMOVE", src, dst, m)
			if _, ok := md.sets[src]; !ok && !md.strs[src] {
				expectInt(res, 0)
				break
			}
			if wrongType(src, dst) {
				expectErr(res, setfWrongType)
				break
			}
			ss := md.sets[src]
			if src == dst {
				want := int64(0)
				if ss.m[m] {
					want = 1
				}
				expectInt(res, want)
				break
			}
			if !ss.m[m] {
				expectInt(res, 0)
				break
			}
			delete(ss.m, m)
			if len(ss.m) == 0 {
				delete(md.sets, src)
			}
			ds := md.sets[dst]
			if ds == nil {
				ds = &setfMSet{m: map[string]bool{}, intset: true}
				md.sets[dst] = ds
			}
			md.add(ds, m)
			expectInt(res, 1)
		case "sinter", "sintercard", "sinterstore":
			ks := someKeys()
			var res *redis.Cmd
			limit := 0
			dst := ""
			switch name {
			case "sinter":
				res = do(append([]string{"SINTER"}, ks...)...)
			case "sintercard":
				args := append([]string{"SINTERCARD", strconv.Itoa(len(ks))}, ks...)
				if rng.IntN(2) == 0 {
					limit = rng.IntN(4)
					args = append(args, "LIMIT", strconv.Itoa(limit))
				}
				res = do(args...)
			default:
				dst = key()
				res = do(append([]string{"SINTERSTORE", dst}, ks...)...)
			}
			if wrongType(ks...) {
				expectErr(res, setfWrongType)
				break
			}
			inter := map[string]bool{}
			allIntset := true
			for m := range get(ks[0]).m {
				inter[m] = true
			}
			for _, k := range ks {
				allIntset = allIntset && get(k).intset
				for m := range inter {
					if !get(k).m[m] {
						delete(inter, m)
					}
				}
			}
			var list []string
			for m := range inter {
				list = append(list, m)
			}
			res2 := md.fresh(list)
			switch name {
			case "sinter":
				expectMembers(op, cmd, strs(res), res2, allIntset)
			case "sintercard":
				want := int64(len(list))
				if limit > 0 {
					want = min(want, int64(limit))
				}
				expectInt(res, want)
			default:
				expectInt(res, int64(len(list)))
				store(dst, res2)
			}
		case "sunion", "sunionstore", "sdiff", "sdiffstore":
			ks := someKeys()
			diff := strings.HasPrefix(name, "sdiff")
			dst := ""
			var res *redis.Cmd
			if strings.HasSuffix(name, "store") {
				dst = key()
				res = do(append([]string{strings.ToUpper(name), dst}, ks...)...)
			} else {
				res = do(append([]string{strings.ToUpper(name)}, ks...)...)
			}
			if wrongType(ks...) {
				expectErr(res, setfWrongType)
				break
			}
			var out *setfMSet
			if !diff {
				var all []string
				for _, k := range ks {
					all = append(all, get(k).list()...)
				}
				out = md.fresh(all)
			} else {
				first := get(ks[0])
				var keep []string
				same := false
				for _, k := range ks[1:] {
					same = same || (k == ks[0] && md.sets[k] != nil)
				}
				work1, work2 := 0, 0
				for _, k := range ks {
					if md.sets[k] != nil {
						work1 += len(first.m)
						work2 += len(get(k).m)
					}
				}
				if !same {
				member:
					for _, m := range first.list() {
						for _, k := range ks[1:] {
							if get(k).m[m] {
								continue member
							}
						}
						keep = append(keep, m)
					}
				}
				out = md.fresh(keep)
				if !same && md.sets[ks[0]] != nil && work1/2 > work2 {
					// Algorithm 2 copied the first set before removing.
					out.intset = md.fresh(first.list()).intset
				}
			}
			if dst == "" {
				expectMembers(op, cmd, strs(res), out, out.intset && len(out.m) > 0)
			} else {
				expectInt(res, int64(len(out.m)))
				store(dst, out)
			}
		case "sscan":
			k := key()
			pattern := ""
			if rng.IntN(3) == 0 {
				pattern = []string{"1*", "*a*", "?", "-*"}[rng.IntN(4)]
			}
			cmd = []string{"SSCAN", k, "...", pattern}
			got := map[string]bool{}
			var err error
			for cur, steps := uint64(0), 0; ; steps++ {
				var keys []string
				keys, cur, err = c.SScan(ctx, k, cur, pattern, int64(1+rng.IntN(8))).Result()
				if err != nil {
					break
				}
				for _, m := range keys {
					got[m] = true
				}
				if cur == 0 {
					break
				}
				if steps > 1000 {
					fail(op, cmd, "no end")
				}
			}
			if wrongType(k) {
				if err == nil || err.Error() != setfWrongType {
					fail(op, cmd, "error %v", err)
				}
				break
			}
			want := &setfMSet{m: map[string]bool{}}
			for m := range get(k).m {
				if ok, _ := filepath.Match(pattern, m); pattern == "" || ok {
					want.m[m] = true
				}
			}
			var list []string
			for m := range got {
				list = append(list, m)
			}
			expectMembers(op, cmd, list, want, false)
		case "encoding":
			k := key()
			res := do("OBJECT", "ENCODING", k)
			switch {
			case md.strs[k]:
				// strings are another family's business
			case md.sets[k] == nil:
				if res.Err() != redis.Nil {
					fail(op, cmd, "want nil, got %v", res.Val())
				}
			default:
				want := "hashtable"
				if md.sets[k].intset {
					want = "intset"
				}
				if got, _ := res.Text(); got != want {
					fail(op, cmd, "encoding %s, want %s (members %v)", got, want, md.sets[k].list())
				}
			}
		case "set":
			if rng.IntN(4) != 0 { // keep strings rare
				break
			}
			k := key()
			if err := do("SET", k, "v").Err(); err != nil {
				fail(op, cmd, "%v", err)
			}
			del(k)
			md.strs[k] = true
		case "del":
			if rng.IntN(2) != 0 {
				break
			}
			k := key()
			if err := do("DEL", k).Err(); err != nil {
				fail(op, cmd, "%v", err)
			}
			del(k)
		}
		// The model's key space must match kvd's.
		if op%50 == 0 {
			for _, k := range keys {
				typ, _ := clients[0].Type(ctx, k).Result()
				want := "none"
				switch {
				case md.sets[k] != nil:
					want = "set"
				case md.strs[k]:
					want = "string"
				}
				if typ != want {
					t.Fatalf("op %d: TYPE %s = %s, want %s", op, k, typ, want)
				}
			}
		}
	}
	t.Logf("%d operations: %v", ops, counts)
}

// ---- comparison with a real redis-server 7.0.15 ----

// setfVal is a parsed RESP reply: type byte, text, items.
type setfVal struct {
	typ   byte
	str   string
	elems []setfVal
}

func (v setfVal) String() string {
	switch v.typ {
	case '*', '~', '%', '>':
		parts := make([]string, len(v.elems))
		for i, e := range v.elems {
			parts[i] = e.String()
		}
		return string(v.typ) + "[" + strings.Join(parts, " ") + "]"
	}
	return string(v.typ) + strconv.Quote(v.str)
}

// sorted returns v with its top-level items sorted (for replies whose
// order Redis leaves undefined).
func (v setfVal) sorted() setfVal {
	if v.elems == nil {
		return v
	}
	e := slices.Clone(v.elems)
	sort.Slice(e, func(i, j int) bool { return e[i].String() < e[j].String() })
	v.elems = e
	return v
}

type setfConn struct {
	c net.Conn
	r *bufio.Reader
}

func setfDial(t *testing.T, network, addr string, resp3 bool) *setfConn {
	t.Helper()
	c, err := net.Dial(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	sc := &setfConn{c: c, r: bufio.NewReader(c)}
	if resp3 {
		sc.do(t, "HELLO", "3")
	}
	return sc
}

func (x *setfConn) do(t *testing.T, args ...string) setfVal {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	x.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(x.c, b.String()); err != nil {
		t.Fatal(err)
	}
	v, err := setfRead(x.r)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func setfRead(r *bufio.Reader) (setfVal, error) {
	line, err := r.ReadString('\n')
	if err != nil {
		return setfVal{}, err
	}
	line = strings.TrimSuffix(line, "\r\n")
	if line == "" {
		return setfVal{}, errors.New("empty line")
	}
	v := setfVal{typ: line[0], str: line[1:]}
	switch v.typ {
	case '$', '=', '!':
		n, _ := strconv.Atoi(v.str)
		if n < 0 {
			return setfVal{typ: '_'}, nil
		}
		buf := make([]byte, n+2)
		if _, err := io.ReadFull(r, buf); err != nil {
			return v, err
		}
		v.str = string(buf[:n])
	case '*', '~', '%', '>':
		n, _ := strconv.Atoi(v.str)
		if n < 0 {
			return setfVal{typ: '_'}, nil
		}
		if v.typ == '%' {
			n *= 2
		}
		v.str = ""
		v.elems = []setfVal{}
		for i := 0; i < n; i++ {
			e, err := setfRead(r)
			if err != nil {
				return v, err
			}
			v.elems = append(v.elems, e)
		}
	case '_':
		v.str = ""
	}
	return v, nil
}

// setfUnordered lists the commands whose reply order is undefined for
// hashtables (encodings are compared separately, and the model test checks
// the intset order).
var setfUnordered = map[string]bool{"SMEMBERS": true, "SINTER": true, "SUNION": true, "SDIFF": true,
	"SRANDMEMBER": true, "SPOP": true}

// TestSetFamilyVsRedis replays a script, then thousands of random
// deterministic commands, on kvd (four workers) and on redis-server 7.0.15,
// in RESP2 and RESP3, and compares every reply, the encodings and the
// contents of every key.
func TestSetFamilyVsRedis(t *testing.T) {
	sock := redistest.Start(t)
	s := servertest.Start(t, servertest.Workers(4))
	var real, ours [2]*setfConn
	for i, resp3 := range []bool{false, true} {
		real[i] = setfDial(t, "unix", sock, resp3)
		ours[i] = setfDial(t, "tcp", s.Addr, resp3)
	}
	compare := func(p int, args ...string) {
		t.Helper()
		want, got := real[p].do(t, args...), ours[p].do(t, args...)
		if setfUnordered[strings.ToUpper(args[0])] {
			want, got = want.sorted(), got.sorted()
		}
		if strings.EqualFold(args[0], "SSCAN") && len(want.elems) == 2 && len(got.elems) == 2 {
			want.elems = []setfVal{want.elems[0], want.elems[1].sorted()}
			got.elems = []setfVal{got.elems[0], got.elems[1].sorted()}
		}
		if want.String() != got.String() {
			t.Errorf("RESP%d %q\n   redis: %.300s\n   kvd:   %.300s", p+2, args, want, got)
		}
	}
	script := `
SADD s 3 1 2 -5
SMEMBERS s
SADD h a b c 1
SET str x
SPOP s 0
SPOP nokey 3
SPOP nokey
SPOP s 1 2
SPOP s abc
SRANDMEMBER s -9223372036854775808
SRANDMEMBER s 100
SRANDMEMBER nokey 3
SRANDMEMBER nokey
SRANDMEMBER s 0
SINTERCARD 0 s
SINTERCARD 3 s
SINTERCARD 1 s LIMIT -1
SINTERCARD 1 s LIMIT
SINTERCARD 2 s h
SINTERCARD 2 s h LIMIT 1
SINTER nokey str
SUNION s h
SDIFF h s
SDIFF s s
SINTER s h
SMOVE s h 1
SMOVE s h 2
SMOVE nokey str x
SMOVE s str x
SMOVE s s 3
SMISMEMBER s 1 2 3
SMISMEMBER nokey a
SISMEMBER h a
SSCAN s 0
SSCAN s x
SSCAN s 0 COUNT 0
SSCAN s 0 COUNT x
SSCAN s 0 MATCH 3 COUNT 100
SSCAN nokey 0 COUNT 0
SSCAN str 0
SINTERSTORE d s h
OBJECT ENCODING d
SUNIONSTORE d s h
OBJECT ENCODING d
SDIFFSTORE d h s
OBJECT ENCODING d
SDIFFSTORE d s s
EXISTS d
SET d x
SUNIONSTORE d nokey
EXISTS d
SADD big a 1 2 3
SREM big a
OBJECT ENCODING big
SUNIONSTORE u big
OBJECT ENCODING u
SPOP big 3
EXISTS big
SADD n 01 +1 -0 1
OBJECT ENCODING n
SCARD n
`
	for _, p := range []int{0, 1} {
		real[p].do(t, "FLUSHALL")
		ours[p].do(t, "FLUSHALL")
		for _, line := range strings.Split(strings.TrimSpace(script), "\n") {
			compare(p, setfSplit(line)...)
		}
	}

	// Random deterministic commands.
	rng := rand.New(rand.NewPCG(99, 1))
	for _, c := range []*setfConn{real[0], ours[0]} {
		c.do(t, "FLUSHALL")
		c.do(t, "CONFIG", "SET", "set-max-intset-entries", "10")
	}
	keys := []string{"a", "b", "c", "d", "e", "{a}f"}
	member := func() string {
		if rng.IntN(8) == 0 {
			return []string{"x", "y", "01", "-0", "z z"}[rng.IntN(5)]
		}
		return strconv.Itoa(rng.IntN(24) - 4)
	}
	key := func() string { return keys[rng.IntN(len(keys))] }
	const ops = 4000
	for op := 0; op < ops; op++ {
		p := rng.IntN(2)
		var args []string
		switch rng.IntN(20) {
		case 18: // a small set of strings only
			args = []string{"SADD", "sx", []string{"x", "y", "01", "-0", "z z"}[rng.IntN(5)]}
			if rng.IntN(2) == 0 {
				args = []string{"DEL", "sx"}
			}
		case 19: // subtracting it a few times favours Redis's diff algorithm 2
			args = []string{"SDIFFSTORE", key(), key(), "sx", "sx", "sx"}
		case 16: // big: past the intset limit
			args = []string{"SADD", key()}
			for n := 6 + rng.IntN(10); n > 0; n-- {
				args = append(args, strconv.Itoa(rng.IntN(24)-4))
			}
		case 17: // leave a hashtable of integers
			args = []string{"SREM", key(), "x", "y", "01", "-0", "z z"}
		case 0, 1, 2:
			args = []string{"SADD", key()}
			for n := 1 + rng.IntN(5); n > 0; n-- {
				args = append(args, member())
			}
		case 3:
			args = []string{"SREM", key(), member(), member()}
		case 4:
			args = []string{"SMOVE", key(), key(), member()}
		case 5:
			args = []string{"SINTERSTORE", key(), key(), key()}
		case 6:
			args = []string{"SUNIONSTORE", key(), key(), key()}
		case 7:
			args = []string{"SDIFFSTORE", key(), key(), key(), key()}[:3+rng.IntN(2)]
		case 8:
			args = []string{[]string{"SINTER", "SUNION", "SDIFF"}[rng.IntN(3)], key(), key()}
		case 9:
			args = []string{"SINTERCARD", "2", key(), key(), "LIMIT", strconv.Itoa(rng.IntN(4))}
		case 10:
			args = []string{"SMISMEMBER", key(), member(), member()}
		case 11:
			args = []string{"SCARD", key()}
		case 12:
			args = []string{"SPOP", key(), "1000"} // the whole set: deterministic
		case 13:
			args = []string{"SRANDMEMBER", key(), "1000"}
		case 14:
			if rng.IntN(5) == 0 {
				args = []string{"SET", key(), "str"}
			} else {
				args = []string{"DEL", key()}
			}
		case 15:
			args = []string{"SSCAN", key(), "0", "COUNT", "1000"}
		}
		compare(p, args...)
		if op%20 == 0 || strings.HasSuffix(args[0], "STORE") || args[0] == "SMOVE" {
			for _, k := range append(keys, "sx") {
				compare(0, "OBJECT", "ENCODING", k)
				compare(0, "SMEMBERS", k)
			}
		}
		if t.Failed() {
			t.Fatalf("stopped after op %d", op)
		}
	}
	t.Logf("%d random commands compared with redis-server", ops)
}
