package adminapi

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/parley-chat/parley/chat"
)

// TokenPrefix starts every admin token, so that a leaked one is
// recognisable (and secret scanners can find it).
const TokenPrefix = "padm_"

// CreateToken stores a new admin token with the given scopes and returns it
// with its bearer value, which is not stored and cannot be shown again. The
// creation is recorded in the audit log as done by "cli".
func CreateToken(ctx context.Context, st chat.AdminStore, name string, scopes []string, now time.Time) (chat.AdminToken, string, error) {
	if len(scopes) == 0 {
		return chat.AdminToken{}, "", fmt.Errorf("create admin token: no scopes (one or more of %v)", KnownScopes)
	}
	for _, s := range scopes {
		if !slices.Contains(KnownScopes, s) {
			return chat.AdminToken{}, "", fmt.Errorf("create admin token: unknown scope %q (want %v)", s, KnownScopes)
		}
	}
	buf := make([]byte, 32)
	rand.Read(buf)
	value := TokenPrefix + base64.RawURLEncoding.EncodeToString(buf)
	t := chat.AdminToken{ID: chat.NewID(), Name: name, Hash: HashToken(value), Scopes: scopes, Created: now.UTC().Truncate(time.Second)}
	if t.Name == "" {
		t.Name = "token-" + t.ID
	}
	if err := st.PutAdminToken(ctx, t); err != nil {
		return chat.AdminToken{}, "", fmt.Errorf("create admin token: %w", err)
	}
	e := chat.AuditEntry{Time: now.UTC().Truncate(time.Millisecond), TokenID: "cli", TokenName: "parley admin token create",
		Action: "token.create", Target: t.ID + " (" + t.Name + ")", Detail: scopesDetail(scopes)}
	if _, err := st.AppendAudit(ctx, e); err != nil {
		return t, value, fmt.Errorf("record token creation: %w", err)
	}
	return t, value, nil
}

func scopesDetail(scopes []string) []byte {
	doc := map[string]any{"scopes": scopes}
	b, _ := json.Marshal(doc)
	return b
}
