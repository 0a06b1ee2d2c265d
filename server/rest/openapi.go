package rest

import (
	_ "embed"
	"net/http"
)

// The documents of the REST API, generated from the protos by buf generate
// (internal/protoc-gen-openapi3) and embedded so that the binary always
// serves the documents of its own API.
var (
	//go:embed openapi/tokenauthority.openapi.json
	openapiDoc []byte
	//go:embed openapi/tokenauthority.swagger.json
	swaggerDoc []byte
)

// OpenAPI returns the embedded OpenAPI 3 document of the REST API, served
// at GET /openapi.json. The caller owns the returned copy.
func OpenAPI() []byte {
	return append([]byte(nil), openapiDoc...)
}

// Swagger returns the embedded Swagger 2.0 document of the REST API, served
// at GET /swagger.json for older tools. The caller owns the returned copy.
func Swagger() []byte {
	return append([]byte(nil), swaggerDoc...)
}

// serveDocument answers GET /openapi.json or GET /swagger.json.
func serveDocument(doc []byte) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	}
}
