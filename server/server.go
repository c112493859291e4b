// Package server owns everything between the socket and the keyspace: the
// listener, connections and their IO goroutines, the client registry, the
// command table and the command families (cmd_*.go), INFO/CONFIG/CLIENT,
// auth, SLOWLOG/LATENCY/MONITOR, and the features on top: the Pub/Sub hub
// (pubsub.go), per-connection push queues with output-buffer limits
// (outbuf.go), keyspace notifications (notify.go), client tracking
// (tracking.go), the flash sale (flash.go, cmd_flash.go) and the WORKERS
// command over the shard balancer (cmd_workers.go).
//
// It must not touch slot data except through jobs run on the owning worker
// (see package shard). The request path is in conn.go: an IO goroutine per
// connection parses a pipeline batch, queues each command on the worker
// owning its keys (one hand-off per batch and worker), waits, and writes the
// replies in request order with one write.
package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/shard"
)

// Version is the Redis version kvd reports (redis_version, HELLO).
const Version = "7.0.15"

// KvdVersion is kvd's own version.
const KvdVersion = "0.1.0"

// Server is a kvd server.
type Server struct {
	cfg *Config
	reg *Registry
	eng *shard.Engine
	log *slog.Logger

	lnMu      sync.Mutex // guards listeners, closing
	listeners []net.Listener
	closing   bool
	shutdown  chan struct{}
	shutOnce  sync.Once

	clientsMu sync.Mutex // guards clients
	clients   map[int64]*Conn
	nextID    atomic.Int64
	connWG    sync.WaitGroup

	monitors atomic.Int32
	monMu    sync.Mutex // guards monList
	monList  []*Conn

	pauseMu    sync.Mutex // guards pauseUntil, pauseWrite
	pauseUntil time.Time
	pauseWrite bool
	pauseCh    chan struct{} // closed on unpause
	pauseOn    atomic.Bool   // pauseCh != nil: paused's lock-free fast path

	ps pubsubHub // Pub/Sub subscriptions (pubsub.go)

	slowlog slowlog
	latency latencyMonitor

	stats serverStats
	// blocked counts the connections waiting in a blocking command whose
	// CLIENT UNBLOCK is armed (blocking.go): what INFO blocked_clients,
	// CLIENT LIST's b flag and CLIENT UNBLOCK agree on.
	blocked   atomic.Int64
	trk       trackState // client-side caching (tracking.go)
	startTime time.Time
	runID     string

	flash flashServer // flash-sale caches and statistics (flash.go)

	bal *shard.BalanceRunner // adaptive sharding: balancer and scaler (cmd_workers.go)
}

type serverStats struct {
	connections      atomic.Int64
	rejectedConns    atomic.Int64
	commands         atomic.Int64
	rejected         atomic.Int64
	protoErrors      atomic.Int64
	outputLimitKills atomic.Int64
	netIn, netOut    atomic.Int64
	errMu            sync.Mutex // guards errs
	errs             map[string]int64
	errTotal         atomic.Int64
	admin            adminState // INFO sampler, memory peak, SHUTDOWN hook (info.go)
}

type cmdStats struct {
	calls    stripedInt // striped per worker (cmdstats.go)
	usec     stripedInt
	rejected atomic.Int64
	failed   stripedInt
	hist     atomic.Pointer[latencyHist] // latency-tracking histogram, made on first call (slowlog.go)
}

// New builds a server from cfg (nil means defaults).
func New(cfg *Config) *Server {
	if cfg == nil {
		cfg = DefaultConfig()
	}
	s := &Server{
		cfg:       cfg,
		reg:       newRegistry(),
		log:       cfg.Logger,
		clients:   make(map[int64]*Conn),
		shutdown:  make(chan struct{}),
		startTime: time.Now(),
		runID:     randomHex(40),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.stats.errs = make(map[string]int64)
	s.slowlog.init(cfg)
	s.latency.init()
	s.eng = shard.New(shard.Config{
		Workers:   cfg.Workers,
		Databases: cfg.Databases,
		Clock:     cfg.Clock,
		Logger:    s.log,
		OnExpire:  s.keyExpired, // keyspace notifications, tracking (notify.go)
		Hz:        func() int { return int(cfg.Hz.Load()) },
	})
	registerAll(s.reg)
	s.initBalancer() // cmd_workers.go
	return s
}

// registerAll fills the command table, family by family.
func registerAll(r *Registry) {
	registerConnection(r)
	registerServer(r)
	registerClient(r)
	registerACL(r)
	registerConfig(r)
	registerCommand(r)
	registerDebug(r)
	registerStrings(r)
	registerKeys(r)
	registerHash(r)
	registerList(r)
	registerSet(r)
	registerZSet(r)
	registerBitmap(r)
	registerHLL(r)
	registerBlocking(r)
	registerSort(r)
	registerGeo(r)
	registerFlash(r)
	registerPubSub(r)
	registerMemory(r)
	registerWorkers(r)
}

// Engine exposes the keyspace engine (tests, benchmarks).
func (s *Server) Engine() *shard.Engine { return s.eng }

// Registry exposes the command table.
func (s *Server) Registry() *Registry { return s.reg }

// Config returns the live configuration.
func (s *Server) Config() *Config { return s.cfg }

// Serve accepts connections on ln until Close or SHUTDOWN. It starts the
// engine on first use.
func (s *Server) Serve(ln net.Listener) error {
	s.lnMu.Lock()
	if s.closing {
		s.lnMu.Unlock()
		return errors.New("server closed")
	}
	first := len(s.listeners) == 0
	s.listeners = append(s.listeners, ln)
	s.lnMu.Unlock()
	if first {
		s.eng.Start(int(s.cfg.Hz.Load()))
		s.bal.Start()
	}
	for {
		nc, err := ln.Accept()
		if err != nil {
			select {
			case <-s.shutdown:
				return nil
			default:
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				time.Sleep(5 * time.Millisecond)
				continue
			}
			return err
		}
		s.accept(nc)
	}
}

func (s *Server) accept(nc net.Conn) {
	if tc, ok := nc.(*net.TCPConn); ok {
		tc.SetNoDelay(true)
		if ka := s.cfg.TCPKeepAlive.Load(); ka > 0 {
			tc.SetKeepAlive(true)
			tc.SetKeepAlivePeriod(time.Duration(ka) * time.Second)
		}
	}
	s.clientsMu.Lock()
	select {
	case <-s.shutdown:
		// Close has already swept the clients; do not register one it
		// would never close.
		s.clientsMu.Unlock()
		nc.Close()
		return
	default:
	}
	if int64(len(s.clients)) >= s.cfg.MaxClients.Load() {
		s.clientsMu.Unlock()
		s.stats.rejectedConns.Add(1)
		nc.Write([]byte("-ERR max number of clients reached\r\n"))
		nc.Close()
		return
	}
	c := s.newConn(nc)
	s.clients[c.id] = c
	s.connWG.Add(1)
	s.clientsMu.Unlock()
	s.stats.connections.Add(1)
	go func() {
		defer s.connWG.Done()
		c.serve()
	}()
}

// BlockedClients is the number of clients blocked in a blocking command
// (INFO blocked_clients): counted once CLIENT UNBLOCK can reach them.
func (s *Server) BlockedClients() int64 { return s.blocked.Load() }

// NumClients is the number of connections the server holds (tests wait
// for a closed connection to be gone before counting clients).
func (s *Server) NumClients() int {
	s.clientsMu.Lock()
	defer s.clientsMu.Unlock()
	return len(s.clients)
}

func (s *Server) removeConn(c *Conn) {
	s.clientsMu.Lock()
	delete(s.clients, c.id)
	s.clientsMu.Unlock()
	if c.isMon.Load() {
		s.removeMonitor(c)
	}
}

// ListenAndServe listens on the configured bind addresses and port.
func (s *Server) ListenAndServe() error {
	addrs := s.cfg.BindAddrs()
	errc := make(chan error, len(addrs))
	for _, a := range addrs {
		ln, err := net.Listen("tcp", net.JoinHostPort(a, strconv.Itoa(int(s.cfg.Port.Load()))))
		if err != nil {
			s.Close()
			return err
		}
		s.log.Info("kvd listening", "addr", ln.Addr().String(), "workers", s.eng.NumWorkers(), "version", KvdVersion)
		go func() { errc <- s.Serve(ln) }()
	}
	select {
	case <-s.shutdown:
		return nil
	case err := <-errc:
		return err
	}
}

// Run serves until ctx is cancelled or a client sends SHUTDOWN.
func (s *Server) Run(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- s.ListenAndServe() }()
	select {
	case <-ctx.Done():
		s.log.Info("shutting down", "reason", ctx.Err().Error())
		s.Close()
		<-errc
		return nil
	case err := <-errc:
		s.Close()
		return err
	}
}

// Done is closed when the server starts shutting down.
func (s *Server) Done() <-chan struct{} { return s.shutdown }

// Close stops accepting, closes every client and stops the workers. It
// waits for the connection goroutines.
func (s *Server) Close() {
	s.shutOnce.Do(func() {
		close(s.shutdown)
		s.lnMu.Lock()
		s.closing = true
		for _, ln := range s.listeners {
			ln.Close()
		}
		s.lnMu.Unlock()
		s.clientsMu.Lock()
		for _, c := range s.clients {
			c.nc.Close()
		}
		s.clientsMu.Unlock()
		s.connWG.Wait()
		s.flashStop() // flash.go: its ticker runs jobs on the workers
		s.bal.Close()
		s.eng.Close()
	})
}

// monoEpoch anchors monoNow.
var monoEpoch = time.Now()

// monoNow reads the monotonic clock only: time.Since on a time with a
// monotonic reading is one nanotime call, where time.Now also reads the
// wall clock (several times the cost; it was a third of the in-process
// GET path in dispatch_bench_test.go). Command timing needs durations only.
func monoNow() time.Duration { return time.Since(monoEpoch) }

// monoEpochMs is monoEpoch in Unix milliseconds.
var monoEpochMs = monoEpoch.UnixMilli()

// unixMsMono is the Unix time in milliseconds from one monotonic clock
// read (time.Now takes two): for per-batch bookkeeping (Conn.lastSeen)
// that needs no more than the wall clock as of the process's start plus
// the elapsed time.
func unixMsMono() int64 { return monoEpochMs + int64(monoNow()/time.Millisecond) }

// call runs a worker command with timing, panic recovery and statistics.
func (s *Server) call(cmd *Command, x *Ctx) {
	start := monoNow()
	mark := len(x.W.B)
	s.runSafe(cmd, x)
	if x.req != nil && x.req.trk.remember && cmd.Flags&ReadOnly != 0 {
		s.trackingRemember(x, cmd) // tracking.go
	}
	failed := len(x.W.B) > mark && x.W.B[mark] == '-'
	if failed {
		s.countError(string(x.W.B[mark+1 : min(len(x.W.B), mark+64)]))
	}
	s.recordCallAt(statStripe(x), cmd, monoNow()-start, failed, x.req)
}

func (s *Server) runSafe(cmd *Command, x *Ctx) {
	mark := len(x.W.B)
	defer func() {
		if v := recover(); v != nil {
			s.log.Error("command panicked", "command", cmd.Name, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			x.W.B = x.W.B[:mark]
			x.W.Error("ERR internal error in '" + cmd.Name + "': " + fmt.Sprint(v))
		}
	}()
	cmd.Run(x)
}

// callLocal runs a local command on the IO goroutine.
func (s *Server) callLocal(cmd *Command, c *Conn, r *request) {
	start := monoNow()
	func() {
		defer func() {
			if v := recover(); v != nil {
				s.log.Error("command panicked", "command", cmd.Name, "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
				r.out.Reset()
				r.out.Error("ERR internal error in '" + cmd.Name + "': " + fmt.Sprint(v))
			}
		}()
		cmd.RunConn(c, r.args, &r.out)
	}()
	failed := len(r.out.B) > 0 && r.out.B[0] == '-'
	if failed {
		s.countError(string(r.out.B[1:min(len(r.out.B), 64)]))
	}
	// Time spent blocked is not run time (Redis's slow log and command
	// stats leave it out too).
	s.recordCall(cmd, monoNow()-start-r.blocked, failed, r)
	r.blocked = 0
}

// recordCall updates command statistics, the slow log and the latency
// monitor. r, when not nil, is used for the slow log's client fields.
func (s *Server) recordCall(cmd *Command, d time.Duration, failed bool, r *request) {
	stripe := 0
	if r != nil && r.c != nil {
		stripe = int(r.c.id)
	}
	s.recordCallAt(stripe, cmd, d, failed, r)
}

// recordCallAt is recordCall adding to the given counter stripe (the
// worker's id on a worker: see cmdstats.go).
func (s *Server) recordCallAt(stripe int, cmd *Command, d time.Duration, failed bool, r *request) {
	if r != nil && len(r.trk.self)+len(r.trk.parts) > 0 {
		s.trackingAfterCall(r) // tracking.go: own invalidations after the reply
	}
	us := d.Microseconds()
	cmd.stats.calls.AddAt(stripe, 1)
	cmd.stats.usec.AddAt(stripe, us)
	if failed {
		cmd.stats.failed.AddAt(stripe, 1)
	}
	if cmd.Flags&SkipSlowlog == 0 {
		s.slowlog.maybeAdd(s, cmd, us, r)
	}
	s.latency.maybeAdd(s.cfg, cmd, d)
	s.recordLatencyAt(stripe, cmd, us)
}

// countError records an error reply by its prefix (errorstats).
func (s *Server) countError(msg string) {
	s.stats.errTotal.Add(1)
	code, _, _ := strings.Cut(msg, " ")
	if code == "" {
		code = "ERR"
	}
	s.stats.errMu.Lock()
	if len(s.stats.errs) < 128 || s.stats.errs[code] > 0 {
		s.stats.errs[code]++
	}
	s.stats.errMu.Unlock()
}

// paused reports whether a CLIENT PAUSE holds cmd back.
func (s *Server) paused(cmd *Command) bool {
	if !s.pauseOn.Load() { // every command asks: no shared lock when no pause is on
		return false
	}
	s.pauseMu.Lock()
	defer s.pauseMu.Unlock()
	if s.pauseCh == nil {
		return false
	}
	if time.Now().After(s.pauseUntil) {
		close(s.pauseCh)
		s.pauseCh = nil
		s.pauseOn.Store(false)
		return false
	}
	if s.pauseWrite {
		return cmd.Flags&(Write|MayReplicate) != 0
	}
	return true
}

func (s *Server) waitUnpaused(cmd *Command) {
	for {
		s.pauseMu.Lock()
		ch, until := s.pauseCh, s.pauseUntil
		s.pauseMu.Unlock()
		if ch == nil {
			return
		}
		t := time.NewTimer(time.Until(until))
		select {
		case <-ch:
		case <-t.C:
		case <-s.shutdown:
		}
		t.Stop()
		if !s.paused(cmd) {
			return
		}
	}
}

// Pause holds commands back until d has passed or Unpause (CLIENT PAUSE).
func (s *Server) Pause(d time.Duration, writeOnly bool) {
	s.pauseMu.Lock()
	defer s.pauseMu.Unlock()
	until := time.Now().Add(d)
	if s.pauseCh == nil {
		s.pauseCh = make(chan struct{})
		s.pauseUntil, s.pauseWrite = until, writeOnly
		s.pauseOn.Store(true)
		return
	}
	// A later pause extends the time; ALL wins over WRITE (as in Redis).
	if until.After(s.pauseUntil) {
		s.pauseUntil = until
	}
	s.pauseWrite = s.pauseWrite && writeOnly
}

// Unpause lifts CLIENT PAUSE.
func (s *Server) Unpause() {
	s.pauseMu.Lock()
	defer s.pauseMu.Unlock()
	if s.pauseCh != nil {
		close(s.pauseCh)
		s.pauseCh = nil
		s.pauseOn.Store(false)
	}
}

// feedMonitors sends the command to every MONITOR client, formatted as
// Redis does: +<unix.micro> [<db> <addr>] "arg" "arg"...
func (s *Server) feedMonitors(c *Conn, args [][]byte, now time.Time) {
	var b []byte
	b = append(b, '+')
	b = strconv.AppendInt(b, now.Unix(), 10)
	b = append(b, '.')
	us := now.Nanosecond() / 1000
	b = append(b, fmt.Sprintf("%06d", us)...)
	b = append(b, " ["...)
	b = strconv.AppendInt(b, int64(c.db), 10)
	b = append(b, ' ')
	b = append(b, c.nc.RemoteAddr().String()...)
	b = append(b, ']')
	for _, a := range args {
		b = append(b, ' ')
		b = appendQuoted(b, a)
	}
	b = append(b, '\r', '\n')
	s.monMu.Lock()
	mons := s.monList
	s.monMu.Unlock()
	for _, m := range mons {
		if m != c {
			m.async.push(b)
		}
	}
}

func (s *Server) addMonitor(c *Conn) {
	s.monMu.Lock()
	defer s.monMu.Unlock()
	if c.isMon.Swap(true) {
		return
	}
	s.monList = append(append([]*Conn(nil), s.monList...), c) // copy on write
	s.monitors.Add(1)
}

func (s *Server) removeMonitor(c *Conn) {
	s.monMu.Lock()
	defer s.monMu.Unlock()
	out := make([]*Conn, 0, len(s.monList))
	for _, m := range s.monList {
		if m != c {
			out = append(out, m)
		}
	}
	if len(out) != len(s.monList) {
		s.monitors.Add(-1)
	}
	s.monList = out
}

// appendQuoted appends a as Redis's sdscatrepr does: double-quoted with
// escapes for quotes, backslashes, control and non-printable bytes.
func appendQuoted(b, a []byte) []byte {
	b = append(b, '"')
	for _, ch := range a {
		switch ch {
		case '\\', '"':
			b = append(b, '\\', ch)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\a':
			b = append(b, '\\', 'a')
		case '\b':
			b = append(b, '\\', 'b')
		default:
			if ch < 32 || ch > 126 {
				b = append(b, fmt.Sprintf("\\x%02x", ch)...)
			} else {
				b = append(b, ch)
			}
		}
	}
	return append(b, '"')
}

func randomHex(n int) string {
	f, err := os.Open("/dev/urandom")
	if err != nil {
		return strings.Repeat("0", n)
	}
	defer f.Close()
	buf := make([]byte, n/2)
	f.Read(buf)
	return fmt.Sprintf("%x", buf)
}

// writerFor is a helper for families writing replies outside a request.
func writerFor(resp3 bool) *proto.Writer { return &proto.Writer{Resp3: resp3} }
