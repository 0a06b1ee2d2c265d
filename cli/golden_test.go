package cli_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the current output")

// TestTableGolden compares the tables for people with testdata/*.golden. The
// server and tokenctl share a fixed clock, so dates and relative times are
// stable; token ids and masked keys, which are random, are replaced by
// placeholders of the same width so the alignment is still checked.
func TestTableGolden(t *testing.T) {
	t.Parallel()
	// The server's clock moves a minute per token, so that tokens sort in
	// the order they were made; tokenctl looks at the end of that day.
	var serverNow atomic.Int64
	serverNow.Store(fixedNow.UnixNano())
	s := startServer(t, func() time.Time { return time.Unix(0, serverNow.Load()).UTC() })
	now := func() time.Time { return fixedNow.Add(3 * time.Hour) }
	run := func(args ...string) result { return s.runWith(t, invocation{now: now}, args...) }

	run("workspace", "create", "acme", "--name", "Acme Corp").ok(t, "workspace create")
	run("workspace", "create", "globex").ok(t, "workspace create")
	for _, u := range []string{"alice", "bob"} {
		run("member", "add", "acme", u).ok(t, "member add")
	}
	run("member", "add", "globex", "carol").ok(t, "member add")
	run("zoo", "create", "acme/detectors", "--visibility", "private").ok(t, "zoo create")
	run("zoo", "create", "acme/public-models", "--visibility", "public").ok(t, "zoo create")
	// Placeholders of the same width replace token ids (numbered in the
	// order the tokens were made) and masked keys (named after the token's
	// description).
	var ids, replacer []string
	mask := func(desc string) string {
		return "tka_..." + strings.Map(func(r rune) rune {
			if r < 'a' || r > 'z' {
				return 'Z'
			}
			return r
		}, (desc + "zzzz")[:4])
	}
	var laptop string
	for i, tok := range []struct{ ws, user, desc, expires, seed string }{
		{"acme", "alice", "laptop", "30d", ""},
		{"acme", "alice", "ci runner (nightly)", "2h", ""},
		{"acme", "bob", "", "never", ""},
		{"acme", "bob", "build server", "2027-12-31", ""},
		// globex gets a 10-day max_lifetime below: these end by it.
		{"globex", "carol", "old laptop", "never", ""},
		{"globex", "carol", "release", "2027-12-31", ""},
		{"acme", "alice", "hub sdk", "30d", "Zq3_vN8kL1mX6cB-pR4tT9yH2jF7gD5sA0eU8oI3kWq"},
	} {
		serverNow.Add(int64(time.Minute))
		args := []string{"token", "create", "-w", tok.ws, "-u", tok.user, "-d", tok.desc, "--expires", tok.expires, "-o", "json"}
		if tok.seed != "" {
			args = append(args, "--seed", tok.seed)
		}
		created := run(args...).json(t, "token create")
		secret := created["secret"].(string)
		id := created["token"].(map[string]any)["token_id"].(string)
		ids = append(ids, id)
		replacer = append(replacer, id, fmt.Sprintf("TOKEN-ID-%d%s", i+1, strings.Repeat("x", len(id)-10)),
			"tka_..."+secret[len(secret)-4:], mask(tok.desc))
		if tok.desc == "laptop" {
			laptop = secret
		}
	}
	run("token", "revoke", "-w", "acme", ids[3], "--yes").ok(t, "token revoke")
	run("workspace", "update", "globex", "--max-lifetime", "10d").ok(t, "workspace update")
	normalize := strings.NewReplacer(replacer...)

	tests := []struct {
		name string
		args []string
		env  map[string]string
	}{
		{"workspace-list", []string{"workspace", "list"}, nil},
		{"workspace-get", []string{"workspace", "get", "acme"}, nil},
		{"member-list", []string{"member", "list", "acme"}, nil},
		{"zoo-list", []string{"zoo", "list", "acme"}, nil},
		{"zoo-get", []string{"zoo", "get", "acme/detectors"}, nil},
		{"token-list", []string{"token", "list", "-w", "acme"}, nil},
		{"token-list-all", []string{"token", "list", "-w", "acme", "--all"}, nil},
		{"token-show", []string{"token", "show", "-w", "acme", ids[0]}, nil},
		{"token-show-revoked", []string{"token", "show", "-w", "acme", ids[3]}, nil},
		{"token-list-policy", []string{"token", "list", "-w", "globex"}, nil},
		{"token-list-expiring", []string{"token", "list", "-w", "globex", "--expiring-within", "30d"}, nil},
		{"token-show-policy", []string{"token", "show", "-w", "globex", ids[5]}, nil},
		{"token-show-policy-only", []string{"token", "show", "-w", "globex", ids[4]}, nil},
		{"token-show-seed", []string{"token", "show", "-w", "acme", ids[6]}, nil},
		{"token-check", []string{"token", "check", "-"}, nil},
		{"token-info", []string{"token", "info", "-"}, nil},
		{"access-check", []string{"access", "check", "--zoo", "acme/detectors", "--operation", "download", "--token", "-"}, nil},
		{"access-check-anonymous", []string{"access", "check", "--zoo", "acme/public-models", "--operation", "download"}, nil},
	}
	for _, tt := range tests {
		r := s.runWith(t, invocation{now: now, stdin: strings.NewReader(laptop + "\n")}, tt.args...)
		got := normalize.Replace(r.ok(t, strings.Join(tt.args, " ")))
		if regexp.MustCompile(`tka_[0-9A-Za-z]{49}`).MatchString(got) {
			t.Errorf("%s shows a full token:\n%s", tt.name, got)
		}
		path := filepath.Join("testdata", tt.name+".golden")
		if *update {
			if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run go test ./cli -run TestTableGolden -update to create it)", err)
		}
		if diff := cmp.Diff(string(want), got); diff != "" {
			t.Errorf("tokenctl %s: table differs from %s (-want +got):\n%s", strings.Join(tt.args, " "), path, diff)
		}
	}
}
