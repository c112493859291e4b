package server_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/server"
	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
)

func requirePass(pw string) func(*server.Config) {
	return func(c *server.Config) {
		if err := c.Set("requirepass", pw, false); err != nil {
			panic(err)
		}
	}
}

// connExpect sends each command and checks its compact reply.
func connExpect(t *testing.T, r *servertest.Raw, cases [][2]string) {
	t.Helper()
	for _, c := range cases {
		args := splitArgs(c[0])
		if got := r.Do(args...); got != c[1] {
			t.Errorf("%q = %q, want %q", c[0], got, c[1])
		}
	}
}

// splitArgs splits on '|' so that arguments may contain spaces.
func splitArgs(s string) []string { return strings.Split(s, "|") }

func rawID(t *testing.T, r *servertest.Raw) string {
	t.Helper()
	id := r.Do("CLIENT", "ID")
	if !strings.HasPrefix(id, ":") {
		t.Fatalf("CLIENT ID = %q", id)
	}
	return id[1:]
}

// waitUntil polls cond until it holds; the deadline only bounds a failing
// test.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// expectEOF checks that the server closed the connection.
func expectEOF(t *testing.T, r *servertest.Raw) {
	t.Helper()
	r.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, err := r.R.ReadByte()
	if err == nil {
		rest, _ := r.R.Peek(r.R.Buffered())
		t.Fatalf("connection still open, read %q", string(b)+string(rest))
	}
	if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("expected EOF, got %v", err)
	}
}

func TestConnPingEcho(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	connExpect(t, r, [][2]string{
		{"PING", "+PONG"},
		{"ping|hello world", "$hello world"},
		{"PING|a|b", "-ERR wrong number of arguments for 'ping' command"},
		{"ECHO|x y", "$x y"},
		{"echo|", "$"},
		{"ECHO", "-ERR wrong number of arguments for 'echo' command"},
		{"ECHO|a|b", "-ERR wrong number of arguments for 'echo' command"},
	})
}

func TestConnSelect(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	connExpect(t, r, [][2]string{
		{"SET|k|zero", "+OK"},
		{"SELECT|15", "+OK"},
		{"GET|k", "(nil)"},
		{"SET|k|fifteen", "+OK"},
		{"SELECT|0", "+OK"},
		{"GET|k", "$zero"},
		{"SELECT|16", "-ERR DB index is out of range"},
		{"SELECT|-1", "-ERR DB index is out of range"},
		{"SELECT|x", "-ERR value is not an integer or out of range"},
		{"SELECT|1.5", "-ERR value is not an integer or out of range"},
		{"SELECT|01", "-ERR value is not an integer or out of range"},
		{"SELECT| 1", "-ERR value is not an integer or out of range"},
		{"SELECT|99999999999", "-ERR value is out of range, value must between -2147483648 and 2147483647"},
		{"SELECT|99999999999999999999", "-ERR value is not an integer or out of range"},
		{"SELECT", "-ERR wrong number of arguments for 'select' command"},
		{"SELECT|15", "+OK"},
		{"GET|k", "$fifteen"},
	})
	if info := r.Do("CLIENT", "INFO"); !strings.Contains(info, " db=15 ") {
		t.Errorf("CLIENT INFO after SELECT 15: %q", info)
	}
	// go-redis selects with its DB option.
	c := redis.NewClient(&redis.Options{Addr: s.Addr, DB: 15, Protocol: 3, DisableIndentity: true})
	defer c.Close()
	if v, err := c.Get(context.Background(), "k").Result(); err != nil || v != "fifteen" {
		t.Errorf("go-redis DB 15 GET = %q, %v", v, err)
	}
}

func helloReply(proto, id string, resp3 bool) string {
	body := "$server $redis $version $" + server.Version + " $proto :" + proto + " $id :" + id +
		" $mode $standalone $role $master $modules *[]"
	if resp3 {
		return "%[" + body + "]"
	}
	return "*[" + body + "]"
}

func TestConnHello(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	id := rawID(t, r)
	connExpect(t, r, [][2]string{
		{"HELLO", helloReply("2", id, false)},
		{"HELLO|3", helloReply("3", id, true)},
		// Later commands speak RESP3.
		{"GET|missing", "(nil)"},
		{"CLIENT|GETNAME", "(nil)"},
		{"HELLO", helloReply("3", id, true)},
		// Back to RESP2: HELLO 2's own reply is already RESP2.
		{"HELLO|2", helloReply("2", id, false)},
		{"HELLO|4", "-NOPROTO unsupported protocol version"},
		{"HELLO|1", "-NOPROTO unsupported protocol version"},
		{"HELLO|-1", "-NOPROTO unsupported protocol version"},
		{"HELLO|abc", "-ERR Protocol version is not an integer or out of range"},
		{"HELLO|3.0", "-ERR Protocol version is not an integer or out of range"},
		{"HELLO|3|foo", "-ERR Syntax error in HELLO option 'foo'"},
		{"HELLO|3|AUTH|default", "-ERR Syntax error in HELLO option 'AUTH'"},
		{"HELLO|3|SETNAME", "-ERR Syntax error in HELLO option 'SETNAME'"},
		{"HELLO|2|SETNAME|a|AUTH|x", "-ERR Syntax error in HELLO option 'AUTH'"},
		// An error leaves the protocol unchanged.
		{"HELLO", helloReply("2", id, false)},
		// Options apply in order: the SETNAME before the bad AUTH is done.
		{"CLIENT|GETNAME", "$a"},
		{"HELLO|3|SETNAME|bad name", "-ERR Client names cannot contain spaces, newlines or special characters."},
		{"CLIENT|GETNAME", "$a"},
		{"HELLO|3|setname|first|SETNAME|second", helloReply("3", id, true)},
		{"CLIENT|GETNAME", "$second"},
		// Without requirepass the default user accepts any password.
		{"HELLO|2|AUTH|default|anything", helloReply("2", id, false)},
		{"HELLO|2|AUTH|nobody|anything", "-WRONGPASS invalid username-password pair or user is disabled."},
	})
	if info := r.Do("CLIENT", "INFO"); !strings.Contains(info, " resp=2") || !strings.Contains(info, " name=second ") {
		t.Errorf("CLIENT INFO: %q", info)
	}
}

func TestConnHelloGoRedis(t *testing.T) {
	s := servertest.Start(t)
	ctx := context.Background()
	for _, p := range []int{2, 3} {
		c := s.Client(p)
		m, err := c.Do(ctx, "HELLO").Result()
		if err != nil {
			t.Fatalf("RESP%d HELLO: %v", p, err)
		}
		var proto any
		switch v := m.(type) {
		case map[any]any:
			proto = v["proto"]
		case []any:
			for i := 0; i+1 < len(v); i += 2 {
				if v[i] == "proto" {
					proto = v[i+1]
				}
			}
		}
		if proto != int64(p) {
			t.Errorf("RESP%d: HELLO proto = %v (%T) in %v", p, proto, proto, m)
		}
		info, err := c.ClientInfo(ctx).Result()
		if err != nil {
			t.Fatalf("RESP%d CLIENT INFO: %v", p, err)
		}
		if info.Resp != p || info.LastCmd != "client|info" || info.User != "default" || info.Redir != -1 || info.Multi != -1 {
			t.Errorf("RESP%d CLIENT INFO = %+v", p, info)
		}
		id, err := c.ClientID(ctx).Result()
		if err != nil || id != info.ID {
			t.Errorf("RESP%d CLIENT ID = %d, %v; info id %d", p, id, err, info.ID)
		}
	}
}

// recConn records what the server sends.
type recConn struct {
	net.Conn
	mu  *sync.Mutex
	buf *strings.Builder
}

func (c recConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.mu.Lock()
	c.buf.Write(p[:n])
	c.mu.Unlock()
	return n, err
}

// TestClientGoRedisIdentity lets go-redis send its own HELLO and CLIENT
// SETINFO pair and checks that no reply was an error.
func TestClientGoRedisIdentity(t *testing.T) {
	s := servertest.Start(t, requirePass("pw"))
	for _, p := range []int{2, 3} {
		var mu sync.Mutex
		var got strings.Builder
		c := redis.NewClient(&redis.Options{
			Addr: s.Addr, Protocol: p, Password: "pw", PoolSize: 1,
			Dialer: func(ctx context.Context, network, addr string) (net.Conn, error) {
				nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
				if err != nil {
					return nil, err
				}
				return recConn{Conn: nc, mu: &mu, buf: &got}, nil
			},
		})
		if err := c.Ping(context.Background()).Err(); err != nil {
			t.Fatalf("RESP%d PING: %v", p, err)
		}
		c.Close()
		mu.Lock()
		stream := got.String()
		mu.Unlock()
		if strings.Contains(stream, "\r\n-") || strings.HasPrefix(stream, "-") {
			t.Errorf("RESP%d: an error reply during the handshake: %q", p, stream)
		}
		if !strings.HasSuffix(stream, "+OK\r\n+OK\r\n+PONG\r\n") {
			t.Errorf("RESP%d: handshake replies %q, want HELLO, +OK +OK (SETINFO) and +PONG", p, stream)
		}
	}
}

func TestConnAuth(t *testing.T) {
	s := servertest.Start(t, requirePass("pw"))
	r := s.Raw()
	noauthHello := "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time"
	wrong := "-WRONGPASS invalid username-password pair or user is disabled."
	connExpect(t, r, [][2]string{
		{"PING", "-NOAUTH Authentication required."},
		{"CLIENT|ID", "-NOAUTH Authentication required."},
		{"CLIENT|GETNAME", "-NOAUTH Authentication required."},
		{"SELECT|1", "-NOAUTH Authentication required."},
		{"ECHO|x", "-NOAUTH Authentication required."},
		{"HELLO", noauthHello},
		{"HELLO|3", noauthHello},
		{"HELLO|3|SETNAME|x", noauthHello},
		{"HELLO|3|AUTH|default|bad", wrong},
		{"HELLO|3|AUTH|foo|pw", wrong},
		{"AUTH|bad", wrong},
		{"AUTH|foo|pw", wrong},
		{"AUTH|default|bad", wrong},
		{"AUTH|Default|pw", wrong},
		{"AUTH|a|b|c", "-ERR syntax error"},
		{"AUTH", "-ERR wrong number of arguments for 'auth' command"},
		{"PING", "-NOAUTH Authentication required."},
		{"AUTH|pw", "+OK"},
		{"PING", "+PONG"},
		// HELLO's SETNAME before the NOAUTH error was applied, as in Redis 7.0.
		{"CLIENT|GETNAME", "$x"},
		// A failed AUTH keeps the connection authenticated.
		{"AUTH|bad", wrong},
		{"PING", "+PONG"},
		// RESET de-authenticates.
		{"RESET", "+RESET"},
		{"PING", "-NOAUTH Authentication required."},
		{"AUTH|default|pw", "+OK"},
		{"PING", "+PONG"},
		{"RESET", "+RESET"},
	})
	r2 := s.Raw()
	connExpect(t, r2, [][2]string{
		// HELLO AUTH authenticates before SETNAME is checked.
		{"HELLO|3|AUTH|default|pw|SETNAME|a b", "-ERR Client names cannot contain spaces, newlines or special characters."},
		{"CLIENT|GETNAME", "(nil)"},
		{"QUIT", "+OK"},
	})
	r3 := s.Raw()
	id := strings.TrimPrefix(r3.Do("HELLO", "3", "AUTH", "default", "pw", "SETNAME", "named"), "%[$server")
	if !strings.Contains(id, "$proto :3 $id :") {
		t.Errorf("HELLO 3 AUTH: %q", id)
	}
	connExpect(t, r3, [][2]string{{"CLIENT|GETNAME", "$named"}, {"GET|x", "(nil)"}})

	// go-redis authenticates with HELLO AUTH in both protocols.
	ctx := context.Background()
	for _, p := range []int{2, 3} {
		c := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: p, Password: "pw", DisableIndentity: true})
		if err := c.Set(ctx, "k", "v", 0).Err(); err != nil {
			t.Errorf("RESP%d go-redis with password: %v", p, err)
		}
		c.Close()
		bad := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: p, Password: "nope", DisableIndentity: true})
		if err := bad.Ping(ctx).Err(); err == nil || !strings.HasPrefix(err.Error(), "WRONGPASS") {
			t.Errorf("RESP%d go-redis with a wrong password: %v", p, err)
		}
		bad.Close()
	}
}

func TestConnAuthNoPassword(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	connExpect(t, r, [][2]string{
		{"AUTH|x", "-ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?"},
		{"AUTH|default|x", "+OK"},
		{"AUTH|foo|x", "-WRONGPASS invalid username-password pair or user is disabled."},
		{"RESET", "+RESET"},
		{"PING", "+PONG"},
	})
}

func TestConnQuit(t *testing.T) {
	s := servertest.Start(t, requirePass("pw"))
	// QUIT needs no authentication and accepts arguments.
	r := s.Raw()
	if got := r.Do("QUIT", "x", "y"); got != "+OK" {
		t.Fatalf("QUIT = %q", got)
	}
	expectEOF(t, r)

	// Commands pipelined after QUIT are not run.
	r2 := s.Raw()
	connExpect(t, r2, [][2]string{{"AUTH|pw", "+OK"}})
	r2.Write([]byte("SET after 1\r\nQUIT\r\nSET after 2\r\nPING\r\n"))
	for _, want := range []string{"+OK", "+OK"} {
		if got := r2.ReadReply(); got != want {
			t.Fatalf("pipelined reply %q, want %q", got, want)
		}
	}
	expectEOF(t, r2)
	r3 := s.Raw()
	connExpect(t, r3, [][2]string{{"AUTH|pw", "+OK"}, {"GET|after", "$1"}})

	// With replies off, QUIT closes silently.
	r3.Send("CLIENT", "REPLY", "OFF")
	r3.Send("QUIT")
	expectEOF(t, r3)
}

func TestConnReset(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	id := rawID(t, r)
	connExpect(t, r, [][2]string{
		{"SELECT|3", "+OK"},
		{"CLIENT|SETNAME|before", "+OK"},
		{"CLIENT|NO-EVICT|on", "+OK"},
		{"CLIENT|NO-TOUCH|on", "+OK"},
		{"HELLO|3", helloReply("3", id, true)},
	})
	info := r.Do("CLIENT", "INFO")
	for _, f := range []string{" name=before ", " flags=eT ", " db=3 ", " resp=3"} {
		if !strings.Contains(info, f) {
			t.Errorf("before RESET: %q lacks %q", info, f)
		}
	}
	r.Send("CLIENT", "REPLY", "OFF")
	connExpect(t, r, [][2]string{
		// RESET turns replies back on and answers.
		{"RESET", "+RESET"},
		{"CLIENT|GETNAME", "(nil)"},
		{"GET|missing", "(nil)"},
		{"CLIENT|ID", ":" + id},
	})
	info = r.Do("CLIENT", "INFO")
	for _, f := range []string{" name= ", " flags=N ", " db=0 ", " resp=2"} {
		if !strings.Contains(info, f) {
			t.Errorf("after RESET: %q lacks %q", info, f)
		}
	}
	if got := r.Do("RESET", "x"); got != "-ERR wrong number of arguments for 'reset' command" {
		t.Errorf("RESET x = %q", got)
	}
	// A RESET silenced by CLIENT REPLY SKIP stays silent.
	r.Send("CLIENT", "REPLY", "SKIP")
	r.Send("RESET")
	connExpect(t, r, [][2]string{{"ECHO|next", "$next"}})
}

var clientLineRE = regexp.MustCompile(`^id=(\d+) addr=(\S+) laddr=(\S+) fd=\d+ name=(\S*) age=\d+ idle=\d+ flags=([A-Za-z]+) db=\d+ sub=\d+ psub=\d+ ssub=\d+ multi=-?\d+ qbuf=\d+ qbuf-free=\d+ argv-mem=\d+ multi-mem=\d+ rbs=\d+ rbp=\d+ obl=\d+ oll=\d+ omem=\d+ tot-mem=\d+ events=rw? cmd=(\S+) user=default redir=-1 resp=[23]$`)

// clientLines splits a CLIENT LIST/INFO reply ("$text" or, under RESP3,
// "$txt:text") into lines, checking the format of each.
func clientLines(t *testing.T, reply string) []string {
	t.Helper()
	if !strings.HasPrefix(reply, "$") {
		t.Fatalf("not a bulk reply: %q", reply)
	}
	text := strings.TrimPrefix(reply[1:], "txt:")
	if text == "" {
		return nil
	}
	if !strings.HasSuffix(text, "\n") {
		t.Fatalf("reply does not end with a newline: %q", text)
	}
	lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
	for _, l := range lines {
		if !clientLineRE.MatchString(l) {
			t.Errorf("line not in Redis 7.0 format: %q", l)
		}
	}
	return lines
}

func field(line, key string) string {
	for _, f := range strings.Fields(line) {
		if k, v, ok := strings.Cut(f, "="); ok && k == key {
			return v
		}
	}
	return "<missing>"
}

func TestClientIDNameInfo(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	id := rawID(t, r)
	bad := "-ERR Client names cannot contain spaces, newlines or special characters."
	connExpect(t, r, [][2]string{
		{"CLIENT|GETNAME", "(nil)"},
		{"CLIENT|SETNAME|a b", bad},
		{"CLIENT|SETNAME|a\nb", bad},
		{"CLIENT|SETNAME|é", bad},
		{"CLIENT|SETNAME|a\x7f", bad},
		{"CLIENT|SETNAME|x|y", "-ERR wrong number of arguments for 'client|setname' command"},
		{"CLIENT|SETNAME|a~z!{}", "+OK"},
		{"client|getname", "$a~z!{}"},
		{"CLIENT|SETNAME|", "+OK"},
		{"CLIENT|GETNAME", "(nil)"},
		{"CLIENT|SETNAME|conn-1", "+OK"},
		{"CLIENT|ID|x", "-ERR wrong number of arguments for 'client|id' command"},
		{"CLIENT|INFO|x", "-ERR wrong number of arguments for 'client|info' command"},
		{"CLIENT", "-ERR wrong number of arguments for 'client' command"},
		{"CLIENT|foo", "-ERR unknown subcommand 'foo'. Try CLIENT HELP."},
	})
	lines := clientLines(t, r.Do("CLIENT", "INFO"))
	if len(lines) != 1 {
		t.Fatalf("CLIENT INFO: %q", lines)
	}
	l := lines[0]
	want := map[string]string{
		"id": id, "addr": r.LocalAddr().String(), "laddr": s.Addr, "name": "conn-1",
		"flags": "N", "db": "0", "cmd": "client|info", "resp": "2", "multi": "-1",
		"events": "r", "argv-mem": "10", "qbuf": "26", "sub": "0",
	}
	for k, v := range want {
		if got := field(l, k); got != v {
			t.Errorf("CLIENT INFO %s=%s, want %s (%q)", k, got, v, l)
		}
	}
	// RESP3: a verbatim string.
	r.Do("HELLO", "3")
	if got := r.Do("CLIENT", "INFO"); !strings.HasPrefix(got, "$txt:id="+id+" ") || field(clientLines(t, got)[0], "resp") != "3" {
		t.Errorf("RESP3 CLIENT INFO = %q", got)
	}
	r.Send("CLIENT", "INFO")
	raw, _ := r.R.ReadString('\n')
	if !strings.HasPrefix(raw, "=") {
		t.Errorf("RESP3 CLIENT INFO type byte: %q", raw)
	}
	r.R.ReadString('\n')

	// go-redis parses every field.
	ctx := context.Background()
	c := s.Client(3).Conn()
	defer c.Close()
	if err := c.ClientSetName(ctx, "gr").Err(); err != nil {
		t.Fatal(err)
	}
	info, err := c.ClientInfo(ctx).Result()
	if err != nil || info.Name != "gr" || info.DB != 0 || info.Resp != 3 {
		t.Errorf("go-redis ClientInfo = %+v, %v", info, err)
	}
	if name, err := c.ClientGetName(ctx).Result(); err != nil || name != "gr" {
		t.Errorf("go-redis ClientGetName = %q, %v", name, err)
	}
}

func TestClientList(t *testing.T) {
	s := servertest.Start(t)
	a, b, fresh := s.Raw(), s.Raw(), s.Raw()
	idA, idB := rawID(t, a), rawID(t, b)
	connExpect(t, a, [][2]string{{"CLIENT|SETNAME|alpha", "+OK"}})
	connExpect(t, b, [][2]string{{"CLIENT|SETNAME|beta", "+OK"}, {"SELECT|5", "+OK"}})
	// fresh has sent nothing; wait until it is accepted.
	waitUntil(t, "three clients", func() bool { return len(clientLines(t, a.Do("CLIENT", "LIST"))) == 3 })
	_ = fresh

	lines := clientLines(t, a.Do("CLIENT", "LIST"))
	if len(lines) != 3 {
		t.Fatalf("CLIENT LIST: %q", lines)
	}
	// Creation order.
	if field(lines[0], "id") != idA || field(lines[1], "id") != idB {
		t.Errorf("order: %q", lines)
	}
	if got := field(lines[0], "cmd"); got != "client|list" {
		t.Errorf("caller cmd=%s", got)
	}
	if got := field(lines[1], "cmd") + " " + field(lines[1], "name") + " " + field(lines[1], "db"); got != "select beta 5" {
		t.Errorf("other client: %s (%q)", got, lines[1])
	}
	if got := field(lines[1], "addr"); got != b.LocalAddr().String() {
		t.Errorf("other addr=%s, want %s", got, b.LocalAddr())
	}
	if got := field(lines[2], "cmd"); got != "NULL" {
		t.Errorf("fresh client cmd=%s", got)
	}
	if got := clientLines(t, a.Do("CLIENT", "LIST", "TYPE", "normal")); len(got) != 3 {
		t.Errorf("TYPE normal: %q", got)
	}
	for _, typ := range []string{"pubsub", "master", "replica", "SLAVE"} {
		if got := a.Do("CLIENT", "LIST", "TYPE", typ); got != "$" {
			t.Errorf("TYPE %s: %q", typ, got)
		}
	}
	// ID keeps the order given and skips unknown ids.
	got := clientLines(t, a.Do("CLIENT", "LIST", "ID", idB, "999999", idA, "-1"))
	if len(got) != 2 || field(got[0], "id") != idB || field(got[1], "id") != idA {
		t.Errorf("ID filter: %q", got)
	}
	connExpect(t, a, [][2]string{
		{"CLIENT|LIST|TYPE|foo", "-ERR Unknown client type 'foo'"},
		{"CLIENT|LIST|TYPE", "-ERR syntax error"},
		{"CLIENT|LIST|ID", "-ERR syntax error"},
		{"CLIENT|LIST|ID|abc", "-ERR Invalid client ID"},
		{"CLIENT|LIST|ID|1|TYPE|normal", "-ERR Invalid client ID"},
		{"CLIENT|LIST|TYPE|normal|ID|1", "-ERR syntax error"},
		{"CLIENT|LIST|foo", "-ERR syntax error"},
		{"CLIENT|LIST|ID|999999", "$"},
	})
	a.Do("HELLO", "3")
	if got := a.Do("CLIENT", "LIST", "ID", "999999"); got != "$txt:" {
		t.Errorf("RESP3 empty CLIENT LIST = %q", got)
	}

	// go-redis parses CLIENT LIST lines too.
	c := s.Client(2)
	list, err := c.ClientList(context.Background()).Result()
	if err != nil || !strings.Contains(list, "name=alpha") {
		t.Errorf("go-redis ClientList = %q, %v", list, err)
	}
}

func TestClientKill(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	a := s.Raw()
	idA := rawID(t, a)
	connExpect(t, a, [][2]string{
		{"CLIENT|KILL|1.2.3.4:5", "-ERR No such client"},
		{"CLIENT|KILL|ID|abc", "-ERR client-id should be greater than 0"},
		{"CLIENT|KILL|ID|0", "-ERR client-id should be greater than 0"},
		{"CLIENT|KILL|ID|-5", "-ERR client-id should be greater than 0"},
		{"CLIENT|KILL|ID|99999999999999999999", "-ERR client-id should be greater than 0"},
		{"CLIENT|KILL|ID|9223372036854775807", ":0"},
		{"CLIENT|KILL|TYPE|foo", "-ERR Unknown client type 'foo'"},
		{"CLIENT|KILL|TYPE|foo|ID|0", "-ERR Unknown client type 'foo'"},
		{"CLIENT|KILL|USER|nouser", "-ERR No such user 'nouser'"},
		{"CLIENT|KILL|ID|999|SKIPME|maybe", "-ERR syntax error"},
		{"CLIENT|KILL|ADDR|1.2.3.4:5|ID", "-ERR syntax error"},
		{"CLIENT|KILL|foo|bar", "-ERR syntax error"},
		{"CLIENT|KILL|ADDR", "-ERR No such client"},
		{"CLIENT|KILL|ADDR|1.2.3.4:5", ":0"},
		{"CLIENT|KILL|LADDR|1.2.3.4:5", ":0"},
		// The caller is skipped by default.
		{"CLIENT|KILL|ID|" + idA, ":0"},
		{"CLIENT|KILL|TYPE|normal", ":0"},
		{"CLIENT|KILL|USER|default", ":0"},
		{"CLIENT", "-ERR wrong number of arguments for 'client' command"},
		{"CLIENT|KILL", "-ERR wrong number of arguments for 'client|kill' command"},
	})

	// By ID.
	b := s.Raw()
	idB := rawID(t, b)
	connExpect(t, a, [][2]string{{"CLIENT|KILL|ID|" + idB, ":1"}, {"CLIENT|LIST|ID|" + idB, "$"}})
	expectEOF(t, b)

	// Old form, by address.
	c := s.Raw()
	rawID(t, c)
	connExpect(t, a, [][2]string{{"CLIENT|KILL|" + c.LocalAddr().String(), "+OK"}})
	expectEOF(t, c)

	// ADDR, LADDR, USER, TYPE filters combined.
	d := s.Raw()
	rawID(t, d)
	connExpect(t, a, [][2]string{
		{"CLIENT|KILL|ADDR|" + d.LocalAddr().String() + "|LADDR|1.2.3.4:5", ":0"},
		{"CLIENT|KILL|addr|" + d.LocalAddr().String() + "|laddr|" + s.Addr + "|user|default|type|normal|skipme|yes", ":1"},
	})
	expectEOF(t, d)

	// Everybody but the caller.
	e, f := s.Raw(), s.Raw()
	rawID(t, e)
	rawID(t, f)
	connExpect(t, a, [][2]string{{"CLIENT|KILL|LADDR|" + s.Addr, ":2"}, {"PING", "+PONG"}})
	expectEOF(t, e)
	expectEOF(t, f)
	if lines := clientLines(t, a.Do("CLIENT", "LIST")); len(lines) != 1 {
		t.Errorf("after killing the others: %q", lines)
	}

	// SKIPME no kills the caller after its reply; the old form too.
	a.Send("CLIENT", "KILL", "ID", idA, "SKIPME", "no")
	a.Send("PING")
	if got := a.ReadReply(); got != ":1" {
		t.Errorf("self kill = %q", got)
	}
	expectEOF(t, a)
	g := s.Raw()
	if got := g.Do("CLIENT", "KILL", g.LocalAddr().String()); got != "+OK" {
		t.Errorf("old-form self kill = %q", got)
	}
	expectEOF(t, g)

	// go-redis.
	h := s.Raw()
	idH, _ := strconv.ParseInt(rawID(t, h), 10, 64)
	n, err := s.Client(3).ClientKillByFilter(context.Background(), "ID", fmt.Sprint(idH)).Result()
	if err != nil || n != 1 {
		t.Errorf("go-redis ClientKillByFilter = %d, %v", n, err)
	}
	expectEOF(t, h)
}

func TestClientReply(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	// OFF: nothing is answered until ON, whose +OK is the next reply.
	r.Send("CLIENT", "REPLY", "OFF")
	r.Send("SET", "k", "v")
	r.Send("GET", "k")
	r.Send("CLIENT", "REPLY", "SKIP") // no effect while OFF
	r.Send("CLIENT", "REPLY", "foo")  // its error is not sent either
	r.Send("NOSUCHCOMMAND")
	connExpect(t, r, [][2]string{{"CLIENT|REPLY|ON", "+OK"}, {"GET|k", "$v"}})

	// SKIP silences exactly the next command.
	r.Send("CLIENT", "REPLY", "SKIP")
	r.Send("ECHO", "skipped")
	connExpect(t, r, [][2]string{{"ECHO|shown", "$shown"}})
	r.Send("CLIENT", "REPLY", "SKIP")
	r.Send("CLIENT", "REPLY", "foo")
	connExpect(t, r, [][2]string{{"PING", "+PONG"}})
	// SKIP then SKIP: the second is skipped and skips the next.
	r.Send("CLIENT", "REPLY", "SKIP")
	r.Send("CLIENT", "REPLY", "SKIP")
	r.Send("ECHO", "skipped")
	connExpect(t, r, [][2]string{{"ECHO|shown", "$shown"}})
	// ON answers even when it is the skipped command.
	r.Send("CLIENT", "REPLY", "SKIP")
	connExpect(t, r, [][2]string{{"CLIENT|REPLY|ON", "+OK"}, {"PING", "+PONG"}})
	connExpect(t, r, [][2]string{
		{"CLIENT|REPLY|foo", "-ERR syntax error"},
		{"CLIENT|REPLY", "-ERR wrong number of arguments for 'client|reply' command"},
		{"CLIENT|REPLY|ON", "+OK"},
	})
	// All in one pipeline.
	r.Write([]byte("CLIENT REPLY OFF\r\nPING\r\nCLIENT REPLY ON\r\nCLIENT REPLY SKIP\r\nPING\r\nECHO last\r\n"))
	for _, want := range []string{"+OK", "$last"} {
		if got := r.ReadReply(); got != want {
			t.Errorf("pipelined: %q, want %q", got, want)
		}
	}
}

func TestClientPause(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	a, b := s.Raw(), s.Raw()
	idB := rawID(t, b)
	connExpect(t, a, [][2]string{
		{"CLIENT|PAUSE|abc", "-ERR timeout is not an integer or out of range"},
		{"CLIENT|PAUSE|1.5", "-ERR timeout is not an integer or out of range"},
		{"CLIENT|PAUSE|-1", "-ERR timeout is negative"},
		{"CLIENT|PAUSE|10|foo", "-ERR CLIENT PAUSE mode must be WRITE or ALL"},
		{"CLIENT|PAUSE|abc|foo", "-ERR CLIENT PAUSE mode must be WRITE or ALL"},
		{"CLIENT|pause|10|write|x", "-ERR unknown subcommand or wrong number of arguments for 'pause'. Try CLIENT HELP."},
		{"CLIENT|UNPAUSE|x", "-ERR wrong number of arguments for 'client|unpause' command"},
		{"CLIENT|PAUSE|0", "+OK"},
		{"PING", "+PONG"},
		{"CLIENT|PAUSE|100000000|WRITE", "+OK"},
	})
	// b's SET waits; a can still read and sees no write happened.
	b.Send("SET", "k", "v")
	waitUntil(t, "the SET to be held", func() bool {
		return field(clientLines(t, a.Do("CLIENT", "LIST", "ID", idB))[0], "cmd") == "set"
	})
	connExpect(t, a, [][2]string{
		{"GET|k", "(nil)"},
		{"CLIENT|UNPAUSE", "+OK"},
	})
	if got := b.ReadReply(); got != "+OK" {
		t.Errorf("held SET = %q", got)
	}
	connExpect(t, a, [][2]string{{"GET|k", "$v"}, {"CLIENT|UNPAUSE", "+OK"}})

	// ALL holds every command until the pause ends.
	connExpect(t, a, [][2]string{{"CLIENT|PAUSE|20|ALL", "+OK"}})
	connExpect(t, b, [][2]string{{"PING", "+PONG"}})
}

func TestClientUnblock(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	id := rawID(t, r)
	connExpect(t, r, [][2]string{
		{"CLIENT|UNBLOCK|abc", "-ERR value is not an integer or out of range"},
		{"CLIENT|UNBLOCK|abc|foo", "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"},
		{"CLIENT|UNBLOCK|12345|foo", "-ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"},
		{"CLIENT|UNBLOCK|12345|error|x", "-ERR unknown subcommand or wrong number of arguments for 'UNBLOCK'. Try CLIENT HELP."},
		{"CLIENT|UNBLOCK", "-ERR wrong number of arguments for 'client|unblock' command"},
		{"CLIENT|UNBLOCK|12345", ":0"},
		{"CLIENT|UNBLOCK|-3", ":0"},
		{"CLIENT|UNBLOCK|" + id, ":0"},
		{"CLIENT|UNBLOCK|" + id + "|TIMEOUT", ":0"},
		{"CLIENT|UNBLOCK|" + id + "|error", ":0"},
	})
}

func TestClientMisc(t *testing.T) {
	s := servertest.Start(t)
	r := s.Raw()
	connExpect(t, r, [][2]string{
		{"CLIENT|GETREDIR", ":-1"},
		{"CLIENT|TRACKINGINFO", "*[$flags *[$off] $redirect :-1 $prefixes *[]]"},
		{"CLIENT|NO-EVICT|maybe", "-ERR syntax error"},
		{"CLIENT|NO-EVICT|ON", "+OK"},
		{"CLIENT|NO-EVICT|off", "+OK"},
		{"CLIENT|NO-TOUCH|maybe", "-ERR syntax error"},
		{"CLIENT|NO-TOUCH|on", "+OK"},
		{"CLIENT|NO-TOUCH|OFF", "+OK"},
		{"CLIENT|SETINFO|lib-name|redis-py(2.0)", "+OK"},
		{"CLIENT|SETINFO|LIB-VER|1.2.3", "+OK"},
		{"CLIENT|SETINFO|lib-name|a b", "-ERR lib-name cannot contain spaces, newlines or special characters."},
		{"CLIENT|SETINFO|LIB-VER|a\nb", "-ERR LIB-VER cannot contain spaces, newlines or special characters."},
		{"CLIENT|SETINFO|foo|x", "-ERR Unrecognized option 'foo'"},
		{"CLIENT|SETINFO|lib-name", "-ERR wrong number of arguments for 'client|setinfo' command"},
		{"CLIENT|HELP|x", "-ERR wrong number of arguments for 'client|help' command"},
	})
	help := r.Do("CLIENT", "HELP")
	if !strings.HasPrefix(help, "*[+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are: +CACHING (YES|NO) ") ||
		!strings.HasSuffix(help, " +NO-EVICT (ON|OFF) +    Protect current client connection from eviction. +HELP +    Prints this help.]") ||
		strings.Count(help, " +") != 47 {
		t.Errorf("CLIENT HELP = %q", help)
	}
	r.Do("HELLO", "3")
	connExpect(t, r, [][2]string{
		{"CLIENT|TRACKINGINFO", "%[$flags ~[$off] $redirect :-1 $prefixes *[]]"},
		{"CLIENT|GETNAME", "(nil)"},
	})
	if got := r.Do("CLIENT", "HELP"); got != help {
		t.Errorf("RESP3 CLIENT HELP differs: %q", got)
	}
	// NO-TOUCH: reads do not update the access time (OBJECT IDLETIME is
	// another family's; check the flag instead).
	connExpect(t, r, [][2]string{{"CLIENT|NO-TOUCH|on", "+OK"}})
	if f := field(clientLines(t, r.Do("CLIENT", "INFO"))[0], "flags"); f != "T" {
		t.Errorf("flags with NO-TOUCH = %q", f)
	}
}

// TestConnCompareRedis sends the same commands to kvd and to a real
// redis-server and compares the replies byte by byte.
func TestConnCompareRedis(t *testing.T) {
	for _, pass := range []string{"", "pw"} {
		var args []string
		opts := []func(*server.Config){}
		if pass != "" {
			args = append(args, "--requirepass", pass)
			opts = append(opts, requirePass(pass))
		}
		rc, err := net.Dial("unix", redistest.Start(t, args...))
		if err != nil {
			t.Fatal(err)
		}
		s := servertest.Start(t, opts...)
		kc, err := net.Dial("tcp", s.Addr)
		if err != nil {
			t.Fatal(err)
		}
		rr, kr := bufio.NewReader(rc), bufio.NewReader(kc)
		send := func(c net.Conn, args []string) {
			b := fmt.Appendf(nil, "*%d\r\n", len(args))
			for _, a := range args {
				b = fmt.Appendf(b, "$%d\r\n%s\r\n", len(a), a)
			}
			c.Write(b)
		}
		cmds := connCompareNoPass
		if pass != "" {
			cmds = connComparePass
		}
		for _, line := range cmds {
			args := splitArgs(line)
			noReply := strings.HasPrefix(line, "!")
			if noReply {
				args = splitArgs(line[1:])
			}
			send(rc, args)
			send(kc, args)
			if noReply {
				continue
			}
			rc.SetReadDeadline(time.Now().Add(5 * time.Second))
			kc.SetReadDeadline(time.Now().Add(5 * time.Second))
			want, err1 := redistest.ReadRaw(rr)
			got, err2 := redistest.ReadRaw(kr)
			if err1 != nil || err2 != nil {
				t.Fatalf("%q: redis %v, kvd %v", line, err1, err2)
			}
			got, want = helloIDRE.ReplaceAllString(got, "$$2\r\nid\r\n:ID\r\n"), helloIDRE.ReplaceAllString(want, "$$2\r\nid\r\n:ID\r\n")
			if got != want {
				t.Errorf("requirepass=%q %q:\n kvd   %q\n redis %q", pass, line, got, want)
			}
		}
		rc.Close()
		kc.Close()
	}
}

var helloIDRE = regexp.MustCompile(`\$2\r\nid\r\n:\d+\r\n`)

// Commands whose replies do not depend on ids, addresses or time (HELLO's
// id is masked). A leading '!' marks a command that gets no reply.
var connCompareNoPass = []string{
	"PING", "PING|x", "PING|a|b", "ECHO|hi", "ECHO", "ECHO|a|b",
	"SELECT|15", "SELECT|16", "SELECT|-1", "SELECT|x", "SELECT|01", "SELECT|99999999999", "SELECT|99999999999999999999", "SELECT|0",
	"AUTH|x", "AUTH|default|x", "AUTH|foo|x", "AUTH|a|b|c", "AUTH",
	"HELLO|4", "HELLO|0", "HELLO|abc", "HELLO|3.0", "HELLO|2|foo", "HELLO|2|AUTH|a", "HELLO|2|AUTH|foo|x",
	"HELLO|3|SETNAME|a b", "HELLO|2|SETNAME", "HELLO|2|SETNAME|a|AUTH|x",
	"CLIENT", "CLIENT|foo", "CLIENT|HELP", "CLIENT|HELP|x", "CLIENT|id|x", "CLIENT|INFO|x",
	"CLIENT|GETNAME", "CLIENT|SETNAME|a b", "CLIENT|SETNAME|é", "CLIENT|SETNAME|a~z!", "CLIENT|GETNAME", "CLIENT|SETNAME|", "CLIENT|GETNAME",
	"CLIENT|SETNAME|x|y", "CLIENT|NO-EVICT|maybe", "CLIENT|NO-EVICT|ON", "CLIENT|NO-EVICT|off", "CLIENT|REPLY|foo", "CLIENT|REPLY",
	"CLIENT|PAUSE|abc", "CLIENT|PAUSE|-1", "CLIENT|PAUSE|10|foo", "CLIENT|PAUSE|abc|foo", "CLIENT|PAUSE|10|write|x", "CLIENT|pause|10|write|x",
	"CLIENT|PAUSE|0", "CLIENT|UNPAUSE", "CLIENT|UNPAUSE|x",
	"CLIENT|UNBLOCK|abc", "CLIENT|UNBLOCK|abc|foo", "CLIENT|UNBLOCK|12345", "CLIENT|UNBLOCK|12345|TIMEOUT", "CLIENT|UNBLOCK|12345|error|x", "CLIENT|UNBLOCK|-3",
	"CLIENT|LIST|TYPE|foo", "CLIENT|LIST|TYPE", "CLIENT|LIST|ID|abc", "CLIENT|LIST|ID|999|998", "CLIENT|LIST|ID", "CLIENT|LIST|foo",
	"CLIENT|LIST|TYPE|pubsub", "CLIENT|LIST|TYPE|master", "CLIENT|LIST|TYPE|slave", "CLIENT|LIST|ID|1|abc", "CLIENT|LIST|ID|1|TYPE|normal", "CLIENT|LIST|TYPE|NORMAL|ID|1",
	"CLIENT|KILL|1.2.3.4:5", "CLIENT|KILL|ID|abc", "CLIENT|KILL|ID|0", "CLIENT|KILL|ID|99999999999999999999", "CLIENT|KILL|ID|9223372036854775807",
	"CLIENT|KILL|ID|999|SKIPME|maybe", "CLIENT|KILL|TYPE|foo", "CLIENT|KILL|TYPE|foo|ID|0", "CLIENT|KILL|USER|nouser", "CLIENT|KILL|ADDR",
	"CLIENT|KILL|ADDR|1.2.3.4:5|ID", "CLIENT|KILL|foo|bar", "CLIENT|KILL|ADDR|1.2.3.4:5", "CLIENT|KILL|LADDR|1.2.3.4:5", "CLIENT|KILL",
	"CLIENT|GETREDIR", "CLIENT|TRACKINGINFO",
	"HELLO|3", "CLIENT|GETNAME", "CLIENT|TRACKINGINFO", "CLIENT|LIST|ID|999", "CLIENT|HELP", "ECHO|x",
	"!CLIENT|REPLY|OFF", "!PING", "!CLIENT|REPLY|SKIP", "CLIENT|REPLY|ON",
	"!CLIENT|REPLY|SKIP", "!PING", "CLIENT|REPLY|ON", "!CLIENT|REPLY|SKIP", "!CLIENT|REPLY|foo", "PING",
	"!CLIENT|REPLY|OFF", "RESET", "HELLO|2|SETNAME|a|AUTH|x", "CLIENT|GETNAME", "HELLO|2|AUTH|default|x|SETNAME|b", "CLIENT|GETNAME", "GET|missing", "CLIENT|TRACKINGINFO", "RESET|x", "QUIT|x",
}

var connComparePass = []string{
	"PING", "HELLO", "HELLO|3", "HELLO|3|SETNAME|x", "HELLO|3|SETNAME|a b|AUTH|default|pw", "HELLO|3|AUTH|default|pw|SETNAME|a b", "RESET", "AUTH|pw", "CLIENT|GETNAME", "RESET", "HELLO|3|AUTH|default|bad", "HELLO|3|AUTH|foo|pw",
	"CLIENT|ID", "AUTH|bad", "AUTH|foo|pw", "AUTH|a|b|c", "SELECT|1", "ECHO|x",
	"HELLO|3|AUTH|default|pw|SETNAME|a b", "CLIENT|GETNAME", "PING",
	"!CLIENT|REPLY|OFF", "RESET", "PING", "AUTH|pw", "HELLO|3|AUTH|default|pw", "HELLO|2|AUTH|default|bad", "PING", "HELLO", "PING", "RESET", "AUTH|default|pw", "QUIT",
}

func TestConnResetMonitor(t *testing.T) {
	s := servertest.Start(t)
	a, b := s.Raw(), s.Raw()
	idA := rawID(t, a)
	connExpect(t, a, [][2]string{{"MONITOR", "+OK"}})
	if f := field(clientLines(t, b.Do("CLIENT", "LIST", "ID", idA))[0], "flags"); f != "O" {
		t.Errorf("monitor flags=%s", f)
	}
	connExpect(t, b, [][2]string{{"ECHO|seen", "$seen"}})
	if got := a.ReadReply(); !strings.HasSuffix(got, `"ECHO" "seen"`) {
		t.Fatalf("monitor line %q", got)
	}
	connExpect(t, a, [][2]string{{"RESET", "+RESET"}})
	// b's command is fed to monitors before b gets its reply: had a still
	// been a monitor, the line would come before a's PONG.
	connExpect(t, b, [][2]string{{"ECHO|unseen", "$unseen"}})
	connExpect(t, a, [][2]string{{"PING", "+PONG"}})
	if f := field(clientLines(t, b.Do("CLIENT", "LIST", "ID", idA))[0], "flags"); f != "N" {
		t.Errorf("flags after RESET=%s", f)
	}
}

// TestConnAuthRedacted: AUTH and HELLO AUTH secrets never reach MONITOR or
// the slow log, as in Redis ("(redacted)").
func TestConnAuthRedacted(t *testing.T) {
	s := servertest.Start(t, requirePass("pw"), func(c *server.Config) {
		if err := c.Set("slowlog-log-slower-than", "0", false); err != nil {
			panic(err)
		}
	})
	mon, r := s.Raw(), s.Raw()
	connExpect(t, mon, [][2]string{{"AUTH|pw", "+OK"}, {"MONITOR", "+OK"}})
	connExpect(t, r, [][2]string{
		{"AUTH|pw", "+OK"},
		{"AUTH|default|pw", "+OK"},
		{"AUTH|a|b|c", "-ERR syntax error"},
	})
	if got := r.Do("HELLO", "2", "SETNAME", "n", "AUTH", "default", "pw"); !strings.HasPrefix(got, "*[$server") {
		t.Fatalf("HELLO: %q", got)
	}
	connExpect(t, r, [][2]string{{"HELLO|2|foo|AUTH|default|pw", "-ERR Syntax error in HELLO option 'foo'"}})
	want := []string{
		`"AUTH" "(redacted)"`,
		`"AUTH" "(redacted)" "(redacted)"`,
		`"AUTH" "a" "b" "c"`,
		`"HELLO" "2" "SETNAME" "n" "AUTH" "(redacted)" "(redacted)"`,
		`"HELLO" "2" "foo" "AUTH" "default" "pw"`,
	}
	for _, w := range want {
		if got := mon.ReadReply(); !strings.HasSuffix(got, "] "+w) {
			t.Errorf("monitor line %q, want ... %s", got, w)
		}
	}
	log := r.Do("SLOWLOG", "GET", "5")
	for _, w := range []string{
		"*[$HELLO $2 $foo $AUTH $default $pw]",
		"*[$HELLO $2 $SETNAME $n $AUTH $(redacted) $(redacted)]",
		"*[$AUTH $a $b $c]",
		"*[$AUTH $(redacted) $(redacted)]",
		"*[$AUTH $(redacted)]",
	} {
		if !strings.Contains(log, w) {
			t.Errorf("slow log lacks %s: %s", w, log)
		}
	}
}
