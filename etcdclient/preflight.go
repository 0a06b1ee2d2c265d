package etcdclient

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// http2Preface is what an HTTP/2 client sends first, followed by an empty
// SETTINGS frame; a member answers with its own SETTINGS.
const http2Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + "\x00\x00\x00\x04\x00\x00\x00\x00\x00"

// checkTLS opens a TLS connection to every endpoint that uses TLS, the way
// the etcd client will, and reports a TLS failure at once. The gRPC client
// does not: a call over a connection whose handshake fails waits for its
// deadline and then says only that it ran out of time. With TLS 1.3 a
// member refuses a missing or unknown client certificate only after the
// handshake, so checkTLS also exchanges HTTP/2 settings before it counts a
// member as reachable.
//
// An endpoint that cannot be reached at all (a member down) is not an
// error here: the store copes with that as long as a quorum is up. The
// error is returned only when no endpoint could be used and at least one
// failed in TLS.
func checkTLS(ctx context.Context, cc clientv3.Config) error {
	type result struct {
		endpoint string
		err      error
		tls      bool
	}
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		results []result
	)
	for _, ep := range cc.Endpoints {
		host, secure := tlsHost(ep, cc.TLS != nil)
		if !secure {
			return nil // a plain endpoint is checked by the first real call
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			tlsErr, err := probeTLS(ctx, host, cc.TLS, cc.DialTimeout)
			mu.Lock()
			defer mu.Unlock()
			results = append(results, result{endpoint: ep, err: err, tls: tlsErr})
		}()
	}
	wg.Wait()
	var first *result
	for i, r := range results {
		if r.err == nil {
			return nil
		}
		if r.tls && first == nil {
			first = &results[i]
		}
	}
	if first == nil {
		return nil
	}
	haveCert := cc.TLS != nil && len(cc.TLS.Certificates) > 0
	return fmt.Errorf("etcd %s: TLS: %v (%s)", first.endpoint, first.err, tlsAdvice(first.err, haveCert))
}

// tlsHost returns the host:port of endpoint and whether the client will
// speak TLS to it: always for https, never for http, and for an endpoint
// without a scheme when TLS is configured.
func tlsHost(endpoint string, configured bool) (string, bool) {
	if !strings.Contains(endpoint, "://") {
		return endpoint, configured
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return "", false
	}
	return u.Host, u.Scheme == "https"
}

// probeTLS dials host and exchanges HTTP/2 settings over TLS. tlsErr
// reports whether a failure was TLS's (not the network's).
func probeTLS(ctx context.Context, host string, base *tls.Config, timeout time.Duration) (tlsErr bool, err error) {
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if base != nil {
		cfg = base.Clone()
	}
	if cfg.ServerName == "" {
		if h, _, err := net.SplitHostPort(host); err == nil {
			cfg.ServerName = h
		}
	}
	cfg.NextProtos = []string{"h2"}
	raw, err := (&net.Dialer{}).DialContext(ctx, "tcp", host)
	if err != nil {
		return false, err
	}
	defer raw.Close()
	deadline, _ := ctx.Deadline()
	if err := raw.SetDeadline(deadline); err != nil {
		return false, err
	}
	conn := tls.Client(raw, cfg)
	if err := conn.HandshakeContext(ctx); err != nil {
		return !isNetError(err), err
	}
	if _, err := conn.Write([]byte(http2Preface)); err != nil {
		return !isNetError(err), err
	}
	var b [1]byte
	if _, err := conn.Read(b[:]); err != nil {
		return !isNetError(err), err
	}
	return false, nil
}

// isNetError reports whether err is the network's (refused, reset,
// timed out) rather than a TLS alert or a certificate that does not verify.
func isNetError(err error) bool {
	var alert tls.AlertError
	var rec tls.RecordHeaderError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &alert) || errors.As(err, &rec) || errors.As(err, &verify) {
		return false
	}
	if strings.Contains(err.Error(), "tls:") || strings.Contains(err.Error(), "x509:") {
		return false
	}
	return true
}

// tlsAdvice names the flag an operator most likely has to fix for err;
// haveCert says whether a client certificate was configured.
func tlsAdvice(err error, haveCert bool) string {
	var verify *tls.CertificateVerificationError
	var rec tls.RecordHeaderError
	msg := err.Error()
	switch {
	case errors.As(err, &verify) || strings.Contains(msg, "x509:"):
		return "the member's certificate does not verify: check --etcd-ca and that the certificate names the endpoint's host"
	case errors.As(err, &rec):
		return "the endpoint does not speak TLS: use http:// or check the port"
	case strings.Contains(msg, "certificate required") && !haveCert:
		return "the cluster requires a client certificate: set --etcd-cert and --etcd-key"
	case strings.Contains(msg, "certificate"):
		// A client offers its certificate only to a member that names
		// the certificate's issuer among those it trusts.
		return "the cluster refused or did not ask for the client certificate: --etcd-cert must be issued by a CA the members trust (their --trusted-ca-file)"
	default:
		return "check --etcd-ca, --etcd-cert and --etcd-key"
	}
}

// credentialError turns the etcd client's refusal of a user into one that
// names the user and the flags, never the password.
func credentialError(user string, err error) error {
	if errors.Is(err, rpctypes.ErrAuthFailed) || errors.Is(err, rpctypes.ErrGRPCAuthFailed) {
		return fmt.Errorf("etcd: authentication failed for user %q: check --etcd-username and the password in --etcd-password-file", user)
	}
	if errors.Is(err, rpctypes.ErrAuthNotEnabled) || errors.Is(err, rpctypes.ErrGRPCAuthNotEnabled) {
		return fmt.Errorf("etcd: --etcd-username %q given but the cluster has authentication off", user)
	}
	return fmt.Errorf("etcd client: %w", err)
}
