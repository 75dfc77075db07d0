package emulator_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator"
)

// journal reads GET /_emulator/requests with a query string.
func journal(t *testing.T, e *env, query string) []emulator.JournalEntry {
	t.Helper()
	resp, err := testClient.Get(e.url + "/_emulator/requests" + query)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /_emulator/requests%s: %d", query, resp.StatusCode)
	}
	var body struct{ Value []emulator.JournalEntry }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatal(err)
	}
	return body.Value
}

// A request refused for its token is in the journal with the reason in words.
func TestJournalShowsWhyATokenWasRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	tok := e.clientCredentialsToken("http://localhost:1/.default")
	req, _ := http.NewRequest("GET", e.api+"WhoAmI", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	got := journal(t, e, "?status=401")
	if len(got) != 1 {
		t.Fatalf("401 entries: %+v", got)
	}
	en := got[0]
	if en.Method != "GET" || en.Path != "/api/data/v9.2/WhoAmI" || !strings.Contains(en.Reason, "token audience does not match this organisation "+e.url) ||
		!strings.Contains(en.Reason, "http://localhost:1") {
		t.Errorf("entry: %+v", en)
	}
	if en.Headers["Authorization"] != "Bearer (redacted)" || strings.Contains(fmt.Sprint(en), tok) {
		t.Errorf("the entry shows the token: %+v", en.Headers)
	}
	resp, _ = testClient.Get(e.api + "WhoAmI")
	resp.Body.Close()
	if got := journal(t, e, "?status=401"); len(got) != 2 || !strings.Contains(got[0].Reason, "no bearer token") {
		t.Errorf("no token: %+v", got)
	}
}

// The journal keeps each request with its caller, bodies, status and a refusal's Dataverse error;
// $batch parts are entries linked to their batch; filters narrow it and DELETE clears it.
func TestJournal(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do("POST", "accounts", map[string]any{"name": "Journaled"}).expect(t, 204)
	e.do("GET", "accounts(00000000-0000-0000-0000-000000000042)", nil).expect(t, 404)
	body := "--b1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET accounts?$top=1 HTTP/1.1\r\n\r\n\r\n" +
		"--b1\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET WhoAmI HTTP/1.1\r\n\r\n\r\n--b1--\r\n"
	req, _ := http.NewRequest("POST", e.api+"$batch", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "multipart/mixed; boundary=b1")
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	// An entry is kept when the emulator has finished the request: read the whole answer first
	// (a body bigger than the server's buffer starts arriving before the handler ends).
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("$batch: %d", resp.StatusCode)
	}

	all := journal(t, e, "")
	var create, missing, batch *emulator.JournalEntry
	var parts []emulator.JournalEntry
	for i := range all {
		en := &all[i]
		switch {
		case en.Method == "POST" && en.Path == "/api/data/v9.2/accounts":
			create = en
		case en.Status == 404:
			missing = en
		case en.Path == "/api/data/v9.2/$batch":
			batch = en
		case en.BatchID != 0:
			parts = append(parts, *en)
		}
	}
	if create == nil || create.Status != 204 || create.Caller != emulator.DefaultAppUserID || !strings.Contains(create.RequestBody, `"Journaled"`) {
		t.Errorf("create: %+v", create)
	}
	if missing == nil || !strings.HasPrefix(missing.Reason, "0x80040217: ") || !strings.Contains(missing.ResponseBody, "0x80040217") {
		t.Errorf("404: %+v", missing)
	}
	if batch == nil || len(parts) != 2 || parts[0].BatchID != batch.ID || parts[1].BatchID != batch.ID || parts[0].Status != 200 {
		t.Errorf("batch %+v, parts %+v", batch, parts)
	}
	if all[0].ID < all[len(all)-1].ID {
		t.Errorf("not newest first: ids %d ... %d", all[0].ID, all[len(all)-1].ID)
	}
	if got := journal(t, e, "?method=post&path=/api/data/v9.2/accounts"); len(got) != 1 {
		t.Errorf("method and path filter: %d entries", len(got))
	}
	if got := journal(t, e, "?status=4xx"); len(got) != 1 || got[0].Status != 404 {
		t.Errorf("status class filter: %+v", got)
	}
	if got := journal(t, e, "?caller="+emulator.DefaultAppUserID); len(got) < 3 {
		t.Errorf("caller filter: %d entries", len(got))
	}
	if resp, _ := testClient.Get(e.url + "/_emulator/requests?status=abc"); resp.StatusCode != 400 {
		t.Errorf("a bad filter: %d", resp.StatusCode)
	}
	req, _ = http.NewRequest("DELETE", e.url+"/_emulator/requests", nil)
	if resp, err := testClient.Do(req); err != nil || resp.StatusCode != 204 {
		t.Fatalf("DELETE: %v %v", resp, err)
	}
	if got := journal(t, e, ""); len(got) != 0 {
		t.Errorf("after DELETE: %d entries", len(got))
	}
}

// The ring keeps the most recent requests, and never the secrets of a token request.
func TestJournalRingAndSecrets(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, emulator.Config{JournalSize: 3})
	for range 5 {
		e.do("GET", "WhoAmI", nil).expect(t, 200)
	}
	got := journal(t, e, "")
	if len(got) != 3 {
		t.Fatalf("%d entries, want 3", len(got))
	}
	e.clientCredentialsToken(e.url + "/.default")
	tok := journal(t, e, "?path=/"+emulator.DefaultTenantID)[0]
	if tok.RequestBody != "" || tok.ResponseBody != "" || tok.Status != 200 {
		t.Errorf("token request entry: %+v", tok)
	}
	e.do("POST", "serviceendpoints", map[string]any{"name": "hook", "contract": 8, "url": "http://127.0.0.1:1/hook",
		"authtype": 4, "authvalue": "s3cret-value"}).expect(t, 204)
	if en := journal(t, e, "?path=/api/data/v9.2/serviceendpoints")[0]; strings.Contains(fmt.Sprint(en), "s3cret-value") {
		t.Errorf("the journal keeps a webhook's secret: %+v", en)
	}
}

// An entry keeps the answer's headers a client acts on: the new row's URL, its ETag.
func TestJournalKeepsResponseHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	created := e.do("POST", "accounts", map[string]any{"name": "journal headers"}).expect(t, 204)
	id := idFromEntityID(t, created.Header)
	read := e.do("GET", "accounts("+id+")?$select=name", nil).expect(t, 200)
	post := journal(t, e, "?method=POST&path=/api/data/v9.2/accounts")
	get := journal(t, e, "?method=GET&path=/api/data/v9.2/accounts(")
	if len(post) != 1 || post[0].ResponseHeaders["OData-EntityId"] != created.Header.Get("OData-EntityId") {
		t.Errorf("create entry's response headers: %+v", post)
	}
	if len(get) != 1 || get[0].ResponseHeaders["ETag"] != read.Header.Get("ETag") || !strings.HasPrefix(get[0].ResponseHeaders["Content-Type"], "application/json") {
		t.Errorf("read entry's response headers: %+v", get)
	}
}

// An entry keeps the first JournalBodyLimit bytes of each body and says when it cut one.
func TestJournalCutsLongBodies(t *testing.T) {
	t.Parallel()
	e := newEnvWith(t, emulator.Config{JournalBodyLimit: 16})
	e.do("POST", "accounts", map[string]any{"name": "a name longer than sixteen bytes"}).expect(t, 204)
	who := e.do("GET", "WhoAmI", nil).expect(t, 200)
	post := journal(t, e, "?method=POST&path=/api/data/v9.2/accounts")
	if len(post) != 1 || post[0].RequestBody != `{"name":"a name ` || !post[0].Truncated {
		t.Errorf("create entry: body %q, truncated %v", post[0].RequestBody, post[0].Truncated)
	}
	got := journal(t, e, "?path=/api/data/v9.2/WhoAmI")
	if len(got) != 1 || got[0].ResponseBody != string(who.Body[:16]) || !got[0].Truncated {
		t.Errorf("WhoAmI entry: body %q, truncated %v; answer %q", got[0].ResponseBody, got[0].Truncated, who.Body)
	}
	e2 := newEnv(t)
	e2.do("GET", "WhoAmI", nil).expect(t, 200)
	if en := journal(t, e2, "?path=/api/data/v9.2/WhoAmI"); len(en) != 1 || en[0].Truncated || !strings.HasPrefix(en[0].ResponseBody, "{") || !strings.HasSuffix(en[0].ResponseBody, "}") {
		t.Errorf("a short answer is kept whole: %+v", en)
	}
}
