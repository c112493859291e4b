package server_test

import (
	"context"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/kvd/kvd/shard/types"
)

const (
	hllWrongType = "-WRONGTYPE Key is not a valid HyperLogLog string value."
	hllInvalid   = "-INVALIDOBJ Corrupted HLL object detected"
)

// hllHeader builds an HLL header with the given encoding byte.
func hllHeader(enc byte) string {
	return "HYLL" + string([]byte{enc, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80})
}

// TestHLLClients runs PFADD, PFCOUNT and PFMERGE through go-redis in RESP2
// and RESP3.
func TestHLLClients(t *testing.T) {
	s, _ := bmStart(t, 4)
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := s.Client(proto)
		k := func(n string) string { return fmt.Sprintf("p%d%s", proto, n) }
		n, err := c.PFAdd(ctx, k("a"), "x", "y", "z").Result()
		if err != nil || n != 1 {
			t.Fatalf("RESP%d pfadd: %d %v", proto, n, err)
		}
		if n, _ = c.PFAdd(ctx, k("a"), "x").Result(); n != 0 {
			t.Errorf("RESP%d pfadd again: %d", proto, n)
		}
		if n, _ = c.PFAdd(ctx, k("e")).Result(); n != 1 {
			t.Errorf("RESP%d pfadd no elements: %d", proto, n)
		}
		c.PFAdd(ctx, k("b"), "z", "w")
		if n, err = c.PFCount(ctx, k("a")).Result(); err != nil || n != 3 {
			t.Errorf("RESP%d pfcount: %d %v", proto, n, err)
		}
		if n, _ = c.PFCount(ctx, k("a"), k("b"), k("none")).Result(); n != 4 {
			t.Errorf("RESP%d pfcount union: %d", proto, n)
		}
		if st, err := c.PFMerge(ctx, k("m"), k("a"), k("b")).Result(); err != nil || st != "OK" {
			t.Errorf("RESP%d pfmerge: %q %v", proto, st, err)
		}
		if n, _ = c.PFCount(ctx, k("m")).Result(); n != 4 {
			t.Errorf("RESP%d pfcount merged: %d", proto, n)
		}
		if typ, _ := c.Type(ctx, k("m")).Result(); typ != "string" {
			t.Errorf("RESP%d type %q", proto, typ)
		}
	}
}

// TestHLLErrors checks the WRONGTYPE variants, corrupt values and the raw
// layout of what PFADD stores.
func TestHLLErrors(t *testing.T) {
	s, _ := bmStart(t, 2)
	r := s.Raw()
	bmPutList(s, "l")
	const wrongType = "-WRONGTYPE Operation against a key holding the wrong kind of value"
	sparseCorrupt := hllHeader(1) + "\x7f\xfe" // 16383 registers
	dense := hllHeader(0) + strings.Repeat("\x00", 12288)
	bmRun(t, r, []bmCase{
		{[]string{"PFADD"}, "-ERR wrong number of arguments for 'pfadd' command"},
		{[]string{"PFCOUNT"}, "-ERR wrong number of arguments for 'pfcount' command"},
		{[]string{"PFMERGE"}, "-ERR wrong number of arguments for 'pfmerge' command"},
		{[]string{"SET", "s", "foobar"}, "+OK"},
		{[]string{"PFADD", "s", "a"}, hllWrongType},
		{[]string{"PFCOUNT", "s"}, hllWrongType},
		{[]string{"PFCOUNT", "nokey", "s"}, hllWrongType},
		{[]string{"PFMERGE", "d", "s"}, hllWrongType},
		{[]string{"PFMERGE", "s"}, hllWrongType},
		{[]string{"EXISTS", "d"}, ":0"},
		{[]string{"PFADD", "l", "a"}, wrongType},
		{[]string{"PFCOUNT", "l"}, wrongType},
		{[]string{"PFCOUNT", "nokey", "l"}, wrongType},
		{[]string{"PFMERGE", "l"}, wrongType},
		{[]string{"PFMERGE", "d", "l"}, wrongType},
		{[]string{"SET", "h", "HYLL"}, "+OK"},
		{[]string{"PFCOUNT", "h"}, hllWrongType},
		{[]string{"SET", "h", hllHeader(2) + "\x7f\xff"}, "+OK"},
		{[]string{"PFCOUNT", "h"}, hllWrongType},
		{[]string{"SET", "h", dense[:len(dense)-1]}, "+OK"},
		{[]string{"PFCOUNT", "h"}, hllWrongType},
		{[]string{"SET", "h", dense}, "+OK"},
		{[]string{"PFCOUNT", "h"}, ":0"},
		{[]string{"SET", "h", sparseCorrupt}, "+OK"},
		{[]string{"PFCOUNT", "h"}, hllInvalid},
		{[]string{"PFCOUNT", "h", "nokey"}, hllInvalid},
		{[]string{"PFMERGE", "d", "h"}, hllInvalid},
		{[]string{"EXISTS", "d"}, ":0"},
		{[]string{"PFADD", "h"}, ":0"},
		// A valid cached cardinality is answered without looking further.
		{[]string{"SET", "c", "HYLL\x01\x00\x00\x00\x39\x30\x00\x00\x00\x00\x00\x00\x7f\xff"}, "+OK"},
		{[]string{"PFCOUNT", "c"}, ":12345"},
		{[]string{"PFCOUNT", "c", "nokey"}, ":0"},
		{[]string{"PFADD", "n"}, ":1"},
		{[]string{"GET", "n"}, "$" + hllHeader(1) + "\x7f\xff"},
		{[]string{"OBJECT", "ENCODING", "n"}, "$raw"},
		{[]string{"PFCOUNT", "n"}, ":0"},
		{[]string{"GET", "n"}, "$HYLL\x01" + strings.Repeat("\x00", 11) + "\x7f\xff"},
		{[]string{"PFMERGE", "m"}, "+OK"},
		{[]string{"GET", "m"}, "$" + hllHeader(1) + "\x7f\xff"},
	})
}

// TestHLLPromotion follows hll-sparse-max-bytes: the value stays sparse
// while it fits, then becomes the 12304-byte dense form; PFMERGE of a dense
// input makes the destination dense.
func TestHLLPromotion(t *testing.T) {
	s, _ := bmStart(t, 2)
	c := s.Client(2)
	ctx := context.Background()
	if err := c.ConfigSet(ctx, "hll-sparse-max-bytes", "200").Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; ; i++ {
		c.PFAdd(ctx, "h", "e"+strconv.Itoa(i))
		v, _ := c.Get(ctx, "h").Result()
		if v[4] == types.HLLDense {
			if len(v) != types.HLLDenseSize || i < 20 {
				t.Fatalf("dense after %d adds, %d bytes", i+1, len(v))
			}
			break
		}
		if len(v) > 200 {
			t.Fatalf("sparse value of %d bytes", len(v))
		}
	}
	c.PFAdd(ctx, "small", "a")
	c.PFMerge(ctx, "dst", "small")
	if v, _ := c.Get(ctx, "dst").Result(); v[4] != types.HLLSparse {
		t.Fatal("merge of sparse inputs is not sparse")
	}
	c.PFMerge(ctx, "dst", "small", "h")
	if v, _ := c.Get(ctx, "dst").Result(); v[4] != types.HLLDense {
		t.Fatal("merge with a dense input is not dense")
	}
	n1, _ := c.PFCount(ctx, "dst").Result()
	n2, _ := c.PFCount(ctx, "h", "small").Result()
	if n1 != n2 {
		t.Fatalf("merged %d, union %d", n1, n2)
	}
}

// TestHLLCrossWorker runs PFCOUNT and PFMERGE over keys owned by different
// workers.
func TestHLLCrossWorker(t *testing.T) {
	s, _ := bmStart(t, 4)
	c := s.Client(3)
	ctx := context.Background()
	var keys []string
	for i := 0; i < 12; i++ {
		k := "hll" + strconv.Itoa(i)
		keys = append(keys, k)
		for j := 0; j < 100; j++ {
			c.PFAdd(ctx, k, fmt.Sprintf("%d-%d", i, j))
		}
	}
	union, err := c.PFCount(ctx, keys...).Result()
	if err != nil || math.Abs(float64(union)-1200) > 1200*0.05 {
		t.Fatalf("union %d %v", union, err)
	}
	if err := c.PFMerge(ctx, "all", keys...).Err(); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.PFCount(ctx, "all").Result(); n != union {
		t.Fatalf("merged %d, union %d", n, union)
	}
	// PFCOUNT of many keys modifies none of them.
	for _, k := range keys {
		v, _ := c.Get(ctx, k).Result()
		if v[15]&0x80 == 0 {
			t.Fatalf("%s: cache became valid", k)
		}
	}
}

// TestHLLVsRedis feeds the same elements to redis-server 7.0.15 and kvd and
// compares every PFADD and PFCOUNT reply and the stored bytes, across the
// sparse form, the promotion and the dense form, under several
// hll-sparse-max-bytes settings; then merges, unions and corrupt values.
func TestHLLVsRedis(t *testing.T) {
	p := bmStartPair(t, 4)
	rng := rand.New(rand.NewSource(5))
	elem := func() string {
		switch rng.Intn(4) {
		case 0:
			return strconv.Itoa(rng.Intn(1 << 30))
		case 1:
			b := make([]byte, rng.Intn(20))
			rng.Read(b)
			return string(b)
		default:
			return "el:" + strconv.FormatUint(rng.Uint64(), 36)
		}
	}
	for _, limit := range []string{"3000", "0", "12000", "500"} {
		p.both(t, "CONFIG", "SET", "hll-sparse-max-bytes", limit)
		key := "h" + limit
		total := 0
		for batch := 0; total < 60000; batch++ {
			n := 1 + rng.Intn(8)
			if total > 3000 {
				n = 50 + rng.Intn(500)
			}
			args := []string{"PFADD", key}
			for i := 0; i < n; i++ {
				args = append(args, elem())
			}
			total += n
			p.both(t, args...)
			if batch%3 == 0 || total < 3000 {
				p.both(t, "PFCOUNT", key)
				p.both(t, "GET", key)
			}
			if t.Failed() {
				t.Fatalf("limit %s: stopping at %d elements", limit, total)
			}
		}
		p.both(t, "PFCOUNT", key)
		p.both(t, "GET", key)
	}
	p.both(t, "CONFIG", "SET", "hll-sparse-max-bytes", "3000")

	// Unions and merges of sparse and dense values.
	for i := 0; i < 6; i++ {
		k := "m" + strconv.Itoa(i)
		args := []string{"PFADD", k}
		for j := 0; j < 10+i*i*60; j++ {
			args = append(args, elem())
		}
		p.both(t, args...)
	}
	p.both(t, "PFCOUNT", "m0", "m1", "nokey", "m2")
	p.both(t, "PFCOUNT", "m0", "m5")
	p.both(t, "PFMERGE", "dst", "m0", "m1", "m2")
	p.both(t, "GET", "dst")
	p.both(t, "PFCOUNT", "dst")
	p.both(t, "PFMERGE", "dst", "m4")
	p.both(t, "GET", "dst")
	p.both(t, "PFMERGE", "dst2", "m5", "m0")
	p.both(t, "GET", "dst2")
	p.both(t, "PFMERGE", "m1", "m0")
	p.both(t, "GET", "m1")
	p.both(t, "PFMERGE", "new")
	p.both(t, "GET", "new")
	p.both(t, "PFMERGE", "h3000", "h0", "h500")
	p.both(t, "GET", "h3000")
	p.both(t, "PFCOUNT", "h3000", "h12000", "m3")

	// Values set by hand: random dense registers (every register value,
	// so the estimator's tau and sigma terms), valid caches, corrupt
	// sparse opcodes.
	for i := 0; i < 20; i++ {
		regs := make([]byte, 12288)
		rng.Read(regs)
		if i%2 == 0 {
			for j := range regs {
				if rng.Intn(3) > 0 {
					regs[j] = 0
				}
			}
		}
		p.both(t, "SET", "raw", hllHeader(0)+string(regs))
		p.both(t, "PFCOUNT", "raw")
		p.both(t, "GET", "raw")
		p.both(t, "PFCOUNT", "raw", "m3")
		p.both(t, "PFADD", "raw", elem(), elem())
		p.both(t, "PFMERGE", "m2", "raw")
		p.both(t, "GET", "m2")
	}
	corrupt := []string{
		hllHeader(1) + "\x7f\xfe",                 // one register short
		hllHeader(1) + "\x7f\xff\x00",             // one too many
		hllHeader(1) + "\x7f\xff\x83",             // VAL past the end
		hllHeader(1) + "\x7f\xfe\x83",             // VAL overflowing
		hllHeader(1) + "\x7f",                     // truncated XZERO
		hllHeader(1),                              // no opcodes
		hllHeader(1) + "\x7f\xfb\x80\x84\x88\x8c", // valid, hand made
		hllHeader(1) + "\x80\x7f\xfe",             // VAL then XZERO
		hllHeader(1) + "\x3f\x7f\xbe",             // ZERO 64, XZERO 16319... short
		hllHeader(1) + "\xfc\x7f\xfe",             // VAL 32
		hllHeader(1) + strings.Repeat("\x3f", 256),
		hllHeader(1) + strings.Repeat("\x3f", 255) + "\xff\x3e",
	}
	for _, v := range corrupt {
		for _, cmd := range [][]string{
			{"SET", "bad", v}, {"PFCOUNT", "bad"}, {"PFCOUNT", "bad", "m0"}, {"PFMERGE", "out", "bad"}, {"GET", "out"},
			{"SET", "bad", v}, {"PFADD", "bad", "a"}, {"GET", "bad"},
			{"SET", "bad", v}, {"PFADD", "bad", "b", "c", "d", "e", "f", "g"}, {"GET", "bad"}, {"PFCOUNT", "bad"},
			{"SET", "bad", v}, {"PFMERGE", "bad", "m4"}, {"GET", "bad"},
		} {
			p.both(t, cmd...)
		}
	}
	if t.Failed() {
		return
	}
	// The byte images are interchangeable: a value built by redis-server
	// is counted and extended by kvd exactly as redis-server would.
	for _, k := range []string{"h3000", "m5", "dst"} {
		img := p.redis.do(t, "GET", k)[1:]
		p.both(t, "SET", "copy", img)
		p.both(t, "PFCOUNT", "copy")
		p.both(t, "PFADD", "copy", "one", "more", "element")
		p.both(t, "GET", "copy")
	}
}

// TestHLLArgsNotRetained checks that PFADD keeps none of the request
// bytes: an HLL built from many requests decodes to the same registers as
// the same elements added in a fresh value.
func TestHLLArgsNotRetained(t *testing.T) {
	s, _ := bmStart(t, 1)
	r := s.Raw()
	want := types.NewHLL()
	for i := 0; i < 300; i++ {
		e := "element-" + strconv.Itoa(i)
		r.Do("PFADD", "h", e)
		want, _ = types.HLLAdd(want, []byte(e), 3000)
		r.Do("SET", "junk", strings.Repeat("z", 64))
	}
	got := r.Do("GET", "h")[1:]
	types.HLLInvalidateCache(want)
	if got != string(want) {
		t.Fatalf("stored HLL differs:\n got  %s\n want %s", hex.EncodeToString([]byte(got)), hex.EncodeToString(want))
	}
}
