// Package server implements the gRPC services of tokenauthority:
// WorkspaceService, TokenService and SelfService, and Envoy's ext_authz
// Authorization service (a thin wrapper over package authz). Token
// validations and access decisions come from package access, the one
// decision path that the gateways share; ForwardAuth hands the HTTP
// forward-auth handler to the REST facade.
//
// Every handler has the same shape: authorize, check the request, call the
// store, map the error. Authorization happens inside the handlers rather than
// in an interceptor because the REST gateway calls these handlers in-process
// and never passes through gRPC interceptors; one table (auth.go) says which
// role each method needs, and a method missing from it is refused.
//
// Errors become gRPC status codes in exactly one place (errors.go). Messages of
// errors the package does not recognise are logged, never sent to clients.
//
// Secrets pass through this package only on their way to the caller who is
// entitled to them (CreateToken, RevealToken, RefreshToken, PickSeedToken);
// they never enter logs or error messages.
package server
