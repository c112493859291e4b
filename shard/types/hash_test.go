package types

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
)

func hashPairs(h *Hash) []string {
	var out []string
	h.Range(func(f, v string) bool {
		out = append(out, f, v)
		return true
	})
	return out
}

func hashSet(h *Hash, f, v string, maxEntries, maxValue int64) bool {
	return h.Set([]byte(f), []byte(v), maxEntries, maxValue)
}

func TestHashListpackOrder(t *testing.T) {
	h := NewHash()
	for _, p := range [][2]string{{"a", "1"}, {"b", "2"}, {"c", "3"}} {
		if !hashSet(h, p[0], p[1], 128, 64) {
			t.Fatalf("set %s: not new", p[0])
		}
	}
	if hashSet(h, "a", "x", 128, 64) {
		t.Fatal("update reported new")
	}
	if !h.Delete([]byte("b")) || h.Delete([]byte("b")) {
		t.Fatal("delete b")
	}
	hashSet(h, "b", "y", 128, 64)
	want := []string{"a", "x", "c", "3", "b", "y"}
	if got := hashPairs(h); !reflect.DeepEqual(got, want) {
		t.Fatalf("order %v, want %v", got, want)
	}
	if h.Encoding() != "listpack" || !h.IsListpack() || h.Len() != 3 {
		t.Fatalf("encoding %s len %d", h.Encoding(), h.Len())
	}
	if v, ok := h.Get([]byte("c")); !ok || v != "3" {
		t.Fatalf("get c = %q %v", v, ok)
	}
	if _, ok := h.Get([]byte("zz")); ok || h.Exists([]byte("zz")) {
		t.Fatal("missing field found")
	}
}

func TestHashConversions(t *testing.T) {
	// Too many entries: converts after the insertion that passes the limit.
	h := NewHash()
	hashSet(h, "a", "1", 2, 64)
	hashSet(h, "b", "1", 2, 64)
	if h.Encoding() != "listpack" {
		t.Fatal("converted at the limit")
	}
	hashSet(h, "a", "2", 2, 64) // update: still 2 entries
	if h.Encoding() != "listpack" {
		t.Fatal("converted on update")
	}
	hashSet(h, "c", "1", 2, 64)
	if h.Encoding() != "hashtable" || h.IsListpack() {
		t.Fatal("not converted past the limit")
	}
	// The order survives the conversion; the large form never goes back.
	if got := hashPairs(h); !reflect.DeepEqual(got, []string{"a", "2", "b", "1", "c", "1"}) {
		t.Fatalf("order after conversion %v", got)
	}
	h.Delete([]byte("a"))
	h.Delete([]byte("b"))
	if h.Encoding() != "hashtable" || h.Len() != 1 {
		t.Fatal("large form went back")
	}

	// A long field or value converts, even on update; a value exactly at
	// the limit does not.
	for _, tc := range []struct {
		f, v string
		want string
	}{
		{"a", strings.Repeat("x", 64), "listpack"},
		{"a", strings.Repeat("x", 65), "hashtable"},
		{strings.Repeat("f", 65), "1", "hashtable"},
	} {
		h := NewHash()
		hashSet(h, "a", "1", 128, 64)
		hashSet(h, tc.f, tc.v, 128, 64)
		if h.Encoding() != tc.want {
			t.Errorf("set %d/%d bytes: %s, want %s", len(tc.f), len(tc.v), h.Encoding(), tc.want)
		}
	}
	// Limits of 0: the empty field and value still fit.
	h = NewHash()
	hashSet(h, "", "", 128, 0)
	if h.Encoding() != "listpack" {
		t.Fatal("empty pair converted")
	}
	h = NewHash()
	hashSet(h, "a", "", 0, 64)
	if h.Encoding() != "hashtable" {
		t.Fatal("entries 0 kept listpack")
	}
}

func TestHashCopy(t *testing.T) {
	for _, large := range []bool{false, true} {
		h := NewHash()
		maxEntries := int64(128)
		if large {
			maxEntries = 0
		}
		hashSet(h, "a", "1", maxEntries, 64)
		hashSet(h, "b", "2", maxEntries, 64)
		c := h.Copy().(*Hash)
		hashSet(c, "a", "changed", maxEntries, 64)
		c.Delete([]byte("b"))
		hashSet(c, "z", "9", maxEntries, 64)
		if got := hashPairs(h); !reflect.DeepEqual(got, []string{"a", "1", "b", "2"}) {
			t.Fatalf("large=%v: original changed by its copy: %v", large, got)
		}
		if got := hashPairs(c); !reflect.DeepEqual(got, []string{"a", "changed", "z", "9"}) {
			t.Fatalf("large=%v: copy %v", large, got)
		}
		if c.Encoding() != h.Encoding() {
			t.Fatalf("copy encoding %s, original %s", c.Encoding(), h.Encoding())
		}
	}
}

// TestHashScanLarge checks the resumable cursor: with fields added and
// deleted between calls, every field present for the whole scan comes
// back exactly once.
func TestHashScanLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 50; round++ {
		h := NewHash()
		n := 50 + rng.IntN(500)
		for i := 0; i < n; i++ {
			hashSet(h, fmt.Sprintf("f%d", i), "v", 0, 64)
		}
		// Fields never touched during the scan.
		stable := map[string]bool{}
		for i := 0; i < n; i += 2 {
			stable[fmt.Sprintf("f%d", i)] = true
		}
		seen := map[string]int{}
		cursor := uint64(0)
		next := n
		for calls := 0; ; calls++ {
			if calls > 10*n {
				t.Fatal("scan does not end")
			}
			count := 1 + rng.IntN(20)
			got := 0
			cursor = h.Scan(cursor, count, func(f, v string) {
				seen[f]++
				got++
			})
			if got > count {
				t.Fatalf("returned %d > count %d", got, count)
			}
			if cursor == 0 {
				break
			}
			// Churn the odd fields and add new ones (which compacts
			// now and then).
			for k := 0; k < 10; k++ {
				f := fmt.Sprintf("f%d", 1+2*rng.IntN(n/2))
				if rng.IntN(2) == 0 {
					h.Delete([]byte(f))
				} else {
					hashSet(h, f, "w", 0, 64)
				}
			}
			hashSet(h, fmt.Sprintf("f%d", next), "new", 0, 64)
			next++
		}
		for f := range stable {
			if seen[f] != 1 {
				t.Fatalf("round %d: stable field %s returned %d times", round, f, seen[f])
			}
		}
		// Fields added during the scan and never deleted: at most once. (A
		// field deleted and set again is a new entry each time: it may
		// come back again.)
		for i := n; i < next; i++ {
			if c := seen[fmt.Sprintf("f%d", i)]; c > 1 {
				t.Fatalf("round %d: new field f%d returned %d times", round, i, c)
			}
		}
	}
}

func TestHashScanSmall(t *testing.T) {
	h := NewHash()
	hashSet(h, "a", "1", 128, 64)
	hashSet(h, "b", "2", 128, 64)
	var got []string
	if next := h.Scan(12345, 1, func(f, v string) { got = append(got, f, v) }); next != 0 {
		t.Fatalf("listpack scan cursor %d", next)
	}
	if !reflect.DeepEqual(got, []string{"a", "1", "b", "2"}) {
		t.Fatalf("listpack scan %v", got)
	}
}

func TestHashRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, large := range []bool{false, true} {
		h := NewHash()
		maxEntries := int64(1000)
		if large {
			maxEntries = 0
		}
		for i := 0; i < 40; i++ {
			hashSet(h, fmt.Sprintf("f%02d", i), fmt.Sprint(i), maxEntries, 64)
		}
		for i := 0; i < 40; i += 3 { // tombstones in the large form
			h.Delete([]byte(fmt.Sprintf("f%02d", i)))
		}
		size := h.Len()
		hits := map[string]int{}
		for i := 0; i < 20000; i++ {
			f, v := h.Random(rng.IntN)
			if want, ok := h.Get([]byte(f)); !ok || want != v {
				t.Fatalf("random pair %s=%s not in hash", f, v)
			}
			hits[f]++
		}
		if len(hits) != size {
			t.Fatalf("large=%v: %d distinct of %d", large, len(hits), size)
		}
		for count := 1; count < size; count++ {
			var got []string
			h.RandomUnique(count, rng.IntN, func(f, v string) {
				if want, _ := h.Get([]byte(f)); want != v {
					t.Fatalf("pair %s=%s", f, v)
				}
				got = append(got, f)
			})
			if len(got) != count {
				t.Fatalf("large=%v count %d: got %d", large, count, len(got))
			}
			uniq := map[string]bool{}
			for _, f := range got {
				uniq[f] = true
			}
			if len(uniq) != count {
				t.Fatalf("large=%v count %d: duplicates %v", large, count, got)
			}
			// The small form keeps hash order, as Redis's listpack does.
			if !large && !sort.StringsAreSorted(got) {
				t.Fatalf("listpack sample out of order: %v", got)
			}
		}
	}
}

// TestHashModel drives random operations on both forms against a map and
// an order slice.
func TestHashModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	const ops = 20000
	h := NewHash()
	model := map[string]string{}
	var order []string
	for i := 0; i < ops; i++ {
		f := fmt.Sprintf("f%d", rng.IntN(300))
		switch rng.IntN(3) {
		case 0, 1:
			v := fmt.Sprint(rng.IntN(1000))
			_, had := model[f]
			if created := hashSet(h, f, v, 128, 64); created == had {
				t.Fatalf("op %d: set %s created=%v had=%v", i, f, created, had)
			}
			if !had {
				order = append(order, f)
			}
			model[f] = v
		case 2:
			_, had := model[f]
			if h.Delete([]byte(f)) != had {
				t.Fatalf("op %d: delete %s", i, f)
			}
			if had {
				delete(model, f)
				for j, o := range order {
					if o == f {
						order = append(order[:j], order[j+1:]...)
						break
					}
				}
			}
		}
		if h.Len() != len(model) {
			t.Fatalf("op %d: len %d, model %d", i, h.Len(), len(model))
		}
		if i%97 == 0 {
			var want []string
			for _, o := range order {
				want = append(want, o, model[o])
			}
			// Both forms keep insertion order in kvd.
			if got := hashPairs(h); !reflect.DeepEqual(got, want) && len(want) > 0 {
				t.Fatalf("op %d (%s): pairs differ", i, h.Encoding())
			}
		}
	}
	if h.Encoding() != "hashtable" {
		t.Fatal("model test never converted")
	}
}
