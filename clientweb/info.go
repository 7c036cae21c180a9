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

// iceServer is one server in the docs' shape, plus urls for browsers.
type iceServer struct {
	URL        string   `json:"url"`
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// iceServers answers the entry's ICE servers; TURN relays come with
// credentials made for this client that expire (package rtc).
func (h *Handler) iceServers(w http.ResponseWriter, r *http.Request, c *call) error {
	list := rtc.Servers(&c.entry, rtc.CustomerID(c.key), h.Service.Now(), h.EmbeddedTURN)
	servers := make([]iceServer, 0, len(list))
	for _, s := range list {
		servers = append(servers, iceServer{URL: s.URLs[0], URLs: s.URLs, Username: s.Username, Credential: s.Credential})
	}
	writeJSON(w, map[string]any{"servers": servers})
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
