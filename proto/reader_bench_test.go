package proto

import (
	"strconv"
	"testing"
)

// Parsing microbenchmarks: a pipeline of 100 commands per iteration,
// reported per command (ns/op and allocs/op are per pipeline; divide by
// 100). go test ./proto -run '^$' -bench . -benchmem

func benchPipeline(cmd func(i int) []string) []byte {
	var w Writer
	for i := 0; i < 100; i++ {
		w.StringArray(cmd(i))
	}
	return w.B
}

func benchParse(b *testing.B, in []byte) {
	rd := NewReader()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Feed(in)
		for {
			args, err := rd.Next()
			if err == ErrIncomplete {
				break
			}
			if err != nil || len(args) == 0 {
				b.Fatal(err)
			}
		}
		rd.Release()
	}
}

func BenchmarkReaderGET(b *testing.B) {
	benchParse(b, benchPipeline(func(i int) []string { return []string{"GET", "key:" + strconv.Itoa(i)} }))
}

func BenchmarkReaderSET64(b *testing.B) {
	val := string(make([]byte, 64))
	benchParse(b, benchPipeline(func(i int) []string { return []string{"SET", "key:" + strconv.Itoa(i), val} }))
}

func BenchmarkReaderMSET10(b *testing.B) {
	val := string(make([]byte, 64))
	benchParse(b, benchPipeline(func(i int) []string {
		args := []string{"MSET"}
		for j := 0; j < 10; j++ {
			args = append(args, "key:"+strconv.Itoa(i*10+j), val)
		}
		return args
	}))
}

func BenchmarkReaderInline(b *testing.B) {
	var in []byte
	for i := 0; i < 100; i++ {
		in = append(in, "GET key:"+strconv.Itoa(i)+"\r\n"...)
	}
	benchParse(b, in)
}

func BenchmarkWriterBulk64(b *testing.B) {
	val := make([]byte, 64)
	var w Writer
	b.ReportAllocs()
	for b.Loop() {
		w.B = w.B[:0]
		for i := 0; i < 100; i++ {
			w.Bulk(val)
		}
	}
}

func BenchmarkWriterInt(b *testing.B) {
	var w Writer
	b.ReportAllocs()
	for b.Loop() {
		w.B = w.B[:0]
		for i := 0; i < 100; i++ {
			w.Int(int64(i) * 1234567)
		}
	}
}
