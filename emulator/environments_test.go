package emulator_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/dynlocal/dynlocal/emulator"
)

// createEnvironment creates an environment through the admin API and returns a test env for it,
// with a token whose audience is the environment's URL.
func createEnvironment(t *testing.T, e *env, name string) *env {
	t.Helper()
	r := e.do("POST", "/_emulator/environments", map[string]any{"name": name}).expect(t, http.StatusCreated)
	var info emulator.EnvironmentInfo
	if err := json.Unmarshal(r.Body, &info); err != nil {
		t.Fatal(err)
	}
	want := e.url + "/env/" + name
	if info.Name != name || info.URL != want || info.APIURL != want+"/api/data/v9.2/" ||
		info.TokenURL != e.url+"/"+emulator.DefaultTenantID+"/oauth2/v2.0/token" || info.CreatedOn.IsZero() {
		t.Fatalf("created %+v, want name %s at %s", info, name, want)
	}
	if loc := r.Header.Get("Location"); loc != e.url+"/_emulator/environments/"+name {
		t.Errorf("Location %q", loc)
	}
	ev := &env{t: t, srv: e.srv, http: e.http, url: info.URL, api: info.APIURL, clock: e.clock}
	ev.token = e.clientCredentialsToken(info.URL + "/.default")
	return ev
}

// accountNames lists the names of the accounts a query returns.
func accountNames(t *testing.T, e *env, query string) []string {
	t.Helper()
	var body struct {
		Value []struct {
			Name string `json:"name"`
		} `json:"value"`
	}
	if err := json.Unmarshal(e.do("GET", "accounts?"+strings.ReplaceAll(query, " ", "%20"), nil).expect(t, 200).Body, &body); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, v := range body.Value {
		out = append(out, v.Name)
	}
	return out
}

// Two environments created in parallel never see each other's rows, nor the default
// organisation's, and each answers with URLs under its own prefix.
func TestEnvironmentsAreIsolated(t *testing.T) {
	t.Parallel()
	root := newEnv(t)
	envs := make([]*env, 2)
	var wg sync.WaitGroup
	for i := range envs {
		wg.Go(func() { envs[i] = createEnvironment(t, root, fmt.Sprintf("ci-%d", i)) })
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	// Each environment starts from the fixtures: the sample accounts are there.
	base := len(accountNames(t, root, "$select=name"))
	for i, ev := range envs {
		if n := len(accountNames(t, ev, "$select=name")); n != base {
			t.Errorf("environment %d starts with %d accounts, the fixtures have %d", i, n, base)
		}
	}
	var writes sync.WaitGroup
	for i, ev := range envs {
		writes.Go(func() {
			for j := range 5 {
				ev.do("POST", "accounts", map[string]any{"name": fmt.Sprintf("Isolated %d-%d", i, j)}).expect(t, 204)
			}
		})
	}
	writes.Wait()
	for i, ev := range envs {
		got := accountNames(t, ev, "$select=name&$filter=startswith(name,'Isolated')&$orderby=name")
		want := []string{}
		for j := range 5 {
			want = append(want, fmt.Sprintf("Isolated %d-%d", i, j))
		}
		if strings.Join(got, ",") != strings.Join(want, ",") {
			t.Errorf("environment %d sees %q, want %q", i, got, want)
		}
	}
	if got := accountNames(t, root, "$filter=startswith(name,'Isolated')"); len(got) != 0 {
		t.Errorf("the default organisation sees %q", got)
	}

	// URLs in answers carry the environment's prefix.
	ev := envs[0]
	r := ev.do("POST", "accounts", map[string]any{"name": "Prefixed"}).expect(t, 204)
	id := idFromEntityID(t, r.Header)
	if loc := r.Header.Get("OData-EntityId"); loc != ev.api+"accounts("+id+")" {
		t.Errorf("OData-EntityId %q, want under %s", loc, ev.api)
	}
	page := ev.do("GET", "accounts?$select=name", nil, "Prefer", "odata.maxpagesize=2").expect(t, 200).JSON(t)
	if ctx, _ := page["@odata.context"].(string); !strings.HasPrefix(ctx, ev.api+"$metadata#accounts") {
		t.Errorf("@odata.context %q", ctx)
	}
	next, _ := page["@odata.nextLink"].(string)
	if !strings.HasPrefix(next, ev.api+"accounts?") {
		t.Fatalf("@odata.nextLink %q, want under %s", next, ev.api)
	}
	ev.do("GET", next, nil).expect(t, 200)

	// The environment's record is not in the other one, by id either.
	envs[1].do("GET", "accounts("+id+")", nil).expect(t, 404)
	root.do("GET", "accounts("+id+")", nil).expect(t, 404)
}

// A token is good for one organisation: the default organisation's token is refused by an
// environment, with the reason in the environment's journal, and the other way round.
func TestEnvironmentTokensHaveTheirAudience(t *testing.T) {
	t.Parallel()
	root := newEnv(t)
	ev := createEnvironment(t, root, "aud")
	ev.do("GET", "WhoAmI", nil, "Authorization", "Bearer "+root.token).expect(t, 401)
	root.do("GET", "WhoAmI", nil, "Authorization", "Bearer "+ev.token).expect(t, 401)
	ev.do("GET", "WhoAmI", nil).expect(t, 200)

	got := journal(t, ev, "?status=401")
	if len(got) != 1 || got[0].Path != "/env/aud/api/data/v9.2/WhoAmI" ||
		!strings.Contains(got[0].Reason, "does not match this organisation "+ev.url) {
		t.Errorf("environment journal: %+v", got)
	}
	// The journal's path filter takes the path with or without the prefix.
	if n, m := len(journal(t, ev, "?path=/api/data/v9.2/WhoAmI")), len(journal(t, ev, "?path=/env/aud/api/")); n != 2 || m != 2 {
		t.Errorf("path filters found %d and %d entries, want 2", n, m)
	}
	// The default organisation's journal holds its own refusal and not the environment's requests.
	for _, en := range journal(t, root, "") {
		if strings.HasPrefix(en.Path, "/env/") {
			t.Errorf("the default journal holds %s %s", en.Method, en.Path)
		}
	}
	if got := journal(t, root, "?status=401"); len(got) != 1 || !strings.Contains(got[0].Reason, ev.url) {
		t.Errorf("default journal: %+v", got)
	}
}

// An environment has its own admin API: faults, snapshots and reset act on it alone.
func TestEnvironmentAdminAPI(t *testing.T) {
	t.Parallel()
	root := newEnv(t)
	ev := createEnvironment(t, root, "admin")
	ev.do("POST", "/_emulator/faults", map[string]any{
		"match": map[string]any{"method": "POST", "path": "/api/data/v9.2/accounts"}, "response": map[string]any{"status": 503}, "times": 1,
	}).expect(t, 201)
	root.do("POST", "accounts", map[string]any{"name": "Root"}).expect(t, 204)
	ev.do("POST", "accounts", map[string]any{"name": "Faulted"}).expect(t, 503)
	ev.do("POST", "accounts", map[string]any{"name": "Kept"}).expect(t, 204)

	ev.do("PUT", "/_emulator/snapshots/one", nil).expect(t, 204)
	ev.do("POST", "accounts", map[string]any{"name": "After snapshot"}).expect(t, 204)
	var list struct{ Value []string }
	if err := json.Unmarshal(root.do("GET", "/_emulator/snapshots", nil).expect(t, 200).Body, &list); err != nil || len(list.Value) != 0 {
		t.Errorf("the default organisation's snapshots: %v %v", list.Value, err)
	}
	ev.do("POST", "/_emulator/snapshots/one/restore", nil).expect(t, 204)
	if got := accountNames(t, ev, "$filter=name eq 'Kept' or name eq 'After snapshot'"); strings.Join(got, ",") != "Kept" {
		t.Errorf("after restore: %q", got)
	}
	ev.do("POST", "/_emulator/reset", nil).expect(t, 204)
	if got := accountNames(t, ev, "$filter=name eq 'Kept'"); len(got) != 0 {
		t.Errorf("after reset: %q", got)
	}
	if got := accountNames(t, root, "$filter=name eq 'Root'"); len(got) != 1 {
		t.Errorf("the environment's reset touched the default organisation: %q", got)
	}
	// An environment has no environments.
	ev.do("POST", "/_emulator/environments", map[string]any{"name": "nested"}).expect(t, 404)
	ev.do("GET", "/env/x/api/data/v9.2/WhoAmI", nil).expect(t, 404)
}

// $batch inside an environment resolves absolute, server-relative and relative targets, and
// Content-ID references, within it.
func TestEnvironmentBatch(t *testing.T) {
	t.Parallel()
	root := newEnv(t)
	ev := createEnvironment(t, root, "batch")
	part := func(id, line, body string) string {
		s := "--cs\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\nContent-ID: " + id + "\r\n\r\n" + line + " HTTP/1.1\r\n"
		if body != "" {
			s += "Content-Type: application/json\r\n\r\n" + body + "\r\n"
		} else {
			s += "\r\n"
		}
		return s
	}
	cs := part("1", "POST "+ev.api+"accounts", `{"name":"Batch absolute"}`) +
		part("2", "POST /env/batch/api/data/v9.2/accounts", `{"name":"Batch server-relative"}`) +
		part("3", "POST accounts", `{"name":"Batch relative"}`) +
		part("4", "PATCH $1", `{"telephone1":"555"}`) + "--cs--\r\n"
	body := "--b\r\nContent-Type: multipart/mixed; boundary=cs\r\n\r\n" + cs + "--b--\r\n"
	ev.do("POST", "$batch", body, "Content-Type", "multipart/mixed; boundary=b").expect(t, 200)
	got := accountNames(t, ev, "$filter=startswith(name,'Batch')&$orderby=name")
	if strings.Join(got, ",") != "Batch absolute,Batch relative,Batch server-relative" {
		t.Errorf("environment rows after $batch: %q", got)
	}
	if got := accountNames(t, ev, "$filter=telephone1 eq '555'"); len(got) != 1 {
		t.Errorf("the $1 reference did not resolve in the environment: %q", got)
	}
	if got := accountNames(t, root, "$filter=startswith(name,'Batch')"); len(got) != 0 {
		t.Errorf("the default organisation sees %q", got)
	}
}

// Creating, listing and deleting environments, and what each refuses.
func TestEnvironmentLifecycle(t *testing.T) {
	t.Parallel()
	root := newEnvWith(t, emulator.Config{MaxEnvironments: 2})
	ev := createEnvironment(t, root, "life")
	ev.do("POST", "accounts", map[string]any{"name": "Doomed"}).expect(t, 204)

	root.do("POST", "/_emulator/environments", map[string]any{"name": "LIFE"}).expectError(t, 409, "",
		"An environment named 'LIFE' exists. DELETE /_emulator/environments/LIFE removes it.")
	for _, body := range []any{map[string]any{"name": "a/b"}, map[string]any{"name": "-x"}, map[string]any{"name": strings.Repeat("x", 65)}} {
		if r := root.do("POST", "/_emulator/environments", body); r.Status != 400 {
			t.Errorf("POST %v: %d %s", body, r.Status, r.Body)
		}
	}
	for _, body := range []string{`{"name": 1}`, `{"nme": "x"}`, `[`, `"x"`} {
		if r := root.do("POST", "/_emulator/environments", body); r.Status != 400 {
			t.Errorf("POST %s: %d %s", body, r.Status, r.Body)
		}
	}
	// No body: a generated name.
	r := root.do("POST", "/_emulator/environments", nil).expect(t, 201)
	var gen emulator.EnvironmentInfo
	if err := json.Unmarshal(r.Body, &gen); err != nil || !strings.HasPrefix(gen.Name, "env-") {
		t.Fatalf("generated: %s %v", r.Body, err)
	}
	if r := root.do("POST", "/_emulator/environments", map[string]any{"name": "third"}); r.Status != 409 ||
		!strings.Contains(string(r.Body), "--max-environments") {
		t.Errorf("past the limit: %d %s", r.Status, r.Body)
	}

	var list struct{ Value []emulator.EnvironmentInfo }
	if err := json.Unmarshal(root.do("GET", "/_emulator/environments", nil).expect(t, 200).Body, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Value) != 2 || list.Value[0].Name != gen.Name || list.Value[1].Name != "life" || list.Value[1].URL != ev.url {
		t.Errorf("list: %+v", list.Value)
	}
	root.do("GET", "/_emulator/environments/life", nil).expect(t, 200)
	root.do("GET", "/_emulator/environments/nope", nil).expectError(t, 404, "", "No environment named 'nope' exists.")

	root.do("DELETE", "/_emulator/environments/life", nil).expect(t, 204)
	ev.do("GET", "WhoAmI", nil).expectError(t, 404, "",
		"No environment named 'life' is served here. POST /_emulator/environments creates one; GET lists them.")
	root.do("DELETE", "/_emulator/environments/life", nil).expect(t, 404)
	// A new environment of the same name starts from the fixtures again.
	ev = createEnvironment(t, root, "life")
	if got := accountNames(t, ev, "$filter=name eq 'Doomed'"); len(got) != 0 {
		t.Errorf("a recreated environment has %q", got)
	}
	root.do("DELETE", "/_emulator/environments", nil).expect(t, 204)
	if err := json.Unmarshal(root.do("GET", "/_emulator/environments", nil).expect(t, 200).Body, &list); err != nil || len(list.Value) != 0 {
		t.Errorf("after deleting all: %+v %v", list.Value, err)
	}
}

// Deleting an environment while requests run on it lets them finish; requests after it get 404.
func TestEnvironmentDeleteWhileServing(t *testing.T) {
	t.Parallel()
	root := newEnv(t)
	for round := range 3 {
		name := fmt.Sprintf("busy-%d", round)
		ev := createEnvironment(t, root, name)
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 10 {
					r := ev.do("POST", "accounts", map[string]any{"name": "Busy"})
					if r.Status != 204 && r.Status != 404 {
						t.Errorf("create during delete: %d %s", r.Status, r.Body)
						return
					}
				}
			})
		}
		root.do("DELETE", "/_emulator/environments/"+name, nil).expect(t, 204)
		wg.Wait()
	}
}

// A webhook registered in an environment fires for that environment's writes only.
func TestEnvironmentWebhooks(t *testing.T) {
	t.Parallel()
	root := newEnv(t)
	ev := createEnvironment(t, root, "hooks")
	capt, hs := newHookCapture(t)
	ev.register(t, hs.URL+"/hook", 4, "key", "Create", "account", 40, 0, nil) // synchronous
	root.do("POST", "accounts", map[string]any{"name": "Not hooked"}).expect(t, 204)
	id := idFromEntityID(t, ev.do("POST", "accounts", map[string]any{"name": "Hooked"}).expect(t, 204).Header)
	capt.mu.Lock()
	n := len(capt.calls)
	capt.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d webhook calls, want 1 (the environment's create)", n)
	}
	if _, body := capt.last(); body["PrimaryEntityId"] != id {
		t.Errorf("the call is for %v, want the environment's account %s", body["PrimaryEntityId"], id)
	}
}
