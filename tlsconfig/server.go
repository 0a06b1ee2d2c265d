package tlsconfig

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"

	"tokenauthority/secretfile"
)

// ErrNoCertificates is returned for a CA file that holds no PEM certificate.
var ErrNoCertificates = errors.New("no PEM certificates found")

// maxPEMFile bounds what is read of a certificate or key file.
const maxPEMFile = 1 << 20

// ServerFiles names the PEM files of a TLS listener.
type ServerFiles struct {
	// CertFile and KeyFile hold the server's certificate chain and private
	// key. Both are required.
	CertFile, KeyFile string
	// ClientCAFile, when set, holds the CAs that sign client certificates;
	// every client must then present a certificate they signed.
	ClientCAFile string
}

// Server returns a TLS configuration for a listener. The certificate is
// loaded now, so a bad file fails at start, and re-loaded when either file
// changes.
func Server(files ServerFiles) (*tls.Config, error) {
	if files.CertFile == "" || files.KeyFile == "" {
		return nil, errors.New("a TLS certificate needs both a certificate file and a key file")
	}
	r := &reloader{certFile: files.CertFile, keyFile: files.KeyFile}
	if _, err := r.load(); err != nil {
		return nil, err
	}
	cfg := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.getCertificate,
	}
	if files.ClientCAFile != "" {
		pool, err := loadPool(files.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("client CA: %w", err)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// reloader serves a certificate and re-reads it when its files change.
type reloader struct {
	certFile, keyFile string

	mu    sync.Mutex
	cert  *tls.Certificate
	stamp [2]fileStamp
}

// fileStamp is what tells that a file changed.
type fileStamp struct {
	mod  time.Time
	size int64
}

func stampOf(path string) (fileStamp, error) {
	info, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{mod: info.ModTime(), size: info.Size()}, nil
}

// getCertificate is tls.Config.GetCertificate: the current certificate,
// re-read first when a file changed. A failed re-read keeps the previous
// certificate, so a rotation caught halfway does not break the listener.
func (r *reloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	_, _ = r.loadLocked()
	return r.cert, nil
}

func (r *reloader) load() (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.loadLocked()
}

func (r *reloader) loadLocked() (*tls.Certificate, error) {
	var stamp [2]fileStamp
	for i, p := range []string{r.certFile, r.keyFile} {
		s, err := stampOf(p)
		if err != nil {
			return nil, err
		}
		stamp[i] = s
	}
	if r.cert != nil && stamp == r.stamp {
		return r.cert, nil
	}
	cert, err := loadKeyPair(r.certFile, r.keyFile)
	if err != nil {
		return nil, err
	}
	r.cert, r.stamp = cert, stamp
	return cert, nil
}

// loadKeyPair reads a certificate chain and its private key; the key file
// must be private (see secretfile.Read).
func loadKeyPair(certFile, keyFile string) (*tls.Certificate, error) {
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, fmt.Errorf("TLS certificate: %w", err)
	}
	keyPEM, err := secretfile.Read(keyFile, maxPEMFile)
	if err != nil {
		return nil, fmt.Errorf("TLS key: %w", err)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		// The standard library's message names no secret, only what is wrong.
		return nil, fmt.Errorf("TLS key pair %s, %s: %w", certFile, keyFile, err)
	}
	return &cert, nil
}

// loadPool reads a PEM file of CA certificates.
func loadPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(data) {
		return nil, fmt.Errorf("%s: %w", path, ErrNoCertificates)
	}
	return pool, nil
}
