package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// statements are the store's hot statements, prepared once. The pure-Go
// SQLite engine takes longer to compile a small statement than to run it:
// preparing the append, the savepoints and the poll's reads once takes most
// of the cost out of every send and poll.
type statements struct {
	// On the writer's connection, used within its transactions (tx.Stmt
	// reuses them: the writer has a single connection).
	savepoint, release, rollbackTo *sql.Stmt
	lastSeq, insertEvent           *sql.Stmt
	updateSession, setCursor       *sql.Stmt
	loadDedup, findDedup           *sql.Stmt

	// On the read pool, prepared on each connection as it is used.
	session, liveSession, events, sessionExists *sql.Stmt
}

func (s *Store) prepare(ctx context.Context) error {
	var errs []error
	prep := func(db *sql.DB, query string) *sql.Stmt {
		st, err := db.PrepareContext(ctx, query)
		if err != nil {
			errs = append(errs, fmt.Errorf("prepare %q: %w", query, err))
		}
		return st
	}
	s.st = statements{
		savepoint:     prep(s.write, `SAVEPOINT op`),
		release:       prep(s.write, `RELEASE op`),
		rollbackTo:    prep(s.write, `ROLLBACK TO op`),
		lastSeq:       prep(s.write, `SELECT ended, `+lastSeqOfSession+` FROM sessions WHERE id = ?`),
		insertEvent:   prep(s.write, insertEventSQL),
		updateSession: prep(s.write, updateSessionSQL),
		setCursor:     prep(s.write, `UPDATE sessions SET cursor = max(cursor, ?) WHERE id = ?`),
		loadDedup:     prep(s.write, `SELECT dedup_key FROM events WHERE chat_id = ? AND dedup_key IS NOT NULL`),
		// Newest first: a resend follows its first send closely.
		findDedup: prep(s.write, `SELECT 1 FROM events WHERE chat_id = ? AND dedup_key = ? ORDER BY seq DESC LIMIT 1`),

		session: prep(s.read, `SELECT `+sessionColumns+` FROM sessions WHERE id = ?`),
		liveSession: prep(s.read, `SELECT `+sessionColumns+` FROM sessions
			WHERE tenant = ? AND app_id = ? AND client_id = ? AND ended = 0`),
		events: prep(s.read, `SELECT seq, type, party_id, msg_id, created, payload
			FROM events WHERE chat_id = ? AND seq > ? ORDER BY seq LIMIT ?`),
		sessionExists: prep(s.read, `SELECT 1 FROM sessions WHERE id = ?`),
	}
	return errors.Join(errs...)
}

// stmt returns st bound to the writer's transaction tx, bound once per
// transaction: tx.Stmt makes a new statement (and takes locks) at each
// call, several times per append. Only the writer calls it; the Tx closes
// the statements it made when it ends.
func (s *Store) stmt(tx *sql.Tx, st *sql.Stmt) *sql.Stmt {
	if s.txOf != tx {
		clear(s.txStmts)
		s.txOf = tx
	}
	if b := s.txStmts[st]; b != nil {
		return b
	}
	b := tx.Stmt(st)
	if s.txStmts == nil {
		s.txStmts = map[*sql.Stmt]*sql.Stmt{}
	}
	s.txStmts[st] = b
	return b
}

func (st *statements) close() {
	for _, s := range []*sql.Stmt{st.savepoint, st.release, st.rollbackTo, st.lastSeq, st.insertEvent, st.updateSession, st.setCursor, st.loadDedup, st.findDedup,
		st.session, st.liveSession, st.events, st.sessionExists} {
		if s != nil {
			s.Close()
		}
	}
}
