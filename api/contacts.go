package api

import (
	"net/http"

	"switchboard"
)

func (s *Server) contactRoutes() []resourceRoute {
	return []resourceRoute{
		{method: "GET", path: "/contacts", summary: "List contacts (paged)", message: "List of contacts", result: []contactJSON{},
			query: pageQuery, serve: listPaged(&s.store, switchboard.Store.PageContacts, contactID, toContactJSON)},
		{method: "POST", path: "/contacts", summary: "Create a contact (sends contact.created)", message: "Contact created",
			status: http.StatusCreated, request: createBody(contactRequestJSON{}), result: contactJSON{},
			serve: createHandler[contactRequestJSON](&s.provision, ProvisioningService.CreateContact, toContactJSON)},
		{method: "GET", path: "/contacts/{contact_id}", summary: "Get a contact", message: "Contact details", result: contactJSON{},
			serve: getByID(&s.store, "contact_id", switchboard.Store.GetContact, toContactJSON)},
		{method: "PATCH", path: "/contacts/{contact_id}", summary: "Change a contact (only the fields given; sends contact.updated)",
			message: "Contact updated", request: patchBody(contactRequestJSON{}), result: contactJSON{},
			serve: updateHandler[contactRequestJSON](&s.provision, "contact_id", ProvisioningService.UpdateContact, toContactJSON)},
		{method: "DELETE", path: "/contacts/{contact_id}", summary: "Delete a contact (sends contact.deleted)", message: "Contact deleted",
			result: deletedJSON{}, serve: deleteByID(&s.provision, "contact_id", ProvisioningService.DeleteContact)},
	}
}

type contactJSON struct {
	PK        int64  `json:"pk" doc:"Contact ID"`
	Phone     string `json:"phone" doc:"E.164 phone number"`
	FirstName string `json:"first_name" doc:"First name"`
	LastName  string `json:"last_name" doc:"Last name"`
	Email     string `json:"email" doc:"Email address"`
	Company   string `json:"company" doc:"Company"`
	CreatedAt string `json:"created_at" doc:"RFC 3339 time of creation"`
	UpdatedAt string `json:"updated_at" doc:"RFC 3339 time of the last change"`
}

func contactID(c *switchboard.Contact) int64 { return c.ID }

func toContactJSON(c *switchboard.Contact) contactJSON {
	return contactJSON{PK: c.ID, Phone: c.Phone, FirstName: c.FirstName, LastName: c.LastName, Email: c.Email,
		Company: c.Company, CreatedAt: formatTime(c.CreatedAt), UpdatedAt: formatTime(c.UpdatedAt)}
}

// contactRequestJSON is the body of POST and PATCH contacts: a field left out is "not given".
type contactRequestJSON struct {
	Phone     *string `json:"phone" doc:"Phone number, any form; stored E.164" create:"required"`
	FirstName *string `json:"first_name" doc:"First name"`
	LastName  *string `json:"last_name" doc:"Last name"`
	Email     *string `json:"email" doc:"Email address"`
	Company   *string `json:"company" doc:"Company"`
}

func (b contactRequestJSON) change() switchboard.ContactChange {
	return switchboard.ContactChange{Phone: b.Phone, FirstName: b.FirstName, LastName: b.LastName, Email: b.Email, Company: b.Company}
}
