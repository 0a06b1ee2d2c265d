package credential

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// BootstrapFile is the name, inside the data directory, of the file that
// holds the bootstrap admin credential.
const BootstrapFile = "admin.credential"

// BootstrapName is the name the bootstrap credential has in logs.
const BootstrapName = "bootstrap-admin"

// Bootstrap returns a set holding the admin credential stored in
// dataDir/admin.credential, creating that file (mode 0600, one line: the
// secret) when it does not exist yet. created tells whether it was created.
// The file is fsynced, with its directory, before Bootstrap returns, so a
// credential that was handed out survives a crash.
func Bootstrap(dataDir string) (set *Set, path string, created bool, err error) {
	path = filepath.Join(dataDir, BootstrapFile)
	secret, err := readBootstrap(path)
	if errors.Is(err, fs.ErrNotExist) {
		secret, err = writeBootstrap(path)
		created = err == nil
	}
	if err != nil {
		return nil, path, false, err
	}
	h := Set{byHash: map[[32]byte]Entry{}}
	h.byHash[hashOf(secret)] = Entry{Name: BootstrapName, Role: RoleAdmin}
	return &h, path, created, nil
}

func readBootstrap(path string) (string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("%s: mode %v lets other users read the admin credential; chmod 600 it", path, info.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	secret := strings.TrimSpace(string(data))
	if secret == "" || strings.ContainsAny(secret, " \t\r\n") {
		return "", fmt.Errorf("%s: expected one line holding the credential", path)
	}
	return secret, nil
}

func writeBootstrap(path string) (string, error) {
	secret, err := NewSecret()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create data directory: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", path, err)
	}
	_, werr := f.WriteString(secret + "\n")
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(path)
		return "", fmt.Errorf("write %s: %w", path, werr)
	}
	if err := syncDir(filepath.Dir(path)); err != nil {
		return "", err
	}
	return secret, nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", dir, err)
	}
	return nil
}
