package api

import (
	_ "embed"
	"net/http"
)

// openAPIDocument is the committed OpenAPI 3.1 document of every route (api/openapi.json);
// TestOpenAPIFile checks it matches the routes, and regenerates it with -update.
//
//go:embed openapi.json
var openAPIDocument []byte

func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Write(openAPIDocument)
}
