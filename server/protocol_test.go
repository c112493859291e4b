package server_test

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/server"
	"github.com/kvd/kvd/server/servertest"
)

// ptKeyOn returns a key with the given prefix owned by worker w.
func ptKeyOn(t *testing.T, s *servertest.Server, prefix string, w int) string {
	t.Helper()
	for i := 0; i < 100000; i++ {
		k := prefix + strconv.Itoa(i)
		if s.Engine().WorkerOf([]byte(k)) == w {
			return k
		}
	}
	t.Fatalf("no key for worker %d", w)
	return ""
}

// ptEncode encodes commands as RESP multibulks.
func ptEncode(cmds ...[]string) []byte {
	var w proto.Writer
	for _, c := range cmds {
		w.StringArray(c)
	}
	return w.B
}

// ptExpectClosed reads until the server closes the connection and fails if
// anything but EOF (or a reset) arrives first.
func ptExpectClosed(t *testing.T, r *servertest.Raw) {
	t.Helper()
	r.SetReadDeadline(time.Now().Add(10 * time.Second))
	rest, err := io.ReadAll(r.R)
	if len(rest) > 0 {
		t.Fatalf("unexpected bytes before close: %q", rest)
	}
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("connection not closed by the server")
	}
}

// ptPing checks that a connection still works.
func ptPing(t *testing.T, r *servertest.Raw) {
	t.Helper()
	if got := r.Do("PING"); got != "+PONG" {
		t.Fatalf("PING = %q", got)
	}
}

// TestProtocolByteByByte sends commands one byte per write: the server must
// reassemble them and answer exactly once each.
func TestProtocolByteByByte(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	in := append(ptEncode([]string{"SET", "a", "x\r\ny"}, []string{"GET", "a"}), "SET b \"c d\"\r\nGET b\r\n"...)
	for i := range in {
		if _, err := r.Write(in[i : i+1]); err != nil {
			t.Fatal(err)
		}
	}
	for i, want := range []string{"+OK", "$x\r\ny", "+OK", "$c d"} {
		if got := r.ReadReply(); got != want {
			t.Fatalf("reply %d = %q, want %q", i, got, want)
		}
	}
	ptPing(t, r)
}

// TestProtocolPipeline1000 writes 1,000 commands at once (one TCP write,
// more than one batch of the server) over keys of every worker; replies
// come back in order.
func TestProtocolPipeline1000(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	r := s.Raw()
	var cmds [][]string
	var want []string
	for i := 0; i < 1000; i++ {
		k := "pk:" + strconv.Itoa(i%37)
		v := "v" + strconv.Itoa(i)
		switch i % 5 {
		case 0, 1:
			cmds = append(cmds, []string{"SET", k, v})
			want = append(want, "+OK")
		case 2:
			cmds = append(cmds, []string{"APPEND", k, "+"})
			want = append(want, "")
		case 3:
			cmds = append(cmds, []string{"GET", k})
			want = append(want, "")
		default:
			cmds = append(cmds, []string{"PING", v})
			want = append(want, "$"+v)
		}
	}
	// Expected replies from a sequential model.
	model := map[string]string{}
	for i, c := range cmds {
		switch c[0] {
		case "SET":
			model[c[1]] = c[2]
		case "APPEND":
			model[c[1]] += "+"
			want[i] = ":" + strconv.Itoa(len(model[c[1]]))
		case "GET":
			want[i] = "(nil)"
			if v, ok := model[c[1]]; ok {
				want[i] = "$" + v
			}
		}
	}
	if _, err := r.Write(ptEncode(cmds...)); err != nil {
		t.Fatal(err)
	}
	for i := range cmds {
		if got := r.ReadReply(); got != want[i] {
			t.Fatalf("reply %d (%q) = %q, want %q", i, cmds[i], got, want[i])
		}
	}
	ptPing(t, r)
}

// TestProtocolInline covers inline commands, quoting included, and empty
// lines between them.
func TestProtocolInline(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	r.Write([]byte("SET a \"b c\"\r\n\r\n  \nGET a\nSET q 'it\\'s'\r\nGET q\r\nSET h \"\\x41\\x00\\n\"\r\nSTRLEN h\r\nPING\r\n*0\r\n*-1\r\nECHO \"\"\r\n"))
	for i, want := range []string{"+OK", "$b c", "+OK", "$it's", "+OK", ":3", "+PONG", "$"} {
		if got := r.ReadReply(); got != want {
			t.Fatalf("reply %d = %q, want %q", i, got, want)
		}
	}
}

// TestProtocolErrors: every malformed request is answered with Redis's
// "-ERR Protocol error: ..." and the connection is closed; replies to the
// commands before it are sent first, and other connections keep working.
func TestProtocolErrors(t *testing.T) {
	s := servertest.Start(t)
	other := s.Raw()
	ptPing(t, other)
	big := strings.Repeat("9", 70000)
	tests := []struct{ in, reply string }{
		{"*1\r\n$4\r\nPING\r\n*x\r\n", "-ERR Protocol error: invalid multibulk length"},
		{"*2147483648\r\n", "-ERR Protocol error: invalid multibulk length"},
		{"*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length"},
		{"*1\r\n$04\r\nPING\r\n", "-ERR Protocol error: invalid bulk length"},
		{"*1\r\n$536870913\r\n", "-ERR Protocol error: invalid bulk length"},
		{"*1\r\nxyz\r\n", "-ERR Protocol error: expected '$', got 'x'"},
		{"*1\r\n\r\n", "-ERR Protocol error: expected '$', got ' '"},
		{"SET a \"b\r\n", "-ERR Protocol error: unbalanced quotes in request"},
		{"SET a 'b'c\r\n", "-ERR Protocol error: unbalanced quotes in request"},
		{strings.Repeat("x", 70000), "-ERR Protocol error: too big inline request"},
		{"*" + big, "-ERR Protocol error: too big mbulk count string"},
		{"*1\r\n$" + big, "-ERR Protocol error: too big bulk count string"},
	}
	for _, tc := range tests {
		name := tc.in
		if len(name) > 20 {
			name = name[:20]
		}
		t.Run(strconv.Quote(name), func(t *testing.T) {
			r := s.Raw()
			if _, err := r.Write([]byte(tc.in)); err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(tc.in, "*1\r\n$4\r\nPING") {
				if got := r.ReadReply(); got != "+PONG" {
					t.Fatalf("reply before the error = %q", got)
				}
			}
			if got := r.ReadReply(); got != tc.reply {
				t.Fatalf("got %q, want %q", got, tc.reply)
			}
			ptExpectClosed(t, r)
			ptPing(t, other)
		})
	}
	// A line with a NUL byte before its end never completes (Redis finds
	// line ends with strchr): the connection waits, then fails as too big.
	r := s.Raw()
	r.Write([]byte("PING\x00x\r\n"))
	ptPing(t, other)
	r.Write(bytes.Repeat([]byte("y"), 70000))
	if got := r.ReadReply(); got != "-ERR Protocol error: too big inline request" {
		t.Fatalf("NUL line: %q", got)
	}
	ptExpectClosed(t, r)
}

// TestProtocolUnauthenticatedLimits: before AUTH, Redis 7 refuses big
// multibulks and bulks with their own errors.
func TestProtocolUnauthenticatedLimits(t *testing.T) {
	s := servertest.Start(t, func(c *server.Config) {
		if err := c.Set("requirepass", "secret", false); err != nil {
			t.Fatal(err)
		}
	})
	for in, want := range map[string]string{
		"*11\r\n":          "-ERR Protocol error: unauthenticated multibulk length",
		"*1\r\n$16385\r\n": "-ERR Protocol error: unauthenticated bulk length",
	} {
		r := s.Raw()
		r.Write([]byte(in))
		if got := r.ReadReply(); got != want {
			t.Fatalf("%q: got %q, want %q", in, got, want)
		}
		ptExpectClosed(t, r)
	}
	r := s.Raw()
	if got := r.Do("PING"); !strings.HasPrefix(got, "-NOAUTH") {
		t.Fatalf("PING before AUTH = %q", got)
	}
	if got := r.Do("AUTH", "secret"); got != "+OK" {
		t.Fatalf("AUTH = %q", got)
	}
	args := []string{"MSET"}
	for i := 0; i < 6; i++ {
		args = append(args, "k"+strconv.Itoa(i), strings.Repeat("v", 20000))
	}
	if got := r.Do(args...); got != "+OK" {
		t.Fatalf("big MSET after AUTH = %q", got)
	}
}

// TestProtocolHugeAnnouncedBulk: clients announcing huge bulks and sending
// a few bytes (then hanging up) neither crash the server nor make it
// allocate what they announced.
func TestProtocolHugeAnnouncedBulk(t *testing.T) {
	s := servertest.Start(t)
	other := s.Raw()
	ptPing(t, other)

	// Over proto-max-bulk-len: refused at once.
	r := s.Raw()
	r.Write([]byte("*1\r\n$1000000000\r\n"))
	if got := r.ReadReply(); got != "-ERR Protocol error: invalid bulk length" {
		t.Fatalf("got %q", got)
	}
	ptExpectClosed(t, r)

	// Just under it, from many clients at once.
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	const clients = 16
	conns := make([]*servertest.Raw, clients)
	for i := range conns {
		conns[i] = s.Raw()
		// The PING's reply shows the server read the write.
		conns[i].Write([]byte("PING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$536870000\r\nsome bytes"))
	}
	for _, c := range conns {
		if got := c.ReadReply(); got != "+PONG" {
			t.Fatalf("PING = %q", got)
		}
	}
	ptPing(t, other)
	for _, c := range conns {
		c.Close()
	}
	ptPing(t, other)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 64<<20 {
		t.Fatalf("%d clients announcing 512 MB made the server allocate %d MB", clients, grew>>20)
	}
	if got := other.Do("EXISTS", "k"); got != ":0" {
		t.Fatalf("EXISTS k = %q", got)
	}
}

// TestProtocolQueryBufferLimit: a client whose unparsed input passes
// client-query-buffer-limit is disconnected (without a reply, as Redis
// does); other clients are not affected.
func TestProtocolQueryBufferLimit(t *testing.T) {
	s := servertest.Start(t, func(c *server.Config) {
		if err := c.Set("client-query-buffer-limit", "1mb", false); err != nil {
			t.Fatal(err)
		}
	})
	other := s.Raw()
	ptPing(t, other)

	r := s.Raw()
	go func() {
		// Two megabytes of one 3 MB bulk: never a complete command.
		r.Write([]byte("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$3000000\r\n"))
		r.Write(bytes.Repeat([]byte("x"), 2<<20)) // fails once the server hangs up
	}()
	ptExpectClosed(t, r)
	ptPing(t, other)
	if got := other.Do("EXISTS", "k"); got != ":0" {
		t.Fatalf("EXISTS k = %q", got)
	}

	// A value below the limit is fine.
	if got := other.Do("SET", "k", strings.Repeat("v", 900<<10)); got != "+OK" {
		t.Fatalf("SET 900 KB = %q", got)
	}
	if got := other.Do("STRLEN", "k"); got != ":"+strconv.Itoa(900<<10) {
		t.Fatalf("STRLEN = %q", got)
	}
}

// TestProtocolMixedPipeline mixes single-worker commands on every worker,
// split multi-worker commands (MSET/MGET/DEL/EXISTS), barrier commands
// (RENAME across workers, DBSIZE) and local commands (PING, ECHO, SELECT)
// in one pipeline; the replies must be those of running the commands one
// by one, in order.
func TestProtocolMixedPipeline(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	k := make([]string, 8)
	for i := range k {
		k[i] = ptKeyOn(t, s, fmt.Sprintf("mix%d:", i), i%4)
	}
	steps := []struct {
		cmd   []string
		reply string
	}{
		{[]string{"SET", k[0], "a"}, "+OK"},
		{[]string{"SET", k[1], "b"}, "+OK"},
		{[]string{"MSET", k[2], "c", k[3], "d", k[4], "e"}, "+OK"},
		{[]string{"MGET", k[0], k[1], k[2], k[3], k[4], k[5]}, "*[$a $b $c $d $e (nil)]"},
		{[]string{"PING"}, "+PONG"},
		{[]string{"APPEND", k[0], "1"}, ":2"},
		{[]string{"EXISTS", k[0], k[1], k[5], k[0]}, ":3"},
		{[]string{"DBSIZE"}, ":5"},
		{[]string{"RENAME", k[1], k[6]}, "+OK"},
		{[]string{"GET", k[6]}, "$b"},
		{[]string{"DEL", k[0], k[1], k[2], k[7]}, ":2"},
		{[]string{"ECHO", "mid"}, "$mid"},
		{[]string{"MGET", k[0], k[2], k[3], k[6]}, "*[(nil) (nil) $d $b]"},
		{[]string{"INCR", k[5]}, ":1"},
		{[]string{"MSET", k[5], "x", k[5], "y"}, "+OK"},
		{[]string{"GET", k[5]}, "$y"},
		{[]string{"SELECT", "1"}, "+OK"},
		{[]string{"MGET", k[3], k[4]}, "*[(nil) (nil)]"},
		{[]string{"SET", k[3], "db1"}, "+OK"},
		{[]string{"SELECT", "0"}, "+OK"},
		{[]string{"GET", k[3]}, "$d"},
		{[]string{"DBSIZE"}, ":4"},
		{[]string{"DEL", k[3], k[4], k[5], k[6]}, ":4"},
		{[]string{"DBSIZE"}, ":0"},
		{[]string{"GET", "{" + k[0] + "}"}, "(nil)"},
	}
	var cmds [][]string
	for _, st := range steps {
		cmds = append(cmds, st.cmd)
	}
	// Run it pipelined, then again command by command after FLUSHALL.
	r := s.Raw()
	if _, err := r.Write(ptEncode(cmds...)); err != nil {
		t.Fatal(err)
	}
	for i, st := range steps {
		if got := r.ReadReply(); got != st.reply {
			t.Fatalf("pipelined reply %d (%q) = %q, want %q", i, st.cmd, got, st.reply)
		}
	}
	r.Do("FLUSHALL")
	r2 := s.Raw()
	for i, st := range steps {
		if got := r2.Do(st.cmd...); got != st.reply {
			t.Fatalf("one-by-one reply %d (%q) = %q, want %q", i, st.cmd, got, st.reply)
		}
	}
}

// TestProtocolConcurrentPipelines: many connections pipeline mixed
// single- and multi-worker commands on their own keys at once; every
// connection gets its own replies, in order.
func TestProtocolConcurrentPipelines(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	const conns = 8
	const rounds = 20
	errs := make(chan error, conns)
	for c := 0; c < conns; c++ {
		go func() {
			errs <- func() error {
				nc, err := net.Dial("tcp", s.Addr)
				if err != nil {
					return err
				}
				defer nc.Close()
				br := bufio.NewReader(nc)
				a, b := fmt.Sprintf("c%d:a", c), fmt.Sprintf("c%d:b", c)
				for i := 0; i < rounds; i++ {
					v := strconv.Itoa(i)
					nc.Write(ptEncode(
						[]string{"MSET", a, v, b, v},
						[]string{"INCR", a},
						[]string{"MGET", a, b},
						[]string{"DEL", a, b, "nokey"},
						[]string{"PING"},
					))
					want := fmt.Sprintf("+OK\r\n:%d\r\n*2\r\n$%d\r\n%d\r\n$%d\r\n%s\r\n:2\r\n+PONG\r\n",
						i+1, len(strconv.Itoa(i+1)), i+1, len(v), v)
					got := make([]byte, len(want))
					nc.SetReadDeadline(time.Now().Add(10 * time.Second))
					if _, err := io.ReadFull(br, got); err != nil {
						return err
					}
					if string(got) != want {
						return fmt.Errorf("conn %d round %d: got %q, want %q", c, i, got, want)
					}
				}
				return nil
			}()
		}()
	}
	for c := 0; c < conns; c++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
