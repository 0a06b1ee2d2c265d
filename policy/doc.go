// Package policy decides whether a caller may reach a model zoo for an
// operation. It is the access table of the product as a pure function, so
// the gRPC service, the Envoy ext_authz server and the HTTP auth_request
// endpoint cannot disagree about it.
//
//	zoo      operation        no token                  zoo's workspace        another workspace
//	public   download         allow REASON_PUBLIC       allow REASON_VALID     allow REASON_VALID
//	public   cloud inference  deny  TOKEN_REQUIRED      allow REASON_VALID     allow REASON_VALID
//	private  download         deny  ZOO_NOT_FOUND       allow REASON_VALID     deny  ZOO_NOT_FOUND
//	private  cloud inference  deny  ZOO_NOT_FOUND       allow REASON_VALID     deny  ZOO_NOT_FOUND
//	missing  either           deny  ZOO_NOT_FOUND       deny  ZOO_NOT_FOUND    deny  ZOO_NOT_FOUND
//
// A private zoo that the caller may not see is answered exactly like a zoo
// that does not exist, so that probing names reveals nothing. Anything the
// table does not name (an unspecified or unknown visibility or operation)
// is denied with REASON_ZOO_NOT_FOUND: the policy fails closed.
//
// How it can hurt you: Decide trusts its Caller. Validate the presented
// token first (a presented but invalid token must be denied with its own
// reason, even where no token would have been allowed) and build the Caller
// from the stored token, never from anything the client sent.
package policy
