package rest

import (
	"context"
	"io"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
)

// BackupPath is where a consistent snapshot of the store is served.
const BackupPath = "/v1/admin/backup"

// backupHandler streams a snapshot. The request's headers become incoming
// metadata exactly as for a gateway call, so the backup function authorizes
// a bearer credential (or the client certificate) the same way every RPC
// does. Errors before the first byte are JSON error bodies; a failure
// mid-stream aborts the connection so that the client sees a broken
// transfer, never a short file that looks complete.
func backupHandler(gw *runtime.ServeMux, errs *errorResponder, backup func(context.Context, io.Writer) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, err := runtime.AnnotateIncomingContext(r.Context(), gw, r, BackupPath, runtime.WithHTTPPathPattern(BackupPath))
		if err != nil {
			errs.handleError(r.Context(), gw, nil, w, r, err)
			return
		}
		sw := &startWriter{w: w}
		if err := backup(ctx, sw); err != nil {
			if !sw.started {
				errs.handleError(ctx, gw, nil, w, r, err)
				return
			}
			errs.log.ErrorContext(ctx, "backup failed mid-stream", "error", err.Error())
			panic(http.ErrAbortHandler)
		}
	})
}

// startWriter sets the download headers before the first byte.
type startWriter struct {
	w       http.ResponseWriter
	started bool
}

func (s *startWriter) Write(p []byte) (int, error) {
	if !s.started {
		s.started = true
		h := s.w.Header()
		h.Set("Content-Type", "application/octet-stream")
		h.Set("Content-Disposition", `attachment; filename="tokenauthority.db"`)
		h.Set("Cache-Control", "no-store")
		s.w.WriteHeader(http.StatusOK)
	}
	return s.w.Write(p)
}
