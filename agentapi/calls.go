package agentapi

import (
	"github.com/parley-chat/parley/internal/jsonapi"
	"net/http"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/rtc"
)

// iceServers answers the ICE servers of the chat's entry for a call of the
// agent the chat is assigned to: the customer API's answer, with TURN
// credentials made for the agent (package rtc). Entries without calls have
// none to give, as they take no signaling.
func (h *Handler) iceServers(w http.ResponseWriter, r *http.Request, s *session) error {
	ctx := r.Context()
	sess, _, err := h.chatFor(ctx, s, r.PathValue("chatId"), owner)
	if err != nil {
		return err
	}
	entry, err := h.Service.Store.Entry(ctx, sess.Tenant, sess.AppID)
	if err != nil {
		return err
	}
	if !entry.Calls {
		return chat.Errorf(chat.CodeInvalid, "calls are not enabled on this entry")
	}
	jsonapi.WriteJSON(w, rtc.ServersAnswer(&entry, rtc.AgentID(s.agent.Tenant, s.agent.ID), h.Service.Now(), h.EmbeddedTURN))
	return nil
}
