// Package reason holds what every entry point says about a verdict's
// reason: whether it is about the token itself (HTTP 401, Unauthenticated)
// or about what the token may reach (HTTP 403, PermissionDenied), which
// reasons say a presented token is not valid (tokenctl's exit codes), and
// the sentence shown to a person. The authority's gRPC handlers and gateways
// and the Go client's middleware all use it, so a hub service protected by
// the client answers a denial exactly as the authority's own gateways do.
// It imports only the generated API.
//
// How it can hurt you: a reason added to the API falls through to 403 and
// the generic sentence until it is added here; TestEveryReasonIsPlaced
// fails until then.
package reason
