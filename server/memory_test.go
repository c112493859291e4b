package server_test

import (
	"strconv"
	"strings"
	"testing"

	"github.com/kvd/kvd/server/servertest"
)

// TestMemoryUsage: MEMORY USAGE's replies and errors, as Redis 7.0 gives
// them; the estimate grows with the value and covers every kind.
func TestMemoryUsage(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	r.Do("SET", "small", "x")
	r.Do("SET", "big", strings.Repeat("x", 1000))
	num := func(reply string) int {
		t.Helper()
		if !strings.HasPrefix(reply, ":") {
			t.Fatalf("reply %q, want an integer", reply)
		}
		n, _ := strconv.Atoi(reply[1:])
		return n
	}
	small, big := num(r.Do("MEMORY", "USAGE", "small")), num(r.Do("MEMORY", "usage", "big"))
	if small <= 0 || big < small+1000 {
		t.Errorf("usage small %d, big %d", small, big)
	}
	if got := num(r.Do("MEMORY", "USAGE", "big", "SAMPLES", "0")); got != big {
		t.Errorf("SAMPLES 0 = %d, want %d", got, big)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"MEMORY", "USAGE", "nokey"}, "(nil)"},
		{[]string{"MEMORY", "USAGE", "small", "SAMPLES"}, "-ERR syntax error"},
		{[]string{"MEMORY", "USAGE", "small", "SAMPLES", "x"}, "-ERR value is not an integer or out of range"},
		{[]string{"MEMORY", "USAGE", "small", "SAMPLES", "-1"}, "-ERR syntax error"},
		{[]string{"MEMORY", "USAGE", "small", "bogus", "1"}, "-ERR syntax error"},
		{[]string{"MEMORY", "USAGE"}, "-ERR wrong number of arguments for 'memory|usage' command"},
		{[]string{"MEMORY"}, "-ERR wrong number of arguments for 'memory' command"},
		{[]string{"MEMORY", "bogus"}, "-ERR unknown subcommand 'bogus'. Try MEMORY HELP."},
		{[]string{"MEMORY", "PURGE", "x"}, "-ERR wrong number of arguments for 'memory|purge' command"},
		{[]string{"MEMORY", "PURGE"}, "+OK"},
	} {
		if got := r.Do(c.args...); got != c.want {
			t.Errorf("%v = %q, want %q", c.args, got, c.want)
		}
	}
	for i := 0; i < 200; i++ {
		v := strconv.Itoa(i)
		r.Do("RPUSH", "list", "element-"+v)
		r.Do("SADD", "set", "member-"+v)
		r.Do("SADD", "intset", v)
		r.Do("HSET", "hash", "field-"+v, "value-"+v)
		r.Do("ZADD", "zset", v, "member-"+v)
	}
	for _, k := range []string{"list", "set", "intset", "hash", "zset"} {
		all := num(r.Do("MEMORY", "USAGE", k, "SAMPLES", "0"))
		if all < 200*4 {
			t.Errorf("%s: usage %d for 200 elements", k, all)
		}
		if sampled := num(r.Do("MEMORY", "USAGE", k)); sampled <= 0 {
			t.Errorf("%s: sampled usage %d", k, sampled)
		}
	}
}

// TestMemoryStatsDoctorHelp: MEMORY STATS has Redis 7.0's fields in order
// (a map in RESP3), DOCTOR and MALLOC-STATS answer verbatim text, HELP
// Redis's lines; INFO memory carries kvd's GC figures.
func TestMemoryStatsDoctorHelp(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	r.Do("SET", "a", "1")
	r.Do("SELECT", "3")
	r.Do("SET", "b", "2")
	stats := r.Do("MEMORY", "STATS")
	if !strings.HasPrefix(stats, "*[$peak.allocated :") {
		t.Fatalf("MEMORY STATS = %q", stats)
	}
	last := -1
	for _, f := range []string{"peak.allocated", "total.allocated", "startup.allocated", "replication.backlog",
		"clients.slaves", "clients.normal", "cluster.links", "aof.buffer", "lua.caches", "functions.caches",
		"db.0", "db.3", "overhead.total", "keys.count :2", "keys.bytes-per-key", "dataset.bytes",
		"dataset.percentage", "peak.percentage", "allocator.allocated", "allocator.active", "allocator.resident",
		"allocator-fragmentation.ratio", "allocator-fragmentation.bytes", "allocator-rss.ratio",
		"allocator-rss.bytes", "rss-overhead.ratio", "rss-overhead.bytes", "fragmentation ", "fragmentation.bytes"} {
		i := strings.Index(stats, "$"+f)
		if i < 0 || i < last {
			t.Errorf("MEMORY STATS: %q missing or out of order in %s", f, stats)
		}
		last = i
	}
	if !strings.Contains(stats, "$db.0 *[$overhead.hashtable.main :") {
		t.Errorf("db.0 entry: %s", stats)
	}
	r.Do("HELLO", "3")
	if m := r.Do("MEMORY", "STATS"); !strings.HasPrefix(m, "%[$peak.allocated :") {
		t.Errorf("RESP3 MEMORY STATS = %q", m)
	}
	if d := r.Do("MEMORY", "DOCTOR"); !strings.Contains(d, "Hi Sam, this instance is empty") {
		t.Errorf("MEMORY DOCTOR on an empty instance = %q", d)
	}
	if m := r.Do("MEMORY", "MALLOC-STATS"); !strings.Contains(m, "/gc/cycles/total:gc-cycles") {
		t.Errorf("MEMORY MALLOC-STATS = %.200q", m)
	}
	help := r.Do("MEMORY", "HELP")
	if !strings.HasPrefix(help, "*[+MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are: +DOCTOR") ||
		!strings.HasSuffix(help, "+HELP +    Prints this help.]") {
		t.Errorf("MEMORY HELP = %q", help)
	}
	info := r.Do("INFO", "memory")
	for _, f := range []string{"gc_cycles:", "gc_cpu_seconds:", "gc_cpu_fraction:", "gc_pause_p99_us:", "gc_gogc:"} {
		if !strings.Contains(info, f) {
			t.Errorf("INFO memory lacks %s", f)
		}
	}
}
