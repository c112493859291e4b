package server_test

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
)

// psStep is one command of a two-connection script: send args on conn
// (0 = subscriber, 1 = publisher; no args = only read) and read n frames.
type psStep struct {
	conn    int
	args    []string
	n       int
	noMatch bool // do not compare (HELLO's client id)
}

// pubsubScript exercises every reply shape: confirmations (also for
// nothing subscribed), RESP2 subscribed mode and its errors, the three
// message kinds in RESP2 and RESP3, PUBSUB introspection, RESET.
var pubsubScript = []psStep{
	{0, []string{"UNSUBSCRIBE"}, 1, false},
	{0, []string{"PUNSUBSCRIBE"}, 1, false},
	{0, []string{"SUNSUBSCRIBE"}, 1, false},
	{0, []string{"SUBSCRIBE", "c1", "c2", "c1"}, 3, false},
	{0, []string{"PSUBSCRIBE", "c*"}, 1, false},
	{0, []string{"SSUBSCRIBE", "s1"}, 1, false},
	{0, []string{"PING"}, 1, false},
	{0, []string{"PING", "hi"}, 1, false},
	{0, []string{"GET", "x"}, 1, false},
	{0, []string{"CLIENT", "LIST"}, 1, false},
	{0, []string{"CLIENT", "NOSUCH"}, 1, false},
	{0, []string{"NOSUCH"}, 1, false},
	{0, []string{"PING", "a", "b"}, 1, false},
	{0, []string{"SUBSCRIBE"}, 1, false},
	{0, []string{"HELLO", "3"}, 1, false},
	{0, []string{"PUBLISH", "c1", "x"}, 1, false},
	{1, []string{"PUBLISH", "c1", "m1"}, 1, false},
	{0, nil, 2, false}, // message, then pmessage
	{1, []string{"SPUBLISH", "s1", "m2"}, 1, false},
	{0, nil, 1, false},
	{1, []string{"PUBLISH", "s1", "m3"}, 1, false},
	{1, []string{"PUBLISH", "nobody", "m3"}, 1, false},
	{1, []string{"PUBSUB", "NUMPAT"}, 1, false},
	{1, []string{"PUBSUB", "CHANNELS", "c1"}, 1, false},
	{1, []string{"PUBSUB", "CHANNELS", "c[2]"}, 1, false},
	{1, []string{"PUBSUB", "NUMSUB", "c1", "zz"}, 1, false},
	{1, []string{"PUBSUB", "NUMSUB"}, 1, false},
	{1, []string{"PUBSUB", "SHARDCHANNELS"}, 1, false},
	{1, []string{"PUBSUB", "SHARDCHANNELS", "x*"}, 1, false},
	{1, []string{"PUBSUB", "SHARDNUMSUB", "s1", "c1"}, 1, false},
	{1, []string{"PUBSUB", "HELP"}, 1, false},
	{1, []string{"PUBSUB", "Channels", "a", "b"}, 1, false},
	{1, []string{"PUBSUB", "NUMPAT", "x"}, 1, false},
	{1, []string{"PUBSUB", "HELP", "x"}, 1, false},
	{1, []string{"PUBSUB"}, 1, false},
	{1, []string{"PUBLISH", "x"}, 1, false},
	{0, []string{"UNSUBSCRIBE", "c1", "zz"}, 2, false},
	{0, []string{"UNSUBSCRIBE"}, 1, false},
	{0, []string{"PUNSUBSCRIBE"}, 1, false},
	{0, []string{"GET", "x"}, 1, false}, // still subscribed to a shard channel
	{0, []string{"SUNSUBSCRIBE"}, 1, false},
	{0, []string{"GET", "x"}, 1, false},
	{0, []string{"HELLO", "3"}, 1, true},
	{0, []string{"SUBSCRIBE", "c1"}, 1, false},
	{0, []string{"GET", "x"}, 1, false},
	{0, []string{"PING"}, 1, false},
	{1, []string{"PUBLISH", "c1", "m1"}, 1, false},
	{0, nil, 1, false},
	{0, []string{"PSUBSCRIBE", "x*"}, 1, false},
	{0, []string{"PUBLISH", "xy", "self"}, 2, false}, // the push comes before the reply
	{0, []string{"UNSUBSCRIBE"}, 1, false},
	{0, []string{"UNSUBSCRIBE"}, 1, false},
	{0, []string{"PUNSUBSCRIBE", "nope"}, 1, false},
	{0, []string{"SSUBSCRIBE", "s1", "s2"}, 2, false},
	{1, []string{"SPUBLISH", "s2", "m4"}, 1, false},
	{0, nil, 1, false},
	{0, []string{"RESET"}, 1, false},
	{0, []string{"GET", "x"}, 1, false},
	{1, []string{"PUBSUB", "NUMPAT"}, 1, false},
	{1, []string{"PUBSUB", "SHARDNUMSUB", "s1", "s2"}, 1, false},
	{0, []string{"PSUBSCRIBE", "p*"}, 1, false},
	{1, []string{"PUBLISH", "px", "hello"}, 1, false},
	{0, nil, 1, false},
	{0, []string{"QUIT"}, 1, false},
	{1, []string{"PUBLISH", "px", "hello"}, 1, false},
}

func runPubSubScript(t *testing.T, dial func() net.Conn) []string {
	t.Helper()
	var conns [2]net.Conn
	var rds [2]*bufio.Reader
	for i := range conns {
		conns[i] = dial()
		defer conns[i].Close()
		rds[i] = bufio.NewReader(conns[i])
	}
	var out []string
	for _, st := range pubsubScript {
		if st.args != nil {
			var w proto.Writer
			w.Array(len(st.args))
			for _, a := range st.args {
				w.BulkString(a)
			}
			conns[st.conn].Write(w.B)
		}
		conns[st.conn].SetReadDeadline(time.Now().Add(5 * time.Second))
		var got strings.Builder
		for i := 0; i < st.n; i++ {
			f, err := redistest.ReadRaw(rds[st.conn])
			if err != nil {
				t.Fatalf("%q: reading frame %d: %v", st.args, i, err)
			}
			got.WriteString(f)
		}
		out = append(out, got.String())
	}
	return out
}

// TestPubSubFramesMatchRedis runs the same script on kvd and on a real
// redis-server 7.0 and compares every frame byte for byte.
func TestPubSubFramesMatchRedis(t *testing.T) {
	sock := redistest.Start(t)
	want := runPubSubScript(t, func() net.Conn {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
	s := servertest.Start(t)
	got := runPubSubScript(t, func() net.Conn {
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		return c
	})
	for i, st := range pubsubScript {
		if st.noMatch {
			continue
		}
		if got[i] != want[i] {
			t.Errorf("step %d %q:\n kvd   %q\n redis %q", i, st.args, got[i], want[i])
		}
	}
}

func TestPubSubGoRedis(t *testing.T) {
	for _, protocol := range []int{2, 3} {
		t.Run(fmt.Sprintf("RESP%d", protocol), func(t *testing.T) {
			ctx := context.Background()
			s := servertest.Start(t)
			pub := s.Client(protocol)
			sub := s.Client(protocol)

			ps := sub.Subscribe(ctx, "news", "sport")
			defer ps.Close()
			for i := 0; i < 2; i++ {
				m, err := ps.Receive(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if sb, ok := m.(*redis.Subscription); !ok || sb.Kind != "subscribe" || sb.Count != i+1 {
					t.Fatalf("confirmation %d = %#v", i, m)
				}
			}
			if err := ps.PSubscribe(ctx, "n*"); err != nil {
				t.Fatal(err)
			}
			if m, err := ps.Receive(ctx); err != nil || m.(*redis.Subscription).Kind != "psubscribe" || m.(*redis.Subscription).Count != 3 {
				t.Fatalf("psubscribe: %#v %v", m, err)
			}
			if err := ps.SSubscribe(ctx, "orders"); err != nil {
				t.Fatal(err)
			}
			if m, err := ps.Receive(ctx); err != nil || m.(*redis.Subscription).Kind != "ssubscribe" || m.(*redis.Subscription).Count != 1 {
				t.Fatalf("ssubscribe: %#v %v", m, err)
			}

			if n := pub.Publish(ctx, "news", "hello").Val(); n != 2 { // news + n*
				t.Errorf("PUBLISH news = %d, want 2", n)
			}
			if n := pub.Publish(ctx, "sport", "goal").Val(); n != 1 {
				t.Errorf("PUBLISH sport = %d, want 1", n)
			}
			if n := pub.Publish(ctx, "nobody", "x").Val(); n != 1 { // n*
				t.Errorf("PUBLISH nobody = %d, want 1", n)
			}
			if n := pub.Publish(ctx, "zzz", "x").Val(); n != 0 {
				t.Errorf("PUBLISH zzz = %d, want 0", n)
			}
			if n := pub.SPublish(ctx, "orders", "o1").Val(); n != 1 {
				t.Errorf("SPUBLISH orders = %d, want 1", n)
			}
			if n := pub.SPublish(ctx, "news", "x").Val(); n != 0 {
				t.Errorf("SPUBLISH news = %d, want 0 (shard channels are their own namespace)", n)
			}

			recv := func(p *redis.PubSub) *redis.Message {
				t.Helper()
				m, err := p.ReceiveTimeout(ctx, 5*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				msg, ok := m.(*redis.Message)
				if !ok {
					t.Fatalf("got %#v, want a message", m)
				}
				return msg
			}
			got := []string{}
			for i := 0; i < 4; i++ {
				m := recv(ps)
				got = append(got, m.Pattern+"|"+m.Channel+"|"+m.Payload)
			}
			want := []string{"|news|hello", "n*|news|hello", "|sport|goal", "n*|nobody|x"}
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("messages %q, want %q", got, want)
			}
			if m := recv(ps); m.Channel != "orders" || m.Payload != "o1" {
				t.Errorf("shard message %#v", m)
			}

			if chans := pub.PubSubChannels(ctx, "*").Val(); strings.Join(chans, ",") != "news,sport" {
				t.Errorf("PUBSUB CHANNELS = %q", chans)
			}
			if chans := pub.PubSubChannels(ctx, "s*").Val(); strings.Join(chans, ",") != "sport" {
				t.Errorf("PUBSUB CHANNELS s* = %q", chans)
			}
			if ns := pub.PubSubNumSub(ctx, "news", "zzz").Val(); ns["news"] != 1 || ns["zzz"] != 0 || len(ns) != 2 {
				t.Errorf("PUBSUB NUMSUB = %v", ns)
			}
			if n := pub.PubSubNumPat(ctx).Val(); n != 1 {
				t.Errorf("PUBSUB NUMPAT = %d", n)
			}
			if chans := pub.PubSubShardChannels(ctx, "*").Val(); strings.Join(chans, ",") != "orders" {
				t.Errorf("PUBSUB SHARDCHANNELS = %q", chans)
			}
			if ns := pub.PubSubShardNumSub(ctx, "orders", "news").Val(); ns["orders"] != 1 || ns["news"] != 0 {
				t.Errorf("PUBSUB SHARDNUMSUB = %v", ns)
			}

			if err := ps.Unsubscribe(ctx, "news"); err != nil {
				t.Fatal(err)
			}
			if m, err := ps.Receive(ctx); err != nil || m.(*redis.Subscription).Kind != "unsubscribe" || m.(*redis.Subscription).Count != 2 {
				t.Fatalf("unsubscribe: %#v %v", m, err)
			}
			if n := pub.Publish(ctx, "news", "again").Val(); n != 1 { // only n*
				t.Errorf("PUBLISH after UNSUBSCRIBE = %d, want 1", n)
			}
			ps.Close()
			waitFor(t, func() bool {
				return pub.PubSubNumPat(ctx).Val() == 0 && len(pub.PubSubChannels(ctx, "*").Val()) == 0 &&
					len(pub.PubSubShardChannels(ctx, "*").Val()) == 0
			}, "subscriptions of closed connections to go")
		})
	}
}

// waitFor polls cond (a connection closing is asynchronous).
func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestPubSubClientState checks what other families see: CLIENT LIST sub=,
// psub=, ssub= and flag P, CLIENT KILL TYPE pubsub, INFO stats.
func TestPubSubClientState(t *testing.T) {
	ctx := context.Background()
	s := servertest.Start(t)
	c := s.Client(2)
	sub := s.Raw()
	sub.Send("SUBSCRIBE", "a", "b")
	sub.ReadReply()
	sub.ReadReply()
	sub.Send("PSUBSCRIBE", "p*")
	sub.ReadReply()
	sub.Send("SSUBSCRIBE", "s")
	sub.ReadReply()
	other := s.Raw()
	other.Send("PSUBSCRIBE", "p*", "q*")
	other.ReadReply()
	other.ReadReply()

	list := c.ClientList(ctx).Val()
	if !strings.Contains(list, "flags=P db=0 sub=2 psub=1 ssub=1") || !strings.Contains(list, "flags=P db=0 sub=0 psub=2 ssub=0") {
		t.Errorf("CLIENT LIST:\n%s", list)
	}
	if n := strings.Count(mustDo(t, c, "CLIENT", "LIST", "TYPE", "pubsub").(string), "\n"); n != 2 {
		t.Errorf("CLIENT LIST TYPE pubsub: %d clients", n)
	}
	stats := infoOf(t, c, "stats")["stats"]
	if stats["pubsub_channels"] != "2" || stats["pubsub_patterns"] != "2" || stats["pubsubshard_channels"] != "1" {
		t.Errorf("INFO stats pubsub: %v %v %v", stats["pubsub_channels"], stats["pubsub_patterns"], stats["pubsubshard_channels"])
	}
	if n := mustDo(t, c, "CLIENT", "KILL", "TYPE", "pubsub"); n != int64(2) {
		t.Errorf("CLIENT KILL TYPE pubsub = %v", n)
	}
	waitFor(t, func() bool {
		st := infoOf(t, c, "stats")["stats"]
		return st["pubsub_channels"] == "0" && st["pubsub_patterns"] == "0" && st["pubsubshard_channels"] == "0"
	}, "killed subscribers to be unsubscribed")
}

// TestPubSubSubscribedModeErrors: a RESP2 client with subscriptions may run
// only the subscribe family, PING, QUIT and RESET; a RESP3 client anything.
func TestPubSubSubscribedModeErrors(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	r.Do("SET", "k", "v")
	r.Send("SUBSCRIBE", "ch")
	r.ReadReply()
	for _, cmd := range [][]string{{"GET", "k"}, {"SET", "k", "v"}, {"CLIENT", "ID"}, {"PUBLISH", "ch", "x"}, {"HELLO", "3"}, {"MONITOR"}} {
		want := "-ERR Can't execute '" + strings.ToLower(strings.Join(cmd[:min(2, len(cmd))], "|")) + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
		if cmd[0] != "CLIENT" {
			want = "-ERR Can't execute '" + strings.ToLower(cmd[0]) + "': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in this context"
		}
		if got := r.Do(cmd...); got != want {
			t.Errorf("%q = %s\n want %s", cmd, got, want)
		}
	}
	if got := r.Do("PING"); got != "*[$pong $]" {
		t.Errorf("PING = %s", got)
	}
	if got := r.Do("PING", "x"); got != "*[$pong $x]" {
		t.Errorf("PING x = %s", got)
	}
	if got := r.Do("RESET"); got != "+RESET" {
		t.Errorf("RESET = %s", got)
	}
	if got := r.Do("GET", "k"); got != "$v" {
		t.Errorf("GET after RESET = %s", got)
	}

	r3 := s.Raw()
	r3.Do("HELLO", "3")
	r3.Send("SUBSCRIBE", "ch")
	if got := r3.ReadReply(); got != ">[$subscribe $ch :1]" {
		t.Fatalf("RESP3 SUBSCRIBE = %s", got)
	}
	if got := r3.Do("GET", "k"); got != "$v" {
		t.Errorf("RESP3 GET while subscribed = %s", got)
	}
	if got := r3.Do("PING"); got != "+PONG" {
		t.Errorf("RESP3 PING while subscribed = %s", got)
	}
	if got := r3.Do("QUIT"); got != "+OK" {
		t.Errorf("QUIT = %s", got)
	}
}

// TestPubSubPipelineOrder: replies of commands pipelined before SUBSCRIBE
// come before its confirmation, and those after it come after.
func TestPubSubPipelineOrder(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	r.Do("HELLO", "3")
	var w proto.Writer
	for _, cmd := range [][]string{{"SET", "a", "1"}, {"GET", "a"}, {"SUBSCRIBE", "x", "y"}, {"GET", "a"}, {"PUBLISH", "x", "m"}, {"UNSUBSCRIBE", "x"}, {"PING"}} {
		w.Array(len(cmd))
		for _, a := range cmd {
			w.BulkString(a)
		}
	}
	r.Write(w.B)
	want := []string{"+OK", "$1", ">[$subscribe $x :1]", ">[$subscribe $y :2]", "$1", ">[$message $x $m]", ":1", ">[$unsubscribe $x :1]", "+PONG"}
	for i, wnt := range want {
		if got := r.ReadReply(); got != wnt {
			t.Errorf("frame %d = %s, want %s", i, got, wnt)
		}
	}
}

// readFrame reads one RESP2 array frame from a subscriber as strings.
func readFrame(br *bufio.Reader) ([]string, error) {
	s, err := servertest.ReadReply(br)
	if err != nil {
		return nil, err
	}
	if len(s) < 3 || (s[0] != '*' && s[0] != '>') {
		return nil, fmt.Errorf("not a frame: %q", s)
	}
	var out []string
	for _, f := range strings.Fields(s[2 : len(s)-1]) {
		out = append(out, strings.TrimLeft(f, "$:"))
	}
	return out, nil
}

// TestPubSubOrdering: one publisher, N messages; every subscriber (some by
// channel, some by pattern, RESP2 and RESP3) sees all of them in order, and
// a subscriber joining mid-stream gets its confirmation before any message.
func TestPubSubOrdering(t *testing.T) {
	s := servertest.Start(t)
	const n = 2000
	const subs = 6
	var conns []net.Conn
	var rds []*bufio.Reader
	for i := 0; i < subs; i++ {
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		br := bufio.NewReader(c)
		if i%2 == 1 {
			c.Write([]byte("HELLO 3\r\n"))
			servertest.ReadReply(br)
		}
		if i < 3 {
			c.Write([]byte("SUBSCRIBE ord\r\n"))
		} else {
			c.Write([]byte("PSUBSCRIBE or?\r\n"))
		}
		if _, err := readFrame(br); err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
		rds = append(rds, br)
	}
	pub := s.Client(2)
	ctx := context.Background()
	late := make(chan error, 1)
	go func() {
		// Joins while the publisher runs: its first frame must be the
		// confirmation, then messages in increasing order.
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			late <- err
			return
		}
		defer c.Close()
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		br := bufio.NewReader(c)
		time.Sleep(2 * time.Millisecond)
		c.Write([]byte("SUBSCRIBE ord\r\n"))
		f, err := readFrame(br)
		if err != nil || f[0] != "subscribe" {
			late <- fmt.Errorf("first frame %q %v, want the confirmation", f, err)
			return
		}
		last := -1
		for last < n-1 {
			f, err := readFrame(br)
			if err != nil {
				late <- err
				return
			}
			v, _ := strconv.Atoi(f[len(f)-1])
			if v <= last {
				late <- fmt.Errorf("late subscriber: %d after %d", v, last)
				return
			}
			last = v
		}
		late <- nil
	}()
	for i := 0; i < n; i++ {
		if err := pub.Publish(ctx, "ord", strconv.Itoa(i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	for i, br := range rds {
		conns[i].SetReadDeadline(time.Now().Add(10 * time.Second))
		for j := 0; j < n; j++ {
			f, err := readFrame(br)
			if err != nil {
				t.Fatalf("subscriber %d message %d: %v", i, j, err)
			}
			if f[len(f)-1] != strconv.Itoa(j) {
				t.Fatalf("subscriber %d: message %d is %q", i, j, f)
			}
		}
	}
	if err := <-late; err != nil {
		t.Error(err)
	}
}

// TestPubSubManyPublishers: P publishers × S subscribers on several
// channels and patterns at once (run it with -race). Every subscriber gets
// every message it subscribed to, each publisher's in its order, and the
// PUBLISH counts add up to the deliveries.
func TestPubSubManyPublishers(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	const pubs, per, nsubs = 4, 300, 6
	chans := []string{"c0", "c1", "c2"}
	type subscriber struct {
		c    net.Conn
		br   *bufio.Reader
		want int
	}
	var subsList []*subscriber
	for i := 0; i < nsubs; i++ {
		c, err := net.Dial("tcp", s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		sb := &subscriber{c: c, br: bufio.NewReader(c)}
		if i%3 == 2 {
			c.Write([]byte("PSUBSCRIBE c*\r\n"))
			sb.want = pubs * per
		} else {
			c.Write([]byte("SUBSCRIBE " + chans[i%3] + "\r\n"))
			sb.want = pubs * per / len(chans)
		}
		readFrame(sb.br)
		subsList = append(subsList, sb)
	}
	var wg sync.WaitGroup
	counts := make([]int64, pubs)
	errs := make(chan error, pubs+nsubs)
	for p := 0; p < pubs; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			c := s.Client(2)
			for i := 0; i < per; i++ {
				n, err := c.Publish(context.Background(), chans[i%len(chans)], fmt.Sprintf("%d:%d", p, i)).Result()
				if err != nil {
					errs <- err
					return
				}
				counts[p] += n
			}
		}(p)
	}
	var total sync.WaitGroup
	delivered := make([]int, nsubs)
	for i, sb := range subsList {
		total.Add(1)
		go func(i int, sb *subscriber) {
			defer total.Done()
			sb.c.SetReadDeadline(time.Now().Add(20 * time.Second))
			last := make([]int, pubs)
			for j := range last {
				last[j] = -1
			}
			for k := 0; k < sb.want; k++ {
				f, err := readFrame(sb.br)
				if err != nil {
					errs <- fmt.Errorf("subscriber %d after %d messages: %v", i, k, err)
					return
				}
				var p, seq int
				fmt.Sscanf(f[len(f)-1], "%d:%d", &p, &seq)
				if seq <= last[p] {
					errs <- fmt.Errorf("subscriber %d: publisher %d's %d after %d", i, p, seq, last[p])
					return
				}
				last[p] = seq
				delivered[i]++
			}
		}(i, sb)
	}
	wg.Wait()
	total.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var sum, got int64
	for _, c := range counts {
		sum += c
	}
	for _, d := range delivered {
		got += int64(d)
	}
	if sum != got {
		t.Errorf("PUBLISH counts add up to %d, subscribers got %d", sum, got)
	}
}

// TestPubSubCloseUnsubscribes: a connection that goes away leaves no
// subscription behind, and RESET drops them without confirmations.
func TestPubSubCloseUnsubscribes(t *testing.T) {
	ctx := context.Background()
	s := servertest.Start(t)
	c := s.Client(2)
	r := s.Raw()
	r.Send("SUBSCRIBE", "a")
	r.ReadReply()
	r.Send("PSUBSCRIBE", "a*")
	r.ReadReply()
	if n := c.Publish(ctx, "a", "x").Val(); n != 2 {
		t.Fatalf("PUBLISH = %d", n)
	}
	r.ReadReply()
	r.ReadReply()
	if got := r.Do("RESET"); got != "+RESET" {
		t.Fatalf("RESET = %s", got)
	}
	if n := c.Publish(ctx, "a", "x").Val(); n != 0 {
		t.Errorf("PUBLISH after RESET = %d", n)
	}
	r.Send("SSUBSCRIBE", "b")
	r.ReadReply()
	r.Close()
	waitFor(t, func() bool { return c.SPublish(ctx, "b", "x").Val() == 0 }, "the closed subscriber to go")
}

func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[int(float64(len(s)-1)*p)]
}
