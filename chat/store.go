package chat

import (
	"context"
	"errors"
	"io"
	"time"
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
	// event whose non-empty DedupKey the chat already holds (the same
	// sender's msg_id) is skipped and takes no sequence number. It returns the events stored, and fails with
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

// ChatTopic is the bus topic of a chat's log: published at every append.
func ChatTopic(chatID string) string { return "chat." + chatID }

// CustomerTopic is the bus topic that wakes a chat's customer: published
// with ChatTopic when the append holds an event of someone other than the
// customer, or ends the chat. A customer's own events are never given back
// to it, so its sends do not wake its own poll for nothing.
func CustomerTopic(chatID string) string { return "chat." + chatID + ".customer" }

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

// PushStore keeps the push outbox: notifications owed to subscribed devices,
// written when an event needing attention is stored and removed once sent
// or given up. Rows outlive restarts, so a push is not lost with a node.
//
// Stores implement it beside Store; the contract suite (storetest) requires
// it of every store it runs against.
type PushStore interface {
	// QueuePush stores a job. A job for the same chat and sequence is kept
	// once: the first one stays as it is.
	QueuePush(ctx context.Context, j PushJob) error
	// ClaimPushes returns up to limit jobs due at now (NotBefore not after
	// it), earliest first, and makes them due again only at until: a lease,
	// so that no other worker takes them meanwhile and a worker that dies
	// leaves them to be tried again. The jobs returned carry the new
	// NotBefore.
	ClaimPushes(ctx context.Context, now, until time.Time, limit int) ([]PushJob, error)
	// RetryPush stores the job's NotBefore and Attempts; ErrNotFound when
	// the job is gone.
	RetryPush(ctx context.Context, j PushJob) error
	// DeletePush removes a job; removing one that is gone is not an error.
	DeletePush(ctx context.Context, chatID string, seq int64) error
}

// PushJob is one notification in the push outbox: the event Seq of ChatID
// needs its device told, not before NotBefore. What to send is read when it
// is sent, so that a client that was given the event meanwhile, or a
// cancelled subscription, sends nothing.
type PushJob struct {
	ChatID    string
	Seq       int64
	NotBefore time.Time
	Attempts  int // failed attempts so far
}
