package chat

import (
	"context"
	"errors"
	"io"
)

// Store keeps configuration, sessions and the ordered event log of every chat.
// Implementations (sqlite, postgres) pass the contract suite in storetest.
// Methods return ErrNotFound for missing rows and ErrConflict for a broken
// uniqueness rule; an error means nothing was changed.
type Store interface {
	ConfigStore
	SessionStore
	FileStore
	CaseStore
	AgentStore
	// Ping reports whether the store is reachable.
	Ping(ctx context.Context) error
	Close() error
}

// ConfigStore keeps tenants and their scenario entries.
type ConfigStore interface {
	PutTenant(ctx context.Context, t Tenant) error
	Tenant(ctx context.Context, host string) (Tenant, error)
	PutEntry(ctx context.Context, host string, e Entry) error
	Entry(ctx context.Context, host, appID string) (Entry, error)
	Entries(ctx context.Context, host string) ([]Entry, error)
}

// SessionStore keeps chat sessions and their event logs.
type SessionStore interface {
	// CreateSession stores a new live session with its first events and
	// returns them with their sequence numbers. It fails with ErrConflict
	// when the client already has a live session on the entry.
	CreateSession(ctx context.Context, s Session, first []Event) ([]Event, error)
	Session(ctx context.Context, id string) (Session, error)
	// LiveSession returns the client's live session on its entry.
	LiveSession(ctx context.Context, k ClientKey) (Session, error)
	// Append stores events at the end of a live chat's log, assigning each
	// the next sequence number, and applies u in the same transaction. An
	// event whose type is Deduplicated and whose msg_id the chat already
	// holds is skipped. It returns the events stored, and fails with
	// ErrNotFound when the chat does not exist or has ended.
	Append(ctx context.Context, chatID string, evs []Event, u SessionUpdate) ([]Event, error)
	// Events returns up to limit events with a sequence above after, in order.
	Events(ctx context.Context, chatID string, after int64, limit int) ([]Event, error)
	// SetCursor records that the client was given events up to seq; it
	// never moves a cursor backwards.
	SetCursor(ctx context.Context, chatID string, seq int64) error
	SetPush(ctx context.Context, chatID string, p PushToken) error
}

// FileStore keeps the metadata of uploaded files; their bytes are in Files.
type FileStore interface {
	PutFile(ctx context.Context, f File) error
	File(ctx context.Context, id string) (File, error)
	// AttachFile ties an uploaded file to the chat that names it.
	AttachFile(ctx context.Context, fileID, chatID string) error
}

// CaseStore keeps CRM cases.
type CaseStore interface {
	PutCase(ctx context.Context, c Case) error
	Case(ctx context.Context, id string) (Case, error)
	// OpenCase returns the client's most recent open case on its entry.
	OpenCase(ctx context.Context, k ClientKey) (Case, error)
	CloseCase(ctx context.Context, id string) error
	// CaseSessions returns the sessions linked to a case, oldest first.
	CaseSessions(ctx context.Context, caseID string) ([]Session, error)
}

// Bus carries wake-ups between the writers and the readers of chat logs, on
// one node (memory) or across nodes (nats). A notification says only "look
// again": readers find what is new in the store, so a lost or coalesced
// notification delays nothing past the next one or a poll's timeout.
type Bus interface {
	Publish(ctx context.Context, topic string) error
	// Watch returns a channel that receives a value after each Publish on
	// topic (coalesced while unread) and a function that stops watching.
	Watch(topic string) (<-chan struct{}, func())
}

// ChatTopic is the bus topic of a chat's log.
func ChatTopic(chatID string) string { return "chat." + chatID }

// Blobs keeps the bytes of uploaded files under their ids (local disk by
// default, shared storage when scaled out).
type Blobs interface {
	// Put stores at most limit bytes read from r and returns how many it
	// stored; a longer input fails with ErrTooLarge and stores nothing.
	Put(ctx context.Context, id string, r io.Reader, limit int64) (int64, error)
	Open(ctx context.Context, id string) (io.ReadSeekCloser, error)
	Delete(ctx context.Context, id string) error
}

// ErrTooLarge is returned by Blobs.Put for inputs over the limit.
var ErrTooLarge = errors.New("too large")
