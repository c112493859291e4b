package types

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"math"
	"math/rand"
	"strconv"
	"testing"
)

// hllGolden is what redis-server 7.0.15 stores for PFADD g a b c foo bar
// followed by PFCOUNT g (the cached cardinality 5 in the header).
const hllGolden = "48594c4c0100000005000000000000005cb390443e804621804a8e844bfb80425a"

func TestHLLGoldenSparse(t *testing.T) {
	s := NewHLL()
	if got := hex.EncodeToString(s); got != "48594c4c0100000000000000000000007fff" {
		t.Fatalf("empty HLL %s", got)
	}
	for _, e := range []string{"a", "b", "c", "foo", "bar"} {
		var r int
		s, r = HLLAdd(s, []byte(e), 3000)
		if r != 1 {
			t.Fatalf("add %s: %d", e, r)
		}
	}
	card, ok := HLLCount(s)
	if !ok || card != 5 {
		t.Fatalf("count %d %v", card, ok)
	}
	HLLSetCachedCard(s, card)
	if got := hex.EncodeToString(s); got != hllGolden {
		t.Fatalf("got  %s\nwant %s", got, hllGolden)
	}
	if c, ok := HLLCachedCard(s); !ok || c != 5 {
		t.Fatalf("cached %d %v", c, ok)
	}
	HLLInvalidateCache(s)
	if _, ok := HLLCachedCard(s); ok {
		t.Fatal("cache still valid")
	}
}

func TestHLLMurmurAndPatLen(t *testing.T) {
	// Every tail length and the 8-byte blocks.
	seen := map[uint64]bool{}
	for n := 0; n <= 17; n++ {
		h := MurmurHash64A(bytes.Repeat([]byte{'x'}, n), hllSeed)
		if seen[h] {
			t.Fatalf("collision at length %d", n)
		}
		seen[h] = true
	}
	for i := 0; i < 10000; i++ {
		idx, cnt := HLLPatLen([]byte(strconv.Itoa(i)))
		if idx < 0 || idx >= HLLRegisters || cnt < 1 || cnt > HLLQ+1 {
			t.Fatalf("patlen %d: %d %d", i, idx, cnt)
		}
	}
}

func TestHLLDenseRegisters(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	regs := make([]byte, HLLDenseSize-HLLHeaderSize)
	want := make([]uint8, HLLRegisters)
	for round := 0; round < 20; round++ {
		for i := range want {
			want[i] = uint8(rng.Intn(64))
			hllDenseSetReg(regs, i, want[i])
		}
		for i := range want {
			if got := hllDenseGet(regs, i); got != want[i] {
				t.Fatalf("register %d = %d, want %d", i, got, want[i])
			}
		}
	}
	var h [64]int
	hllDenseHisto(regs, &h)
	var wh [64]int
	for _, v := range want {
		wh[v]++
	}
	if h != wh {
		t.Fatal("histogram differs")
	}
}

// hllRegsOf decodes any valid HLL string into one byte per register.
func hllRegsOf(t *testing.T, s []byte) *HLLRegs {
	t.Helper()
	r := new(HLLRegs)
	if !r.Merge(s) {
		t.Fatal("corrupt HLL")
	}
	return r
}

func TestHLLSparseMatchesDense(t *testing.T) {
	rng := rand.New(rand.NewSource(2))
	sparse := NewHLL()
	dense, ok := HLLToDense(NewHLL())
	if !ok || len(dense) != HLLDenseSize || dense[4] != HLLDense {
		t.Fatal("to dense")
	}
	for i := 0; i < 3000; i++ {
		e := []byte(strconv.FormatUint(rng.Uint64(), 36))
		var r1, r2 int
		sparse, r1 = HLLAdd(sparse, e, math.MaxInt64)
		dense, r2 = HLLAdd(dense, e, 0)
		if r1 != r2 {
			t.Fatalf("add %d: sparse %d dense %d", i, r1, r2)
		}
		if i%100 == 0 {
			c1, ok1 := HLLCount(sparse)
			c2, ok2 := HLLCount(dense)
			if !ok1 || !ok2 || c1 != c2 {
				t.Fatalf("after %d: sparse %d %v dense %d %v", i, c1, ok1, c2, ok2)
			}
			if *hllRegsOf(t, sparse) != *hllRegsOf(t, dense) {
				t.Fatalf("after %d: registers differ", i)
			}
		}
	}
	if sparse[4] != HLLSparse {
		t.Fatal("unlimited sparse was promoted without a large register")
	}
	// The sparse opcodes must be canonical: no two adjacent VALs of the
	// same value that would fit one opcode, every run inside its limits.
	d, ok := HLLToDense(sparse)
	if !ok || !bytes.Equal(d[HLLHeaderSize:], dense[HLLHeaderSize:]) {
		t.Fatal("sparse->dense differs from dense")
	}
}

func TestHLLPromotion(t *testing.T) {
	s := NewHLL()
	const limit = 300
	n := 0
	for s[4] == HLLSparse {
		var r int
		s, r = HLLAdd(s, []byte("e"+strconv.Itoa(n)), limit)
		if r < 0 {
			t.Fatal("corrupt")
		}
		if s[4] == HLLSparse && len(s) > limit {
			t.Fatalf("sparse string of %d bytes over the %d limit", len(s), limit)
		}
		n++
	}
	if len(s) != HLLDenseSize {
		t.Fatalf("dense length %d", len(s))
	}
	// A register over 32 promotes whatever the size.
	s = NewHLL()
	s, r := HLLSet(s, 7, 40, 1<<30)
	if r != 1 || s[4] != HLLDense || HLLDenseRegister(s, 7) != 40 {
		t.Fatalf("promote on large value: %d enc %d", r, s[4])
	}
}

func TestHLLAccuracy(t *testing.T) {
	s := NewHLL()
	relerr := 1.04 / math.Sqrt(HLLRegisters)
	checkpoint := 1
	var buf [8]byte
	for j := 1; j <= 200000; j++ {
		binary.LittleEndian.PutUint64(buf[:], uint64(j)*0x9e3779b97f4a7c15)
		s, _ = HLLAdd(s, buf[:], 3000)
		if j == checkpoint {
			c, ok := HLLCount(s)
			if !ok {
				t.Fatal("corrupt")
			}
			maxerr := math.Ceil(relerr * 6 * float64(j))
			if j == 10 {
				maxerr = 1
			}
			if math.Abs(float64(c)-float64(j)) > maxerr {
				t.Fatalf("card %d: estimate %d", j, c)
			}
			checkpoint *= 10
		}
	}
}

func TestHLLMergeAndCount(t *testing.T) {
	a, b := NewHLL(), NewHLL()
	for i := 0; i < 500; i++ {
		a, _ = HLLAdd(a, []byte("a"+strconv.Itoa(i)), 3000)
		b, _ = HLLAdd(b, []byte("b"+strconv.Itoa(i)), 0) // dense quickly
	}
	if b[4] != HLLDense {
		t.Fatal("b not dense")
	}
	u := NewHLL()
	for i := 0; i < 500; i++ {
		u, _ = HLLAdd(u, []byte("a"+strconv.Itoa(i)), 0)
		u, _ = HLLAdd(u, []byte("b"+strconv.Itoa(i)), 0)
	}
	r := new(HLLRegs)
	if !r.Merge(a) || !r.Merge(b) {
		t.Fatal("merge")
	}
	want, _ := HLLCount(u)
	if got := r.Count(); got != want {
		t.Fatalf("merged count %d, want %d", got, want)
	}
	// Stored into a sparse destination with room: same registers.
	dst, ok := r.Store(NewHLL(), false, math.MaxInt64)
	if !ok || *hllRegsOf(t, dst) != *r {
		t.Fatal("store sparse")
	}
	if _, valid := HLLCachedCard(dst); valid {
		t.Fatal("store left the cache valid")
	}
	dst, ok = r.Store(NewHLL(), true, 3000)
	if !ok || dst[4] != HLLDense || *hllRegsOf(t, dst) != *r {
		t.Fatal("store dense")
	}
	var empty HLLRegs
	if empty.Count() != 0 {
		t.Fatal("empty count")
	}
}

func TestHLLHeaderChecks(t *testing.T) {
	good := NewHLL()
	if !IsHLL(good) {
		t.Fatal("new HLL invalid")
	}
	d, _ := HLLToDense(good)
	if !IsHLL(d) || IsHLL(d[:len(d)-1]) || IsHLL(append(d[:len(d):len(d)], 0)) {
		t.Fatal("dense length check")
	}
	for _, bad := range [][]byte{nil, []byte("HYLL"), []byte("HYLX\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff"),
		[]byte("HYLL\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x7f\xff")} {
		if IsHLL(bad) {
			t.Fatalf("%q accepted", bad)
		}
	}
}

func TestHLLCorruptSparse(t *testing.T) {
	hdr := []byte("HYLL\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00")
	mk := func(ops ...byte) []byte { return append(append([]byte{}, hdr...), ops...) }
	cases := []struct {
		name string
		s    []byte
	}{
		{"short", mk(0x7f, 0xfe)},              // XZERO 16383
		{"long", mk(0x7f, 0xff, 0x00)},         // 16385
		{"val overflow", mk(0x7f, 0xfe, 0x83)}, // 16383 + VAL run 4
		{"empty", mk()},
	}
	for _, c := range cases {
		if _, ok := HLLCount(c.s); ok {
			t.Errorf("%s: count accepted", c.name)
		}
		if _, ok := HLLToDense(c.s); ok {
			t.Errorf("%s: to dense accepted", c.name)
		}
		if r := new(HLLRegs); r.Merge(c.s) {
			t.Errorf("%s: merge accepted", c.name)
		}
	}
	// Adding to a register beyond the opcodes' coverage fails.
	s := mk(0x00) // ZERO 1: register 0 only
	if _, r := HLLSet(s, 100, 3, 3000); r != -1 {
		t.Fatalf("set past coverage: %d", r)
	}
	if _, r := HLLSet(mk(), 0, 3, 3000); r != -1 {
		t.Fatalf("set on empty opcodes: %d", r)
	}
	// A truncated XZERO reads the zero terminator, like redis-server.
	if _, ok := HLLCount(mk(0x7f)); ok {
		t.Fatal("truncated XZERO accepted")
	}
}
