package rest

import (
	_ "embed"
	"net/http"
)

// openapiDoc is generated from the protos by protoc-gen-openapiv2 and
// embedded so that the binary always serves the document of its own API.
//
//go:embed openapi/tokenauthority.swagger.json
var openapiDoc []byte

// OpenAPI returns the embedded OpenAPI (Swagger 2.0) document of the REST
// API. The caller owns the returned copy.
func OpenAPI() []byte {
	return append([]byte(nil), openapiDoc...)
}

// serveOpenAPI answers GET /openapi.json.
func serveOpenAPI(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write(openapiDoc)
}
