// Package push tells subscribed devices about chat events they have not
// been given: APNs over HTTP/2 (token or certificate auth) and Firebase
// Cloud Messaging HTTP v1 (service-account OAuth), sent from a durable
// outbox (chat.PushStore) with retries and backoff.
//
// A Notifier is a chat.Observer: when an agent or the system adds an event
// that needs the customer's attention to a chat with a push subscription,
// it writes an outbox row due after a grace period. Its worker (Run) sends
// the row once due, but only if the customer's app has still not been given
// the event by a poll; a token the service rejects as unregistered cancels
// the chat's subscription.
//
// It imports the chat package, HTTP and crypto libraries; never a store,
// the customer API or routing.
package push
