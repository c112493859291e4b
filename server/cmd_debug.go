package server

import (
	"errors"
	"math"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/kvd/kvd/proto"
	"github.com/kvd/kvd/shard"
)

// registerDebug registers DEBUG. As in Redis it is one command with arity
// -2 that dispatches on its first argument itself (not a container).
func registerDebug(r *Registry) {
	r.Add(&Command{Name: "debug", Arity: -2, Flags: adminFlags, RunConn: cmdDebug})
}

var debugHelp = []string{
	"ERROR <string>",
	"    Return a Redis protocol error with <string> as message. Useful for clients",
	"    unit tests to simulate Redis errors.",
	"LOG <message>",
	"    Write <message> to the server log.",
	"POPULATE <count> [<prefix>] [<size>]",
	"    Create <count> string keys named key:<num>. If <prefix> is specified then",
	"    it is used instead of the 'key' prefix. These are not propagated to",
	"    replicas. Cluster slots are not respected so keys not belonging to the",
	"    current node can be created in cluster mode.",
	"PROTOCOL <type>",
	"    Reply with a test value of the specified type. <type> can be: string,",
	"    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
	"    true, false.",
	"SET-ACTIVE-EXPIRE <0|1>",
	"    Setting it to 0 disables expiring keys in background when they are not",
	"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
	"    default.",
	"SLEEP <seconds>",
	"    Stop this connection for <seconds> (other clients are served meanwhile).",
	"    Decimals allowed.",
}

func cmdDebug(c *Conn, args [][]byte, w *proto.Writer) {
	if !c.debugAllowed() {
		w.Error(`ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", you can run it from a local connection, otherwise you need to set this option in the configuration file, and then restart the server.`)
		return
	}
	sub := strings.ToLower(string(args[1]))
	switch {
	case sub == "help" && len(args) == 2:
		adminHelp(w, args[0], debugHelp)
	case sub == "sleep" && len(args) == 3:
		debugSleep(c, args[2])
		w.OK()
	case sub == "set-active-expire" && len(args) == 3:
		c.srv.eng.ActiveExpire.Store(debugAtoi(args[2]) != 0)
		w.OK()
	case sub == "error" && len(args) == 3:
		w.Error(string(args[2]))
	case sub == "log" && len(args) == 3:
		c.srv.log.Warn("DEBUG LOG: " + string(args[2]))
		w.OK()
	case sub == "populate" && len(args) >= 3 && len(args) <= 5:
		debugPopulate(c, args, w)
	case sub == "protocol" && len(args) == 3:
		debugProtocol(string(args[2]), w)
	default:
		w.Error(adminSyntaxError(args))
	}
}

// debugAllowed applies enable-debug-command: "yes", "no", or "local"
// (loopback and Unix-socket clients only).
func (c *Conn) debugAllowed() bool {
	mode, _ := c.srv.cfg.Get("enable-debug-command")
	switch mode {
	case "yes":
		return true
	case "local":
		switch a := c.nc.RemoteAddr().(type) {
		case *net.UnixAddr:
			return true
		case *net.TCPAddr:
			return a.IP.IsLoopback()
		}
	}
	return false
}

// debugSleep holds this connection (not the workers) for the given
// seconds, parsed like C's strtod: a leading number, anything else is 0.
func debugSleep(c *Conn, arg []byte) {
	secs := debugStrtod(string(arg))
	if !(secs > 0) {
		return
	}
	d := time.Duration(math.MaxInt64)
	if secs < float64(math.MaxInt64)/float64(time.Second) {
		d = time.Duration(secs * float64(time.Second))
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-c.srv.shutdown:
	}
}

// debugStrtod parses the longest leading decimal number of s (after
// leading spaces): [sign] digits [. digits] [e [sign] digits], as C's
// strtod reads it; 0 when there is none.
func debugStrtod(s string) float64 {
	s = strings.TrimLeft(s, " \t\n\v\f\r")
	digits := func(i int) int {
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i
	}
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	start := i
	i = digits(i)
	mant := i - start
	if i < len(s) && s[i] == '.' {
		j := digits(i + 1)
		mant += j - i - 1
		i = j
	}
	if mant == 0 {
		return 0
	}
	end := i
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if k := digits(j); k > j {
			end = k
		}
	}
	v, err := strconv.ParseFloat(s[:end], 64)
	if err != nil && !errors.Is(err, strconv.ErrRange) {
		return 0
	}
	return v
}

// debugAtoi is C's atoi: optional spaces and sign, then digits up to the
// first non-digit.
func debugAtoi(b []byte) int64 {
	s := strings.TrimLeft(string(b), " \t\n\v\f\r")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var n int64
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

// debugPopulate creates count string keys "<prefix>:<n>" with values
// "value:<n>" (padded with zero bytes or cut to size when size is given),
// skipping keys that exist, atomically while holding every worker.
func debugPopulate(c *Conn, args [][]byte, w *proto.Writer) {
	const positive = "ERR value is out of range, must be positive"
	count, ok := admInt(args[2])
	if !ok || count < 0 {
		w.Error(positive)
		return
	}
	prefix := "key"
	if len(args) >= 4 {
		prefix = string(args[3])
	}
	var size int64
	if len(args) == 5 {
		size, ok = admInt(args[4])
		if !ok || size < 0 {
			w.Error(positive)
			return
		}
	}
	db := c.db
	e := c.srv.eng
	e.Do(func(wk *shard.Worker) {
		d := e.DB(wk, db)
		var key, val []byte
		for j := int64(0); j < count; j++ {
			key = strconv.AppendInt(append(append(key[:0], prefix...), ':'), j, 10)
			if d.Exists(key) {
				continue
			}
			val = strconv.AppendInt(append(val[:0], "value:"...), j, 10)
			if size > 0 {
				if int64(len(val)) > size {
					val = val[:size]
				} else {
					val = append(val, make([]byte, size-int64(len(val)))...)
				}
			}
			d.SetString(key, val, 0)
		}
	})
	w.OK()
}

// debugProtocol replies with a sample of a RESP type, as Redis's DEBUG
// PROTOCOL does in both protocols.
func debugProtocol(name string, w *proto.Writer) {
	switch strings.ToLower(name) {
	case "string":
		w.BulkString("Hello World")
	case "integer":
		w.Int(12345)
	case "double":
		w.Double(3.141)
	case "bignum":
		const big = "1234567999999999999999999999999999999"
		if w.Resp3 {
			w.Raw([]byte("(" + big + "\r\n"))
		} else {
			w.BulkString(big)
		}
	case "null":
		w.Null()
	case "array":
		w.Array(3)
		for j := int64(0); j < 3; j++ {
			w.Int(j)
		}
	case "set":
		w.Set(3)
		for j := int64(0); j < 3; j++ {
			w.Int(j)
		}
	case "map":
		w.Map(3)
		for j := int64(0); j < 3; j++ {
			w.Int(j)
			w.Bool(j == 1)
		}
	case "attrib":
		if w.Resp3 {
			w.Raw([]byte("|1\r\n"))
			w.BulkString("key-popularity")
			w.Array(2)
			w.BulkString("key:123")
			w.Int(90)
		}
		w.BulkString("Some real reply following the attribute")
	case "push":
		if !w.Resp3 {
			w.Error("ERR RESP2 is not supported by this command")
			return
		}
		w.Push(2)
		w.BulkString("server-cpu-usage")
		w.Int(42)
		w.BulkString("Some real reply following the push reply")
	case "true":
		w.Bool(true)
	case "false":
		w.Bool(false)
	case "verbatim":
		w.Verbatim("txt", "This is a verbatim\nstring")
	default:
		w.Error("ERR Wrong protocol type name. Please use one of the following: string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")
	}
}
