package tlsconfig

import (
	"crypto/tls"
	"errors"
	"fmt"
)

// Environment variables naming the client's TLS files, for command-line
// clients; flags (--tls-ca, --tls-cert, --tls-key) should win over them.
const (
	EnvCA   = "TOKENAUTHORITY_TLS_CA"
	EnvCert = "TOKENAUTHORITY_TLS_CERT"
	EnvKey  = "TOKENAUTHORITY_TLS_KEY"
)

// ClientFiles names the PEM files of a client.
type ClientFiles struct {
	// CAFile holds the CAs that sign the server's certificate; empty means
	// the system's roots.
	CAFile string
	// CertFile and KeyFile hold the client's certificate and key for
	// mutual TLS; both or neither.
	CertFile, KeyFile string
}

// ClientFilesFromEnv reads ClientFiles from EnvCA, EnvCert and EnvKey
// through getenv (os.Getenv in a real program).
func ClientFilesFromEnv(getenv func(string) string) ClientFiles {
	return ClientFiles{CAFile: getenv(EnvCA), CertFile: getenv(EnvCert), KeyFile: getenv(EnvKey)}
}

// IsZero reports whether no file is named: the client speaks plaintext
// unless it asks for TLS with the system roots otherwise.
func (f ClientFiles) IsZero() bool { return f == ClientFiles{} }

// Client returns the TLS configuration of a client. The server name is left
// for the transport to fill from the address dialed (grpc-go and net/http
// both do).
func Client(files ClientFiles) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if files.CAFile != "" {
		pool, err := loadPool(files.CAFile)
		if err != nil {
			return nil, fmt.Errorf("TLS CA: %w", err)
		}
		cfg.RootCAs = pool
	}
	switch {
	case files.CertFile == "" && files.KeyFile == "":
	case files.CertFile == "" || files.KeyFile == "":
		return nil, errors.New("a client certificate needs both a certificate file and a key file")
	default:
		cert, err := loadKeyPair(files.CertFile, files.KeyFile)
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{*cert}
	}
	return cfg, nil
}
