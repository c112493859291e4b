package main

import (
	"bufio"
	"flag"
	"fmt"
	"math/rand/v2"
	"net"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// loadCmd is kvd's own load generator for what redis-benchmark cannot do:
// Zipf-skewed keys, read/write mixes, many connections, HDR latency
// histograms. It can target any server (kvd or redis-server) by address,
// or start both and run them one after the other.
//
//	go run ./bench load [-addr host:port | -both] [-conns 200] [-keys 1000000]
//	    [-zipf 1.1] [-reads 0.9] [-P 1] [-d 64] [-duration 10s] [-requests N]
//
// Every run is bounded by -duration and by -requests; traffic stays on the
// given address (loopback by default).
func loadCmd(argv []string) error {
	fs := flag.NewFlagSet("load", flag.ExitOnError)
	addr := fs.String("addr", "", "target host:port (empty with -both: start kvd and redis-server)")
	both := fs.Bool("both", false, "start kvd and redis-server and load each in turn")
	workers := fs.Int("workers", 0, "kvd --workers with -both (0 = kvd's default)")
	conns := fs.Int("conns", 200, "connections")
	keys := fs.Int("keys", 1000000, "key space size (key:N)")
	zipfS := fs.Float64("zipf", 1.1, "Zipf exponent s (> 1); 0 = uniform keys")
	reads := fs.Float64("reads", 0.9, "fraction of GETs (the rest are SETs)")
	pipeline := fs.Int("P", 1, "commands per round trip per connection")
	size := fs.Int("d", 64, "value size")
	duration := fs.Duration("duration", 10*time.Second, "run time")
	requests := fs.Int64("requests", 50_000_000, "stop after this many requests")
	fs.Parse(argv)
	if *zipfS != 0 && *zipfS <= 1 {
		return fmt.Errorf("-zipf must be > 1 (or 0 for uniform)")
	}
	opts := loadOpts{conns: *conns, keys: *keys, zipf: *zipfS, reads: *reads, pipeline: *pipeline,
		size: *size, duration: *duration, requests: *requests}
	if !*both {
		if *addr == "" {
			*addr = "127.0.0.1:6379"
		}
		res, err := runLoad(*addr, opts)
		if err != nil {
			return err
		}
		printLoad([]loadResult{res}, opts)
		return nil
	}
	bin, cleanup, err := buildKvd()
	if err != nil {
		return err
	}
	defer cleanup()
	kvdArgs := []string{"--loglevel", "warning"}
	if *workers > 0 {
		kvdArgs = append(kvdArgs, "--workers", strconv.Itoa(*workers))
	}
	var results []loadResult
	for _, s := range []struct {
		name, bin string
		args      []string
	}{
		{"kvd", bin, kvdArgs},
		{"redis", "redis-server", []string{"--save", "", "--appendonly", "no", "--loglevel", "warning"}},
	} {
		p, err := startServer(s.name, s.bin, s.args, false)
		if err != nil {
			return err
		}
		res, err := runLoad(net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)), opts)
		p.stop()
		if err != nil {
			return err
		}
		res.name = s.name
		results = append(results, res)
	}
	printLoad(results, opts)
	return nil
}

type loadOpts struct {
	conns, keys, pipeline, size int
	zipf, reads                 float64
	duration                    time.Duration
	requests                    int64
}

type loadResult struct {
	name     string
	requests int64
	elapsed  time.Duration
	hist     *hdrhistogram.Histogram // round-trip latency, microseconds
}

func runLoad(addr string, o loadOpts) (loadResult, error) {
	res := loadResult{name: addr, hist: hdrhistogram.New(1, 10_000_000, 3)}
	var done atomic.Int64
	var mu sync.Mutex // guards res.hist merges
	errc := make(chan error, o.conns)
	deadline := time.Now().Add(o.duration)
	val := make([]byte, o.size)
	for i := range val {
		val[i] = 'x'
	}
	var wg sync.WaitGroup
	start := time.Now()
	for c := 0; c < o.conns; c++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			h := hdrhistogram.New(1, 10_000_000, 3)
			if err := loadConn(addr, o, seed, val, deadline, &done, h); err != nil {
				errc <- err
			}
			mu.Lock()
			res.hist.Merge(h)
			mu.Unlock()
		}(uint64(c) + 1)
	}
	wg.Wait()
	res.elapsed = time.Since(start)
	res.requests = done.Load()
	select {
	case err := <-errc:
		return res, err
	default:
	}
	return res, nil
}

func loadConn(addr string, o loadOpts, seed uint64, val []byte, deadline time.Time, done *atomic.Int64, h *hdrhistogram.Histogram) error {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	rng := rand.New(rand.NewPCG(seed, seed*7919))
	var zipf *rand.Zipf
	if o.zipf > 1 {
		zipf = rand.NewZipf(rng, o.zipf, 1, uint64(o.keys-1))
	}
	br := bufio.NewReaderSize(nc, 64<<10)
	var buf []byte
	for time.Now().Before(deadline) && done.Load() < o.requests {
		buf = buf[:0]
		for i := 0; i < o.pipeline; i++ {
			var k uint64
			if zipf != nil {
				k = zipf.Uint64()
			} else {
				k = rng.Uint64N(uint64(o.keys))
			}
			key := strconv.AppendUint([]byte("key:"), k, 10)
			if rng.Float64() < o.reads {
				buf = fmt.Appendf(buf, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(key), key)
			} else {
				buf = fmt.Appendf(buf, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(key), key, len(val), val)
			}
		}
		t0 := time.Now()
		nc.SetDeadline(t0.Add(10 * time.Second))
		if _, err := nc.Write(buf); err != nil {
			return err
		}
		for i := 0; i < o.pipeline; i++ {
			if err := skipReply(br); err != nil {
				return err
			}
		}
		h.RecordValue(time.Since(t0).Microseconds())
		done.Add(int64(o.pipeline))
	}
	return nil
}

// skipReply reads one GET or SET reply (+OK, $-1, $n data, or an error).
func skipReply(br *bufio.Reader) error {
	line, err := br.ReadSlice('\n')
	if err != nil {
		return err
	}
	switch line[0] {
	case '+', ':':
		return nil
	case '-':
		return fmt.Errorf("server error: %s", line)
	case '$':
		n, err := strconv.Atoi(string(line[1 : len(line)-2]))
		if err != nil || n < 0 {
			return nil
		}
		_, err = br.Discard(n + 2)
		return err
	}
	return fmt.Errorf("unexpected reply %q", line)
}

func printLoad(results []loadResult, o loadOpts) {
	dist := "uniform"
	if o.zipf > 1 {
		dist = fmt.Sprintf("zipf s=%.2f", o.zipf)
	}
	fmt.Printf("load: %d conns, %d keys (%s), %.0f%% GET, P=%d, %d-byte values, %s\n\n",
		o.conns, o.keys, dist, o.reads*100, o.pipeline, o.size, o.duration)
	fmt.Println("| server | requests | req/s | p50 µs | p99 µs | p99.9 µs | max µs |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	sort.SliceStable(results, func(i, j int) bool { return results[i].name < results[j].name })
	for _, r := range results {
		fmt.Printf("| %s | %d | %.0f | %d | %d | %d | %d |\n", r.name, r.requests,
			float64(r.requests)/r.elapsed.Seconds(), r.hist.ValueAtQuantile(50), r.hist.ValueAtQuantile(99),
			r.hist.ValueAtQuantile(99.9), r.hist.Max())
	}
}
