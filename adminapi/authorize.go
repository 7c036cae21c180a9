package adminapi

import (
	"github.com/parley-chat/parley/internal/jsonapi"
	"net/http"

	"github.com/parley-chat/parley/chat"
)

// Authorize checks the request's admin token for scope, for admin routes
// served by other packages (privacy: "privacy:read", "privacy:write").
func (h *Handler) Authorize(r *http.Request, scope string) error {
	c, err := h.authenticate(r)
	if err != nil {
		return err
	}
	if !Allows(c.token.Scopes, scope) {
		return chat.Errorf(jsonapi.CodeForbidden, "this token lacks the scope %s", scope)
	}
	return nil
}
