// Package switchboard holds Switchboard's domain: the types every room shares (accounts,
// users, devices, queues, ring groups, numbers, contacts, API keys, events), the interfaces
// that adapters implement (storage, live telephony, SMS), and one error type with codes.
//
// It imports only the standard library. Persistence lives in store/, HTTP in api/, the
// webhook machinery in webhook/, and cmd/switchboard wires them together.
package switchboard
