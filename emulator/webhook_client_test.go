package emulator_test

import (
	"context"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/client/webhook"
)

// TestWebhookRoundTripToClientReceiver registers a webhook per auth type pointing at the client's
// receiver and checks that a Web API write arrives decoded, authenticated, with its images.
func TestWebhookRoundTripToClientReceiver(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		authType  int
		authValue string
		auth      webhook.Auth
	}{
		{"webhook key", 4, "rt-key", webhook.Auth{Key: "rt-key"}},
		{"http header", 5, `<settings><setting name="x-hook-key" value="rt-header" /></settings>`, webhook.Auth{Headers: map[string]string{"x-hook-key": "rt-header"}}},
		{"query string", 6, `<settings><setting name="sig" value="rt-query" /></settings>`, webhook.Auth{Query: map[string]string{"sig": "rt-query"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t)
			events := make(chan *webhook.Event, 4)
			recv := webhook.NewReceiver(tt.auth, func(ctx context.Context, ev *webhook.Event) error {
				events <- ev
				return nil
			})
			hs := httptest.NewServer(recv)
			defer hs.Close()
			_, step := e.register(t, hs.URL+"/hook", tt.authType, tt.authValue, "Update", "account", 40, 1, nil)
			e.do("POST", "sdkmessageprocessingstepimages", map[string]any{
				"name": "both", "entityalias": "img", "imagetype": 2, "messagepropertyname": "Target",
				"sdkmessageprocessingstepid@odata.bind": "/sdkmessageprocessingsteps(" + step + ")",
			}).expect(t, 204)
			id := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "before", "revenue": 10, "accountcategorycode": 1}).expect(t, 204).Header)
			e.do("PATCH", "accounts("+id+")", map[string]any{"name": "after"}, "If-Match", "*").expect(t, 204)
			var ev *webhook.Event
			select {
			case ev = <-events:
			case <-time.After(10 * time.Second):
				t.Fatal("no event reached the receiver (wrong auth answers 401)")
			}
			if ev.MessageName != "Update" || ev.PrimaryEntityName != "account" || ev.PrimaryEntityID != id || ev.Stage != 40 {
				t.Errorf("event: %+v", ev)
			}
			if ev.Target == nil || ev.Target.Attributes["name"] != "after" {
				t.Errorf("Target: %+v", ev.Target)
			}
			pre, post := ev.PreEntityImages["img"], ev.PostEntityImages["img"]
			if pre == nil || post == nil || pre.Attributes["name"] != "before" || post.Attributes["name"] != "after" {
				t.Fatalf("images: pre %+v post %+v", pre, post)
			}
			if m, ok := post.Attributes["revenue"].(webhook.Money); !ok || m.Value != "10.0000" {
				t.Errorf("money attribute = %#v", post.Attributes["revenue"])
			}
			if o, ok := post.Attributes["accountcategorycode"].(webhook.OptionSetValue); !ok || o.Value != 1 {
				t.Errorf("choice attribute = %#v", post.Attributes["accountcategorycode"])
			}
			if ts, ok := post.Attributes["modifiedon"].(time.Time); !ok || ts.IsZero() {
				t.Errorf("date attribute = %#v", post.Attributes["modifiedon"])
			}
		})
	}
}
