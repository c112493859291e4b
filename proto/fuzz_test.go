package proto

import (
	"errors"
	"hash/fnv"
	"math/rand/v2"
	"testing"
)

// parseResult is everything observable about parsing one input.
type parseResult struct {
	cmds [][]string
	err  string // first error other than ErrIncomplete; "" when none
	rest int    // unparsed bytes at the end (only compared without error)
}

// parseChunks feeds input to a fresh Reader in the given chunks (their
// lengths sum to len(input)), draining complete commands after each one as
// the server does: Next until ErrIncomplete, then Release, then the next
// Feed. It checks that arguments stay intact until Release.
func parseChunks(t *testing.T, input []byte, cuts []int, unauth bool) parseResult {
	t.Helper()
	rd := NewReader()
	rd.Unauthenticated = unauth
	var res parseResult
	prev := 0
	for _, cut := range append(cuts, len(input)) {
		rd.Feed(input[prev:cut])
		prev = cut
		var held [][][]byte
		var copies [][]string
		for {
			args, err := rd.Next()
			if err != nil {
				if !errors.Is(err, ErrIncomplete) {
					res.err = err.Error()
					var pe *ProtocolError
					if !errors.As(err, &pe) {
						t.Fatalf("error %T %v is not a *ProtocolError", err, err)
					}
				}
				break
			}
			if len(args) == 0 {
				t.Fatalf("Next returned an empty command")
			}
			held = append(held, args)
			copies = append(copies, strs(args))
		}
		// Later commands of the same drain must not have clobbered
		// earlier arguments (in-place inline unescaping, arena reuse).
		for i := range held {
			if !sameCmds([][]string{strs(held[i])}, [][]string{copies[i]}) {
				t.Fatalf("arguments of command %d changed before Release: %q -> %q", i, copies[i], strs(held[i]))
			}
		}
		res.cmds = append(res.cmds, copies...)
		rd.Release()
		if res.err != "" {
			return res
		}
	}
	res.rest = rd.Buffered()
	return res
}

func sameResult(a, b parseResult) bool {
	if a.err != b.err || !sameCmds(a.cmds, b.cmds) {
		return false
	}
	return a.err != "" || a.rest == b.rest
}

// FuzzReader checks that the parse of any input is independent of how the
// input is split into reads (every single split point, byte-by-byte, and
// random multi-way splits), and that the Reader never panics.
//
// Inputs are kept under MaxInline: beyond it, "too big ..." errors depend
// on how much arrived at once, in Redis as well.
func FuzzReader(f *testing.F) {
	seeds := []string{
		"*2\r\n$3\r\nGET\r\n$1\r\na\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n*1\r\n$4\r\nPING\r\n",
		"*2\r\n$4\r\nECHO\r\n$6\r\na\r\nb\x00c\r\n",
		"PING\r\nSET a \"b c\"\r\nGET a\n",
		"ECHO \"\\x41\\n\\q\\\\\" 'it\\'s' \"\" ''\r\n",
		"ECHO a\"b c\" d\r\n\r\n\n   \r\n",
		"*0\r\n*-1\r\n*-9223372036854775808\r\nPING\r\n",
		"*1\rX$4\r\nPING\r\n",
		"*2\r\n$4\r\nECHO\r\n$3\r\nabcXYPING\r\n",
		"*1\n$4\r\nPING\r\n",
		"*01\r\n$4\r\nPING\r\n",
		"*1\r\n$04\r\nPING\r\n",
		"*1\r\nxyz\r\n",
		"*1\r\n\r\n",
		"*1\r\n$-1\r\n",
		"*2147483648\r\n",
		"*11\r\n$1\r\na\r\n",
		"*1\r\n$16385\r\n",
		"ECHO \"ab\r\n",
		"ECHO 'a'b\r\n",
		"PING\x00a\r\nPING\r\n",
		"SET a\x00b\r\n",
		"*1\x00\r\n$4\r\nPING\r\n",
		"*3\r\n$3\r\nSET\r\n$1\r\na\r\n$-5\r\n",
		"*1\r\n$536870000\r\nabc",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, input []byte) {
		if len(input) >= MaxInline {
			t.Skip()
		}
		h := fnv.New64a()
		h.Write(input)
		rng := rand.New(rand.NewPCG(h.Sum64(), 1))
		for _, unauth := range []bool{false, true} {
			whole := parseChunks(t, input, nil, unauth)
			check := func(cuts []int, how string) {
				got := parseChunks(t, input, cuts, unauth)
				if !sameResult(whole, got) {
					t.Fatalf("unauth=%v %s %v:\nwhole: %q err %q rest %d\nsplit: %q err %q rest %d",
						unauth, how, cuts, whole.cmds, whole.err, whole.rest, got.cmds, got.err, got.rest)
				}
			}
			// Every single split point (sampled for long inputs).
			step := max(1, len(input)/256)
			for i := 1; i < len(input); i += step {
				check([]int{i}, "split at")
			}
			// Byte by byte.
			if len(input) <= 2048 {
				cuts := make([]int, 0, len(input))
				for i := 1; i < len(input); i++ {
					cuts = append(cuts, i)
				}
				check(cuts, "byte by byte")
			}
			// Random multi-way splits.
			for n := 0; n < 8 && len(input) > 2; n++ {
				var cuts []int
				for pos := rng.IntN(len(input)/2 + 1); pos < len(input); pos += 1 + rng.IntN(len(input)/2+1) {
					if pos > 0 {
						cuts = append(cuts, pos)
					}
				}
				check(cuts, "random split")
			}
		}
	})
}
