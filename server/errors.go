package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/durationpb"

	"tokenauthority/lifecycle"
	"tokenauthority/metrics"
	"tokenauthority/ratelimit"
	"tokenauthority/seal"
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

// codeOf is the one table from domain errors to gRPC codes. An entry with
// a message answers with it instead of the error's own text.
var codeOf = []struct {
	err  error
	code codes.Code
	msg  string
}{
	{storage.ErrNotFound, codes.NotFound, ""},
	{storage.ErrAlreadyExists, codes.AlreadyExists, ""},
	{storage.ErrNotMember, codes.FailedPrecondition, ""},
	{storage.ErrNotEmpty, codes.FailedPrecondition, ""},
	{storage.ErrInvalid, codes.InvalidArgument, ""},
	{seal.ErrUnknownKey, codes.FailedPrecondition, "the master key that sealed this secret is not in the server's key ring"},
	{lifecycle.ErrRevoked, codes.FailedPrecondition, ""},
	{lifecycle.ErrExpired, codes.FailedPrecondition, ""},
	{lifecycle.ErrDisabled, codes.FailedPrecondition, ""},
	{lifecycle.ErrReused, codes.FailedPrecondition, ""},
	{seal.ErrOpen, codes.FailedPrecondition, "the master key cannot open this secret: the server was started with a different master key than the one that sealed it"},
	{storage.ErrClosed, codes.Unavailable, ""},
	{storage.ErrUnavailable, codes.Unavailable, ""},
	{storage.ErrUnsupported, codes.Unimplemented, ""},
	{storage.ErrTooLarge, codes.InvalidArgument, ""}, // not ResourceExhausted: REST would answer 429, "retry later"
	{context.Canceled, codes.Canceled, ""},
	{context.DeadlineExceeded, codes.DeadlineExceeded, ""},
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
	var lim *limitedError
	if errors.As(err, &lim) {
		secs := ratelimit.RetryAfterSeconds(lim.retryAfter)
		// gRPC clients read the RetryInfo detail; the header is for
		// those that only look at metadata. It fails harmlessly where the
		// call has no transport stream.
		_ = grpc.SetHeader(ctx, metadata.Pairs("retry-after", strconv.Itoa(secs)))
		st := status.New(codes.ResourceExhausted, fmt.Sprintf("%s; retry in %d s", lim.what, secs))
		if d, derr := st.WithDetails(&errdetails.RetryInfo{RetryDelay: durationpb.New(time.Duration(secs) * time.Second)}); derr == nil {
			st = d
		}
		return st.Err()
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
	if errors.Is(err, storage.ErrUnavailable) || errors.Is(err, storage.ErrClosed) {
		s.metrics.ObserveStoreError(metrics.StoreOpRequest)
	}
	for _, m := range codeOf {
		if errors.Is(err, m.err) {
			msg := m.msg
			if msg == "" {
				msg = err.Error()
			}
			return status.Error(m.code, msg)
		}
	}
	s.log.LogAttrs(ctx, slog.LevelError, "internal error", slog.String("method", method), slog.String("error", err.Error()))
	return status.Error(codes.Internal, "internal error")
}
