package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
	"github.com/kvd/kvd/shard"
	"github.com/kvd/kvd/shard/types"
)

// ---- helpers ----

// geoConn is a raw RESP2/RESP3 connection whose replies are returned as
// the exact bytes the server sent, for byte-for-byte comparisons.
type geoConn struct {
	c net.Conn
	r *bufio.Reader
}

func geoDial(t testing.TB, network, addr string) *geoConn {
	t.Helper()
	var c net.Conn
	var err error
	for i := 0; i < 300; i++ {
		if c, err = net.Dial(network, addr); err == nil {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return &geoConn{c: c, r: bufio.NewReaderSize(c, 1<<16)}
}

func (g *geoConn) do(t testing.TB, args ...string) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "*%d\r\n", len(args))
	for _, a := range args {
		fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
	}
	g.c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.WriteString(g.c, b.String()); err != nil {
		t.Fatal(err)
	}
	out, err := redistest.ReadRaw(g.r)
	if err != nil {
		t.Fatalf("%q: %v", args, err)
	}
	return out
}

// geoRedis starts a private redis-server 7.0 on a unix socket and returns
// its socket path; the test is skipped when it is not installed (failed
// under KVD_REQUIRE_TOOLS=1).
func geoRedis(t *testing.T) string {
	t.Helper()
	sock := redistest.Start(t)
	c := geoDial(t, "unix", sock)
	if v := c.do(t, "INFO", "server"); !strings.Contains(v, "redis_version:7.0.") {
		t.Logf("redis-server is not 7.0: %.80q", v)
	}
	return sock
}

// geoPair is one connection to redis-server and one to kvd, in the same
// protocol, fed the same commands.
type geoPair struct {
	t          *testing.T
	redis, kvd *geoConn
	proto      int
	diffs      int
}

func (p *geoPair) both(args ...string) string {
	p.t.Helper()
	want, got := p.redis.do(p.t, args...), p.kvd.do(p.t, args...)
	if want != got {
		p.diffs++
		if p.diffs <= 20 {
			p.t.Errorf("RESP%d %q\n   redis: %.400q\n   kvd:   %.400q", p.proto, args, want, got)
		}
	}
	return got
}

// bothStored compares a search destination: its members and their order
// byte for byte, and its scores byte for byte too, except the distances
// STOREDIST wrote, which may differ in the last bit or two. Redis computes
// them with glibc's sin, cos and asin, whose x86-64 builds (FMA or not,
// chosen by the CPU) round wrongly in about 0.1% of cases; kvd rounds
// correctly (see geohash.go). The four decimals replies show are not
// affected.
func (p *geoPair) bothStored(key string, dist bool) {
	p.t.Helper()
	args := []string{"ZRANGE", key, "0", "-1", "WITHSCORES"}
	if !dist {
		p.both(args...)
		return
	}
	want, got := geoLeaves(p.redis.do(p.t, args...)), geoLeaves(p.kvd.do(p.t, args...))
	same := len(want) == len(got)
	for i := 0; same && i < len(want); i++ {
		if i%2 == 0 || want[i] == got[i] {
			same = want[i] == got[i]
			continue
		}
		a, errA := strconv.ParseFloat(want[i], 64)
		b, errB := strconv.ParseFloat(got[i], 64)
		same = errA == nil && errB == nil && math.Abs(a-b) <= 4*(math.Nextafter(a, math.Inf(1))-a)
	}
	if !same {
		p.diffs++
		p.t.Errorf("RESP%d %q\n   redis: %.400q\n   kvd:   %.400q", p.proto, args, want, got)
	}
}

// geoLeaves returns the scalar payloads of a raw reply, in order.
func geoLeaves(raw string) []string {
	var out []string
	for len(raw) > 0 {
		i := strings.Index(raw, "\r\n")
		if i < 0 {
			break
		}
		line := raw[:i]
		raw = raw[i+2:]
		switch line[0] {
		case '*', '%', '~', '>':
			continue
		case '$':
			n, _ := strconv.Atoi(line[1:])
			if n >= 0 {
				out = append(out, raw[:n])
				raw = raw[n+2:]
				continue
			}
		}
		out = append(out, line[1:])
	}
	return out
}

// geoCase is a command and its expected compact reply (servertest.Raw).
type geoCase struct {
	args []string
	want string
}

func geoRun(t *testing.T, r *servertest.Raw, cases []geoCase) {
	t.Helper()
	for _, c := range cases {
		if got := r.Do(c.args...); got != c.want {
			t.Errorf("%q\n   got  %q\n   want %q", c.args, got, c.want)
		}
	}
}

func geoArgs(line string) []string { return strings.Fields(line) }

// ---- go-redis, RESP2 and RESP3 ----

// TestGeoClients runs every command through go-redis in RESP2 and RESP3.
// Expected values are redis-server 7.0.15's.
func TestGeoClients(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	ctx := context.Background()
	for _, proto := range []int{2, 3} {
		c := s.Client(proto)
		k := func(n string) string { return fmt.Sprintf("{p%d}%s", proto, n) }
		check := func(what string, got, want any, err error) {
			t.Helper()
			if err != nil {
				t.Fatalf("RESP%d %s: %v", proto, what, err)
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("RESP%d %s = %v, want %v", proto, what, got, want)
			}
		}
		n, err := c.GeoAdd(ctx, k("sicily"),
			&redis.GeoLocation{Name: "Palermo", Longitude: 13.361389, Latitude: 38.115556},
			&redis.GeoLocation{Name: "Catania", Longitude: 15.087269, Latitude: 37.502669}).Result()
		check("geoadd", n, 2, err)
		n, err = c.GeoAdd(ctx, k("sicily"), &redis.GeoLocation{Name: "Palermo", Longitude: 13.361389, Latitude: 38.115556}).Result()
		check("geoadd again", n, 0, err)
		sc, err := c.ZScore(ctx, k("sicily"), "Palermo").Result()
		check("zscore", int64(sc), 3479099956230698, err)

		d, err := c.GeoDist(ctx, k("sicily"), "Palermo", "Catania", "km").Result()
		check("geodist km", d, 166.2742, err)
		d, err = c.GeoDist(ctx, k("sicily"), "Palermo", "Catania", "m").Result()
		check("geodist m", d, 166274.1516, err)
		_, err = c.GeoDist(ctx, k("sicily"), "Palermo", "nosuch", "m").Result()
		if err != redis.Nil {
			t.Errorf("RESP%d geodist missing member: %v, want redis.Nil", proto, err)
		}

		hs, err := c.GeoHash(ctx, k("sicily"), "Palermo", "Catania", "nosuch").Result()
		check("geohash", hs, []string{"sqc8b49rny0", "sqdtr74hyu0", ""}, err)

		pos, err := c.GeoPos(ctx, k("sicily"), "Palermo", "nosuch").Result()
		if err != nil || len(pos) != 2 || pos[0] == nil || pos[1] != nil {
			t.Fatalf("RESP%d geopos = %v, %v", proto, pos, err)
		}
		check("geopos lon", pos[0].Longitude, 13.36138933897018433, nil)
		check("geopos lat", pos[0].Latitude, 38.11555639549629859, nil)

		locs, err := c.GeoSearchLocation(ctx, k("sicily"), &redis.GeoSearchLocationQuery{
			GeoSearchQuery: redis.GeoSearchQuery{Longitude: 15, Latitude: 37, Radius: 200, RadiusUnit: "km", Sort: "ASC"},
			WithCoord:      true, WithDist: true, WithHash: true,
		}).Result()
		check("geosearch", locs, []redis.GeoLocation{
			{Name: "Catania", Longitude: 15.08726745843887329, Latitude: 37.50266842333162032, Dist: 56.4413, GeoHash: 3479447370796909},
			{Name: "Palermo", Longitude: 13.36138933897018433, Latitude: 38.11555639549629859, Dist: 190.4424, GeoHash: 3479099956230698},
		}, err)
		names, err := c.GeoSearch(ctx, k("sicily"), &redis.GeoSearchQuery{
			Member: "Palermo", BoxWidth: 400, BoxHeight: 400, BoxUnit: "km", Sort: "DESC"}).Result()
		check("geosearch bybox", names, []string{"Catania", "Palermo"}, err)

		n, err = c.GeoSearchStore(ctx, k("sicily"), k("dst"), &redis.GeoSearchStoreQuery{
			GeoSearchQuery: redis.GeoSearchQuery{Member: "Palermo", Radius: 100, RadiusUnit: "km"}, StoreDist: true}).Result()
		check("geosearchstore", n, 1, err)
		zs, err := c.ZRangeWithScores(ctx, k("dst"), 0, -1).Result()
		check("geosearchstore result", zs, []redis.Z{{Score: 0, Member: "Palermo"}}, err)

		locs, err = c.GeoRadius(ctx, k("sicily"), 15, 37, &redis.GeoRadiusQuery{
			Radius: 200, Unit: "km", WithDist: true, Sort: "DESC"}).Result()
		check("georadius", locs, []redis.GeoLocation{{Name: "Palermo", Dist: 190.4424}, {Name: "Catania", Dist: 56.4413}}, err)
		locs, err = c.GeoRadiusByMember(ctx, k("sicily"), "Catania", &redis.GeoRadiusQuery{
			Radius: 100, Unit: "km", WithCoord: true}).Result()
		check("georadiusbymember", locs, []redis.GeoLocation{{Name: "Catania", Longitude: 15.08726745843887329, Latitude: 37.50266842333162032}}, err)
		n, err = c.GeoRadiusStore(ctx, k("sicily"), 15, 37, &redis.GeoRadiusQuery{
			Radius: 200, Unit: "km", Store: k("dst2"), Count: 1}).Result()
		check("georadius store", n, 1, err)
		zs, err = c.ZRangeWithScores(ctx, k("dst2"), 0, -1).Result()
		check("georadius store result", zs, []redis.Z{{Score: 3479447370796909, Member: "Catania"}}, err)
		n, err = c.GeoRadiusByMemberStore(ctx, k("sicily"), "Palermo", &redis.GeoRadiusQuery{
			Radius: 500, Unit: "km", StoreDist: k("dst3")}).Result()
		check("georadiusbymember storedist", n, 2, err)
		zs, err = c.ZRangeWithScores(ctx, k("dst3"), 0, -1).Result()
		check("georadiusbymember storedist result", zs, []redis.Z{{Score: 0, Member: "Palermo"}, {Score: 166.27415156960032, Member: "Catania"}}, err)

		res, err := c.Do(ctx, "GEORADIUS_RO", k("sicily"), 15, 37, 100, "km", "WITHDIST").Result()
		switch proto {
		case 2:
			check("georadius_ro", res, []any{[]any{"Catania", "56.4413"}}, err)
		default:
			check("georadius_ro", res, []any{[]any{"Catania", "56.4413"}}, err)
		}
		res, err = c.Do(ctx, "GEORADIUSBYMEMBER_RO", k("sicily"), "Palermo", 10, "km", "WITHCOORD").Result()
		switch proto {
		case 2:
			check("georadiusbymember_ro", res, []any{[]any{"Palermo", []any{"13.36138933897018433", "38.11555639549629859"}}}, err)
		default:
			check("georadiusbymember_ro", res, []any{[]any{"Palermo", []any{13.36138933897018433, 38.11555639549629859}}}, err)
		}
		_, err = c.Do(ctx, "GEORADIUS_RO", k("sicily"), 15, 37, 100, "km", "STORE", k("x")).Result()
		if err == nil || err.Error() != "ERR syntax error" {
			t.Errorf("RESP%d georadius_ro store: %v", proto, err)
		}
	}
}

// ---- exact replies and errors ----

// TestGeoRawReplies checks replies and error texts byte for byte (as
// rendered by servertest.Raw) against what redis-server 7.0.15 answers.
func TestGeoRawReplies(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	var cases []geoCase
	add := func(line, want string) { cases = append(cases, geoCase{geoArgs(line), want}) }
	add("GEOADD k 13.361389 38.115556 Palermo 15.087269 37.502669 Catania", ":2")
	add("GEOADD k 181 0 m", "-ERR invalid longitude,latitude pair 181.000000,0.000000")
	add("GEOADD k 0 85.05112879 m", "-ERR invalid longitude,latitude pair 0.000000,85.051129")
	add("GEOADD k -180.0000001 0 m", "-ERR invalid longitude,latitude pair -180.000000,0.000000")
	add("GEOADD k 1 inf m", "-ERR invalid longitude,latitude pair 1.000000,inf")
	add("GEOADD k 1 -inf m", "-ERR invalid longitude,latitude pair 1.000000,-inf")
	add("GEOADD k x 2 m", "-ERR value is not a valid float")
	add("GEOADD k nan 2 m", "-ERR value is not a valid float")
	add("GEOADD k 1 2", "-ERR wrong number of arguments for 'geoadd' command")
	add("GEOADD k 1 2 m 3", "-ERR syntax error")
	add("GEOADD k nx xx 1 2 m", "-ERR syntax error")
	add("GEOADD k gt 1 2 m", "-ERR syntax error")
	add("GEOADD k nx ch ch", "-ERR syntax error")
	add("GEOADD k ch nx 13.361389 38.115556 Palermo", ":0")
	add("GEOADD k ch 13.361389 38.115556 Palermo 1 1 new", ":1")
	add("GEOADD k ch xx 2 2 new 3 3 newer", ":1")
	add("GEOADD k 180 85.05112878 edge -180 -85.05112878 edge2", ":2")
	add("ZSCORE k edge", "$13510798882111488")
	add("ZSCORE k edge2", "$0")
	add("ZSCORE k Palermo", "$3479099956230698")
	add("GEOPOS k edge edge2", "*[*[$180 $85.0511287799999991] *[$-179.99999731779098511 $-85.05112751263942528]]")
	add("GEOHASH k edge edge2 Palermo", "*[$bp05b5048p0 $00bh0hbj200 $sqc8b49rny0]")
	add("GEOPOS k Palermo nosuch", "*[*[$13.36138933897018433 $38.11555639549629859] (nil)]")
	add("GEOPOS nokey a", "*[(nil)]")
	add("GEOHASH nokey a b", "*[(nil) (nil)]")
	add("GEODIST k Palermo Catania", "$166274.1516")
	add("GEODIST k Palermo Catania KM", "$166.2742")
	add("GEODIST k Palermo Catania mi", "$103.3182")
	add("GEODIST k Palermo Catania ft", "$545518.8700")
	add("GEODIST k Palermo Catania yd", "-ERR unsupported unit provided. please use M, KM, FT, MI")
	add("GEODIST k Palermo Catania km x", "-ERR syntax error")
	add("GEODIST nokey a b yd", "-ERR unsupported unit provided. please use M, KM, FT, MI")
	add("GEODIST nokey a b", "(nil)")
	add("GEODIST k Palermo nosuch", "(nil)")
	add("GEODIST k Palermo Palermo", "$0.0000")

	// Sorted sets not built by GEOADD: scores are cast as C does.
	add("ZADD z -1 a 1e30 b inf c -inf d 0.5 e 1000.7 f 4503599627370496 g 9007199254740992 h -0.5 i 4503599627370495 j", ":10")
	add("GEOPOS z a d f h j", "*[*[$180 $85.0511287799999991] *[$180 $-85.05112751263942528] *[$-179.99983638525009155 $-85.0510666793315977] *[$180 $-85.05112751263942528] *[$179.99999731779098511 $85.05112751263942528]]")
	add("GEOHASH z a b f j", "*[$bp05b5048p0 $00bh0hbj200 $00bh0hbjeu0 $zzpgzgpfxz0]")
	add("GEODIST z a b", "$18919844.5891")
	add("GEOSEARCH z FROMLONLAT 0 0 BYRADIUS 50000 km WITHHASH WITHCOORD WITHDIST",
		"*[*[$j $10560.8118 :4503599627370495 *[$179.99999731779098511 $85.05112751263942528]] *[$e $10560.8118 :0 *[$-179.99999731779098511 $-85.05112751263942528]] *[$f $10560.8185 :1000 *[$-179.99983638525009155 $-85.0510666793315977]]]")
	add("GEOSEARCH z FROMLONLAT 0 0 BYRADIUS inf km", "*[$j $e $f]")
	add("GEOSEARCH z FROMLONLAT 0 0 BYBOX inf inf km", "*[$j $e $f]")
	add("GEOSEARCH z FROMLONLAT 0 0 BYRADIUS 0 km", "*[]")

	// Search argument errors, in Redis's order.
	add("GEOSEARCH k FROMMEMBER Palermo BYRADIUS 100 km", "*[$Palermo]")
	add("GEOSEARCH k FROMMEMBER nosuch BYRADIUS 100 km", "-ERR could not decode requested zset member")
	add("GEOSEARCH nokey FROMMEMBER nosuch BYRADIUS 100 km", "*[]")
	add("GEOSEARCH k FROMMEMBER Palermo", "-ERR wrong number of arguments for 'geosearch' command")
	add("GEOSEARCH k FROMLONLAT 1 2 FROMMEMBER Palermo BYRADIUS 10 km", "-ERR syntax error")
	add("GEOSEARCH k FROMMEMBER Palermo FROMLONLAT 1 2 BYRADIUS 10 km", "-ERR syntax error")
	add("GEOSEARCH k FROMMEMBER Palermo BYRADIUS 10 km BYBOX 1 1 km", "-ERR syntax error")
	add("GEOSEARCH k FROMMEMBER Palermo BYBOX 1 1 km BYRADIUS 10 km", "-ERR syntax error")
	add("GEOSEARCH k FROMMEMBER Palermo BYRADIUS x km", "-ERR need numeric radius")
	add("GEOSEARCH k FROMMEMBER Palermo BYRADIUS -1 km", "-ERR radius cannot be negative")
	add("GEOSEARCH k FROMMEMBER Palermo BYRADIUS 1 yd", "-ERR unsupported unit provided. please use M, KM, FT, MI")
	add("GEOSEARCH k FROMMEMBER Palermo BYBOX x 1 km", "-ERR need numeric width")
	add("GEOSEARCH k FROMMEMBER Palermo BYBOX 1 x km", "-ERR need numeric height")
	add("GEOSEARCH k FROMMEMBER Palermo BYBOX -1 1 km", "-ERR height or width cannot be negative")
	add("GEOSEARCH k FROMMEMBER Palermo BYBOX 1 -1 km", "-ERR height or width cannot be negative")
	add("GEOSEARCH k FROMMEMBER Palermo BYBOX 1 1 yd", "-ERR unsupported unit provided. please use M, KM, FT, MI")
	add("GEOSEARCH k FROMMEMBER Palermo BYRADIUS 1 km COUNT 0", "-ERR COUNT must be > 0")
	add("GEOSEARCH k FROMMEMBER Palermo BYRADIUS 1 km COUNT -1", "-ERR COUNT must be > 0")
	add("GEOSEARCH k FROMMEMBER Palermo BYRADIUS 1 km COUNT x", "-ERR value is not an integer or out of range")
	add("GEOSEARCH k FROMMEMBER Palermo BYRADIUS 1 km ANY", "-ERR the ANY argument requires COUNT argument")
	add("GEOSEARCH k FROMMEMBER Palermo BYRADIUS 1 km COUNT", "-ERR syntax error")
	add("GEOSEARCH k FROMMEMBER Palermo BYRADIUS 1 km STORE x", "-ERR syntax error")
	add("GEOSEARCH k FROMMEMBER Palermo BYRADIUS 1 km STOREDIST", "-ERR syntax error")
	add("GEOSEARCH k BYRADIUS 10 km WITHDIST ASC", "-ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for GEOSEARCH")
	add("geosearch k FROMLONLAT 1 2 WITHDIST ASC", "-ERR exactly one of BYRADIUS and BYBOX can be specified for geosearch")
	add("GEOSEARCH k FROMLONLAT 200 1 BYRADIUS 1 km", "-ERR invalid longitude,latitude pair 200.000000,1.000000")
	add("GEOSEARCH k FROMLONLAT 1 BYRADIUS 1 km", "-ERR value is not a valid float")
	add("GEOSEARCH k FROMMEMBER Palermo BYRADIUS 1000 km COUNT 1 ANY", "*[$Palermo]")
	add("GEOSEARCH k FROMMEMBER Palermo BYRADIUS 1000 km DESC ASC", "*[$Palermo $Catania]")
	add("GEOSEARCH k FROMMEMBER Palermo BYRADIUS 200 km WITHDIST WITHDIST", "*[*[$Palermo $0.0000] *[$Catania $166.2742]]")
	add("GEOSEARCHSTORE d k FROMMEMBER Palermo BYRADIUS 1000 km WITHDIST", "-ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
	add("GEOSEARCHSTORE d k FROMMEMBER Palermo BYRADIUS 1000 km STORE x", "-ERR syntax error")
	add("GEOSEARCHSTORE d k FROMMEMBER nosuch BYRADIUS 1 m", "-ERR could not decode requested zset member")

	add("GEORADIUS k 15 37 200 km", "*[$Palermo $Catania]")
	add("GEORADIUS k 15 37 200 km STORE", "-ERR syntax error")
	add("GEORADIUS k 15 37 200 km STORE d WITHDIST", "-ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options")
	add("GEORADIUS_RO k 15 37 200 km STOREDIST d", "-ERR syntax error")
	add("GEORADIUS k 15 37 x km", "-ERR need numeric radius")
	add("GEORADIUS k x 37 1 km", "-ERR value is not a valid float")
	add("GEORADIUS k 15 37 1 yd", "-ERR unsupported unit provided. please use M, KM, FT, MI")
	add("GEORADIUS k 15 37 -1 km", "-ERR radius cannot be negative")
	add("GEORADIUS k 15 37 200 km FROMLONLAT 1 2", "-ERR syntax error")
	add("GEORADIUS k 15 37 200 km COUNT 1 ANY", "*[$Palermo]")
	add("GEORADIUS k 15 37 200 km ANY", "-ERR the ANY argument requires COUNT argument")
	add("GEORADIUS k 15 37 200 km COUNT 1 COUNT 2", "*[$Catania $Palermo]")
	add("GEORADIUSBYMEMBER k nosuch 200 km", "-ERR could not decode requested zset member")
	add("GEORADIUSBYMEMBER k nosuch x km", "-ERR could not decode requested zset member")
	add("GEORADIUSBYMEMBER k Palermo x km", "-ERR need numeric radius")
	add("GEORADIUSBYMEMBER nokey nosuch 200 km WITHDIST", "*[]")
	add("GEORADIUSBYMEMBER nokey nosuch x km STORE d", ":0")
	add("GEORADIUSBYMEMBER nokey nosuch 1 km bogus", "-ERR syntax error")
	add("GEORADIUSBYMEMBER_RO k Palermo 200 km STORE x", "-ERR syntax error")

	// STORE results and the destination's fate.
	add("GEORADIUS k 15 37 200 km STOREDIST d", ":2")
	add("ZRANGE d 0 -1 WITHSCORES", "*[$Catania $56.441257870158204 $Palermo $190.44242984775784]")
	add("OBJECT ENCODING d", "$listpack")
	add("GEOSEARCHSTORE d k FROMMEMBER Palermo BYRADIUS 1000 km", ":2")
	add("ZRANGE d 0 -1 WITHSCORES", "*[$Palermo $3479099956230698 $Catania $3479447370796909]")
	add("GEOSEARCHSTORE d nokey FROMMEMBER Palermo BYRADIUS 1000 km", ":0")
	add("EXISTS d", ":0")
	add("SET d x", "+OK")
	add("GEORADIUSBYMEMBER k Palermo 1 m STORE d", ":1")
	add("TYPE d", "+zset")
	add("GEORADIUSBYMEMBER k Palermo 1 m STORE d COUNT 1 STOREDIST d2", ":1")
	add("ZSCORE d2 Palermo", "$0")
	add("GEOSEARCHSTORE d k FROMLONLAT 0 0 BYRADIUS 1 m", ":0")
	add("EXISTS d", ":0")

	// Wrong types.
	add("SET str x", "+OK")
	add("GEOSEARCH str FROMLONLAT 1000 2 BYRADIUS 1 km", "-WRONGTYPE Operation against a key holding the wrong kind of value")
	add("GEOADD str 1 2 m", "-WRONGTYPE Operation against a key holding the wrong kind of value")
	add("GEOADD str 1000 2 m", "-ERR invalid longitude,latitude pair 1000.000000,2.000000")
	add("GEOPOS str m", "-WRONGTYPE Operation against a key holding the wrong kind of value")
	add("GEOHASH str m", "-WRONGTYPE Operation against a key holding the wrong kind of value")
	add("GEODIST str a b", "-WRONGTYPE Operation against a key holding the wrong kind of value")
	add("GEODIST str a b yd", "-ERR unsupported unit provided. please use M, KM, FT, MI")
	add("GEORADIUS str 1000 1 1 km", "-WRONGTYPE Operation against a key holding the wrong kind of value")
	add("GEOSEARCHSTORE d str FROMLONLAT 1 2 BYRADIUS 1 km", "-WRONGTYPE Operation against a key holding the wrong kind of value")
	add("GEOSEARCHSTORE str k FROMLONLAT 15 37 BYRADIUS 200 km", ":2")
	add("TYPE str", "+zset")

	// Key positions (COMMAND GETKEYS follows the key specs, as Redis 7.0).
	add("COMMAND GETKEYS GEORADIUS k 1 2 3 km STORE a STOREDIST b", "*[$k $a $b]")
	add("COMMAND GETKEYS GEORADIUSBYMEMBER k m 3 km STOREDIST a", "*[$k $a]")
	add("COMMAND GETKEYS GEOSEARCHSTORE d s FROMLONLAT 1 2 BYRADIUS 1 km", "*[$d $s]")
	geoRun(t, r, cases)

	// RESP3: coordinates are doubles, missing positions null.
	r3 := s.Raw()
	r3.Do("HELLO", "3")
	geoRun(t, r3, []geoCase{
		{geoArgs("GEOPOS k Palermo nosuch"), "*[*[,13.36138933897018433 ,38.11555639549629859] (nil)]"},
		{geoArgs("GEOSEARCH k FROMLONLAT 15 37 BYRADIUS 200 km WITHCOORD WITHDIST WITHHASH ASC"),
			"*[*[$Catania $56.4413 :3479447370796909 *[,15.08726745843887329 ,37.50266842333162032]] *[$Palermo $190.4424 :3479099956230698 *[,13.36138933897018433 ,38.11555639549629859]]]"},
		{geoArgs("GEODIST k Palermo Catania"), "$166274.1516"},
	})
}

// TestGeoNullTypes checks the RESP2 and RESP3 null types byte for byte.
func TestGeoNullTypes(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(1))
	for _, proto := range []int{2, 3} {
		c := geoDial(t, "tcp", s.Addr)
		if proto == 3 {
			c.do(t, "HELLO", "3")
		}
		c.do(t, "GEOADD", "k", "1", "2", "a")
		cases := map[string][2]string{
			"GEOPOS k a b":  {"*2\r\n*2\r\n$19\r\n0.99999994039535522\r\n$18\r\n2.0000001856465488\r\n*-1\r\n", "*2\r\n*2\r\n,0.99999994039535522\r\n,2.0000001856465488\r\n_\r\n"},
			"GEOHASH k b":   {"*1\r\n$-1\r\n", "*1\r\n_\r\n"},
			"GEODIST k a b": {"$-1\r\n", "_\r\n"},
			"GEODIST x a b": {"$-1\r\n", "_\r\n"},
		}
		for line, want := range cases {
			if got := c.do(t, geoArgs(line)...); got != want[proto-2] {
				t.Errorf("RESP%d %s = %q, want %q", proto, line, got, want[proto-2])
			}
		}
	}
}

// ---- comparison with redis-server 7.0.15 ----

// geoRandPoint returns a random valid position: uniform, near one of a few
// cities (dense clusters, so that searches find many points), near the
// poles' limits or near the antimeridian.
func geoRandPoint(rng *rand.Rand, centers [][2]float64) (float64, float64) {
	switch rng.IntN(10) {
	case 0, 1:
		return rng.Float64()*360 - 180, rng.Float64()*170.1022 - 85.0511
	case 2:
		return rng.Float64()*360 - 180, math.Copysign(80+rng.Float64()*5.05, rng.Float64()-0.5)
	case 3:
		return math.Copysign(179+rng.Float64(), rng.Float64()-0.5), rng.Float64()*120 - 60
	}
	c := centers[rng.IntN(len(centers))]
	spread := []float64{0.001, 0.05, 0.5, 3}[rng.IntN(4)]
	lon := math.Max(-180, math.Min(180, c[0]+(rng.Float64()*2-1)*spread))
	lat := math.Max(-85.05, math.Min(85.05, c[1]+(rng.Float64()*2-1)*spread))
	return lon, lat
}

func geoFmt(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// TestGeoVsRedis replays seeded random GEOADDs (a few hundred points, a
// listpack-sized and a skiplist-sized index) and random searches of every
// kind against kvd and redis-server 7.0.15, in RESP2 and RESP3, comparing
// every reply byte for byte: distances, hashes, coordinates, orders, COUNT
// [ANY] picks, errors, and the sets GEOSEARCHSTORE and STORE write
// (destinations on other workers included).
func TestGeoVsRedis(t *testing.T) {
	sock := geoRedis(t)
	s := servertest.Start(t, servertest.Workers(4))
	rng := rand.New(rand.NewPCG(20240607, 7))
	centers := [][2]float64{{13.36, 38.11}, {-0.12, 51.5}, {139.69, 35.69}, {-73.98, 40.75},
		{179.9, -16.5}, {-179.9, 65.5}, {0, 0}, {18.07, 59.33}, {-58.38, -34.6}, {25, 84.9}}

	pairs := []*geoPair{}
	for _, proto := range []int{2, 3} {
		p := &geoPair{t: t, redis: geoDial(t, "unix", sock), kvd: geoDial(t, "tcp", s.Addr), proto: proto}
		if proto == 3 {
			p.redis.do(t, "HELLO", "3")
			p.kvd.do(t, "HELLO", "3")
		}
		pairs = append(pairs, p)
	}
	p2 := pairs[0]

	// Destination keys on every worker, for cross-worker stores.
	e := s.Engine()
	var dsts []string
	seen := map[int]bool{}
	for i := 0; len(dsts) < 4; i++ {
		k := "dst" + strconv.Itoa(i)
		if w := e.WorkerOf([]byte(k)); !seen[w] {
			seen[w] = true
			dsts = append(dsts, k)
		}
	}

	distStored := map[string]bool{} // destinations last written by STOREDIST
	type pt struct {
		name     string
		lon, lat float64
	}
	var pts []pt
	keys := []string{"big", "small"}
	members := map[string][]string{}
	for _, key := range keys {
		n := 400
		if key == "small" {
			n = 60 // stays a listpack
		}
		for i := 0; i < n; {
			args := []string{"GEOADD", key}
			if rng.IntN(5) == 0 {
				args = append(args, "CH")
			}
			batch := 1 + rng.IntN(8)
			for j := 0; j < batch && i < n; j++ {
				lon, lat := geoRandPoint(rng, centers)
				name := fmt.Sprintf("%s%d", key, i)
				if i > 0 && rng.IntN(15) == 0 {
					// Same position as an earlier point: equal distances.
					q := pts[len(pts)-1-rng.IntN(min(len(pts), 5))]
					lon, lat = q.lon, q.lat
				}
				pts = append(pts, pt{name, lon, lat})
				members[key] = append(members[key], name)
				args = append(args, geoFmt(lon), geoFmt(lat), name)
				i++
			}
			p2.both(args...)
		}
	}
	p2.both("GEOADD", "big", "NX", "0", "0", "big0", "1", "1", "nxnew")
	p2.both("GEOADD", "big", "XX", "CH", "2", "2", "nxnew", "3", "3", "xxmissing")
	members["big"] = append(members["big"], "nxnew")
	p2.both("OBJECT", "ENCODING", "big")
	p2.both("OBJECT", "ENCODING", "small")
	p2.both("ZRANGE", "big", "0", "-1", "WITHSCORES")
	p2.both("ZRANGE", "small", "0", "-1", "WITHSCORES")

	// Fixed edge cases: poles, the antimeridian, huge and zero radii and
	// boxes, repeated options, sorted sets that GEOADD did not build.
	for _, line := range []string{
		"GEOADD edge 180 85.05112878 ne -180 -85.05112878 sw 0 0 origin 179.9999 0 east -179.9999 0 west 0 85.05 north 0 -85.05 south",
		"GEOADD edge 90 0 q1 -90 0 q3 45 45 mid 45 45 mid2 45 45 mid3",
		"GEOSEARCH edge FROMLONLAT 0 0 BYRADIUS 1e300 m WITHDIST WITHHASH WITHCOORD",
		"GEOSEARCH edge FROMLONLAT 0 0 BYRADIUS inf m WITHDIST ASC",
		"GEOSEARCH edge FROMLONLAT 0 0 BYRADIUS 0 m WITHDIST",
		"GEOSEARCH edge FROMMEMBER origin BYRADIUS 0 m WITHDIST",
		"GEOSEARCH edge FROMMEMBER mid BYRADIUS 0 m WITHDIST",
		"GEOSEARCH edge FROMMEMBER mid BYBOX 0 0 m WITHDIST DESC",
		"GEOSEARCH edge FROMLONLAT 180 0 BYRADIUS 100 km WITHDIST",
		"GEOSEARCH edge FROMLONLAT -180 0 BYBOX 100 100 km WITHDIST",
		"GEOSEARCH edge FROMLONLAT 0 85.05112878 BYRADIUS 5000 km WITHDIST ASC",
		"GEOSEARCH edge FROMLONLAT 0 -85.05112878 BYBOX 40000 1000 km WITHDIST ASC",
		"GEOSEARCH edge FROMLONLAT 0 0 BYBOX 1e7 1e7 km ASC COUNT 3",
		"GEOSEARCH edge FROMLONLAT 0 0 BYBOX 1e7 1e7 km DESC COUNT 3 WITHDIST",
		"GEOSEARCH edge FROMLONLAT 0 0 BYRADIUS 20000 km COUNT 4 ANY WITHDIST",
		"GEOSEARCH edge FROMLONLAT 0 0 BYRADIUS 20000 km COUNT 4 ANY DESC WITHDIST",
		"GEOSEARCH edge FROMLONLAT 0 0 BYRADIUS 20000 km COUNT 100 ANY",
		"GEOSEARCH edge FROMMEMBER mid FROMMEMBER origin BYRADIUS 10 km BYRADIUS 20000 km",
		"GEOSEARCH edge FROMLONLAT 1 1 FROMLONLAT 0 0 BYBOX 1 1 m BYBOX 3000 3000 km WITHDIST",
		"GEOSEARCH edge FROMLONLAT 45 45 BYRADIUS 1 km COUNT 2 ASC",
		"GEOSEARCH edge FROMLONLAT 45 45 BYRADIUS 1 km COUNT 2 DESC",
		"GEOSEARCH edge FROMLONLAT 45 45 BYRADIUS 20000 km COUNT 3 ASC",
		"GEORADIUS edge 0 0 20000 km WITHDIST COUNT 5 STORE x",
		"GEORADIUS edge 0 0 20000 km COUNT 5 STORE x STOREDIST y",
		"ZRANGE y 0 -1 WITHSCORES",
		"EXISTS x",
		"GEORADIUS edge 0 0 20000 km COUNT 5 ANY STORE x",
		"ZRANGE x 0 -1 WITHSCORES",
		"GEORADIUSBYMEMBER edge ne 20000 km COUNT 2 STORE x",
		"ZRANGE x 0 -1 WITHSCORES",
		"GEORADIUSBYMEMBER_RO edge ne 20000 km COUNT 2 WITHCOORD",
		"GEODIST edge ne sw",
		"GEODIST edge east west mi",
		"GEODIST edge north south ft",
		"GEODIST edge q1 q3",
		"GEOHASH edge ne sw origin east west north south q1 q3 mid",
		"GEOPOS edge ne sw origin east west north south q1 q3 mid",
		"ZADD odd -1 a 1e30 b inf c -inf d 0.5 e 1000.7 f 4503599627370496 g 9007199254740992 h -0.5 i 4503599627370495 j",
		"GEOPOS odd a b c d e f g h i j",
		"GEOHASH odd a b c d e f g h i j",
		"GEODIST odd a j km",
		"GEOSEARCH odd FROMMEMBER d BYRADIUS 20000 km WITHDIST WITHHASH WITHCOORD ASC",
		"GEOSEARCH odd FROMLONLAT 0 0 BYBOX inf inf km WITHHASH",
		"GEOADD edge CH NX 1 1 origin 2 2 brandnew",
		"GEOADD edge XX CH 1 1 origin 2 2 nothere",
		"GEOADD edge CH XX NX 1 1 origin",
		"GEOADD edge 1 1",
		"GEOADD edge 1 1 a 2",
		"GEOSEARCH edge FROMLONLAT 0 0 BYRADIUS 1 km WITHDIST STOREDIST",
		"GEOSEARCHSTORE x edge FROMLONLAT 0 0 BYRADIUS 1 km STOREDIST STOREDIST",
		"GEOSEARCHSTORE x edge FROMLONLAT 0 0 BYRADIUS 1 km COUNT 1 ANY WITHHASH",
		"geosearch edge frommember origin byradius 1 km",
		"geosearch edge withdist frommember origin",
		"GEOSEARCH edge FROMLONLAT 0 0 BYRADIUS 1 km COUNT 9223372036854775807",
		"GEOSEARCH edge FROMLONLAT 0 0 BYRADIUS 1 km COUNT 9223372036854775808",
		"GEOSEARCH edge FROMLONLAT 0 0 BYRADIUS 0x10 km",
		"GEOSEARCH edge FROMLONLAT 0 0 BYRADIUS 1e400 km",
		"GEOSEARCH edge FROMLONLAT 0 0 BYRADIUS 1e-400 km",
		"GEOSEARCH edge FROMLONLAT -0 -0 BYRADIUS 10 km WITHCOORD",
		"GEOADD edge 1e-320 -1e-320 tiny",
		"GEOPOS edge tiny",
	} {
		for _, p := range pairs {
			p.both(strings.Fields(line)...)
		}
	}

	units := []string{"m", "km", "ft", "mi", "KM", "M"}
	unitSize := map[string]float64{"m": 1, "km": 1000, "ft": 0.3048, "mi": 1609.34, "KM": 1000, "M": 1}
	randDist := func(unit string) string {
		var meters float64
		switch rng.IntN(12) {
		case 0:
			meters = 0
		case 1:
			meters = 1e6 + rng.Float64()*2e7
		default:
			meters = math.Pow(10, rng.Float64()*6.7) // 1 m .. 5000 km
		}
		v := meters / unitSize[unit]
		if rng.IntN(3) == 0 {
			return strconv.FormatFloat(v, 'f', rng.IntN(4), 64)
		}
		return geoFmt(v)
	}
	randMember := func(key string) string {
		if rng.IntN(30) == 0 {
			return "nosuch"
		}
		ms := members[key]
		return ms[rng.IntN(len(ms))]
	}
	// randOpts returns random search options, in random order (Redis
	// accepts them in any order; COUNT n [ANY] stays together).
	randOpts := func(store bool) []string {
		var groups [][]string
		if !store {
			for _, w := range []string{"WITHCOORD", "WITHDIST", "WITHHASH"} {
				if rng.IntN(2) == 0 {
					groups = append(groups, []string{w})
				}
			}
		}
		switch rng.IntN(3) {
		case 0:
			groups = append(groups, []string{"ASC"})
		case 1:
			groups = append(groups, []string{"DESC"})
		}
		if rng.IntN(2) == 0 {
			g := []string{"COUNT", strconv.Itoa(1 + rng.IntN(25))}
			if rng.IntN(3) == 0 {
				g = append(g, "ANY")
			}
			groups = append(groups, g)
		}
		rng.Shuffle(len(groups), func(i, j int) { groups[i], groups[j] = groups[j], groups[i] })
		var o []string
		for _, g := range groups {
			o = append(o, g...)
		}
		return o
	}
	searchArgs := func(key string) []string {
		var a []string
		if rng.IntN(3) == 0 {
			a = append(a, "FROMMEMBER", randMember(key))
		} else {
			lon, lat := geoRandPoint(rng, centers)
			a = append(a, "FROMLONLAT", geoFmt(lon), geoFmt(lat))
		}
		unit := units[rng.IntN(len(units))]
		if rng.IntN(2) == 0 {
			a = append(a, "BYRADIUS", randDist(unit), unit)
		} else {
			a = append(a, "BYBOX", randDist(unit), randDist(unit), unit)
		}
		return a
	}

	for q := 0; q < 1000; q++ {
		key := keys[rng.IntN(2)]
		var args []string
		store, storeDist, dst := false, false, ""
		switch rng.IntN(9) {
		case 0, 1, 2:
			args = append(append([]string{"GEOSEARCH", key}, searchArgs(key)...), randOpts(false)...)
		case 3:
			store, dst = true, dsts[rng.IntN(len(dsts))]
			args = append(append([]string{"GEOSEARCHSTORE", dst, key}, searchArgs(key)...), randOpts(true)...)
			if storeDist = rng.IntN(2) == 0; storeDist {
				args = append(args, "STOREDIST")
			}
		case 4:
			lon, lat := geoRandPoint(rng, centers)
			unit := units[rng.IntN(len(units))]
			name := []string{"GEORADIUS", "GEORADIUS_RO"}[rng.IntN(2)]
			store = name == "GEORADIUS" && rng.IntN(3) == 0
			args = append([]string{name, key, geoFmt(lon), geoFmt(lat), randDist(unit), unit}, randOpts(store)...)
			if store {
				storeDist, dst = rng.IntN(2) == 0, dsts[rng.IntN(len(dsts))]
				args = append(args, map[bool]string{false: "STORE", true: "STOREDIST"}[storeDist], dst)
			}
		case 5:
			unit := units[rng.IntN(len(units))]
			name := []string{"GEORADIUSBYMEMBER", "GEORADIUSBYMEMBER_RO"}[rng.IntN(2)]
			store = name == "GEORADIUSBYMEMBER" && rng.IntN(3) == 0
			args = append([]string{name, key, randMember(key), randDist(unit), unit}, randOpts(store)...)
			if store {
				storeDist, dst = rng.IntN(2) == 0, dsts[rng.IntN(len(dsts))]
				args = append(args, map[bool]string{false: "STORE", true: "STOREDIST"}[storeDist], dst)
			}
		case 6:
			args = []string{"GEODIST", key, randMember(key), randMember(key)}
			if rng.IntN(4) != 0 {
				args = append(args, units[rng.IntN(len(units))])
			}
		case 7:
			args = []string{"GEOPOS", key}
			for i := rng.IntN(6); i >= 0; i-- {
				args = append(args, randMember(key))
			}
		default:
			args = []string{"GEOHASH", key}
			for i := rng.IntN(6); i >= 0; i-- {
				args = append(args, randMember(key))
			}
		}
		for _, p := range pairs {
			if reply := p.both(args...); store && strings.HasPrefix(reply, ":") {
				distStored[dst] = storeDist
			}
			if store {
				for _, d := range dsts {
					p.bothStored(d, distStored[d])
				}
			}
		}
		if t.Failed() && p2.diffs > 20 {
			t.FailNow()
		}
	}
	for _, d := range dsts {
		p2.both("OBJECT", "ENCODING", d)
	}
}

// ---- atomicity across workers ----

// TestGeoSearchStoreAcrossWorkers stores search results into destinations
// owned by other workers than the source while the indexed points move
// back and forth (one GEOADD moves them all): every GEOSEARCHSTORE and
// GEORADIUS STORE must see all the points or none, and the destination is
// always exactly what the reply announced.
func TestGeoSearchStoreAcrossWorkers(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	e := s.Engine()
	var keys []string
	seen := map[int]bool{}
	for i := 0; len(keys) < 3; i++ {
		k := "geo" + strconv.Itoa(i)
		if w := e.WorkerOf([]byte(k)); !seen[w] {
			seen[w] = true
			keys = append(keys, k)
		}
	}
	src, dst, dst2 := keys[0], keys[1], keys[2]
	ctx := context.Background()
	const n = 20
	move := func(lon float64) []any {
		args := []any{"GEOADD", src}
		for i := 0; i < n; i++ {
			args = append(args, lon+float64(i)*0.001, 10.0, "p"+strconv.Itoa(i))
		}
		return args
	}
	c := s.Client(2)
	if err := c.Do(ctx, move(20)...).Err(); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 16)
	stop := make(chan struct{})
	var mover, searchers sync.WaitGroup
	mover.Add(1)
	go func() {
		defer mover.Done()
		mc := s.Client(2)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			lon := 20.0
			if i%2 == 0 {
				lon = 40
			}
			if err := mc.Do(ctx, move(lon)...).Err(); err != nil {
				errs <- err
				return
			}
		}
	}()
	for g := 0; g < 4; g++ {
		searchers.Add(1)
		go func() {
			defer searchers.Done()
			gc := s.Client(2)
			for i := 0; i < 300; i++ {
				var got int64
				var err error
				if (g+i)%2 == 0 {
					got, err = gc.GeoSearchStore(ctx, src, dst, &redis.GeoSearchStoreQuery{
						GeoSearchQuery: redis.GeoSearchQuery{Longitude: 20, Latitude: 10, Radius: 100, RadiusUnit: "km"}}).Result()
				} else {
					got, err = gc.GeoRadiusStore(ctx, src, 40, 10, &redis.GeoRadiusQuery{Radius: 100, Unit: "km", StoreDist: dst2}).Result()
				}
				if err != nil {
					errs <- err
					return
				}
				if got != 0 && got != n {
					errs <- fmt.Errorf("store saw %d points, want 0 or %d", got, n)
					return
				}
			}
		}()
	}
	// Snapshots holding every worker: a destination holds all the points
	// or does not exist.
	for i := 0; i < 200; i++ {
		e.Do(func(w *shard.Worker) {
			db := e.DB(w, 0)
			for _, k := range []string{dst, dst2} {
				if o := db.Lookup([]byte(k)); o != nil {
					if l := o.Val.(*types.ZSet).Len(); l != n {
						select {
						case errs <- fmt.Errorf("%s holds %d members", k, l):
						default:
						}
					}
				}
			}
		})
	}
	searchers.Wait()
	close(stop)
	mover.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Final state: the stores agree with a plain search.
	c.Do(ctx, move(20)...)
	n1, err := c.GeoSearchStore(ctx, src, dst, &redis.GeoSearchStoreQuery{
		GeoSearchQuery: redis.GeoSearchQuery{Longitude: 20, Latitude: 10, Radius: 100, RadiusUnit: "km"}, StoreDist: true}).Result()
	if err != nil || n1 != n {
		t.Fatalf("final store: %d, %v", n1, err)
	}
	want, _ := c.GeoSearchLocation(ctx, src, &redis.GeoSearchLocationQuery{
		GeoSearchQuery: redis.GeoSearchQuery{Longitude: 20, Latitude: 10, Radius: 100, RadiusUnit: "km", Sort: "ASC"}, WithDist: true}).Result()
	got, _ := c.ZRangeWithScores(ctx, dst, 0, -1).Result()
	if len(got) != len(want) {
		t.Fatalf("stored %d, searched %d", len(got), len(want))
	}
	for i := range got {
		if got[i].Member != want[i].Name || math.Abs(got[i].Score-want[i].Dist) > 1e-4 {
			t.Errorf("stored %v, searched %v", got[i], want[i])
		}
	}
}
