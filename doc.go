// Package switchboard holds Switchboard's domain: the types every room shares (accounts,
// users, devices, queues, ring groups, numbers, contacts, API keys, trunks, events), the
// interfaces that adapters implement (storage, live telephony, SMS), and one error type with
// codes. Each entity has its own file with its type, its Validate, its Change type (a create
// or PATCH as received: pointer fields, nil = not given) and the service interface the doors
// call (UserService, QueueService, …).
//
// It imports only the standard library. Persistence lives in store/, the provisioning rules
// in provision/, HTTP in api/, the webhook machinery in webhook/, and cmd/switchboard wires
// them together.
package switchboard
