package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
)

type hashCase struct {
	args []string
	want string
}

func hashRun(t *testing.T, r *servertest.Raw, cases []hashCase) {
	t.Helper()
	for _, c := range cases {
		if got := r.Do(c.args...); got != c.want {
			t.Errorf("%s\n   got  %s\n   want %s", strings.Join(c.args, " "), got, c.want)
		}
	}
}

func hashArgs(s string) []string { return strings.Fields(s) }

const hashWrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value"

// TestHashClients runs every command through go-redis, RESP2 and RESP3.
func TestHashClients(t *testing.T) {
	for _, proto := range []int{2, 3} {
		t.Run(fmt.Sprintf("resp%d", proto), func(t *testing.T) {
			s := servertest.Start(t, servertest.Workers(4))
			c := s.Client(proto)
			ctx := context.Background()
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}
			n, err := c.HSet(ctx, "h", "a", "1", "b", "2", "c", "3").Result()
			must(err)
			if n != 3 {
				t.Fatalf("HSET = %d", n)
			}
			if n, _ := c.HSet(ctx, "h", "a", "10", "d", "4").Result(); n != 1 {
				t.Fatalf("HSET update = %d", n)
			}
			if v, _ := c.HGet(ctx, "h", "a").Result(); v != "10" {
				t.Fatalf("HGET = %q", v)
			}
			if _, err := c.HGet(ctx, "h", "zz").Result(); err != redis.Nil {
				t.Fatalf("HGET missing: %v", err)
			}
			if _, err := c.HGet(ctx, "nokey", "a").Result(); err != redis.Nil {
				t.Fatalf("HGET missing key: %v", err)
			}
			vals, err := c.HMGet(ctx, "h", "a", "zz", "d").Result()
			must(err)
			if !reflect.DeepEqual(vals, []any{"10", nil, "4"}) {
				t.Fatalf("HMGET = %#v", vals)
			}
			ok, err := c.HMSet(ctx, "h2", "x", "1", "y", "2").Result()
			must(err)
			if !ok {
				t.Fatal("HMSET not ok")
			}
			if ok, _ := c.HSetNX(ctx, "h2", "x", "9").Result(); ok {
				t.Fatal("HSETNX existing")
			}
			if ok, _ := c.HSetNX(ctx, "h2", "z", "3").Result(); !ok {
				t.Fatal("HSETNX new")
			}
			if n, _ := c.HLen(ctx, "h2").Result(); n != 3 {
				t.Fatalf("HLEN = %d", n)
			}
			if n, _ := c.Do(ctx, "HSTRLEN", "h", "a").Int64(); n != 2 {
				t.Fatalf("HSTRLEN = %d", n)
			}
			if n, _ := c.Do(ctx, "HSTRLEN", "h", "zz").Int64(); n != 0 {
				t.Fatalf("HSTRLEN missing = %d", n)
			}
			if ok, _ := c.HExists(ctx, "h", "b").Result(); !ok {
				t.Fatal("HEXISTS b")
			}
			if ok, _ := c.HExists(ctx, "h", "zz").Result(); ok {
				t.Fatal("HEXISTS zz")
			}
			if k, _ := c.HKeys(ctx, "h").Result(); !reflect.DeepEqual(k, []string{"a", "b", "c", "d"}) {
				t.Fatalf("HKEYS = %v", k)
			}
			if v, _ := c.HVals(ctx, "h").Result(); !reflect.DeepEqual(v, []string{"10", "2", "3", "4"}) {
				t.Fatalf("HVALS = %v", v)
			}
			all, err := c.HGetAll(ctx, "h").Result()
			must(err)
			if !reflect.DeepEqual(all, map[string]string{"a": "10", "b": "2", "c": "3", "d": "4"}) {
				t.Fatalf("HGETALL = %v", all)
			}
			if all, _ := c.HGetAll(ctx, "nokey").Result(); len(all) != 0 {
				t.Fatalf("HGETALL missing = %v", all)
			}
			if n, _ := c.HIncrBy(ctx, "h", "a", 5).Result(); n != 15 {
				t.Fatalf("HINCRBY = %d", n)
			}
			if n, _ := c.HIncrBy(ctx, "h", "new", -7).Result(); n != -7 {
				t.Fatalf("HINCRBY new = %d", n)
			}
			if f, _ := c.HIncrByFloat(ctx, "h", "a", 0.5).Result(); f != 15.5 {
				t.Fatalf("HINCRBYFLOAT = %v", f)
			}
			if v, _ := c.HGet(ctx, "h", "a").Result(); v != "15.5" {
				t.Fatalf("after HINCRBYFLOAT = %q", v)
			}
			if _, err := c.HIncrBy(ctx, "h", "a", 1).Result(); err == nil || err.Error() != "ERR hash value is not an integer" {
				t.Fatalf("HINCRBY float value: %v", err)
			}
			if n, _ := c.HDel(ctx, "h", "a", "zz", "new").Result(); n != 2 {
				t.Fatalf("HDEL = %d", n)
			}
			// HRANDFIELD: single, count, negative count, WITHVALUES.
			f, err := c.Do(ctx, "HRANDFIELD", "h").Text()
			must(err)
			if f != "b" && f != "c" && f != "d" {
				t.Fatalf("HRANDFIELD = %q", f)
			}
			if _, err := c.Do(ctx, "HRANDFIELD", "nokey").Result(); err != redis.Nil {
				t.Fatalf("HRANDFIELD missing: %v", err)
			}
			fs, err := c.HRandField(ctx, "h", 2).Result()
			must(err)
			if len(fs) != 2 || fs[0] == fs[1] {
				t.Fatalf("HRANDFIELD 2 = %v", fs)
			}
			fs, _ = c.HRandField(ctx, "h", -7).Result()
			if len(fs) != 7 {
				t.Fatalf("HRANDFIELD -7 = %v", fs)
			}
			fs, _ = c.HRandField(ctx, "h", 10).Result()
			if !reflect.DeepEqual(fs, []string{"b", "c", "d"}) {
				t.Fatalf("HRANDFIELD 10 = %v", fs)
			}
			kv, err := c.HRandFieldWithValues(ctx, "h", -5).Result()
			must(err)
			want := map[string]string{"b": "2", "c": "3", "d": "4"}
			if len(kv) != 5 {
				t.Fatalf("HRANDFIELD -5 WITHVALUES = %v", kv)
			}
			for _, p := range kv {
				if want[p.Key] != p.Value {
					t.Fatalf("HRANDFIELD WITHVALUES pair %v", p)
				}
			}
			kv, _ = c.HRandFieldWithValues(ctx, "h", 3).Result()
			if !reflect.DeepEqual(kv, []redis.KeyValue{{Key: "b", Value: "2"}, {Key: "c", Value: "3"}, {Key: "d", Value: "4"}}) {
				t.Fatalf("HRANDFIELD 3 WITHVALUES = %v", kv)
			}
			// HSCAN of a listpack: everything, cursor 0.
			keys, cur, err := c.HScan(ctx, "h", 0, "", 1).Result()
			must(err)
			if cur != 0 || !reflect.DeepEqual(keys, []string{"b", "2", "c", "3", "d", "4"}) {
				t.Fatalf("HSCAN = %v %d", keys, cur)
			}
			keys, cur, _ = c.HScan(ctx, "h", 0, "[bd]", 0).Result()
			if cur != 0 || !reflect.DeepEqual(keys, []string{"b", "2", "d", "4"}) {
				t.Fatalf("HSCAN MATCH = %v %d", keys, cur)
			}
			// Deleting the last field deletes the key.
			c.HDel(ctx, "h2", "x", "y", "z")
			if n, _ := c.Exists(ctx, "h2").Result(); n != 0 {
				t.Fatal("empty hash kept")
			}
			// Wrong type.
			c.Set(ctx, "s", "v", 0)
			if _, err := c.HGet(ctx, "s", "a").Result(); err == nil || !strings.HasPrefix(err.Error(), "WRONGTYPE") {
				t.Fatalf("HGET string: %v", err)
			}
			if typ, _ := c.Type(ctx, "h").Result(); typ != "hash" {
				t.Fatalf("TYPE = %s", typ)
			}
		})
	}
}

// TestHashRawReplies checks exact replies and errors, RESP2 then RESP3.
func TestHashRawReplies(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	var cases []hashCase
	add := func(cmd, want string) { cases = append(cases, hashCase{hashArgs(cmd), want}) }
	add("HSET h a 1 b 2 c 3", ":3")
	add("HSET h a 9", ":0")
	add("HGETALL h", "*[$a $9 $b $2 $c $3]")
	add("HSET h x", "-ERR wrong number of arguments for 'hset' command")
	add("HSET h a 1 b", "-ERR wrong number of arguments for 'hset' command")
	add("HMSET h a 1 b", "-ERR wrong number of arguments for 'hmset' command")
	add("HMSET h a 1", "+OK")
	add("SET s x", "+OK")
	add("HSET s a 1", hashWrongType)
	add("HSET s a 1 b", "-ERR wrong number of arguments for 'hset' command")
	add("HSETNX s a 1", hashWrongType)
	add("HSETNX h a 2", ":0")
	add("HSETNX h d 4", ":1")
	add("HGET h a", "$1")
	add("HGET h zz", "(nil)")
	add("HGET nokey a", "(nil)")
	add("HGET s a", hashWrongType)
	add("HMGET h a zz d", "*[$1 (nil) $4]")
	add("HMGET nokey a b", "*[(nil) (nil)]")
	add("HMGET s a", hashWrongType)
	add("HLEN h", ":4")
	add("HLEN nokey", ":0")
	add("HLEN s", hashWrongType)
	add("HSTRLEN h a", ":1")
	add("HSTRLEN h zz", ":0")
	add("HSTRLEN nokey a", ":0")
	add("HSTRLEN s a", hashWrongType)
	add("HEXISTS h a", ":1")
	add("HEXISTS h zz", ":0")
	add("HEXISTS nokey a", ":0")
	add("HEXISTS s a", hashWrongType)
	add("HKEYS h", "*[$a $b $c $d]")
	add("HVALS h", "*[$1 $2 $3 $4]")
	add("HKEYS nokey", "*[]")
	add("HVALS nokey", "*[]")
	add("HGETALL nokey", "*[]")
	add("HKEYS s", hashWrongType)
	add("HVALS s", hashWrongType)
	add("HGETALL s", hashWrongType)
	// HINCRBY.
	add("HINCRBY h a 5", ":6")
	add("HINCRBY h n -3", ":-3")
	add("HINCRBY h a 1.5", "-ERR value is not an integer or out of range")
	add("HINCRBY h a +5", "-ERR value is not an integer or out of range")
	add("HINCRBY h a -0", "-ERR value is not an integer or out of range")
	add("HINCRBY h a 9223372036854775808", "-ERR value is not an integer or out of range")
	add("HINCRBY h a 9223372036854775807", "-ERR increment or decrement would overflow")
	add("HINCRBY h n -9223372036854775806", "-ERR increment or decrement would overflow")
	add("HINCRBY h n -9223372036854775805", ":-9223372036854775808")
	add("HINCRBY s a 1", hashWrongType)
	add("HINCRBY s a x", "-ERR value is not an integer or out of range")
	cases = append(cases, hashCase{[]string{"HSET", "h", "f", "foo", "e", "007", "p", "+5", "sp", " 1"}, ":4"})
	add("HINCRBY h sp 1", "-ERR hash value is not an integer")
	add("HINCRBYFLOAT h sp 1", "-ERR hash value is not a float")
	add("HINCRBY h f 1", "-ERR hash value is not an integer")
	add("HINCRBY h e 1", "-ERR hash value is not an integer")
	add("HINCRBY h p 1", "-ERR hash value is not an integer")
	add("HINCRBY nokey2 a 0", ":0")
	// HINCRBYFLOAT.
	add("HINCRBYFLOAT h a 1.5", "$7.5")
	add("HINCRBYFLOAT h e 1", "$8")
	add("HINCRBYFLOAT h p 0.25", "$5.25")
	add("HINCRBYFLOAT h f 1", "-ERR hash value is not a float")
	add("HINCRBYFLOAT h a inf", "-ERR value is NaN or Infinity")
	add("HINCRBYFLOAT h a -inf", "-ERR value is NaN or Infinity")
	add("HINCRBYFLOAT h a nan", "-ERR value is not a valid float")
	add("HINCRBYFLOAT h a abc", "-ERR value is not a valid float")
	add("HINCRBYFLOAT h a 1e5000", "-ERR value is not a valid float")
	add("HINCRBYFLOAT h nf 0x10", "$16")
	add("HINCRBYFLOAT h nz -0", "$0")
	add("HINCRBYFLOAT h tiny 1e-4940", "$0")
	add("HINCRBYFLOAT h c 0.1", "$3.1")
	add("HSET h big 1e4932 inf inf", ":2")
	add("HINCRBYFLOAT h big 1e4932", "-ERR increment would produce NaN or Infinity")
	add("HINCRBYFLOAT h inf 1", "-ERR increment would produce NaN or Infinity")
	add("HINCRBYFLOAT s a 1", hashWrongType)
	add("HINCRBYFLOAT s a x", "-ERR value is not a valid float")
	add("HINCRBYFLOAT s a inf", "-ERR value is NaN or Infinity")
	add("HDEL h big inf nf nz tiny sp", ":6")
	// HDEL.
	add("HDEL nokey a", ":0")
	add("HDEL s a", hashWrongType)
	add("HSET d a 1 b 2", ":2")
	add("HDEL d a a zz", ":1")
	add("HDEL d b a", ":1")
	add("EXISTS d", ":0")
	// HRANDFIELD argument checks, in Redis's order.
	add("HRANDFIELD nokey", "(nil)")
	add("HRANDFIELD nokey 3", "*[]")
	add("HRANDFIELD nokey -3 WITHVALUES", "*[]")
	add("HRANDFIELD s", hashWrongType)
	add("HRANDFIELD s 2", hashWrongType)
	add("HRANDFIELD s x", "-ERR value is not an integer or out of range")
	add("HRANDFIELD h abc", "-ERR value is not an integer or out of range")
	add("HRANDFIELD h -9223372036854775808", "-ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
	add("HRANDFIELD h 5 withvalue", "-ERR syntax error")
	add("HRANDFIELD h 5 WITHVALUES x", "-ERR syntax error")
	add("HRANDFIELD h -9223372036854775807 WITHVALUES", "-ERR value is out of range")
	add("HRANDFIELD h 4611686018427387904 WITHVALUES", "-ERR value is out of range")
	add("HRANDFIELD h -4611686018427387904 WITHVALUES", "-ERR value is out of range")
	add("HRANDFIELD h 0", "*[]")
	add("HRANDFIELD h 0 WITHVALUES", "*[]")
	add("HRANDFIELD h 4611686018427387903 withvalues", "*[$a $7.5 $b $2 $c $3.1 $d $4 $n $-9223372036854775808 $f $foo $e $8 $p $5.25]")
	add("HRANDFIELD h 100", "*[$a $b $c $d $n $f $e $p]")
	// kvd's bound on repetition replies (Redis would exhaust its memory).
	add("HRANDFIELD h -4611686018427387903", "-ERR reply too large: the count would make the reply exceed 512mb")
	add("HRANDFIELD h -4611686018427387903 WITHVALUES", "-ERR reply too large: the count would make the reply exceed 512mb")
	add("HSET one a 1", ":1")
	add("HRANDFIELD one -100000000", "-ERR reply too large: the count would make the reply exceed 512mb")
	add("HRANDFIELD one -3", "*[$a $a $a]")
	add("HRANDFIELD one -2 WITHVALUES", "*[$a $1 $a $1]")
	add("HRANDFIELD one 1 WITHVALUES", "*[$a $1]")
	add("HRANDFIELD one 1", "*[$a]")
	add("HRANDFIELD one", "$a")
	// HSCAN.
	add("HSCAN nokey 0", "*[$0 *[]]")
	add("HSCAN nokey 0 bad options", "*[$0 *[]]")
	add("HSCAN nokey x", "-ERR invalid cursor")
	add("HSCAN s 0", hashWrongType)
	add("HSCAN s 0 bad", hashWrongType)
	add("HSCAN h x", "-ERR invalid cursor")
	cases = append(cases, hashCase{[]string{"HSCAN", "h", " 1"}, "-ERR invalid cursor"})
	add("HSCAN h 0 foo", "-ERR syntax error")
	add("HSCAN h 0 MATCH", "-ERR syntax error")
	add("HSCAN h 0 COUNT 0", "-ERR syntax error")
	add("HSCAN h 0 COUNT -1", "-ERR syntax error")
	add("HSCAN h 0 COUNT x", "-ERR value is not an integer or out of range")
	add("HSCAN h 0 TYPE string", "-ERR syntax error")
	add("HSCAN h 0 NOVALUES", "-ERR syntax error")
	add("HSCAN one 0", "*[$0 *[$a $1]]")
	add("HSCAN one 12345 COUNT 1", "*[$0 *[$a $1]]")
	add("HSCAN one -1", "*[$0 *[$a $1]]")
	add("HSCAN h 0 MATCH [ab] COUNT 1", "*[$0 *[$a $7.5 $b $2]]")
	add("HSCAN h 0 match * count 1000", "*[$0 *[$a $7.5 $b $2 $c $3.1 $d $4 $n $-9223372036854775808 $f $foo $e $8 $p $5.25]]")
	// Arity.
	add("HGET h", "-ERR wrong number of arguments for 'hget' command")
	add("HDEL h", "-ERR wrong number of arguments for 'hdel' command")
	add("HSCAN h", "-ERR wrong number of arguments for 'hscan' command")
	add("HRANDFIELD", "-ERR wrong number of arguments for 'hrandfield' command")
	add("HINCRBY h a", "-ERR wrong number of arguments for 'hincrby' command")
	hashRun(t, r, cases)

	// RESP3 shapes.
	if got := r.Do("HELLO", "3"); !strings.HasPrefix(got, "%[") {
		t.Fatalf("HELLO 3: %s", got)
	}
	hashRun(t, r, []hashCase{
		{hashArgs("HGETALL one"), "%[$a $1]"},
		{hashArgs("HGETALL nokey"), "%[]"},
		{hashArgs("HKEYS one"), "*[$a]"},
		{hashArgs("HVALS nokey"), "*[]"},
		{hashArgs("HGET one zz"), "(nil)"},
		{hashArgs("HMGET one a zz"), "*[$1 (nil)]"},
		{hashArgs("HEXISTS one a"), ":1"},
		{hashArgs("HRANDFIELD nokey"), "(nil)"},
		{hashArgs("HRANDFIELD nokey 2 WITHVALUES"), "*[]"},
		{hashArgs("HRANDFIELD one"), "$a"},
		{hashArgs("HRANDFIELD one 1"), "*[$a]"},
		{hashArgs("HRANDFIELD one 1 WITHVALUES"), "*[*[$a $1]]"},
		{hashArgs("HRANDFIELD one -2 WITHVALUES"), "*[*[$a $1] *[$a $1]]"},
		{hashArgs("HRANDFIELD one 0 WITHVALUES"), "*[]"},
		{hashArgs("HRANDFIELD d 3 WITHVALUES"), "*[]"},
		{hashArgs("HSET two a 1 b 2"), ":2"},
		{hashArgs("HRANDFIELD two 5 WITHVALUES"), "*[*[$a $1] *[$b $2]]"},
		{hashArgs("HRANDFIELD two 5"), "*[$a $b]"},
		{hashArgs("HSCAN two 0"), "*[$0 *[$a $1 $b $2]]"},
		{hashArgs("HSCAN nokey 0"), "*[$0 *[]]"},
		{hashArgs("HINCRBYFLOAT two a 0.5"), "$1.5"},
		{hashArgs("HINCRBY two b 1"), ":3"},
	})
}

// hashEncoding reads OBJECT ENCODING through a raw connection.
func hashEncoding(t *testing.T, r *servertest.Raw, key string) string {
	t.Helper()
	return r.Do("OBJECT", "ENCODING", key)
}

// TestHashEncodingTransitions follows listpack -> hashtable conversions
// with CONFIG SET hash-max-listpack-entries/value.
func TestHashEncodingTransitions(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(3))
	r := s.Raw()
	long := strings.Repeat("x", 65)
	at64 := strings.Repeat("y", 64)
	hashRun(t, r, []hashCase{
		{hashArgs("CONFIG SET hash-max-listpack-entries 2"), "+OK"},
		{hashArgs("HSET h a 1 b 2"), ":2"},
		{hashArgs("OBJECT ENCODING h"), "$listpack"},
		{hashArgs("HSET h a 3"), ":0"},
		{hashArgs("OBJECT ENCODING h"), "$listpack"},
		{hashArgs("HSET h c 3"), ":1"},
		{hashArgs("OBJECT ENCODING h"), "$hashtable"},
		// One-way: back under the limit, still a hashtable.
		{hashArgs("HDEL h a b"), ":2"},
		{hashArgs("OBJECT ENCODING h"), "$hashtable"},
		{hashArgs("HGETALL h"), "*[$c $3]"},
		{hashArgs("CONFIG SET hash-max-listpack-entries 0"), "+OK"},
		{hashArgs("HSETNX h0 a 1"), ":1"},
		{hashArgs("OBJECT ENCODING h0"), "$hashtable"},
		{hashArgs("CONFIG SET hash-max-ziplist-entries 128"), "+OK"},
		{hashArgs("CONFIG GET hash-max-listpack-entries"), "*[$hash-max-listpack-entries $128]"},
		// Value length: 64 bytes fit, 65 do not; field or value, on
		// insert or update; HSETNX of an existing field converts nothing.
		{[]string{"HSET", "v1", "a", at64}, ":1"},
		{hashArgs("OBJECT ENCODING v1"), "$listpack"},
		{[]string{"HSET", "v1", "a", long}, ":0"},
		{hashArgs("OBJECT ENCODING v1"), "$hashtable"},
		{[]string{"HSET", "v2", long, "1"}, ":1"},
		{hashArgs("OBJECT ENCODING v2"), "$hashtable"},
		{hashArgs("HSET v3 a 1"), ":1"},
		{[]string{"HSETNX", "v3", "a", long}, ":0"},
		{hashArgs("OBJECT ENCODING v3"), "$listpack"},
		{[]string{"HSETNX", "v3", "b", long}, ":1"},
		{hashArgs("OBJECT ENCODING v3"), "$hashtable"},
		{hashArgs("HSET v4 a 1"), ":1"},
		{[]string{"HINCRBY", "v4", long, "1"}, ":1"},
		{hashArgs("OBJECT ENCODING v4"), "$hashtable"},
		{hashArgs("HSET v5 a 1"), ":1"},
		{hashArgs("HINCRBYFLOAT v5 a 1e300"), "$" + "1000000000000000000008997324079559193870523944273290747938260082321265646596180935755849152083750497190350372508614274835903592556184672983913096260520748646287327135641843653294084255107606016789726652932370030551382947620994540294772781889620606179267611627097410650567187386105690089424915104006144"},
		{hashArgs("OBJECT ENCODING v5"), "$hashtable"},
		{hashArgs("CONFIG SET hash-max-listpack-value 0"), "+OK"},
		{[]string{"HSET", "v6", "", ""}, ":1"},
		{hashArgs("OBJECT ENCODING v6"), "$listpack"},
		{[]string{"HSET", "v6", "", "x"}, ":0"},
		{hashArgs("OBJECT ENCODING v6"), "$hashtable"},
		{hashArgs("CONFIG SET hash-max-ziplist-value 64"), "+OK"},
		// Listpack order: updates keep their place, a re-added field goes
		// last.
		{hashArgs("HSET o a 1 b 2 c 3"), ":3"},
		{hashArgs("HSET o a x"), ":0"},
		{hashArgs("HDEL o b"), ":1"},
		{hashArgs("HSET o b y"), ":1"},
		{hashArgs("HINCRBY o c 1"), ":4"},
		{hashArgs("HGETALL o"), "*[$a $x $c $4 $b $y]"},
		{hashArgs("HKEYS o"), "*[$a $c $b]"},
		{hashArgs("HVALS o"), "*[$x $4 $y]"},
		// COPY keeps the encoding and copies deeply.
		{hashArgs("COPY o o2"), ":1"},
		{hashArgs("HSET o2 a changed"), ":0"},
		{hashArgs("HGET o a"), "$x"},
		{hashArgs("OBJECT ENCODING o2"), "$listpack"},
		{hashArgs("COPY v1 v1c"), ":1"},
		{hashArgs("OBJECT ENCODING v1c"), "$hashtable"},
		{hashArgs("HDEL v1c a"), ":1"},
		{hashArgs("HLEN v1"), ":1"},
		{hashArgs("EXISTS v1c"), ":0"},
	})

	// Converting a bigger listpack with the default limits.
	c := s.Client(2)
	ctx := context.Background()
	for i := 0; i < 128; i++ {
		c.HSet(ctx, "big", fmt.Sprintf("f%03d", i), i)
	}
	if e := hashEncoding(t, r, "big"); e != "$listpack" {
		t.Fatalf("128 entries: %s", e)
	}
	r.Do("CONFIG", "SET", "hash-max-listpack-entries", "128")
	c.HSet(ctx, "big", "f128", 128)
	if e := hashEncoding(t, r, "big"); e != "$hashtable" {
		t.Fatalf("129 entries: %s", e)
	}
	if n, _ := c.HLen(ctx, "big").Result(); n != 129 {
		t.Fatalf("HLEN after conversion %d", n)
	}
	for i := 0; i <= 128; i++ {
		if v, _ := c.HGet(ctx, "big", fmt.Sprintf("f%03d", i)).Result(); v != strconv.Itoa(i) {
			t.Fatalf("f%03d = %q after conversion", i, v)
		}
	}
}

// TestHashExpiryKept checks that writes keep the key's TTL and that an
// emptied hash disappears with it.
func TestHashExpiryKept(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	hashRun(t, r, []hashCase{
		{hashArgs("HSET h a 1"), ":1"},
		{hashArgs("EXPIRE h 100"), ":1"},
		{hashArgs("HSET h b 2"), ":1"},
		{hashArgs("HINCRBY h a 1"), ":2"},
		{hashArgs("HINCRBYFLOAT h a 1"), "$3"},
		{hashArgs("HSETNX h c 1"), ":1"},
		{hashArgs("HDEL h c"), ":1"},
		{hashArgs("TTL h"), ":100"},
		{hashArgs("HDEL h a b"), ":2"},
		{hashArgs("TTL h"), ":-2"},
	})
}

// TestHashAccessTime checks that reads and writes refresh the access time
// (OBJECT IDLETIME), writes even when they change nothing, as Redis's
// lookupKeyWrite does.
func TestHashAccessTime(t *testing.T) {
	now := new(atomic.Int64)
	now.Store(1_700_000_000_000)
	s := servertest.Start(t, servertest.Clock(now.Load))
	r := s.Raw()
	idle := func(step string, cmd ...string) {
		t.Helper()
		now.Add(50_000)
		if got := r.Do("OBJECT", "IDLETIME", "h"); got != ":50" {
			t.Fatalf("%s: idle %s before", step, got)
		}
		r.Do(cmd...)
		if got := r.Do("OBJECT", "IDLETIME", "h"); got != ":0" {
			t.Fatalf("%s: idle %s after %v", step, got, cmd)
		}
	}
	r.Do("HSET", "h", "a", "1")
	idle("read", "HGET", "h", "zz")
	idle("scan", "HSCAN", "h", "0")
	idle("write", "HSET", "h", "b", "2")
	idle("no-op delete", "HDEL", "h", "zz")
	idle("no-op setnx", "HSETNX", "h", "a", "9")
	idle("failed incr", "HINCRBY", "h", "a", "9223372036854775807")
}

// TestHashScanLargeResume scans a large hash in small steps while fields
// are added, changed and deleted between calls: every field present for
// the whole scan comes back exactly once.
func TestHashScanLargeResume(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := s.Client(proto)
		key := fmt.Sprintf("big%d", proto)
		const n = 2000
		args := []any{}
		for i := 0; i < n; i++ {
			args = append(args, fmt.Sprintf("f%d", i), i)
		}
		c.HSet(ctx, key, args...)
		if e, _ := c.ObjectEncoding(ctx, key).Result(); e != "hashtable" {
			t.Fatalf("encoding %s", e)
		}
		rng := rand.New(rand.NewPCG(7, uint64(proto)))
		seen := map[string]int{}
		var cursor uint64
		calls := 0
		added := n
		for {
			count := int64(1 + rng.IntN(30))
			keys, next, err := c.HScan(ctx, key, cursor, "", count).Result()
			if err != nil {
				t.Fatal(err)
			}
			if int64(len(keys)/2) > count {
				t.Fatalf("HSCAN COUNT %d returned %d fields", count, len(keys)/2)
			}
			for i := 0; i < len(keys); i += 2 {
				seen[keys[i]]++
			}
			calls++
			cursor = next
			if cursor == 0 {
				break
			}
			if calls > 10*n {
				t.Fatal("scan does not end")
			}
			// Churn the odd fields, add fresh ones.
			for k := 0; k < 8; k++ {
				f := fmt.Sprintf("f%d", 1+2*rng.IntN(n/2))
				if rng.IntN(2) == 0 {
					c.HDel(ctx, key, f)
				} else {
					c.HSet(ctx, key, f, "w")
				}
			}
			c.HSet(ctx, key, fmt.Sprintf("f%d", added), "new")
			added++
		}
		for i := 0; i < n; i += 2 {
			if k := seen[fmt.Sprintf("f%d", i)]; k != 1 {
				t.Fatalf("resp%d: stable field f%d returned %d times", proto, i, k)
			}
		}
		for i := n; i < added; i++ {
			if k := seen[fmt.Sprintf("f%d", i)]; k > 1 {
				t.Fatalf("resp%d: added field f%d returned %d times", proto, i, k)
			}
		}
		if calls < 50 {
			t.Fatalf("resp%d: only %d calls: the cursor did not resume", proto, calls)
		}

		// MATCH filters the examined fields; COUNT bounds how many are
		// examined, so a call may return nothing and still go on.
		got := map[string]bool{}
		cursor = 0
		for {
			keys, next, _ := c.HScan(ctx, key, cursor, "f1?", 7).Result()
			for i := 0; i < len(keys); i += 2 {
				got[keys[i]] = true
			}
			if cursor = next; cursor == 0 {
				break
			}
		}
		var want []string
		for i := 10; i < 20; i++ {
			if i%2 == 0 || c.HExists(ctx, key, fmt.Sprintf("f%d", i)).Val() {
				want = append(want, fmt.Sprintf("f%d", i))
			}
		}
		var gotList []string
		for f := range got {
			gotList = append(gotList, f)
		}
		sort.Strings(gotList)
		sort.Strings(want)
		if !reflect.DeepEqual(gotList, want) {
			t.Fatalf("HSCAN MATCH f1? = %v, want %v", gotList, want)
		}
	}
}

// TestHashRandFieldLarge checks HRANDFIELD on both encodings: distinct
// fields for positive counts (each case of Redis's algorithm), repetition
// and coverage for negative ones.
func TestHashRandFieldLarge(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := s.Client(proto)
		for _, size := range []int{5, 100, 1000} {
			key := fmt.Sprintf("r%d-%d", proto, size)
			want := map[string]string{}
			for i := 0; i < size; i++ {
				f := fmt.Sprintf("f%d", i)
				want[f] = fmt.Sprintf("v%d", i)
				c.HSet(ctx, key, f, want[f])
			}
			// Some deletions leave holes in a hashtable.
			for i := 0; i < size; i += 4 {
				f := fmt.Sprintf("f%d", i)
				c.HDel(ctx, key, f)
				delete(want, f)
			}
			n := len(want)
			for _, count := range []int{1, 2, n / 3, n/3 + 1, n - 1, n, n + 5} {
				if count <= 0 {
					continue
				}
				kv, err := c.HRandFieldWithValues(ctx, key, count).Result()
				if err != nil {
					t.Fatal(err)
				}
				if len(kv) != min(count, n) {
					t.Fatalf("size %d count %d: %d pairs", n, count, len(kv))
				}
				uniq := map[string]bool{}
				for _, p := range kv {
					if want[p.Key] != p.Value || uniq[p.Key] {
						t.Fatalf("size %d count %d: bad or repeated pair %v", n, count, p)
					}
					uniq[p.Key] = true
				}
			}
			// Negative: repetitions allowed, every field eventually drawn.
			fs, err := c.HRandField(ctx, key, -20*n).Result()
			if err != nil {
				t.Fatal(err)
			}
			hits := map[string]int{}
			for _, f := range fs {
				if _, ok := want[f]; !ok {
					t.Fatalf("HRANDFIELD returned %q", f)
				}
				hits[f]++
			}
			if len(fs) != 20*n || len(hits) != n {
				t.Fatalf("size %d: %d draws, %d distinct", n, len(fs), len(hits))
			}
		}
	}
}

// ---- randomized model test ----

type hashModel struct {
	m     map[string]string
	order []string // insertion order, exact while small
	large bool
}

func (h *hashModel) set(f, v string, maxEntries, maxValue int) bool {
	if !h.large && (len(f) > maxValue || len(v) > maxValue) {
		h.large = true
	}
	_, had := h.m[f]
	h.m[f] = v
	if !had {
		h.order = append(h.order, f)
		if !h.large && len(h.order) > maxEntries {
			h.large = true
		}
	}
	return !had
}

func (h *hashModel) del(f string) bool {
	if _, ok := h.m[f]; !ok {
		return false
	}
	delete(h.m, f)
	h.order = slices.DeleteFunc(h.order, func(o string) bool { return o == f })
	return true
}

// hashModelInt is Redis's string2ll: canonical decimal only.
func hashModelInt(s string) (int64, bool) {
	v, err := strconv.ParseInt(s, 10, 64)
	return v, err == nil && strconv.FormatInt(v, 10) == s
}

// TestHashModel applies thousands of random operations to kvd, through
// go-redis with RESP2 and RESP3 clients in turn, and to an in-test model,
// and compares every reply. Small limits make keys cross the
// listpack/hashtable boundary often.
func TestHashModel(t *testing.T) {
	const ops = 12000
	const maxEntries, maxValue = 12, 16
	s := servertest.Start(t, servertest.Workers(4))
	ctx := context.Background()
	clients := []*redis.Client{s.Client(2), s.Client(3)}
	if err := clients[0].ConfigSet(ctx, "hash-max-listpack-entries", strconv.Itoa(maxEntries)).Err(); err != nil {
		t.Fatal(err)
	}
	clients[0].ConfigSet(ctx, "hash-max-listpack-value", strconv.Itoa(maxValue))
	rng := rand.New(rand.NewPCG(2024, 7))
	keys := []string{"h0", "h1", "h2", "h3", "h4", "h5", "str"}
	model := map[string]*hashModel{}
	clients[0].Set(ctx, "str", "a string", 0)
	values := []string{"x", "hello", "", "12", "-3", "1.5", "007", "+5", "1e2", "0", strings.Repeat("L", maxValue+1)}
	field := func() string {
		if rng.IntN(40) == 0 {
			return strings.Repeat("F", maxValue+1)
		}
		return fmt.Sprintf("f%d", rng.IntN(30))
	}
	value := func() string {
		if rng.IntN(3) == 0 {
			return strconv.Itoa(rng.IntN(200) - 100)
		}
		return values[rng.IntN(len(values))]
	}
	get := func(k string) *hashModel { return model[k] }
	create := func(k string) *hashModel {
		if model[k] == nil {
			model[k] = &hashModel{m: map[string]string{}}
		}
		return model[k]
	}
	dropIfEmpty := func(k string) {
		if h := model[k]; h != nil && len(h.m) == 0 {
			delete(model, k)
		}
	}
	const wrongType = "WRONGTYPE Operation against a key holding the wrong kind of value"
	checkErr := func(i int, what string, err error, want string) {
		t.Helper()
		if err == nil || err.Error() != want {
			t.Fatalf("op %d %s: err %v, want %q", i, what, err, want)
		}
	}
	counts := map[string]int{}
	for i := 0; i < ops; i++ {
		c := clients[i%2]
		k := keys[rng.IntN(len(keys))]
		isStr := k == "str"
		h := get(k)
		op := rng.IntN(20)
		switch op {
		case 0, 1, 2: // HSET with 1-3 pairs
			counts["hset"]++
			var args []any
			var pairs [][2]string
			for j := 0; j <= rng.IntN(3); j++ {
				f, v := field(), value()
				args = append(args, f, v)
				pairs = append(pairs, [2]string{f, v})
			}
			n, err := c.HSet(ctx, k, args...).Result()
			if isStr {
				checkErr(i, "HSET", err, wrongType)
				break
			}
			h = create(k)
			want := 0
			for _, p := range pairs {
				if h.set(p[0], p[1], maxEntries, maxValue) {
					want++
				}
			}
			if err != nil || n != int64(want) {
				t.Fatalf("op %d HSET: %d %v, want %d", i, n, err, want)
			}
		case 3: // HSETNX
			counts["hsetnx"]++
			f, v := field(), value()
			ok, err := c.HSetNX(ctx, k, f, v).Result()
			if isStr {
				checkErr(i, "HSETNX", err, wrongType)
				break
			}
			want := true
			if h != nil {
				_, had := h.m[f]
				want = !had
			}
			if want {
				create(k).set(f, v, maxEntries, maxValue)
			}
			if err != nil || ok != want {
				t.Fatalf("op %d HSETNX %s: %v %v, want %v", i, f, ok, err, want)
			}
		case 4: // HGET
			counts["hget"]++
			f := field()
			v, err := c.HGet(ctx, k, f).Result()
			if isStr {
				checkErr(i, "HGET", err, wrongType)
				break
			}
			wv, ok := "", false
			if h != nil {
				wv, ok = h.m[f]
			}
			if ok != (err == nil) || v != wv || (err != nil && err != redis.Nil) {
				t.Fatalf("op %d HGET %s %s: %q %v, want %q %v", i, k, f, v, err, wv, ok)
			}
		case 5: // HMGET
			counts["hmget"]++
			fs := []string{field(), field(), field()}
			got, err := c.HMGet(ctx, k, fs...).Result()
			if isStr {
				checkErr(i, "HMGET", err, wrongType)
				break
			}
			want := make([]any, len(fs))
			for j, f := range fs {
				if h != nil {
					if v, ok := h.m[f]; ok {
						want[j] = v
					}
				}
			}
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Fatalf("op %d HMGET: %v %v, want %v", i, got, err, want)
			}
		case 6, 7: // HDEL 1-3 fields
			counts["hdel"]++
			fs := []string{field()}
			for j := 0; j < rng.IntN(3); j++ {
				fs = append(fs, field())
			}
			n, err := c.HDel(ctx, k, fs...).Result()
			if isStr {
				checkErr(i, "HDEL", err, wrongType)
				break
			}
			want := 0
			if h != nil {
				for _, f := range fs {
					if h.del(f) {
						want++
					}
				}
				dropIfEmpty(k)
			}
			if err != nil || n != int64(want) {
				t.Fatalf("op %d HDEL: %d %v, want %d", i, n, err, want)
			}
		case 8: // HLEN, HSTRLEN, HEXISTS
			counts["hlen/hstrlen/hexists"]++
			f := field()
			n, err1 := c.HLen(ctx, k).Result()
			sl, err2 := c.Do(ctx, "HSTRLEN", k, f).Int64()
			ex, err3 := c.HExists(ctx, k, f).Result()
			if isStr {
				checkErr(i, "HLEN", err1, wrongType)
				checkErr(i, "HSTRLEN", err2, wrongType)
				checkErr(i, "HEXISTS", err3, wrongType)
				break
			}
			var wn, wsl int
			var wex bool
			if h != nil {
				wn = len(h.m)
				v, ok := h.m[f]
				wsl, wex = len(v), ok
			}
			if err1 != nil || err2 != nil || err3 != nil || n != int64(wn) || sl != int64(wsl) || ex != wex {
				t.Fatalf("op %d HLEN/HSTRLEN/HEXISTS: %d %d %v (%v %v %v), want %d %d %v", i, n, sl, ex, err1, err2, err3, wn, wsl, wex)
			}
		case 9, 10: // HKEYS / HVALS / HGETALL (order exact while small)
			counts["hkeys/hvals/hgetall"]++
			ks, err1 := c.HKeys(ctx, k).Result()
			vs, err2 := c.HVals(ctx, k).Result()
			all, err3 := c.HGetAll(ctx, k).Result()
			if isStr {
				checkErr(i, "HKEYS", err1, wrongType)
				checkErr(i, "HVALS", err2, wrongType)
				checkErr(i, "HGETALL", err3, wrongType)
				break
			}
			if err1 != nil || err2 != nil || err3 != nil {
				t.Fatalf("op %d: %v %v %v", i, err1, err2, err3)
			}
			wk, wv := []string{}, []string{}
			wall := map[string]string{}
			if h != nil {
				for _, f := range h.order {
					wk = append(wk, f)
					wv = append(wv, h.m[f])
				}
				for f, v := range h.m {
					wall[f] = v
				}
			}
			if h != nil && h.large {
				// Hashtable order is unspecified: compare as sets.
				sort.Strings(wk)
				sort.Strings(wv)
				ks, vs = slices.Clone(ks), slices.Clone(vs)
				sort.Strings(ks)
				sort.Strings(vs)
			}
			if !reflect.DeepEqual(ks, wk) || !reflect.DeepEqual(vs, wv) || !reflect.DeepEqual(all, wall) {
				t.Fatalf("op %d %s: HKEYS %v HVALS %v HGETALL %v, want %v %v %v", i, k, ks, vs, all, wk, wv, wall)
			}
		case 11, 12: // HINCRBY
			counts["hincrby"]++
			f := field()
			incr := int64(rng.IntN(201) - 100)
			if f == "f0" { // the overflow field
				incr = []int64{math.MaxInt64, math.MinInt64, 1, -1, math.MaxInt64 / 2}[rng.IntN(5)]
			}
			n, err := c.HIncrBy(ctx, k, f, incr).Result()
			if isStr {
				checkErr(i, "HINCRBY", err, wrongType)
				break
			}
			var cur int64
			if h != nil {
				if v, ok := h.m[f]; ok {
					var isInt bool
					if cur, isInt = hashModelInt(v); !isInt {
						checkErr(i, "HINCRBY "+v, err, "ERR hash value is not an integer")
						break
					}
				}
			}
			if (incr < 0 && cur < 0 && incr < math.MinInt64-cur) || (incr > 0 && cur > 0 && incr > math.MaxInt64-cur) {
				checkErr(i, "HINCRBY overflow", err, "ERR increment or decrement would overflow")
				break
			}
			cur += incr
			create(k).set(f, strconv.FormatInt(cur, 10), maxEntries, maxValue)
			if err != nil || n != cur {
				t.Fatalf("op %d HINCRBY %s %s %d: %d %v, want %d", i, k, f, incr, n, err, cur)
			}
		case 13: // HINCRBYFLOAT with exactly representable steps
			counts["hincrbyfloat"]++
			f := field()
			if f == "f0" {
				f = "f1" // keep the overflow field integer-sized
			}
			incr := []float64{0.5, -1.25, 3, 0.25, -0.75}[rng.IntN(5)]
			got, err := c.Do(ctx, "HINCRBYFLOAT", k, f, strconv.FormatFloat(incr, 'f', -1, 64)).Text()
			if isStr {
				checkErr(i, "HINCRBYFLOAT", err, wrongType)
				break
			}
			var cur float64
			if h != nil {
				if v, ok := h.m[f]; ok {
					var perr error
					cur, perr = strconv.ParseFloat(v, 64)
					if perr != nil {
						checkErr(i, "HINCRBYFLOAT "+v, err, "ERR hash value is not a float")
						break
					}
				}
			}
			cur += incr
			want := strconv.FormatFloat(cur, 'f', -1, 64)
			if cur == 0 {
				want = "0"
			}
			create(k).set(f, want, maxEntries, maxValue)
			if err != nil || got != want {
				t.Fatalf("op %d HINCRBYFLOAT %s %s %v: %q %v, want %q", i, k, f, incr, got, err, want)
			}
		case 14, 15: // HRANDFIELD
			counts["hrandfield"]++
			count := rng.IntN(30) - 15
			kv, err := c.HRandFieldWithValues(ctx, k, count).Result()
			if isStr {
				checkErr(i, "HRANDFIELD", err, wrongType)
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			size := 0
			if h != nil {
				size = len(h.m)
			}
			wantLen := 0
			switch {
			case size == 0 || count == 0:
			case count < 0:
				wantLen = -count
			default:
				wantLen = min(count, size)
			}
			if len(kv) != wantLen {
				t.Fatalf("op %d HRANDFIELD %d on %d fields: %d pairs", i, count, size, len(kv))
			}
			uniq := map[string]bool{}
			for _, p := range kv {
				if v, ok := h.m[p.Key]; !ok || v != p.Value {
					t.Fatalf("op %d HRANDFIELD pair %v not in hash", i, p)
				}
				if count > 0 && uniq[p.Key] {
					t.Fatalf("op %d HRANDFIELD %d repeated %s", i, count, p.Key)
				}
				uniq[p.Key] = true
			}
			// A positive count covering the hash returns it in order.
			if count >= size && size > 0 && !h.large {
				for j, p := range kv {
					if p.Key != h.order[j] {
						t.Fatalf("op %d HRANDFIELD %d: order %v, want %v", i, count, kv, h.order)
					}
				}
			}
		case 16: // HSCAN, whole walk
			counts["hscan"]++
			got := map[string]string{}
			var cursor uint64
			for steps := 0; ; steps++ {
				ks, next, err := c.HScan(ctx, k, cursor, "", int64(1+rng.IntN(5))).Result()
				if isStr {
					checkErr(i, "HSCAN", err, wrongType)
					break
				}
				if err != nil || steps > 1000 {
					t.Fatalf("op %d HSCAN: %v after %d steps", i, err, steps)
				}
				for j := 0; j < len(ks); j += 2 {
					if _, dup := got[ks[j]]; dup {
						t.Fatalf("op %d HSCAN returned %s twice", i, ks[j])
					}
					got[ks[j]] = ks[j+1]
				}
				if h != nil && !h.large && next != 0 {
					t.Fatalf("op %d HSCAN of a listpack returned cursor %d", i, next)
				}
				if cursor = next; cursor == 0 {
					break
				}
			}
			if isStr {
				break
			}
			want := map[string]string{}
			if h != nil {
				want = h.m
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("op %d HSCAN %s = %v, want %v", i, k, got, want)
			}
		case 17: // OBJECT ENCODING, TYPE, EXISTS
			counts["encoding"]++
			e, err := c.ObjectEncoding(ctx, k).Result()
			switch {
			case isStr:
			case h == nil:
				if err != redis.Nil {
					t.Fatalf("op %d OBJECT ENCODING of missing %s: %q %v", i, k, e, err)
				}
				if n, _ := c.Exists(ctx, k).Result(); n != 0 {
					t.Fatalf("op %d: empty hash %s exists", i, k)
				}
			default:
				want := "listpack"
				if h.large {
					want = "hashtable"
				}
				if e != want {
					t.Fatalf("op %d OBJECT ENCODING %s = %q, want %q (%d fields)", i, k, e, want, len(h.m))
				}
				if typ, _ := c.Type(ctx, k).Result(); typ != "hash" {
					t.Fatalf("op %d TYPE %s = %s", i, k, typ)
				}
			}
		case 18: // DEL now and then: the next write starts a new listpack
			if rng.IntN(4) == 0 && !isStr {
				counts["del"]++
				c.Del(ctx, k)
				delete(model, k)
			}
		case 19: // COPY to a scratch key and compare
			if isStr || h == nil {
				break
			}
			counts["copy"]++
			c.Del(ctx, "scratch")
			if n, err := c.Copy(ctx, k, "scratch", 0, false).Result(); err != nil || n != 1 {
				t.Fatalf("op %d COPY: %d %v", i, n, err)
			}
			c.HSet(ctx, "scratch", "only-in-copy", "1")
			if ok, _ := c.HExists(ctx, k, "only-in-copy").Result(); ok {
				t.Fatalf("op %d: COPY shares the hash", i)
			}
		}
	}
	t.Logf("%d operations: %v", ops, counts)
	for _, op := range []string{"hset", "hdel", "hincrby", "hincrbyfloat", "hrandfield", "hscan", "encoding"} {
		if counts[op] == 0 {
			t.Errorf("operation %s never ran", op)
		}
	}
	large := 0
	for _, h := range model {
		if h.large {
			large++
		}
	}
	t.Logf("keys at the end: %d (%d hashtable)", len(model), large)
}

// ---- cross-check with a real redis-server 7.0.15 ----

// hashRedis starts a real redis-server on a unix socket (skipped when it
// is not installed, unless KVD_REQUIRE_TOOLS=1) and returns a connection.
func hashRedis(t *testing.T) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", redistest.Start(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// hashConn sends commands and reads whole raw replies.
type hashConn struct {
	c net.Conn
	r *bufio.Reader
}

func (h *hashConn) do(t *testing.T, args ...string) []byte {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	h.c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := h.c.Write([]byte(b.String())); err != nil {
		t.Fatal(err)
	}
	out, err := redistest.ReadRaw(h.r)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(out)
}

// hashShape blanks the contents of bulk strings, keeping every type byte
// and length header but the bulk lengths: the shape of a reply whose
// content is random.
func hashShape(b []byte) string {
	var out strings.Builder
	br := bufio.NewReader(strings.NewReader(string(b)))
	var walk func()
	walk = func() {
		line, err := br.ReadString('\n')
		if err != nil {
			return
		}
		n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
		switch line[0] {
		case '$':
			out.WriteString("$? ")
			if n >= 0 {
				io.CopyN(io.Discard, br, int64(n+2))
			}
		case '*', '%', '~':
			out.WriteString(strings.TrimSpace(line) + "[")
			if line[0] == '%' {
				n *= 2
			}
			for i := 0; i < n; i++ {
				walk()
			}
			out.WriteString("] ")
		default:
			out.WriteString(strings.TrimSpace(line) + " ")
		}
	}
	walk()
	return out.String()
}

// TestHashVsRedis replays scripts on kvd and on redis-server 7.0.15 and
// compares the replies byte for byte (the shape only for random replies):
// HGETALL order of listpacks, HRANDFIELD shapes in RESP2 and RESP3,
// encodings, errors.
func TestHashVsRedis(t *testing.T) {
	rc := hashRedis(t)
	real := &hashConn{c: rc, r: bufio.NewReader(rc)}
	s := servertest.Start(t, servertest.Workers(4))
	kc, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	ours := &hashConn{c: kc, r: bufio.NewReader(kc)}

	long := strings.Repeat("z", 65)
	script := `
HSET h a 1 b 2 c 3
HSET h a 9 d 4
HDEL h b
HSET h b 22
HINCRBY h c 5
HINCRBYFLOAT h d 0.1
HSETNX h e 5
HGETALL h
HKEYS h
HVALS h
HSCAN h 0
HSCAN h 0 MATCH [a-c] COUNT 1
HRANDFIELD h 5
HRANDFIELD h 5 WITHVALUES
HRANDFIELD h 100 WITHVALUES
HRANDFIELD h
HRANDFIELD h 2
HRANDFIELD h 2 WITHVALUES
HRANDFIELD h -2
HRANDFIELD h -7 WITHVALUES
HRANDFIELD h 1 WITHVALUES
HMSET h f 6 a 0
HGETALL h
HSET one k v
HRANDFIELD one
HRANDFIELD one 1
HRANDFIELD one 1 WITHVALUES
HRANDFIELD one -3
HRANDFIELD one -3 WITHVALUES
HRANDFIELD one 0 WITHVALUES
HRANDFIELD nokey
HRANDFIELD nokey 2 WITHVALUES
HRANDFIELD nokey -2
HRANDFIELD h -9223372036854775808
HRANDFIELD h 5 WITHVALUES x
HRANDFIELD h -9223372036854775807 WITHVALUES
HRANDFIELD h 4611686018427387903 WITHVALUES
HGETALL nokey
HMGET h a zz f
OBJECT ENCODING h
CONFIG SET hash-max-listpack-entries 3
HSET e3 a 1 b 2 c 3
OBJECT ENCODING e3
HSET e3 d 4
OBJECT ENCODING e3
HDEL e3 a b c
OBJECT ENCODING e3
HSETNX e0 x ` + long + `
OBJECT ENCODING e0
CONFIG SET hash-max-listpack-entries 128
HSET lv a 1
HSETNX lv a ` + long + `
OBJECT ENCODING lv
HSET lv b ` + long + `
OBJECT ENCODING lv
HSET s1 a 1
HINCRBYFLOAT s1 a 1e300
OBJECT ENCODING s1
HINCRBYFLOAT s1 b 2.5e-3
HINCRBYFLOAT s1 c 5.0e3
HINCRBYFLOAT s1 d 0x1p-3
HINCRBYFLOAT s1 d -0.125
HINCRBYFLOAT s1 e 7.0000000000000000001
HGET s1 d
HGET s1 e
HINCRBYFLOAT s1 a inf
HINCRBYFLOAT s1 a nan
HSET s1 f abc
HINCRBYFLOAT s1 f 1
HINCRBY s1 f 1
HINCRBY s1 b 1
HINCRBY s1 g 9223372036854775807
HINCRBY s1 g 1
HINCRBY s1 g -1
HDEL nokey a
SET str x
HGET str a
HSET str a 1
HSET str a 1 b
HRANDFIELD str 1
HSCAN str 0 bad
HSCAN nokey 0 bad
HSCAN h x
HSCAN h 0 COUNT 0
HSCAN h 0 COUNT x
HSCAN h 0 NOVALUES
HSTRLEN s1 a
HLEN s1
`
	var lines [][]string
	for _, l := range strings.Split(script, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, strings.Fields(l))
		}
	}
	// Replies whose content is random: compare shapes.
	random := func(args []string) bool {
		if !strings.EqualFold(args[0], "HRANDFIELD") || args[1] != "h" {
			return false
		}
		if len(args) == 2 {
			return true
		}
		n, err := strconv.ParseInt(args[2], 10, 64)
		return err == nil && n != 0 && n > -10 && n < 6
	}
	for _, proto := range []string{"2", "3"} {
		for _, c := range []*hashConn{real, ours} {
			c.do(t, "FLUSHALL")
			c.do(t, "HELLO", proto)
		}
		for _, args := range lines {
			want, got := real.do(t, args...), ours.do(t, args...)
			if random(args) {
				if hashShape(want) != hashShape(got) {
					t.Errorf("RESP%s %s: shape\n  kvd   %s\n  redis %s", proto, strings.Join(args, " "), hashShape(got), hashShape(want))
				}
				continue
			}
			if string(want) != string(got) {
				t.Errorf("RESP%s %s:\n  kvd   %q\n  redis %q", proto, strings.Join(args, " "), got, want)
			}
		}
	}

	// A full HSCAN of a large hash returns the same pairs on both.
	for _, c := range []*hashConn{real, ours} {
		c.do(t, "HELLO", "2")
		args := []string{"HSET", "big"}
		for i := 0; i < 700; i++ {
			args = append(args, fmt.Sprintf("f%d", i), fmt.Sprint(i*i))
		}
		c.do(t, args...)
	}
	walk := func(c *hashConn) []string {
		var all []string
		cursor := "0"
		for steps := 0; steps < 10000; steps++ {
			reply := c.do(t, "HSCAN", "big", cursor, "COUNT", "25")
			br := bufio.NewReader(strings.NewReader(string(reply)))
			br.ReadString('\n')            // *2
			br.ReadString('\n')            // $len
			cur, _ := br.ReadString('\n')  // cursor
			head, _ := br.ReadString('\n') // *n
			n, _ := strconv.Atoi(strings.TrimSpace(head[1:]))
			for i := 0; i < n; i += 2 {
				br.ReadString('\n')
				f, _ := br.ReadString('\n')
				br.ReadString('\n')
				v, _ := br.ReadString('\n')
				all = append(all, strings.TrimSpace(f)+"="+strings.TrimSpace(v))
			}
			if cursor = strings.TrimSpace(cur); cursor == "0" {
				break
			}
		}
		sort.Strings(all)
		return all
	}
	if w, g := walk(real), walk(ours); !reflect.DeepEqual(w, g) || len(g) != 700 {
		t.Errorf("full HSCAN: kvd %d pairs, redis %d pairs, equal=%v", len(g), len(w), reflect.DeepEqual(w, g))
	}
}
