package api

import (
	"bytes"
	"encoding/json"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"sync"
)

// The reference page at /docs is rendered on the server from the embedded OpenAPI document,
// so the two never disagree. Plain HTML and inline CSS: no scripts, no external assets.

type docsPage struct {
	Title, Description string
	Tags               []docsTag
	Schemas            []docsSchema
}

// docsSchema is a named type of the document, listed once at the end and linked from fields.
type docsSchema struct {
	Name   string
	Fields []docsField
}

type docsTag struct {
	Name       string
	Operations []docsOperation
}

type docsOperation struct {
	Anchor, Method, Path, Summary, Description string
	Keys                                       string
	Params                                     []docsField
	Body                                       []docsField
	Status, Message                            string
	Result                                     []docsField
	ResultIsList                               bool
	Errors                                     []string
}

type docsField struct {
	Name, Type, Description string
	Ref                     string // the schema Type refers to, for a link
	Required                bool
}

var (
	docsOnce sync.Once
	docsHTML []byte
	docsErr  error
)

func (s *Server) handleDocs(w http.ResponseWriter, r *http.Request) {
	docsOnce.Do(func() { docsHTML, docsErr = renderDocs(openAPIDocument) })
	if docsErr != nil {
		s.writeError(w, r, docsErr)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Write(docsHTML)
}

// specDoc is the part of an OpenAPI document the page shows.
type specDoc struct {
	Info struct {
		Title, Description string
	}
	Tags       []struct{ Name string }
	Paths      map[string]map[string]specOperation
	Components struct {
		Schemas   map[string]map[string]any
		Responses map[string]struct{ Description string }
	}
}

type specOperation struct {
	Summary, Description string
	Tags                 []string
	Keys                 []string `json:"x-key-types"`
	Parameters           []struct {
		Name, In, Description string
		Required              bool
	}
	RequestBody *struct {
		Content map[string]struct{ Schema map[string]any }
	} `json:"requestBody"`
	Responses map[string]map[string]any
}

func renderDocs(spec []byte) ([]byte, error) {
	var doc specDoc
	if err := json.Unmarshal(spec, &doc); err != nil {
		return nil, err
	}
	page := docsPage{Title: doc.Info.Title, Description: doc.Info.Description}
	tagIndex := map[string]int{}
	for _, t := range doc.Tags {
		tagIndex[t.Name] = len(page.Tags)
		page.Tags = append(page.Tags, docsTag{Name: t.Name})
	}
	paths := make([]string, 0, len(doc.Paths))
	for p := range doc.Paths {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	methodOrder := []string{"get", "post", "patch", "put", "delete"}
	for _, p := range paths {
		for _, m := range methodOrder {
			op, ok := doc.Paths[p][m]
			if !ok {
				continue
			}
			o := docsOperation{Method: strings.ToUpper(m), Path: p, Summary: op.Summary, Description: op.Description,
				Keys: strings.Join(op.Keys, ", ")}
			o.Anchor = strings.NewReplacer("/", "-", "{", "", "}", "").Replace(strings.ToLower(o.Method) + p)
			if o.Keys == "" {
				o.Keys = "none"
			}
			for _, prm := range op.Parameters {
				o.Params = append(o.Params, docsField{Name: prm.Name + " (" + prm.In + ")", Type: "string", Description: prm.Description, Required: prm.Required})
				if prm.In == "path" {
					o.Params[len(o.Params)-1].Type = "integer"
				}
			}
			if op.RequestBody != nil {
				o.Body = doc.fields(op.RequestBody.Content["application/json"].Schema)
			}
			codes := make([]string, 0, len(op.Responses))
			for code := range op.Responses {
				codes = append(codes, code)
			}
			sort.Strings(codes)
			for _, code := range codes {
				resp := op.Responses[code]
				if ref, ok := resp["$ref"].(string); ok {
					name := strings.TrimPrefix(ref, "#/components/responses/")
					o.Errors = append(o.Errors, code+" "+doc.Components.Responses[name].Description)
					continue
				}
				o.Status = code
				o.Message, _ = resp["description"].(string)
				result := dig(resp, "content", "application/json", "schema", "properties", "result")
				if result != nil && result["type"] == "array" {
					o.ResultIsList = true
					result, _ = result["items"].(map[string]any)
				}
				o.Result = doc.fields(result)
			}
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			i, ok := tagIndex[tag]
			if !ok {
				i = len(page.Tags)
				tagIndex[tag] = i
				page.Tags = append(page.Tags, docsTag{Name: tag})
			}
			page.Tags[i].Operations = append(page.Tags[i].Operations, o)
		}
	}
	names := make([]string, 0, len(doc.Components.Schemas))
	for name := range doc.Components.Schemas {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		page.Schemas = append(page.Schemas, docsSchema{Name: name, Fields: doc.fields(doc.Components.Schemas[name])})
	}
	var buf bytes.Buffer
	if err := docsTemplate.Execute(&buf, page); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func dig(m map[string]any, keys ...string) map[string]any {
	for _, k := range keys {
		next, ok := m[k].(map[string]any)
		if !ok {
			return nil
		}
		m = next
	}
	return m
}

// resolve follows a schema's $ref into the components.
func (d *specDoc) resolve(schema map[string]any) map[string]any {
	for i := 0; i < 10 && schema != nil; i++ {
		ref, ok := schema["$ref"].(string)
		if !ok {
			if all, ok := schema["allOf"].([]any); ok && len(all) == 1 {
				schema, _ = all[0].(map[string]any)
				continue
			}
			return schema
		}
		schema = d.Components.Schemas[strings.TrimPrefix(ref, "#/components/schemas/")]
	}
	return schema
}

// fields lists an object schema's properties, sorted by name.
func (d *specDoc) fields(schema map[string]any) []docsField {
	schema = d.resolve(schema)
	props, _ := schema["properties"].(map[string]any)
	required := map[string]bool{}
	if req, ok := schema["required"].([]any); ok {
		for _, r := range req {
			if s, ok := r.(string); ok {
				required[s] = true
			}
		}
	}
	var out []docsField
	for name, p := range props {
		pm, _ := p.(map[string]any)
		f := docsField{Name: name, Required: required[name], Description: stringOf(pm["description"])}
		f.Type, f.Ref = d.typeName(pm)
		out = append(out, f)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// typeName names a property's type, and the schema it refers to, if any.
func (d *specDoc) typeName(p map[string]any) (name, ref string) {
	if r, ok := p["$ref"].(string); ok {
		r = strings.TrimPrefix(r, "#/components/schemas/")
		return r, r
	}
	if all, ok := p["allOf"].([]any); ok && len(all) == 1 {
		if m, ok := all[0].(map[string]any); ok {
			return d.typeName(m)
		}
	}
	switch t := p["type"].(type) {
	case string:
		if t == "array" {
			if items, ok := p["items"].(map[string]any); ok {
				name, ref := d.typeName(items)
				return "array of " + name, ref
			}
		}
		if t == "object" {
			if add, ok := p["additionalProperties"].(map[string]any); ok {
				name, ref := d.typeName(add)
				return "object of " + name, ref
			}
		}
		return t, ""
	case []any:
		parts := make([]string, 0, len(t))
		for _, x := range t {
			parts = append(parts, stringOf(x))
		}
		return strings.Join(parts, " or "), ""
	}
	if c, ok := p["const"]; ok {
		b, _ := json.Marshal(c)
		return "always " + string(b), ""
	}
	return "any", ""
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

var docsTemplate = template.Must(template.Must(template.New("docs").Parse(
	`{{define "type"}}{{if .Ref}}<a href="#schema-{{.Ref}}">{{.Type}}</a>{{else}}{{.Type}}{{end}}{{end}}`)).Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} reference</title>
<style>
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: #1d2330; background: #f6f7f9; }
header { background: #1d2330; color: #fff; padding: 1.5rem 2rem; }
header h1 { margin: 0 0 .5rem; font-size: 1.6rem; }
header p { margin: 0; max-width: 60rem; color: #cfd6e4; }
main { display: flex; gap: 2rem; padding: 1.5rem 2rem; align-items: flex-start; }
nav { position: sticky; top: 1rem; min-width: 16rem; max-height: 95vh; overflow: auto; font-size: 13px; }
nav h3 { margin: 1rem 0 .3rem; font-size: 13px; text-transform: uppercase; color: #5b6475; }
nav a { display: block; color: #1d2330; text-decoration: none; padding: 1px 0; }
nav a:hover { text-decoration: underline; }
section.op { background: #fff; border: 1px solid #dde1e8; border-radius: 6px; padding: 1rem 1.25rem; margin-bottom: 1rem; }
h2.tag { margin: 1.5rem 0 .75rem; }
.sig { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 14px; }
.method { display: inline-block; min-width: 4.2rem; text-align: center; font-weight: 700; border-radius: 4px; padding: 1px 6px; color: #fff; margin-right: .5rem; }
.GET { background: #2f7d32; } .POST { background: #1565c0; } .PATCH { background: #8e5b00; } .DELETE { background: #b3261e; } .PUT { background: #6a1b9a; }
.keys { color: #5b6475; font-size: 13px; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 .8rem; font-size: 13.5px; }
th, td { text-align: left; border-bottom: 1px solid #eceef2; padding: 4px 8px; vertical-align: top; }
th { color: #5b6475; font-weight: 600; }
td.name { font-family: ui-monospace, Menlo, Consolas, monospace; white-space: nowrap; }
.req { color: #b3261e; font-size: 12px; }
h4 { margin: .8rem 0 .2rem; font-size: 14px; }
ul.errors { margin: .2rem 0; padding-left: 1.2rem; font-size: 13px; color: #5b6475; }
</style>
</head>
<body>
<header><h1>{{.Title}}</h1><p>{{.Description}}</p><p>Machine-readable: <a style="color:#9cc3ff" href="/v3/openapi.json">/v3/openapi.json</a> (OpenAPI 3.1)</p>
<p>Run the phone system from a browser: <a style="color:#9cc3ff" href="/">the portal</a>.</p></header>
<main>
<nav>{{range .Tags}}{{if .Operations}}<h3>{{.Name}}</h3>{{range .Operations}}<a href="#{{.Anchor}}">{{.Method}} {{.Summary}}</a>{{end}}{{end}}{{end}}<h3><a href="#types">Types</a></h3></nav>
<div>
{{range .Tags}}{{if .Operations}}<h2 class="tag">{{.Name}}</h2>
{{range .Operations}}<section class="op" id="{{.Anchor}}">
<div class="sig"><span class="method {{.Method}}">{{.Method}}</span>{{.Path}}</div>
<p><strong>{{.Summary}}</strong>{{if .Description}}<br>{{.Description}}{{end}}</p>
<div class="keys">API key: {{.Keys}}</div>
{{if .Params}}<h4>Parameters</h4><table><tr><th>Name</th><th>Type</th><th>Description</th></tr>
{{range .Params}}<tr><td class="name">{{.Name}}{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{.Type}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}
{{if .Body}}<h4>Request body (application/json)</h4><table><tr><th>Field</th><th>Type</th><th>Description</th></tr>
{{range .Body}}<tr><td class="name">{{.Name}}{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{template "type" .}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}
{{if .Status}}<h4>{{.Status}}{{if .Result}} — message "{{.Message}}"; result{{if .ResultIsList}} is an array of{{end}}:{{end}}</h4>
{{if .Result}}<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>
{{range .Result}}<tr><td class="name">{{.Name}}</td><td>{{template "type" .}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}{{end}}
{{if .Errors}}<h4>Errors</h4><ul class="errors">{{range .Errors}}<li>{{.}}</li>{{end}}</ul>{{end}}
</section>
{{end}}{{end}}{{end}}
<h2 class="tag" id="types">Types</h2>
{{range .Schemas}}<section class="op" id="schema-{{.Name}}"><div class="sig">{{.Name}}</div>
{{if .Fields}}<table><tr><th>Field</th><th>Type</th><th>Description</th></tr>
{{range .Fields}}<tr><td class="name">{{.Name}}{{if .Required}} <span class="req">required</span>{{end}}</td><td>{{template "type" .}}</td><td>{{.Description}}</td></tr>{{end}}</table>{{end}}
</section>
{{end}}
</div>
</main>
</body>
</html>
`))
