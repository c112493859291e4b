package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"image"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvd/kvd/shard"
)

// skewCmd measures kvd's adaptive sharding (issue 5).
//
//	go run ./bench skew [-mode balance|shape|all] [-duration 10s] [-rounds 3]
//
// balance: a Zipf-skewed load (s=1.1 over 1M keys) and a hash-tagged one
// (Zipf over key groups "{gN}", each group one slot) against kvd with 2
// fixed workers, balancing off (rebalance-interval-ms 0) and on (the
// binary's default 1000 ms), interleaved for -rounds rounds. It reports
// throughput and the per-worker busy spread (max/mean busy, from INFO
// workers sampled every -sample), medians over the rounds, and draws a PNG
// timeline of per-worker load and slot moves for the last round.
//
// shape: kvd with 1 worker vs 2 workers on this machine, the load
// generator sharing it: redis-benchmark (SET/GET, P1 and P16) and the Go
// load generator (Zipf, P1 and P16), interleaved rounds, medians, with the
// workers' busy fractions. The answer sets the scaler's defaults.
//
// Every server is started by this program on a free loopback port and
// killed by PID; every run is bounded by -duration.
func skewCmd(argv []string) error {
	fs := flag.NewFlagSet("skew", flag.ExitOnError)
	mode := fs.String("mode", "all", "balance, shape or all")
	duration := fs.Duration("duration", 10*time.Second, "run time of each load run")
	rounds := fs.Int("rounds", 3, "interleaved rounds")
	conns := fs.Int("conns", 50, "connections")
	pipeline := fs.Int("P", 16, "pipeline depth (balance mode)")
	sample := fs.Duration("sample", 500*time.Millisecond, "INFO workers sampling period")
	out := fs.String("out", "bench/results", "results folder")
	fs.Parse(argv)

	bin, cleanup, err := buildKvd()
	if err != nil {
		return err
	}
	defer cleanup()
	defer func() {
		for _, f := range skewConfs {
			os.Remove(f)
		}
	}()
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	stamp := time.Now().UTC().Format("20060102-150405")
	if *mode == "balance" || *mode == "all" {
		if err := skewBalance(bin, *duration, *rounds, *conns, *pipeline, *sample, *out, stamp); err != nil {
			return err
		}
	}
	if *mode == "shape" || *mode == "all" {
		if err := skewShape(bin, *duration, *rounds, *conns, *sample, *out, stamp); err != nil {
			return err
		}
	}
	return nil
}

// ---- load -----------------------------------------------------------------

// skewLoad is a closed-loop GET/SET load (90% GET) whose keys come from
// keyFn. It stops at the deadline.
type skewLoad struct {
	conns, pipeline int
	keyFn           func(rng *rand.Rand, z *rand.Zipf, dst []byte) []byte
	zipfS           float64
	zipfN           uint64
}

func (l skewLoad) run(addr string, d time.Duration) (float64, error) {
	var done atomic.Int64
	var wg sync.WaitGroup
	errc := make(chan error, l.conns)
	deadline := time.Now().Add(d)
	start := time.Now()
	for c := 0; c < l.conns; c++ {
		wg.Add(1)
		go func(seed uint64) {
			defer wg.Done()
			if err := l.conn(addr, seed, deadline, &done); err != nil {
				errc <- err
			}
		}(uint64(c) + 1)
	}
	wg.Wait()
	select {
	case err := <-errc:
		return 0, err
	default:
	}
	return float64(done.Load()) / time.Since(start).Seconds(), nil
}

func (l skewLoad) conn(addr string, seed uint64, deadline time.Time, done *atomic.Int64) error {
	nc, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return err
	}
	defer nc.Close()
	rng := rand.New(rand.NewPCG(seed, seed*7919))
	z := rand.NewZipf(rng, l.zipfS, 1, l.zipfN-1)
	br := bufio.NewReaderSize(nc, 64<<10)
	val := strings.Repeat("x", 64)
	var buf, key []byte
	for time.Now().Before(deadline) {
		buf = buf[:0]
		for i := 0; i < l.pipeline; i++ {
			key = l.keyFn(rng, z, key[:0])
			if rng.Float64() < 0.9 {
				buf = fmt.Appendf(buf, "*2\r\n$3\r\nGET\r\n$%d\r\n%s\r\n", len(key), key)
			} else {
				buf = fmt.Appendf(buf, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(key), key, len(val), val)
			}
		}
		nc.SetDeadline(time.Now().Add(10 * time.Second))
		if _, err := nc.Write(buf); err != nil {
			return err
		}
		for i := 0; i < l.pipeline; i++ {
			if err := skipReply(br); err != nil {
				return err
			}
		}
		done.Add(int64(l.pipeline))
	}
	return nil
}

// zipfKeys: "key:N", N ~ Zipf(s) over n keys.
func zipfKeys(_ *rand.Rand, z *rand.Zipf, dst []byte) []byte {
	return strconv.AppendUint(append(dst, "key:"...), z.Uint64(), 10)
}

// taggedKeys: "{gG}:M", the group G ~ Zipf(s) over the groups (each group
// hashes to one slot), the member M uniform in 0..99.
func taggedKeys(rng *rand.Rand, z *rand.Zipf, dst []byte) []byte {
	dst = strconv.AppendUint(append(dst, "{g"...), z.Uint64(), 10)
	return strconv.AppendUint(append(dst, "}:"...), rng.Uint64N(100), 10)
}

// hotTenantKeys: half the requests go to 1000 hash-tag groups whose slots
// the initial round-robin map gives worker 0 (a hot tenant set that landed
// on one worker), uniformly; the other half are uniform over 1M keys.
func hotTenantKeys() func(rng *rand.Rand, z *rand.Zipf, dst []byte) []byte {
	var tags []string
	for g := 0; len(tags) < 1000; g++ {
		tag := "t" + strconv.Itoa(g)
		if shard.KeySlot([]byte(tag))%2 == 0 {
			tags = append(tags, tag)
		}
	}
	return func(rng *rand.Rand, _ *rand.Zipf, dst []byte) []byte {
		if rng.IntN(2) == 0 {
			dst = append(append(append(dst, '{'), tags[rng.IntN(len(tags))]...), "}:"...)
			return strconv.AppendUint(dst, rng.Uint64N(100), 10)
		}
		return strconv.AppendUint(append(dst, "key:"...), rng.Uint64N(1_000_000), 10)
	}
}

// ---- INFO workers sampling ---------------------------------------------------

type workerPoint struct {
	T     float64   `json:"t_s"`
	Busy  []float64 `json:"busy"`    // per worker, fraction of the sampling period
	Ops   []float64 `json:"ops"`     // per worker, jobs per second
	Moves int64     `json:"moves"`   // slot moves so far
	Count int       `json:"workers"` // workers
}

// infoWorkers reads kvd's INFO workers: per worker cumulative busy µs and
// jobs, the slot moves and the worker count.
func infoWorkers(port int) (busy, jobs []int64, moves int64, err error) {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 2*time.Second)
	if err != nil {
		return nil, nil, 0, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	c.Write([]byte("INFO workers\r\n"))
	br := bufio.NewReader(c)
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, nil, 0, err
	}
	n, _ := strconv.Atoi(strings.TrimSpace(line[1:]))
	body := make([]byte, n+2)
	if _, err := io.ReadFull(br, body); err != nil {
		return nil, nil, 0, err
	}
	for _, l := range strings.Split(string(body), "\r\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		switch {
		case k == "slot_moves":
			moves, _ = strconv.ParseInt(v, 10, 64)
		case strings.HasPrefix(k, "worker") && isDigits(k[len("worker"):]):
			f := map[string]int64{}
			for _, kv := range strings.Split(v, ",") {
				a, b, _ := strings.Cut(kv, "=")
				f[a], _ = strconv.ParseInt(b, 10, 64)
			}
			busy = append(busy, f["busy_us"])
			jobs = append(jobs, f["jobs"])
		}
	}
	return busy, jobs, moves, nil
}

func isDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// sampleWorkers samples INFO workers every period until stop closes.
func sampleWorkers(port int, period time.Duration, stop <-chan struct{}) []workerPoint {
	var pts []workerPoint
	start := time.Now()
	pb, pj, _, err := infoWorkers(port)
	if err != nil {
		return nil
	}
	pt := time.Now()
	tk := time.NewTicker(period)
	defer tk.Stop()
	for {
		select {
		case <-stop:
			return pts
		case <-tk.C:
		}
		b, j, mv, err := infoWorkers(port)
		if err != nil {
			return pts
		}
		now := time.Now()
		dt := now.Sub(pt).Seconds()
		p := workerPoint{T: now.Sub(start).Seconds(), Moves: mv, Count: len(b)}
		for i := range b {
			var db, dj int64
			if i < len(pb) {
				db, dj = b[i]-pb[i], j[i]-pj[i]
			}
			p.Busy = append(p.Busy, math.Min(1, math.Max(0, float64(db)/1e6/dt))) // a drain is counted when it ends
			p.Ops = append(p.Ops, math.Max(0, float64(dj)/dt))
		}
		pts = append(pts, p)
		pb, pj, pt = b, j, now
	}
}

// spread is max/mean of xs (0 when all are 0).
func spread(xs []float64) float64 {
	m, s := 0.0, 0.0
	for _, x := range xs {
		m = math.Max(m, x)
		s += x
	}
	if s == 0 {
		return 0
	}
	return m / (s / float64(len(xs)))
}

// steadySpread is the spread of the per-worker totals over the second half
// of the run (after the balancer had time to act), of busy time and of ops.
func steadySpread(pts []workerPoint) (busy, ops float64) {
	if len(pts) == 0 {
		return 0, 0
	}
	half := pts[len(pts)/2:]
	n := len(half[len(half)-1].Busy)
	b, o := make([]float64, n), make([]float64, n)
	for _, p := range half {
		if len(p.Busy) != n {
			continue
		}
		for i := range p.Busy {
			b[i] += p.Busy[i]
			o[i] += p.Ops[i]
		}
	}
	return spread(b), spread(o)
}

// ---- balance mode -------------------------------------------------------------

type balanceRun struct {
	Scenario   string        `json:"scenario"`
	Balancing  string        `json:"balancing"`
	Round      int           `json:"round"`
	RPS        float64       `json:"rps"`
	BusySpread float64       `json:"busy_spread_max_over_mean"`
	OpsSpread  float64       `json:"ops_spread_max_over_mean"`
	Moves      int64         `json:"slot_moves"`
	Timeline   []workerPoint `json:"timeline"`
}

type balanceSummary struct {
	Scenario   string  `json:"scenario"`
	Balancing  string  `json:"balancing"`
	RPS        float64 `json:"median_rps"`
	BusySpread float64 `json:"median_busy_spread"`
	OpsSpread  float64 `json:"median_ops_spread"`
	Moves      float64 `json:"median_slot_moves"`
	RPSMin     float64 `json:"min_rps"`
	RPSMax     float64 `json:"max_rps"`
}

func skewBalance(bin string, d time.Duration, rounds, conns, pipeline int, period time.Duration, out, stamp string) error {
	scenarios := []struct {
		name string
		load skewLoad
	}{
		{"zipf s=1.1, 1M keys", skewLoad{conns: conns, pipeline: pipeline, keyFn: zipfKeys, zipfS: 1.1, zipfN: 1_000_000}},
		{"hash-tagged groups, zipf s=1.1 over 10k groups", skewLoad{conns: conns, pipeline: pipeline, keyFn: taggedKeys, zipfS: 1.1, zipfN: 10_000}},
		{"hot tenant set: 50% on 1000 tagged groups of worker 0", skewLoad{conns: conns, pipeline: pipeline, keyFn: hotTenantKeys(), zipfS: 1.1, zipfN: 2}},
	}
	modes := []struct{ name, interval string }{{"off", "0"}, {"on", "1000"}}
	var runs []balanceRun
	for round := 1; round <= rounds; round++ {
		for _, sc := range scenarios {
			order := modes
			if round%2 == 0 {
				order = []struct{ name, interval string }{modes[1], modes[0]}
			}
			for _, m := range order {
				p, err := startServer("kvd", bin, []string{"--loglevel", "warning", "--workers", "2",
					"--config", writeConf(fmt.Sprintf("rebalance-interval-ms %s\n", m.interval))}, false)
				if err != nil {
					return err
				}
				stop := make(chan struct{})
				ptsc := make(chan []workerPoint, 1)
				go func() { ptsc <- sampleWorkers(p.port, period, stop) }()
				rps, err := sc.load.run(net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)), d)
				close(stop)
				pts := <-ptsc
				p.stop()
				if err != nil {
					return err
				}
				bs, opsSp := steadySpread(pts)
				var mv int64
				if len(pts) > 0 {
					mv = pts[len(pts)-1].Moves
				}
				runs = append(runs, balanceRun{Scenario: sc.name, Balancing: m.name, Round: round, RPS: rps,
					BusySpread: bs, OpsSpread: opsSp, Moves: mv, Timeline: pts})
				fmt.Fprintf(os.Stderr, "round %d %s balancing %s: %.0f req/s, busy spread %.2f, ops spread %.2f, %d moves\n",
					round, sc.name, m.name, rps, bs, opsSp, mv)
			}
		}
	}
	var sums []balanceSummary
	for _, sc := range scenarios {
		for _, m := range modes {
			var rps, bs, ops, mv []float64
			for _, r := range runs {
				if r.Scenario == sc.name && r.Balancing == m.name {
					rps = append(rps, r.RPS)
					bs = append(bs, r.BusySpread)
					ops = append(ops, r.OpsSpread)
					mv = append(mv, float64(r.Moves))
				}
			}
			sums = append(sums, balanceSummary{Scenario: sc.name, Balancing: m.name, RPS: median(rps),
				BusySpread: median(bs), OpsSpread: median(ops), Moves: median(mv), RPSMin: minOf(rps), RPSMax: maxOf(rps)})
		}
	}
	fmt.Printf("\nkvd, 2 workers, %d conns, P=%d, 90%% GET, %s per run, %d rounds (medians); machine: %s\n\n",
		conns, pipeline, d, rounds, machine())
	fmt.Println("| scenario | balancing | req/s (min-max) | busy max/mean | ops max/mean | slot moves |")
	fmt.Println("|---|---|---:|---:|---:|---:|")
	for _, s := range sums {
		fmt.Printf("| %s | %s | %.0f (%.0f-%.0f) | %.2f | %.2f | %.0f |\n", s.Scenario, s.Balancing, s.RPS, s.RPSMin, s.RPSMax, s.BusySpread, s.OpsSpread, s.Moves)
	}
	name := filepath.Join(out, "skew-"+stamp+".json")
	b, _ := json.MarshalIndent(map[string]any{"when": stamp, "machine": machine(), "conns": conns, "pipeline": pipeline,
		"duration": d.String(), "rounds": rounds, "summary": sums, "runs": runs}, "", "  ")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "saved", name)

	// Timeline of the last round: per-worker busy % for off and on, and
	// the slot moves, for each scenario.
	var imgs []image.Image
	for _, sc := range scenarios {
		for _, m := range modes {
			var last *balanceRun
			for i := range runs {
				if runs[i].Scenario == sc.name && runs[i].Balancing == m.name {
					last = &runs[i]
				}
			}
			if last == nil || len(last.Timeline) == 0 {
				continue
			}
			imgs = append(imgs, timelineChart(fmt.Sprintf("%s, balancing %s: busy %% per worker and slot moves / 100", sc.name, m.name), last.Timeline).Image())
		}
	}
	png := filepath.Join(out, "skew-timeline-"+stamp+".png")
	if err := WritePNGs(png, imgs...); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "saved", png)
	return nil
}

// timelineChart draws per-worker busy % over time and the cumulative slot
// moves (divided by 100, so that they share the axis).
func timelineChart(title string, pts []workerPoint) LineChart {
	n := 0
	for _, p := range pts {
		n = max(n, len(p.Busy))
	}
	series := make([]Series, n+1)
	for w := 0; w < n; w++ {
		series[w].Name = fmt.Sprintf("worker %d busy %%", w)
	}
	series[n].Name = "slot moves / 100"
	for _, p := range pts {
		for w := 0; w < n; w++ {
			if w < len(p.Busy) {
				series[w].X = append(series[w].X, p.T)
				series[w].Y = append(series[w].Y, p.Busy[w]*100)
			}
		}
		series[n].X = append(series[n].X, p.T)
		series[n].Y = append(series[n].Y, float64(p.Moves)/100)
	}
	return LineChart{Title: title, XLabel: "seconds", YLabel: "busy %", Series: series, Height: 300}
}

// skewConfs are the temporary config files writeConf made (removed at the end).
var skewConfs []string

func writeConf(text string) string {
	f, err := os.CreateTemp("", "kvd-skew-*.conf")
	if err != nil {
		return ""
	}
	skewConfs = append(skewConfs, f.Name())
	f.WriteString(text)
	f.Close()
	return f.Name()
}

func minOf(xs []float64) float64 {
	m := math.Inf(1)
	for _, x := range xs {
		m = math.Min(m, x)
	}
	return m
}

func maxOf(xs []float64) float64 {
	m := math.Inf(-1)
	for _, x := range xs {
		m = math.Max(m, x)
	}
	return m
}

// ---- shape mode -------------------------------------------------------------------

type shapeCell struct {
	Tool    string    `json:"tool"`
	Test    string    `json:"test"`
	P       int       `json:"pipeline"`
	Workers int       `json:"workers"`
	Round   int       `json:"round"`
	RPS     float64   `json:"rps"`
	Busy    []float64 `json:"worker_busy"`
}

func skewShape(bin string, d time.Duration, rounds, conns int, period time.Duration, out, stamp string) error {
	var cells []shapeCell
	zipf := func(p int) skewLoad {
		return skewLoad{conns: conns, pipeline: p, keyFn: zipfKeys, zipfS: 1.1, zipfN: 1_000_000}
	}
	for round := 1; round <= rounds; round++ {
		shapes := []int{1, 2}
		if round%2 == 0 {
			shapes = []int{2, 1}
		}
		for _, w := range shapes {
			p, err := startServer("kvd", bin, []string{"--loglevel", "warning", "--workers", strconv.Itoa(w),
				"--config", writeConf("rebalance-interval-ms 0\n")}, false)
			if err != nil {
				return err
			}
			measure := func(tool, test string, pl int, run func() (float64, error)) error {
				b0, _, _, _ := infoWorkers(p.port)
				t0 := time.Now()
				rps, err := run()
				if err != nil {
					return err
				}
				b1, _, _, _ := infoWorkers(p.port)
				dt := time.Since(t0).Seconds()
				var busy []float64
				for i := range b1 {
					if i < len(b0) {
						busy = append(busy, float64(b1[i]-b0[i])/1e6/dt)
					}
				}
				cells = append(cells, shapeCell{Tool: tool, Test: test, P: pl, Workers: w, Round: round, RPS: rps, Busy: busy})
				fmt.Fprintf(os.Stderr, "round %d workers %d %s %s P=%d: %.0f req/s busy %v\n", round, w, tool, test, pl, rps, fmtFracs(busy))
				return nil
			}
			for _, pl := range []int{1, 16} {
				pl := pl
				if err := measure("go-load", "zipf 90% GET", pl, func() (float64, error) {
					return zipf(pl).run(net.JoinHostPort("127.0.0.1", strconv.Itoa(p.port)), d)
				}); err != nil {
					p.stop()
					return err
				}
				n := int(d.Seconds() * 60000)
				if pl == 16 {
					n *= 8
				}
				for _, test := range []string{"set", "get"} {
					test := test
					if err := measure("redis-benchmark", test, pl, func() (float64, error) {
						return redisBench(p.port, test, pl, n, conns)
					}); err != nil {
						p.stop()
						return err
					}
				}
			}
			p.stop()
		}
	}
	type key struct {
		tool, test string
		p          int
	}
	var order []key
	seen := map[key]bool{}
	for _, c := range cells {
		k := key{c.Tool, c.Test, c.P}
		if !seen[k] {
			seen[k] = true
			order = append(order, k)
		}
	}
	fmt.Printf("\nkvd 1 vs 2 workers, load generator on the same machine (%s), %d conns, %d rounds (medians, min-max)\n\n", machine(), conns, rounds)
	fmt.Println("| load | P | 1 worker req/s | 2 workers req/s | 2w/1w | busy 1w | busy 2w (each) |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	type row struct {
		Tool, Test             string
		P                      int
		RPS1, RPS2, Ratio      float64
		Min1, Max1, Min2, Max2 float64
		Busy1                  float64
		Busy2                  []float64
	}
	var rows []row
	for _, k := range order {
		var r1, r2, b1 []float64
		var b2 [2][]float64
		for _, c := range cells {
			if c.Tool != k.tool || c.Test != k.test || c.P != k.p {
				continue
			}
			if c.Workers == 1 {
				r1 = append(r1, c.RPS)
				if len(c.Busy) > 0 {
					b1 = append(b1, c.Busy[0])
				}
			} else {
				r2 = append(r2, c.RPS)
				for i := 0; i < 2 && i < len(c.Busy); i++ {
					b2[i] = append(b2[i], c.Busy[i])
				}
			}
		}
		rw := row{Tool: k.tool, Test: k.test, P: k.p, RPS1: median(r1), RPS2: median(r2),
			Min1: minOf(r1), Max1: maxOf(r1), Min2: minOf(r2), Max2: maxOf(r2),
			Busy1: median(b1), Busy2: []float64{median(b2[0]), median(b2[1])}}
		if rw.RPS1 > 0 {
			rw.Ratio = rw.RPS2 / rw.RPS1
		}
		rows = append(rows, rw)
		fmt.Printf("| %s %s | %d | %.0f (%.0f-%.0f) | %.0f (%.0f-%.0f) | %.2f | %.0f%% | %.0f%% / %.0f%% |\n",
			k.tool, k.test, k.p, rw.RPS1, rw.Min1, rw.Max1, rw.RPS2, rw.Min2, rw.Max2, rw.Ratio,
			rw.Busy1*100, rw.Busy2[0]*100, rw.Busy2[1]*100)
	}
	name := filepath.Join(out, "shape-"+stamp+".json")
	b, _ := json.MarshalIndent(map[string]any{"when": stamp, "machine": machine(), "conns": conns, "duration": d.String(),
		"rounds": rounds, "summary": rows, "cells": cells}, "", "  ")
	if err := os.WriteFile(name, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "saved", name)
	return nil
}

func fmtFracs(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.0f%%", x*100)
	}
	return strings.Join(parts, "/")
}

// redisBench runs one redis-benchmark test and returns its requests/s.
func redisBench(port int, test string, p, n, conns int) (float64, error) {
	out, err := exec.Command("redis-benchmark", "-h", "127.0.0.1", "-p", strconv.Itoa(port), "-t", test,
		"-P", strconv.Itoa(p), "-n", strconv.Itoa(n), "-c", strconv.Itoa(conns), "-r", "100000", "--csv", "-q").Output()
	if err != nil {
		return 0, fmt.Errorf("redis-benchmark: %w", err)
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(strings.ReplaceAll(line, `"`, ""), ",")
		if len(f) >= 2 && f[0] != "test" {
			if v, err := strconv.ParseFloat(f[1], 64); err == nil {
				return v, nil
			}
		}
	}
	return 0, fmt.Errorf("redis-benchmark printed no result: %s", out)
}
