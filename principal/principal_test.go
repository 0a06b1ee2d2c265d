package principal_test

import (
	"context"
	"log/slog"
	"testing"

	"google.golang.org/grpc/codes"

	"tokenauthority/principal"
)

func TestTrustedUser(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		ctx    context.Context
		want   string
		wantOK bool
	}{
		{"none", context.Background(), "", false},
		{"set", principal.WithTrustedUser(context.Background(), "alice"), "alice", true},
		{"empty user", principal.WithTrustedUser(context.Background(), ""), "", false},
		{"set again", principal.WithTrustedUser(principal.WithTrustedUser(context.Background(), "alice"), "bob"), "bob", true},
		// A string under a key of another package is not a member.
		{"other key", context.WithValue(context.Background(), struct{}{}, "mallory"), "", false},
		// An authorized principal is not a proxy's word for a member.
		{"principal only", principal.NewContext(context.Background(), principal.Member("alice")), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := principal.TrustedUser(tt.ctx)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("TrustedUser() = %q, %v; want %q, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestPrincipal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name           string
		p              principal.Principal
		wantName       string
		wantMember     string
		wantCredential bool
	}{
		{"public caller", principal.Principal{}, "", "", false},
		{"service credential", principal.Credential("ci"), "ci", "", true},
		{"member", principal.Member("alice"), "user:alice", "alice", false},
		// A credential named like a member is still a credential.
		{"credential named user:alice", principal.Credential("user:alice"), "user:alice", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.p.Name != tt.wantName || tt.p.Member != tt.wantMember || tt.p.IsCredential() != tt.wantCredential {
				t.Errorf("got %+v (credential %v); want name %q, member %q, credential %v",
					tt.p, tt.p.IsCredential(), tt.wantName, tt.wantMember, tt.wantCredential)
			}
			got, ok := principal.FromContext(principal.NewContext(context.Background(), tt.p))
			if !ok || got != tt.p {
				t.Errorf("FromContext(NewContext(p)) = %+v, %v; want %+v, true", got, ok, tt.p)
			}
		})
	}
}

func TestFromContextWithout(t *testing.T) {
	t.Parallel()
	ctx := principal.WithTrustedUser(context.Background(), "alice")
	if got, ok := principal.FromContext(ctx); ok || got != (principal.Principal{}) {
		t.Errorf("FromContext() = %+v, %v; want the zero Principal, false: a proxy's word is not an authorization", got, ok)
	}
}

// TestLogLevel: only the server's own failures are logged as errors.
func TestLogLevel(t *testing.T) {
	t.Parallel()
	errorCodes := map[codes.Code]bool{codes.Internal: true, codes.Unknown: true, codes.DataLoss: true, codes.Unavailable: true}
	// Every code grpc defines, OK (0) to Unauthenticated (16).
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		t.Run(c.String(), func(t *testing.T) {
			t.Parallel()
			want := slog.LevelDebug
			if errorCodes[c] {
				want = slog.LevelError
			}
			if got := principal.LogLevel(c); got != want {
				t.Errorf("LogLevel(%v) = %v; want %v", c, got, want)
			}
		})
	}
}
