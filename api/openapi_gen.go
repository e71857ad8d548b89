package api

import (
	"encoding/json"
	"net/http"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// This file builds the OpenAPI 3.1 document from the registered routes and the JSON types'
// struct tags (json names, `doc` descriptions, `required:"true"` for a field required in
// every view, and the request views' tags below). The document is committed as
// api/openapi.json; TestOpenAPIFile fails when it is out of date and rewrites it with -update.

// A resource's request body is one type, xRequestJSON, with pointer fields (nil: not
// given), that create and PATCH both decode. A route documents it in one of two views,
// createBody(x) or patchBody(x), each a component of its own named after the type
// (userRequestJSON: UserCreate, UserPatch). The PATCH view shows the fields as they are
// (a pointer nullable) and none required; the create view shows what to send, by these tags:
//
//	create:"required"  the field is required on create
//	create:"nullable"  on create, too, the field may be null (meaning its default)
//	default:"30"       the create-time default, added to the description: "…; default 30"
//	patch:"-"          create only: not in the PATCH view, and a PATCH giving it is refused
//	                   (refuseCreateOnly)
//
// A pointer field without create:"nullable" renders as its element type on create.
type requestView struct {
	body any
	view string // viewCreate or viewPatch, the suffix of the component's name
}

const (
	viewCreate = "Create"
	viewPatch  = "Patch"
)

// createBody documents a route's request as body's create view.
func createBody(body any) requestView { return requestView{body: body, view: viewCreate} }

// patchBody documents a route's request as body's PATCH view.
func patchBody(body any) requestView { return requestView{body: body, view: viewPatch} }

// jsonObject keeps key order out of the picture: encoding/json sorts map keys, so the
// generated file is stable.
type jsonObject = map[string]any

// buildOpenAPI returns the document for the server's routes, indented, with a final newline.
func (s *Server) buildOpenAPI() ([]byte, error) {
	g := &specGen{schemas: jsonObject{}}
	paths := jsonObject{}
	tagSeen := map[string]bool{}
	var tags []any
	for _, rt := range s.routes {
		if !tagSeen[rt.Tag] {
			tagSeen[rt.Tag] = true
			tags = append(tags, jsonObject{"name": rt.Tag})
		}
		item, _ := paths[rt.fullPath()].(jsonObject)
		if item == nil {
			item = jsonObject{}
			paths[rt.fullPath()] = item
		}
		item[strings.ToLower(rt.Method)] = g.operation(rt)
	}
	g.schemas["ErrorEnvelope"] = jsonObject{
		"type":     "object",
		"required": []string{"result", "error", "message", "error_code", "timestamp"},
		"properties": jsonObject{
			"result":     jsonObject{"type": "null"},
			"error":      jsonObject{"const": true},
			"message":    jsonObject{"type": "string", "description": "What went wrong and what to do next"},
			"error_code": jsonObject{"type": "string", "enum": errorCodes},
			"details": jsonObject{"type": "object", "additionalProperties": jsonObject{"type": "string"},
				"description": "Per-field problems (field -> problem), or more about the error; present only when there is something to say"},
			"timestamp": jsonObject{"type": "string", "format": "date-time"},
		},
	}
	responses := jsonObject{}
	for _, e := range errorResponses {
		responses[e.name] = jsonObject{
			"description": e.description,
			"content":     jsonObject{"application/json": jsonObject{"schema": jsonObject{"$ref": "#/components/schemas/ErrorEnvelope"}}},
		}
	}
	doc := jsonObject{
		"openapi": "3.1.0",
		"info": jsonObject{
			"title":   "Switchboard API",
			"version": "3",
			"description": "The Voice360 v3 API (an integration written for it works by changing only the base URL) and " +
				"Switchboard's provisioning API. Authenticate with the X-API-Key header: a user key sees its own user's " +
				"data (/user/* and sms/send), a developer key the whole account. Every account route is rate-limited " +
				"(1000 requests per minute per key, 100 per minute per client IP without a valid key; fixed windows) and " +
				"answers X-RateLimit-Limit and X-RateLimit-Remaining. Request bodies must be application/json, at most 1 MiB, " +
				"with no unknown fields; a wrong Content-Type is a 400 BAD_REQUEST.",
		},
		"servers": []any{jsonObject{"url": "/"}},
		"tags":    tags,
		"paths":   paths,
		"components": jsonObject{
			"securitySchemes": jsonObject{"ApiKey": jsonObject{"type": "apiKey", "in": "header", "name": apiKeyHeader}},
			"schemas":         g.schemas,
			"responses":       responses,
		},
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

var errorCodes = []string{"BAD_REQUEST", "AUTH_REQUIRED", "AUTH_INVALID", "NOT_FOUND", "CONFLICT",
	"METHOD_NOT_ALLOWED", "PAYLOAD_TOO_LARGE", "RATE_LIMITED", "INTERNAL_ERROR", "SERVICE_UNAVAILABLE"}

var errorResponses = []struct{ status, name, description string }{
	{"400", "BadRequest", "BAD_REQUEST: invalid parameters or malformed request; details names each bad field"},
	{"401", "AuthRequired", "AUTH_REQUIRED: no API key, or the key's IP allowlist does not include the client"},
	{"403", "AuthInvalid", "AUTH_INVALID: invalid or revoked key, a key of another account, or the wrong kind of key"},
	{"404", "NotFound", "NOT_FOUND: no such resource in this account"},
	{"409", "Conflict", "CONFLICT: a unique value (extension, number, SIP username) is already taken"},
	{"413", "PayloadTooLarge", "PAYLOAD_TOO_LARGE: the body is over 1 MiB"},
	{"429", "RateLimited", "RATE_LIMITED: too many requests; Retry-After says when to retry"},
	{"500", "InternalError", "INTERNAL_ERROR: internal server error - please try again"},
	{"503", "ServiceUnavailable", "SERVICE_UNAVAILABLE: a capability this endpoint needs is not configured"},
}

var pathParamRE = regexp.MustCompile(`\{([a-z_]+)\}`)

type specGen struct {
	schemas jsonObject
}

func (g *specGen) operation(rt *route) jsonObject {
	op := jsonObject{
		"operationId": operationID(rt),
		"summary":     rt.Summary,
		"tags":        []string{rt.Tag},
	}
	if rt.Description != "" {
		op["description"] = rt.Description
	}
	var params []any
	for _, m := range pathParamRE.FindAllStringSubmatch(rt.fullPath(), -1) {
		params = append(params, jsonObject{"name": m[1], "in": "path", "required": true,
			"schema": jsonObject{"type": "integer", "format": "int64", "minimum": 1}})
	}
	for _, q := range rt.Query {
		params = append(params, jsonObject{"name": q.Name, "in": "query", "description": q.Description,
			"schema": jsonObject{"type": "string"}})
	}
	if params != nil {
		op["parameters"] = params
	}
	if rt.Operational {
		op["security"] = []any{}
		op["responses"] = jsonObject{"200": jsonObject{"description": "OK"}}
		return op
	}
	switch rt.Access {
	case accessPublicOrDeveloper:
		op["security"] = []any{jsonObject{"ApiKey": []string{}}, jsonObject{}}
		op["x-key-types"] = []string{"developer", "none (when the account has public endpoints enabled)"}
	case accessUser:
		op["security"] = []any{jsonObject{"ApiKey": []string{}}}
		op["x-key-types"] = []string{"user"}
	case accessUserOrDeveloper:
		op["security"] = []any{jsonObject{"ApiKey": []string{}}}
		op["x-key-types"] = []string{"user", "developer"}
	default:
		op["security"] = []any{jsonObject{"ApiKey": []string{}}}
		op["x-key-types"] = []string{"developer"}
	}
	if _, ok := rt.Request.(audioUploadBody); ok {
		op["requestBody"] = audioUploadSchema()
	} else if _, ok := rt.Request.(promptCreateBody); ok {
		body := audioUploadSchema()
		body["content"].(jsonObject)["application/json"] = jsonObject{"schema": g.schemaOf(reflect.TypeOf(promptTextJSON{}))}
		op["requestBody"] = body
	} else if rt.Request != nil {
		op["requestBody"] = jsonObject{"required": true,
			"content": jsonObject{"application/json": jsonObject{"schema": g.requestSchema(rt.Request)}}}
	}
	status := rt.Status
	if status == 0 {
		status = http.StatusOK
	}
	var result any = jsonObject{}
	if rt.Result != nil {
		result = g.schemaOf(reflect.TypeOf(rt.Result))
	}
	responses := jsonObject{strconv.Itoa(status): jsonObject{
		"description": rt.Message,
		"content": jsonObject{"application/json": jsonObject{"schema": jsonObject{
			"type":     "object",
			"required": []string{"result", "error", "message", "timestamp"},
			"properties": jsonObject{
				"result":    result,
				"error":     jsonObject{"const": false},
				"message":   jsonObject{"type": "string", "examples": []string{rt.Message}},
				"timestamp": jsonObject{"type": "string", "format": "date-time"},
			},
		}}},
	}}
	if _, ok := rt.Result.(audioFileResult); ok {
		binary := jsonObject{"audio/wav": jsonObject{"schema": jsonObject{"type": "string", "format": "binary"}}}
		responses = jsonObject{"200": jsonObject{"description": rt.Message, "content": binary},
			"206": jsonObject{"description": "The range asked for (HTTP Range)", "content": binary}}
	}
	if _, ok := rt.Result.(eventStreamResult); ok {
		responses = jsonObject{"200": jsonObject{"description": "Server-Sent Events (text/event-stream)",
			"content": jsonObject{"text/event-stream": jsonObject{"schema": jsonObject{"type": "string"}}}}}
		if rt.Path == "/events/ws" {
			responses = jsonObject{"101": jsonObject{"description": "Switching to the WebSocket protocol"}}
		}
	}
	for _, e := range errorResponses {
		if (e.status == "409" || e.status == "413") && rt.Request == nil {
			continue
		}
		responses[e.status] = jsonObject{"$ref": "#/components/responses/" + e.name}
	}
	op["responses"] = responses
	return op
}

// operationID derives a stable id from the method and path: GET /queues/{queue_id} ->
// get_queues_by_queue_id.
func operationID(rt *route) string {
	path := strings.TrimPrefix(rt.fullPath(), v3Prefix)
	path = pathParamRE.ReplaceAllString(path, "by_$1")
	path = strings.NewReplacer("/", "_", ".", "_", "-", "_").Replace(strings.Trim(path, "/"))
	if path == "" {
		path = "root"
	}
	return strings.ToLower(rt.Method) + "_" + path
}

// requestSchema returns the schema of a route's request: a view (requestView) of a request
// type, or a JSON type as it is.
func (g *specGen) requestSchema(req any) any {
	v, ok := req.(requestView)
	if !ok {
		return g.schemaOf(reflect.TypeOf(req))
	}
	t := reflect.TypeOf(v.body)
	name := schemaName(strings.TrimSuffix(t.Name(), "RequestJSON")) + v.view
	return g.component(name, func() jsonObject { return g.structSchema(t, v.view) })
}

// component registers the schema build returns under name, once, and refers to it.
func (g *specGen) component(name string, build func() jsonObject) jsonObject {
	if _, ok := g.schemas[name]; !ok {
		g.schemas[name] = jsonObject{} // placeholder against recursion
		g.schemas[name] = build()
	}
	return jsonObject{"$ref": "#/components/schemas/" + name}
}

// schemaOf returns the schema of t, registering named structs as components.
func (g *specGen) schemaOf(t reflect.Type) any {
	switch t.Kind() {
	case reflect.Pointer:
		inner := g.schemaOf(t.Elem())
		if m, ok := inner.(jsonObject); ok {
			if typ, ok := m["type"].(string); ok {
				c := jsonObject{}
				for k, v := range m {
					c[k] = v
				}
				c["type"] = []string{typ, "null"}
				return c
			}
		}
		return jsonObject{"oneOf": []any{inner, jsonObject{"type": "null"}}}
	case reflect.String:
		return jsonObject{"type": "string"}
	case reflect.Bool:
		return jsonObject{"type": "boolean"}
	case reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint32, reflect.Uint64:
		return jsonObject{"type": "integer"}
	case reflect.Float32, reflect.Float64:
		return jsonObject{"type": "number"}
	case reflect.Slice, reflect.Array:
		return jsonObject{"type": "array", "items": g.schemaOf(t.Elem())}
	case reflect.Map:
		return jsonObject{"type": "object", "additionalProperties": g.schemaOf(t.Elem())}
	case reflect.Struct:
		if t.Name() == "" {
			return g.structSchema(t, "")
		}
		return g.component(schemaName(t.Name()), func() jsonObject { return g.structSchema(t, "") })
	}
	return jsonObject{}
}

func schemaName(goName string) string {
	name := strings.TrimSuffix(goName, "JSON")
	r := []rune(name)
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// jsonName is the field's name in JSON; "-" when encoding/json skips it.
func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		name = f.Name
	}
	return name
}

// structSchema renders t as an object; view is a request view (viewCreate, viewPatch) or ""
// for a type as it is.
func (g *specGen) structSchema(t reflect.Type, view string) jsonObject {
	props := jsonObject{}
	var required []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if f.Anonymous && f.Type.Kind() == reflect.Struct {
				walk(f.Type) // embedded: its fields are the outer object's
				continue
			}
			if !f.IsExported() {
				continue
			}
			name := jsonName(f)
			if name == "-" || (view == viewPatch && f.Tag.Get("patch") == "-") {
				continue
			}
			ft, d := f.Type, f.Tag.Get("doc")
			create := view == viewCreate
			if create && ft.Kind() == reflect.Pointer && f.Tag.Get("create") != "nullable" {
				ft = ft.Elem()
			}
			if def := f.Tag.Get("default"); create && def != "" {
				d += "; default " + def
			}
			schema := g.schemaOf(ft)
			if d != "" {
				if m, ok := schema.(jsonObject); ok {
					if _, isRef := m["$ref"]; isRef {
						schema = jsonObject{"allOf": []any{m}, "description": d}
					} else {
						m["description"] = d
					}
				}
			}
			props[name] = schema
			if f.Tag.Get("required") == "true" || (create && f.Tag.Get("create") == "required") {
				required = append(required, name)
			}
		}
	}
	walk(t)
	out := jsonObject{"type": "object", "properties": props}
	if required != nil {
		sort.Strings(required)
		out["required"] = required
	}
	return out
}
