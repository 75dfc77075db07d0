package main

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dynlocal/dynlocal/emulator"
)

// tlsOptions are the HTTPS flags.
type tlsOptions struct {
	on                bool
	addr              string
	hosts             []string
	dir               string // where the development CA is kept; "" for the default
	certFile, keyFile string // a certificate of the user's own
}

// tlsSetup is what serving HTTPS needs, and what the banner says about it.
type tlsSetup struct {
	config *tls.Config
	dev    *emulator.DevCertificate // nil with a certificate of the user's own
	leaf   *x509.Certificate
	own    string // the user's certificate file
}

// defaultTLSDir is where the development CA lives: in the data directory, or, for an in-memory
// emulator, in the user's configuration directory, which (unlike the cache directory) is not
// cleared behind the user's back: the CA has to stay the one they trusted.
func defaultTLSDir(dataDir string) (string, error) {
	if dataDir != "" {
		return filepath.Join(dataDir, "tls"), nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("emulator: --tls: no user configuration directory to keep the development CA in (%v); give one with --tls-dir", err)
	}
	return filepath.Join(dir, "dynlocal", "tls"), nil
}

// prepareTLS loads the user's certificate, or makes or reuses the development CA and a server
// certificate for the loopback names, the --tls-host names, the host of --org-url and the host
// of --tls-addr.
func prepareTLS(o tlsOptions, dataDir, orgURL string, now time.Time) (*tlsSetup, error) {
	if o.certFile != "" {
		cfg, leaf, err := emulator.LoadTLSCertificate(o.certFile, o.keyFile)
		if err != nil {
			return nil, err
		}
		return &tlsSetup{config: cfg, leaf: leaf, own: o.certFile}, nil
	}
	dir := o.dir
	if dir == "" {
		var err error
		if dir, err = defaultTLSDir(dataDir); err != nil {
			return nil, err
		}
	}
	hosts := append([]string{}, o.hosts...)
	if orgURL != "" {
		u, err := url.Parse(orgURL)
		if err != nil || u.Hostname() == "" {
			return nil, fmt.Errorf("emulator: --org-url %q is not a URL with a host", orgURL)
		}
		hosts = append(hosts, u.Hostname())
	}
	if h, _, err := net.SplitHostPort(o.addr); err == nil && h != "" {
		if ip := net.ParseIP(h); ip == nil || !ip.IsUnspecified() {
			hosts = append(hosts, h)
		}
	}
	dev, err := emulator.EnsureDevCertificate(dir, hosts, now)
	if err != nil {
		return nil, err
	}
	return &tlsSetup{config: dev.TLSConfig(), dev: dev, leaf: dev.Leaf}, nil
}

// checkTLSFlags refuses combinations that would silently do nothing. changed reports whether a
// flag was given on the command line (the environment's values are only defaults).
func checkTLSFlags(o tlsOptions, changed func(string) bool) error {
	if (o.certFile == "") != (o.keyFile == "") {
		return errors.New("--tls-cert and --tls-key go together: give both, or neither for the development CA")
	}
	if o.certFile != "" {
		for _, name := range []string{"tls-host", "tls-dir"} {
			if changed(name) {
				return fmt.Errorf("--%s is for the development CA's certificate; with --tls-cert your certificate's names apply", name)
			}
		}
	}
	if !o.on {
		for _, name := range []string{"tls-addr", "tls-host", "tls-dir"} {
			if changed(name) {
				return fmt.Errorf("--%s needs --tls", name)
			}
		}
	}
	return nil
}

// banner is the HTTPS part of the start-up banner: the https URLs, the certificate, and how to
// trust the CA.
func (t *tlsSetup) banner(base, tenant string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "  HTTPS Web API:  %s/api/data/v9.2/\n", base)
	fmt.Fprintf(&b, "  HTTPS token:    %s/%s/oauth2/v2.0/token\n", base, tenant)
	fmt.Fprintf(&b, "  HTTPS scope:    %s/.default\n", base)
	expires := t.leaf.NotAfter.UTC().Format(time.DateOnly)
	names := strings.Join(emulator.TLSCertificateHosts(t.leaf), ", ")
	if t.dev == nil {
		fmt.Fprintf(&b, "  TLS cert:       %s (yours) for %s, expires %s\n", t.own, names, expires)
		return b.String()
	}
	ca := shellQuote(t.dev.CAFile)
	note := "kept from an earlier run"
	if t.dev.CACreated {
		note = "new: trust it once, as below"
	}
	fmt.Fprintf(&b, "  TLS CA:         %s (%s)\n", t.dev.CAFile, note)
	issued := ""
	if t.dev.Issued {
		issued = "issued now, "
	}
	fmt.Fprintf(&b, "  TLS cert:       %s for %s (%sexpires %s)\n", filepath.Join(t.dev.Dir, emulator.TLSServerFile), names, issued, expires)
	fmt.Fprintf(&b, "  Trust the CA for one run: SSL_CERT_FILE=%s (Go, OpenSSL, Python; instead of the system's roots)\n", ca)
	fmt.Fprintf(&b, "                            NODE_EXTRA_CA_CERTS=%s (Node)  CURL_CA_BUNDLE=%s (curl)\n", ca, ca)
	fmt.Fprintf(&b, "  Trust it system-wide (Debian, Ubuntu): sudo cp %s /usr/local/share/ca-certificates/dynlocal.crt && sudo update-ca-certificates\n", ca)
	return b.String()
}

// shellQuote quotes a path for the commands of the banner when it needs it.
func shellQuote(s string) string {
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("/._-:+@%,", c)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
