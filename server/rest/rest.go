package rest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	pb "tokenauthority/gen/tokenauthority/v1"
	"tokenauthority/metrics"
)

// DefaultMaxBodyBytes is the request body limit when Config.MaxBodyBytes is
// zero. Every request of the API fits in a few hundred bytes.
const DefaultMaxBodyBytes = 64 << 10

// ErrRouteConflict is returned by New when a pattern of Config.Routes
// clashes with another route.
var ErrRouteConflict = errors.New("conflicting route")

// ErrMissingService is returned by New when a service implementation is
// nil; the gateway would only fail at the first request.
var ErrMissingService = errors.New("missing service implementation")

// Config configures the REST facade. The zero value serves the API with no
// logs, no metrics, an always-ready /readyz and no /metrics endpoint.
type Config struct {
	// Logger receives one record per request (Debug, Error for 5xx) and
	// panics. Nil discards.
	Logger *slog.Logger
	// Metrics counts requests by route pattern. Nil records nothing.
	Metrics *metrics.Metrics
	// Ready backs /readyz: 200 when it returns nil, 503 with the error's
	// text in "detail" otherwise. Nil means always ready.
	Ready func(ctx context.Context) error
	// Gatherer backs /metrics in the Prometheus text format. Nil leaves
	// /metrics unserved.
	Gatherer prometheus.Gatherer
	// MaxBodyBytes limits request bodies; larger ones get 413. Zero means
	// DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Backup, when set, serves GET /v1/admin/backup: it must authorize the
	// request's context (which carries the Authorization header as gRPC
	// metadata, like every gateway call) and write the snapshot to w.
	Backup func(ctx context.Context, w io.Writer) error
	// Routes are further plain handlers served beside the API, keyed by
	// http.ServeMux pattern (such as "/v1/authz" or "GET /debug/x"), so that
	// they share the body limit, panic recovery, logging and metrics.
	Routes map[string]http.Handler
	// TrustedUser, when set, turns on member mode for requests from a
	// trusted single sign-on proxy. Nil: every caller needs a service
	// credential.
	TrustedUser *TrustedUser
	// Audit serves the AuditService routes (/v1/audit/...). Nil leaves them
	// unserved.
	Audit pb.AuditServiceServer
	// Admit, when set, runs for every API request before its body is
	// read (server.Server.AdmitOpen: the per-address limits of the methods
	// that need no credential). Nil admits everything.
	Admit AdmitFunc
}

// New returns the HTTP handler of the REST API: the gateway routes of the
// three services, called in-process, and the plain endpoints /openapi.json,
// /swagger.json, /healthz, /readyz and /metrics. ctx is only used to register the
// gateway handlers.
func New(ctx context.Context, cfg Config, tokens pb.TokenServiceServer, workspaces pb.WorkspaceServiceServer, self pb.SelfServiceServer) (http.Handler, error) {
	if tokens == nil || workspaces == nil || self == nil {
		return nil, ErrMissingService
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	maxBody := cfg.MaxBodyBytes
	if maxBody <= 0 {
		maxBody = DefaultMaxBodyBytes
	}

	errs := &errorResponder{log: log, maxBody: maxBody}
	marshaler := newJSONMarshaler()
	middlewares := []runtime.Middleware{recordRoute}
	if cfg.Admit != nil {
		methods, err := routeMethods()
		if err != nil {
			return nil, err
		}
		middlewares = append(middlewares, admitBeforeBody(cfg.Admit, methods, errs))
	}
	gw := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, marshaler),
		runtime.WithErrorHandler(errs.handleError),
		runtime.WithRoutingErrorHandler(handleRoutingError),
		runtime.WithMiddlewares(middlewares...),
		// The method is what proxies in front filter on: never let a header
		// or a form body turn a POST into a DELETE or a GET.
		runtime.WithDisableHTTPMethodOverride(),
		runtime.WithDisablePathLengthFallback(),
	)
	if err := pb.RegisterTokenServiceHandlerServer(ctx, gw, tokens); err != nil {
		return nil, fmt.Errorf("register token service: %w", err)
	}
	if err := pb.RegisterWorkspaceServiceHandlerServer(ctx, gw, workspaces); err != nil {
		return nil, fmt.Errorf("register workspace service: %w", err)
	}
	if err := pb.RegisterSelfServiceHandlerServer(ctx, gw, self); err != nil {
		return nil, fmt.Errorf("register self service: %w", err)
	}
	if cfg.Audit != nil {
		if err := pb.RegisterAuditServiceHandlerServer(ctx, gw, cfg.Audit); err != nil {
			return nil, fmt.Errorf("register audit service: %w", err)
		}
	}

	routes := map[string]http.Handler{
		"GET /openapi.json": serveDocument(openapiDoc),
		"GET /swagger.json": serveDocument(swaggerDoc),
		"GET /healthz":      http.HandlerFunc(serveHealthz),
		"GET /readyz":       readyz(cfg.Ready),
	}
	if cfg.Backup != nil {
		routes["GET "+BackupPath] = backupHandler(gw, errs, cfg.Backup)
	}
	if cfg.Gatherer != nil {
		routes["GET /metrics"] = promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{
			// A failing collector (the store count) must not hide the
			// request metrics.
			ErrorHandling: promhttp.ContinueOnError,
		})
	}
	hotByPath := hotRoutes(tokens)
	for pattern, h := range cfg.Routes {
		_, path, ok := strings.Cut(pattern, " ")
		if !ok {
			path = pattern
		}
		if _, ok := routes[pattern]; ok || hotByPath[strings.TrimSpace(path)] != nil {
			return nil, fmt.Errorf("%w: %q", ErrRouteConflict, pattern)
		}
		routes[pattern] = h
	}

	mux := http.NewServeMux()
	mux.Handle("/", gw)
	if err := handleRoutes(mux, routes); err != nil {
		return nil, err
	}
	next := hot(hotByPath, gw, marshaler, uncleanToGateway(gw, mux))
	return &observed{next: cfg.TrustedUser.identify(next), log: log, metrics: cfg.Metrics, maxBody: maxBody}, nil
}

// uncleanToGateway sends a request whose path http.ServeMux would answer
// with a bodiless redirect (one holding "//", "/./" or "/../") to the
// gateway instead, which answers it like any other path: with JSON.
func uncleanToGateway(gw, mux http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		clean := path.Clean(p)
		if strings.HasSuffix(p, "/") && clean != "/" {
			clean += "/"
		}
		if p != "" && clean != p {
			gw.ServeHTTP(w, r)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// handleRoutes registers the plain routes. A path served for some methods
// only answers the others with 405 rather than falling through to the
// gateway's 404.
func handleRoutes(mux *http.ServeMux, routes map[string]http.Handler) (err error) {
	defer func() {
		// http.ServeMux reports a conflict only by panicking.
		if v := recover(); v != nil {
			err = fmt.Errorf("%w: %v", ErrRouteConflict, v)
		}
	}()
	anyMethod := map[string]bool{}
	allowed := map[string][]string{}
	for pattern, h := range routes {
		mux.Handle(pattern, routed(h))
		if method, path, ok := strings.Cut(pattern, " "); ok {
			path = strings.TrimSpace(path)
			allowed[path] = append(allowed[path], method)
			if method == http.MethodGet {
				allowed[path] = append(allowed[path], http.MethodHead)
			}
		} else {
			anyMethod[pattern] = true
		}
	}
	for path, methods := range allowed {
		if anyMethod[path] {
			continue
		}
		slices.Sort(methods)
		mux.Handle(path, methodNotAllowed(strings.Join(methods, ", ")))
	}
	return nil
}

// methodNotAllowed answers a plain route's path requested with a method it
// does not serve. The route stays unmatched for logs and metrics.
func methodNotAllowed(allow string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Allow", allow)
		writeError(w, http.StatusMethodNotAllowed, routingErrorBody(r, http.StatusMethodNotAllowed))
	}
}
