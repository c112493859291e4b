package server

import (
	"fmt"
	"math"
	"math/bits"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// slowlog keeps the last slowlog-max-len commands slower than
// slowlog-log-slower-than microseconds, newest first.
type slowlog struct {
	mu      sync.Mutex // guards entries, nextID
	entries []slowEntry
	nextID  int64
}

type slowEntry struct {
	id     int64
	when   int64 // Unix seconds
	micros int64
	args   []string
	addr   string
	name   string
}

// Redis's SLOWLOG_ENTRY_MAX_ARGC and SLOWLOG_ENTRY_MAX_STRING.
const (
	slowMaxArgc   = 32
	slowMaxString = 128
)

func (l *slowlog) init(*Config) {}

func (l *slowlog) maybeAdd(s *Server, cmd *Command, us int64, r *request) {
	limit := s.cfg.SlowlogSlower.Load()
	if limit < 0 || us < limit || r == nil {
		return
	}
	e := slowEntry{when: time.Now().Unix(), micros: us}
	args := r.args
	n := min(len(args), slowMaxArgc)
	for i := 0; i < n; i++ {
		if i == slowMaxArgc-1 && len(args) > slowMaxArgc {
			e.args = append(e.args, "... ("+strconv.Itoa(len(args)-slowMaxArgc+1)+" more arguments)")
			break
		}
		a := args[i]
		if len(a) > slowMaxString {
			e.args = append(e.args, string(a[:slowMaxString])+"... ("+strconv.Itoa(len(a)-slowMaxString)+" more bytes)")
		} else {
			e.args = append(e.args, string(a))
		}
	}
	e.addr = r.c.nc.RemoteAddr().String()
	r.c.mu.Lock()
	e.name = r.c.name
	r.c.mu.Unlock()
	max := int(s.cfg.SlowlogMaxLen.Load())
	l.mu.Lock()
	defer l.mu.Unlock()
	e.id = l.nextID
	l.nextID++
	l.entries = append([]slowEntry{e}, l.entries...)
	if len(l.entries) > max {
		l.entries = l.entries[:max]
	}
}

// get returns up to n newest entries (n < 0: all).
func (l *slowlog) get(n int) []slowEntry {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n < 0 || n > len(l.entries) {
		n = len(l.entries)
	}
	return append([]slowEntry(nil), l.entries[:n]...)
}

func (l *slowlog) len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

func (l *slowlog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.entries = nil
}

// latencyMonitor records latency spikes per event above
// latency-monitor-threshold milliseconds (LATENCY LATEST/HISTORY/RESET).
type latencyMonitor struct {
	mu     sync.Mutex // guards events
	events map[string]*latencyEvent
}

// latencyHistory is Redis's LATENCY_TS_LEN.
const latencyHistory = 160

type latencySample struct {
	when    int64 // Unix seconds
	latency int64 // milliseconds
}

type latencyEvent struct {
	samples []latencySample // oldest first, at most latencyHistory
	max     int64
}

func (m *latencyMonitor) init() { m.events = make(map[string]*latencyEvent) }

func (m *latencyMonitor) maybeAdd(cfg *Config, cmd *Command, d time.Duration) {
	th := cfg.LatencyThreshold.Load()
	if th <= 0 {
		return
	}
	ms := d.Milliseconds()
	if ms < th {
		return
	}
	event := "command"
	if cmd.Flags&Fast != 0 {
		event = "fast-command"
	}
	m.add(event, ms)
}

// add records a sample; samples in the same second keep the maximum.
func (m *latencyMonitor) add(event string, ms int64) {
	now := time.Now().Unix()
	m.mu.Lock()
	defer m.mu.Unlock()
	ev := m.events[event]
	if ev == nil {
		ev = &latencyEvent{}
		m.events[event] = ev
	}
	if ms > ev.max {
		ev.max = ms
	}
	if n := len(ev.samples); n > 0 && ev.samples[n-1].when == now {
		if ms > ev.samples[n-1].latency {
			ev.samples[n-1].latency = ms
		}
		return
	}
	ev.samples = append(ev.samples, latencySample{when: now, latency: ms})
	if len(ev.samples) > latencyHistory {
		ev.samples = ev.samples[1:]
	}
}

// slowlogRedacted replaces a sensitive argument (CONFIG SET requirepass ...) in
// the request before the slow log sees it, as Redis's
// redactClientCommandArgument does.
var slowlogRedacted = []byte("(redacted)")

// latencyLatest is one row of LATENCY LATEST.
type latencyLatest struct {
	event   string
	when    int64
	latency int64
	max     int64
}

// latest returns the last sample of every event, sorted by event name.
func (m *latencyMonitor) latest() []latencyLatest {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]latencyLatest, 0, len(m.events))
	for name, ev := range m.events {
		last := ev.samples[len(ev.samples)-1]
		out = append(out, latencyLatest{event: name, when: last.when, latency: last.latency, max: ev.max})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].event < out[j].event })
	return out
}

// history returns the samples of event, oldest first (nil when the event
// has none). The event name is matched exactly, as in Redis.
func (m *latencyMonitor) history(event string) []latencySample {
	m.mu.Lock()
	defer m.mu.Unlock()
	ev := m.events[event]
	if ev == nil {
		return nil
	}
	return append([]latencySample(nil), ev.samples...)
}

// reset drops the named events (case-insensitively), or every event when
// names is empty, and returns how many were dropped.
func (m *latencyMonitor) reset(names []string) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(names) == 0 {
		n := len(m.events)
		clear(m.events)
		return n
	}
	n := 0
	for _, name := range names {
		for ev := range m.events {
			if strings.EqualFold(ev, name) {
				delete(m.events, ev)
				n++
			}
		}
	}
	return n
}

// eventCount is the number of events with samples.
func (m *latencyMonitor) eventCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.events)
}

// latencyStats is Redis's struct latencyStats (analyzeLatencyForEvent).
type latencyStats struct {
	allTimeHigh, avg, min, max, mad int64
	samples                         int
	period                          int64
}

func analyzeLatency(ev *latencyEvent, now int64) latencyStats {
	var ls latencyStats
	if ev == nil {
		return ls
	}
	ls.allTimeHigh = ev.max
	var sum int64
	for _, s := range ev.samples {
		ls.samples++
		if ls.samples == 1 {
			ls.min, ls.max = s.latency, s.latency
		} else {
			ls.min = min(ls.min, s.latency)
			ls.max = max(ls.max, s.latency)
		}
		sum += s.latency
		if ls.period == 0 || s.when < ls.period {
			ls.period = s.when
		}
	}
	if ls.samples > 0 {
		ls.avg = sum / int64(ls.samples)
		ls.period = now - ls.period
		if ls.period == 0 {
			ls.period = 1
		}
		var dev int64
		for _, s := range ev.samples {
			d := ls.avg - s.latency
			if d < 0 {
				d = -d
			}
			dev += d
		}
		ls.mad = dev / int64(ls.samples)
	}
	return ls
}

// doctor writes the LATENCY DOCTOR report, following Redis's
// createLatencyReport (the advice that applies to kvd's events).
func (m *latencyMonitor) doctor(cfg *Config) string {
	m.mu.Lock()
	names := make([]string, 0, len(m.events))
	for name := range m.events {
		names = append(names, name)
	}
	sort.Strings(names)
	stats := make([]latencyStats, len(names))
	now := time.Now().Unix()
	for i, name := range names {
		stats[i] = analyzeLatency(m.events[name], now)
	}
	m.mu.Unlock()

	threshold := cfg.LatencyThreshold.Load()
	if len(names) == 0 && threshold == 0 {
		return "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"
	}
	var b strings.Builder
	var (
		slowlogEnabled, slowlogTuning, slowlogInspect, scheduler bool
		hz, largeObjects, massEviction, thp                      bool
		advices                                                  int
	)
	for i, name := range names {
		ls := stats[i]
		if i == 0 {
			b.WriteString("Dave, I have observed latency spikes in this Redis instance. You don't mind talking about it, do you Dave?\n\n")
		}
		fmt.Fprintf(&b, "%d. %s: %d latency spikes (average %dms, mean deviation %dms, period %.2f sec). Worst all time event %dms.",
			i+1, name, ls.samples, ls.avg, ls.mad, float64(ls.period)/float64(ls.samples), ls.allTimeHigh)
		switch strings.ToLower(name) {
		case "command":
			slower := cfg.SlowlogSlower.Load()
			if slower < 0 {
				slowlogEnabled = true
				advices++
			} else if slower/1000 > threshold {
				slowlogTuning = true
				advices++
			}
			slowlogInspect, largeObjects = true, true
			advices += 2
		case "fast-command":
			scheduler = true
			advices++
		case "expire-cycle":
			hz, largeObjects = true, true
			advices += 2
		case "eviction-del":
			largeObjects = true
			advices++
		case "eviction-cycle":
			massEviction = true
			advices++
		}
		b.WriteByte('\n')
	}
	if latencyTHP() > 0 {
		thp = true
		advices++
	}
	switch {
	case len(names) == 0 && advices == 0:
		b.WriteString("Dave, no latency spike was observed during the lifetime of this Redis instance, not in the slightest bit. I honestly think you ought to sit down calmly, take a stress pill, and think things over.\n")
	case len(names) > 0 && advices == 0:
		b.WriteString("\nWhile there are latency events logged, I'm not able to suggest any easy fix. Please use the Redis community to get some help, providing this report in your help request.\n")
	default:
		b.WriteString("\nI have a few advices for you:\n\n")
		if slowlogEnabled {
			fmt.Fprintf(&b, "- There are latency issues with potentially slow commands you are using. Try to enable the Slow Log Redis feature using the command 'CONFIG SET slowlog-log-slower-than %d'. If the Slow log is disabled Redis is not able to log slow commands execution for you.\n", threshold*1000)
		}
		if slowlogTuning {
			fmt.Fprintf(&b, "- Your current Slow Log configuration only logs events that are slower than your configured latency monitor threshold. Please use 'CONFIG SET slowlog-log-slower-than %d'.\n", threshold*1000)
		}
		if slowlogInspect {
			b.WriteString("- Check your Slow Log to understand what are the commands you are running which are too slow to execute. Please check https://redis.io/commands/slowlog for more information.\n")
		}
		if scheduler {
			b.WriteString("- The system is slow to execute Redis code paths not containing system calls. This usually means the system does not provide Redis CPU time to run for long periods. You should try to:\n" +
				"  1) Lower the system load.\n" +
				"  2) Use a computer / VM just for Redis if you are running other software in the same system.\n" +
				"  3) Check if you have a \"noisy neighbour\" problem.\n" +
				"  4) Check with 'redis-cli --intrinsic-latency 100' what is the intrinsic latency in your system.\n" +
				"  5) Check if the problem is allocator-related by recompiling Redis with MALLOC=libc, if you are using Jemalloc. However this may create fragmentation problems.\n")
		}
		if hz && cfg.Hz.Load() < 100 {
			b.WriteString("- In order to make the Redis keys expiring process more incremental, try to set the 'hz' configuration parameter to 100 using 'CONFIG SET hz 100'.\n")
		}
		if largeObjects {
			b.WriteString("- Deleting, expiring or evicting (because of maxmemory policy) large objects is a blocking operation. If you have very large objects that are often deleted, expired, or evicted, try to fragment those objects into multiple smaller objects.\n")
		}
		if massEviction {
			b.WriteString("- Sudden changes to the 'maxmemory' setting via 'CONFIG SET', or allocation of large objects via sets or sorted sets intersections, STORE option of SORT, Redis Cluster large keys migrations (RESTORE command), may create sudden memory pressure forcing the server to block trying to evict keys. \n")
		}
		if thp {
			b.WriteString("- I detected a non zero amount of anonymous huge pages used by your process. This creates very serious latency events in different conditions, especially when Redis is persisting on disk. To disable THP support use the command 'echo never > /sys/kernel/mm/transparent_hugepage/enabled', make sure to also add it into /etc/rc.local so that the command will be executed again after a reboot. Note that even if you have already disabled THP, you still need to restart the Redis process to get rid of the huge pages already created.\n")
		}
	}
	return b.String()
}

// latencyTHP is the AnonHugePages total of the process in bytes (0 when
// /proc is not available).
func latencyTHP() int64 {
	data, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "AnonHugePages:"); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				n, _ := strconv.ParseInt(f[0], 10, 64)
				return n * 1024
			}
		}
	}
	return 0
}

// graph renders LATENCY GRAPH for event as Redis's
// latencyCommandGenSparkeline does; ok is false when there are no samples.
func (m *latencyMonitor) graph(event string) (string, bool) {
	m.mu.Lock()
	ev := m.events[event]
	if ev == nil {
		m.mu.Unlock()
		return "", false
	}
	samples := append([]latencySample(nil), ev.samples...)
	allTime := ev.max
	m.mu.Unlock()

	now := time.Now().Unix()
	var seq sparkSeq
	var lo, hi int64
	for i, s := range samples {
		if i == 0 {
			lo, hi = s.latency, s.latency
		} else {
			lo, hi = min(lo, s.latency), max(hi, s.latency)
		}
		elapsed := now - s.when
		var label string
		switch {
		case elapsed < 60:
			label = strconv.FormatInt(elapsed, 10) + "s"
		case elapsed < 3600:
			label = strconv.FormatInt(elapsed/60, 10) + "m"
		case elapsed < 3600*24:
			label = strconv.FormatInt(elapsed/3600, 10) + "h"
		default:
			label = strconv.FormatInt(elapsed/(3600*24), 10) + "d"
		}
		seq.add(float64(s.latency), label)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s - high %d ms, low %d ms (all time high %d ms)\n", event, hi, lo, allTime)
	b.WriteString(strings.Repeat("-", latencyGraphCols))
	b.WriteByte('\n')
	seq.render(&b, latencyGraphCols, 4)
	return b.String(), true
}

const latencyGraphCols = 80

// sparkSeq is Redis's sparkline sequence (sparkline.c), rendered with
// SPARKLINE_FILL.
type sparkSeq struct {
	values   []float64
	labels   []string
	min, max float64
	nlabels  int
}

func (q *sparkSeq) add(v float64, label string) {
	if len(q.values) == 0 {
		q.min, q.max = v, v
	} else if v < q.min {
		q.min = v
	} else if v > q.max {
		q.max = v
	}
	q.values = append(q.values, v)
	q.labels = append(q.labels, label)
	if label != "" {
		q.nlabels++
	}
}

func (q *sparkSeq) render(b *strings.Builder, columns, rows int) {
	for j := 0; j < len(q.values); j += columns {
		if j != 0 {
			b.WriteByte('\n')
		}
		q.renderRange(b, rows, j, min(columns, len(q.values)-j))
	}
}

func (q *sparkSeq) renderRange(b *strings.Builder, rows, offset, n int) {
	const charsetFill = "_o#"
	const charsetLen = 3
	const labelMarginTop = 1
	relmax := q.max - q.min
	if relmax == 0 {
		relmax = 1
	}
	steps := charsetLen * rows
	chars := make([]byte, n)
	for row, loop := 0, true; loop; {
		loop = false
		for j := range chars {
			chars[j] = ' '
		}
		for j := 0; j < n; j++ {
			v := q.values[j+offset]
			// Redis: step = (int) (relval*steps)/relmax;
			step := int(float64(int((v-q.min)*float64(steps))) / relmax)
			step = max(0, min(step, steps-1))
			if row < rows {
				idx := step - (rows-row-1)*charsetLen
				loop = true
				if idx >= 0 && idx < charsetLen {
					chars[j] = charsetFill[idx]
				} else if idx >= charsetLen {
					chars[j] = '|'
				}
				continue
			}
			if q.nlabels > 0 && row-rows < labelMarginTop {
				loop = true
				break
			}
			if label := q.labels[j+offset]; label != "" {
				lc := row - rows - labelMarginTop
				if len(label) > lc {
					loop = true
					chars[j] = label[lc]
				}
			}
		}
		if loop {
			row++
			b.Write(chars)
			b.WriteByte('\n')
		}
	}
}

// latencyHist is a per-command latency histogram with the layout of the
// hdr_histogram Redis 7.0 keeps per command (lowest 1 ns, highest 1 s,
// 2 significant digits), so that LATENCY HISTOGRAM and INFO latencystats
// report the same buckets and percentiles. Counters are atomic: workers
// record concurrently.
type latencyHist struct {
	// counts are striped like the command counters (cmdstats.go): one
	// array per stripe, so workers recording the same command do not share
	// the hot buckets' cache lines. The total is their sum (snapshot).
	counts [statStripes][histCountsLen]atomic.Int64
}

// Redis's LATENCY_HISTOGRAM_{MIN,MAX}_VALUE and PRECISION, and the hdr
// geometry they imply: 256 sub-buckets (half 128), 23 buckets.
const (
	histMin         = 1
	histMax         = 1_000_000_000
	histSubBits     = 8 // log2(sub_bucket_count)
	histSubHalfBits = histSubBits - 1
	histSubHalf     = 1 << histSubHalfBits
	histSubMask     = 1<<histSubBits - 1
	histBuckets     = 23
	histCountsLen   = (histBuckets + 1) * histSubHalf
	histIterFirst   = 1024 // hdr_iter_log_init(..., 1024, 2)
	histIterLogBase = 2
)

func histBucketIndex(v int64) int { return bits.Len64(uint64(v)|histSubMask) - (histSubHalfBits + 1) }

func histCountsIndex(v int64) int {
	b := histBucketIndex(v)
	sub := int(v >> uint(b))
	return (b+1)<<histSubHalfBits + sub - histSubHalf
}

func histValueAt(idx int) int64 {
	b := idx>>histSubHalfBits - 1
	sub := idx&(histSubHalf-1) + histSubHalf
	if b < 0 {
		sub -= histSubHalf
		b = 0
	}
	return int64(sub) << uint(b)
}

func histLowestEquivalent(v int64) int64 {
	b := histBucketIndex(v)
	return (v >> uint(b)) << uint(b)
}

func histHighestEquivalent(v int64) int64 {
	b := histBucketIndex(v)
	sub := v >> uint(b)
	adj := b
	if sub >= 1<<histSubBits {
		adj++
	}
	return histLowestEquivalent(v) + int64(1)<<uint(adj) - 1
}

// record adds one call of us microseconds (Redis records duration*1000 ns,
// clamped to the histogram's range).
func (h *latencyHist) record(us int64) { h.recordAt(0, us) }

func (h *latencyHist) recordAt(stripe int, us int64) {
	ns := min(max(us*1000, histMin), histMax)
	h.counts[stripe&(statStripes-1)][histCountsIndex(ns)].Add(1)
}

// snapshot copies the counters (reads race benignly with recording).
func (h *latencyHist) snapshot() (counts []int64, total int64) {
	counts = make([]int64, histCountsLen)
	for i := range counts {
		for st := range h.counts {
			counts[i] += h.counts[st][i].Load()
		}
		total += counts[i]
	}
	return counts, total
}

// histPercentile is hdr_value_at_percentile, in nanoseconds.
func histPercentile(counts []int64, total int64, p float64) int64 {
	p = min(p, 100)
	want := max(int64(p/100*float64(total)+0.5), 1)
	var sum int64
	for idx, n := range counts {
		sum += n
		if sum >= want {
			v := histValueAt(idx)
			if p == 0 {
				return histLowestEquivalent(v)
			}
			return histHighestEquivalent(v)
		}
	}
	return 0
}

// histCDF is Redis's fillCommandCDF walk (hdr_iter_log from 1024 ns, base
// 2): pairs of bucket upper bound in microseconds and cumulative count,
// for the buckets where the count grew.
func histCDF(counts []int64, total int64) [][2]int64 {
	var out [][2]int64
	var cum, prev int64
	idx := 0
	for level := int64(histIterFirst); cum < total; level *= histIterLogBase {
		last := histCountsIndex(level)
		if last >= len(counts) {
			// hdr's iterator runs out of buckets before this level: like
			// Redis, calls above the last reported level are only counted
			// in "calls".
			break
		}
		for ; idx <= last; idx++ {
			cum += counts[idx]
		}
		if cum > prev {
			out = append(out, [2]int64{histHighestEquivalent(level) / 1000, cum})
		}
		prev = cum
	}
	return out
}

// recordLatency feeds a command's histogram when latency-tracking is on.
func (s *Server) recordLatency(cmd *Command, us int64) { s.recordLatencyAt(0, cmd, us) }

// recordLatencyAt is recordLatency into the given stripe of the histogram.
func (s *Server) recordLatencyAt(stripe int, cmd *Command, us int64) {
	if !s.cfg.LatencyTracking.Load() {
		return
	}
	h := cmd.stats.hist.Load()
	if h == nil {
		h = new(latencyHist)
		if !cmd.stats.hist.CompareAndSwap(nil, h) {
			h = cmd.stats.hist.Load()
		}
	}
	h.recordAt(stripe, us)
}

// parsePercentiles validates latency-tracking-info-percentiles: doubles in
// [0, 100] (none for ""), formatted as Redis prints them.
func parsePercentiles(v string) (string, error) {
	var f []string
	if v != "" {
		f = strings.Split(v, " ") // sdssplitlen on single spaces: "5  99" holds an empty, invalid one
	}
	out := make([]string, 0, len(f))
	for _, x := range f {
		p, err := strconv.ParseFloat(x, 64)
		if err != nil || math.IsNaN(p) {
			return "", fmt.Errorf("Invalid latency-tracking-info-percentiles parameters")
		}
		if p < 0 || p > 100 {
			return "", fmt.Errorf("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
		}
		out = append(out, trimFloat(p))
	}
	return strings.Join(out, " "), nil
}

// trimFloat is "%f" with trailing zeros (and a trailing '.') removed, as
// Redis's trimDoubleString.
func trimFloat(p float64) string {
	s := strconv.FormatFloat(p, 'f', 6, 64)
	s = strings.TrimRight(s, "0")
	return strings.TrimSuffix(s, ".")
}
