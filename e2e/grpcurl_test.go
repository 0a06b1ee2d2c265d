package e2e_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// grpcurl calls method with a JSON body through the real grpcurl, as the
// bootstrap admin, and decodes the response.
func grpcurl(t *testing.T, p *proc, method, body string) map[string]any {
	t.Helper()
	out, _ := run(t, false, bins.grpcurl, "-plaintext", "-H", "authorization: Bearer "+p.admin, "-d", body, p.grpcAddr, method)
	var m map[string]any
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%s: output is not JSON: %v\n%s", method, err, out)
	}
	return m
}

// TestGRPCurlWalkthrough is the README's grpcurl walkthrough, step by step.
func TestGRPCurlWalkthrough(t *testing.T) {
	t.Parallel()
	p := startServer(t, t.TempDir())
	const ws, tok = "tokenauthority.v1.WorkspaceService/", "tokenauthority.v1.TokenService/"

	grpcurl(t, p, ws+"CreateWorkspace", `{"workspace_id":"acme","display_name":"Acme Corp"}`)
	grpcurl(t, p, ws+"AddMember", `{"workspace_id":"acme","user_id":"alice"}`)
	grpcurl(t, p, ws+"CreateZoo", `{"workspace_id":"acme","zoo_id":"detectors","visibility":"VISIBILITY_PRIVATE"}`)
	created := grpcurl(t, p, tok+"CreateToken", `{"workspace_id":"acme","user_id":"alice","description":"laptop","expire_time":"2099-12-31T00:00:00Z"}`)
	secret, _ := created["secret"].(string)
	token, _ := created["token"].(map[string]any)
	id, _ := token["tokenId"].(string)
	if !strings.HasPrefix(secret, "tka_") || id == "" {
		t.Fatalf("CreateToken = %v; want a secret and a token id", created)
	}

	list := grpcurl(t, p, tok+"ListTokens", `{"workspace_id":"acme"}`)
	raw, _ := json.Marshal(list)
	if strings.Contains(string(raw), secret) || !strings.Contains(string(raw), secret[len(secret)-4:]) || !strings.Contains(string(raw), "maskedKey") {
		t.Errorf("ListTokens = %s; want the masked key and never the secret", raw)
	}

	v := grpcurl(t, p, tok+"ValidateToken", `{"secret":"`+secret+`"}`)
	if v["valid"] != true || v["reason"] != "REASON_VALID" {
		t.Errorf("ValidateToken = %v; want valid", v)
	}
	a := grpcurl(t, p, tok+"CheckAccess", `{"secret":"`+secret+`","zoo":"acme/detectors","operation":"OPERATION_CLOUD_INFERENCE"}`)
	if a["allowed"] != true || a["workspaceId"] != "acme" {
		t.Errorf("CheckAccess = %v; want allowed for acme", a)
	}
	anon := grpcurl(t, p, tok+"CheckAccess", `{"zoo":"acme/detectors","operation":"OPERATION_DOWNLOAD"}`)
	if anon["allowed"] == true || anon["reason"] != "REASON_ZOO_NOT_FOUND" {
		t.Errorf("anonymous CheckAccess on a private zoo = %v; want REASON_ZOO_NOT_FOUND", anon)
	}
	r := grpcurl(t, p, tok+"RevealToken", `{"workspace_id":"acme","token_id":"`+id+`"}`)
	if r["secret"] != secret {
		t.Errorf("RevealToken returned another secret")
	}
	grpcurl(t, p, tok+"RevokeToken", `{"workspace_id":"acme","token_id":"`+id+`"}`)
	v = grpcurl(t, p, tok+"ValidateToken", `{"secret":"`+secret+`"}`)
	if v["valid"] == true || v["reason"] != "REASON_REVOKED" {
		t.Errorf("ValidateToken after revoke = %v; want REASON_REVOKED", v)
	}

	// The audit log holds the reveal and the revoke, and its chain verifies.
	const audit = "tokenauthority.v1.AuditService/"
	evs := grpcurl(t, p, audit+"ListAuditEvents", `{"workspace_id":"acme","start_time":"2000-01-01T00:00:00Z"}`)
	var actions []string
	for _, ev := range evs["events"].([]any) {
		actions = append(actions, ev.(map[string]any)["action"].(string))
	}
	if want := "[workspace.create member.add zoo.create token.create token.reveal token.revoke]"; fmt.Sprint(actions) != want {
		t.Errorf("audit actions = %v; want %s", actions, want)
	}
	if vr := grpcurl(t, p, audit+"VerifyAuditLog", `{}`); vr["ok"] != true || vr["eventsChecked"] != "6" {
		t.Errorf("VerifyAuditLog = %v; want ok over 6 events", vr)
	}

	// Reflection lists the services; health answers without a credential.
	out, _ := run(t, false, bins.grpcurl, "-plaintext", p.grpcAddr, "list")
	for _, svc := range []string{"tokenauthority.v1.TokenService", "tokenauthority.v1.WorkspaceService", "tokenauthority.v1.AuditService", "grpc.health.v1.Health"} {
		if !strings.Contains(out, svc) {
			t.Errorf("grpcurl list = %q; want %s", out, svc)
		}
	}
	out, _ = run(t, false, bins.grpcurl, "-plaintext", p.grpcAddr, "grpc.health.v1.Health/Check")
	if !strings.Contains(out, "SERVING") {
		t.Errorf("health = %q; want SERVING", out)
	}
	// Without a credential: Unauthenticated, and grpcurl exits non-zero.
	out, err := run(t, true, bins.grpcurl, "-plaintext", "-d", `{}`, p.grpcAddr, tok+"ListTokens")
	if err == nil || !strings.Contains(out, "Unauthenticated") {
		t.Errorf("ListTokens without credential: %v %q; want Unauthenticated", err, out)
	}
	if strings.Contains(p.logs.String(), secret) || strings.Contains(p.logs.String(), p.admin) {
		t.Errorf("server log contains a secret")
	}
}
