// Package access is the one decision path of the authority: a presented
// secret becomes a verdict (which token, valid or why not), and a verdict,
// a zoo and an operation become a decision. The gRPC handlers, Envoy's
// ext_authz Check, HTTP forward auth and (through the gRPC API) the client
// middleware all call it, so no entry point can decide differently.
//
// The token rules (state and verdict under the workspace's token policy,
// scopes) live in package lifecycle and the access table in package policy;
// this package calls them and adds only what joins them: the lookup by hash
// with the membership of the token's user and its workspace's policy, and "a
// presented token that is not valid is denied with its reason even where no
// token would have been allowed".
//
// How it can hurt you: a Decision is only as fresh as the store read that
// made it; a caller that caches decisions extends a revoked token's life by
// its cache lifetime. A Decision with Allowed set and an empty WorkspaceID
// is an anonymous allow: adapters must then strip any identity a client
// sent rather than forward it. Errors are storage failures, never denials;
// an adapter that turns an error into "allow" fails open. A verdict's
// Record is the caller's own, but a Verdict's Policy is the store's,
// shared by every lookup: never change it. ResolveInto decodes the token
// into the caller's record (a plain storagepb.TokenRecord): reusing that
// record while a verdict's Record is still in use changes it underneath
// (strings copied out of it stay as they were). Decide decodes into a
// pooled record it takes back before returning, so a Decision holds the
// token's ids but not the token, and Config.OnUse must not keep the token
// it is given. With a Config.Tracer,
// a decision made inside a recorded span gets a span of its own (trace.go) whose attributes name the
// token and zoo by id and the reason; never put the secret or anything
// derived from it there, spans leave the process.
package access
