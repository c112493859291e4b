package server

import (
	"fmt"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/kvd/kvd/shard"
)

// adminState is the INFO/CONFIG/SHUTDOWN bookkeeping kept in serverStats:
// the instantaneous-metric sampler, the memory peak and the replication id
// INFO reports.
type adminState struct {
	once sync.Once

	mu         sync.Mutex // guards opsSamples, opsIdx, lastOps, lastSample, shutdownSave
	opsSamples [instSamples]int64
	opsIdx     int
	lastOps    int64
	lastSample time.Time

	memPeak atomic.Int64
	replID  string

	shutdownSave func() error
}

// Redis samples its instantaneous metrics every 100 ms and averages the
// last 16 samples (STATS_METRIC_SAMPLES).
const (
	instSamples  = 16
	instInterval = 100 * time.Millisecond
)

// startSampler starts, on first use, the goroutine that samples the
// instantaneous metrics and the memory peak until the server shuts down.
func (s *Server) startSampler() {
	a := &s.stats.admin
	a.once.Do(func() {
		a.replID = randomHex(40)
		a.mu.Lock()
		a.lastOps = s.processedCommands()
		a.lastSample = time.Now()
		a.mu.Unlock()
		s.sampleMemory()
		go func() {
			t := time.NewTicker(instInterval)
			defer t.Stop()
			for {
				select {
				case <-s.shutdown:
					return
				case now := <-t.C:
					s.sampleOps(now)
					s.sampleMemory()
				}
			}
		}()
	})
}

func (s *Server) sampleOps(now time.Time) {
	a := &s.stats.admin
	ops := s.processedCommands()
	a.mu.Lock()
	defer a.mu.Unlock()
	ms := now.Sub(a.lastSample).Milliseconds()
	var rate int64
	if ms > 0 {
		rate = max(0, (ops-a.lastOps)*1000/ms)
	}
	a.opsSamples[a.opsIdx] = rate
	a.opsIdx = (a.opsIdx + 1) % instSamples
	a.lastOps, a.lastSample = ops, now
}

// instantaneousOps is Redis's getInstantaneousMetric(STATS_METRIC_COMMAND).
func (s *Server) instantaneousOps() int64 {
	a := &s.stats.admin
	a.mu.Lock()
	defer a.mu.Unlock()
	var sum int64
	for _, v := range a.opsSamples {
		sum += v
	}
	return sum / instSamples
}

// processedCommands is total_commands_processed: every command dispatched
// minus those rejected before running.
func (s *Server) processedCommands() int64 {
	return s.stats.commands.Load() - s.stats.rejected.Load()
}

// infoMem is what INFO memory reports, read from runtime/metrics (which
// does not stop the world) and /proc.
type infoMem struct {
	heapObjects int64 // bytes in live and not yet swept heap objects (HeapAlloc)
	heapInUse   int64 // bytes in in-use heap spans (HeapInuse)
	heapRes     int64 // heap bytes retained from the OS (HeapSys - HeapReleased)
	total       int64 // every byte the runtime mapped (Sys)
	rss         int64
}

var memSamples = []metrics.Sample{
	{Name: "/memory/classes/heap/objects:bytes"},
	{Name: "/memory/classes/heap/unused:bytes"},
	{Name: "/memory/classes/heap/free:bytes"},
	{Name: "/memory/classes/total:bytes"},
}

var memSamplesMu sync.Mutex // guards memSamples

func readInfoMem() infoMem {
	memSamplesMu.Lock()
	metrics.Read(memSamples)
	var v [4]int64
	for i, smp := range memSamples {
		if smp.Value.Kind() == metrics.KindUint64 {
			v[i] = int64(smp.Value.Uint64())
		}
	}
	memSamplesMu.Unlock()
	return infoMem{
		heapObjects: v[0],
		heapInUse:   v[0] + v[1],
		heapRes:     v[0] + v[1] + v[2],
		total:       v[3],
		rss:         infoRSS(),
	}
}

// sampleMemory updates the used_memory peak and returns the reading.
func (s *Server) sampleMemory() infoMem {
	m := readInfoMem()
	for {
		p := s.stats.admin.memPeak.Load()
		if m.heapInUse <= p || s.stats.admin.memPeak.CompareAndSwap(p, m.heapInUse) {
			break
		}
	}
	return m
}

// infoRSS reads the resident set size from /proc/self/statm.
func infoRSS() int64 {
	data, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(data))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

// infoHuman is Redis's infoHuman.
func infoHuman(n int64) string {
	d := float64(n)
	switch {
	case n < 1024:
		return strconv.FormatInt(n, 10) + "B"
	case n < 1<<20:
		return fmt.Sprintf("%.2fK", d/(1<<10))
	case n < 1<<30:
		return fmt.Sprintf("%.2fM", d/(1<<20))
	case n < 1<<40:
		return fmt.Sprintf("%.2fG", d/(1<<30))
	case n < 1<<50:
		return fmt.Sprintf("%.2fT", d/(1<<40))
	case n < 1<<60:
		return fmt.Sprintf("%.2fP", d/(1<<50))
	}
	return strconv.FormatInt(n, 10) + "B"
}

// infoSections are the sections INFO knows, in output order.
var infoSections = []string{
	"server", "clients", "memory", "persistence", "stats", "replication",
	"cpu", "modules", "commandstats", "errorstats", "latencystats", "cluster",
	"keyspace", "workers", "flash",
}

// defaultInfoSections is Redis 7.0's default set (module_list prints the
// Modules section).
var defaultInfoSections = []string{
	"server", "clients", "memory", "persistence", "stats", "replication",
	"cpu", "module_list", "errorstats", "cluster", "keyspace",
}

// infoSelection parses INFO's arguments as Redis 7.0's genInfoSectionDict:
// no argument means the default sections; "all" every section,
// "everything" every section plus module-generated ones (kvd has none),
// "default" adds the defaults; anything else names one section.
func infoSelection(args [][]byte) (sel map[string]bool, all bool) {
	sel = make(map[string]bool)
	if len(args) == 0 {
		for _, n := range defaultInfoSections {
			sel[n] = true
		}
		return sel, false
	}
	for _, a := range args {
		switch name := strings.ToLower(string(a)); name {
		case "all", "everything":
			all = true
		case "default":
			for _, n := range defaultInfoSections {
				sel[n] = true
			}
		default:
			sel[name] = true
		}
	}
	return sel, all
}

func (sel infoSel) has(name string) bool {
	if sel.all {
		return true
	}
	if name == "modules" {
		return sel.m["modules"] || sel.m["module_list"]
	}
	return sel.m[name]
}

type infoSel struct {
	m   map[string]bool
	all bool
}

// infoString renders INFO for the given arguments.
func (s *Server) infoString(args [][]byte) string {
	s.startSampler()
	m, all := infoSelection(args)
	sel := infoSel{m: m, all: all}
	var b strings.Builder
	n := 0
	for _, name := range infoSections {
		if !sel.has(name) {
			continue
		}
		if n > 0 {
			b.WriteString("\r\n")
		}
		n++
		s.infoSection(&b, name)
	}
	return b.String()
}

// infoLine appends "name:value\r\n".
func infoLine(b *strings.Builder, name string, value any) {
	b.WriteString(name)
	b.WriteByte(':')
	switch v := value.(type) {
	case string:
		b.WriteString(v)
	case int:
		b.WriteString(strconv.Itoa(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	default:
		fmt.Fprint(b, v)
	}
	b.WriteString("\r\n")
}

func (s *Server) infoSection(b *strings.Builder, name string) {
	switch name {
	case "server":
		b.WriteString("# Server\r\n")
		s.infoServer(b)
	case "clients":
		b.WriteString("# Clients\r\n")
		s.infoClients(b)
	case "memory":
		b.WriteString("# Memory\r\n")
		s.infoMemory(b)
	case "persistence":
		b.WriteString("# Persistence\r\n")
		s.infoPersistence(b)
	case "stats":
		b.WriteString("# Stats\r\n")
		s.infoStats(b)
	case "replication":
		b.WriteString("# Replication\r\n")
		s.infoReplication(b)
	case "cpu":
		b.WriteString("# CPU\r\n")
		infoCPU(b)
	case "modules":
		b.WriteString("# Modules\r\n")
	case "commandstats":
		b.WriteString("# Commandstats\r\n")
		s.infoCommandStats(b)
	case "errorstats":
		b.WriteString("# Errorstats\r\n")
		s.infoErrorStats(b)
	case "latencystats":
		b.WriteString("# Latencystats\r\n")
		s.infoLatencyStats(b)
	case "cluster":
		b.WriteString("# Cluster\r\n")
		infoLine(b, "cluster_enabled", 0)
	case "keyspace":
		b.WriteString("# Keyspace\r\n")
		s.infoKeyspace(b)
	case "workers":
		b.WriteString("# Workers\r\n")
		s.infoWorkers(b)
	case "flash":
		b.WriteString("# Flash\r\n")
		s.infoFlash(b) // flash.go
	}
}

func (s *Server) infoServer(b *strings.Builder) {
	now := time.Now()
	uptime := int64(now.Sub(s.startTime) / time.Second)
	infoLine(b, "redis_version", Version)
	infoLine(b, "redis_git_sha1", "00000000")
	infoLine(b, "redis_git_dirty", 0)
	infoLine(b, "redis_mode", "standalone")
	infoLine(b, "os", infoOSName())
	infoLine(b, "arch_bits", strconv.IntSize)
	if runtime.GOOS == "linux" {
		infoLine(b, "monotonic_clock", "POSIX clock_gettime")
		infoLine(b, "multiplexing_api", "epoll")
	}
	infoLine(b, "go_version", runtime.Version())
	infoLine(b, "process_id", os.Getpid())
	infoLine(b, "process_supervised", "no")
	infoLine(b, "run_id", s.runID)
	infoLine(b, "tcp_port", s.tcpPort())
	infoLine(b, "server_time_usec", now.UnixMicro())
	infoLine(b, "uptime_in_seconds", uptime)
	infoLine(b, "uptime_in_days", uptime/(3600*24))
	infoLine(b, "hz", s.cfg.Hz.Load())
	infoLine(b, "configured_hz", s.cfg.Hz.Load())
	infoLine(b, "lru_clock", (now.UnixMilli()/1000)&(1<<24-1))
	exe, _ := os.Executable()
	infoLine(b, "executable", exe)
	infoLine(b, "config_file", s.cfg.File)
	infoLine(b, "kvd_version", KvdVersion)
}

// infoOSName is "sysname release machine", as Redis prints it from uname.
func infoOSName() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return runtime.GOOS + " " + runtime.GOARCH
	}
	str := func(f [65]int8) string {
		var out []byte
		for _, c := range f {
			if c == 0 {
				break
			}
			out = append(out, byte(c))
		}
		return string(out)
	}
	return str(u.Sysname) + " " + str(u.Release) + " " + str(u.Machine)
}

// tcpPort is the port of the first TCP listener (the configured port when
// not listening yet).
func (s *Server) tcpPort() int64 {
	s.lnMu.Lock()
	defer s.lnMu.Unlock()
	for _, ln := range s.listeners {
		if a, ok := ln.Addr().(*net.TCPAddr); ok {
			return int64(a.Port)
		}
	}
	return s.cfg.Port.Load()
}

func (s *Server) infoClients(b *strings.Builder) {
	s.clientsMu.Lock()
	n := len(s.clients)
	s.clientsMu.Unlock()
	infoLine(b, "connected_clients", n)
	infoLine(b, "cluster_connections", 0)
	infoLine(b, "maxclients", s.cfg.MaxClients.Load())
	infoLine(b, "blocked_clients", s.blocked.Load()) // as CLIENT LIST and CLIENT UNBLOCK see them (blocking.go)
	s.infoTrackingClients(b)                         // tracking.go
}

func (s *Server) infoMemory(b *strings.Builder) {
	m := s.sampleMemory()
	peak := s.stats.admin.memPeak.Load()
	used := m.heapInUse
	infoLine(b, "used_memory", used)
	infoLine(b, "used_memory_human", infoHuman(used))
	infoLine(b, "used_memory_rss", m.rss)
	infoLine(b, "used_memory_rss_human", infoHuman(m.rss))
	infoLine(b, "used_memory_peak", peak)
	infoLine(b, "used_memory_peak_human", infoHuman(peak))
	perc := 0.0
	if peak > 0 {
		perc = float64(used) * 100 / float64(peak)
	}
	infoLine(b, "used_memory_peak_perc", fmt.Sprintf("%.2f%%", perc))
	infoLine(b, "allocator_allocated", m.heapObjects)
	infoLine(b, "allocator_active", m.heapInUse)
	infoLine(b, "allocator_resident", m.heapRes)
	infoLine(b, "runtime_sys", m.total)
	var si syscall.Sysinfo_t
	if syscall.Sysinfo(&si) == nil {
		total := int64(si.Totalram) * int64(si.Unit)
		infoLine(b, "total_system_memory", total)
		infoLine(b, "total_system_memory_human", infoHuman(total))
	}
	maxmem, _ := s.cfg.Get("maxmemory")
	maxn, _ := strconv.ParseInt(maxmem, 10, 64)
	policy, _ := s.cfg.Get("maxmemory-policy")
	infoLine(b, "maxmemory", maxn)
	infoLine(b, "maxmemory_human", infoHuman(maxn))
	infoLine(b, "maxmemory_policy", policy)
	ratio := func(a, b int64) string {
		if b == 0 {
			return "0.00"
		}
		return fmt.Sprintf("%.2f", float64(a)/float64(b))
	}
	infoLine(b, "allocator_frag_ratio", ratio(m.heapInUse, m.heapObjects))
	infoLine(b, "allocator_frag_bytes", m.heapInUse-m.heapObjects)
	infoLine(b, "mem_fragmentation_ratio", ratio(m.rss, used))
	infoLine(b, "mem_fragmentation_bytes", m.rss-used)
	infoLine(b, "mem_allocator", "go-"+runtime.Version())
	infoGC(b) // kvd: GC figures (cmd_memory.go)
}

// infoPersistence reports the state of a server without persistence: no
// load, save or rewrite has ever run.
func (s *Server) infoPersistence(b *strings.Builder) {
	infoLine(b, "loading", 0)
	infoLine(b, "async_loading", 0)
	infoLine(b, "rdb_bgsave_in_progress", 0)
	infoLine(b, "rdb_last_save_time", s.startTime.Unix())
	infoLine(b, "rdb_last_bgsave_status", "ok")
	infoLine(b, "rdb_last_bgsave_time_sec", -1)
	infoLine(b, "rdb_current_bgsave_time_sec", -1)
	infoLine(b, "rdb_saves", 0)
	infoLine(b, "aof_enabled", 0)
	infoLine(b, "aof_rewrite_in_progress", 0)
	infoLine(b, "aof_rewrite_scheduled", 0)
	infoLine(b, "aof_last_rewrite_time_sec", -1)
	infoLine(b, "aof_current_rewrite_time_sec", -1)
	infoLine(b, "aof_last_bgrewrite_status", "ok")
	infoLine(b, "aof_rewrites", 0)
	infoLine(b, "aof_last_write_status", "ok")
}

// keyspaceTotals sums the workers' keyspace counters.
func (s *Server) keyspaceTotals() (expired, hits, misses int64) {
	for _, w := range s.eng.Workers() {
		expired += w.Stats.Expired()
		hits += w.Stats.Hits()
		misses += w.Stats.Misses()
	}
	return
}

func (s *Server) infoStats(b *strings.Builder) {
	expired, hits, misses := s.keyspaceTotals()
	infoLine(b, "total_connections_received", s.stats.connections.Load())
	// Like Redis, the INFO being run is not counted yet.
	infoLine(b, "total_commands_processed", max(0, s.processedCommands()-1))
	infoLine(b, "instantaneous_ops_per_sec", s.instantaneousOps())
	infoLine(b, "rejected_connections", s.stats.rejectedConns.Load())
	infoLine(b, "expired_keys", expired)
	infoLine(b, "keyspace_hits", hits)
	infoLine(b, "keyspace_misses", misses)
	s.infoPubSub(b) // pubsub.go
	infoLine(b, "total_forks", 0)
	s.infoTrackingStats(b) // tracking.go
	infoLine(b, "unexpected_error_replies", 0)
	infoLine(b, "total_error_replies", s.stats.errTotal.Load()+s.stats.protoErrors.Load())
	infoLine(b, "client_output_buffer_limit_disconnections", s.stats.outputLimitKills.Load())
}

func (s *Server) infoReplication(b *strings.Builder) {
	infoLine(b, "role", "master")
	infoLine(b, "connected_slaves", 0)
	infoLine(b, "master_failover_state", "no-failover")
	infoLine(b, "master_replid", s.stats.admin.replID)
	infoLine(b, "master_replid2", strings.Repeat("0", 40))
	infoLine(b, "master_repl_offset", 0)
	infoLine(b, "second_repl_offset", -1)
	infoLine(b, "repl_backlog_active", 0)
	infoLine(b, "repl_backlog_size", 1048576)
	infoLine(b, "repl_backlog_first_byte_offset", 0)
	infoLine(b, "repl_backlog_histlen", 0)
}

func infoCPU(b *strings.Builder) {
	tv := func(t syscall.Timeval) string {
		return fmt.Sprintf("%d.%06d", t.Sec, t.Usec)
	}
	var self, children syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &self)
	syscall.Getrusage(syscall.RUSAGE_CHILDREN, &children)
	infoLine(b, "used_cpu_sys", tv(self.Stime))
	infoLine(b, "used_cpu_user", tv(self.Utime))
	infoLine(b, "used_cpu_sys_children", tv(children.Stime))
	infoLine(b, "used_cpu_user_children", tv(children.Utime))
}

// statCommands lists every command and subcommand with statistics, sorted
// by full name.
func (s *Server) statCommands() []*Command {
	var out []*Command
	for _, c := range s.reg.byID {
		if c.stats.calls.Load() != 0 || c.stats.failed.Load() != 0 || c.stats.rejected.Load() != 0 {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (s *Server) infoCommandStats(b *strings.Builder) {
	for _, c := range s.statCommands() {
		calls, usec := c.stats.calls.Load(), c.stats.usec.Load()
		per := 0.0
		if calls > 0 {
			per = float64(float32(usec) / float32(calls))
		}
		fmt.Fprintf(b, "cmdstat_%s:calls=%d,usec=%d,usec_per_call=%.2f,rejected_calls=%d,failed_calls=%d\r\n",
			infoSafe(c.Name), calls, usec, per, c.stats.rejected.Load(), c.stats.failed.Load())
	}
}

// infoSafe is Redis's getSafeInfoString: ':' '\r' '\n' become '_'.
func infoSafe(s string) string {
	return strings.NewReplacer(":", "_", "\r", "_", "\n", "_").Replace(s)
}

func (s *Server) infoErrorStats(b *strings.Builder) {
	s.stats.errMu.Lock()
	codes := make(map[string]int64, len(s.stats.errs)+1)
	for k, v := range s.stats.errs {
		codes[k] = v
	}
	s.stats.errMu.Unlock()
	if pe := s.stats.protoErrors.Load(); pe > 0 {
		codes["ERR"] += pe
	}
	names := make([]string, 0, len(codes))
	for k := range codes {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		fmt.Fprintf(b, "errorstat_%s:count=%d\r\n", infoSafe(k), codes[k])
	}
}

// keyspaceCounts returns the number of keys and of keys with an expiry in
// every database, read atomically while holding every worker.
func (s *Server) keyspaceCounts() (keys, expires []int64) {
	n := s.eng.Databases()
	keys, expires = make([]int64, n), make([]int64, n)
	s.eng.Do(func(w *shard.Worker) {
		for db := 0; db < n; db++ {
			d := s.eng.DB(w, db)
			keys[db] = int64(d.Len(shard.AllSlots))
			expires[db] = int64(d.VolatileLen(shard.AllSlots))
		}
	})
	return keys, expires
}

func (s *Server) infoKeyspace(b *strings.Builder) {
	keys, expires := s.keyspaceCounts()
	for db := range keys {
		if keys[db] == 0 {
			continue
		}
		fmt.Fprintf(b, "db%d:keys=%d,expires=%d,avg_ttl=0\r\n", db, keys[db], expires[db])
	}
}

func (s *Server) infoWorkers(b *strings.Builder) {
	ws := s.eng.Workers()
	infoLine(b, "workers", len(ws))
	for i, w := range ws {
		fmt.Fprintf(b, "worker%d:slots=%d,jobs=%d,batches=%d,busy_us=%d,queue=%d,expire_cycles=%d,expired_keys=%d\r\n",
			i, w.NumOwned(), w.Stats.Jobs.Load(), w.Stats.Batches.Load(), w.Stats.BusyNanos.Load()/1000,
			w.QueueLen(), w.Stats.ExpireCycles.Load(), w.Stats.Expired())
	}
	s.infoWorkersBalance(b) // balancer and scaler figures (cmd_workers.go)
}

// resetStats is CONFIG RESETSTAT: the INFO counters, command and error
// statistics, keyspace hits/misses/expired and the memory peak. The slow
// log and the latency monitor are kept, as in Redis.
func (s *Server) resetStats() {
	st := &s.stats
	st.connections.Store(0)
	st.rejectedConns.Store(0)
	// total_commands_processed is commands minus rejected.
	st.commands.Store(0)
	st.rejected.Store(0)
	st.protoErrors.Store(0)
	st.outputLimitKills.Store(0)
	st.netIn.Store(0)
	st.netOut.Store(0)
	st.errMu.Lock()
	clear(st.errs)
	st.errMu.Unlock()
	st.errTotal.Store(0)
	for _, c := range s.reg.byID {
		c.stats.hist.Store(nil)
		c.stats.calls.Store(0)
		c.stats.usec.Store(0)
		c.stats.failed.Store(0)
		c.stats.rejected.Store(0)
	}
	for _, w := range s.eng.Workers() {
		w.Stats.ResetKeyspace()
		w.Stats.Jobs.Store(0)
		w.Stats.Batches.Store(0)
		w.Stats.BusyNanos.Store(0)
		w.Stats.ExpireCycles.Store(0)
	}
	a := &st.admin
	a.mu.Lock()
	a.opsSamples = [instSamples]int64{}
	a.lastOps = 0
	a.mu.Unlock()
	a.memPeak.Store(readInfoMem().heapInUse)
}

// histCommands lists the commands and subcommands that have a latency
// histogram, sorted by full name.
func (s *Server) histCommands() []*Command {
	var out []*Command
	for _, c := range s.reg.byID {
		if c.stats.hist.Load() != nil {
			out = append(out, c)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// infoLatencyStats writes latency_percentiles_usec_<cmd> lines with the
// latency-tracking-info-percentiles, when latency-tracking is on.
func (s *Server) infoLatencyStats(b *strings.Builder) {
	if !s.cfg.LatencyTracking.Load() {
		return
	}
	pv, _ := s.cfg.Get("latency-tracking-info-percentiles")
	var ps []float64
	var names []string
	for _, f := range strings.Fields(pv) {
		p, _ := strconv.ParseFloat(f, 64)
		ps = append(ps, p)
		names = append(names, f)
	}
	for _, c := range s.histCommands() {
		counts, total := c.stats.hist.Load().snapshot()
		b.WriteString("latency_percentiles_usec_")
		b.WriteString(infoSafe(c.Name))
		b.WriteByte(':')
		for i, p := range ps {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(b, "p%s=%.3f", names[i], float64(histPercentile(counts, total, p))/1000)
		}
		b.WriteString("\r\n")
	}
}
