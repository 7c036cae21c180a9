// Package chat is Parley's domain: tenants, scenario entries, chat sessions,
// the events of a chat's ordered log, the error codes of the customer API and
// the rules that tie them together.
//
// It owns the interfaces its dependencies implement (Store, Bus) and must not
// import a database driver, a network protocol or net/http: those live in the
// packages named for them (sqlite, memory, clientweb, …).
package chat
