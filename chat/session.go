package chat

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"time"
)

// ClientKey identifies a customer's installation of an app on one entry. A
// chat is visible to the key that created it and to no one else.
type ClientKey struct {
	Tenant   string
	AppID    string
	ClientID string
}

// Session is a chat session: the conversation of one client with the
// contact center, from Request Chat until it ends.
type Session struct {
	ID string
	ClientKey
	State       string // wire state of the latest chat_session_status
	EWT         int    // seconds, as of the latest status
	PhoneNumber string
	From        string
	Parameters  json.RawMessage // as the client sent them, a JSON object
	CaseID      string
	AgentID     string // the agent the chat is assigned to; "" while waiting
	Created     time.Time
	Ended       time.Time // zero while the chat lives
	LastSeq     int64     // sequence of the newest event
	Cursor      int64     // newest sequence the client has been given
	Push        PushToken
}

// Live reports whether the session has not ended.
func (s *Session) Live() bool { return s.Ended.IsZero() }

// PushToken is a device's subscription to push notifications for a chat.
type PushToken struct {
	Kind  string // PushAPNs, PushIOSFirebase, PushAndroidFirebase; "" when none
	Token string
	Topic string // APNs topic (the app's bundle id)
}

// Push token kinds, named by the key clients send them under.
const (
	PushAPNs            = "ios_apns_device_token"
	PushIOSFirebase     = "ios_firebase_device_token"
	PushAndroidFirebase = "android_firebase_device_token"
)

// SessionUpdate changes a session in the transaction that appends events, so
// that a state and the events announcing it are never seen apart.
type SessionUpdate struct {
	State   string    // new wire state; "" keeps it
	EWT     *int      // new estimated wait; nil keeps it
	CaseID  *string   // new case; nil keeps it
	AgentID *string   // new assigned agent ("" for none); nil keeps it
	End     time.Time // non-zero ends the session
}

// Case is a CRM case: conversations of one customer linked across sessions.
type Case struct {
	ID string
	ClientKey
	Created time.Time
	Closed  time.Time // zero while open
}

// File is an uploaded file. Its id is the key to download it.
type File struct {
	ID string
	ClientKey
	ChatID      string // set once a chat_session_file event names it
	Name        string
	ContentType string
	Size        int64
	Created     time.Time
}

// NewID returns an opaque, URL-safe id with 128 random bits: chat, file and
// party ids are keys to download without the Authorization header.
func NewID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// randomUint31 returns a random non-negative int32: form request ids are
// strings of integers on the wire.
func randomUint31() uint32 {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) >> 1
}
