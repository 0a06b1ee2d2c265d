package daemon_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"

	"tokenauthority/credential"
	"tokenauthority/daemon"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
	"tokenauthority/storage/bbolt"
)

// acked is a write the server acknowledged.
type acked struct {
	id, secret string
	revoked    bool
}

// TestBackupUnderLoadRestores takes a backup over HTTP, and
// TestBackupStreamUnderLoadRestores one over gRPC (AdminService.Backup),
// while writers create and revoke tokens, restores it into a new data
// directory, and finds every write acknowledged before the backup began:
// each token there, validating as it should, and revealable with the same
// master key.
func TestBackupUnderLoadRestores(t *testing.T) {
	t.Parallel()
	backupUnderLoad(t, func(t *testing.T, d *daemon.Daemon, _ *grpc.ClientConn, secret, path string) {
		status, body := getBackup(t, "http://"+d.HTTPAddr.String(), secret, path)
		if status != http.StatusOK {
			t.Fatalf("GET /v1/admin/backup = %d %s", status, body)
		}
	})
}

func TestBackupStreamUnderLoadRestores(t *testing.T) {
	t.Parallel()
	backupUnderLoad(t, func(t *testing.T, _ *daemon.Daemon, conn *grpc.ClientConn, secret, path string) {
		ctx := metadata.AppendToOutgoingContext(t.Context(), "authorization", "Bearer "+secret)
		stream, err := pb.NewAdminServiceClient(conn).Backup(ctx, &pb.BackupRequest{})
		if err != nil {
			t.Fatalf("Backup: %v", err)
		}
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		chunks := 0
		for {
			c, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("Backup after %d chunks: %v", chunks, err)
			}
			if len(c.GetData()) == 0 || len(c.GetData()) > 256<<10 {
				t.Fatalf("chunk %d holds %d bytes; want 1 to 256 KiB", chunks, len(c.GetData()))
			}
			if _, err := f.Write(c.GetData()); err != nil {
				t.Fatal(err)
			}
			chunks++
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
		t.Logf("backup streamed in %d chunks", chunks)
	})
}

// backupUnderLoad is the load, the check and the restore around take, which
// writes a backup to path with the admin credential secret.
func backupUnderLoad(t *testing.T, take func(t *testing.T, d *daemon.Daemon, conn *grpc.ClientConn, secret, path string)) {
	cfg := teststack.DaemonConfig(t)
	d := teststack.RunDaemon(t, cfg)
	conn := d.Conn()
	ctx := d.AsAdmin(t.Context())
	ws, tokens := pb.NewWorkspaceServiceClient(conn), pb.NewTokenServiceClient(conn)
	teststack.Members(t, ctx, ws, "acme", "alice")

	var (
		mu   sync.Mutex
		acks []acked
	)
	loadCtx, stopLoad := context.WithCancel(ctx)
	var wg sync.WaitGroup
	errc := make(chan error, 8)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; loadCtx.Err() == nil; i++ {
				c, err := tokens.CreateToken(loadCtx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Description: "load"})
				if err != nil {
					if loadCtx.Err() == nil {
						errc <- err
					}
					return
				}
				a := acked{id: c.GetToken().GetTokenId(), secret: c.GetSecret()}
				mu.Lock()
				acks = append(acks, a)
				mu.Unlock()
				if i%3 == 0 {
					if _, err := tokens.RevokeToken(loadCtx, &pb.RevokeTokenRequest{WorkspaceId: "acme", TokenId: a.id}); err != nil {
						if loadCtx.Err() == nil {
							errc <- err
						}
						return
					}
					mu.Lock()
					acks = append(acks, acked{id: a.id, secret: a.secret, revoked: true})
					mu.Unlock()
				}
			}
		}()
	}
	// ackedMore waits until more than n writes are acknowledged (the load
	// runs for as long as a busy machine needs to reach that), at most
	// 30s.
	ackedMore := func(n int) {
		t.Helper()
		teststack.Eventually(t, 30*time.Second, func() error {
			mu.Lock()
			got := len(acks)
			mu.Unlock()
			if got > n {
				return nil
			}
			return fmt.Errorf("load too light to prove anything: %d writes acknowledged, want more than %d", got, n)
		})
	}
	ackedMore(50)

	// Everything acknowledged up to here must be in the backup.
	mu.Lock()
	before := append([]acked(nil), acks...)
	mu.Unlock()
	backup := filepath.Join(t.TempDir(), "backup.db")
	take(t, d.Daemon, conn, d.Admin, backup)
	ackedMore(len(before) + 20) // writes keep going after the snapshot
	stopLoad()
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Errorf("write under load: %v", err)
	}
	mu.Lock()
	total := len(acks)
	mu.Unlock()
	if len(before) < 50 || total <= len(before) {
		t.Fatalf("load too light to prove anything: %d writes before the backup, %d in all", len(before), total)
	}
	t.Logf("writes acknowledged before the backup: %d; in all: %d", len(before), total)

	// Restoring into the live data directory is refused.
	var out strings.Builder
	if err := daemon.Restore([]string{"--from", backup, "--data-dir", cfg.DataDir}, os.Getenv, &out); !errors.Is(err, fs.ErrExist) {
		t.Errorf("restore into the live data directory = %v; want fs.ErrExist", err)
	}

	restored := teststack.DaemonConfig(t)
	restored.MasterKeyFile = filepath.Join(cfg.DataDir, "master.key")
	if err := daemon.Restore([]string{"--from", backup, "--data-dir", restored.DataDir}, os.Getenv, &out); err != nil {
		t.Fatalf("restore: %v\n%s", err, out.String())
	}
	conn2 := teststack.RunDaemon(t, restored).Conn()
	ctx2 := teststack.As(t.Context(), teststack.ReadAdmin(t, restored.DataDir))
	tokens2 := pb.NewTokenServiceClient(conn2)
	revoked := map[string]bool{}
	for _, a := range before {
		if a.revoked {
			revoked[a.id] = true
		}
	}
	checked := 0
	for _, a := range before {
		if a.revoked {
			continue
		}
		v, err := tokens2.ValidateToken(ctx2, &pb.ValidateTokenRequest{Secret: a.secret})
		if err != nil {
			t.Fatalf("ValidateToken in the restored store: %v", err)
		}
		switch {
		case revoked[a.id] && v.GetReason() != pb.Reason_REASON_REVOKED:
			t.Errorf("token %s was revoked before the backup; restored it answers %v", a.id, v.GetReason())
		case !revoked[a.id] && !v.GetValid() && v.GetReason() != pb.Reason_REASON_REVOKED:
			// Revoked after the backup began may or may not be in it; never
			// missing.
			t.Errorf("token %s acknowledged before the backup: restored it answers %v", a.id, v.GetReason())
		}
		checked++
	}
	// A token live at backup time reveals: the sealed copy opens with the
	// original master key.
	for _, a := range before {
		if a.revoked || revoked[a.id] {
			continue
		}
		r, err := tokens2.RevealToken(ctx2, &pb.RevealTokenRequest{WorkspaceId: "acme", TokenId: a.id})
		if err != nil || r.GetSecret() != a.secret {
			t.Errorf("RevealToken in the restored store = %v; want the original secret", err)
		}
		break
	}
	t.Logf("validated %d tokens (%d revoked before the backup) in the restored store", checked, len(revoked))
}

// TestBackupNeedsAdmin: the backup goes through the access table like every
// RPC: no or a wrong credential is 401, a validator 403, an admin 200.
func TestBackupNeedsAdmin(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	dir := t.TempDir()
	cfg.CredentialsFile = filepath.Join(dir, "credentials.json")
	body := `{"credentials":[{"name":"ops","role":"admin","sha256":"` + credential.HashHex("tkas_ops") + `"},
		{"name":"gw","role":"validator","sha256":"` + credential.HashHex("tkas_gw") + `"}]}`
	if err := os.WriteFile(cfg.CredentialsFile, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	d := teststack.RunDaemon(t, cfg)
	for _, tc := range []struct {
		name, cred string
		want       int
	}{
		{"none", "", http.StatusUnauthorized},
		{"wrong", "tkas_wrong", http.StatusUnauthorized},
		{"validator", "tkas_gw", http.StatusForbidden},
		{"admin", "tkas_ops", http.StatusOK},
	} {
		path := filepath.Join(dir, tc.name+".db")
		status, body := getBackup(t, "http://"+d.HTTPAddr.String(), tc.cred, path)
		if status != tc.want {
			t.Errorf("backup as %s = %d %s; want %d", tc.name, status, body, tc.want)
			continue
		}
		if tc.want == http.StatusOK {
			if err := bbolt.VerifyFile(path); err != nil {
				t.Errorf("the admin's backup is not a store: %v", err)
			}
			continue
		}
		var m map[string]any
		if json.Unmarshal([]byte(body), &m) != nil || m["detail"] == "" || m["detail"] == nil {
			t.Errorf("backup as %s: body %s; want a JSON error with detail", tc.name, body)
		}
	}
}

// getBackup downloads a backup into path, returning the status and, for an
// error, the body.
func getBackup(t *testing.T, base, cred, path string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, base+"/v1/admin/backup", nil)
	if err != nil {
		t.Fatal(err)
	}
	if cred != "" {
		req.Header.Set("Authorization", "Bearer "+cred)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET /v1/admin/backup: %v", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		t.Fatalf("download backup: %v", err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, ""
}
