package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

func TestToStatus(t *testing.T) {
	t.Parallel()
	var logs strings.Builder
	s := New(Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	tests := []struct {
		name     string
		err      error
		want     codes.Code
		wantText string
	}{
		{"not found", fmt.Errorf("workspace %q: %w", "acme", storage.ErrNotFound), codes.NotFound, `workspace "acme"`},
		{"exists", fmt.Errorf("zoo: %w", storage.ErrAlreadyExists), codes.AlreadyExists, "already exists"},
		{"not member", fmt.Errorf("user: %w", storage.ErrNotMember), codes.FailedPrecondition, "not a member"},
		{"not empty", storage.ErrNotEmpty, codes.FailedPrecondition, "not empty"},
		{"reused", fmt.Errorf("token %q: %w", "01", lifecycle.ErrReused), codes.FailedPrecondition, "family was revoked"},
		{"disabled", fmt.Errorf("token %q: %w", "01", lifecycle.ErrDisabled), codes.FailedPrecondition, "disabled"},
		{"invalid in storage", storage.ErrInvalid, codes.InvalidArgument, "invalid"},
		{"closed", storage.ErrClosed, codes.Unavailable, "closed"},
		{"too large for the store", fmt.Errorf("etcd: request is too large: %w", storage.ErrTooLarge), codes.InvalidArgument, "too large"},
		{"canceled", fmt.Errorf("wait: %w", context.Canceled), codes.Canceled, "canceled"},
		{"deadline", context.DeadlineExceeded, codes.DeadlineExceeded, "deadline"},
		{"invalid field", invalid("zoo_id", "is required"), codes.InvalidArgument, "zoo_id: is required"},
		{"status passes through", status.Error(codes.PermissionDenied, "no"), codes.PermissionDenied, "no"},
		{"unknown error is hidden", errors.New("disk /dev/vda exploded at offset 42"), codes.Internal, "internal error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := status.Convert(s.toStatus(t.Context(), "/test/Method", tc.err))
			if st.Code() != tc.want || !strings.Contains(st.Message(), tc.wantText) {
				t.Errorf("toStatus(%v) = %v %q; want %v containing %q", tc.err, st.Code(), st.Message(), tc.want, tc.wantText)
			}
		})
	}
	if st := status.Convert(s.toStatus(t.Context(), "/m", errors.New("disk /dev/vda exploded"))); strings.Contains(st.Message(), "vda") {
		t.Errorf("internal error text reached the client: %q", st.Message())
	}
	if !strings.Contains(logs.String(), "exploded") {
		t.Errorf("internal error not logged: %q", logs.String())
	}
	if s.toStatus(t.Context(), "/m", nil) != nil {
		t.Error("toStatus(nil) != nil")
	}
}

func TestInvalidCarriesFieldViolation(t *testing.T) {
	t.Parallel()
	s := New(Config{})
	st := status.Convert(s.toStatus(t.Context(), "/m", invalid("expire_time", "must be in the future")))
	if len(st.Details()) != 1 {
		t.Fatalf("details = %v; want one BadRequest", st.Details())
	}
	if got := fmt.Sprint(st.Details()[0]); !strings.Contains(got, "expire_time") {
		t.Errorf("detail = %s; want the field named", got)
	}
}

func TestRequiredAccessCoversEveryMethod(t *testing.T) {
	t.Parallel()
	tests := []struct {
		method string
		want   methodAccess
	}{
		{"/tokenauthority.v1.TokenService/CreateToken", owner},
		{"/tokenauthority.v1.TokenService/RevokeToken", owner},
		{"/tokenauthority.v1.WorkspaceService/ListWorkspaces", owner},
		{"/tokenauthority.v1.WorkspaceService/AddMember", admin},
		{"/tokenauthority.v1.WorkspaceService/ListMembers", admin},
		{"/tokenauthority.v1.TokenService/ValidateToken", validator},
		{"/tokenauthority.v1.TokenService/CheckAccess", validator},
		{"/tokenauthority.v1.SelfService/GetTokenInfo", public},
		{"/envoy.service.auth.v3.Authorization/Check", gateway},
		{"/tokenauthority.v1.TokenService/NewMethodNobodyListed", refused},
		{"", refused},
	}
	for _, tc := range tests {
		if got := requiredAccess(tc.method); got != tc.want {
			t.Errorf("requiredAccess(%q) = %v, want %v", tc.method, got, tc.want)
		}
	}
}
