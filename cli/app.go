package cli

import (
	"context"
	"io"
	"os"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"tokenauthority/buildinfo"
)

// Env is what a run of tokenctl sees of the outside world. Tests inject their
// own; main passes the process's.
type Env struct {
	Args   []string // without the program name
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	Getenv func(string) string
	// Now is the clock for expiry durations ("30d") and relative times ("in
	// 29 days"); nil means time.Now.
	Now func() time.Time
}

// OSEnv is the environment of the running process.
func OSEnv() Env {
	return Env{Args: os.Args[1:], Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv, Now: time.Now}
}

// app is one run: the environment, the global flags and, once a command
// needs it, the connection.
type app struct {
	env  Env
	opts options
	conn *grpc.ClientConn
}

// Run runs tokenctl with env and returns the process exit code (see exit.go).
func Run(ctx context.Context, env Env) int {
	if env.Now == nil {
		env.Now = time.Now
	}
	if env.Getenv == nil {
		env.Getenv = func(string) string { return "" }
	}
	a := &app{env: env}
	root := a.rootCmd()
	root.SetArgs(env.Args)
	err := root.ExecuteContext(ctx)
	if a.conn != nil {
		_ = a.conn.Close()
	}
	return a.report(err)
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "tokenctl",
		Short: "Manage the workspace tokens of a tokenauthority server",
		Long: `tokenctl manages workspaces, members, model zoos and tokens of a tokenauthority
server over gRPC, and reads its audit log.

The server address comes from --addr or TOKENAUTHORITY_ADDR (default
127.0.0.1:50051); the service credential from --credential,
--credential-file (such as the server's data/admin.credential) or
TOKENAUTHORITY_CREDENTIAL. --tls-ca (TOKENAUTHORITY_TLS_CA) makes tokenctl
speak TLS; --tls-cert and --tls-key (TOKENAUTHORITY_TLS_CERT, _KEY) add a
client certificate, which replaces the credential when the server binds one
to it.`,
		Version:       buildinfo.Read().String(),
		SilenceErrors: true,
		SilenceUsage:  true,
		// Flag errors are usage errors: exit code 2, like a bad argument.
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return a.opts.check() },
	}
	root.SetIn(a.env.Stdin)
	root.SetOut(a.env.Stdout)
	root.SetErr(a.env.Stderr)
	root.SetVersionTemplate("tokenctl {{.Version}}\n")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err.Error()) })
	a.opts.register(root, a.env.Getenv)
	root.AddCommand(
		a.workspaceCmd(),
		a.memberCmd(),
		a.zooCmd(),
		a.tokenCmd(),
		a.accessCmd(),
		a.auditCmd(),
		a.backupCmd(),
	)
	root.InitDefaultCompletionCmd()
	return root
}

// group is a command that only holds subcommands.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{Use: use, Short: short, Args: cobra.NoArgs}
	c.RunE = func(cmd *cobra.Command, args []string) error {
		return usageError("missing subcommand; see " + cmd.CommandPath() + " --help")
	}
	c.AddCommand(subs...)
	return c
}

// ctx is the context of one RPC: the command's, bounded by --timeout.
func (a *app) ctx(cmd *cobra.Command) (context.Context, context.CancelFunc) {
	return context.WithTimeout(cmd.Context(), a.opts.timeout)
}

// call runs one step of a command with its own --timeout, so that time spent
// at a confirmation prompt does not count against the next call.
func (a *app) call(cmd *cobra.Command, step func(ctx context.Context) error) error {
	ctx, cancel := a.ctx(cmd)
	defer cancel()
	return step(ctx)
}
