package server_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
)

// TestProtoDiffFuzz sends the same malformed and well-formed byte streams
// to kvd and to redis-server 7.0.15, half-closes the connection, and
// compares everything each server writes back before it closes: replies,
// protocol errors and where the stream stops being answered. The streams
// are glued from fragments (good multibulk and inline commands, broken
// counts and lengths, quotes, stray CR/LF, NULs, long lines) and then
// mutated byte-wise. Commands are stateless (PING, ECHO, EXISTS, GET of a
// missing key), so every case starts from the same place.
//
// KVD_PROTOFUZZ_N cases (default 1,500), seed KVD_PROTOFUZZ_SEED (1).
func TestProtoDiffFuzz(t *testing.T) {
	n, seed := fuzzEnv("KVD_PROTOFUZZ", 1500)
	sock := redistest.Start(t)
	srv := servertest.Start(t, servertest.Workers(2))
	r := rand.New(rand.NewPCG(seed, 99))
	bad, perr, replies := 0, 0, 0
	for i := 0; i < n && bad < 10; i++ {
		in := protoFuzzInput(r)
		a, errA := protoFuzzExchange("tcp", srv.Addr, in)
		b, errB := protoFuzzExchange("unix", sock, in)
		if errA != nil || errB != nil {
			t.Fatalf("case %d %q: kvd %v, redis %v", i, in, errA, errB)
		}
		// A glued stream can spell HELLO: client IDs are each server's own.
		a, b = protoFuzzID.ReplaceAllString(a, "id:N"), protoFuzzID.ReplaceAllString(b, "id:N")
		if strings.Contains(b, "-ERR Protocol error") {
			perr++
		}
		if strings.Contains(b, "+PONG") || strings.Contains(b, "$2\r\nhi") {
			replies++
		}
		if a != b {
			bad++
			t.Errorf("case %d: input %q\n  kvd:   %q\n  redis: %q", i, in, a, b)
		}
	}
	t.Logf("%d cases: %d ended in a protocol error, %d had PONG or hi replies; %d differed", n, perr, replies, bad)
	if perr == 0 || replies == 0 {
		t.Errorf("the generator reached no protocol error or no reply")
	}
}

var protoFuzzID = regexp.MustCompile(`\$2\r\nid\r\n:[0-9]+`)

// protoFuzzFrags are the pieces inputs are glued from.
var protoFuzzFrags = []string{
	"*1\r\n$4\r\nPING\r\n", "*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n", "*2\r\n$6\r\nEXISTS\r\n$1\r\nx\r\n",
	"*2\r\n$3\r\nGET\r\n$7\r\nmissing\r\n", "PING\r\n", "ECHO hello\r\n", "ECHO \"a b\"\r\n",
	"ECHO 'it''s'\r\n", "ECHO \"\\x41\\n\"\r\n", "EXISTS x y\r\n", "ping\n", "\r\n", "\n", " \r\n",
	"*0\r\n", "*-1\r\n", "*-5\r\n", "*abc\r\n", "*1048576\r\n", "*1048577\r\n", "*\r\n", "*1\r\n",
	"$4\r\nPING\r\n", "$-1\r\n", "$536870912\r\n", "$536870913\r\n", "$abc\r\n", "$\r\n", "*1\r\n$-1\r\n",
	"*1\r\nPING\r\n", "*2\r\n$4\r\nECHO\r\n$2\r\nhiXY", "*1\r\n$4\r\nPINGXY", "ECHO \"unbalanced\r\n",
	"ECHO 'x\r\n", "ECHO \"a\"b\r\n", "ECHO a\"b\"\r\n", "\x00\r\n", "PI\x00NG\r\n", "*1\r\n$4\x00\r\nPING\r\n",
	"*1\r", "$4\r", "*01\r\n", "*+1\r\n", "* 1\r\n", "$04\r\n", "*9223372036854775808\r\n",
	"*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", "ECHO\r\n", "NOSUCHCMD a\r\n", "*1\r\n$9\r\nNOSUCHCMD\r\n",
}

func protoFuzzInput(r *rand.Rand) []byte {
	var b []byte
	for k := 1 + r.IntN(4); k > 0; k-- {
		b = append(b, protoFuzzFrags[r.IntN(len(protoFuzzFrags))]...)
	}
	if r.IntN(20) == 0 { // a long inline line, over and under 64 KB
		b = append(b, strings.Repeat("x", 60000+r.IntN(10000))...)
		if r.IntN(2) == 0 {
			b = append(b, "\r\n"...)
		}
	}
	for m := r.IntN(3); m > 0 && len(b) > 0; m-- {
		i := r.IntN(len(b))
		switch r.IntN(3) {
		case 0: // drop a byte
			b = append(b[:i], b[i+1:]...)
		case 1: // change one
			b[i] = "*$\r\n0123456789-\" 'aZ\x00"[r.IntN(20)]
		default: // cut the stream short
			b = b[:i]
		}
	}
	return b
}

// protoFuzzExchange writes in, half-closes, and returns all the server
// sends until it closes the connection (or stops sending for 2 s: a
// server waiting for the rest of a command after EOF would be a bug too,
// and would show as a difference).
func protoFuzzExchange(network, addr string, in []byte) (string, error) {
	nc, err := net.DialTimeout(network, addr, 5*time.Second)
	if err != nil {
		return "", err
	}
	defer nc.Close()
	go func() {
		nc.Write(in)
		switch c := nc.(type) {
		case *net.TCPConn:
			c.CloseWrite()
		case *net.UnixConn:
			c.CloseWrite()
		}
	}()
	var out bytes.Buffer
	nc.SetReadDeadline(time.Now().Add(2 * time.Second))
	_, err = io.Copy(&out, nc)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		return out.String() + fmt.Sprintf("<no close after %d bytes>", out.Len()), nil
	}
	return out.String(), nil
}
