package contracts

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/emulator"
)

const (
	guidA = "8f2a5b1c-0d3e-4f60-9a7b-1c2d3e4f5a6b"
	guidB = "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9"
)

func testNormalizer() *normalizer {
	vs := newVars(nil)
	vs.set(varOrg, "http://h")
	vs.set(varAPI, "http://h/api/data/v9.2/")
	vs.set("account.id", guidA)
	vs.set("name", "Contoso")
	vs.set("acct", "kabcdefghi")
	vs.generated["acct"] = true
	env := recordEnv{org: "http://h", api: "http://h/api/data/v9.2/", secrets: []string{"s3cr3t-value"}}
	return env.normalizer(vs)
}

func TestNormString(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{guidA, "{{account.id}}"},
		{strings.ToUpper(guidA), "{{account.id}}"},
		{guidB, "{{guid}}"},
		{`W/"123"`, "{{etag}}"},
		{"2026-03-14T15:09:26Z", "{{datetime}}"},
		{"2026-03-14T15:09:26.123+01:00", "{{datetime}}"},
		{"1815-12-10", "1815-12-10"},
		{"Contoso", "Contoso"}, // captured text is not substituted
		{"http://h/api/data/v9.2/accounts(" + guidA + ")", "{{api}}accounts({{account.id}})"},
		{"Bearer authorization_uri=http://h/" + guidB + "/oauth2/authorize, resource_id=http://h/", "Bearer authorization_uri={{org}}/{{guid}}/oauth2/authorize, resource_id={{org}}/"},
		{"kabcdefghi", "{{acct}}"},
		{"accountnumber='kabcdefghi'", "accountnumber='{{acct}}'"},
		{"token s3cr3t-value here", "token {{redacted}} here"},
		{"s3cr3t-value", "{{redacted}}"},
		{"{{literal}}", "{{open}}literal}}"},
		{"Entity 'account' With Id = " + guidB + " Does Not Exist", "Entity 'account' With Id = {{guid}} Does Not Exist"},
		{"changed at 2026-03-14T15:09:26Z", "changed at {{datetime}}"},
	}
	n := testNormalizer()
	for _, tt := range tests {
		if got := n.normString(tt.in, nil); got != tt.want {
			t.Errorf("normString(%q) = %q, want %q", tt.in, got, tt.want)
		}
		// What recording writes must match what it saw.
		if !n.matches(n.normString(tt.in, nil), tt.in) {
			t.Errorf("%q does not match its own recording %q", tt.in, n.normString(tt.in, nil))
		}
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	url := "http://h/api/data/v9.2/accounts(" + guidA + ")"
	tests := []struct {
		name, existing, observed, want string
	}{
		{"keeps matchers, updates literals, adds and drops keys",
			`{"a":"{{any}}","b":"x","gone":1,"abs":"{{absent}}"}`, `{"a":5,"b":"y","new":"z"}`,
			`{"a":"{{any}}","abs":"{{absent}}","b":"y","new":"z"}`},
		{"keeps matchers that accept null", `{"a":"{{any}}","c":"{{capture c}}"}`, `{"a":null,"c":null}`, `{"a":"{{any}}","c":"{{capture c}}"}`},
		{"replaces matchers that refuse null", `{"s":"{{string}}","g":"{{guid}}"}`, `{"s":null,"g":null}`, `{"g":null,"s":null}`},
		{"keeps an equal literal", `{"id":"` + guidB + `"}`, `{"id":"` + guidB + `"}`, `{"id":"` + guidB + `"}`},
		{"tightens a generic guid", `{"id":"{{guid}}"}`, `{"id":"` + guidA + `"}`, `{"id":"{{account.id}}"}`},
		{"tightens a generic pattern", `{"u":"{{api}}accounts({{guid}})"}`, `{"u":"` + url + `"}`, `{"u":"{{api}}accounts({{account.id}})"}`},
		{"keeps a capture", `{"u":"{{api}}accounts({{capture x}})"}`, `{"u":"` + url + `"}`, `{"u":"{{api}}accounts({{capture x}})"}`},
		{"keeps a loose pattern", `{"m":"Unauthorized {{any}}"}`, `{"m":"Unauthorized (because)"}`, `{"m":"Unauthorized {{any}}"}`},
		{"replaces a broken matcher", `{"n":"{{string}}"}`, `{"n":3}`, `{"n":3}`},
		{"keeps unordered", `{"l":{"$unordered":[1,2]}}`, `{"l":[2,1]}`, `{"l":{"$unordered":[1,2]}}`},
		{"replaces broken unordered", `{"l":{"$unordered":[1,2]}}`, `{"l":[3]}`, `{"l":[3]}`},
		{"keeps contains", `{"l":{"$contains":[2]}}`, `{"l":[1,2,3]}`, `{"l":{"$contains":[2]}}`},
		{"replaces broken contains", `{"l":{"$contains":[4]}}`, `{"l":[1,2]}`, `{"l":[1,2]}`},
		{"keeps approx", `{"v":{"$approx":1,"tolerance":0.1}}`, `{"v":1.05}`, `{"v":{"$approx":1,"tolerance":0.1}}`},
		{"merges arrays of the same length", `{"l":[{"a":"{{any}}"},2]}`, `{"l":[{"a":1,"b":2},3]}`, `{"l":[{"a":"{{any}}","b":2},3]}`},
		{"rewrites arrays of another length", `{"l":[1]}`, `{"l":["` + guidB + `",2]}`, `{"l":["{{guid}}",2]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			n := testNormalizer()
			got := n.merge(mustJSON(t, tt.existing), mustJSON(t, tt.observed), []any{})
			if d := cmp.Diff(mustJSON(t, tt.want), got); d != "" {
				t.Errorf("merge (-want +got):\n%s", d)
			}
		})
	}
}

// TestRecordAutoCapture checks that a GUID the target revealed and a later step spells out becomes a
// capture, that a GUID the suite itself supplied first does not, and that the result is a fixed
// point that replays.
func TestRecordAutoCapture(t *testing.T) {
	t.Parallel()
	target := startEmulator(t, nil)
	ctx := context.Background()
	user := emulator.DefaultAppUserID
	s := mustParse(t, `{"name":"auto","cases":[
		{"name":"revealed","steps":[
			{"action":"WhoAmI","expect":{}},
			{"action":"GetRecord","input":{"entitySet":"systemusers","key":"`+user+`","select":["fullname"]},"expect":{}},
			{"action":"Do","input":{"method":"GET","path":"/api/data/v9.2/systemusers(`+strings.ToUpper(user)+`)/fullname"},"expect":{}}]},
		{"name":"supplied","steps":[
			{"action":"GetRecord","input":{"entitySet":"systemusers","key":"`+user+`","select":["fullname"]},"expect":{}},
			{"action":"GetRecord","input":{"entitySet":"systemusers","key":"`+user+`","select":["fullname"]},"expect":{}}]}]}`)
	rec, err := Record(ctx, s, target)
	if err != nil {
		t.Fatal(err)
	}
	revealed := rec.Cases[0].Steps
	if body := string(revealed[0].Expect.Body); !strings.Contains(body, `"UserId":"{{capture userid}}"`) || !strings.Contains(body, `"BusinessUnitId":"{{guid}}"`) {
		t.Errorf("WhoAmI expectation = %s", body)
	}
	if in := string(revealed[1].Input); !strings.Contains(in, `"key":"{{userid}}"`) {
		t.Errorf("GetRecord input = %s", in)
	}
	if body := string(revealed[1].Expect.Body); !strings.Contains(body, `"systemuserid":"{{userid}}"`) {
		t.Errorf("GetRecord expectation = %s", body)
	}
	if in := string(revealed[2].Input); !strings.Contains(in, `systemusers({{userid}})/fullname`) {
		t.Errorf("Do input = %s", in)
	}
	supplied := rec.Cases[1].Steps
	for i, st := range supplied {
		if !strings.Contains(string(st.Input), user) || strings.Contains(string(st.Expect.Body), "capture") {
			t.Errorf("supplied step %d: input %s, expectation %s", i+1, st.Input, st.Expect.Body)
		}
	}

	first, err := Format(rec)
	if err != nil {
		t.Fatal(err)
	}
	again, err := Record(ctx, mustParse(t, string(first)), target)
	if err != nil {
		t.Fatal(err)
	}
	second, err := Format(again)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(first, second) {
		t.Errorf("recording is not a fixed point at %s", firstDifference(first, second))
	}
	rep, err := Run(ctx, again, target)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Failed() > 0 {
		var buf bytes.Buffer
		rep.WriteText(&buf)
		t.Errorf("the recorded suite does not replay:\n%s", buf.String())
	}
}

// TestRecordRunsPastDifferences checks that recording fixes a wrong expectation instead of stopping
// at it, and that an unresolvable input is an error.
func TestRecordRunsPastDifferences(t *testing.T) {
	t.Parallel()
	target := startEmulator(t, nil)
	s := mustParse(t, `{"name":"fix","cases":[{"name":"c","steps":[
		{"action":"WhoAmI","expect":{"status":500,"body":{"UserId":"{{capture me}}","OrganizationId":"wrong"}}},
		{"action":"GetRecord","input":{"entitySet":"systemusers","key":"{{me}}","select":["systemuserid"]},"expect":{"status":404}}]}]}`)
	rec, err := Record(context.Background(), s, target)
	if err != nil {
		t.Fatal(err)
	}
	steps := rec.Cases[0].Steps
	if steps[0].Expect.Status != 200 || steps[1].Expect.Status != 200 {
		t.Errorf("statuses = %d, %d", steps[0].Expect.Status, steps[1].Expect.Status)
	}
	if body := string(steps[0].Expect.Body); !strings.Contains(body, `"OrganizationId":"{{guid}}"`) || !strings.Contains(body, `"UserId":"{{capture me}}"`) {
		t.Errorf("WhoAmI expectation = %s", body)
	}

	bad := mustParse(t, `{"name":"bad","cases":[{"name":"c","steps":[
		{"action":"GetRecord","input":{"entitySet":"systemusers","key":"{{nobody}}"},"expect":{}}]}]}`)
	if _, err := Record(context.Background(), bad, target); err == nil || !strings.Contains(err.Error(), "{{nobody}} is not set") {
		t.Errorf("err = %v", err)
	}
}

func TestRedactSecrets(t *testing.T) {
	in := map[string]any{"a": "key=supersecret;", "b": []any{"supersecret", "abc", 3.0}, "c": "abc"}
	want := map[string]any{"a": "key={{redacted}};", "b": []any{"{{redacted}}", "abc", 3.0}, "c": "abc"}
	if diff := cmp.Diff(want, RedactSecrets(in, []string{"supersecret", "abc"})); diff != "" {
		t.Errorf("RedactSecrets (-want +got):\n%s", diff)
	}
}
