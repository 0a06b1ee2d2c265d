package server

import (
	"context"
	"io"
	"log/slog"
)

// BackupMethod names GET /v1/admin/backup in the access table. The backup
// is a plain HTTP endpoint, not an RPC, but it is authorized through the
// same table as every RPC so that it cannot be reached around it.
const BackupMethod = "/tokenauthority.v1.AdminHTTP/Backup"

// Backup authorizes the caller of ctx (an admin credential or client
// certificate) and then writes a consistent snapshot of the store to w while
// the server keeps serving. An error before anything was written is a
// status error; after that the snapshot is incomplete and the caller must
// abort the transfer.
func (s *Server) Backup(ctx context.Context, w io.Writer) error {
	p, err := s.authorize(ctx, BackupMethod)
	if err != nil {
		return err
	}
	n, err := s.store.Backup(ctx, w)
	if err != nil {
		return s.toStatus(ctx, BackupMethod, err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "store backed up", slog.String("caller", p.name), slog.Int64("bytes", n))
	return nil
}
