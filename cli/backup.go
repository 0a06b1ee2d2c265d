package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/secretfile"
	"tokenauthority/storage/bbolt"
)

func (a *app) backupCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "backup FILE",
		Short: "Save a consistent snapshot of the server's store to FILE (- for stdout)",
		Long: `backup saves a consistent snapshot of the whole store, taken at one moment
while the server keeps serving, to FILE (mode 0600). It needs an admin
credential (or a client certificate bound to one).

The snapshot is checked as a store before FILE is replaced, and FILE is
replaced atomically: it is the previous file or the whole new snapshot, never
part of one. With FILE "-" the checked snapshot is written to stdout and the
summary to stderr. --timeout bounds the wait for each chunk, not the whole
transfer.

Restore it on a stopped or new server with
  tokenauthority restore --from FILE --data-dir DIR
and start that server with the master key of the backed-up one: the key is
not part of the snapshot.`,
		Args: args("FILE"),
		RunE: func(cmd *cobra.Command, argv []string) error { return a.backup(cmd, argv[0]) },
	}
}

// errIdle ends a backup whose server sent nothing for --timeout.
var errIdle = errors.New("no chunk within --timeout")

func (a *app) backup(cmd *cobra.Command, file string) error {
	conn, err := a.dial(true)
	if err != nil {
		return err
	}
	client := pb.NewAdminServiceClient(conn)
	dir, pattern := filepath.Dir(file), "."+filepath.Base(file)+".*.tmp"
	if file == "-" {
		dir, pattern = "", "tokenctl-backup-*.tmp"
	}
	tmp, err := os.CreateTemp(dir, pattern)
	if err != nil {
		return &exitError{code: ExitError, msg: fmt.Sprintf("create the backup file: %v", unwrapPathError(err))}
	}
	// Until the rename the temporary file must not linger; after it, this
	// removes nothing.
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	// CreateTemp already uses 0600; Chmod makes it a decision rather than
	// an accident of the standard library.
	if err := tmp.Chmod(0o600); err != nil {
		return writeError(file, err)
	}
	start := time.Now()
	n, err := a.receiveBackup(cmd.Context(), client, tmp)
	if err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return writeError(file, err)
	}
	if err := tmp.Close(); err != nil {
		return writeError(file, err)
	}
	if err := bbolt.VerifyFile(tmp.Name()); err != nil {
		return &exitError{code: ExitError, msg: fmt.Sprintf("the snapshot received is not a complete store, %s left unchanged: %v", file, err)}
	}
	if file == "-" {
		if err := copyFile(a.env.Stdout, tmp.Name()); err != nil {
			return &exitError{code: ExitError, msg: fmt.Sprintf("write the backup to stdout: %v", err)}
		}
		fmt.Fprintf(a.env.Stderr, "backed up %s to stdout in %v\n", byteSize(n), time.Since(start).Round(time.Millisecond))
		return nil
	}
	if err := os.Rename(tmp.Name(), file); err != nil {
		return writeError(file, err)
	}
	if err := secretfile.SyncDir(dir); err != nil {
		return writeError(file, err)
	}
	took := time.Since(start).Round(time.Millisecond)
	summary, err := structpb.NewStruct(map[string]any{"file": file, "bytes": n, "duration": took.String()})
	if err != nil {
		return err
	}
	return a.show(view{msg: summary, names: []string{file}, table: func(t *table) {
		t.rows = append(t.rows, []string{fmt.Sprintf("Backed up %s to %s in %v.", byteSize(n), file, took)})
	}})
}

// receiveBackup writes the chunks of a Backup stream to w and returns how
// many bytes it wrote. --timeout bounds the wait for each chunk, so a large
// store can take as long as it needs while a stalled server cannot hang
// tokenctl.
func (a *app) receiveBackup(ctx context.Context, client pb.AdminServiceClient, w io.Writer) (int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	idle := time.AfterFunc(a.opts.timeout, func() { cancel(errIdle) })
	defer idle.Stop()
	stream, err := client.Backup(ctx, &pb.BackupRequest{})
	if err != nil {
		return 0, idleStatus(ctx, err)
	}
	var n int64
	for {
		chunk, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, idleStatus(ctx, err)
		}
		idle.Reset(a.opts.timeout)
		k, err := w.Write(chunk.GetData())
		n += int64(k)
		if err != nil {
			return n, &exitError{code: ExitError, msg: fmt.Sprintf("write the backup: %v", unwrapPathError(err))}
		}
	}
}

// idleStatus reports a call the idle timer ended as the deadline it is.
func idleStatus(ctx context.Context, err error) error {
	if errors.Is(context.Cause(ctx), errIdle) {
		return status.Error(codes.DeadlineExceeded, errIdle.Error())
	}
	return err
}

func writeError(file string, err error) error {
	return &exitError{code: ExitError, msg: fmt.Sprintf("write %s: %v", file, unwrapPathError(err))}
}

func copyFile(w io.Writer, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = io.Copy(w, f)
	return err
}

// byteSize prints n in the largest binary unit that keeps it at least 1.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB (%d bytes)", float64(n)/float64(div), "KMGTPE"[exp], n)
}
