package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"tokenauthority/lifecycle"
	"tokenauthority/storage"
)

// invalidError is a request field that failed validation.
type invalidError struct {
	field  string
	reason string
}

func (e *invalidError) Error() string { return e.field + ": " + e.reason }

// invalid reports a bad request field; reason is a sentence fragment that
// completes "<field>: ".
func invalid(field, format string, args ...any) error {
	return &invalidError{field: field, reason: fmt.Sprintf(format, args...)}
}

// codeOf is the one table from domain errors to gRPC codes.
var codeOf = []struct {
	err  error
	code codes.Code
}{
	{storage.ErrNotFound, codes.NotFound},
	{storage.ErrAlreadyExists, codes.AlreadyExists},
	{storage.ErrNotMember, codes.FailedPrecondition},
	{storage.ErrNotEmpty, codes.FailedPrecondition},
	{storage.ErrReplaced, codes.FailedPrecondition},
	{storage.ErrInvalid, codes.InvalidArgument},
	{lifecycle.ErrRevoked, codes.FailedPrecondition},
	{lifecycle.ErrExpired, codes.FailedPrecondition},
	{lifecycle.ErrDisabled, codes.FailedPrecondition},
	{lifecycle.ErrReused, codes.FailedPrecondition},
	{storage.ErrClosed, codes.Unavailable},
	{context.Canceled, codes.Canceled},
	{context.DeadlineExceeded, codes.DeadlineExceeded},
}

// toStatus maps an error of the domain or storage layer to a gRPC status
// error. Errors that are already statuses pass through. Errors it does not
// know are logged and become a bare Internal, so that no internal detail
// reaches the client.
func (s *Server) toStatus(ctx context.Context, method string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	var inv *invalidError
	if le := (*lifecycle.LimitError)(nil); errors.As(err, &le) {
		inv = &invalidError{field: le.Field, reason: le.Reason}
	}
	if inv != nil || errors.As(err, &inv) {
		st := status.New(codes.InvalidArgument, inv.Error())
		if d, derr := st.WithDetails(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: inv.field, Description: inv.reason},
		}}); derr == nil {
			st = d
		}
		return st.Err()
	}
	for _, m := range codeOf {
		if errors.Is(err, m.err) {
			return status.Error(m.code, err.Error())
		}
	}
	s.log.LogAttrs(ctx, slog.LevelError, "internal error", slog.String("method", method), slog.String("error", err.Error()))
	return status.Error(codes.Internal, "internal error")
}
