package api_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"switchboard"
	"switchboard/api"
	"switchboard/pbx"
	"switchboard/provision"
	"switchboard/sip"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/webhook"
)

// trunkEnv is an API server whose call placer is the real call engine (not running: trunk
// provisioning needs only its store and sealer).
func trunkEnv(t *testing.T) (*env, *store.DB, *webhook.Sealer) {
	t.Helper()
	db := storetest.NewSQLite(t)
	srv, err := sip.NewServer(sip.Config{Store: db, UDPAddr: "127.0.0.1:0",
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Registry: prometheus.NewRegistry()})
	must(t, err)
	sealer, err := webhook.NewSealer([]byte(strings.Repeat("k", 32)))
	must(t, err)
	eng, err := pbx.New(pbx.Config{Store: db, SIP: srv, Sealer: sealer})
	must(t, err)
	e := newEnv(t, db, func(c *api.Config) {
		c.Calls = eng
		c.Trunks = provision.New(provision.Config{Store: db, Sealer: sealer, Engine: eng})
	})
	return e, db, sealer
}

func TestTrunkProvisioning(t *testing.T) {
	e, db, sealer := trunkEnv(t)
	base := e.a.base(e.srv)
	body := map[string]any{"name": "Carrier", "host": "192.0.2.10", "username": "acme", "password": "s3cret-pass",
		"inbound_addresses": []string{"198.51.100.0/24"}, "caller_id_number": "(555) 123-4567", "allow_user_caller_id": true}
	r := e.request("POST", base+"/trunks", e.a.devKey, body)
	expectOK(t, r, http.StatusCreated, "Trunk created")
	res := r.result()
	if res["password_set"] != true || res["port"] != float64(5060) || res["transport"] != "udp" || res["caller_id_number"] != "+15551234567" {
		t.Errorf("created trunk = %v", res)
	}
	if strings.Contains(r.raw, "s3cret-pass") {
		t.Error("the answer shows the password")
	}
	id := int64(res["pk"].(float64))

	// Stored sealed: not the plaintext, and it opens with the server key.
	tr, err := db.GetTrunk(context.Background(), e.a.account.ID, id)
	must(t, err)
	if strings.Contains(string(tr.SealedPassword), "s3cret-pass") {
		t.Error("the password is stored in plaintext")
	}
	if pw, err := sealer.Open(tr.SealedPassword); err != nil || pw != "s3cret-pass" {
		t.Errorf("stored password opens to %q, %v", pw, err)
	}

	// Another account cannot see or change it; a user key may not manage trunks.
	expectError(t, e.request("GET", e.b.base(e.srv)+"/trunks/"+strconv.FormatInt(id, 10), e.b.devKey, nil), http.StatusNotFound, switchboard.ENOTFOUND)
	expectError(t, e.request("DELETE", e.b.base(e.srv)+"/trunks/"+strconv.FormatInt(id, 10), e.b.devKey, nil), http.StatusNotFound, switchboard.ENOTFOUND)
	r = e.request("GET", base+"/trunks", e.a.userKey, nil)
	if r.status != http.StatusForbidden && r.status != http.StatusUnauthorized {
		t.Errorf("user key listing trunks: %d; want 403", r.status)
	}

	// Replace without a password keeps the stored one.
	body["transport"], body["port"] = "tcp", 5080
	delete(body, "password")
	r = e.request("PUT", base+"/trunks/"+strconv.FormatInt(id, 10), e.a.devKey, body)
	expectOK(t, r, http.StatusOK, "Trunk updated")
	tr, err = db.GetTrunk(context.Background(), e.a.account.ID, id)
	must(t, err)
	if pw, _ := sealer.Open(tr.SealedPassword); pw != "s3cret-pass" || tr.Transport != "tcp" || tr.Port != 5080 {
		t.Errorf("after replace: password %q transport %q port %d", pw, tr.Transport, tr.Port)
	}

	r = e.request("GET", base+"/trunks", e.a.devKey, nil)
	if len(r.results()) != 1 {
		t.Errorf("list = %d trunks; want 1", len(r.results()))
	}
	expectOK(t, e.request("DELETE", base+"/trunks/"+strconv.FormatInt(id, 10), e.a.devKey, nil), http.StatusOK, "Trunk deleted")
	expectError(t, e.request("GET", base+"/trunks/"+strconv.FormatInt(id, 10), e.a.devKey, nil), http.StatusNotFound, switchboard.ENOTFOUND)
}

func TestTrunkBadInputWritesNothing(t *testing.T) {
	e, db, _ := trunkEnv(t)
	base := e.a.base(e.srv)
	for name, tc := range map[string]struct {
		body  map[string]any
		field string
	}{
		"transport":        {map[string]any{"name": "x", "host": "192.0.2.1", "transport": "sctp"}, "transport"},
		"host":             {map[string]any{"name": "x", "host": "not a host!"}, "host"},
		"name needs an ip": {map[string]any{"name": "x", "host": "sip.example.com"}, "inbound_addresses"},
		"no password":      {map[string]any{"name": "x", "host": "192.0.2.1", "username": "u"}, "password"},
		"caller id":        {map[string]any{"name": "x", "host": "192.0.2.1", "caller_id_number": "12"}, "caller_id_number"},
		"cidr":             {map[string]any{"name": "x", "host": "192.0.2.1", "inbound_addresses": []string{"10.0.0.0/99"}}, "inbound_addresses"},
	} {
		r := e.request("POST", base+"/trunks", e.a.devKey, tc.body)
		expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
		if detail(r, tc.field) == "" {
			t.Errorf("%s: no detail for %s in %s", name, tc.field, r.raw)
		}
	}
	expectError(t, e.request("POST", base+"/trunks", e.a.devKey, "{not json"), http.StatusBadRequest, switchboard.EBADREQUEST)
	list, err := db.ListTrunks(context.Background(), e.a.account.ID)
	must(t, err)
	if len(list) != 0 {
		t.Errorf("%d trunks stored by bad requests", len(list))
	}
}

func TestTrunksWithoutCallEngineAre503(t *testing.T) {
	e := newSQLiteEnv(t)
	r := e.request("GET", e.a.base(e.srv)+"/trunks", e.a.devKey, nil)
	expectError(t, r, http.StatusServiceUnavailable, switchboard.EUNAVAILABLE)
}

// A developer key may not trust wide prefixes or another account's addresses: 403 saying
// the operator must allow it, 409 naming the field (never the other account); nothing is
// stored for anyone.
func TestTrunkTrustNeedsTheOperator(t *testing.T) {
	e, db, _ := trunkEnv(t)
	r := e.request("POST", e.a.base(e.srv)+"/trunks", e.a.devKey, map[string]any{"name": "A", "host": "192.0.2.10"})
	expectOK(t, r, http.StatusCreated, "Trunk created")

	r = e.request("POST", e.b.base(e.srv)+"/trunks", e.b.devKey,
		map[string]any{"name": "Catch-all", "host": "carrier.example", "inbound_addresses": []string{"0.0.0.0/0"}})
	expectError(t, r, http.StatusForbidden, switchboard.EAUTHINVALID)
	if d, _ := r.body["details"].(map[string]any); d == nil || !strings.Contains(d["inbound_addresses"].(string), "operator must allow") {
		t.Errorf("403 answer %s; want inbound_addresses and that the operator must allow it", r.raw)
	}
	r = e.request("POST", e.b.base(e.srv)+"/trunks", e.b.devKey, map[string]any{"name": "Copy", "host": "192.0.2.10"})
	expectError(t, r, http.StatusConflict, switchboard.ECONFLICT)
	if d, _ := r.body["details"].(map[string]any); d == nil || d["host"] == nil || strings.Contains(r.raw, e.a.account.Name) {
		t.Errorf("409 answer %s; want the host named and not the other account", r.raw)
	}
	bTrunks, err := db.ListTrunks(context.Background(), e.b.account.ID)
	must(t, err)
	aTrunks, err := db.ListTrunks(context.Background(), e.a.account.ID)
	must(t, err)
	if len(bTrunks) != 0 || len(aTrunks) != 1 || aTrunks[0].Host != "192.0.2.10" {
		t.Errorf("stored: A %v, B %v; want A's trunk untouched and nothing for B", aTrunks, bTrunks)
	}
}
