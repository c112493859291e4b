package server_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kvd/kvd/server/servertest"
)

// lookTool finds an outside program, skipping the test when it is missing
// unless KVD_REQUIRE_TOOLS=1 (CI), where a missing tool fails.
func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if servertest.RequireTools() {
			t.Fatalf("%s is required (KVD_REQUIRE_TOOLS=1) but not installed: %v", name, err)
		}
		t.Skipf("%s not installed (apt-get install redis-tools); skipping", name)
	}
	return p
}

func hostPort(addr string) (string, string) {
	i := strings.LastIndexByte(addr, ':')
	return addr[:i], addr[i+1:]
}

func TestToolsRedisCli(t *testing.T) {
	cli := lookTool(t, "redis-cli")
	s := servertest.Start(t, servertest.Workers(2))
	host, port := hostPort(s.Addr)
	run := func(args ...string) string {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, cli, append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("redis-cli %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"PING"}, "PONG"},
		{[]string{"SET", "greeting", "hello world"}, "OK"},
		{[]string{"GET", "greeting"}, "hello world"},
		{[]string{"MSET", "k1", "v1", "k2", "v2", "k3", "v3"}, "OK"},
		{[]string{"MGET", "k1", "k2", "nokey", "k3"}, "v1\nv2\n\nv3"},
		{[]string{"DEL", "k1", "k2", "nokey"}, "2"},
		{[]string{"DBSIZE"}, "2"},
		{[]string{"GET"}, "ERR wrong number of arguments for 'get' command"},
		{[]string{"NOSUCHCMD", "x"}, "ERR unknown command 'NOSUCHCMD', with args beginning with: 'x'"},
	}
	for _, c := range cases {
		if got := run(c.args...); got != c.want {
			t.Errorf("redis-cli %v = %q, want %q", c.args, got, c.want)
		}
	}
	// Piped input exercises redis-cli's pipelined mode against kvd.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cli, "-h", host, "-p", port)
	cmd.Stdin = strings.NewReader("SET piped 1\nGET piped\nDEL piped\n")
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "OK\n1\n1" {
		t.Errorf("piped redis-cli: %v %q", err, out)
	}
}

func TestToolsRedisBenchmark(t *testing.T) {
	bench := lookTool(t, "redis-benchmark")
	s := servertest.Start(t, servertest.Workers(2))
	host, port := hostPort(s.Addr)
	for _, pipeline := range []string{"1", "16"} {
		// Bounded: redis-benchmark spins forever if its server goes away.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		out, err := exec.CommandContext(ctx, bench, "-h", host, "-p", port, "-r", "100000",
			"-t", "ping,set,get,incr,mset", "-n", "2000", "-c", "8", "-P", pipeline, "-q").CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("redis-benchmark -P %s: %v\n%s", pipeline, err, out)
		}
		text := strings.ReplaceAll(string(out), "\r", "\n")
		for _, test := range []string{"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "MSET (10 keys)"} {
			if !strings.Contains(text, test+": ") || !strings.Contains(text, "requests per second") {
				t.Errorf("-P %s: no result line for %s in:\n%s", pipeline, test, text)
			}
		}
		if strings.Contains(text, "ERR") || strings.Contains(text, "Error") || strings.Contains(text, "WARNING") {
			t.Errorf("-P %s: errors in redis-benchmark output:\n%s", pipeline, text)
		}
	}
}

// TestToolsRedisBenchmarkDefaultList runs redis-benchmark's default test
// list (every data type it knows) and requires a result line for each test
// and no error.
func TestToolsRedisBenchmarkDefaultList(t *testing.T) {
	bench := lookTool(t, "redis-benchmark")
	s := servertest.Start(t, servertest.Workers(2))
	host, port := hostPort(s.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bench, "-h", host, "-p", port, "-r", "100000",
		"-n", "1000", "-c", "4", "-q").CombinedOutput()
	if err != nil {
		t.Fatalf("redis-benchmark: %v\n%s", err, out)
	}
	text := strings.ReplaceAll(string(out), "\r", "\n")
	for _, test := range []string{"PING_INLINE", "PING_MBULK", "SET", "GET", "INCR", "LPUSH", "RPUSH",
		"LPOP", "RPOP", "SADD", "HSET", "SPOP", "ZADD", "ZPOPMIN", "LPUSH (needed to benchmark LRANGE)",
		"LRANGE_100 (first 100 elements)", "LRANGE_300 (first 300 elements)",
		"LRANGE_500 (first 500 elements)", "LRANGE_600 (first 600 elements)", "MSET (10 keys)"} {
		if !strings.Contains(text, "\n"+test+": ") && !strings.HasPrefix(text, test+": ") {
			t.Errorf("no result line for %s", test)
		}
	}
	if strings.Contains(text, "ERR") || strings.Contains(text, "Error") || strings.Contains(text, "WARNING") {
		t.Errorf("errors in redis-benchmark output:\n%s", text)
	}
}
