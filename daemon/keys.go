package daemon

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math"
	"os"
	"time"

	"tokenauthority/seal"
	"tokenauthority/storage"
	"tokenauthority/storage/bbolt"
	"tokenauthority/storage/core"
)

// ErrKeyInUse is returned by "keys retire" for a key that still seals a
// secret in the store, or that is the newest key of the ring.
var ErrKeyInUse = errors.New("master key still in use")

const keysUsage = `Usage: tokenauthority keys <command> [flags]

Rotates the master key that seals revealable secrets and parked seeds.

Commands:
  list     show the key ring and how many secrets each key seals
  rotate   add a new key to the ring file; new secrets are sealed under it after a restart
  reseal   re-seal every secret under the newest key, in batches of one commit each
  retire   remove a key (--id N) from the ring once nothing is sealed under it

list, reseal and retire need the store to themselves: stop tokenauthority first.
rotate only writes the ring file and may run while it serves.

Flags:
`

// RunKeys runs "tokenauthority keys <command> [flags]": args are what
// follows "keys". Flags take their environment variables through getenv,
// as the server's do. Reports go to stdout.
func RunKeys(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg := Defaults()
	fs := flag.NewFlagSet("tokenauthority keys", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.DataDir, "data-dir", cfg.DataDir, "directory of the store (tokenauthority.db), master.key and master.keys")
	fs.StringVar(&cfg.MasterKey, "master-key", "", "key 0 (base64 of 32 bytes), instead of the key file; prefer the environment variable, as a flag is visible in the process list")
	fs.StringVar(&cfg.MasterKeyFile, "master-key-file", "", "file of key 0 (default <data-dir>/master.key); the ring file master.keys is in its directory")
	fs.StringVar(&cfg.Store, "store", cfg.Store, "where the server keeps its state: list, reseal and retire work on bbolt only")
	batch := fs.Int("batch", 500, "reseal: secrets re-sealed per commit")
	id := fs.Uint("id", 0, "retire: the key id to remove")
	for _, name := range []string{"data-dir", "master-key", "master-key-file", "store"} {
		fs.Lookup(name).Usage += " ($" + envName(name) + ")"
	}
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), keysUsage)
		fs.PrintDefaults()
	}
	if len(args) == 0 {
		fs.Usage()
		return errors.New("keys: name a command: list, rotate, reseal or retire")
	}
	cmd := args[0]
	if cmd == "-h" || cmd == "--help" || cmd == "help" {
		fs.Usage()
		return flag.ErrHelp
	}
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("keys %s: unexpected argument %q", cmd, fs.Arg(0))
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for _, name := range []string{"data-dir", "master-key", "master-key-file", "store"} {
		if v := getenv(envName(name)); v != "" && !given[name] {
			if err := fs.Set(name, v); err != nil {
				return fmt.Errorf("%s: %w", envName(name), err)
			}
		}
	}
	if cfg.DataDir == "" {
		return errors.New("--data-dir must not be empty")
	}
	switch {
	case cmd == "retire" && !given["id"]:
		return errors.New("keys retire: --id is required")
	case *id > 1<<32-1:
		return fmt.Errorf("keys retire: --id %d is not a key id", *id)
	case *batch < 1:
		return fmt.Errorf("keys reseal: --batch %d: want at least 1", *batch)
	}
	k := keyCmd{cfg: cfg, out: stdout}
	switch cmd {
	case "rotate":
		return k.rotate()
	case "list":
		return k.withStore(ctx, k.list)
	case "reseal":
		return k.withStore(ctx, func(ctx context.Context, s *bbolt.Store, r *seal.Ring) error {
			return k.reseal(ctx, s, r, *batch)
		})
	case "retire":
		return k.withStore(ctx, func(ctx context.Context, s *bbolt.Store, r *seal.Ring) error {
			return k.retire(ctx, s, r, uint32(*id))
		})
	}
	fs.Usage()
	return fmt.Errorf("keys: unknown command %q: want list, rotate, reseal or retire", cmd)
}

// keyCmd carries what every keys command needs.
type keyCmd struct {
	cfg Config
	out io.Writer
}

// rotate adds a fresh key with the next id to the ring file. It does not
// open the store: a running server keeps sealing under the key it started
// with until it is restarted.
func (k keyCmd) rotate() error {
	path := k.cfg.ringFile()
	ring, err := seal.LoadRingFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ring = map[uint32][]byte{}
	case err != nil:
		return fmt.Errorf("keys rotate: %w", err)
	}
	// The newest key is never retired, so the highest id only grows and a
	// new id is never one that sealed something before.
	var newest uint32
	for id := range ring {
		newest = max(newest, id)
	}
	if newest == math.MaxUint32 {
		return errors.New("keys rotate: key ids are exhausted")
	}
	next := newest + 1
	key := make([]byte, seal.KeySize)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	ring[next] = key
	if err := seal.WriteRingFile(path, ring); err != nil {
		return fmt.Errorf("keys rotate: %w", err)
	}
	_, err = fmt.Fprintf(k.out, "added key %d to %s\n"+
		"restart tokenauthority to seal new secrets under it, then stop it and run: tokenauthority keys reseal\n",
		next, path)
	return err
}

// withStore opens the store exclusively and its key ring (checked as at
// start, never creating a key), runs fn, and closes the store.
func (k keyCmd) withStore(ctx context.Context, fn func(context.Context, *bbolt.Store, *seal.Ring) error) (err error) {
	if k.cfg.Store != "bbolt" {
		return fmt.Errorf("the keys commands work on the bbolt store of --data-dir; with --store %s, rotate by restarting every replica with the new ring (docs/scale-out.md)", k.cfg.Store)
	}
	// bbolt.Open would create a missing file: a typo in --data-dir must
	// not leave an empty store behind.
	if _, err := os.Stat(k.cfg.DBPath()); err != nil {
		return fmt.Errorf("no store: %w", err)
	}
	s, err := bbolt.Open(k.cfg.DBPath(), bbolt.Options{Timeout: 2 * time.Second})
	if errors.Is(err, storage.ErrLocked) {
		return fmt.Errorf("%s is in use by a running tokenauthority: stop it first (%w)", k.cfg.DBPath(), err)
	}
	if err != nil {
		return fmt.Errorf("open store: %w", err)
	}
	defer func() {
		if cerr := s.Close(); err == nil {
			err = cerr
		}
	}()
	ring, err := openMasterKey(ctx, k.cfg, s, slog.New(slog.DiscardHandler), false)
	if err != nil {
		return err
	}
	return fn(ctx, s, ring)
}

// census counts the store's secrets by the key that opens them; unopenable
// counts those no key of the ring opens.
func census(ctx context.Context, s *bbolt.Store, ring *seal.Ring) (byKey map[uint32]int, unopenable int, err error) {
	byKey = map[uint32]int{}
	err = s.ForEachSealed(ctx, func(sealed, aad []byte) error {
		id, err := ring.KeyOf(sealed, aad)
		if err != nil {
			unopenable++
			return nil
		}
		byKey[id]++
		return nil
	})
	return byKey, unopenable, err
}

func (k keyCmd) list(ctx context.Context, s *bbolt.Store, ring *seal.Ring) error {
	byKey, unopenable, err := census(ctx, s, ring)
	if err != nil {
		return err
	}
	fmt.Fprintf(k.out, "%-6s %-8s %s\n", "KEY", "SECRETS", "SOURCE")
	for _, id := range ring.IDs() {
		src := k.cfg.ringFile()
		if id == 0 {
			src = k.cfg.keySource()
		}
		if id == ring.Newest() {
			src += " (seals new secrets)"
		}
		fmt.Fprintf(k.out, "%-6d %-8d %s\n", id, byKey[id], src)
	}
	if unopenable > 0 {
		fmt.Fprintf(k.out, "%d secrets open under no key of the ring\n", unopenable)
	}
	return nil
}

func (k keyCmd) reseal(ctx context.Context, s *bbolt.Store, ring *seal.Ring, batch int) error {
	unopenable := 0
	p, err := s.Reseal(ctx, core.ResealOptions{Batch: batch}, func(sealed, aad []byte) ([]byte, error) {
		out, err := ring.Reseal(sealed, aad)
		if errors.Is(err, seal.ErrOpen) || errors.Is(err, seal.ErrUnknownKey) {
			// Unreadable under every key already; leave it for the
			// operator rather than stop the others.
			unopenable++
			return nil, nil
		}
		return out, err
	})
	if err != nil {
		return fmt.Errorf("keys reseal: after %d secrets re-sealed: %w", p.Resealed, err)
	}
	fmt.Fprintf(k.out, "re-sealed %d of %d secrets under key %d in %d commits\n", p.Resealed, p.Sealed, ring.Newest(), p.Commits)
	if unopenable > 0 {
		return fmt.Errorf("keys reseal: %d secrets open under no key of the ring and were left as they were", unopenable)
	}
	return nil
}

// retire removes key id: first its key check value from the store, once a
// census finds nothing sealed under it, and only then the key itself, so a
// crash in between leaves a ring that still opens everything.
func (k keyCmd) retire(ctx context.Context, s *bbolt.Store, ring *seal.Ring, id uint32) error {
	switch {
	case ring.Box(id) == nil:
		return fmt.Errorf("keys retire: key %d is not in the ring (keys %v)", id, ring.IDs())
	case id == ring.Newest():
		return fmt.Errorf("keys retire: %w: key %d is the newest key, which seals new secrets; rotate first", ErrKeyInUse, id)
	}
	byKey, _, err := census(ctx, s, ring)
	if err != nil {
		return err
	}
	if n := byKey[id]; n > 0 {
		return fmt.Errorf("keys retire: %w: %d secrets are still sealed under key %d; run tokenauthority keys reseal first",
			ErrKeyInUse, n, id)
	}
	if err := s.DeleteKeyCheck(ctx, id); err != nil {
		return fmt.Errorf("keys retire: %w", err)
	}
	switch {
	case id == 0 && k.cfg.MasterKey != "":
		fmt.Fprintf(k.out, "retired key 0: nothing is sealed under it; stop giving it with --master-key / %sMASTER_KEY\n", EnvPrefix)
		return nil
	case id == 0:
		if err := seal.RemoveKeyFile(k.cfg.keyFile()); err != nil {
			return fmt.Errorf("keys retire: %w", err)
		}
		fmt.Fprintf(k.out, "retired key 0: removed %s\n", k.cfg.keyFile())
		return nil
	}
	ringKeys, err := seal.LoadRingFile(k.cfg.ringFile())
	if err != nil {
		return fmt.Errorf("keys retire: %w", err)
	}
	delete(ringKeys, id)
	if err := seal.WriteRingFile(k.cfg.ringFile(), ringKeys); err != nil {
		return fmt.Errorf("keys retire: %w", err)
	}
	_, err = fmt.Fprintf(k.out, "retired key %d: removed it from %s\n", id, k.cfg.ringFile())
	return err
}
