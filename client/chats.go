package client

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
)

// ChatRequest is the body of Request Chat. Parameters may hold any JSON:
// the SDKs nest a "user_platform" object in it.
type ChatRequest struct {
	PhoneNumber string         `json:"phone_number,omitempty"`
	From        string         `json:"from,omitempty"`
	Parameters  map[string]any `json:"parameters"`
}

// ChatInfo is a chat session as Request Chat and Get Active Chat answer it.
type ChatInfo struct {
	ChatID string `json:"chat_id"`
	State  string `json:"state"`
	// EWT is the estimated wait in whole seconds.
	EWT string `json:"ewt"`
	// IsNewChat is false when the client already had a live chat on the
	// entry and was given that one back.
	IsNewChat   bool   `json:"is_new_chat"`
	PhoneNumber string `json:"phone_number"`
}

// RequestChat starts a chat session, or returns the client's live one.
func (c *Client) RequestChat(ctx context.Context, r ChatRequest) (ChatInfo, error) {
	if r.Parameters == nil {
		r.Parameters = map[string]any{}
	}
	var out ChatInfo
	if err := c.call(ctx, http.MethodPost, "chats", nil, r, &out); err != nil {
		return ChatInfo{}, fmt.Errorf("request chat: %w", err)
	}
	return out, nil
}

// ActiveChat returns the client's live chat; a 404 *APIError (5005) when
// it has none.
func (c *Client) ActiveChat(ctx context.Context) (ChatInfo, error) {
	var out ChatInfo
	if err := c.call(ctx, http.MethodGet, "chats/active", nil, nil, &out); err != nil {
		return ChatInfo{}, fmt.Errorf("get active chat: %w", err)
	}
	return out, nil
}

// Subscription names the push token a chat's notifications go to. Set one
// kind only (APNs token with its bundle id, iOS Firebase, or Android
// Firebase); the zero Subscription cancels notifications.
type Subscription struct {
	IOSAPNsDeviceToken         string `json:"ios_apns_device_token,omitempty"`
	IOSAppBundleID             string `json:"ios_app_bundle_id,omitempty"`
	IOSFirebaseDeviceToken     string `json:"ios_firebase_device_token,omitempty"`
	AndroidFirebaseDeviceToken string `json:"android_firebase_device_token,omitempty"`
}

// Subscribe sets or, with the zero Subscription, cancels push notifications
// for the chat.
func (c *Client) Subscribe(ctx context.Context, chatID string, s Subscription) error {
	if err := c.chatCall(ctx, http.MethodPost, nil, s, nil, chatID, "notifications"); err != nil {
		return fmt.Errorf("subscribe to notifications: %w", err)
	}
	return nil
}

// CloseCase closes the case of the chat, as the SDKs do (no body). The chat
// itself goes on.
func (c *Client) CloseCase(ctx context.Context, chatID string) error {
	if err := c.chatCall(ctx, http.MethodPost, nil, nil, nil, chatID, "closecase"); err != nil {
		return fmt.Errorf("close case: %w", err)
	}
	return nil
}

// CloseLiveCase closes the case of the client's live chat, by the docs'
// POST closecase.
func (c *Client) CloseLiveCase(ctx context.Context) error {
	if err := c.call(ctx, http.MethodPost, "closecase", nil, nil, nil); err != nil {
		return fmt.Errorf("close live case: %w", err)
	}
	return nil
}

// chatCall calls a method under chats/{chatID}/, the rest of the path given
// as segments, each escaped.
func (c *Client) chatCall(ctx context.Context, method string, query url.Values, in, out any, chatID string, rest ...string) error {
	path, err := segments(append([]string{"chats", chatID}, rest...)...)
	if err != nil {
		return fmt.Errorf("chat %q: %w", chatID, err)
	}
	return c.call(ctx, method, path, query, in, out)
}
