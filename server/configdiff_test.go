package server_test

import (
	"testing"

	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
)

// TestConfigDiffRedis sets every parameter kvd shares with redis-server
// 7.0.15 to each of a pool of good and bad values on both servers and
// compares the CONFIG SET replies (Redis's error texts: parse errors per
// type, bounds printed signed or unsigned, enum lists in Redis's order)
// and what CONFIG GET says afterwards (memory units expanded, hz kept in
// 1..500, 2^64-1 for maxmemory).
func TestConfigDiffRedis(t *testing.T) {
	sock := redistest.Start(t)
	srv := servertest.Start(t)
	k, r := fuzzDial(t, "tcp", srv.Addr), fuzzDial(t, "unix", sock)
	// Differ by design or by instance: addresses, files, persistence,
	// passwords, logging, the worker shape; immutable ones answer alike
	// but are set at start-up differently.
	skip := map[string]bool{"port": true, "bind": true, "dir": true, "logfile": true, "dbfilename": true,
		"appendfilename": true, "save": true, "appendonly": true, "requirepass": true, "daemonize": true,
		"loglevel": true, "databases": true, "io-threads": true, "tcp-backlog": true, "cluster-enabled": true,
		"enable-debug-command": true, "notify-keyspace-events": true, "client-output-buffer-limit": true}
	get := func(c *fuzzConn) map[string]string {
		m := map[string]string{}
		e := fuzzElems(c.do("CONFIG", "GET", "*"))
		for i := 0; i+1 < len(e); i += 2 {
			m[e[i]] = e[i+1]
		}
		return m
	}
	kp, rp := get(k), get(r)
	values := []string{"abc", "-1", "0", "1", "yes", "no", "100mb", "1gb", "1GB", "3k", "", "b",
		"9223372036854775807", "9223372036854775808", "18446744073709551615", "99999999999999999999",
		"20000000000gb", "10", "+5", " 5", "07", "5 60", "allkeys-lru", "everysec", "1.5", "-2147483649",
		"2147483648", "4294967296", "50 99", "501"}
	shared, sets := 0, 0
	for name, kdef := range kp {
		rdef, ok := rp[name]
		if !ok || skip[name] {
			continue
		}
		shared++
		for _, v := range values {
			sets++
			if name == "maxclients" && len(v) > 6 && v[0] != '-' {
				continue // Redis would spend minutes lowering its fd limit from there, step by step
			}
			a, b := k.do("CONFIG", "SET", name, v), r.do("CONFIG", "SET", name, v)
			if a != b {
				t.Errorf("CONFIG SET %s %q: kvd %q, redis %q", name, v, a, b)
				continue
			}
			if a, b := k.do("CONFIG", "GET", name), r.do("CONFIG", "GET", name); a != b {
				t.Errorf("CONFIG GET %s after SET %q: kvd %q, redis %q", name, v, a, b)
			}
			k.do("CONFIG", "SET", name, kdef)
			r.do("CONFIG", "SET", name, rdef)
		}
	}
	t.Logf("%d shared parameters, %d CONFIG SETs compared", shared, sets)
	if shared < 40 {
		t.Errorf("only %d shared parameters", shared)
	}
}
