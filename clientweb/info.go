package clientweb

import (
	"encoding/json"
	"net/http"
	"strconv"

	"github.com/parley-chat/parley/rtc"
)

func (h *Handler) version(w http.ResponseWriter, r *http.Request, c *call) error {
	writeJSON(w, map[string]string{"server_version": h.Version})
	return nil
}

func (h *Handler) availability(w http.ResponseWriter, r *http.Request, c *call) error {
	answer := map[string]string{"chat": h.Service.Availability(&c.entry)}
	if ewt, ok := h.Service.EstimateWait(r.Context(), &c.entry); ok && answer["chat"] == "available" {
		answer["ewt"] = strconv.Itoa(ewt)
	}
	writeJSON(w, answer)
	return nil
}

// iceServers answers the entry's ICE servers; TURN relays come with
// credentials made for this client that expire (package rtc).
func (h *Handler) iceServers(w http.ResponseWriter, r *http.Request, c *call) error {
	writeJSON(w, rtc.ServersAnswer(&c.entry, rtc.CustomerID(c.key), h.Service.Now(), h.EmbeddedTURN))
	return nil
}

func (h *Handler) configuration(w http.ResponseWriter, r *http.Request, c *call) error {
	widgets := c.entry.Widgets
	if len(widgets) == 0 {
		widgets = json.RawMessage(`[]`)
	}
	writeJSON(w, map[string]json.RawMessage{"widgets": widgets})
	return nil
}

func (h *Handler) parameters(w http.ResponseWriter, r *http.Request, c *call) error {
	params := make([]map[string]string, 0, len(c.entry.Parameters))
	for _, p := range c.entry.Parameters {
		params = append(params, map[string]string{p.Name: p.Type})
	}
	writeJSON(w, map[string]any{"parameters": params})
	return nil
}
