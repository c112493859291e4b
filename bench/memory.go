package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// memoryCmd loads the same keys into kvd and redis-server and reports each
// one's resident memory and bytes per key.
//
//	go run ./bench memory [-keys 1000000] [-d 64]
func memoryCmd(argv []string) error {
	fs := flag.NewFlagSet("memory", flag.ExitOnError)
	keys := fs.Int("keys", 1000000, "keys to load (key:N)")
	size := fs.Int("d", 64, "value size in bytes")
	workers := fs.Int("workers", 0, "kvd --workers (0 = kvd's default)")
	fs.Parse(argv)

	bin, cleanup, err := buildKvd()
	if err != nil {
		return err
	}
	defer cleanup()
	kvdArgs := []string{"--loglevel", "warning"}
	if *workers > 0 {
		kvdArgs = append(kvdArgs, "--workers", strconv.Itoa(*workers))
	}
	fmt.Printf("| server | keys | RSS before MB | RSS after MB | bytes/key (RSS delta) |\n|---|---:|---:|---:|---:|\n")
	var perKey [2]float64
	for i, s := range []struct {
		name, bin string
		args      []string
	}{
		{"kvd", bin, kvdArgs},
		{"redis", "redis-server", []string{"--save", "", "--appendonly", "no", "--loglevel", "warning"}},
	} {
		p, err := startServer(s.name, s.bin, s.args, false)
		if err != nil {
			return err
		}
		before, err := rssBytes(p.cmd.Process.Pid)
		if err != nil {
			p.stop()
			return err
		}
		if err := loadKeys(p.port, *keys, *size); err != nil {
			p.stop()
			return err
		}
		time.Sleep(500 * time.Millisecond) // let the allocator settle
		after, err := rssBytes(p.cmd.Process.Pid)
		p.stop()
		if err != nil {
			return err
		}
		perKey[i] = float64(after-before) / float64(*keys)
		fmt.Printf("| %s | %d | %.1f | %.1f | %.1f |\n", s.name, *keys, float64(before)/1e6, float64(after)/1e6, perKey[i])
	}
	if perKey[1] > 0 {
		fmt.Printf("\nkvd/redis bytes per key: %.2f\n", perKey[0]/perKey[1])
	}
	return nil
}

// loadKeys writes SET key:N <value> for N < keys in pipelined chunks over one
// connection and checks every reply.
func loadKeys(port, keys, size int) error {
	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	defer c.Close()
	val := strings.Repeat("x", size)
	br := bufio.NewReaderSize(c, 64<<10)
	const chunk = 1000
	var buf []byte
	for start := 0; start < keys; start += chunk {
		buf = buf[:0]
		n := min(chunk, keys-start)
		for i := start; i < start+n; i++ {
			k := "key:" + strconv.Itoa(i)
			buf = fmt.Appendf(buf, "*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n", len(k), k, len(val), val)
		}
		c.SetDeadline(time.Now().Add(30 * time.Second))
		if _, err := c.Write(buf); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			line, err := br.ReadString('\n')
			if err != nil {
				return err
			}
			if line != "+OK\r\n" {
				return fmt.Errorf("SET reply %q", line)
			}
		}
	}
	return nil
}

// rssBytes reads VmRSS of a process from /proc.
func rssBytes(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) < 1 {
				break
			}
			kb, err := strconv.ParseInt(f[0], 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("no VmRSS in /proc status")
}
