package contracts

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/emulator"
)

// TestSuites runs every committed suite against an in-process emulator.
func TestSuites(t *testing.T) {
	t.Parallel()
	target := startEmulator(t, nil)
	suites, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	onDisk, err := filepath.Glob("suites/*.json")
	if err != nil || len(onDisk) != len(suites) || len(suites) == 0 {
		t.Fatalf("built-in suites %d, files %v (%v)", len(suites), onDisk, err)
	}
	for _, s := range suites {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			rep, err := Run(context.Background(), s, target, Parallel(8))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Failed() > 0 {
				var buf bytes.Buffer
				rep.WriteText(&buf)
				t.Errorf("%d of %d cases failed:\n%s", rep.Failed(), len(rep.Cases), buf.String())
			}
		})
	}
}

// TestSuitesInAnEnvironment runs every suite against an environment of the emulator
// (/env/{name}/): each answer's URLs, the token audience, $batch targets, webhooks and the metadata
// writes must work under the prefix as they do at the root.
func TestSuitesInAnEnvironment(t *testing.T) {
	t.Parallel()
	root := startEmulator(t, nil)
	resp, err := root.HTTPClient.Post(root.URL+"/_emulator/environments", "application/json", strings.NewReader(`{"name":"contracts"}`))
	if err != nil {
		t.Fatal(err)
	}
	var env struct{ URL, TokenURL string }
	err = json.NewDecoder(resp.Body).Decode(&env)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusCreated || env.URL != root.URL+"/env/contracts" {
		t.Fatalf("create environment: %d %+v %v", resp.StatusCode, env, err)
	}
	target := root
	target.URL, target.TokenURL = env.URL, env.TokenURL
	suites, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range suites {
		t.Run(s.Name, func(t *testing.T) {
			t.Parallel()
			rep, err := Run(context.Background(), s, target, Parallel(8))
			if err != nil {
				t.Fatal(err)
			}
			if rep.Failed() > 0 {
				var buf bytes.Buffer
				rep.WriteText(&buf)
				t.Errorf("%d of %d cases failed:\n%s", rep.Failed(), len(rep.Cases), buf.String())
			}
		})
	}
}

// TestSuitesCleanUp checks that the committed suites leave no rows, columns or tables behind: every
// case deletes what it created.
func TestSuitesCleanUp(t *testing.T) {
	t.Parallel()
	target := startEmulator(t, nil)
	c, err := client.New(target.URL, client.WithHTTPClient(target.HTTPClient),
		client.WithClientCredentials(target.TokenURL, target.ClientID, target.ClientSecret))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	sets := []string{"accounts", "contacts", "tasks", "leads"}
	counts := func() map[string]string {
		out := map[string]string{}
		for _, set := range sets {
			r, err := c.Do(ctx, &client.RawRequest{Method: "GET", Path: "/api/data/v9.2/" + set + "/$count", ResponseType: client.ResponseText})
			if err != nil {
				t.Fatal(err)
			}
			out[set] = strings.TrimSpace(r.Text)
		}
		// The metadata suites create columns and a table: none may be left either.
		tables, _, err := c.ListEntities(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		out["tables"] = fmt.Sprint(tables.TotalCount)
		for _, table := range []string{"account", "lead"} {
			cols, _, err := c.QueryAttributes(ctx, table, &client.QueryAttributesOptions{Select: []string{"LogicalName"}, Filter: "IsCustomAttribute eq true"})
			if err != nil {
				t.Fatal(err)
			}
			out[table+" custom columns"] = fmt.Sprint(len(cols))
		}
		return out
	}
	before := counts()
	suites, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range suites {
		if _, err := Run(ctx, s, target); err != nil {
			t.Fatal(err)
		}
	}
	if after := counts(); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("rows or definitions left behind: before %v, after %v", before, after)
	}
}

// TestRecordReproducesSuites is the drift check: recording every committed suite against the
// emulator must give the committed file byte for byte.
func TestRecordReproducesSuites(t *testing.T) {
	t.Parallel()
	target := startEmulator(t, nil)
	files, err := filepath.Glob("suites/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			want, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			s, err := Load(f)
			if err != nil {
				t.Fatal(err)
			}
			rec, err := Record(context.Background(), s, target, Parallel(8))
			if err != nil {
				t.Fatal(err)
			}
			got, err := Format(rec)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("recording %s against the emulator differs from the committed file at %s\n"+
					"(re-record with: go run ./cmd/contract record --write %s, then review the diff)",
					f, firstDifference(want, got), f)
			}
		})
	}
}

// firstDifference names the first line where two files differ, with both versions.
func firstDifference(want, got []byte) string {
	wl := strings.Split(string(want), "\n")
	gl := strings.Split(string(got), "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\n  committed: %s\n  recorded:  %s", i+1, w, g)
		}
	}
	return "(no line differs)"
}

// TestRecordKeepsSecretsOut records every suite, against an emulator that even echoes the bearer
// token and the client secret into an answer, and checks that no secret reaches the output.
func TestRecordKeepsSecretsOut(t *testing.T) {
	t.Parallel()
	echo := rewrite(
		func(r *http.Request) bool { return strings.HasSuffix(r.URL.Path, "/WhoAmI()") },
		func(r *http.Request, status int, body []byte) (int, []byte) {
			body = setJSONField(t, body, "Echo", r.Header.Get("Authorization"))
			return status, setJSONField(t, body, "Secret", emulator.DefaultClientSecret)
		},
	)
	target := startEmulator(t, echo)
	sniff := &authSniffer{base: target.HTTPClient.Transport}
	target.HTTPClient = &http.Client{Transport: sniff}

	suites, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	var all bytes.Buffer
	for _, s := range suites {
		rec, err := Record(context.Background(), s, target)
		if err != nil {
			t.Fatal(err)
		}
		b, err := Format(rec)
		if err != nil {
			t.Fatal(err)
		}
		all.Write(b)
	}
	secrets := append([]string{target.ClientSecret}, sniff.tokens()...)
	if len(secrets) < 2 {
		t.Fatal("no bearer token was sent")
	}
	for _, sec := range secrets {
		if sec != "not-a-valid-token" && bytes.Contains(all.Bytes(), []byte(sec)) {
			t.Errorf("recorded suites contain the secret %.12s...", sec)
		}
	}
	if !bytes.Contains(all.Bytes(), []byte(`"Echo": "Bearer {{redacted}}"`)) || !bytes.Contains(all.Bytes(), []byte(`"Secret": "{{redacted}}"`)) {
		t.Errorf("echoed secrets were not redacted:\n%s", all.String())
	}

	// A static token is a secret too.
	static := startEmulator(t, nil)
	staticTok := fetchToken(t, static)
	rec, err := Record(context.Background(), suiteWith(t, "whoami"), Target{URL: static.URL, Token: staticTok, HTTPClient: static.HTTPClient})
	if err != nil {
		t.Fatal(err)
	}
	b, err := Format(rec)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(staticTok)) {
		t.Error("the recorded suite contains the static token")
	}

	// An input that spells out a secret is refused, not written.
	s := mustParse(t, `{"name":"leaky","cases":[{"name":"c","steps":[
		{"action":"Do","input":{"method":"GET","path":"/api/data/v9.2/WhoAmI","headers":{"X-Secret":"`+emulator.DefaultClientSecret+`"}},"expect":{}}]}]}`)
	if _, err := Record(context.Background(), s, static); err == nil || !strings.Contains(err.Error(), "secret") {
		t.Errorf("recording an input with the client secret: err = %v", err)
	}
}

// fetchToken gets an access token from the emulator's token endpoint.
func fetchToken(t *testing.T, target Target) string {
	t.Helper()
	sniff := &authSniffer{base: target.HTTPClient.Transport}
	c, err := client.New(target.URL, client.WithHTTPClient(&http.Client{Transport: sniff}),
		client.WithClientCredentials(target.TokenURL, target.ClientID, target.ClientSecret))
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := c.WhoAmI(context.Background()); err != nil {
		t.Fatal(err)
	}
	return sniff.tokens()[0]
}

// TestWrongAnswerIsReported makes the emulator answer one request wrongly and checks that the
// harness fails with a diff naming the case, the step, the body path and both values.
func TestWrongAnswerIsReported(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		suite *Suite
		match func(r *http.Request) bool
		edit  func(t *testing.T, status int, body []byte) (int, []byte)
		want  Failure
		line  string
	}{
		{
			name:  "flipped field",
			suite: suiteWith(t, "records", "create without representation"),
			match: func(r *http.Request) bool {
				return r.Method == http.MethodGet && strings.Contains(r.URL.RawQuery, "numberofemployees")
			},
			edit: func(t *testing.T, status int, body []byte) (int, []byte) {
				return status, setJSONField(t, body, "name", "Tampered")
			},
			want: Failure{Step: 2, Action: "GetRecord", Difference: Difference{Path: "body.name", Want: `"Contract Create"`, Got: `"Tampered"`}},
			line: `step 2 (GetRecord): body.name: want "Contract Create", got "Tampered"`,
		},
		{
			name:  "flipped status",
			suite: suiteWith(t, "records", "retrieve a missing row"),
			match: func(r *http.Request) bool {
				return r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/accounts(")
			},
			edit: func(t *testing.T, status int, body []byte) (int, []byte) {
				return http.StatusBadRequest, body
			},
			want: Failure{Step: 1, Action: "GetRecord", Difference: Difference{Path: "status", Want: "404", Got: "400"}},
			line: "step 1 (GetRecord): status: want 404, got 400",
		},
		{
			name:  "flipped error code",
			suite: suiteWith(t, "upsert", "If-None-Match * refuses an existing row"),
			match: func(r *http.Request) bool { return r.Method == http.MethodPatch },
			edit: func(t *testing.T, status int, body []byte) (int, []byte) {
				return status, setJSONField(t, body, "error.code", "0x80040216")
			},
			want: Failure{Step: 2, Action: "UpsertRecord", Difference: Difference{Path: "body.error.code", Want: `"0x80040237"`, Got: `"0x80040216"`}},
			line: `step 2 (UpsertRecord): body.error.code: want "0x80040237", got "0x80040216"`,
		},
		{
			name:  "nulled field",
			suite: suiteWith(t, "records", "create with representation"),
			match: func(r *http.Request) bool { return r.Method == http.MethodPost },
			edit: func(t *testing.T, status int, body []byte) (int, []byte) {
				return http.StatusCreated, setJSONField(t, body, "fullname", nil)
			},
			want: Failure{Step: 1, Action: "CreateRecord", Difference: Difference{Path: "body.fullname", Want: `"Ada Lovelace"`, Got: "null"}},
			line: `step 1 (CreateRecord): body.fullname: want "Ada Lovelace", got null`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			edit := func(_ *http.Request, status int, body []byte) (int, []byte) { return tt.edit(t, status, body) }
			target := startEmulator(t, rewrite(tt.match, edit))
			rep, err := Run(context.Background(), tt.suite, target)
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.Cases) != 1 || rep.Failed() != 1 {
				t.Fatalf("want one failing case, got %+v", rep.Cases)
			}
			c := rep.Cases[0]
			if len(c.Failures) != 1 || c.Failures[0] != tt.want {
				t.Fatalf("failures = %+v, want [%+v]", c.Failures, tt.want)
			}
			var buf bytes.Buffer
			if err := rep.WriteText(&buf); err != nil {
				t.Fatal(err)
			}
			head := "FAIL " + tt.suite.Name + "/" + c.Name + " ("
			if !strings.HasPrefix(buf.String(), head) || !strings.Contains(buf.String(), "\n    "+tt.line+"\n") {
				t.Errorf("report:\n%s\nwant a line starting %q and the failure %q", buf.String(), head, tt.line)
			}
		})
	}
}

// TestUnusableTargetFailsFast checks that a target that is down, silent or refuses the credentials
// ends the run within seconds with a message that says which.
func TestUnusableTargetFailsFast(t *testing.T) {
	t.Parallel()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedURL := "http://" + closed.Addr().String()
	closed.Close()

	silent, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { silent.Close() })
	go func() {
		for {
			conn, err := silent.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { conn.Close() }) // accept, then never answer
		}
	}()
	silentURL := "http://" + silent.Addr().String()

	emu := startEmulator(t, nil)
	badSecret := emu
	badSecret.ClientSecret = "wrong-secret"

	tests := []struct {
		name   string
		target Target
		opts   []Option
		want   string
	}{
		{"closed port", Target{URL: closedURL, Token: "x"}, nil, "cannot reach target " + closedURL},
		{"closed token endpoint", Target{URL: closedURL, TokenURL: closedURL + "/t/oauth2/v2.0/token", ClientID: "c", ClientSecret: "s"}, nil, "cannot get an access token from " + closedURL},
		{"silent server", Target{URL: silentURL, Token: "x"}, []Option{ProbeTimeout(300 * time.Millisecond)}, "no answer in time"},
		{"bad client secret", badSecret, nil, "refused the credentials"},
		{"bad static token", Target{URL: emu.URL, Token: "not-a-token", HTTPClient: emu.HTTPClient}, nil, "refused the credentials"},
		{"no credentials", Target{URL: emu.URL}, nil, "no credentials"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rep, err := Run(context.Background(), suiteWith(t, "whoami"), tt.target, tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to say %q (report %+v)", err, tt.want, rep)
			}
		})
	}
}

// TestLive runs every suite against a live tenant when one is configured.
func TestLive(t *testing.T) {
	target := Target{
		URL:          os.Getenv("DYNLOCAL_LIVE_URL"),
		TokenURL:     os.Getenv("DYNLOCAL_TOKEN_URL"),
		ClientID:     os.Getenv("DYNLOCAL_CLIENT_ID"),
		ClientSecret: os.Getenv("DYNLOCAL_CLIENT_SECRET"),
		Token:        os.Getenv("DYNLOCAL_TOKEN"),
	}
	hasCreds := target.Token != "" || (target.TokenURL != "" && target.ClientID != "" && target.ClientSecret != "")
	if target.URL == "" || !hasCreds {
		t.Skip("no live tenant: set DYNLOCAL_LIVE_URL and either DYNLOCAL_TOKEN or DYNLOCAL_TOKEN_URL, DYNLOCAL_CLIENT_ID and DYNLOCAL_CLIENT_SECRET")
	}
	suites, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range suites {
		t.Run(s.Name, func(t *testing.T) {
			rep, err := Run(context.Background(), s, target)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			rep.WriteText(&buf)
			if rep.Failed() > 0 {
				t.Errorf("%d of %d cases failed against %s:\n%s", rep.Failed(), len(rep.Cases), target.URL, buf.String())
			} else {
				t.Log(buf.String())
			}
		})
	}
}

// TestCleanupAfterFailure checks that a case deletes what it created, newest first, when a later
// step fails, and that cleanup problems are reported.
func TestCleanupAfterFailure(t *testing.T) {
	t.Parallel()
	var deletes []string
	var mu sync.Mutex
	logDeletes := func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodDelete {
				mu.Lock()
				deletes = append(deletes, r.URL.Path[strings.LastIndexByte(r.URL.Path, '/')+1:])
				mu.Unlock()
			}
			next.ServeHTTP(w, r)
		})
	}
	target := startEmulator(t, logDeletes)
	s := mustParse(t, `{"name":"failing","cases":[{"name":"c","steps":[
		{"action":"CreateRecord","input":{"entitySet":"contacts","data":{"lastname":"First"}},"expect":{"status":204}},
		{"action":"UpsertRecord","input":{"entitySet":"accounts","key":"{{newguid second}}","data":{"name":"Second"}},"expect":{"status":204}},
		{"action":"CreateRecord","input":{"entitySet":"accounts","data":{"name":"Third"},"returnRepresentation":true},"expect":{"status":201}},
		{"action":"WhoAmI","expect":{"status":418}},
		{"action":"WhoAmI","expect":{"status":200}}]}]}`)
	rep, err := Run(context.Background(), s, target)
	if err != nil {
		t.Fatal(err)
	}
	c := rep.Cases[0]
	if len(c.Failures) != 1 || c.Failures[0].Step != 4 {
		t.Fatalf("failures = %+v, want one at step 4 (and step 5 not run)", c.Failures)
	}
	if len(deletes) != 3 || !strings.HasPrefix(deletes[0], "accounts(") || !strings.HasPrefix(deletes[1], "accounts(") || !strings.HasPrefix(deletes[2], "contacts(") {
		t.Errorf("cleanup deleted %v, want the two accounts (newest first), then the contact", deletes)
	}
}
