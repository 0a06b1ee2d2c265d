package principal

import "context"

// memberPrefix marks the Name of a member in audit events, so that a
// member and a service credential of the same name stay apart.
const memberPrefix = "user:"

// Principal is the caller a request was authorized as. The zero value is
// the caller of a public method, which no credential authorized.
type Principal struct {
	// Name is the service credential's name, or "user:<id>" for a
	// member; it is the actor of the request's audit event.
	Name string
	// Member is the user id of a workspace member signed in through a
	// trusted proxy; empty for a service credential.
	Member string
}

// Credential is the principal of a request authorized by the service
// credential name.
func Credential(name string) Principal { return Principal{Name: name} }

// Member is the principal of a request made by the workspace member user
// (see TrustedUser).
func Member(user string) Principal { return Principal{Name: memberPrefix + user, Member: user} }

// IsCredential reports whether a service credential authorized the request.
func (p Principal) IsCredential() bool { return p.Name != "" && p.Member == "" }

type principalKey struct{}

// NewContext returns ctx carrying p. Only the services' authorization
// calls it, once it has decided who the caller is.
func NewContext(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// FromContext returns the principal NewContext put into ctx, or the zero
// Principal and false.
func FromContext(ctx context.Context) (Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(Principal)
	return p, ok
}
