package server_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/kvd/kvd/server/redistest"
	"github.com/kvd/kvd/server/servertest"
)

// TestACLVsRedis compares kvd's ACL introspection of its default user
// with redis-server 7.0.15's, without and with a password, over RESP2 and
// RESP3; ACL CAT <category> must list exactly the commands of that
// category that kvd has (Redis lists them in its dict's order).
func TestACLVsRedis(t *testing.T) {
	sock := redistest.Start(t)
	srv := servertest.Start(t)
	for _, resp := range []string{"2", "3"} {
		k, r := fuzzDial(t, "tcp", srv.Addr), fuzzDial(t, "unix", sock)
		k.do("HELLO", resp)
		r.do("HELLO", resp)
		same := func(args ...string) {
			t.Helper()
			if a, b := k.do(args...), r.do(args...); a != b {
				t.Errorf("RESP%s %q: kvd %q, redis %q", resp, args, a, b)
			}
		}
		for _, args := range [][]string{{"ACL", "WHOAMI"}, {"ACL", "USERS"}, {"ACL", "LIST"}, {"ACL", "GETUSER", "default"},
			{"ACL", "GETUSER", "nosuch"}, {"ACL", "CAT"}, {"ACL", "CAT", "nosuch"}, {"ACL", "CAT", "a", "b"},
			{"ACL", "GENPASS", "0"}, {"ACL", "GENPASS", "4097"}, {"ACL", "GENPASS", "abc"}, {"ACL", "GENPASS", "1", "2"},
			{"ACL", "DRYRUN", "nosuch", "get", "x"}, {"ACL", "DRYRUN", "default", "nosuch", "x"},
			{"ACL", "DRYRUN", "default", "get"}, {"ACL", "DRYRUN", "default", "get", "x"},
			{"ACL", "DRYRUN", "default", "client", "list"}, {"ACL", "DRYRUN", "default", "client", "nosuch"},
			{"ACL", "DRYRUN", "default", "client"}, {"ACL", "WHOAMI", "x"}, {"ACL", "GETUSER"}, {"ACL"}} {
			same(args...)
		}
		for _, bits := range []string{"1", "5", "256", "4096"} {
			a, b := k.do("ACL", "GENPASS", bits), r.do("ACL", "GENPASS", bits)
			if len(a) != len(b) {
				t.Errorf("ACL GENPASS %s: kvd %q, redis %q", bits, a, b)
			}
		}
		// With a password, the default user shows its SHA-256.
		same("CONFIG", "SET", "requirepass", "s3cret")
		same("AUTH", "s3cret")
		same("ACL", "LIST")
		same("ACL", "GETUSER", "default")
		same("CONFIG", "SET", "requirepass", "")
	}
	k, r := fuzzDial(t, "tcp", srv.Addr), fuzzDial(t, "unix", sock)
	has := map[string]bool{}
	for _, name := range fuzzElems(k.do("COMMAND", "LIST")) {
		has[name] = true
	}
	for _, cat := range fuzzElems(r.do("ACL", "CAT")) {
		kc, rc := fuzzElems(k.do("ACL", "CAT", strings.ToUpper(cat))), fuzzElems(r.do("ACL", "CAT", cat))
		var want []string
		for _, name := range rc {
			if has[strings.SplitN(name, "|", 2)[0]] && (!strings.Contains(name, "|") || strings.Contains(k.do("COMMAND", "INFO", name), "|")) {
				want = append(want, name)
			}
		}
		// kvd also has two Redis 7.2 subcommands (CLIENT NO-TOUCH,
		// SETINFO) that a 7.0 server does not know.
		kc = slices.DeleteFunc(kc, func(name string) bool {
			return r.do("COMMAND", "INFO", name) == "*1\r\n$-1\r\n"
		})
		slices.Sort(kc)
		slices.Sort(want)
		if !slices.Equal(kc, want) {
			t.Errorf("ACL CAT %s: kvd %q\nwant (Redis's, of the commands kvd has) %q", cat, kc, want)
		}
	}
}
