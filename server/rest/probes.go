package rest

import (
	"context"
	"net/http"

	"google.golang.org/grpc/codes"
)

// serveHealthz answers GET /healthz: the process is up and serving HTTP.
func serveHealthz(w http.ResponseWriter, _ *http.Request) {
	writeStatusOK(w)
}

// readyz answers GET /readyz with 200 when ready reports no error and 503
// otherwise. The error's text is shown to the caller, so ready must keep
// secrets out of it.
func readyz(ready func(ctx context.Context) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if ready != nil {
			if err := ready(r.Context()); err != nil {
				writeError(w, http.StatusServiceUnavailable, errorBody{
					Code:    codes.Unavailable,
					Message: "not ready",
					Detail:  "The service is not ready: " + err.Error(),
				})
				return
			}
		}
		writeStatusOK(w)
	}
}

func writeStatusOK(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"status":"ok"}`))
}
