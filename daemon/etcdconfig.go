package daemon

import (
	"errors"
	"time"

	"tokenauthority/etcdclient"
	etcdstore "tokenauthority/storage/etcd"
)

// EtcdConfig is the etcd store's configuration: how to reach the cluster
// (--etcd-endpoints, TLS, credentials) and the store's options on it.
type EtcdConfig struct {
	etcdclient.Config
	// Prefix starts every key (--etcd-prefix).
	Prefix string
	// MaxStaleness bounds how long the validation index is trusted
	// without hearing from etcd (--max-staleness).
	MaxStaleness time.Duration
	// WriteTimeout bounds one write, retries included; 0 means the
	// store's default. Not a flag: tests shorten it.
	WriteTimeout time.Duration
}

// Check reports the first thing wrong with e, naming the flag.
func (e EtcdConfig) Check() error {
	if err := e.Config.Check(); err != nil {
		return err
	}
	if err := etcdstore.CheckPrefix(e.Prefix); err != nil {
		return err
	}
	if e.MaxStaleness < 0 {
		return errors.New("--max-staleness must not be negative")
	}
	return nil
}
