package rest

import (
	"context"
	"errors"
	"io"
	"net/http"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	pb "tokenauthority/gen/tokenauthority/v1"
)

// hotRoute serves one of the routes every model download and inference
// call goes through, without the gateway's router: it decodes the body with
// the facade's marshaler, calls the same service method the gateway would,
// with the same incoming metadata (runtime.AnnotateIncomingContext), and
// answers through the gateway's own runtime.HTTPError (so the facade's one
// error handler) and runtime.ForwardResponseMessage. Only the route lookup,
// a context and a few copies are saved, which on these routes is a tenth of
// the server's CPU per request.
type hotRoute struct {
	// path is the route's exact path, which is also its pattern.
	path string
	// route is its label in logs and metrics, as recordRoute writes it.
	route string
	// method is the gRPC full method name.
	method string
	// call decodes the request from dec and calls the service.
	call func(ctx context.Context, dec runtime.Decoder) (proto.Message, error)
}

// hotRoutes are the POST routes served by hotRoute.
func hotRoutes(tokens pb.TokenServiceServer) map[string]*hotRoute {
	routes := []*hotRoute{
		{
			path:   "/v1/tokens:validate",
			method: pb.TokenService_ValidateToken_FullMethodName,
			call: func(ctx context.Context, dec runtime.Decoder) (proto.Message, error) {
				req := &pb.ValidateTokenRequest{}
				if err := decodeRequest(dec, req); err != nil {
					return nil, err
				}
				return tokens.ValidateToken(ctx, req)
			},
		},
		{
			path:   "/v1/access:check",
			method: pb.TokenService_CheckAccess_FullMethodName,
			call: func(ctx context.Context, dec runtime.Decoder) (proto.Message, error) {
				req := &pb.CheckAccessRequest{}
				if err := decodeRequest(dec, req); err != nil {
					return nil, err
				}
				return tokens.CheckAccess(ctx, req)
			},
		},
	}
	byPath := make(map[string]*hotRoute, len(routes))
	for _, r := range routes {
		r.route = http.MethodPost + " " + r.path
		byPath[r.path] = r
	}
	return byPath
}

// decodeRequest reads the body as the generated gateway code does: an
// empty body is an empty request, anything unreadable InvalidArgument.
func decodeRequest(dec runtime.Decoder, req proto.Message) error {
	if err := dec.Decode(req); err != nil && !errors.Is(err, io.EOF) {
		return status.Errorf(codes.InvalidArgument, "%v", err)
	}
	return nil
}

// hot sends the hot routes' requests to their hotRoute and every other
// request to next. A method override, which the gateway honours, and a path
// with escapes (RawPath set), which the gateway matches in its escaped form,
// take the gateway's way too.
func hot(routes map[string]*hotRoute, gw *runtime.ServeMux, m *jsonMarshaler, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && r.URL.RawPath == "" && r.Header.Get("X-HTTP-Method-Override") == "" {
			if h, ok := routes[r.URL.Path]; ok {
				h.serve(w, r, gw, m)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (h *hotRoute) serve(w http.ResponseWriter, r *http.Request, gw *runtime.ServeMux, m *jsonMarshaler) {
	exchangeFrom(r.Context()).route = h.route
	var stream runtime.ServerTransportStream
	ctx := grpc.NewContextWithServerTransportStream(r.Context(), &stream)
	ctx, err := runtime.AnnotateIncomingContext(ctx, gw, r, h.method, runtime.WithHTTPPathPattern(h.path))
	if err != nil {
		runtime.HTTPError(ctx, gw, m, w, r, err)
		return
	}
	resp, err := h.call(ctx, m.NewDecoder(r.Body))
	ctx = runtime.NewServerMetadataContext(ctx, runtime.ServerMetadata{HeaderMD: stream.Header(), TrailerMD: stream.Trailer()})
	if err != nil {
		runtime.HTTPError(ctx, gw, m, w, r, err)
		return
	}
	runtime.ForwardResponseMessage(ctx, gw, m, w, r, resp, gw.GetForwardResponseOptions()...)
}
