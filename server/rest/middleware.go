package rest

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/peer"

	"tokenauthority/metrics"
	"tokenauthority/principal"
)

// observed wraps the whole HTTP surface: it limits the request body, turns
// panics into 500 responses, and logs and counts every request by its route
// pattern.
type observed struct {
	next    http.Handler
	log     *slog.Logger
	metrics *metrics.Metrics
	maxBody int64
}

func (o *observed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ex := &exchange{}
	rec := &recorder{ResponseWriter: w}
	// The peer carries the client's address and TLS state, as on the gRPC
	// port: the audit log and the rate limits read the address from it.
	r = r.WithContext(withPeer(withExchange(r.Context(), ex), r))
	// MaxBytesReader gets the server's own writer so that it can close the
	// connection after an oversized body.
	r.Body = &limitedBody{ReadCloser: http.MaxBytesReader(w, r.Body, o.maxBody), ex: ex}

	panicked := o.serve(rec, r)

	route := routeLabel(ex)
	nameSpan(r.Context(), route)
	code := rec.code()
	d := time.Since(start)
	o.metrics.ObserveRequest(metrics.TransportHTTP, route, strconv.Itoa(code), d)
	level := slog.LevelDebug
	switch {
	case panicked:
		level = slog.LevelError
	case ex.errored:
		// By the gRPC code, as on the gRPC port: a 504 for a deadline the
		// client chose (Grpc-Timeout: 1n) is not the server's failure.
		level = principal.LogLevel(ex.code)
	case code >= http.StatusInternalServerError:
		level = slog.LevelError
	}
	if !o.log.Enabled(r.Context(), level) {
		return // skip building the record's attributes
	}
	// Never the raw path or query: they can carry a token secret.
	o.log.LogAttrs(r.Context(), level, "http request",
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.Int("status", code),
		slog.Duration("duration", d),
		slog.Int64("bytes", rec.bytes),
	)
}

// serve runs the next handler and recovers from its panic, answering 500
// when nothing was written yet. It reports whether the handler panicked.
func (o *observed) serve(w *recorder, r *http.Request) (panicked bool) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			// net/http's way of aborting a response on purpose.
			panic(v)
		}
		panicked = true
		o.log.ErrorContext(r.Context(), "panic while serving a request",
			slog.String("route", routeLabel(exchangeFrom(r.Context()))),
			slog.Any("panic", v),
			slog.String("stack", string(debug.Stack())),
		)
		if !w.wroteHeader {
			writeError(w, http.StatusInternalServerError, errorBody{
				Code:    codes.Internal,
				Message: "internal error",
				Detail:  "The server failed while handling the request.",
			})
		}
	}()
	o.next.ServeHTTP(w, r)
	return false
}

// routeLabel is the name of the request's route for logs and metrics.
func routeLabel(ex *exchange) string {
	if ex.route == "" {
		return unmatchedRoute
	}
	return ex.route
}

// recordRoute is the gateway middleware that notes the matched route
// pattern in the exchange, in the form "GET /v1/workspaces/{workspace_id}".
func recordRoute(next runtime.HandlerFunc) runtime.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
		if p, ok := runtime.HTTPPattern(r.Context()); ok {
			exchangeFrom(r.Context()).route = r.Method + " " + patternTemplate(p)
		}
		next(w, r, pathParams)
	}
}

// patternTemplate writes a gateway pattern as its path template: the
// gateway spells a single-segment variable "{name=*}", the API spells it
// "{name}".
func patternTemplate(p runtime.Pattern) string {
	return strings.ReplaceAll(p.String(), "=*}", "}")
}

// routed notes the http.ServeMux pattern that matched the request, such as
// "GET /healthz", in the exchange before calling h.
func routed(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		exchangeFrom(r.Context()).route = r.Pattern
		h.ServeHTTP(w, r)
	})
}

// recorder remembers the status and size of a response.
type recorder struct {
	http.ResponseWriter
	status      int
	bytes       int64
	wroteHeader bool
}

func (w *recorder) WriteHeader(code int) {
	if !w.wroteHeader && code >= http.StatusOK {
		w.status = code
		w.wroteHeader = true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *recorder) Write(b []byte) (int, error) {
	if !w.wroteHeader {
		w.status = http.StatusOK
		w.wroteHeader = true
	}
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the server's writer.
func (w *recorder) Unwrap() http.ResponseWriter {
	return w.ResponseWriter
}

// code is the response status; 200 when the handler wrote nothing.
func (w *recorder) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// withPeer gives the services the caller's address and, over HTTPS, the
// connection's TLS state the way gRPC does (peer.FromContext), so that a
// client certificate authenticates a REST request exactly as it does a gRPC
// one.
func withPeer(ctx context.Context, r *http.Request) context.Context {
	p := &peer.Peer{}
	if ap, err := netip.ParseAddrPort(r.RemoteAddr); err == nil {
		p.Addr = net.TCPAddrFromAddrPort(ap)
	}
	if r.TLS != nil {
		p.AuthInfo = credentials.TLSInfo{State: *r.TLS, CommonAuthInfo: credentials.CommonAuthInfo{SecurityLevel: credentials.PrivacyAndIntegrity}}
	}
	return peer.NewContext(ctx, p)
}
