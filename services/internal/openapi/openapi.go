// Package openapi embeds the OpenAPI 3 document of the whole shop API (auth and backend) and
// serves it at contract.PathOpenAPI. The test in this package keeps it honest: every route
// the services register is documented, and every documented route is registered.
package openapi

import (
	_ "embed"
	"net/http"
	"strconv"
)

//go:embed openapi.yaml
var document []byte

// Document returns the YAML document.
func Document() []byte { return document }

// ContentType is the media type of the document (RFC 9512).
const ContentType = "application/yaml"

// Handler serves the document.
func Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		h := w.Header()
		h.Set("Content-Type", ContentType)
		h.Set("Content-Length", strconv.Itoa(len(document)))
		h.Set("Cache-Control", "public, max-age=300")
		_, _ = w.Write(document)
	})
}
