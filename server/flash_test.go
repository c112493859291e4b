package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cespare/xxhash/v2"
	"github.com/redis/go-redis/v9"

	"github.com/kvd/kvd/server/servertest"
	"github.com/kvd/kvd/shard"
)

// The FLASH.* commands are kvd's own: Redis 7.0 has no COMMAND INFO/DOCS
// for them to compare with (command_test.go).
func init() {
	for _, name := range []string{"flash.create", "flash.buy", "flash.confirm", "flash.cancel", "flash.restock",
		"flash.delete", "flash.list", "flash.status", "flash.orders"} {
		cmdtNot70[name] = true
	}
}

// flashDo sends one command (fields split on spaces) and returns the
// compact reply.
func flashDo(r *servertest.Raw, cmd string) string { return r.Do(strings.Fields(cmd)...) }

func flashEx(t *testing.T, r *servertest.Raw, cmd, want string) {
	t.Helper()
	if got := flashDo(r, cmd); got != want {
		t.Errorf("%s: got %s, want %s", cmd, got, want)
	}
}

// flashHome mirrors the server's rule for a user's home part.
func flashHome(user string, parts int) string {
	return strconv.Itoa(int(xxhash.Sum64String(user) % uint64(parts)))
}

func TestFlashCommands(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	ex := func(cmd, want string) { t.Helper(); flashEx(t, r, cmd, want) }
	ex("FLASH.CREATE tv STOCK 10", "+OK")
	ex("FLASH.CREATE tv STOCK 5", "-ERR flash item already exists (use REPLACE)")
	ex("FLASH.CREATE tv STOCK 6 PARTS 3 REPLACE", "+OK")
	ex("FLASH.CREATE x", "-ERR wrong number of arguments for 'flash.create' command")
	ex("FLASH.CREATE x PARTS 2 LIMIT 1", "-ERR FLASH.CREATE needs STOCK")
	ex("FLASH.CREATE x STOCK -1", "-ERR STOCK must not be negative")
	ex("FLASH.CREATE x STOCK abc", "-ERR value is not an integer or out of range")
	ex("FLASH.CREATE y STOCK 1 PARTS 1025", "-ERR PARTS must be between 1 and 1024")
	ex("FLASH.CREATE y STOCK 1 START 10 END 10", "-ERR END must be after START")
	ex("FLASH.CREATE y STOCK 1 BOGUS 1", "-ERR syntax error")
	ex("FLASH.CREATE y STOCK 1 LIMIT", "-ERR syntax error")
	ex("FLASH.CREATE x STOCK 1 PARTS 0", "+OK") // 0 = the default, one per worker
	ex("FLASH.LIST", "*[$tv $x]")
	ex("FLASH.BUY nosuch u", "-ERR no such flash item")
	ex("FLASH.BUY tv u QTY 0", "-ERR QTY must be positive")
	ex("FLASH.BUY tv u QTY", "-ERR syntax error")
	ex("FLASH.BUY tv u FOO 1", "-ERR syntax error")
	ha, hb := flashHome("alice", 3), flashHome("bob", 3)
	ex("FLASH.BUY tv alice", "*[+OK $1-"+ha+" :5]")
	ex("FLASH.BUY tv bob QTY 5", "*[+OK $2-"+hb+" :0]")
	ex("FLASH.BUY tv carol", "*[+SOLDOUT (nil) :0]")
	st := flashDo(r, "FLASH.STATUS tv")
	if !strings.HasPrefix(st, "*[$total :6 $available :0 $reserved :0 $sold :6 $state +SOLDOUT $version :") {
		t.Errorf("STATUS: %s", st)
	}
	ex("FLASH.ORDERS tv", "*[*[$1-"+ha+" $alice :1 +SOLD "+orderTime(t, r, 0)+"] *[$2-"+hb+" $bob :5 +SOLD "+orderTime(t, r, 1)+"]]")
	ex("FLASH.RESTOCK tv 4", ":10")
	ex("FLASH.RESTOCK tv -5", "-ERR FLASH.RESTOCK would drop the total below sold + reserved")
	ex("FLASH.RESTOCK tv x", "-ERR value is not an integer or out of range")
	ex("FLASH.RESTOCK tv -4", ":6")
	ex("FLASH.RESTOCK tv 0", ":6")
	ex("FLASH.CANCEL tv 1-"+ha, ":1")
	ex("FLASH.CANCEL tv 1-"+ha, ":0")
	ex("FLASH.CANCEL tv 99-0", ":0")
	ex("FLASH.CANCEL tv junk", ":0")
	ex("FLASH.CONFIRM tv 2-"+hb, "+OK")
	ex("FLASH.CONFIRM tv 1-"+ha, "+UNKNOWN")
	ex("FLASH.CONFIRM tv 7-99", "+UNKNOWN")
	ex("FLASH.CONFIRM nosuch 1-0", "-ERR no such flash item")
	ex("FLASH.ORDERS tv COUNT 1", "*[*[$1-"+ha+" $alice :1 +CANCELLED "+orderTime(t, r, 0)+"]]")
	ex("FLASH.DELETE tv", ":1")
	ex("FLASH.DELETE tv", ":0")
	ex("FLASH.STATUS tv", "-ERR no such flash item")
	ex("FLASH.LIST", "*[$x]")

	// RESP3: STATUS is a map, and so is each part.
	ex("FLASH.CREATE m STOCK 3 PARTS 2", "+OK")
	r.Do("HELLO", "3")
	ex("FLASH.STATUS m", "%[$total :3 $available :3 $reserved :0 $sold :0 $state +ACTIVE $version :0 $parts *[%[$available :2 $sold :0] %[$available :1 $sold :0]]]")
	ex("FLASH.BUY m u QTY 9", "*[+SOLDOUT (nil) :3]")
}

// orderTime returns the time field of the i-th order of item tv.
func orderTime(t *testing.T, r *servertest.Raw, i int) string {
	t.Helper()
	f := strings.Fields(strings.NewReplacer("[", " ", "]", " ").Replace(flashDo(r, "FLASH.ORDERS tv")))
	// each order is: *  id user qty state time
	return f[1+i*6+5]
}

func TestFlashLimitReqID(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	ex := func(cmd, want string) { t.Helper(); flashEx(t, r, cmd, want) }
	ex("FLASH.CREATE p STOCK 100 PARTS 4 LIMIT 3", "+OK")
	h1, h2 := flashHome("u1", 4), flashHome("u2", 4)
	ex("FLASH.BUY p u1 QTY 2", "*[+OK $1-"+h1+" :98]")
	ex("FLASH.BUY p u1 QTY 2", "*[+LIMIT (nil) :98]")
	ex("FLASH.BUY p u1", "*[+OK $2-"+h1+" :97]")
	ex("FLASH.BUY p u1", "*[+LIMIT (nil) :97]")
	// REQID: a retry returns the original reply and takes nothing.
	ex("FLASH.BUY p u2 QTY 2 REQID a", "*[+OK $3-"+h2+" :95]")
	ex("FLASH.BUY p u2 QTY 2 REQID a", "*[+OK $3-"+h2+" :95]")
	ex("FLASH.BUY p u2 QTY 2 reqid a", "*[+OK $3-"+h2+" :95]")
	ex("FLASH.BUY p u2 QTY 1 REQID a", "-ERR REQID already used with different arguments")
	ex("FLASH.BUY p u3 QTY 2 REQID a", "-ERR REQID already used with different arguments")
	ex("FLASH.BUY p u2 QTY 2 REQID b", "*[+LIMIT (nil) :95]")
	ex("FLASH.CANCEL p 3-"+h2, ":1")
	ex("FLASH.BUY p u2 QTY 2 REQID b", "*[+LIMIT (nil) :95]") // the original reply
	ex("FLASH.BUY p u2 QTY 3 REQID c", "*[+OK $4-"+h2+" :94]")
	ex("FLASH.BUY p u2 QTY 3 REQID a", "-ERR REQID already used with different arguments")
	st := flashDo(r, "FLASH.STATUS p")
	if !strings.HasPrefix(st, "*[$total :100 $available :94 $reserved :0 $sold :6 ") {
		t.Errorf("STATUS: %s", st)
	}
	info := flashDo(r, "INFO flash")
	for _, want := range []string{"flash_buys_ok:4", "flash_buys_limit:3", "flash_buys_replayed:3", "flash_orders_cancelled:1"} {
		if !strings.Contains(info, want+"\r\n") && !strings.Contains(info, want+"\n") {
			t.Errorf("INFO flash lacks %s:\n%s", want, info)
		}
	}
}

func TestFlashNoFalseSoldout(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(4))
	r := s.Raw()
	ex := func(cmd, want string) { t.Helper(); flashEx(t, r, cmd, want) }
	ex("FLASH.CREATE one STOCK 4 PARTS 4", "+OK")
	// No part holds 3 units, the item does.
	ex("FLASH.BUY one u QTY 3", "*[+OK $1-"+flashHome("u", 4)+" :1]")
	ex("FLASH.BUY one v QTY 2", "*[+SOLDOUT (nil) :1]")
	ex("FLASH.BUY one v", "*[+OK $2-"+flashHome("v", 4)+" :0]")
	ex("FLASH.BUY one w", "*[+SOLDOUT (nil) :0]")
	if info := flashDo(r, "INFO flash"); !strings.Contains(info, "flash_buys_crosspart:") || strings.Contains(info, "flash_buys_crosspart:0") {
		t.Errorf("no cross-part buy counted:\n%s", info)
	}
	// The parts are on different workers.
	keys := flashDo(r, "KEYS __flash:part:*")
	seen := map[int]bool{}
	for _, k := range strings.Fields(strings.Trim(keys, "*[]")) {
		seen[s.Engine().WorkerOf([]byte(strings.TrimPrefix(k, "$")))] = true
	}
	if len(seen) != 4 {
		t.Errorf("parts on %d workers, want 4: %s", len(seen), keys)
	}

	// Uneven draining: buyers all homed on part 0 trigger a rebalance.
	ex("FLASH.CREATE even STOCK 1000 PARTS 2", "+OK")
	n := 0
	for i := 0; n < 400; i++ {
		u := "user" + strconv.Itoa(i)
		if flashHome(u, 2) != "0" {
			continue
		}
		n++
		if got := flashDo(r, "FLASH.BUY even "+u); !strings.HasPrefix(got, "*[+OK ") {
			t.Fatalf("buy %d: %s", n, got)
		}
	}
	if info := flashDo(r, "INFO flash"); strings.Contains(info, "flash_rebalances:0") {
		t.Errorf("no rebalance:\n%s", info)
	}
	st := flashDo(r, "FLASH.STATUS even")
	if !strings.HasPrefix(st, "*[$total :1000 $available :600 $reserved :0 $sold :400 ") {
		t.Errorf("STATUS: %s", st)
	}
}

func TestFlashHold(t *testing.T) {
	var now atomic.Int64
	now.Store(1_700_000_000_000)
	s := servertest.Start(t, servertest.Workers(2), servertest.Clock(now.Load))
	r := s.Raw()
	ex := func(cmd, want string) { t.Helper(); flashEx(t, r, cmd, want) }
	ex("FLASH.CREATE h STOCK 5 PARTS 2 HOLD 1000 LIMIT 2", "+OK")
	ha, hb := flashHome("a", 2), flashHome("b", 2)
	ex("FLASH.BUY h a QTY 2", "*[+OK $1-"+ha+" :3]")
	ex("FLASH.STATUS h", "*[$total :5 $available :3 $reserved :2 $sold :0 $state +ACTIVE $version :1 $parts "+flashParts(t, r, "h")+"]")
	ex("FLASH.CONFIRM h 1-"+ha, "+OK")
	ex("FLASH.CONFIRM h 1-"+ha, "+OK")
	ex("FLASH.BUY h b QTY 2", "*[+OK $2-"+hb+" :1]")
	ex("FLASH.BUY h b", "*[+LIMIT (nil) :1]")
	now.Add(999)
	ex("FLASH.BUY h c QTY 2", "*[+SOLDOUT (nil) :1]")
	now.Add(1)
	// b's reservation lapsed: its units are back and b may buy again.
	ex("FLASH.CONFIRM h 2-"+hb, "+EXPIRED")
	ex("FLASH.CANCEL h 2-"+hb, ":0")
	st := flashDo(r, "FLASH.STATUS h")
	if !strings.HasPrefix(st, "*[$total :5 $available :3 $reserved :0 $sold :2 $state +ACTIVE ") {
		t.Errorf("STATUS after expiry: %s", st)
	}
	ex("FLASH.BUY h b QTY 2", "*[+OK $3-"+hb+" :1]")
	ex("FLASH.CANCEL h 3-"+hb, ":1")
	ex("FLASH.BUY h c QTY 3", "*[+LIMIT (nil) :3]")
	ex("FLASH.BUY h c QTY 2", "*[+OK $4-"+flashHome("c", 2)+" :1]")
	ex("FLASH.ORDERS h USER b", "*[*[$2-"+hb+" $b :2 +EXPIRED :"+strconv.FormatInt(now.Load()-1000, 10)+"] *[$3-"+hb+" $b :2 +CANCELLED :"+strconv.FormatInt(now.Load(), 10)+"]]")
	info := flashDo(r, "INFO flash")
	for _, want := range []string{"flash_reservations_active:1", "flash_reservations_expired:1", "flash_reservations_confirmed:1"} {
		if !strings.Contains(info, want) {
			t.Errorf("INFO flash lacks %s:\n%s", want, info)
		}
	}
	// The periodic sweep expires reservations nobody touches.
	ex("CONFIG SET flash-push-interval-ms 5", "+OK")
	now.Add(1000)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(flashDo(r, "INFO flash"), "flash_reservations_active:0") {
		if time.Now().After(deadline) {
			t.Fatalf("the sweep did not expire the reservation:\n%s", flashDo(r, "INFO flash"))
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// flashParts returns the rendered parts array of an item's STATUS.
func flashParts(t *testing.T, r *servertest.Raw, item string) string {
	t.Helper()
	st := flashDo(r, "FLASH.STATUS "+item)
	i := strings.Index(st, "$parts ")
	if i < 0 {
		t.Fatalf("STATUS: %s", st)
	}
	return st[i+len("$parts ") : len(st)-1]
}

func TestFlashWindow(t *testing.T) {
	var now atomic.Int64
	t0 := int64(1_700_000_000_000)
	now.Store(t0)
	s := servertest.Start(t, servertest.Workers(2), servertest.Clock(now.Load))
	r := s.Raw()
	ex := func(cmd, want string) { t.Helper(); flashEx(t, r, cmd, want) }
	ex(fmt.Sprintf("FLASH.CREATE w STOCK 5 START %d END %d", t0+1000, t0+2000), "+OK")
	ex("FLASH.BUY w a", "*[+NOTSTARTED (nil) :5]")
	ex("FLASH.BUY w a REQID r", "*[+NOTSTARTED (nil) :5]")
	if st := flashDo(r, "FLASH.STATUS w"); !strings.Contains(st, "$state +PENDING") {
		t.Errorf("STATUS: %s", st)
	}
	now.Store(t0 + 1000)
	ex("FLASH.BUY w a", "*[+OK $1-"+flashHome("a", 2)+" :4]")
	ex("FLASH.BUY w a REQID r", "*[+NOTSTARTED (nil) :5]") // a REQID replays its first reply
	if st := flashDo(r, "FLASH.STATUS w"); !strings.Contains(st, "$state +ACTIVE") {
		t.Errorf("STATUS: %s", st)
	}
	now.Store(t0 + 2000)
	ex("FLASH.BUY w a", "*[+ENDED (nil) :4]")
	if st := flashDo(r, "FLASH.STATUS w"); !strings.Contains(st, "$state +ENDED") {
		t.Errorf("STATUS: %s", st)
	}
}

func TestFlashOrders(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(3))
	r := s.Raw()
	flashEx(t, r, "FLASH.CREATE o STOCK 1000 PARTS 3", "+OK")
	var ids []string
	for i := 0; i < 40; i++ {
		u := "u" + strconv.Itoa(i%7)
		got := flashDo(r, "FLASH.BUY o "+u+" QTY "+strconv.Itoa(1+i%3))
		f := strings.Fields(got)
		if len(f) != 3 || f[0] != "*[+OK" {
			t.Fatalf("buy: %s", got)
		}
		ids = append(ids, strings.TrimPrefix(f[1], "$"))
	}
	// Paging with AFTER/COUNT sees every order once, in purchase order.
	var paged []string
	cursor := "0"
	for {
		got := flashDo(r, "FLASH.ORDERS o AFTER "+cursor+" COUNT 7")
		if got == "*[]" {
			break
		}
		for _, part := range strings.Split(strings.TrimSuffix(strings.TrimPrefix(got, "*[*["), "]]"), "] *[") {
			id := strings.TrimPrefix(strings.Fields(part)[0], "$")
			paged = append(paged, id)
			cursor = id
		}
	}
	if strings.Join(paged, " ") != strings.Join(ids, " ") {
		t.Errorf("paged %v\nwant  %v", paged, ids)
	}
	got := flashDo(r, "FLASH.ORDERS o USER u3")
	if n := strings.Count(got, "$u3 "); n != 6 || strings.Count(got, "*[$") != 6 {
		t.Errorf("USER u3: %s", got)
	}
	flashEx(t, r, "FLASH.ORDERS o COUNT 0", "-ERR COUNT must be positive")
	flashEx(t, r, "FLASH.ORDERS o AFTER x", "-ERR invalid order id")
	flashEx(t, r, "FLASH.ORDERS o USER", "-ERR syntax error")
}

func TestFlashInternalKeys(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	r := s.Raw()
	ex := func(cmd, want string) { t.Helper(); flashEx(t, r, cmd, want) }
	ex("FLASH.CREATE k STOCK 10 PARTS 2", "+OK")
	keys := strings.Fields(strings.NewReplacer("*[", "", "]", "", "$", "").Replace(flashDo(r, "KEYS *")))
	if len(keys) != 3 {
		t.Fatalf("KEYS: %v", keys)
	}
	ex("DBSIZE", ":3")
	ex("SCAN 0 TYPE flash COUNT 1000", r.Do("SCAN", "0", "COUNT", "1000"))
	for _, k := range keys {
		ex("TYPE "+k, "+flash")
		ex("GET "+k, "-WRONGTYPE Operation against a key holding the wrong kind of value")
		ex("HSET "+k+" f v", "-WRONGTYPE Operation against a key holding the wrong kind of value")
		ex("LPUSH "+k+" v", "-WRONGTYPE Operation against a key holding the wrong kind of value")
		ex("SADD "+k+" v", "-WRONGTYPE Operation against a key holding the wrong kind of value")
		ex("ZADD "+k+" 1 v", "-WRONGTYPE Operation against a key holding the wrong kind of value")
		ex("INCR "+k, "-WRONGTYPE Operation against a key holding the wrong kind of value")
		ex("SORT "+k, "-WRONGTYPE Operation against a key holding the wrong kind of value")
		ex("COPY "+k+" other", "-ERR COPY does not support values of type flash")
		if enc := flashDo(r, "OBJECT ENCODING "+k); enc != "$flash-meta" && enc != "$flash-part" {
			t.Errorf("OBJECT ENCODING %s: %s", k, enc)
		}
		flashDo(r, "OBJECT FREQ "+k)
		flashDo(r, "DEBUG OBJECT "+k)
		flashDo(r, "MEMORY USAGE "+k)
		flashDo(r, "DUMP "+k)
	}
	ex("FLASH.BUY k a", "*[+OK $1-"+flashHome("a", 2)+" :9]")
	// Deleting an internal key damages the item; REPLACE repairs it.
	var part string
	for _, k := range keys {
		if strings.HasSuffix(k, ":k:"+flashHome("a", 2)) {
			part = k
		}
	}
	ex("DEL "+part, ":1")
	ex("FLASH.BUY k a", "-ERR flash item is damaged: one of its internal keys was deleted or overwritten")
	ex("FLASH.STATUS k", "-ERR flash item is damaged: one of its internal keys was deleted or overwritten")
	ex("FLASH.CREATE k STOCK 10 PARTS 2 REPLACE", "+OK")
	ex("FLASH.BUY k a", "*[+OK $1-"+flashHome("a", 2)+" :9]")
	// A string written over the meta key removes the item.
	ex("SET __flash:meta:{k} x", "+OK")
	ex("FLASH.STATUS k", "-ERR no such flash item")
	ex("FLASH.CREATE k STOCK 10", "-WRONGTYPE Operation against a key holding the wrong kind of value")
	ex("FLASH.LIST", "*[]")
	ex("FLUSHALL", "+OK")
	ex("FLASH.CREATE k STOCK 10", "+OK")
	ex("FLUSHALL", "+OK")
	ex("FLASH.BUY k a", "-ERR no such flash item")
	// Items are per database.
	ex("FLASH.CREATE k STOCK 10", "+OK")
	ex("SELECT 1", "+OK")
	ex("FLASH.BUY k a", "-ERR no such flash item")
	ex("FLASH.CREATE k STOCK 3", "+OK")
	ex("FLASH.BUY k a", "*[+OK $1-"+flashHome("a", 2)+" :2]")
	ex("SELECT 0", "+OK")
	ex("FLASH.BUY k a", "*[+OK $1-"+flashHome("a", 2)+" :9]")
	// The state is in the keyspace: SWAPDB swaps the items too.
	ex("SWAPDB 0 1", "+OK")
	ex("FLASH.BUY k b", "*[+OK $2-"+flashHome("b", 2)+" :1]")
	ex("SELECT 1", "+OK")
	ex("FLASH.BUY k b", "*[+OK $2-"+flashHome("b", 2)+" :8]")
}

func TestFlashPush(t *testing.T) {
	s := servertest.Start(t, servertest.Workers(2))
	ctx := context.Background()
	c := s.Client(3)
	if err := c.ConfigSet(ctx, "flash-push-interval-ms", "1000").Err(); err != nil {
		t.Fatal(err)
	}
	sub := c.Subscribe(ctx, "__flash__:pp")
	if _, err := sub.Receive(ctx); err != nil {
		t.Fatalf("SUBSCRIBE: %v", err)
	}
	if err := c.Do(ctx, "FLASH.CREATE", "pp", "STOCK", 50, "PARTS", 2).Err(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		if err := c.Do(ctx, "FLASH.BUY", "pp", "u"+strconv.Itoa(i)).Err(); err != nil {
			t.Fatal(err)
		}
	}
	type snap struct {
		Version   int64  `json:"version"`
		State     string `json:"state"`
		Total     int64  `json:"total"`
		Available int64  `json:"available"`
		Sold      int64  `json:"sold"`
		Parts     []struct {
			Available, Sold int64
		} `json:"parts"`
	}
	last := int64(-1)
	msgs := 0
	ch := sub.Channel()
	timeout := time.After(10 * time.Second)
	for {
		var m *redis.Message
		select {
		case m = <-ch:
		case <-timeout:
			t.Fatalf("no SOLDOUT snapshot after %d messages", msgs)
		}
		msgs++
		var sn snap
		if err := json.Unmarshal([]byte(m.Payload), &sn); err != nil {
			t.Fatalf("payload %q: %v", m.Payload, err)
		}
		if sn.Version <= last || sn.Total != 50 || sn.Available+sn.Sold != 50 || len(sn.Parts) != 2 {
			t.Fatalf("bad snapshot after version %d: %s", last, m.Payload)
		}
		last = sn.Version
		if sn.State == "SOLDOUT" {
			if v, _ := c.Do(ctx, "FLASH.STATUS", "pp").Result(); sn.Sold != 50 || sn.Version != v.(map[any]any)["version"].(int64) {
				t.Errorf("SOLDOUT snapshot: %s", m.Payload)
			}
			break
		}
	}
	info := c.Info(ctx, "flash").Val()
	if !strings.Contains(info, "flash_pushes_sent:") || strings.Contains(info, "flash_pushes_sent:0") {
		t.Errorf("INFO: %s", info)
	}
	t.Logf("%d snapshots for 51 changes", msgs)

	// State changes driven by the clock are pushed too: PENDING, then
	// ACTIVE at START, then ENDED at END.
	sub2 := c.Subscribe(ctx, "__flash__:timed")
	if _, err := sub2.Receive(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now().UnixMilli() + 300
	if err := c.Do(ctx, "FLASH.CREATE", "timed", "STOCK", 5, "START", start, "END", start+300).Err(); err != nil {
		t.Fatal(err)
	}
	var states []string
	ch2 := sub2.Channel()
	for len(states) == 0 || states[len(states)-1] != "ENDED" {
		select {
		case m := <-ch2:
			var sn snap
			json.Unmarshal([]byte(m.Payload), &sn)
			states = append(states, sn.State)
		case <-time.After(10 * time.Second):
			t.Fatalf("states pushed: %v", states)
		}
	}
	// (A machine slow enough to create the item after START sees a suffix.)
	if got := strings.Join(states, " "); !strings.HasSuffix("PENDING ACTIVE ENDED", got) {
		t.Errorf("states pushed: %v", states)
	}
}

// TestFlashConcurrent is the sale under load: 200 clients, thousands of
// users, random QTY, LIMIT and REQID retries, reservations expiring on an
// injected clock, confirmations and cancellations, RESTOCK, and slot moves
// plus worker changes during the sale. It checks that successes never
// exceed the stock, that sold + reserved + available = total at every
// STATUS, that no user holds more than LIMIT, and that the order logs
// match the successful replies exactly.
func TestFlashConcurrent(t *testing.T) {
	var clock atomic.Int64
	clock.Store(1_700_000_000_000)
	s := servertest.Start(t, servertest.Workers(4), servertest.Clock(clock.Load))
	ctx := context.Background()
	const (
		clients = 200
		users   = 3000
		limit   = 4
	)
	opsPer := 60
	if testing.Short() {
		opsPer = 15
	}
	admin := s.Client(2)
	admin.ConfigSet(ctx, "flash-push-interval-ms", "10")
	for _, cmd := range [][]any{
		{"FLASH.CREATE", "plain", "STOCK", 4000, "LIMIT", limit},
		{"FLASH.CREATE", "held", "STOCK", 2000, "LIMIT", limit, "HOLD", 300},
		{"FLASH.CREATE", "small", "STOCK", 500, "PARTS", 8},
	} {
		if err := admin.Do(ctx, cmd...).Err(); err != nil {
			t.Fatal(err)
		}
	}
	pool := redis.NewClient(&redis.Options{Addr: s.Addr, Protocol: 2, PoolSize: clients, DisableIndentity: true})
	t.Cleanup(func() { pool.Close() })

	type order struct {
		item, user string
		qty        int64
	}
	var (
		mu        sync.Mutex
		ok        = map[string]order{} // item/id -> order
		cancelled = map[string]bool{}
		confirmed = map[string]bool{}
		restocked = map[string]int64{}
		okQty     = map[string]int64{}
		failures  atomic.Int64
	)
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 10 {
			t.Errorf(format, args...)
		}
	}
	var reqSeq atomic.Int64
	var hotUsers []string // users homed on part 0 of "small"
	for i := 0; len(hotUsers) < 200; i++ {
		if u := "hot" + strconv.Itoa(i); flashHome(u, 8) == "0" {
			hotUsers = append(hotUsers, u)
		}
	}
	buy := func(rng *rand.Rand) {
		items := []string{"plain", "held", "small"}
		item := items[rng.Intn(3)]
		user := "user" + strconv.Itoa(rng.Intn(users))
		if item == "small" && rng.Intn(2) == 0 {
			user = hotUsers[rng.Intn(len(hotUsers))] // part 0 drains first
		}
		qty := 1 + rng.Intn(3)
		args := []any{"FLASH.BUY", item, user, "QTY", qty}
		withReq := rng.Intn(3) == 0
		if withReq {
			args = append(args, "REQID", "r"+strconv.FormatInt(reqSeq.Add(1), 10))
		}
		v, err := pool.Do(ctx, args...).Slice()
		if err != nil || len(v) != 3 {
			fail("%v: %v %v", args, v, err)
			return
		}
		if withReq { // a retry must get the same reply and take nothing
			v2, err := pool.Do(ctx, args...).Slice()
			if err != nil || fmt.Sprint(v2) != fmt.Sprint(v) {
				fail("%v retried: %v %v, first %v", args, v2, err, v)
			}
		}
		if v[0] != "OK" {
			return
		}
		id := v[1].(string)
		mu.Lock()
		if _, dup := ok[item+"/"+id]; dup {
			fail("order id %s/%s given twice", item, id)
		}
		ok[item+"/"+id] = order{item, user, int64(qty)}
		okQty[item] += int64(qty)
		mu.Unlock()
		if item == "held" || item == "small" {
			switch rng.Intn(10) {
			case 0, 1, 2:
				res, err := pool.Do(ctx, "FLASH.CONFIRM", item, id).Text()
				if err != nil || (res != "OK" && res != "EXPIRED") {
					fail("CONFIRM %s %s: %s %v", item, id, res, err)
				}
				if res == "OK" {
					mu.Lock()
					confirmed[item+"/"+id] = true
					mu.Unlock()
				}
			case 3:
				n, err := pool.Do(ctx, "FLASH.CANCEL", item, id).Int()
				if err != nil {
					fail("CANCEL: %v", err)
				}
				if n == 1 {
					mu.Lock()
					cancelled[item+"/"+id] = true
					mu.Unlock()
				}
			}
		}
	}
	checkStatus := func(item string) {
		m, err := admin.Do(ctx, "FLASH.STATUS", item).Slice()
		if err != nil {
			fail("STATUS %s: %v", item, err)
			return
		}
		f := map[string]any{}
		for i := 0; i+1 < len(m); i += 2 {
			f[m[i].(string)] = m[i+1]
		}
		total, avail, res, sold := f["total"].(int64), f["available"].(int64), f["reserved"].(int64), f["sold"].(int64)
		if sold+res+avail != total || avail < 0 || res < 0 || sold < 0 {
			fail("STATUS %s: %v", item, m)
		}
		var partAvail int64
		for _, p := range f["parts"].([]any) {
			pm := p.([]any)
			partAvail += pm[1].(int64)
		}
		if partAvail != avail {
			fail("STATUS %s: parts hold %d, available %d", item, partAvail, avail)
		}
	}

	stop := make(chan struct{})
	var bg sync.WaitGroup
	// The clock: reservations (HOLD 300) lapse while the sale runs.
	bg.Add(1)
	go func() {
		defer bg.Done()
		for {
			select {
			case <-stop:
				return
			case <-time.After(time.Millisecond):
				clock.Add(20)
			}
		}
	}()
	// STATUS readers and RESTOCK.
	bg.Add(1)
	go func() {
		defer bg.Done()
		rng := rand.New(rand.NewSource(2))
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			for _, item := range []string{"plain", "held", "small"} {
				checkStatus(item)
			}
			if i%5 == 0 {
				item := []string{"plain", "held", "small"}[rng.Intn(3)]
				delta := int64(rng.Intn(60) - 20)
				n, err := admin.Do(ctx, "FLASH.RESTOCK", item, delta).Int64()
				if err == nil {
					mu.Lock()
					restocked[item] += delta
					mu.Unlock()
				} else if !strings.Contains(err.Error(), "below sold + reserved") {
					fail("RESTOCK: %d %v", n, err)
				}
			}
		}
	}()
	// Slot moves and worker changes: the parts follow.
	bg.Add(1)
	go func() {
		defer bg.Done()
		e := s.Engine()
		rng := rand.New(rand.NewSource(3))
		keys, _ := admin.Keys(ctx, "__flash:part:*").Result()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(2 * time.Millisecond):
			}
			switch {
			case i == 20:
				if _, err := e.AddWorker(); err != nil {
					fail("AddWorker: %v", err)
				}
			case i == 60:
				if err := e.RemoveWorker(); err != nil {
					fail("RemoveWorker: %v", err)
				}
			default:
				k := keys[rng.Intn(len(keys))]
				if err := e.MoveSlot(shard.KeySlot([]byte(k)), rng.Intn(e.NumWorkers())); err != nil {
					fail("MoveSlot: %v", err)
				}
			}
		}
	}()

	var wg sync.WaitGroup
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for j := 0; j < opsPer; j++ {
				buy(rng)
			}
		}(int64(100 + i))
	}
	wg.Wait()
	close(stop)
	bg.Wait()
	if failures.Load() > 0 {
		t.FailNow()
	}

	// Final accounting per item.
	initial := map[string]int64{"plain": 4000, "held": 2000, "small": 500}
	for _, item := range []string{"plain", "held", "small"} {
		checkStatus(item)
		m, _ := admin.Do(ctx, "FLASH.STATUS", item).Slice()
		f := map[string]any{}
		for i := 0; i+1 < len(m); i += 2 {
			f[m[i].(string)] = m[i+1]
		}
		total, sold, res := f["total"].(int64), f["sold"].(int64), f["reserved"].(int64)
		if want := initial[item] + restocked[item]; total != want {
			t.Errorf("%s: total %d, want %d", item, total, want)
		}
		if item == "plain" && okQty[item] > total {
			t.Errorf("plain: %d units sold for a stock of %d", okQty[item], total)
		}
		orders, err := admin.Do(ctx, "FLASH.ORDERS", item).Slice()
		if err != nil {
			t.Fatal(err)
		}
		live := map[string]int64{}
		var liveQty, n int64
		last := int64(0)
		for _, o := range orders {
			f := o.([]any)
			id, user, qty, state := f[0].(string), f[1].(string), f[2].(int64), f[3].(string)
			seq, _ := strconv.ParseInt(strings.Split(id, "-")[0], 10, 64)
			if seq <= last {
				t.Errorf("%s: orders out of purchase order at %s", item, id)
			}
			last = seq
			want, found := ok[item+"/"+id]
			if !found || want.user != user || want.qty != qty {
				t.Errorf("%s: order %s %s %d not among the OK replies (%+v)", item, id, user, qty, want)
			}
			n++
			switch {
			case cancelled[item+"/"+id] && state != "CANCELLED":
				t.Errorf("%s: cancelled order %s is %s", item, id, state)
			case confirmed[item+"/"+id] && !cancelled[item+"/"+id] && state != "SOLD":
				t.Errorf("%s: confirmed order %s is %s", item, id, state)
			case item == "plain" && state != "SOLD":
				t.Errorf("plain: order %s is %s", id, state)
			}
			if state == "SOLD" || state == "RESERVED" {
				live[user] += qty
				liveQty += qty
			}
		}
		count := int64(0)
		for k := range ok {
			if strings.HasPrefix(k, item+"/") {
				count++
			}
		}
		if n != count {
			t.Errorf("%s: %d orders logged, %d OK replies", item, n, count)
		}
		if liveQty != sold+res {
			t.Errorf("%s: live orders hold %d units, sold+reserved %d", item, liveQty, sold+res)
		}
		if item != "small" {
			for u, q := range live {
				if q > limit {
					t.Errorf("%s: user %s holds %d > LIMIT %d", item, u, q, limit)
				}
			}
		}
		t.Logf("%s: total %d, %d orders, sold %d, reserved %d", item, total, n, sold, res)
	}
	info := admin.Info(ctx, "flash").Val()
	if strings.Contains(info, "flash_rebalances:0\r") && strings.Contains(info, "flash_buys_crosspart:0\r") {
		t.Errorf("uneven draining moved no stock between parts:\n%s", info)
	}
	t.Log(strings.ReplaceAll(info, "\r\n", " "))
}

// BenchmarkFlashBuy measures FLASH.BUY in process: one connection, 64 buys
// of distinct users per round trip (allocations include the client's).
func BenchmarkFlashBuy(b *testing.B) {
	s := servertest.Start(b, servertest.Workers(2))
	r := s.Raw()
	if got := r.Do("FLASH.CREATE", "bench", "STOCK", "1000000000", "LIMIT", "1"); got != "+OK" {
		b.Fatal(got)
	}
	b.ReportAllocs()
	b.ResetTimer()
	u := 0
	var buf []byte
	for done := 0; done < b.N; {
		n := min(64, b.N-done)
		buf = buf[:0]
		for i := 0; i < n; i++ {
			user := "u" + strconv.Itoa(u)
			buf = fmt.Appendf(buf, "*3\r\n$9\r\nFLASH.BUY\r\n$5\r\nbench\r\n$%d\r\n%s\r\n", len(user), user)
			u++
		}
		r.Write(buf)
		for i := 0; i < n; i++ {
			for j := 0; j < 4; j++ { // *3, +OK, $id (two lines), :remaining
				line, err := r.R.ReadSlice('\n')
				if err != nil || (j == 1 && string(line) != "+OK\r\n") {
					b.Fatalf("%q %v", line, err)
				}
				if j == 2 {
					r.R.ReadSlice('\n')
				}
			}
		}
		done += n
	}
}
