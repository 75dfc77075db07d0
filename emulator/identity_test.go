package emulator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator"
)

// tokenFor asks base's token endpoint for an app-only token of a client; it returns the token and
// the status of the answer.
func tokenFor(t *testing.T, base, clientID, secret, scope string) (string, int) {
	t.Helper()
	resp, err := testClient.PostForm(base+"/"+emulator.DefaultTenantID+"/oauth2/v2.0/token", url.Values{
		"grant_type": {"client_credentials"}, "client_id": {clientID}, "client_secret": {secret}, "scope": {scope},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct {
		AccessToken string `json:"access_token"`
	}
	json.NewDecoder(resp.Body).Decode(&body)
	return body.AccessToken, resp.StatusCode
}

// whoAmI calls WhoAmI with a token and returns the status and the caller's user id.
func whoAmI(t *testing.T, base, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/api/data/v9.2/WhoAmI", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var body struct{ UserId string }
	json.NewDecoder(resp.Body).Decode(&body)
	return resp.StatusCode, body.UserId
}

// startServer starts a server on cfg behind a test HTTP server and returns its base URL and a stop
// function.
func startServer(t *testing.T, cfg emulator.Config) (string, func()) {
	t.Helper()
	srv, err := emulator.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler())
	return hs.URL, func() { hs.Close(); srv.Close() }
}

// A token issued before a restart works after it, on the same data directory.
func TestTokenSurvivesRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	base, stop := startServer(t, emulator.Config{DataDir: dir})
	tok, status := tokenFor(t, base, emulator.DefaultClientID, emulator.DefaultClientSecret, base+"/.default")
	stop()
	if status != 200 {
		t.Fatalf("token: %d", status)
	}
	// The next server listens elsewhere; the token names the first one's URL as audience, so the
	// second one is told to accept it as the organization's URL.
	base2, stop2 := startServer(t, emulator.Config{DataDir: dir, OrgURL: base})
	defer stop2()
	if status, user := whoAmI(t, base2, tok); status != 200 || user != emulator.DefaultAppUserID {
		t.Errorf("after the restart: %d, user %q", status, user)
	}
	// A server with another key (in memory, the process's) refuses it.
	base3, stop3 := startServer(t, emulator.Config{OrgURL: base})
	defer stop3()
	if status, _ := whoAmI(t, base3, tok); status != 401 {
		t.Errorf("a server with another key took the token: %d", status)
	}
}

// In-memory servers with a cache directory share the key kept there, readable by its owner only:
// a token one issued works on the next, and no start makes a key again.
func TestInMemoryKeyIsKeptInTheCache(t *testing.T) {
	t.Parallel()
	cache := t.TempDir()
	base, stop := startServer(t, emulator.Config{CacheDir: cache})
	tok, status := tokenFor(t, base, emulator.DefaultClientID, emulator.DefaultClientSecret, base+"/.default")
	stop()
	if status != 200 {
		t.Fatalf("token: %d", status)
	}
	info, err := os.Stat(filepath.Join(cache, "signing-key.pem"))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("cached key: %v, %v", info, err)
	}
	base2, stop2 := startServer(t, emulator.Config{CacheDir: cache, OrgURL: base})
	defer stop2()
	if status, user := whoAmI(t, base2, tok); status != 200 || user != emulator.DefaultAppUserID {
		t.Errorf("the next in-memory server: %d, user %q", status, user)
	}
	if left, _ := filepath.Glob(filepath.Join(cache, "*.tmp")); len(left) > 0 {
		t.Errorf("files left aside: %v", left)
	}
}

// --client-id makes that client id the development application user's; --app adds apps with
// application users of their own.
func TestClientIDsAndApps(t *testing.T) {
	t.Parallel()
	const id, other = "6f9619ff-8b86-d011-b42d-00c04fc964ff", "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	base, stop := startServer(t, emulator.Config{ClientID: id, ClientSecret: "s3cret",
		Apps: []emulator.App{{ClientID: other, ClientSecret: "other-secret"}}})
	defer stop()
	tok, status := tokenFor(t, base, id, "s3cret", base+"/.default")
	if status != 200 {
		t.Fatalf("token for --client-id: %d", status)
	}
	if status, user := whoAmI(t, base, tok); status != 200 || user != emulator.DefaultAppUserID {
		t.Errorf("--client-id: %d, user %q", status, user)
	}
	if _, status := tokenFor(t, base, emulator.DefaultClientID, emulator.DefaultClientSecret, base+"/.default"); status != 400 && status != 401 {
		t.Errorf("the default client id still gets tokens: %d", status)
	}
	tok2, status := tokenFor(t, base, other, "other-secret", base+"/.default")
	if status != 200 {
		t.Fatalf("token for --app: %d", status)
	}
	status, user := whoAmI(t, base, tok2)
	if status != 200 || user == "" || user == emulator.DefaultAppUserID {
		t.Errorf("--app: %d, user %q", status, user)
	}
	if _, status := tokenFor(t, base, other, "wrong", base+"/.default"); status != 401 {
		t.Errorf("--app with a wrong secret: %d", status)
	}
	// The app's user is an application user row that names it.
	req, _ := http.NewRequest("GET", base+"/api/data/v9.2/systemusers("+user+")?$select=applicationid,accessmode", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var row map[string]any
	json.NewDecoder(resp.Body).Decode(&row)
	if !strings.EqualFold(row["applicationid"].(string), other) || row["accessmode"] != float64(4) {
		t.Errorf("the app's user row: %v", row)
	}
}
