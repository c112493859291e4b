package types

import (
	"cmp"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// zsetModel is a reference sorted set: a slice kept sorted by (score,
// member bytes).
type zsetModel []zsetModelItem

type zsetModelItem struct {
	m string
	s float64
}

func zmCmp(a, b zsetModelItem) int {
	if c := cmp.Compare(a.s, b.s); c != 0 {
		return c
	}
	return cmp.Compare(a.m, b.m)
}

func (md zsetModel) find(m string) int {
	for i, it := range md {
		if it.m == m {
			return i
		}
	}
	return -1
}

func (md *zsetModel) set(m string, s float64) {
	if i := md.find(m); i >= 0 {
		*md = slices.Delete(*md, i, i+1)
	}
	it := zsetModelItem{m, s}
	i, _ := slices.BinarySearchFunc(*md, it, zmCmp)
	*md = slices.Insert(*md, i, it)
}

// zsetCheck verifies every structural invariant of z against the model:
// order, backward links, tail, spans at every level, the hash table, and
// the rank and score of every member.
func zsetCheck(t *testing.T, z *ZSet, md zsetModel) {
	t.Helper()
	if z.Len() != len(md) {
		t.Fatalf("Len %d, model %d", z.Len(), len(md))
	}
	i := 0
	var prev *zslNode
	for x := z.header.level[0].forward; x != nil; x = x.level[0].forward {
		if i >= len(md) || x.member != md[i].m || x.score != md[i].s || math.Signbit(x.score) != math.Signbit(md[i].s) {
			t.Fatalf("position %d: (%q %v), model %v", i, x.member, x.score, md[i:min(i+1, len(md))])
		}
		if x.backward != prev {
			t.Fatalf("position %d: bad backward link", i)
		}
		prev = x
		i++
	}
	if z.tail != prev {
		t.Fatalf("bad tail")
	}
	// Spans: at every level the span of each link is the number of
	// level-0 steps it jumps; the last link's span reaches past the end.
	pos := map[*zslNode]int{z.header: 0}
	i = 1
	for x := z.header.level[0].forward; x != nil; x = x.level[0].forward {
		pos[x] = i
		i++
	}
	for lv := 0; lv < z.level; lv++ {
		for x := z.header; x != nil; x = x.level[lv].forward {
			if f := x.level[lv].forward; f != nil {
				if got, want := x.level[lv].span, pos[f]-pos[x]; got != want {
					t.Fatalf("level %d: span %d, want %d", lv, got, want)
				}
			}
		}
	}
	if z.level > 1 && z.header.level[z.level-1].forward == nil {
		t.Fatalf("empty top level %d", z.level)
	}
	// Hash table: every node exactly once, in its bucket.
	seen := 0
	for b, n := range z.table {
		for ; n != nil; n = n.next {
			if int(n.hash&uint64(len(z.table)-1)) != b {
				t.Fatalf("node %q in bucket %d", n.member, b)
			}
			seen++
		}
	}
	if seen != len(md) {
		t.Fatalf("hash table holds %d nodes, want %d", seen, len(md))
	}
	for r, it := range md {
		if s, ok := z.Score([]byte(it.m)); !ok || s != it.s {
			t.Fatalf("Score(%q) = %v %v, want %v", it.m, s, ok, it.s)
		}
		if got, ok := z.Rank([]byte(it.m)); !ok || got != r {
			t.Fatalf("Rank(%q) = %d %v, want %d", it.m, got, ok, r)
		}
		if m, s := z.At(r); m != it.m || s != it.s {
			t.Fatalf("At(%d) = %q %v, want %v", r, m, s, it)
		}
	}
}

// TestZSetRandomOps applies thousands of random operations to a ZSet and
// to the model, checking every invariant after each.
func TestZSetRandomOps(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	z := NewZSet(false)
	var md zsetModel
	scores := []float64{0, 1, -1, 2.5, math.Inf(1), math.Inf(-1), 3, 3, 7}
	for op := 0; op < 6000; op++ {
		m := "m" + strconv.Itoa(rng.IntN(60))
		switch r := rng.IntN(10); {
		case r < 5:
			s := scores[rng.IntN(len(scores))]
			if _, ok := z.Score([]byte(m)); ok {
				z.SetScore([]byte(m), s)
			} else {
				z.Insert([]byte(m), s)
			}
			md.set(m, s)
		case r < 8:
			want := md.find(m) >= 0
			if got := z.Delete([]byte(m)); got != want {
				t.Fatalf("Delete(%q) = %v, want %v", m, got, want)
			}
			if i := md.find(m); i >= 0 {
				md = slices.Delete(md, i, i+1)
			}
		case r == 8 && len(md) > 0:
			a, b := rng.IntN(len(md)), rng.IntN(len(md))
			a, b = min(a, b), max(a, b)
			if n := z.DeleteRangeByRank(a, b); n != b-a+1 {
				t.Fatalf("DeleteRangeByRank(%d,%d) = %d", a, b, n)
			}
			md = slices.Delete(md, a, b+1)
		case r == 9:
			rg := ScoreRange{Min: scores[rng.IntN(len(scores))], Max: scores[rng.IntN(len(scores))], MinEx: rng.IntN(2) == 0, MaxEx: rng.IntN(2) == 0}
			want := 0
			md = slices.DeleteFunc(md, func(it zsetModelItem) bool {
				in := rg.GteMin(it.s) && rg.LteMax(it.s)
				if in {
					want++
				}
				return in
			})
			if n := z.DeleteRangeByScore(rg); n != want {
				t.Fatalf("DeleteRangeByScore(%+v) = %d, want %d", rg, n, want)
			}
		}
		if op%50 == 0 || z.Len() < 5 {
			zsetCheck(t, z, md)
		}
	}
	zsetCheck(t, z, md)
}

// TestZSetScoreRanges compares FirstInScoreRange/LastInScoreRange with a
// linear scan of the model for every combination of bounds.
func TestZSetScoreRanges(t *testing.T) {
	z := NewZSet(false)
	var md zsetModel
	for i, s := range []float64{math.Inf(-1), -2, 0, 0, 1, 1, 1, 2.5, 3, math.Inf(1)} {
		m := string(rune('a' + i))
		z.Insert([]byte(m), s)
		md.set(m, s)
	}
	bounds := []float64{math.Inf(-1), -3, -2, 0, 0.5, 1, 2.5, 3, 4, math.Inf(1)}
	for _, lo := range bounds {
		for _, hi := range bounds {
			for ex := 0; ex < 4; ex++ {
				r := ScoreRange{Min: lo, Max: hi, MinEx: ex&1 != 0, MaxEx: ex&2 != 0}
				first, last := -1, -1
				for i, it := range md {
					if r.GteMin(it.s) && r.LteMax(it.s) {
						if first < 0 {
							first = i
						}
						last = i
					}
				}
				if got := z.FirstInScoreRange(r); got != first {
					t.Errorf("FirstInScoreRange(%+v) = %d, want %d", r, got, first)
				}
				if got := z.LastInScoreRange(r); got != last {
					t.Errorf("LastInScoreRange(%+v) = %d, want %d", r, got, last)
				}
			}
		}
	}
}

// TestZSetLexRanges checks lex ranges over members of one score, in both
// forms, including "-", "+" and the empty ranges Redis recognizes.
func TestZSetLexRanges(t *testing.T) {
	members := []string{"", "a", "aa", "ab", "b", "ba", "c", "\xff"}
	bounds := []LexBound{{Inf: -1, Ex: true}, {Inf: 1, Ex: true}}
	for _, v := range []string{"", "a", "aa", "abc", "b", "zz", "\xff"} {
		bounds = append(bounds, LexBound{Value: v}, LexBound{Value: v, Ex: true})
	}
	for _, listpack := range []bool{true, false} {
		z := NewZSet(listpack)
		for _, m := range members {
			z.Insert([]byte(m), 0)
		}
		for _, lo := range bounds {
			for _, hi := range bounds {
				r := LexRange{Min: lo, Max: hi}
				first, last := -1, -1
				for i, m := range members {
					if r.GteMin(m) && r.LteMax(m) {
						if first < 0 {
							first = i
						}
						last = i
					}
				}
				if got := z.FirstInLexRange(r); got != first {
					t.Errorf("listpack=%v FirstInLexRange(%+v) = %d, want %d", listpack, r, got, first)
				}
				if got := z.LastInLexRange(r); got != last {
					t.Errorf("listpack=%v LastInLexRange(%+v) = %d, want %d", listpack, r, got, last)
				}
				c := z.Copy().(*ZSet)
				want := 0
				if first >= 0 {
					want = last - first + 1
				}
				if n := c.DeleteRangeByLex(r); n != want {
					t.Errorf("listpack=%v DeleteRangeByLex(%+v) = %d, want %d", listpack, r, n, want)
				}
				if c.Len() != len(members)-want {
					t.Errorf("Len after DeleteRangeByLex = %d", c.Len())
				}
			}
		}
	}
}

// TestZSetEncoding checks the one-way listpack to skiplist conversion, the
// listpack's loss of negative zero and FitListpack.
func TestZSetEncoding(t *testing.T) {
	z := NewZSet(true)
	for i := 0; i < 4; i++ {
		m := []byte{byte('a' + i)}
		z.Grow(len(m), 4, 8)
		z.Insert(m, math.Copysign(0, -1))
	}
	if z.Encoding() != "listpack" {
		t.Fatalf("4 members: %s", z.Encoding())
	}
	if s, _ := z.Score([]byte("a")); math.Signbit(s) {
		t.Errorf("listpack kept -0")
	}
	z.Grow(1, 4, 8)
	z.Insert([]byte("e"), math.Copysign(0, -1))
	if z.Encoding() != "skiplist" {
		t.Fatalf("5 members: %s", z.Encoding())
	}
	if s, _ := z.Score([]byte("e")); !math.Signbit(s) {
		t.Errorf("skiplist lost -0")
	}
	z.Delete([]byte("e"))
	z.Delete([]byte("d"))
	if z.Encoding() != "skiplist" {
		t.Errorf("conversion is one-way, got %s", z.Encoding())
	}
	long := NewZSet(true)
	long.Grow(9, 4, 8)
	if long.Encoding() != "skiplist" {
		t.Errorf("9-byte member with value limit 8: %s", long.Encoding())
	}

	f := NewZSet(false)
	f.Insert([]byte("x"), math.Copysign(0, -1))
	f.FitListpack(0, 64)
	if f.Encoding() != "skiplist" {
		t.Errorf("FitListpack over the entry limit: %s", f.Encoding())
	}
	f.FitListpack(1, 0)
	if f.Encoding() != "skiplist" {
		t.Errorf("FitListpack over the value limit: %s", f.Encoding())
	}
	f.FitListpack(1, 1)
	if s, _ := f.Score([]byte("x")); f.Encoding() != "listpack" || math.Signbit(s) {
		t.Errorf("FitListpack: %s, score %v", f.Encoding(), s)
	}
}

// TestZSetCopy checks that a copy is deep: changing either side leaves the
// other alone.
func TestZSetCopy(t *testing.T) {
	z := NewZSet(false)
	var md zsetModel
	for i := 0; i < 300; i++ {
		m := fmt.Sprintf("m%03d", i)
		z.Insert([]byte(m), float64(i%17))
		md.set(m, float64(i%17))
	}
	c := z.Copy().(*ZSet)
	if c.Encoding() != z.Encoding() {
		t.Fatalf("copy encoding %s", c.Encoding())
	}
	zsetCheck(t, c, md)
	c.Delete([]byte("m000"))
	c.SetScore([]byte("m001"), 1000)
	c.Insert([]byte("new"), 5)
	zsetCheck(t, z, md)
	z.DeleteRangeByRank(0, 99)
	if c.Len() != 300 {
		t.Fatalf("copy changed with the original: %d", c.Len())
	}
}

// TestZSetScan checks the dictScan cursor: a full scan returns every member
// present throughout, even when the table grows and shrinks between steps.
func TestZSetScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for round := 0; round < 20; round++ {
		z := NewZSet(false)
		for i := 0; i < 200; i++ {
			z.Insert([]byte("keep"+strconv.Itoa(i)), float64(i))
		}
		seen := map[string]bool{}
		cursor := uint64(0)
		extra := 0
		for steps := 0; ; steps++ {
			if steps > 100000 {
				t.Fatal("scan does not end")
			}
			cursor = z.Scan(cursor, 1+rng.IntN(20), func(m string, s float64) {
				seen[m] = true
			})
			if cursor == 0 {
				break
			}
			// Grow or shrink the table between steps.
			if rng.IntN(2) == 0 {
				for i := 0; i < rng.IntN(400); i++ {
					z.Insert([]byte("tmp"+strconv.Itoa(extra)), 0)
					extra++
				}
			} else {
				for i := 0; i < extra; i++ {
					z.Delete([]byte("tmp" + strconv.Itoa(i)))
				}
			}
		}
		for i := 0; i < 200; i++ {
			if m := "keep" + strconv.Itoa(i); !seen[m] {
				t.Fatalf("round %d: scan missed %s", round, m)
			}
		}
	}
	// A listpack is returned whole whatever the cursor.
	lp := NewZSet(true)
	lp.Insert([]byte("b"), 2)
	lp.Insert([]byte("a"), 1)
	var got []string
	if next := lp.Scan(12345, 1, func(m string, _ float64) { got = append(got, m) }); next != 0 || !slices.Equal(got, []string{"a", "b"}) {
		t.Errorf("listpack scan: %d %q", next, got)
	}
}

// TestZSetWalk checks Walk from every position in both directions and
// SetScore's in-place and moving updates.
func TestZSetWalk(t *testing.T) {
	z := NewZSet(true)
	for i := 0; i < 10; i++ {
		z.Insert([]byte{byte('a' + i)}, float64(i))
	}
	for start := 0; start < 10; start++ {
		var fwd, rev []string
		z.Walk(start, false, func(m string, _ float64) bool { fwd = append(fwd, m); return true })
		z.Walk(start, true, func(m string, _ float64) bool { rev = append(rev, m); return true })
		if len(fwd) != 10-start || fwd[0] != string(rune('a'+start)) || len(rev) != start+1 || rev[len(rev)-1] != "a" {
			t.Fatalf("Walk(%d): %q %q", start, fwd, rev)
		}
	}
	z.Walk(10, false, func(string, float64) bool { t.Fatal("Walk past the end"); return false })
	z.SetScore([]byte("c"), 2.5) // stays in place
	z.SetScore([]byte("a"), 100) // moves to the end
	if m, s := z.At(9); m != "a" || s != 100 {
		t.Errorf("At(9) = %q %v", m, s)
	}
	if m, s := z.At(1); m != "c" || s != 2.5 {
		t.Errorf("At(1) = %q %v", m, s)
	}
}

func BenchmarkZSetInsert(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	members := make([][]byte, 1<<20)
	for i := range members {
		members[i] = []byte(fmt.Sprintf("element:%012d", rng.IntN(1e9)))
	}
	b.ResetTimer()
	z := NewZSet(false)
	for i := 0; i < b.N; i++ {
		m := members[i&(len(members)-1)]
		if _, ok := z.Score(m); ok {
			z.SetScore(m, float64(i&1023))
		} else {
			z.Insert(m, float64(i&1023))
		}
	}
}
