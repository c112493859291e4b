package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"reflect"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
	"github.com/kvd/kvd/shard"
	"github.com/kvd/kvd/shard/types"
)

// ---- raw helpers ----

// listRaw sends a command on a raw kvd connection and returns the exact
// reply bytes.
func listRaw(t *testing.T, r *servertest.Raw, args ...string) string {
	t.Helper()
	r.Send(args...)
	r.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := redistest.ReadRaw(r.R)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return s
}

type listCase struct {
	args []string
	want string
}

// listRun checks compact replies (servertest's rendering).
func listRun(t *testing.T, r *servertest.Raw, cases []listCase) {
	t.Helper()
	for _, c := range cases {
		if got := r.Do(c.args...); got != c.want {
			t.Errorf("%s\n   got  %s\n   want %s", strings.Join(c.args, " "), got, c.want)
		}
	}
}

// listRunExact checks exact reply bytes (an empty want ignores the reply).
func listRunExact(t *testing.T, r *servertest.Raw, cases []listCase) {
	t.Helper()
	for _, c := range cases {
		if got := listRaw(t, r, c.args...); got != c.want && c.want != "" {
			t.Errorf("%s\n   got  %q\n   want %q", strings.Join(c.args, " "), got, c.want)
		}
	}
}

func listArgs(s string) []string {
	f := strings.Fields(s)
	for i, a := range f {
		if a == `""` {
			f[i] = ""
		}
	}
	return f
}

const (
	listWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value"
	listNotInt    = "-ERR value is not an integer or out of range"
	listSyntax    = "-ERR syntax error"
)

// ---- exact replies and errors ----

func TestListPushPopRaw(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	listRun(t, r, []listCase{
		{listArgs("LPUSH l c b a"), ":3"},
		{listArgs("RPUSH l d e"), ":5"},
		{listArgs("LRANGE l 0 -1"), "*[$a $b $c $d $e]"},
		{listArgs("LPUSHX l z"), ":6"},
		{listArgs("RPUSHX l y"), ":7"},
		{listArgs("LPUSHX nokey a b"), ":0"},
		{listArgs("RPUSHX nokey a"), ":0"},
		{listArgs("EXISTS nokey"), ":0"},
		{listArgs("LPOP l"), "$z"},
		{listArgs("RPOP l"), "$y"},
		{listArgs("LPOP l 2"), "*[$a $b]"},
		{listArgs("RPOP l 2"), "*[$e $d]"},
		{listArgs("LPOP l 0"), "*[]"},
		{listArgs("RPOP l 10"), "*[$c]"},
		{listArgs("EXISTS l"), ":0"},
		{listArgs("LPOP l"), "(nil)"},
		{listArgs("LPOP l -1"), "-ERR value is out of range, must be positive"},
		{listArgs("LPOP l abc"), "-ERR value is out of range, must be positive"},
		{listArgs("RPOP l 1.5"), "-ERR value is out of range, must be positive"},
		{listArgs("LPOP l 1 2"), "-ERR wrong number of arguments for 'lpop' command"},
		{listArgs("RPOP l 1 2"), "-ERR wrong number of arguments for 'rpop' command"},
		{listArgs("LPUSH l"), "-ERR wrong number of arguments for 'lpush' command"},
		{listArgs("RPUSH l e \"\""), ":2"},
		{listArgs("LRANGE l 0 -1"), "*[$e $]"},
		{listArgs("SET s v"), "+OK"},
		{listArgs("LPUSH s a"), listWrongType},
		{listArgs("RPUSH s a"), listWrongType},
		{listArgs("LPUSHX s a"), listWrongType},
		{listArgs("RPUSHX s a"), listWrongType},
		{listArgs("LPOP s"), listWrongType},
		{listArgs("RPOP s 1"), listWrongType},
		{listArgs("LPOP s 0"), listWrongType},
		{listArgs("LPOP s x"), "-ERR value is out of range, must be positive"},
		{listArgs("TYPE l"), "+list"},
		{listArgs("OBJECT ENCODING l"), "$quicklist"},
	})
	// Null shapes: LPOP without count is a nil bulk, with count a nil array.
	listRunExact(t, r, []listCase{
		{listArgs("LPOP nokey"), "$-1\r\n"},
		{listArgs("RPOP nokey"), "$-1\r\n"},
		{listArgs("LPOP nokey 1"), "*-1\r\n"},
		{listArgs("LPOP nokey 0"), "*-1\r\n"},
		{listArgs("RPOP l 0"), "*0\r\n"},
		{listArgs("HELLO 3"), ""},
		{listArgs("LPOP nokey"), "_\r\n"},
		{listArgs("RPOP nokey 3"), "_\r\n"},
		{listArgs("LPOP l 0"), "*0\r\n"},
		{listArgs("LPOP l 1"), "*1\r\n$1\r\ne\r\n"},
	})
}

func TestListReadCommandsRaw(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	listRun(t, r, []listCase{
		{listArgs("RPUSH l a b c d e"), ":5"},
		{listArgs("SET s v"), "+OK"},
		{listArgs("LLEN l"), ":5"},
		{listArgs("LLEN nokey"), ":0"},
		{listArgs("LLEN s"), listWrongType},

		{listArgs("LRANGE l 0 -1"), "*[$a $b $c $d $e]"},
		{listArgs("LRANGE l -2 -1"), "*[$d $e]"},
		{listArgs("LRANGE l -100 1"), "*[$a $b]"},
		{listArgs("LRANGE l 3 100"), "*[$d $e]"},
		{listArgs("LRANGE l 3 2"), "*[]"},
		{listArgs("LRANGE l 5 10"), "*[]"},
		{listArgs("LRANGE l -1 -2"), "*[]"},
		{listArgs("LRANGE l 0 -6"), "*[]"},
		{listArgs("LRANGE l -9223372036854775808 9223372036854775807"), "*[$a $b $c $d $e]"},
		{listArgs("LRANGE nokey 0 -1"), "*[]"},
		{listArgs("LRANGE s 0 -1"), listWrongType},
		{listArgs("LRANGE l a 1"), listNotInt},
		{listArgs("LRANGE nokey 0 x"), listNotInt},
		{listArgs("LRANGE s 0 x"), listNotInt},
		{listArgs("LRANGE l 01 1"), listNotInt},
		{listArgs("LRANGE l +1 1"), listNotInt},
		{listArgs("LRANGE l 9223372036854775808 1"), listNotInt},

		{listArgs("LINDEX l 0"), "$a"},
		{listArgs("LINDEX l -1"), "$e"},
		{listArgs("LINDEX l -5"), "$a"},
		{listArgs("LINDEX l -6"), "(nil)"},
		{listArgs("LINDEX l 5"), "(nil)"},
		{listArgs("LINDEX nokey abc"), "(nil)"},
		{listArgs("LINDEX l abc"), listNotInt},
		{listArgs("LINDEX s abc"), listWrongType},
	})
	listRunExact(t, r, []listCase{
		{listArgs("LINDEX l 9"), "$-1\r\n"},
		{listArgs("LRANGE nokey 0 1"), "*0\r\n"},
	})
}

func TestListWriteCommandsRaw(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	listRun(t, r, []listCase{
		{listArgs("RPUSH l a b c"), ":3"},
		{listArgs("SET s v"), "+OK"},

		{listArgs("LSET l 0 A"), "+OK"},
		{listArgs("LSET l -1 C"), "+OK"},
		{listArgs("LRANGE l 0 -1"), "*[$A $b $C]"},
		{listArgs("LSET l 3 x"), "-ERR index out of range"},
		{listArgs("LSET l -4 x"), "-ERR index out of range"},
		{listArgs("LSET nokey 0 x"), "-ERR no such key"},
		{listArgs("LSET nokey abc x"), "-ERR no such key"},
		{listArgs("LSET l abc x"), listNotInt},
		{listArgs("LSET s 0 x"), listWrongType},
		{listArgs("LSET s x x"), listWrongType},

		{listArgs("LINSERT l BEFORE b x"), ":4"},
		{listArgs("LINSERT l after b y"), ":5"},
		{listArgs("LRANGE l 0 -1"), "*[$A $x $b $y $C]"},
		{listArgs("LINSERT l before nope z"), ":-1"},
		{listArgs("LINSERT nokey before a b"), ":0"},
		{listArgs("LINSERT l middle a b"), listSyntax},
		{listArgs("LINSERT s middle a b"), listSyntax},
		{listArgs("LINSERT s before a b"), listWrongType},
		{listArgs("EXISTS nokey"), ":0"},

		{listArgs("DEL l"), ":1"},
		{listArgs("RPUSH l a b a c a b"), ":6"},
		{listArgs("LREM l 1 a"), ":1"},
		{listArgs("LRANGE l 0 -1"), "*[$b $a $c $a $b]"},
		{listArgs("LREM l -1 b"), ":1"},
		{listArgs("LRANGE l 0 -1"), "*[$b $a $c $a]"},
		{listArgs("LREM l 0 a"), ":2"},
		{listArgs("LRANGE l 0 -1"), "*[$b $c]"},
		{listArgs("LREM l 0 zz"), ":0"},
		{listArgs("LREM nokey 0 a"), ":0"},
		{listArgs("LREM l x a"), listNotInt},
		{listArgs("LREM s 0 a"), listWrongType},
		{listArgs("LREM s x a"), listNotInt},
		{listArgs("LREM l -9223372036854775808 b"), ":1"},
		{listArgs("LREM l 5 c"), ":1"},
		{listArgs("EXISTS l"), ":0"},

		{listArgs("RPUSH l a b c d e"), ":5"},
		{listArgs("LTRIM l 1 -2"), "+OK"},
		{listArgs("LRANGE l 0 -1"), "*[$b $c $d]"},
		{listArgs("LTRIM l -100 100"), "+OK"},
		{listArgs("LRANGE l 0 -1"), "*[$b $c $d]"},
		{listArgs("LTRIM l 1 1"), "+OK"},
		{listArgs("LRANGE l 0 -1"), "*[$c]"},
		{listArgs("LTRIM l 2 1"), "+OK"},
		{listArgs("EXISTS l"), ":0"},
		{listArgs("LTRIM nokey 0 1"), "+OK"},
		{listArgs("LTRIM nokey x 1"), listNotInt},
		{listArgs("LTRIM s 0 1"), listWrongType},
		{listArgs("LTRIM s 0 x"), listNotInt},
	})
}

func TestListPosRaw(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	rankZero := "-ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
	listRun(t, r, []listCase{
		{listArgs("RPUSH l a b c 1 2 3 c c"), ":8"},
		{listArgs("SET s v"), "+OK"},
		{listArgs("LPOS l c"), ":2"},
		{listArgs("LPOS l c RANK 2"), ":6"},
		{listArgs("LPOS l c RANK -1"), ":7"},
		{listArgs("LPOS l c RANK -3"), ":2"},
		{listArgs("LPOS l c RANK 4"), "(nil)"},
		{listArgs("LPOS l c COUNT 2"), "*[:2 :6]"},
		{listArgs("LPOS l c COUNT 0"), "*[:2 :6 :7]"},
		{listArgs("LPOS l c COUNT 0 RANK 2"), "*[:6 :7]"},
		{listArgs("LPOS l c COUNT 2 RANK -1"), "*[:7 :6]"},
		{listArgs("LPOS l c COUNT 0 MAXLEN 7"), "*[:2 :6]"},
		{listArgs("LPOS l c COUNT 0 MAXLEN 1 RANK -1"), "*[:7]"},
		{listArgs("LPOS l c MAXLEN 2"), "(nil)"},
		{listArgs("LPOS l x COUNT 5"), "*[]"},
		{listArgs("LPOS l c rank 1 count 1 maxlen 0"), "*[:2]"},
		{listArgs("LPOS l c RANK -9223372036854775808"), ":7"},
		{listArgs("LPOS l c RANK -9223372036854775808 COUNT 1"), "*[:7 :6 :2]"},
		{listArgs("LPOS l c RANK 0"), rankZero},
		{listArgs("LPOS nokey c RANK 0"), rankZero},
		{listArgs("LPOS s c RANK 0"), rankZero},
		{listArgs("LPOS l c RANK x"), listNotInt},
		{listArgs("LPOS l c COUNT -1"), "-ERR COUNT can't be negative"},
		{listArgs("LPOS l c COUNT x"), "-ERR COUNT can't be negative"},
		{listArgs("LPOS l c MAXLEN -1"), "-ERR MAXLEN can't be negative"},
		{listArgs("LPOS l c MAXLEN x"), "-ERR MAXLEN can't be negative"},
		{listArgs("LPOS l c RANK"), listSyntax},
		{listArgs("LPOS l c FOO 1"), listSyntax},
		{listArgs("LPOS nokey c"), "(nil)"},
		{listArgs("LPOS nokey c COUNT 0"), "*[]"},
		{listArgs("LPOS s c"), listWrongType},
		{listArgs("LPOS s c COUNT 1"), listWrongType},
	})
	listRunExact(t, r, []listCase{
		{listArgs("LPOS l zz"), "$-1\r\n"},
		{listArgs("LPOS l zz COUNT 1"), "*0\r\n"},
		{listArgs("HELLO 3"), ""},
		{listArgs("LPOS l zz"), "_\r\n"},
		{listArgs("LPOS nokey zz"), "_\r\n"},
		{listArgs("LPOS l c"), ":2\r\n"},
	})
}

func TestListMoveRaw(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	r := s.Raw()
	listRun(t, r, []listCase{
		{listArgs("RPUSH src a b c"), ":3"},
		{listArgs("SET s v"), "+OK"},
		{listArgs("LMOVE src dst LEFT RIGHT"), "$a"},
		{listArgs("LMOVE src dst right left"), "$c"},
		{listArgs("LRANGE dst 0 -1"), "*[$c $a]"},
		{listArgs("LMOVE src src LEFT RIGHT"), "$b"}, // rotation of one element
		{listArgs("LRANGE src 0 -1"), "*[$b]"},
		{listArgs("RPOPLPUSH src dst"), "$b"},
		{listArgs("EXISTS src"), ":0"},
		{listArgs("LRANGE dst 0 -1"), "*[$b $c $a]"},
		{listArgs("RPOPLPUSH dst dst"), "$a"},
		{listArgs("LRANGE dst 0 -1"), "*[$a $b $c]"},
		{listArgs("LMOVE dst dst LEFT LEFT"), "$a"},
		{listArgs("LRANGE dst 0 -1"), "*[$a $b $c]"},
		{listArgs("LMOVE nokey dst LEFT LEFT"), "(nil)"},
		{listArgs("LMOVE nokey s LEFT LEFT"), "(nil)"},
		{listArgs("RPOPLPUSH nokey s"), "(nil)"},
		{listArgs("LMOVE s dst LEFT LEFT"), listWrongType},
		{listArgs("LMOVE dst s LEFT LEFT"), listWrongType},
		{listArgs("RPOPLPUSH dst s"), listWrongType},
		{listArgs("LRANGE dst 0 -1"), "*[$a $b $c]"},
		{listArgs("LMOVE dst x UP LEFT"), listSyntax},
		{listArgs("LMOVE dst x LEFT DOWN"), listSyntax},
		{listArgs("LMOVE nokey x LEFT DOWN"), listSyntax},
		{listArgs("LMOVE dst x"), "-ERR wrong number of arguments for 'lmove' command"},
		{listArgs("RPOPLPUSH dst"), "-ERR wrong number of arguments for 'rpoplpush' command"},
	})
	listRunExact(t, r, []listCase{
		{listArgs("LMOVE nokey dst LEFT LEFT"), "$-1\r\n"},
		{listArgs("RPOPLPUSH nokey dst"), "$-1\r\n"},
		{listArgs("HELLO 3"), ""},
		{listArgs("LMOVE nokey dst LEFT LEFT"), "_\r\n"},
		{listArgs("RPOPLPUSH nokey dst"), "_\r\n"},
	})
}

func TestListMPopRaw(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	r := s.Raw()
	listRun(t, r, []listCase{
		{listArgs("RPUSH l2 a b c d"), ":4"},
		{listArgs("SET s v"), "+OK"},
		{listArgs("LMPOP 2 l1 l2 LEFT"), "*[$l2 *[$a]]"},
		{listArgs("LMPOP 2 l1 l2 right COUNT 2"), "*[$l2 *[$d $c]]"},
		{listArgs("LMPOP 1 l2 LEFT COUNT 10"), "*[$l2 *[$b]]"},
		{listArgs("EXISTS l2"), ":0"},
		{listArgs("LMPOP 2 l1 l2 LEFT"), "(nil)"},
		{listArgs("LMPOP 3 l1 s l2 LEFT"), listWrongType},
		{listArgs("RPUSH l1 x"), ":1"},
		{listArgs("LMPOP 2 l1 s LEFT"), "*[$l1 *[$x]]"},
		{listArgs("LMPOP 0 l1 LEFT"), "-ERR numkeys should be greater than 0"},
		{listArgs("LMPOP -1 l1 LEFT"), "-ERR numkeys should be greater than 0"},
		{listArgs("LMPOP abc l1 LEFT"), "-ERR numkeys should be greater than 0"},
		{listArgs("LMPOP 2 l1 LEFT"), listSyntax},
		{listArgs("LMPOP 9223372036854775807 l1 LEFT"), listSyntax},
		{listArgs("LMPOP 1 l1 MIDDLE"), listSyntax},
		{listArgs("LMPOP 1 l1 LEFT COUNT 0"), "-ERR count should be greater than 0"},
		{listArgs("LMPOP 1 l1 LEFT COUNT -1"), "-ERR count should be greater than 0"},
		{listArgs("LMPOP 1 l1 LEFT COUNT x"), "-ERR count should be greater than 0"},
		{listArgs("LMPOP 1 l1 LEFT COUNT 1 COUNT 1"), listSyntax},
		{listArgs("LMPOP 1 l1 LEFT COUNT"), listSyntax},
		{listArgs("LMPOP 1 l1 LEFT FOO"), listSyntax},
		{listArgs("LMPOP 1 l1"), "-ERR wrong number of arguments for 'lmpop' command"},
		{listArgs("COMMAND GETKEYS LMPOP 2 a b LEFT COUNT 2"), "*[$a $b]"},
	})
	listRunExact(t, r, []listCase{
		{listArgs("LMPOP 1 nokey LEFT"), "*-1\r\n"},
		{listArgs("RPUSH l1 a b"), ":2\r\n"},
		{listArgs("HELLO 3"), ""},
		{listArgs("LMPOP 1 nokey LEFT"), "_\r\n"},
		{listArgs("LMPOP 1 l1 RIGHT COUNT 5"), "*2\r\n$2\r\nl1\r\n*2\r\n$1\r\nb\r\n$1\r\na\r\n"},
	})
}

// TestListLargeElements: a 1 MiB element is stored and read back whole.
func TestListLargeElements(t *testing.T) {
	s := servertest.Start(t)
	c := s.Client(2)
	ctx := context.Background()
	big := strings.Repeat("x", 1<<20)
	if n, err := c.RPush(ctx, "l", big, "y").Result(); err != nil || n != 2 {
		t.Fatalf("RPUSH big: %d %v", n, err)
	}
	if v, err := c.LIndex(ctx, "l", 0).Result(); err != nil || v != big {
		t.Fatalf("LINDEX big: %d bytes, %v", len(v), err)
	}
}

// ---- go-redis, RESP2 and RESP3 ----

func TestListGoRedis(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			s := servertest.Start(t, servertest.Workers(4))
			c := s.Client(proto)
			ctx := context.Background()
			eqInt := func(what string, got int64, err error, want int64) {
				t.Helper()
				if err != nil || got != want {
					t.Errorf("%s = %d, %v; want %d", what, got, err, want)
				}
			}
			eqStr := func(what string, got string, err error, want string) {
				t.Helper()
				if err != nil || got != want {
					t.Errorf("%s = %q, %v; want %q", what, got, err, want)
				}
			}
			eqList := func(what string, got []string, err error, want ...string) {
				t.Helper()
				if err != nil || !slices.Equal(got, want) {
					t.Errorf("%s = %q, %v; want %q", what, got, err, want)
				}
			}
			isNil := func(what string, err error) {
				t.Helper()
				if !errors.Is(err, redis.Nil) {
					t.Errorf("%s: err %v, want redis.Nil", what, err)
				}
			}

			n, err := c.LPush(ctx, "l", "b", "a").Result()
			eqInt("LPUSH", n, err, 2)
			n, err = c.RPush(ctx, "l", "c", "d", "e").Result()
			eqInt("RPUSH", n, err, 5)
			n, err = c.LPushX(ctx, "l", "z").Result()
			eqInt("LPUSHX", n, err, 6)
			n, err = c.RPushX(ctx, "nokey", "z").Result()
			eqInt("RPUSHX nokey", n, err, 0)
			n, err = c.LLen(ctx, "l").Result()
			eqInt("LLEN", n, err, 6)
			v, err := c.LPop(ctx, "l").Result()
			eqStr("LPOP", v, err, "z")
			_, err = c.LPop(ctx, "nokey").Result()
			isNil("LPOP nokey", err)
			_, err = c.LPopCount(ctx, "nokey", 2).Result()
			isNil("LPOP nokey 2", err)
			vs, err := c.LRange(ctx, "l", 0, -1).Result()
			eqList("LRANGE", vs, err, "a", "b", "c", "d", "e")
			v, err = c.LIndex(ctx, "l", -2).Result()
			eqStr("LINDEX", v, err, "d")
			_, err = c.LIndex(ctx, "l", 10).Result()
			isNil("LINDEX out of range", err)
			eqStr("LSET", c.LSet(ctx, "l", 1, "B").Val(), nil, "OK")
			if err := c.LSet(ctx, "l", 10, "x").Err(); err == nil || err.Error() != "ERR index out of range" {
				t.Errorf("LSET out of range: %v", err)
			}
			if err := c.LSet(ctx, "nokey", 0, "x").Err(); err == nil || err.Error() != "ERR no such key" {
				t.Errorf("LSET nokey: %v", err)
			}
			n, err = c.LInsertBefore(ctx, "l", "c", "x").Result()
			eqInt("LINSERT BEFORE", n, err, 6)
			n, err = c.LInsertAfter(ctx, "l", "c", "x").Result()
			eqInt("LINSERT AFTER", n, err, 7)
			n, err = c.LInsert(ctx, "l", "before", "nope", "x").Result()
			eqInt("LINSERT no pivot", n, err, -1)
			vs, err = c.LRange(ctx, "l", 0, -1).Result()
			eqList("LRANGE", vs, err, "a", "B", "x", "c", "x", "d", "e")
			n, err = c.LPos(ctx, "l", "x", redis.LPosArgs{}).Result()
			eqInt("LPOS", n, err, 2)
			n, err = c.LPos(ctx, "l", "x", redis.LPosArgs{Rank: -1}).Result()
			eqInt("LPOS RANK -1", n, err, 4)
			_, err = c.LPos(ctx, "l", "nope", redis.LPosArgs{}).Result()
			isNil("LPOS no match", err)
			is, err := c.LPosCount(ctx, "l", "x", 0, redis.LPosArgs{}).Result()
			if err != nil || !slices.Equal(is, []int64{2, 4}) {
				t.Errorf("LPOS COUNT 0 = %v, %v", is, err)
			}
			is, err = c.LPosCount(ctx, "l", "x", 1, redis.LPosArgs{MaxLen: 2}).Result()
			if err != nil || len(is) != 0 {
				t.Errorf("LPOS COUNT 1 MAXLEN 2 = %v, %v", is, err)
			}
			n, err = c.LRem(ctx, "l", 0, "x").Result()
			eqInt("LREM", n, err, 2)
			eqStr("LTRIM", c.LTrim(ctx, "l", 1, -1).Val(), nil, "OK")
			vs, err = c.LRange(ctx, "l", 0, -1).Result()
			eqList("after LTRIM", vs, err, "B", "c", "d", "e")
			vs, err = c.RPopCount(ctx, "l", 2).Result()
			eqList("RPOP 2", vs, err, "e", "d")
			vs, err = c.LPopCount(ctx, "l", 0).Result()
			eqList("LPOP 0", vs, err)

			// The move commands across keys of different workers.
			v, err = c.LMove(ctx, "l", "other", "LEFT", "RIGHT").Result()
			eqStr("LMOVE", v, err, "B")
			v, err = c.RPopLPush(ctx, "l", "other").Result()
			eqStr("RPOPLPUSH", v, err, "c")
			_, err = c.RPopLPush(ctx, "l", "other").Result()
			isNil("RPOPLPUSH empty", err)
			vs, err = c.LRange(ctx, "other", 0, -1).Result()
			eqList("LRANGE other", vs, err, "c", "B")
			n, err = c.Exists(ctx, "l").Result()
			eqInt("EXISTS l", n, err, 0)

			c.RPush(ctx, "m2", "1", "2", "3")
			key, vals, err := c.LMPop(ctx, "left", 2, "m1", "m2").Result()
			if err != nil || key != "m2" || !slices.Equal(vals, []string{"1", "2"}) {
				t.Errorf("LMPOP = %q %q %v", key, vals, err)
			}
			key, vals, err = c.LMPop(ctx, "right", 5, "m2", "other").Result()
			if err != nil || key != "m2" || !slices.Equal(vals, []string{"3"}) {
				t.Errorf("LMPOP right = %q %q %v", key, vals, err)
			}
			_, _, err = c.LMPop(ctx, "left", 1, "m1", "m2").Result()
			isNil("LMPOP empty", err)

			c.Set(ctx, "s", "v", 0)
			for _, cmd := range []redis.Cmder{
				c.LPush(ctx, "s", "x"), c.LLen(ctx, "s"), c.LRange(ctx, "s", 0, 1), c.LPop(ctx, "s"),
				c.LMove(ctx, "other", "s", "LEFT", "LEFT"), c.LPos(ctx, "s", "x", redis.LPosArgs{}),
			} {
				if err := cmd.Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
					t.Errorf("%v: err %v, want WRONGTYPE", cmd.Args(), err)
				}
			}
		})
	}
}

// ---- randomized model test ----

// listModel is the in-test reference: plain slices per key, plus string
// keys for the WRONGTYPE paths.
type listModel struct {
	lists map[string][]string
	strs  map[string]bool
}

func newListModel() *listModel {
	return &listModel{lists: map[string][]string{}, strs: map[string]bool{}}
}

type listErr string

// listMInt parses like Redis's string2ll.
func listMInt(s string) (int64, bool) {
	if s == "0" {
		return 0, true
	}
	d := strings.TrimPrefix(s, "-")
	if d == "" || d[0] < '1' || d[0] > '9' {
		return 0, false
	}
	for _, c := range d {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil
}

const (
	listMWrong  = listErr("WRONGTYPE Operation against a key holding the wrong kind of value")
	listMNotInt = listErr("ERR value is not an integer or out of range")
	listMSyntax = listErr("ERR syntax error")
)

func listMRange(start, end, n int64) (int64, int64, bool) {
	if start < 0 {
		start += n
	}
	if end < 0 {
		end += n
	}
	start = max(start, 0)
	if start > end || start >= n {
		return 0, 0, false
	}
	return start, min(end, n-1), true
}

func listMStrs(v []string) []any {
	out := make([]any, len(v))
	for i, s := range v {
		out[i] = s
	}
	return out
}

// apply runs one command on the model and returns its expected reply:
// int64, string, []any, nil (a null) or listErr.
func (m *listModel) apply(a []string) any {
	cmd := strings.ToLower(a[0])
	key := ""
	if len(a) > 1 {
		key = a[1]
	}
	l := m.lists[key]
	wrong := m.strs[key]
	set := func(k string, v []string) {
		if len(v) == 0 {
			delete(m.lists, k)
		} else {
			m.lists[k] = v
		}
	}
	switch cmd {
	case "type":
		switch {
		case wrong:
			return "string"
		case l != nil:
			return "list"
		}
		return "none"
	case "lpush", "rpush", "lpushx", "rpushx":
		if wrong {
			return listMWrong
		}
		if l == nil && strings.HasSuffix(cmd, "x") {
			return int64(0)
		}
		for _, v := range a[2:] {
			if cmd[0] == 'l' {
				l = append([]string{v}, l...)
			} else {
				l = append(l, v)
			}
		}
		set(key, l)
		return int64(len(l))
	case "lpop", "rpop":
		if len(a) > 3 {
			return listErr("ERR wrong number of arguments for '" + cmd + "' command")
		}
		count := int64(-1)
		if len(a) == 3 {
			v, ok := listMInt(a[2])
			if !ok || v < 0 {
				return listErr("ERR value is out of range, must be positive")
			}
			count = v
		}
		if wrong {
			return listMWrong
		}
		if l == nil {
			return nil
		}
		if count == 0 {
			return []any{}
		}
		if count < 0 {
			var v string
			if cmd == "lpop" {
				v, l = l[0], l[1:]
			} else {
				v, l = l[len(l)-1], l[:len(l)-1]
			}
			set(key, l)
			return v
		}
		k := int(min(count, int64(len(l))))
		var out []string
		if cmd == "lpop" {
			out, l = slices.Clone(l[:k]), l[k:]
		} else {
			out = slices.Clone(l[len(l)-k:])
			slices.Reverse(out)
			l = l[:len(l)-k]
		}
		set(key, l)
		return listMStrs(out)
	case "llen":
		if wrong {
			return listMWrong
		}
		return int64(len(l))
	case "lrange":
		s, ok1 := listMInt(a[2])
		e, ok2 := listMInt(a[3])
		if !ok1 || !ok2 {
			return listMNotInt
		}
		if wrong {
			return listMWrong
		}
		s, e, ok := listMRange(s, e, int64(len(l)))
		if !ok {
			return []any{}
		}
		return listMStrs(l[s : e+1])
	case "lindex":
		if wrong {
			return listMWrong
		}
		if l == nil {
			return nil
		}
		i, ok := listMInt(a[2])
		if !ok {
			return listMNotInt
		}
		if i < 0 {
			i += int64(len(l))
		}
		if i < 0 || i >= int64(len(l)) {
			return nil
		}
		return l[i]
	case "lset":
		if wrong {
			return listMWrong
		}
		if l == nil {
			return listErr("ERR no such key")
		}
		i, ok := listMInt(a[2])
		if !ok {
			return listMNotInt
		}
		if i < 0 {
			i += int64(len(l))
		}
		if i < 0 || i >= int64(len(l)) {
			return listErr("ERR index out of range")
		}
		l[i] = a[3]
		return "OK"
	case "linsert":
		w := strings.ToLower(a[2])
		if w != "before" && w != "after" {
			return listMSyntax
		}
		if wrong {
			return listMWrong
		}
		if l == nil {
			return int64(0)
		}
		i := slices.Index(l, a[3])
		if i < 0 {
			return int64(-1)
		}
		if w == "after" {
			i++
		}
		l = slices.Insert(l, i, a[4])
		set(key, l)
		return int64(len(l))
	case "lrem":
		count, ok := listMInt(a[2])
		if !ok {
			return listMNotInt
		}
		if wrong {
			return listMWrong
		}
		limit := count
		if limit < 0 {
			limit = -limit
		}
		if limit <= 0 {
			limit = int64(len(l))
		}
		removed := int64(0)
		keep := make([]bool, len(l))
		for j := range l {
			i := j
			if count < 0 {
				i = len(l) - 1 - j
			}
			keep[i] = true
			if removed < limit && l[i] == a[3] {
				keep[i] = false
				removed++
			}
		}
		var nl []string
		for i, k := range keep {
			if k {
				nl = append(nl, l[i])
			}
		}
		set(key, nl)
		return removed
	case "ltrim":
		s, ok1 := listMInt(a[2])
		e, ok2 := listMInt(a[3])
		if !ok1 || !ok2 {
			return listMNotInt
		}
		if wrong {
			return listMWrong
		}
		if l == nil {
			return "OK"
		}
		s, e, ok := listMRange(s, e, int64(len(l)))
		if !ok {
			set(key, nil)
		} else {
			set(key, slices.Clone(l[s:e+1]))
		}
		return "OK"
	case "lpos":
		rank, count, maxlen := int64(1), int64(-1), int64(0)
		for j := 3; j < len(a); j++ {
			opt := strings.ToLower(a[j])
			if j+1 >= len(a) || (opt != "rank" && opt != "count" && opt != "maxlen") {
				return listMSyntax
			}
			j++
			v, ok := listMInt(a[j])
			switch opt {
			case "rank":
				if !ok {
					return listMNotInt
				}
				if v == 0 {
					return listErr("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list")
				}
				rank = v
			case "count":
				if !ok || v < 0 {
					return listErr("ERR COUNT can't be negative")
				}
				count = v
			case "maxlen":
				if !ok || v < 0 {
					return listErr("ERR MAXLEN can't be negative")
				}
				maxlen = v
			}
		}
		if wrong {
			return listMWrong
		}
		var found []any
		matches := int64(0)
		for j := 0; j < len(l) && (maxlen == 0 || int64(j) < maxlen); j++ {
			i := j
			if rank < 0 {
				i = len(l) - 1 - j
			}
			if l[i] != a[2] {
				continue
			}
			matches++
			r := rank
			if r < 0 {
				r = -r
			}
			if matches >= r {
				found = append(found, int64(i))
				if count == -1 || count > 0 && matches-r+1 >= count {
					break
				}
			}
		}
		if count == -1 {
			if len(found) == 0 {
				return nil
			}
			return found[0]
		}
		if found == nil {
			found = []any{}
		}
		return found
	case "lmove", "rpoplpush":
		from, to := "right", "left"
		if cmd == "lmove" {
			from, to = strings.ToLower(a[3]), strings.ToLower(a[4])
			if from != "left" && from != "right" || to != "left" && to != "right" {
				return listMSyntax
			}
		}
		if wrong {
			return listMWrong
		}
		if l == nil {
			return nil
		}
		dst := a[2]
		if m.strs[dst] {
			return listMWrong
		}
		var v string
		if from == "left" {
			v, l = l[0], l[1:]
		} else {
			v, l = l[len(l)-1], l[:len(l)-1]
		}
		set(key, l)
		dl := m.lists[dst]
		if to == "left" {
			dl = append([]string{v}, dl...)
		} else {
			dl = append(dl, v)
		}
		set(dst, dl)
		return v
	case "lmpop":
		nk, ok := listMInt(a[1])
		if !ok || nk < 1 {
			return listErr("ERR numkeys should be greater than 0")
		}
		if nk > int64(len(a)-3) {
			return listMSyntax
		}
		wi := 1 + int(nk) + 1
		where := strings.ToLower(a[wi])
		if where != "left" && where != "right" {
			return listMSyntax
		}
		count := int64(-1)
		for j := wi + 1; j < len(a); j++ {
			if count == -1 && strings.ToLower(a[j]) == "count" && j+1 < len(a) {
				j++
				v, ok := listMInt(a[j])
				if !ok || v < 1 {
					return listErr("ERR count should be greater than 0")
				}
				count = v
				continue
			}
			return listMSyntax
		}
		if count == -1 {
			count = 1
		}
		for _, k := range a[2:wi] {
			if m.strs[k] {
				return listMWrong
			}
			kl := m.lists[k]
			if kl == nil {
				continue
			}
			n := int(min(count, int64(len(kl))))
			var out []string
			if where == "left" {
				out, kl = slices.Clone(kl[:n]), kl[n:]
			} else {
				out = slices.Clone(kl[len(kl)-n:])
				slices.Reverse(out)
				kl = kl[:len(kl)-n]
			}
			set(k, kl)
			return []any{k, listMStrs(out)}
		}
		return nil
	}
	panic("model: unknown command " + cmd)
}

// listGen produces random list commands over a few keys (one of them a
// string), with indexes around the lists' lengths and occasional invalid
// or extreme numbers.
type listGen struct {
	rng  *rand.Rand
	keys []string
	lens func(key string) int
}

func (g *listGen) key() string { return g.keys[g.rng.IntN(len(g.keys))] }

func (g *listGen) val() string {
	if g.rng.IntN(8) == 0 {
		return "v" + strconv.Itoa(g.rng.IntN(1000))
	}
	return string(rune('a' + g.rng.IntN(5)))
}

func (g *listGen) num(n int) string {
	switch g.rng.IntN(40) {
	case 0:
		return "x"
	case 1:
		return "9223372036854775807"
	case 2:
		return "-9223372036854775808"
	case 3:
		return "01"
	case 4:
		return "+1"
	case 5:
		return "1.5"
	case 6:
		return "9223372036854775808"
	}
	return strconv.Itoa(g.rng.IntN(2*n+7) - n - 3)
}

func (g *listGen) count(n int) string {
	if g.rng.IntN(12) == 0 {
		return g.num(n)
	}
	return strconv.Itoa(g.rng.IntN(n/2 + 3))
}

func (g *listGen) where() string {
	switch g.rng.IntN(20) {
	case 0:
		return "middle"
	case 1:
		return "Left"
	}
	if g.rng.IntN(2) == 0 {
		return "LEFT"
	}
	return "right"
}

func (g *listGen) next() []string {
	k := g.key()
	n := g.lens(k)
	switch op := g.rng.IntN(30); {
	case op < 6:
		cmd := []string{"LPUSH", "RPUSH", "LPUSHX", "RPUSHX", "LPUSH", "RPUSH"}[op]
		args := []string{cmd, k}
		cnt := 1 + g.rng.IntN(6)
		if g.rng.IntN(60) == 0 {
			cnt = 150 + g.rng.IntN(150) // into the chunked form
		}
		for i := 0; i < cnt; i++ {
			args = append(args, g.val())
		}
		return args
	case op < 9:
		cmd := []string{"LPOP", "RPOP"}[g.rng.IntN(2)]
		switch g.rng.IntN(4) {
		case 0:
			return []string{cmd, k}
		case 1:
			if g.rng.IntN(10) == 0 {
				return []string{cmd, k, "1", "2"}
			}
		}
		return []string{cmd, k, g.count(n)}
	case op == 9:
		return []string{"LLEN", k}
	case op < 12:
		return []string{"LRANGE", k, g.num(n), g.num(n)}
	case op == 12:
		return []string{"LINDEX", k, g.num(n)}
	case op == 13:
		return []string{"LSET", k, g.num(n), g.val()}
	case op == 14:
		w := []string{"BEFORE", "after", "BEFORE", "After", "inside"}[g.rng.IntN(5)]
		return []string{"LINSERT", k, w, g.val(), g.val()}
	case op == 15:
		return []string{"LREM", k, g.num(4), g.val()}
	case op == 16:
		if g.rng.IntN(3) == 0 {
			return []string{"LTRIM", k, g.num(n), g.num(n)}
		}
		// Mostly keep a good part of the list.
		return []string{"LTRIM", k, strconv.Itoa(g.rng.IntN(3)), strconv.Itoa(-1 - g.rng.IntN(3))}
	case op < 19:
		args := []string{"LPOS", k, g.val()}
		for _, o := range g.rng.Perm(3)[:g.rng.IntN(4)%4] {
			switch o {
			case 0:
				r := g.num(4)
				if g.rng.IntN(3) > 0 && r == "0" {
					r = "1"
				}
				args = append(args, "RANK", r)
			case 1:
				args = append(args, "COUNT", g.count(4))
			case 2:
				args = append(args, "MAXLEN", g.count(n))
			}
		}
		if g.rng.IntN(30) == 0 {
			args = append(args, "RANK")
		}
		return args
	case op < 22:
		return []string{"LMOVE", k, g.key(), g.where(), g.where()}
	case op == 22:
		return []string{"RPOPLPUSH", k, g.key()}
	case op < 25:
		nk := 1 + g.rng.IntN(3)
		args := []string{"LMPOP", strconv.Itoa(nk)}
		if g.rng.IntN(20) == 0 {
			args[1] = g.num(3)
		}
		for i := 0; i < nk; i++ {
			args = append(args, g.key())
		}
		args = append(args, g.where())
		if g.rng.IntN(2) == 0 {
			args = append(args, "COUNT", g.count(n))
		}
		return args
	}
	return []string{"TYPE", k}
}

// listToModel converts a go-redis Do result to the model's form.
func listToModel(v any, err error) any {
	if errors.Is(err, redis.Nil) {
		return nil
	}
	if err != nil {
		return listErr(err.Error())
	}
	if arr, ok := v.([]any); ok {
		out := make([]any, len(arr))
		for i, e := range arr {
			out[i] = listToModel(e, nil)
		}
		return out
	}
	return v
}

// TestListModel applies thousands of random list commands to kvd (through
// go-redis, over 4 workers, RESP2 then RESP3) and to listModel, and
// compares every reply and, regularly, the whole state.
func TestListModel(t *testing.T) {
	const ops = 12000 // per protocol
	for _, proto := range []int{2, 3} {
		t.Run("RESP"+strconv.Itoa(proto), func(t *testing.T) {
			s := servertest.Start(t, servertest.Workers(4))
			c := s.Client(proto)
			ctx := context.Background()
			m := newListModel()
			c.Set(ctx, "str", "v", 0)
			m.strs["str"] = true
			g := &listGen{
				rng:  rand.New(rand.NewPCG(42, uint64(proto))),
				keys: []string{"la", "lb", "lc", "{la}x", "str"},
				lens: func(k string) int { return len(m.lists[k]) },
			}
			for i := 0; i < ops; i++ {
				args := g.next()
				iargs := make([]any, len(args))
				for j, a := range args {
					iargs[j] = a
				}
				want := m.apply(args)
				got := listToModel(c.Do(ctx, iargs...).Result())
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("op %d %q:\n   kvd   %#v\n   model %#v", i, args, got, want)
				}
				if i%500 == 0 || i == ops-1 {
					listCheckState(t, c, m, g.keys)
				}
			}
		})
	}
}

// listCheckState compares every key's full contents with the model.
func listCheckState(t *testing.T, c *redis.Client, m *listModel, keys []string) {
	t.Helper()
	ctx := context.Background()
	for _, k := range keys {
		if m.strs[k] {
			continue
		}
		got, err := c.LRange(ctx, k, 0, -1).Result()
		if err != nil {
			t.Fatalf("LRANGE %s: %v", k, err)
		}
		if want := m.lists[k]; !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Fatalf("state of %s:\n   kvd   %q\n   model %q", k, got, want)
		}
		if ex := c.Exists(ctx, k).Val(); ex != int64(min(len(m.lists[k]), 1)) {
			t.Fatalf("EXISTS %s = %d with %d elements", k, ex, len(m.lists[k]))
		}
	}
}

// ---- atomicity across workers ----

// TestListMoveAtomicAcrossWorkers moves one element back and forth between
// two lists owned by different workers with LMOVE and RPOPLPUSH while
// readers check with EXISTS (itself atomic over both keys) that exactly
// one of the two lists exists at any time: a move that was not atomic
// would show 0 or 2.
func TestListMoveAtomicAcrossWorkers(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	a, b := atPair(t, s)
	ctx := context.Background()
	s.Client(2).RPush(ctx, a, "token")
	atRun(t, s, 4, 4, 200, 10,
		func(p redis.Pipeliner, round int) {
			switch round % 4 {
			case 0:
				p.LMove(ctx, a, b, "LEFT", "RIGHT")
			case 1:
				p.LMove(ctx, b, a, "RIGHT", "LEFT")
			case 2:
				p.RPopLPush(ctx, a, b)
			default:
				p.RPopLPush(ctx, b, a)
			}
		},
		func(p redis.Pipeliner) { p.Exists(ctx, a, b) },
		func(cmds []redis.Cmder) error {
			for _, c := range cmds {
				if n, err := c.(*redis.IntCmd).Result(); err != nil || n != 1 {
					return fmt.Errorf("EXISTS saw %d lists (%v)", n, err)
				}
			}
			return nil
		})
	c := s.Client(2)
	total := c.LLen(ctx, a).Val() + c.LLen(ctx, b).Val()
	if total != 1 {
		t.Fatalf("%d elements left, want 1", total)
	}
}

// TestListRotateAcrossWorkers rotates 100 distinct elements through four
// lists on four workers with LMOVE and RPOPLPUSH while snapshots taken
// holding every worker (Engine.Do) check that no element is ever lost or
// duplicated, even for an instant.
func TestListRotateAcrossWorkers(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	e := s.Engine()
	var keys []string
	seen := map[int]bool{}
	for i := 0; len(keys) < 4; i++ {
		k := "rot" + strconv.Itoa(i)
		if w := e.WorkerOf([]byte(k)); !seen[w] {
			seen[w] = true
			keys = append(keys, k)
		}
	}
	ctx := context.Background()
	const elems = 100
	for i := 0; i < elems; i++ {
		s.Client(2).RPush(ctx, keys[i%4], "e"+strconv.Itoa(i))
	}
	snapshot := func() []string {
		var all []string
		e.Do(func(w *shard.Worker) {
			db := e.DB(w, 0)
			for _, k := range keys {
				if o := db.Lookup([]byte(k)); o != nil {
					all = append(all, o.Val.(*types.List).Values()...)
				}
			}
		})
		slices.Sort(all)
		return all
	}
	want := snapshot()
	if len(want) != elems {
		t.Fatalf("%d elements at start", len(want))
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 6; g++ {
		c := s.Client(2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for i := 0; i < 1500; i++ {
				src, dst := keys[rng.IntN(4)], keys[rng.IntN(4)]
				var err error
				switch rng.IntN(3) {
				case 0:
					err = c.LMove(ctx, src, dst, "LEFT", "RIGHT").Err()
				case 1:
					err = c.RPopLPush(ctx, src, dst).Err()
				default:
					err = c.LMove(ctx, src, dst, "RIGHT", "RIGHT").Err()
				}
				if err != nil && err != redis.Nil {
					errs <- err
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for !stop.Load() {
			if got := snapshot(); !slices.Equal(got, want) {
				errs <- fmt.Errorf("snapshot has %d elements: %q", len(got), got)
				return
			}
			runtime.Gosched()
		}
	}()
	wg.Wait()
	stop.Store(true)
	<-done
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := snapshot(); !slices.Equal(got, want) {
		t.Fatalf("final state has %d elements", len(got))
	}
}

// TestListCopyAndEncoding: COPY deep-copies a list (chunked and small),
// OBJECT ENCODING is quicklist.
func TestListCopyAndEncoding(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	c := s.Client(2)
	ctx := context.Background()
	var vals []any
	for i := 0; i < 1000; i++ {
		vals = append(vals, strconv.Itoa(i))
	}
	c.RPush(ctx, "big", vals...)
	c.RPush(ctx, "small", "a", "b")
	for _, k := range []string{"big", "small"} {
		if enc := c.ObjectEncoding(ctx, k).Val(); enc != "quicklist" {
			t.Errorf("OBJECT ENCODING %s = %q", k, enc)
		}
		if n, err := c.Copy(ctx, k, k+"2", 0, false).Result(); err != nil || n != 1 {
			t.Fatalf("COPY %s: %d %v", k, n, err)
		}
		c.LSet(ctx, k+"2", 0, "changed")
		c.RPush(ctx, k+"2", "more")
		if v := c.LIndex(ctx, k, 0).Val(); v == "changed" {
			t.Errorf("COPY of %s shares its elements", k)
		}
		if a, b := c.LLen(ctx, k).Val(), c.LLen(ctx, k+"2").Val(); b != a+1 {
			t.Errorf("LLEN %s %d, copy %d", k, a, b)
		}
	}
	if v := c.LRange(ctx, "big", 500, 502).Val(); !slices.Equal(v, []string{"500", "501", "502"}) {
		t.Errorf("LRANGE big %q", v)
	}
}

// ---- comparison with a real redis-server 7.0.15 ----

// listRedis starts a real redis-server on a unix socket (skipping when it
// is not installed, unless KVD_REQUIRE_TOOLS=1) and returns a connection.
func listRedis(t *testing.T) (net.Conn, *bufio.Reader) {
	t.Helper()
	rc, err := net.Dial("unix", redistest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rc.Close() })
	return rc, bufio.NewReader(rc)
}

// listPeer is one side of a comparison: a connection and its reader.
type listPeer struct {
	c net.Conn
	r *bufio.Reader
}

func (p *listPeer) do(t *testing.T, args []string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	p.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := p.c.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	s, err := redistest.ReadRaw(p.r)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return s
}

func listPeers(t *testing.T) (real, ours *listPeer) {
	rc, rr := listRedis(t)
	s := servertest.Start(t, servertest.Workers(4))
	kc, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { kc.Close() })
	return &listPeer{rc, rr}, &listPeer{kc, bufio.NewReader(kc)}
}

// TestListVsRedisScript replays a script of edge cases on kvd and on
// redis-server 7.0.15 and compares the exact reply bytes, in RESP2 and
// then RESP3.
func TestListVsRedisScript(t *testing.T) {
	real, ours := listPeers(t)
	script := `
RPUSH l a b c a b c 1 2 3
SET s v
LPOP nokey
LPOP nokey 0
LPOP nokey 1
LPOP l 0
LPOP l -1
LPOP l abc
LPOP l 1 2
LPOP l 1
RPOP l 2
LPOS l a RANK 0
LPOS l a RANK -9223372036854775808
LPOS l a RANK -9223372036854775808 COUNT 1
LPOS l a RANK 9223372036854775807
LPOS l a COUNT abc
LPOS l a COUNT -1
LPOS l a MAXLEN -1
LPOS l a MAXLEN x
LPOS l a RANK x
LPOS l a FOO
LPOS l a RANK
LPOS l b COUNT 0 MAXLEN 3
LPOS l b COUNT 0 MAXLEN 3 RANK -1
LPOS nokey a COUNT 0
LPOS nokey a
LPOS nokey a RANK 0
LPOS s a RANK 0
LPOS s a
LMPOP 0 l LEFT
LMPOP abc l LEFT
LMPOP -1 l LEFT
LMPOP 1 l
LMPOP 2 l LEFT
LMPOP 1 l MIDDLE
LMPOP 1 l LEFT COUNT 0
LMPOP 1 l LEFT COUNT x
LMPOP 1 l LEFT COUNT 1 COUNT 1
LMPOP 1 l LEFT FOO
LMPOP 9223372036854775807 l LEFT
LMPOP 2 nokey s LEFT
LMPOP 2 nokey l RIGHT COUNT 2
LMPOP 1 nokey LEFT
LINDEX nokey abc
LINDEX l abc
LINDEX l -1
LINDEX l 100
LSET nokey abc x
LSET l abc x
LSET l 100 x
LSET l -1 Z
LINSERT l MIDDLE a b
LINSERT nokey BEFORE a b
LINSERT l BEFORE nope b
LINSERT l AFTER b B
LRANGE l abc 1
LRANGE nokey 0 x
LRANGE l 0 -1
LRANGE l -100 100
LRANGE l 5 1
LTRIM nokey x 1
LTRIM l 1 -1
LREM l x a
LREM l -1 b
LREM l 0 zz
LRANGE s 0 -1
LINDEX s x
LMOVE nokey s LEFT LEFT
LMOVE s nokey LEFT LEFT
LMOVE l s LEFT LEFT
LMOVE l s UP LEFT
LMOVE l l LEFT RIGHT
LMOVE l dst RIGHT LEFT
RPOPLPUSH nokey s
RPOPLPUSH l dst
LRANGE dst 0 -1
LPUSH s a
LPUSHX s a
LPUSHX nokey a
RPUSHX dst z
LTRIM s 0 x
LREM s 0 a
LREM s x a
LPOP s x
LPOP s -1
LPOP s 0
LLEN s
LLEN dst
LTRIM dst 5 1
EXISTS dst
LPUSH
OBJECT ENCODING l
TYPE l
`
	lines := strings.Split(strings.TrimSpace(script), "\n")
	run := func() {
		for _, line := range lines {
			args := listArgs(line)
			want, got := real.do(t, args), ours.do(t, args)
			if want != got {
				t.Errorf("%s\n   redis: %q\n   kvd:   %q", line, want, got)
			}
		}
	}
	run()
	real.do(t, []string{"FLUSHALL"})
	ours.do(t, []string{"FLUSHALL"})
	real.do(t, []string{"HELLO", "3"})
	ours.do(t, []string{"HELLO", "3"})
	run()
}

// TestListVsRedisRandom sends the same random command stream (the model
// test's generator) to kvd and to redis-server 7.0.15 and compares the
// exact reply bytes, RESP2 then RESP3.
func TestListVsRedisRandom(t *testing.T) {
	real, ours := listPeers(t)
	const ops = 6000 // per protocol
	for _, proto := range []int{2, 3} {
		real.do(t, []string{"FLUSHALL"})
		ours.do(t, []string{"FLUSHALL"})
		if proto == 3 {
			real.do(t, []string{"HELLO", "3"})
			ours.do(t, []string{"HELLO", "3"})
		}
		real.do(t, []string{"SET", "str", "v"})
		ours.do(t, []string{"SET", "str", "v"})
		// Lengths come from the model, kept in step with both servers.
		m := newListModel()
		m.strs["str"] = true
		g := &listGen{
			rng:  rand.New(rand.NewPCG(7, uint64(proto))),
			keys: []string{"la", "lb", "lc", "{la}x", "str"},
			lens: func(k string) int { return len(m.lists[k]) },
		}
		for i := 0; i < ops; i++ {
			args := g.next()
			m.apply(args)
			want, got := real.do(t, args), ours.do(t, args)
			if want != got {
				t.Fatalf("RESP%d op %d %q\n   redis: %q\n   kvd:   %q", proto, i, args, want, got)
			}
		}
	}
}
