package adminapi

import (
	"errors"
	"github.com/parley-chat/parley/internal/jsonapi"
	"net/http"

	"github.com/parley-chat/parley/chat"
	"github.com/parley-chat/parley/config"
)

// PutResult is the answer to a PUT: what it did (or, with dry_run, would
// do) and the value stored, secrets redacted.
type PutResult struct {
	Result  string   `json:"result"` // ResultCreate, ResultUpdate or ResultUnchanged
	Changed []string `json:"changed,omitempty"`
	DryRun  bool     `json:"dry_run,omitempty"`
}

func (h *Handler) listTenants(w http.ResponseWriter, r *http.Request, _ *caller) error {
	ts, err := h.Store.Tenants(r.Context())
	if err != nil {
		return err
	}
	if ts == nil {
		ts = []chat.Tenant{}
	}
	jsonapi.WriteJSON(w, map[string]any{"tenants": ts})
	return nil
}

// tenant returns the tenant the path names.
func (h *Handler) tenant(r *http.Request) (chat.Tenant, error) {
	host := chat.NormalizeTenant(r.PathValue("host"))
	t, err := h.Store.Tenant(r.Context(), host)
	return t, notFound(err, "no tenant %s", host)
}

func (h *Handler) getTenant(w http.ResponseWriter, r *http.Request, _ *caller) error {
	t, err := h.tenant(r)
	if err != nil {
		return err
	}
	jsonapi.WriteJSON(w, map[string]any{"tenant": t})
	return nil
}

func (h *Handler) putTenant(w http.ResponseWriter, r *http.Request, c *caller) error {
	host := chat.NormalizeTenant(r.PathValue("host"))
	if host == "" {
		return chat.Errorf(chat.CodeInvalid, "host missing")
	}
	// The body is a tenant as in the configuration file (name, disabled,
	// retention, …) without its entries, which are put one by one.
	var t chat.Tenant
	if err := h.readJSON(w, r, &t); err != nil {
		return err
	}
	if len(t.Entries) > 0 {
		return chat.Errorf(chat.CodeInvalid, "put entries one by one under tenants/%s/entries/", host)
	}
	if t.Host != "" && chat.NormalizeTenant(t.Host) != host {
		return chat.Errorf(chat.CodeInvalid, "host %q differs from the path's %q", t.Host, host)
	}
	t.Host = host
	var old any
	stored, err := h.Store.Tenant(r.Context(), host)
	switch {
	case err == nil:
		old = stored
	case !errors.Is(err, chat.ErrNotFound):
		return err
	}
	return h.store(w, r, c, "tenant", host, old, t, t, t, func() error { return h.Store.PutTenant(r.Context(), t) })
}

func (h *Handler) disableTenant(w http.ResponseWriter, r *http.Request, c *caller) error {
	t, err := h.tenant(r)
	if err != nil {
		return err
	}
	old := t
	t.Disabled = true
	return h.store(w, r, c, "tenant", t.Host, old, t, t, t, func() error { return h.Store.PutTenant(r.Context(), t) })
}

// store finishes a PUT: it compares old (nil when creating) with new, and
// unless the request is a dry run or nothing changes, runs put and records
// the change. shown is the value answered; oldShown and shown must hold no
// secret.
func (h *Handler) store(w http.ResponseWriter, r *http.Request, c *caller, kind, target string, old, new, oldShown, shown any, put func() error) error {
	var ch change
	if old == nil {
		ch = diff(nil, new, nil, shown)
	} else {
		ch = diff(old, new, oldShown, shown)
	}
	res := PutResult{Result: ch.Result, Changed: ch.Changed, DryRun: dryRun(r)}
	if !res.DryRun && ch.Result != ResultUnchanged {
		if err := put(); err != nil {
			if errors.Is(err, chat.ErrConflict) {
				return chat.Errorf(jsonapi.CodeConflict, "%s %s conflicts with another", kind, target)
			}
			return err
		}
		action := kind + "." + ch.Result
		if len(ch.Changed) == 1 && ch.Changed[0] == "disabled" && ch.After["disabled"] == true {
			action = kind + ".disable"
		}
		if ch.Result == ResultCreate {
			ch.After = map[string]any{".": tree(shown)}
		}
		h.audit(r, c, action, target, ch)
	}
	jsonapi.WriteJSON(w, map[string]any{"result": res.Result, "changed": res.Changed, "dry_run": res.DryRun, kind: shown})
	return nil
}

func (h *Handler) listEntries(w http.ResponseWriter, r *http.Request, _ *caller) error {
	t, err := h.tenant(r)
	if err != nil {
		return err
	}
	es, err := h.Store.Entries(r.Context(), t.Host)
	if err != nil {
		return err
	}
	out := make([]chat.Entry, 0, len(es))
	for _, e := range es {
		out = append(out, Redact(e))
	}
	jsonapi.WriteJSON(w, map[string]any{"entries": out})
	return nil
}

// entry returns the stored entry the path names.
func (h *Handler) entry(r *http.Request) (chat.Entry, error) {
	t, err := h.tenant(r)
	if err != nil {
		return chat.Entry{}, err
	}
	app := r.PathValue("appId")
	e, err := h.Store.Entry(r.Context(), t.Host, app)
	return e, notFound(err, "no entry %s in tenant %s", app, t.Host)
}

func (h *Handler) getEntry(w http.ResponseWriter, r *http.Request, _ *caller) error {
	e, err := h.entry(r)
	if err != nil {
		return err
	}
	jsonapi.WriteJSON(w, map[string]any{"entry": Redact(e)})
	return nil
}

func (h *Handler) putEntry(w http.ResponseWriter, r *http.Request, c *caller) error {
	t, err := h.tenant(r)
	if err != nil {
		return err
	}
	app := r.PathValue("appId")
	var e chat.Entry
	if err := h.readJSON(w, r, &e); err != nil {
		return err
	}
	if e.AppID == "" {
		e.AppID = app
	}
	if e.AppID != app {
		return chat.Errorf(chat.CodeInvalid, "app_id %q differs from the path's %q", e.AppID, app)
	}
	stored, err := h.Store.Entry(r.Context(), t.Host, app)
	var old *chat.Entry
	switch {
	case err == nil:
		stored.Tenant = ""
		old = &stored
	case !errors.Is(err, chat.ErrNotFound):
		return err
	}
	if err := restoreSecrets(&e, old); err != nil {
		return err
	}
	if err := config.ValidateEntry(&e); err != nil {
		return chat.Errorf(chat.CodeInvalid, "entry %s: %v", app, err)
	}
	return h.storeEntry(w, r, c, t.Host, old, e)
}

func (h *Handler) storeEntry(w http.ResponseWriter, r *http.Request, c *caller, host string, old *chat.Entry, e chat.Entry) error {
	put := func() error { return h.Store.PutEntry(r.Context(), host, e) }
	target := host + "/" + e.AppID
	if old == nil {
		return h.store(w, r, c, "entry", target, nil, e, nil, Redact(e), put)
	}
	return h.store(w, r, c, "entry", target, *old, e, Redact(*old), Redact(e), put)
}

// disableEntry turns an entry off. Entries are never deleted: chats and
// cases refer to them.
func (h *Handler) disableEntry(w http.ResponseWriter, r *http.Request, c *caller) error {
	e, err := h.entry(r)
	if err != nil {
		return err
	}
	host := e.Tenant
	e.Tenant = ""
	old := e
	e.Disabled = true
	return h.storeEntry(w, r, c, host, &old, e)
}
