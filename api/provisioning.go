package api

import (
	"context"
	"encoding/base64"
	"math"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"switchboard"
	"switchboard/flow"
)

// ProvisioningService is what the provisioning routes change an account through: defaults,
// validation, reference checks and telling the call engine are its business, not the
// handlers'. provision.Service implements it. Reads go straight to the store.
type ProvisioningService interface {
	switchboard.AccountService
	switchboard.UserService
	switchboard.DeviceService
	switchboard.QueueService
	switchboard.RingGroupService
	switchboard.NumberService
	switchboard.ContactService
	switchboard.APIKeyService
	switchboard.MusicClassService
	switchboard.PromptService
	switchboard.CallFlowService
	// SimulateCallFlow answers the path a call would take through the flow (provision.Service).
	SimulateCallFlow(ctx context.Context, accountID, id int64, sim flow.Simulation) (flow.SimulationResult, error)
	// FlowReferences answers what leads to a user, queue, ring group or call flow.
	FlowReferences(ctx context.Context, accountID int64, t switchboard.TargetType, id int64) ([]switchboard.FlowUse, error)
}

// provisioningRoutes registers the provisioning API: developer keys manage the account's
// users, devices, queues, ring groups, numbers, contacts, keys, settings and trunks. Each
// resource's routes are in its own file.
func (s *Server) provisioningRoutes() {
	s.resourceRoutes("Users", needsProvisioning, s.userRoutes())
	s.resourceRoutes("Devices", needsProvisioning, s.deviceRoutes())
	s.resourceRoutes("Queues", needsProvisioning, s.queueRoutes())
	s.resourceRoutes("Ring groups", needsProvisioning, s.ringGroupRoutes())
	s.resourceRoutes("Numbers", needsProvisioning, s.numberRoutes())
	s.resourceRoutes("Call flows", needsProvisioning, s.callFlowRoutes())
	s.resourceRoutes("Contacts", needsProvisioning, s.contactRoutes())
	s.resourceRoutes("API keys", needsProvisioning, s.apiKeyRoutes())
	s.resourceRoutes("Settings", needsProvisioning, s.settingsRoutes())
	s.resourceRoutes("Music on hold", needsProvisioning, s.musicClassRoutes())
	s.resourceRoutes(promptTag, needsProvisioning, s.promptRoutes())
	s.promptFileRoutes()
}

// resourceRoute is one provisioning route: its documentation (see route) and its handler.
type resourceRoute struct {
	method, path, summary, description string
	message                            string // the success envelope's message
	status                             int    // the success status; 0 = 200
	request, result                    any
	query                              []queryParam
	serve                              resultHandler
}

// resultHandler serves a provisioning request: it decodes, calls the service and returns
// what the success envelope carries.
type resultHandler func(w http.ResponseWriter, r *http.Request, c *caller) (any, error)

// resourceRoutes registers a resource's routes for developer keys under the OpenAPI tag.
// The answer is written here, with the status and message the route documents. Every route
// needs the service named (handleAPI answers 503 while it is missing).
func (s *Server) resourceRoutes(tag string, needs optionalService, routes []resourceRoute) {
	for _, d := range routes {
		status := d.status
		if status == 0 {
			status = http.StatusOK
		}
		h := func(w http.ResponseWriter, r *http.Request, c *caller) error {
			result, err := d.serve(w, r, c)
			if err != nil {
				return err
			}
			s.writeResult(w, status, d.message, result)
			return nil
		}
		s.handleAPI(route{Method: d.method, Path: d.path, Access: accessDeveloper, Needs: needs, Tag: tag, Summary: d.summary,
			Description: d.description, Message: d.message, Status: d.status, Request: d.request, Result: d.result, Query: d.query}, h)
	}
}

// changeRequest is a request body that converts into the root's Change type C.
type changeRequest[C any] interface{ change() C }

// The generic handlers below are the shape of most provisioning routes: decode, call the
// service, render. svc points at the Server's field of the service, read when a request
// comes (the field may be nil while routes are registered, and then they answer 503).

// pageQuery documents the paging parameters of every list paged in id order.
var pageQuery = []queryParam{
	{"limit", "Rows per page (default and at most " + strconv.Itoa(switchboard.MaxPageLimit) + ")"},
	{"offset", "Rows to skip (default 0)"},
	{"after", "Only rows with a larger id: pass the X-Next-Cursor header of the previous page"},
}

// keyPageQuery documents the paging parameters of a list kept in another order than by id
// (users by extension): its cursor is opaque.
var keyPageQuery = []queryParam{
	pageQuery[0], pageQuery[1],
	{"after", "Only rows after the previous page: pass its X-Next-Cursor header back as it is (an opaque cursor; do not build it yourself)"},
}

// parsePage reads limit, offset and after (an id) from the query string.
func parsePage(r *http.Request) (switchboard.Page, error) {
	return parsePageWith(r, idAfter)
}

// parsePageWith reads limit and offset from the query string, and after through the
// list's cursor reader, which sets the page's cursor or says what is wrong with it.
func parsePageWith(r *http.Request, after func(raw string, p *switchboard.Page) (problem string)) (switchboard.Page, error) {
	v := switchboard.ValidationErrors{}
	qs := r.URL.Query()
	num := func(name string) int64 {
		raw := qs.Get(name)
		if raw == "" {
			return 0
		}
		n, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || n < 0 {
			v.Add(name, "must be a non-negative integer, not "+strconv.Quote(raw))
			return 0
		}
		return n
	}
	limit, offset := num("limit"), num("offset")
	p := switchboard.Page{Limit: int(limit), Offset: int(offset)}
	if raw := qs.Get("after"); raw != "" {
		if problem := after(raw, &p); problem != "" {
			v.Add("after", problem)
		}
	}
	if err := v.Err(); err != nil {
		return switchboard.Page{}, err
	}
	if qs.Has("limit") && (limit < 1 || limit > switchboard.MaxPageLimit) {
		return switchboard.Page{}, badRequest("limit", "must be between 1 and "+strconv.Itoa(switchboard.MaxPageLimit))
	}
	if offset > math.MaxInt32 {
		return switchboard.Page{}, badRequest("offset", "is too large")
	}
	return p, p.Validate()
}

// idAfter reads the cursor of a list in id order: the last id of the previous page.
func idAfter(raw string, p *switchboard.Page) string {
	n, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || n < 0 {
		return "must be a non-negative integer, not " + strconv.Quote(raw)
	}
	p.After = n
	return ""
}

// keyCursor is the cursor of a list in (key, id) order: the last row's sort key and id,
// encoded so that clients pass it back rather than build it.
func keyCursor(key string, id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(id, 10) + ":" + key))
}

// keyAfter reads a keyCursor into the page's AfterKey and After.
func keyAfter(raw string, p *switchboard.Page) string {
	const bad = "is not a cursor of this list: pass the X-Next-Cursor header back as it is"
	b, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		return bad
	}
	idPart, key, ok := strings.Cut(string(b), ":")
	id, err := strconv.ParseInt(idPart, 10, 64)
	if !ok || err != nil || id <= 0 {
		return bad
	}
	p.After, p.AfterKey = id, key
	return ""
}

// writeNextPage sets X-Next-Cursor and Link rel=next when more rows follow the page. The
// Link keeps the request's other parameters (a list's filters) and drops offset: the
// cursor already stands past the rows it skipped.
func writeNextPage(w http.ResponseWriter, r *http.Request, p switchboard.Page, next string) {
	w.Header().Set("X-Next-Cursor", next)
	q := r.URL.Query()
	q.Del("offset")
	q.Set("after", next)
	q.Set("limit", strconv.Itoa(p.Size()))
	w.Header().Set("Link", "<"+r.URL.Path+"?"+q.Encode()+`>; rel="next"`)
}

// listPaged is GET on a paged collection: one page of the account's rows in id order,
// rendered. The result is the array of rows, as an unpaged list's; when more rows follow,
// the X-Next-Cursor header holds the id to pass as after, and Link the next page's URL.
func listPaged[S, T, J any](svc *S, list func(S, context.Context, int64, switchboard.Page) ([]T, bool, error),
	id func(T) int64, render func(T) J) resultHandler {
	return listPagedBy(svc, list, idAfter, func(x T) string { return strconv.FormatInt(id(x), 10) }, render)
}

// listPagedBy is listPaged with the list's own cursor: after reads it into the page, and
// cursor names the row a page ends on.
func listPagedBy[S, T, J any](svc *S, list func(S, context.Context, int64, switchboard.Page) ([]T, bool, error),
	after func(string, *switchboard.Page) string, cursor func(T) string, render func(T) J) resultHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
		p, err := parsePageWith(r, after)
		if err != nil {
			return nil, err
		}
		rows, more, err := list(*svc, r.Context(), c.accountID, p)
		if err != nil {
			return nil, err
		}
		out := make([]J, 0, len(rows))
		for _, x := range rows {
			out = append(out, render(x))
		}
		if more && len(rows) > 0 {
			writeNextPage(w, r, p, cursor(rows[len(rows)-1]))
		}
		return out, nil
	}
}

// rendered is what a handler returns for the row x it got, or for the error.
func rendered[T, J any](x T, err error, render func(T) J) (any, error) {
	if err != nil {
		return nil, err
	}
	return render(x), nil
}

// getByID is GET …/{param}: the account's row with that id, rendered. An id of another
// account is NOT_FOUND, as the store answers it.
func getByID[S, T, J any](svc *S, param string, get func(S, context.Context, int64, int64) (T, error), render func(T) J) resultHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
		id, err := pathID(r, param)
		if err != nil {
			return nil, err
		}
		x, err := get(*svc, r.Context(), c.accountID, id)
		return rendered(x, err, render)
	}
}

// createHandler is POST on a collection: the body B becomes the change C the service creates from.
func createHandler[B changeRequest[C], S, C, T, J any](svc *S, call func(S, context.Context, int64, C) (T, error), render func(T) J) resultHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
		var body B
		if err := decodeJSON(w, r, &body); err != nil {
			return nil, err
		}
		x, err := call(*svc, r.Context(), c.accountID, body.change())
		return rendered(x, err, render)
	}
}

// updateHandler is PATCH (or PUT) on …/{param}: the body B becomes the change C the service applies.
func updateHandler[B changeRequest[C], S, C, T, J any](svc *S, param string, call func(S, context.Context, int64, int64, C) (T, error), render func(T) J) resultHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
		id, err := pathID(r, param)
		if err != nil {
			return nil, err
		}
		var body B
		if err = decodeJSON(w, r, &body); err == nil {
			err = refuseCreateOnly(body)
		}
		if err != nil {
			return nil, err
		}
		x, err := call(*svc, r.Context(), c.accountID, id, body.change())
		return rendered(x, err, render)
	}
}

// refuseCreateOnly answers 400 for a field of a PATCH body that only create takes (tagged
// patch:"-", see requestView): what cannot change is refused, not ignored.
func refuseCreateOnly(body any) error {
	v := reflect.ValueOf(body)
	for i := range v.NumField() {
		if f := v.Type().Field(i); f.Tag.Get("patch") == "-" && !v.Field(i).IsZero() {
			return badRequest(jsonName(f), "cannot be changed: it is set only on create")
		}
	}
	return nil
}

// deleteByID is DELETE …/{param}.
func deleteByID[S any](svc *S, param string, del func(S, context.Context, int64, int64) error) resultHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) (any, error) {
		id, err := pathID(r, param)
		if err != nil {
			return nil, err
		}
		if err := del(*svc, r.Context(), c.accountID, id); err != nil {
			return nil, err
		}
		return deletedJSON{PK: id, Deleted: true}, nil
	}
}

// --- targets, shared by queues, ring groups and numbers ---

type targetJSON struct {
	Type   string  `json:"type" doc:"user, queue, ringgroup, callflow, external, hangup; \"\" = none"`
	ID     *int64  `json:"id" doc:"The user, queue, ring group or call flow ID (types user, queue, ringgroup, callflow)"`
	Number *string `json:"number" doc:"The number to call (type external), any form; stored E.164"`
}

func toTargetJSON(t switchboard.Target) targetJSON {
	return targetJSON{Type: string(t.Type), ID: nullableID(t.ID), Number: nullableString(t.Number)}
}

// target is the target a request gives, nil when it gives none.
func (t *targetJSON) target() *switchboard.TargetChange {
	if t == nil {
		return nil
	}
	out := &switchboard.TargetChange{Type: switchboard.TargetType(t.Type), Number: t.Number}
	if t.ID != nil {
		out.ID = *t.ID
	}
	return out
}
