package server_test

import (
	"fmt"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
)

// TestDiffFuzzPubSub drives three connections on kvd (3 workers) and on
// redis-server 7.0.15 alike (two RESP2, one RESP3) with random
// subscribes, unsubscribes, publishes, PUBSUB introspection, PINGs and
// commands that subscribed mode forbids, and compares, after every step,
// everything each connection received: replies, subscribe confirmations,
// messages and pushes, byte for byte. A step ends with a PING carrying a
// token on every connection, whose answer comes after everything the step
// caused there.
//
// Steps: KVD_PUBSUBFUZZ_N (default 1,500); seed KVD_PUBSUBFUZZ_SEED (1).
func TestDiffFuzzPubSub(t *testing.T) {
	n, seed := fuzzEnv("KVD_PUBSUBFUZZ", 1500)
	sock := redistest.Start(t)
	srv := servertest.Start(t, servertest.Workers(3))
	var kc, rc [3]*fuzzConn
	for i := range kc {
		kc[i], rc[i] = fuzzDial(t, "tcp", srv.Addr), fuzzDial(t, "unix", sock)
	}
	for _, c := range []*fuzzConn{kc[2], rc[2]} {
		c.do("HELLO", "3")
	}
	r := rand.New(rand.NewPCG(seed, 5))
	chans := []string{"a", "b", "c", "a.b", "{x}a"}
	pats := []string{"a*", "*", "?", "[ab]", "a.*", "x"}
	pickN := func(pool []string, lo int) []string {
		var out []string
		for k := lo + r.IntN(3); k > 0; k-- {
			out = append(out, pool[r.IntN(len(pool))])
		}
		return out
	}
	var hist []string
	bad := 0
	for step := 0; step < n && bad < 5; step++ {
		i := r.IntN(3)
		var args []string
		unordered := false // unsubscribe-all confirms in each server's own order
		switch op := r.IntN(16); op {
		case 0, 1:
			args = append([]string{"SUBSCRIBE"}, pickN(chans, 1)...)
		case 2:
			args = append([]string{"UNSUBSCRIBE"}, pickN(chans, 0)...)
			unordered = len(args) == 1
		case 3:
			args = append([]string{"PSUBSCRIBE"}, pickN(pats, 1)...)
		case 4:
			args = append([]string{"PUNSUBSCRIBE"}, pickN(pats, 0)...)
			unordered = len(args) == 1
		case 5:
			args = append([]string{"SSUBSCRIBE"}, pickN([]string{"{x}a", "{x}b"}, 1)...)
		case 6:
			args = append([]string{"SUNSUBSCRIBE"}, pickN([]string{"{x}a", "{x}b"}, 0)...)
			unordered = len(args) == 1
		case 7, 8, 9:
			args = []string{"PUBLISH", chans[r.IntN(len(chans))], "m" + strconv.Itoa(step)}
		case 10:
			args = []string{"SPUBLISH", []string{"{x}a", "{x}b"}[r.IntN(2)], "s" + strconv.Itoa(step)}
		case 11:
			args = []string{"PUBSUB", "CHANNELS"}
			if r.IntN(2) == 0 {
				args = append(args, pats[r.IntN(len(pats))])
			}
			unordered = true
		case 12:
			args = append([]string{"PUBSUB", "NUMSUB"}, pickN(chans, 0)...)
		case 13:
			args = []string{"PUBSUB", "NUMPAT"}
			if r.IntN(4) == 0 {
				args = []string{"PUBSUB", "SHARDCHANNELS"}
				unordered = true
			}
		case 14:
			args = []string{"PING"}
			if r.IntN(2) == 0 {
				args = append(args, "hi")
			}
		default: // forbidden in RESP2 subscribed mode
			args = []string{[]string{"GET", "SET", "ECHO", "PUBSUB"}[r.IntN(4)], "k"}
		}
		hist = append(hist, fmt.Sprintf("conn %d: %q", i, args))
		kc[i].send(args...)
		rc[i].send(args...)
		token := "sync" + strconv.Itoa(step)
		// The acting connection first: once its replies are in, everything
		// its command sent to the others is queued ahead of their PINGs.
		for _, j := range []int{i, (i + 1) % 3, (i + 2) % 3} {
			a, b := pubsubDrain(kc[j], token), pubsubDrain(rc[j], token)
			if j == i && unordered {
				a, b = pubsubSorted(a), pubsubSorted(b)
			}
			if args[0] == "PUBLISH" {
				// Redis walks its patterns in its dict's hash order.
				a, b = pubsubSortPmessages(a), pubsubSortPmessages(b)
			}
			if a != b {
				bad++
				t.Errorf("step %d, connection %d after %q:\n  kvd:   %q\n  redis: %q\n  steps:\n    %s",
					step, j, args, a, b, strings.Join(hist[max(0, len(hist)-15):], "\n    "))
			}
		}
	}
	t.Logf("%d steps on 3 connections", n)
}

// pubsubDrain sends PING token and returns all frames read before its
// answer.
func pubsubDrain(c *fuzzConn, token string) string {
	c.send("PING", token)
	var out []string
	for {
		f := c.readRaw()
		if strings.Contains(f, "\r\n"+token+"\r\n") {
			return strings.Join(out, "")
		}
		out = append(out, f)
	}
}

// pubsubSorted sorts the frames of a drained stream, without the counts
// that (un)subscribe confirmations end with (they follow the order); a
// PUBSUB CHANNELS reply's elements are sorted within it.
func pubsubSorted(s string) string {
	var frames []string
	rest := s
	for rest != "" {
		n := pubsubFrameLen(rest)
		f := fuzzSorted(rest[:n], 1)
		if strings.Contains(f, "unsubscribe\r\n") {
			f = f[:strings.LastIndex(f[:len(f)-2], "\r\n")+2]
		}
		frames = append(frames, f)
		rest = rest[n:]
	}
	sort.Strings(frames)
	return strings.Join(frames, "")
}

// pubsubSortPmessages sorts each run of consecutive pmessage frames.
func pubsubSortPmessages(s string) string {
	var out, run []string
	flush := func() {
		sort.Strings(run)
		out = append(out, run...)
		run = run[:0]
	}
	for s != "" {
		n := pubsubFrameLen(s)
		f := s[:n]
		s = s[n:]
		if strings.Contains(f[:min(len(f), 16)], "pmessage") {
			run = append(run, f)
			continue
		}
		flush()
		out = append(out, f)
	}
	flush()
	return strings.Join(out, "")
}

// pubsubFrameLen is the length of the first RESP frame of s.
func pubsubFrameLen(s string) int {
	i := strings.Index(s, "\r\n") + 2
	switch s[0] {
	case '$', '=', '!':
		n, _ := strconv.Atoi(s[1 : i-2])
		if n < 0 {
			return i
		}
		return i + n + 2
	case '*', '>', '~', '%':
		n, _ := strconv.Atoi(s[1 : i-2])
		if s[0] == '%' {
			n *= 2
		}
		for ; n > 0; n-- {
			i += pubsubFrameLen(s[i:])
		}
	}
	return i
}
