package main

import (
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/parley-chat/parley/server"
)

// opsFlags are the flags of serve that concern operating a node: TLS,
// reverse proxies, logs and metrics (docs/operations.md).
type opsFlags struct {
	tlsCert, tlsKey                                 string
	acmeDomains, acmeEmail, acmeHTTP, acmeDirectory string
	trustedProxies                                  string
	logFormat                                       string
	metricsAddr                                     string
}

func addOpsFlags(fs *flag.FlagSet) *opsFlags {
	f := &opsFlags{}
	fs.StringVar(&f.tlsCert, "tls-cert", env("PARLEY_TLS_CERT", ""), "PEM certificate (chain) file to serve HTTPS and HTTP/2 with; read again on SIGHUP (PARLEY_TLS_CERT)")
	fs.StringVar(&f.tlsKey, "tls-key", env("PARLEY_TLS_KEY", ""), "PEM private key file of --tls-cert (PARLEY_TLS_KEY)")
	fs.StringVar(&f.acmeDomains, "acme-domain", env("PARLEY_ACME_DOMAIN", ""), "comma-separated names to get certificates for from an ACME CA (Let's Encrypt), kept in <data>/acme (PARLEY_ACME_DOMAIN)")
	fs.StringVar(&f.acmeEmail, "acme-email", env("PARLEY_ACME_EMAIL", ""), "contact address of the ACME account (PARLEY_ACME_EMAIL)")
	fs.StringVar(&f.acmeHTTP, "acme-http-addr", env("PARLEY_ACME_HTTP_ADDR", ""), "address answering ACME HTTP-01 challenges and redirecting the rest to https, e.g. :80; none if empty (PARLEY_ACME_HTTP_ADDR)")
	fs.StringVar(&f.acmeDirectory, "acme-directory", env("PARLEY_ACME_DIRECTORY", ""), "ACME directory URL; default Let's Encrypt's production CA (PARLEY_ACME_DIRECTORY)")
	fs.StringVar(&f.trustedProxies, "trusted-proxies", env("PARLEY_TRUSTED_PROXIES", ""), "comma-separated CIDRs of reverse proxies whose X-Forwarded-For/-Proto are believed (PARLEY_TRUSTED_PROXIES)")
	fs.StringVar(&f.logFormat, "log-format", env("PARLEY_LOG_FORMAT", ""), "json or text; default text on a terminal, json otherwise (PARLEY_LOG_FORMAT)")
	fs.StringVar(&f.metricsAddr, "metrics-addr", env("PARLEY_METRICS_ADDR", ""), "serve /metrics on this address instead of --addr, e.g. 127.0.0.1:9090 (PARLEY_METRICS_ADDR)")
	return f
}

// apply puts the flags in the node's options.
func (f *opsFlags) apply(o *server.Options) {
	o.TLS = server.TLSOptions{
		CertFile: f.tlsCert, KeyFile: f.tlsKey,
		ACMEDomains: splitList(f.acmeDomains), ACMEEmail: f.acmeEmail,
		ACMEHTTPAddr: f.acmeHTTP, ACMEDirectory: f.acmeDirectory,
	}
	o.TrustedProxies = f.trustedProxies
	o.MetricsAddr = f.metricsAddr
}

// logger returns the node's logger: JSON lines for a log collector, or
// text for a person at a terminal.
func (f *opsFlags) logger(w *os.File, level slog.Level) (*slog.Logger, error) {
	format := f.logFormat
	if format == "" {
		format = "json"
		if isTerminal(w) {
			format = "text"
		}
	}
	opts := &slog.HandlerOptions{Level: level}
	switch format {
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format: want json or text, got %q", format)
}

// isTerminal reports whether f is a character device: a terminal, not a
// pipe, a file or the journal.
func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// reloadOnHangup makes SIGHUP read the TLS certificate files again, as
// `systemctl reload` sends it. Call it before the node starts, so that a
// SIGHUP while it starts is not fatal; start the returned function once the
// node exists.
func reloadOnHangup(log *slog.Logger) (start func(*server.Server), stop func()) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	done := make(chan struct{})
	start = func(srv *server.Server) {
		go func() {
			for {
				select {
				case <-hup:
					log.Info("SIGHUP: reloading")
					if err := srv.Reload(); err != nil {
						log.Error("reload failed; serving what was loaded before", "err", err)
					}
				case <-done:
					return
				}
			}
		}()
	}
	stop = func() {
		signal.Stop(hup)
		close(done)
	}
	return start, stop
}

func splitList(s string) []string {
	var out []string
	for item := range strings.SplitSeq(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}
