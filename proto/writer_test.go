package proto

import (
	"math"
	"testing"
)

// TestProtoWriter checks every Writer method in RESP2 and RESP3 against
// the bytes Redis 7.0 sends.
func TestProtoWriter(t *testing.T) {
	tests := []struct {
		name       string
		write      func(w *Writer)
		resp2, rs3 string // rs3 "" means same as resp2
	}{
		{"ok", func(w *Writer) { w.OK() }, "+OK\r\n", ""},
		{"simple", func(w *Writer) { w.Simple("PONG") }, "+PONG\r\n", ""},
		{"simple strips crlf", func(w *Writer) { w.Simple("a\r\nb\nc") }, "+a  b c\r\n", ""},
		{"error", func(w *Writer) { w.Error("ERR syntax error") }, "-ERR syntax error\r\n", ""},
		{"error strips crlf", func(w *Writer) { w.Error("ERR bad\r\nthing") }, "-ERR bad  thing\r\n", ""},
		{"int 0", func(w *Writer) { w.Int(0) }, ":0\r\n", ""},
		{"int 7", func(w *Writer) { w.Int(7) }, ":7\r\n", ""},
		{"int 10", func(w *Writer) { w.Int(10) }, ":10\r\n", ""},
		{"int -1", func(w *Writer) { w.Int(-1) }, ":-1\r\n", ""},
		{"int min", func(w *Writer) { w.Int(math.MinInt64) }, ":-9223372036854775808\r\n", ""},
		{"int max", func(w *Writer) { w.Int(math.MaxInt64) }, ":9223372036854775807\r\n", ""},
		{"bulk", func(w *Writer) { w.Bulk([]byte("a\r\nb")) }, "$4\r\na\r\nb\r\n", ""},
		{"bulk empty", func(w *Writer) { w.Bulk(nil) }, "$0\r\n\r\n", ""},
		{"bulk string", func(w *Writer) { w.BulkString("hello") }, "$5\r\nhello\r\n", ""},
		{"bulk string long", func(w *Writer) { w.BulkString("0123456789ab") }, "$12\r\n0123456789ab\r\n", ""},
		{"bulk int", func(w *Writer) { w.BulkInt(-42) }, "$3\r\n-42\r\n", ""},
		{"null", func(w *Writer) { w.Null() }, "$-1\r\n", "_\r\n"},
		{"null array", func(w *Writer) { w.NullArray() }, "*-1\r\n", "_\r\n"},
		{"array", func(w *Writer) { w.Array(2); w.Int(1); w.Null() }, "*2\r\n:1\r\n$-1\r\n", "*2\r\n:1\r\n_\r\n"},
		{"array empty", func(w *Writer) { w.Array(0) }, "*0\r\n", ""},
		{"array 12", func(w *Writer) { w.Array(12) }, "*12\r\n", ""},
		{"map", func(w *Writer) { w.Map(1); w.BulkString("k"); w.Int(1) }, "*2\r\n$1\r\nk\r\n:1\r\n", "%1\r\n$1\r\nk\r\n:1\r\n"},
		{"map empty", func(w *Writer) { w.Map(0) }, "*0\r\n", "%0\r\n"},
		{"set", func(w *Writer) { w.Set(1); w.BulkString("m") }, "*1\r\n$1\r\nm\r\n", "~1\r\n$1\r\nm\r\n"},
		{"push", func(w *Writer) { w.Push(3) }, "*3\r\n", ">3\r\n"},
		{"bool true", func(w *Writer) { w.Bool(true) }, ":1\r\n", "#t\r\n"},
		{"bool false", func(w *Writer) { w.Bool(false) }, ":0\r\n", "#f\r\n"},
		{"double", func(w *Writer) { w.Double(1.5) }, "$3\r\n1.5\r\n", ",1.5\r\n"},
		{"double int", func(w *Writer) { w.Double(3) }, "$1\r\n3\r\n", ",3\r\n"},
		{"double %.17g", func(w *Writer) { w.Double(0.1) }, "$19\r\n0.10000000000000001\r\n", ",0.10000000000000001\r\n"},
		{"double exp", func(w *Writer) { w.Double(1e17) }, "$5\r\n1e+17\r\n", ",1e+17\r\n"},
		{"double small", func(w *Writer) { w.Double(1e-5) }, "$22\r\n1.0000000000000001e-05\r\n", ",1.0000000000000001e-05\r\n"},
		{"double 1e16", func(w *Writer) { w.Double(1e16) }, "$17\r\n10000000000000000\r\n", ",10000000000000000\r\n"},
		{"double -0", func(w *Writer) { w.Double(math.Copysign(0, -1)) }, "$2\r\n-0\r\n", ",-0\r\n"},
		{"double inf", func(w *Writer) { w.Double(math.Inf(1)) }, "$3\r\ninf\r\n", ",inf\r\n"},
		{"double -inf", func(w *Writer) { w.Double(math.Inf(-1)) }, "$4\r\n-inf\r\n", ",-inf\r\n"},
		{"verbatim", func(w *Writer) { w.Verbatim("txt", "Some string") }, "$11\r\nSome string\r\n", "=15\r\ntxt:Some string\r\n"},
		{"verbatim empty", func(w *Writer) { w.Verbatim("txt", "") }, "$0\r\n\r\n", "=4\r\ntxt:\r\n"},
		{"raw", func(w *Writer) { w.Raw([]byte("+X\r\n")) }, "+X\r\n", ""},
		{"string array", func(w *Writer) { w.StringArray([]string{"a", ""}) }, "*2\r\n$1\r\na\r\n$0\r\n\r\n", ""},
		{"string array empty", func(w *Writer) { w.StringArray(nil) }, "*0\r\n", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, resp3 := range []bool{false, true} {
				want := tc.resp2
				if resp3 && tc.rs3 != "" {
					want = tc.rs3
				}
				w := Writer{B: []byte("pre"), Resp3: resp3}
				tc.write(&w)
				if got := string(w.B); got != "pre"+want {
					t.Errorf("resp3=%v: got %q, want %q", resp3, got, "pre"+want)
				}
				if w.Len() != len("pre"+want) {
					t.Errorf("Len %d", w.Len())
				}
			}
		})
	}
}

// TestProtoWriterAppendDouble covers the formatting helper on its own.
func TestProtoWriterAppendDouble(t *testing.T) {
	for f, want := range map[float64]string{
		math.Inf(1): "inf", math.Inf(-1): "-inf", 2.5: "2.5", 1.1: "1.1000000000000001",
		123456789012345678: "1.2345678901234568e+17", math.MaxFloat64: "1.7976931348623157e+308",
		5e-324: "4.9406564584124654e-324", 1e15: "1000000000000000", 100: "100",
	} {
		if got := string(AppendDouble([]byte("x"), f)); got != "x"+want {
			t.Errorf("AppendDouble(%v) = %q, want %q", f, got, "x"+want)
		}
	}
	if got := string(AppendDouble(nil, math.NaN())); got != "nan" {
		t.Errorf("NaN: %q", got)
	}
}

// TestProtoWriterReset keeps capacity and the protocol.
func TestProtoWriterReset(t *testing.T) {
	w := Writer{Resp3: true}
	w.BulkString("hello world")
	c := cap(w.B)
	w.Reset()
	if w.Len() != 0 || cap(w.B) != c || !w.Resp3 {
		t.Fatalf("after Reset: len %d cap %d resp3 %v", w.Len(), cap(w.B), w.Resp3)
	}
	w.Null()
	if string(w.B) != "_\r\n" {
		t.Fatalf("got %q", w.B)
	}
}

// TestProtoWriterAllocs: writing replies into a buffer with room allocates
// nothing (the per-reply path of GET/SET).
func TestProtoWriterAllocs(t *testing.T) {
	w := Writer{B: make([]byte, 0, 4096)}
	val := []byte("value-value-value")
	a := testing.AllocsPerRun(100, func() {
		w.Reset()
		w.OK()
		w.Bulk(val)
		w.Null()
		w.Int(12345)
		w.BulkInt(-7)
		w.Array(3)
		w.Double(1.25)
		w.Error("ERR syntax error")
		w.Simple("PONG")
	})
	if a != 0 {
		t.Fatalf("%.1f allocations, want 0", a)
	}
}
