package credential

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"tokenauthority/secretfile"
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
	h := Set{byHash: map[[32]byte]Entry{}, n: 1}
	h.byHash[hashOf(secret)] = Entry{Name: BootstrapName, Role: RoleAdmin}
	return &h, path, created, nil
}

// maxBootstrapFile bounds what readBootstrap reads; the file is one line of
// about 50 bytes.
const maxBootstrapFile = 1024

func readBootstrap(path string) (string, error) {
	data, err := secretfile.Read(path, maxBootstrapFile)
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
	if err := secretfile.CreateBytes(path, []byte(secret+"\n")); err != nil {
		return "", fmt.Errorf("create %s: %w", path, err)
	}
	return secret, nil
}
