package cli_test

import (
	"strings"
	"testing"

	"tokenauthority/cli"
	"tokenauthority/daemon"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
)

// TestAuditCommands lists the events of a few changes with each filter and
// output, verifies the chain, then edits an event in the store file while
// the server is down and expects audit verify to name it after a restart.
func TestAuditCommands(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	dir := s.dir

	s.run(t, "workspace", "create", "acme").ok(t, "workspace create")
	s.run(t, "member", "add", "acme", "alice").ok(t, "member add")
	id := strings.TrimSpace(s.run(t, "token", "create", "-w", "acme", "-u", "alice", "-d", "ci", "--expires", "never", "-o", "name").ok(t, "token create"))
	s.run(t, "token", "copy", "-w", "acme", id).ok(t, "token copy")

	all := s.run(t, "audit", "list", "-o", "json").json(t, "audit list")
	events := all["events"].([]any)
	var actions []string
	for _, e := range events {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	if got := strings.Join(actions, " "); got != "workspace.create member.add token.create token.reveal" {
		t.Fatalf("audit list actions = %s", got)
	}
	reveal := s.run(t, "audit", "list", "--action", "token.reveal", "-w", "acme", "--since", "1h", "-o", "json").json(t, "audit list --action")
	if evs := reveal["events"].([]any); len(evs) != 1 || evs[0].(map[string]any)["target"] != id || evs[0].(map[string]any)["actor"] != "bootstrap-admin" {
		t.Errorf("audit list --action token.reveal = %v; want the one reveal of %s by bootstrap-admin", evs, id)
	}
	if names := s.run(t, "audit", "list", "--limit", "2", "-o", "name").ok(t, "audit list --limit"); names != "1\n2\n" {
		t.Errorf("audit list --limit 2 -o name = %q; want sequences 1 and 2", names)
	}
	if none := s.run(t, "audit", "list", "--actor", "user:bob", "-o", "json").json(t, "audit list --actor"); len(none["events"].([]any)) != 0 {
		t.Errorf("audit list --actor user:bob = %v; want no events", none)
	}
	table := s.run(t, "audit", "list", "-w", "acme").ok(t, "audit list table")
	if !strings.HasPrefix(table, "SEQ") || !strings.Contains(table, "token.reveal") || !strings.Contains(table, id) || strings.Count(table, "\n") != 5 {
		t.Errorf("audit list table =\n%s", table)
	}
	s.run(t, "audit", "list", "--since", "yesterday").wantFailure(t, "audit list --since yesterday", cli.ExitUsage, "--since")
	s.run(t, "audit", "list", "--until", "2026-11-27").wantFailure(t, "audit list --until without a time", cli.ExitUsage, "--until")
	if out := s.run(t, "audit", "verify").ok(t, "audit verify"); out != "Audit log intact: 4 events checked\n" {
		t.Errorf("audit verify = %q", out)
	}
	if v := s.run(t, "audit", "verify", "-o", "json").json(t, "audit verify -o json"); v["ok"] != true || v["events_checked"] != "4" {
		t.Errorf("audit verify -o json = %v", v)
	}

	// Who revealed the token, rewritten in the file while the server is down.
	if err := s.d.Stop(); err != nil {
		t.Fatal(err)
	}
	teststack.TamperAuditEvent(t, s.d.Config.DBPath(), func(ev *pb.AuditEvent) bool { return ev.GetSequence() == 4 }, func(ev *pb.AuditEvent) { ev.Actor = "someone-else" })
	s = startServer(t, nil, func(c *daemon.Config) { c.DataDir = dir })
	s.run(t, "audit", "verify").wantFailure(t, "audit verify after tampering", cli.ExitAuditBroken, "sequence 4")
}
