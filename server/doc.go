// Package server implements the gRPC services of tokenauthority:
// WorkspaceService, TokenService, SelfService and AuditService. Token
// validations and access decisions come from package access, the one
// decision path that the gateways share. The gateways themselves (Envoy's
// ext_authz Check, HTTP forward auth) are package authz's, wired by daemon
// beside these services: this package knows Check only by name
// (EnvoyCheckMethod) in its tables, runs it behind them (Guarded), puts
// forward auth under the gateway limiter (LimitGateway), and decodes with
// the codec daemon hands it (Config.Codec, authz.EnvoyCodec).
//
// Every handler has the same shape: authorize, check the request, call the
// store, map the error. Authorization happens inside the handlers rather than
// in an interceptor because the REST gateway calls these handlers in-process
// and never passes through gRPC interceptors; one table (auth.go) says which
// role each method needs, and a method missing from it is refused.
//
// The same table holds member mode: a request that a trusted single sign-on
// proxy vouched for (principal.WithTrustedUser, set only by the REST facade,
// never from metadata) may call the "owner" methods, narrowed to the member's own tokens
// in workspaces they belong to (member.go). How it can hurt you: whoever can
// reach the HTTP port from a trusted proxy address can name any user, so the
// proxy must be the only way in and must overwrite the header.
//
// The audit log gets one event per change, built in handle from a second
// table (actions.go: method -> action, also fail-closed) with the caller,
// the client address (the gRPC peer, which the REST facade also sets) and
// the ids the request names; a handler that learns an id only later (a new
// token's) sets it with setAuditTarget before its store write, which
// records the event in the same transaction. RevealToken records its event
// with RecordAudit before the secret is returned; a repeated SDK refresh
// (--refresh-reuse-interval) hands a successor's secret out again, and its
// token.refresh event, naming that successor, is committed before it
// leaves. How it can hurt you: a
// new handler that writes state under a method mapped to notAudited leaves
// no trace, and a handler must never put a secret into an event.
//
// Errors become gRPC status codes in exactly one place (errors.go). Messages of
// errors the package does not recognise are logged, never sent to clients.
//
// The methods that need no service credential are held to a per-address rate
// limit before their request is read: on gRPC by the tap handle
// (transport.go), on REST by the facade calling AdmitOpen before it decodes
// the body; handle limits only calls that neither admitted. The gRPC port's
// own limits (streams, header size, handshake and request read timeouts,
// keepalive) are in transport.go and apply only to gRPC. The request read
// timeout cancels a stream from a tap handle: a streaming method that waits
// longer than it for its first message is cancelled too. How it can hurt
// you: a new way into the services (another facade) that neither goes
// through the tap nor calls AdmitOpen is still limited by handle, but only
// after it has decoded the request.
//
// Leak reports are answered when queued and revoked by one worker
// (leaks.go), so the answer says nothing about a match; Close drains the
// queue and must run before the store closes. How it can hurt you: a report
// answered but still queued when the process dies is lost, by design; and
// the queue refuses (429) when full rather than growing.
//
// A request message that is not valid protobuf is answered InvalidArgument
// (codec_errors.go): the codec reports success and leaves the failure for
// the unary interceptor or the stream wrapper, since grpc-go answers any
// codec error with Internal. How it can hurt you: a service registered
// without ServerOptions' interceptors would get an empty message instead
// of the error; a service registered beside the server's own without
// Guarded skips the authorization table and the limits.
//
// Secrets pass through this package only on their way to the caller who is
// entitled to them (CreateToken, RevealToken, RefreshToken, PickSeedToken);
// they never enter logs or error messages.
//
// PickSeedToken notes who polls each seed (pollers.go) so that the page can
// tell a member where a token for a link would go. The notes live in memory
// only, for a minute, keyed by the seed's SHA-256, and are capped: a full
// tracker ignores new seeds rather than forget one being polled, so a flood
// of made-up seeds makes a genuine new request show "No program is waiting"
// (a false alarm, never a false all-clear). GetSeedPollers needs the page's
// credential: an outsider who knows a seed learns nothing of its pollers.
package server
