// Package privacy removes and exports what Parley keeps about a customer:
// erasure of one client id or one case on request (GDPR), the deletion of a
// chat or of files with their bytes (which package retention uses), and
// transcripts of a chat or a case as JSON or as a printable HTML page. It
// serves the admin routes under /admin/api/v1/privacy/.
//
// It uses the chat package, a store and the file blobs; it must not import
// the other HTTP APIs, routing or a store implementation.
package privacy

import (
	"context"
	"errors"
	"fmt"

	"github.com/parley-chat/parley/chat"
)

// Store is what erasure and exports read and remove.
type Store interface {
	chat.Store
	chat.PrivacyStore
}

// Eraser deletes customer data: rows through the store, file bytes through
// the blobs, bytes first so that no byte outlives the row that names it.
// Every deletion is idempotent, so an interrupted erasure is run again.
type Eraser struct {
	Store Store
	Blobs chat.Blobs
}

// Erased counts what an erasure removed.
type Erased struct {
	Chats int `json:"chats"`
	Files int `json:"files"`
	Cases int `json:"cases"`
}

// errLive refuses to erase a chat that is still going on: routing and the
// client's polls hold it, so it is ended first.
var errLive = errors.New("a chat to erase is still live: end it first")

// DeleteChat removes a chat with its events, wrap-ups, push rows and the
// files attached to it, bytes included. It returns how many files it removed.
func (e *Eraser) DeleteChat(ctx context.Context, chatID string) (int, error) {
	files, err := e.Store.SessionFiles(ctx, chatID)
	if err != nil {
		return 0, fmt.Errorf("delete chat %s: %w", chatID, err)
	}
	for _, f := range files {
		if err := e.Blobs.Delete(ctx, f.ID); err != nil {
			return 0, fmt.Errorf("delete chat %s: file %s: %w", chatID, f.ID, err)
		}
	}
	if err := e.Store.DeleteSession(ctx, chatID); err != nil {
		return 0, fmt.Errorf("delete chat %s: %w", chatID, err)
	}
	return len(files), nil
}

// DeleteFiles removes files, bytes and rows.
func (e *Eraser) DeleteFiles(ctx context.Context, files []chat.File) error {
	ids := make([]string, 0, len(files))
	for _, f := range files {
		if err := e.Blobs.Delete(ctx, f.ID); err != nil {
			return fmt.Errorf("delete file %s: %w", f.ID, err)
		}
		ids = append(ids, f.ID)
	}
	if err := e.Store.DeleteFiles(ctx, ids); err != nil {
		return fmt.Errorf("delete files: %w", err)
	}
	return nil
}

// EraseClient removes everything about one client of one entry: every chat
// with its events and files, every file it uploaded, every case, and with
// the chats its push subscriptions. A client with a live chat is refused
// (ErrConflict) and nothing is removed.
func (e *Eraser) EraseClient(ctx context.Context, k chat.ClientKey) (Erased, error) {
	var n Erased
	sessions, err := e.Store.ClientSessions(ctx, k)
	if err != nil {
		return n, fmt.Errorf("erase client: %w", err)
	}
	if err := refuseLive(sessions); err != nil {
		return n, err
	}
	for _, s := range sessions {
		files, err := e.DeleteChat(ctx, s.ID)
		if err != nil {
			return n, fmt.Errorf("erase client: %w", err)
		}
		n.Chats++
		n.Files += files
	}
	files, err := e.Store.ClientFiles(ctx, k)
	if err != nil {
		return n, fmt.Errorf("erase client: %w", err)
	}
	if err := e.DeleteFiles(ctx, files); err != nil {
		return n, fmt.Errorf("erase client: %w", err)
	}
	n.Files += len(files)
	cases, err := e.Store.ClientCases(ctx, k)
	if err != nil {
		return n, fmt.Errorf("erase client: %w", err)
	}
	for _, c := range cases {
		if _, err := e.eraseCase(ctx, c.ID); err != nil {
			return n, err
		}
		n.Cases++
	}
	return n, nil
}

// EraseCase removes a case and every chat linked to it, with their files.
// An unknown case is ErrNotFound; a case with a live chat is refused
// (ErrConflict) and nothing is removed.
func (e *Eraser) EraseCase(ctx context.Context, caseID string) (Erased, error) {
	if _, err := e.Store.Case(ctx, caseID); err != nil {
		return Erased{}, fmt.Errorf("erase case: %w", err)
	}
	n, err := e.eraseCase(ctx, caseID)
	if err != nil {
		return n, err
	}
	n.Cases++
	return n, nil
}

func (e *Eraser) eraseCase(ctx context.Context, caseID string) (Erased, error) {
	var n Erased
	sessions, err := e.Store.CaseSessions(ctx, caseID)
	if err != nil {
		return n, fmt.Errorf("erase case: %w", err)
	}
	if err := refuseLive(sessions); err != nil {
		return n, err
	}
	for _, s := range sessions {
		files, err := e.DeleteChat(ctx, s.ID)
		if err != nil {
			return n, fmt.Errorf("erase case: %w", err)
		}
		n.Chats++
		n.Files += files
	}
	if err := e.Store.DeleteCase(ctx, caseID); err != nil {
		return n, fmt.Errorf("erase case: %w", err)
	}
	return n, nil
}

func refuseLive(sessions []chat.Session) error {
	for _, s := range sessions {
		if s.Live() {
			return fmt.Errorf("chat %s: %w: %w", s.ID, errLive, chat.ErrConflict)
		}
	}
	return nil
}
