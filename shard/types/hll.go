package types

import (
	"math"
	"math/bits"
)

// HyperLogLog in Redis's string format.
//
// Unlike the other kinds, a HyperLogLog is not a structure in Object.Val: it
// is a plain string value (Redis has no HLL type), laid out byte for byte as
// Redis 7.0 lays it out so that GET/SET/DUMP of an HLL move between kvd and
// redis-server unchanged:
//
//	+------+-----+--------+------------------+-----------------------+
//	| HYLL | enc | 3 x 00 | cached card (LE) | registers             |
//	+------+-----+--------+------------------+-----------------------+
//	  4      1     3        8                  dense: 12288 bytes
//	                                           sparse: opcodes
//
// enc is HLLDense (16384 6-bit registers packed LSB first) or HLLSparse
// (run-length opcodes ZERO 00xxxxxx, XZERO 01xxxxxx yyyyyyyy, VAL
// 1vvvvvxx). The most significant bit of the last cardinality byte set
// means the cached cardinality is stale.
//
// The functions here work on such strings. Those that modify take the
// string and return it, possibly reallocated (growth of the sparse form,
// promotion to dense): the caller stores the returned slice. Strings are
// modified in place otherwise.
//
// Reads past the end of the string behave as reads of Redis's sds
// terminator (a zero byte), which is what redis-server does when a corrupt
// sparse string ends in the middle of an opcode.

// HLL geometry and encodings, as Redis 7.0 defines them.
const (
	HLLP          = 14        // index bits
	HLLQ          = 64 - HLLP // bits left to count the zero run
	HLLRegisters  = 1 << HLLP // 16384 registers
	HLLBits       = 6         // bits per dense register
	HLLHeaderSize = 16        // magic, encoding, unused, card
	HLLDenseSize  = HLLHeaderSize + (HLLRegisters*HLLBits+7)/8
	HLLDense      = 0                       // encoding byte of the dense form
	HLLSparse     = 1                       // encoding byte of the sparse form
	hllPMask      = HLLRegisters - 1        // register index mask
	hllRegMax     = 1<<HLLBits - 1          // largest register value
	hllSeed       = 0xadc83b19              // MurmurHash64A seed of hllPatLen
	hllAlphaInf   = 0.721347520444481703680 // 0.5/ln(2)

	hllSparseValMaxValue = 32
	hllSparseValMaxLen   = 4
	hllSparseZeroMaxLen  = 64
	hllSparseXZeroMaxLen = 16384
	hllSparseXZeroBit    = 0x40
	hllSparseValBit      = 0x80
)

// MurmurHash64A is Redis's endian-neutral 64-bit MurmurHash2.
func MurmurHash64A(key []byte, seed uint32) uint64 {
	const m = 0xc6a4a7935bd1e995
	const r = 47
	n := len(key)
	h := uint64(seed) ^ (uint64(n) * m)
	i := 0
	for ; i+8 <= n; i += 8 {
		k := uint64(key[i]) | uint64(key[i+1])<<8 | uint64(key[i+2])<<16 | uint64(key[i+3])<<24 |
			uint64(key[i+4])<<32 | uint64(key[i+5])<<40 | uint64(key[i+6])<<48 | uint64(key[i+7])<<56
		k *= m
		k ^= k >> r
		k *= m
		h ^= k
		h *= m
	}
	if rest := n & 7; rest != 0 {
		for j := rest - 1; j >= 0; j-- {
			h ^= uint64(key[i+j]) << (8 * j)
		}
		h *= m
	}
	h ^= h >> r
	h *= m
	h ^= h >> r
	return h
}

// HLLPatLen hashes an element and returns the register it updates and the
// length of its "000...1" pattern (1..HLLQ+1), as Redis's hllPatLen.
func HLLPatLen(ele []byte) (index int, count uint8) {
	hash := MurmurHash64A(ele, hllSeed)
	index = int(hash & hllPMask)
	hash >>= HLLP
	hash |= 1 << HLLQ // the loop of Redis stops at bit Q at the latest
	return index, uint8(bits.TrailingZeros64(hash) + 1)
}

// NewHLL returns an empty HLL in the sparse form: the header and one XZERO
// opcode covering every register (Redis's createHLLObject).
func NewHLL() []byte {
	s := make([]byte, HLLHeaderSize+2, HLLHeaderSize+16)
	copy(s, "HYLL")
	s[4] = HLLSparse
	p := HLLHeaderSize
	for aux := HLLRegisters; aux > 0; {
		xz := min(aux, hllSparseXZeroMaxLen)
		hllXZeroSet(s[p:], xz)
		p += 2
		aux -= xz
	}
	return s
}

// IsHLL reports whether s has a valid HLL header, as Redis's
// isHLLObjectOrReply: long enough for the header, magic "HYLL", a known
// encoding and, for the dense form, the exact dense length. The sparse
// opcodes are checked only when used.
func IsHLL(s []byte) bool {
	if len(s) < HLLHeaderSize || s[0] != 'H' || s[1] != 'Y' || s[2] != 'L' || s[3] != 'L' {
		return false
	}
	if s[4] > HLLSparse {
		return false
	}
	return s[4] != HLLDense || len(s) == HLLDenseSize
}

// HLLIsSparse reports whether a valid HLL string uses the sparse form.
func HLLIsSparse(s []byte) bool { return s[4] == HLLSparse }

// HLLCachedCard returns the cached cardinality and whether it is valid.
func HLLCachedCard(s []byte) (uint64, bool) {
	if s[15]&0x80 != 0 {
		return 0, false
	}
	var c uint64
	for i := 7; i >= 0; i-- {
		c = c<<8 | uint64(s[8+i])
	}
	return c, true
}

// HLLSetCachedCard stores a freshly computed cardinality in the header.
func HLLSetCachedCard(s []byte, card uint64) {
	for i := 0; i < 8; i++ {
		s[8+i] = byte(card >> (8 * i))
	}
}

// HLLInvalidateCache marks the cached cardinality stale.
func HLLInvalidateCache(s []byte) { s[15] |= 0x80 }

// Dense registers.

func hllDenseGet(regs []byte, i int) uint8 {
	b := i * HLLBits / 8
	fb := uint(i * HLLBits & 7)
	b0 := uint(regs[b])
	var b1 uint
	if b+1 < len(regs) {
		b1 = uint(regs[b+1])
	}
	return uint8((b0>>fb | b1<<(8-fb)) & hllRegMax)
}

func hllDenseSetReg(regs []byte, i int, v uint8) {
	b := i * HLLBits / 8
	fb := uint(i * HLLBits & 7)
	fb8 := 8 - fb
	uv := uint(v)
	regs[b] &^= byte(hllRegMax << fb)
	regs[b] |= byte(uv << fb)
	if b+1 < len(regs) {
		regs[b+1] &^= byte(hllRegMax >> fb8)
		regs[b+1] |= byte(uv >> fb8)
	}
}

// hllDenseSet raises register index to count; 1 if it changed.
func hllDenseSet(regs []byte, index int, count uint8) int {
	if count > hllDenseGet(regs, index) {
		hllDenseSetReg(regs, index, count)
		return 1
	}
	return 0
}

// HLLDenseRegister returns register i of a dense HLL string (tests).
func HLLDenseRegister(s []byte, i int) uint8 { return hllDenseGet(s[HLLHeaderSize:], i) }

// Sparse opcodes.

func hllIsZero(c byte) bool  { return c&0xc0 == 0 }
func hllIsXZero(c byte) bool { return c&0xc0 == hllSparseXZeroBit }
func hllIsVal(c byte) bool   { return c&hllSparseValBit != 0 }
func hllZeroLen(c byte) int  { return int(c&0x3f) + 1 }
func hllXZeroLen(c, next byte) int {
	return (int(c&0x3f)<<8 | int(next)) + 1
}
func hllValValue(c byte) int { return int(c>>2&0x1f) + 1 }
func hllValLen(c byte) int   { return int(c&3) + 1 }
func hllValByte(val, n int) byte {
	return byte((val-1)<<2|(n-1)) | hllSparseValBit
}
func hllZeroByte(n int) byte { return byte(n - 1) }
func hllXZeroSet(p []byte, n int) {
	l := n - 1
	p[0] = byte(l>>8) | hllSparseXZeroBit
	p[1] = byte(l)
}

// at reads s[i], or the zero terminator sds strings carry past their end.
func at(s []byte, i int) byte {
	if i < len(s) {
		return s[i]
	}
	return 0
}

// HLLToDense converts a sparse HLL string to a new dense one (the header,
// cached cardinality included, is kept). A dense input is returned as is.
// false reports a corrupt sparse representation.
func HLLToDense(s []byte) ([]byte, bool) {
	if s[4] == HLLDense {
		return s, true
	}
	d := make([]byte, HLLDenseSize)
	copy(d[:HLLHeaderSize], s[:HLLHeaderSize])
	d[4] = HLLDense
	regs := d[HLLHeaderSize:]
	idx := 0
	for p := HLLHeaderSize; p < len(s); {
		c := s[p]
		switch {
		case hllIsZero(c):
			idx += hllZeroLen(c)
			p++
		case hllIsXZero(c):
			idx += hllXZeroLen(c, at(s, p+1))
			p += 2
		default:
			runlen, val := hllValLen(c), hllValValue(c)
			if runlen+idx > HLLRegisters {
				return nil, false // overflow
			}
			for ; runlen > 0; runlen-- {
				hllDenseSetReg(regs, idx, uint8(val))
				idx++
			}
			p++
		}
	}
	if idx != HLLRegisters {
		return nil, false
	}
	return d, true
}

// HLLAdd adds an element to a valid HLL string (Redis's hllAdd). It
// returns the string, possibly reallocated or promoted to dense, and 1 if a
// register changed, 0 if not, -1 if the sparse form is corrupt.
// sparseMax is hll-sparse-max-bytes.
func HLLAdd(s, ele []byte, sparseMax int64) ([]byte, int) {
	index, count := HLLPatLen(ele)
	return HLLSet(s, index, count, sparseMax)
}

// HLLSet raises register index to count (if it is lower), in either
// encoding. Same results as HLLAdd.
func HLLSet(s []byte, index int, count uint8, sparseMax int64) ([]byte, int) {
	switch s[4] {
	case HLLDense:
		return s, hllDenseSet(s[HLLHeaderSize:], index, count)
	case HLLSparse:
		return hllSparseSet(s, index, count, sparseMax)
	}
	return s, -1
}

// hllSparseSet is Redis's hllSparseSet: locate the opcode covering index,
// update it in place or split it into up to three opcodes, merge equal
// adjacent VAL opcodes, and promote to dense when the value does not fit a
// VAL opcode or the string would outgrow sparseMax.
func hllSparseSet(s []byte, index int, count uint8, sparseMax int64) ([]byte, int) {
	if count > hllSparseValMaxValue {
		return hllPromote(s, index, count)
	}
	// Room for the worst split (XZERO -> XZERO VAL XZERO, 3 more bytes)
	// and a zero terminator, as sdsMakeRoomFor leaves it.
	n := len(s)
	if cap(s) < n+4 {
		grown := make([]byte, n, n+n/4+16)
		copy(grown, s)
		s = grown
	}
	buf := s[:n+4]
	clear(buf[n:])

	// Step 1: find the opcode covering index.
	const sparse = HLLHeaderSize
	p, end := sparse, n
	first, span, prev := 0, 0, -1
	for p < end {
		oplen := 1
		c := buf[p]
		switch {
		case hllIsZero(c):
			span = hllZeroLen(c)
		case hllIsVal(c):
			span = hllValLen(c)
		default:
			span = hllXZeroLen(c, buf[p+1])
			oplen = 2
		}
		if index <= first+span-1 {
			break
		}
		prev = p
		p += oplen
		first += span
	}
	if span == 0 || p >= end {
		return s[:n], -1
	}
	c := buf[p]
	isZero, isXZero, isVal := hllIsZero(c), hllIsXZero(c), false
	next := p + 1
	if isXZero {
		next = p + 2
	}
	if next >= end {
		next = -1
	}
	var runlen int
	switch {
	case isZero:
		runlen = hllZeroLen(c)
	case isXZero:
		runlen = hllXZeroLen(c, buf[p+1])
	default:
		isVal = true
		runlen = hllValLen(c)
	}

	// Step 2: the trivial updates.
	if isVal {
		if hllValValue(c) >= int(count) {
			return s[:n], 0 // A: already large enough
		}
		if runlen == 1 { // B: a VAL of one register
			buf[p] = hllValByte(int(count), 1)
			return hllSparseMerge(s, buf, n, sparse, prev, end)
		}
	}
	if isZero && runlen == 1 { // C: a ZERO of one register
		buf[p] = hllValByte(int(count), 1)
		return hllSparseMerge(s, buf, n, sparse, prev, end)
	}

	// D: split the opcode into up to three.
	var seq [5]byte
	k := 0
	last := first + span - 1
	if isZero || isXZero {
		if index != first {
			if l := index - first; l > hllSparseZeroMaxLen {
				hllXZeroSet(seq[k:], l)
				k += 2
			} else {
				seq[k] = hllZeroByte(l)
				k++
			}
		}
		seq[k] = hllValByte(int(count), 1)
		k++
		if index != last {
			if l := last - index; l > hllSparseZeroMaxLen {
				hllXZeroSet(seq[k:], l)
				k += 2
			} else {
				seq[k] = hllZeroByte(l)
				k++
			}
		}
	} else {
		cur := hllValValue(c)
		if index != first {
			seq[k] = hllValByte(cur, index-first)
			k++
		}
		seq[k] = hllValByte(int(count), 1)
		k++
		if index != last {
			seq[k] = hllValByte(cur, last-index)
			k++
		}
	}

	// Step 3: put the new sequence in place of the old opcode.
	oldlen := 1
	if isXZero {
		oldlen = 2
	}
	delta := k - oldlen
	if delta > 0 && int64(n+delta) > sparseMax {
		return hllPromote(s[:n], index, count)
	}
	if delta != 0 && next >= 0 {
		copy(buf[next+delta:], buf[next:end])
	}
	n += delta
	copy(buf[p:], seq[:k])
	end += delta
	return hllSparseMerge(s, buf, n, sparse, prev, end)
}

// hllSparseMerge is step 4 of hllSparseSet: merge adjacent VAL opcodes of
// equal value, scanning up to five opcodes from the one before the update,
// then invalidate the cached cardinality.
func hllSparseMerge(s, buf []byte, n, sparse, prev, end int) ([]byte, int) {
	p := sparse
	if prev >= 0 {
		p = prev
	}
	for scan := 5; p < end && scan > 0; {
		scan--
		c := buf[p]
		if hllIsXZero(c) {
			p += 2
			continue
		}
		if hllIsZero(c) {
			p++
			continue
		}
		if p+1 < end && hllIsVal(buf[p+1]) {
			v1, v2 := hllValValue(c), hllValValue(buf[p+1])
			if v1 == v2 {
				if l := hllValLen(c) + hllValLen(buf[p+1]); l <= hllSparseValMaxLen {
					buf[p+1] = hllValByte(v1, l)
					copy(buf[p:end-1], buf[p+1:end])
					n--
					end--
					continue
				}
			}
		}
		p++
	}
	s = buf[:n]
	HLLInvalidateCache(s)
	return s, 1
}

// hllPromote converts to dense and sets the register there.
func hllPromote(s []byte, index int, count uint8) ([]byte, int) {
	d, ok := HLLToDense(s)
	if !ok {
		return s, -1
	}
	hllDenseSet(d[HLLHeaderSize:], index, count)
	return d, 1
}

// Cardinality.

// HLLCount estimates the cardinality of a valid HLL string from its
// registers (the cache is not consulted). false reports a corrupt sparse
// representation.
func HLLCount(s []byte) (uint64, bool) {
	var histo [64]int
	if s[4] == HLLDense {
		hllDenseHisto(s[HLLHeaderSize:], &histo)
	} else if !hllSparseHisto(s[HLLHeaderSize:], &histo) {
		return 0, false
	}
	return hllEstimate(&histo), true
}

func hllDenseHisto(regs []byte, histo *[64]int) {
	for i := 0; i+3 <= len(regs) && i < HLLRegisters*HLLBits/8; i += 3 {
		b0, b1, b2 := regs[i], regs[i+1], regs[i+2]
		histo[b0&63]++
		histo[(b0>>6|b1<<2)&63]++
		histo[(b1>>4|b2<<4)&63]++
		histo[b2>>2&63]++
	}
}

// hllSparseHisto counts the registers of the sparse opcodes; false when
// they do not cover exactly HLLRegisters registers.
func hllSparseHisto(ops []byte, histo *[64]int) bool {
	idx := 0
	for p := 0; p < len(ops); {
		c := ops[p]
		switch {
		case hllIsZero(c):
			l := hllZeroLen(c)
			idx += l
			histo[0] += l
			p++
		case hllIsXZero(c):
			l := hllXZeroLen(c, at(ops, p+1))
			idx += l
			histo[0] += l
			p += 2
		default:
			l := hllValLen(c)
			idx += l
			histo[hllValValue(c)] += l
			p++
		}
	}
	return idx == HLLRegisters
}

// hllSigma and hllTau are the helper functions of Ertl's "New cardinality
// estimation algorithms for HyperLogLog sketches", as Redis computes them.
// The explicit float64 conversions keep every product rounded on its own
// (no fused multiply-add), as in the C code.
func hllSigma(x float64) float64 {
	if x == 1 {
		return math.Inf(1)
	}
	y := 1.0
	z := x
	for {
		x *= x
		zPrime := z
		z += float64(x * y)
		y += y
		if zPrime == z {
			return z
		}
	}
}

func hllTau(x float64) float64 {
	if x == 0 || x == 1 {
		return 0
	}
	y := 1.0
	z := 1 - x
	for {
		x = math.Sqrt(x)
		zPrime := z
		y *= 0.5
		d := float64((1 - x) * (1 - x))
		z -= float64(d * y)
		if zPrime == z {
			return z / 3
		}
	}
}

// hllEstimate is the estimator of Redis's hllCount on a register histogram.
func hllEstimate(histo *[64]int) uint64 {
	m := float64(HLLRegisters)
	z := m * hllTau((m-float64(histo[HLLQ+1]))/m)
	for j := HLLQ; j >= 1; j-- {
		z += float64(histo[j])
		z *= 0.5
	}
	z += float64(m * hllSigma(float64(histo[0])/m))
	alpha := hllAlphaInf
	return uint64(math.Round(alpha * m * m / z))
}

// HLLRegs holds one byte per register: the union of several HLLs (PFCOUNT
// of many keys, PFMERGE).
type HLLRegs [HLLRegisters]uint8

// Merge raises every register to the one of the valid HLL string s (Redis's
// hllMerge); false when s is a corrupt sparse representation.
func (r *HLLRegs) Merge(s []byte) bool {
	if s[4] == HLLDense {
		regs := s[HLLHeaderSize:]
		for i := range r {
			if v := hllDenseGet(regs, i); v > r[i] {
				r[i] = v
			}
		}
		return true
	}
	i := 0
	for p := HLLHeaderSize; p < len(s); {
		c := s[p]
		switch {
		case hllIsZero(c):
			i += hllZeroLen(c)
			p++
		case hllIsXZero(c):
			i += hllXZeroLen(c, at(s, p+1))
			p += 2
		default:
			runlen, val := hllValLen(c), uint8(hllValValue(c))
			if runlen+i > HLLRegisters {
				return false // overflow
			}
			for ; runlen > 0; runlen-- {
				if val > r[i] {
					r[i] = val
				}
				i++
			}
			p++
		}
	}
	return i == HLLRegisters
}

// Count estimates the cardinality of the registers.
func (r *HLLRegs) Count() uint64 {
	var histo [64]int
	for _, v := range r {
		histo[v&63]++
	}
	return hllEstimate(&histo)
}

// Store writes the registers into the valid HLL string s (PFMERGE's
// destination): dense when dense is set or s is dense already, else
// register by register into the sparse form, which may promote it. The
// cached cardinality is invalidated. false reports a corrupt destination.
func (r *HLLRegs) Store(s []byte, dense bool, sparseMax int64) ([]byte, bool) {
	if dense {
		d, ok := HLLToDense(s)
		if !ok {
			return s, false
		}
		s = d
	}
	for j, v := range r {
		if v == 0 {
			continue
		}
		if s[4] == HLLDense {
			hllDenseSet(s[HLLHeaderSize:], j, v)
		} else {
			s, _ = hllSparseSet(s, j, v, sparseMax)
		}
	}
	HLLInvalidateCache(s)
	return s, true
}
