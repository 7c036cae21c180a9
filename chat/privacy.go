package chat

import (
	"context"
	"time"
)

// Retention is how long a tenant keeps what its customers leave behind.
// Zero keeps forever.
type Retention struct {
	// Chats is how long an ended chat (its session, events, files,
	// wrap-ups and push rows) is kept after it ended.
	Chats Duration `json:"chats,omitzero"`
	// Files is how long an uploaded file is kept after its upload, even
	// while its chat is kept: the chat_session_file event stays and the
	// download answers not found.
	Files Duration `json:"files,omitzero"`
}

// PrivacyStore finds and removes what Parley keeps about customers: for
// retention periods and for erasure on request. Deletions are idempotent
// (removing what is gone is not an error) so that an interrupted run is
// simply run again. File rows are removed by the store; their bytes are the
// caller's to delete (Blobs), before the rows, so that no byte outlives the
// row that names it.
//
// Stores implement it beside Store; the contract suite (storetest) requires
// it of every store it runs against.
type PrivacyStore interface {
	// TenantHosts returns the host of every tenant, sorted.
	TenantHosts(ctx context.Context) ([]string, error)
	// EndedSessions returns up to limit sessions of the tenant that ended
	// before t, earliest end first. Live sessions are never returned.
	EndedSessions(ctx context.Context, tenant string, before time.Time, limit int) ([]Session, error)
	// ClientSessions returns every session of the client, live or ended,
	// oldest first.
	ClientSessions(ctx context.Context, k ClientKey) ([]Session, error)
	// SessionFiles returns the files attached to the chat.
	SessionFiles(ctx context.Context, chatID string) ([]File, error)
	// DeleteSession removes a session and every row about it: its events,
	// the rows of files attached to it, its wrap-ups and its push outbox
	// rows, in one transaction.
	DeleteSession(ctx context.Context, id string) error
	// FilesBefore returns up to limit files of the tenant uploaded before
	// t, oldest first, leaving out agents' files attached to no chat
	// (profile pictures), which are not customer data.
	FilesBefore(ctx context.Context, tenant string, before time.Time, limit int) ([]File, error)
	// ClientFiles returns every file the client uploaded, attached or not.
	ClientFiles(ctx context.Context, k ClientKey) ([]File, error)
	// DeleteFiles removes the rows of the files ids.
	DeleteFiles(ctx context.Context, ids []string) error
	// ClientCases returns every case of the client, oldest first.
	ClientCases(ctx context.Context, k ClientKey) ([]Case, error)
	// DeleteCase removes the case row; sessions linked to it are left as
	// they are (delete them first).
	DeleteCase(ctx context.Context, id string) error
}
