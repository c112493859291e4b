package types

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

func setMembersOf(s *Set) []string {
	out := make([]string, 0, s.Len())
	for i := 0; i < s.Len(); i++ {
		out = append(out, string(s.Member(i, nil)))
	}
	return out
}

func TestTypesSetIntsetForm(t *testing.T) {
	s := NewSet()
	if s.Encoding() != "intset" || s.Len() != 0 {
		t.Fatalf("new set: %s len %d", s.Encoding(), s.Len())
	}
	for _, m := range []string{"3", "-5", "1", "9223372036854775807", "-9223372036854775808", "0"} {
		if !s.Add([]byte(m), 512) {
			t.Fatalf("Add(%s) = false", m)
		}
	}
	if s.Add([]byte("3"), 512) {
		t.Fatal("duplicate added")
	}
	want := []string{"-9223372036854775808", "-5", "0", "1", "3", "9223372036854775807"}
	if got := setMembersOf(s); !slices.Equal(got, want) {
		t.Fatalf("members %q, want ascending %q", got, want)
	}
	if !s.IsIntset() || s.Encoding() != "intset" {
		t.Fatalf("encoding %s", s.Encoding())
	}
	for _, m := range []string{"01", "+1", " 1", "1 ", "-0", "", "9223372036854775808", "0x1", "1.0"} {
		if s.Has([]byte(m)) || s.Remove([]byte(m)) {
			t.Errorf("non-canonical %q found", m)
		}
	}
	if v, ok := s.Int(0); !ok || v != -9223372036854775808 {
		t.Errorf("Int(0) = %d, %v", v, ok)
	}
	if !s.Remove([]byte("0")) || s.Remove([]byte("0")) || s.Has([]byte("0")) {
		t.Fatal("remove 0")
	}
	s.RemoveAt(0)
	if got := setMembersOf(s); !slices.Equal(got, []string{"-5", "1", "3", "9223372036854775807"}) {
		t.Fatalf("after RemoveAt(0): %q", got)
	}
}

func TestTypesSetConversion(t *testing.T) {
	// A non-canonical integer converts, and never back.
	s := NewSet()
	s.Add([]byte("1"), 512)
	s.Add([]byte("01"), 512)
	if s.Encoding() != "hashtable" || s.Len() != 2 || !s.Has([]byte("1")) || !s.Has([]byte("01")) {
		t.Fatalf("after 01: %s %q", s.Encoding(), setMembersOf(s))
	}
	s.Remove([]byte("01"))
	if s.Encoding() != "hashtable" {
		t.Fatal("converted back to intset")
	}
	if _, ok := s.Int(0); ok {
		t.Fatal("Int on a hashtable")
	}

	// The entry limit: len > max converts.
	s = NewSet()
	for i := 0; i < 3; i++ {
		s.Add([]byte(strconv.Itoa(i)), 3)
	}
	if s.Encoding() != "intset" {
		t.Fatal("3 entries with max 3 should stay an intset")
	}
	s.Add([]byte("2"), 3) // duplicate: no change
	if s.Encoding() != "intset" {
		t.Fatal("duplicate converted")
	}
	s.Add([]byte("3"), 3)
	if s.Encoding() != "hashtable" || s.Len() != 4 {
		t.Fatalf("4 entries with max 3: %s", s.Encoding())
	}
	for i := 0; i < 4; i++ {
		if !s.Has([]byte(strconv.Itoa(i))) {
			t.Fatalf("lost %d in conversion", i)
		}
	}

	// max 0: even one integer is a hashtable; a huge max is capped at 1<<30
	// (not observable cheaply, but must not overflow).
	s = NewSet()
	s.Add([]byte("7"), 0)
	if s.Encoding() != "hashtable" {
		t.Fatal("max 0 should give a hashtable")
	}
	s = NewSet()
	s.Add([]byte("7"), 1<<62)
	if s.Encoding() != "intset" {
		t.Fatal("huge max")
	}
}

func TestTypesSetCopy(t *testing.T) {
	for _, members := range [][]string{{"1", "2", "3"}, {"a", "b", "1"}} {
		s := NewSet()
		for _, m := range members {
			s.Add([]byte(m), 512)
		}
		c := s.Copy().(*Set)
		if c.Encoding() != s.Encoding() || !slices.Equal(setMembersOf(c), setMembersOf(s)) {
			t.Fatalf("copy differs: %s %q vs %s %q", c.Encoding(), setMembersOf(c), s.Encoding(), setMembersOf(s))
		}
		c.Add([]byte("zz"), 512)
		c.Remove([]byte("1"))
		if !s.Has([]byte("1")) || s.Has([]byte("zz")) || s.Len() != 3 {
			t.Fatalf("modifying the copy changed the original: %q", setMembersOf(s))
		}
		s.Remove([]byte(members[1]))
		if !c.Has([]byte(members[1])) {
			t.Fatal("modifying the original changed the copy")
		}
	}
}

func TestTypesSetAddCopiesInput(t *testing.T) {
	s := NewSet()
	s.Add([]byte("x"), 512) // hashtable
	b := []byte("member")
	s.Add(b, 512)
	copy(b, "XXXXXX")
	if !s.Has([]byte("member")) || s.Has([]byte("XXXXXX")) {
		t.Fatal("Add kept a reference to its argument")
	}
}

// TestTypesSetModel applies random operations to a Set and to a map and
// compares them, in both forms and across the conversion.
func TestTypesSetModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := 0; round < 20; round++ {
		s := NewSet()
		model := map[string]bool{}
		intset := true
		max := int64(rng.IntN(40))
		for op := 0; op < 2000; op++ {
			var m string
			if rng.IntN(10) == 0 {
				m = "s" + strconv.Itoa(rng.IntN(30))
			} else {
				m = strconv.Itoa(rng.IntN(60) - 30)
			}
			switch rng.IntN(4) {
			case 0, 1:
				if got, want := s.Add([]byte(m), max), !model[m]; got != want {
					t.Fatalf("Add(%s) = %v, want %v", m, got, want)
				}
				model[m] = true
				if m[0] == 's' || int64(len(model)) > max {
					intset = false
				}
			case 2:
				if got, want := s.Remove([]byte(m)), model[m]; got != want {
					t.Fatalf("Remove(%s) = %v, want %v", m, got, want)
				}
				delete(model, m)
			case 3:
				if s.Len() > 0 {
					i := rng.IntN(s.Len())
					delete(model, string(s.Member(i, nil)))
					s.RemoveAt(i)
				}
			}
			if s.Has([]byte(m)) != model[m] {
				t.Fatalf("Has(%s) wrong", m)
			}
			if s.Len() != len(model) || s.IsIntset() != intset {
				t.Fatalf("len %d/%d intset %v/%v", s.Len(), len(model), s.IsIntset(), intset)
			}
		}
		got := setMembersOf(s)
		seen := map[string]bool{}
		for _, m := range got {
			if !model[m] || seen[m] {
				t.Fatalf("member %q unexpected or repeated", m)
			}
			seen[m] = true
		}
		if s.IsIntset() {
			if !slices.IsSortedFunc(got, func(a, b string) int {
				x, _ := strconv.ParseInt(a, 10, 64)
				y, _ := strconv.ParseInt(b, 10, 64)
				return int(x - y)
			}) {
				t.Fatalf("intset not ascending: %q", got)
			}
		}
	}
}

// TestTypesSetScanGuarantee scans hashtables while members are added and
// removed between steps: every member present for the whole scan must be
// returned, and nothing that never was a member.
func TestTypesSetScanGuarantee(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for round := 0; round < 200; round++ {
		s := NewSet()
		s.Add([]byte("x"), 512) // hashtable
		n := 1 + rng.IntN(300)
		for i := 0; i < n; i++ {
			s.Add([]byte("m"+strconv.Itoa(i)), 512)
		}
		stable := map[string]bool{} // present for the whole scan
		ever := map[string]bool{}
		for i := 0; i < s.Len(); i++ {
			m := string(s.Member(i, nil))
			stable[m], ever[m] = true, true
		}
		next := n
		returned := map[string]bool{}
		cursor := uint64(0)
		steps := 0
		for {
			count := 1 + rng.IntN(20)
			cursor = s.Scan(cursor, count, func(m []byte) {
				if !ever[string(m)] {
					t.Fatalf("returned %q, never a member", m)
				}
				returned[string(m)] = true
			})
			steps++
			if cursor == 0 {
				break
			}
			if steps > 100000 {
				t.Fatal("scan does not terminate")
			}
			// Churn: add and remove some members.
			for k := rng.IntN(6); k > 0; k-- {
				if rng.IntN(2) == 0 && s.Len() > 1 {
					i := rng.IntN(s.Len())
					m := string(s.Member(i, nil))
					delete(stable, m)
					s.RemoveAt(i)
				} else {
					m := "m" + strconv.Itoa(next)
					next++
					ever[m] = true
					s.Add([]byte(m), 512)
				}
			}
		}
		for m := range stable {
			if !returned[m] {
				t.Fatalf("round %d: member %q present for the whole scan was not returned", round, m)
			}
		}
	}
}

func TestTypesSetScanIntsetAndCounts(t *testing.T) {
	s := NewSet()
	for i := 5; i > 0; i-- {
		s.Add([]byte(strconv.Itoa(i)), 512)
	}
	var got []string
	if c := s.Scan(12345, 1, func(m []byte) { got = append(got, string(m)) }); c != 0 {
		t.Fatalf("intset cursor %d, want 0", c)
	}
	if !slices.Equal(got, []string{"1", "2", "3", "4", "5"}) {
		t.Fatalf("intset scan %q", got)
	}

	s.Add([]byte("a"), 512) // hashtable of 6
	got = got[:0]
	c := s.Scan(0, 4, func(m []byte) { got = append(got, string(m)) })
	if c != 2 || len(got) != 4 {
		t.Fatalf("first step: cursor %d, %d members", c, len(got))
	}
	c = s.Scan(c, 4, func(m []byte) { got = append(got, string(m)) })
	if c != 0 || len(got) != 6 {
		t.Fatalf("second step: cursor %d, %d members", c, len(got))
	}
	// A cursor beyond the size is clamped to it: the scan covers everything.
	got = got[:0]
	if c := s.Scan(1<<40, 100, func(m []byte) { got = append(got, string(m)) }); c != 0 || len(got) != 6 {
		t.Fatalf("clamped cursor: %d, %q", c, got)
	}
}
