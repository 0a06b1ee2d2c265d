package authz

import authv3 "github.com/envoyproxy/go-control-plane/envoy/service/auth/v3"

// EnvoyHeader returns the header of that lower-case name of the HTTP
// request an Envoy CheckRequest describes, read as the gateway reads the
// token headers (from headers, or from header_map when Envoy encodes raw
// headers). The server reads the client's traceparent with it.
func EnvoyHeader(h *authv3.AttributeContext_HttpRequest, name string) string {
	return envoyHeader(h, name)
}
