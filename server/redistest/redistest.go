// Package redistest is a test-only helper that starts real redis-server
// processes (7.0.15 is the reference) for tests that compare kvd's replies
// with Redis's.
//
// It imports nothing from kvd, so the internal tests of package server can
// use it as well as the external ones; it must not be imported by non-test
// code.
package redistest

import (
	"bufio"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RequireTools reports whether tests needing outside programs must fail
// instead of skipping when a program is missing (KVD_REQUIRE_TOOLS=1, set by
// CI).
func RequireTools() bool { return os.Getenv("KVD_REQUIRE_TOOLS") == "1" }

// readyTimeout bounds the wait for a started redis-server to accept
// connections.
const readyTimeout = 10 * time.Second

// Start runs a private redis-server on a unix socket in a temporary
// directory and returns the socket path once the server accepts
// connections. The server is started with
//
//	--port 0 --unixsocket <sock> --save '' --appendonly no --daemonize no --dir <tmp>
//
// followed by extraArgs (later options override earlier ones), in the C
// locale (so SORT ALPHA's strcoll compares bytes, as kvd does), with its log
// written to a file next to the socket. It is killed, by PID, in t.Cleanup.
//
// Without redis-server on $PATH the test is skipped, or fails under
// KVD_REQUIRE_TOOLS=1.
func Start(t testing.TB, extraArgs ...string) (sock string) {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if RequireTools() {
			t.Fatalf("redis-server is required (KVD_REQUIRE_TOOLS=1): %v", err)
		}
		t.Skip("redis-server not installed (apt-get install redis-server); skipping the comparison with Redis")
	}
	dir := t.TempDir()
	sock = filepath.Join(dir, "redis.sock")
	if len(sock) >= 100 { // unix socket paths are limited to ~104-108 bytes
		if dir, err = os.MkdirTemp("", "redis"); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		sock = filepath.Join(dir, "redis.sock")
	}
	log, err := os.Create(filepath.Join(dir, "redis.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer log.Close()
	args := append([]string{"--port", "0", "--unixsocket", sock, "--save", "", "--appendonly", "no",
		"--daemonize", "no", "--dir", dir}, extraArgs...)
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	for deadline := time.Now().Add(readyTimeout); ; time.Sleep(10 * time.Millisecond) {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return sock
		}
		select {
		case <-exited:
			out, _ := os.ReadFile(log.Name())
			t.Fatalf("redis-server %q exited before accepting connections (%v):\n%s", args, cmd.ProcessState, out)
		default:
		}
		if time.Now().After(deadline) {
			out, _ := os.ReadFile(log.Name())
			t.Fatalf("redis-server did not accept connections on %s within %v:\n%s", sock, readyTimeout, out)
		}
	}
}

// ReadRaw reads one complete RESP2/RESP3 reply (aggregates, attributes and
// blob errors included) and returns its exact bytes, so that "$-1", "*-1",
// "*0" and "_" stay distinct when kvd's replies are compared with Redis's.
func ReadRaw(br *bufio.Reader) (string, error) {
	line, err := br.ReadString('\n')
	if err != nil {
		return "", err
	}
	if len(line) < 3 {
		return "", io.ErrUnexpectedEOF
	}
	n, _ := strconv.Atoi(line[1 : len(line)-2])
	switch line[0] {
	case '$', '=', '!':
		if n < 0 {
			return line, nil
		}
		body := make([]byte, n+2)
		if _, err := io.ReadFull(br, body); err != nil {
			return "", err
		}
		return line + string(body), nil
	case '*', '~', '>', '%', '|':
		if line[0] == '%' || line[0] == '|' {
			n *= 2
		}
		var b strings.Builder
		b.WriteString(line)
		for i := 0; i < n; i++ {
			s, err := ReadRaw(br)
			if err != nil {
				return "", err
			}
			b.WriteString(s)
		}
		return b.String(), nil
	}
	return line, nil
}
