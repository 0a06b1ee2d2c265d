package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// Environment variables tokenctl reads.
const (
	EnvAddr       = "TOKENAUTHORITY_ADDR"
	EnvCredential = "TOKENAUTHORITY_CREDENTIAL"
	EnvToken      = "TOKENAUTHORITY_TOKEN"
	defaultAddr   = "127.0.0.1:50051"
)

// options are the global flags.
type options struct {
	addr           string
	credential     string
	credentialFile string
	output         string
	timeout        time.Duration
	getenv         func(string) string
}

func (o *options) register(root *cobra.Command, getenv func(string) string) {
	addr := getenv(EnvAddr)
	if addr == "" {
		addr = defaultAddr
	}
	f := root.PersistentFlags()
	f.StringVar(&o.addr, "addr", addr, "gRPC address of the server ($"+EnvAddr+")")
	// The variable is read when the credential is needed, not used as
	// the flag's default, so that --help never prints it.
	o.getenv = getenv
	f.StringVar(&o.credential, "credential", "", "service credential (default $"+EnvCredential+"); visible in ps, prefer the variable or --credential-file")
	f.StringVar(&o.credentialFile, "credential-file", "", "file holding the service credential, such as the server's data/admin.credential")
	f.StringVarP(&o.output, "output", "o", "table", "output format: table, json, yaml or name")
	f.DurationVar(&o.timeout, "timeout", 10*time.Second, "how long one call to the server may take")
}

func (o *options) check() error {
	switch o.output {
	case "table", "json", "yaml", "name":
	default:
		return usageError(fmt.Sprintf("--output %q: want table, json, yaml or name", o.output))
	}
	if o.timeout <= 0 {
		return usageError("--timeout must be positive")
	}
	return nil
}

// loadCredential returns the credential to send, from the file when one is
// named (it wins over the flag and the variable), else from the flag or
// variable.
func (o *options) loadCredential() (string, error) {
	if o.credentialFile != "" {
		b, err := os.ReadFile(o.credentialFile)
		if err != nil {
			return "", &exitError{code: ExitCredential, msg: fmt.Sprintf("read --credential-file: %v", unwrapPathError(err))}
		}
		c := strings.TrimSpace(string(b))
		if c == "" {
			return "", &exitError{code: ExitCredential, msg: fmt.Sprintf("--credential-file %s is empty", o.credentialFile)}
		}
		return c, nil
	}
	if o.credential != "" {
		return strings.TrimSpace(o.credential), nil
	}
	return strings.TrimSpace(o.getenv(EnvCredential)), nil
}

// bearer sends the service credential with every call.
type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

// RequireTransportSecurity is false: the server speaks plaintext gRPC on
// loopback by default.
func (bearer) RequireTransportSecurity() bool { return false }

// dial connects once per run. needCredential is false for the self-service
// calls, which the token in the request authenticates.
func (a *app) dial(needCredential bool) (*grpc.ClientConn, error) {
	cred, err := a.opts.loadCredential()
	if err != nil {
		return nil, err
	}
	if cred == "" && needCredential {
		return nil, &exitError{code: ExitCredential, msg: "no service credential: set " + EnvCredential + " or pass --credential-file (the server writes data/admin.credential on first start)"}
	}
	if a.conn != nil {
		return a.conn, nil
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	if cred != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(bearer(cred)))
	}
	conn, err := grpc.NewClient(a.opts.addr, opts...)
	if err != nil {
		return nil, usageError(fmt.Sprintf("--addr %q: %v", a.opts.addr, err))
	}
	a.conn = conn
	return conn, nil
}

func (a *app) workspaces() (pb.WorkspaceServiceClient, error) {
	conn, err := a.dial(true)
	if err != nil {
		return nil, err
	}
	return pb.NewWorkspaceServiceClient(conn), nil
}

func (a *app) tokens() (pb.TokenServiceClient, error) {
	conn, err := a.dial(true)
	if err != nil {
		return nil, err
	}
	return pb.NewTokenServiceClient(conn), nil
}

func (a *app) self() (pb.SelfServiceClient, error) {
	conn, err := a.dial(false)
	if err != nil {
		return nil, err
	}
	return pb.NewSelfServiceClient(conn), nil
}

func (a *app) auditLog() (pb.AuditServiceClient, error) {
	conn, err := a.dial(true)
	if err != nil {
		return nil, err
	}
	return pb.NewAuditServiceClient(conn), nil
}
