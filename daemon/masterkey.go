package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"

	"tokenauthority/seal"
	"tokenauthority/storage"
)

// Key check value: keyCheckPlain sealed with keyCheckAAD. Its plaintext is
// not secret; what matters is that only the right key opens it.
var (
	keyCheckPlain = []byte("tokenauthority master key check v1")
	keyCheckAAD   = []byte("tokenauthority/key_check")
)

// ErrWrongMasterKey is returned by Start when the master key cannot open
// the secrets already sealed in the store.
var ErrWrongMasterKey = errors.New("the master key cannot open the secrets in the store")

// ErrMasterKeyMissing is returned by Start when the key file is missing
// while the store holds secrets sealed with a master key.
var ErrMasterKeyMissing = errors.New("master key missing for a store that holds sealed secrets")

// openMasterKey returns the Box of the configured master key after making
// sure it is the key the store's secrets were sealed with. It creates a key
// file only when the store holds no sealed secret, and records a key check
// value in the store so that later starts can tell a wrong key at once.
func openMasterKey(ctx context.Context, cfg Config, store *storage.Store, log *slog.Logger) (*seal.Box, error) {
	check, err := store.KeyCheck(ctx)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return nil, fmt.Errorf("read key check: %w", err)
	}
	source := "key file " + cfg.keyFile()
	var key []byte
	switch {
	case cfg.MasterKey != "":
		source = "--master-key / " + EnvPrefix + "MASTER_KEY"
		if key, err = seal.ParseKey(cfg.MasterKey); err != nil {
			return nil, fmt.Errorf("master key: %w", err)
		}
	default:
		key, err = seal.LoadKey(cfg.keyFile())
		if errors.Is(err, fs.ErrNotExist) {
			_, serr := store.SealedSample(ctx)
			switch {
			case serr == nil:
				return nil, fmt.Errorf("%w: %s does not exist, but %s holds secrets sealed with a master key; "+
					"restore the key file from a backup (or give the key in %sMASTER_KEY). "+
					"A new key would leave every revealable secret and parked seed unreadable, so none is created",
					ErrMasterKeyMissing, cfg.keyFile(), cfg.DBPath(), EnvPrefix)
			case !errors.Is(serr, storage.ErrNotFound):
				return nil, fmt.Errorf("look for sealed secrets: %w", serr)
			}
			// Nothing sealed yet: a new key is safe, and any old key check
			// is replaced below.
			check = nil
			if key, err = seal.LoadOrCreateKey(cfg.keyFile()); err == nil {
				log.Info("created a new master key", slog.String("file", cfg.keyFile()))
			}
		}
		if err != nil {
			return nil, fmt.Errorf("master key: %w", err)
		}
	}
	box, err := seal.New(key)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	wrong := func() error {
		return fmt.Errorf("%w: the key from %s is not the one the secrets in %s were sealed with; "+
			"start with the original key (revealing a token and picking a seed would fail with any other)",
			ErrWrongMasterKey, source, cfg.DBPath())
	}
	if check != nil {
		if _, err := box.Open(check, keyCheckAAD); err != nil {
			return nil, wrong()
		}
		return box, nil
	}
	// No key check yet: a new store, or one from before the check existed,
	// whose secrets tell whether this key is theirs.
	sample, err := store.SealedSample(ctx)
	switch {
	case err == nil:
		if _, err := box.Open(sample.Value, sample.AAD); err != nil {
			return nil, wrong()
		}
	case !errors.Is(err, storage.ErrNotFound):
		return nil, fmt.Errorf("look for sealed secrets: %w", err)
	}
	sealed, err := box.Seal(keyCheckPlain, keyCheckAAD)
	if err != nil {
		return nil, fmt.Errorf("seal key check: %w", err)
	}
	if err := store.SetKeyCheck(ctx, sealed); err != nil {
		return nil, fmt.Errorf("store key check: %w", err)
	}
	return box, nil
}
