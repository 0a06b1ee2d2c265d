package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strconv"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
)

// errorBody is the JSON of every non-2xx response: the gRPC status fields
// that grpc-gateway clients expect, plus "detail", the sentence the hub SDK
// shows to its user.
type errorBody struct {
	Code    codes.Code        `json:"code"`
	Message string            `json:"message"`
	Detail  string            `json:"detail"`
	Details []json.RawMessage `json:"details"`
}

// writeError writes body as the response with the given HTTP status.
func writeError(w http.ResponseWriter, httpStatus int, body errorBody) {
	if body.Details == nil {
		body.Details = []json.RawMessage{}
	}
	if body.Detail == "" {
		body.Detail = http.StatusText(httpStatus)
	}
	// No HTML escaping: the bodies are JSON for programs and terminals,
	// where "\u003ccredential\u003e" is unreadable, and are served as
	// application/json, never as HTML.
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	err := enc.Encode(body)
	buf := bytes.TrimSuffix(out.Bytes(), []byte("\n"))
	if err != nil {
		// Only RawMessage details could fail, and they come from protojson.
		buf = []byte(`{"code":13,"message":"internal error","detail":"The server could not encode its error.","details":[]}`)
		httpStatus = http.StatusInternalServerError
	}
	h := w.Header()
	h.Del("Trailer")
	h.Del("Transfer-Encoding")
	h.Del("Content-Length")
	h.Set("Content-Type", "application/json")
	if body.Code == codes.Unauthenticated {
		h.Set("WWW-Authenticate", "Bearer")
	}
	w.WriteHeader(httpStatus)
	_, _ = w.Write(buf)
}

// errorResponder turns the gateway's errors into error bodies.
type errorResponder struct {
	log     *slog.Logger
	maxBody int64
}

// handleError is the gateway's runtime.ErrorHandlerFunc.
func (e *errorResponder) handleError(ctx context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	httpStatus, body := e.describe(ctx, err)
	ex := exchangeFrom(ctx)
	ex.code, ex.errored = body.Code, true
	if s, ok := status.FromError(err); ok {
		for _, d := range s.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok {
				secs := int(math.Ceil(ri.GetRetryDelay().AsDuration().Seconds()))
				w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			}
		}
	}
	writeError(w, httpStatus, body)
}

// describe maps an error of the gateway or of a service to an HTTP status
// and an error body.
func (e *errorResponder) describe(ctx context.Context, err error) (int, errorBody) {
	ex := exchangeFrom(ctx)
	switch {
	case ex.bodyTooLarge:
		// Checked first: hitting the limit also fails the decode.
		msg := fmt.Sprintf("request body larger than %d bytes", e.maxBody)
		return http.StatusRequestEntityTooLarge, errorBody{
			Code:    codes.ResourceExhausted,
			Message: msg,
			Detail:  fmt.Sprintf("The request body is larger than the limit of %d bytes.", e.maxBody),
		}
	case ex.decodeErr != nil:
		// The service was never called: decoding failed first. The
		// decoder's own text (positions, parser names) is for the log.
		e.log.DebugContext(ctx, "request body not decoded", slog.String("route", routeLabel(ex)), slog.String("error", ex.decodeErr.Error()))
		detail := decodeDetail(ex.decodeMsg, ex.decodeErr)
		return http.StatusBadRequest, errorBody{
			Code:    codes.InvalidArgument,
			Message: detail,
			Detail:  detail,
		}
	}

	var withStatus *runtime.HTTPStatusError
	if errors.As(err, &withStatus) {
		// The gateway's own errors with a fixed HTTP status, such as a
		// malformed escape sequence in the path.
		body := errorBody{Code: codes.InvalidArgument, Message: withStatus.Err.Error(), Detail: withStatus.Err.Error()}
		if s, ok := status.FromError(withStatus.Err); ok {
			body = statusBody(s)
		}
		return withStatus.HTTPStatus, body
	}

	s, ok := status.FromError(err)
	if !ok {
		// Not a status: its text may describe internals, so it is logged and
		// the client gets a generic answer.
		e.log.ErrorContext(ctx, "request failed with an error that is not a gRPC status",
			slog.String("route", routeLabel(ex)), slog.Any("error", err))
		return http.StatusInternalServerError, errorBody{
			Code:    codes.Unknown,
			Message: "unknown error",
			Detail:  "The server failed to handle the request.",
		}
	}
	if s.Code() == codes.InvalidArgument {
		// The gateway's own query parameter errors.
		if detail, ok := queryParamDetail(s.Message()); ok {
			return http.StatusBadRequest, errorBody{Code: codes.InvalidArgument, Message: detail, Detail: detail}
		}
	}
	return runtime.HTTPStatusFromCode(s.Code()), statusBody(s)
}

// statusBody is the error body of a status, whose message is already a
// sentence meant for a person.
func statusBody(s *status.Status) errorBody {
	body := errorBody{Code: s.Code(), Message: s.Message(), Detail: s.Message()}
	for _, d := range s.Proto().GetDetails() {
		buf, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(d)
		if err != nil {
			// A detail of a type this binary does not know cannot be
			// rendered as JSON; the rest of the error still can.
			continue
		}
		body.Details = append(body.Details, buf)
	}
	return body
}

// wellKnownFormats explain the JSON forms of the well-known types that
// people get wrong, such as a date where a timestamp is expected: protojson
// only says "invalid google.protobuf.Timestamp value".
var wellKnownFormats = []struct {
	value         *regexp.Regexp
	want, example string
}{
	{regexp.MustCompile(`invalid google\.protobuf\.Timestamp value (".*")`), "an RFC 3339 time", "a time such as \"2027-12-31T00:00:00Z\""},
	{regexp.MustCompile(`invalid google\.protobuf\.Duration value (".*")`), "a duration in seconds", "a duration such as \"600s\""},
}

// handleRoutingError is the gateway's runtime.RoutingErrorHandlerFunc, for
// requests that match no route of the API.
func handleRoutingError(_ context.Context, _ *runtime.ServeMux, _ runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	writeError(w, httpStatus, routingErrorBody(r, httpStatus))
}

// routingErrorBody describes a routing failure without echoing the path,
// which may hold a secret.
func routingErrorBody(r *http.Request, httpStatus int) errorBody {
	switch httpStatus {
	case http.StatusNotFound:
		return errorBody{
			Code:    codes.NotFound,
			Message: "no route matches the request path",
			Detail:  "There is no endpoint at this path; the API is described at /openapi.json.",
		}
	case http.StatusMethodNotAllowed:
		return errorBody{
			Code:    codes.Unimplemented,
			Message: "method not allowed",
			Detail:  fmt.Sprintf("This endpoint does not accept the %s method; the API is described at /openapi.json.", r.Method),
		}
	case http.StatusBadRequest:
		return errorBody{
			Code:    codes.InvalidArgument,
			Message: "malformed request path",
			Detail:  "The request path is malformed.",
		}
	default:
		return errorBody{
			Code:    codes.Internal,
			Message: "unexpected routing error",
			Detail:  "The server could not route the request.",
		}
	}
}
