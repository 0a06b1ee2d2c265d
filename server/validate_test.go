package server_test

import (
	"strings"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// fieldOf returns the field an InvalidArgument error names in its
// BadRequest detail.
func fieldOf(err error) string {
	for _, d := range status.Convert(err).Details() {
		if br, ok := d.(*errdetails.BadRequest); ok && len(br.GetFieldViolations()) > 0 {
			return br.GetFieldViolations()[0].GetField()
		}
	}
	return ""
}

// TestFreeText: descriptions and display names refuse what could make a
// listing show something other than what is stored, and name the field.
func TestFreeText(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	tests := []struct {
		name string
		text string
		ok   bool
	}{
		{"plain", "laptop of alice", true},
		{"accents and CJK", "ordinateur portable 東京", true},
		{"emoji", "ci 🚀", true},
		{"right-to-left script", "מחשב נייד", true},
		{"bidi override", "safe\u202egnp.exe", false},
		{"bidi isolate", "a\u2066b\u2069", false},
		{"left-to-right mark", "a\u200eb", false},
		{"zero-width space", "pay\u200bpal", false},
		{"zero-width joiner", "a\u200db", false},
		{"byte order mark", "\ufeffci", false},
		{"soft hyphen", "pay\u00adpal", false},
		{"C1 control", "a\u0085b", false},
		{"escape", "a\x1b[31mred", false},
		{"tab", "a\tb", false},
		{"newline", "a\nb", false},
		{"DEL", "a\x7fb", false},
		{"line separator", "a\u2028b", false},
		{"paragraph separator", "a\u2029b", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := e.tokens.CreateToken(admin(t), &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Description: tc.text})
			if tc.ok {
				if err != nil {
					t.Fatalf("CreateToken(%q) = %v; want it accepted", tc.text, err)
				}
			} else if status.Code(err) != codes.InvalidArgument || fieldOf(err) != "description" {
				t.Errorf("CreateToken(%q) = %v (field %q); want InvalidArgument naming description", tc.text, err, fieldOf(err))
			}
			_, err = e.workspaces.CreateWorkspace(admin(t), &pb.CreateWorkspaceRequest{WorkspaceId: "ws-" + strings.ReplaceAll(strings.ToLower(strings.Fields(tc.name)[0]), "c1", "cone"), DisplayName: tc.text})
			if !tc.ok && (status.Code(err) != codes.InvalidArgument || fieldOf(err) != "display_name") {
				t.Errorf("CreateWorkspace(display_name %q) = %v; want InvalidArgument naming display_name", tc.text, err)
			}
		})
	}
	list, err := e.tokens.ListTokens(admin(t), &pb.ListTokensRequest{WorkspaceId: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range list.GetTokens() {
		for _, r := range tok.GetDescription() {
			if r == '\u202e' || r == '\u200b' || r < 0x20 {
				t.Errorf("stored description %q holds %U", tok.GetDescription(), r)
			}
		}
	}
}

// TestIDRule: the ID rule and its error text agree: hyphens are inner only.
func TestIDRule(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tests := []struct {
		id string
		ok bool
	}{
		{"acme", true},
		{"a", true},
		{"acme-labs", true},
		{"a-b-c", true},
		{strings.Repeat("a", 63), true},
		{"acme-", false},
		{"-acme", false},
		{"-", false},
		{"Acme", false},
		{"acme_labs", false},
		{strings.Repeat("a", 64), false},
	}
	for _, tc := range tests {
		_, err := e.workspaces.CreateWorkspace(admin(t), &pb.CreateWorkspaceRequest{WorkspaceId: tc.id})
		if tc.ok {
			if err != nil {
				t.Errorf("CreateWorkspace(%q) = %v; want it accepted", tc.id, err)
			}
			continue
		}
		if status.Code(err) != codes.InvalidArgument || fieldOf(err) != "workspace_id" {
			t.Errorf("CreateWorkspace(%q) = %v; want InvalidArgument naming workspace_id", tc.id, err)
		}
	}
	_, err := e.workspaces.CreateWorkspace(admin(t), &pb.CreateWorkspaceRequest{WorkspaceId: "acme-"})
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "inner hyphens") {
		t.Errorf("error for a trailing hyphen = %q; want it to state the inner-hyphen rule", msg)
	}
}

// TestSeedRule: seeds have the SDK's shape (secrets.token_urlsafe(32)) or
// at least a long random hex string; guessable ones are refused.
func TestSeedRule(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.workspace(t, "acme", []string{"alice"}, nil)
	tests := []struct {
		name, seed string
		ok         bool
	}{
		{"token_urlsafe(32)", "qH3kV9_xZ2-mWn8pLr4tYb7cJf1sDg6aUe0oNi5vRkE", true},
		{"token_hex(16)", "9f86d081884c7d659a2feaa0c55ad015", true},
		{"16 identical", "aaaaaaaaaaaaaaaa", false},
		{"32 identical", strings.Repeat("a", 32), false},
		{"repeated pair", strings.Repeat("ab", 22), false},
		{"words", "seed-seed-seed-seed-seed-seed-seed-seed", false},
		{"a long repeated word", strings.Repeat("seed-", 51), false},
		{"too short", "qH3kV9_xZ2-mWn8pLr4tYb7", false},
		{"outside the alphabet", "qH3kV9/xZ2+mWn8pLr4tYb7cJf1sDg6aUe0oNi5vRkE", false},
		{"too long", strings.Repeat("qH3kV9_xZ2-mWn8pLr4tYb7cJf1sDg6aUe0oNi5vRkE", 6), false},
	}
	for _, tc := range tests {
		_, err := e.tokens.CreateToken(admin(t), &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Seed: tc.seed})
		if tc.ok {
			if err != nil {
				t.Errorf("%s: CreateToken = %v; want it accepted", tc.name, err)
			}
			continue
		}
		if status.Code(err) != codes.InvalidArgument || fieldOf(err) != "seed" {
			t.Errorf("%s: CreateToken = %v; want InvalidArgument naming seed", tc.name, err)
		}
	}
}
