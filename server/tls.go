package server

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// TLSOptions make a node serve HTTPS (with HTTP/2) itself: from certificate
// files, or from certificates an ACME CA (Let's Encrypt) issues for
// ACMEDomains. Zero values serve plain HTTP, as behind a reverse proxy.
type TLSOptions struct {
	CertFile, KeyFile string // PEM files; read again by Server.Reload (SIGHUP)

	ACMEDomains []string // names to get certificates for; the CA checks this node answers for them
	ACMEEmail   string   // the account's contact address, for the CA's expiry warnings
	// ACMEHTTPAddr is where the CA's HTTP-01 challenges are answered (and
	// every other plain-HTTP request redirected to https), e.g. ":80".
	// Without it only the TLS-ALPN-01 challenge works, which needs the
	// TLS listener on port 443.
	ACMEHTTPAddr string
	// ACMEDirectory is the CA's directory URL; default Let's Encrypt's
	// production CA (autocert.DefaultACMEDirectory).
	ACMEDirectory string
}

func (o TLSOptions) enabled() bool {
	return o.CertFile != "" || o.KeyFile != "" || len(o.ACMEDomains) > 0
}

// acmeCacheDir is where ACME accounts and certificates are kept, in the
// data directory: they must survive restarts, or every restart would ask
// the CA again and soon hit its rate limits.
const acmeCacheDir = "acme"

// serverTLS is how a node serves TLS.
type serverTLS struct {
	config *tls.Config
	certs  *certFiles        // nil with ACME
	acme   *autocert.Manager // nil with certificate files
	http01 *http.Server      // ACME's plain-HTTP listener; nil without one
}

// newServerTLS checks the options and loads the certificate (or prepares
// the ACME manager); nil when TLS is off.
func newServerTLS(o TLSOptions, data string, log *slog.Logger) (*serverTLS, error) {
	if !o.enabled() {
		return nil, nil
	}
	st := &serverTLS{}
	switch {
	case len(o.ACMEDomains) > 0 && (o.CertFile != "" || o.KeyFile != ""):
		return nil, errors.New("tls: give either certificate files or ACME domains, not both")
	case len(o.ACMEDomains) > 0:
		m, err := newACME(o, data)
		if err != nil {
			return nil, err
		}
		st.acme = m
		st.config = m.TLSConfig() // h2, http/1.1 and acme-tls/1
		if o.ACMEHTTPAddr != "" {
			st.http01 = &http.Server{
				Addr: o.ACMEHTTPAddr, Handler: m.HTTPHandler(nil),
				ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute,
				ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn),
			}
		}
	case o.CertFile == "" || o.KeyFile == "":
		return nil, errors.New("tls: give both the certificate and the key file")
	default:
		st.certs = &certFiles{cert: o.CertFile, key: o.KeyFile, log: log}
		if err := st.certs.load(); err != nil {
			return nil, err
		}
		st.config = &tls.Config{GetCertificate: st.certs.get, NextProtos: []string{"h2", "http/1.1"}}
	}
	st.config.MinVersion = tls.VersionTLS12
	return st, nil
}

func newACME(o TLSOptions, data string) (*autocert.Manager, error) {
	var domains []string
	for _, d := range o.ACMEDomains {
		if d = strings.ToLower(strings.TrimSpace(d)); d != "" {
			domains = append(domains, d)
		}
	}
	if len(domains) == 0 {
		return nil, errors.New("acme: no domain given")
	}
	cache := filepath.Join(data, acmeCacheDir)
	if err := os.MkdirAll(cache, 0o700); err != nil {
		return nil, fmt.Errorf("acme: create cache dir: %w", err)
	}
	m := &autocert.Manager{
		Prompt:     autocert.AcceptTOS,
		Cache:      autocert.DirCache(cache),
		HostPolicy: autocert.HostWhitelist(domains...),
		Email:      o.ACMEEmail,
	}
	if o.ACMEDirectory != "" {
		m.Client = &acme.Client{DirectoryURL: o.ACMEDirectory}
	}
	return m, nil
}

// certFiles is a certificate read from files, swapped whole on reload so
// that handshakes under way keep the one they started with and no
// connection is dropped.
type certFiles struct {
	cert, key string
	log       *slog.Logger
	current   atomic.Pointer[tls.Certificate]
}

// load reads the files; on failure the certificate served so far stays.
func (c *certFiles) load() error {
	pair, err := tls.LoadX509KeyPair(c.cert, c.key)
	if err != nil {
		return fmt.Errorf("tls: load %s and %s: %w", c.cert, c.key, err)
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return fmt.Errorf("tls: parse %s: %w", c.cert, err)
		}
		pair.Leaf = leaf
	}
	c.current.Store(&pair)
	names := leaf.DNSNames
	if len(names) == 0 {
		names = []string{leaf.Subject.CommonName}
	}
	c.log.Info("TLS certificate loaded", "file", c.cert, "names", strings.Join(names, ","),
		"not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	if time.Until(leaf.NotAfter) < 14*24*time.Hour {
		c.log.Warn("TLS certificate expires soon", "file", c.cert, "not_after", leaf.NotAfter.UTC().Format(time.RFC3339))
	}
	return nil
}

func (c *certFiles) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return c.current.Load(), nil
}
