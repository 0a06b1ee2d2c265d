package cli_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"tokenauthority/cli"
)

// TestRevokeAllAndReportLeaked runs the bulk revocation and leak report
// commands against a real server.
func TestRevokeAllAndReportLeaked(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	s.run(t, "workspace", "create", "acme").ok(t, "workspace create")
	for _, u := range []string{"alice", "bob"} {
		s.run(t, "member", "add", "acme", u).ok(t, "member add "+u)
	}
	newToken := func(user string) (id, secret string) {
		t.Helper()
		created := s.run(t, "token", "create", "-w", "acme", "-u", user, "-d", "t", "--expires", "30d", "-o", "json").json(t, "token create")
		return created["token"].(map[string]any)["token_id"].(string), created["secret"].(string)
	}
	a1, _ := newToken("alice")
	a2, _ := newToken("alice")
	b1, _ := newToken("bob")
	b2, b2Secret := newToken("bob")

	// Filtered lists: the soon-expiring token, then only revoked ones.
	soon := s.run(t, "token", "create", "-w", "acme", "-u", "bob", "-d", "soon", "--expires", "3d", "-o", "json").json(t, "token create")
	soonID := soon["token"].(map[string]any)["token_id"].(string)
	if out := s.run(t, "token", "list", "-w", "acme", "--expiring-within", "7d", "-o", "name").ok(t, "token list --expiring-within"); out != soonID+"\n" {
		t.Errorf("token list --expiring-within 7d = %q; want %s", out, soonID)
	}
	s.run(t, "token", "list", "-w", "acme", "--state", "gone").wantFailure(t, "token list --state gone", cli.ExitUsage, "--state")
	s.run(t, "token", "list", "-w", "acme", "--expiring-within", "soon").wantFailure(t, "token list --expiring-within soon", cli.ExitUsage, "--expiring-within")

	s.run(t, "token", "revoke-all", "-w", "acme", "--yes").wantFailure(t, "revoke-all without --user or ids", cli.ExitUsage, "--user")
	s.run(t, "token", "revoke-all", "-w", "acme", "-u", "alice", b1, "--yes").wantFailure(t, "revoke-all with both", cli.ExitUsage, "not both")
	s.run(t, "token", "revoke-all", "-w", "acme", "-u", "alice").wantFailure(t, "revoke-all without a terminal or --yes", cli.ExitNotConfirmed, "--yes")

	out := s.run(t, "token", "revoke-all", "-w", "acme", "-u", "alice", "--yes", "-o", "name").ok(t, "revoke-all --user")
	if got := strings.Fields(out); len(got) != 2 || !strings.Contains(out, a1) || !strings.Contains(out, a2) {
		t.Errorf("revoke-all --user alice printed %q; want %s and %s", out, a1, a2)
	}
	r := s.run(t, "token", "revoke-all", "-w", "acme", b1, "--yes", "-o", "json").json(t, "revoke-all ids")
	toks := r["tokens"].([]any)
	if len(toks) != 1 || toks[0].(map[string]any)["revoke_reason"] != "REVOKE_REASON_ADMIN" {
		t.Errorf("revoke-all %s = %v; want it revoked by an admin", b1, r)
	}
	if out := s.run(t, "token", "show", "-w", "acme", b1).ok(t, "token show"); !strings.Contains(out, "admin") {
		t.Errorf("token show of a revoked token does not say why:\n%s", out)
	}

	// Leak report: no credential, secrets on stdin.
	anon := invocation{env: map[string]string{cli.EnvCredential: ""}, stdin: strings.NewReader("tka_nothing\n" + b2Secret + "\n\n")}
	if out := s.runWith(t, anon, "token", "report-leaked").ok(t, "report-leaked"); !strings.Contains(out, "Reported 2 secret(s)") {
		t.Errorf("report-leaked printed %q", out)
	}
	// The answer comes before the revocation.
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := s.d.WaitLeakReports(ctx); err != nil {
		t.Fatal(err)
	}
	if got := s.run(t, "token", "show", "-w", "acme", b2, "-o", "json").json(t, "token show"); got["revoke_reason"] != "REVOKE_REASON_LEAKED" {
		t.Errorf("reported token = %v; want revoked as leaked", got)
	}
	if out := s.run(t, "token", "list", "-w", "acme", "--state", "revoked", "-o", "name").ok(t, "token list --state revoked"); len(strings.Fields(out)) != 4 {
		t.Errorf("token list --state revoked = %q; want the 4 revoked tokens", out)
	}
	s.runWith(t, invocation{stdin: strings.NewReader("\n")}, "token", "report-leaked").wantFailure(t, "report-leaked of nothing", cli.ExitUsage, "no secret")
	s.run(t, "token", "report-leaked", b2Secret).wantFailure(t, "report-leaked with a secret argument", cli.ExitUsage, "stdin")
}
