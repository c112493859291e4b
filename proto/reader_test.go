package proto

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
)

// parseAll runs Next until the buffer holds no complete command, returning
// copies of every command and the first non-ErrIncomplete error.
func parseAll(rd *Reader) ([][]string, error) {
	var cmds [][]string
	defer rd.Release()
	for {
		args, err := rd.Next()
		if errors.Is(err, ErrIncomplete) {
			return cmds, nil
		}
		if err != nil {
			return cmds, err
		}
		cmds = append(cmds, strs(args))
	}
}

func strs(args [][]byte) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = string(a)
	}
	return out
}

func sameCmds(a, b [][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if a[i][j] != b[i][j] {
				return false
			}
		}
	}
	return true
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func cmds(cs ...[]string) [][]string { return cs }
func cmd(args ...string) []string    { return args }

// TestProtoReaderParse covers well-formed input: multibulk, inline with
// sdssplitargs quoting, empty commands, and the quirks of Redis's parser
// that clients can observe.
func TestProtoReaderParse(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want [][]string
		rest int // bytes left unparsed
	}{
		{"get", "*2\r\n$3\r\nGET\r\n$1\r\na\r\n", cmds(cmd("GET", "a")), 0},
		{"binary bulk", "*2\r\n$4\r\nECHO\r\n$6\r\na\r\nb\x00c\r\n", cmds(cmd("ECHO", "a\r\nb\x00c")), 0},
		{"empty bulk", "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", cmds(cmd("ECHO", "")), 0},
		{"pipeline", "*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\nPING x\r\n",
			cmds(cmd("PING"), cmd("SET", "k", "v"), cmd("PING", "x")), 0},
		{"*0 skipped", "*0\r\n*1\r\n$4\r\nPING\r\n", cmds(cmd("PING")), 0},
		{"*-1 skipped", "*-1\r\n*-5\r\n*1\r\n$4\r\nPING\r\n", cmds(cmd("PING")), 0},
		{"*minint skipped", "*-9223372036854775808\r\n*1\r\n$4\r\nPING\r\n", cmds(cmd("PING")), 0},
		{"empty lines", "\r\n\n   \r\n\t\r\nPING\r\n", cmds(cmd("PING")), 0},
		{"lf only inline", "PING\nPING a\n", cmds(cmd("PING"), cmd("PING", "a")), 0},
		// Redis finds the count line's end by its '\r' and skips the next
		// byte unchecked; the two bytes after a bulk are skipped unchecked.
		{"cr then any byte", "*1\rX$4\r\nPING\r\n", cmds(cmd("PING")), 0},
		{"bulk trailer unchecked", "*2\r\n$4\r\nECHO\r\n$3\r\nabcXY*1\r\n$4\r\nPING\r\n", cmds(cmd("ECHO", "abc"), cmd("PING")), 0},
		{"incomplete header", "*2\r\n$3\r\nGET\r", nil, 12},
		{"incomplete bulk", "*2\r\n$3\r\nGET\r\n$5\r\nab", nil, 19},
		{"incomplete trailer", "*1\r\n$4\r\nPING\r", nil, 13},
		{"incomplete count", "*1", nil, 2},
		{"incomplete count cr", "*1\r", nil, 3},
		{"complete then partial", "PING\r\n*1\r\n$4\r\nPI", cmds(cmd("PING")), 10},
		{"huge count waits", "*2147483647\r\n$1\r\na\r\n", nil, 20},
		{"max bulk waits", "*1\r\n$536870912\r\nabc", nil, 19},
		{"inline no newline waits", "PING", nil, 4},
		// An expected '$' is only checked once its line is complete.
		{"bad type waits for line", "*1\r\nxyz", nil, 7},

		// inline quoting, as sdssplitargs
		{"quoted", "SET a \"b c\"\r\n", cmds(cmd("SET", "a", "b c")), 0},
		{"escapes", "ECHO \"\\x41\\n\\r\\t\\b\\a\\q\\\\\\\"\"\r\n", cmds(cmd("ECHO", "A\n\r\t\b\aq\\\"")), 0},
		{"bad hex kept", "ECHO \"\\x4\" \"\\xZZ\"\r\n", cmds(cmd("ECHO", "x4", "xZZ")), 0},
		{"hex upper", "ECHO \"\\xfF\\x00\"\r\n", cmds(cmd("ECHO", "\xff\x00")), 0},
		{"single quotes", "ECHO 'it\\'s' 'a\\nb' '\"'\r\n", cmds(cmd("ECHO", "it's", "a\\nb", "\"")), 0},
		{"empty quotes", "ECHO \"\" ''\r\n", cmds(cmd("ECHO", "", "")), 0},
		{"quote inside token", "ECHO a\"b c\" d\r\n", cmds(cmd("ECHO", "ab c", "d")), 0},
		{"blanks", "  ECHO\tx\r\r\n", cmds(cmd("ECHO", "x")), 0},
		{"vtab is blank between args", "ECHO \v x\r\n", cmds(cmd("ECHO", "x")), 0},
		{"vtab inside a token", "ECHO a\vb\r\n", cmds(cmd("ECHO", "a\vb")), 0},
		{"quoted crlf chars", "ECHO \"a\rb\"\n", cmds(cmd("ECHO", "a\rb")), 0},
		// A NUL before the newline hides it (Redis uses strchr), so the
		// line never completes.
		{"nul hides inline newline", "PING\x00a\r\nPING\r\n", nil, 14},
		{"nul hides count line end", "*1\x00\r\n$4\r\nPING\r\n", nil, 15},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rd := NewReader()
			rd.Feed([]byte(tc.in))
			got, err := parseAll(rd)
			if err != nil {
				t.Fatalf("error %v", err)
			}
			if !sameCmds(got, tc.want) {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
			if rd.Buffered() != tc.rest {
				t.Fatalf("buffered %d, want %d", rd.Buffered(), tc.rest)
			}
		})
	}
}

// TestProtoReaderErrors checks every protocol error with Redis 7.0's exact
// text (as "-ERR <text>" on the wire) and that commands before the bad one
// are still returned.
func TestProtoReaderErrors(t *testing.T) {
	big := strings.Repeat("1", MaxInline+1)
	tests := []struct {
		name   string
		in     string
		unauth bool
		want   string
		before int // complete commands before the error
	}{
		{"lf only count", "*1\n$4\r\nPING\r\n", false, "Protocol error: invalid multibulk length", 0},
		{"leading zero count", "*01\r\n", false, "Protocol error: invalid multibulk length", 0},
		{"minus zero count", "*-0\r\n", false, "Protocol error: invalid multibulk length", 0},
		{"empty count", "*\r\n", false, "Protocol error: invalid multibulk length", 0},
		{"space in count", "*1 \r\n", false, "Protocol error: invalid multibulk length", 0},
		{"plus count", "*+1\r\n", false, "Protocol error: invalid multibulk length", 0},
		{"count over INT_MAX", "*2147483648\r\n", false, "Protocol error: invalid multibulk length", 0},
		{"count overflow", "*99999999999999999999\r\n", false, "Protocol error: invalid multibulk length", 0},
		{"count too long", "*000000000000000000001\r\n", false, "Protocol error: invalid multibulk length", 0},
		{"after good", "PING\r\n*x\r\n", false, "Protocol error: invalid multibulk length", 1},
		{"leading zero bulk", "*1\r\n$04\r\nPING\r\n", false, "Protocol error: invalid bulk length", 0},
		{"negative bulk", "*1\r\n$-1\r\n", false, "Protocol error: invalid bulk length", 0},
		{"empty bulk len", "*1\r\n$\r\n", false, "Protocol error: invalid bulk length", 0},
		{"plus bulk", "*1\r\n$+4\r\nPING\r\n", false, "Protocol error: invalid bulk length", 0},
		{"lf only bulk", "*1\r\n$4\nPING\r\n", false, "Protocol error: invalid bulk length", 0},
		{"bulk over proto-max-bulk-len", "*1\r\n$536870913\r\n", false, "Protocol error: invalid bulk length", 0},
		{"second bulk bad", "*3\r\n$3\r\nSET\r\n$1\r\na\r\n$-5\r\n", false, "Protocol error: invalid bulk length", 0},
		{"expected $", "*1\r\nxyz\r\n", false, "Protocol error: expected '$', got 'x'", 0},
		{"expected $ got cr", "*1\r\n\r\n", false, "Protocol error: expected '$', got ' '", 0},
		{"expected $ got lf", "*1\r\n\n\r\n", false, "Protocol error: expected '$', got ' '", 0},
		{"expected $ got byte", "*1\r\n\xff\r\n", false, "Protocol error: expected '$', got '\xff'", 0},
		{"expected $ second arg", "*2\r\n$4\r\nECHO\r\n:1\r\n", false, "Protocol error: expected '$', got ':'", 0},
		{"unbalanced double", "ECHO \"ab\r\n", false, "Protocol error: unbalanced quotes in request", 0},
		{"unbalanced escaped", "ECHO \"ab\\\"\r\n", false, "Protocol error: unbalanced quotes in request", 0},
		{"unbalanced single", "ECHO 'ab\r\n", false, "Protocol error: unbalanced quotes in request", 0},
		{"text after double", "ECHO \"a\"b\r\n", false, "Protocol error: unbalanced quotes in request", 0},
		{"text after single", "ECHO 'a'b\r\n", false, "Protocol error: unbalanced quotes in request", 0},
		{"too big inline", strings.Repeat("A", MaxInline+1), false, "Protocol error: too big inline request", 0},
		{"nul line too big", "PING\x00" + strings.Repeat("A", MaxInline) + "\r\n", false, "Protocol error: too big inline request", 0},
		{"too big mbulk count", "*" + big, false, "Protocol error: too big mbulk count string", 0},
		{"too big bulk count", "*1\r\n$" + big, false, "Protocol error: too big bulk count string", 0},
		{"unauth count", "*11\r\n", true, "Protocol error: unauthenticated multibulk length", 0},
		{"unauth bulk", "*1\r\n$16385\r\n", true, "Protocol error: unauthenticated bulk length", 0},
		{"unauth bad count first", "*2147483648\r\n", true, "Protocol error: invalid multibulk length", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rd := NewReader()
			rd.Unauthenticated = tc.unauth
			rd.Feed([]byte(tc.in))
			got, err := parseAll(rd)
			var pe *ProtocolError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ProtocolError", err)
			}
			if pe.Msg != tc.want {
				t.Fatalf("error %q, want %q", pe.Msg, tc.want)
			}
			if strings.ContainsAny(pe.Msg, "\r\n") {
				t.Fatalf("error text %q would break the reply", pe.Msg)
			}
			if len(got) != tc.before {
				t.Fatalf("%d commands before the error, want %d", len(got), tc.before)
			}
		})
	}
}

// TestProtoReaderLimitBoundaries checks the values just inside each limit.
func TestProtoReaderLimitBoundaries(t *testing.T) {
	// Exactly MaxInline bytes without a newline is still waiting.
	rd := NewReader()
	rd.Feed(bytes.Repeat([]byte("A"), MaxInline))
	if got, err := parseAll(rd); err != nil || got != nil {
		t.Fatalf("MaxInline bytes: %q %v", got, err)
	}
	// A long inline line that does arrive whole is accepted, as in Redis.
	rd = NewReader()
	long := "ECHO " + strings.Repeat("b", 2*MaxInline)
	rd.Feed([]byte(long + "\r\n"))
	if got, err := parseAll(rd); err != nil || len(got) != 1 || got[0][1] != long[5:] {
		t.Fatalf("long inline: %v", err)
	}

	// Pre-auth: up to 10 arguments and 16384-byte bulks are fine.
	rd = NewReader()
	rd.Unauthenticated = true
	in := "*10\r\n"
	for i := 0; i < 10; i++ {
		in += "$16384\r\n" + strings.Repeat("x", 16384) + "\r\n"
	}
	rd.Feed([]byte(in + "*-1\r\n*0\r\n"))
	got, err := parseAll(rd)
	if err != nil || len(got) != 1 || len(got[0]) != 10 {
		t.Fatalf("unauth limits: %d cmds, %v", len(got), err)
	}
	// Authenticated again: no such limits.
	rd.Unauthenticated = false
	rd.Feed([]byte("*11\r\n$20000\r\n"))
	if _, err := parseAll(rd); err != nil {
		t.Fatalf("after auth: %v", err)
	}

	// A custom proto-max-bulk-len.
	rd = NewReader()
	rd.MaxBulk = 5
	rd.Feed([]byte("*1\r\n$5\r\nhello\r\n*1\r\n$6\r\n"))
	got, err = parseAll(rd)
	if len(got) != 1 || errText(err) != "Protocol error: invalid bulk length" {
		t.Fatalf("MaxBulk: %q %v", got, err)
	}
}

// TestProtoReaderHugeAnnouncedBulk: a client announcing a bulk close to
// proto-max-bulk-len but sending a few bytes must not make the Reader
// allocate anything near the announced size; the buffer grows only with
// the bytes that actually arrive.
func TestProtoReaderHugeAnnouncedBulk(t *testing.T) {
	rd := NewReader()
	head := []byte("*2\r\n$3\r\nSET\r\n$536870000\r\nabc")
	rd.Feed(head)
	if got, err := parseAll(rd); err != nil || got != nil {
		t.Fatalf("got %q %v", got, err)
	}
	if len(rd.buf) > minBuf {
		t.Fatalf("buffer grew to %d bytes for a %d-byte input", len(rd.buf), len(head))
	}
	// Keep sending: growth stays proportional to what arrived.
	chunk := bytes.Repeat([]byte("z"), 4096)
	sent := len(head)
	for i := 0; i < 256; i++ {
		rd.Feed(chunk)
		sent += len(chunk)
		if _, err := rd.Next(); !errors.Is(err, ErrIncomplete) {
			t.Fatalf("Next: %v", err)
		}
		rd.Release()
		if len(rd.buf) > 2*sent+minBuf {
			t.Fatalf("buffer %d bytes after %d sent", len(rd.buf), sent)
		}
	}
	// The same through Fill from a socket-like source.
	rd = NewReader()
	src := io.MultiReader(strings.NewReader("*1\r\n$536870000\r\n"), bytes.NewReader(bytes.Repeat([]byte("q"), 100)))
	for {
		if _, err := rd.Fill(src); err != nil {
			break
		}
	}
	if _, err := rd.Next(); !errors.Is(err, ErrIncomplete) {
		t.Fatalf("Next: %v", err)
	}
	if len(rd.buf) > minBuf {
		t.Fatalf("buffer grew to %d bytes", len(rd.buf))
	}
}

// TestProtoReaderQueryLimit: Fill refuses to read more once the unparsed
// input reaches MaxQuery.
func TestProtoReaderQueryLimit(t *testing.T) {
	rd := NewReader()
	rd.MaxQuery = 64 << 10
	src := bytes.NewReader(append([]byte("*1\r\n$1000000\r\n"), bytes.Repeat([]byte("x"), 1<<20)...))
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		_, err = rd.Fill(src)
		if _, perr := rd.Next(); !errors.Is(perr, ErrIncomplete) {
			t.Fatalf("Next: %v", perr)
		}
	}
	if !errors.Is(err, ErrQueryLimit) {
		t.Fatalf("Fill: %v, want ErrQueryLimit", err)
	}
	if int64(rd.Buffered()) < rd.MaxQuery || len(rd.buf) > 4*int(rd.MaxQuery) {
		t.Fatalf("buffered %d, buffer %d", rd.Buffered(), len(rd.buf))
	}
}

// TestProtoReaderBufferReuse: a big request grows the buffer, which is
// given back once the request is consumed; arguments stay valid until
// Release even while later commands are parsed.
func TestProtoReaderBufferReuse(t *testing.T) {
	rd := NewReader()
	val := strings.Repeat("v", 200<<10)
	var w Writer
	w.StringArray([]string{"SET", "k", val})
	rd.Feed(w.B)
	args, err := rd.Next()
	if err != nil || string(args[2]) != val {
		t.Fatalf("big SET: %v", err)
	}
	rd.Release()
	rd.Feed([]byte("PING\r\n"))
	if len(rd.buf) > shrinkBuf {
		t.Fatalf("buffer kept at %d bytes", len(rd.buf))
	}

	rd.Feed([]byte("ECHO \"a\\x41\" b\r\n*2\r\n$4\r\nECHO\r\n$1\r\nc\r\nECHO \"\\x42\"\r\n"))
	var held [][][]byte
	for {
		args, err := rd.Next()
		if err != nil {
			break
		}
		held = append(held, args)
	}
	var flat []string
	for _, a := range held {
		flat = append(flat, strings.Join(strs(a), ","))
	}
	if got := strings.Join(flat, "|"); got != "PING|ECHO,aA,b|ECHO,c|ECHO,B" {
		t.Fatalf("held args %q", got)
	}
	rd.Release()
}

// TestProtoReaderSplitArgs covers SplitArgs directly (config files use it):
// a NUL byte ends the line as in sdssplitargs.
func TestProtoReaderSplitArgs(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		ok   bool
	}{
		{"", nil, true},
		{"   ", nil, true},
		{"a b\x00c d", []string{"a", "b"}, true},
		{"a\x00", []string{"a"}, true},
		{"\x00a", nil, true},
		{"\"a\x00\"", nil, false},
		{"\"a\"\x00b", []string{"a"}, true},
		{"save 900 1", []string{"save", "900", "1"}, true},
		{"dir \"/tmp/a b\"", []string{"dir", "/tmp/a b"}, true},
		{"x 'y", nil, false},
	}
	for _, tc := range tests {
		got, ok := SplitArgs([]byte(tc.in), nil)
		if ok != tc.ok || (ok && strings.Join(strs(got), "|") != strings.Join(tc.want, "|")) || (ok && len(got) != len(tc.want)) {
			t.Errorf("SplitArgs(%q) = %q, %v; want %q, %v", tc.in, strs(got), ok, tc.want, tc.ok)
		}
	}
}

// TestProtoReaderParseInt: lengths follow Redis's string2ll exactly.
func TestProtoReaderParseInt(t *testing.T) {
	good := map[string]int64{
		"0": 0, "1": 1, "-1": -1, "10": 10, "9223372036854775807": 1<<63 - 1,
		"-9223372036854775808": -1 << 63,
	}
	for s, want := range good {
		if n, ok := ParseInt([]byte(s)); !ok || n != want {
			t.Errorf("ParseInt(%q) = %d, %v", s, n, ok)
		}
	}
	for _, s := range []string{"", "-", "-0", "00", "01", "+1", " 1", "1 ", "1a", "9223372036854775808",
		"-9223372036854775809", "18446744073709551616", "99999999999999999999", "-00000000000000000001"} {
		if n, ok := ParseInt([]byte(s)); ok {
			t.Errorf("ParseInt(%q) = %d, want invalid", s, n)
		}
	}
}

// TestProtoReaderAllocs: parsing a pipeline of GET/SET (multibulk and
// inline) into a warmed Reader allocates nothing.
func TestProtoReaderAllocs(t *testing.T) {
	var w Writer
	for i := 0; i < 100; i++ {
		w.StringArray([]string{"SET", "key:000123", "value-value-value"})
		w.StringArray([]string{"GET", "key:000123"})
	}
	pipeline := append(w.B, "GET key:1\r\nSET key:2 \"a b\"\r\n"...)
	rd := NewReader()
	run := func() {
		rd.Feed(pipeline)
		n := 0
		for {
			args, err := rd.Next()
			if err != nil {
				if !errors.Is(err, ErrIncomplete) {
					t.Fatal(err)
				}
				break
			}
			n += len(args)
		}
		rd.Release()
		if n != 100*5+5 {
			t.Fatalf("parsed %d arguments", n)
		}
	}
	run() // warm up the buffer and the argument arena
	if a := testing.AllocsPerRun(100, run); a != 0 {
		t.Fatalf("%.1f allocations per pipeline, want 0", a)
	}
}
