package adminapi

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"sort"

	"github.com/parley-chat/parley/chat"
)

// Redacted stands in for a stored secret in what the API serves. Sent back
// in a PUT, it keeps the secret stored: an entry read, edited and written
// back keeps its credentials without the client ever holding them.
const Redacted = "<redacted>"

// serviceAccountSecrets are the fields of an FCM service account key that
// are redacted; the rest (client_email, project_id, token_uri) is served.
var serviceAccountSecrets = []string{"private_key", "private_key_id"}

// Redact returns e with every secret replaced by Redacted: the APNs key and
// certificate, the private parts of the FCM service account, the TURN
// secret and static ICE credentials.
func Redact(e chat.Entry) chat.Entry {
	if a := e.Push.APNs; a != nil {
		c := *a
		c.KeyPEM = redactString(c.KeyPEM)
		c.CertPEM = redactString(c.CertPEM)
		e.Push.APNs = &c
	}
	if f := e.Push.FCM; f != nil {
		c := *f
		c.ServiceAccount = redactServiceAccount(c.ServiceAccount)
		e.Push.FCM = &c
	}
	if t := e.TURN; t != nil {
		c := *t
		c.Secret = redactString(c.Secret)
		e.TURN = &c
	}
	if len(e.ICEServers) > 0 {
		servers := slices.Clone(e.ICEServers)
		for i := range servers {
			servers[i].Credential = redactString(servers[i].Credential)
		}
		e.ICEServers = servers
	}
	return e
}

func redactString(s string) string {
	if s == "" {
		return ""
	}
	return Redacted
}

func redactServiceAccount(raw json.RawMessage) json.RawMessage {
	if len(raw) == 0 {
		return raw
	}
	var doc map[string]any
	if err := decodeJSON(raw, &doc); err != nil || doc == nil {
		return json.RawMessage(`"` + Redacted + `"`)
	}
	for _, k := range serviceAccountSecrets {
		if _, ok := doc[k]; ok {
			doc[k] = Redacted
		}
	}
	out, _ := json.Marshal(doc)
	return out
}

// restoreSecrets puts the stored secrets of old into e wherever e has the
// Redacted marker. A marker with nothing stored to keep is an error.
func restoreSecrets(e *chat.Entry, old *chat.Entry) error {
	missing := func(what string) error {
		return chat.Errorf(chat.CodeInvalid, "%s is %q but no such secret is stored: send the secret itself", what, Redacted)
	}
	var oldAPNs chat.APNsConfig
	if old != nil && old.Push.APNs != nil {
		oldAPNs = *old.Push.APNs
	}
	if a := e.Push.APNs; a != nil {
		if a.KeyPEM == Redacted {
			if a.KeyPEM = oldAPNs.KeyPEM; a.KeyPEM == "" {
				return missing("push.apns.key_pem")
			}
		}
		if a.CertPEM == Redacted {
			if a.CertPEM = oldAPNs.CertPEM; a.CertPEM == "" {
				return missing("push.apns.cert_pem")
			}
		}
	}
	if f := e.Push.FCM; f != nil && len(f.ServiceAccount) > 0 {
		var oldSA json.RawMessage
		if old != nil && old.Push.FCM != nil {
			oldSA = old.Push.FCM.ServiceAccount
		}
		sa, err := restoreServiceAccount(f.ServiceAccount, oldSA)
		if err != nil {
			return missing("push.fcm.service_account")
		}
		f.ServiceAccount = sa
	}
	if t := e.TURN; t != nil && t.Secret == Redacted {
		if old == nil || old.TURN == nil || old.TURN.Secret == "" {
			return missing("turn.secret")
		}
		t.Secret = old.TURN.Secret
	}
	for i := range e.ICEServers {
		s := &e.ICEServers[i]
		if s.Credential != Redacted {
			continue
		}
		s.Credential = ""
		if old != nil {
			s.Credential = storedCredential(old.ICEServers, i, s)
		}
		if s.Credential == "" {
			return missing("ice_servers[].credential")
		}
	}
	return nil
}

// storedCredential returns the stored credential of the ICE server s, at
// position i of a PUT: the stored server's at the same position when it has
// the same URLs and username (two servers may share both, each with its
// own credential), else the first's that has them.
func storedCredential(stored []chat.ICEServer, i int, s *chat.ICEServer) string {
	same := func(o chat.ICEServer) bool { return slices.Equal(o.URLs, s.URLs) && o.Username == s.Username }
	if i < len(stored) && same(stored[i]) {
		return stored[i].Credential
	}
	for _, o := range stored {
		if same(o) {
			return o.Credential
		}
	}
	return ""
}

var errNoSecret = chat.Errorf(chat.CodeInvalid, "no stored secret")

func restoreServiceAccount(sa, old json.RawMessage) (json.RawMessage, error) {
	if bytes.Equal(bytes.TrimSpace(sa), []byte(`"`+Redacted+`"`)) {
		if len(old) == 0 {
			return nil, errNoSecret
		}
		return old, nil
	}
	var doc map[string]any
	if err := decodeJSON(sa, &doc); err != nil || doc == nil {
		return sa, nil // not an object: validation says what is wrong
	}
	redacted := false
	for _, k := range serviceAccountSecrets {
		if doc[k] == Redacted {
			redacted = true
		}
	}
	if !redacted {
		return sa, nil
	}
	var oldDoc map[string]any
	if len(old) == 0 || decodeJSON(old, &oldDoc) != nil || oldDoc == nil {
		return nil, errNoSecret
	}
	for _, k := range serviceAccountSecrets {
		if doc[k] == Redacted {
			v, ok := oldDoc[k]
			if !ok {
				return nil, errNoSecret
			}
			doc[k] = v
		}
	}
	return json.Marshal(doc)
}

// decodeJSON decodes keeping numbers as they were written.
func decodeJSON(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	return dec.Decode(v)
}

// tree returns v as a JSON value of maps, slices and json.Numbers.
func tree(v any) any {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var out any
	if decodeJSON(raw, &out) != nil {
		return nil
	}
	return out
}

// changedPaths lists the dotted paths (e.g. "push.apns.key_pem") where two
// JSON values differ; objects are compared key by key, anything else whole.
func changedPaths(prefix string, a, b any, out *[]string) {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		sorted := make([]string, 0, len(keys))
		for k := range keys {
			sorted = append(sorted, k)
		}
		sort.Strings(sorted)
		for _, k := range sorted {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			changedPaths(p, am[k], bm[k], out)
		}
		return
	}
	if !reflect.DeepEqual(a, b) && !(empty(a) && empty(b)) {
		if prefix == "" {
			prefix = "."
		}
		*out = append(*out, prefix)
	}
}

// empty reports whether a JSON value is null, [] or {}: no list and an
// empty one are the same setting, and a PUT of one over the other changes
// nothing.
func empty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

// at returns the value at a dotted path of a JSON tree, nil if absent.
func at(v any, path string) any {
	if path == "." {
		return v
	}
	for _, k := range splitPath(path) {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func splitPath(p string) []string {
	var out []string
	start := 0
	for i := 0; i < len(p); i++ {
		if p[i] == '.' {
			out = append(out, p[start:i])
			start = i + 1
		}
	}
	return append(out, p[start:])
}

// change is what a PUT did, or would do with dry_run: its result and, for
// an update, the paths that differ. The audit log records it with the
// values before and after, taken from redacted documents.
type change struct {
	Result  string         `json:"result"` // "create", "update" or "unchanged"
	Changed []string       `json:"changed,omitempty"`
	Before  map[string]any `json:"before,omitempty"`
	After   map[string]any `json:"after,omitempty"`
}

// Results of a PUT.
const (
	ResultCreate    = "create"
	ResultUpdate    = "update"
	ResultUnchanged = "unchanged"
)

// diff compares the stored value old (nil when none) with the new one; the
// full values find the changes (a new secret is a change), the redacted
// ones are what the summary shows.
func diff(old, new, oldShown, newShown any) change {
	if old == nil {
		return change{Result: ResultCreate}
	}
	var paths []string
	changedPaths("", tree(old), tree(new), &paths)
	if len(paths) == 0 {
		return change{Result: ResultUnchanged}
	}
	c := change{Result: ResultUpdate, Changed: paths, Before: map[string]any{}, After: map[string]any{}}
	ob, nb := tree(oldShown), tree(newShown)
	for _, p := range paths {
		if v := at(ob, p); v != nil {
			c.Before[p] = v
		}
		if v := at(nb, p); v != nil {
			c.After[p] = v
		}
	}
	return c
}
