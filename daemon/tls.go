package daemon

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"tokenauthority/tlsconfig"
)

// serverTLS returns the TLS configuration of both listeners, or nil for
// plaintext.
func (c Config) serverTLS() (*tls.Config, error) {
	if c.TLSCert == "" {
		return nil, nil
	}
	cfg, err := tlsconfig.Server(tlsconfig.ServerFiles{CertFile: c.TLSCert, KeyFile: c.TLSKey, ClientCAFile: c.TLSClientCA})
	if err != nil {
		return nil, fmt.Errorf("TLS: %w", err)
	}
	return cfg, nil
}

// tlsMode names the transport security for the start-up log.
func (c Config) tlsMode() string {
	switch {
	case c.TLSClientCA != "":
		return "mutual"
	case c.TLSCert != "":
		return "server"
	}
	return "off"
}

// warnPlaintext warns about each plaintext listener that other machines can
// reach: credentials and token secrets would cross the network in clear.
func warnPlaintext(log *slog.Logger, addrs ...net.Addr) {
	for _, a := range addrs {
		tcp, ok := a.(*net.TCPAddr)
		if ok && tcp.IP.IsLoopback() {
			continue
		}
		log.Warn("listening in plaintext on a non-loopback address: secrets cross the network unencrypted; set --tls-cert and --tls-key",
			slog.String("addr", a.String()))
	}
}

// certificateExpiry returns when the certificate the listeners currently
// serve expires (the file is re-read when it changed, as for a handshake),
// for the metrics.
func certificateExpiry(cfg *tls.Config) func() (time.Time, error) {
	return func() (time.Time, error) {
		cert, err := cfg.GetCertificate(&tls.ClientHelloInfo{})
		if err != nil {
			return time.Time{}, err
		}
		if cert == nil || len(cert.Certificate) == 0 {
			return time.Time{}, errors.New("no serving certificate")
		}
		leaf := cert.Leaf
		if leaf == nil {
			if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
				return time.Time{}, err
			}
		}
		return leaf.NotAfter, nil
	}
}
