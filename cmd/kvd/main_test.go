package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/kvd/kvd/server"
)

// runCLI parses args like the real binary and returns the configuration
// the server would have started with.
func runCLI(t *testing.T, args ...string) (*server.Config, error) {
	t.Helper()
	var got *server.Config
	cmd := newRootCmd(func(cfg *server.Config, _ string) error {
		got = cfg
		return nil
	})
	cmd.SetArgs(args)
	cmd.SetOut(new(strings.Builder))
	cmd.SetErr(new(strings.Builder))
	err := cmd.Execute()
	return got, err
}

func get(t *testing.T, cfg *server.Config, name string) string {
	t.Helper()
	v, ok := cfg.Get(name)
	if !ok {
		t.Fatalf("unknown parameter %s", name)
	}
	return v
}

func TestCLIDefaults(t *testing.T) {
	cfg, err := runCLI(t)
	if err != nil {
		t.Fatal(err)
	}
	if get(t, cfg, "port") != "6379" || get(t, cfg, "databases") != "16" {
		t.Errorf("defaults: port %s databases %s", get(t, cfg, "port"), get(t, cfg, "databases"))
	}
	if addrs := cfg.BindAddrs(); len(addrs) != 1 || addrs[0] != "127.0.0.1" {
		t.Errorf("default bind = %v, want [127.0.0.1]", addrs)
	}
	// Adaptive by default: start with half the CPUs (at least one) and
	// let the balancer and scaler run.
	if want := max(1, runtime.GOMAXPROCS(0)/2); cfg.Workers != want {
		t.Errorf("workers = %d, want %d", cfg.Workers, want)
	}
	if get(t, cfg, "rebalance-interval-ms") != "1000" {
		t.Errorf("rebalance-interval-ms = %s, want 1000", get(t, cfg, "rebalance-interval-ms"))
	}
}

func TestCLIConfigFileAndFlags(t *testing.T) {
	dir := t.TempDir()
	inc := filepath.Join(dir, "inc.conf")
	os.WriteFile(inc, []byte("maxclients 77\n"), 0o644)
	conf := filepath.Join(dir, "kvd.conf")
	os.WriteFile(conf, []byte(`# a redis.conf-style file
port 7001
requirepass "pass word"
databases 4
slowlog-log-slower-than 5000
hash-max-ziplist-entries 99
include `+inc+`
`), 0o644)
	cfg, err := runCLI(t, "--config", conf, "--port", "7002", "--workers", "3")
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"port":                      "7002", // the flag overrides the file
		"databases":                 "4",    // from the file
		"requirepass":               "pass word",
		"slowlog-log-slower-than":   "5000",
		"hash-max-listpack-entries": "99", // old alias in the file
		"maxclients":                "77", // from the included file
		"workers":                   "3",
	} {
		if got := get(t, cfg, name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if cfg.Workers != 3 || cfg.Databases != 4 || cfg.RequirePass() != "pass word" {
		t.Errorf("typed fields: workers %d databases %d pass %q", cfg.Workers, cfg.Databases, cfg.RequirePass())
	}
}

func TestCLIErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.conf")
	os.WriteFile(bad, []byte("port 7000\nno-such-directive 1\n"), 0o644)
	if _, err := runCLI(t, "--config", bad); err == nil || !strings.Contains(err.Error(), "bad.conf:2") {
		t.Errorf("bad directive: err = %v, want one naming bad.conf:2", err)
	}
	if _, err := runCLI(t, "--port", "70000"); err == nil || !strings.Contains(err.Error(), "--port") {
		t.Errorf("bad port: err = %v", err)
	}
	if _, err := runCLI(t, "--config", filepath.Join(dir, "missing.conf")); err == nil {
		t.Error("missing config file: no error")
	}
	if _, err := runCLI(t, "extra-arg"); err == nil {
		t.Error("positional argument accepted")
	}
}
