package daemon_test

import (
	"bufio"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
)

// TestAuditLogOverREST records changes made over REST by an admin and by a
// member signed in through the trusted proxy, reads them back with filters
// and pages, compares them with the --audit-log file, then edits the store
// file while the daemon is down and finds the break after a restart.
func TestAuditLogOverREST(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	cfg.TrustedUserHeader = "X-Forwarded-User"
	cfg.TrustedProxies = "127.0.0.1"
	cfg.AuditLog = filepath.Join(t.TempDir(), "audit.jsonl")
	d := teststack.RunDaemon(t, cfg)
	c := memberClient{t: t, base: "http://" + d.HTTPAddr.String()}
	admin := []string{"Authorization", "Bearer " + d.Admin}
	alice := []string{"X-Forwarded-User", "alice"}

	c.must("POST", "/v1/workspaces", `{"workspace_id":"acme"}`, admin...)
	c.must("POST", "/v1/workspaces/acme/members", `{"user_id":"alice"}`, admin...)
	c.must("POST", "/v1/workspaces/acme/members", `{"user_id":"bob"}`, admin...)
	bobTok := c.must("POST", "/v1/workspaces/acme/tokens", `{"user_id":"bob"}`, admin...)["token"].(map[string]any)["token_id"].(string)
	created := c.must("POST", "/v1/workspaces/acme/tokens", `{"user_id":"alice","description":"ci"}`, alice...)
	aliceTok := created["token"].(map[string]any)["token_id"].(string)
	secret := created["secret"].(string)
	c.must("POST", "/v1/workspaces/acme/tokens/"+aliceTok+":reveal", "{}", alice...)
	if code, _ := c.call("POST", "/v1/workspaces/acme/tokens/"+bobTok+":reveal", "{}", alice...); code != 404 {
		t.Fatalf("alice revealing bob's token = %d; want 404", code)
	}
	c.must("DELETE", "/v1/workspaces/acme/tokens/"+aliceTok, "", alice...)

	list := func(query string) []map[string]any {
		t.Helper()
		var out []map[string]any
		token := ""
		for {
			q := query + "&page_size=2"
			if token != "" {
				q += "&page_token=" + url.QueryEscape(token)
			}
			m := c.must("GET", "/v1/audit/events?"+q, "", admin...)
			for _, ev := range m["events"].([]any) {
				out = append(out, ev.(map[string]any))
			}
			if token = m["next_page_token"].(string); token == "" {
				return out
			}
		}
	}
	var got []string
	for _, ev := range list("workspace_id=acme&actor=" + url.QueryEscape("user:alice")) {
		got = append(got, fmt.Sprintf("%s %s %s", ev["actor"], ev["action"], ev["target"]))
		if addr, _ := ev["client_address"].(string); !strings.HasPrefix(addr, "127.0.0.1:") {
			t.Errorf("event %v has client address %q; want the REST client's", ev["sequence"], addr)
		}
	}
	want := []string{
		"user:alice token.create " + aliceTok,
		"user:alice token.reveal " + aliceTok,
		"user:alice token.revoke " + aliceTok,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("alice's events = %q; want %q", got, want)
	}
	all := list("")
	if len(all) != 7 {
		t.Fatalf("%d events in all; want 7 (workspace, 2 members, 2 creates, reveal, revoke)", len(all))
	}
	future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	if evs := list("start_time=" + future); len(evs) != 0 {
		t.Errorf("%d events from an hour ahead; want none", len(evs))
	}
	if code, _ := c.call("GET", "/v1/audit/events", "", alice...); code != 403 {
		t.Errorf("a member listing audit events = %d; want 403", code)
	}
	if code, m := c.call("GET", "/v1/audit/events?page_size=-1", "", admin...); code != 400 {
		t.Errorf("negative page size = %d %v; want 400", code, m)
	}
	v := c.must("POST", "/v1/audit:verify", "{}", admin...)
	if v["ok"] != true || v["events_checked"] != "7" || v["first_broken_sequence"] != "0" {
		t.Errorf("verify = %v; want ok over 7 events", v)
	}

	// The JSON lines copy, written as each change committed.
	f, err := os.Open(cfg.AuditLog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var lines []*pb.AuditEvent
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		ev := &pb.AuditEvent{}
		if err := protojson.Unmarshal(sc.Bytes(), ev); err != nil {
			t.Fatalf("audit log line %q: %v", sc.Text(), err)
		}
		if strings.Contains(sc.Text(), secret) {
			t.Error("the audit log file contains a secret")
		}
		lines = append(lines, ev)
	}
	if len(lines) != 7 {
		t.Fatalf("%d lines in --audit-log; want 7", len(lines))
	}
	for i, ev := range lines {
		if ev.GetSequence() != uint64(i+1) || ev.GetAction() != all[i]["action"] {
			t.Errorf("line %d = %d %s; want %v %v", i, ev.GetSequence(), ev.GetAction(), all[i]["sequence"], all[i]["action"])
		}
	}

	// Rewrite who revealed the secret, directly in the file.
	if err := d.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	teststack.TamperAuditEvent(t, cfg.DBPath(), func(ev *pb.AuditEvent) bool { return ev.GetSequence() == 6 }, func(ev *pb.AuditEvent) {
		if ev.GetAction() != "token.reveal" {
			t.Fatalf("event 6 is %s, not the reveal", ev.GetAction())
		}
		ev.Actor = "web"
	})
	d = teststack.RunDaemon(t, cfg)
	c.base = "http://" + d.HTTPAddr.String()
	v = c.must("POST", "/v1/audit:verify", "{}", admin...)
	if v["ok"] != false || v["first_broken_sequence"] != "6" || v["events_checked"] != "7" {
		t.Errorf("verify after tampering = %v; want broken at 6", v)
	}
}
