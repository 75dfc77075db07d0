package emulator_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/emulator"
)

// addFault posts a fault rule and returns its id.
func addFault(t *testing.T, e *env, rule string) int64 {
	t.Helper()
	resp, err := testClient.Post(e.url+"/_emulator/faults", "application/json", strings.NewReader(rule))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got emulator.FaultRule
	json.NewDecoder(resp.Body).Decode(&got)
	if resp.StatusCode != 201 || got.ID == 0 {
		t.Fatalf("POST /_emulator/faults %s: %d %+v", rule, resp.StatusCode, got)
	}
	return got.ID
}

func devClient(t *testing.T, e *env, opts ...client.Option) *client.Client {
	t.Helper()
	opts = append([]client.Option{client.WithClientCredentials(e.url+"/"+emulator.DefaultTenantID+"/oauth2/v2.0/token",
		emulator.DefaultClientID, emulator.DefaultClientSecret)}, opts...)
	c, err := client.New(e.url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// A rule answers the next two creates with 503 and a Dataverse error, then goes; the journal names
// it; a client that retries server errors recovers.
func TestFaultOnTheNextCreates(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := addFault(t, e, `{"match": {"method": "POST", "entitySet": "accounts"}, "response": {"status": 503}, "times": 2}`)
	for range 2 {
		code, msg := e.do("POST", "accounts", map[string]any{"name": "x"}).expect(t, 503).Error(t)
		if code != "0x80040216" || !strings.Contains(msg, "fault injected by dynlocal") {
			t.Errorf("503 body: %s %s", code, msg)
		}
	}
	e.do("POST", "accounts", map[string]any{"name": "x"}).expect(t, 204)
	e.do("GET", "accounts?$top=1", nil).expect(t, 200)
	resp, _ := testClient.Get(e.url + "/_emulator/faults")
	var list struct{ Value []emulator.FaultRule }
	json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if len(list.Value) != 0 {
		t.Errorf("a used-up rule is still listed: %+v", list.Value)
	}
	faulted := journal(t, e, "?status=503")
	if len(faulted) != 2 || faulted[0].Fault != id || !strings.Contains(faulted[0].Reason, "fault rule") {
		t.Errorf("journal: %+v", faulted)
	}

	addFault(t, e, `{"match": {"method": "POST", "entitySet": "accounts"}, "response": {"status": 503}, "times": 1}`)
	c := devClient(t, e, client.WithRetry(client.RetryPolicy{MaxRetries: 2, RetryOn: client.RetryServerErrors, RetryWrites: true}))
	if _, _, err := c.CreateRecord(context.Background(), "accounts", client.Record{"name": "after a 503"}, nil); err != nil {
		t.Errorf("the client did not recover from one 503: %v", err)
	}
}

// A 429 rule sends Retry-After, and the client's throttling retries honour it.
func TestFaultThrottles(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	addFault(t, e, `{"match": {"operation": "WhoAmI"}, "response": {"status": 429, "headers": {"Retry-After": "0"}}, "times": 1}`)
	r := e.do("GET", "WhoAmI", nil).expect(t, 429)
	if code, _ := r.Error(t); code != "0x80072322" || r.Header.Get("Retry-After") != "0" {
		t.Errorf("429: code %s, Retry-After %q", code, r.Header.Get("Retry-After"))
	}
	addFault(t, e, `{"match": {"operation": "WhoAmI"}, "response": {"status": 429, "headers": {"Retry-After": "0"}}, "times": 2}`)
	if _, _, err := devClient(t, e).WhoAmI(context.Background()); err != nil {
		t.Errorf("the client did not get past two 429s: %v", err)
	}
}

// Latency delays a request that is then served; reset drops the connection; a rule for $batch
// parts acts inside a batch only; a probability acts on a share of the matches, the same share for
// the same seed.
func TestFaultKinds(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	slow := addFault(t, e, `{"match": {"method": "GET", "query": "fetchXml="}, "latencyMs": 20}`)
	e.do("GET", "contacts?$top=1", nil).expect(t, 200)
	e.do("GET", "contacts?fetchXml="+url.QueryEscape(`<fetch top="1"><entity name="contact"><attribute name="fullname"/></entity></fetch>`), nil).expect(t, 200)
	if got := journal(t, e, "?path=/api/data/v9.2/contacts"); len(got) != 2 || got[0].Fault != slow || got[0].Status != 200 || got[1].Fault != 0 {
		t.Errorf("latency rule on FetchXML queries: %+v", got)
	}

	addFault(t, e, `{"match": {"entitySet": "leads"}, "action": "reset", "times": 1}`)
	req, _ := http.NewRequest("GET", e.api+"leads", nil)
	req.Header.Set("Authorization", "Bearer "+e.token)
	// A fresh connection: Go retries an idempotent request whose reused connection drops, and the
	// retry would find the rule used up.
	fresh := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	if resp, err := fresh.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("reset: got an answer, %d", resp.StatusCode)
	}

	addFault(t, e, `{"match": {"operation": "WhoAmI", "batchPart": true}, "response": {"status": 500}}`)
	e.do("GET", "WhoAmI", nil).expect(t, 200)
	body := "--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nGET WhoAmI HTTP/1.1\r\n\r\n\r\n--b--\r\n"
	breq, _ := http.NewRequest("POST", e.api+"$batch", strings.NewReader(body))
	breq.Header.Set("Authorization", "Bearer "+e.token)
	breq.Header.Set("Content-Type", "multipart/mixed; boundary=b")
	resp, err := testClient.Do(breq)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	// A failed part stops the batch, which Dataverse answers 400 with the failure inside.
	if !strings.Contains(out.String(), "HTTP/1.1 500") || !strings.Contains(out.String(), "fault injected") {
		t.Errorf("batch part fault: %d\n%s", resp.StatusCode, out.String())
	}

	pattern := func() string {
		e2 := newEnv(t)
		addFault(t, e2, `{"match": {"operation": "WhoAmI"}, "response": {"status": 503}, "probability": 0.5, "seed": 7}`)
		var b strings.Builder
		for range 24 {
			if e2.do("GET", "WhoAmI", nil).Status == 503 {
				b.WriteByte('x')
			} else {
				b.WriteByte('.')
			}
		}
		return b.String()
	}
	p1, p2 := pattern(), pattern()
	if p1 != p2 || !strings.Contains(p1, "x") || !strings.Contains(p1, ".") {
		t.Errorf("probability 0.5, seed 7: %s then %s", p1, p2)
	}

	for _, bad := range []string{`{"match": {}}`, `{"response": {"status": 200}}`, `{"action": "explode"}`, `{"latencyMs": 5, "nope": 1}`} {
		resp, err := testClient.Post(e.url+"/_emulator/faults", "application/json", strings.NewReader(bad))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 400 {
			t.Errorf("%s: %d", bad, resp.StatusCode)
		}
	}
	req, _ = http.NewRequest("DELETE", e.url+"/_emulator/faults", nil)
	if resp, err := testClient.Do(req); err != nil || resp.StatusCode != 204 {
		t.Fatalf("DELETE: %v %v", resp, err)
	}
	e.do("GET", "WhoAmI", nil).expect(t, 200)
}
