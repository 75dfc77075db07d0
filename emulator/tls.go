package emulator

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The files of a development TLS directory.
const (
	TLSCAFile        = "ca.pem"
	TLSCAKeyFile     = "ca-key.pem"
	TLSServerFile    = "server.pem"
	TLSServerKeyFile = "server-key.pem"
)

// Lifetimes of the development certificates. Browsers refuse server certificates valid for more
// than 398 days; the CA lives long so that it is trusted once.
const (
	devCAValidity     = 10 * 365 * 24 * time.Hour
	devServerValidity = 397 * 24 * time.Hour
	// devRenewBefore is how long before its expiry a server certificate is replaced.
	devRenewBefore = 30 * 24 * time.Hour
)

// DefaultTLSHosts are the names every development server certificate covers.
var DefaultTLSHosts = []string{"localhost", "127.0.0.1", "::1"}

// DevCertificate is a local development CA and a server certificate signed by it, kept in a
// directory (see EnsureDevCertificate).
type DevCertificate struct {
	// Dir is the directory holding the four PEM files.
	Dir string
	// CAFile is the CA certificate clients are told to trust (Dir/ca.pem).
	CAFile string
	// CA is the CA certificate.
	CA *x509.Certificate
	// Certificate is the server certificate with its key, ready for tls.Config.
	Certificate tls.Certificate
	// Leaf is the server certificate.
	Leaf *x509.Certificate
	// CACreated is set when the CA was made by this call (clients have not trusted it yet).
	CACreated bool
	// Issued is set when the server certificate was (re)issued by this call.
	Issued bool
}

// Hosts are the DNS names and IP addresses the server certificate covers.
func (d *DevCertificate) Hosts() []string { return certHosts(d.Leaf) }

// CertPool is a pool holding only the CA, for clients that should trust it.
func (d *DevCertificate) CertPool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(d.CA)
	return p
}

// TLSConfig is a server configuration presenting the server certificate.
func (d *DevCertificate) TLSConfig() *tls.Config {
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{d.Certificate}}
}

// EnsureDevCertificate returns the development CA kept in dir and a server certificate it signed
// covering DefaultTLSHosts and hosts (DNS names, possibly wildcards, or IP addresses), creating
// what is missing. The CA is made once and kept, so that it needs to be trusted once; the server
// certificate is re-issued, with the names of the old one plus the requested ones, when a requested
// name is missing, when it expires within 30 days or when it was not signed by the CA. Keys are
// ECDSA P-256, written readable by their owner only; every file is written aside and renamed, and
// concurrent callers on one directory wait for each other, so a reader never sees half a file
// nor a certificate without its key.
func EnsureDevCertificate(dir string, hosts []string, now time.Time) (*DevCertificate, error) {
	want, err := normalizeTLSHosts(append(slices.Clone(DefaultTLSHosts), hosts...))
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("emulator: tls: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()

	d := &DevCertificate{Dir: dir, CAFile: filepath.Join(dir, TLSCAFile)}
	ca, caKey, err := loadDevCA(dir, now)
	if err != nil {
		return nil, err
	}
	if ca == nil {
		if ca, caKey, err = createDevCA(dir, now); err != nil {
			return nil, err
		}
		d.CACreated = true
	}
	d.CA = ca

	certPath, keyPath := filepath.Join(dir, TLSServerFile), filepath.Join(dir, TLSServerKeyFile)
	if !d.CACreated {
		if pair, leaf, ok := loadServerCert(certPath, keyPath, ca); ok {
			have := certHosts(leaf)
			fresh := leaf.NotAfter.Sub(now) > devRenewBefore && !now.Before(leaf.NotBefore)
			if fresh && containsAll(have, want) {
				d.Certificate, d.Leaf = pair, leaf
				return d, nil
			}
			// Keep the names the old certificate had, so that runs asking for different names
			// do not take turns replacing it.
			if merged, err := normalizeTLSHosts(append(have, want...)); err == nil {
				want = merged
			}
		}
	}
	leafDER, key, err := issueServerCert(ca, caKey, want, now)
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("emulator: tls: %w", err)
	}
	// The key first: a certificate on disk always has its key beside it.
	if err := writeFileAtomic(keyPath, pemBytes("PRIVATE KEY", keyDER), 0o600); err != nil {
		return nil, err
	}
	if err := writeFileAtomic(certPath, pemBytes("CERTIFICATE", leafDER), 0o644); err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(leafDER)
	if err != nil {
		return nil, fmt.Errorf("emulator: tls: %w", err)
	}
	d.Leaf = leaf
	d.Certificate = tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key, Leaf: leaf}
	d.Issued = true
	return d, nil
}

// normalizeTLSHosts lower-cases names, drops the brackets of IPv6 addresses, removes duplicates
// and refuses what is not a host name or an IP address.
func normalizeTLSHosts(hosts []string) ([]string, error) {
	var out []string
	for _, h := range hosts {
		h = strings.ToLower(strings.TrimSpace(h))
		if strings.HasPrefix(h, "[") && strings.HasSuffix(h, "]") {
			h = h[1 : len(h)-1]
		}
		if ip := net.ParseIP(h); ip != nil {
			h = ip.String()
		} else if !validDNSName(h) {
			return nil, fmt.Errorf("emulator: tls host %q: want a host name (such as org.example.test or *.example.test) or an IP address, without scheme or port", h)
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out, nil
}

// validDNSName reports whether h is a DNS name a certificate can carry, with an optional leading
// "*." wildcard label.
func validDNSName(h string) bool {
	h = strings.TrimPrefix(h, "*.")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// certHosts are the DNS names and IP addresses a certificate covers, in normalized form.
func certHosts(c *x509.Certificate) []string {
	out := make([]string, 0, len(c.DNSNames)+len(c.IPAddresses))
	for _, n := range c.DNSNames {
		out = append(out, strings.ToLower(n))
	}
	for _, ip := range c.IPAddresses {
		out = append(out, ip.String())
	}
	return out
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// loadDevCA reads the CA kept in dir. It returns nil without an error when there is none, or
// when the one there has expired or will within 30 days (a new one has to be made and trusted
// then). A CA certificate without its key is an error: it may be trusted somewhere, so it is not
// replaced silently.
func loadDevCA(dir string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	certPath, keyPath := filepath.Join(dir, TLSCAFile), filepath.Join(dir, TLSCAKeyFile)
	certPEM, err := os.ReadFile(certPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: tls: %w", err)
	}
	broken := func(why string) error {
		return fmt.Errorf("emulator: tls: %s: %s; delete %s and %s to have a new CA made (and trust the new one)", certPath, why, TLSCAFile, TLSCAKeyFile)
	}
	ca, err := parseCertPEM(certPEM)
	if err != nil {
		return nil, nil, broken(err.Error())
	}
	if !ca.IsCA {
		return nil, nil, broken("not a CA certificate")
	}
	if ca.NotAfter.Sub(now) <= devRenewBefore {
		return nil, nil, nil
	}
	keyPEM, err := os.ReadFile(keyPath)
	if err != nil {
		return nil, nil, broken("its key: " + err.Error())
	}
	key, err := parseKeyPEM(keyPEM)
	if err != nil {
		return nil, nil, broken(keyPath + ": " + err.Error())
	}
	if !publicKeysEqual(ca.PublicKey, key.Public()) {
		return nil, nil, broken(keyPath + " is not the key of this certificate")
	}
	return ca, key, nil
}

// createDevCA makes a new CA in dir, replacing any there.
func createDevCA(dir string, now time.Time) (*x509.Certificate, crypto.Signer, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: tls: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	host, _ := os.Hostname()
	subject := pkix.Name{Organization: []string{"dynlocal development CA"}, CommonName: "dynlocal development CA"}
	if host != "" {
		// Names this machine's CA apart from others in a trust store listing.
		subject.OrganizationalUnit = []string{host}
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               subject,
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(devCAValidity),
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
		IsCA:                  true,
		MaxPathLenZero:        true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: tls: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: tls: %w", err)
	}
	if err := writeFileAtomic(filepath.Join(dir, TLSCAKeyFile), pemBytes("PRIVATE KEY", keyDER), 0o600); err != nil {
		return nil, nil, err
	}
	if err := writeFileAtomic(filepath.Join(dir, TLSCAFile), pemBytes("CERTIFICATE", der), 0o644); err != nil {
		return nil, nil, err
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: tls: %w", err)
	}
	return ca, key, nil
}

// loadServerCert reads a server certificate and its key, and reports whether they belong together
// and the certificate was signed by ca.
func loadServerCert(certPath, keyPath string, ca *x509.Certificate) (tls.Certificate, *x509.Certificate, bool) {
	pair, err := tls.LoadX509KeyPair(certPath, keyPath) // checks that the key is the certificate's
	if err != nil {
		return tls.Certificate{}, nil, false
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return tls.Certificate{}, nil, false
		}
		pair.Leaf = leaf
	}
	if leaf.CheckSignatureFrom(ca) != nil || !bytes.Equal(leaf.RawIssuer, ca.RawSubject) {
		return tls.Certificate{}, nil, false
	}
	return pair, leaf, true
}

// issueServerCert makes a server key and a certificate for hosts signed by the CA. It never
// outlives the CA.
func issueServerCert(ca *x509.Certificate, caKey crypto.Signer, hosts []string, now time.Time) ([]byte, *ecdsa.PrivateKey, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: tls: %w", err)
	}
	serial, err := randomSerial()
	if err != nil {
		return nil, nil, err
	}
	notBefore := now.Add(-time.Hour)
	notAfter := notBefore.Add(devServerValidity)
	if notAfter.After(ca.NotAfter) {
		notAfter = ca.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{Organization: []string{"dynlocal development certificate"}, CommonName: hosts[0]},
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	for _, h := range hosts {
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: tls: issue server certificate: %w", err)
	}
	return der, key, nil
}

func randomSerial() (*big.Int, error) {
	n, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, fmt.Errorf("emulator: tls: %w", err)
	}
	return n.Add(n, big.NewInt(1)), nil
}

func pemBytes(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func parseCertPEM(data []byte) (*x509.Certificate, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, errors.New("not a PEM certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

func parseKeyPEM(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("not a PEM file")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("not a signing key")
	}
	return s, nil
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	ka, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && ka.Equal(b)
}

// writeFileAtomic writes data to a new file beside path and renames it over path, so that readers
// see the old file or the new one, never half of one.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("emulator: tls: %w", err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("emulator: tls: %w", err)
	}
	if err := f.Chmod(perm); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("emulator: tls: %w", err)
	}
	return nil
}

// Waiting for another process's lock on a TLS directory.
const (
	tlsLockWait  = 20 * time.Second
	tlsLockStale = 10 * time.Second // making the files takes milliseconds: a lock this old was left by a process that died
	tlsLockPoll  = 25 * time.Millisecond
)

// lockDir takes a lock file in dir, so that two emulators starting at once do not both make a CA
// (the second would replace the one the first serves with). It returns the function releasing it.
func lockDir(dir string) (func(), error) {
	path := filepath.Join(dir, ".lock")
	deadline := time.Now().Add(tlsLockWait)
	for {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			return func() { os.Remove(path) }, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("emulator: tls: %w", err)
		}
		if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > tlsLockStale {
			os.Remove(path)
			continue
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("emulator: tls: %s is held by another process; delete it if no other emulator is starting", path)
		}
		time.Sleep(tlsLockPoll)
	}
}

// LoadTLSCertificate reads a certificate chain and its key from PEM files, for serving a
// certificate of your own.
func LoadTLSCertificate(certFile, keyFile string) (*tls.Config, *x509.Certificate, error) {
	pair, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("emulator: tls certificate: %w", err)
	}
	leaf := pair.Leaf
	if leaf == nil {
		if leaf, err = x509.ParseCertificate(pair.Certificate[0]); err != nil {
			return nil, nil, fmt.Errorf("emulator: tls certificate %s: %w", certFile, err)
		}
		pair.Leaf = leaf
	}
	return &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{pair}}, leaf, nil
}

// TLSCertificateHosts are the DNS names and IP addresses a certificate covers.
func TLSCertificateHosts(c *x509.Certificate) []string { return certHosts(c) }
