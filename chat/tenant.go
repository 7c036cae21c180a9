package chat

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
)

// Tenant is one contact center, addressed by its tenantUrl.
type Tenant struct {
	Host     string  `json:"host"` // normalized tenantUrl, e.g. "demo.parley.local"
	Name     string  `json:"name,omitempty"`
	Disabled bool    `json:"disabled,omitempty"`
	Entries  []Entry `json:"entries,omitempty"` // only in configuration files
	// Retention bounds how long the tenant's ended chats and files are
	// kept; package retention enforces it.
	Retention Retention `json:"retention,omitzero"`
}

// NormalizeTenant turns a tenantUrl as clients send it (any case, with or
// without scheme and trailing slash) into the key tenants are stored under.
// It strips until nothing changes, so that a key normalizes to itself: a
// host written "a.example /" is "a.example", not "a.example " (which a
// configuration file written out and read again would turn into another
// tenant).
func NormalizeTenant(s string) string {
	s = strings.ToLower(s)
	for {
		before := s
		s = strings.TrimSpace(s)
		s = strings.TrimPrefix(s, "https://")
		s = strings.TrimPrefix(s, "http://")
		s = strings.TrimRight(s, "/")
		if s == before {
			return s
		}
	}
}

// Entry is a scenario entry (launch point): what an app's appId names. It
// holds everything the customer API serves about it.
type Entry struct {
	Tenant   string `json:"-"` // set by the store: the host it is stored under
	AppID    string `json:"app_id"`
	Name     string `json:"name,omitempty"`
	Disabled bool   `json:"disabled,omitempty"`

	// ClosedValue is what availability answers when the entry is closed:
	// "notAvailable" (default) or "unavailable" for Android 2.1.0 apps.
	ClosedValue string          `json:"closed_value,omitempty"`
	Hours       *Hours          `json:"hours,omitempty"`
	Parameters  []Parameter     `json:"parameters,omitempty"`
	Widgets     json.RawMessage `json:"widgets,omitempty"` // served verbatim by configuration
	ICEServers  []ICEServer     `json:"ice_servers,omitempty"`
	TURN        *TURNConfig     `json:"turn,omitempty"` // relays handed out with time-limited credentials
	Push        PushConfig      `json:"push,omitzero"`
	CORSOrigins []string        `json:"cors_origins,omitempty"`
	Files       FileRules       `json:"files,omitzero"`
	Calls       bool            `json:"calls,omitempty"`  // signaling may reach customers
	Forms       bool            `json:"forms,omitempty"`  // form_show may reach customers
	Queue       string          `json:"queue,omitempty"`  // routing queue; defaults to the app id
	Skills      []string        `json:"skills,omitempty"` // an agent needs all of them to be offered a chat
	// OutOfHours is what Request Chat does while the entry is closed:
	// "refuse" (default, 503/5001) or "queue" (accept, with OfflineMessage).
	OutOfHours     string   `json:"out_of_hours,omitempty"`
	OfflineMessage string   `json:"offline_message,omitempty"`
	Inactivity     Timeouts `json:"inactivity,omitzero"`
	AutoCase       bool     `json:"auto_case,omitempty"` // link each chat to the client's open case
}

// QueueName is the routing queue of the entry.
func (e *Entry) QueueName() string {
	if e.Queue != "" {
		return e.Queue
	}
	return e.AppID
}

// Timeouts end a conversation the customer has left idle: a warning after
// Warning without a customer event, the end after End. Zero turns either off.
type Timeouts struct {
	Warning    Duration `json:"warning,omitzero"`
	End        Duration `json:"end,omitzero"`
	WarningMsg string   `json:"warning_msg,omitempty"`
	EndMsg     string   `json:"end_msg,omitempty"`
}

// Duration is a time.Duration written as "90s" or "5m" in configuration.
type Duration time.Duration

// MarshalJSON writes the duration as a string such as "5m0s".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(time.Duration(d).String()) }

// UnmarshalJSON reads "5m" or a number of seconds.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		var secs float64
		if err := json.Unmarshal(b, &secs); err != nil {
			return fmt.Errorf("duration: want a string such as \"5m\" or seconds")
		}
		// Past a Duration's range the conversion's result is the
		// platform's choice: refuse it.
		if math.Abs(secs*float64(time.Second)) >= math.MaxInt64 {
			return fmt.Errorf("duration: %g seconds is out of range", secs)
		}
		*d = Duration(secs * float64(time.Second))
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Parameter is one expected (pre-chat) parameter: a name and its type
// (PHONE, TEXT, EMAIL, FIRST_NAME, LAST_NAME, ACCOUNT, COMPANY).
type Parameter struct {
	Name string `json:"name"`
	Type string `json:"type"`
}

// ParameterTypes are the types of expected parameters the SDKs know.
var ParameterTypes = map[string]bool{
	"PHONE": true, "TEXT": true, "EMAIL": true, "FIRST_NAME": true,
	"LAST_NAME": true, "ACCOUNT": true, "COMPANY": true,
}

// ICEServer is one STUN or TURN server handed to WebRTC clients.
type ICEServer struct {
	URLs       []string `json:"urls"`
	Username   string   `json:"username,omitempty"`
	Credential string   `json:"credential,omitempty"`
}

// TURNConfig is an entry's TURN relay in the shared-secret scheme of coturn's
// use-auth-secret: callers are never given Secret, only credentials derived
// from it that expire after TTL (package rtc makes them). Embedded names the
// TURN server Parley runs itself (parley serve --turn-addr), which has its
// own URLs and secret, instead of URLs and Secret here.
type TURNConfig struct {
	URLs     []string `json:"urls,omitempty"`     // turn: and turns: URLs of servers sharing Secret
	Secret   string   `json:"secret,omitempty"`   // their static-auth-secret; never served
	TTL      Duration `json:"ttl,omitzero"`       // lifetime of credentials; 0 means DefaultTURNTTL
	Embedded bool     `json:"embedded,omitempty"` // use the embedded server
}

// DefaultTURNTTL is how long TURN credentials last on an entry that sets no
// ttl: the day the TURN REST API draft recommends. A relay whose credentials
// expire is not refreshed, so this bounds the length of a relayed call.
const DefaultTURNTTL = 24 * time.Hour

// Lifetime returns how long credentials issued for c last.
func (c *TURNConfig) Lifetime() time.Duration {
	if c.TTL > 0 {
		return time.Duration(c.TTL)
	}
	return DefaultTURNTTL
}

// Validate reports the first problem of a TURN block, if any.
func (c *TURNConfig) Validate() error {
	switch {
	case c.Embedded && (len(c.URLs) > 0 || c.Secret != ""):
		return fmt.Errorf("embedded excludes urls and secret: the embedded server has its own")
	case !c.Embedded && len(c.URLs) == 0:
		return fmt.Errorf("urls missing (or embedded: true for the embedded server)")
	case !c.Embedded && c.Secret == "":
		return fmt.Errorf("secret missing: the static-auth-secret the TURN servers share")
	case c.TTL < 0 || (c.TTL > 0 && time.Duration(c.TTL) < time.Minute):
		return fmt.Errorf("ttl must be at least a minute")
	}
	for _, u := range c.URLs {
		scheme, _, _ := strings.Cut(strings.ToLower(u), ":")
		if scheme != "turn" && scheme != "turns" {
			return fmt.Errorf("urls: %q is not a turn: or turns: URL", u)
		}
	}
	return nil
}

// PushConfig holds an entry's push credentials. A kind without credentials
// refuses subscriptions of that kind (406/5603).
type PushConfig struct {
	APNs *APNsConfig `json:"apns,omitempty"`
	FCM  *FCMConfig  `json:"fcm,omitempty"`
}

// APNsConfig is how Parley reaches Apple's push service for an app. It
// authenticates with a token key (KeyPEM, the .p8 file, with KeyID and
// TeamID) or, when CertPEM is set, with that TLS client certificate and
// KeyPEM as its private key. Package push checks and uses it.
type APNsConfig struct {
	KeyID   string `json:"key_id,omitempty"`
	TeamID  string `json:"team_id,omitempty"`
	KeyPEM  string `json:"key_pem,omitempty"`  // .p8 token key, or the certificate's key
	CertPEM string `json:"cert_pem,omitempty"` // client certificate; certificate auth when set
	Sandbox bool   `json:"sandbox,omitempty"`  // api.sandbox.push.apple.com (development builds)
	// Endpoint replaces Apple's server (https://host[:port]), for tests
	// and relays; empty means production or sandbox as Sandbox says.
	Endpoint string `json:"endpoint,omitempty"`
}

// FCMConfig is how Parley reaches Firebase Cloud Messaging (HTTP v1) for an
// app: a service account's JSON key, which names its project and token URI.
type FCMConfig struct {
	ProjectID      string          `json:"project_id,omitempty"` // default: the service account's
	ServiceAccount json.RawMessage `json:"service_account,omitempty"`
	// Endpoint replaces https://fcm.googleapis.com, for tests and relays.
	Endpoint string `json:"endpoint,omitempty"`
}

// FileRules limit what customers may upload on an entry.
type FileRules struct {
	Disabled     bool     `json:"disabled,omitempty"`
	MaxSize      int64    `json:"max_size,omitempty"`      // bytes; 0 means DefaultMaxFileSize
	AllowedTypes []string `json:"allowed_types,omitempty"` // MIME types or "image/*"; empty means DefaultFileTypes
}

// DefaultMaxFileSize is the upload limit of an entry that sets none (§3).
const DefaultMaxFileSize = 25 << 20

// DefaultFileTypes are the types accepted on an entry that lists none:
// pictures, documents and plain text, never anything a browser would run.
var DefaultFileTypes = []string{
	"image/png", "image/jpeg", "image/gif", "image/webp", "application/pdf", "text/plain",
	"application/zip", "audio/*", "video/*",
	"application/msword", "application/vnd.openxmlformats-officedocument.*",
}

// Limit returns the upload size limit of the rules.
func (r FileRules) Limit() int64 {
	if r.MaxSize > 0 {
		return r.MaxSize
	}
	return DefaultMaxFileSize
}

// Allows reports whether a file of the sniffed content type may be uploaded.
func (r FileRules) Allows(contentType string) bool {
	mt, _, _ := strings.Cut(contentType, ";")
	mt = strings.ToLower(strings.TrimSpace(mt))
	allowed := r.AllowedTypes
	if len(allowed) == 0 {
		allowed = DefaultFileTypes
	}
	for _, a := range allowed {
		a = strings.ToLower(a)
		if a == mt || a == "*/*" || (strings.HasSuffix(a, "*") && strings.HasPrefix(mt, strings.TrimSuffix(a, "*"))) {
			return true
		}
	}
	return false
}

// Closed returns the availability value of a closed entry.
func (e *Entry) Closed() string {
	if e.ClosedValue != "" {
		return e.ClosedValue
	}
	return "notAvailable"
}
