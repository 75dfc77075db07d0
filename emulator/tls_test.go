package emulator_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/emulator"
)

// readFile reads a file of the TLS directory.
func readFile(t *testing.T, dir, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// verifyFor checks that the server certificate chains to the CA for host.
func verifyFor(t *testing.T, d *emulator.DevCertificate, host string, at time.Time) {
	t.Helper()
	if _, err := d.Leaf.Verify(x509.VerifyOptions{DNSName: host, Roots: d.CertPool(), CurrentTime: at}); err != nil {
		t.Errorf("server certificate not valid for %s: %v", host, err)
	}
}

// The CA is made once and kept; the server certificate it signs covers the loopback names and
// the requested ones, is kept while it does, and is re-issued (with its old names) when a name is
// missing or it expires within 30 days.
func TestEnsureDevCertificate(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "tls")
	now := time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

	d, err := emulator.EnsureDevCertificate(dir, []string{"Org.Example.Test"}, now)
	if err != nil {
		t.Fatal(err)
	}
	if !d.CACreated || !d.Issued || d.CAFile != filepath.Join(dir, "ca.pem") {
		t.Errorf("first call: CACreated %v, Issued %v, CAFile %s", d.CACreated, d.Issued, d.CAFile)
	}
	if got, want := d.Hosts(), []string{"localhost", "org.example.test", "127.0.0.1", "::1"}; !slices.Equal(got, want) {
		t.Errorf("hosts = %v, want %v", got, want)
	}
	if !d.CA.IsCA || d.CA.NotAfter.Sub(now) < 9*365*24*time.Hour {
		t.Errorf("CA: IsCA %v, not after %s", d.CA.IsCA, d.CA.NotAfter)
	}
	if v := d.Leaf.NotAfter.Sub(d.Leaf.NotBefore); v > 397*24*time.Hour || v < 390*24*time.Hour {
		t.Errorf("server certificate valid for %s", v)
	}
	for _, h := range []string{"localhost", "127.0.0.1", "::1", "org.example.test"} {
		verifyFor(t, d, h, now)
	}
	if runtime.GOOS != "windows" {
		for name, want := range map[string]os.FileMode{"ca.pem": 0o644, "ca-key.pem": 0o600, "server.pem": 0o644, "server-key.pem": 0o600} {
			fi, err := os.Stat(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != want {
				t.Errorf("%s has mode %v, want %v", name, fi.Mode().Perm(), want)
			}
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 4 {
		t.Errorf("directory holds %d entries, want the four PEM files: %v", len(entries), entries)
	}
	ca, server := readFile(t, dir, "ca.pem"), readFile(t, dir, "server.pem")

	// Again, asking for fewer names: everything is kept.
	d2, err := emulator.EnsureDevCertificate(dir, nil, now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if d2.CACreated || d2.Issued || !bytes.Equal(readFile(t, dir, "server.pem"), server) || !bytes.Equal(readFile(t, dir, "ca.pem"), ca) {
		t.Errorf("second call: CACreated %v, Issued %v; want both kept", d2.CACreated, d2.Issued)
	}

	// A new name: a new server certificate from the same CA, with the old names too.
	d3, err := emulator.EnsureDevCertificate(dir, []string{"[::1]", "other.test", "10.1.2.3"}, now.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if d3.CACreated || !d3.Issued || !bytes.Equal(readFile(t, dir, "ca.pem"), ca) || bytes.Equal(readFile(t, dir, "server.pem"), server) {
		t.Errorf("new name: CACreated %v, Issued %v; want the CA kept and the certificate re-issued", d3.CACreated, d3.Issued)
	}
	for _, h := range []string{"org.example.test", "other.test", "10.1.2.3"} {
		verifyFor(t, d3, h, now.Add(2*time.Hour))
	}

	// 370 days later the certificate expires within 30 days: re-issued, same CA.
	later := now.Add(370 * 24 * time.Hour)
	d4, err := emulator.EnsureDevCertificate(dir, nil, later)
	if err != nil {
		t.Fatal(err)
	}
	if d4.CACreated || !d4.Issued || !d4.Leaf.NotAfter.After(later.Add(300*24*time.Hour)) {
		t.Errorf("near expiry: CACreated %v, Issued %v, not after %s", d4.CACreated, d4.Issued, d4.Leaf.NotAfter)
	}
	verifyFor(t, d4, "other.test", later)

	// A server certificate that is not the CA's is replaced.
	other, err := emulator.EnsureDevCertificate(filepath.Join(t.TempDir(), "other"), nil, now)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "server.pem"), readFile(t, other.Dir, "server.pem"), 0o644)
	os.WriteFile(filepath.Join(dir, "server-key.pem"), readFile(t, other.Dir, "server-key.pem"), 0o600)
	d5, err := emulator.EnsureDevCertificate(dir, nil, later)
	if err != nil {
		t.Fatal(err)
	}
	if !d5.Issued {
		t.Error("a certificate of another CA was kept")
	}
	verifyFor(t, d5, "localhost", later)
}

// What is not a host name is refused; a CA certificate without its key is not replaced silently.
func TestEnsureDevCertificateErrors(t *testing.T) {
	t.Parallel()
	now := time.Now()
	for _, h := range []string{"https://org.example.test", "org.example.test:8443", "", "bad name"} {
		if _, err := emulator.EnsureDevCertificate(t.TempDir(), []string{h}, now); err == nil || !strings.Contains(err.Error(), "want a host name") {
			t.Errorf("host %q: err = %v", h, err)
		}
	}
	dir := t.TempDir()
	if _, err := emulator.EnsureDevCertificate(dir, nil, now); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(dir, "ca-key.pem"))
	if _, err := emulator.EnsureDevCertificate(dir, nil, now); err == nil || !strings.Contains(err.Error(), "delete ca.pem and ca-key.pem") {
		t.Errorf("CA without its key: err = %v", err)
	}
}

// The Go client reaches the HTTPS listener trusting the development CA: a token asked for the
// https origin, WhoAmI, a record created and read. The plain HTTP listener runs beside it, and
// Shutdown stops both.
func TestListenTLS(t *testing.T) {
	t.Parallel()
	srv, err := emulator.New(context.Background(), emulator.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	dev, err := emulator.EnsureDevCertificate(t.TempDir(), nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.ListenTLS("127.0.0.1:0", nil); err == nil {
		t.Error("ListenTLS without a certificate succeeded")
	}
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	if err := srv.ListenTLS("127.0.0.1:0", dev.TLSConfig()); err != nil {
		t.Fatal(err)
	}
	base, plain := srv.TLSURL(), srv.URL()
	if !strings.HasPrefix(base, "https://127.0.0.1:") || !strings.HasPrefix(plain, "http://127.0.0.1:") {
		t.Fatalf("URL %q, TLSURL %q", plain, base)
	}
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: dev.CertPool()}}}
	defer hc.CloseIdleConnections()
	c, err := client.New(base, client.WithHTTPClient(hc), client.WithClientCredentials(
		base+"/"+emulator.DefaultTenantID+"/oauth2/v2.0/token", emulator.DefaultClientID, emulator.DefaultClientSecret))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	who, _, err := c.WhoAmI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if who.UserID != emulator.DefaultAppUserID {
		t.Errorf("WhoAmI = %+v", who)
	}
	_, created, err := c.CreateRecord(ctx, "accounts", client.Record{"name": "Over TLS"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.EntityID, base+"/api/data/v9.2/accounts(") {
		t.Errorf("OData-EntityId %q does not point at the https origin", created.EntityID)
	}
	rec, _, err := c.GetRecord(ctx, "accounts", created.ID, &client.GetOptions{Select: []string{"name"}})
	if err != nil || rec["name"] != "Over TLS" {
		t.Fatalf("read back %v, %v", rec, err)
	}

	// The token was asked for the https origin: the HTTP listener (another origin) refuses it,
	// as Dataverse refuses a token for another organization.
	tok := clientCredentialsTokenAt(t, hc, base)
	req, _ := http.NewRequest(http.MethodGet, plain+"/api/data/v9.2/WhoAmI", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("https token on the http listener: %d", resp.StatusCode)
	}
	if h := resp.Header.Get("WWW-Authenticate"); !strings.Contains(h, "authorization_uri=http://127.0.0.1:") {
		t.Errorf("WWW-Authenticate on the http listener: %q", h)
	}

	// Without the CA, a client refuses the certificate.
	if _, err := (&http.Client{Transport: &http.Transport{}}).Get(base + "/"); err == nil {
		t.Error("a client without the CA accepted the certificate")
	} else if ue := (*url.Error)(nil); !errors.As(err, &ue) || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted: %v", err)
	}

	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	hc.CloseIdleConnections()
	if err := srv.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{plain, base} {
		if resp, err := hc.Get(u + "/"); err == nil {
			resp.Body.Close()
			t.Errorf("%s still answers after Shutdown", u)
		}
	}
}

// clientCredentialsTokenAt gets an app token for base's own origin through hc.
func clientCredentialsTokenAt(t *testing.T, hc *http.Client, base string) string {
	t.Helper()
	resp, err := hc.PostForm(base+"/"+emulator.DefaultTenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {emulator.DefaultClientID},
		"client_secret": {emulator.DefaultClientSecret}, "scope": {base + "/.default"},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 || body.AccessToken == "" {
		t.Fatalf("token over https: status %d, err %v", resp.StatusCode, err)
	}
	return body.AccessToken
}

// Emulators starting at once on one directory make one CA between them.
func TestEnsureDevCertificateConcurrent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	results := make([]*emulator.DevCertificate, 4)
	errs := make([]error, len(results))
	var wg sync.WaitGroup
	for i := range results {
		wg.Go(func() { results[i], errs[i] = emulator.EnsureDevCertificate(dir, nil, time.Now()) })
	}
	wg.Wait()
	created := 0
	for i, d := range results {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if d.CACreated {
			created++
		}
		if !bytes.Equal(d.CA.Raw, results[0].CA.Raw) {
			t.Errorf("caller %d got another CA", i)
		}
	}
	if created != 1 {
		t.Errorf("%d callers made a CA, want 1", created)
	}
}
