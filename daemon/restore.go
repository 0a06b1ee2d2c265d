package daemon

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"tokenauthority/storage/bbolt"
)

// Restore runs "tokenauthority restore --from FILE --data-dir DIR": it
// installs a snapshot taken by "tokenctl backup" (or GET /v1/admin/backup)
// as the store of an empty data directory. It refuses a file that is not a
// complete store of this schema and a data directory that already holds a
// store, running or not. The master key is not part of a snapshot: the
// restored server needs the key the backed-up one used.
func Restore(args []string, getenv func(string) string, out io.Writer) error {
	fs := flag.NewFlagSet("tokenauthority restore", flag.ContinueOnError)
	fs.SetOutput(out)
	from := fs.String("from", "", "snapshot file written by tokenctl backup or GET /v1/admin/backup")
	dataDir := fs.String("data-dir", getenv(EnvPrefix+"DATA_DIR"), "data directory to restore into; must hold no store yet")
	if err := fs.Parse(args); err != nil {
		return err
	}
	switch {
	case fs.NArg() > 0:
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case *from == "":
		return errors.New("restore: --from is required")
	case *dataDir == "":
		return errors.New("restore: --data-dir is required")
	}
	cfg := Config{DataDir: *dataDir}
	if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("restore: create data directory: %w", err)
	}
	if err := bbolt.Restore(*from, cfg.DBPath()); err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	fmt.Fprintf(out, "restored %s to %s; start tokenauthority on this data directory with the master key the backed-up server used\n", *from, cfg.DBPath())
	return nil
}
