package server

// pqsort orders v the way Redis does where it calls its pqsort: SORT with a
// BY pattern and a LIMIT that does not cover the whole vector, and the GEO
// searches sorting (ASC/DESC) more matches than their COUNT. It is Bentley
// and McIlroy's
// quicksort as in NetBSD's libc, which Redis extends to skip partitions
// entirely outside the requested range [lo, hi] (element indices,
// inclusive). Elements inside the range end up where a full sort puts
// them; elements outside may stay unsorted.
//
// It is not stable, and Redis's output for elements that compare equal
// (SORT ... BY <pattern> ALPHA, with missing or equal weights) is whatever
// this algorithm leaves, so kvd follows it step for step: pivot choice
// (median of three, ninther above 40 elements), the equal-element swaps to
// both ends, insertion sort below 7 elements, and recursion into the left
// part before iterating on the right. (NetBSD's switch to insertion sort
// after a pass that swapped nothing is not there: Redis removed it in 2.8
// for its quadratic worst case, and 7.0 sorts without it.)
func pqsort[T any](v []T, cmp func(a, b *T) int, lo, hi int) {
	pqsortPart(v, 0, len(v), cmp, lo, hi)
}

func pqsortPart[T any](v []T, base, n int, cmp func(a, b *T) int, lo, hi int) {
	less := func(i, j int) int { return cmp(&v[i], &v[j]) }
	swap := func(i, j int) { v[i], v[j] = v[j], v[i] }
	med3 := func(a, b, c int) int {
		if less(a, b) < 0 {
			if less(b, c) < 0 {
				return b
			}
			if less(a, c) < 0 {
				return c
			}
			return a
		}
		if less(b, c) > 0 {
			return b
		}
		if less(a, c) < 0 {
			return a
		}
		return c
	}
	insertion := func(base, n int) {
		for m := base + 1; m < base+n; m++ {
			for l := m; l > base && less(l-1, l) > 0; l-- {
				swap(l, l-1)
			}
		}
	}
	// outside reports a part [s, e] that the range [lo, hi] does not touch.
	outside := func(s, e int) bool { return lo < s && hi < s || lo > e && hi > e }
	for {
		if n < 7 {
			insertion(base, n)
			return
		}
		m := base + n/2
		if n > 7 {
			l, r := base, base+n-1
			if n > 40 {
				d := n / 8
				l = med3(l, l+d, l+2*d)
				m = med3(m-d, m, m+d)
				r = med3(r-2*d, r-d, r)
			}
			m = med3(l, m, r)
		}
		swap(base, m) // the pivot waits at base
		a, b := base+1, base+1
		c, d := base+n-1, base+n-1
		for {
			for b <= c {
				r := less(b, base)
				if r > 0 {
					break
				}
				if r == 0 {
					swap(a, b)
					a++
				}
				b++
			}
			for b <= c {
				r := less(c, base)
				if r < 0 {
					break
				}
				if r == 0 {
					swap(c, d)
					d--
				}
				c--
			}
			if b > c {
				break
			}
			swap(b, c)
			b++
			c--
		}
		end := base + n
		k := min(a-base, b-a)
		for i := 0; i < k; i++ { // equal elements from the left end to the middle
			swap(base+i, b-k+i)
		}
		k = min(d-c, end-d-1)
		for i := 0; i < k; i++ { // and from the right end
			swap(b+i, end-k+i)
		}
		if k := b - a; k > 1 && !outside(base, base+k-1) {
			pqsortPart(v, base, k, cmp, lo, hi)
		}
		k = d - c
		if k <= 1 {
			return
		}
		base, n = end-k, k
		if outside(base, base+k-1) {
			return
		}
	}
}
