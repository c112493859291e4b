package server

import (
	"fmt"
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/shard"
	"github.com/kvd/kvd/shard/types"
)

// The MEMORY command family and the runtime's GC figures for INFO.
//
// kvd has no jemalloc: its allocator is the Go runtime's, so the figures
// are the runtime's (runtime/metrics), sizes are Go size classes, and
// MEMORY PURGE runs a full collection and returns freed pages to the OS
// (debug.FreeOSMemory), which is what jemalloc_purge achieves for Redis.

func registerMemory(r *Registry) {
	memStartup.Store(readInfoMem().heapInUse)
	r.AddContainer("memory", -2, 0)
	r.Add(&Command{Name: "memory|doctor", Arity: 2, RunConn: cmdMemoryDoctor})
	r.Add(&Command{Name: "memory|help", Arity: 2, Flags: Loading | Stale, RunConn: cmdMemoryHelp})
	r.Add(&Command{Name: "memory|malloc-stats", Arity: 2, RunConn: cmdMemoryMallocStats})
	r.Add(&Command{Name: "memory|purge", Arity: 2, RunConn: cmdMemoryPurge})
	r.Add(&Command{Name: "memory|stats", Arity: 2, RunConn: cmdMemoryStats})
	r.Add(&Command{Name: "memory|usage", Arity: -3, Flags: ReadOnly, FirstKey: 2, LastKey: 2, Step: 1, Run: cmdMemoryUsage})
}

// memStartup is the heap in use when the command table was built
// (startup.allocated).
var memStartup atomic.Int64

var memoryHelp = []string{
	"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
	"DOCTOR",
	"    Return memory problems reports.",
	"MALLOC-STATS",
	"    Return internal statistics report from the memory allocator.",
	"PURGE",
	"    Attempt to purge dirty pages for reclamation by the allocator.",
	"STATS",
	"    Return information about the memory usage of the server.",
	"USAGE <key> [SAMPLES <count>]",
	"    Return memory in bytes used by <key> and its value. Nested values are",
	"    sampled up to <count> times (default: 5, 0 means sample all).",
	"HELP",
	"    Prints this help.",
}

func cmdMemoryHelp(_ *Conn, _ [][]byte, w *proto.Writer) {
	w.Array(len(memoryHelp))
	for _, l := range memoryHelp {
		w.Simple(l)
	}
}

func cmdMemoryPurge(c *Conn, _ [][]byte, w *proto.Writer) {
	debug.FreeOSMemory() // a full GC, then every free page back to the OS
	c.srv.sampleMemory()
	w.OK()
}

// memSizeClasses are the Go runtime's small-object size classes
// (runtime/sizeclasses.go); larger objects take whole 8 KiB pages.
var memSizeClasses = [...]int{
	8, 16, 24, 32, 48, 64, 80, 96, 112, 128, 144, 160, 176, 192, 208, 224, 240, 256,
	288, 320, 352, 384, 416, 448, 480, 512, 576, 640, 704, 768, 896, 1024, 1152, 1280,
	1408, 1536, 1792, 2048, 2304, 2688, 3072, 3200, 3456, 4096, 4864, 5376, 6144, 6528,
	6784, 6912, 8192, 9472, 9728, 10240, 10880, 12288, 13568, 14336, 16384, 18432, 19072,
	20480, 21760, 24576, 27264, 28672, 32768,
}

// allocSize is what the Go allocator really reserves for an n-byte object.
func allocSize(n int) int64 {
	if n <= 0 {
		return 0
	}
	if n > 32768 {
		return int64((n + 8191) &^ 8191)
	}
	i := sort.SearchInts(memSizeClasses[:], n)
	return int64(memSizeClasses[i])
}

// Per-entry costs of the Go structures kvd stores values in. A swiss-table
// map slot holds the key header and the value; tables run between 7/16 and
// 7/8 full, so an entry costs about 1.5 slots plus its control byte.
const (
	memMapSlotStrPtr = (16+8)*3/2 + 2   // map[string]*T / map[string]int entry
	memStrHeader     = 16               // a string header inside a slice or struct
	memZSetNode      = 72 + 16*4/3 + 16 // zslNode, its ~1.33 levels, hash bucket share
)

// memKeyOverhead is the keyspace's cost for one key besides the value:
// the map entry, the key's bytes and the Object.
func memKeyOverhead(key []byte) int64 {
	return memMapSlotStrPtr + allocSize(len(key)) + allocSize(int(unsafe.Sizeof(shard.Object{})))
}

// memValueSize estimates the bytes held by o's value, sampling at most
// samples elements of a collection (math.MaxInt for all), as Redis's
// objectComputeSize does.
func memValueSize(o *shard.Object, samples int) int64 {
	if o.Kind == shard.KindString {
		return allocSize(cap(o.Str))
	}
	var n int    // elements in the collection
	var seen int // elements sampled
	var bytes int64
	switch v := o.Val.(type) {
	case *types.List:
		n = v.Len()
		v.Each(false, func(_ int, s string) bool {
			bytes += memStrHeader + allocSize(len(s))
			seen++
			return seen < samples
		})
		bytes += allocSize(int(unsafe.Sizeof(*v)))
	case *types.Set:
		n = v.Len()
		v.Scan(0, min(samples, n), func(m []byte) {
			if seen < samples {
				bytes += memStrHeader + allocSize(len(m)) + memMapSlotStrPtr
				seen++
			}
		})
		bytes += allocSize(int(unsafe.Sizeof(*v)))
	case *types.Hash:
		n = v.Len()
		v.Range(func(f, val string) bool {
			bytes += 48 + allocSize(len(f)) + allocSize(len(val))
			if n > 128 {
				bytes += memMapSlotStrPtr
			}
			seen++
			return seen < samples
		})
		bytes += allocSize(int(unsafe.Sizeof(*v)))
	case *types.ZSet:
		n = v.Len()
		v.Scan(0, min(samples, n), func(m string, _ float64) {
			if seen < samples {
				bytes += memZSetNode + allocSize(len(m))
				seen++
			}
		})
		bytes += allocSize(int(unsafe.Sizeof(*v)))
	default:
		return allocSize(int(unsafe.Sizeof(o.Val)))
	}
	if seen > 0 && n > seen {
		bytes = bytes / int64(seen) * int64(n)
	}
	return bytes
}

// cmdMemoryUsage is MEMORY USAGE key [SAMPLES count].
func cmdMemoryUsage(x *Ctx) {
	samples := 5
	for j := 3; j < len(x.Args); j++ {
		if !strings.EqualFold(string(x.Args[j]), "samples") || j+1 >= len(x.Args) {
			x.W.Error(ErrSyntax)
			return
		}
		v, ok := strictInt64(x.Args[j+1])
		if !ok {
			x.W.Error(ErrNotInteger)
			return
		}
		if v < 0 {
			x.W.Error(ErrSyntax)
			return
		}
		samples = int(min(v, math.MaxInt32))
		if v == 0 {
			samples = math.MaxInt
		}
		j++
	}
	o := x.DB.Lookup(x.Args[2])
	if o == nil {
		x.W.Null()
		return
	}
	x.W.Int(memKeyOverhead(x.Args[2]) + memValueSize(o, samples))
}

// memOverhead is Redis's redisMemOverhead, from kvd's figures.
type memOverhead struct {
	m                    infoMem
	peak, used, startup  int64
	clients              int64
	dbKeys, dbExpires    []int64
	overheadTotal        int64
	keys, bytesPerKey    int64
	dataset              int64
	datasetPerc, peakPer float64
}

func (s *Server) memOverhead() memOverhead {
	var mh memOverhead
	mh.m = s.sampleMemory()
	mh.used = mh.m.heapInUse
	mh.peak = max(s.stats.admin.memPeak.Load(), mh.used)
	mh.startup = min(memStartup.Load(), mh.used)
	s.clientsMu.Lock()
	mh.clients = int64(len(s.clients)) * 2 * 16 << 10 // read and write buffers, 16 KiB each
	s.clientsMu.Unlock()
	mh.dbKeys, mh.dbExpires = s.keyspaceCounts()
	mh.overheadTotal = mh.startup + mh.clients
	for db := range mh.dbKeys {
		mh.overheadTotal += (mh.dbKeys[db] + mh.dbExpires[db]) * memMapSlotStrPtr
		mh.keys += mh.dbKeys[db]
	}
	mh.dataset = max(mh.used-mh.overheadTotal, 0)
	if mh.keys > 0 {
		mh.bytesPerKey = (mh.used - mh.startup) / mh.keys
	}
	if net := mh.used - mh.startup; net > 0 {
		mh.datasetPerc = float64(mh.dataset) * 100 / float64(net)
	}
	if mh.peak > 0 {
		mh.peakPer = float64(mh.used) * 100 / float64(mh.peak)
	}
	return mh
}

func memRatio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// cmdMemoryStats is MEMORY STATS, with Redis 7.0's fields and order.
func cmdMemoryStats(c *Conn, _ [][]byte, w *proto.Writer) {
	mh := c.srv.memOverhead()
	ndb := 0
	for _, k := range mh.dbKeys {
		if k > 0 {
			ndb++
		}
	}
	w.Map(27 + ndb)
	kv := func(k string, v int64) { w.BulkString(k); w.Int(v) }
	kd := func(k string, v float64) { w.BulkString(k); w.Double(v) }
	kv("peak.allocated", mh.peak)
	kv("total.allocated", mh.used)
	kv("startup.allocated", mh.startup)
	kv("replication.backlog", 0)
	kv("clients.slaves", 0)
	kv("clients.normal", mh.clients)
	kv("cluster.links", 0)
	kv("aof.buffer", 0)
	kv("lua.caches", 0)
	kv("functions.caches", 0)
	for db, k := range mh.dbKeys {
		if k == 0 {
			continue
		}
		w.BulkString(fmt.Sprintf("db.%d", db))
		w.Map(3)
		kv("overhead.hashtable.main", k*memMapSlotStrPtr)
		kv("overhead.hashtable.expires", mh.dbExpires[db]*memMapSlotStrPtr)
		kv("overhead.hashtable.slot-to-keys", 0)
	}
	m := mh.m
	kv("overhead.total", mh.overheadTotal)
	kv("keys.count", mh.keys)
	kv("keys.bytes-per-key", mh.bytesPerKey)
	kv("dataset.bytes", mh.dataset)
	kd("dataset.percentage", mh.datasetPerc)
	kd("peak.percentage", mh.peakPer)
	kv("allocator.allocated", m.heapObjects)
	kv("allocator.active", m.heapInUse)
	kv("allocator.resident", m.heapRes)
	kd("allocator-fragmentation.ratio", memRatio(m.heapInUse, m.heapObjects))
	kv("allocator-fragmentation.bytes", m.heapInUse-m.heapObjects)
	kd("allocator-rss.ratio", memRatio(m.heapRes, m.heapInUse))
	kv("allocator-rss.bytes", m.heapRes-m.heapInUse)
	kd("rss-overhead.ratio", memRatio(m.rss, m.heapRes))
	kv("rss-overhead.bytes", m.rss-m.heapRes)
	kd("fragmentation", memRatio(m.rss, mh.used))
	kv("fragmentation.bytes", m.rss-mh.used)
}

// cmdMemoryDoctor is Redis's getMemoryDoctorReport over kvd's figures
// (no replicas, no scripts).
func cmdMemoryDoctor(c *Conn, _ [][]byte, w *proto.Writer) {
	mh := c.srv.memOverhead()
	m := mh.m
	var issues []string
	empty := mh.used-mh.startup < 5<<20 // Redis: total.allocated < 5 MB; kvd starts with its slot tables
	if !empty {
		if memRatio(mh.peak, mh.used) > 1.5 {
			issues = append(issues, " * Peak memory: In the past this instance used more than 150% the memory that is currently using. The allocator is normally not able to release memory after a peak, so you can expect to see a big fragmentation ratio, however this is actually harmless and is only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is currently bigger than expected, the memory will be used as soon as you fill the Redis instance with more data. If the memory peak was only occasional and you want to try to reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is to shutdown and restart the instance.\n\n")
		}
		if memRatio(m.rss, mh.used) > 1.4 && m.rss-mh.used > 10<<20 {
			issues = append(issues, " * High total RSS: This instance has a memory fragmentation and RSS overhead greater than 1.4 (this means that the Resident Set Size of the Redis process is much larger than the sum of the logical allocations Redis performed). This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. If the problem is a large peak memory, then there is no issue. Otherwise, make sure you are using the Jemalloc allocator and not the default libc malloc. Note: The currently used allocator is \"go-"+runtime.Version()+"\".\n\n")
		}
		if memRatio(m.heapInUse, m.heapObjects) > 1.1 && m.heapInUse-m.heapObjects > 10<<20 {
			issues = append(issues, " * High allocator fragmentation: This instance has an allocator external fragmentation greater than 1.1. This problem is usually due either to a large peak memory (check if there is a peak memory entry above in the report) or may result from a workload that causes the allocator to fragment memory a lot. You can try enabling 'activedefrag' config option.\n\n")
		}
		if memRatio(m.heapRes, m.heapInUse) > 1.1 && m.heapRes-m.heapInUse > 10<<20 {
			issues = append(issues, " * High allocator RSS overhead: This instance has an RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the allocator is much larger than the sum what the allocator actually holds). This problem is usually due to a large peak memory (check if there is a peak memory entry above in the report), you can try the MEMORY PURGE command to reclaim it.\n\n")
		}
		if memRatio(m.rss, m.heapRes) > 1.1 && m.rss-m.heapRes > 10<<20 {
			issues = append(issues, " * High process RSS overhead: This instance has non-allocator RSS memory overhead is greater than 1.1 (this means that the Resident Set Size of the Redis process is much larger than the RSS the allocator holds). This problem may be due to Lua scripts or Modules.\n\n")
		}
	}
	var report string
	switch {
	case empty:
		report = "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
	case len(issues) == 0:
		report = "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n"
	default:
		report = "Sam, I detected a few issues in this Redis instance memory implants:\n\n" + strings.Join(issues, "") +
			"I'm here to keep you safe, Sam. I want to help you.\n"
	}
	w.Verbatim("txt", report)
}

// cmdMemoryMallocStats reports the Go allocator's statistics (every
// runtime/metrics figure under /memory/ and /gc/), in place of jemalloc's
// report.
func cmdMemoryMallocStats(_ *Conn, _ [][]byte, w *proto.Writer) {
	var b strings.Builder
	b.WriteString("___ Begin Go runtime allocator statistics ___\n")
	fmt.Fprintf(&b, "Version: %q\n", runtime.Version())
	var samples []metrics.Sample
	for _, d := range metrics.All() {
		if (strings.HasPrefix(d.Name, "/memory/") || strings.HasPrefix(d.Name, "/gc/")) && d.Kind != metrics.KindFloat64Histogram {
			samples = append(samples, metrics.Sample{Name: d.Name})
		}
	}
	metrics.Read(samples)
	for _, s := range samples {
		switch s.Value.Kind() {
		case metrics.KindUint64:
			fmt.Fprintf(&b, "%s: %d\n", s.Name, s.Value.Uint64())
		case metrics.KindFloat64:
			fmt.Fprintf(&b, "%s: %g\n", s.Name, s.Value.Float64())
		}
	}
	b.WriteString("--- End Go runtime allocator statistics ---\n")
	w.Verbatim("txt", b.String())
}

// GC figures for INFO memory, from runtime/metrics (cumulative since the
// process started; callers take differences).
var gcSamples = []metrics.Sample{
	{Name: "/gc/cycles/total:gc-cycles"},
	{Name: "/cpu/classes/gc/mark/assist:cpu-seconds"},
	{Name: "/cpu/classes/gc/mark/dedicated:cpu-seconds"},
	{Name: "/cpu/classes/gc/pause:cpu-seconds"},
	{Name: "/cpu/classes/gc/mark/idle:cpu-seconds"},
	{Name: "/cpu/classes/total:cpu-seconds"},
	{Name: "/sched/pauses/total/gc:seconds"},
	{Name: "/gc/gogc:percent"},
	{Name: "/gc/gomemlimit:bytes"},
	{Name: "/gc/heap/goal:bytes"},
}

var gcSamplesMu sync.Mutex

// histQuantile is the q-quantile of a runtime/metrics histogram (the upper
// bound of the bucket holding it), 0 when it is empty.
func histQuantile(h *metrics.Float64Histogram, q float64) float64 {
	var total uint64
	for _, c := range h.Counts {
		total += c
	}
	if total == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(total)))
	var acc uint64
	for i, c := range h.Counts {
		acc += c
		if acc >= rank {
			ub := h.Buckets[i+1]
			if math.IsInf(ub, 1) {
				ub = h.Buckets[i]
			}
			return ub
		}
	}
	return h.Buckets[len(h.Buckets)-1]
}

// infoGC writes kvd's GC lines (additions to INFO memory):
// gc_cycles, gc_cpu_seconds (assist + dedicated mark workers + pauses),
// gc_cpu_idle_seconds (mark work soaking up idle CPU), gc_cpu_fraction
// (gc_cpu_seconds over the CPU time GOMAXPROCS made available),
// gc_pauses, gc_pause_p50_us / p99_us / max_us (stop-the-world pauses),
// gc_gogc, gc_memory_limit, gc_heap_goal.
func infoGC(b *strings.Builder) {
	gcSamplesMu.Lock()
	metrics.Read(gcSamples)
	u := func(i int) uint64 {
		if gcSamples[i].Value.Kind() == metrics.KindUint64 {
			return gcSamples[i].Value.Uint64()
		}
		return 0
	}
	f := func(i int) float64 {
		if gcSamples[i].Value.Kind() == metrics.KindFloat64 {
			return gcSamples[i].Value.Float64()
		}
		return 0
	}
	cycles := u(0)
	gcCPU := f(1) + f(2) + f(3)
	idle, total := f(4), f(5)
	var pauses uint64
	var p50, p99, pmax float64
	if gcSamples[6].Value.Kind() == metrics.KindFloat64Histogram {
		h := gcSamples[6].Value.Float64Histogram()
		for _, c := range h.Counts {
			pauses += c
		}
		p50, p99, pmax = histQuantile(h, 0.5), histQuantile(h, 0.99), histQuantile(h, 1)
	}
	gogc, limit, goal := int64(u(7)), u(8), u(9)
	gcSamplesMu.Unlock()
	infoLine(b, "gc_cycles", int64(cycles))
	infoLine(b, "gc_cpu_seconds", fmt.Sprintf("%.6f", gcCPU))
	infoLine(b, "gc_cpu_idle_seconds", fmt.Sprintf("%.6f", idle))
	infoLine(b, "gc_cpu_fraction", fmt.Sprintf("%.6f", memRatioF(gcCPU, total)))
	infoLine(b, "gc_pauses", int64(pauses))
	infoLine(b, "gc_pause_p50_us", fmt.Sprintf("%.1f", p50*1e6))
	infoLine(b, "gc_pause_p99_us", fmt.Sprintf("%.1f", p99*1e6))
	infoLine(b, "gc_pause_max_us", fmt.Sprintf("%.1f", pmax*1e6))
	infoLine(b, "gc_gogc", gogc)
	if limit >= math.MaxInt64 {
		limit = 0
	}
	infoLine(b, "gc_memory_limit", int64(limit))
	infoLine(b, "gc_heap_goal", int64(goal))
}

func memRatioF(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}
