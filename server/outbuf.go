package server

import (
	"math"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ---- client-output-buffer-limit ----

// Output buffer classes, indexed as Redis's CLIENT_TYPE_* (the same values
// as clientNormal, clientReplica, clientPubSub).
const numOutClasses = 3

var outClassNames = [numOutClasses]string{"normal", "slave", "pubsub"}

// outLimit is one class's limits: a client is closed when its pending output
// reaches hard, or stays at or above soft for more than secs seconds
// (0 = that limit is off).
type outLimit struct {
	hard, soft uint64
	secs       int64
}

// outputLimits is the parsed client-output-buffer-limit; Config holds it
// behind an atomic pointer and replaces it whole on CONFIG SET.
type outputLimits [numOutClasses]outLimit

var defaultOutputLimits = outputLimits{
	{0, 0, 0},
	{268435456, 67108864, 60},
	{33554432, 8388608, 60},
}

func (l *outputLimits) String() string {
	var b []byte
	for i, x := range l {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, outClassNames[i]...)
		b = append(b, ' ')
		b = strconv.AppendUint(b, x.hard, 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, x.soft, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, x.secs, 10)
	}
	return string(b)
}

// outputLimit returns the limits of a client class.
func (c *Config) outputLimit(class int) outLimit {
	if l := c.outLimits.Load(); l != nil {
		return l[class]
	}
	return defaultOutputLimits[class]
}

// parseOutputLimit parses a CONFIG SET client-output-buffer-limit value as
// Redis 7.0 does: the value is split on single spaces, every
// "<class> <hard> <soft> <soft_seconds>" group is checked before any is
// applied, and only the classes named change. It returns the groups in
// canonical form.
func parseOutputLimit(v string) (classes []int, vals []outLimit, err error) {
	var f []string
	if v != "" {
		f = strings.Split(v, " ")
	}
	if len(f)%4 != 0 {
		return nil, nil, errString("Wrong number of arguments in buffer limit configuration.")
	}
	for i := 0; i < len(f); i += 4 {
		class := -1
		switch strings.ToLower(f[i]) {
		case "normal":
			class = clientNormal
		case "slave", "replica":
			class = clientReplica
		case "pubsub":
			class = clientPubSub
		}
		if class < 0 {
			return nil, nil, errString("Invalid client class specified in buffer limit configuration.")
		}
		hard, ok1 := memToULL(f[i+1])
		soft, ok2 := memToULL(f[i+2])
		secs, ok3 := strtollInt(f[i+3])
		if !ok1 || !ok2 || !ok3 || secs < 0 {
			return nil, nil, errString("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
		}
		classes = append(classes, class)
		vals = append(vals, outLimit{hard, soft, int64(secs)})
	}
	return classes, vals, nil
}

type errString string

func (e errString) Error() string { return string(e) }

// canonicalOutputLimit validates a client-output-buffer-limit value and
// returns the named classes in canonical form; applyOutputLimit merges them
// into the current limits.
func canonicalOutputLimit(v string) (string, error) {
	classes, vals, err := parseOutputLimit(v)
	if err != nil {
		return "", err
	}
	var b []byte
	for i, class := range classes {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, outClassNames[class]...)
		b = append(b, ' ')
		b = strconv.AppendUint(b, vals[i].hard, 10)
		b = append(b, ' ')
		b = strconv.AppendUint(b, vals[i].soft, 10)
		b = append(b, ' ')
		b = strconv.AppendInt(b, vals[i].secs, 10)
	}
	return string(b), nil
}

// applyOutputLimit merges the classes of a canonical value into the current
// limits and stores the full value ("normal h s t slave h s t pubsub h s t")
// as the parameter's text, which is what CONFIG GET prints. It runs with
// c.mu held (Config.Set) or before the config is shared (DefaultConfig).
func applyOutputLimit(c *Config, v string) {
	cur := defaultOutputLimits
	if l := c.outLimits.Load(); l != nil {
		cur = *l
	}
	classes, vals, err := parseOutputLimit(v)
	if err == nil {
		for i, class := range classes {
			cur[class] = vals[i]
		}
	}
	c.outLimits.Store(&cur)
	c.values["client-output-buffer-limit"] = cur.String()
	hard := cur[clientPubSub].hard
	if hard > math.MaxInt64 {
		hard = math.MaxInt64
	}
	c.OutputBufferLimit.Store(int64(hard))
}

// memToULL is Redis's memtoull: digits with an optional unit (b, k, kb, m,
// mb, g, gb, any case); no sign; an empty number is 0; strtoull saturates
// and the multiplication wraps, as in C.
func memToULL(s string) (uint64, bool) {
	if strings.HasPrefix(s, "-") {
		return 0, false
	}
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	var mul uint64
	switch strings.ToLower(s[i:]) {
	case "", "b":
		mul = 1
	case "k":
		mul = 1000
	case "kb":
		mul = 1024
	case "m":
		mul = 1000 * 1000
	case "mb":
		mul = 1024 * 1024
	case "g":
		mul = 1000 * 1000 * 1000
	case "gb":
		mul = 1024 * 1024 * 1024
	default:
		return 0, false
	}
	if i >= 128 {
		return 0, false
	}
	var val uint64
	for _, ch := range s[:i] {
		d := uint64(ch - '0')
		if val > (math.MaxUint64-d)/10 {
			val = math.MaxUint64
			break
		}
		val = val*10 + d
	}
	return val * mul, true
}

// strtollInt is C's strtoll(s, &end, 10) with *end == '\0' required, the
// result converted to a C int (modular), as Redis reads soft_seconds.
func strtollInt(s string) (int32, bool) {
	i := 0
	for i < len(s) && (s[i] == ' ' || (s[i] >= '\t' && s[i] <= '\r')) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	var v uint64
	sat := false
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		if !sat {
			v = v*10 + uint64(s[i]-'0')
			if v > 1<<63 {
				sat = true
			}
		}
		i++
	}
	if i == start { // no digits: end is s itself
		return 0, s == ""
	}
	if i != len(s) {
		return 0, false
	}
	var n int64
	switch {
	case neg && (sat || v >= 1<<63):
		n = math.MinInt64
	case neg:
		n = -int64(v)
	case sat || v > math.MaxInt64:
		n = math.MaxInt64
	default:
		n = int64(v)
	}
	return int32(n), true
}

// limitClass is the output buffer class of the connection: pubsub while it
// has subscriptions, normal otherwise. MONITOR clients are normal, as in
// Redis (getClientType).
func (c *Conn) limitClass() int {
	if c.cs.subs.Load()+c.cs.psubs.Load()+c.cs.ssubs.Load() > 0 {
		return clientPubSub
	}
	return clientNormal
}

// ---- asyncOut: the push queue ----

// ownHighWater bounds how much of the connection's own replies the IO
// goroutine queues on the asynchronous writer before it waits for the
// writer, so that a client that pipelines without reading is held back by
// TCP as on a synchronous connection instead of growing the queue.
const ownHighWater = 256 << 10

// asyncOut queues pushes for a connection and writes them from its own
// goroutine, so that a slow client never blocks the pusher (a publisher, a
// worker, another client's IO goroutine). The bytes queued and in flight
// are checked against the client's output buffer limits on every push; a
// client over them is disconnected, so the queue stays bounded.
type asyncOut struct {
	c         *Conn
	started   atomic.Bool
	mu        sync.Mutex // guards everything below
	cond      sync.Cond  // signalled when the writer finished a write or the queue closed
	buf       []byte
	inflight  int   // bytes the writer is writing
	closed    bool  // no more pushes accepted
	softSince int64 // Unix seconds when the soft limit was first reached; 0 = below it
	kick      chan struct{}
	done      chan struct{}
}

// start switches the connection to asynchronous writes. Safe from any
// goroutine (TRACKING starts a redirect target's writer from the tracking
// client's goroutine).
func (a *asyncOut) start() {
	if a.started.Load() {
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.started.Load() {
		return
	}
	a.cond.L = &a.mu
	a.kick = make(chan struct{}, 1)
	a.done = make(chan struct{})
	a.started.Store(true)
	go a.loop()
}

// push queues b (copied). It never blocks on the network; it returns false
// when the connection is closed or was just closed for going over its
// output buffer limit.
func (a *asyncOut) push(b []byte) bool { return a.add(0, b) }

// pushFrame queues a Pub/Sub frame built in RESP2 form ('*' first): under
// RESP3 its first byte is sent as '>' (a push).
func (a *asyncOut) pushFrame(resp3 bool, frame []byte) bool {
	if resp3 {
		return a.add('>', frame[1:])
	}
	return a.add(0, frame)
}

// pushOwn queues the connection's own replies (writeBatch) and, when the
// writer is behind, waits for it: the IO goroutine gets the backpressure a
// synchronous write would give it. IO goroutine only.
func (a *asyncOut) pushOwn(b []byte) {
	if !a.add(0, b) {
		return
	}
	a.mu.Lock()
	for !a.closed && len(a.buf)+a.inflight > ownHighWater {
		a.cond.Wait()
	}
	a.mu.Unlock()
}

func (a *asyncOut) add(first byte, b []byte) bool {
	n := len(b)
	if first != 0 {
		n++
	}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return false
	}
	if a.overLimit(uint64(len(a.buf) + a.inflight + n)) {
		a.closed = true
		a.cond.Broadcast()
		a.mu.Unlock()
		a.c.closeOverLimit()
		a.mu.Lock()
		a.buf = nil // the client is gone: drop its output
		a.mu.Unlock()
		a.wake()
		return false
	}
	if first != 0 {
		a.buf = append(a.buf, first)
	}
	a.buf = append(a.buf, b...)
	a.mu.Unlock()
	a.wake()
	return true
}

func (a *asyncOut) wake() {
	select {
	case a.kick <- struct{}{}:
	default:
	}
}

// overLimit applies the connection's class limits to used bytes of pending
// output, as Redis's checkClientOutputBufferLimits: the hard limit at once,
// the soft limit once it has been reached for more than soft-seconds (the
// timer restarts whenever output is added below it). Caller holds a.mu.
func (a *asyncOut) overLimit(used uint64) bool {
	lim := a.c.srv.cfg.outputLimit(a.c.limitClass())
	if lim.hard != 0 && used >= lim.hard {
		return true
	}
	if lim.soft == 0 || used < lim.soft {
		a.softSince = 0
		return false
	}
	now := time.Now().Unix()
	if a.softSince == 0 {
		a.softSince = now
		return false
	}
	return now-a.softSince > lim.secs
}

// closeOverLimit disconnects a client over its output buffer limit: it
// leaves the client table at once and its socket is closed, which ends its
// IO goroutine (that one unsubscribes it). It does not wait for anything.
func (c *Conn) closeOverLimit() {
	c.srv.log.Warn("Client " + string(c.appendInfo(nil, nil, time.Now())) +
		" scheduled to be closed ASAP for overcoming of output buffer limits.")
	c.srv.stats.outputLimitKills.Add(1)
	c.kill()
}

// syncOverLimit applies the normal class limits to the replies of a batch
// a synchronous connection is about to write (its pending output in kvd's
// design: one batch is written at a time, and the write blocks while the
// client does not read). Over the limits, the client is closed and the
// replies are dropped, as Redis drops a closed client's output.
func (c *Conn) syncOverLimit(n int) bool {
	l := c.srv.cfg.outLimits.Load()
	if l == nil {
		return false
	}
	if lim := l[c.limitClass()]; lim.hard == 0 && lim.soft == 0 {
		return false
	}
	a := &c.async
	a.mu.Lock()
	over := a.overLimit(uint64(n))
	a.mu.Unlock()
	if over {
		c.closeOverLimit()
	}
	return over
}

func (a *asyncOut) loop() {
	defer close(a.done)
	var out []byte
	for range a.kick {
		a.mu.Lock()
		out, a.buf = a.buf, out[:0]
		a.inflight = len(out)
		closed := a.closed
		a.mu.Unlock()
		if len(out) > 0 {
			if _, err := a.c.nc.Write(out); err != nil {
				a.c.nc.Close()
				a.mu.Lock()
				a.closed, a.buf = true, nil
				closed = true
				a.mu.Unlock()
			}
		}
		if cap(out) > 1<<20 {
			out = nil // do not keep a burst's buffer
		}
		a.mu.Lock()
		a.inflight = 0
		a.cond.Broadcast()
		a.mu.Unlock()
		if closed {
			return
		}
	}
}

// stop flushes what is queued (for at most a second) and stops the writer.
func (a *asyncOut) stop() {
	if !a.started.Load() {
		return
	}
	a.mu.Lock()
	a.closed = true
	a.cond.Broadcast()
	a.mu.Unlock()
	a.wake()
	select {
	case <-a.done:
	case <-time.After(time.Second):
	}
}

// pending is the number of bytes queued for or being written by the
// asynchronous writer (CLIENT LIST omem).
func (a *asyncOut) pending() int {
	if !a.started.Load() {
		return 0
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.buf) + a.inflight
}
