package types

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// listCheck compares l with the model through every read path.
func listCheck(t *testing.T, step int, l *List, m []string) {
	t.Helper()
	if l.Len() != len(m) {
		t.Fatalf("step %d: Len %d, model %d", step, l.Len(), len(m))
	}
	if got := l.Values(); !slices.Equal(got, m) {
		t.Fatalf("step %d: Values %q, model %q", step, got, m)
	}
	var fwd, back []string
	l.Range(0, len(m)-1, false, func(s string) { fwd = append(fwd, s) })
	l.Range(0, len(m)-1, true, func(s string) { back = append(back, s) })
	rev := slices.Clone(m)
	slices.Reverse(rev)
	if !slices.Equal(fwd, m) && len(m) > 0 {
		t.Fatalf("step %d: Range %q, model %q", step, fwd, m)
	}
	if !slices.Equal(back, rev) && len(m) > 0 {
		t.Fatalf("step %d: reverse Range %q, model %q", step, back, rev)
	}
	i := 0
	l.Each(false, func(j int, s string) bool {
		if j != i || s != m[i] {
			t.Fatalf("step %d: Each(%d) = %d %q, model %q", step, i, j, s, m[i])
		}
		i++
		return true
	})
	i = len(m) - 1
	l.Each(true, func(j int, s string) bool {
		if j != i || s != m[i] {
			t.Fatalf("step %d: reverse Each(%d) = %d %q, model %q", step, i, j, s, m[i])
		}
		i--
		return true
	})
	for _, k := range []int{0, len(m) / 2, len(m) - 1, -1, -len(m), len(m), -len(m) - 1} {
		v, ok := l.Index(k)
		kk := k
		if kk < 0 {
			kk += len(m)
		}
		want := kk >= 0 && kk < len(m)
		if ok != want || (ok && v != m[kk]) {
			t.Fatalf("step %d: Index(%d) = %q %v, model len %d", step, k, v, ok, len(m))
		}
	}
	// Chunked-form invariants.
	if l.blocks != nil {
		if l.n <= listShrinkAt {
			t.Fatalf("step %d: chunked list of %d elements", step, l.n)
		}
		if want := (l.head + l.n + listBlockMask) >> listBlockShift; l.nb != want {
			t.Fatalf("step %d: %d blocks in use, want %d", step, l.nb, want)
		}
	} else if l.n > listBlockSize {
		t.Fatalf("step %d: small list of %d elements", step, l.n)
	}
}

// TestListModel applies random operations to a List and to a plain slice
// and compares them after each one, crossing the small/chunked boundaries
// many times.
func TestListModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	l := NewList()
	var m []string
	next := 0
	val := func() string {
		// A small alphabet so that Remove/Insert find matches.
		if rng.IntN(3) == 0 {
			next++
			return "v" + strconv.Itoa(next)
		}
		return "x" + strconv.Itoa(rng.IntN(5))
	}
	const steps = 40000
	for step := 0; step < steps; step++ {
		// Bias growth and shrinking in phases so lengths sweep 0..~1500.
		grow := (step/3000)%2 == 0
		switch op := rng.IntN(16); {
		case op < 3 && grow || op == 0:
			n := 1 + rng.IntN(20)
			for j := 0; j < n; j++ {
				v := val()
				l.PushBack([]byte(v))
				m = append(m, v)
			}
		case op < 6 && grow || op == 1:
			n := 1 + rng.IntN(20)
			for j := 0; j < n; j++ {
				v := val()
				l.PushFront([]byte(v))
				m = append([]string{v}, m...)
			}
		case op == 6:
			s, ok := l.PopFront()
			if ok != (len(m) > 0) || (ok && s != m[0]) {
				t.Fatalf("step %d: PopFront %q %v", step, s, ok)
			}
			if ok {
				m = m[1:]
			}
		case op == 7:
			s, ok := l.PopBack()
			if ok != (len(m) > 0) || (ok && s != m[len(m)-1]) {
				t.Fatalf("step %d: PopBack %q %v", step, s, ok)
			}
			if ok {
				m = m[:len(m)-1]
			}
		case op == 8:
			k := rng.IntN(40)
			if rng.IntN(2) == 0 {
				l.DropFront(k)
				m = m[min(k, len(m)):]
			} else {
				l.DropBack(k)
				m = m[:len(m)-min(k, len(m))]
			}
		case op == 9:
			if len(m) > 0 {
				i := rng.IntN(len(m))
				v := val()
				if !l.Set(i-len(m)*rng.IntN(2), []byte(v)) {
					t.Fatalf("step %d: Set(%d) failed", step, i)
				}
				m[i] = v
			}
			if l.Set(len(m), []byte("z")) || l.Set(-len(m)-1, []byte("z")) {
				t.Fatalf("step %d: Set out of range succeeded", step)
			}
		case op == 10:
			i := rng.IntN(len(m) + 1)
			v := val()
			l.InsertAt(i, []byte(v))
			m = slices.Insert(m, i, v)
		case op == 11:
			pivot, v := val(), val()
			after := rng.IntN(2) == 0
			i := slices.Index(m, pivot)
			if got := l.Insert([]byte(pivot), []byte(v), after); got != (i >= 0) {
				t.Fatalf("step %d: Insert found %v", step, got)
			}
			if i >= 0 {
				if after {
					i++
				}
				m = slices.Insert(m, i, v)
			}
		case op == 12:
			v := val()
			count := rng.IntN(7) - 3
			want, nm := modelRemove(m, v, count)
			if got := l.Remove([]byte(v), count); got != want {
				t.Fatalf("step %d: Remove(%q, %d) = %d, want %d", step, v, count, got, want)
			}
			m = nm
		case op == 13 && !grow:
			if len(m) > 0 {
				i := rng.IntN(len(m))
				k := rng.IntN(len(m)-i) + 1
				l.DeleteRange(i, k)
				m = slices.Delete(m, i, i+k)
			}
		case op == 14 && !grow:
			if len(m) > 0 {
				a, b := rng.IntN(len(m)), rng.IntN(len(m))
				if rng.IntN(10) == 0 {
					b = a - 1 // empty range
				}
				l.Trim(a, b)
				if a > b {
					m = nil
				} else {
					m = slices.Clone(m[a : b+1])
				}
			}
		case op == 15:
			c := l.Copy().(*List)
			listCheck(t, step, c, m)
			c.PushFront([]byte("copy-only"))
			c.Set(len(m)/2, []byte("copy-only"))
		}
		if step%5 == 0 || len(m) < 160 {
			listCheck(t, step, l, m)
		}
	}
	listCheck(t, steps, l, m)
}

func modelRemove(m []string, v string, count int) (int, []string) {
	limit := count
	if limit < 0 {
		limit = -limit
	}
	if limit == 0 {
		limit = len(m)
	}
	keep := make([]bool, len(m))
	removed := 0
	if count >= 0 {
		for i := range m {
			keep[i] = true
			if removed < limit && m[i] == v {
				keep[i] = false
				removed++
			}
		}
	} else {
		for i := len(m) - 1; i >= 0; i-- {
			keep[i] = true
			if removed < limit && m[i] == v {
				keep[i] = false
				removed++
			}
		}
	}
	var out []string
	for i, k := range keep {
		if k {
			out = append(out, m[i])
		}
	}
	return removed, out
}

// TestListQueue drives a long FIFO across many blocks: the memory stays
// bounded (blocks are released) and the order is kept.
func TestListQueue(t *testing.T) {
	l := NewList()
	in, out := 0, 0
	for round := 0; round < 50; round++ {
		for j := 0; j < 1000; j++ {
			l.PushBack([]byte(strconv.Itoa(in)))
			in++
		}
		for j := 0; j < 990; j++ {
			s, ok := l.PopFront()
			if !ok || s != strconv.Itoa(out) {
				t.Fatalf("pop %d: %q %v", out, s, ok)
			}
			out++
		}
		if l.nb > (l.n+listBlockSize-1)/listBlockSize+1 {
			t.Fatalf("%d blocks for %d elements", l.nb, l.n)
		}
	}
	if l.Len() != in-out {
		t.Fatalf("Len %d, want %d", l.Len(), in-out)
	}
	// The same from the other side.
	for l.Len() > 0 {
		s, _ := l.PopBack()
		in--
		if s != strconv.Itoa(in) {
			t.Fatalf("PopBack %q, want %d", s, in)
		}
	}
	if _, ok := l.PopBack(); ok {
		t.Fatal("PopBack on an empty list")
	}
	if _, ok := l.PopFront(); ok {
		t.Fatal("PopFront on an empty list")
	}
}

// TestListCopiesInput checks that stored bytes are copies.
func TestListCopiesInput(t *testing.T) {
	l := NewList()
	b := []byte("abc")
	l.PushBack(b)
	l.PushFront(b)
	l.InsertAt(1, b)
	l.Set(2, b)
	b[0] = 'X'
	if got := l.Values(); !slices.Equal(got, []string{"abc", "abc", "abc"}) {
		t.Fatalf("values changed with the caller's buffer: %q", got)
	}
	if l.Encoding() != "quicklist" {
		t.Fatalf("Encoding %q", l.Encoding())
	}
}

func TestListRemoveMinInt(t *testing.T) {
	l := NewList()
	for _, v := range []string{"a", "b", "a", "a"} {
		l.PushBack([]byte(v))
	}
	// Redis's -toremove overflows to LONG_MIN: no limit, from the tail.
	if n := l.Remove([]byte("a"), math.MinInt); n != 3 {
		t.Fatalf("removed %d", n)
	}
	if got := l.Values(); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("%q", got)
	}
}

// TestListBigIndex exercises index access on a large chunked list built
// from both ends.
func TestListBigIndex(t *testing.T) {
	l := NewList()
	const n = 100000
	for i := 0; i < n; i++ {
		if i%2 == 0 {
			l.PushBack([]byte(strconv.Itoa(i)))
		} else {
			l.PushFront([]byte(strconv.Itoa(i)))
		}
	}
	// Front: n-1, n-3, ..., 1, then 0, 2, 4, ...
	for _, i := range []int{0, 1, n/2 - 1, n / 2, n - 1} {
		var want int
		if i < n/2 {
			want = n - 1 - 2*i
		} else {
			want = 2 * (i - n/2)
		}
		if s, ok := l.Index(i); !ok || s != strconv.Itoa(want) {
			t.Fatalf("Index(%d) = %q, want %d", i, s, want)
		}
	}
	var got []string
	l.Range(n/2-2, n/2+1, false, func(s string) { got = append(got, s) })
	if !slices.Equal(got, []string{"3", "1", "0", "2"}) {
		t.Fatalf("Range %q", got)
	}
}

// TestListShrinks: a list that grew large and was popped down releases its
// blocks and its ring of block pointers.
func TestListShrinks(t *testing.T) {
	l := NewList()
	for i := 0; i < 200000; i++ {
		l.PushBack([]byte("x"))
	}
	big := len(l.blocks)
	for l.Len() > 1000 {
		if l.Len()%2 == 0 {
			l.PopFront()
		} else {
			l.PopBack()
		}
	}
	if l.nb > 10 || len(l.blocks) > 64 {
		t.Fatalf("%d elements keep %d blocks in a ring of %d (was %d)", l.Len(), l.nb, len(l.blocks), big)
	}
	l.DropFront(990)
	if l.blocks != nil || len(l.sm) > 32 {
		t.Fatalf("%d elements not back in a small ring (%d slots)", l.Len(), len(l.sm))
	}
}

// TestListStringAPI covers the no-copy pushes and the end accessors used by
// the move and blocking commands.
func TestListStringAPI(t *testing.T) {
	l := NewList()
	if _, ok := l.Front(); ok {
		t.Fatal("Front of an empty list")
	}
	if _, ok := l.Back(); ok {
		t.Fatal("Back of an empty list")
	}
	l.PushBackString("b")
	l.PushFrontString("a")
	l.PushBackString("c")
	f, _ := l.Front()
	b, _ := l.Back()
	if f != "a" || b != "c" || l.Len() != 3 {
		t.Fatalf("Front %q Back %q Len %d", f, b, l.Len())
	}
	stopped := 0
	l.Each(false, func(i int, s string) bool { stopped = i; return i < 1 })
	if stopped != 1 {
		t.Fatalf("Each did not stop at 1: %d", stopped)
	}
	l.Each(true, func(i int, s string) bool { stopped = i; return false })
	if stopped != 2 {
		t.Fatalf("reverse Each started at %d", stopped)
	}
	l.DeleteRange(-1, 2) // clamped: removes element 0
	if got := l.Values(); !slices.Equal(got, []string{"b", "c"}) {
		t.Fatalf("DeleteRange(-1, 2): %q", got)
	}
	l.DeleteRange(1, 100)
	l.DeleteRange(5, 1)
	if got := l.Values(); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("DeleteRange past the end: %q", got)
	}
}

func BenchmarkListPushPop(b *testing.B) {
	l := NewList()
	v := []byte("value")
	for i := 0; i < 1000; i++ {
		l.PushBack(v)
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		l.PushBack(v)
		l.PopFront()
	}
}

func BenchmarkListIndexBig(b *testing.B) {
	l := NewList()
	for i := 0; i < 1_000_000; i++ {
		l.PushFront([]byte("v"))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l.Index(i % 1_000_000)
	}
}

func BenchmarkListInsertMiddleBig(b *testing.B) {
	l := NewList()
	for i := 0; i < 1_000_000; i++ {
		l.PushBack([]byte("v"))
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		l.InsertAt(l.Len()/2, []byte("m"))
		l.DeleteRange(l.Len()/2, 1)
	}
}
