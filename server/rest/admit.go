package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// AdmitFunc holds a request for a gRPC method to the limits that apply
// before its body is read (server.Server.AdmitOpen): it returns the status
// to answer when the request is refused, else the context to serve it
// with.
type AdmitFunc func(ctx context.Context, fullMethod string) (context.Context, error)

// routeMethods maps each gateway route, as recordRoute labels it ("POST
// /v1/tokens:reportLeaked"), to its gRPC full method, read from the
// embedded OpenAPI document, whose operation ids of the API's methods are
// "<Service>_<Method>". The plain routes (/healthz, /v1/authz, ...) have
// ids of one word and are left out: they are not gateway routes.
func routeMethods() (map[string]string, error) {
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapiDoc, &doc); err != nil {
		return nil, fmt.Errorf("read the embedded OpenAPI document: %w", err)
	}
	pkg := string(pb.File_tokenauthority_v1_token_service_proto.Package())
	out := map[string]string{}
	for path, item := range doc.Paths {
		for method, raw := range item {
			switch method {
			case "get", "put", "post", "delete", "patch":
			default:
				continue // parameters, summary, ...
			}
			var op struct {
				OperationID string `json:"operationId"`
			}
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("read the embedded OpenAPI document: %s %s: %w", method, path, err)
			}
			svc, rpc, ok := strings.Cut(op.OperationID, "_")
			if !ok {
				continue
			}
			out[strings.ToUpper(method)+" "+path] = "/" + pkg + "." + svc + "/" + rpc
		}
	}
	return out, nil
}

// admitBeforeBody is the gateway middleware that runs admit for the
// route's method after recordRoute named the route and before the
// generated handler reads the body, so that a request refused by a rate
// limit costs no decoding.
func admitBeforeBody(admit AdmitFunc, methods map[string]string, errs *errorResponder) runtime.Middleware {
	return func(next runtime.HandlerFunc) runtime.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request, pathParams map[string]string) {
			method, ok := methods[exchangeFrom(r.Context()).route]
			if !ok {
				next(w, r, pathParams)
				return
			}
			ctx, err := admit(r.Context(), method)
			if err != nil {
				// Closing the connection after the answer spares reading
				// the body: net/http would otherwise read what is left of
				// it (up to 256 KiB) before answering, to keep the
				// connection alive.
				w.Header().Set("Connection", "close")
				errs.handleError(r.Context(), nil, nil, w, r, err)
				return
			}
			if ctx != r.Context() {
				r = r.WithContext(ctx)
			}
			next(w, r, pathParams)
		}
	}
}
