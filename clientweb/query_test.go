package clientweb

import (
	"net/url"
	"testing"
)

func TestQueryValueReadsAsParseQuery(t *testing.T) {
	for _, raw := range []string{
		"", "tenantUrl=demo.parley.local", "a=1&tenantUrl=x&tenantUrl=y", "tenantUrl=&tenantUrl=x",
		"tenant%55rl=escaped+key", "tenantUrl=a%2Fb+c", "tenantUrl=%zz&tenantUrl=second", "%zz=1&tenantUrl=ok",
		"tenantUrl=a;b&tenantUrl=c", "x;tenantUrl=a&tenantUrl=b", "tenantUrl", "tenantUrl&tenantUrl=v", "&&tenantUrl=v&",
		"TenantUrl=case", "tenantUrl=a=b",
	} {
		want := url.Values{}
		if v, err := url.ParseQuery(raw); err == nil || v != nil {
			want = v
		}
		if got := queryValue(raw, "tenantUrl"); got != want.Get("tenantUrl") {
			t.Errorf("queryValue(%q) = %q, want %q", raw, got, want.Get("tenantUrl"))
		}
	}
}
