package api

import (
	"net/http"
	"strings"

	"switchboard"
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
	// Needs is the optional service the route cannot answer without; while Config leaves it
	// out, the route layer answers 503 SERVICE_UNAVAILABLE before the handler runs.
	Needs optionalService
	// Operational routes (health, metrics, docs) take no key and no rate limit.
	Operational bool
	// Action routes (sending an SMS, placing a call) change nothing the read cache holds:
	// they leave it alone. Every other route but GET drops the account's cached reads.
	Action bool

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
// rt.Access, and the service the route needs is there, before h runs.
func (s *Server) handleAPI(rt route, h apiHandler) {
	s.routes = append(s.routes, &rt)
	s.mux.HandleFunc(rt.pattern(), func(w http.ResponseWriter, r *http.Request) {
		c, err := s.authenticate(w, r, rt.Access)
		if err == nil {
			err = s.unavailable(rt.Needs)
		}
		if err == nil {
			err = h(w, r, c)
			if r.Method != http.MethodGet && !rt.Action {
				s.cache.dropAccount(c.accountID)
			}
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}

// byID adapts the handler of one resource to apiHandler: it reads the numeric path
// parameter name ({webhook_id} …) first, answering 400 when it is not a positive integer.
func byID(name string, h func(w http.ResponseWriter, r *http.Request, c *caller, id int64) error) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		id, err := pathID(r, name)
		if err != nil {
			return err
		}
		return h(w, r, c, id)
	}
}

// operational registers a route outside the account API. pattern is "METHOD /path".
func (s *Server) operational(pattern, summary string, h http.HandlerFunc) {
	method, path, _ := strings.Cut(pattern, " ")
	s.routes = append(s.routes, &route{Method: method, Path: path, Operational: true, Tag: "Operations", Summary: summary})
	s.mux.HandleFunc(pattern, h)
}

// optionalService names a service that Config may leave out.
type optionalService int

const (
	needsNothing optionalService = iota
	needsWebhooks
	needsCallRecords
	needsCalls
	needsSMS
	needsProvisioning
	needsTrunks
	needsCallControl
	needsConferences
	needsVoicemail
	needsRecordings
	needsTranscripts
)

// unavailable is the one place a missing service becomes an answer: 503 SERVICE_UNAVAILABLE
// saying what is not configured, or nil when the service is there.
func (s *Server) unavailable(need optionalService) error {
	switch {
	case need == needsWebhooks && s.webhooks == nil:
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Webhook delivery is not configured on this server")
	case need == needsCallRecords && s.callRecords == nil:
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Call records are not available on this store")
	case need == needsCalls && s.calls == nil:
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Placing calls is not available: no SIP trunk or SIP service is configured on this server")
	case need == needsSMS && s.sms == nil:
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Sending SMS is not available: no SMS gateway is configured on this server")
	case need == needsProvisioning && s.provision == nil:
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Provisioning is not available: no provisioning service is configured on this server")
	case need == needsRecordings && s.recordings == nil:
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Call recording is not configured on this server")
	case need == needsTranscripts && s.transcripts == nil:
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Transcripts are not available on this server")
	case need == needsVoicemail && s.voicemail == nil:
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Voicemail is not configured on this server")
	case need == needsTrunks && s.trunks == nil:
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "SIP trunks are not available: no call engine is configured on this server")
	case need == needsConferences && s.conferences == nil:
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Conference rooms in progress are not available: no call engine is running on this server")
	case need == needsCallControl && s.callControl == nil:
		return switchboard.Errorf(switchboard.EUNAVAILABLE, "Call control is not available: no SIP service is running on this server")
	}
	return nil
}
