package postgres

import (
	"context"
	"fmt"

	"github.com/parley-chat/parley/chat"
)

// PutFile stores the metadata of an uploaded file.
func (s *Store) PutFile(ctx context.Context, f chat.File) error {
	if _, err := s.exec(ctx, `INSERT INTO files (id, tenant, app_id, client_id, chat_id, name, content_type, size, created)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, f.ID, f.Tenant, f.AppID, f.ClientID, f.ChatID,
		f.Name, f.ContentType, f.Size, f.Created); err != nil {
		return fmt.Errorf("put file: %w", err)
	}
	return nil
}

// File returns the metadata of the file id.
func (s *Store) File(ctx context.Context, id string) (chat.File, error) {
	var f chat.File
	err := s.pool.QueryRow(ctx, `SELECT id, tenant, app_id, client_id, chat_id, name, content_type, size, created
		FROM files WHERE id = $1`, id).Scan(&f.ID, &f.Tenant, &f.AppID, &f.ClientID, &f.ChatID,
		&f.Name, &f.ContentType, &f.Size, &f.Created)
	if err != nil {
		return chat.File{}, notFound(err)
	}
	return f, nil
}

// AttachFile ties the file to the chat that names it.
func (s *Store) AttachFile(ctx context.Context, fileID, chatID string) error {
	if err := s.mustChange(ctx, `UPDATE files SET chat_id = $2 WHERE id = $1`, fileID, chatID); err != nil {
		return fmt.Errorf("attach file: %w", err)
	}
	return nil
}
