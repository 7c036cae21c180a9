package push

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Test credentials, made once: an APNs token key (.p8), a client
// certificate signed by a test CA, and a service account's RSA key.
type testCreds struct {
	apnsKey     *ecdsa.PrivateKey
	apnsKeyPEM  string
	clientCA    *x509.CertPool
	certPEM     string
	certKeyPEM  string
	accountKey  *rsa.PrivateKey
	accountPEM  string
	otherKeyPEM string // a P-384 key: not an APNs token key
}

const (
	testKeyID    = "ABC123DEFG"
	testTeamID   = "TEAM456789"
	testTopic    = "com.example.parley"
	testProject  = "parley-test"
	testEmail    = "push@parley-test.iam.gserviceaccount.com"
	testCertName = "Apple Push Services: com.example.parley"
)

var creds = sync.OnceValue(func() *testCreds {
	c := &testCreds{}
	must := func(err error) {
		if err != nil {
			panic(err)
		}
	}
	pkcs8 := func(key any) string {
		der, err := x509.MarshalPKCS8PrivateKey(key)
		must(err)
		return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	}
	var err error
	c.apnsKey, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	c.apnsKeyPEM = pkcs8(c.apnsKey)
	other, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	must(err)
	c.otherKeyPEM = pkcs8(other)

	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Test Apple WWDR CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	must(err)
	caCert, err := x509.ParseCertificate(caDER)
	must(err)
	c.clientCA = x509.NewCertPool()
	c.clientCA.AddCert(caCert)
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	must(err)
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: testCertName},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, caCert, &leafKey.PublicKey, caKey)
	must(err)
	c.certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: leafDER}))
	c.certKeyPEM = pkcs8(leafKey)

	c.accountKey, err = rsa.GenerateKey(rand.Reader, 2048)
	must(err)
	c.accountPEM = pkcs8(c.accountKey)
	return c
})

// answer is what a fake service says to one request.
type answer struct {
	status int
	body   string
	header map[string]string
}

// script hands out scripted answers in order, then 200.
type script struct {
	mu      sync.Mutex
	answers []answer
}

func (s *script) add(as ...answer) {
	s.mu.Lock()
	s.answers = append(s.answers, as...)
	s.mu.Unlock()
}

func (s *script) next() answer {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.answers) == 0 {
		return answer{status: http.StatusOK}
	}
	a := s.answers[0]
	s.answers = s.answers[1:]
	return a
}

func (a answer) write(w http.ResponseWriter) {
	for k, v := range a.header {
		w.Header().Set(k, v)
	}
	w.WriteHeader(a.status)
	io.WriteString(w, a.body)
}

// startHTTP2 starts a TLS server that speaks HTTP/2, as the services do.
func startHTTP2(t *testing.T, h http.Handler, tlsConf *tls.Config) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	srv.TLS = tlsConf
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

// apnsRequest is what the fake APNs took from one request.
type apnsRequest struct {
	Token, Topic, PushType, Priority string
	Bearer                           string // the provider token, "" with certificate auth
	Issued                           int64  // its iat
	ClientCert                       string // common name of the client certificate
	Payload                          json.RawMessage
}

// fakeAPNs speaks APNs' provider API: POST /3/device/<token> over HTTP/2,
// checking the topic, push type and the provider token (ES256, signed with
// the test key, with the test key id and team) or the client certificate.
type fakeAPNs struct {
	t    *testing.T
	srv  *httptest.Server
	cert bool // certificate auth: a client certificate instead of a token
	script

	mu   sync.Mutex
	reqs []apnsRequest
}

func newFakeAPNs(t *testing.T, certAuth bool) *fakeAPNs {
	f := &fakeAPNs{t: t, cert: certAuth}
	var tlsConf *tls.Config
	if certAuth {
		tlsConf = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: creds().clientCA}
	}
	f.srv = startHTTP2(t, http.HandlerFunc(f.serve), tlsConf)
	return f
}

func (f *fakeAPNs) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	if r.ProtoMajor != 2 {
		t.Errorf("APNs request over %s, want HTTP/2", r.Proto)
	}
	token, ok := strings.CutPrefix(r.URL.Path, "/3/device/")
	if r.Method != http.MethodPost || !ok || token == "" {
		t.Errorf("APNs request %s %s, want POST /3/device/<token>", r.Method, r.URL.Path)
		http.Error(w, `{"reason":"BadPath"}`, http.StatusNotFound)
		return
	}
	req := apnsRequest{Token: token, Topic: r.Header.Get("apns-topic"),
		PushType: r.Header.Get("apns-push-type"), Priority: r.Header.Get("apns-priority")}
	body, _ := io.ReadAll(r.Body)
	req.Payload = body
	if f.cert {
		if len(r.TLS.PeerCertificates) == 0 {
			t.Errorf("APNs request without a client certificate")
		} else {
			req.ClientCert = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		if a := r.Header.Get("Authorization"); a != "" {
			t.Errorf("certificate-auth request has Authorization %q", a)
		}
	} else {
		bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "bearer ")
		if !ok {
			t.Errorf("APNs Authorization = %q, want bearer <provider token>", r.Header.Get("Authorization"))
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"reason":"MissingProviderToken"}`)
			return
		}
		claims := jwt.MapClaims{}
		tok, err := jwt.ParseWithClaims(bearer, claims, func(tok *jwt.Token) (any, error) {
			return &creds().apnsKey.PublicKey, nil
		}, jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(testTeamID))
		if err != nil || tok.Header["kid"] != testKeyID {
			t.Errorf("provider token %q: %v, kid %v", bearer, err, tok.Header["kid"])
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `{"reason":"InvalidProviderToken"}`)
			return
		}
		iat, _ := claims["iat"].(float64)
		req.Bearer, req.Issued = bearer, int64(iat)
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	a := f.next()
	if a.status == http.StatusOK {
		w.Header().Set("apns-id", "7B6DA1A2-7A0D-4D57-AB39-5C9F8E1A2B3C")
	}
	a.write(w)
}

func (f *fakeAPNs) requests() []apnsRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]apnsRequest(nil), f.reqs...)
}

// fcmRequest is what the fake FCM took from one send.
type fcmRequest struct {
	Project string
	Access  string // the access token it carried
	Message json.RawMessage
}

// fakeFCM speaks FCM HTTP v1 and Google's OAuth token endpoint: POST
// /token trades a JWT assertion (RS256, signed with the service account's
// key) for an access token; POST /v1/projects/<id>/messages:send takes a
// message with a valid access token.
type fakeFCM struct {
	t         *testing.T
	srv       *httptest.Server
	expiresIn int // lifetime of the access tokens issued, in seconds
	script

	mu      sync.Mutex
	issued  map[string]bool // access tokens given out and not revoked
	grants  int
	sends   []fcmRequest
	refused int // sends refused for their access token
}

func newFakeFCM(t *testing.T) *fakeFCM {
	f := &fakeFCM{t: t, expiresIn: 3600, issued: map[string]bool{}}
	f.srv = startHTTP2(t, http.HandlerFunc(f.serve), nil)
	return f
}

func (f *fakeFCM) tokenURL() string { return f.srv.URL + "/token" }

func (f *fakeFCM) serve(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/token" {
		f.grant(w, r)
		return
	}
	t := f.t
	if r.ProtoMajor != 2 {
		t.Errorf("FCM request over %s, want HTTP/2", r.Proto)
	}
	project, ok := strings.CutPrefix(r.URL.Path, "/v1/projects/")
	project, ok2 := strings.CutSuffix(project, "/messages:send")
	if r.Method != http.MethodPost || !ok || !ok2 {
		t.Errorf("FCM request %s %s, want POST /v1/projects/<id>/messages:send", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	access, _ := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	f.mu.Lock()
	valid := f.issued[access]
	if !valid {
		f.refused++
	}
	f.mu.Unlock()
	if !valid {
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"error":{"code":401,"message":"Request had invalid authentication credentials.","status":"UNAUTHENTICATED"}}`)
		return
	}
	var body struct {
		Message json.RawMessage `json:"message"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || len(body.Message) == 0 {
		t.Errorf("FCM body: %v", err)
	}
	f.mu.Lock()
	f.sends = append(f.sends, fcmRequest{Project: project, Access: access, Message: body.Message})
	f.mu.Unlock()
	f.next().write(w)
}

// grant is the OAuth 2.0 JWT-bearer exchange (RFC 7523) as Google runs it.
func (f *fakeFCM) grant(w http.ResponseWriter, r *http.Request) {
	t := f.t
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" {
		t.Errorf("token request: grant_type %q, %v", r.PostForm.Get("grant_type"), err)
		http.Error(w, `{"error":"unsupported_grant_type"}`, http.StatusBadRequest)
		return
	}
	claims := jwt.MapClaims{}
	_, err := jwt.ParseWithClaims(r.PostForm.Get("assertion"), claims, func(*jwt.Token) (any, error) {
		return &creds().accountKey.PublicKey, nil
	}, jwt.WithValidMethods([]string{"RS256"}), jwt.WithIssuer(testEmail), jwt.WithAudience(f.tokenURL()), jwt.WithExpirationRequired())
	if err != nil || claims["scope"] != fcmScope {
		t.Errorf("assertion: %v, scope %v", err, claims["scope"])
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"error":"invalid_grant","error_description":"Invalid JWT Signature."}`)
		return
	}
	f.mu.Lock()
	f.grants++
	access := fmt.Sprintf("ya29.test-%d", f.grants)
	f.issued[access] = true
	expires := f.expiresIn
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": expires})
}

// revoke makes every access token given out so far invalid.
func (f *fakeFCM) revoke() {
	f.mu.Lock()
	clear(f.issued)
	f.mu.Unlock()
}

func (f *fakeFCM) requests() []fcmRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fcmRequest(nil), f.sends...)
}

func (f *fakeFCM) tokenGrants() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.grants
}

// serviceAccount is the JSON key of the test service account, with its
// token endpoint on the fake.
func (f *fakeFCM) serviceAccount() json.RawMessage {
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": testProject, "private_key_id": "k1",
		"private_key": creds().accountPEM, "client_email": testEmail, "token_uri": f.tokenURL(),
	})
	return b
}

// roots trusts the fake servers' certificate (httptest's, shared by all).
func roots(srvs ...*httptest.Server) *x509.CertPool {
	p := x509.NewCertPool()
	for _, s := range srvs {
		p.AddCert(s.Certificate())
	}
	return p
}

// eventually waits for cond, failing the test after a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
