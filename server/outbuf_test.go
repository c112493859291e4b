package server_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
)

// dialSmallRcvBuf connects with a tiny receive buffer, so that a client
// that does not read backs the server's writes up quickly.
func dialSmallRcvBuf(t *testing.T, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{Control: func(network, address string, rc syscall.RawConn) error {
		return rc.Control(func(fd uintptr) {
			syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
	}}
	c, err := d.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func limitKills(t *testing.T, c *redis.Client) int {
	t.Helper()
	n, _ := strconv.Atoi(infoOf(t, c, "stats")["stats"]["client_output_buffer_limit_disconnections"])
	return n
}

// expectClosed reads (and discards) what the server had sent until the
// connection ends; it fails if it does not end.
func expectClosed(t *testing.T, c net.Conn, what string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("%s: connection still open", what)
	}
}

// TestOutBufSlowSubscriber: a subscriber that never reads, with a small
// pubsub hard limit, is cut off while a publisher keeps publishing; every
// PUBLISH returns promptly (latencies logged, not asserted) and a reading
// subscriber gets every message.
func TestOutBufSlowSubscriber(t *testing.T) {
	ctx := context.Background()
	s := servertest.Start(t)
	admin := s.Client(2)
	mustDo(t, admin, "CONFIG", "SET", "client-output-buffer-limit", "pubsub 1mb 0 0")

	fast := s.Raw()
	fast.Send("SUBSCRIBE", "feed")
	fast.ReadReply()
	var fastGot atomic.Int64
	fastDone := make(chan struct{})
	go func() {
		defer close(fastDone)
		br := bufio.NewReaderSize(fast.Conn, 64<<10)
		for {
			fast.SetReadDeadline(time.Now().Add(20 * time.Second))
			if _, err := servertest.ReadReply(br); err != nil {
				return
			}
			fastGot.Add(1)
		}
	}()

	pub := s.Client(2)
	payload := strings.Repeat("x", 1024)
	sent := 0
	publish := func() (int64, time.Duration) {
		// Keep the reading subscriber within 64 messages of the publisher,
		// so that only the subscriber that does not read can reach the limit
		// on a busy machine.
		for int64(sent)-fastGot.Load() > 64 {
			time.Sleep(20 * time.Microsecond)
		}
		start := time.Now()
		n, err := pub.Publish(ctx, "feed", payload).Result()
		if err != nil {
			t.Fatal(err)
		}
		return n, time.Since(start)
	}
	var before, during []time.Duration
	for i := 0; i < 2000; i++ {
		if n, d := publish(); n != 1 {
			t.Fatalf("PUBLISH = %d, want 1", n)
		} else {
			before = append(before, d)
		}
		sent++
	}

	slow := dialSmallRcvBuf(t, s.Addr)
	slow.Write([]byte("SUBSCRIBE feed\r\n"))
	slowBr := bufio.NewReader(slow)
	slow.SetReadDeadline(time.Now().Add(5 * time.Second))
	if f, err := readFrame(slowBr); err != nil || f[0] != "subscribe" {
		t.Fatalf("slow SUBSCRIBE: %q %v", f, err)
	}
	// From here on the slow subscriber reads nothing.
	killsBefore := limitKills(t, admin)
	deadline := time.Now().Add(30 * time.Second)
	for {
		n, d := publish()
		sent++
		if n == 1 {
			break // the slow subscriber is gone
		}
		during = append(during, d)
		if time.Now().After(deadline) || len(during) > 200000 {
			t.Fatalf("slow subscriber still subscribed after %d messages", len(during))
		}
	}
	t.Logf("PUBLISH latency with one reading subscriber: p50 %v p99 %v (%d calls)", pct(before, .5), pct(before, .99), len(before))
	t.Logf("PUBLISH latency while a subscriber does not read: p50 %v p99 %v (%d calls until it was cut off at 1mb)", pct(during, .5), pct(during, .99), len(during))
	if k := limitKills(t, admin); k != killsBefore+1 {
		t.Errorf("client_output_buffer_limit_disconnections = %d, want %d", k, killsBefore+1)
	}
	expectClosed(t, slow, "slow subscriber")
	waitFor(t, func() bool { return fastGot.Load() == int64(sent) }, "the reading subscriber to get every message")
	if n := strings.Count(admin.ClientList(ctx).Val(), "sub=1"); n != 1 {
		t.Errorf("%d subscribers listed, want 1", n)
	}
	fast.Close()
	<-fastDone
}

// TestOutBufSoftLimit: over the soft limit for more than soft-seconds (0
// here: into the next second) disconnects.
func TestOutBufSoftLimit(t *testing.T) {
	ctx := context.Background()
	s := servertest.Start(t)
	admin := s.Client(2)
	mustDo(t, admin, "CONFIG", "SET", "client-output-buffer-limit", "pubsub 0 64kb 0")
	slow := dialSmallRcvBuf(t, s.Addr)
	slow.Write([]byte("SUBSCRIBE feed\r\n"))
	slow.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := readFrame(bufio.NewReader(slow)); err != nil {
		t.Fatal(err)
	}
	pub := s.Client(2)
	payload := strings.Repeat("y", 1024)
	deadline := time.Now().Add(30 * time.Second)
	for pub.Publish(ctx, "feed", payload).Val() == 1 {
		if time.Now().After(deadline) {
			t.Fatal("not disconnected by the soft limit")
		}
	}
	if k := limitKills(t, admin); k != 1 {
		t.Errorf("client_output_buffer_limit_disconnections = %d, want 1", k)
	}
	expectClosed(t, slow, "soft-limited subscriber")
}

// TestOutBufMonitorNormalClass: MONITOR clients are of the normal class for
// output limits (as in Redis): a monitor that does not read is cut off by
// the normal hard limit, while the traffic it watches goes on.
func TestOutBufMonitorNormalClass(t *testing.T) {
	ctx := context.Background()
	s := servertest.Start(t)
	admin := s.Client(2)
	mustDo(t, admin, "CONFIG", "SET", "client-output-buffer-limit", "normal 128kb 0 0")
	mon := dialSmallRcvBuf(t, s.Addr)
	mon.Write([]byte("MONITOR\r\n"))
	mon.SetReadDeadline(time.Now().Add(5 * time.Second))
	if line, err := bufio.NewReader(mon).ReadString('\n'); err != nil || line != "+OK\r\n" {
		t.Fatalf("MONITOR: %q %v", line, err)
	}
	c := s.Client(2)
	val := strings.Repeat("v", 1024)
	deadline := time.Now().Add(30 * time.Second)
	for limitKills(t, admin) == 0 {
		for i := 0; i < 50; i++ {
			if err := c.Set(ctx, "k", val, 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("monitor not disconnected")
		}
	}
	expectClosed(t, mon, "monitor")
}

// TestOutBufNormalReply: the normal class hard limit applies to the replies
// a client has pending: a reply over it closes the client, as in Redis.
func TestOutBufNormalReply(t *testing.T) {
	s := servertest.Start(t)
	admin := s.Client(2)
	r := s.Raw()
	if got := r.Do("SET", "big", strings.Repeat("b", 200000)); got != "+OK" {
		t.Fatal(got)
	}
	if got := r.Do("CONFIG", "SET", "client-output-buffer-limit", "normal 100kb 0 0"); got != "+OK" {
		t.Fatal(got)
	}
	if got := r.Do("GET", "small"); got != "(nil)" {
		t.Fatal(got)
	}
	r.Send("GET", "big")
	expectClosed(t, r.Conn, "client over the normal limit")
	if k := limitKills(t, admin); k != 1 {
		t.Errorf("client_output_buffer_limit_disconnections = %d, want 1", k)
	}
	mustDo(t, admin, "CONFIG", "SET", "client-output-buffer-limit", "normal 0 0 0")
	if got := s.Raw().Do("STRLEN", "big"); got != ":200000" {
		t.Errorf("STRLEN = %s", got)
	}
}

// TestOutBufConfigMatchesRedis compares CONFIG SET / GET of
// client-output-buffer-limit with a real redis-server 7.0: the accepted
// syntax, the errors and the printed value, each change applied to the
// classes it names only.
func TestOutBufConfigMatchesRedis(t *testing.T) {
	inputs := []string{"", "pubsub 1 2 3", "normal 1k 2kb 3", "NORMAL 1K 2KB 3", "replica 1 2 3", "master 1 2 3",
		"pubsub 1 2", "pubsub -1 2 3", "pubsub 1 2 -3", "pubsub 1 2 +3", "pubsub 1 2 3x", "pubsub k 2 3", "pubsub 1gb 1g 0",
		"pubsub 1 2 3 pubsub 4 5 6", "pubsub 1 2 3 bogus 4 5 6", "pubsub 99999999999999999999 1 1",
		"pubsub 1 2 99999999999999999999", "pubsub 1.5 2 3", "pubsub 1b 2B 3", "pubsub 01 2 3",
		"pubsub 18446744073709551615 2 3", "pubsub 17179869184gb 1 1", "pubsub  1   2  3", "pubsub 1 2 00",
		"pubsub 1 2 4294967297", "pubsub 1 2 2147483648", "pubsub  2 3", "pubsub 1 2 3 ", " pubsub 1 2 3", "pubsub 1 2 +",
		"pubsub 1 2 ", "pubsub 1KB 2Gb 3", "pubsub 1 2 0x10", "pubsub 1 2 -0", "pubsub 1mb 2 3 normal 1 2 x",
		"Pubsub 1 2 3", "slave 5 6 7", "pubsub 1 kb 3", "pubsub 1 2 -99999999999999999999", "pubsub 1 2 \t3", "pubsub 1 2 \t"}
	run := func(do func(args ...string) string) []string {
		var out []string
		for _, in := range inputs {
			out = append(out, do("CONFIG", "SET", "client-output-buffer-limit", in))
			out = append(out, do("CONFIG", "GET", "client-output-buffer-limit"))
		}
		return out
	}
	sock := redistest.Start(t)
	rc, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	rbr := bufio.NewReader(rc)
	want := run(func(args ...string) string { return rawDo(t, rc, rbr, args...) })
	s := servertest.Start(t)
	kc, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer kc.Close()
	kbr := bufio.NewReader(kc)
	got := run(func(args ...string) string { return rawDo(t, kc, kbr, args...) })
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("%q (%s):\n kvd   %s\n redis %s", inputs[i/2], []string{"SET", "GET"}[i%2], got[i], want[i])
		}
	}
}

// rawDo sends one command and returns the exact bytes of its reply.
func rawDo(t *testing.T, c net.Conn, br *bufio.Reader, args ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("*" + strconv.Itoa(len(args)) + "\r\n")
	for _, a := range args {
		b.WriteString("$" + strconv.Itoa(len(a)) + "\r\n" + a + "\r\n")
	}
	c.Write([]byte(b.String()))
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	s, err := redistest.ReadRaw(br)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
