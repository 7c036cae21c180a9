package storetest

import (
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/parley-chat/parley/chat"
)

// adminTests are the rules of chat.AdminStore: the tenant list, admin
// tokens found by their hash, and an audit log read back newest first.
var adminTests = []test{
	{"tenants lists every tenant by host, without entries", func(t *testing.T, st chat.Store) {
		as := adminStore(t, st)
		if got, err := as.Tenants(t.Context()); err != nil || len(got) != 0 {
			t.Fatalf("Tenants() of an empty store = %v, %v; want none", got, err)
		}
		b := chat.Tenant{Host: "b.parley.local", Name: "B", Disabled: true}
		a := chat.Tenant{Host: "a.parley.local", Name: "A"}
		putTenant(t, st, b)
		putTenant(t, st, a)
		putEntry(t, st, a.Host, chat.Entry{AppID: appID})
		got, err := as.Tenants(t.Context())
		if err != nil {
			t.Fatalf("Tenants: %v", err)
		}
		if want := []chat.Tenant{a, b}; !reflect.DeepEqual(got, want) {
			t.Fatalf("Tenants() = %+v, want %+v", got, want)
		}
	}},
	{"an admin token is found by its hash with every field", func(t *testing.T, st chat.Store) {
		as := adminStore(t, st)
		want := chat.AdminToken{ID: "tok-1", Name: "ops", Hash: "hash-1", Scopes: []string{"tenants:read", "audit:read"}, Created: at(1)}
		putAdminToken(t, as, want)
		putAdminToken(t, as, chat.AdminToken{ID: "tok-2", Name: "other", Hash: "hash-2", Scopes: []string{"*"}, Created: at(2)})
		got, err := as.AdminToken(t.Context(), "hash-1")
		if err != nil {
			t.Fatalf("AdminToken: %v", err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("AdminToken() = %+v, want %+v", got, want)
		}
	}},
	{"an unknown admin token hash is not found", func(t *testing.T, st chat.Store) {
		as := adminStore(t, st)
		putAdminToken(t, as, chat.AdminToken{ID: "tok-1", Name: "ops", Hash: "hash-1", Scopes: []string{"*"}, Created: at(1)})
		_, err := as.AdminToken(t.Context(), "hash-x")
		wantErr(t, "AdminToken(unknown)", err, chat.ErrNotFound)
	}},
	{"putting an admin token again replaces it", func(t *testing.T, st chat.Store) {
		as := adminStore(t, st)
		putAdminToken(t, as, chat.AdminToken{ID: "tok-1", Name: "ops", Hash: "hash-1", Scopes: []string{"*"}, Created: at(1)})
		want := chat.AdminToken{ID: "tok-1", Name: "ops", Hash: "hash-1", Scopes: []string{"audit:read"}, Created: at(1), Disabled: true}
		putAdminToken(t, as, want)
		got, err := as.AdminTokens(t.Context())
		if err != nil {
			t.Fatalf("AdminTokens: %v", err)
		}
		if !reflect.DeepEqual(got, []chat.AdminToken{want}) {
			t.Fatalf("AdminTokens() = %+v, want [%+v]", got, want)
		}
	}},
	{"a hash used by another admin token is a conflict", func(t *testing.T, st chat.Store) {
		as := adminStore(t, st)
		putAdminToken(t, as, chat.AdminToken{ID: "tok-1", Name: "a", Hash: "hash-1", Scopes: []string{"*"}, Created: at(1)})
		err := as.PutAdminToken(t.Context(), chat.AdminToken{ID: "tok-2", Name: "b", Hash: "hash-1", Scopes: []string{"*"}, Created: at(2)})
		wantErr(t, "PutAdminToken(same hash)", err, chat.ErrConflict)
	}},
	{"admin tokens list oldest first", func(t *testing.T, st chat.Store) {
		as := adminStore(t, st)
		putAdminToken(t, as, chat.AdminToken{ID: "tok-b", Name: "b", Hash: "hash-b", Scopes: []string{"*"}, Created: at(5)})
		putAdminToken(t, as, chat.AdminToken{ID: "tok-a", Name: "a", Hash: "hash-a", Scopes: []string{"*"}, Created: at(1)})
		got, err := as.AdminTokens(t.Context())
		if err != nil || len(got) != 2 || got[0].ID != "tok-a" || got[1].ID != "tok-b" {
			t.Fatalf("AdminTokens() = %+v, %v; want tok-a then tok-b", got, err)
		}
	}},
	{"audit entries read back newest first with increasing ids", func(t *testing.T, st chat.Store) {
		as := adminStore(t, st)
		var appended []chat.AuditEntry
		for i := range 3 {
			e := chat.AuditEntry{Time: at(i), TokenID: "tok-1", TokenName: "ops", Action: "entry.update",
				Target: fmt.Sprintf("%s/app-%d", host, i), Detail: json.RawMessage(fmt.Sprintf(`{"changed":["name%d"]}`, i))}
			got, err := as.AppendAudit(t.Context(), e)
			if err != nil {
				t.Fatalf("AppendAudit: %v", err)
			}
			if len(appended) > 0 && got.ID <= appended[len(appended)-1].ID {
				t.Fatalf("AppendAudit ids %d then %d; want increasing", appended[len(appended)-1].ID, got.ID)
			}
			e.ID = got.ID
			appended = append(appended, e)
		}
		got, err := as.Audit(t.Context(), 0, 10)
		if err != nil {
			t.Fatalf("Audit: %v", err)
		}
		if len(got) != 3 {
			t.Fatalf("Audit() has %d entries, want 3", len(got))
		}
		for i, e := range got {
			want := appended[2-i]
			if !jsonEqual(e.Detail, want.Detail) {
				t.Fatalf("Audit()[%d].Detail = %s, want %s", i, e.Detail, want.Detail)
			}
			e.Detail, want.Detail = nil, nil
			if !reflect.DeepEqual(e, want) {
				t.Fatalf("Audit()[%d] = %+v, want %+v", i, e, want)
			}
		}
	}},
	{"audit pages with before and limit", func(t *testing.T, st chat.Store) {
		as := adminStore(t, st)
		var ids []int64
		for i := range 5 {
			e, err := as.AppendAudit(t.Context(), chat.AuditEntry{Time: at(i), TokenID: "t", TokenName: "t", Action: "tenant.update", Target: host})
			if err != nil {
				t.Fatalf("AppendAudit: %v", err)
			}
			ids = append(ids, e.ID)
		}
		got, err := as.Audit(t.Context(), ids[3], 2)
		if err != nil {
			t.Fatalf("Audit: %v", err)
		}
		if len(got) != 2 || got[0].ID != ids[2] || got[1].ID != ids[1] {
			t.Fatalf("Audit(before %d, 2) = %+v; want ids %d, %d", ids[3], got, ids[2], ids[1])
		}
		if got[0].Detail != nil {
			t.Fatalf("an entry without detail reads back with %s", got[0].Detail)
		}
	}},
}

func adminStore(t *testing.T, st chat.Store) chat.AdminStore {
	t.Helper()
	as, ok := st.(chat.AdminStore)
	if !ok {
		t.Fatalf("%T does not implement chat.AdminStore (admin tokens and audit log)", st)
	}
	return as
}

func putAdminToken(t *testing.T, as chat.AdminStore, tok chat.AdminToken) {
	t.Helper()
	if err := as.PutAdminToken(t.Context(), tok); err != nil {
		t.Fatalf("PutAdminToken(%q): %v", tok.ID, err)
	}
}

// jsonEqual reports whether two JSON documents hold the same value, as
// stores may reformat what they keep.
func jsonEqual(a, b json.RawMessage) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return false
	}
	return reflect.DeepEqual(va, vb)
}
