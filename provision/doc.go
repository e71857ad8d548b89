// Package provision is the provisioning service layer: it creates and changes an account's
// users, devices, queues, ring groups, numbers, contacts, API keys, settings and trunks.
// The rules live here — defaults, validation, reference and routing-loop checks, password
// sealing, telling the call engine — so that every door (the REST API, a portal) applies
// them alike. A change arrives as the root's Change type (pointer fields: only what is
// given); an update is get → apply → validate → save (with its events) in one write
// transaction of the store (switchboard.Store's Update…Func), so concurrent PATCHes of one
// row never lose each other's fields.
//
// Usage:
//
//	svc := provision.New(provision.Config{Store: db, Sealer: sealer, Engine: engine})
//	u, err := svc.CreateUser(ctx, accountID, switchboard.UserChange{Extension: &ext})
//	u, err = svc.UpdateUser(ctx, accountID, u.ID, switchboard.UserChange{LastName: &name})
//
// Adding a resource (call flows, prompts, voicemail boxes …) takes one file in each room:
//
//   - the root: the type with its Validate, its Change type and its service interface
//     (see user.go);
//   - store/: Create/Get/List/Delete and an Update…Func (updateFunc and lockedRow do the
//     transaction), with conformance tests in store/storetest;
//   - here: an apply function (Change → fields, collecting problems), Create ending in
//     created, Update through the store's Update…Func;
//   - api/: a route table of resourceRoutes whose handlers are listAll, getByID,
//     createHandler, updateHandler and deleteByID, and the request type's change().
package provision
