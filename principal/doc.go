// Package principal says who is calling: the workspace member a trusted
// single sign-on proxy vouched for (WithTrustedUser, TrustedUser), the
// caller a request was authorized as (Principal, NewContext, FromContext),
// and the level at which a caller's error is logged (LogLevel). It is a
// leaf: the REST facade sets the member, the page reads it, the services
// authorize by it, and none of them needs another's package for that.
//
// Both identities travel as context values of unexported key types, never
// as metadata or headers, so no client can claim them: only code that
// calls WithTrustedUser or NewContext can.
//
// How it can hurt you: WithTrustedUser believes its argument. Only an
// adapter that has checked where the request came from may call it (the
// REST facade does, for addresses of --trusted-proxies); any other caller
// lets a request act as any workspace member. A Principal in a context is
// what the services' authorization decided: code that builds one itself,
// or keeps a context past its request, hands out that decision. LogLevel
// keeps client-caused failures at Debug; a code moved to Error lets any
// client fill the error log at will.
package principal
