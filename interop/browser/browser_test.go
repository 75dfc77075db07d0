package browser

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/dynlocal/dynlocal/emulator"
	"github.com/dynlocal/dynlocal/internal/browsertest"
)

// Time limits. Each is far above what a warm machine needs (the whole test takes a few seconds), so
// that a hang fails the test instead of eating CI's budget. The browser's own limits are
// browsertest's.
const (
	pageTimeout    = 15 * time.Second // one page: load it, run its script, read the result
	consoleTimeout = 3 * time.Second  // for the browser's console message after a blocked fetch
)

// missingAccountID is an account the fixtures do not have.
const missingAccountID = "00000000-0000-0000-0000-00000000dead"

// TestCORSFromChromium loads a page from one loopback origin in headless Chromium and lets its
// script call the emulator on another with fetch(): once with the default CORS origins (every
// loopback origin), once with an emulator that allows only another origin.
func TestCORSFromChromium(t *testing.T) {
	chromium := browsertest.RequireChromium(t)
	browserCtx := browsertest.StartBrowser(t, chromium)

	t.Run("loopback origins allowed by default", func(t *testing.T) {
		emu := startEmulator(t, nil)
		defer func() {
			if t.Failed() {
				t.Logf("emulator request log:\n%s", emu.log.String())
			}
		}()
		page := servePage(t, pageConfig{
			Emulator:     emu.url,
			Tenant:       emulator.DefaultTenantID,
			ClientID:     emulator.DefaultClientID,
			ClientSecret: emulator.DefaultClientSecret,
			Name:         "CORS from Chromium",
			MissingID:    missingAccountID,
		})
		if origin(t, page) == origin(t, emu.url) {
			t.Fatalf("the page and the emulator share the origin %s", origin(t, page))
		}
		res, _ := runPage(t, browserCtx, page, nil)

		if res.Failed != nil {
			t.Fatalf("the script stopped at %q: %s: %s (result %+v)", res.Step, res.Failed.Name, res.Failed.Message, res)
		}
		if res.Token.Failed != nil || res.Token.Status != http.StatusOK || res.Token.TokenType != "Bearer" || res.Token.Parts != 3 {
			t.Errorf("token: %+v, want status 200, token_type Bearer and a JWT (three parts)", res.Token)
		}
		if u := res.Unauthorized; u.Failed != nil || u.Status != http.StatusUnauthorized || !strings.HasPrefix(u.WWWAuthenticate, "Bearer ") {
			t.Errorf("WhoAmI with a bad token: %+v, want status 401 and a readable WWW-Authenticate: Bearer ...", u)
		}

		entityID := regexp.MustCompile(`^` + regexp.QuoteMeta(emu.url) + `/api/data/v9\.2/accounts\(([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\)$`)
		m := entityID.FindStringSubmatch(res.Create.EntityID)
		if res.Create.Status != http.StatusNoContent || m == nil {
			t.Fatalf("create: %+v, want status 204 and OData-EntityId %s/api/data/v9.2/accounts(<id>)", res.Create, emu.url)
		}
		id := m[1]

		etag := regexp.MustCompile(`^W/"[0-9]+"$`)
		if r := res.Read; r.Status != http.StatusOK || !etag.MatchString(r.ETag) || r.BodyETag != r.ETag || r.Name != "CORS from Chromium" || r.AccountID != id {
			t.Errorf("read: %+v, want status 200, an ETag header W/\"<n>\" equal to @odata.etag, and the row created (%s)", r, id)
		}
		if res.Update.Status != http.StatusNoContent {
			t.Errorf("update with If-Match: status %d, want 204", res.Update.Status)
		}
		if r := res.Reread; r.Status != http.StatusOK || r.Name != "CORS from Chromium (renamed)" || !etag.MatchString(r.ETag) || r.ETag == res.Read.ETag {
			t.Errorf("read after the update: %+v, want status 200, the new name and a new ETag (was %s)", r, res.Read.ETag)
		}
		if r := res.Missing; r.Status != http.StatusNotFound || r.Code != "0x80040217" || !strings.Contains(r.Message, missingAccountID) {
			t.Errorf("missing row: %+v, want status 404, error.code 0x80040217 and a message naming %s", r, missingAccountID)
		}

		// The GET and the PATCH carry Authorization, If-None-Match / If-Match and Prefer, so the
		// browser asked first; the emulator answered those preflights itself.
		reqs := emu.requests(t)
		for _, want := range []request{
			{Method: http.MethodPost, Path: "/" + emulator.DefaultTenantID + "/oauth2/v2.0/token", Status: http.StatusOK},
			{Method: http.MethodOptions, Path: "/api/data/v9.2/WhoAmI", Status: http.StatusNoContent},
			{Method: http.MethodOptions, Path: "/api/data/v9.2/accounts", Status: http.StatusNoContent},
			{Method: http.MethodPost, Path: "/api/data/v9.2/accounts", Status: http.StatusNoContent},
			{Method: http.MethodOptions, Path: "/api/data/v9.2/accounts(" + id + ")", Status: http.StatusNoContent},
			{Method: http.MethodPatch, Path: "/api/data/v9.2/accounts(" + id + ")", Status: http.StatusNoContent},
		} {
			if !contains(reqs, want) {
				t.Errorf("the emulator logged no %s %s answered %d", want.Method, want.Path, want.Status)
			}
		}
	})

	t.Run("another origin configured", func(t *testing.T) {
		emu := startEmulator(t, []string{"https://somewhere.else"})
		defer func() {
			if t.Failed() {
				t.Logf("emulator request log:\n%s", emu.log.String())
			}
		}()
		page := servePage(t, pageConfig{
			Emulator:     emu.url,
			Tenant:       emulator.DefaultTenantID,
			ClientID:     emulator.DefaultClientID,
			ClientSecret: emulator.DefaultClientSecret,
			Name:         "never created",
			MissingID:    missingAccountID,
		})
		tokenURL := emu.url + "/" + emulator.DefaultTenantID + "/oauth2/v2.0/token"
		whoAmIURL := emu.url + "/api/data/v9.2/WhoAmI"
		res, console := runPage(t, browserCtx, page, func(msgs []string) bool {
			return blocked(msgs, tokenURL) != "" && blocked(msgs, whoAmIURL) != ""
		})

		// The token request is a simple request: the browser sends it, the emulator answers, and
		// the browser keeps the answer from the script because it lacks Access-Control-Allow-Origin.
		if f := res.Token.Failed; f == nil || f.Name != "TypeError" {
			t.Errorf("token: %+v, want the fetch to fail with a TypeError", res.Token)
		}
		// WhoAmI carries Authorization: the preflight is refused and the request never sent.
		if f := res.Unauthorized.Failed; f == nil || f.Name != "TypeError" {
			t.Errorf("WhoAmI: %+v, want the fetch to fail with a TypeError", res.Unauthorized)
		}
		if res.Create.Status != 0 || res.Step != "token" {
			t.Errorf("the script went on without a token: %+v", res)
		}

		// The failures are the browser's CORS checks, not an unreachable emulator.
		reqs := emu.requests(t)
		for _, want := range []request{
			{Method: http.MethodPost, Path: "/" + emulator.DefaultTenantID + "/oauth2/v2.0/token", Status: http.StatusOK},
			{Method: http.MethodOptions, Path: "/api/data/v9.2/WhoAmI", Status: http.StatusForbidden},
		} {
			if !contains(reqs, want) {
				t.Errorf("the emulator logged no %s %s answered %d", want.Method, want.Path, want.Status)
			}
		}
		for _, r := range reqs {
			if r.Msg == "request" && r.Method == http.MethodGet {
				t.Errorf("the browser sent %s %s (answered %d) though its preflight was refused", r.Method, r.Path, r.Status)
			}
		}
		// What a developer sees in the console: the answer refused, and the preflight refused.
		if blocked(console, tokenURL) == "" {
			t.Errorf("the browser's console does not say that CORS blocked %s:\n%s", tokenURL, strings.Join(console, "\n"))
		}
		if m := blocked(console, whoAmIURL); !strings.Contains(m, "preflight") {
			t.Errorf("the browser's console does not say that CORS blocked the preflight for %s:\n%s", whoAmIURL, strings.Join(console, "\n"))
		}
	})
}

// emu is an emulator running in this process, with its request log.
type emu struct {
	url string
	log *browsertest.LockedBuffer
}

// startEmulator starts an in-memory emulator on a free loopback port with the given CORS origins
// (nil: the default, every loopback origin) and stops it when the test ends.
func startEmulator(t *testing.T, origins []string) emu {
	t.Helper()
	log := &browsertest.LockedBuffer{}
	srv, err := emulator.New(context.Background(), emulator.Config{
		CORSOrigins: origins,
		Logger:      slog.New(slog.NewJSONHandler(log, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	return emu{url: srv.URL(), log: log}
}

// request is one entry of the emulator's JSON log.
type request struct {
	Msg    string `json:"msg"`
	Method string `json:"method"`
	Path   string `json:"path"`
	Status int    `json:"status"`
}

// requests reads the emulator's log: one JSON object a line.
func (e emu) requests(t *testing.T) []request {
	t.Helper()
	var out []request
	for _, line := range strings.Split(strings.TrimSpace(e.log.String()), "\n") {
		if line == "" {
			continue
		}
		var r request
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("emulator log line %q: %v", line, err)
		}
		out = append(out, r)
	}
	return out
}

// contains reports whether the log has a request like want.
func contains(reqs []request, want request) bool {
	for _, r := range reqs {
		if r.Msg == "request" && r.Method == want.Method && r.Path == want.Path && r.Status == want.Status {
			return true
		}
	}
	return false
}

// origin is the scheme://host:port of a URL.
func origin(t *testing.T, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Scheme + "://" + u.Host
}

// pageConfig is what the page's script is given.
type pageConfig struct {
	Emulator     string `json:"emulator"`
	Tenant       string `json:"tenant"`
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
	Name         string `json:"name"`
	MissingID    string `json:"missingId"`
}

// servePage serves the page for cfg on a loopback port of its own (so on another origin than the
// emulator's) and returns its URL.
func servePage(t *testing.T, cfg pageConfig) string {
	t.Helper()
	var page bytes.Buffer
	if err := pageTemplate.Execute(&page, cfg); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(page.Bytes())
	})
	srv := httptest.NewServer(mux) // 127.0.0.1, a free port
	t.Cleanup(srv.Close)
	return srv.URL + "/"
}

// pageResult is what the page's script reports. A fetch that fails (a TypeError when the browser
// blocks it) is in Failed.
type pageResult struct {
	Token struct {
		Status    int
		TokenType string
		Parts     int // of the access token: 3 for a JWT
		Failed    *jsError
	}
	Unauthorized struct {
		Status          int
		WWWAuthenticate string
		Failed          *jsError
	}
	Create struct {
		Status   int
		EntityID string
	}
	Read struct {
		Status    int
		ETag      string
		BodyETag  string
		Name      string
		AccountID string
	}
	Update struct{ Status int }
	Reread struct {
		Status int
		ETag   string
		Name   string
	}
	Missing struct {
		Status  int
		Code    string
		Message string
	}
	Step   string   // the step the script was at when it stopped
	Failed *jsError // an exception that stopped the script after the token
}

type jsError struct{ Name, Message string }

func (e *jsError) String() string { return e.Name + ": " + e.Message }

// runPage loads url in a new tab, waits for the script's result in <pre id="out"> and returns it
// with the browser's console messages. When done is not nil, it also waits (a little) until done
// accepts the console messages.
func runPage(t *testing.T, browserCtx context.Context, url string, done func([]string) bool) (pageResult, []string) {
	t.Helper()
	tab, closeTab := chromedp.NewContext(browserCtx)
	defer closeTab()
	ctx, cancel := context.WithTimeout(tab, pageTimeout)
	defer cancel()

	var (
		mu      sync.Mutex
		console []string
	)
	messages := chromedp.Console(ctx) // subscribes now, before the page loads
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			mu.Lock()
			console = append(console, fmt.Sprintf("%s: %s", m.Type, m.Text))
			mu.Unlock()
		}
	}()
	snapshot := func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), console...)
	}
	defer func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", strings.Join(snapshot(), "\n"))
		}
	}()

	start := time.Now()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("load %s: %v", url, err)
	}
	out, err := chromedp.Run(ctx, chromedp.Poll[string](
		`document.getElementById("out").dataset.done === "true" && document.getElementById("out").textContent`,
		chromedp.WithPollingMutation(), chromedp.WithPollingTimeout(pageTimeout)))
	if err != nil {
		t.Fatalf("no result from the page within %s: %v", pageTimeout, err)
	}
	t.Logf("the page's script finished in %s: %s", time.Since(start).Round(time.Millisecond), out)
	var res pageResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("the page's result %q: %v", out, err)
	}
	if done != nil {
		for deadline := time.Now().Add(consoleTimeout); !done(snapshot()) && time.Now().Before(deadline); {
			time.Sleep(20 * time.Millisecond)
		}
	}
	return res, snapshot()
}

// blocked returns the console message in which Chromium says that it blocked a fetch of url by
// CORS ("Access to fetch at '<url>' from origin '<page>' has been blocked by CORS policy: ..."), or "".
func blocked(msgs []string, url string) string {
	for _, m := range msgs {
		if strings.Contains(m, "'"+url+"'") && strings.Contains(m, "blocked by CORS policy") {
			return m
		}
	}
	return ""
}

// pageTemplate is the page. Its script runs the steps of a single-page app in order and writes
// what it could read as JSON into <pre id="out">, marking it done (a failure included).
var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html>
<head><meta charset="utf-8"><title>dynlocal CORS check</title></head>
<body>
<pre id="out"></pre>
<script>
"use strict";
const cfg = {{.}};
const api = cfg.emulator + "/api/data/v9.2/";
const odata = {"Accept": "application/json", "OData-MaxVersion": "4.0", "OData-Version": "4.0"};
const out = {step: ""};
const failure = (e) => ({name: (e && e.name) || "", message: String((e && e.message) || e)});

async function main() {
	// A client-credentials token: a form POST is a simple request, sent without a preflight.
	out.step = "token";
	let token = "";
	try {
		const r = await fetch(cfg.emulator + "/" + cfg.tenant + "/oauth2/v2.0/token", {
			method: "POST",
			body: new URLSearchParams({
				grant_type: "client_credentials", client_id: cfg.clientId,
				client_secret: cfg.clientSecret, scope: cfg.emulator + "/.default",
			}),
		});
		const body = await r.json();
		token = body.access_token || "";
		out.token = {status: r.status, tokenType: body.token_type, parts: token.split(".").length};
	} catch (e) {
		out.token = {failed: failure(e)};
	}

	// Authorization forces a preflight; the 401 and its WWW-Authenticate must be readable.
	try {
		const r = await fetch(api + "WhoAmI", {headers: {...odata, "Authorization": "Bearer not-a-token"}});
		out.unauthorized = {status: r.status, wwwAuthenticate: r.headers.get("WWW-Authenticate") || ""};
	} catch (e) {
		out.unauthorized = {failed: failure(e)};
	}
	if (!token) {
		return;
	}
	const auth = {...odata, "Authorization": "Bearer " + token};

	out.step = "create";
	let r = await fetch(api + "accounts", {
		method: "POST",
		headers: {...auth, "Content-Type": "application/json; charset=utf-8"},
		body: JSON.stringify({name: cfg.name}),
	});
	const entityId = r.headers.get("OData-EntityId") || "";
	out.create = {status: r.status, entityId: entityId};

	out.step = "read";
	r = await fetch(entityId + "?$select=name,accountid", {
		cache: "no-store",
		headers: {...auth, "If-None-Match": "null", "Prefer": 'odata.include-annotations="*"'},
	});
	let body = await r.json();
	const etag = r.headers.get("ETag") || "";
	out.read = {status: r.status, etag: etag, bodyETag: body["@odata.etag"], name: body.name, accountId: body.accountid};

	out.step = "update";
	r = await fetch(entityId, {
		method: "PATCH",
		headers: {...auth, "Content-Type": "application/json; charset=utf-8", "If-Match": etag},
		body: JSON.stringify({name: cfg.name + " (renamed)"}),
	});
	out.update = {status: r.status};

	out.step = "reread";
	r = await fetch(entityId + "?$select=name", {cache: "no-store", headers: auth});
	body = await r.json();
	out.reread = {status: r.status, etag: r.headers.get("ETag") || "", name: body.name};

	out.step = "missing";
	r = await fetch(api + "accounts(" + cfg.missingId + ")", {cache: "no-store", headers: auth});
	body = await r.json();
	out.missing = {status: r.status, code: (body.error && body.error.code) || "", message: (body.error && body.error.message) || ""};
	out.step = "done";
}

main().catch((e) => { out.failed = failure(e); }).finally(() => {
	const pre = document.getElementById("out");
	pre.textContent = JSON.stringify(out);
	pre.dataset.done = "true";
	document.title = "done";
});
</script>
</body>
</html>
`))
