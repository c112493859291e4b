package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// flashCmd benchmarks the flash sale (issue 6): one item, N units, LIMIT 1,
// many clients buying as distinct users. It compares kvd's FLASH.BUY (with
// PARTS = workers and PARTS = 1) with the usual Redis idiom on
// redis-server in the same run: one Lua script (EVALSHA) that checks the
// per-user set, checks and decrements the stock and appends the order.
//
//	go run ./bench flash [-units 100000] [-users 500000] [-c 200]
//	    [-workers 0] [-rounds 1] [-duration 60s] [-out bench/results]
//
// Both servers run on loopback ports of their own with persistence off;
// every run is bounded by -users and -duration. After each run it checks
// the books: oversold = successful buys beyond the stock (must be 0), and
// that the server's order log holds exactly the successful buys.
//
// Each run also records the CPU per request of the server (INFO cpu) and
// of this generator (getrusage). A fourth variant sends PING to redis over
// the same connections: the least server CPU a round trip costs here.
// Generator plus that floor bound the requests/s any server can reach on
// this machine's CPUs at a given pipeline depth, and the report prints
// that bound next to the 2x-redis target.
func flashCmd(argv []string) error {
	fs := flag.NewFlagSet("flash", flag.ExitOnError)
	units := fs.Int("units", 100000, "units of the item")
	users := fs.Int("users", 500000, "distinct buyers (one FLASH.BUY each)")
	clients := fs.Int("c", 200, "parallel connections")
	workers := fs.Int("workers", 0, "kvd --workers (0 = kvd's default)")
	rounds := fs.Int("rounds", 1, "interleaved rounds")
	duration := fs.Duration("duration", 60*time.Second, "cap on each run")
	out := fs.String("out", "bench/results", "results folder")
	extra := fs.String("kvd-args", "", "extra kvd arguments, space separated (e.g. --cpuprofile /tmp/cpu.out)")
	only := fs.String("only", "", "run only the variants whose name contains this (kvd, redis, PARTS=1 ...)")
	warmup := fs.Int("warmup", 20000, "buyers of an unreported warm-up sale on each server (0 = none)")
	pipes := fs.String("P", "1", "pipeline depths: buys per round trip per connection, comma separated")
	fs.Parse(argv)

	bin, cleanup, err := buildKvd()
	if err != nil {
		return err
	}
	defer cleanup()
	kvdArgs := []string{"--loglevel", "warning"}
	if *workers > 0 {
		kvdArgs = append(kvdArgs, "--workers", strconv.Itoa(*workers))
	}
	kvdArgs = append(kvdArgs, strings.Fields(*extra)...)
	kvd, err := startServer("kvd", bin, kvdArgs, false)
	if err != nil {
		return err
	}
	defer kvd.stop()
	redis, err := startServer("redis", "redis-server", []string{"--save", "", "--appendonly", "no", "--loglevel", "warning"}, false)
	if err != nil {
		return err
	}
	defer redis.stop()
	nw := *workers
	if nw == 0 {
		f, err := infoFields(kvd.port, "workers")
		if err == nil {
			nw, _ = strconv.Atoi(f["workers"])
		}
		if nw == 0 {
			nw = runtime.NumCPU()
		}
	}

	type variant struct {
		name  string
		port  int
		parts int // kvd only
		kind  flashKind
	}
	variants := []variant{
		{fmt.Sprintf("kvd PARTS=%d (workers)", nw), kvd.port, nw, flashKvd},
		{"kvd PARTS=1", kvd.port, 1, flashKvd},
		{"redis EVALSHA", redis.port, 0, flashRedis},
		// Not a sale: the same connections sending PING to redis, for the
		// least server CPU a round trip can cost on this machine.
		{"redis PING (floor)", redis.port, 0, flashPing},
	}
	// Warm both servers up (heap, connections, script cache) with a small
	// sale that is not reported.
	if *warmup > 0 {
		w := flashOpts{units: *warmup / 5, users: *warmup, clients: *clients, duration: *duration, pipeline: 1}
		for _, v := range variants {
			if _, err := runFlash(v.port, v.parts, v.kind, w); err != nil {
				return fmt.Errorf("warm-up %s: %w", v.name, err)
			}
		}
	}
	var depths []int
	for _, f := range strings.Split(*pipes, ",") {
		p, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || p < 1 {
			return fmt.Errorf("bad -P %q", *pipes)
		}
		depths = append(depths, p)
	}
	o := flashOpts{units: *units, users: *users, clients: *clients, duration: *duration}
	var results []flashResult
	for round := 1; round <= *rounds; round++ {
		for _, p := range depths {
			order := variants
			if round%2 == 0 {
				order = slices.Clone(variants)
				slices.Reverse(order)
			}
			for _, v := range order {
				if !strings.Contains(v.name, *only) {
					continue
				}
				o.pipeline = p
				res, err := runFlash(v.port, v.parts, v.kind, o)
				if err != nil {
					return fmt.Errorf("%s: %w", v.name, err)
				}
				res.Name, res.Round, res.Pipeline = v.name, round, p
				fmt.Fprintf(os.Stderr, "round %d P=%d %s: %.0f buys/s\n", round, p, v.name, res.BuysPerSec)
				results = append(results, res)
			}
		}
	}
	kvd.stop()
	redis.stop()

	fmt.Printf("\nflash sale: 1 item, %d units, LIMIT 1, %d clients, %d distinct users; kvd workers %d; %s\n\n",
		o.units, o.clients, o.users, nw, machine())
	fmt.Println("| server | P | round | buys/s | p50 ms | p99 ms | OK | SOLDOUT | other | oversold | log matches | server CPU µs/buy | generator CPU µs/buy |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, r := range results {
		fmt.Printf("| %s | %d | %d | %.0f | %.3f | %.3f | %d | %d | %d | %d | %v | %.2f | %.2f |\n",
			r.Name, r.Pipeline, r.Round, r.BuysPerSec, r.P50, r.P99, r.OK, r.SoldOut, r.Other, r.Oversold, r.LogMatches, r.ServerCPU, r.GenCPU)
	}
	// Ratios pair each kvd run with the Redis run of the same round and
	// depth (adjacent in time, so machine drift hits both alike); the
	// median over rounds is the figure to quote.
	redisRPS := map[[2]int]float64{}
	for _, r := range results {
		if r.Name == "redis EVALSHA" {
			redisRPS[[2]int{r.Round, r.Pipeline}] = r.BuysPerSec
		}
	}
	fmt.Println()
	ratios := map[string][]float64{}
	for _, p := range depths {
		for _, v := range variants {
			if v.kind != flashKvd {
				continue
			}
			var rs []float64
			for _, r := range results {
				if rb := redisRPS[[2]int{r.Round, p}]; r.Name == v.name && r.Pipeline == p && rb > 0 {
					rs = append(rs, r.BuysPerSec/rb)
				}
			}
			if len(rs) == 0 {
				continue
			}
			sort.Float64s(rs)
			key := fmt.Sprintf("P=%d %s / redis EVALSHA", p, v.name)
			ratios[key] = rs
			fmt.Printf("%s: median %.2fx (per round %s)\n", key, median(rs), fmtRatios(rs))
		}
	}
	// What the machine allows: the load generator's own CPU per buy (mostly
	// the kernel's loopback TCP work for one write and one read per round
	// trip) plus the least server CPU a round trip costs (redis answering
	// PING) bound the buys/s of any server sharing these CPUs.
	fmt.Println()
	bounds := map[string]float64{}
	for _, p := range depths {
		var gen, rb, floor []float64
		srv := map[string][]float64{}
		for _, r := range results {
			if r.Pipeline != p || r.GenCPU <= 0 {
				continue
			}
			srv[r.Name] = append(srv[r.Name], r.ServerCPU)
			switch r.Name {
			case "redis PING (floor)":
				floor = append(floor, r.ServerCPU)
				continue
			case "redis EVALSHA":
				rb = append(rb, r.BuysPerSec)
			}
			gen = append(gen, r.GenCPU)
		}
		if len(gen) == 0 || len(floor) == 0 {
			continue
		}
		sort.Float64s(gen)
		sort.Float64s(floor)
		bound := float64(runtime.NumCPU()) * 1e6 / (median(gen) + median(floor))
		bounds[fmt.Sprintf("P=%d", p)] = bound
		fmt.Printf("P=%d: generator %.2f µs + least server work (redis PING) %.2f µs of CPU per round-trip request: %d CPUs carry at most %.0f requests/s",
			p, median(gen), median(floor), runtime.NumCPU(), bound)
		if len(rb) > 0 {
			sort.Float64s(rb)
			fmt.Printf("; 2x redis EVALSHA = %.0f buys/s (%.2f of that bound)", 2*median(rb), 2*median(rb)/bound)
		}
		fmt.Println()
		for _, v := range variants {
			if xs := srv[v.name]; len(xs) > 0 {
				sort.Float64s(xs)
				fmt.Printf("  server CPU per request, %s: %.2f µs\n", v.name, median(xs))
			}
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	name := filepath.Join(*out, "flash-"+time.Now().UTC().Format("20060102-150405")+".json")
	b, _ := json.MarshalIndent(map[string]any{
		"when": time.Now().UTC().Format(time.RFC3339), "machine": machine(), "args": argv,
		"kvd_workers": nw, "units": o.units, "users": o.users, "clients": o.clients, "results": results,
		"ratios_per_round": ratios, "machine_bound_requests_per_sec": bounds,
	}, "", "  ")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "saved", name)
	return nil
}

type flashOpts struct {
	units, users, clients, pipeline int
	duration                        time.Duration
}

type flashResult struct {
	Name       string  `json:"name"`
	Round      int     `json:"round"`
	Pipeline   int     `json:"pipeline"`
	Buys       int64   `json:"buys"`
	Seconds    float64 `json:"seconds"`
	BuysPerSec float64 `json:"buys_per_sec"`
	P50        float64 `json:"p50_ms"`
	P99        float64 `json:"p99_ms"`
	OK         int64   `json:"ok"`
	SoldOut    int64   `json:"soldout"`
	Other      int64   `json:"other"`
	Oversold   int64   `json:"oversold"`
	LogMatches bool    `json:"log_matches"`
	// CPU microseconds per buy (user + system) of the server process (from
	// INFO cpu) and of this load generator (getrusage of this process).
	ServerCPU float64 `json:"server_cpu_us_per_buy"`
	GenCPU    float64 `json:"generator_cpu_us_per_buy"`
}

// selfCPU is this process's user + system CPU seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}

// The Redis idiom: KEYS stock, buyers set, orders list, order sequence;
// ARGV user, qty, limit (1: set membership).
const flashLua = `
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then
  return {'LIMIT', false, tonumber(redis.call('GET', KEYS[1]))}
end
local s = tonumber(redis.call('GET', KEYS[1]))
local q = tonumber(ARGV[2])
if s < q then return {'SOLDOUT', false, s} end
s = redis.call('DECRBY', KEYS[1], q)
redis.call('SADD', KEYS[2], ARGV[1])
local id = redis.call('INCR', KEYS[4])
redis.call('RPUSH', KEYS[3], id .. ':' .. ARGV[1] .. ':' .. q)
return {'OK', tostring(id), s}
`

// flashConn is a minimal RESP client.
type flashConn struct {
	nc net.Conn
	br *bufio.Reader
	wb []byte
}

func dialFlash(port int) (*flashConn, error) {
	nc, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		return nil, err
	}
	return &flashConn{nc: nc, br: bufio.NewReaderSize(nc, 16<<10)}, nil
}

func (c *flashConn) do(args ...string) (any, error) {
	r, err := c.pipeline([][]string{args})
	if err != nil {
		return nil, err
	}
	return r[0], nil
}

// pipeline sends commands in one write and reads their replies.
func (c *flashConn) pipeline(cmds [][]string) ([]any, error) {
	c.wb = c.wb[:0]
	for _, args := range cmds {
		c.appendCmd(args)
	}
	c.nc.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.nc.Write(c.wb); err != nil {
		return nil, err
	}
	out := make([]any, len(cmds))
	for i := range out {
		v, err := readRESP(c.br)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (c *flashConn) appendCmd(args []string) {
	c.wb = append(c.wb, '*')
	c.wb = strconv.AppendInt(c.wb, int64(len(args)), 10)
	c.wb = append(c.wb, '\r', '\n')
	for _, a := range args {
		c.wb = append(c.wb, '$')
		c.wb = strconv.AppendInt(c.wb, int64(len(a)), 10)
		c.wb = append(c.wb, '\r', '\n')
		c.wb = append(c.wb, a...)
		c.wb = append(c.wb, '\r', '\n')
	}
}

type respError string

func (e respError) Error() string { return string(e) }

// readRESP reads one RESP2 reply: strings, integers, nil, arrays; an error
// reply is returned as a respError value.
func readRESP(br *bufio.Reader) (any, error) {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return nil, err
	}
	if len(line) < 3 {
		return nil, errors.New("short reply")
	}
	body := string(line[1 : len(line)-2])
	switch line[0] {
	case '+':
		return body, nil
	case '-':
		return respError(body), nil
	case ':':
		return strconv.ParseInt(body, 10, 64)
	case '$':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		buf := make([]byte, n+2)
		if _, err := ioReadFull(br, buf); err != nil {
			return nil, err
		}
		return string(buf[:n]), nil
	case '*':
		n, _ := strconv.Atoi(body)
		if n < 0 {
			return nil, nil
		}
		out := make([]any, n)
		for i := range out {
			if out[i], err = readRESP(br); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("unexpected reply %q", line)
}

func ioReadFull(br *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := br.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func asInt(v any) int64 {
	switch x := v.(type) {
	case int64:
		return x
	case string:
		n, _ := strconv.ParseInt(x, 10, 64)
		return n
	}
	return -1
}

// flashKind is what a run sends: FLASH.BUY to kvd, the EVALSHA idiom to
// redis, or PING (no sale; the floor of a round trip's server CPU).
type flashKind int

const (
	flashKvd flashKind = iota
	flashRedis
	flashPing
)

// runFlash sets the sale up, runs it and checks the books.
func runFlash(port, parts int, kind flashKind, o flashOpts) (flashResult, error) {
	var res flashResult
	c, err := dialFlash(port)
	if err != nil {
		return res, err
	}
	defer c.nc.Close()
	var sha string
	switch kind {
	case flashRedis:
		if _, err := c.do("FLUSHALL"); err != nil {
			return res, err
		}
		if _, err := c.do("SET", "{sale}:stock", strconv.Itoa(o.units)); err != nil {
			return res, err
		}
		v, err := c.do("SCRIPT", "LOAD", flashLua)
		if err != nil {
			return res, err
		}
		sha, _ = v.(string)
	case flashKvd:
		c.do("FLASH.DELETE", "sale")
		v, err := c.do("FLASH.CREATE", "sale", "STOCK", strconv.Itoa(o.units), "PARTS", strconv.Itoa(parts), "LIMIT", "1")
		if err != nil {
			return res, err
		}
		if v != "OK" {
			return res, fmt.Errorf("FLASH.CREATE: %v", v)
		}
	}

	srvCPU0, _ := processCPU(port)
	genCPU0 := selfCPU()
	var next, okN, soldN, otherN atomic.Int64
	var mu sync.Mutex
	hist := hdrhistogram.New(1, 60_000_000, 3)
	errc := make(chan error, o.clients)
	deadline := time.Now().Add(o.duration)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < o.clients; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			h := hdrhistogram.New(1, 60_000_000, 3)
			defer func() {
				mu.Lock()
				hist.Merge(h)
				mu.Unlock()
			}()
			cc, err := dialFlash(port)
			if err != nil {
				errc <- err
				return
			}
			defer cc.nc.Close()
			args := make([][]string, 0, o.pipeline)
			for time.Now().Before(deadline) {
				first := next.Add(int64(o.pipeline)) - int64(o.pipeline)
				args = args[:0]
				for u := first; u < first+int64(o.pipeline) && u < int64(o.users); u++ {
					user := "user:" + strconv.FormatInt(u, 10)
					switch kind {
					case flashRedis:
						args = append(args, []string{"EVALSHA", sha, "4", "{sale}:stock", "{sale}:buyers", "{sale}:orders", "{sale}:seq", user, "1", "1"})
					case flashKvd:
						args = append(args, []string{"FLASH.BUY", "sale", user})
					default:
						args = append(args, []string{"PING"})
					}
				}
				if len(args) == 0 {
					return
				}
				t0 := time.Now()
				replies, err := cc.pipeline(args)
				if err != nil {
					errc <- err
					return
				}
				h.RecordValue(time.Since(t0).Microseconds())
				for _, v := range replies {
					if kind == flashPing {
						if v != "PONG" {
							errc <- fmt.Errorf("unexpected reply %v", v)
							return
						}
						okN.Add(1)
						continue
					}
					arr, ok := v.([]any)
					if !ok || len(arr) != 3 {
						errc <- fmt.Errorf("unexpected reply %v", v)
						return
					}
					switch arr[0] {
					case "OK":
						okN.Add(1)
					case "SOLDOUT":
						soldN.Add(1)
					default:
						otherN.Add(1)
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	genCPU1 := selfCPU()
	srvCPU1, _ := processCPU(port)
	select {
	case err := <-errc:
		return res, err
	default:
	}
	res.OK, res.SoldOut, res.Other = okN.Load(), soldN.Load(), otherN.Load()
	res.Buys = res.OK + res.SoldOut + res.Other
	res.Seconds = elapsed.Seconds()
	res.BuysPerSec = float64(res.Buys) / elapsed.Seconds()
	res.P50 = float64(hist.ValueAtQuantile(50)) / 1000
	res.P99 = float64(hist.ValueAtQuantile(99)) / 1000
	res.Oversold = max(0, res.OK-int64(o.units))
	if res.Buys > 0 {
		res.ServerCPU = (srvCPU1 - srvCPU0) * 1e6 / float64(res.Buys)
		res.GenCPU = (genCPU1 - genCPU0) * 1e6 / float64(res.Buys)
	}

	// The books: the server's count of orders must be the OK replies.
	switch kind {
	case flashPing:
		res.Oversold, res.LogMatches = 0, true
	case flashRedis:
		n, err := c.do("LLEN", "{sale}:orders")
		if err != nil {
			return res, err
		}
		stock, _ := c.do("GET", "{sale}:stock")
		res.LogMatches = asInt(n) == res.OK && asInt(stock) == int64(o.units)-res.OK
		if asInt(stock) < 0 {
			res.Oversold = max(res.Oversold, -asInt(stock))
		}
	case flashKvd:
		v, err := c.do("FLASH.STATUS", "sale")
		if err != nil {
			return res, err
		}
		arr, _ := v.([]any)
		f := map[string]any{}
		for i := 0; i+1 < len(arr); i += 2 {
			k, _ := arr[i].(string)
			f[k] = arr[i+1]
		}
		sold := asInt(f["sold"])
		ords, err := c.do("FLASH.ORDERS", "sale")
		if err != nil {
			return res, err
		}
		list, _ := ords.([]any)
		res.LogMatches = sold == res.OK && int64(len(list)) == res.OK && asInt(f["total"]) == int64(o.units)
		if sold > int64(o.units) {
			res.Oversold = max(res.Oversold, sold-int64(o.units))
		}
		c.do("FLASH.DELETE", "sale")
	}
	return res, nil
}

func fmtRatios(rs []float64) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, fmt.Sprintf("%.2f", r))
	}
	return strings.Join(parts, ", ")
}
