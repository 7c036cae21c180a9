package clientweb

import (
	"net/http"
	"strings"
)

// allowOrigin lets a browser page of an allowed origin read the answer, with
// credentials (the WebChat cookie). "*" on an entry allows every origin.
func allowOrigin(w http.ResponseWriter, r *http.Request, allowed []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" || !originAllowed(origin, allowed) {
		return false
	}
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Origin", origin)
	hdr.Set("Access-Control-Allow-Credentials", "true")
	hdr.Add("Vary", "Origin")
	return true
}

func originAllowed(origin string, allowed []string) bool {
	for _, a := range allowed {
		if a == "*" || strings.EqualFold(strings.TrimRight(a, "/"), origin) {
			return true
		}
	}
	return false
}

// allowTenantOrigin applies the origins of all the tenant's entries: used
// where the entry is not known yet (preflights carry no Authorization
// header, and errors about it must still reach the page).
func (h *Handler) allowTenantOrigin(w http.ResponseWriter, r *http.Request, tenant string) bool {
	if r.Header.Get("Origin") == "" {
		return false
	}
	entries, err := h.Service.Store.Entries(r.Context(), tenant)
	if err != nil {
		return false
	}
	var allowed []string
	for _, e := range entries {
		if !e.Disabled {
			allowed = append(allowed, e.CORSOrigins...)
		}
	}
	return allowOrigin(w, r, allowed)
}

// preflight answers a CORS preflight for the methods and headers the SDKs
// and web scripts send.
func (h *Handler) preflight(w http.ResponseWriter, r *http.Request) {
	if !h.allowTenantOrigin(w, r, tenantOf(r)) {
		writeRaw(w, http.StatusForbidden, []byte(`{"error_code":"3000","error_message":"origin not allowed"}`))
		return
	}
	hdr := w.Header()
	hdr.Set("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
	hdr.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, Cache-Control, UserAgent, X-Requested-With")
	hdr.Set("Access-Control-Max-Age", "600")
	writeRaw(w, http.StatusOK, []byte(`{}`))
}
