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
