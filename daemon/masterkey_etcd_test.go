package daemon_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"tokenauthority/daemon"
	"tokenauthority/internal/etcdtest"
	"tokenauthority/internal/teststack"
)

// TestEtcdMasterKeyErrorsNameTheStore: with --store etcd, a start refused
// for its master key names the etcd prefix and endpoints the secrets are
// in, never a bbolt file that does not exist.
func TestEtcdMasterKeyErrorsNameTheStore(t *testing.T) {
	t.Parallel()
	c := etcdtest.Start(t, etcdtest.Options{})
	cfg := teststack.DaemonConfig(t)
	cfg.Store = "etcd"
	cfg.Etcd.Endpoints = c.Endpoints()
	cfg.Etcd.Prefix = "/masterkey/"
	withSecret(t, cfg)

	wrong := cfg
	wrong.MasterKey = otherKey(t)
	errWrong := teststack.StartError(t, wrong)
	if err := os.Remove(filepath.Join(cfg.DataDir, "master.key")); err != nil {
		t.Fatal(err)
	}
	errMissing := teststack.StartError(t, cfg)
	for _, tt := range []struct {
		name string
		err  error
		want error
	}{
		{"another key", errWrong, daemon.ErrWrongMasterKey},
		{"no key file", errMissing, daemon.ErrMasterKeyMissing},
	} {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: Start = %v; want %v", tt.name, tt.err, tt.want)
			continue
		}
		msg := tt.err.Error()
		if !strings.Contains(msg, "etcd store under prefix /masterkey/ on "+strings.Join(c.Endpoints(), ",")) || strings.Contains(msg, ".db") {
			t.Errorf("%s: Start = %q; want it to name the etcd prefix and endpoints, not a bbolt file", tt.name, msg)
		}
	}
}
