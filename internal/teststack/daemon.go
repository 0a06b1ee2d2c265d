package teststack

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"tokenauthority/daemon"
)

// Daemon is a tokenauthority daemon started in-process, as the binary
// runs it, on loopback ports chosen by the system.
type Daemon struct {
	*daemon.Daemon
	// Config is what the daemon was started with; start it again on the
	// same data directory with RunDaemon(t, d.Config).
	Config daemon.Config
	// Admin is the bootstrap admin credential the daemon wrote to its data
	// directory; empty when Config names a credentials file.
	Admin string

	t    testing.TB
	once sync.Once
	conn *grpc.ClientConn
}

// DaemonConfig returns the daemon's defaults with a fresh data directory
// and port 0 for both listeners, changed by edits in order.
func DaemonConfig(t testing.TB, edits ...func(*daemon.Config)) daemon.Config {
	t.Helper()
	cfg := daemon.Defaults()
	cfg.DataDir = filepath.Join(t.TempDir(), "data")
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	for _, e := range edits {
		e(&cfg)
	}
	return cfg
}

// StartDaemon starts a daemon on DaemonConfig(t, edits...).
func StartDaemon(t testing.TB, edits ...func(*daemon.Config)) *Daemon {
	t.Helper()
	return RunDaemon(t, DaemonConfig(t, edits...))
}

// RunDaemon starts a daemon on cfg with its log discarded. It is shut
// down, and the shutdown's error reported, when the test ends; a test
// that shuts it down itself gets the same answer again there.
func RunDaemon(t testing.TB, cfg daemon.Config) *Daemon {
	t.Helper()
	return RunDaemonLogged(t, cfg, slog.New(slog.DiscardHandler))
}

// RunDaemonLogged is RunDaemon with the daemon logging to log.
func RunDaemonLogged(t testing.TB, cfg daemon.Config, log *slog.Logger) *Daemon {
	t.Helper()
	// Not t.Context(): the daemon's background work must outlive the
	// test function until the cleanup shuts it down.
	d, err := daemon.Start(context.Background(), cfg, log)
	if err != nil {
		t.Fatalf("start daemon: %v", err)
	}
	td := &Daemon{Daemon: d, Config: cfg, t: t}
	t.Cleanup(func() {
		if td.conn != nil {
			_ = td.conn.Close() // only fails when already closed
		}
		if err := td.Stop(); err != nil {
			t.Errorf("shut down daemon: %v", err)
		}
	})
	if cfg.CredentialsFile == "" {
		td.Admin = ReadAdmin(t, cfg.DataDir)
	}
	return td
}

// StartError starts a daemon on cfg that must not start, and returns why.
func StartError(t testing.TB, cfg daemon.Config) error {
	t.Helper()
	return StartErrorLogged(t, cfg, slog.New(slog.DiscardHandler))
}

// StartErrorLogged is StartError with the daemon logging to log.
func StartErrorLogged(t testing.TB, cfg daemon.Config, log *slog.Logger) error {
	t.Helper()
	d, err := daemon.Start(context.Background(), cfg, log)
	if err == nil {
		if err := d.Shutdown(context.Background()); err != nil {
			t.Errorf("shut down daemon: %v", err)
		}
		t.Fatal("daemon started; want an error")
	}
	return err
}

// Stop shuts the daemon down with ten seconds for in-flight requests.
func (d *Daemon) Stop() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return d.Shutdown(ctx)
}

// URL is the REST listener's base URL, without a trailing slash.
func (d *Daemon) URL() string { return "http://" + d.HTTPAddr.String() }

// AsAdmin returns ctx carrying the admin credential.
func (d *Daemon) AsAdmin(ctx context.Context) context.Context { return As(ctx, d.Admin) }

// Conn is a gRPC connection to the daemon, with no credential attached,
// closed when the test ends.
func (d *Daemon) Conn() *grpc.ClientConn {
	d.once.Do(func() {
		conn, err := grpc.NewClient(d.GRPCAddr.String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			d.t.Fatal(err)
		}
		d.conn = conn
	})
	return d.conn
}

// ReadAdmin reads the bootstrap admin credential a daemon wrote to
// dataDir.
func ReadAdmin(t testing.TB, dataDir string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "admin.credential"))
	if err != nil {
		t.Fatalf("read the bootstrap admin credential: %v", err)
	}
	return strings.TrimSpace(string(b))
}
