package agentapi

import (
	"net/http"

	"github.com/parley-chat/parley/privacy"
)

// exportChat is the transcript of a chat the agent may read (handled,
// offered, or any for an administrator) as ?format=json (default) or html,
// a printable page.
func (h *Handler) exportChat(w http.ResponseWriter, r *http.Request, s *session) error {
	sess, _, err := h.chatFor(r.Context(), s, r.PathValue("chatId"), readOnly)
	if err != nil {
		return err
	}
	x, err := privacy.ExportChat(r.Context(), h.Service.Store, sess)
	if err != nil {
		return err
	}
	return privacy.Write(w, r, "chat-"+sess.ID, x)
}
