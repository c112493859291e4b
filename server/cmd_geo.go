package server

import (
	"strconv"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/shard"
	"github.com/kvd/kvd/shard/types"
)

// registerGeo registers the GEO family. As in Redis, a geo index is a
// plain sorted set whose scores are 52-bit geohashes (see geohash.go):
// GEOADD goes through ZADD, and ZRANGE, ZSCORE, ZREM ... work on geo keys.
func registerGeo(r *Registry) {
	one := func(name string, arity int, flags Flags, run func(*Ctx)) {
		r.Add(&Command{Name: name, Arity: arity, Flags: flags, FirstKey: 1, LastKey: 1, Step: 1, Run: run})
	}
	one("geoadd", -5, Write|DenyOOM, cmdGeoAdd)
	one("geodist", -4, ReadOnly, cmdGeoDist)
	one("geohash", -2, ReadOnly, cmdGeoHash)
	one("geopos", -2, ReadOnly, cmdGeoPos)
	one("georadius_ro", -6, ReadOnly, func(x *Ctx) { geoRadiusGeneric(x, 1, geoByCoords|geoNoStore) })
	one("georadiusbymember_ro", -5, ReadOnly, func(x *Ctx) { geoRadiusGeneric(x, 1, geoByMember|geoNoStore) })
	one("geosearch", -7, ReadOnly, func(x *Ctx) { geoRadiusGeneric(x, 1, geoSearchCmd) })
	// STORE and STOREDIST make GEORADIUS[BYMEMBER] write commands whose
	// destination key is wherever the option is (movable keys).
	r.Add(&Command{Name: "georadius", Arity: -6, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1,
		Keys: geoRadiusKeys, Run: func(x *Ctx) { geoRadiusGeneric(x, 1, geoByCoords) }})
	r.Add(&Command{Name: "georadiusbymember", Arity: -5, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 1, Step: 1,
		Keys: geoRadiusKeys, Run: func(x *Ctx) { geoRadiusGeneric(x, 1, geoByMember) }})
	r.Add(&Command{Name: "geosearchstore", Arity: -8, Flags: Write | DenyOOM, FirstKey: 1, LastKey: 2, Step: 1,
		Run: func(x *Ctx) { geoRadiusGeneric(x, 2, geoSearchCmd|geoSearchStore) }})
}

// Error texts of the geo family, as Redis 7.0 writes them.
const (
	errGeoUnit         = "ERR unsupported unit provided. please use M, KM, FT, MI"
	errGeoMember       = "ERR could not decode requested zset member"
	errGeoRadius       = "ERR need numeric radius"
	errGeoRadiusNeg    = "ERR radius cannot be negative"
	errGeoWidth        = "ERR need numeric width"
	errGeoHeight       = "ERR need numeric height"
	errGeoBoxNeg       = "ERR height or width cannot be negative"
	errGeoCount        = "ERR COUNT must be > 0"
	errGeoAnyNeedCount = "ERR the ANY argument requires COUNT argument"
)

// geoRadiusKeys is Redis's georadiusGetKeys: the source key, then the
// key after the last STORE or STOREDIST.
func geoRadiusKeys(args [][]byte) [][]byte {
	if len(args) < 2 {
		return nil
	}
	keys := [][]byte{args[1]}
	stored := -1
	for i := 5; i < len(args); i++ {
		if (optIs(args[i], "store") || optIs(args[i], "storedist")) && i+1 < len(args) {
			stored = i + 1
			i++
		}
	}
	if stored != -1 {
		keys = append(keys, args[stored])
	}
	return keys
}

// geoParseLonLat is extractLongLatOrReply: two doubles, within the
// supported range. It writes the error and returns false on bad input.
func geoParseLonLat(x *Ctx, args [][]byte) (lon, lat float64, ok bool) {
	if lon, ok = parseScore(args[0]); !ok {
		x.W.Error(ErrNotFloat)
		return 0, 0, false
	}
	if lat, ok = parseScore(args[1]); !ok {
		x.W.Error(ErrNotFloat)
		return 0, 0, false
	}
	if !geoValidLonLat(lon, lat) {
		b := append([]byte("ERR invalid longitude,latitude pair "), geoAppendFixed(nil, lon, 6)...)
		b = append(b, ',')
		b = geoAppendFixed(b, lat, 6)
		x.W.Error(string(b))
		return 0, 0, false
	}
	return lon, lat, true
}

// geoParseUnit is extractUnitOrReply: the unit's size in meters, 0 (after
// the error) for an unknown unit.
func geoParseUnit(x *Ctx, u []byte) float64 {
	switch {
	case optIs(u, "m"):
		return 1
	case optIs(u, "km"):
		return 1000
	case optIs(u, "ft"):
		return 0.3048
	case optIs(u, "mi"):
		return 1609.34
	}
	x.W.Error(errGeoUnit)
	return 0
}

// geoParseRadius is extractDistanceOrReply: "radius unit" into s.
func geoParseRadius(x *Ctx, args [][]byte, s *geoShape) bool {
	d, ok := parseScore(args[0])
	if !ok {
		x.W.Error(errGeoRadius)
		return false
	}
	if d < 0 {
		x.W.Error(errGeoRadiusNeg)
		return false
	}
	s.radius = d
	if s.conversion = geoParseUnit(x, args[1]); s.conversion == 0 {
		return false
	}
	return true
}

// geoParseBox is extractBoxOrReply: "width height unit" into s.
func geoParseBox(x *Ctx, args [][]byte, s *geoShape) bool {
	w, ok := parseScore(args[0])
	if !ok {
		x.W.Error(errGeoWidth)
		return false
	}
	h, ok := parseScore(args[1])
	if !ok {
		x.W.Error(errGeoHeight)
		return false
	}
	if h < 0 || w < 0 {
		x.W.Error(errGeoBoxNeg)
		return false
	}
	s.width, s.height = w, h
	if s.conversion = geoParseUnit(x, args[2]); s.conversion == 0 {
		return false
	}
	return true
}

// geoReplyHuman writes a coordinate as addReplyHumanLongDouble: a bulk
// string under RESP2, a double under RESP3, both in "%.17Lf" trimmed.
func geoReplyHuman(w *proto.Writer, v float64) {
	var buf [48]byte
	s := geoAppendHuman(buf[:0], v)
	if !w.Resp3 {
		w.Bulk(s)
		return
	}
	w.B = append(w.B, ',')
	w.B = append(w.B, s...)
	w.B = append(w.B, '\r', '\n')
}

// geoReplyDistance writes a distance as addReplyDoubleDistance: always a
// bulk string, "%.4f".
func geoReplyDistance(w *proto.Writer, d float64) {
	var buf [48]byte
	w.Bulk(geoAppendDistance(buf[:0], d))
}

// ---- GEOADD ----

// cmdGeoAdd is GEOADD key [NX|XX] [CH] longitude latitude member ...: the
// positions become geohash scores and the call is handed to ZADD, as Redis
// does (so every ZADD rule applies).
func cmdGeoAdd(x *Ctx) {
	longIdx := 2
	xx, nx := false, false
opts:
	for ; longIdx < len(x.Args); longIdx++ {
		switch opt := x.Args[longIdx]; {
		case optIs(opt, "nx"):
			nx = true
		case optIs(opt, "xx"):
			xx = true
		case optIs(opt, "ch"): // handled by ZADD
		default:
			break opts
		}
	}
	if (len(x.Args)-longIdx)%3 != 0 || (xx && nx) {
		x.W.Error(ErrSyntax)
		return
	}
	elements := (len(x.Args) - longIdx) / 3
	args := make([][]byte, 0, longIdx+2*elements)
	args = append(args, []byte("zadd"))
	args = append(args, x.Args[1:longIdx]...)
	scores := make([]byte, 0, 17*elements)
	for i := 0; i < elements; i++ {
		at := longIdx + 3*i
		lon, lat, ok := geoParseLonLat(x, x.Args[at:at+2])
		if !ok {
			return
		}
		start := len(scores)
		scores = strconv.AppendInt(scores, int64(geoEncodeScore(lon, lat)), 10)
		args = append(args, scores[start:len(scores):len(scores)], x.Args[at+2])
	}
	orig := x.Args
	x.Args = args
	zaddGeneric(x, 0)
	x.Args = orig
}

// ---- GEODIST, GEOHASH, GEOPOS ----

// cmdGeoDist is GEODIST key member1 member2 [M|KM|FT|MI].
func cmdGeoDist(x *Ctx) {
	toMeter := 1.0
	switch {
	case len(x.Args) == 5:
		if toMeter = geoParseUnit(x, x.Args[4]); toMeter == 0 {
			return
		}
	case len(x.Args) > 5:
		x.W.Error(ErrSyntax)
		return
	}
	z, ok := zsetRead(x, x.Args[1])
	if !ok {
		return
	}
	if z == nil {
		x.W.Null()
		return
	}
	s1, ok1 := z.Score(x.Args[2])
	s2, ok2 := z.Score(x.Args[3])
	if !ok1 || !ok2 {
		x.W.Null()
		return
	}
	lon1, lat1 := geoDecodeScore(s1)
	lon2, lat2 := geoDecodeScore(s2)
	geoReplyDistance(x.W, geoDistance(lon1, lat1, lon2, lat2)/toMeter)
}

// cmdGeoHash is GEOHASH key member ...: standard 11-character geohashes.
func cmdGeoHash(x *Ctx) {
	z, ok := zsetRead(x, x.Args[1])
	if !ok {
		return
	}
	x.W.Array(len(x.Args) - 2)
	for _, m := range x.Args[2:] {
		if z != nil {
			if s, found := z.Score(m); found {
				x.W.BulkString(geoHashString(s))
				continue
			}
		}
		x.W.Null()
	}
}

// cmdGeoPos is GEOPOS key member ...: [longitude, latitude] pairs, a null
// array for a missing member.
func cmdGeoPos(x *Ctx) {
	z, ok := zsetRead(x, x.Args[1])
	if !ok {
		return
	}
	x.W.Array(len(x.Args) - 2)
	for _, m := range x.Args[2:] {
		if z != nil {
			if s, found := z.Score(m); found {
				lon, lat := geoDecodeScore(s)
				x.W.Array(2)
				geoReplyHuman(x.W, lon)
				geoReplyHuman(x.W, lat)
				continue
			}
		}
		x.W.NullArray()
	}
}

// ---- GEORADIUS, GEORADIUSBYMEMBER, GEOSEARCH, GEOSEARCHSTORE ----

// Variants of geoRadiusGeneric (Redis's RADIUS_* and GEOSEARCH* flags).
const (
	geoByCoords    = 1 << iota // GEORADIUS: longitude latitude radius unit
	geoByMember                // GEORADIUSBYMEMBER: member radius unit
	geoNoStore                 // the _RO forms: no STORE / STOREDIST
	geoSearchCmd               // GEOSEARCH syntax
	geoSearchStore             // GEOSEARCHSTORE: destination at args[1]
)

// geoRadiusGeneric is Redis's georadiusGeneric: the search commands,
// with the source key at args[srcKeyIndex]. Errors come in Redis's order:
// the source's type first, then the fixed arguments, then the options one
// by one, then their combinations.
func geoRadiusGeneric(x *Ctx, srcKeyIndex int, flags int) {
	var storeKey []byte
	storeDist := false

	z, ok := zsetRead(x, x.Args[srcKeyIndex])
	if !ok {
		return
	}

	var baseArgs int
	var shape geoShape
	switch {
	case flags&geoByCoords != 0:
		baseArgs = 6
		lon, lat, ok := geoParseLonLat(x, x.Args[2:4])
		if !ok {
			return
		}
		shape.xy = [2]float64{lon, lat}
		if !geoParseRadius(x, x.Args[baseArgs-2:], &shape) {
			return
		}
	case flags&geoByMember != 0 && z == nil:
		// No source: parse the options anyway, to know which reply to give.
		baseArgs = 5
	case flags&geoByMember != 0:
		baseArgs = 5
		score, found := z.Score(x.Args[2])
		if !found {
			x.W.Error(errGeoMember)
			return
		}
		shape.xy[0], shape.xy[1] = geoDecodeScore(score)
		if !geoParseRadius(x, x.Args[baseArgs-2:], &shape) {
			return
		}
	default: // GEOSEARCH, GEOSEARCHSTORE
		baseArgs = 2
		if flags&geoSearchStore != 0 {
			baseArgs = 3
			storeKey = x.Args[1]
		}
	}

	withDist, withHash, withCoords := false, false, false
	fromMember, fromLoc, byRadius, byBox := false, false, false, false
	sort := 0 // 1 ASC, -1 DESC
	anyOpt := false
	var count int64
	search := flags&geoSearchCmd != 0
	canStore := flags&(geoNoStore|geoSearchCmd) == 0
	remaining := len(x.Args) - baseArgs
	for i := 0; i < remaining; i++ {
		arg := x.Args[baseArgs+i]
		switch {
		case optIs(arg, "withdist"):
			withDist = true
		case optIs(arg, "withhash"):
			withHash = true
		case optIs(arg, "withcoord"):
			withCoords = true
		case optIs(arg, "any"):
			anyOpt = true
		case optIs(arg, "asc"):
			sort = 1
		case optIs(arg, "desc"):
			sort = -1
		case optIs(arg, "count") && i+1 < remaining:
			v, ok := strictInt64(x.Args[baseArgs+i+1])
			if !ok {
				x.W.Error(ErrNotInteger)
				return
			}
			if v <= 0 {
				x.W.Error(errGeoCount)
				return
			}
			count = v
			i++
		case optIs(arg, "store") && i+1 < remaining && canStore:
			storeKey = x.Args[baseArgs+i+1]
			storeDist = false
			i++
		case optIs(arg, "storedist") && i+1 < remaining && canStore:
			storeKey = x.Args[baseArgs+i+1]
			storeDist = true
			i++
		case optIs(arg, "storedist") && search && flags&geoSearchStore != 0:
			storeDist = true
		case optIs(arg, "frommember") && i+1 < remaining && search && !fromLoc:
			if z != nil {
				score, found := z.Score(x.Args[baseArgs+i+1])
				if !found {
					x.W.Error(errGeoMember)
					return
				}
				shape.xy[0], shape.xy[1] = geoDecodeScore(score)
			}
			fromMember = true
			i++
		case optIs(arg, "fromlonlat") && i+2 < remaining && search && !fromMember:
			lon, lat, ok := geoParseLonLat(x, x.Args[baseArgs+i+1:baseArgs+i+3])
			if !ok {
				return
			}
			shape.xy = [2]float64{lon, lat}
			fromLoc = true
			i += 2
		case optIs(arg, "byradius") && i+2 < remaining && search && !byBox:
			if !geoParseRadius(x, x.Args[baseArgs+i+1:], &shape) {
				return
			}
			shape.box = false
			byRadius = true
			i += 2
		case optIs(arg, "bybox") && i+3 < remaining && search && !byRadius:
			if !geoParseBox(x, x.Args[baseArgs+i+1:], &shape) {
				return
			}
			shape.box = true
			byBox = true
			i += 3
		default:
			x.W.Error(ErrSyntax)
			return
		}
	}

	if storeKey != nil && (withDist || withHash || withCoords) {
		what := "STORE option in GEORADIUS"
		if flags&geoSearchStore != 0 {
			what = "GEOSEARCHSTORE"
		}
		x.W.Error("ERR " + what + " is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
		return
	}
	if search && !(fromMember || fromLoc) {
		x.W.Error("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for " + string(x.Args[0]))
		return
	}
	if search && !(byRadius || byBox) {
		x.W.Error("ERR exactly one of BYRADIUS and BYBOX can be specified for " + string(x.Args[0]))
		return
	}
	if anyOpt && count == 0 {
		x.W.Error(errGeoAnyNeedCount)
		return
	}

	if z == nil {
		if storeKey != nil {
			x.delKeyNotify(storeKey)
			x.W.Int(0)
		} else {
			x.W.Array(0)
		}
		return
	}

	// COUNT needs the nearest points first, unless ANY is given.
	if count != 0 && sort == 0 && !anyOpt {
		sort = 1
	}
	ga, returned := geoSearch(z, &shape, count, anyOpt, sort)

	if storeKey == nil {
		geoReplyResults(x.W, ga[:returned], shape.conversion, withDist, withHash, withCoords)
		return
	}
	if returned > 0 {
		dz := types.NewZSet(false)
		for i := range ga[:returned] {
			gp := &ga[i]
			score := gp.score
			if storeDist {
				score = gp.dist / shape.conversion
			}
			dz.InsertString(gp.member, score)
		}
		lim := zsetLimitsOf(x)
		dz.FitListpack(lim.entries, lim.value)
		x.setKey(storeKey, &shard.Object{Kind: shard.KindZSet, Val: dz})
		x.keyModified(storeKey)
		if flags&geoSearchCmd != 0 {
			x.notify(NotifyZSet, "geosearchstore", storeKey)
		} else {
			x.notify(NotifyZSet, "georadiusstore", storeKey)
		}
	} else {
		x.delKeyNotify(storeKey)
	}
	x.W.Int(int64(returned))
}

// geoReplyResults writes the search reply: plain members, or per member
// an array of the member then, as asked, its distance (in the query's
// unit), its hash and its coordinates.
func geoReplyResults(w *proto.Writer, ga []geoPoint, conversion float64, withDist, withHash, withCoords bool) {
	options := 0
	for _, on := range []bool{withDist, withHash, withCoords} {
		if on {
			options++
		}
	}
	w.Array(len(ga))
	for i := range ga {
		gp := &ga[i]
		if options > 0 {
			w.Array(options + 1)
		}
		w.BulkString(gp.member)
		if withDist {
			geoReplyDistance(w, gp.dist/conversion)
		}
		if withHash {
			w.Int(int64(gp.score))
		}
		if withCoords {
			w.Array(2)
			geoReplyHuman(w, gp.lon)
			geoReplyHuman(w, gp.lat)
		}
	}
}
