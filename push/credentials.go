package push

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/golang-jwt/jwt/v5"
	"github.com/parley-chat/parley/chat"
)

// Default endpoints of the services.
const (
	APNsProduction = "https://api.push.apple.com"
	APNsSandbox    = "https://api.sandbox.push.apple.com"
	FCMEndpoint    = "https://fcm.googleapis.com"
	// GoogleTokenURI is where a service account without token_uri trades
	// its signed assertion for an access token.
	GoogleTokenURI = "https://oauth2.googleapis.com/token"
)

// errNoCredentials is the error of a kind declared without credentials: the
// entry takes subscriptions of that kind, but nothing can be sent.
var errNoCredentials = errors.New("no credentials configured")

// Validate reports the first problem of an entry's push credentials: keys
// and certificates that do not parse, missing ids, a bad endpoint. A kind
// declared without any credentials (an empty apns or fcm block) is not an
// error: its subscriptions are taken and its pushes fail until credentials
// are added.
func Validate(c chat.PushConfig) error {
	if c.APNs != nil {
		if _, err := parseAPNs(c.APNs); err != nil && !errors.Is(err, errNoCredentials) {
			return fmt.Errorf("apns: %w", err)
		}
	}
	if c.FCM != nil {
		if _, err := parseFCM(c.FCM); err != nil && !errors.Is(err, errNoCredentials) {
			return fmt.Errorf("fcm: %w", err)
		}
	}
	return nil
}

// apnsCreds are parsed APNs credentials: a token key or a certificate.
type apnsCreds struct {
	endpoint string
	key      *ecdsa.PrivateKey // token auth
	keyID    string
	teamID   string
	cert     *tls.Certificate // certificate auth
}

func parseAPNs(c *chat.APNsConfig) (*apnsCreds, error) {
	out := &apnsCreds{endpoint: APNsProduction, keyID: c.KeyID, teamID: c.TeamID}
	if c.Sandbox {
		out.endpoint = APNsSandbox
	}
	if c.Endpoint != "" {
		ep, err := endpoint(c.Endpoint)
		if err != nil {
			return nil, err
		}
		out.endpoint = ep
	}
	switch {
	case c.CertPEM != "":
		if c.KeyPEM == "" {
			return nil, fmt.Errorf("cert_pem needs key_pem, the certificate's private key")
		}
		cert, err := tls.X509KeyPair([]byte(c.CertPEM), []byte(c.KeyPEM))
		if err != nil {
			return nil, fmt.Errorf("cert_pem/key_pem: %w", err)
		}
		out.cert = &cert
	case c.KeyPEM != "":
		if c.KeyID == "" || c.TeamID == "" {
			return nil, fmt.Errorf("token auth needs key_id and team_id with key_pem")
		}
		key, err := jwt.ParseECPrivateKeyFromPEM([]byte(c.KeyPEM))
		if err != nil {
			return nil, fmt.Errorf("key_pem: not a .p8 token key: %w", err)
		}
		if key.Curve != elliptic.P256() {
			return nil, fmt.Errorf("key_pem: want a P-256 key (ES256), got %s", key.Curve.Params().Name)
		}
		out.key = key
	default:
		return nil, errNoCredentials
	}
	return out, nil
}

// serviceAccount is the part of a Google service account's JSON key that
// FCM needs.
type serviceAccount struct {
	Type         string `json:"type"`
	ProjectID    string `json:"project_id"`
	PrivateKeyID string `json:"private_key_id"`
	PrivateKey   string `json:"private_key"`
	ClientEmail  string `json:"client_email"`
	TokenURI     string `json:"token_uri"`
}

// fcmCreds are parsed FCM credentials.
type fcmCreds struct {
	endpoint  string
	projectID string
	account   serviceAccount
}

func parseFCM(c *chat.FCMConfig) (*fcmCreds, error) {
	raw := strings.TrimSpace(string(c.ServiceAccount))
	if raw == "" || raw == "null" {
		return nil, errNoCredentials
	}
	out := &fcmCreds{endpoint: FCMEndpoint}
	if c.Endpoint != "" {
		ep, err := endpoint(c.Endpoint)
		if err != nil {
			return nil, err
		}
		out.endpoint = ep
	}
	sa := &out.account
	if err := json.Unmarshal(c.ServiceAccount, sa); err != nil {
		return nil, fmt.Errorf("service_account: not a service account's JSON key: %w", err)
	}
	switch {
	case sa.Type != "" && sa.Type != "service_account":
		return nil, fmt.Errorf("service_account: type %q, want service_account", sa.Type)
	case sa.ClientEmail == "":
		return nil, fmt.Errorf("service_account: client_email missing")
	case sa.PrivateKey == "":
		return nil, fmt.Errorf("service_account: private_key missing")
	}
	if _, err := parseRSAKey(sa.PrivateKey); err != nil {
		return nil, fmt.Errorf("service_account: private_key: %w", err)
	}
	if sa.TokenURI == "" {
		sa.TokenURI = GoogleTokenURI
	} else if u, err := url.Parse(sa.TokenURI); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("service_account: token_uri %q is not an http(s) URL", sa.TokenURI)
	}
	out.projectID = c.ProjectID
	if out.projectID == "" {
		out.projectID = sa.ProjectID
	}
	if out.projectID == "" {
		return nil, fmt.Errorf("project_id missing (in the block or the service account)")
	}
	return out, nil
}

// parseRSAKey reads the PKCS#8 (or PKCS#1) RSA key of a service account.
func parseRSAKey(s string) (*rsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(s))
	if block == nil {
		return nil, errors.New("not PEM")
	}
	if k, err := x509.ParsePKCS8PrivateKey(block.Bytes); err == nil {
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("want an RSA key, got %T", k)
		}
		return rk, nil
	}
	return x509.ParsePKCS1PrivateKey(block.Bytes)
}

// endpoint checks an endpoint override: an https URL of a host, no path.
func endpoint(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
		return "", fmt.Errorf("endpoint %q: want https://host[:port]", s)
	}
	return "https://" + u.Host, nil
}
