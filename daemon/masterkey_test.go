package daemon_test

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tokenauthority/daemon"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
	"tokenauthority/seal"
)

// withSecret starts a daemon on cfg, creates a revealable token, and stops.
func withSecret(t *testing.T, cfg daemon.Config) {
	t.Helper()
	d := teststack.RunDaemon(t, cfg)
	conn := d.Conn()
	ctx := d.AsAdmin(t.Context())
	ws, tokens := pb.NewWorkspaceServiceClient(conn), pb.NewTokenServiceClient(conn)
	teststack.Members(t, ctx, ws, "acme", "alice")
	if _, err := tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Stop(); err != nil {
		t.Fatal(err)
	}
}

func otherKey(t *testing.T) string {
	key := make([]byte, seal.KeySize)
	for i := range key {
		key[i] = byte(i)
	}
	return seal.FormatKey(key)
}

// TestStartRefusesWrongMasterKey: a store whose secrets were sealed with one
// key does not start with another, whichever way the key is given, and
// starts again with the original.
func TestStartRefusesWrongMasterKey(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	withSecret(t, cfg)
	keyFile := filepath.Join(cfg.DataDir, "master.key")
	original, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}

	byEnv := cfg
	byEnv.MasterKey = otherKey(t)
	if err := teststack.StartError(t, byEnv); !errors.Is(err, daemon.ErrWrongMasterKey) {
		t.Errorf("Start with another key by variable = %v; want ErrWrongMasterKey", err)
	}
	if err := os.WriteFile(keyFile, []byte(otherKey(t)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := teststack.StartError(t, cfg); !errors.Is(err, daemon.ErrWrongMasterKey) || !strings.Contains(err.Error(), keyFile) {
		t.Errorf("Start with another key file = %v; want ErrWrongMasterKey naming %s", err, keyFile)
	}
	if err := os.WriteFile(keyFile, original, 0o600); err != nil {
		t.Fatal(err)
	}
	// The original key starts it again (RunDaemon fails the test if not).
	teststack.RunDaemon(t, cfg)
}

// TestStartRefusesMissingKeyForSealedStore: with the key file gone, a store
// holding sealed secrets does not start, and no new key is created.
func TestStartRefusesMissingKeyForSealedStore(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	withSecret(t, cfg)
	keyFile := filepath.Join(cfg.DataDir, "master.key")
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	if err := teststack.StartError(t, cfg); !errors.Is(err, daemon.ErrMasterKeyMissing) || !strings.Contains(err.Error(), keyFile) {
		t.Errorf("Start without the key file = %v; want ErrMasterKeyMissing naming %s", err, keyFile)
	}
	if _, err := os.Stat(keyFile); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a key file was created over a store of sealed secrets: %v", err)
	}
}

// TestStartWithNewKeyForStoreWithoutSecrets: a store that holds no sealed
// secret (here: only workspaces) may get a new key.
func TestStartWithNewKeyForStoreWithoutSecrets(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	d := teststack.RunDaemon(t, cfg)
	if _, err := pb.NewWorkspaceServiceClient(d.Conn()).CreateWorkspace(d.AsAdmin(t.Context()), &pb.CreateWorkspaceRequest{WorkspaceId: "acme"}); err != nil {
		t.Fatal(err)
	}
	if err := d.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(cfg.DataDir, "master.key")); err != nil {
		t.Fatal(err)
	}
	// A store without secrets and without a key file starts with a new key.
	if err := teststack.RunDaemon(t, cfg).Stop(); err != nil {
		t.Fatal(err)
	}
	// The new key is now the store's: another one is refused.
	cfg.MasterKey = otherKey(t)
	if err := teststack.StartError(t, cfg); !errors.Is(err, daemon.ErrWrongMasterKey) {
		t.Errorf("Start with a key other than the new one = %v; want ErrWrongMasterKey", err)
	}
}

// TestMasterKeyFlagWarns: a key on the command line works but is warned
// about; the same key in the environment is not.
func TestMasterKeyFlagWarns(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "data")
	key := otherKey(t)
	for _, tc := range []struct {
		name string
		args []string
		env  map[string]string
		warn bool
	}{
		{"flag", []string{"--master-key", key}, nil, true},
		{"environment", nil, map[string]string{"TOKENAUTHORITY_MASTER_KEY": key}, false},
	} {
		args := append([]string{"--data-dir", dir, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"}, tc.args...)
		cfg, err := daemon.ParseConfig(args, func(k string) string { return tc.env[k] }, nil)
		if err != nil {
			t.Fatal(err)
		}
		logs := &teststack.Logs{}
		// Both cases share the data directory: stop before the next.
		if err := teststack.RunDaemonLogged(t, cfg, slog.New(slog.NewTextHandler(logs, nil))).Stop(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		warned := strings.Contains(logs.String(), "level=WARN") && strings.Contains(logs.String(), "TOKENAUTHORITY_MASTER_KEY")
		if warned != tc.warn {
			t.Errorf("%s: warned = %v; want %v\n%s", tc.name, warned, tc.warn, logs)
		}
		if strings.Contains(logs.String(), key) {
			t.Errorf("%s: the log holds the key", tc.name)
		}
	}
}

// TestWarnsAboutSharedStore: a data directory or store file others can read
// is warned about at start.
func TestWarnsAboutSharedStore(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	if err := teststack.RunDaemon(t, cfg).Stop(); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		path string
		mode os.FileMode
	}{{cfg.DataDir, 0o755}, {cfg.DBPath(), 0o644}} {
		if err := os.Chmod(p.path, p.mode); err != nil {
			t.Fatal(err)
		}
	}
	logs := &teststack.Logs{}
	teststack.RunDaemonLogged(t, cfg, logs.Logger())
	for _, what := range []string{"data directory is open to other users", "store file is open to other users"} {
		if !strings.Contains(logs.String(), what) {
			t.Errorf("no warning %q at start:\n%s", what, logs)
		}
	}
}
