package server_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/server"
	"github.com/kvd/kvd/server/servertest"
)

// parseInfo splits an INFO reply into sections (lower-cased header) of
// field -> value. It fails on malformed lines.
func parseInfo(t *testing.T, text string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	var cur map[string]string
	if text != "" && !strings.HasSuffix(text, "\r\n") {
		t.Fatalf("INFO does not end with CRLF: %q", text)
	}
	for _, line := range strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n") {
		switch {
		case line == "":
			continue
		case strings.HasPrefix(line, "# "):
			cur = map[string]string{}
			out[strings.ToLower(line[2:])] = cur
		default:
			k, v, ok := strings.Cut(line, ":")
			if !ok || cur == nil {
				t.Fatalf("bad INFO line %q", line)
			}
			cur[k] = v
		}
	}
	return out
}

func infoOf(t *testing.T, c *redis.Client, sections ...string) map[string]map[string]string {
	t.Helper()
	text, err := c.Info(context.Background(), sections...).Result()
	if err != nil {
		t.Fatalf("INFO %v: %v", sections, err)
	}
	return parseInfo(t, text)
}

// infoFields parses "a=1,b=2" values (keyspace, commandstats, workers).
func infoFields(v string) map[string]string {
	m := map[string]string{}
	for _, kv := range strings.Split(v, ",") {
		k, val, _ := strings.Cut(kv, "=")
		m[k] = val
	}
	return m
}

func sectionNames(m map[string]map[string]string) string {
	var names []string
	for k := range m {
		names = append(names, k)
	}
	sortStrings(names)
	return strings.Join(names, ",")
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

func mustDo(t *testing.T, c *redis.Client, args ...any) any {
	t.Helper()
	v, err := c.Do(context.Background(), args...).Result()
	if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return v
}

func TestAdminInfoSections(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(3))
	for _, proto := range []int{2, 3} {
		c := s.Client(proto)
		cases := []struct {
			args []string
			want string
		}{
			{nil, "clients,cluster,cpu,errorstats,keyspace,memory,modules,persistence,replication,server,stats"},
			{[]string{"default"}, "clients,cluster,cpu,errorstats,keyspace,memory,modules,persistence,replication,server,stats"},
			{[]string{"all"}, "clients,cluster,commandstats,cpu,errorstats,flash,keyspace,latencystats,memory,modules,persistence,replication,server,stats,workers"},
			{[]string{"everything"}, "clients,cluster,commandstats,cpu,errorstats,flash,keyspace,latencystats,memory,modules,persistence,replication,server,stats,workers"},
			{[]string{"default", "commandstats"}, "clients,cluster,commandstats,cpu,errorstats,keyspace,memory,modules,persistence,replication,server,stats"},
			{[]string{"SERVER", "clients", "server"}, "clients,server"},
			{[]string{"commandstats"}, "commandstats"},
			{[]string{"workers"}, "workers"},
			{[]string{"nosuch"}, ""},
		}
		for _, tc := range cases {
			got := sectionNames(infoOf(t, c, tc.args...))
			if got != tc.want {
				t.Errorf("RESP%d INFO %v sections = %s, want %s", proto, tc.args, got, tc.want)
			}
		}
	}

	// Fields every section must carry.
	want := map[string][]string{
		"server": {"redis_version", "redis_mode", "os", "arch_bits", "process_id", "run_id", "tcp_port",
			"uptime_in_seconds", "uptime_in_days", "hz", "configured_hz", "executable", "config_file", "kvd_version"},
		"clients":      {"connected_clients", "maxclients", "blocked_clients"},
		"memory":       {"used_memory", "used_memory_human", "used_memory_rss", "used_memory_peak", "maxmemory", "maxmemory_policy", "mem_fragmentation_ratio"},
		"persistence":  {"loading", "rdb_bgsave_in_progress", "rdb_last_save_time", "rdb_last_bgsave_status", "aof_enabled"},
		"stats":        {"total_connections_received", "total_commands_processed", "instantaneous_ops_per_sec", "rejected_connections", "expired_keys", "keyspace_hits", "keyspace_misses", "total_error_replies", "unexpected_error_replies"},
		"replication":  {"role", "connected_slaves", "master_replid", "master_repl_offset"},
		"cpu":          {"used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children"},
		"cluster":      {"cluster_enabled"},
		"workers":      {"workers", "worker0", "worker1", "worker2"},
		"commandstats": {"cmdstat_info"},
		"latencystats": {"latency_percentiles_usec_info"},
	}
	c := s.Client(2)
	mustDo(t, c, "INFO") // so that cmdstat_info exists
	info := infoOf(t, c, "everything")
	for sec, fields := range want {
		for _, f := range fields {
			if _, ok := info[sec][f]; !ok {
				t.Errorf("INFO %s lacks %s", sec, f)
			}
		}
	}
	sv := info["server"]
	if sv["redis_version"] != server.Version || sv["kvd_version"] != server.KvdVersion || sv["redis_mode"] != "standalone" {
		t.Errorf("server section: %v", sv)
	}
	if sv["process_id"] != strconv.Itoa(os.Getpid()) || len(sv["run_id"]) != 40 {
		t.Errorf("process_id/run_id: %v %v", sv["process_id"], sv["run_id"])
	}
	if _, port := hostPort(s.Addr); sv["tcp_port"] != port {
		t.Errorf("tcp_port = %s, want %s", sv["tcp_port"], port)
	}
	if info["replication"]["role"] != "master" || info["cluster"]["cluster_enabled"] != "0" {
		t.Errorf("replication/cluster: %v %v", info["replication"], info["cluster"])
	}
	if info["clients"]["maxclients"] != "10000" {
		t.Errorf("maxclients = %s", info["clients"]["maxclients"])
	}
	if n, _ := strconv.Atoi(info["clients"]["connected_clients"]); n < 1 {
		t.Errorf("connected_clients = %d", n)
	}
	mem := info["memory"]
	for _, f := range []string{"used_memory", "used_memory_rss", "used_memory_peak"} {
		if n, err := strconv.ParseInt(mem[f], 10, 64); err != nil || n <= 0 {
			t.Errorf("%s = %q", f, mem[f])
		}
	}
	if !regexp.MustCompile(`^\d+(\.\d\d[KMGTP])?B?$`).MatchString(mem["used_memory_human"]) {
		t.Errorf("used_memory_human = %q", mem["used_memory_human"])
	}
	if !regexp.MustCompile(`^\d+\.\d{6}$`).MatchString(info["cpu"]["used_cpu_user"]) {
		t.Errorf("used_cpu_user = %q", info["cpu"]["used_cpu_user"])
	}
	wk := info["workers"]
	if wk["workers"] != "3" {
		t.Errorf("workers = %q", wk["workers"])
	}
	slots := 0
	for i := 0; i < 3; i++ {
		f := infoFields(wk["worker"+strconv.Itoa(i)])
		for _, k := range []string{"slots", "jobs", "batches", "busy_us", "queue"} {
			if _, ok := f[k]; !ok {
				t.Errorf("worker%d lacks %s: %v", i, k, f)
			}
		}
		n, _ := strconv.Atoi(f["slots"])
		slots += n
	}
	if slots != 16384 {
		t.Errorf("worker slots sum to %d", slots)
	}

	// Raw: RESP2 bulk string; RESP3 verbatim "txt"; CRLF lines; sections
	// separated by one empty line.
	r := s.Raw()
	got := r.Do("INFO", "keyspace", "cluster")
	if got != "$# Cluster\r\ncluster_enabled:0\r\n\r\n# Keyspace\r\n" {
		t.Errorf("raw INFO = %q", got)
	}
	if got := r.Do("INFO", "nosuch"); got != "$" {
		t.Errorf("INFO nosuch = %q", got)
	}
	r.Do("HELLO", "3")
	if got := r.Do("INFO", "cluster"); got != "$txt:# Cluster\r\ncluster_enabled:0\r\n" {
		t.Errorf("RESP3 INFO = %q", got)
	}
}

func TestAdminInfoKeyspace(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := s.Client(proto)
		if err := c.FlushAll(ctx).Err(); err != nil {
			t.Fatal(err)
		}
		if ks := infoOf(t, c, "keyspace")["keyspace"]; len(ks) != 0 {
			t.Fatalf("empty keyspace section = %v", ks)
		}
		pipe := c.Pipeline()
		for i := 0; i < 200; i++ {
			pipe.Set(ctx, "key:"+strconv.Itoa(i), i, 0)
		}
		for i := 0; i < 200; i += 10 {
			pipe.Expire(ctx, "key:"+strconv.Itoa(i), time.Hour)
		}
		if _, err := pipe.Exec(ctx); err != nil {
			t.Fatal(err)
		}
		// Another database through a dedicated connection.
		r := s.Raw()
		if got := r.Do("SELECT", "5"); got != "+OK" {
			t.Fatalf("SELECT = %s", got)
		}
		for i := 0; i < 3; i++ {
			r.Do("SET", "other:"+strconv.Itoa(i), "x")
		}
		ks := infoOf(t, c, "keyspace")["keyspace"]
		if len(ks) != 2 || ks["db0"] != "keys=200,expires=20,avg_ttl=0" || ks["db5"] != "keys=3,expires=0,avg_ttl=0" {
			t.Errorf("RESP%d keyspace = %v", proto, ks)
		}
		// Every worker holds some of the keys: the counts span workers.
		if infoOf(t, c, "workers")["workers"]["workers"] != "4" {
			t.Errorf("workers section wrong")
		}
	}
}

func TestAdminInfoStats(t *testing.T) {
	var now atomic.Int64
	now.Store(time.Now().UnixMilli())
	s := servertest.Start(t, servertest.Workers(2), servertest.Clock(now.Load))
	c := s.Client(2)
	ctx := context.Background()
	c.Set(ctx, "a", "1", 0)
	c.Set(ctx, "b", "2", 0)
	c.Get(ctx, "a")
	c.Get(ctx, "nokey")
	c.Get(ctx, "nokey2")
	c.Expire(ctx, "b", time.Second)
	now.Add(5000)
	if err := c.Get(ctx, "b").Err(); err != redis.Nil {
		t.Fatalf("GET expired key: %v", err)
	}
	st := infoOf(t, c, "stats")["stats"]
	if st["keyspace_hits"] != "1" || st["keyspace_misses"] != "3" || st["expired_keys"] != "1" {
		t.Errorf("hits/misses/expired = %s/%s/%s", st["keyspace_hits"], st["keyspace_misses"], st["expired_keys"])
	}
	if n, _ := strconv.Atoi(st["total_connections_received"]); n < 1 {
		t.Errorf("total_connections_received = %d", n)
	}

	// A fresh raw connection: its commands are counted exactly.
	before := infoOf(t, c, "stats")["stats"]
	r := s.Raw()
	r.Do("PING")
	r.Do("GET")                // rejected: not processed, but an error reply
	r.Do("NOSUCHCOMMAND", "x") // rejected
	r.Do("DEBUG", "ERROR", "WRONGTYPE custom")
	after := infoOf(t, c, "stats")["stats"]
	diff := func(f string) int {
		a, _ := strconv.Atoi(after[f])
		b, _ := strconv.Atoi(before[f])
		return a - b
	}
	// PING, DEBUG and the first INFO of c (counted by the time of the
	// second INFO).
	if d := diff("total_commands_processed"); d != 3 {
		t.Errorf("total_commands_processed grew by %d, want 3", d)
	}
	if d := diff("total_error_replies"); d != 3 {
		t.Errorf("total_error_replies grew by %d, want 3", d)
	}
	if d := diff("total_connections_received"); d != 1 {
		t.Errorf("total_connections_received grew by %d, want 1", d)
	}
	es := infoOf(t, c, "errorstats")["errorstats"]
	if es["errorstat_WRONGTYPE"] != "count=1" || es["errorstat_ERR"] != "count=2" {
		t.Errorf("errorstats = %v", es)
	}
}

var cmdstatRe = regexp.MustCompile(`^calls=(\d+),usec=(\d+),usec_per_call=(\d+\.\d\d),rejected_calls=(\d+),failed_calls=(\d+)$`)

func TestAdminInfoCommandStats(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	r.Do("SET", "k", "v")
	r.Do("GET", "k")
	r.Do("GET", "k")
	r.Do("GET")                      // rejected (arity)
	r.Do("DEBUG", "ERROR", "ERR no") // failed
	r.Do("CONFIG", "GET", "hz")
	r.Do("CONFIG") // rejected on the container
	r.Do("CONFIG", "NOSUCH")
	c := s.Client(3)
	stats := infoOf(t, c, "commandstats")["commandstats"]
	check := func(name string, calls, rejected, failed int) {
		t.Helper()
		m := cmdstatRe.FindStringSubmatch(stats["cmdstat_"+name])
		if m == nil {
			t.Errorf("cmdstat_%s = %q", name, stats["cmdstat_"+name])
			return
		}
		if m[1] != strconv.Itoa(calls) || m[4] != strconv.Itoa(rejected) || m[5] != strconv.Itoa(failed) {
			t.Errorf("cmdstat_%s = %s, want calls=%d rejected=%d failed=%d", name, m[0], calls, rejected, failed)
		}
		usec, _ := strconv.ParseFloat(m[2], 64)
		per, _ := strconv.ParseFloat(m[3], 64)
		if calls > 0 && (per < usec/float64(calls)-0.01 || per > usec/float64(calls)+0.01) {
			t.Errorf("cmdstat_%s usec_per_call %v for usec %v calls %d", name, per, usec, calls)
		}
	}
	check("set", 1, 0, 0)
	check("get", 2, 1, 0)
	check("debug", 1, 0, 1)
	check("config|get", 1, 0, 0)
	check("config", 0, 1, 0)
	if _, ok := stats["cmdstat_lolwut"]; ok {
		t.Errorf("unused command listed: %v", stats["cmdstat_lolwut"])
	}

	// CONFIG RESETSTAT clears command and error stats and keyspace hits.
	if err := c.ConfigResetStat(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	info := infoOf(t, c, "commandstats", "errorstats", "stats")
	// Only RESETSTAT itself, counted after it ran (as in Redis).
	if len(info["commandstats"]) != 1 || info["commandstats"]["cmdstat_config|resetstat"] == "" || len(info["errorstats"]) != 0 {
		t.Errorf("after RESETSTAT: %v %v", info["commandstats"], info["errorstats"])
	}
	st := info["stats"]
	if st["keyspace_hits"] != "0" || st["total_error_replies"] != "0" || st["total_commands_processed"] != "0" {
		t.Errorf("after RESETSTAT stats: %v", st)
	}
}

func TestAdminTime(t *testing.T) {
	s := servertest.Start(t)
	for _, proto := range []int{2, 3} {
		tm, err := s.Client(proto).Time(context.Background()).Result()
		if err != nil {
			t.Fatal(err)
		}
		if d := time.Since(tm); d < -time.Minute || d > time.Minute {
			t.Errorf("RESP%d TIME = %v", proto, tm)
		}
	}
	r := s.Raw()
	got := r.Do("TIME")
	if !regexp.MustCompile(`^\*\[\$\d{10,} \$\d{1,6}\]$`).MatchString(got) {
		t.Errorf("TIME = %s", got)
	}
	if got := r.Do("TIME", "x"); got != "-ERR wrong number of arguments for 'time' command" {
		t.Errorf("TIME x = %s", got)
	}
}

func TestAdminConfigGet(t *testing.T) {
	s := servertest.Start(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := s.Client(proto)
		got, err := c.ConfigGet(ctx, "maxmemory*").Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 3 || got["maxmemory"] != "0" || got["maxmemory-policy"] != "noeviction" || got["maxmemory-samples"] != "5" {
			t.Errorf("RESP%d CONFIG GET maxmemory* = %v", proto, got)
		}
		// Thresholds tools read.
		for name, want := range map[string]string{"save": "", "appendonly": "no", "databases": "16", "maxclients": "10000",
			"hash-max-listpack-entries": "512", "hash-max-ziplist-entries": "512", "slowlog-log-slower-than": "10000"} {
			got, err := c.ConfigGet(ctx, name).Result()
			if err != nil || len(got) != 1 || got[name] != want {
				t.Errorf("CONFIG GET %s = %v %v, want %q", name, got, err, want)
			}
		}
		got, _ = c.ConfigGet(ctx, "nosuch-param").Result()
		if len(got) != 0 {
			t.Errorf("CONFIG GET nosuch = %v", got)
		}
	}
	r := s.Raw()
	cases := []struct {
		args []string
		want string
	}{
		// Exact names keep the spelling they were asked with.
		{[]string{"CONFIG", "GET", "MAXMEMORY"}, "*[$MAXMEMORY $0]"},
		{[]string{"CONFIG", "GET", "hz", "HZ", "h?"}, "*[$hz $10]"},
		// Multi-pattern, deduplicated, aliases matched by their own name.
		{[]string{"CONFIG", "GET", "hash-max-*-entries"}, "*[$hash-max-listpack-entries $512 $hash-max-ziplist-entries $512]"},
		{[]string{"CONFIG", "GET", "slave-read-only", "replica-read-only"}, "*[$slave-read-only $yes $replica-read-only $yes]"},
		{[]string{"CONFIG", "GET", "Max*Y"}, "*[$maxmemory $0 $maxmemory-policy $noeviction]"},
		{[]string{"CONFIG", "GET", "lua-time-limit", "busy-reply-threshold"}, "*[$lua-time-limit $5000 $busy-reply-threshold $5000]"},
		{[]string{"CONFIG", "GET", "client-output-buffer-limit"}, "*[$client-output-buffer-limit $normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60]"},
		{[]string{"CONFIG", "GET"}, "-ERR wrong number of arguments for 'config|get' command"},
		{[]string{"CONFIG"}, "-ERR wrong number of arguments for 'config' command"},
		{[]string{"CONFIG", "FOO"}, "-ERR unknown subcommand 'FOO'. Try CONFIG HELP."},
		{[]string{"CONFIG", "HELP", "x"}, "-ERR wrong number of arguments for 'config|help' command"},
	}
	for _, tc := range cases {
		if got := r.Do(tc.args...); got != tc.want {
			t.Errorf("%v = %s, want %s", tc.args, got, tc.want)
		}
	}
	r.Do("HELLO", "3")
	if got := r.Do("CONFIG", "GET", "maxmemory"); got != "%[$maxmemory $0]" {
		t.Errorf("RESP3 CONFIG GET = %s", got)
	}
	if got := r.Do("CONFIG", "GET", "hz", "port"); got != "%[$hz $10 $port $6379]" {
		t.Errorf("RESP3 CONFIG GET multi = %s", got)
	}
	help := r.Do("CONFIG", "HELP")
	if !strings.HasPrefix(help, "*[+CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are: +GET <pattern>") ||
		!strings.HasSuffix(help, "+HELP +    Prints this help.]") {
		t.Errorf("CONFIG HELP = %s", help)
	}
}

func TestAdminConfigSet(t *testing.T) {
	s := servertest.Start(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := s.Client(proto)
		if err := c.ConfigSet(ctx, "maxmemory", "10mb").Err(); err != nil {
			t.Fatal(err)
		}
		if got := c.ConfigGet(ctx, "maxmemory").Val()["maxmemory"]; got != "10485760" {
			t.Errorf("RESP%d maxmemory = %s", proto, got)
		}
		if err := c.ConfigSet(ctx, "slave-read-only", "NO").Err(); err != nil {
			t.Fatal(err)
		}
		if got := c.ConfigGet(ctx, "replica-read-only").Val()["replica-read-only"]; got != "no" {
			t.Errorf("alias set: replica-read-only = %s", got)
		}
	}
	r := s.Raw()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"CONFIG", "SET", "hz", "20", "maxmemory-policy", "ALLKEYS-LRU", "slowlog-max-len", "64"}, "+OK"},
		{[]string{"CONFIG", "GET", "hz"}, "*[$hz $20]"},
		{[]string{"CONFIG", "GET", "maxmemory-policy"}, "*[$maxmemory-policy $allkeys-lru]"},
		{[]string{"CONFIG", "SET", "a", "b", "c"}, "-ERR syntax error"},
		{[]string{"CONFIG", "SET", "hz"}, "-ERR wrong number of arguments for 'config|set' command"},
		{[]string{"CONFIG", "SET", "nosuch", "1"}, "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'"},
		{[]string{"CONFIG", "SET", "maxmemory", "1", "NoSuch", "2"}, "-ERR Unknown option or number of arguments for CONFIG SET - 'NoSuch'"},
		{[]string{"CONFIG", "SET", "HZ", "x"}, "-ERR CONFIG SET failed (possibly related to argument 'hz') - argument couldn't be parsed into an integer"},
		{[]string{"CONFIG", "SET", "hz", "-1"}, "-ERR CONFIG SET failed (possibly related to argument 'hz') - argument must be between 0 and 2147483647 inclusive"},
		{[]string{"CONFIG", "SET", "maxmemory-policy", "foo"}, "-ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy') - argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"},
		{[]string{"CONFIG", "SET", "maxmemory", "10x"}, "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{[]string{"CONFIG", "SET", "appendonly", "maybe"}, "-ERR CONFIG SET failed (possibly related to argument 'appendonly') - argument must be 'yes' or 'no'"},
		{[]string{"CONFIG", "SET", "SLAVE-read-only", "x"}, "-ERR CONFIG SET failed (possibly related to argument 'slave-read-only') - argument must be 'yes' or 'no'"},
		{[]string{"CONFIG", "SET", "hz", "1", "HZ", "2"}, "-ERR CONFIG SET failed (possibly related to argument 'HZ') - duplicate parameter"},
		{[]string{"CONFIG", "SET", "DAEMONIZE", "yes"}, "-ERR CONFIG SET failed (possibly related to argument 'DAEMONIZE') - can't set immutable config"},
		{[]string{"CONFIG", "SET", "databases", "4"}, "-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config"},
		// Atomic: one invalid value and nothing is applied.
		{[]string{"CONFIG", "SET", "hz", "30", "maxmemory", "x"}, "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value"},
		{[]string{"CONFIG", "GET", "hz"}, "*[$hz $20]"},
		{[]string{"CONFIG", "SET", "save", "100 1 200 2"}, "+OK"},
		{[]string{"CONFIG", "GET", "save"}, "*[$save $100 1 200 2]"},
		{[]string{"CONFIG", "SET", "save", "100"}, "-ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters"},
		{[]string{"CONFIG", "SET", "save", ""}, "+OK"},
		{[]string{"CONFIG", "SET", "client-output-buffer-limit", "pubsub 64mb 16mb 30"}, "+OK"},
		{[]string{"CONFIG", "GET", "client-output-buffer-limit"}, "*[$client-output-buffer-limit $normal 0 0 0 slave 268435456 67108864 60 pubsub 67108864 16777216 30]"},
	}
	for _, tc := range cases {
		if got := r.Do(tc.args...); got != tc.want {
			t.Errorf("%v = %s\n want %s", tc.args, got, tc.want)
		}
	}
	cfg := s.Config()
	if cfg.Hz.Load() != 20 || cfg.SlowlogMaxLen.Load() != 64 || cfg.OutputBufferLimit.Load() != 64<<20 {
		t.Errorf("runtime values not applied: hz=%d slowlog-max-len=%d obl=%d", cfg.Hz.Load(), cfg.SlowlogMaxLen.Load(), cfg.OutputBufferLimit.Load())
	}
}

func TestAdminConfigRewrite(t *testing.T) {
	r := servertest.Start(t).Raw()
	if got := r.Do("CONFIG", "REWRITE"); got != "-ERR The server is running without a config file" {
		t.Errorf("REWRITE without file = %s", got)
	}

	dir := t.TempDir()
	inc := filepath.Join(dir, "inc.conf")
	path := filepath.Join(dir, "kvd.conf")
	os.WriteFile(inc, []byte("tcp-keepalive 100\n"), 0o600)
	orig := "# my config\nport 6379\nhz 10\nhz 11\nmaxmemory 100mb\nslave-read-only yes\n\ninclude " + inc + "\n# trailing comment\n"
	if err := os.WriteFile(path, []byte(orig), 0o600); err != nil {
		t.Fatal(err)
	}
	s := servertest.Start(t, func(c *server.Config) {
		if err := c.LoadFile(path); err != nil {
			t.Fatal(err)
		}
	})
	c := s.Client(2)
	ctx := context.Background()
	info := infoOf(t, c, "server")["server"]
	if info["config_file"] != path {
		t.Errorf("config_file = %q, want %q", info["config_file"], path)
	}
	if err := c.ConfigSet(ctx, "maxmemory", "2gb").Err(); err != nil {
		t.Fatal(err)
	}
	mustDo(t, c, "CONFIG", "SET", "hz", "15", "maxmemory-policy", "allkeys-lru", "requirepass", "p w\"d",
		"client-output-buffer-limit", "normal 1mb 2 3", "notify-keyspace-events", "KEA")
	if err := c.ConfigRewrite(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(path)
	want := "# my config\nport 6379\nhz 15\nmaxmemory 2gb\nreplica-read-only yes\n\ninclude " + inc + "\n# trailing comment\n" +
		"\n# Generated by CONFIG REWRITE\n" +
		"requirepass \"p w\\\"d\"\n" +
		"client-output-buffer-limit normal 1mb 2 3\n" +
		"tcp-keepalive 100\n" +
		"maxmemory-policy allkeys-lru\n" +
		"notify-keyspace-events \"AKE\"\n" + // Redis writes the canonical classes
		"save \"\"\n"
	if string(got) != want {
		t.Errorf("rewritten file:\n%s\nwant:\n%s", got, want)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("mode = %v", st.Mode())
	}
	// A second rewrite is stable, and the file loads back to the same values.
	if err := c.ConfigRewrite(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	if again, _ := os.ReadFile(path); string(again) != want {
		t.Errorf("second rewrite changed the file:\n%s", again)
	}
	cfg := server.DefaultConfig()
	if err := cfg.LoadFile(path); err != nil {
		t.Fatalf("reload: %v", err)
	}
	for name, want := range map[string]string{"maxmemory": "2147483648", "hz": "15", "requirepass": "p w\"d", "maxmemory-policy": "allkeys-lru", "tcp-keepalive": "100"} {
		if v, _ := cfg.Get(name); v != want {
			t.Errorf("reloaded %s = %q, want %q", name, v, want)
		}
	}
}

func TestAdminSlowlog(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	ctx := context.Background()
	r := s.Raw()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"CONFIG", "SET", "slowlog-log-slower-than", "0"}, "+OK"},
		{[]string{"SLOWLOG", "RESET"}, "+OK"},
		{[]string{"SLOWLOG", "LEN"}, ":1"}, // the RESET itself
		{[]string{"SLOWLOG", "GET", "x"}, "-ERR count should be greater than or equal to -1"},
		{[]string{"SLOWLOG", "GET", "-2"}, "-ERR count should be greater than or equal to -1"},
		{[]string{"SLOWLOG", "GET", "0"}, "*[]"},
		{[]string{"SLOWLOG", "GET", "1", "2"}, "-ERR unknown subcommand or wrong number of arguments for 'GET'. Try SLOWLOG HELP."},
		{[]string{"SLOWLOG", "LEN", "x"}, "-ERR wrong number of arguments for 'slowlog|len' command"},
		{[]string{"SLOWLOG", "NOPE"}, "-ERR unknown subcommand 'NOPE'. Try SLOWLOG HELP."},
		{[]string{"SLOWLOG"}, "-ERR wrong number of arguments for 'slowlog' command"},
	}
	for _, tc := range cases {
		if got := r.Do(tc.args...); got != tc.want {
			t.Errorf("%v = %s, want %s", tc.args, got, tc.want)
		}
	}
	r.Do("CLIENT", "SETNAME", "slowpoke")
	long := strings.Repeat("x", 200)
	r.Do("SET", "k", long)
	mset := []string{"MSET"}
	for i := 0; i < 20; i++ {
		mset = append(mset, "k"+strconv.Itoa(i), "v")
	}
	r.Do(mset...)
	r.Do("CONFIG", "SET", "requirepass", "s3cret", "hz", "10")
	r.Do("CONFIG", "SET", "requirepass", "")

	for _, proto := range []int{2, 3} {
		c := s.Client(proto)
		logs, err := c.SlowLogGet(ctx, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		// Newest first: config set requirepass "", config set requirepass
		// ..., mset, set, client setname, slowlog...
		var found int
		for i, e := range logs {
			if i > 0 && e.ID >= logs[i-1].ID {
				t.Errorf("ids not descending: %d then %d", logs[i-1].ID, e.ID)
			}
			args := strings.Join(e.Args, " ")
			switch {
			case e.Args[0] == "SET":
				found++
				if len(e.Args) != 3 || e.Args[2] != strings.Repeat("x", 128)+"... (72 more bytes)" {
					t.Errorf("SET entry args = %q", e.Args)
				}
				if e.ClientName != "slowpoke" || !strings.HasPrefix(e.ClientAddr, "127.0.0.1:") {
					t.Errorf("SET entry client = %q %q", e.ClientAddr, e.ClientName)
				}
				if e.Time.Unix() < time.Now().Add(-time.Minute).Unix() {
					t.Errorf("SET entry time = %v", e.Time)
				}
			case e.Args[0] == "MSET":
				found++
				if len(e.Args) != 32 || e.Args[31] != "... (10 more arguments)" || e.Args[29] != "k14" {
					t.Errorf("MSET entry args (%d) = %q", len(e.Args), e.Args)
				}
			case strings.HasPrefix(args, "CONFIG SET requirepass"):
				found++
				if args != "CONFIG SET requirepass (redacted) hz 10" && args != "CONFIG SET requirepass (redacted)" {
					t.Errorf("secret not redacted: %q", args)
				}
			}
		}
		if found != 4 {
			t.Errorf("RESP%d: found %d of the 4 expected entries in %d", proto, found, len(logs))
		}
		if n := c.Do(ctx, "SLOWLOG", "LEN").Val(); n.(int64) != int64(len(logs))+1 {
			t.Errorf("SLOWLOG LEN = %v with %d entries before", n, len(logs))
		}
	}
	// Default count is 10; max-len bounds the log.
	if got := strings.Count(r.Do("SLOWLOG", "GET"), "127.0.0.1:"); got != 10 {
		t.Errorf("SLOWLOG GET returned %d entries", got)
	}
	r.Do("CONFIG", "SET", "slowlog-max-len", "3")
	r.Do("PING")
	if got := r.Do("SLOWLOG", "LEN"); got != ":3" {
		t.Errorf("SLOWLOG LEN after max-len 3 = %s", got)
	}
	// Disabled with -1.
	r.Do("CONFIG", "SET", "slowlog-log-slower-than", "-1")
	r.Do("SLOWLOG", "RESET")
	r.Do("PING")
	if got := r.Do("SLOWLOG", "LEN"); got != ":0" {
		t.Errorf("disabled slowlog LEN = %s", got)
	}
	help := r.Do("SLOWLOG", "HELP")
	if !strings.HasPrefix(help, "*[+SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are: +GET [<count>]") || strings.Count(help, " +") != 11 {
		t.Errorf("SLOWLOG HELP = %s", help)
	}
}

func TestAdminLatency(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	doctor := r.Do("LATENCY", "DOCTOR")
	if !strings.HasPrefix(doctor, "$I'm sorry, Dave, I can't do that. Latency monitoring is disabled") {
		t.Errorf("DOCTOR disabled = %s", doctor)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"LATENCY", "LATEST"}, "*[]"},
		{[]string{"LATENCY", "HISTORY", "command"}, "*[]"},
		{[]string{"LATENCY", "GRAPH", "command"}, "-ERR No samples available for event 'command'"},
		{[]string{"LATENCY", "RESET"}, ":0"},
		{[]string{"LATENCY", "HISTORY"}, "-ERR wrong number of arguments for 'latency|history' command"},
		{[]string{"LATENCY", "FOO"}, "-ERR unknown subcommand 'FOO'. Try LATENCY HELP."},
		{[]string{"CONFIG", "SET", "latency-monitor-threshold", "10"}, "+OK"},
		{[]string{"DEBUG", "SLEEP", "0.1"}, "+OK"},
	}
	for _, tc := range cases {
		if got := r.Do(tc.args...); got != tc.want {
			t.Errorf("%v = %s, want %s", tc.args, got, tc.want)
		}
	}
	// Other commands may be slow too (race detector, loaded machine), so
	// the checks look for the DEBUG SLEEP spike among whatever else was
	// recorded: the all-time maximum and one sample are >= 100 ms.
	var ts, maxMs string
	for _, m := range regexp.MustCompile(`\*\[\$([a-z-]+) :(\d+) :(\d+) :(\d+)\]`).FindAllStringSubmatch(r.Do("LATENCY", "LATEST"), -1) {
		if m[1] == "command" {
			ts, maxMs = m[2], m[4]
		}
	}
	if n, _ := strconv.ParseInt(ts, 10, 64); n < time.Now().Add(-time.Minute).Unix() {
		t.Fatalf("LATEST lacks a recent command event")
	}
	if ms, _ := strconv.Atoi(maxMs); ms < 100 {
		t.Errorf("command max latency %s, want >= 100", maxMs)
	}
	hist := regexp.MustCompile(`\*\[:(\d+) :(\d+)\]`).FindAllStringSubmatch(r.Do("LATENCY", "HISTORY", "command"), -1)
	spike := false
	for _, h := range hist {
		ms, _ := strconv.Atoi(h[2])
		spike = spike || ms >= 100
	}
	if len(hist) == 0 || !spike {
		t.Errorf("HISTORY = %v", hist)
	}
	if got := r.Do("LATENCY", "HISTORY", "COMMAND"); got != "*[]" {
		t.Errorf("HISTORY is case-sensitive in Redis, got %s", got)
	}
	graph := r.Do("LATENCY", "GRAPH", "command")
	if !regexp.MustCompile(`^\$command - high \d+ ms, low \d+ ms \(all time high `+maxMs+` ms\)\n-{80}\n`).MatchString(graph) ||
		!regexp.MustCompile(`\n\d+s\n$|\ns\n$`).MatchString(graph) {
		t.Errorf("GRAPH = %q", graph)
	}
	doctor = r.Do("LATENCY", "DOCTOR")
	if !strings.Contains(doctor, "Dave, I have observed latency spikes in this Redis instance.") ||
		!regexp.MustCompile(`\d\. command: \d+ latency spikes \(average \d+ms, mean deviation \d+ms, period \d+\.\d\d sec\)\. Worst all time event `+maxMs+`ms\.`).MatchString(doctor) ||
		!strings.Contains(doctor, "- Check your Slow Log") {
		t.Errorf("DOCTOR = %s", doctor)
	}
	// RESP3: GRAPH and DOCTOR are verbatim strings.
	c := s.Client(3)
	if v, err := c.Do(context.Background(), "LATENCY", "DOCTOR").Text(); err != nil || !strings.HasPrefix(v, "Dave") {
		t.Errorf("RESP3 DOCTOR = %q %v", v, err)
	}
	for _, proto := range []int{2, 3} {
		v, err := s.Client(proto).Do(context.Background(), "LATENCY", "LATEST").Slice()
		if err != nil || len(v) == 0 {
			t.Errorf("RESP%d LATEST = %v %v", proto, v, err)
		}
	}
	r.Do("CONFIG", "SET", "latency-monitor-threshold", "0")
	if got := r.Do("LATENCY", "RESET", "nosuch", "COMMAND"); got != ":1" {
		t.Errorf("RESET = %s", got)
	}
	if got := r.Do("LATENCY", "HISTORY", "command"); got != "*[]" {
		t.Errorf("HISTORY after reset = %s", got)
	}
	r.Do("LATENCY", "RESET")
	if got := r.Do("LATENCY", "LATEST"); got != "*[]" {
		t.Errorf("LATEST after reset = %s", got)
	}
	help := r.Do("LATENCY", "HELP")
	if !strings.HasPrefix(help, "*[+LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are: +DOCTOR") {
		t.Errorf("LATENCY HELP = %s", help)
	}
}

func TestAdminMonitor(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	mon := s.Raw()
	mon.Send("PING")
	mon.Send("MONITOR")
	if got := mon.ReadReply(); got != "+PONG" {
		t.Fatalf("PING = %s", got)
	}
	if got := mon.ReadReply(); got != "+OK" {
		t.Fatalf("MONITOR = %s", got)
	}
	other := s.Raw()
	other.Do("set", "foo", "bar\"\n")
	other.Do("CONFIG", "GET", "hz") // admin: not shown
	other.Do("SELECT", "3")
	other.Do("GET", "foo")
	c := s.Client(3)
	c.Set(context.Background(), "viaresp3", "1", 0) // after go-redis's HELLO 3

	_, port := hostPort(other.LocalAddr().String())
	lineRe := regexp.MustCompile(`^\+(\d{10})\.(\d{6}) \[(\d+) 127\.0\.0\.1:(\d+)\] (.*)$`)
	want := []struct{ db, port, args string }{
		{"0", port, `"set" "foo" "bar\"\n"`},
		{"3", port, `"SELECT" "3"`}, // Redis feeds monitors after the command ran
		{"3", port, `"GET" "foo"`},
		{"0", "", `"set" "viaresp3" "1"`},
	}
	for i, w := range want {
		line := mon.ReadReply()
		if i == 3 && strings.HasSuffix(line, `"hello" "3"`) {
			line = mon.ReadReply()
		}
		m := lineRe.FindStringSubmatch(line)
		if m == nil {
			t.Fatalf("monitor line %q", line)
		}
		if m[3] != w.db || (w.port != "" && m[4] != w.port) || m[5] != w.args {
			t.Errorf("monitor line %q, want db %s port %s args %s", line, w.db, w.port, w.args)
		}
	}
	// MONITOR again is ignored without a reply; the next reply is PING's.
	mon.Send("MONITOR")
	mon.Send("PING")
	if got := mon.ReadReply(); got != "+PONG" {
		t.Errorf("after second MONITOR: %s", got)
	}
	if got := s.Raw().Do("MONITOR", "x"); got != "-ERR wrong number of arguments for 'monitor' command" {
		t.Errorf("MONITOR x = %s", got)
	}
}

func TestAdminShutdown(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"SHUTDOWN", "ABORT"}, "-ERR No shutdown in progress."},
		{[]string{"SHUTDOWN", "ABORT", "NOW"}, "-ERR syntax error"},
		{[]string{"SHUTDOWN", "SAVE", "NOSAVE"}, "-ERR syntax error"},
		{[]string{"SHUTDOWN", "FOO"}, "-ERR syntax error"},
		// No persistence: a save cannot happen, so SHUTDOWN SAVE fails...
		{[]string{"SHUTDOWN", "SAVE"}, "-ERR Errors trying to SHUTDOWN. Check logs."},
	}
	for _, tc := range cases {
		if got := r.Do(tc.args...); got != tc.want {
			t.Errorf("%v = %s, want %s", tc.args, got, tc.want)
		}
	}
	// ...as does a plain SHUTDOWN with save points configured.
	r.Do("CONFIG", "SET", "save", "3600 1")
	if got := r.Do("SHUTDOWN"); got != "-ERR Errors trying to SHUTDOWN. Check logs." {
		t.Errorf("SHUTDOWN with save points = %s", got)
	}
	select {
	case <-s.Done():
		t.Fatal("server shut down after a failed SHUTDOWN")
	default:
	}

	// With a save hook, SAVE calls it; NOSAVE then shuts down with no reply.
	var saved atomic.Int32
	s.SetShutdownSave(func() error {
		saved.Add(1)
		return errors.New("disk on fire")
	})
	if got := r.Do("SHUTDOWN", "SAVE"); got != "-ERR Errors trying to SHUTDOWN. Check logs." || saved.Load() != 1 {
		t.Errorf("SHUTDOWN SAVE with failing hook = %s (saved %d)", got, saved.Load())
	}
	c := s.Client(2)
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatal(err)
	}
	r.Send("SHUTDOWN", "NOSAVE", "NOW")
	r.Send("PING") // never answered
	r.SetReadDeadline(time.Now().Add(5 * time.Second))
	if b, err := io.ReadAll(r.R); len(b) != 0 || (err != nil && !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "reset")) {
		t.Errorf("SHUTDOWN replied %q, %v", b, err)
	}
	select {
	case <-s.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("server did not shut down")
	}
	if err := c.Ping(context.Background()).Err(); err == nil {
		t.Error("server still answers after SHUTDOWN")
	}

	// SHUTDOWN FORCE exits even when the save fails; SAVE with a working
	// hook saves first. go-redis sees the closed connection.
	for i, args := range [][]string{{"SHUTDOWN", "SAVE", "FORCE"}, {"SHUTDOWN", "SAVE"}} {
		s2 := servertest.Start(t)
		fail := len(args) == 3 // FORCE
		s2.SetShutdownSave(func() error {
			saved.Add(1)
			if fail {
				return errors.New("nope")
			}
			return nil
		})
		before := saved.Load()
		err := s2.Client(2+i).Do(context.Background(), toAny(args)...).Err() // RESP2, then RESP3
		if err == nil || saved.Load() != before+1 {
			t.Errorf("%v: err %v, saved %d", args, err, saved.Load()-before)
		}
		select {
		case <-s2.Done():
		case <-time.After(5 * time.Second):
			t.Fatalf("%v: server did not shut down", args)
		}
	}
}

func toAny(args []string) []any {
	out := make([]any, len(args))
	for i, a := range args {
		out[i] = a
	}
	return out
}

func TestAdminLolwut(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	// Deterministic sizes (no random rows), byte-for-byte as redis-server 7.0.15.
	schotter := "⠀⡤⠤⠤⠤⡤⠤⠤⠤⡄\n⠀⡇⠀⠀⠀⡇⠀⠀⠀⡇\n⠀⡧⠤⠤⠤⡧⠤⠤⠤⡇\n⠀⡇⠀⠀⠀⡇⠀⠀⠀⡇\n⠀⠧⠤⠤⠤⠧⠤⠤⠤⠇\n\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n"
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"LOLWUT"}, "$Redis ver. 7.0.15\n"},
		{[]string{"LOLWUT", "VERSION", "7"}, "$Redis ver. 7.0.15\n"},
		{[]string{"LOLWUT", "VERSION"}, "$Redis ver. 7.0.15\n"},
		{[]string{"LOLWUT", "VERSION", "x"}, "-ERR value is not an integer or out of range"},
		{[]string{"LOLWUT", "VERSION", "5", "10", "2", "2"}, "$" + schotter},
		{[]string{"LOLWUT", "VERSION", "5", "4", "1", "1"}, "$⠀⡤⠤⡄\n⠀⠧⠤⠇\n\nGeorg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15\n"},
		{[]string{"LOLWUT", "VERSION", "5", "x"}, "-ERR value is not an integer or out of range"},
		{[]string{"LOLWUT", "VERSION", "6", "1", "1"}, "$\x1b[0;97;107m \x1b[0m\nDedicated to the 8 bit game developers of past and present.\nOriginal 8 bit image from Plaguemon by hikikomori. Redis ver. 7.0.15\n"},
		{[]string{"LOLWUT", "VERSION", "6", "x"}, "-ERR value is not an integer or out of range"},
	}
	for _, tc := range cases {
		if got := r.Do(tc.args...); got != tc.want {
			t.Errorf("%v = %q\n want %q", tc.args, got, tc.want)
		}
	}
	// The full-size Schotter: 49 rows of 66 Braille cells, then the credit.
	out := strings.TrimPrefix(r.Do("LOLWUT", "VERSION", "5"), "$")
	lines := strings.Split(out, "\n")
	if len(lines) != 52 || lines[49] != "" || lines[50] != "Georg Nees - schotter, plotter on paper, 1968. Redis ver. 7.0.15" || lines[51] != "" {
		t.Fatalf("schotter layout: %d lines, tail %q", len(lines), lines[len(lines)-3:])
	}
	ink := 0
	for _, l := range lines[:49] {
		if utf8.RuneCountInString(l) != 66 {
			t.Errorf("row has %d cells", utf8.RuneCountInString(l))
		}
		for _, ch := range l {
			if ch < 0x2800 || ch > 0x28ff {
				t.Fatalf("non-Braille cell %U", ch)
			}
			if ch != 0x2800 {
				ink++
			}
		}
	}
	if ink < 500 {
		t.Errorf("only %d inked cells", ink)
	}
	// The skyline has the requested size and uses all four grays.
	sky := strings.TrimPrefix(r.Do("LOLWUT", "VERSION", "6", "40", "10"), "$")
	rows := strings.Split(sky, "\n")
	if len(rows) != 13 || strings.Count(rows[0], " \x1b[0m") != 40 {
		t.Errorf("skyline layout: %d rows, %d cells", len(rows), strings.Count(rows[0], " \x1b[0m"))
	}
	if !strings.Contains(sky, "0;30;40m") || !strings.Contains(sky, "0;97;107m") {
		t.Errorf("skyline lacks black or white")
	}
	// RESP3: verbatim; go-redis in both protocols.
	for _, proto := range []int{2, 3} {
		v, err := s.Client(proto).Do(context.Background(), "LOLWUT").Text()
		if err != nil || v != "Redis ver. 7.0.15\n" {
			t.Errorf("RESP%d LOLWUT = %q %v", proto, v, err)
		}
	}
	r.Do("HELLO", "3")
	if got := r.Do("LOLWUT"); got != "$txt:Redis ver. 7.0.15\n" {
		t.Errorf("RESP3 raw LOLWUT = %q", got)
	}
}

func TestAdminDebug(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(3))
	r := s.Raw()
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"DEBUG"}, "-ERR wrong number of arguments for 'debug' command"},
		{[]string{"DEBUG", "foo"}, "-ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP."},
		{[]string{"DEBUG", "SLEEP"}, "-ERR unknown subcommand or wrong number of arguments for 'SLEEP'. Try DEBUG HELP."},
		{[]string{"debug", "sleep", "1", "2"}, "-ERR unknown subcommand or wrong number of arguments for 'sleep'. Try DEBUG HELP."},
		{[]string{"DEBUG", "SLEEP", "0"}, "+OK"},
		{[]string{"DEBUG", "SLEEP", "abc"}, "+OK"},
		{[]string{"DEBUG", "SLEEP", "0.001"}, "+OK"},
		{[]string{"DEBUG", "ERROR", "plain"}, "-plain"},
		{[]string{"DEBUG", "ERROR", "WRONGTYPE my error"}, "-WRONGTYPE my error"},
		{[]string{"DEBUG", "LOG", "hello"}, "+OK"},
		{[]string{"DEBUG", "POPULATE", "-1"}, "-ERR value is out of range, must be positive"},
		{[]string{"DEBUG", "POPULATE", "x"}, "-ERR value is out of range, must be positive"},
		{[]string{"DEBUG", "POPULATE", "1", "k", "-1"}, "-ERR value is out of range, must be positive"},
		{[]string{"DEBUG", "POPULATE", "1", "a", "b", "c"}, "-ERR unknown subcommand or wrong number of arguments for 'POPULATE'. Try DEBUG HELP."},
		{[]string{"SET", "key:1", "mine"}, "+OK"},
		{[]string{"DEBUG", "POPULATE", "100"}, "+OK"},
		{[]string{"DBSIZE"}, ":100"},
		{[]string{"GET", "key:1"}, "$mine"}, // existing keys are kept
		{[]string{"GET", "key:99"}, "$value:99"},
		{[]string{"DEBUG", "POPULATE", "2", "pfx", "10"}, "+OK"},
		{[]string{"GET", "pfx:1"}, "$value:1\x00\x00\x00"},
		{[]string{"DEBUG", "POPULATE", "1", "short", "3"}, "+OK"},
		{[]string{"GET", "short:0"}, "$val"},
		{[]string{"DEBUG", "PROTOCOL", "foo"}, "-ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false"},
		// RESP2 renderings, as redis-server 7.0.15.
		{[]string{"DEBUG", "PROTOCOL", "string"}, "$Hello World"},
		{[]string{"DEBUG", "PROTOCOL", "integer"}, ":12345"},
		{[]string{"DEBUG", "PROTOCOL", "double"}, "$3.141"},
		{[]string{"DEBUG", "PROTOCOL", "bignum"}, "$1234567999999999999999999999999999999"},
		{[]string{"DEBUG", "PROTOCOL", "null"}, "(nil)"},
		{[]string{"DEBUG", "PROTOCOL", "array"}, "*[:0 :1 :2]"},
		{[]string{"DEBUG", "PROTOCOL", "set"}, "*[:0 :1 :2]"},
		{[]string{"DEBUG", "PROTOCOL", "map"}, "*[:0 :0 :1 :1 :2 :0]"},
		{[]string{"DEBUG", "PROTOCOL", "attrib"}, "$Some real reply following the attribute"},
		{[]string{"DEBUG", "PROTOCOL", "push"}, "-ERR RESP2 is not supported by this command"},
		{[]string{"DEBUG", "PROTOCOL", "verbatim"}, "$This is a verbatim\nstring"},
		{[]string{"DEBUG", "PROTOCOL", "true"}, ":1"},
		{[]string{"DEBUG", "PROTOCOL", "FALSE"}, ":0"},
		{[]string{"HELLO", "3"}, ""},
		{[]string{"DEBUG", "PROTOCOL", "double"}, ",3.141"},
		{[]string{"DEBUG", "PROTOCOL", "bignum"}, "(1234567999999999999999999999999999999"},
		{[]string{"DEBUG", "PROTOCOL", "null"}, "(nil)"},
		{[]string{"DEBUG", "PROTOCOL", "set"}, "~[:0 :1 :2]"},
		{[]string{"DEBUG", "PROTOCOL", "map"}, "%[:0 #f :1 #t :2 #f]"},
		{[]string{"DEBUG", "PROTOCOL", "verbatim"}, "$txt:This is a verbatim\nstring"},
		{[]string{"DEBUG", "PROTOCOL", "true"}, "#t"},
		{[]string{"DEBUG", "PROTOCOL", "push"}, ">[$server-cpu-usage :42]"},
	}
	for _, tc := range cases {
		got := r.Do(tc.args...)
		if tc.args[0] == "HELLO" {
			continue
		}
		if got != tc.want {
			t.Errorf("%v = %q, want %q", tc.args, got, tc.want)
		}
	}
	if got := r.ReadReply(); got != "$Some real reply following the push reply" {
		t.Errorf("reply after push = %q", got)
	}

	// SET-ACTIVE-EXPIRE switches the engine's expiry cycle.
	r.Do("DEBUG", "SET-ACTIVE-EXPIRE", "0")
	if s.Engine().ActiveExpire.Load() {
		t.Error("active expire still on")
	}
	r.Do("DEBUG", "SET-ACTIVE-EXPIRE", "1")
	if !s.Engine().ActiveExpire.Load() {
		t.Error("active expire still off")
	}

	// DEBUG SLEEP holds only its connection: another client is served
	// meanwhile, and the sleeper gets +OK afterwards.
	sleeper := s.Raw()
	start := time.Now() // before the send: the sleep is then always within the interval
	sleeper.Send("DEBUG", "SLEEP", "0.3")
	c := s.Client(2)
	if err := c.Set(context.Background(), "during", "sleep", 0).Err(); err != nil {
		t.Fatal(err)
	}
	got := sleeper.ReadReply()
	if got != "+OK" || time.Since(start) < 250*time.Millisecond {
		t.Errorf("DEBUG SLEEP = %s after %v", got, time.Since(start))
	}

	help := s.Raw().Do("DEBUG", "HELP")
	if !strings.HasPrefix(help, "*[+DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are: +ERROR <string>") ||
		!strings.Contains(help, "+SLEEP <seconds>") || !strings.HasSuffix(help, "+HELP +    Prints this help.]") {
		t.Errorf("DEBUG HELP = %s", help)
	}
	for _, proto := range []int{2, 3} {
		v, err := s.Client(proto).Do(context.Background(), "DEBUG", "PROTOCOL", "map").Result()
		if err != nil {
			t.Errorf("RESP%d DEBUG PROTOCOL map: %v", proto, err)
		}
		_ = v
	}
}

func TestAdminDebugDisabled(t *testing.T) {
	s := servertest.Start(t, func(c *server.Config) {
		if err := c.Set("enable-debug-command", "no", false); err != nil {
			t.Fatal(err)
		}
	})
	want := `-ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`
	if got := s.Raw().Do("DEBUG", "SLEEP", "0"); got != want {
		t.Errorf("DEBUG with enable-debug-command no = %s", got)
	}
	s2 := servertest.Start(t, func(c *server.Config) { c.Set("enable-debug-command", "local", false) })
	if got := s2.Raw().Do("DEBUG", "SLEEP", "0"); got != "+OK" {
		t.Errorf("DEBUG from loopback with local = %s", got)
	}
}

// TestAdminMonitorGoRedis checks MONITOR's reply through go-redis in both
// protocols (go-redis's own MonitorCmd races on its pooled connection, so
// the monitor stream itself is read raw in TestAdminMonitor).
func TestAdminMonitorGoRedis(t *testing.T) {
	s := servertest.Start(t)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		conn := s.Client(proto).Conn()
		cmd := redis.NewStatusCmd(ctx, "MONITOR")
		conn.Process(ctx, cmd)
		if got, err := cmd.Result(); err != nil || got != "OK" {
			t.Errorf("RESP%d MONITOR = %q %v", proto, got, err)
		}
		conn.Close()
	}
}

func TestAdminLatencyHistogram(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	r.Do("CONFIG", "RESETSTAT")
	r.Do("SET", "k", "v")
	r.Do("GET", "k")
	r.Do("GET", "k")
	r.Do("CLIENT", "ID")
	bucketsRe := `\*\[((:\d+ :\d+ ?)+)\]`
	entry := func(name string, calls int) *regexp.Regexp {
		return regexp.MustCompile(`\$` + regexp.QuoteMeta(name) + ` \*\[\$calls :` + strconv.Itoa(calls) + ` \$histogram_usec ` + bucketsRe + `\]`)
	}
	got := r.Do("LATENCY", "HISTOGRAM", "get", "nosuch", "CLIENT")
	m := entry("get", 2).FindStringSubmatch(got)
	if m == nil || !entry("client|id", 1).MatchString(got) || strings.Contains(got, "nosuch") || strings.Contains(got, "$set") {
		t.Fatalf("LATENCY HISTOGRAM get nosuch CLIENT = %s", got)
	}
	// Buckets are powers of two (as hdr reports them: 1, 2, 4, 8, 16, 33,
	// 66, ...) with strictly increasing cumulative counts ending at calls.
	valid := map[string]bool{"1": true, "2": true, "4": true, "8": true, "16": true, "33": true, "66": true, "132": true,
		"264": true, "528": true, "1056": true, "2113": true, "4227": true, "8454": true, "16908": true}
	f := strings.Fields(m[1])
	prev := 0
	for i := 0; i < len(f); i += 2 {
		b, c := strings.TrimPrefix(f[i], ":"), strings.TrimPrefix(f[i+1], ":")
		n, _ := strconv.Atoi(c)
		if !valid[b] || n <= prev {
			t.Errorf("bucket %s count %s after %d", b, c, prev)
		}
		prev = n
	}
	if prev != 2 {
		t.Errorf("cumulative count ends at %d", prev)
	}
	all := r.Do("LATENCY", "HISTOGRAM")
	for _, name := range []string{"set", "get", "client|id", "config|resetstat", "latency|histogram"} {
		if !strings.Contains(all, "$"+name+" *[$calls") {
			t.Errorf("LATENCY HISTOGRAM lacks %s: %s", name, all)
		}
	}
	for _, proto := range []int{2, 3} {
		v, err := s.Client(proto).Do(context.Background(), "LATENCY", "HISTOGRAM", "set").Result()
		if err != nil {
			t.Fatalf("RESP%d: %v", proto, err)
		}
		var calls any
		switch v := v.(type) {
		case map[any]any: // RESP3
			calls = v["set"].(map[any]any)["calls"]
		case []any: // RESP2
			calls = v[1].([]any)[1]
		}
		if calls != int64(1) {
			t.Errorf("RESP%d LATENCY HISTOGRAM set = %#v", proto, v)
		}
	}

	// INFO latencystats: one line per command with the configured
	// percentiles, in microseconds with 3 decimals.
	lat := parseInfo(t, strings.TrimPrefix(r.Do("INFO", "latencystats"), "$"))["latencystats"]
	lineRe := regexp.MustCompile(`^p50=\d+\.\d{3},p99=\d+\.\d{3},p99\.9=\d+\.\d{3}$`)
	if !lineRe.MatchString(lat["latency_percentiles_usec_get"]) || !lineRe.MatchString(lat["latency_percentiles_usec_client|id"]) {
		t.Errorf("latencystats = %v", lat)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"CONFIG", "SET", "latency-tracking-info-percentiles", "1e1 100"}, "+OK"},
		{[]string{"CONFIG", "GET", "latency-tracking-info-percentiles"}, "*[$latency-tracking-info-percentiles $10 100]"},
		{[]string{"CONFIG", "SET", "latency-tracking-info-percentiles", "x"}, "-ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - Invalid latency-tracking-info-percentiles parameters"},
		{[]string{"CONFIG", "SET", "latency-tracking-info-percentiles", "101"}, "-ERR CONFIG SET failed (possibly related to argument 'latency-tracking-info-percentiles') - latency-tracking-info-percentiles parameters should sit between [0.0,100.0]"},
	}
	for _, tc := range cases {
		if got := r.Do(tc.args...); got != tc.want {
			t.Errorf("%v = %s, want %s", tc.args, got, tc.want)
		}
	}
	lat = parseInfo(t, strings.TrimPrefix(r.Do("INFO", "latencystats"), "$"))["latencystats"]
	if !regexp.MustCompile(`^p10=\d+\.\d{3},p100=\d+\.\d{3}$`).MatchString(lat["latency_percentiles_usec_set"]) {
		t.Errorf("latencystats with 10 100 = %v", lat)
	}
	// latency-tracking no: nothing recorded, the section is empty, the
	// histograms stay readable.
	r.Do("CONFIG", "SET", "latency-tracking", "no")
	r.Do("GET", "k")
	if got := r.Do("INFO", "latencystats"); got != "$# Latencystats\r\n" {
		t.Errorf("INFO latencystats with tracking off = %q", got)
	}
	if !entry("get", 2).MatchString(r.Do("LATENCY", "HISTOGRAM", "get")) {
		t.Errorf("histogram changed while tracking was off")
	}
	r.Do("CONFIG", "SET", "latency-tracking", "yes")
	r.Do("CONFIG", "RESETSTAT")
	if got := r.Do("LATENCY", "HISTOGRAM", "get"); got != "*[]" {
		t.Errorf("after RESETSTAT: %s", got)
	}
}

// TestAdminLastSave: with nothing saved, LASTSAVE is the start time, the
// same as INFO persistence's rdb_last_save_time (Redis counts the dataset
// as saved when it starts).
func TestAdminLastSave(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	got := r.Do("LASTSAVE")
	info := parseInfo(t, strings.TrimPrefix(r.Do("INFO", "persistence"), "$"))
	if want := ":" + info["persistence"]["rdb_last_save_time"]; got != want || got == ":" {
		t.Errorf("LASTSAVE = %q, want %q", got, want)
	}
	if got := r.Do("LASTSAVE", "x"); got != "-ERR wrong number of arguments for 'lastsave' command" {
		t.Errorf("LASTSAVE x = %q", got)
	}
}
