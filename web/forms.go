package web

import (
	"context"
	"net/http"

	"switchboard"
)

// Simple create and delete forms for the list pages: each resource's change goes through
// the provisioning service like the API's POST and DELETE.

type formField struct {
	Name, Label, Type, Hint string
	Required                bool
	Options                 []string
}

type listForm struct {
	Title, Action string
	Fields        []formField
}

// resource is a list page with its create form and the service calls behind it; a
// resource without create has no form (music classes are uploaded through the API).
type resource struct {
	title, path string
	list        lister
	form        []formField
	create      func(ctx context.Context, accountID int64, r *http.Request) error
	delete      func(ctx context.Context, accountID, id int64) error
}

func (h *Handler) resources() []resource {
	p := h.provision
	return []resource{
		{title: "Numbers", path: "/numbers", list: h.numbersList,
			form: []formField{{Name: "number", Label: "Number", Hint: "E.164, e.g. +15551234567", Required: true}, {Name: "friendly_name", Label: "Name"}},
			create: func(ctx context.Context, a int64, r *http.Request) error {
				_, err := p.CreateNumber(ctx, a, switchboard.NumberChange{Number: formString(r, "number"), FriendlyName: formString(r, "friendly_name")})
				return err
			}, delete: p.DeleteNumber},
		{title: "Queues", path: "/queues", list: h.queuesList,
			form: []formField{{Name: "queue_name", Label: "Name", Required: true}, {Name: "extension", Label: "Extension", Required: true},
				{Name: "strategy", Label: "Strategy", Type: "select", Options: strategies()}},
			create: func(ctx context.Context, a int64, r *http.Request) error {
				st := switchboard.QueueStrategy(r.PostForm.Get("strategy"))
				_, err := p.CreateQueue(ctx, a, switchboard.QueueChange{QueueName: formString(r, "queue_name"), Extension: formString(r, "extension"), Strategy: &st})
				return err
			}, delete: p.DeleteQueue},
		{title: "Ring groups", path: "/ring-groups", list: h.ringGroupsList,
			form: []formField{{Name: "name", Label: "Name", Required: true}, {Name: "extension", Label: "Extension", Required: true}},
			create: func(ctx context.Context, a int64, r *http.Request) error {
				_, err := p.CreateRingGroup(ctx, a, switchboard.RingGroupChange{Name: formString(r, "name"), Extension: formString(r, "extension")})
				return err
			}, delete: p.DeleteRingGroup},
		{title: "Trunks", path: "/trunks", list: h.trunksList,
			form: []formField{{Name: "name", Label: "Name", Required: true}, {Name: "host", Label: "Host", Required: true},
				{Name: "username", Label: "Username"}, {Name: "password", Label: "Password", Type: "password"}},
			create: func(ctx context.Context, a int64, r *http.Request) error {
				c := switchboard.TrunkChange{Name: formString(r, "name"), Host: formString(r, "host"), Username: formString(r, "username")}
				if pw := r.PostForm.Get("password"); pw != "" {
					c.Password = &pw
				}
				_, err := p.CreateTrunk(ctx, a, c)
				return err
			}, delete: p.DeleteTrunk},
		{title: "Contacts", path: "/contacts", list: h.contactsList,
			form: []formField{{Name: "first_name", Label: "First name"}, {Name: "last_name", Label: "Last name"},
				{Name: "phone", Label: "Phone", Hint: "E.164", Required: true}, {Name: "email", Label: "Email", Type: "email"}, {Name: "company", Label: "Company"}},
			create: func(ctx context.Context, a int64, r *http.Request) error {
				_, err := p.CreateContact(ctx, a, switchboard.ContactChange{Phone: formString(r, "phone"), FirstName: formString(r, "first_name"),
					LastName: formString(r, "last_name"), Email: formString(r, "email"), Company: formString(r, "company")})
				return err
			}, delete: p.DeleteContact},
		{title: "Music on hold", path: "/music", list: h.musicList, delete: p.DeleteMusicClass},
	}
}

func strategies() []string {
	out := make([]string, len(switchboard.QueueStrategies))
	for i, s := range switchboard.QueueStrategies {
		out[i] = string(s)
	}
	return out
}

// resourceRoutes registers each resource's list, create and delete.
func (h *Handler) resourceRoutes() {
	for _, res := range h.resources() {
		show := func(w http.ResponseWriter, r *http.Request, s *session, status int, err error) {
			d, lerr := res.list(r.Context(), s.Login.AccountID)
			if res.create != nil {
				d.Form = &listForm{Title: "Add", Action: res.path, Fields: res.form}
			}
			d.DeletePath = res.path
			p := page{Title: res.title, S: s, Data: d}
			if lerr != nil {
				err = lerr
			}
			if err != nil {
				h.fail(w, r, "list", p, err)
				return
			}
			h.render(w, r, status, "list", p)
		}
		h.get(res.path, true, func(w http.ResponseWriter, r *http.Request, s *session) { show(w, r, s, http.StatusOK, nil) })
		if res.create != nil {
			h.post(res.path, true, func(w http.ResponseWriter, r *http.Request, s *session) {
				if err := res.create(r.Context(), s.Login.AccountID, r); err != nil {
					show(w, r, s, 0, err)
					return
				}
				http.Redirect(w, r, res.path, http.StatusSeeOther)
			})
		}
		h.post(res.path+"/{id}/delete", true, func(w http.ResponseWriter, r *http.Request, s *session) {
			if err := res.delete(r.Context(), s.Login.AccountID, pathID(r, "id")); err != nil {
				h.fail(w, r, "error", page{Title: res.title, S: s}, err)
				return
			}
			http.Redirect(w, r, res.path, http.StatusSeeOther)
		})
	}
}
