package api

import (
	"context"
	"net/http"

	"switchboard"
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
}

// provisioningRoutes registers the provisioning API: developer keys manage the account's
// users, devices, queues, ring groups, numbers, contacts, keys, settings and trunks. Each
// resource's routes are in its own file.
func (s *Server) provisioningRoutes() {
	const noProvisioning = "Provisioning is not available: no provisioning service is configured on this server"
	available := s.provision != nil
	s.resourceRoutes("Users", available, noProvisioning, s.userRoutes())
	s.resourceRoutes("Devices", available, noProvisioning, s.deviceRoutes())
	s.resourceRoutes("Queues", available, noProvisioning, s.queueRoutes())
	s.resourceRoutes("Ring groups", available, noProvisioning, s.ringGroupRoutes())
	s.resourceRoutes("Numbers", available, noProvisioning, s.numberRoutes())
	s.resourceRoutes("Contacts", available, noProvisioning, s.contactRoutes())
	s.resourceRoutes("API keys", available, noProvisioning, s.apiKeyRoutes())
	s.resourceRoutes("Settings", available, noProvisioning, s.settingsRoutes())
}

// resourceRoute is one provisioning route: its documentation (see route) and its handler.
type resourceRoute struct {
	method, path, summary, message string
	status                         int
	request, result                any
	h                              apiHandler
	description                    string
}

// resourceRoutes registers a resource's routes for developer keys under the OpenAPI tag.
// Without the service they need (available false) every one answers 503 with the message:
// this is the one place a missing optional service is answered.
func (s *Server) resourceRoutes(tag string, available bool, unavailable string, routes []resourceRoute) {
	for _, d := range routes {
		h := d.h
		if !available {
			h = func(http.ResponseWriter, *http.Request, *caller) error {
				return switchboard.Errorf(switchboard.EUNAVAILABLE, "%s", unavailable)
			}
		}
		s.handleAPI(route{Method: d.method, Path: d.path, Access: accessDeveloper, Tag: tag, Summary: d.summary,
			Description: d.description, Message: d.message, Status: d.status, Request: d.request, Result: d.result}, h)
	}
}

// changeRequest is a request body that converts into the root's Change type C.
type changeRequest[C any] interface{ change() C }

// The generic handlers below are the shape of every provisioning route: decode, call the
// service, encode. svc points at the Server's field of the service, read when a request
// comes (the field may be nil while routes are registered, and then they answer 503).

// listAll is GET on a collection: every row of the account, rendered.
func listAll[S, T, J any](s *Server, svc *S, message string, list func(S, context.Context, int64) ([]T, error), render func(T) J) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		rows, err := list(*svc, r.Context(), c.accountID)
		if err != nil {
			return err
		}
		out := make([]J, 0, len(rows))
		for _, x := range rows {
			out = append(out, render(x))
		}
		s.writeResult(w, http.StatusOK, message, out)
		return nil
	}
}

// getByID is GET …/{param}: the account's row with that id, rendered. An id of another
// account is NOT_FOUND, as the store answers it.
func getByID[S, T, J any](s *Server, svc *S, param, message string, get func(S, context.Context, int64, int64) (T, error), render func(T) J) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		id, err := pathID(r, param)
		if err != nil {
			return err
		}
		x, err := get(*svc, r.Context(), c.accountID, id)
		if err != nil {
			return err
		}
		s.writeResult(w, http.StatusOK, message, render(x))
		return nil
	}
}

// createHandler is POST on a collection: the body B becomes the change C the service creates from.
func createHandler[B changeRequest[C], S, C, T, J any](s *Server, svc *S, message string, call func(S, context.Context, int64, C) (T, error), render func(T) J) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		var body B
		if err := decodeJSON(w, r, &body); err != nil {
			return err
		}
		x, err := call(*svc, r.Context(), c.accountID, body.change())
		if err != nil {
			return err
		}
		s.writeResult(w, http.StatusCreated, message, render(x))
		return nil
	}
}

// updateHandler is PATCH (or PUT) on …/{param}: the body B becomes the change C the service applies.
func updateHandler[B changeRequest[C], S, C, T, J any](s *Server, svc *S, param, message string, call func(S, context.Context, int64, int64, C) (T, error), render func(T) J) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		id, err := pathID(r, param)
		if err != nil {
			return err
		}
		var body B
		if err := decodeJSON(w, r, &body); err != nil {
			return err
		}
		x, err := call(*svc, r.Context(), c.accountID, id, body.change())
		if err != nil {
			return err
		}
		s.writeResult(w, http.StatusOK, message, render(x))
		return nil
	}
}

// deleteByID is DELETE …/{param}.
func deleteByID[S any](s *Server, svc *S, param, message string, del func(S, context.Context, int64, int64) error) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, c *caller) error {
		id, err := pathID(r, param)
		if err != nil {
			return err
		}
		if err := del(*svc, r.Context(), c.accountID, id); err != nil {
			return err
		}
		s.writeDeleted(w, message, id)
		return nil
	}
}

func (s *Server) writeDeleted(w http.ResponseWriter, message string, id int64) {
	s.writeResult(w, http.StatusOK, message, deletedJSON{PK: id, Deleted: true})
}

// --- targets, shared by queues, ring groups and numbers ---

type targetJSON struct {
	Type   string  `json:"type" doc:"user, queue, ringgroup, external, hangup; \"\" = none"`
	ID     *int64  `json:"id" doc:"The user, queue or ring group ID (types user, queue, ringgroup)"`
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
