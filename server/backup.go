package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"google.golang.org/grpc"

	"tokenauthority/audit"
	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/storage"
)

// BackupMethod names the backup in the access table. AdminService.Backup
// and GET /v1/admin/backup are the same operation over the same storage
// code, so both are authorized by this one row.
const BackupMethod = pb.AdminService_Backup_FullMethodName

// backupChunkBytes is the size of one BackupResponse: well under the 4 MiB
// a gRPC client receives by default, large enough that a store of a few
// hundred megabytes is a few thousand messages.
const backupChunkBytes = 256 << 10

// Admin returns the AdminService implementation.
func (s *Server) Admin() pb.AdminServiceServer { return &adminService{s: s} }

// adminService implements pb.AdminServiceServer.
type adminService struct {
	pb.UnimplementedAdminServiceServer
	s *Server
}

// Backup streams the snapshot in chunks. An error after the first chunk
// ends the stream with that status, so the client knows the file it holds
// is incomplete.
func (x *adminService) Backup(_ *pb.BackupRequest, stream grpc.ServerStreamingServer[pb.BackupResponse]) error {
	w := &chunkWriter{send: stream.Send, buf: make([]byte, 0, backupChunkBytes)}
	return x.s.backup(stream.Context(), w, w.flush)
}

// chunkWriter gathers writes into messages of backupChunkBytes.
type chunkWriter struct {
	send func(*pb.BackupResponse) error
	buf  []byte
}

func (c *chunkWriter) Write(p []byte) (int, error) {
	n := 0
	for len(p) > 0 {
		k := min(len(p), cap(c.buf)-len(c.buf))
		c.buf = append(c.buf, p[:k]...)
		p, n = p[k:], n+k
		if len(c.buf) == cap(c.buf) {
			if err := c.flush(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

// flush sends what is gathered. The message owns its bytes: gRPC may still
// be encoding it when the next Write refills the buffer.
func (c *chunkWriter) flush() error {
	if len(c.buf) == 0 {
		return nil
	}
	err := c.send(&pb.BackupResponse{Data: append([]byte(nil), c.buf...)})
	c.buf = c.buf[:0]
	return err
}

// Backup authorizes the caller of ctx (an admin credential or client
// certificate) and then writes a consistent snapshot of the store to w while
// the server keeps serving. An error before anything was written is a
// status error; after that the snapshot is incomplete and the caller must
// abort the transfer.
func (s *Server) Backup(ctx context.Context, w io.Writer) error {
	return s.backup(ctx, w, nil)
}

// backup is Backup with finish, when not nil, run after the snapshot was
// written, to send what w still holds.
func (s *Server) backup(ctx context.Context, w io.Writer, finish func() error) error {
	p, err := s.authorize(ctx, BackupMethod)
	if err != nil {
		return err
	}
	// A backup carries every sealed secret and hash, so taking one is
	// recorded, like a reveal, before anything is sent (the snapshot then
	// holds its own event).
	action, _ := auditAction(BackupMethod)
	actx, pending := audit.NewContext(ctx, s.newEvent(ctx, action, p, nil))
	if err := s.store.RecordAudit(actx); err != nil {
		return s.toStatus(ctx, BackupMethod, err)
	}
	s.auditLog.write(ctx, pending.Recorded())
	var n int64
	if snap, ok := s.store.(storage.Snapshotter); ok {
		n, err = snap.Backup(ctx, w)
	} else {
		err = fmt.Errorf("backup: this server keeps its state in etcd; back it up with an etcd snapshot (etcdctl snapshot save): %w", storage.ErrUnsupported)
	}
	if err == nil && finish != nil {
		err = finish()
	}
	if err != nil {
		return s.toStatus(ctx, BackupMethod, err)
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "store backed up", slog.String("caller", p.Name), slog.Int64("bytes", n))
	return nil
}
