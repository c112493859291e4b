// Command bench measures kvd side by side with redis-server.
//
//	go run ./bench compare [flags]
//
// compare builds kvd from this tree, starts it and redis-server (when
// installed) on free loopback ports with persistence off, and runs
// redis-benchmark over a matrix of tests and pipeline depths. The servers
// are interleaved (kvd, redis, kvd, redis, ...) for several rounds so that
// machine drift hits both alike; each cell reports the median requests/s,
// the kvd/redis ratio, p50/p99 latency, and the geometric mean of the
// ratios, plus kvd's GC CPU share and pause percentiles over the run (from
// INFO). Results are printed as a Markdown table and saved under
// bench/results/ as JSON, CSV and two PNG charts (throughput ratio per
// cell; p50/p99 per cell). `go run ./bench chart a.json b.json` redraws the
// charts of several runs (unpinned and pinned, say) together.
//
// It owns only measurement: it starts processes it owns and kills them by
// PID; all traffic stays on loopback and every run is bounded in requests.
package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	cmds := map[string]func([]string) error{
		"compare": compare,
		"memory":  memoryCmd,
		"load":    loadCmd,
		"chart":   chartCmd,
		"flash":   flashCmd,
		"skew":    skewCmd, // adaptive sharding (skew.go)
	}
	if len(os.Args) < 2 || cmds[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: go run ./bench compare|memory|load|chart [flags]  (-h for flags)")
		os.Exit(2)
	}
	if err := cmds[os.Args[1]](os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// buildKvd builds kvd from this tree into a temporary folder.
func buildKvd() (bin string, cleanup func(), err error) {
	tmp, err := os.MkdirTemp("", "kvd-bench")
	if err != nil {
		return "", nil, err
	}
	cleanup = func() { os.RemoveAll(tmp) }
	bin = filepath.Join(tmp, "kvd")
	build := exec.Command("go", "build", "-o", bin, "./cmd/kvd")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		cleanup()
		return "", nil, fmt.Errorf("building kvd: %w", err)
	}
	return bin, cleanup, nil
}

type cell struct {
	Server   string  `json:"server"`
	Test     string  `json:"test"`
	Pipeline int     `json:"pipeline"`
	Round    int     `json:"round"`
	RPS      float64 `json:"rps"`
	P50      float64 `json:"p50_ms"`
	P99      float64 `json:"p99_ms"`
}

type summary struct {
	Test     string  `json:"test"`
	Pipeline int     `json:"pipeline"`
	KvdRPS   float64 `json:"kvd_rps"`
	RedisRPS float64 `json:"redis_rps"`
	Ratio    float64 `json:"ratio"`
	KvdP50   float64 `json:"kvd_p50_ms"`
	KvdP99   float64 `json:"kvd_p99_ms"`
	RedisP50 float64 `json:"redis_p50_ms"`
	RedisP99 float64 `json:"redis_p99_ms"`
}

type report struct {
	When     string             `json:"when"`
	Machine  string             `json:"machine"`
	Args     string             `json:"args"`
	Workers  string             `json:"kvd_workers"`
	Pinned   bool               `json:"pinned"`
	Cells    []cell             `json:"cells"`
	Summary  []summary          `json:"summary"`
	Geomeans map[string]float64 `json:"geomean_ratio_by_pipeline"`
	GC       *gcReport          `json:"kvd_gc,omitempty"`
	CPU      []cpuRun           `json:"cpu_per_run"`
}

// cpuRun is the server process's CPU time (user + system, from INFO cpu)
// over one redis-benchmark run: CPU per request is a figure the machine's
// other load disturbs far less than requests per second.
type cpuRun struct {
	Server     string  `json:"server"`
	Pipeline   int     `json:"pipeline"`
	Round      int     `json:"round"`
	Requests   int64   `json:"requests"`
	CPUSeconds float64 `json:"cpu_seconds"`
}

// processCPU reads used_cpu_user + used_cpu_sys from INFO cpu.
func processCPU(port int) (float64, error) {
	m, err := infoFields(port, "cpu")
	if err != nil {
		return 0, err
	}
	return fieldF(m, "used_cpu_user") + fieldF(m, "used_cpu_sys"), nil
}

// cpuPerRequest is the median CPU microseconds per request of each server
// at each pipeline depth, over the rounds.
func cpuPerRequest(runs []cpuRun) map[string]float64 {
	per := map[string][]float64{}
	for _, r := range runs {
		if r.Requests > 0 {
			k := fmt.Sprintf("%s P=%d", r.Server, r.Pipeline)
			per[k] = append(per[k], r.CPUSeconds*1e6/float64(r.Requests))
		}
	}
	out := map[string]float64{}
	for k, v := range per {
		out[k] = median(v)
	}
	return out
}

// gcReport is kvd's garbage collector over the whole matrix, from INFO
// before and after: its CPU share (GC CPU seconds over the process's CPU
// seconds), the pause percentiles (the process's whole life: it starts
// fresh for the run) and the cycle count.
type gcReport struct {
	Cycles     int64   `json:"cycles"`
	CPUSeconds float64 `json:"gc_cpu_seconds"`
	ProcCPU    float64 `json:"process_cpu_seconds"`
	CPUShare   float64 `json:"gc_cpu_share"`
	PauseP50us float64 `json:"pause_p50_us"`
	PauseP99us float64 `json:"pause_p99_us"`
	PauseMaxus float64 `json:"pause_max_us"`
}

// infoFields reads INFO sections from the server on port as name -> value.
func infoFields(port int, sections ...string) (map[string]string, error) {
	out := map[string]string{}
	for _, sec := range sections {
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
		if err != nil {
			return nil, err
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(c, "*2\r\n$4\r\nINFO\r\n$%d\r\n%s\r\n", len(sec), sec)
		br := bufio.NewReader(c)
		head, err := br.ReadString('\n')
		if err != nil || !strings.HasPrefix(head, "$") {
			c.Close()
			return nil, fmt.Errorf("INFO %s: %q %v", sec, head, err)
		}
		n, _ := strconv.Atoi(strings.TrimSpace(head[1:]))
		body := make([]byte, n+2)
		_, err = io.ReadFull(br, body)
		c.Close()
		if err != nil {
			return nil, err
		}
		for _, line := range strings.Split(string(body), "\r\n") {
			if k, v, ok := strings.Cut(line, ":"); ok {
				out[k] = v
			}
		}
	}
	return out, nil
}

func fieldF(m map[string]string, k string) float64 {
	f, _ := strconv.ParseFloat(m[k], 64)
	return f
}

// gcDelta turns two INFO readings of kvd into a gcReport.
func gcDelta(before, after map[string]string) *gcReport {
	cpu := func(m map[string]string) float64 { return fieldF(m, "used_cpu_user") + fieldF(m, "used_cpu_sys") }
	g := &gcReport{
		Cycles:     int64(fieldF(after, "gc_cycles") - fieldF(before, "gc_cycles")),
		CPUSeconds: fieldF(after, "gc_cpu_seconds") - fieldF(before, "gc_cpu_seconds"),
		ProcCPU:    cpu(after) - cpu(before),
		PauseP50us: fieldF(after, "gc_pause_p50_us"),
		PauseP99us: fieldF(after, "gc_pause_p99_us"),
		PauseMaxus: fieldF(after, "gc_pause_max_us"),
	}
	if g.ProcCPU > 0 {
		g.CPUShare = g.CPUSeconds / g.ProcCPU
	}
	return g
}

func compare(argv []string) error {
	fs := flag.NewFlagSet("compare", flag.ExitOnError)
	tests := fs.String("tests", "set,get,incr,lpush,rpop,sadd,hset,zadd,lrange_100,mset", "redis-benchmark -t list")
	pipes := fs.String("P", "1,16", "pipeline depths")
	rounds := fs.Int("rounds", 3, "interleaved rounds per server")
	requests := fs.Int("n", 200000, "requests per redis-benchmark run (-P 1 uses n/4)")
	clients := fs.Int("c", 50, "parallel connections")
	keyspace := fs.Int("r", 100000, "random keyspace size")
	size := fs.Int("d", 64, "value size")
	workers := fs.Int("workers", 0, "kvd --workers (0 = kvd's default)")
	pin := fs.Bool("pin", false, "servers on CPU 0, redis-benchmark on CPU 1 (taskset)")
	out := fs.String("out", "bench/results", "results folder")
	cpuprofile := fs.String("cpuprofile", "", "kvd --cpuprofile file (written when kvd stops)")
	memprofile := fs.String("memprofile", "", "kvd --memprofile file (allocations, written when kvd stops)")
	baseline := fs.String("baseline", "", "A/B mode: a kvd binary to run in redis-server's place (the redis columns are that build)")
	fs.Parse(argv)

	for _, tool := range []string{"redis-benchmark", "redis-server"} {
		if _, err := exec.LookPath(tool); err != nil {
			return fmt.Errorf("%s not found (apt-get install redis-tools redis-server)", tool)
		}
	}
	if *pin {
		if _, err := exec.LookPath("taskset"); err != nil {
			return errors.New("--pin needs taskset (util-linux)")
		}
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
	baseArgs := len(kvdArgs)
	for _, p := range []struct{ flag, file string }{{"--cpuprofile", *cpuprofile}, {"--memprofile", *memprofile}} {
		if p.file != "" {
			abs, err := filepath.Abs(p.file)
			if err != nil {
				return err
			}
			kvdArgs = append(kvdArgs, p.flag, abs)
		}
	}
	kvd, err := startServer("kvd", bin, kvdArgs, *pin)
	if err != nil {
		return err
	}
	defer kvd.stop()
	var redis *proc
	if *baseline != "" {
		// A/B: the "redis" column is another kvd build (same flags, no profiles).
		redis, err = startServer("redis", *baseline, kvdArgs[:baseArgs], *pin)
	} else {
		redis, err = startServer("redis", "redis-server", []string{"--save", "", "--appendonly", "no", "--loglevel", "warning"}, *pin)
	}
	if err != nil {
		return err
	}
	defer redis.stop()

	var pipelines []int
	for _, p := range strings.Split(*pipes, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil || n < 1 {
			return fmt.Errorf("bad -P %q", p)
		}
		pipelines = append(pipelines, n)
	}
	rep := report{
		When:    time.Now().UTC().Format(time.RFC3339),
		Machine: machine(),
		Args:    strings.Join(argv, " "),
		Workers: fmt.Sprint(*workers),
		Pinned:  *pin,
	}
	if *workers == 0 {
		rep.Workers = fmt.Sprintf("default (%d CPUs)", runtime.NumCPU())
	}
	gcBefore, err := infoFields(kvd.port, "memory", "cpu")
	if err != nil {
		return err
	}
	for round := 1; round <= *rounds; round++ {
		for _, p := range pipelines {
			n := *requests
			if p == 1 {
				n /= 4
			}
			// Alternate which server goes first each round.
			order := []*proc{kvd, redis}
			if round%2 == 0 {
				order = []*proc{redis, kvd}
			}
			for _, srv := range order {
				if err := flushAll(srv.port); err != nil {
					return err
				}
				cpu0, err := processCPU(srv.port)
				if err != nil {
					return err
				}
				cells, err := runBenchmark(srv, *tests, p, n, *clients, *keyspace, *size, *pin)
				if err != nil {
					return err
				}
				cpu1, err := processCPU(srv.port)
				if err != nil {
					return err
				}
				for i := range cells {
					cells[i].Round = round
				}
				rep.Cells = append(rep.Cells, cells...)
				rep.CPU = append(rep.CPU, cpuRun{Server: srv.name, Pipeline: p, Round: round,
					Requests: int64(n) * int64(len(cells)), CPUSeconds: cpu1 - cpu0})
				fmt.Fprintf(os.Stderr, "round %d P=%d %s: %d tests\n", round, p, srv.name, len(cells))
			}
		}
	}
	if gcAfter, err := infoFields(kvd.port, "memory", "cpu"); err == nil {
		rep.GC = gcDelta(gcBefore, gcAfter)
	} else {
		fmt.Fprintln(os.Stderr, "kvd GC figures:", err)
	}
	kvd.stop() // now, so that a profile is complete before the results are printed
	rep.Summary, rep.Geomeans = summarize(rep.Cells)
	printTable(rep)
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}
	base := filepath.Join(*out, "compare-"+time.Now().UTC().Format("20060102-150405"))
	if rep.Pinned {
		base += "-pinned"
	}
	b, _ := json.MarshalIndent(rep, "", "  ")
	if err := os.WriteFile(base+".json", b, 0o644); err != nil {
		return err
	}
	if err := writeCSV(base+".csv", rep); err != nil {
		return err
	}
	charts, err := writeCompareCharts(base, rep)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "saved", base+".json", base+".csv", strings.Join(charts, " "))
	return nil
}

// writeCSV saves the per-cell summary (one row per test and pipeline) and
// the geometric means as CSV.
func writeCSV(name string, rep report) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	w := csv.NewWriter(f)
	w.Write([]string{"test", "pipeline", "pinned", "kvd_rps", "redis_rps", "ratio",
		"kvd_p50_ms", "kvd_p99_ms", "redis_p50_ms", "redis_p99_ms"})
	ff := func(v float64, prec int) string { return strconv.FormatFloat(v, 'f', prec, 64) }
	for _, s := range rep.Summary {
		w.Write([]string{s.Test, strconv.Itoa(s.Pipeline), strconv.FormatBool(rep.Pinned),
			ff(s.KvdRPS, 0), ff(s.RedisRPS, 0), ff(s.Ratio, 3),
			ff(s.KvdP50, 3), ff(s.KvdP99, 3), ff(s.RedisP50, 3), ff(s.RedisP99, 3)})
	}
	var keys []string
	for k := range rep.Geomeans {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		w.Write([]string{"geomean " + k, "", strconv.FormatBool(rep.Pinned), "", "", ff(rep.Geomeans[k], 3), "", "", "", ""})
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

type proc struct {
	name string
	cmd  *exec.Cmd
	port int
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func startServer(name, bin string, args []string, pin bool) (*proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args = append(append([]string{}, args...), "--port", strconv.Itoa(port), "--bind", "127.0.0.1")
	if pin {
		args = append([]string{"-c", "0", bin}, args...)
		bin = "taskset"
	}
	cmd := exec.Command(bin, args...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, port: port}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port))); err == nil {
			c.Close()
			return p, nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	p.stop()
	return nil, fmt.Errorf("%s did not start on port %d", name, port)
}

// stop ends the process this program started, by PID: SIGTERM (kvd then
// writes its profiles), SIGKILL after 10 s. Calling it again is a no-op.
func (p *proc) stop() {
	if p.cmd.Process == nil || p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.cmd.Process.Kill()
		<-done
	}
}

func flushAll(port int) error {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := c.Write([]byte("FLUSHALL\r\n")); err != nil {
		return err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if !strings.HasPrefix(line, "+OK") {
		return fmt.Errorf("FLUSHALL: %q", line)
	}
	return nil
}

func runBenchmark(srv *proc, tests string, pipeline, n, clients, keyspace, size int, pin bool) ([]cell, error) {
	args := []string{"-h", "127.0.0.1", "-p", strconv.Itoa(srv.port), "-t", tests,
		"-P", strconv.Itoa(pipeline), "-n", strconv.Itoa(n), "-c", strconv.Itoa(clients),
		"-r", strconv.Itoa(keyspace), "-d", strconv.Itoa(size), "--csv", "-q"}
	bin := "redis-benchmark"
	if pin {
		args = append([]string{"-c", "1", bin}, args...)
		bin = "taskset"
	}
	cmd := exec.Command(bin, args...)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("redis-benchmark against %s: %w\n%s", srv.name, err, out)
	}
	r := csv.NewReader(strings.NewReader(string(out)))
	r.FieldsPerRecord = -1
	recs, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("parsing redis-benchmark CSV: %w\n%s", err, out)
	}
	var cells []cell
	for _, rec := range recs {
		if len(rec) < 7 || rec[0] == "test" {
			continue
		}
		num := func(s string) float64 { f, _ := strconv.ParseFloat(s, 64); return f }
		cells = append(cells, cell{Server: srv.name, Test: rec[0], Pipeline: pipeline, RPS: num(rec[1]), P50: num(rec[4]), P99: num(rec[6])})
	}
	if len(cells) == 0 {
		return nil, fmt.Errorf("redis-benchmark against %s printed no results:\n%s", srv.name, out)
	}
	return cells, nil
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func summarize(cells []cell) ([]summary, map[string]float64) {
	type key struct {
		test string
		p    int
	}
	type agg struct{ rps, p50, p99 map[string][]float64 }
	groups := map[key]*agg{}
	var order []key
	for _, c := range cells {
		k := key{c.Test, c.Pipeline}
		g := groups[k]
		if g == nil {
			g = &agg{map[string][]float64{}, map[string][]float64{}, map[string][]float64{}}
			groups[k] = g
			order = append(order, k)
		}
		g.rps[c.Server] = append(g.rps[c.Server], c.RPS)
		g.p50[c.Server] = append(g.p50[c.Server], c.P50)
		g.p99[c.Server] = append(g.p99[c.Server], c.P99)
	}
	sort.SliceStable(order, func(i, j int) bool { return order[i].p < order[j].p })
	var out []summary
	logs := map[string][]float64{}
	for _, k := range order {
		g := groups[k]
		s := summary{Test: k.test, Pipeline: k.p,
			KvdRPS: median(g.rps["kvd"]), RedisRPS: median(g.rps["redis"]),
			KvdP50: median(g.p50["kvd"]), KvdP99: median(g.p99["kvd"]),
			RedisP50: median(g.p50["redis"]), RedisP99: median(g.p99["redis"])}
		if s.RedisRPS > 0 && s.KvdRPS > 0 {
			s.Ratio = s.KvdRPS / s.RedisRPS
			pk := "P=" + strconv.Itoa(k.p)
			logs[pk] = append(logs[pk], math.Log(s.Ratio))
			logs["all"] = append(logs["all"], math.Log(s.Ratio))
		}
		out = append(out, s)
	}
	geo := map[string]float64{}
	for k, ls := range logs {
		sum := 0.0
		for _, l := range ls {
			sum += l
		}
		geo[k] = math.Exp(sum / float64(len(ls)))
	}
	return out, geo
}

func printTable(rep report) {
	fmt.Printf("machine: %s; kvd workers: %s; pinned: %v; %s\n\n", rep.Machine, rep.Workers, rep.Pinned, rep.When)
	fmt.Println("| test | P | kvd req/s | redis req/s | kvd/redis | kvd p50/p99 ms | redis p50/p99 ms |")
	fmt.Println("|---|---:|---:|---:|---:|---:|---:|")
	for _, s := range rep.Summary {
		fmt.Printf("| %s | %d | %.0f | %.0f | %.2f | %.3f / %.3f | %.3f / %.3f |\n",
			s.Test, s.Pipeline, s.KvdRPS, s.RedisRPS, s.Ratio, s.KvdP50, s.KvdP99, s.RedisP50, s.RedisP99)
	}
	var keys []string
	for k := range rep.Geomeans {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Println()
	for _, k := range keys {
		fmt.Printf("geomean kvd/redis %s: %.2f\n", k, rep.Geomeans[k])
	}
	cpu := cpuPerRequest(rep.CPU)
	var ck []string
	for k := range cpu {
		ck = append(ck, k)
	}
	sort.Strings(ck)
	if len(ck) > 0 {
		fmt.Println()
		for _, k := range ck {
			fmt.Printf("server CPU per request, %s: %.2f us\n", k, cpu[k])
		}
	}
	if g := rep.GC; g != nil {
		fmt.Printf("\nkvd GC during the matrix: %d cycles, %.2f s GC CPU of %.2f s process CPU (%.1f%%), pause p50 %.0f us, p99 %.0f us, max %.0f us\n",
			g.Cycles, g.CPUSeconds, g.ProcCPU, 100*g.CPUShare, g.PauseP50us, g.PauseP99us, g.PauseMaxus)
	}
}

func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, "model name") {
				if _, v, ok := strings.Cut(line, ":"); ok {
					model = strings.TrimSpace(v)
				}
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d cores, %s/%s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
}
