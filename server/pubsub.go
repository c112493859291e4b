package server

import (
	"hash/maphash"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kvd/kvd/proto"
)

// Pub/Sub hub.
//
// Channel subscriptions (and, separately, shard-channel subscriptions) live
// in psShards shards chosen by a hash of the channel name, each a map under
// its own RWMutex: PUBLISH takes one shard's read lock, so publishers on
// any number of cores share it and contend with nobody but a client
// (un)subscribing a channel of the same shard. Pattern subscriptions are
// one list under an RWMutex that PUBLISH only reads, and only when a
// pattern exists at all.
//
// Deliveries are queued on each subscriber's asyncOut (outbuf.go), which
// never blocks: a slow subscriber's queue grows up to its output buffer
// limit and the subscriber is then disconnected.
//
// Ordering: a publisher queues a message while it holds the read lock of
// the channel's shard (or of the pattern list); SUBSCRIBE and UNSUBSCRIBE
// queue their confirmation while they hold the write lock that adds or
// removes the subscription. So a subscriber gets its SUBSCRIBE confirmation
// before any message published once the subscription exists, no message
// after its UNSUBSCRIBE confirmation, and one publisher's messages in the
// order they were published (each publish finishes its pushes before it
// returns).

const psShards = 64

type psShard struct {
	mu sync.RWMutex
	m  map[string][]*Conn // channel -> subscribers, in subscription order
	_  [64]byte           // keep shards' locks on separate cache lines
}

type psPattern struct {
	pat  []byte
	subs []*Conn
}

type pubsubHub struct {
	seed  maphash.Seed
	once  sync.Once
	ch    [psShards]psShard // SUBSCRIBE channels
	sh    [psShards]psShard // SSUBSCRIBE shard channels
	patMu sync.RWMutex      // guards pats, patIdx
	pats  []*psPattern      // in creation order
	patIx map[string]*psPattern

	nch, nsch, npat atomic.Int64 // distinct channels, shard channels, patterns
}

func (h *pubsubHub) shard(tab *[psShards]psShard, ch []byte) *psShard {
	h.once.Do(func() { h.seed = maphash.MakeSeed() })
	return &tab[maphash.Bytes(h.seed, ch)%psShards]
}

// Subscription kinds.
const (
	psChannel = iota
	psPat
	psShardChannel
)

// connPubSub is a connection's own subscription sets; only its IO
// goroutine reads or writes them. The values are sequence numbers, so that
// UNSUBSCRIBE without arguments goes in subscription order.
type connPubSub struct {
	seq    uint64
	chans  map[string]uint64
	pats   map[string]uint64
	schans map[string]uint64
}

func (p *connPubSub) set(kind int) map[string]uint64 {
	switch kind {
	case psChannel:
		return p.chans
	case psPat:
		return p.pats
	}
	return p.schans
}

// count is what a (un)subscribe confirmation reports: channels + patterns,
// or shard channels.
func (p *connPubSub) count(kind int) int {
	if p == nil {
		return 0
	}
	if kind == psShardChannel {
		return len(p.schans)
	}
	return len(p.chans) + len(p.pats)
}

func (p *connPubSub) total() int {
	if p == nil {
		return 0
	}
	return len(p.chans) + len(p.pats) + len(p.schans)
}

// inPubSub reports whether the connection has any subscription.
func (c *Conn) inPubSub() bool { return c.ps.total() > 0 }

var framePool = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

func appendBulk(b, s []byte) []byte {
	b = append(b, '$')
	b = strconv.AppendInt(b, int64(len(s)), 10)
	b = append(b, '\r', '\n')
	b = append(b, s...)
	return append(b, '\r', '\n')
}

// publish delivers message on channel to every subscriber of the channel
// and of every matching pattern, and returns how many clients received it
// (a client subscribed both ways counts twice, as in Redis). Safe from any
// goroutine, workers included; never blocks on a slow subscriber.
func (s *Server) publish(channel, message []byte) int {
	h := &s.ps
	n := 0
	bp := framePool.Get().(*[]byte)
	frame := (*bp)[:0]
	if h.nch.Load() > 0 {
		sh := h.shard(&h.ch, channel)
		sh.mu.RLock()
		if subs := sh.m[string(channel)]; len(subs) > 0 {
			frame = append(frame, "*3\r\n$7\r\nmessage\r\n"...)
			frame = appendBulk(frame, channel)
			frame = appendBulk(frame, message)
			for _, c := range subs {
				c.async.pushFrame(c.protoVer.Load() == 3, frame)
			}
			n += len(subs)
		}
		sh.mu.RUnlock()
	}
	if h.npat.Load() > 0 {
		h.patMu.RLock()
		for _, p := range h.pats {
			if !GlobMatch(p.pat, channel, false) {
				continue
			}
			frame = append(frame[:0], "*4\r\n$8\r\npmessage\r\n"...)
			frame = appendBulk(frame, p.pat)
			frame = appendBulk(frame, channel)
			frame = appendBulk(frame, message)
			for _, c := range p.subs {
				c.async.pushFrame(c.protoVer.Load() == 3, frame)
			}
			n += len(p.subs)
		}
		h.patMu.RUnlock()
	}
	s.putFrame(bp, frame)
	return n
}

func (s *Server) putFrame(bp *[]byte, frame []byte) {
	if cap(frame) <= 64<<10 {
		*bp = frame[:0]
		framePool.Put(bp)
	}
}

// spublish delivers message to the subscribers of shard channel channel.
func (s *Server) spublish(channel, message []byte) int {
	h := &s.ps
	if h.nsch.Load() == 0 {
		return 0
	}
	n := 0
	sh := h.shard(&h.sh, channel)
	sh.mu.RLock()
	if subs := sh.m[string(channel)]; len(subs) > 0 {
		bp := framePool.Get().(*[]byte)
		frame := append((*bp)[:0], "*3\r\n$8\r\nsmessage\r\n"...)
		frame = appendBulk(frame, channel)
		frame = appendBulk(frame, message)
		for _, c := range subs {
			c.async.pushFrame(c.protoVer.Load() == 3, frame)
		}
		n = len(subs)
		s.putFrame(bp, frame)
	}
	sh.mu.RUnlock()
	return n
}

var psSubscribeName = [3]string{"subscribe", "psubscribe", "ssubscribe"}
var psUnsubscribeName = [3]string{"unsubscribe", "punsubscribe", "sunsubscribe"}

// confirm queues a (un)subscribe confirmation: [kind, name or nil, count].
func (c *Conn) confirm(word string, name []byte, nilName bool, count int) {
	var b [128]byte
	f := append(b[:0], "*3\r\n$"...)
	f = strconv.AppendInt(f, int64(len(word)), 10)
	f = append(f, '\r', '\n')
	f = append(f, word...)
	f = append(f, '\r', '\n')
	if nilName {
		if c.resp3 {
			f = append(f, "_\r\n"...)
		} else {
			f = append(f, "$-1\r\n"...)
		}
	} else {
		f = appendBulk(f, name)
	}
	f = append(f, ':')
	f = strconv.AppendInt(f, int64(count), 10)
	f = append(f, '\r', '\n')
	c.async.pushFrame(c.resp3, f)
}

// psBegin prepares the connection for Pub/Sub traffic: pushes go through
// the asynchronous writer from now on, and the replies of the batch's
// earlier commands (all finished: a local command runs after them) are
// queued there first, so that no confirmation or message overtakes them.
// The current command answers through confirmations only.
func (c *Conn) psBegin() {
	c.async.start()
	if c.ps == nil {
		c.ps = &connPubSub{chans: map[string]uint64{}, pats: map[string]uint64{}, schans: map[string]uint64{}}
	}
	c.drainEarlier()
}

// drainEarlier queues the replies of the batch's commands before the
// current one on the asynchronous writer (they have all run: a local
// command runs after them), so that a push the current command causes
// (a confirmation, a message to itself) comes after them, as in Redis.
func (c *Conn) drainEarlier() {
	cur := c.curReq()
	var pending []byte
	for _, r := range c.reqs {
		if r != cur && !r.noReply {
			pending = append(pending, r.out.B...)
			r.noReply = true
		}
	}
	if len(pending) > 0 {
		c.async.push(pending)
	}
}

// syncCounts publishes the subscription counts (CLIENT LIST, client type,
// output buffer class).
func (c *Conn) syncCounts() {
	c.cs.subs.Store(int32(len(c.ps.chans)))
	c.cs.psubs.Store(int32(len(c.ps.pats)))
	c.cs.ssubs.Store(int32(len(c.ps.schans)))
}

// subscribe adds a subscription and queues its confirmation while the
// subscription is being registered.
func (c *Conn) subscribe(kind int, name []byte) {
	h := &c.srv.ps
	set := c.ps.set(kind)
	if _, ok := set[string(name)]; ok {
		c.confirm(psSubscribeName[kind], name, false, c.ps.count(kind))
		return
	}
	c.ps.seq++
	key := string(name)
	set[key] = c.ps.seq
	if kind == psChannel {
		c.cs.subs.Store(int32(len(c.ps.chans)))
	} else if kind == psPat {
		c.cs.psubs.Store(int32(len(c.ps.pats)))
	} else {
		c.cs.ssubs.Store(int32(len(c.ps.schans)))
	}
	if kind == psPat {
		h.patMu.Lock()
		p := h.patIx[key]
		if p == nil {
			if h.patIx == nil {
				h.patIx = map[string]*psPattern{}
			}
			p = &psPattern{pat: []byte(key)}
			h.patIx[key] = p
			h.pats = append(h.pats, p)
			h.npat.Add(1)
		}
		p.subs = append(p.subs, c)
		c.confirm(psSubscribeName[kind], name, false, c.ps.count(kind))
		h.patMu.Unlock()
		return
	}
	tab, cnt := h.tables(kind)
	sh := h.shard(tab, name)
	sh.mu.Lock()
	if sh.m == nil {
		sh.m = map[string][]*Conn{}
	}
	subs := sh.m[key]
	if len(subs) == 0 {
		cnt.Add(1)
	}
	sh.m[key] = append(subs, c)
	c.confirm(psSubscribeName[kind], name, false, c.ps.count(kind))
	sh.mu.Unlock()
}

// tables is where subscriptions of a channel kind live, and their counter
// of distinct names.
func (h *pubsubHub) tables(kind int) (*[psShards]psShard, *atomic.Int64) {
	if kind == psShardChannel {
		return &h.sh, &h.nsch
	}
	return &h.ch, &h.nch
}

func dropConn(list []*Conn, c *Conn) []*Conn {
	for i, x := range list {
		if x == c {
			copy(list[i:], list[i+1:])
			list[len(list)-1] = nil
			return list[:len(list)-1]
		}
	}
	return list
}

// unsubscribe removes a subscription and, when notify, queues the
// confirmation while the removal happens (also for a name the client was
// not subscribed to, as Redis does).
func (c *Conn) unsubscribe(kind int, name []byte, notify bool) {
	h := &c.srv.ps
	var set map[string]uint64
	if c.ps != nil {
		set = c.ps.set(kind)
	}
	key := string(name)
	if _, ok := set[key]; !ok {
		if notify {
			c.confirm(psUnsubscribeName[kind], name, false, c.ps.count(kind))
		}
		return
	}
	delete(set, key)
	c.syncCounts()
	if kind == psPat {
		h.patMu.Lock()
		if p := h.patIx[key]; p != nil {
			p.subs = dropConn(p.subs, c)
			if len(p.subs) == 0 {
				delete(h.patIx, key)
				for i, x := range h.pats {
					if x == p {
						h.pats = append(h.pats[:i:i], h.pats[i+1:]...)
						break
					}
				}
				h.npat.Add(-1)
			}
		}
		if notify {
			c.confirm(psUnsubscribeName[kind], name, false, c.ps.count(kind))
		}
		h.patMu.Unlock()
		return
	}
	tab, cnt := h.tables(kind)
	sh := h.shard(tab, name)
	sh.mu.Lock()
	if subs := dropConn(sh.m[key], c); len(subs) == 0 {
		if _, ok := sh.m[key]; ok {
			delete(sh.m, key)
			cnt.Add(-1)
		}
	} else {
		sh.m[key] = subs
	}
	if notify {
		c.confirm(psUnsubscribeName[kind], name, false, c.ps.count(kind))
	}
	sh.mu.Unlock()
}

// unsubscribeAll removes every subscription of a kind, in subscription
// order; with notify and none to remove it answers Redis's
// [kind, nil, count].
func (c *Conn) unsubscribeAll(kind int, notify bool) {
	var names []string
	if c.ps != nil {
		set := c.ps.set(kind)
		names = make([]string, 0, len(set))
		for k := range set {
			names = append(names, k)
		}
		sort.Slice(names, func(i, j int) bool { return set[names[i]] < set[names[j]] })
	}
	if len(names) == 0 {
		if notify {
			c.confirm(psUnsubscribeName[kind], nil, true, c.ps.count(kind))
		}
		return
	}
	for _, n := range names {
		c.unsubscribe(kind, []byte(n), notify)
	}
}

// pubsubClose drops every subscription of a closing or RESET connection,
// without confirmations.
func (c *Conn) pubsubClose() {
	if c.ps.total() == 0 {
		return
	}
	c.unsubscribeAll(psChannel, false)
	c.unsubscribeAll(psPat, false)
	c.unsubscribeAll(psShardChannel, false)
}

// pubsubDenied returns the error for a command a RESP2 client in
// subscribed mode may not run ("" when it may).
func (c *Conn) pubsubDenied(cmd *Command) string {
	if c.resp3 || c.ps.total() == 0 {
		return ""
	}
	switch cmd.Name {
	case "ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe", "psubscribe", "punsubscribe", "quit", "reset":
		return ""
	}
	return "ERR Can't execute '" + cmd.Name + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
}

// pubsubPing answers PING for a RESP2 client in subscribed mode:
// ["pong", message or ""]. It reports whether it did.
func (c *Conn) pubsubPing(args [][]byte, w *proto.Writer) bool {
	if c.resp3 || c.ps.total() == 0 {
		return false
	}
	w.Array(2)
	w.BulkString("pong")
	if len(args) > 1 {
		w.Bulk(args[1])
	} else {
		w.BulkString("")
	}
	return true
}

// channels lists the channels (or shard channels) with subscribers that
// match pattern (all when nil), sorted.
func (h *pubsubHub) channels(shard bool, pattern []byte) []string {
	tab := &h.ch
	if shard {
		tab = &h.sh
	}
	var out []string
	for i := range tab {
		sh := &tab[i]
		sh.mu.RLock()
		for k := range sh.m {
			if pattern == nil || GlobMatch(pattern, []byte(k), false) {
				out = append(out, k)
			}
		}
		sh.mu.RUnlock()
	}
	sort.Strings(out)
	return out
}

// numSub is the number of subscribers of a channel or shard channel.
func (h *pubsubHub) numSub(shard bool, ch []byte) int {
	tab := &h.ch
	if shard {
		tab = &h.sh
	}
	sh := h.shard(tab, ch)
	sh.mu.RLock()
	n := len(sh.m[string(ch)])
	sh.mu.RUnlock()
	return n
}

// infoPubSub writes INFO stats' Pub/Sub lines.
func (s *Server) infoPubSub(b *strings.Builder) {
	infoLine(b, "pubsub_channels", s.ps.nch.Load())
	infoLine(b, "pubsub_patterns", s.ps.npat.Load())
	infoLine(b, "pubsubshard_channels", s.ps.nsch.Load())
}
