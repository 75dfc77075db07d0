package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewResponse(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Add("Preference-Applied", `return=representation`)
	h.Add("Preference-Applied", `odata.include-annotations="OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.*", odata.maxpagesize=2`)
	h.Set("OData-EntityId", "https://org/api/data/v9.2/accounts({"+accountID+"})")
	r := newResponse(201, h)
	want := []string{
		"return=representation",
		`odata.include-annotations="OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.*"`,
		"odata.maxpagesize=2",
	}
	if diff := cmp.Diff(want, r.PreferenceApplied); diff != "" {
		t.Errorf("PreferenceApplied (-want +got):\n%s", diff)
	}
	if !r.Applied("Return=Representation") || r.Applied("odata.track-changes") {
		t.Errorf("Applied is wrong for %v", r.PreferenceApplied)
	}
	if r.ID != accountID || r.Count != -1 {
		t.Errorf("ID, Count = %q, %d", r.ID, r.Count)
	}
	if got := (Record{"@odata.etag": `W/"7"`}).ETag(); got != `W/"7"` {
		t.Errorf("Record.ETag = %q", got)
	}
	if got := (Record{}).ETag(); got != "" {
		t.Errorf("Record.ETag of a row without one = %q", got)
	}
}

func TestCreateReportsPreferenceApplied(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 201, `{"name":"x"}`, "Preference-Applied", "return=representation")
	})
	c := newTestClient(t, f)
	_, resp, err := c.CreateRecord(context.Background(), "accounts", Record{"name": "x"}, &CreateOptions{ReturnRepresentation: true})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.Applied("return=representation") {
		t.Errorf("PreferenceApplied = %v", resp.PreferenceApplied)
	}
}

func TestMalformedRecordBody(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{"name":`) })
	c := newTestClient(t, f)
	_, resp, err := c.GetRecord(context.Background(), "accounts", accountID, nil)
	if err == nil || !strings.Contains(err.Error(), "decode response") || resp == nil || resp.StatusCode != 200 {
		t.Fatalf("err = %v, resp = %+v; want a decode error beside the 200 response", err, resp)
	}
}

func TestSleepContext(t *testing.T) {
	t.Parallel()
	if err := sleepContext(context.Background(), 0); err != nil {
		t.Errorf("zero wait: %v", err)
	}
	if err := sleepContext(context.Background(), time.Nanosecond); err != nil {
		t.Errorf("short wait: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := sleepContext(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled wait: %v", err)
	}
}

func TestLongErrorBodyIsShortened(t *testing.T) {
	t.Parallel()
	body := "<html>" + strings.Repeat("é", 300) + "</html>"
	e := newError("GET", "https://org/x", 500, http.Header{}, []byte(body), time.Now())
	if len(e.Message) > 203 || !strings.HasSuffix(e.Message, "...") || !strings.HasPrefix(e.Message, "<html>é") {
		t.Errorf("message = %q (%d bytes)", e.Message, len(e.Message))
	}
}
