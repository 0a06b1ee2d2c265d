package cli_test

import (
	"strings"
	"testing"

	"tokenauthority/cli"
)

// TestLifecycleCommands runs token update, disable, enable and roll and
// workspace update against a real server, checking the JSON they print and
// what the server then answers.
func TestLifecycleCommands(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	s.run(t, "workspace", "create", "acme").ok(t, "workspace create")
	s.run(t, "member", "add", "acme", "alice").ok(t, "member add")
	s.run(t, "zoo", "create", "acme/detectors", "--visibility", "private").ok(t, "zoo create")
	created := s.run(t, "token", "create", "-w", "acme", "-u", "alice", "-d", "laptop", "--expires", "30d",
		"--operations", "download", "--zoos", "acme/detectors", "-o", "json").json(t, "token create with scopes")
	tok := created["token"].(map[string]any)
	id, secret := tok["token_id"].(string), created["secret"].(string)
	if ops, _ := tok["operations"].([]any); len(ops) != 1 || ops[0] != "OPERATION_DOWNLOAD" {
		t.Errorf("token create --operations download = %v", tok)
	}
	if zoos, _ := tok["zoos"].([]any); len(zoos) != 1 || zoos[0] != "acme/detectors" {
		t.Errorf("token create --zoos acme/detectors = %v", tok)
	}
	// Out of scope: cloud inference is refused with its reason.
	s.run(t, "access", "check", "--zoo", "acme/detectors", "--operation", "cloud-inference", "--token", secret).
		wantFailure(t, "cloud inference with a download-only token", cli.ExitDenied, "REASON_OUT_OF_SCOPE")

	// token update: only the fields given change.
	u := s.run(t, "token", "update", "-w", "acme", id, "-d", "ci runner", "--operations", "all", "-o", "json").json(t, "token update")
	if u["description"] != "ci runner" || len(u["operations"].([]any)) != 0 || len(u["zoos"].([]any)) != 1 || u["expire_time"] == nil {
		t.Errorf("token update -d --operations all = %v; want the new description, no operation limit, zoos and expiry kept", u)
	}
	if u := s.run(t, "token", "update", "-w", "acme", id, "--expires", "never", "-o", "json").json(t, "token update --expires never"); u["expire_time"] != nil {
		t.Errorf("token update --expires never = %v; want no expiry", u)
	}
	s.run(t, "token", "update", "-w", "acme", id).wantFailure(t, "token update without a field", cli.ExitUsage, "nothing to change")
	s.run(t, "token", "update", "-w", "acme", id, "--operations", "upload").wantFailure(t, "token update --operations upload", cli.ExitUsage, "--operations")
	s.run(t, "token", "update", "-w", "acme", id, "-d", "bad\u202etext").wantFailure(t, "token update with a bidi override", cli.ExitUsage, "U+202E")

	// disable and enable.
	if d := s.run(t, "token", "disable", "-w", "acme", id, "-o", "json").json(t, "token disable"); d["disabled"] != true || d["state"] != "TOKEN_STATE_DISABLED" {
		t.Errorf("token disable = %v", d)
	}
	s.run(t, "token", "check", secret).wantFailure(t, "token check of a disabled token", cli.ExitTokenInvalid, "REASON_DISABLED")
	s.runWith(t, invocation{stdin: strings.NewReader(secret + "\n")}, "access", "check", "--zoo", "acme/detectors", "--operation", "download", "--token", "-").
		wantFailure(t, "access check with a disabled token", cli.ExitTokenInvalid, "the token is disabled (REASON_DISABLED)")
	if e := s.run(t, "token", "enable", "-w", "acme", id, "-o", "json").json(t, "token enable"); e["disabled"] != false || e["state"] != "TOKEN_STATE_ACTIVE" {
		t.Errorf("token enable = %v", e)
	}
	s.run(t, "token", "check", secret).ok(t, "token check after enable")

	// roll: the new secret alone on stdout; the old one works for --grace.
	r := s.run(t, "token", "roll", "-w", "acme", id, "--grace", "1h")
	next := strings.TrimSpace(r.ok(t, "token roll"))
	if !strings.HasPrefix(next, "tka_") || next == secret || !strings.Contains(r.stderr, "not shown again") {
		t.Errorf("token roll printed %q (stderr %q); want a new token alone", r.stdout, r.stderr)
	}
	if v := s.run(t, "token", "check", next, "-o", "json").json(t, "token check of the rolled token"); v["valid"] != true || v["token"].(map[string]any)["replaces"] != id {
		t.Errorf("token check of the new token = %v; want valid, replacing %s", v, id)
	}
	old := s.run(t, "token", "show", "-w", "acme", id, "-o", "json").json(t, "token show of the rolled token")
	if old["state"] != "TOKEN_STATE_ACTIVE" || old["replaced_by"] == "" || old["revoke_reason"] != "REVOKE_REASON_ROLLED" {
		t.Errorf("rolled token = %v; want active in its grace, replaced, revocation scheduled for ROLLED", old)
	}
	nextID := old["replaced_by"].(string)
	if out := s.run(t, "token", "show", "-w", "acme", nextID).ok(t, "token show of the new token"); !strings.Contains(out, "Replaces:") || !strings.Contains(out, "acme/detectors") {
		t.Errorf("token show of the new token does not name what it replaces or its zoos:\n%s", out)
	}
	s.run(t, "token", "roll", "-w", "acme", id, "--grace", "8d").wantFailure(t, "token roll --grace 8d", cli.ExitUsage, "grace")
	s.run(t, "token", "roll", "-w", "acme", id, "--grace", "soon").wantFailure(t, "token roll --grace soon", cli.ExitUsage, "--grace")
	// A second roll of the same token: its whole family is revoked.
	s.run(t, "token", "roll", "-w", "acme", id, "-o", "json").wantFailure(t, "second roll", cli.ExitError, "family")
	s.run(t, "token", "check", next).wantFailure(t, "token check after reuse", cli.ExitTokenInvalid, "REASON_REVOKED")

	// workspace update: name and token policy.
	w := s.run(t, "workspace", "update", "acme", "--name", "Acme Corp", "--max-lifetime", "90d", "--default-lifetime", "30d", "--require-expiry", "true", "-o", "json").json(t, "workspace update")
	p, _ := w["token_policy"].(map[string]any)
	if w["display_name"] != "Acme Corp" || p["max_lifetime"] != "7776000s" || p["default_lifetime"] != "2592000s" || p["require_expiry"] != true {
		t.Errorf("workspace update = %v", w)
	}
	if out := s.run(t, "workspace", "get", "acme").ok(t, "workspace get"); !strings.Contains(out, "Max lifetime:") || !strings.Contains(out, "2160h0m0s") {
		t.Errorf("workspace get does not show the token policy:\n%s", out)
	}
	w = s.run(t, "workspace", "update", "acme", "--max-lifetime", "none", "--default-lifetime", "none", "-o", "json").json(t, "workspace update none")
	if p, _ := w["token_policy"].(map[string]any); p["max_lifetime"] != nil || p["require_expiry"] != true {
		t.Errorf("workspace update --max-lifetime none = %v; want no max_lifetime, require_expiry kept", w)
	}
	s.run(t, "workspace", "update", "acme").wantFailure(t, "workspace update without a field", cli.ExitUsage, "nothing to change")
	s.run(t, "workspace", "update", "acme", "--max-lifetime", "forever").wantFailure(t, "workspace update --max-lifetime forever", cli.ExitUsage, "--max-lifetime")
	s.run(t, "workspace", "update", "acme", "--default-lifetime", "60d", "--max-lifetime", "30d").wantFailure(t, "default above max", cli.ExitUsage, "default_lifetime")
	s.run(t, "workspace", "update", "acme", "--max-lifetime", "30s").wantFailure(t, "a lifetime below a minute", cli.ExitUsage, "max_lifetime: must be at least 1m0s")
	s.run(t, "workspace", "update", "acme", "--max-family-lifetime", "0").wantFailure(t, "a zero family lifetime", cli.ExitUsage, "max_family_lifetime")
	s.run(t, "workspace", "update", "nope", "--name", "x").wantFailure(t, "workspace update of a missing workspace", cli.ExitNotFound)
}
