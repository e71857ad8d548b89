package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// `admin create-login` prints a password once, and that password signs in to the portal
// served by `serve` on the same data; a second login of the same name is refused.
func TestAdminCreateLoginSignsIn(t *testing.T) {
	dir := t.TempDir()
	admin := func(args ...string) (string, error) {
		var out bytes.Buffer
		err := run(context.Background(), append(append([]string{"admin"}, args...), "--data", dir), &out, io.Discard)
		return out.String(), err
	}
	out, err := admin("account", "create", "--name", "Acme Ltd")
	if err != nil {
		t.Fatal(err)
	}
	id := regexp.MustCompile(`account (\d+)`).FindStringSubmatch(out)[1]
	out, err = admin("create-login", "--account", id, "--login", "boss@acme.example")
	if err != nil {
		t.Fatalf("create-login: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	password := strings.TrimSpace(lines[len(lines)-1])
	if len(password) < 16 {
		t.Fatalf("create-login printed %q", out)
	}
	if _, err := admin("create-login", "--account", id, "--login", "BOSS@acme.example"); err == nil {
		t.Fatal("a second login of the same name was created")
	}
	if _, err := admin("create-login", "--account", id, "--login", "x", "--role", "user", "--user", "9999"); err == nil {
		t.Fatal("a user login for a missing extension was created")
	}

	m, _, _ := startServe(t, "--data", dir, "--http", "127.0.0.1:0")
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	signIn := func(password string) int {
		resp, err := client.PostForm(m.HTTPURL()+"/login", url.Values{"login": {"boss@acme.example"}, "password": {password}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if status := signIn("wrong password"); status != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", status)
	}
	if status := signIn(password); status != http.StatusSeeOther {
		t.Fatalf("the printed password: %d", status)
	}
	// The API is still served under /v3 and /docs next to the portal.
	resp, err := http.Get(m.HTTPURL() + "/docs")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `href="/"`) {
		t.Fatalf("/docs: %d, links to the portal: %v", resp.StatusCode, strings.Contains(string(body), `href="/"`))
	}
}
