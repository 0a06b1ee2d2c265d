package etcdclient

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// Config says how to reach an etcd cluster.
type Config struct {
	// Endpoints are the client URLs of the cluster's members.
	Endpoints []string
	// CA, Cert and Key are PEM files: CA verifies the members' certificates,
	// Cert and Key are this client's certificate (mutual TLS).
	CA, Cert, Key string
	// Username and PasswordFile turn on etcd's authentication; the file
	// holds the password (a trailing newline is ignored).
	Username, PasswordFile string
	// DialTimeout bounds connecting; 0 means 5s.
	DialTimeout time.Duration
}

// Check reports the first thing wrong with c, naming the flag.
func (c Config) Check() error {
	switch {
	case len(c.Endpoints) == 0:
		return errors.New("--etcd-endpoints is required with --store etcd")
	case (c.Cert == "") != (c.Key == ""):
		return errors.New("--etcd-cert and --etcd-key go together")
	case (c.Username == "") != (c.PasswordFile == ""):
		return errors.New("--etcd-username and --etcd-password-file go together")
	}
	secure := c.CA != "" || c.Cert != ""
	schemes := map[bool]string{}
	for _, e := range c.Endpoints {
		if scheme, _, ok := strings.Cut(e, "://"); ok {
			schemes[strings.EqualFold(scheme, "https")] = e
		}
	}
	// The etcd client takes the first endpoint's scheme for all of them.
	if len(schemes) == 2 {
		return fmt.Errorf("--etcd-endpoints mixes %s and %s: use https:// (or http://) for every member", schemes[true], schemes[false])
	}
	for _, e := range c.Endpoints {
		if e == "" {
			return errors.New("--etcd-endpoints: empty endpoint")
		}
		// The etcd client speaks plain text to an http:// endpoint even
		// when TLS is configured: refuse rather than drop the TLS asked for.
		if secure && strings.HasPrefix(strings.ToLower(e), "http://") {
			return fmt.Errorf("--etcd-endpoints %s is plain http but --etcd-ca or --etcd-cert asks for TLS: use https://", e)
		}
	}
	return nil
}

// ClientConfig builds the etcd client configuration: TLS when a CA or a
// client certificate is given, password authentication when a user is.
func (c Config) ClientConfig() (clientv3.Config, error) {
	if err := c.Check(); err != nil {
		return clientv3.Config{}, err
	}
	dial := c.DialTimeout
	if dial <= 0 {
		dial = 5 * time.Second
	}
	cc := clientv3.Config{
		Endpoints:            c.Endpoints,
		DialTimeout:          dial,
		DialKeepAliveTime:    5 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
		Logger:               zap.NewNop(),
	}
	if c.CA != "" || c.Cert != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if c.CA != "" {
			pem, err := os.ReadFile(c.CA)
			if err != nil {
				return clientv3.Config{}, fmt.Errorf("--etcd-ca: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return clientv3.Config{}, fmt.Errorf("--etcd-ca %s: no PEM certificate", c.CA)
			}
			tc.RootCAs = pool
		}
		if c.Cert != "" {
			cert, err := tls.LoadX509KeyPair(c.Cert, c.Key)
			if err != nil {
				return clientv3.Config{}, fmt.Errorf("--etcd-cert/--etcd-key: %w", err)
			}
			tc.Certificates = []tls.Certificate{cert}
		}
		cc.TLS = tc
	}
	if c.Username != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return clientv3.Config{}, fmt.Errorf("--etcd-password-file: %w", err)
		}
		pw := strings.TrimRight(string(b), "\r\n")
		// The etcd client quietly skips authentication without a
		// password, which the cluster then refuses request by request.
		if pw == "" {
			return clientv3.Config{}, fmt.Errorf("--etcd-password-file %s is empty", c.PasswordFile)
		}
		cc.Username = c.Username
		cc.Password = pw
	}
	return cc, nil
}

// Connect checks c, makes sure TLS to the members works (checkTLS) and
// returns a client of the cluster, which the caller closes, with the
// configuration it was made from (to make clients of single members the
// same way).
func Connect(ctx context.Context, c Config) (*clientv3.Client, clientv3.Config, error) {
	cc, err := c.ClientConfig()
	if err != nil {
		return nil, clientv3.Config{}, err
	}
	if err := checkTLS(ctx, cc); err != nil {
		return nil, clientv3.Config{}, err
	}
	cli, err := clientv3.New(cc)
	if err != nil {
		return nil, clientv3.Config{}, credentialError(cc.Username, err)
	}
	return cli, cc, nil
}
