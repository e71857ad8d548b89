package api_test

import (
	"context"
	"net/http"
	neturl "net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"switchboard"
	"switchboard/store"
	"switchboard/store/storetest"
)

func TestContactsArePagedSQLite(t *testing.T) { testContactsArePaged(t, storetest.NewSQLite(t)) }

func TestContactsArePagedPostgres(t *testing.T) { testContactsArePaged(t, storetest.NewPostgres(t)) }

// The contacts list honours limit, offset and the after cursor (issue 14: 3,515 contacts
// came back as one answer whatever the client asked), and a client that sends nothing
// still gets every contact, in the same shape.
func testContactsArePaged(t *testing.T, db *store.DB) {
	e := newEnv(t, db)
	base, key := e.a.base(e.srv)+"/contacts", e.a.devKey
	for i := range 24 {
		must(t, db.CreateContact(context.Background(), &switchboard.Contact{AccountID: e.a.account.ID,
			Phone: "+1415555" + strconv.Itoa(1000+i), FirstName: "C" + strconv.Itoa(i)}))
	}
	ids := func(r response) []float64 {
		var out []float64
		for _, x := range r.results() {
			out = append(out, x.(map[string]any)["pk"].(float64))
		}
		return out
	}
	all := e.request("GET", base, key, nil)
	expectOK(t, all, http.StatusOK, "List of contacts")
	want := ids(all)
	if len(want) != 25 { // the seeded one and 24
		t.Fatalf("unpaged list has %d contacts; want all 25", len(want))
	}
	if c := all.header.Get("X-Next-Cursor"); c != "" {
		t.Errorf("a whole list says X-Next-Cursor %q; want none", c)
	}

	// Following the cursor walks every contact once, in id order, 10 at a time.
	var got []float64
	url := base + "?limit=10"
	for pages := 0; ; pages++ {
		if pages > 3 {
			t.Fatalf("more than 3 pages of 10 for 25 contacts")
		}
		r := e.request("GET", url, key, nil)
		expectOK(t, r, http.StatusOK, "List of contacts")
		page := ids(r)
		if len(page) > 10 {
			t.Fatalf("page of %d contacts with limit=10", len(page))
		}
		got = append(got, page...)
		next := r.header.Get("X-Next-Cursor")
		if next == "" {
			break
		}
		if link := r.header.Get("Link"); link == "" {
			t.Errorf("X-Next-Cursor without a Link header")
		}
		url = base + "?limit=10&after=" + next
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("cursor walk (-whole list +pages):\n%s", diff)
	}

	// Offset skips rows.
	r := e.request("GET", base+"?offset=5&limit=3", key, nil)
	if diff := cmp.Diff(want[5:8], ids(r)); diff != "" {
		t.Errorf("offset=5&limit=3 (-want +got):\n%s", diff)
	}

	// Bad paging is a 400 naming the parameter.
	for q, field := range map[string]string{"limit=0": "limit", "limit=1001": "limit", "limit=ten": "limit",
		"offset=-1": "offset", "after=abc": "after"} {
		r := e.request("GET", base+"?"+q, key, nil)
		expectError(t, r, http.StatusBadRequest, switchboard.EBADREQUEST)
		if detail(r, field) == "" {
			t.Errorf("?%s: no details[%q]: %s", q, field, r.raw)
		}
	}

	// Another account's cursor position shows nothing of it: B's list is B's.
	r = e.request("GET", e.b.base(e.srv)+"/contacts?limit=10", e.b.devKey, nil)
	if n := len(r.results()); n != 1 {
		t.Errorf("account B sees %d contacts; want its own 1", n)
	}
}

// Every paged list walks the same way: one row a page, following X-Next-Cursor, gives
// back the whole list in order.
func TestEveryPagedListWalksSQLite(t *testing.T) {
	testEveryPagedListWalks(t, newIsolationEnv(t, storetest.NewSQLite(t)))
}

func TestEveryPagedListWalksPostgres(t *testing.T) {
	testEveryPagedListWalks(t, newIsolationEnv(t, storetest.NewPostgres(t)))
}

func testEveryPagedListWalks(t *testing.T, e *isolationEnv) {
	base, key := e.a.base(e.srv), e.a.devKey
	expectOK(t, e.request("POST", base+"/trunks", key, map[string]any{"name": "Second", "host": "192.0.2.11"}), http.StatusCreated, "Trunk created")
	expectOK(t, e.request("POST", base+"/users/"+itoa(e.a.john.ID)+"/devices", key, map[string]any{"name": "Second"}),
		http.StatusCreated, "Device created")
	expectOK(t, e.request("POST", base+"/ring_groups", key, map[string]any{"name": "Second", "extension": "8109",
		"members": []any{map[string]any{"user_id": e.a.jane.ID}, map[string]any{"user_id": e.a.john.ID}}}), http.StatusCreated, "Ring group created")
	expectOK(t, e.request("POST", base+"/webhooks", key, map[string]any{"name": "Second", "url": e.recv.URL + "/second",
		"events": []any{"*"}}), http.StatusCreated, "Webhook created; save the secret: it is shown only now")
	// Users list by extension: one made now with a lower extension than John's and Jane's
	// comes first though its id is the largest, so a walk in id order is seen.
	expectOK(t, e.request("POST", base+"/users", key, map[string]any{"presence_id": "1000", "first_name": "First"}),
		http.StatusCreated, "User created")
	expectOK(t, e.request("POST", base+"/queues", key, map[string]any{"queue_name": "Second", "extension": "8002"}),
		http.StatusCreated, "Queue created")
	expectOK(t, e.request("POST", base+"/queues/"+itoa(e.a.sales.ID)+"/members", key, map[string]any{"user_id": e.a.jane.ID}),
		http.StatusCreated, "Queue member added")
	for _, n := range []string{"+17775550101", "+17775550102"} {
		must(t, e.db.CreateNumber(context.Background(), &switchboard.Number{AccountID: e.a.account.ID, Number: n,
			FriendlyName: "Spare " + n, Status: "inactive"}))
	}
	members := "/queues/" + itoa(e.a.sales.ID) + "/members"
	for _, path := range []string{"/contacts", "/api_keys", "/users/" + itoa(e.a.john.ID) + "/devices", "/trunks", "/ring_groups", "/webhooks",
		"/users", "/queues", members, "/numbers", "/numbers?status=inactive", "/availability", "/availability/queues"} {
		// Whole rows, so that a page missing a ring group's members is seen.
		pks := func(r response) []any { return r.results() }
		whole := pks(e.request("GET", base+path, key, nil))
		if len(whole) < 2 {
			t.Fatalf("%s: %d rows; the test needs at least 2", path, len(whole))
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		// A cursor that is not one is refused, naming it.
		bad := e.request("GET", base+path+sep+"after=abc", key, nil)
		expectError(t, bad, http.StatusBadRequest, switchboard.EBADREQUEST)
		if detail(bad, "after") == "" {
			t.Errorf("%s?after=abc: no details[\"after\"]: %s", path, bad.raw)
		}
		var walked []any
		url := base + path + sep + "limit=1"
		for range len(whole) + 1 {
			r := e.request("GET", url, key, nil)
			expectOK(t, r, http.StatusOK, r.body["message"].(string))
			if n := len(pks(r)); n > 1 {
				t.Errorf("%s: %d rows on a page of limit=1", path, n)
			}
			walked = append(walked, pks(r)...)
			next := r.header.Get("X-Next-Cursor")
			if next == "" {
				break
			}
			if link := r.header.Get("Link"); !strings.Contains(link, "after="+neturl.QueryEscape(next)) ||
				(sep == "&" && !strings.Contains(link, "status=inactive")) {
				t.Errorf("%s: Link %q does not lead on from %q with the list's filter", path, link, next)
			}
			url = base + path + sep + "limit=1&after=" + neturl.QueryEscape(next)
		}
		if diff := cmp.Diff(whole, walked); diff != "" {
			t.Errorf("%s: walk one by one (-whole +walked):\n%s", path, diff)
		}
		switch path {
		case "/users", "/availability": // by extension, as the lists always were
			var exts []string
			for _, u := range walked {
				exts = append(exts, u.(map[string]any)["presence_id"].(string))
			}
			if !slices.IsSorted(exts) || exts[0] != "1000" {
				t.Errorf("%s walked in the order %v; want by extension", path, exts)
			}
		case "/numbers?status=inactive":
			for _, n := range walked {
				if st := n.(map[string]any)["status"]; st != "inactive" {
					t.Errorf("%s: a page holds a number of status %v", path, st)
				}
			}
		}
		// Each row of a page is the row itself (a ring group with its members).
		for _, row := range walked {
			m := row.(map[string]any)
			if path == "/ring_groups" {
				one := e.request("GET", base+path+"/"+itoa(int64(m["pk"].(float64))), key, nil).result()
				if diff := cmp.Diff(one, m); diff != "" {
					t.Errorf("%s: a row of a page differs from its GET (-get +page):\n%s", path, diff)
				}
			}
		}
	}
}
