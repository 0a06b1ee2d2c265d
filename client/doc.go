// Package client is the Go client of the token authority for hub services:
// Dial or New with a service credential, Validate and CheckAccess, and a
// gRPC server interceptor and a net/http middleware that protect a handler
// with one call. The middleware and the interceptor read the token the way
// the hub SDK sends it (a "token" header, or "Authorization: Bearer"), ask
// the authority, and put its Verdict in the request context; they answer
// 401/403 with a JSON "detail" (or Unauthenticated/PermissionDenied)
// otherwise, split and worded by package reason exactly as the authority's
// own gateways do. The package imports only the generated API, package
// reason and grpc-go.
//
// How it can hurt you: with WithCache, a positive answer is reused for up
// to the cache's TTL (never past the token's expiry), so a token revoked
// at the authority keeps working here for up to that long; the cache is off
// by default, and negative answers are never cached. When the authority is
// unreachable every protected request fails (503 / Unavailable): the
// middleware fails closed. The service credential travels as gRPC metadata;
// use transport security (WithTransportCredentials) anywhere but loopback.
package client
