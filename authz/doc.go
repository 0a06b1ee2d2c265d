// Package authz puts the authority in front of model servers: Envoy's
// ext_authz Check over gRPC, HTTP forward auth for nginx auth_request,
// Caddy forward_auth and Traefik ForwardAuth, and the path rules that turn
// an original request URI into a zoo and an operation. Both adapters are
// thin: they find the token and the target, ask package access, and render
// its Decision. daemon builds the Gateway over the server's decision path
// and registers Envoy's Check (RegisterEnvoy) behind the server's guard.
//
// Envoy's ext_authz messages bypass protobuf-go on the hot path
// (EnvoyCodec; envoy_decode.go, envoy_encode.go): the CheckRequest is
// decoded only as far as the gateway reads it (TokenHeaders, the one list
// the token lookup also reads, and the trace context TracedCheck
// continues), and the CheckResponse is encoded by hand.
// go-control-plane's MarshalVTStrict (build tag vtprotobuf) is about as
// fast but writes strings that are not UTF-8; it ships no decoder.
//
// How it can hurt you: a gateway trusts these answers for every request it
// forwards. The identity headers (x-workspace-id, x-token-id, x-user-id)
// are only safe upstream if the gateway overwrites them on every allowed
// request and removes them on an anonymous one; the Envoy answer says so
// itself, but nginx, Caddy and Traefik must be configured to do it (see
// docs/gateways.md). The path check judges the request target exactly as
// the proxy forwards it: a target that is not a plain path ('#', ';',
// bytes outside pchar, double or non-ASCII encoding, dot segments) is
// denied, never normalized, because the model server may resolve it
// differently; loosening it lets a public path reach a private zoo. A rule
// file that maps a path too broadly grants what it names. Forward auth
// sees only what the proxy forwards, in one header family: a request with
// both X-Original-* and X-Forwarded-*, or one of them twice, is denied
// (Caddy and Traefik pass a client's own headers on), and a proxy that
// sends neither gets 403 for every request. A newer Envoy API with new
// fields is decoded and encoded only as far as the codec knows it: tests
// hold both halves to protobuf-go (field numbers from the descriptors,
// every response field written or refused, fuzz targets comparing the
// bytes), so updating go-control-plane without updating them fails the
// tests rather than dropping a field. A header that carries the token but
// is missing from TokenHeaders is dropped by the decoder before anyone
// reads it.
package authz
