package api

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchboard/store/storetest"
)

var update = flag.Bool("update", false, "rewrite api/openapi.json from the routes")

// TestOpenAPIFile checks that the committed document is the one the routes produce; run
// with -update after changing a route or a JSON type.
func TestOpenAPIFile(t *testing.T) {
	s := New(Config{})
	want, err := s.buildOpenAPI()
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("openapi.json", want, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(openAPIDocument, want) {
		t.Fatal("api/openapi.json is out of date: run go test ./api -run TestOpenAPIFile -update")
	}
}

var pathParam = regexp.MustCompile(`\{[a-z_]+\}`)

// TestOpenAPIMatchesRoutes checks both ways: every registered route is in the document, and
// every operation of the document is served (not the 404/405 of an unknown route).
func TestOpenAPIMatchesRoutes(t *testing.T) {
	s := New(Config{Store: storetest.NewSQLite(t)})
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	registered := map[string]bool{}
	for _, rt := range s.routes {
		key := strings.ToLower(rt.Method) + " " + rt.fullPath()
		registered[key] = true
		if _, ok := doc.Paths[rt.fullPath()][strings.ToLower(rt.Method)]; !ok {
			t.Errorf("route %s %s is not in openapi.json", rt.Method, rt.fullPath())
		}
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	n := 0
	for path, ops := range doc.Paths {
		for method := range ops {
			n++
			if !registered[method+" "+path] {
				t.Errorf("openapi.json has %s %s, which no route registers", method, path)
			}
			url := srv.URL + pathParam.ReplaceAllString(path, "1")
			req, _ := http.NewRequest(strings.ToUpper(method), url, nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusMethodNotAllowed || (resp.StatusCode == http.StatusNotFound && bytes.Contains(body, []byte("No such endpoint"))) {
				t.Errorf("%s %s is documented but not served: %d %s", method, path, resp.StatusCode, body)
			}
		}
	}
	if n < 50 {
		t.Errorf("only %d operations documented", n)
	}
}

func TestDocsPage(t *testing.T) {
	s := New(Config{})
	srv := httptest.NewServer(s)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/docs")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("/docs: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	page := string(body)
	for _, want := range []string{"/v3/voice/{account_id}/availability", "devices_registered", "User availability data",
		"/v3/voice/{account_id}/call/outbound", "caller_id", "/v3/voice/{account_id}/api_keys", "AUTH_INVALID"} {
		if !strings.Contains(page, want) {
			t.Errorf("/docs lacks %q", want)
		}
	}
	for _, external := range []string{`src="http`, `href="http`, "<script"} {
		if strings.Contains(page, external) {
			t.Errorf("/docs refers to an external asset or script: %q", external)
		}
	}

	resp, err = http.Get(srv.URL + "/v3/openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	served, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Equal(served, openAPIDocument) {
		t.Error("/v3/openapi.json does not serve the embedded document")
	}
}

// exampleRequestJSON exercises every request view tag (see requestView).
type exampleRequestJSON struct {
	Name   *string     `json:"name" doc:"Name" create:"required"`
	Size   *int        `json:"size" doc:"Size" default:"3"`
	Limit  *int        `json:"limit" doc:"Limit" default:"9" create:"nullable"`
	Target *targetJSON `json:"target" doc:"Target"`
	Key    *string     `json:"key" doc:"Key" create:"required" patch:"-"`
	Tags   []string    `json:"tags" doc:"Tags" required:"true"`
}

// TestRequestViews checks what the create and PATCH views of one request type show.
func TestRequestViews(t *testing.T) {
	g := &specGen{schemas: jsonObject{}}
	if ref := g.requestSchema(createBody(exampleRequestJSON{})); !cmp.Equal(ref, any(jsonObject{"$ref": "#/components/schemas/ExampleCreate"})) {
		t.Errorf("create view refers to %v", ref)
	}
	if ref := g.requestSchema(patchBody(exampleRequestJSON{})); !cmp.Equal(ref, any(jsonObject{"$ref": "#/components/schemas/ExamplePatch"})) {
		t.Errorf("PATCH view refers to %v", ref)
	}
	got, err := json.Marshal(jsonObject{"ExampleCreate": g.schemas["ExampleCreate"], "ExamplePatch": g.schemas["ExamplePatch"]})
	if err != nil {
		t.Fatal(err)
	}
	const target = `{"$ref":"#/components/schemas/Target"}`
	want := `{"ExampleCreate":{"properties":{` +
		`"key":{"description":"Key","type":"string"},` +
		`"limit":{"description":"Limit; default 9","type":["integer","null"]},` +
		`"name":{"description":"Name","type":"string"},` +
		`"size":{"description":"Size; default 3","type":"integer"},` +
		`"tags":{"description":"Tags","items":{"type":"string"},"type":"array"},` +
		`"target":{"allOf":[` + target + `],"description":"Target"}},` +
		`"required":["key","name","tags"],"type":"object"},` +
		`"ExamplePatch":{"properties":{` +
		`"limit":{"description":"Limit","type":["integer","null"]},` +
		`"name":{"description":"Name","type":["string","null"]},` +
		`"size":{"description":"Size","type":["integer","null"]},` +
		`"tags":{"description":"Tags","items":{"type":"string"},"type":"array"},` +
		`"target":{"description":"Target","oneOf":[` + target + `,{"type":"null"}]}},` +
		`"required":["tags"],"type":"object"}}`
	if diff := cmp.Diff(want, string(got)); diff != "" {
		t.Errorf("views (-want +got):\n%s", diff)
	}
}
