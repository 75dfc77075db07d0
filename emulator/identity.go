package emulator

import (
	"context"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/dynlocal/dynlocal/emulator/oauth"
	"github.com/dynlocal/dynlocal/emulator/webapi"
	"github.com/dynlocal/dynlocal/fixtures"
)

// applicationUsers makes the development app's client id (Config.ClientID) its application
// user's, and gives each of Config.Apps an application user of its own, then returns those apps
// for the token endpoint.
func (s *Server) applicationUsers(ctx context.Context) ([]oauth.App, error) {
	want := []webapi.ApplicationUser{{ClientID: s.cfg.ClientID, UserID: DefaultAppUserID, ObjectID: DefaultAppUserObjectID,
		BusinessUnitID: fixtures.DevelopmentBusinessUnitID, Name: "dynlocal-app"}}
	var apps []oauth.App
	seen := map[string]bool{strings.ToLower(s.cfg.ClientID): true}
	for _, a := range s.cfg.Apps {
		id := strings.ToLower(a.ClientID)
		if seen[id] {
			return nil, fmt.Errorf("emulator: client id %s is given twice", a.ClientID)
		}
		seen[id] = true
		u := webapi.ApplicationUser{ClientID: id, UserID: derivedID("app user " + id), ObjectID: derivedID("app object " + id),
			BusinessUnitID: fixtures.DevelopmentBusinessUnitID, Name: "dynlocal-app " + id}
		want = append(want, u)
		apps = append(apps, oauth.App{ClientID: a.ClientID, ClientSecret: a.ClientSecret,
			User: oauth.User{SystemUserID: u.UserID, ObjectID: u.ObjectID, Name: "# " + u.Name}})
	}
	if err := s.web.EnsureApplicationUsers(ctx, want); err != nil {
		return nil, err
	}
	return apps, nil
}

// derivedID is a stable, name-based UUID (version 5 layout over SHA-1), so an app's user keeps its
// ids from one start to the next.
func derivedID(name string) string {
	sum := sha1.Sum([]byte("dynlocal " + name))
	b := sum[:16]
	b[6] = b[6]&0x0f | 0x50
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// signingKeyFile is where a data directory keeps the token signing key.
const signingKeyFile = "signing-key.pem"

// processKey signs the tokens of in-memory servers: one key per process, since an RSA key takes
// a while to make and a test run starts hundreds of servers.
var processKey = sync.OnceValues(oauth.NewSigningKey)

// signingKey returns the key tokens are signed with: the data directory's, created on first use,
// so tokens stay valid across restarts. In memory it is the cache directory's, made once for all
// in-memory starts (an RSA key takes 20 to 200 ms to make, most of such a start), or without one
// the process's.
func (s *Server) signingKey() (*rsa.PrivateKey, error) {
	if s.cfg.DataDir != "" {
		return keyFile(s.cfg.DataDir)
	}
	if s.cfg.CacheDir != "" {
		k, err := keyFile(s.cfg.CacheDir)
		if err == nil {
			return k, nil
		}
		// The cache only saves time: without it the process makes its own key.
		s.log.Warn("cannot keep the signing key in the cache directory", "err", err)
	}
	return processKey()
}

// keyFile reads the signing key kept in dir, or makes one and keeps it there.
func keyFile(dir string) (*rsa.PrivateKey, error) {
	path := filepath.Join(dir, signingKeyFile)
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		block, _ := pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("emulator: %s is not a PEM file; delete it to have a new key made (tokens issued before stop working)", path)
		}
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("emulator: %s: %w; delete it to have a new key made", path, err)
		}
		rk, ok := k.(*rsa.PrivateKey)
		if !ok {
			return nil, fmt.Errorf("emulator: %s does not hold an RSA key; delete it to have a new key made (tokens issued before stop working)", path)
		}
		return rk, nil
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("emulator: signing key: %w", err)
	}
	key, err := oauth.NewSigningKey()
	if err != nil {
		return nil, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("emulator: signing key: %w", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("emulator: signing key: %w", err)
	}
	// Written aside and renamed, so a crash never leaves half a key; readable by its owner only.
	// The file aside has a name of its own: two emulators may make a key at once (the last one
	// renamed stays; each signs with its own until it restarts).
	tmp, err := os.CreateTemp(dir, signingKeyFile+".*.tmp")
	if err != nil {
		return nil, fmt.Errorf("emulator: signing key: %w", err)
	}
	_, werr := tmp.Write(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(tmp.Name(), path)
	}
	if werr != nil {
		os.Remove(tmp.Name())
		return nil, fmt.Errorf("emulator: signing key: %w", werr)
	}
	return key, nil
}
