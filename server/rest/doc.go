// Package rest serves the tokenauthority API over HTTP/JSON: a grpc-gateway
// facade that calls the gRPC service implementations in-process, beside a
// few plain endpoints (/openapi.json, /swagger.json, /healthz, /readyz, /metrics).
//
// JSON uses the proto field names (snake_case) and always includes
// unpopulated fields, because the hub SDK reads keys such as created_at that
// the gateway's default marshaler would rename or drop. Every error response
// is a JSON object with a human-readable "detail", which is what the SDK
// shows its users.
//
// The self-service paths carry token secrets (/api/v1/tokens/{token}/info),
// so nothing here logs or labels a raw path or query: requests are known by
// their route pattern only. The gateway path bypasses gRPC interceptors; the
// services authenticate each call themselves from the "authorization"
// metadata, which the gateway copies from the HTTP Authorization header.
// Over HTTPS, the connection's TLS state is put into the request context as
// a gRPC peer, so that a client certificate authenticates a REST call
// exactly as it does a gRPC one. GET /v1/admin/backup (Config.Backup) is a
// plain handler that gets the same metadata and leaves authorization to the
// backup function; a failure after the first byte aborts the connection
// rather than end a short snapshot cleanly.
//
// With Config.TrustedUser (member mode) a request from a trusted proxy
// address that names a user in the configured header reaches the services as
// that workspace member (principal.WithTrustedUser), on a context value that no
// header or metadata can forge. A mistake in --trusted-proxies, or a proxy
// that passes a client's own header through, lets anyone act as any member.
// The proxy's login cookie comes with requests other sites make a browser
// send, so a signed-in request that changes something must be JSON and, when
// it names an Origin, come from the hub's own or an allowed one
// (crossorigin.go); this is checked in the one middleware every route goes
// through. From a trusted proxy the last X-Forwarded-For address becomes the
// request's peer: a proxy that lets a client choose that entry lets it choose
// its audit address, rate-limit bucket and the address a seed's poller shows.
//
// # How it can hurt you
//
// The two routes on every download's path, POST /v1/tokens:validate and
// POST /v1/access:check, skip the gateway's router (hot.go) but nothing
// else: same marshaler, same incoming metadata, same service method, same
// error handler. A new gateway option that changes requests or responses
// must be checked against them; TestHotRoutesAnswerAsTheGateway compares
// both ways. JSON goes through fastjson.go, which writes protojson's output
// for the field kinds the API uses and hands anything else to protojson;
// a new field kind needs no change, but a message-level JSON option set on
// the gateway's marshaler would not reach it (jsonMarshaler is where both
// live).
//
// Decode errors are reworded (decode_errors.go) from the texts of protojson
// and of the gateway's query parser, matched by pattern: a new version
// that words them differently falls back to a general sentence, never to
// its own text, and TestDecodeErrorsNameTheFieldNotTheParser fails. The
// routes are mapped to their gRPC methods from the embedded OpenAPI
// document (admit.go), so that Config.Admit runs before the body is read;
// a route missing from it is admitted unlimited here and limited only
// after decoding, by the service.
package rest
