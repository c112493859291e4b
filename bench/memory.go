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
// one's resident memory and bytes per key, as loaded and after MEMORY
// PURGE (both servers have it).
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
	fmt.Printf("| server | keys | RSS before MB | RSS loaded MB | RSS after MEMORY PURGE MB | bytes/key loaded | bytes/key purged |\n|---|---:|---:|---:|---:|---:|---:|\n")
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
		rss, err := measureMemory(p, *keys, *size)
		p.stop()
		if err != nil {
			return err
		}
		perKey[i] = float64(rss[2]-rss[0]) / float64(*keys)
		fmt.Printf("| %s | %d | %.1f | %.1f | %.1f | %.1f | %.1f |\n", s.name, *keys, float64(rss[0])/1e6, float64(rss[1])/1e6,
			float64(rss[2])/1e6, float64(rss[1]-rss[0])/float64(*keys), perKey[i])
	}
	if perKey[1] > 0 {
		fmt.Printf("\nkvd/redis bytes per key (after MEMORY PURGE): %.2f\n", perKey[0]/perKey[1])
	}
	return nil
}

// measureMemory returns p's RSS before loading, after loading and after a
// MEMORY PURGE (a full GC returning free pages to the OS in kvd; a
// jemalloc dirty-page purge in Redis), each after the process settled.
func measureMemory(p *proc, keys, size int) (rss [3]int64, err error) {
	pid := p.cmd.Process.Pid
	time.Sleep(300 * time.Millisecond)
	if rss[0], err = rssBytes(pid); err != nil {
		return rss, err
	}
	if err := loadKeys(p.port, keys, size); err != nil {
		return rss, err
	}
	time.Sleep(500 * time.Millisecond) // let the allocator settle
	if rss[1], err = rssBytes(pid); err != nil {
		return rss, err
	}
	if _, err := command(p.port, "MEMORY", "PURGE"); err != nil {
		return rss, err
	}
	time.Sleep(500 * time.Millisecond)
	rss[2], err = rssBytes(pid)
	return rss, err
}

// command sends one command and returns its first reply line (without
// CRLF); an error reply is an error.
func command(port int, args ...string) (string, error) {
	c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 5*time.Second)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(60 * time.Second))
	buf := fmt.Appendf(nil, "*%d\r\n", len(args))
	for _, a := range args {
		buf = fmt.Appendf(buf, "$%d\r\n%s\r\n", len(a), a)
	}
	if _, err := c.Write(buf); err != nil {
		return "", err
	}
	line, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if strings.HasPrefix(line, "-") {
		return "", fmt.Errorf("%s: %s", strings.Join(args, " "), line[1:])
	}
	return line, nil
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
