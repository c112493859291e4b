package server

import (
	"bufio"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kvd/kvd/proto"
)

// Config is the server configuration. Values that change at runtime
// (CONFIG SET) and are read on hot paths are atomics; the canonical text
// of every parameter lives in the parameter table (CONFIG GET).
type Config struct {
	Port              atomic.Int64
	Workers           int
	Databases         int
	MaxClients        atomic.Int64
	ProtoMaxBulkLen   atomic.Int64
	QueryBufferLimit  atomic.Int64
	OutputBufferLimit atomic.Int64 // hard limit for push (pubsub/monitor) clients, bytes; 0 = none
	Hz                atomic.Int64
	TCPKeepAlive      atomic.Int64
	SlowlogSlower     atomic.Int64 // microseconds; <0 disables
	SlowlogMaxLen     atomic.Int64
	LatencyThreshold  atomic.Int64 // milliseconds; 0 disables
	LatencyTracking   atomic.Bool  // latency-tracking: per-command latency histograms
	TrackingMaxKeys   atomic.Int64 // tracking-table-max-keys (tracking.go)

	// Adaptive sharding (shard/balance.go, server/cmd_workers.go).
	RebalanceInterval  atomic.Int64 // rebalance-interval-ms; 0 = balancer and scaler off
	RebalanceThreshold atomic.Int64 // percent over the mean busy; 0 = no slot balancing
	WorkersMin         atomic.Int64
	WorkersMax         atomic.Int64
	ScaleUpBusy        atomic.Int64 // percent
	ScaleDownBusy      atomic.Int64 // percent
	ScaleHold          atomic.Int64 // seconds
	// WorkersHook, when set, applies CONFIG SET workers N to the running
	// engine (n already resolved: 0 means the number of CPUs); its error
	// rejects the change.
	WorkersHook func(n int) error

	// NotifyEvents holds notify-keyspace-events as effective NotifyClass
	// flags (notify.go).
	NotifyEvents atomic.Uint32

	// outLimits is client-output-buffer-limit, per class (outbuf.go).
	outLimits atomic.Pointer[outputLimits]

	// Enc holds the encoding thresholds the type families read on every
	// write (OBJECT ENCODING follows them, as in Redis).
	Enc EncodingLimits

	// Clock, when set, replaces the wall clock of the keyspace (tests).
	Clock func() int64
	// Logger receives the server's logs.
	Logger   *slog.Logger
	LogLevel *slog.LevelVar
	// File is the absolute path of the configuration file LoadFile read
	// first ("" when none): INFO config_file, CONFIG REWRITE.
	File string

	mu     sync.Mutex // guards values and the string fields below
	values map[string]string
	pass   string
	bind   []string
}

// EncodingLimits are the *-max-listpack-* / *-max-intset-* thresholds.
type EncodingLimits struct {
	HashMaxListpackEntries atomic.Int64
	HashMaxListpackValue   atomic.Int64
	ListMaxListpackSize    atomic.Int64
	SetMaxIntsetEntries    atomic.Int64
	SetMaxListpackEntries  atomic.Int64
	SetMaxListpackValue    atomic.Int64
	ZSetMaxListpackEntries atomic.Int64
	ZSetMaxListpackValue   atomic.Int64
	HLLSparseMaxBytes      atomic.Int64
}

// param describes one configuration parameter.
type param struct {
	name     string
	aliases  []string
	kind     paramKind
	def      string
	min, max int64 // bounds of kInt and kMemory values
	// unsigned compares the bounds and prints them as unsigned, as Redis
	// does for its size_t, unsigned and unsigned long long configs (so a
	// -1 is out of range as 18446744073709551615); max -1 is then
	// ULLONG_MAX.
	unsigned  bool
	enum      []string
	immutable bool
	apply     func(c *Config, v string) // called with the canonical value
}

type paramKind uint8

const (
	kString paramKind = iota
	kInt
	kMemory
	kBool
	kEnum
	kSpecial // multi-value strings validated by apply-time checks
)

var params = []*param{
	{name: "port", kind: kInt, def: "6379", min: 0, max: 65535, immutable: true, apply: func(c *Config, v string) { c.Port.Store(atoi(v)) }},
	{name: "bind", kind: kSpecial, def: "127.0.0.1 -::1", immutable: true, apply: func(c *Config, v string) { c.bind = strings.Fields(v) }},
	{name: "workers", kind: kInt, def: "0", min: 0, max: 1024},
	{name: "rebalance-interval-ms", kind: kInt, def: "0", min: 0, max: 3600000, apply: func(c *Config, v string) { c.RebalanceInterval.Store(atoi(v)) }},
	{name: "rebalance-threshold", kind: kInt, def: "20", min: 0, max: 1000, apply: func(c *Config, v string) { c.RebalanceThreshold.Store(atoi(v)) }},
	{name: "workers-min", kind: kInt, def: "1", min: 1, max: 1024, apply: func(c *Config, v string) { c.WorkersMin.Store(atoi(v)) }},
	{name: "workers-max", kind: kInt, def: strconv.Itoa(runtime.GOMAXPROCS(0)), min: 1, max: 1024, apply: func(c *Config, v string) { c.WorkersMax.Store(atoi(v)) }},
	{name: "scale-up-busy", kind: kInt, def: "80", min: 1, max: 100, apply: func(c *Config, v string) { c.ScaleUpBusy.Store(atoi(v)) }},
	{name: "scale-down-busy", kind: kInt, def: "35", min: 0, max: 100, apply: func(c *Config, v string) { c.ScaleDownBusy.Store(atoi(v)) }},
	{name: "scale-hold-seconds", kind: kInt, def: "10", min: 1, max: 86400, apply: func(c *Config, v string) { c.ScaleHold.Store(atoi(v)) }},
	{name: "databases", kind: kInt, def: "16", min: 1, max: 1 << 20, immutable: true},
	{name: "requirepass", kind: kString, def: "", apply: func(c *Config, v string) { c.pass = v }},
	{name: "maxclients", kind: kInt, def: "10000", min: 1, max: math.MaxUint32, unsigned: true, apply: func(c *Config, v string) { c.MaxClients.Store(atoi(v)) }},
	{name: "loglevel", kind: kEnum, def: "notice", enum: []string{"debug", "verbose", "notice", "warning"}, apply: func(c *Config, v string) {
		if c.LogLevel != nil {
			c.LogLevel.Set(slogLevel(v))
		}
	}},
	{name: "logfile", kind: kString, def: "", immutable: true},
	{name: "proto-max-bulk-len", kind: kMemory, def: "536870912", min: 1024 * 1024, max: math.MaxInt64, apply: func(c *Config, v string) { c.ProtoMaxBulkLen.Store(atoi(v)) }},
	{name: "client-query-buffer-limit", kind: kMemory, def: "1073741824", min: 1024 * 1024, max: math.MaxInt64, unsigned: true, apply: func(c *Config, v string) { c.QueryBufferLimit.Store(atoi(v)) }},
	{name: "client-output-buffer-limit", kind: kSpecial, def: "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", apply: applyOutputLimit},
	{name: "hz", kind: kInt, def: "10", min: 0, max: math.MaxInt32, apply: func(c *Config, v string) { c.Hz.Store(atoi(v)) }}, // clamped to 1..500 in canonical
	{name: "timeout", kind: kInt, def: "0", min: 0, max: math.MaxInt32},
	{name: "tcp-keepalive", kind: kInt, def: "300", min: 0, max: math.MaxInt32, apply: func(c *Config, v string) { c.TCPKeepAlive.Store(atoi(v)) }},
	{name: "tcp-backlog", kind: kInt, def: "511", min: 0, max: math.MaxInt32, immutable: true},
	{name: "slowlog-log-slower-than", kind: kInt, def: "10000", min: -1, max: math.MaxInt64, apply: func(c *Config, v string) { c.SlowlogSlower.Store(atoi(v)) }},
	{name: "slowlog-max-len", kind: kInt, def: "128", min: 0, max: math.MaxInt64, unsigned: true, apply: func(c *Config, v string) { c.SlowlogMaxLen.Store(atoi(v)) }},
	{name: "latency-monitor-threshold", kind: kInt, def: "0", min: 0, max: math.MaxInt64, apply: func(c *Config, v string) { c.LatencyThreshold.Store(atoi(v)) }},
	{name: "latency-tracking", kind: kBool, def: "yes", apply: func(c *Config, v string) { c.LatencyTracking.Store(v == "yes") }},
	{name: "latency-tracking-info-percentiles", kind: kSpecial, def: "50 99 99.9"},
	{name: "maxmemory", kind: kMemory, def: "0", min: 0, max: -1, unsigned: true},
	{name: "maxmemory-policy", kind: kEnum, def: "noeviction", enum: []string{"volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru", "allkeys-lfu", "allkeys-random", "noeviction"}},
	{name: "maxmemory-samples", kind: kInt, def: "5", min: 1, max: math.MaxInt32},
	{name: "notify-keyspace-events", kind: kString, def: ""}, // validated in canonical, applied in Set (notify.go)
	{name: "appendonly", kind: kBool, def: "no"},
	{name: "appendfsync", kind: kEnum, def: "everysec", enum: []string{"everysec", "always", "no"}},
	{name: "save", kind: kSpecial, def: ""},
	{name: "dir", kind: kSpecial, def: "."},
	{name: "dbfilename", kind: kString, def: "dump.rdb"},
	{name: "appendfilename", kind: kString, def: "appendonly.aof", immutable: true},
	{name: "daemonize", kind: kBool, def: "no", immutable: true},
	{name: "protected-mode", kind: kBool, def: "yes"},
	{name: "io-threads", kind: kInt, def: "1", min: 1, max: 128, immutable: true},
	{name: "lazyfree-lazy-eviction", kind: kBool, def: "no"},
	{name: "lazyfree-lazy-expire", kind: kBool, def: "no"},
	{name: "lazyfree-lazy-server-del", kind: kBool, def: "no"},
	{name: "lazyfree-lazy-user-del", kind: kBool, def: "no"},
	{name: "lazyfree-lazy-user-flush", kind: kBool, def: "no"},
	{name: "active-expire-effort", kind: kInt, def: "1", min: 1, max: 10},
	{name: "activedefrag", kind: kBool, def: "no"},
	{name: "replica-read-only", kind: kBool, def: "yes", aliases: []string{"slave-read-only"}},
	{name: "cluster-enabled", kind: kBool, def: "no", immutable: true},
	{name: "lua-time-limit", kind: kInt, def: "5000", min: 0, max: math.MaxInt64, aliases: []string{"busy-reply-threshold"}},
	{name: "tracking-table-max-keys", kind: kInt, def: "1000000", min: 0, max: math.MaxInt64, unsigned: true, apply: func(c *Config, v string) { c.TrackingMaxKeys.Store(atoi(v)) }},
	{name: "enable-debug-command", kind: kEnum, def: "yes", enum: []string{"no", "yes", "local"}, immutable: true},
	// Encoding thresholds: accepted and reported so tools can read and set
	// them; kvd's encodings follow them where it has a compact form.
	{name: "hash-max-listpack-entries", kind: kInt, def: "512", min: 0, max: math.MaxInt64, unsigned: true, aliases: []string{"hash-max-ziplist-entries"}, apply: func(c *Config, v string) { c.Enc.HashMaxListpackEntries.Store(atoi(v)) }},
	{name: "hash-max-listpack-value", kind: kMemory, def: "64", min: 0, max: math.MaxInt64, unsigned: true, aliases: []string{"hash-max-ziplist-value"}, apply: func(c *Config, v string) { c.Enc.HashMaxListpackValue.Store(atoi(v)) }},
	{name: "list-max-listpack-size", kind: kInt, def: "-2", min: math.MinInt32, max: math.MaxInt32, aliases: []string{"list-max-ziplist-size"}, apply: func(c *Config, v string) { c.Enc.ListMaxListpackSize.Store(atoi(v)) }},
	{name: "list-compress-depth", kind: kInt, def: "0", min: 0, max: math.MaxInt32},
	{name: "set-max-intset-entries", kind: kInt, def: "512", min: 0, max: math.MaxInt64, unsigned: true, apply: func(c *Config, v string) { c.Enc.SetMaxIntsetEntries.Store(atoi(v)) }},
	{name: "set-max-listpack-entries", kind: kInt, def: "128", min: 0, max: math.MaxInt64, unsigned: true, apply: func(c *Config, v string) { c.Enc.SetMaxListpackEntries.Store(atoi(v)) }},
	{name: "set-max-listpack-value", kind: kMemory, def: "64", min: 0, max: math.MaxInt64, unsigned: true, apply: func(c *Config, v string) { c.Enc.SetMaxListpackValue.Store(atoi(v)) }},
	{name: "zset-max-listpack-entries", kind: kInt, def: "128", min: 0, max: math.MaxInt64, unsigned: true, aliases: []string{"zset-max-ziplist-entries"}, apply: func(c *Config, v string) { c.Enc.ZSetMaxListpackEntries.Store(atoi(v)) }},
	{name: "zset-max-listpack-value", kind: kMemory, def: "64", min: 0, max: math.MaxInt64, unsigned: true, aliases: []string{"zset-max-ziplist-value"}, apply: func(c *Config, v string) { c.Enc.ZSetMaxListpackValue.Store(atoi(v)) }},
	{name: "hll-sparse-max-bytes", kind: kMemory, def: "3000", min: 0, max: math.MaxInt64, unsigned: true, apply: func(c *Config, v string) { c.Enc.HLLSparseMaxBytes.Store(atoi(v)) }},
	{name: "stream-node-max-bytes", kind: kMemory, def: "4096", min: 0, max: math.MaxInt64, unsigned: true},
	{name: "stream-node-max-entries", kind: kInt, def: "100", min: 0, max: math.MaxInt64},
	{name: "flash-push-interval-ms", kind: kInt, def: "100", min: 1, max: 1 << 31}, // flash.go
}

var paramIndex = func() map[string]*param {
	m := make(map[string]*param)
	for _, p := range params {
		m[p.name] = p
		for _, a := range p.aliases {
			m[a] = p
		}
	}
	return m
}()

// DefaultConfig returns the defaults: Redis's, with as many workers as CPUs.
func DefaultConfig() *Config {
	c := &Config{values: make(map[string]string), LogLevel: new(slog.LevelVar)}
	for _, p := range params {
		c.values[p.name] = p.def
		if p.apply != nil {
			p.apply(c, p.def)
		}
	}
	c.Workers = runtime.GOMAXPROCS(0)
	c.values["workers"] = strconv.Itoa(c.Workers)
	c.Databases = 16
	return c
}

// Set validates and sets one parameter (config file, flags, CONFIG SET).
// It returns the reason in Redis's words when the value is rejected.
func (c *Config) Set(name, value string, runtimeSet bool) error {
	p := paramIndex[strings.ToLower(name)]
	if p == nil {
		return errUnknownParam
	}
	if runtimeSet && p.immutable {
		return fmt.Errorf("can't set immutable config")
	}
	v, err := p.canonical(value)
	if err != nil {
		return err
	}
	if runtimeSet && p.name == "workers" && c.WorkersHook != nil {
		n := int(atoi(v))
		if n == 0 {
			n = runtime.GOMAXPROCS(0)
		}
		if err := c.WorkersHook(n); err != nil {
			return err
		}
		return nil // the hook records the new count (SetWorkersValue)
	}
	c.mu.Lock()
	c.values[p.name] = v
	if p.apply != nil {
		p.apply(c, v)
	}
	c.mu.Unlock()
	switch p.name {
	case "workers":
		c.Workers = int(atoi(v))
		if c.Workers == 0 {
			c.Workers = runtime.GOMAXPROCS(0)
			c.mu.Lock()
			c.values["workers"] = strconv.Itoa(c.Workers)
			c.mu.Unlock()
		}
	case "databases":
		c.Databases = int(atoi(v))
	case "notify-keyspace-events":
		applyNotifyEvents(c, value)
	}
	return nil
}

var errUnknownParam = fmt.Errorf("unknown parameter")

// SetWorkersValue records the running worker count as the value of
// "workers" (CONFIG GET) after the engine changed it.
func (c *Config) SetWorkersValue(n int) {
	c.mu.Lock()
	c.values["workers"] = strconv.Itoa(n)
	c.mu.Unlock()
}

// Get returns the canonical value of a parameter ("" and false if unknown).
func (c *Config) Get(name string) (string, bool) {
	p := paramIndex[strings.ToLower(name)]
	if p == nil {
		return "", false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.values[p.name], true
}

// Match returns the name/value pairs of every parameter (aliases included,
// as Redis 7 does) whose name matches one of the glob patterns.
func (c *Config) Match(patterns []string) [][2]string {
	c.mu.Lock()
	defer c.mu.Unlock()
	seen := map[string]bool{}
	var out [][2]string
	for _, pat := range patterns {
		pat = strings.ToLower(pat)
		for name, p := range paramIndex {
			if seen[name] {
				continue
			}
			if GlobMatch([]byte(pat), []byte(name), true) {
				seen[name] = true
				out = append(out, [2]string{name, c.values[p.name]})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0] < out[j][0] })
	return out
}

// RequirePass is the password of the default user ("" = none).
func (c *Config) RequirePass() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.pass
}

// BindAddrs are the addresses to listen on. A leading '-' (Redis: "skip if
// unavailable") is dropped, and the IPv6 loopback is only used when named
// without it.
func (c *Config) BindAddrs() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, a := range c.bind {
		if strings.HasPrefix(a, "-") {
			continue
		}
		if a == "*" {
			a = "0.0.0.0"
		}
		out = append(out, a)
	}
	if len(out) == 0 {
		out = []string{"127.0.0.1"}
	}
	return out
}

func (p *param) canonical(v string) (string, error) {
	if p.name == "notify-keyspace-events" {
		return canonicalNotifyEvents(v)
	}
	switch p.kind {
	case kInt:
		n, ok := strictInt64([]byte(v)) // Redis's string2ll
		if !ok {
			return "", fmt.Errorf("argument couldn't be parsed into an integer")
		}
		if err := p.bounds(n); err != nil {
			return "", err
		}
		if p.name == "hz" { // a hint: Redis accepts any int and keeps 1..500
			n = min(max(n, 1), 500)
		}
		return strconv.FormatInt(n, 10), nil
	case kMemory:
		u, ok := memToULL(v) // outbuf.go
		if !ok {
			return "", fmt.Errorf("argument must be a memory value")
		}
		if err := p.bounds(int64(u)); err != nil { // a long long, as in Redis
			return "", err
		}
		return strconv.FormatUint(u, 10), nil
	case kBool:
		switch strings.ToLower(v) {
		case "yes":
			if p.name == "activedefrag" { // Redis's reply when built without its Jemalloc
				return "", fmt.Errorf("Active defragmentation cannot be enabled: it requires a Redis server compiled with a modified Jemalloc like the one shipped by default with the Redis source distribution")
			}
			return "yes", nil
		case "no":
			return "no", nil
		}
		return "", fmt.Errorf("argument must be 'yes' or 'no'")
	case kEnum:
		lv := strings.ToLower(v)
		for _, e := range p.enum {
			if e == lv {
				return e, nil
			}
		}
		return "", fmt.Errorf("argument(s) must be one of the following: %s", strings.Join(p.enum, ", "))
	case kSpecial:
		if p.name == "client-output-buffer-limit" {
			return canonicalOutputLimit(v)
		}
		if p.name == "latency-tracking-info-percentiles" {
			return parsePercentiles(v)
		}
		if p.name == "save" {
			f := strings.Fields(v)
			if len(f)%2 != 0 {
				return "", fmt.Errorf("Invalid save parameters")
			}
			for _, x := range f {
				if _, err := strconv.ParseInt(x, 10, 64); err != nil {
					return "", fmt.Errorf("Invalid save parameters")
				}
			}
			return strings.Join(f, " "), nil
		}
		if p.name == "dir" {
			// Reported absolute, as Redis does after its chdir. kvd does
			// not chdir: in-process servers (tests) share one process.
			abs, err := filepath.Abs(v)
			if err != nil {
				return "", err
			}
			if st, err := os.Stat(abs); err != nil || !st.IsDir() {
				return "", fmt.Errorf("No such file or directory")
			}
			return abs, nil
		}
		return strings.Join(strings.Fields(v), " "), nil
	}
	return v, nil
}

// bounds is Redis's numericBoundaryCheck: n (a long long) against the
// bounds, compared as unsigned for unsigned configs.
func (p *param) bounds(n int64) error {
	if p.unsigned {
		if uint64(n) < uint64(p.min) || uint64(n) > uint64(p.max) {
			return fmt.Errorf("argument must be between %d and %d inclusive", uint64(p.min), uint64(p.max))
		}
		return nil
	}
	if n < p.min || n > p.max {
		return fmt.Errorf("argument must be between %d and %d inclusive", p.min, p.max)
	}
	return nil
}

// ParseMemory parses a Redis memory value: a number with an optional unit
// k, kb, m, mb, g, gb (case-insensitive; k = 1000, kb = 1024).
func ParseMemory(s string) (int64, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	mul := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"g", 1e9}, {"m", 1e6}, {"k", 1e3}, {"b", 1}} {
		if strings.HasSuffix(s, u.suf) {
			s, mul = s[:len(s)-len(u.suf)], u.m
			break
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, false
	}
	return n * mul, true
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func slogLevel(v string) slog.Level {
	switch v {
	case "debug":
		return slog.LevelDebug
	case "verbose":
		return slog.LevelDebug + 2
	case "warning":
		return slog.LevelWarn
	case "nothing":
		return slog.LevelError + 8
	}
	return slog.LevelInfo
}

// LoadFile reads a redis.conf-style file: one "directive arg ..." per line,
// '#' comments, quoted arguments as in redis.conf. Errors name the line.
func (c *Config) LoadFile(name string) error {
	if c.File == "" {
		if abs, err := filepath.Abs(name); err == nil {
			c.File = abs
		}
	}
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	return c.Load(f, name)
}

// Load reads redis.conf syntax from r.
func (c *Config) Load(r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for ln := 1; sc.Scan(); ln++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		args, ok := proto.SplitArgs([]byte(line), nil)
		if !ok {
			return fmt.Errorf("%s:%d: unbalanced quotes in configuration line", name, ln)
		}
		if len(args) < 1 {
			continue
		}
		dir := strings.ToLower(string(args[0]))
		vals := make([]string, 0, len(args)-1)
		for _, a := range args[1:] {
			vals = append(vals, string(a))
		}
		if dir == "include" {
			if len(vals) != 1 {
				return fmt.Errorf("%s:%d: include takes one file", name, ln)
			}
			if err := c.LoadFile(vals[0]); err != nil {
				return err
			}
			continue
		}
		if err := c.Set(dir, strings.Join(vals, " "), false); err != nil {
			if err == errUnknownParam {
				return fmt.Errorf("%s:%d: Bad directive or wrong number of arguments: %q", name, ln, dir)
			}
			return fmt.Errorf("%s:%d: %s: %v", name, ln, dir, err)
		}
	}
	return sc.Err()
}

// GlobMatch matches s against a Redis glob pattern (stringmatchlen): *, ?,
// [abc], [^a], [a-z], and \ escapes. It backtracks only to the last '*',
// so it runs in O(len(pat)*len(s)) whatever the pattern.
func GlobMatch(pat, s []byte, nocase bool) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pat) {
			switch pat[p] {
			case '*':
				starP, starI = p, i
				p++
				continue
			case '?':
				p++
				i++
				continue
			case '[':
				if np, ok := matchClass(pat, p+1, s[i], nocase); ok {
					p = np
					i++
					continue
				}
			case '\\':
				if p+1 < len(pat) {
					if eqByte(pat[p+1], s[i], nocase) {
						p += 2
						i++
						continue
					}
					break
				}
				fallthrough
			default:
				if eqByte(pat[p], s[i], nocase) {
					p++
					i++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		starI++
		p, i = starP+1, starI
	}
	for p < len(pat) && pat[p] == '*' {
		p++
	}
	return p == len(pat)
}

// matchClass matches c against the class starting at pat[p] (just after
// '['); it returns the index after the closing ']' and whether c matched.
func matchClass(pat []byte, p int, c byte, nocase bool) (int, bool) {
	not := p < len(pat) && pat[p] == '^'
	if not {
		p++
	}
	match := false
	for p < len(pat) && pat[p] != ']' {
		switch {
		case pat[p] == '\\' && p+1 < len(pat):
			match = match || pat[p+1] == c
			p += 2
		case p+2 < len(pat) && pat[p+1] == '-':
			lo, hi, x := pat[p], pat[p+2], c
			if lo > hi {
				lo, hi = hi, lo
			}
			if nocase {
				x, lo, hi = lower(x), lower(lo), lower(hi)
			}
			match = match || (x >= lo && x <= hi)
			p += 3
		default:
			match = match || eqByte(pat[p], c, nocase)
			p++
		}
	}
	if p < len(pat) {
		p++ // ']'
	}
	return p, match != not
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func eqByte(a, b byte, nocase bool) bool {
	if nocase {
		return lower(a) == lower(b)
	}
	return a == b
}
