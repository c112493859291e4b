package server

import (
	"math"
	"math/big"
	"strconv"

	"github.com/kvd/kvd/shard/types"
)

// Geohash encoding and the geo search machinery of Redis 7.0 (geohash.c,
// geohash_helper.c and the search half of geo.c), reproduced operation by
// operation so that scores, cells, neighbour scans, distances and the
// order of results are Redis's own. No RESP here: cmd_geo.go replies.
//
// A geo member is a sorted set member whose score is its 52-bit
// interleaved geohash (26 steps of longitude and latitude bits, latitude
// in the even bits), computed over longitude [-180, 180] and latitude
// [-85.05112878, 85.05112878] (the Web Mercator limits).
//
// Floating point: Redis computes with C doubles on x86-64 (SSE, no fused
// multiply-add in its own code) and glibc's libm. Go's float64 arithmetic
// is the same IEEE arithmetic; products that feed a sum go through
// float64() conversions, which forbid fusing them into FMA instructions.
// glibc's sin, cos and asin round correctly in all but about 0.1% of cases
// (and which cases depends on the CPU: glibc picks FMA builds of them at
// run time), while Go's math.Sin, Cos and Asin are off by an ulp far more
// often (10-30% of arguments). geoSin, geoCos and geoAsin therefore
// evaluate in double-double precision and round once: a distance is then
// bit for bit Redis's in about 99.9% of cases and within an ulp or two
// otherwise, which the 4 decimals of WITHDIST and GEODIST never show in
// practice (only STOREDIST scores, printed with 17 digits, can).

const (
	geoStepMax  = 26 // GEO_STEP_MAX: 52 bits
	geoLongMin  = -180.0
	geoLongMax  = 180.0
	geoLatMin   = -85.05112878
	geoLatMax   = 85.05112878
	mercatorMax = 20037726.37
	// earthRadius is Redis's EARTH_RADIUS_IN_METERS.
	earthRadius = 6372797.560856
)

// geoDR is D_R, M_PI / 180.0 as C evaluates it: the double nearest to π,
// divided by 180 and rounded (a Go constant expression would divide the
// exact π instead).
var geoDR = func() float64 {
	pi := math.Pi
	return pi / 180.0
}()

func degRad(ang float64) float64 { return ang * geoDR }
func radDeg(ang float64) float64 { return ang / geoDR }

// geoHashBits is Redis's GeoHashBits: step pairs of bits.
type geoHashBits struct {
	bits uint64
	step uint8
}

// isZero is HASHISZERO: a cell removed from the search (GZERO).
func (h geoHashBits) isZero() bool { return h.bits == 0 && h.step == 0 }

type geoRange struct{ min, max float64 }

// geoArea is a decoded cell.
type geoArea struct {
	hash      geoHashBits
	longitude geoRange
	latitude  geoRange
}

var (
	geoLongRange = geoRange{geoLongMin, geoLongMax}
	geoLatRange  = geoRange{geoLatMin, geoLatMax}
)

// interleave64 puts the bits of x in the even positions and those of y in
// the odd ones.
func interleave64(xlo, ylo uint32) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F,
		0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF}
	s := [...]uint{1, 2, 4, 8, 16}
	x, y := uint64(xlo), uint64(ylo)
	for i := 4; i >= 0; i-- {
		x = (x | (x << s[i])) & b[i]
		y = (y | (y << s[i])) & b[i]
	}
	return x | (y << 1)
}

// deinterleave64 reverses interleave64: the even bits in the low 32 bits
// of the result, the odd bits in the high 32.
func deinterleave64(interleaved uint64) uint64 {
	b := [...]uint64{0x5555555555555555, 0x3333333333333333, 0x0F0F0F0F0F0F0F0F,
		0x00FF00FF00FF00FF, 0x0000FFFF0000FFFF, 0x00000000FFFFFFFF}
	s := [...]uint{0, 1, 2, 4, 8, 16}
	x, y := interleaved, interleaved>>1
	for i := 0; i < 6; i++ {
		x = (x | (x >> s[i])) & b[i]
		y = (y | (y >> s[i])) & b[i]
	}
	return x | (y << 32)
}

// geohashEncode is Redis's geohashEncode: the cell of (longitude,
// latitude) at step bits per coordinate within the given ranges. ok is
// false outside the supported coordinates or ranges.
func geohashEncode(longR, latR geoRange, longitude, latitude float64, step uint8) (geoHashBits, bool) {
	if step > 32 || step == 0 || (latR.min == 0 && latR.max == 0) || (longR.min == 0 && longR.max == 0) {
		return geoHashBits{}, false
	}
	if longitude > geoLongMax || longitude < geoLongMin || latitude > geoLatMax || latitude < geoLatMin {
		return geoHashBits{}, false
	}
	if latitude < latR.min || latitude > latR.max || longitude < longR.min || longitude > longR.max {
		return geoHashBits{step: step}, false
	}
	latOffset := (latitude - latR.min) / (latR.max - latR.min)
	longOffset := (longitude - longR.min) / (longR.max - longR.min)
	scale := float64(uint64(1) << step)
	latOffset *= scale
	longOffset *= scale
	// C converts the doubles to uint32_t by truncation; the offsets are
	// within [0, 2^step].
	return geoHashBits{bits: interleave64(uint32(latOffset), uint32(longOffset)), step: step}, true
}

// geohashDecode is Redis's geohashDecode: the bounds of a cell.
func geohashDecode(longR, latR geoRange, hash geoHashBits) (geoArea, bool) {
	if hash.isZero() || (latR.min == 0 && latR.max == 0) || (longR.min == 0 && longR.max == 0) {
		return geoArea{}, false
	}
	sep := deinterleave64(hash.bits)
	latScale := latR.max - latR.min
	longScale := longR.max - longR.min
	ilato := uint32(sep)
	ilono := uint32(sep >> 32)
	div := float64(uint64(1) << hash.step)
	var a geoArea
	a.hash = hash
	a.latitude.min = latR.min + float64(float64(ilato)*1.0/div)*latScale
	a.latitude.max = latR.min + float64(float64(ilato+1)*1.0/div)*latScale
	a.longitude.min = longR.min + float64(float64(ilono)*1.0/div)*longScale
	a.longitude.max = longR.min + float64(float64(ilono+1)*1.0/div)*longScale
	return a, true
}

// geoAreaCenter is geohashDecodeAreaToLongLat: the centre of a cell,
// clamped to the supported coordinates.
func geoAreaCenter(a *geoArea) (lon, lat float64) {
	lon = (a.longitude.min + a.longitude.max) / 2
	lon = min(max(lon, geoLongMin), geoLongMax)
	lat = (a.latitude.min + a.latitude.max) / 2
	lat = min(max(lat, geoLatMin), geoLatMax)
	return lon, lat
}

// geoScoreBits converts a score to uint64 as C's (uint64_t) cast compiles
// on x86-64: truncation below 2^63, 2^63 subtracted (and its bit restored)
// above, the "integer indefinite" 2^63 for what cvttsd2si cannot convert
// (NaN, infinities, out of range). Geo scores are 52-bit integers; this
// only matters for sorted sets that were not built by GEOADD.
func geoScoreBits(score float64) uint64 {
	const two63 = 9223372036854775808.0
	cvtt := func(d float64) uint64 {
		if d != d || d >= two63 || d < -two63 {
			return 1 << 63
		}
		return uint64(int64(d))
	}
	if score >= two63 {
		return cvtt(score-two63) ^ (1 << 63)
	}
	return cvtt(score)
}

// geoDecodeScore is decodeGeohash: the position a score stands for. It
// always succeeds (the step is never zero).
func geoDecodeScore(score float64) (lon, lat float64) {
	a, _ := geohashDecode(geoLongRange, geoLatRange, geoHashBits{bits: geoScoreBits(score), step: geoStepMax})
	return geoAreaCenter(&a)
}

// geoEncodeScore is the score GEOADD gives a valid position: the 52-bit
// aligned geohash.
func geoEncodeScore(lon, lat float64) float64 {
	h, _ := geohashEncode(geoLongRange, geoLatRange, lon, lat, geoStepMax)
	return float64(geohashAlign52Bits(h))
}

// geoValidLonLat is the range check of extractLongLatOrReply.
func geoValidLonLat(lon, lat float64) bool {
	return !(lon < geoLongMin || lon > geoLongMax || lat < geoLatMin || lat > geoLatMax)
}

func geohashAlign52Bits(h geoHashBits) uint64 { return h.bits << (52 - uint(h.step)*2) }

const geoAlphabet = "0123456789bcdefghjkmnpqrstuvwxyz"

// geoHashString is what GEOHASH returns for a score: the position
// re-encoded over the standard latitude range [-90, 90], as 11 base-32
// characters (the last one always '0': only 52 bits exist).
func geoHashString(score float64) string {
	lon, lat := geoDecodeScore(score)
	h, _ := geohashEncode(geoRange{-180, 180}, geoRange{-90, 90}, lon, lat, 26)
	var buf [11]byte
	for i := 0; i < 11; i++ {
		idx := 0
		if i < 10 {
			idx = int((h.bits >> (52 - (uint(i)+1)*5)) & 0x1f)
		}
		buf[i] = geoAlphabet[idx]
	}
	return string(buf[:])
}

// geoNeighbors are the eight cells around one, in Redis's order.
type geoNeighbors struct {
	north, south, east, west, northEast, northWest, southEast, southWest geoHashBits
}

func geohashMoveX(h *geoHashBits, d int) {
	if d == 0 {
		return
	}
	x := h.bits & 0xaaaaaaaaaaaaaaaa
	y := h.bits & 0x5555555555555555
	zz := uint64(0x5555555555555555) >> (64 - uint(h.step)*2)
	if d > 0 {
		x = x + (zz + 1)
	} else {
		x = x | zz
		x = x - (zz + 1)
	}
	x &= uint64(0xaaaaaaaaaaaaaaaa) >> (64 - uint(h.step)*2)
	h.bits = x | y
}

func geohashMoveY(h *geoHashBits, d int) {
	if d == 0 {
		return
	}
	x := h.bits & 0xaaaaaaaaaaaaaaaa
	y := h.bits & 0x5555555555555555
	zz := uint64(0xaaaaaaaaaaaaaaaa) >> (64 - uint(h.step)*2)
	if d > 0 {
		y = y + (zz + 1)
	} else {
		y = y | zz
		y = y - (zz + 1)
	}
	y &= uint64(0x5555555555555555) >> (64 - uint(h.step)*2)
	h.bits = x | y
}

// geohashNeighbors is Redis's geohashNeighbors (cells wrap around).
func geohashNeighbors(h geoHashBits) geoNeighbors {
	move := func(dx, dy int) geoHashBits {
		n := h
		geohashMoveX(&n, dx)
		geohashMoveY(&n, dy)
		return n
	}
	return geoNeighbors{
		east: move(1, 0), west: move(-1, 0), south: move(0, -1), north: move(0, 1),
		northWest: move(-1, 1), northEast: move(1, 1), southEast: move(1, -1), southWest: move(-1, -1),
	}
}

// geohashEstimateStepsByRadius is Redis's estimate of the cell size (in
// steps) whose 3x3 block covers a search of rangeMeters at latitude lat.
func geohashEstimateStepsByRadius(rangeMeters, lat float64) uint8 {
	if rangeMeters == 0 {
		return 26
	}
	step := 1
	for rangeMeters < mercatorMax {
		rangeMeters *= 2
		step++
	}
	step -= 2 // make sure the range is included in most of the base cases
	// Wider range towards the poles.
	if lat > 66 || lat < -66 {
		step--
		if lat > 80 || lat < -80 {
			step--
		}
	}
	step = min(max(step, 1), 26)
	return uint8(step)
}

// geoDistance is geohashGetDistance (Redis 7.0): the haversine great
// circle distance in meters.
func geoDistance(lon1d, lat1d, lon2d, lat2d float64) float64 {
	lat1r := degRad(lat1d)
	lon1r := degRad(lon1d)
	lat2r := degRad(lat2d)
	lon2r := degRad(lon2d)
	u := geoSin((lat2r - lat1r) / 2)
	v := geoSin((lon2r - lon1r) / 2)
	a := float64(u*u) + float64(float64(float64(geoCos(lat1r)*geoCos(lat2r))*v)*v)
	return 2.0 * earthRadius * geoAsin(math.Sqrt(a))
}

// ---- search ----

// geoShape is Redis's GeoShape: a circle (radius) or an axis-aligned box
// (width, height) around xy, in the unit whose size in meters is
// conversion.
type geoShape struct {
	box           bool
	xy            [2]float64
	conversion    float64
	radius        float64
	width, height float64
	bounds        [4]float64 // min lon, min lat, max lon, max lat
}

// boundingBox is geohashBoundingBox.
func (s *geoShape) boundingBox() {
	longitude, latitude := s.xy[0], s.xy[1]
	var height, width float64
	if s.box {
		height = s.conversion * (s.height / 2)
		width = s.conversion * (s.width / 2)
	} else {
		height = s.conversion * s.radius
		width = s.conversion * s.radius
	}
	latDelta := radDeg(height / earthRadius)
	longDeltaTop := radDeg(width / earthRadius / geoCos(degRad(latitude+latDelta)))
	longDeltaBottom := radDeg(width / earthRadius / geoCos(degRad(latitude-latDelta)))
	if latitude < 0 { // the southern hemisphere is the other way round
		s.bounds[0] = longitude - longDeltaBottom
		s.bounds[2] = longitude + longDeltaBottom
	} else {
		s.bounds[0] = longitude - longDeltaTop
		s.bounds[2] = longitude + longDeltaTop
	}
	s.bounds[1] = latitude - latDelta
	s.bounds[3] = latitude + latDelta
}

// geoSearchArea is Redis's GeoHashRadius: the centre cell and its
// neighbours (GZERO'd when useless).
type geoSearchArea struct {
	hash      geoHashBits
	neighbors geoNeighbors
	area      geoArea
}

// areas is geohashCalculateAreasByShapeWGS84: the 3x3 cells, at the
// estimated step (one coarser when the estimate does not cover the
// bounding box), minus the rows and columns the box does not reach.
func (s *geoShape) areas() geoSearchArea {
	s.boundingBox()
	minLon, minLat, maxLon, maxLat := s.bounds[0], s.bounds[1], s.bounds[2], s.bounds[3]
	longitude, latitude := s.xy[0], s.xy[1]
	var radiusMeters float64
	if s.box {
		radiusMeters = math.Sqrt(float64((s.width/2)*(s.width/2)) + float64((s.height/2)*(s.height/2)))
	} else {
		radiusMeters = s.radius
	}
	radiusMeters *= s.conversion

	steps := geohashEstimateStepsByRadius(radiusMeters, latitude)
	hash, _ := geohashEncode(geoLongRange, geoLatRange, longitude, latitude, steps)
	neighbors := geohashNeighbors(hash)
	area, _ := geohashDecode(geoLongRange, geoLatRange, hash)

	decrease := false
	north, _ := geohashDecode(geoLongRange, geoLatRange, neighbors.north)
	south, _ := geohashDecode(geoLongRange, geoLatRange, neighbors.south)
	east, _ := geohashDecode(geoLongRange, geoLatRange, neighbors.east)
	west, _ := geohashDecode(geoLongRange, geoLatRange, neighbors.west)
	if north.latitude.max < maxLat {
		decrease = true
	}
	if south.latitude.min > minLat {
		decrease = true
	}
	if east.longitude.max < maxLon {
		decrease = true
	}
	if west.longitude.min > minLon {
		decrease = true
	}
	if steps > 1 && decrease {
		steps--
		hash, _ = geohashEncode(geoLongRange, geoLatRange, longitude, latitude, steps)
		neighbors = geohashNeighbors(hash)
		area, _ = geohashDecode(geoLongRange, geoLatRange, hash)
	}

	if steps >= 2 {
		zero := geoHashBits{}
		if area.latitude.min < minLat {
			neighbors.south, neighbors.southWest, neighbors.southEast = zero, zero, zero
		}
		if area.latitude.max > maxLat {
			neighbors.north, neighbors.northEast, neighbors.northWest = zero, zero, zero
		}
		if area.longitude.min < minLon {
			neighbors.west, neighbors.southWest, neighbors.northWest = zero, zero, zero
		}
		if area.longitude.max > maxLon {
			neighbors.east, neighbors.southEast, neighbors.northEast = zero, zero, zero
		}
	}
	return geoSearchArea{hash: hash, neighbors: neighbors, area: area}
}

// within is geoWithinShape: whether the position of score lies in the
// shape, with the position and its distance (meters) from the centre.
func (s *geoShape) within(score float64) (lon, lat, dist float64, ok bool) {
	lon, lat = geoDecodeScore(score)
	if s.box {
		widthM, heightM := s.width*s.conversion, s.height*s.conversion
		// geohashGetDistanceIfInRectangle (Redis 7.0)
		lonDistance := geoDistance(lon, lat, s.xy[0], lat)
		latDistance := geoDistance(lon, lat, lon, s.xy[1])
		if lonDistance > widthM/2 || latDistance > heightM/2 {
			return lon, lat, 0, false
		}
		return lon, lat, geoDistance(s.xy[0], s.xy[1], lon, lat), true
	}
	dist = geoDistance(s.xy[0], s.xy[1], lon, lat)
	if dist > s.radius*s.conversion {
		return lon, lat, dist, false
	}
	return lon, lat, dist, true
}

// geoPoint is one search result (meters until the reply converts).
type geoPoint struct {
	lon, lat float64
	dist     float64
	score    float64
	member   string
}

// geoPointsInRange is geoGetPointsInRange: the members whose score is in
// [min, max) and whose position is in the shape, appended to ga; with
// limit > 0 (COUNT ANY) it stops once ga holds limit points.
func geoPointsInRange(z *types.ZSet, min, max float64, s *geoShape, ga []geoPoint, limit int) []geoPoint {
	r := types.ScoreRange{Min: min, Max: max, MaxEx: true}
	first := z.FirstInScoreRange(r)
	if first < 0 {
		return ga
	}
	z.Walk(first, false, func(m string, score float64) bool {
		if !r.LteMax(score) {
			return false
		}
		if lon, lat, dist, ok := s.within(score); ok {
			ga = append(ga, geoPoint{lon: lon, lat: lat, dist: dist, score: score, member: m})
		}
		return !(len(ga) > 0 && limit > 0 && len(ga) >= limit)
	})
	return ga
}

// geoMembersOfAllNeighbors is membersOfAllNeighbors: the centre cell then
// its neighbours, each cell being the score range of its geohash prefix;
// a cell equal to the one processed just before (huge radii) is skipped.
func geoMembersOfAllNeighbors(z *types.ZSet, n *geoSearchArea, s *geoShape, limit int) []geoPoint {
	cells := [9]geoHashBits{n.hash, n.neighbors.north, n.neighbors.south, n.neighbors.east,
		n.neighbors.west, n.neighbors.northEast, n.neighbors.northWest, n.neighbors.southEast,
		n.neighbors.southWest}
	var ga []geoPoint
	last := 0
	for i, c := range cells {
		if c.isZero() {
			continue
		}
		if last != 0 && c == cells[last] {
			continue
		}
		if len(ga) > 0 && limit > 0 && len(ga) >= limit {
			break
		}
		// scoresOfGeoHashBox: [prefix, prefix+1) aligned to 52 bits.
		lo := geohashAlign52Bits(c)
		c.bits++
		hi := geohashAlign52Bits(c)
		ga = geoPointsInRange(z, float64(lo), float64(hi), s, ga, limit)
		last = i
	}
	return ga
}

// geoSearch runs the search of shape over z (Redis's georadiusGeneric
// between the argument parsing and the reply): limit is the COUNT ANY
// bound (0: none), count the COUNT (0: none), sort -1 descending, 1
// ascending, 0 none. It returns the points, of which the first returned
// are the reply (sorted as Redis leaves them).
func geoSearch(z *types.ZSet, s *geoShape, count int64, any bool, sort int) (ga []geoPoint, returned int) {
	area := s.areas()
	limit := 0
	if any {
		limit = int(min(count, math.MaxInt32))
	}
	ga = geoMembersOfAllNeighbors(z, &area, s, limit)
	returned = len(ga)
	if count != 0 && int64(len(ga)) >= count {
		returned = int(count)
	}
	if sort != 0 && len(ga) > 0 {
		cmp := geoCmpAsc
		if sort < 0 {
			cmp = geoCmpDesc
		}
		if returned == len(ga) {
			geoMsort(ga, cmp) // glibc's qsort: a merge sort
		} else {
			pqsort(ga, cmp, 0, returned-1) // Redis 7.0's partial quicksort (pqsort.go)
		}
	}
	return ga, returned
}

// geoCmpAsc is sort_gp_asc (equal distances compare equal; NaN is below
// everything, as the C comparison falls through).
func geoCmpAsc(a, b *geoPoint) int {
	switch {
	case a.dist > b.dist:
		return 1
	case a.dist == b.dist:
		return 0
	}
	return -1
}

func geoCmpDesc(a, b *geoPoint) int { return -geoCmpAsc(a, b) }

// geoMsort sorts as glibc's qsort does for Redis's arrays (msort: a top-down
// merge sort, the left half first on ties), so even an inconsistent
// comparison (NaN) orders things as Redis does.
func geoMsort(a []geoPoint, cmp func(a, b *geoPoint) int) {
	tmp := make([]geoPoint, len(a))
	var rec func(b []geoPoint)
	rec = func(b []geoPoint) {
		n := len(b)
		if n <= 1 {
			return
		}
		n1 := n / 2
		b1, b2 := b[:n1], b[n1:]
		rec(b1)
		rec(b2)
		t := tmp[:0]
		i, j := 0, 0
		for i < len(b1) && j < len(b2) {
			if cmp(&b1[i], &b2[j]) <= 0 {
				t = append(t, b1[i])
				i++
			} else {
				t = append(t, b2[j])
				j++
			}
		}
		t = append(t, b1[i:]...)
		copy(b, t) // the rest of b2 is already in place
	}
	rec(a)
}

// ---- number formatting as C's printf ----

// geoAppendFixed appends v as C's "%.<prec>f" (glibc: exact decimal
// expansion, rounded half to even; "inf", "-nan" ...).
func geoAppendFixed(dst []byte, v float64, prec int) []byte {
	switch {
	case math.IsNaN(v):
		if math.Signbit(v) {
			return append(dst, "-nan"...)
		}
		return append(dst, "nan"...)
	case math.IsInf(v, 1):
		return append(dst, "inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-inf"...)
	}
	return strconv.AppendFloat(dst, v, 'f', prec, 64)
}

// geoAppendDistance is addReplyDoubleDistance's text: "%.4f".
func geoAppendDistance(dst []byte, d float64) []byte { return geoAppendFixed(dst, d, 4) }

// geoAppendHuman is ld2string(LD_STR_HUMAN) of a coordinate: "%.17Lf"
// (the double is exact in a long double), trailing zeros and dot removed,
// "-0" written "0".
func geoAppendHuman(dst []byte, v float64) []byte {
	start := len(dst)
	dst = geoAppendFixed(dst, v, 17)
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return dst
	}
	// "%.17f" of a finite value always has a dot.
	for dst[len(dst)-1] == '0' {
		dst = dst[:len(dst)-1]
	}
	if dst[len(dst)-1] == '.' {
		dst = dst[:len(dst)-1]
	}
	if string(dst[start:]) == "-0" {
		dst = append(dst[:start], '0')
	}
	return dst
}

// ---- sin, cos and asin rounded as glibc's ----

// dd is a double-double: the unevaluated sum hi + lo, |lo| <= ulp(hi)/2.
type dd struct{ hi, lo float64 }

func twoSum(a, b float64) (s, e float64) {
	s = a + b
	bb := s - a
	e = (a - (s - bb)) + (b - bb)
	return s, e
}

func quickTwoSum(a, b float64) (s, e float64) {
	s = a + b
	e = b - (s - a)
	return s, e
}

func twoProd(a, b float64) (p, e float64) {
	p = a * b
	return p, math.FMA(a, b, -p)
}

func ddAdd(x, y dd) dd {
	s, e := twoSum(x.hi, y.hi)
	t, f := twoSum(x.lo, y.lo)
	e += t
	s, e = quickTwoSum(s, e)
	e += f
	s, e = quickTwoSum(s, e)
	return dd{s, e}
}

func ddMul(x, y dd) dd {
	p, e := twoProd(x.hi, y.hi)
	e += float64(x.hi*y.lo) + float64(x.lo*y.hi)
	p, e = quickTwoSum(p, e)
	return dd{p, e}
}

func ddNeg(x dd) dd { return dd{-x.hi, -x.lo} }

// ddFromBig splits a big float into a double-double.
func ddFromBig(f *big.Float) dd {
	hi, _ := f.Float64()
	rest := new(big.Float).SetPrec(f.Prec()).Sub(f, new(big.Float).SetFloat64(hi))
	lo, _ := rest.Float64()
	return dd{hi, lo}
}

var (
	// ddPio2 is π/2 as three doubles (p0 + p1 + p2, 159 bits).
	ddPio2 [3]float64
	// ddSinCoef[k] = (-1)^k / (2k+1)!, ddCosCoef[k] = (-1)^k / (2k)!.
	ddSinCoef, ddCosCoef [16]dd
)

func init() {
	const prec = 256
	pi, _, err := big.ParseFloat("3.14159265358979323846264338327950288419716939937510"+
		"58209749445923078164062862089986280348253421170679", 10, prec, big.ToNearestEven)
	if err != nil {
		panic(err)
	}
	rest := new(big.Float).SetPrec(prec).Quo(pi, big.NewFloat(2))
	for i := range ddPio2 {
		ddPio2[i], _ = rest.Float64()
		rest.Sub(rest, new(big.Float).SetFloat64(ddPio2[i]))
	}
	fact := new(big.Float).SetPrec(prec).SetInt64(1) // n!
	for n := 0; n < 2*len(ddSinCoef); n++ {
		if n > 0 {
			fact.Mul(fact, new(big.Float).SetPrec(prec).SetInt64(int64(n)))
		}
		inv := new(big.Float).SetPrec(prec).Quo(new(big.Float).SetPrec(prec).SetInt64(1), fact)
		if (n/2)%2 == 1 {
			inv.Neg(inv)
		}
		if n%2 == 0 {
			ddCosCoef[n/2] = ddFromBig(inv)
		} else {
			ddSinCoef[n/2] = ddFromBig(inv)
		}
	}
}

// ddReduce reduces x (|x| < 2^28) to r in [-π/4, π/4] with x = r + q·π/2,
// returning r as a double-double and q mod 4.
func ddReduce(x float64) (dd, int) {
	k := math.RoundToEven(x * (2 / math.Pi))
	r := dd{x, 0}
	for _, p := range ddPio2 {
		hi, lo := twoProd(k, p)
		r = ddAdd(r, ddNeg(dd{hi, lo}))
	}
	return r, int(int64(k) & 3)
}

// ddSinCosKernel evaluates sin(r) and cos(r) for |r| <= π/4 + a little.
func ddSinCosKernel(r dd) (s, c dd) {
	r2 := ddMul(r, r)
	n := len(ddSinCoef)
	s = ddSinCoef[n-1]
	c = ddCosCoef[n-1]
	for k := n - 2; k >= 0; k-- {
		s = ddAdd(ddMul(s, r2), ddSinCoef[k])
		c = ddAdd(ddMul(c, r2), ddCosCoef[k])
	}
	return ddMul(s, r), c
}

// ddSinCos returns sin(x) and cos(x) as double-doubles; ok is false when x
// is too large (or not finite) for the simple reduction.
func ddSinCos(x float64) (s, c dd, ok bool) {
	if !(math.Abs(x) < 1<<28) {
		return dd{}, dd{}, false
	}
	r, q := ddReduce(x)
	sr, cr := ddSinCosKernel(r)
	switch q {
	case 0:
		return sr, cr, true
	case 1:
		return cr, ddNeg(sr), true
	case 2:
		return ddNeg(sr), ddNeg(cr), true
	}
	return ddNeg(cr), sr, true
}

// geoSin is sin(x), correctly rounded but for astronomically rare cases.
func geoSin(x float64) float64 {
	if math.Abs(x) < 0x1p-26 {
		return x
	}
	s, _, ok := ddSinCos(x)
	if !ok {
		return math.Sin(x)
	}
	return s.hi + s.lo
}

// geoCos is cos(x), correctly rounded but for astronomically rare cases.
func geoCos(x float64) float64 {
	if math.Abs(x) < 0x1p-27 {
		return 1
	}
	_, c, ok := ddSinCos(x)
	if !ok {
		return math.Cos(x)
	}
	return c.hi + c.lo
}

// geoNaN is the NaN x86-64 produces for an invalid operation (sign set),
// which glibc's asin returns outside [-1, 1] and printf shows as "-nan".
var geoNaN = math.Float64frombits(0xFFF8000000000000)

// geoAsin is asin(x): a first approximation refined by one Newton step
// evaluated in double-double, then rounded once.
func geoAsin(x float64) float64 {
	ax := math.Abs(x)
	switch {
	case x != x:
		return x
	case ax > 1:
		return geoNaN
	case ax == 1:
		return math.Copysign(math.Pi/2, x)
	case ax < 0x1p-26:
		return x
	}
	// asin(x) = atan2(x, sqrt((1-x)(1+x))): accurate to a few ulps even
	// near 1, where 1-x*x would cancel.
	y0 := math.Atan2(x, math.Sqrt(float64((1-ax)*(1+ax))))
	s, c, _ := ddSinCos(y0)
	// f = sin(y0) - x: s.hi - x is exact (Sterbenz), then the tail.
	f := (s.hi - x) + s.lo
	delta := f / (c.hi + c.lo)
	return y0 - delta
}
