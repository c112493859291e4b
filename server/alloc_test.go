package server_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/server"
	"github.com/kvd/kvd/server/servertest"
)

// Allocation budget of the request path: 0 allocations per GET and per
// SET, amortized over a pipeline, in steady state.
//
// Why 0: GET and SET are the bulk of a cache's traffic, and every step of
// their path is built to reuse memory — the Reader parses in place into a
// reused argument arena, requests and per-worker batches are recycled by
// the connection, the command table lookup uses a stack buffer, the worker
// queues swap reused slices, SET of an existing key reuses the object and
// its buffer (shard.Object.SetStr), replies are appended to reused
// buffers and written with one write per batch. Any allocation here is
// per-command garbage that costs GC time at millions of operations per
// second, so the budget is exactly 0 and a regression fails the test.

const allocPipeline = 100

// allocIsolate re-runs the calling test alone in a fresh test process and
// reports true in the parent, which must then return: testing.AllocsPerRun
// counts the mallocs of the whole process, so goroutines left behind by
// earlier tests of the package would be charged to the request path.
func allocIsolate(t *testing.T) bool {
	t.Helper()
	if os.Getenv("KVD_ALLOC_CHILD") == "1" {
		return false
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "KVD_ALLOC_CHILD=1")
	out, err := cmd.CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if _, msg, ok := strings.Cut(line, "alloc_test.go:"); ok {
			if _, msg, ok = strings.Cut(msg, ": "); ok {
				t.Log("isolated run: " + msg)
			}
		}
	}
	if err != nil {
		t.Fatalf("isolated run failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("isolated run did not pass:\n%s", out)
	}
	return true
}

func allocCommands(cmd string, keys int) []byte {
	var w proto.Writer
	for i := 0; i < allocPipeline; i++ {
		k := "alloc:key:" + strconv.Itoa(i%keys)
		if cmd == "SET" {
			w.StringArray([]string{"SET", k, "value-" + strconv.Itoa(100000+i)})
		} else {
			w.StringArray([]string{"GET", k})
		}
	}
	return w.B
}

// allocPerCommand measures the allocations of running pipeline through
// run, per command, after warming up.
func allocPerCommand(t *testing.T, run func()) float64 {
	t.Helper()
	for i := 0; i < 20; i++ {
		run()
	}
	return testing.AllocsPerRun(200, run) / allocPipeline
}

// TestAllocConnPath measures GET and SET through the whole server path
// in-process (parse → dispatch → worker hand-off → reply → write), with
// keys on every worker, so that each batch is split over 4 workers.
func TestAllocConnPath(t *testing.T) {
	if allocIsolate(t) {
		return
	}
	cfg := server.DefaultConfig()
	cfg.Workers = 4
	s := server.New(cfg)
	defer s.Close()
	h := server.NewConnHarness(s)

	set := allocCommands("SET", 16)
	get := allocCommands("GET", 16)
	want := bytes.Repeat([]byte("+OK\r\n"), allocPipeline)
	if out := h.Run(set); !bytes.Equal(out, want) {
		t.Fatalf("SET replies %q", out)
	}
	out := h.Run(get)
	if !bytes.HasPrefix(out, []byte("$12\r\nvalue-100096\r\n")) || bytes.Count(out, []byte("$12\r\n")) != allocPipeline {
		t.Fatalf("GET replies %q", out)
	}

	perSet := allocPerCommand(t, func() { h.Run(set) })
	perGet := allocPerCommand(t, func() { h.Run(get) })
	t.Logf("allocations per command, in-process: SET %.2f, GET %.2f", perSet, perGet)
	if perSet > 0 || perGet > 0 {
		t.Errorf("allocations per command: SET %.2f, GET %.2f; budget 0", perSet, perGet)
	}
}

// TestAllocTCPRoundTrip measures the same over a real socket: one
// pipelined write of 100 commands and reading the 100 replies, through a
// listening server.
func TestAllocTCPRoundTrip(t *testing.T) {
	if allocIsolate(t) {
		return
	}
	s := servertest.Start(t, servertest.Workers(4))
	nc, err := net.Dial("tcp", s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReaderSize(nc, 64<<10)
	set := allocCommands("SET", 16)
	get := allocCommands("GET", 16)
	setReply := bytes.Repeat([]byte("+OK\r\n"), allocPipeline)
	buf := make([]byte, 64<<10)
	roundTrip := func(in []byte, n int) {
		if _, err := nc.Write(in); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(br, buf[:n]); err != nil {
			t.Fatal(err)
		}
	}
	nc.SetDeadline(time.Now().Add(time.Minute))
	roundTrip(set, len(setReply))
	if !bytes.Equal(buf[:len(setReply)], setReply) {
		t.Fatalf("SET replies %q", buf[:len(setReply)])
	}
	getLen := allocPipeline * len("$12\r\nvalue-100000\r\n")
	roundTrip(get, getLen)

	perSet := allocPerCommand(t, func() { roundTrip(set, len(setReply)) })
	perGet := allocPerCommand(t, func() { roundTrip(get, getLen) })
	t.Logf("allocations per command over TCP (client side included): SET %.2f, GET %.2f", perSet, perGet)
	if perSet > 0 || perGet > 0 {
		t.Errorf("allocations per command: SET %.2f, GET %.2f; budget 0", perSet, perGet)
	}
}

// TestAllocSplitCommands measures MSET, MGET and DEL over keys on 4
// different workers. Budget: 2 allocations per command, both in
// shard.NewGate (the Gate and its channel), which every multi-worker
// split command makes so that its parts observe one instant. The per-part
// command context is kept in the reused splitPart and must not be
// allocated per part.
func TestAllocSplitCommands(t *testing.T) {
	if allocIsolate(t) {
		return
	}
	cfg := server.DefaultConfig()
	cfg.Workers = 4
	s := server.New(cfg)
	defer s.Close()
	h := server.NewConnHarness(s)
	var keys []string
	for w := 0; w < 4; w++ {
		for i := 0; ; i++ {
			k := "split:" + strconv.Itoa(i)
			if s.Engine().WorkerOf([]byte(k)) == w {
				keys = append(keys, k)
				break
			}
		}
	}
	var mset proto.Writer
	mset.StringArray([]string{"MSET", keys[0], "a", keys[1], "b", keys[2], "c", keys[3], "d"})
	var mget proto.Writer
	mget.StringArray([]string{"MGET", keys[0], keys[1], keys[2], keys[3]})
	var del proto.Writer
	del.StringArray([]string{"DEL", keys[0] + "x", keys[1] + "x", keys[2] + "x", keys[3] + "x"}) // missing keys: a DEL that frees nothing
	for _, tc := range []struct {
		name  string
		in    []byte
		reply string
	}{
		{"MSET", mset.B, "+OK\r\n"},
		{"MGET", mget.B, "*4\r\n$1\r\na\r\n$1\r\nb\r\n$1\r\nc\r\n$1\r\nd\r\n"},
		{"DEL", del.B, ":0\r\n"},
	} {
		if got := string(h.Run(tc.in)); got != tc.reply {
			t.Fatalf("%s replies %q, want %q", tc.name, got, tc.reply)
		}
		for i := 0; i < 20; i++ {
			h.Run(tc.in)
		}
		per := testing.AllocsPerRun(200, func() { h.Run(tc.in) })
		t.Logf("%s over 4 workers: %.1f allocations per command", tc.name, per)
		if per > 2 {
			t.Errorf("%s: %.1f allocations per command; budget 2", tc.name, per)
		}
	}
}
