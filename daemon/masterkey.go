package daemon

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"

	"tokenauthority/seal"
	"tokenauthority/storage"
)

// Key check value: keyCheckPlain sealed with keyCheckAAD, under each key of
// the ring by that key's Box. Its plaintext is not secret; what matters is
// that only the right key opens it.
var (
	keyCheckPlain = []byte("tokenauthority master key check v1")
	keyCheckAAD   = []byte("tokenauthority/key_check")
)

// ErrWrongMasterKey is returned by Start when the master key cannot open
// the secrets already sealed in the store.
var ErrWrongMasterKey = errors.New("the master key cannot open the secrets in the store")

// ErrMasterKeyMissing is returned by Start when the key file is missing
// while the store holds secrets sealed with a master key, or when a key
// that sealed secrets in the store is missing from the key ring.
var ErrMasterKeyMissing = errors.New("master key missing for a store that holds sealed secrets")

// ringFileName is the key ring file, in the directory of the single key
// file (<data-dir>/master.keys by default).
const ringFileName = "master.keys"

// ringFile is where the key ring file of cfg lives.
func (c Config) ringFile() string {
	return filepath.Join(filepath.Dir(c.keyFile()), ringFileName)
}

// storeName names the store of cfg in messages: the bbolt file, or the
// etcd prefix and endpoints.
func (c Config) storeName() string {
	if c.Store == "etcd" {
		return fmt.Sprintf("the etcd store under prefix %s on %s", c.Etcd.Prefix, strings.Join(c.Etcd.Endpoints, ","))
	}
	return c.DBPath()
}

// keySource says where key 0 came from, for messages.
func (c Config) keySource() string {
	if c.MasterKey != "" {
		return "--master-key / " + EnvPrefix + "MASTER_KEY"
	}
	return "key file " + c.keyFile()
}

// openMasterKey returns the key ring of cfg after making sure it opens the
// secrets already sealed in the store. The ring is key 0 (the single key:
// --master-key, or the key file, <data-dir>/master.key by default) together
// with the keys of the ring file (master.keys next to the key file); the
// newest key, the highest id, seals.
//
// The rule of the key check values: the store holds one for every key id
// that may have sealed a secret in it, recorded before that key seals
// anything. At start every key id with a check must be in the ring and
// open its check; a ring key without one gets one. A store without any
// check (new, or from before checks existed) is tested against one of its
// sealed secrets instead.
//
// With create set, a missing key file is created when the store holds no
// sealed secret and there is no ring file: the first start.
func openMasterKey(ctx context.Context, cfg Config, store storage.Backend, log *slog.Logger, create bool) (*seal.Ring, error) {
	checks, err := store.KeyChecks(ctx)
	if err != nil {
		return nil, fmt.Errorf("read key check: %w", err)
	}
	keys, err := seal.LoadRingFile(cfg.ringFile())
	haveRing := err == nil
	switch {
	case errors.Is(err, fs.ErrNotExist):
		keys = map[uint32][]byte{}
	case err != nil:
		return nil, fmt.Errorf("master key ring: %w", err)
	}
	switch {
	case cfg.MasterKey != "":
		if keys[0], err = seal.ParseKey(cfg.MasterKey); err != nil {
			return nil, fmt.Errorf("master key: %w", err)
		}
	default:
		key, err := seal.LoadKey(cfg.keyFile())
		switch {
		case err == nil:
			keys[0] = key
		case errors.Is(err, fs.ErrNotExist) && haveRing:
			// Key 0 was retired, or never existed: the ring alone.
		case errors.Is(err, fs.ErrNotExist) && create:
			_, serr := store.SealedSample(ctx)
			switch {
			case serr == nil:
				return nil, fmt.Errorf("%w: %s does not exist, but %s holds secrets sealed with a master key; "+
					"restore the key file from a backup (or give the key in %sMASTER_KEY). "+
					"A new key would leave every revealable secret and parked seed unreadable, so none is created",
					ErrMasterKeyMissing, cfg.keyFile(), cfg.storeName(), EnvPrefix)
			case !errors.Is(serr, storage.ErrNotFound):
				return nil, fmt.Errorf("look for sealed secrets: %w", serr)
			}
			if keys[0], err = seal.LoadOrCreateKey(cfg.keyFile()); err != nil {
				return nil, fmt.Errorf("master key: %w", err)
			}
			log.Info("created a new master key", slog.String("file", cfg.keyFile()))
			// Nothing is sealed yet, so a key check left by a lost key
			// goes, and the new key's is stored below.
			if _, ok := checks[0]; ok {
				if err := store.DeleteKeyCheck(ctx, 0); err != nil {
					return nil, fmt.Errorf("delete the lost key's key check: %w", err)
				}
				delete(checks, 0)
			}
		case errors.Is(err, fs.ErrNotExist):
			return nil, fmt.Errorf("%w: neither %s nor %s exists", ErrMasterKeyMissing, cfg.keyFile(), cfg.ringFile())
		default:
			return nil, fmt.Errorf("master key: %w", err)
		}
	}
	ring, err := seal.NewRing(keys)
	if err != nil {
		return nil, fmt.Errorf("master key ring: %w", err)
	}
	err = checkRing(ctx, cfg, store, ring, checks)
	if errors.Is(err, storage.ErrAlreadyExists) {
		// Another process stored a key check since they were read (a
		// replica starting at the same time): hold the ring to it.
		if checks, err = store.KeyChecks(ctx); err != nil {
			return nil, fmt.Errorf("read key check: %w", err)
		}
		err = checkRing(ctx, cfg, store, ring, checks)
	}
	if err != nil {
		return nil, err
	}
	if ring.Newest() != 0 {
		log.Info("master key ring", slog.Any("key_ids", ring.IDs()), slog.Uint64("sealing_key_id", uint64(ring.Newest())),
			slog.String("ring_file", cfg.ringFile()))
	}
	return ring, nil
}

// checkRing applies the key check rule of openMasterKey.
func checkRing(ctx context.Context, cfg Config, store storage.Backend, ring *seal.Ring, checks map[uint32][]byte) error {
	keyName := func(id uint32) string {
		if id == 0 {
			return "key 0 (" + cfg.keySource() + ")"
		}
		return fmt.Sprintf("key %d of %s", id, cfg.ringFile())
	}
	ids := make([]uint32, 0, len(checks))
	for id := range checks {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		box := ring.Box(id)
		if box == nil {
			where := cfg.ringFile()
			if id == 0 {
				where = cfg.keySource()
			}
			return fmt.Errorf("%w: %s may hold secrets sealed under key %d, which is missing (expected in %s); "+
				"restore it from a backup. A key leaves the ring only through \"tokenauthority keys retire\", "+
				"which first makes sure nothing is sealed under it",
				ErrMasterKeyMissing, cfg.storeName(), id, where)
		}
		if _, err := box.Open(checks[id], keyCheckAAD); err != nil {
			return fmt.Errorf("%w: %s is not the key that sealed the secrets in %s under that id; "+
				"start with the original key (revealing a token and picking a seed would fail with any other)",
				ErrWrongMasterKey, keyName(id), cfg.storeName())
		}
	}
	if len(checks) == 0 {
		// No key check yet: a new store, or one from before the check
		// existed, whose secrets tell whether the ring is theirs.
		sample, err := store.SealedSample(ctx)
		switch {
		case err == nil:
			if _, err := ring.Open(sample.Value, sample.AAD); err != nil {
				return fmt.Errorf("%w: no key of the ring (%s) opens the secrets in %s; "+
					"start with the original key (revealing a token and picking a seed would fail with any other)",
					ErrWrongMasterKey, keyName(ring.Newest()), cfg.storeName())
			}
		case !errors.Is(err, storage.ErrNotFound):
			return fmt.Errorf("look for sealed secrets: %w", err)
		}
	}
	missing := map[uint32][]byte{}
	for _, id := range ring.IDs() {
		if _, ok := checks[id]; ok {
			continue
		}
		sealed, err := ring.Box(id).Seal(keyCheckPlain, keyCheckAAD)
		if err != nil {
			return fmt.Errorf("seal key check: %w", err)
		}
		missing[id] = sealed
	}
	if len(missing) > 0 {
		if err := store.SetKeyChecks(ctx, missing); err != nil {
			return fmt.Errorf("store key check: %w", err)
		}
	}
	return nil
}
