package client_test

import (
	"testing"

	"github.com/parley-chat/parley/client"
)

const jsonType = "application/json; charset=utf-8"

func TestRequestChatSendsTheRequestAndDecodesTheChat(t *testing.T) {
	tests := []struct {
		name     string
		req      client.ChatRequest
		wantBody string
	}{
		{
			name:     "a bare request sends empty parameters",
			req:      client.ChatRequest{},
			wantBody: `{"parameters":{}}`,
		},
		{
			name: "nested parameters and a phone number are sent as given",
			req: client.ChatRequest{
				PhoneNumber: "+15551234",
				From:        "app",
				Parameters: map[string]any{
					"first_name":    "Ada",
					"user_platform": map[string]any{"os": "Android", "sdk": 34},
				},
			},
			wantBody: `{"phone_number":"+15551234","from":"app",` +
				`"parameters":{"first_name":"Ada","user_platform":{"os":"Android","sdk":34}}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s := stubClient(t, answer{Body: `{"chat_id":"c1","state":"queued","ewt":"60","is_new_chat":true,"phone_number":""}`})
			got, err := c.RequestChat(t.Context(), tt.req)
			if err != nil {
				t.Fatalf("RequestChat: %v", err)
			}
			want := client.ChatInfo{ChatID: "c1", State: "queued", EWT: "60", IsNewChat: true}
			if got != want {
				t.Errorf("RequestChat = %+v, want %+v", got, want)
			}
			ex := s.only(t)
			if ct := ex.Header.Get("Content-Type"); ct != jsonType {
				t.Errorf("Content-Type = %q, want %q", ct, jsonType)
			}
			assertJSON(t, ex.Body, tt.wantBody)
		})
	}
}

func TestActiveChatDecodesTheLiveChat(t *testing.T) {
	c, _ := stubClient(t, answer{Body: `{"chat_id":"c1","state":"connected","ewt":"0","is_new_chat":false,"phone_number":"+1"}`})
	got, err := c.ActiveChat(t.Context())
	if err != nil {
		t.Fatalf("ActiveChat: %v", err)
	}
	want := client.ChatInfo{ChatID: "c1", State: "connected", EWT: "0", PhoneNumber: "+1"}
	if got != want {
		t.Errorf("ActiveChat = %+v, want %+v", got, want)
	}
}

func TestActiveChatWithoutALiveChatIsNotFound(t *testing.T) {
	c, _ := stubClient(t, answer{Status: 404, Body: `{"error_code":"5005","error_message":"no active chat"}`})
	_, err := c.ActiveChat(t.Context())
	if !client.IsNotFound(err) || !client.HasCode(err, client.CodeChatNotFound) {
		t.Errorf("err = %v, want 404/5005", err)
	}
}

func TestSubscribeSendsOnlyTheTokenKindGiven(t *testing.T) {
	tests := []struct {
		name     string
		sub      client.Subscription
		wantBody string
	}{
		{"an APNs token goes with its bundle id",
			client.Subscription{IOSAPNsDeviceToken: "abcd01", IOSAppBundleID: "com.example.app"},
			`{"ios_apns_device_token":"abcd01","ios_app_bundle_id":"com.example.app"}`},
		{"an iOS Firebase token goes alone",
			client.Subscription{IOSFirebaseDeviceToken: "ios-fcm"},
			`{"ios_firebase_device_token":"ios-fcm"}`},
		{"an Android Firebase token goes alone",
			client.Subscription{AndroidFirebaseDeviceToken: "and-fcm"},
			`{"android_firebase_device_token":"and-fcm"}`},
		{"the zero subscription cancels with an empty object",
			client.Subscription{},
			`{}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, s := stubClient(t, answer{Body: "{}"})
			if err := c.Subscribe(t.Context(), "c1", tt.sub); err != nil {
				t.Fatalf("Subscribe: %v", err)
			}
			if got := string(s.only(t).Body); got != tt.wantBody {
				t.Errorf("body = %s, want exactly %s", got, tt.wantBody)
			}
		})
	}
}

func TestCloseCaseSendsNoBodyAsIOSDoes(t *testing.T) {
	c, s := stubClient(t, answer{Body: "{}"})
	if err := c.CloseCase(t.Context(), "c1"); err != nil {
		t.Fatalf("CloseCase: %v", err)
	}
	got := s.only(t)
	if len(got.Body) != 0 || got.Header.Get("Content-Type") != "" {
		t.Errorf("CloseCase sent body %q with Content-Type %q, want neither", got.Body, got.Header.Get("Content-Type"))
	}
}

func TestCloseCaseBeforeACaseIsNotAcceptable(t *testing.T) {
	c, _ := stubClient(t, answer{Status: 406, Body: `{"error_code":"5601","error_message":"no case"}`})
	err := c.CloseCase(t.Context(), "c1")
	if !client.HasStatus(err, 406) || !client.HasCode(err, client.CodeNoCase) {
		t.Errorf("err = %v, want 406/5601", err)
	}
}
