// Package client talks to a Parley server the way a customer's app does,
// speaking the Mobile/Web Messaging API v2 (spec api-v2.md) over HTTP and
// nothing else, and the way an agent's desktop does (Agent). The test
// suite, load generators and Go programs import it.
//
// A Client is bound to one tenant, one scenario entry (appId) and one app
// installation (clientId). It holds no mutable state of its own and is safe
// for concurrent use; every method takes a context that bounds the call.
//
// A non-200 answer is returned as an *APIError carrying the status and the
// spec's error code; an answer that breaks the contract (a 200 that is not a
// JSON object, an event field of the wrong type) is an error wrapping
// ErrBadResponse. Wrapping errors name the operation, so errors.As and
// errors.Is see through them.
//
// An Agent (NewAgent) is the other side: an agent's desktop speaking the
// agent API (/agent/api/v1), bearer-token login, offers, chats, cases,
// administration, and an AgentStream of routing changes and chat events
// over a WebSocket.
//
// The package imports the standard library and, for the agent stream,
// github.com/coder/websocket; never the server's packages: it must keep
// working against any server that honours the wire contract, and it is the
// second, independent reading of that contract.
package client
