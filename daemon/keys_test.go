package daemon_test

import (
	"bytes"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"google.golang.org/grpc"

	"tokenauthority/daemon"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
	"tokenauthority/seal"
)

// runKeys runs "tokenauthority keys args..." on cfg's data directory and
// returns what it printed.
func runKeys(t *testing.T, cfg daemon.Config, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	args = append(args, "--data-dir", cfg.DataDir)
	err := daemon.RunKeys(t.Context(), args, func(string) string { return "" }, &out, &errOut)
	return out.String(), err
}

func mustKeys(t *testing.T, cfg daemon.Config, args ...string) string {
	t.Helper()
	out, err := runKeys(t, cfg, args...)
	if err != nil {
		t.Fatalf("keys %v: %v\n%s", args, err, out)
	}
	return out
}

// secretsByKey reads "keys list" into key id -> number of secrets.
func secretsByKey(t *testing.T, cfg daemon.Config) map[string]string {
	t.Helper()
	got := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^(\d+)\s+(\d+)\s`).FindAllStringSubmatch(mustKeys(t, cfg, "list"), -1) {
		got[m[1]] = m[2]
	}
	return got
}

// tokenSet creates revealable tokens and one parked seed in a daemon, and
// checks later that each still reveals to the same secret.
type tokenSet struct {
	secrets map[string]string // token id -> secret
	seed    string
}

func (ts *tokenSet) create(t *testing.T, conn *grpc.ClientConn, cfg daemon.Config, n int) {
	t.Helper()
	ctx := teststack.As(t.Context(), teststack.ReadAdmin(t, cfg.DataDir))
	tokens := pb.NewTokenServiceClient(conn)
	for range n {
		resp, err := tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		ts.secrets[resp.GetToken().GetTokenId()] = resp.GetSecret()
	}
}

func (ts *tokenSet) check(t *testing.T, conn *grpc.ClientConn, cfg daemon.Config) {
	t.Helper()
	ctx := teststack.As(t.Context(), teststack.ReadAdmin(t, cfg.DataDir))
	tokens := pb.NewTokenServiceClient(conn)
	for id, want := range ts.secrets {
		resp, err := tokens.RevealToken(ctx, &pb.RevealTokenRequest{WorkspaceId: "acme", TokenId: id})
		if err != nil {
			t.Fatalf("RevealToken(%s) = %v", id, err)
		}
		if resp.GetSecret() != want {
			t.Errorf("RevealToken(%s) returned another secret than the one created", id)
		}
	}
}

// TestKeyRotation walks the documented procedure: rotate, restart, reseal,
// retire, twice, revealing every token and picking a parked seed at the
// end; and checks each refusal on the way.
func TestKeyRotation(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	keyFile := filepath.Join(cfg.DataDir, "master.key")
	ringFile := filepath.Join(cfg.DataDir, "master.keys")
	ts := &tokenSet{secrets: map[string]string{}, seed: "qH3kV9_xZ2-mWn8pLr4tYb7cJf1sDg6aUe0oNi5vRkE"}

	d := teststack.RunDaemon(t, cfg)
	conn := d.Conn()
	ws := pb.NewWorkspaceServiceClient(conn)
	ctx := d.AsAdmin(t.Context())
	teststack.Members(t, ctx, ws, "acme", "alice")
	ts.create(t, conn, cfg, 3)
	seeded, err := pb.NewTokenServiceClient(conn).CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Seed: ts.seed})
	if err != nil {
		t.Fatal(err)
	}
	ts.secrets[seeded.GetToken().GetTokenId()] = seeded.GetSecret()
	if _, err := runKeys(t, cfg, "reseal"); err == nil || !strings.Contains(err.Error(), "stop it first") {
		t.Errorf("keys reseal while the server runs = %v; want a refusal saying to stop it", err)
	}
	// rotate only writes the ring file, so it may run while serving.
	if out := mustKeys(t, cfg, "rotate"); !strings.Contains(out, "added key 1") {
		t.Errorf("keys rotate printed %q, want it to name key 1", out)
	}
	if err := d.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	info, err := os.Stat(ringFile)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("ring file after rotate: %v, %v; want mode 0600", info, err)
	}

	// Restarted on the ring {0, 1}: old secrets open, new ones seal under 1.
	d = teststack.RunDaemon(t, cfg)
	conn = d.Conn()
	ts.check(t, conn, cfg)
	ts.create(t, conn, cfg, 2)
	if err := d.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got, want := secretsByKey(t, cfg), map[string]string{"0": "5", "1": "2"}; !maps.Equal(got, want) {
		t.Errorf("keys list = %v, want %v (3 tokens and a seed under key 0, 2 new tokens under key 1)", got, want)
	}

	// Refusals: a key still sealing secrets, the newest key, an unknown id.
	for _, tc := range []struct {
		id   string
		want string
	}{{"0", "still sealed under key 0"}, {"1", "newest key"}, {"9", "not in the ring"}} {
		_, err := runKeys(t, cfg, "retire", "--id", tc.id)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("keys retire --id %s = %v; want a refusal containing %q", tc.id, err, tc.want)
		}
	}
	if _, err := os.Stat(keyFile); err != nil {
		t.Fatalf("a refused retire removed the key file: %v", err)
	}

	if out := mustKeys(t, cfg, "reseal", "--batch", "2"); !strings.Contains(out, "re-sealed 5 of 7 secrets under key 1") {
		t.Errorf("keys reseal printed %q", out)
	}
	if got, want := secretsByKey(t, cfg), map[string]string{"0": "0", "1": "7"}; !maps.Equal(got, want) {
		t.Errorf("keys list after reseal = %v, want %v", got, want)
	}
	mustKeys(t, cfg, "retire", "--id", "0")
	if _, err := os.Stat(keyFile); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("key file after retiring key 0: %v; want it removed", err)
	}

	// A second generation: the ring file alone, rotated from 1 to 2.
	d = teststack.RunDaemon(t, cfg)
	conn = d.Conn()
	ts.check(t, conn, cfg)
	if err := d.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
	mustKeys(t, cfg, "rotate")
	mustKeys(t, cfg, "reseal")
	mustKeys(t, cfg, "retire", "--id", "1")
	ring, err := seal.LoadRingFile(ringFile)
	if err != nil || len(ring) != 1 || ring[2] == nil {
		t.Fatalf("ring file after retiring key 1 = %d keys, %v; want key 2 only", len(ring), err)
	}
	d = teststack.RunDaemon(t, cfg)
	conn = d.Conn()
	ts.check(t, conn, cfg)
	picked, err := pb.NewSelfServiceClient(conn).PickSeedToken(t.Context(), &pb.PickSeedTokenRequest{Seed: ts.seed})
	if err != nil {
		t.Fatalf("PickSeedToken after two rotations = %v", err)
	}
	if picked.GetToken() != seeded.GetSecret() {
		t.Error("the parked seed gave another secret than the one created")
	}
	if err := d.Shutdown(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// TestStartRefusesRingWithoutItsKeys: once a key has sealed secrets in the
// store, a ring without it, or with another key under its id, does not
// start.
func TestStartRefusesRingWithoutItsKeys(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	withSecret(t, cfg)
	mustKeys(t, cfg, "rotate")
	// A start records key 1's check value; from then on key 1 is required.
	if err := teststack.RunDaemon(t, cfg).Stop(); err != nil {
		t.Fatalf("the rotated ring: %v", err)
	}
	ringFile := filepath.Join(cfg.DataDir, "master.keys")
	original, err := os.ReadFile(ringFile)
	if err != nil {
		t.Fatal(err)
	}
	other := "1:" + otherKey(t) + "\n"
	for _, tc := range []struct {
		name    string
		content string // "" removes the file
		want    error
		text    string
	}{
		{name: "ring file removed", want: daemon.ErrMasterKeyMissing, text: "key 1"},
		{name: "another key 1", content: other, want: daemon.ErrWrongMasterKey, text: "key 1 of " + ringFile},
		{name: "key 2 instead of 1", content: "2:" + otherKey(t) + "\n", want: daemon.ErrMasterKeyMissing, text: "key 1"},
	} {
		if tc.content == "" {
			if err := os.Remove(ringFile); err != nil {
				t.Fatal(err)
			}
		} else if err := os.WriteFile(ringFile, []byte(tc.content), 0o600); err != nil {
			t.Fatal(err)
		}
		err := teststack.StartError(t, cfg)
		if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.text) {
			t.Errorf("%s: Start = %v; want %v naming %q", tc.name, err, tc.want, tc.text)
		}
		if err != nil && strings.Contains(err.Error(), strings.TrimSpace(other)[2:10]) {
			t.Errorf("%s: the error holds key material", tc.name)
		}
	}
	if err := os.WriteFile(ringFile, original, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := teststack.RunDaemon(t, cfg).Stop(); err != nil {
		t.Fatalf("the original ring: %v", err)
	}
}

// TestStartRefusesUnreadableRing: a ring file others may read, or that is
// not a ring, stops the start with an error naming it.
func TestStartRefusesUnreadableRing(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	withSecret(t, cfg)
	mustKeys(t, cfg, "rotate")
	ringFile := filepath.Join(cfg.DataDir, "master.keys")
	if err := os.Chmod(ringFile, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := teststack.StartError(t, cfg); !errors.Is(err, seal.ErrKeyFile) || !strings.Contains(err.Error(), ringFile) {
		t.Errorf("Start with a world-readable ring file = %v; want ErrKeyFile naming it", err)
	}
}

func TestKeysCommandErrors(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{args: []string{"spin"}, want: `unknown command "spin"`},
		{args: []string{"retire"}, want: "--id is required"},
		{args: []string{"retire", "--id", "4294967296"}, want: "not a key id"},
		{args: []string{"reseal", "--batch", "0"}, want: "at least 1"},
		{args: []string{"list", "extra"}, want: `unexpected argument "extra"`},
		{args: []string{"list"}, want: "no store"},
	} {
		_, err := runKeys(t, cfg, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("keys %v = %v; want an error containing %q", tc.args, err, tc.want)
		}
	}
	for _, name := range []string{"master.key", "tokenauthority.db"} {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, name)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("a failed keys command created %s: %v", name, err)
		}
	}
	// A store without any key: nothing to list, and no key is created.
	withSecret(t, cfg)
	if err := os.Remove(filepath.Join(cfg.DataDir, "master.key")); err != nil {
		t.Fatal(err)
	}
	if _, err := runKeys(t, cfg, "list"); !errors.Is(err, daemon.ErrMasterKeyMissing) {
		t.Errorf("keys list without any key = %v; want ErrMasterKeyMissing", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "master.key")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("keys list created a key file: %v", err)
	}
	// The highest id is taken: rotate refuses rather than wrap to 0.
	last := []byte("4294967295:" + otherKey(t) + "\n")
	ringFile := filepath.Join(cfg.DataDir, "master.keys")
	if err := os.WriteFile(ringFile, last, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := runKeys(t, cfg, "rotate"); err == nil || !strings.Contains(err.Error(), "exhausted") {
		t.Errorf("keys rotate after id 4294967295 = %v; want a refusal", err)
	}
	if got, err := os.ReadFile(ringFile); err != nil || !bytes.Equal(got, last) {
		t.Errorf("a refused rotate changed the ring file: %v", err)
	}
}
