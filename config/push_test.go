package config_test

import (
	"os"
	"strings"
	"testing"

	"github.com/parley-chat/parley/config"
	"sigs.k8s.io/yaml"
)

func TestPushCredentialsAreCheckedWhenTheConfigurationIsRead(t *testing.T) {
	for _, tc := range []struct{ name, yaml, want string }{
		{"an APNs key that is not a .p8 key", `{app_id: x, push: {apns: {key_id: K, team_id: T, key_pem: "not a key"}}}`, "push: apns: key_pem"},
		{"an APNs key without its ids", `{app_id: x, push: {apns: {key_pem: "not a key"}}}`, "key_id"},
		{"an APNs certificate without its key", `{app_id: x, push: {apns: {cert_pem: "not a cert"}}}`, "key_pem"},
		{"an APNs endpoint without TLS", `{app_id: x, push: {apns: {key_id: K, team_id: T, key_pem: "k", endpoint: "http://apns.local"}}}`, "endpoint"},
		{"an FCM service account that is not one", `{app_id: x, push: {fcm: {service_account: {client_email: a@b.c, private_key: "x"}}}}`, "push: fcm: service_account: private_key"},
		{"an unknown push key", `{app_id: x, push: {apns: {p8: "k"}}}`, "unknown field"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := config.Parse([]byte("tenants: [{host: a, entries: [" + tc.yaml + "]}]"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Parse() error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

// The example of docs/push.md has placeholder keys, which Validate would
// refuse; its keys and shape must still be those of a configuration file.
func TestThePushDocumentationExampleHasTheConfigurationsShape(t *testing.T) {
	doc, err := os.ReadFile("../docs/push.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(doc), "```yaml\n")
	example, _, ok2 := strings.Cut(rest, "```")
	if !ok || !ok2 {
		t.Fatal("docs/push.md has no yaml example")
	}
	var f config.File
	if err := yaml.UnmarshalStrict([]byte(example), &f); err != nil {
		t.Fatalf("docs/push.md example: %v", err)
	}
	e := f.Tenants[0].Entries[0]
	if e.Push.APNs == nil || e.Push.FCM == nil || len(e.Push.FCM.ServiceAccount) == 0 {
		t.Errorf("docs/push.md example entry = %+v, want apns and fcm credentials", e.Push)
	}
}
