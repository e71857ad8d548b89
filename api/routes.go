package api

import (
	"net/http"
	"strings"
)

// v3Prefix is the base of every account route (the seed's base URL + /{account_id}).
const v3Prefix = "/v3/voice/{account_id}"

// route is one registered endpoint and its documentation; api/openapi.json is generated
// from the list of them (go test ./api -run TestOpenAPIFile -update), and a test checks
// that the committed document matches it.
type route struct {
	Method string
	Path   string // relative to v3Prefix for account routes, absolute for operational ones
	Access access
	// Operational routes (health, metrics, docs) take no key and no rate limit.
	Operational bool

	Tag         string
	Summary     string
	Description string
	Message     string // the success envelope's message
	Status      int    // the success status; 0 = 200
	Request     any    // a zero value of the JSON body type, nil when there is no body
	Result      any    // a zero value of the result type
	Query       []queryParam
}

type queryParam struct {
	Name, Description string
}

// pattern is the route's ServeMux pattern.
func (rt *route) pattern() string {
	if rt.Operational {
		return rt.Method + " " + rt.Path
	}
	return rt.Method + " " + v3Prefix + rt.Path
}

// fullPath is the route's path as OpenAPI writes it.
func (rt *route) fullPath() string {
	if rt.Operational {
		return rt.Path
	}
	return v3Prefix + rt.Path
}

// apiHandler serves an authenticated account route; an error it returns is written as the
// error envelope by the one mapper (writeError).
type apiHandler func(w http.ResponseWriter, r *http.Request, c *caller) error

// handleAPI registers an account route: the caller is authenticated and rate-limited for
// rt.Access before h runs. Webhook routes register through this too.
func (s *Server) handleAPI(rt route, h apiHandler) {
	s.routes = append(s.routes, &rt)
	s.mux.HandleFunc(rt.pattern(), func(w http.ResponseWriter, r *http.Request) {
		c, err := s.authenticate(w, r, rt.Access)
		if err == nil {
			err = h(w, r, c)
			if r.Method != http.MethodGet {
				s.cache.dropAccount(c.accountID)
			}
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// operational registers a route outside the account API. pattern is "METHOD /path".
func (s *Server) operational(pattern, summary string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, &route{Method: method, Path: path, Operational: true, Tag: "Operations", Summary: summary})
	s.mux.HandleFunc(pattern, h)
}
