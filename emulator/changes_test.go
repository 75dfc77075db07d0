package emulator_test

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/emulator"
)

// delta is a change tracking answer, decoded.
type delta struct {
	Context   string           `json:"@odata.context"`
	DeltaLink string           `json:"@odata.deltaLink"`
	NextLink  string           `json:"@odata.nextLink"`
	Value     []map[string]any `json:"value"`
}

// changed and deleted list the ids of the new or updated rows and of the deleted ones.
func (d delta) changed(idName string) []string {
	var out []string
	for _, v := range d.Value {
		if id, ok := v[idName].(string); ok {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out
}

func (d delta) deleted() []string {
	var out []string
	for _, v := range d.Value {
		if c, _ := v["@odata.context"].(string); strings.HasSuffix(c, "/$deletedEntity") {
			if v["reason"] != "deleted" {
				panic("reason " + v["reason"].(string))
			}
			out = append(out, v["id"].(string))
		}
	}
	sort.Strings(out)
	return out
}

func getDelta(t *testing.T, e *env, path string, headers ...string) delta {
	t.Helper()
	r := e.do("GET", path, nil, headers...).expect(t, 200)
	var d delta
	if err := json.Unmarshal(r.Body, &d); err != nil {
		t.Fatal(err)
	}
	return d
}

// sorted returns its arguments sorted.
func sorted(ids ...string) []string {
	sort.Strings(ids)
	if ids == nil {
		return []string{}
	}
	return ids
}

// The sync test: rows created, updated and deleted between three delta calls; each delta returns
// exactly the changes since the previous token, deletes as $deletedEntity, across a restart.
func TestChangeTrackingSync(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	clock := &testClock{now: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)}
	start := func() *env {
		srv, err := emulator.New(context.Background(), emulator.Config{DataDir: dir, Clock: clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(srv.Handler())
		e := &env{t: t, srv: srv, http: hs, url: hs.URL, api: hs.URL + "/api/data/v9.2/", clock: clock}
		e.token = e.clientCredentialsToken(hs.URL + "/.default")
		return e
	}
	e := start()
	stop := func() { e.http.Close(); e.srv.Close() }

	first := e.do("GET", "accounts?$select=name", nil, "Prefer", "odata.track-changes").expect(t, 200)
	if pa := first.Header.Get("Preference-Applied"); pa != "odata.track-changes" {
		t.Errorf("Preference-Applied %q", pa)
	}
	var d0 delta
	if err := json.Unmarshal(first.Body, &d0); err != nil {
		t.Fatal(err)
	}
	if d0.Context != e.api+"$metadata#accounts(name)" || !strings.HasPrefix(d0.DeltaLink, e.api+"accounts?$select=name&$deltatoken=") || len(d0.Value) == 0 {
		t.Fatalf("initial answer: %+v", d0)
	}
	for _, v := range d0.Value {
		if len(v) != 3 || v["name"] == nil || v["accountid"] == nil || v["@odata.etag"] == nil {
			t.Fatalf("initial row %v, want @odata.etag, name and accountid", v)
		}
	}
	existing := d0.changed("accountid")

	// Between the first and second calls: two creates, an update of an existing row, a delete.
	a := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "Delta A"}).expect(t, 204).Header)
	b := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "Delta B"}).expect(t, 204).Header)
	e.do("PATCH", "accounts("+existing[0]+")", map[string]any{"name": "Renamed"}).expect(t, 204)
	e.do("DELETE", "accounts("+existing[1]+")", nil).expect(t, 204)
	// A contact changing is not an account change.
	e.do("POST", "contacts", map[string]any{"lastname": "Not an account"}).expect(t, 204)

	d1 := getDelta(t, e, d0.DeltaLink)
	if want := e.api + "$metadata#accounts(name)/$delta"; d1.Context != want {
		t.Errorf("delta context %q, want %q", d1.Context, want)
	}
	if got, want := d1.changed("accountid"), sorted(a, b, existing[0]); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("first delta changed %v, want %v", got, want)
	}
	if got := d1.deleted(); strings.Join(got, ",") != existing[1] {
		t.Errorf("first delta deleted %v, want %s", got, existing[1])
	}
	for _, v := range d1.Value {
		if v["accountid"] == existing[0] && v["name"] != "Renamed" {
			t.Errorf("updated row %v", v)
		}
	}
	// Deleted entries come after the new and updated rows.
	if last := d1.Value[len(d1.Value)-1]; last["id"] != existing[1] {
		t.Errorf("the deletion is not last: %v", d1.Value)
	}
	if d1.DeltaLink == d0.DeltaLink || d1.DeltaLink == "" {
		t.Fatalf("no new delta link: %q", d1.DeltaLink)
	}
	// The same link again gives the same changes.
	if again := getDelta(t, e, d0.DeltaLink); len(again.Value) != len(d1.Value) {
		t.Errorf("following the first link twice: %d then %d changes", len(d1.Value), len(again.Value))
	}
	if n := e.do("GET", "accounts/$count?"+deltaQuery(t, d0.DeltaLink), nil).expect(t, 200); string(n.Body) != "4" {
		t.Errorf("/$count of the first delta: %s, want 4", n.Body)
	}

	// A restart on the same data directory keeps the token good.
	stop()
	e = start()
	defer func() { e.http.Close(); e.srv.Close() }()
	link2 := e.api + "accounts?" + deltaQuery(t, d1.DeltaLink)
	if d := getDelta(t, e, link2); len(d.Value) != 0 {
		t.Errorf("nothing changed, yet the delta after the restart has %v", d.Value)
	}
	e.do("PATCH", "accounts("+a+")", map[string]any{"name": "Delta A2"}).expect(t, 204)
	e.do("DELETE", "accounts("+b+")", nil).expect(t, 204)
	d2 := getDelta(t, e, link2)
	if got := d2.changed("accountid"); strings.Join(got, ",") != a {
		t.Errorf("second delta changed %v, want %s", got, a)
	}
	if got := d2.deleted(); strings.Join(got, ",") != b {
		t.Errorf("second delta deleted %v, want %s", got, b)
	}
	// The third call, with nothing changed since the second, is empty.
	if d3 := getDelta(t, e, d2.DeltaLink); len(d3.Value) != 0 || d3.DeltaLink == "" {
		t.Errorf("third delta: %+v", d3)
	}
}

// deltaQuery is the query string of a delta link.
func deltaQuery(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return "$deltatoken=" + url.QueryEscape(u.Query().Get("$deltatoken"))
}

// Pages of an initial answer and of a delta: every row once, the delta link on the last page.
func TestChangeTrackingPages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var created []string
	for range 5 {
		created = append(created, idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "Paged"}).expect(t, 204).Header))
	}
	walk := func(path string, prefer string) ([]string, []string, string) {
		var changed, deleted []string
		for pages := 0; path != ""; pages++ {
			if pages > 50 {
				t.Fatal("more than 50 pages")
			}
			d := getDelta(t, e, path, "Prefer", prefer)
			changed = append(changed, d.changed("accountid")...)
			deleted = append(deleted, d.deleted()...)
			if d.NextLink != "" && d.DeltaLink != "" {
				t.Fatalf("a page with both links: %+v", d)
			}
			if d.NextLink == "" {
				return changed, deleted, d.DeltaLink
			}
			if len(d.Value) != 2 {
				t.Errorf("a page of %d, want 2", len(d.Value))
			}
			path = d.NextLink
		}
		return nil, nil, ""
	}
	all, _, link := walk("accounts?$select=name", "odata.track-changes,odata.maxpagesize=2")
	if n, total := len(all), len(getDelta(t, e, "accounts?$select=name").Value); n != total {
		t.Errorf("the pages hold %d rows, the table %d", n, total)
	}
	seen := map[string]bool{}
	for _, id := range all {
		if seen[id] {
			t.Errorf("row %s on two pages", id)
		}
		seen[id] = true
	}
	if link == "" {
		t.Fatal("no delta link on the last page")
	}
	for _, id := range created[:3] {
		e.do("DELETE", "accounts("+id+")", nil).expect(t, 204)
	}
	for _, id := range created[3:] {
		e.do("PATCH", "accounts("+id+")", map[string]any{"name": "Paged again"}).expect(t, 204)
	}
	changed, deleted, _ := walk(link, "odata.maxpagesize=2")
	if strings.Join(sorted(changed...), ",") != strings.Join(sorted(created[3:]...), ",") ||
		strings.Join(sorted(deleted...), ",") != strings.Join(sorted(created[:3]...), ",") {
		t.Errorf("paged delta: changed %v deleted %v", changed, deleted)
	}
}

// What change tracking refuses, with Dataverse's errors.
func TestChangeTrackingErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, opt := range []string{"$filter=name eq 'x'", "$orderby=name", "$top=2", "$expand=primarycontactid"} {
		name, _, _ := strings.Cut(opt, "=")
		e.do("GET", "accounts?$select=name&"+strings.ReplaceAll(opt, " ", "%20"), nil, "Prefer", "odata.track-changes").
			expectError(t, 400, "0x80060888", `The "`+name+`" query parameter isn't supported when Change Tracking is enabled.`)
	}
	e.do("GET", "accountleadscollection", nil, "Prefer", "odata.track-changes").
		expectError(t, 400, "0x80072491", "Entity accountleads isn't enabled for change tracking.")
	for _, bad := range []string{"nonsense", "12!not a date!1", "-1!03/14/2026 15:09:26!1"} {
		if r := e.do("GET", "accounts?$deltatoken="+url.QueryEscape(bad), nil); r.Status != 400 {
			t.Errorf("token %q: %d %s", bad, r.Status, r.Body)
		}
	}
	d := getDelta(t, e, "accounts?$select=name", "Prefer", "odata.track-changes")
	// A token older than the organisation keeps changes (7 days by default) has expired.
	e.clock.Advance(8 * 24 * time.Hour)
	e.token = e.clientCredentialsToken(e.url + "/.default")
	e.do("GET", d.DeltaLink, nil).expectError(t, 400, "0x80044352", "Version stamp associated with the client has expired. Please perform a full sync.")
}

// A restore to a snapshot invalidates the tokens issued after the snapshot, clearly; earlier ones
// stay good.
func TestChangeTrackingAcrossRestore(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	before := getDelta(t, e, "accounts?$select=name", "Prefer", "odata.track-changes").DeltaLink
	e.do("PUT", "/_emulator/snapshots/ct", nil).expect(t, 204)
	e.do("POST", "accounts", map[string]any{"name": "After the snapshot"}).expect(t, 204)
	after := getDelta(t, e, before).DeltaLink
	e.do("POST", "/_emulator/snapshots/ct/restore", nil).expect(t, 204)
	// A write after the restore: versions pass the later token's again.
	x := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "After the restore"}).expect(t, 204).Header)
	r := e.do("GET", after, nil)
	code, msg := r.Error(t)
	if r.Status != 400 || code != "0x80044352" || !strings.Contains(msg, "snapshot") {
		t.Errorf("a token from after the snapshot: %d %s %s", r.Status, code, msg)
	}
	if d := getDelta(t, e, before); strings.Join(d.changed("accountid"), ",") != x {
		t.Errorf("a token from before the snapshot: %v, want only %s", d.changed("accountid"), x)
	}
	e.do("POST", "/_emulator/reset", nil).expect(t, 204)
	if r := e.do("GET", before, nil); r.Status != 400 {
		t.Errorf("a token after a reset: %d %s", r.Status, r.Body)
	}
}
