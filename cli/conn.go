package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/tlsconfig"
)

// Environment variables tokenctl reads.
const (
	EnvAddr       = "TOKENAUTHORITY_ADDR"
	EnvCredential = "TOKENAUTHORITY_CREDENTIAL"
	EnvToken      = "TOKENAUTHORITY_TOKEN"
	envCA         = tlsconfig.EnvCA
	envPrefixTLS  = "TOKENAUTHORITY_TLS_"
	defaultAddr   = "127.0.0.1:50051"
)

// options are the global flags.
type options struct {
	addr           string
	credential     string
	credentialFile string
	tls            tlsconfig.ClientFiles
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
	f.StringVar(&o.tls.CAFile, "tls-ca", "", "PEM CA certificates that sign the server's certificate; speaks TLS ($"+tlsconfig.EnvCA+")")
	f.StringVar(&o.tls.CertFile, "tls-cert", "", "PEM client certificate for mutual TLS; one bound to a service credential replaces --credential ($"+tlsconfig.EnvCert+")")
	f.StringVar(&o.tls.KeyFile, "tls-key", "", "PEM private key of --tls-cert ($"+tlsconfig.EnvKey+")")
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

// tlsFiles returns the TLS files to use: each flag given wins over its
// variable. None named means plaintext.
func (o *options) tlsFiles() tlsconfig.ClientFiles {
	f, env := o.tls, tlsconfig.ClientFilesFromEnv(o.getenv)
	if f.CAFile == "" {
		f.CAFile = env.CAFile
	}
	if f.CertFile == "" {
		f.CertFile = env.CertFile
	}
	if f.KeyFile == "" {
		f.KeyFile = env.KeyFile
	}
	return f
}

// transport returns the transport credentials of the connection: TLS (with
// the system's roots unless --tls-ca names others) when any TLS file is
// named, else plaintext.
func (o *options) transport() (credentials.TransportCredentials, error) {
	files := o.tlsFiles()
	if files.IsZero() {
		return insecure.NewCredentials(), nil
	}
	cfg, err := o.tlsConfig()
	if err != nil {
		return nil, err
	}
	return credentials.NewTLS(cfg), nil
}

// tlsConfig loads the TLS files; a file that cannot be used is a usage
// error.
func (o *options) tlsConfig() (*tls.Config, error) {
	cfg, err := tlsconfig.Client(o.tlsFiles())
	if err != nil {
		return nil, usageError(fmt.Sprintf("TLS files (--tls-ca, --tls-cert, --tls-key): %v", unwrapPathError(err)))
	}
	return cfg, nil
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
// loopback unless it is given a certificate.
func (bearer) RequireTransportSecurity() bool { return false }

// dial connects once per run. needCredential is false for the self-service
// calls, which the token in the request authenticates. A client certificate
// stands in for the credential: the server finds the credential bound to it.
func (a *app) dial(needCredential bool) (*grpc.ClientConn, error) {
	tc, err := a.opts.transport()
	if err != nil {
		return nil, err
	}
	cred, err := a.opts.loadCredential()
	if err != nil {
		return nil, err
	}
	if cred == "" && needCredential && a.opts.tlsFiles().CertFile == "" {
		return nil, &exitError{code: ExitCredential, msg: "no service credential: set " + EnvCredential + ", pass --credential-file (the server writes data/admin.credential on first start) or a client certificate bound to a credential (--tls-cert)"}
	}
	if a.conn != nil {
		return a.conn, nil
	}
	opts := []grpc.DialOption{grpc.WithTransportCredentials(tc)}
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
