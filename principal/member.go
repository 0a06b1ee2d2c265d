package principal

import "context"

type trustedUserKey struct{}

// WithTrustedUser returns ctx for a request made by the workspace member
// userID, as vouched for by a trusted single sign-on proxy. Only an adapter
// that has checked where the request came from may call it (the REST facade
// does, for addresses of --trusted-proxies). It is a context value rather than
// metadata so that no client can claim it: gRPC metadata and HTTP headers
// never reach it.
func WithTrustedUser(ctx context.Context, userID string) context.Context {
	return context.WithValue(ctx, trustedUserKey{}, userID)
}

// TrustedUser returns the member set by WithTrustedUser; an empty user id
// counts as none.
func TrustedUser(ctx context.Context) (string, bool) {
	u, ok := ctx.Value(trustedUserKey{}).(string)
	return u, ok && u != ""
}
