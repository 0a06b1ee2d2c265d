package cli_test

import (
	"strings"
	"testing"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"tokenauthority/cli"
	pb "tokenauthority/gen/tokenauthority/v1"
)

// commandOf names the command that calls each RPC; TestEveryRPCHasACommand
// fails when the API gains a method that is not listed here, and
// TestCommands runs each of them.
var commandOf = map[string]string{
	"CreateWorkspace":    "workspace create",
	"GetWorkspace":       "workspace get",
	"ListWorkspaces":     "workspace list",
	"DeleteWorkspace":    "workspace delete",
	"UpdateWorkspace":    "workspace update",
	"AddMember":          "member add",
	"GetMember":          "member get",
	"ListMembers":        "member list",
	"RemoveMember":       "member remove",
	"CreateZoo":          "zoo create",
	"GetZoo":             "zoo get",
	"ListZoos":           "zoo list",
	"UpdateZoo":          "zoo update",
	"DeleteZoo":          "zoo delete",
	"CreateToken":        "token create",
	"ListTokens":         "token list",
	"GetToken":           "token show",
	"RevealToken":        "token copy",
	"RevokeToken":        "token revoke",
	"UpdateToken":        "token update",
	"RollToken":          "token roll",
	"RevokeTokens":       "token revoke-all",
	"ReportLeakedTokens": "token report-leaked",
	"ValidateToken":      "token check",
	"CheckAccess":        "access check",
	"GetTokenInfo":       "token info",
	"RefreshToken":       "token refresh",
	"PickSeedToken":      "token pick",
	"GetSeedPollers":     "token pollers",
	"ListAuditEvents":    "audit list",
	"VerifyAuditLog":     "audit verify",
	"Backup":             "backup",
}

func TestEveryRPCHasACommand(t *testing.T) {
	t.Parallel()
	_ = pb.File_tokenauthority_v1_token_service_proto // registers the API's files
	services := 0
	protoregistry.GlobalFiles.RangeFilesByPackage("tokenauthority.v1", func(fd protoreflect.FileDescriptor) bool {
		services += fd.Services().Len()
		for i := 0; i < fd.Services().Len(); i++ {
			sd := fd.Services().Get(i)
			for j := 0; j < sd.Methods().Len(); j++ {
				name := string(sd.Methods().Get(j).Name())
				cmd, ok := commandOf[name]
				if !ok {
					t.Errorf("%s.%s has no tokenctl command", sd.FullName(), name)
					continue
				}
				// The command exists: its help runs.
				r := runCLI(t, nil, nil, nil, append(strings.Fields(cmd), "--help")...)
				if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
					t.Errorf("tokenctl %s --help: exit %d, stdout %q, stderr %q", cmd, r.code, r.stdout, r.stderr)
				}
			}
		}
		return true
	})
	if services < 3 {
		t.Fatalf("found %d services of tokenauthority.v1; want at least 3", services)
	}
}

// TestCommands runs every command against a real server, in the order an
// operator would, checking the JSON each prints.
func TestCommands(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)

	w := s.run(t, "workspace", "create", "acme", "--name", "Acme <Corp> & Co", "-o", "json").json(t, "workspace create")
	if w["workspace_id"] != "acme" || w["display_name"] != "Acme <Corp> & Co" || w["create_time"] == nil {
		t.Errorf("workspace create = %v", w)
	}
	if w := s.run(t, "workspace", "get", "acme", "-o", "json").json(t, "workspace get"); w["workspace_id"] != "acme" {
		t.Errorf("workspace get = %v", w)
	}
	wl := s.run(t, "workspace", "list", "-o", "json").json(t, "workspace list")
	if ws, _ := wl["workspaces"].([]any); len(ws) != 1 || wl["next_page_token"] != "" {
		t.Errorf("workspace list = %v; want one workspace and next_page_token present", wl)
	}
	if y := s.run(t, "workspace", "get", "acme", "-o", "yaml").ok(t, "workspace get -o yaml"); !strings.Contains(y, "workspace_id: acme\n") || !strings.Contains(y, "display_name: Acme <Corp> & Co\n") {
		t.Errorf("workspace get -o yaml = %q", y)
	}

	for _, u := range []string{"alice", "bob"} {
		if m := s.run(t, "member", "add", "acme", u, "-o", "json").json(t, "member add"); m["user_id"] != u || m["workspace_id"] != "acme" {
			t.Errorf("member add %s = %v", u, m)
		}
	}
	if m := s.run(t, "member", "get", "acme", "alice", "-o", "json").json(t, "member get"); m["user_id"] != "alice" {
		t.Errorf("member get = %v", m)
	}
	if ml := s.run(t, "member", "list", "acme", "-o", "json").json(t, "member list"); len(ml["members"].([]any)) != 2 {
		t.Errorf("member list = %v; want alice and bob", ml)
	}

	if z := s.run(t, "zoo", "create", "acme/detectors", "--visibility", "private", "-o", "json").json(t, "zoo create"); z["visibility"] != "VISIBILITY_PRIVATE" || z["zoo_id"] != "detectors" {
		t.Errorf("zoo create = %v", z)
	}
	s.run(t, "zoo", "create", "acme/open", "--visibility", "private").ok(t, "zoo create acme/open")
	if z := s.run(t, "zoo", "update", "acme/open", "--visibility", "public", "-o", "json").json(t, "zoo update"); z["visibility"] != "VISIBILITY_PUBLIC" {
		t.Errorf("zoo update = %v", z)
	}
	if z := s.run(t, "zoo", "get", "acme/open", "-o", "json").json(t, "zoo get"); z["visibility"] != "VISIBILITY_PUBLIC" {
		t.Errorf("zoo get = %v", z)
	}
	if zl := s.run(t, "zoo", "list", "acme", "-o", "json").json(t, "zoo list"); len(zl["zoos"].([]any)) != 2 {
		t.Errorf("zoo list = %v", zl)
	}

	// token create -o json prints {token, secret}, every field present.
	r := s.run(t, "token", "create", "-w", "acme", "-u", "alice", "-d", "laptop", "--expires", "30d", "-o", "json")
	created := r.json(t, "token create")
	secret, _ := created["secret"].(string)
	tok, _ := created["token"].(map[string]any)
	id, _ := tok["token_id"].(string)
	if !strings.HasPrefix(secret, "tka_") || id == "" || tok["state"] != "TOKEN_STATE_ACTIVE" {
		t.Fatalf("token create = %v", created)
	}
	for _, key := range []string{"revoke_time", "replaced_by", "expire_time", "masked_key"} {
		if _, ok := tok[key]; !ok {
			t.Errorf("token create: token has no %q key; want unpopulated fields emitted: %v", key, tok)
		}
	}
	if !strings.Contains(r.stderr, "not shown again") {
		t.Errorf("token create stderr = %q; want the warning that it is not shown again", r.stderr)
	}

	// For people, stdout is the token alone and the warning goes to stderr.
	r = s.run(t, "token", "create", "-w", "acme", "-u", "bob", "-d", "ci", "--expires", "never")
	bobSecret := strings.TrimSuffix(r.ok(t, "token create (table)"), "\n")
	if !strings.HasPrefix(bobSecret, "tka_") || len(bobSecret) != 53 {
		t.Errorf("token create stdout = %q; want the token alone", r.stdout)
	}
	if !strings.Contains(r.stderr, "not shown again except through \"tokenctl token copy --workspace acme ") {
		t.Errorf("token create stderr = %q", r.stderr)
	}

	r = s.run(t, "token", "list", "-w", "acme", "-o", "json")
	if tl := r.json(t, "token list"); len(tl["tokens"].([]any)) != 2 {
		t.Errorf("token list = %v; want two tokens", tl)
	}
	if strings.Contains(r.stdout, secret) || strings.Contains(r.stdout, bobSecret) || !strings.Contains(r.stdout, secret[len(secret)-4:]) {
		t.Errorf("token list shows a secret or no masked key: %s", r.stdout)
	}
	if names := s.run(t, "token", "list", "-w", "acme", "-u", "alice", "-o", "name").ok(t, "token list -o name"); names != id+"\n" {
		t.Errorf("token list --user alice -o name = %q; want %q", names, id+"\n")
	}
	if got := s.run(t, "token", "show", "-w", "acme", id, "-o", "json").json(t, "token show"); got["token_id"] != id || got["description"] != "laptop" {
		t.Errorf("token show = %v", got)
	}
	if out := s.run(t, "token", "copy", "-w", "acme", id).ok(t, "token copy"); out != secret+"\n" {
		t.Errorf("token copy printed %q; want the token and nothing else", out)
	}

	// token check: argument, stdin, environment.
	for name, inv := range map[string]struct {
		args []string
		inv  invocation
	}{
		"argument": {[]string{secret}, invocation{}},
		"stdin":    {[]string{"-"}, invocation{stdin: strings.NewReader(secret + "\n")}},
		"env":      {nil, invocation{env: map[string]string{cli.EnvToken: secret}}},
	} {
		v := s.runWith(t, inv.inv, append([]string{"token", "check", "-o", "json"}, inv.args...)...).json(t, "token check from "+name)
		if v["valid"] != true || v["reason"] != "REASON_VALID" || v["token"].(map[string]any)["token_id"] != id {
			t.Errorf("token check from %s = %v", name, v)
		}
	}
	s.run(t, "token", "check", "tka_notatoken").wantFailure(t, "token check of a malformed token", cli.ExitTokenInvalid, "REASON_MALFORMED")
	s.run(t, "token", "check").wantFailure(t, "token check without a token", cli.ExitUsage, cli.EnvToken)

	// access check: allowed, anonymous denial, invalid token.
	a := s.runWith(t, invocation{stdin: strings.NewReader(secret)}, "access", "check", "--zoo", "acme/detectors", "--operation", "cloud-inference", "--token", "-", "-o", "json").json(t, "access check")
	if a["allowed"] != true || a["workspace_id"] != "acme" || a["token_id"] != id || a["user_id"] != "alice" {
		t.Errorf("access check = %v", a)
	}
	if a := s.run(t, "access", "check", "--zoo", "acme/open", "--operation", "download", "-o", "json").json(t, "anonymous download"); a["allowed"] != true || a["reason"] != "REASON_PUBLIC" {
		t.Errorf("anonymous download from a public zoo = %v", a)
	}
	s.run(t, "access", "check", "--zoo", "acme/detectors", "--operation", "download").wantFailure(t, "anonymous download from a private zoo", cli.ExitDenied, "REASON_ZOO_NOT_FOUND")
	s.run(t, "access", "check", "--zoo", "acme/detectors", "--operation", "download", "--token", "tka_x").wantFailure(t, "access check with a malformed token", cli.ExitTokenInvalid, "REASON_MALFORMED")
	s.run(t, "access", "check", "--zoo", "acme/detectors", "--operation", "upload").wantFailure(t, "access check of an unknown operation", cli.ExitUsage, "download or cloud-inference")

	// Self-service commands need no service credential.
	anon := invocation{env: map[string]string{cli.EnvCredential: ""}}
	if info := s.runWith(t, anon, "token", "info", secret, "-o", "json").json(t, "token info"); info["user"] != "alice" || info["space"] != "acme" || info["description"] != "laptop" {
		t.Errorf("token info = %v", info)
	}
	refreshed := strings.TrimSpace(s.runWith(t, anon, "token", "refresh", bobSecret).ok(t, "token refresh"))
	if !strings.HasPrefix(refreshed, "tka_") || refreshed == bobSecret {
		t.Errorf("token refresh printed %q; want a new token", refreshed)
	}
	const seed = "Xk3v9QpL2mZ8rT5wY1nB7cF4hJ6dS0aE_gU-iO2qWzR"
	if p := s.run(t, "token", "pollers", seed, "-o", "json").json(t, "token pollers"); len(p["poller_addresses"].([]any)) != 0 || p["client_address"] != "127.0.0.1" {
		t.Errorf("token pollers before any poll = %v; want nobody waiting, the caller at 127.0.0.1", p)
	}
	s.runWith(t, anon, "token", "pick", seed).wantFailure(t, "token pick before the token exists", cli.ExitNotFound)
	if out := s.run(t, "token", "pollers", seed).ok(t, "token pollers"); !strings.Contains(out, "Waiting:") || !strings.Contains(out, "127.0.0.1") || strings.Contains(out, "nobody") {
		t.Errorf("token pollers after a poll = %q; want 127.0.0.1 waiting", out)
	}
	s.run(t, "token", "pollers", "short").wantFailure(t, "token pollers of a malformed seed", cli.ExitUsage)
	s.run(t, "token", "create", "-w", "acme", "-u", "alice", "-d", "sdk", "--expires", "2w", "--seed", seed).ok(t, "token create --seed")
	if picked := s.runWith(t, anon, "token", "pick", "Xk3v9QpL2mZ8rT5wY1nB7cF4hJ6dS0aE_gU-iO2qWzR", "-o", "json").json(t, "token pick"); !strings.HasPrefix(picked["token"].(string), "tka_") {
		t.Errorf("token pick = %v", picked)
	}
	s.runWith(t, anon, "token", "pick", "Xk3v9QpL2mZ8rT5wY1nB7cF4hJ6dS0aE_gU-iO2qWzR").wantFailure(t, "second token pick", cli.ExitNotFound)

	// Destructive commands, confirmed with --yes.
	if rv := s.run(t, "token", "revoke", "-w", "acme", id, "--yes", "-o", "json").json(t, "token revoke"); rv["state"] != "TOKEN_STATE_REVOKED" || rv["token_id"] != id {
		t.Errorf("token revoke = %v", rv)
	}
	s.run(t, "token", "check", secret).wantFailure(t, "token check after revoke", cli.ExitTokenInvalid, "REASON_REVOKED")
	if tl := s.run(t, "token", "list", "-w", "acme", "--all", "-o", "json").json(t, "token list --all"); len(tl["tokens"].([]any)) != 4 {
		t.Errorf("token list --all = %v; want the revoked token too", tl)
	}
	if rm := s.run(t, "member", "remove", "acme", "bob", "--yes", "-o", "json").json(t, "member remove"); rm["revoked_token_count"] != float64(2) {
		t.Errorf("member remove = %v; want bob's two tokens (refreshed and new) revoked", rm)
	}
	s.run(t, "member", "get", "acme", "bob").wantFailure(t, "member get after remove", cli.ExitNotFound)
	s.run(t, "zoo", "delete", "acme/open", "--yes").ok(t, "zoo delete")
	s.run(t, "zoo", "get", "acme/open").wantFailure(t, "zoo get after delete", cli.ExitNotFound)
	s.run(t, "workspace", "delete", "acme", "--yes").wantFailure(t, "workspace delete of a workspace in use", cli.ExitError, "still has 1 member, 1 zoo and 4 tokens (1 active); pass --force")
	s.run(t, "workspace", "delete", "acme", "--force", "--yes").ok(t, "workspace delete --force")
	s.run(t, "workspace", "create", "empty").ok(t, "workspace create empty")
	if out := s.run(t, "workspace", "delete", "empty", "--yes").ok(t, "workspace delete of an empty workspace"); out != "Deleted workspace empty\n" {
		t.Errorf("workspace delete printed %q", out)
	}
	s.run(t, "workspace", "get", "acme").wantFailure(t, "workspace get after delete", cli.ExitNotFound)
}
