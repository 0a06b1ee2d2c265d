package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Exit codes, one per class of failure, so scripts can tell them apart. The
// README lists them; keep the two in step.
const (
	ExitOK           = 0
	ExitError        = 1  // anything else: a conflict, a server-side failure
	ExitUsage        = 2  // invalid input: bad flags or arguments, or the server refused a field
	ExitUnreachable  = 3  // the server could not be reached or did not answer in time
	ExitCredential   = 4  // no service credential, or the server did not accept it
	ExitPermission   = 5  // the credential's role may not do this
	ExitNotFound     = 6  // the workspace, member, zoo or token does not exist
	ExitTokenInvalid = 7  // token check / access check: the token is not valid
	ExitDenied       = 8  // access check: the operation is not allowed
	ExitNotConfirmed = 9  // a destructive command was not confirmed
	ExitAuditBroken  = 10 // audit verify: the audit log's hash chain is broken
)

// exitError is an error with its exit code and the one line to print.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func usageError(msg string) error { return &exitError{code: ExitUsage, msg: msg} }

// codeClass maps gRPC codes to exit codes; codes not listed are ExitError.
var codeClass = map[codes.Code]int{
	codes.InvalidArgument:  ExitUsage,
	codes.OutOfRange:       ExitUsage,
	codes.Unavailable:      ExitUnreachable,
	codes.DeadlineExceeded: ExitUnreachable,
	codes.Unauthenticated:  ExitCredential,
	codes.PermissionDenied: ExitPermission,
	codes.NotFound:         ExitNotFound,
}

// report prints err as one line on stderr and returns the exit code.
func (a *app) report(err error) int {
	if err == nil {
		return ExitOK
	}
	code, msg := a.classify(err)
	fmt.Fprintln(a.env.Stderr, "tokenctl: "+oneLine(msg))
	return code
}

// classify decides the exit code and message of err. A gRPC status shows the
// server's message (a sentence for a person), never the client's error chain.
func (a *app) classify(err error) (int, string) {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code, ee.msg
	}
	if s, ok := status.FromError(err); ok {
		code, known := codeClass[s.Code()]
		if !known {
			code = ExitError
		}
		switch s.Code() {
		case codes.Unavailable:
			if tcode, why, ok := a.tlsProblem(context.Background()); ok {
				return tcode, fmt.Sprintf("cannot connect to tokenauthority at %s: %s", a.opts.addr, why)
			}
			return code, fmt.Sprintf("cannot reach tokenauthority at %s: %s", a.opts.addr, transportCause(s.Message()))
		case codes.Canceled:
			return code, "interrupted"
		case codes.DeadlineExceeded:
			return code, fmt.Sprintf("tokenauthority at %s did not answer within %v", a.opts.addr, a.opts.timeout)
		case codes.Unauthenticated:
			if a.opts.tlsFiles().CertFile != "" {
				return code, s.Message() + " (check " + EnvCredential + ", --credential-file or the client_identity the server binds to --tls-cert)"
			}
			return code, s.Message() + " (check " + EnvCredential + " or --credential-file)"
		}
		return code, s.Message()
	}
	// Errors that are neither ours nor the server's come from cobra's
	// argument and command parsing.
	return ExitUsage, err.Error()
}

// transportCause shortens grpc-go's "connection error: desc = \"transport:
// Error while dialing: dial tcp 127.0.0.1:1: connect: connection refused\"" to
// its last clause.
func transportCause(msg string) string {
	msg = strings.TrimRight(msg, `"`)
	if i := strings.LastIndex(msg, ": "); i >= 0 {
		return msg[i+2:]
	}
	return msg
}

// oneLine keeps an error on one line whatever the server sent.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// unwrapPathError drops the operation from a file error: "open x: no such
// file" reads better as "x: no such file".
func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s: %w", pe.Path, pe.Err)
	}
	return err
}
