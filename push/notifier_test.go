package push

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"testing"
	"time"

	"github.com/parley-chat/parley/chat"
)

// sameJSON fails the test unless got and want hold the same JSON value.
func sameJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("%s: %v in %s", what, err, got)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: bad want: %v", what, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s =\n\t%s\nwant\n\t%s", what, got, want)
	}
}

var apnsSub = chat.PushToken{Kind: chat.PushAPNs, Token: apnsToken, Topic: testTopic}

func TestAnAgentMessageIsPushedToAPNsAsTheSpecSays(t *testing.T) {
	e := newEnv(t, fastOptions())
	sess := e.chatWith(tokenApp, apnsSub)
	e.say(sess, "Hi Ann, how can I help?")
	e.settled()
	reqs := e.apns.requests()
	if len(reqs) != 1 {
		t.Fatalf("APNs got %d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Token != apnsToken || r.Topic != testTopic || r.PushType != "alert" || r.Priority != "10" {
		t.Errorf("APNs request = token %q, apns-topic %q, apns-push-type %q, apns-priority %q; want %q, %q, alert, 10",
			r.Token, r.Topic, r.PushType, r.Priority, apnsToken, testTopic)
	}
	sameJSON(t, "APNs payload", r.Payload, fmt.Sprintf(`{"aps":{"alert":{
		"title-loc-key":"PARLEY_MESSAGE_TITLE","subtitle-loc-key":"PARLEY_MESSAGE_SUBTITLE",
		"loc-args":[%q],"body":"Hi Ann, how can I help?"},
		"sound":"default","category":"NEW_CHAT_MESSAGE"},"chatID":%q}`, agentName, sess.ID))
	e.wantCounts(Counts{Queued: 1, Sent: 1})
	if got := e.session(sess.ID).Push; got != apnsSub {
		t.Errorf("subscription after a sent push = %+v, want it kept", got)
	}
}

func TestAPNsCertificateAuthSendsTheClientCertificate(t *testing.T) {
	e := newEnv(t, fastOptions())
	sess := e.chatWith(certApp, apnsSub)
	e.say(sess, "Hello")
	e.settled()
	reqs := e.cert.requests()
	if len(reqs) != 1 || reqs[0].ClientCert != testCertName || reqs[0].Topic != testTopic {
		t.Fatalf("APNs (certificate auth) requests = %+v, want one with the client certificate %q", reqs, testCertName)
	}
	e.wantCounts(Counts{Queued: 1, Sent: 1})
}

func TestOnlyEventsNeedingAttentionFromOthersArePushed(t *testing.T) {
	e := newEnv(t, fastOptions())
	sess := e.chatWith(tokenApp, apnsSub)
	ctx := t.Context()
	// The customer's own message and a typing notice ask for no push.
	if err := e.svc.Send(ctx, &sess, []chat.Event{{Type: chat.TypeMessage, MsgID: "m1", Payload: chat.Payload{Msg: "mine", MsgText: "mine"}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AgentSend(ctx, &sess, agentPty, []chat.Event{{Type: chat.TypeTyping}}); err != nil {
		t.Fatal(err)
	}
	// A file from the agent, a system message and a timeout warning do.
	if _, err := e.svc.Append(ctx, sess.ID, []chat.Event{
		{ChatID: sess.ID, Type: chat.TypeFile, PartyID: agentPty, MsgID: "f1", Time: time.Now(), Payload: chat.Payload{FileID: "file-1", FileName: "invoice.pdf", FileType: "attachment"}},
		{ChatID: sess.ID, Type: chat.TypeMessage, PartyID: chat.SystemParty, MsgID: "s1", Time: time.Now(), Payload: chat.Payload{Msg: "Please hold", MsgText: "Please hold"}},
	}, chat.SessionUpdate{}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Notice(ctx, sess.ID, chat.TypeTimeoutWarning, "Are you still there?"); err != nil {
		t.Fatal(err)
	}
	e.settled()
	got := map[string]string{}
	for _, r := range e.apns.requests() {
		var p struct {
			APS struct {
				Alert struct {
					Title   string   `json:"title-loc-key"`
					LocArgs []string `json:"loc-args"`
					Body    string   `json:"body"`
				} `json:"alert"`
			} `json:"aps"`
		}
		json.Unmarshal(r.Payload, &p)
		got[p.APS.Alert.Title] = fmt.Sprintf("%v %s", p.APS.Alert.LocArgs, p.APS.Alert.Body)
	}
	want := map[string]string{
		"PARLEY_FILE_TITLE":            "[" + agentName + "] invoice.pdf",
		"PARLEY_MESSAGE_TITLE":         "[" + entryName + "] Please hold",
		"PARLEY_TIMEOUT_WARNING_TITLE": "[" + entryName + "] Are you still there?",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("pushes (title key: sender body) = %v, want %v", got, want)
	}
	e.wantCounts(Counts{Queued: 3, Sent: 3})
}

func TestAChatWithoutSubscriptionQueuesNothing(t *testing.T) {
	e := newEnv(t, fastOptions())
	sess := e.chatWith(tokenApp, chat.PushToken{})
	e.say(sess, "anyone there?")
	other := e.chatWith(tokenApp, apnsSub)
	e.say(other, "hello")
	e.settled()
	e.stop() // waits for the rows being queued
	if reqs := e.apns.requests(); len(reqs) != 1 || !json.Valid(reqs[0].Payload) {
		t.Fatalf("APNs got %d requests, want 1 (the subscribed chat's)", len(reqs))
	}
	e.wantCounts(Counts{Queued: 1, Sent: 1})
}

func TestNoPushWhenThePollPicksTheEventUpInTheGracePeriod(t *testing.T) {
	o := fastOptions()
	o.Grace = 500 * time.Millisecond
	e := newEnv(t, o)
	sess := e.chatWith(tokenApp, apnsSub)
	seq := e.say(sess, "you are polling, no need to push")
	eventually(t, "the row to be queued", func() bool { return e.n.Stats().Queued.Load() == 1 })
	// What the customer API does when it answers a poll with the event.
	if err := e.store.SetCursor(t.Context(), sess.ID, seq); err != nil {
		t.Fatal(err)
	}
	e.settled()
	if reqs := e.apns.requests(); len(reqs) != 0 {
		t.Errorf("APNs got %d requests for an event the app polled, want none", len(reqs))
	}
	e.wantCounts(Counts{Queued: 1, Skipped: 1})
}

func TestFCMMessagesCarryTheChatIDAndANotification(t *testing.T) {
	for _, tc := range []struct {
		kind  string
		extra string // the block for the platform
	}{
		{chat.PushAndroidFirebase, `"android":{"priority":"HIGH"}`},
		{chat.PushIOSFirebase, `"apns":{"headers":{"apns-push-type":"alert","apns-priority":"10"},
			"payload":{"aps":{"sound":"default","category":"NEW_CHAT_MESSAGE"}}}`},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			e := newEnv(t, fastOptions())
			sess := e.chatWith(tokenApp, chat.PushToken{Kind: tc.kind, Token: fcmToken})
			e.say(sess, "Your refund is on its way")
			e.settled()
			reqs := e.fcm.requests()
			if len(reqs) != 1 || reqs[0].Project != testProject {
				t.Fatalf("FCM sends = %+v, want one to project %s", reqs, testProject)
			}
			sameJSON(t, "FCM message", reqs[0].Message, fmt.Sprintf(`{"token":%q,"data":{"chatID":%q},
				"notification":{"title":%q,"body":"Your refund is on its way"},%s}`, fcmToken, sess.ID, agentName, tc.extra))
			e.wantCounts(Counts{Queued: 1, Sent: 1})
		})
	}
}

func TestFCMAccessTokensAreCachedUntilTheyExpire(t *testing.T) {
	e := newEnv(t, fastOptions())
	sess := e.chatWith(tokenApp, chat.PushToken{Kind: chat.PushAndroidFirebase, Token: fcmToken})
	for i := range 3 {
		e.say(sess, fmt.Sprint("message ", i))
		eventually(t, "the push", func() bool { return len(e.fcm.requests()) == i+1 })
	}
	if n := e.fcm.tokenGrants(); n != 1 {
		t.Errorf("token exchanges for 3 sends = %d, want 1 (cached)", n)
	}

	// Tokens that expire within oauth2's margin (10 s) are replaced for
	// every send.
	e.fcm.mu.Lock()
	e.fcm.expiresIn = 5
	e.fcm.mu.Unlock()
	e.fcm.revoke() // FCM refuses the cached token: one more exchange, then a retry
	e.say(sess, "after revocation")
	eventually(t, "the push", func() bool { return len(e.fcm.requests()) == 4 })
	e.say(sess, "short-lived token")
	eventually(t, "the push", func() bool { return len(e.fcm.requests()) == 5 })
	if n := e.fcm.tokenGrants(); n != 3 {
		t.Errorf("token exchanges = %d, want 3: one for the revoked token, one for the expiring one", n)
	}
	reqs := e.fcm.requests()
	if reqs[3].Access == reqs[2].Access || reqs[4].Access == reqs[3].Access {
		t.Errorf("access tokens used = %q, %q, %q; want a new one after revocation and expiry", reqs[2].Access, reqs[3].Access, reqs[4].Access)
	}
	e.settled()
	e.wantCounts(Counts{Queued: 5, Sent: 5})
}

func TestTransientFailuresAreRetriedWithBackoffUntilSent(t *testing.T) {
	e := newEnv(t, fastOptions())
	e.apns.add(
		answer{status: http.StatusTooManyRequests, body: `{"reason":"TooManyRequests"}`},
		answer{status: http.StatusServiceUnavailable, body: `{"reason":"ServiceUnavailable"}`},
		answer{status: http.StatusInternalServerError, body: `{"reason":"InternalServerError"}`},
	)
	sess := e.chatWith(tokenApp, apnsSub)
	e.say(sess, "third time lucky")
	e.settled()
	if n := len(e.apns.requests()); n != 4 {
		t.Errorf("APNs got %d requests, want 4 (3 failures, then success)", n)
	}
	e.wantCounts(Counts{Queued: 1, Sent: 1, Retried: 3})
	if got := e.session(sess.ID).Push; got != apnsSub {
		t.Errorf("subscription = %+v, want it kept after transient failures", got)
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	e := newEnv(t, fastOptions())
	e.fcm.add(answer{status: http.StatusTooManyRequests, header: map[string]string{"Retry-After": "1"},
		body: `{"error":{"code":429,"message":"Quota exceeded","status":"RESOURCE_EXHAUSTED","details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"QUOTA_EXCEEDED"}]}}`})
	sess := e.chatWith(tokenApp, chat.PushToken{Kind: chat.PushAndroidFirebase, Token: fcmToken})
	e.say(sess, "later")
	eventually(t, "the first attempt", func() bool { return len(e.fcm.requests()) == 1 })
	first := time.Now()
	eventually(t, "the retry", func() bool { return len(e.fcm.requests()) == 2 })
	if waited := time.Since(first); waited < 900*time.Millisecond {
		t.Errorf("retried after %v, want at least the 1 s of Retry-After", waited)
	}
	e.settled()
	e.wantCounts(Counts{Queued: 1, Sent: 1, Retried: 1})
}

func TestAPushIsGivenUpAfterMaxAttempts(t *testing.T) {
	o := fastOptions()
	o.MaxAttempts = 3
	e := newEnv(t, o)
	for range 5 {
		e.apns.add(answer{status: http.StatusServiceUnavailable, body: `{"reason":"ServiceUnavailable"}`})
	}
	sess := e.chatWith(tokenApp, apnsSub)
	e.say(sess, "lost to an outage")
	e.settled()
	if n := len(e.apns.requests()); n != 3 {
		t.Errorf("APNs got %d requests, want 3 attempts", n)
	}
	e.wantCounts(Counts{Queued: 1, Retried: 2, Failed: 1})
	if got := e.session(sess.ID).Push; got != apnsSub {
		t.Errorf("subscription = %+v, want it kept: the token was not refused", got)
	}
}

func TestARejectedTokenUnsubscribesTheChat(t *testing.T) {
	fcmUnregistered := `{"error":{"code":404,"message":"Requested entity was not found.","status":"NOT_FOUND",
		"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}`
	fcmInvalid := `{"error":{"code":400,"message":"The registration token is not a valid FCM registration token","status":"INVALID_ARGUMENT",
		"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"INVALID_ARGUMENT"},
		{"@type":"type.googleapis.com/google.rpc.BadRequest","fieldViolations":[{"field":"message.token","description":"Invalid registration token"}]}]}}`
	for _, tc := range []struct {
		name string
		sub  chat.PushToken
		ans  answer
	}{
		{"APNs 410 Unregistered", apnsSub, answer{status: http.StatusGone, body: `{"reason":"Unregistered","timestamp":1732500000000}`}},
		{"APNs 400 BadDeviceToken", apnsSub, answer{status: http.StatusBadRequest, body: `{"reason":"BadDeviceToken"}`}},
		{"APNs 400 DeviceTokenNotForTopic", apnsSub, answer{status: http.StatusBadRequest, body: `{"reason":"DeviceTokenNotForTopic"}`}},
		{"FCM 404 UNREGISTERED", chat.PushToken{Kind: chat.PushAndroidFirebase, Token: fcmToken}, answer{status: http.StatusNotFound, body: fcmUnregistered}},
		{"FCM 400 INVALID_ARGUMENT about the token", chat.PushToken{Kind: chat.PushIOSFirebase, Token: fcmToken}, answer{status: http.StatusBadRequest, body: fcmInvalid}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, fastOptions())
			e.apns.add(tc.ans)
			e.fcm.add(tc.ans)
			sess := e.chatWith(tokenApp, tc.sub)
			e.say(sess, "are you there?")
			e.settled()
			e.wantCounts(Counts{Queued: 1, Dropped: 1})
			if got := e.session(sess.ID).Push; got != (chat.PushToken{}) {
				t.Errorf("subscription = %+v, want it cancelled", got)
			}
			// With the subscription gone, later events queue nothing.
			e.say(sess, "hello?")
			e.stop() // waits for the rows being queued
			e.wantCounts(Counts{Queued: 1, Dropped: 1})
		})
	}
}

func TestOtherRefusalsFailWithoutUnsubscribing(t *testing.T) {
	e := newEnv(t, fastOptions())
	e.apns.add(answer{status: http.StatusBadRequest, body: `{"reason":"PayloadTooLarge"}`})
	e.fcm.add(answer{status: http.StatusForbidden, body: `{"error":{"code":403,"status":"PERMISSION_DENIED",
		"details":[{"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"SENDER_ID_MISMATCH"}]}}`})
	a := e.chatWith(tokenApp, apnsSub)
	f := e.chatWith(tokenApp, chat.PushToken{Kind: chat.PushAndroidFirebase, Token: fcmToken})
	e.say(a, "too large, say")
	e.say(f, "wrong project")
	e.settled()
	e.wantCounts(Counts{Queued: 2, Failed: 2})
	for _, id := range []string{a.ID, f.ID} {
		if got := e.session(id).Push; got.Kind == "" {
			t.Errorf("chat %s lost its subscription to a refusal that is not about the token", id)
		}
	}
}

func TestTheOutboxSurvivesARestart(t *testing.T) {
	o := fastOptions()
	o.Grace = 300 * time.Millisecond
	e := newEnv(t, o)
	e.reopen(false) // a node whose worker will not get to send
	sess := e.chatWith(tokenApp, apnsSub)
	e.say(sess, "sent by the next node")
	eventually(t, "the row to be queued", func() bool { return e.n.Stats().Queued.Load() == 1 })
	e.reopen(true)
	eventually(t, "the push after the restart", func() bool { return e.n.Stats().Sent.Load() == 1 })
	if reqs := e.apns.requests(); len(reqs) != 1 || reqs[0].Token != apnsToken {
		t.Fatalf("APNs requests after restart = %+v, want the queued push", reqs)
	}
	e.wantCounts(Counts{Sent: 1}) // counted by the node that sent it
}
