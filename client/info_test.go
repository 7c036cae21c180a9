package client_test

import (
	"reflect"
	"testing"

	"github.com/parley-chat/parley/client"
)

func TestVersionReturnsTheServerVersion(t *testing.T) {
	c, _ := stubClient(t, answer{Body: `{"server_version":"parley 0.1"}`})
	got, err := c.Version(t.Context())
	if err != nil {
		t.Fatalf("Version: %v", err)
	}
	if got != "parley 0.1" {
		t.Errorf("Version = %q, want %q", got, "parley 0.1")
	}
}

func TestAvailabilityDecodesEveryClosedValue(t *testing.T) {
	tests := []struct {
		name          string
		body          string
		want          client.Availability
		wantAvailable bool
	}{
		{"an open entry with a wait is available", `{"chat":"available","ewt":"30"}`,
			client.Availability{Chat: "available", EWT: "30"}, true},
		{"an open entry without a wait is available", `{"chat":"available"}`,
			client.Availability{Chat: "available"}, true},
		{"notAvailable is closed", `{"chat":"notAvailable"}`,
			client.Availability{Chat: "notAvailable"}, false},
		{"Android 2.1.0's unavailable is closed", `{"chat":"unavailable"}`,
			client.Availability{Chat: "unavailable"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := stubClient(t, answer{Body: tt.body})
			got, err := c.Availability(t.Context())
			if err != nil {
				t.Fatalf("Availability: %v", err)
			}
			if got != tt.want || got.Available() != tt.wantAvailable {
				t.Errorf("Availability = %+v (available %v), want %+v (available %v)",
					got, got.Available(), tt.want, tt.wantAvailable)
			}
		})
	}
}

func TestICEServersDecodesBothURLShapes(t *testing.T) {
	c, _ := stubClient(t, answer{Body: `{"servers":[
		{"url":"stun:stun.example.com","urls":["stun:stun.example.com"]},
		{"url":"turn:turn.example.com","urls":["turn:turn.example.com"],"username":"u","credential":"p"}]}`})
	got, err := c.ICEServers(t.Context())
	if err != nil {
		t.Fatalf("ICEServers: %v", err)
	}
	want := []client.ICEServer{
		{URL: "stun:stun.example.com", URLs: []string{"stun:stun.example.com"}},
		{URL: "turn:turn.example.com", URLs: []string{"turn:turn.example.com"}, Username: "u", Credential: "p"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ICEServers = %+v, want %+v", got, want)
	}
}

func TestConfigurationKeepsTheWidgetsVerbatim(t *testing.T) {
	body := `{"widgets":[{"name":"main","urls":["https://shop.example.com"],` +
		`"definition":{"contact_tab":{"enabled":true,"location":"bottom_right","show_ewt_out_of_hours":false}},` +
		`"styles":{"font":"Inter"}}]}`
	c, _ := stubClient(t, answer{Body: body})
	got, err := c.Configuration(t.Context())
	if err != nil {
		t.Fatalf("Configuration: %v", err)
	}
	if string(got.Raw) != body {
		t.Errorf("Raw = %s, want %s", got.Raw, body)
	}
	if len(got.Widgets) != 1 {
		t.Fatalf("got %d widgets, want 1", len(got.Widgets))
	}
	w := got.Widgets[0]
	if w.Name != "main" || !reflect.DeepEqual(w.URLs, []string{"https://shop.example.com"}) {
		t.Errorf("widget = %+v", w)
	}
	assertJSON(t, w.Definition, `{"contact_tab":{"enabled":true,"location":"bottom_right","show_ewt_out_of_hours":false}}`)
	assertJSON(t, w.Styles, `{"font":"Inter"}`)
}

func TestParametersKeepTheServersOrder(t *testing.T) {
	c, _ := stubClient(t, answer{Body: `{"parameters":[{"first_name":"FIRST_NAME"},{"email":"EMAIL"},{"phone":"PHONE"}]}`})
	got, err := c.Parameters(t.Context())
	if err != nil {
		t.Fatalf("Parameters: %v", err)
	}
	want := []client.Parameter{{"first_name", "FIRST_NAME"}, {"email", "EMAIL"}, {"phone", "PHONE"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Parameters = %+v, want %+v", got, want)
	}
}

func TestInformationCallsSendNoBody(t *testing.T) {
	c, s := stubClient(t, answer{Body: `{"parameters":[]}`})
	if _, err := c.Parameters(t.Context()); err != nil {
		t.Fatalf("Parameters: %v", err)
	}
	got := s.only(t)
	if len(got.Body) != 0 || got.Header.Get("Content-Type") != "" {
		t.Errorf("GET sent body %q with Content-Type %q, want neither", got.Body, got.Header.Get("Content-Type"))
	}
}
