package daemon_test

import (
	"errors"
	"flag"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"tokenauthority/daemon"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/internal/teststack"
)

// TestStateSurvivesRestart creates state, stops the daemon, starts a new one
// on the same data directory and finds everything again.
func TestStateSurvivesRestart(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	d1 := teststack.RunDaemon(t, cfg)
	conn := d1.Conn()
	ctx := d1.AsAdmin(t.Context())
	ws, tokens := pb.NewWorkspaceServiceClient(conn), pb.NewTokenServiceClient(conn)
	teststack.Members(t, ctx, ws, "acme", "alice")
	if _, err := ws.CreateZoo(ctx, &pb.CreateZooRequest{WorkspaceId: "acme", ZooId: "detectors", Visibility: pb.Visibility_VISIBILITY_PRIVATE}); err != nil {
		t.Fatal(err)
	}
	created, err := tokens.CreateToken(ctx, &pb.CreateTokenRequest{WorkspaceId: "acme", UserId: "alice", Description: "laptop"})
	if err != nil {
		t.Fatal(err)
	}
	if err := d1.Shutdown(t.Context()); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}

	conn = teststack.RunDaemon(t, cfg).Conn()
	ctx = d1.AsAdmin(t.Context())
	tokens = pb.NewTokenServiceClient(conn)
	v, err := tokens.ValidateToken(ctx, &pb.ValidateTokenRequest{Secret: created.GetSecret()})
	if err != nil || !v.GetValid() {
		t.Fatalf("ValidateToken after restart = %v, %v; want valid", v, err)
	}
	r, err := tokens.RevealToken(ctx, &pb.RevealTokenRequest{WorkspaceId: "acme", TokenId: created.GetToken().GetTokenId()})
	if err != nil || r.GetSecret() != created.GetSecret() {
		t.Fatalf("RevealToken after restart: %v; want the original secret (master key kept)", err)
	}
	a, err := tokens.CheckAccess(ctx, &pb.CheckAccessRequest{Secret: created.GetSecret(), Zoo: "acme/detectors", Operation: pb.Operation_OPERATION_CLOUD_INFERENCE})
	if err != nil || !a.GetAllowed() {
		t.Fatalf("CheckAccess after restart = %v, %v; want allowed", a, err)
	}
	h, err := healthpb.NewHealthClient(conn).Check(t.Context(), &healthpb.HealthCheckRequest{})
	if err != nil || h.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Errorf("health = %v, %v; want SERVING", h, err)
	}
}

func TestBootstrapFiles(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	teststack.RunDaemon(t, cfg)
	for _, name := range []string{"admin.credential", "master.key", "tokenauthority.db"} {
		info, err := os.Stat(filepath.Join(cfg.DataDir, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if perm := info.Mode().Perm(); perm&0o077 != 0 {
			t.Errorf("%s has mode %v; want no access for group or others", name, perm)
		}
	}
}

func TestSecondDaemonOnSameDataDirFails(t *testing.T) {
	t.Parallel()
	cfg := teststack.DaemonConfig(t)
	teststack.RunDaemon(t, cfg)
	// Other ports, same directory: the store's lock is what refuses it.
	var logs strings.Builder
	err := teststack.StartErrorLogged(t, cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if want := "another tokenauthority is using " + cfg.DataDir; err.Error() != want {
		t.Errorf("second daemon: %q; want %q", err, want)
	}
	if logs.Len() != 0 {
		t.Errorf("second daemon logged before failing:\n%s", logs.String())
	}
}

// TestTakenPortWritesNothing starts on a fresh directory whose HTTP port is
// taken: the start fails before any file is created.
func TestTakenPortWritesNothing(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	cfg := teststack.DaemonConfig(t)
	cfg.HTTPAddr = l.Addr().String()
	if err := teststack.StartError(t, cfg); !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("err = %v; want address already in use", err)
	}
	if _, err := os.Stat(cfg.DataDir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("data directory after a failed start: %v; want it not created", err)
	}
}

func TestUsageNamesEnvironmentVariables(t *testing.T) {
	t.Parallel()
	var usage strings.Builder
	if _, err := daemon.ParseConfig([]string{"--help"}, func(string) string { return "" }, &usage); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("--help: %v; want flag.ErrHelp", err)
	}
	for _, want := range []string{"$TOKENAUTHORITY_DATA_DIR", "$TOKENAUTHORITY_GRPC_ADDR", "$TOKENAUTHORITY_CREDENTIALS_FILE", "-version"} {
		if !strings.Contains(usage.String(), want) {
			t.Errorf("--help does not mention %s:\n%s", want, usage.String())
		}
	}
	cfg, err := daemon.ParseConfig([]string{"--version"}, func(string) string { return "" }, &usage)
	if err != nil || !cfg.Version {
		t.Errorf("--version: %+v, %v; want Version set", cfg, err)
	}
}

func TestParseConfig(t *testing.T) {
	t.Parallel()
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		check   func(daemon.Config) bool
		wantErr string
	}{
		{"defaults", nil, nil, func(c daemon.Config) bool {
			return c.DataDir == "./data" && c.GRPCAddr == "127.0.0.1:50051" && c.HTTPAddr == "127.0.0.1:8080" && c.Reveal && c.Retention == 720*time.Hour
		}, ""},
		{"retention from env", nil, map[string]string{"TOKENAUTHORITY_RETENTION": "0"}, func(c daemon.Config) bool { return c.Retention == 0 }, ""},
		{"retention flag", []string{"--retention", "24h"}, nil, func(c daemon.Config) bool { return c.Retention == 24*time.Hour }, ""},
		{"negative retention", []string{"--retention", "-1h"}, nil, nil, "negative"},
		{"audit retention keeps all by default", nil, nil, func(c daemon.Config) bool { return c.AuditRetention == 0 }, ""},
		{"audit retention from env", nil, map[string]string{"TOKENAUTHORITY_AUDIT_RETENTION": "2160h"}, func(c daemon.Config) bool { return c.AuditRetention == 2160*time.Hour }, ""},
		{"audit retention flag", []string{"--audit-retention", "720h"}, nil, func(c daemon.Config) bool { return c.AuditRetention == 720*time.Hour }, ""},
		{"negative audit retention", []string{"--audit-retention", "-1h"}, nil, nil, "negative"},
		{"env", nil, map[string]string{"TOKENAUTHORITY_DATA_DIR": "/srv/ta", "TOKENAUTHORITY_REVEAL": "false", "TOKENAUTHORITY_MAX_TOKEN_LIFETIME": "720h"},
			func(c daemon.Config) bool {
				return c.DataDir == "/srv/ta" && !c.Reveal && c.MaxTokenLifetime == 720*time.Hour
			}, ""},
		{"flag beats env", []string{"--grpc-addr", "127.0.0.1:1"}, map[string]string{"TOKENAUTHORITY_GRPC_ADDR": "127.0.0.1:2"},
			func(c daemon.Config) bool { return c.GRPCAddr == "127.0.0.1:1" }, ""},
		{"bad env", nil, map[string]string{"TOKENAUTHORITY_SEED_TTL": "soon"}, nil, "TOKENAUTHORITY_SEED_TTL"},
		{"bad log format", []string{"--log-format", "xml"}, nil, nil, "log-format"},
		{"negative duration", []string{"--refresh-grace", "-1s"}, nil, nil, "negative"},
		{"grace over 7 days", []string{"--refresh-grace", "169h"}, nil, nil, "at most"},
		{"refresh reuse interval by default", nil, nil, func(c daemon.Config) bool { return c.RefreshReuseInterval == 30*time.Second }, ""},
		{"refresh reuse interval from env, 0 disables", nil, map[string]string{"TOKENAUTHORITY_REFRESH_REUSE_INTERVAL": "0"},
			func(c daemon.Config) bool { return c.RefreshReuseInterval == 0 }, ""},
		{"negative refresh reuse interval", []string{"--refresh-reuse-interval", "-1s"}, nil, nil, "negative"},
		{"refresh reuse interval over the grace", []string{"--refresh-grace", "1m", "--refresh-reuse-interval", "61s"}, nil, nil, "refresh-reuse-interval"},
		{"bad refresh reuse interval", []string{"--refresh-reuse-interval", "soon"}, nil, nil, "refresh-reuse-interval"},
		{"stray argument", []string{"serve"}, nil, nil, "unexpected argument"},
		{"page and member mode", []string{"--ui=false", "--trusted-user-header", "X-Forwarded-User"}, map[string]string{"TOKENAUTHORITY_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7"},
			func(c daemon.Config) bool {
				return !c.UI && c.TrustedUserHeader == "X-Forwarded-User" && c.TrustedProxies == "10.0.0.0/8, 192.0.2.7"
			}, ""},
		{"page on by default", nil, nil, func(c daemon.Config) bool { return c.UI && c.TrustedUserHeader == "" }, ""},
		{"bad trusted proxies", []string{"--trusted-proxies", "10.0.0.0/33"}, nil, nil, "trusted-proxies"},
		{"member mode needs its proxies", []string{"--trusted-user-header", "X-Forwarded-User"}, nil, nil, "needs --trusted-proxies"},
		{"allowed origins", []string{"--trusted-user-header", "X-Forwarded-User", "--trusted-proxies", "127.0.0.1"}, map[string]string{"TOKENAUTHORITY_ALLOWED_ORIGINS": "https://hub.example.com, http://hub.test:8080"},
			func(c daemon.Config) bool { return c.AllowedOrigins == "https://hub.example.com, http://hub.test:8080" }, ""},
		{"bad allowed origin", []string{"--allowed-origins", "https://hub.example.com/ui/"}, nil, nil, "allowed-origins"},
		{"bbolt store by default", nil, nil, func(c daemon.Config) bool {
			return c.Store == "bbolt" && c.Etcd.Prefix == "/tokenauthority/" && c.Etcd.MaxStaleness == 2*time.Second
		}, ""},
		{"etcd store", []string{"--store", "etcd", "--etcd-endpoints", "https://10.0.0.1:2379, https://10.0.0.2:2379", "--etcd-ca", "ca.pem", "--etcd-cert", "c.pem", "--etcd-key", "k.pem"},
			map[string]string{"TOKENAUTHORITY_ETCD_PREFIX": "/hub-a/", "TOKENAUTHORITY_ETCD_USERNAME": "ta", "TOKENAUTHORITY_ETCD_PASSWORD_FILE": "pw", "TOKENAUTHORITY_MAX_STALENESS": "500ms"},
			func(c daemon.Config) bool {
				e := c.Etcd
				return c.Store == "etcd" && len(e.Endpoints) == 2 && e.Endpoints[1] == "https://10.0.0.2:2379" && e.Prefix == "/hub-a/" &&
					e.CA == "ca.pem" && e.Cert == "c.pem" && e.Key == "k.pem" && e.Username == "ta" && e.PasswordFile == "pw" && e.MaxStaleness == 500*time.Millisecond
			}, ""},
		{"unknown store", []string{"--store", "postgres"}, nil, nil, "--store"},
		{"etcd without endpoints", []string{"--store", "etcd"}, nil, nil, "--etcd-endpoints"},
		{"etcd prefix without slash", []string{"--store", "etcd", "--etcd-endpoints", "http://127.0.0.1:2379", "--etcd-prefix", "ta"}, nil, nil, "--etcd-prefix"},
		{"etcd cert without key", []string{"--store", "etcd", "--etcd-endpoints", "http://127.0.0.1:2379", "--etcd-cert", "c.pem"}, nil, nil, "--etcd-key"},
		{"etcd user without password", []string{"--store", "etcd", "--etcd-endpoints", "http://127.0.0.1:2379", "--etcd-username", "ta"}, nil, nil, "--etcd-password-file"},
		{"negative staleness", []string{"--store", "etcd", "--etcd-endpoints", "http://127.0.0.1:2379", "--max-staleness", "-1s"}, nil, nil, "--max-staleness"},
		{"etcd TLS on a plain endpoint", []string{"--store", "etcd", "--etcd-endpoints", "http://10.0.0.1:2379,http://10.0.0.2:2379", "--etcd-ca", "ca.pem"}, nil, nil, "http://10.0.0.1:2379 is plain http"},
		{"etcd endpoints of mixed schemes", []string{"--store", "etcd", "--etcd-endpoints", "https://10.0.0.1:2379,http://10.0.0.2:2379"}, nil, nil, "mixes https://10.0.0.1:2379 and http://10.0.0.2:2379"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var usage strings.Builder
			cfg, err := daemon.ParseConfig(tc.args, env(tc.env), &usage)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("err = %v; want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !tc.check(cfg) {
				t.Errorf("ParseConfig = %+v, %v", cfg, err)
			}
		})
	}
}
