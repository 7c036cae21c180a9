package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/parley-chat/parley/chat"
)

// PutFile stores the metadata of an uploaded file.
func (s *Store) PutFile(ctx context.Context, f chat.File) error {
	return s.exec(ctx, func(tx *sql.Tx) error {
		_, err := tx.Exec(`INSERT INTO files (id, tenant, app_id, client_id, chat_id, name, content_type, size, created)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, f.ID, f.Tenant, f.AppID, f.ClientID, f.ChatID,
			f.Name, f.ContentType, f.Size, f.Created.UnixMilli())
		if isUnique(err) {
			return chat.ErrConflict
		}
		return err
	})
}

// File returns the metadata of the file id.
func (s *Store) File(ctx context.Context, id string) (chat.File, error) {
	var f chat.File
	var created int64
	err := s.read.QueryRowContext(ctx, `SELECT id, tenant, app_id, client_id, chat_id, name, content_type, size, created
		FROM files WHERE id = ?`, id).Scan(&f.ID, &f.Tenant, &f.AppID, &f.ClientID, &f.ChatID,
		&f.Name, &f.ContentType, &f.Size, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return chat.File{}, chat.ErrNotFound
	}
	f.Created = time.UnixMilli(created)
	return f, err
}

// AttachFile ties the file to the chat that names it.
func (s *Store) AttachFile(ctx context.Context, fileID, chatID string) error {
	return s.exec(ctx, func(tx *sql.Tx) error {
		return mustChange(tx.Exec(`UPDATE files SET chat_id = ? WHERE id = ?`, chatID, fileID))
	})
}
