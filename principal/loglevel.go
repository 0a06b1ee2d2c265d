package principal

import (
	"log/slog"

	"google.golang.org/grpc/codes"
)

// LogLevel is the one rule for the level of a request's log line by its
// outcome: Error only when the server failed (Internal, Unknown, DataLoss,
// Unavailable); Debug for success and for everything the client caused or
// chose, such as InvalidArgument, a deadline it set too short to honour
// (DeadlineExceeded) or a call it cancelled, so that no client can fill the
// error log at will. The gRPC services and the REST facade both use it.
func LogLevel(code codes.Code) slog.Level {
	switch code {
	case codes.Internal, codes.Unknown, codes.DataLoss, codes.Unavailable:
		return slog.LevelError
	}
	return slog.LevelDebug
}
