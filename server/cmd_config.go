package server

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kvd/kvd/proto"
)

// registerConfig registers the config family: CONFIG GET, SET, RESETSTAT,
// REWRITE and HELP.
func registerConfig(r *Registry) {
	r.AddContainer("config", -2, 0)
	r.Add(&Command{Name: "config|get", Arity: -3, Flags: adminFlags, RunConn: cmdConfigGet})
	r.Add(&Command{Name: "config|set", Arity: -4, Flags: adminFlags, RunConn: cmdConfigSet})
	r.Add(&Command{Name: "config|resetstat", Arity: 2, Flags: adminFlags, RunConn: cmdConfigResetStat})
	r.Add(&Command{Name: "config|rewrite", Arity: 2, Flags: adminFlags, RunConn: cmdConfigRewrite})
	r.Add(&Command{Name: "config|help", Arity: 2, Flags: helpFlags, RunConn: cmdConfigHelp})
}

var configHelp = []string{
	"GET <pattern>",
	"    Return parameters matching the glob-like <pattern> and their values.",
	"SET <directive> <value>",
	"    Set the configuration <directive> to <value>.",
	"RESETSTAT",
	"    Reset statistics reported by the INFO command.",
	"REWRITE",
	"    Rewrite the configuration file.",
}

func cmdConfigHelp(c *Conn, args [][]byte, w *proto.Writer) { adminHelp(w, args[0], configHelp) }

// configSensitive are redacted from the slow log (Redis's SENSITIVE_CONFIG).
var configSensitive = map[string]bool{"requirepass": true, "masterauth": true}

// configNames lists every parameter name CONFIG GET can match: names and
// aliases, sorted.
var configNames = func() []string {
	out := make([]string, 0, len(paramIndex))
	for name := range paramIndex {
		out = append(out, name)
	}
	sort.Strings(out)
	return out
}()

// cmdConfigGet is Redis 7.0's configGetCommand: every argument is a glob
// pattern matched case-insensitively against the names and aliases; an
// argument without glob characters is looked up directly and reported
// under the name as typed. Each name is reported once.
func cmdConfigGet(c *Conn, args [][]byte, w *proto.Writer) {
	type kv struct{ name, value string }
	var out []kv
	seen := map[string]bool{}
	cfg := c.srv.cfg
	for _, a := range args[2:] {
		pat := string(a)
		if !strings.ContainsAny(pat, "[*?") {
			low := strings.ToLower(pat)
			if seen[low] || paramIndex[low] == nil {
				continue
			}
			seen[low] = true
			v, _ := cfg.Get(low)
			out = append(out, kv{pat, v})
			continue
		}
		for _, name := range configNames {
			if seen[name] || !GlobMatch(a, []byte(name), true) {
				continue
			}
			seen[name] = true
			v, _ := cfg.Get(name)
			out = append(out, kv{name, v})
		}
	}
	w.Map(len(out))
	for _, p := range out {
		w.BulkString(p.name)
		w.BulkString(p.value)
	}
}

// cmdConfigSet is Redis 7.0's configSetCommand: several parameter/value
// pairs, validated all first and applied only when every one is valid.
func cmdConfigSet(c *Conn, args [][]byte, w *proto.Writer) {
	if len(args)%2 != 0 {
		w.Error(ErrSyntax)
		return
	}
	type change struct {
		name  string // lower-cased as typed: the name or an alias
		p     *param
		value string
	}
	var (
		changes    []change
		unknown    string
		hasUnknown bool
		invalid    bool
		errName    string
		errReason  string
	)
	for i := 2; i < len(args); i += 2 {
		typed := string(args[i])
		low := strings.ToLower(typed)
		p := paramIndex[low]
		if p == nil {
			if !invalid {
				unknown, hasUnknown, invalid = typed, true, true
			}
			continue
		}
		value := string(args[i+1])
		if configSensitive[p.name] {
			args[i+1] = slowlogRedacted // keep the secret out of the slow log
		}
		if invalid {
			continue
		}
		if p.immutable {
			errName, errReason, invalid = typed, "can't set immutable config", true
			continue
		}
		for _, ch := range changes {
			if ch.name == low {
				errName, errReason, invalid = typed, "duplicate parameter", true
				break
			}
		}
		changes = append(changes, change{name: low, p: p, value: value})
	}
	if hasUnknown {
		w.Error("ERR Unknown option or number of arguments for CONFIG SET - '" + unknown + "'")
		return
	}
	if invalid {
		w.Error("ERR CONFIG SET failed (possibly related to argument '" + errName + "') - " + errReason)
		return
	}
	for _, ch := range changes {
		if _, err := ch.p.canonical(ch.value); err != nil {
			w.Error("ERR CONFIG SET failed (possibly related to argument '" + ch.name + "') - " + err.Error())
			return
		}
	}
	for _, ch := range changes {
		if err := c.srv.cfg.Set(ch.name, ch.value, true); err != nil {
			// Validated above; only a concurrent change could get here.
			w.Error("ERR CONFIG SET failed (possibly related to argument '" + ch.name + "') - " + err.Error())
			return
		}
	}
	w.OK()
}

func cmdConfigResetStat(c *Conn, args [][]byte, w *proto.Writer) {
	c.srv.resetStats()
	w.OK()
}

func cmdConfigRewrite(c *Conn, args [][]byte, w *proto.Writer) {
	s := c.srv
	if s.cfg.File == "" {
		w.Error("ERR The server is running without a config file")
		return
	}
	if err := s.cfg.Rewrite(); err != nil {
		s.log.Warn("CONFIG REWRITE failed", "err", err.Error())
		w.Error("ERR Rewriting config file: " + configStrerror(err))
		return
	}
	s.log.Info("CONFIG REWRITE executed with success.")
	w.OK()
}

// strerror renders an OS error as C's strerror does ("Permission denied").
func configStrerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		msg := errno.Error()
		if msg != "" {
			return strings.ToUpper(msg[:1]) + msg[1:]
		}
	}
	return err.Error()
}

// configSignature marks the options CONFIG REWRITE appends.
const configSignature = "# Generated by CONFIG REWRITE"

// Rewrite rewrites the configuration file with the current values, as
// Redis's CONFIG REWRITE: comments, unknown and include lines are kept;
// the lines of every known option are replaced with its current value(s),
// surplus lines of an option are dropped; options that differ from the
// default and had no line are appended after a "# Generated by CONFIG
// REWRITE" line. The new file replaces the old one atomically.
func (c *Config) Rewrite() error {
	path := c.File
	if path == "" {
		return errors.New("the server is running without a config file")
	}
	old, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	var lines []string
	optLines := map[string][]int{} // canonical option -> its line numbers
	needSignature := true
	if len(old) > 0 {
		text := strings.TrimSuffix(string(old), "\n")
		for _, raw := range strings.Split(text, "\n") {
			line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
			if line == "" || line[0] == '#' {
				if line == configSignature {
					needSignature = false
				}
				lines = append(lines, line)
				continue
			}
			argv, ok := proto.SplitArgs([]byte(line), nil)
			if !ok || len(argv) == 0 {
				lines = append(lines, "# ??? "+line)
				continue
			}
			dir := strings.ToLower(string(argv[0]))
			if dir == "include" {
				lines = append(lines, line)
				continue
			}
			p := paramIndex[dir]
			if p == nil {
				lines = append(lines, "# ??? "+line)
				continue
			}
			optLines[p.name] = append(optLines[p.name], len(lines))
			lines = append(lines, line)
		}
	}

	defaults := DefaultConfig()
	c.mu.Lock()
	values := make(map[string]string, len(c.values))
	for k, v := range c.values {
		values[k] = v
	}
	c.mu.Unlock()

	var appended []string
	for _, p := range params {
		newLines, force := configRewriteLines(p, values[p.name], defaults.values[p.name])
		slots := optLines[p.name]
		delete(optLines, p.name)
		if len(slots) == 0 && !force {
			continue
		}
		for i, nl := range newLines {
			if i < len(slots) {
				lines[slots[i]] = nl
				continue
			}
			appended = append(appended, nl)
		}
		// Surplus old lines of this option are dropped.
		for _, ln := range slots[min(len(slots), len(newLines)):] {
			lines[ln] = "\x00"
		}
	}
	var b strings.Builder
	wasEmpty := false
	emit := func(l string) {
		if l == "\x00" {
			return
		}
		if l == "" {
			if wasEmpty {
				return
			}
			wasEmpty = true
		} else {
			wasEmpty = false
		}
		b.WriteString(l)
		b.WriteByte('\n')
	}
	for _, l := range lines {
		emit(l)
	}
	if len(appended) > 0 {
		if needSignature {
			emit("")
			emit(configSignature)
		}
		for _, l := range appended {
			emit(l)
		}
	}
	return configOverwriteFile(path, []byte(b.String()))
}

// rewriteLines formats the config lines of p for value v and reports
// whether they must be written even when the file had no line for p.
func configRewriteLines(p *param, v, def string) ([]string, bool) {
	force := v != def
	switch p.kind {
	case kMemory:
		n, _ := strconv.ParseInt(v, 10, 64)
		return []string{p.name + " " + configFormatMemory(n)}, force
	case kString:
		return []string{p.name + " " + string(appendQuoted(nil, []byte(v)))}, force
	case kSpecial:
		f := strings.Fields(v)
		switch p.name {
		case "save":
			if len(f) == 0 {
				return []string{`save ""`}, true
			}
			var out []string
			for i := 0; i+1 < len(f); i += 2 {
				out = append(out, "save "+f[i]+" "+f[i+1])
			}
			return out, true
		case "client-output-buffer-limit":
			df := strings.Fields(def)
			var out []string
			for i := 0; i+3 < len(f); i += 4 {
				if i+3 < len(df) && strings.Join(f[i:i+4], " ") == strings.Join(df[i:i+4], " ") {
					continue
				}
				class := f[i]
				if class == "slave" {
					class = "replica"
				}
				hard, _ := strconv.ParseInt(f[i+1], 10, 64)
				soft, _ := strconv.ParseInt(f[i+2], 10, 64)
				out = append(out, fmt.Sprintf("%s %s %s %s %s", p.name, class, configFormatMemory(hard), configFormatMemory(soft), f[i+3]))
			}
			return out, len(out) > 0
		}
		if len(f) == 0 {
			return []string{p.name + ` ""`}, force
		}
		return []string{p.name + " " + strings.Join(f, " ")}, force
	}
	return []string{p.name + " " + v}, force
}

// formatMemory is Redis's rewriteConfigFormatMemory.
func configFormatMemory(n int64) string {
	switch {
	case n != 0 && n%(1<<30) == 0:
		return strconv.FormatInt(n/(1<<30), 10) + "gb"
	case n != 0 && n%(1<<20) == 0:
		return strconv.FormatInt(n/(1<<20), 10) + "mb"
	case n != 0 && n%(1<<10) == 0:
		return strconv.FormatInt(n/(1<<10), 10) + "kb"
	}
	return strconv.FormatInt(n, 10)
}

// overwriteFile replaces path with data atomically: a temporary file in
// the same directory, fsynced, renamed over the old one, keeping its mode.
func configOverwriteFile(path string, data []byte) error {
	mode := fs.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	dir := filepath.Dir(path)
	tmp := fmt.Sprintf("%s.tmp-%d", path, time.Now().UnixNano())
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	return nil
}
