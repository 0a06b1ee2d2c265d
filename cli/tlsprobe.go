package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"
	"time"
)

// probeTimeout bounds the extra connection tlsProblem makes.
const probeTimeout = 3 * time.Second

// tlsProblem explains a failed connection by TLS, when TLS is why: the
// server speaks TLS and tokenctl plaintext or the other way round, the
// server's certificate is not trusted, or the server refused the client
// certificate (or wanted one). It returns ok false when the cause is
// something else, such as no server listening.
//
// grpc-go reports these as a transport error whose text depends on timing
// (a refused client certificate shows as the server's alert, a broken pipe
// or a reset), so tokenctl makes one more connection and reads the answer
// of the TLS handshake itself. That connection sends a ClientHello and
// nothing else.
func (a *app) tlsProblem(ctx context.Context) (code int, msg string, ok bool) {
	ctx, cancel := context.WithTimeout(ctx, min(a.opts.timeout, probeTimeout))
	defer cancel()
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", a.opts.addr)
	if err != nil {
		return 0, "", false
	}
	defer raw.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = raw.SetDeadline(dl)
	}
	host, _, _ := net.SplitHostPort(a.opts.addr)
	files := a.opts.tlsFiles()
	if files.IsZero() {
		// Only asks whether the server speaks TLS: the certificate is not
		// checked because nothing is sent over this connection.
		c := tls.Client(raw, &tls.Config{ServerName: host, InsecureSkipVerify: true, NextProtos: []string{"h2"}})
		if c.HandshakeContext(ctx) != nil {
			return 0, "", false
		}
		return ExitUnreachable, "the server speaks TLS and tokenctl plaintext: pass the CA of its certificate with --tls-ca (or " + envCA + ")", true
	}
	cfg, err := a.opts.tlsConfig()
	if err != nil {
		return 0, "", false
	}
	cfg.ServerName = host
	cfg.NextProtos = []string{"h2"}
	c := tls.Client(raw, cfg)
	err = c.HandshakeContext(ctx)
	if err == nil {
		// In TLS 1.3 the server judges the client certificate after the
		// client has finished: its verdict is the first thing to read.
		var b [1]byte
		_, err = c.Read(b[:])
	}
	return classifyTLS(err, files.CAFile, files.CertFile)
}

// classifyTLS turns the error of a TLS handshake into an exit code and a
// sentence, or ok false when it is not a TLS error.
func classifyTLS(err error, caFile, certFile string) (int, string, bool) {
	var (
		unknown  x509.UnknownAuthorityError
		hostname x509.HostnameError
		invalid  x509.CertificateInvalidError
		record   tls.RecordHeaderError
		op       *net.OpError
	)
	trusted := "the system's roots"
	if caFile != "" {
		trusted = "--tls-ca " + caFile
	}
	switch {
	case err == nil:
		return 0, "", false
	case errors.As(err, &unknown):
		return ExitUnreachable, "the server's certificate is not signed by a CA in " + trusted + " (set --tls-ca or " + envCA + ")", true
	case errors.As(err, &hostname):
		return ExitUnreachable, "the server's certificate is not valid for the address dialed: " + hostname.Error(), true
	case errors.As(err, &invalid):
		return ExitUnreachable, "the server's certificate is not valid: " + invalid.Error(), true
	case errors.As(err, &record):
		return ExitUnreachable, "the server speaks plaintext and tokenctl TLS: drop --tls-ca, --tls-cert and --tls-key (and the " + envPrefixTLS + "* variables)", true
	case errors.As(err, &op) && op.Op == "remote error":
		alert := strings.TrimPrefix(op.Err.Error(), "tls: ")
		if certFile == "" {
			return ExitCredential, "the server requires a client certificate (" + alert + "): pass --tls-cert and --tls-key", true
		}
		return ExitCredential, "the server refused the client certificate " + certFile + " (" + alert + "): it must be signed by a CA the server trusts (--tls-client-ca) and be valid now", true
	}
	return 0, "", false
}
