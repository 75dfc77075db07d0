package client

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// fetchAttrs reads the attributes of the root element of a FetchXML text with encoding/xml, so
// that tests check what a real parser makes of the rewritten query.
func fetchAttrs(t *testing.T, text string) map[string]string {
	t.Helper()
	dec := xml.NewDecoder(strings.NewReader(text))
	for {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("FetchXML %q does not parse: %v", text, err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "fetch" {
				t.Fatalf("root element %q, want fetch", se.Name.Local)
			}
			attrs := map[string]string{}
			for _, a := range se.Attr {
				if _, dup := attrs[a.Name.Local]; dup {
					t.Fatalf("attribute %s twice in %q", a.Name.Local, text)
				}
				attrs[a.Name.Local] = a.Value
			}
			// The rest of the document must parse too.
			for {
				if _, err := dec.Token(); err != nil {
					if err.Error() != "EOF" {
						t.Fatalf("FetchXML %q does not parse: %v", text, err)
					}
					return attrs
				}
			}
		}
	}
}

func TestRewriteFetch(t *testing.T) {
	t.Parallel()
	const entity = `<entity name="account"><attribute name="name"/></entity></fetch>`
	const cookie = `<cookie page="1"><accountid last="{A&B}" first="{C}" /></cookie>`
	const escapedCookie = `&lt;cookie page=&quot;1&quot;&gt;&lt;accountid last=&quot;{A&amp;B}&quot; first=&quot;{C}&quot; /&gt;&lt;/cookie&gt;`
	tests := []struct {
		name      string
		src       string
		page      int
		cookie    string
		count     int
		want      string
		wantPage  int
		wantTotal bool
		wantErr   string
	}{
		{
			name: "attributes appended", src: `<fetch mapping="logical">` + entity, page: 2, count: 5,
			want: `<fetch mapping="logical" page="2" count="5">` + entity, wantPage: 2,
		},
		{
			name: "no attributes", src: `<fetch>` + entity, page: 1,
			want: `<fetch page="1">` + entity, wantPage: 1,
		},
		{
			name: "nothing to set leaves the text alone", src: "\n <fetch  version='1.0' page='4'>" + entity,
			want: "\n <fetch  version='1.0' page='4'>" + entity, wantPage: 4,
		},
		{
			name: "xml declaration and leading whitespace",
			src:  "\ufeff  \r\n<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\t<fetch mapping=\"logical\">" + entity, page: 3,
			want: "\ufeff  \r\n<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\t<fetch mapping=\"logical\" page=\"3\">" + entity, wantPage: 3,
		},
		{
			name: "comment and doctype before fetch",
			src:  "<!-- accounts, <fetch> by page -->\n<!DOCTYPE fetch>\n<fetch>" + entity, count: 10,
			want: "<!-- accounts, <fetch> by page -->\n<!DOCTYPE fetch>\n<fetch count=\"10\">" + entity, wantPage: 1,
		},
		{
			name: "existing attributes replaced in place", src: `<fetch page='1' count='50' mapping='logical'>` + entity,
			page: 3, count: 10,
			want: `<fetch page="3" count="10" mapping='logical'>` + entity, wantPage: 3,
		},
		{
			name: "duplicates dropped", src: `<fetch page="1" count="2" page="2">` + entity, page: 3,
			want: `<fetch page="3" count="2">` + entity, wantPage: 3,
		},
		{
			name: "old cookie dropped with a new page and no cookie",
			src:  `<fetch page="2" paging-cookie="` + escapedCookie + `" count="3">` + entity, page: 5,
			want: `<fetch page="5" count="3">` + entity, wantPage: 5,
		},
		{
			name: "cookie XML-escaped", src: `<fetch count="3">` + entity, page: 2, cookie: cookie,
			want: `<fetch count="3" page="2" paging-cookie="` + escapedCookie + `">` + entity, wantPage: 2,
		},
		{
			name: "cookie replaces a cookie", src: `<fetch paging-cookie='&lt;cookie page="7"/&gt;' page='8'>` + entity,
			page: 2, cookie: cookie,
			want: `<fetch paging-cookie="` + escapedCookie + `" page="2">` + entity, wantPage: 2,
		},
		{
			name: "quotes, > and the other quote inside values",
			src:  `<fetch mapping='log"ic>al' version="1'0" >` + entity, count: 7,
			want: `<fetch mapping='log"ic>al' version="1'0" count="7" >` + entity, wantPage: 1,
		},
		{
			name: "attributes over several lines", src: "<fetch\n  version=\"1.0\"\n  page = \"1\"\n>" + entity, page: 2,
			want: "<fetch\n  version=\"1.0\"\n  page=\"2\"\n>" + entity, wantPage: 2,
		},
		{
			name: "self-closing", src: `<fetch/>`, page: 1, want: `<fetch page="1"/>`, wantPage: 1,
		},
		{
			name: "top alone is fine", src: `<fetch top="5">` + entity, want: `<fetch top="5">` + entity, wantPage: 1,
		},
		{
			name: "returntotalrecordcount", src: `<fetch returntotalrecordcount="true">` + entity, page: 1,
			want: `<fetch returntotalrecordcount="true" page="1">` + entity, wantPage: 1, wantTotal: true,
		},
		{name: "top with page", src: `<fetch top="5">` + entity, page: 1, wantErr: "cannot be paged"},
		{name: "top with count", src: `<fetch top="5">` + entity, count: 2, wantErr: "cannot be paged"},
		{name: "top with count in the query", src: `<fetch top="5" count="2">` + entity, wantErr: "cannot be paged"},
		{name: "not fetch", src: `<entity name="account"/>`, wantErr: "want the <fetch> element first"},
		{name: "fetchx", src: `<fetchx>` + entity, wantErr: "want the <fetch> element first"},
		{name: "text before", src: `hello <fetch>`, wantErr: "want the <fetch> element first"},
		{name: "empty", src: ``, wantErr: "want the <fetch> element first"},
		{name: "unterminated declaration", src: `<?xml version="1.0"`, wantErr: "unterminated"},
		{name: "unterminated tag", src: `<fetch page="1"`, wantErr: "unterminated <fetch> tag"},
		{name: "unquoted value", src: `<fetch page=1>`, wantErr: "not quoted"},
		{name: "unclosed value", src: `<fetch page="1>`, wantErr: "not closed"},
		{name: "no value", src: `<fetch distinct>`, wantErr: "has no value"},
		{name: "no space between attributes", src: `<fetch a="1"b="2">`, wantErr: "want whitespace"},
		{name: "bad page in query", src: `<fetch page="x">` + entity, wantErr: "want a page number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, info, err := rewriteFetch(tt.src, tt.page, tt.cookie, tt.count)
			if tt.wantErr != "" {
				if err == nil || !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want ErrInvalidInput containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("rewriteFetch: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("rewritten (-want +got):\n%s", diff)
			}
			if info.page != tt.wantPage || info.totalCount != tt.wantTotal {
				t.Errorf("info = %+v, want page %d total %v", info, tt.wantPage, tt.wantTotal)
			}
			attrs := fetchAttrs(t, strings.TrimPrefix(got, "\ufeff"))
			if tt.cookie != "" && attrs["paging-cookie"] != tt.cookie {
				t.Errorf("paging-cookie parses as %q, want %q", attrs["paging-cookie"], tt.cookie)
			}
		})
	}
}

func TestMergeAnnotations(t *testing.T) {
	t.Parallel()
	need := []string{annotationPagingCookie, annotationMoreRecords}
	tests := []struct{ name, in, want string }{
		{"none", "", annotationPagingCookie + "," + annotationMoreRecords},
		{"star", "*", "*"},
		{"quoted star", `"*"`, "*"},
		{"namespace wildcard", "Microsoft.Dynamics.CRM.*", "Microsoft.Dynamics.CRM.*"},
		{"other namespace", "OData.Community.Display.V1.FormattedValue",
			"OData.Community.Display.V1.FormattedValue," + annotationPagingCookie + "," + annotationMoreRecords},
		{"one already named", " OData.Community.Display.V1.*, microsoft.dynamics.crm.morerecords ",
			"OData.Community.Display.V1.*,microsoft.dynamics.crm.morerecords," + annotationPagingCookie},
		{"exclusion selects nothing", "-Microsoft.Dynamics.CRM.*",
			"-Microsoft.Dynamics.CRM.*," + annotationPagingCookie + "," + annotationMoreRecords},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mergeAnnotations(tt.in, need...); got != tt.want {
				t.Errorf("mergeAnnotations(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestInnerCookie(t *testing.T) {
	t.Parallel()
	const inner = `<cookie page="1"><accountid last="{7D577253-3EF0-4A0A-BB7F-8335C2596E70}" first="{C1B2A3D4-0000-4000-8000-000000000001}" /></cookie>`
	tests := []struct{ name, annotation, want string }{
		{"dataverse", dataverseCookie(inner, 2), inner},
		{"encoded once", `<cookie pagenumber="2" pagingcookie="` + xmlAttrEscape(url.PathEscape(inner)) + `" istracking="False" />`, inner},
		{"plus for spaces", `<cookie pagenumber="2" pagingcookie="` + url.QueryEscape(url.QueryEscape(inner)) + `" istracking="False" />`, inner},
		{"not an element", "pagingcookie=\"" + url.PathEscape(url.PathEscape(inner)) + "\" broken <", inner},
		{"no pagingcookie", `<cookie pagenumber="2" istracking="False" />`, ""},
		{"not a cookie", `<cookie pagenumber="2" pagingcookie="hello" />`, ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := innerCookie(tt.annotation); got != tt.want {
				t.Errorf("innerCookie(%q) = %q, want %q", tt.annotation, got, tt.want)
			}
		})
	}
}

// dataverseCookie renders a paging cookie annotation as Dataverse does: the inner cookie
// URL-encoded twice (spaces as %20) inside a cookie element naming the next page.
func dataverseCookie(inner string, nextPage int) string {
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	return fmt.Sprintf(`<cookie pagenumber="%d" pagingcookie="%s" istracking="False" />`, nextPage, esc(esc(inner)))
}

func xmlAttrEscape(s string) string { return escapeXMLAttr(s) }

// fetchServer answers FetchXML queries over ids (accountid values) the way Dataverse pages them:
// count rows a page, keyset paging by cookie when one is given, and the paging annotations only
// when the Prefer header asks for them. cookies=false makes it send morerecords without a cookie.
type fetchServer struct {
	t       *testing.T
	ids     []string
	cookies bool
}

func (s *fetchServer) handle(w http.ResponseWriter, r *http.Request, _ int) {
	t := s.t
	fx := r.URL.Query().Get("fetchXml")
	attrs := fetchAttrs(t, fx)
	count := 5000
	if v, ok := attrs["count"]; ok {
		count, _ = strconv.Atoi(v)
	}
	page := 1
	if v, ok := attrs["page"]; ok {
		page, _ = strconv.Atoi(v)
	}
	start := (page - 1) * count
	if c := attrs["paging-cookie"]; c != "" {
		// Keyset: continue after the last id of the cookie, which must be for the page before.
		var ck struct {
			Page string `xml:"page,attr"`
			ID   struct {
				Last string `xml:"last,attr"`
			} `xml:"accountid"`
		}
		if err := xml.Unmarshal([]byte(c), &ck); err != nil || ck.Page != strconv.Itoa(page-1) {
			reply(w, http.StatusBadRequest, `{"error":{"code":"0x80040203","message":"bad paging cookie"}}`)
			return
		}
		start = -1
		for i, id := range s.ids {
			if "{"+strings.ToUpper(id)+"}" == ck.ID.Last {
				start = i + 1
			}
		}
		if start < 0 {
			reply(w, http.StatusBadRequest, `{"error":{"code":"0x80040203","message":"cookie names no row"}}`)
			return
		}
	} else if page > 1 && s.cookies {
		t.Errorf("page %d asked for without the cookie the server sent", page)
	}
	end := min(start+count, len(s.ids))
	if top, ok := attrs["top"]; ok {
		n, _ := strconv.Atoi(top)
		end = min(start+n, len(s.ids))
	}
	var rows []string
	for _, id := range s.ids[start:end] {
		rows = append(rows, fmt.Sprintf(`{"@odata.etag":"W/\"1\"","accountid":%q,"name":"Account %s"}`, id, id[:4]))
	}
	body := `{"@odata.context":"` + "http://" + r.Host + `/api/data/v9.2/$metadata#accounts(accountid,name)"`
	prefer := r.Header.Get("Prefer")
	asked := func(term string) bool {
		return strings.Contains(prefer, `"*"`) || strings.Contains(prefer, term)
	}
	if _, top := attrs["top"]; !top && end < len(s.ids) {
		if s.cookies && asked(annotationPagingCookie) {
			inner := fmt.Sprintf(`<cookie page="%d"><accountid last="{%s}" first="{%s}" /></cookie>`,
				page, strings.ToUpper(s.ids[end-1]), strings.ToUpper(s.ids[start]))
			cookie, _ := json.Marshal(dataverseCookie(inner, page+1))
			body += `,"@Microsoft.Dynamics.CRM.fetchxmlpagingcookie":` + string(cookie)
		}
		if asked(annotationMoreRecords) {
			body += `,"@Microsoft.Dynamics.CRM.morerecords":true`
		}
	}
	if attrs["returntotalrecordcount"] == "true" && asked(annotationTotalCount) {
		body += `,"@Microsoft.Dynamics.CRM.totalrecordcount":` + strconv.Itoa(len(s.ids)) +
			`,"@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded":false`
	}
	body += `,"value":[` + strings.Join(rows, ",") + `]}`
	reply(w, http.StatusOK, body)
}

func testIDs(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%08x-0000-4000-8000-%012x", i+1, i+1)
	}
	return ids
}

const accountFetch = `<fetch mapping="logical" count="3"><entity name="account"><attribute name="name"/><order attribute="accountid"/></entity></fetch>`

func TestFetchXMLRequestAndPage(t *testing.T) {
	t.Parallel()
	ids := testIDs(9)
	fs := &fetchServer{t: t, ids: ids, cookies: true}
	f := newFake(t, fs.handle)
	c := newTestClient(t, f)
	ctx := context.Background()

	// Page 2, asked for with the cookie of page 1 as a caller would pass it along.
	cookie := `<cookie page="1"><accountid last="{` + strings.ToUpper(ids[2]) + `}" first="{` + strings.ToUpper(ids[0]) + `}" /></cookie>`
	page, resp, err := c.FetchXML(ctx, "accounts", accountFetch, &FetchOptions{
		IncludeAnnotations: "OData.Community.Display.V1.FormattedValue",
		PagingCookie:       cookie,
		Caller:             Caller{ID: "{" + userID + "}", ObjectID: contactID},
	})
	if err != nil {
		t.Fatalf("FetchXML: %v", err)
	}
	got := f.last(t)
	if got.Method != http.MethodGet || got.Path != "/api/data/v9.2/accounts" {
		t.Errorf("request %s %s, want GET /api/data/v9.2/accounts", got.Method, got.Path)
	}
	q, err := url.ParseQuery(got.RawQuery)
	if err != nil {
		t.Fatalf("query %q: %v", got.RawQuery, err)
	}
	wantXML := `<fetch mapping="logical" count="3" page="2" paging-cookie="` + escapeXMLAttr(cookie) + `"><entity name="account"><attribute name="name"/><order attribute="accountid"/></entity></fetch>`
	if diff := cmp.Diff(wantXML, q.Get("fetchXml")); diff != "" {
		t.Errorf("fetchXml (-want +got):\n%s", diff)
	}
	for k, want := range map[string]string{
		"Prefer":         `odata.include-annotations="OData.Community.Display.V1.FormattedValue,Microsoft.Dynamics.CRM.fetchxmlpagingcookie,Microsoft.Dynamics.CRM.morerecords"`,
		"MSCRMCallerID":  userID,
		"CallerObjectId": contactID,
		"Authorization":  "Bearer " + testToken,
	} {
		if g := got.Header.Get(k); g != want {
			t.Errorf("header %s = %q, want %q", k, g, want)
		}
	}
	if resp.StatusCode != http.StatusOK {
		t.Errorf("status %d", resp.StatusCode)
	}
	wantCookie := `<cookie page="2"><accountid last="{` + strings.ToUpper(ids[5]) + `}" first="{` + strings.ToUpper(ids[3]) + `}" /></cookie>`
	if page.Page != 2 || !page.MoreRecords || page.PagingCookie != wantCookie || page.TotalRecordCount != -1 {
		t.Errorf("page = {Page:%d More:%v Cookie:%q Total:%d}, want {2 true %q -1}",
			page.Page, page.MoreRecords, page.PagingCookie, page.TotalRecordCount, wantCookie)
	}
	var gotIDs []string
	for _, r := range page.Records {
		gotIDs = append(gotIDs, r["accountid"].(string))
	}
	if diff := cmp.Diff(ids[3:6], gotIDs); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
	if _, ok := page.Annotations["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"]; !ok {
		t.Errorf("Annotations lack the raw cookie: %v", page.Annotations)
	}
	if _, ok := page.Annotations["@odata.context"]; !ok {
		t.Errorf("Annotations lack @odata.context: %v", page.Annotations)
	}

	// The last page: no cookie, no more records.
	last, _, err := c.FetchXML(ctx, "accounts", accountFetch, &FetchOptions{Page: 3, PagingCookie: page.PagingCookie})
	if err != nil {
		t.Fatalf("FetchXML page 3: %v", err)
	}
	if last.Page != 3 || last.MoreRecords || last.PagingCookie != "" || len(last.Records) != 3 {
		t.Errorf("last page = {Page:%d More:%v Cookie:%q rows:%d}, want {3 false \"\" 3}",
			last.Page, last.MoreRecords, last.PagingCookie, len(last.Records))
	}
}

func TestFetchXMLTotalRecordCount(t *testing.T) {
	t.Parallel()
	fs := &fetchServer{t: t, ids: testIDs(4), cookies: true}
	f := newFake(t, fs.handle)
	c := newTestClient(t, f)
	page, _, err := c.FetchXML(context.Background(), "accounts",
		`<fetch returntotalrecordcount="true"><entity name="account"/></fetch>`, &FetchOptions{IncludeAnnotations: "*"})
	if err != nil {
		t.Fatalf("FetchXML: %v", err)
	}
	if page.TotalRecordCount != 4 || page.MoreRecords || page.Page != 1 {
		t.Errorf("page = {Total:%d More:%v Page:%d}, want {4 false 1}", page.TotalRecordCount, page.MoreRecords, page.Page)
	}
	if got := f.last(t).Header.Get("Prefer"); got != `odata.include-annotations="*"` {
		t.Errorf("Prefer = %q", got)
	}
}

// walk collects the accountid of every row FetchXMLAll yields, and the error that ended it.
func fetchAllIDs(c *Client, set, fetch string, opts *FetchOptions) ([]string, error) {
	var ids []string
	for r, err := range c.FetchXMLAll(context.Background(), set, fetch, opts) {
		if err != nil {
			return ids, err
		}
		ids = append(ids, r["accountid"].(string))
	}
	return ids, nil
}

func TestFetchXMLAllPaging(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		cookies     bool
		rows        int
		fetch       string
		opts        *FetchOptions
		wantPages   []string // page= and paging-cookie page of each request
		from        int      // index of the first row returned
		wantRows    int
		wantTooMany bool
	}{
		{
			name: "three pages by cookie, no caller annotations", cookies: true, rows: 8, fetch: accountFetch,
			wantPages: []string{"count=3 page=", "count=3 page=2 cookie=1", "count=3 page=3 cookie=2"}, wantRows: 8,
		},
		{
			name: "caller asks for formatted values only", cookies: true, rows: 7, fetch: accountFetch,
			opts:      &FetchOptions{IncludeAnnotations: "OData.Community.Display.V1.FormattedValue"},
			wantPages: []string{"count=3 page=", "count=3 page=2 cookie=1", "count=3 page=3 cookie=2"}, wantRows: 7,
		},
		{
			name: "page size from options", cookies: true, rows: 5, fetch: `<?xml version="1.0"?>` + "\n  <fetch><entity name=\"account\"/></fetch>",
			opts:      &FetchOptions{PageSize: 2},
			wantPages: []string{"count=2 page=", "count=2 page=2 cookie=1", "count=2 page=3 cookie=2"}, wantRows: 5,
		},
		{
			name: "fallback to page numbers without a cookie", cookies: false, rows: 7, fetch: accountFetch,
			wantPages: []string{"count=3 page=", "count=3 page=2", "count=3 page=3"}, wantRows: 7,
		},
		{
			name: "one page", cookies: true, rows: 3, fetch: accountFetch,
			wantPages: []string{"count=3 page="}, wantRows: 3,
		},
		{
			name: "starting page from options", cookies: false, rows: 9, fetch: accountFetch, opts: &FetchOptions{Page: 2},
			wantPages: []string{"count=3 page=2", "count=3 page=3"}, from: 3, wantRows: 6,
		},
		{
			name: "top is one page", cookies: true, rows: 9, fetch: `<fetch top="4"><entity name="account"/></fetch>`,
			wantPages: []string{"count= page="}, wantRows: 4,
		},
		{
			name: "MaxPages", cookies: true, rows: 9, fetch: accountFetch, opts: &FetchOptions{MaxPages: 2},
			wantPages: []string{"count=3 page=", "count=3 page=2 cookie=1"}, wantRows: 6, wantTooMany: true,
		},
		{
			name: "MaxPages not reached", cookies: true, rows: 9, fetch: accountFetch, opts: &FetchOptions{MaxPages: 3},
			wantPages: []string{"count=3 page=", "count=3 page=2 cookie=1", "count=3 page=3 cookie=2"}, wantRows: 9,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ids := testIDs(tt.rows)
			fs := &fetchServer{t: t, ids: ids, cookies: tt.cookies}
			f := newFake(t, fs.handle)
			c := newTestClient(t, f)
			got, err := fetchAllIDs(c, "accounts", tt.fetch, tt.opts)
			if tt.wantTooMany {
				if !errors.Is(err, ErrTooManyPages) {
					t.Errorf("err = %v, want ErrTooManyPages", err)
				}
			} else if err != nil {
				t.Fatalf("FetchXMLAll: %v", err)
			}
			if diff := cmp.Diff(ids[tt.from:tt.from+tt.wantRows], got); diff != "" {
				t.Errorf("rows (-want +got):\n%s", diff)
			}
			var pages []string
			for _, r := range f.requests() {
				q, _ := url.ParseQuery(r.RawQuery)
				a := fetchAttrs(t, q.Get("fetchXml"))
				s := "count=" + a["count"] + " page=" + a["page"]
				if ck := a["paging-cookie"]; ck != "" {
					n, _ := cookiePage(ck)
					s += " cookie=" + strconv.Itoa(n)
				}
				pages = append(pages, s)
				if p := r.Header.Get("Prefer"); !strings.Contains(p, annotationPagingCookie) && !strings.Contains(p, `"*"`) {
					t.Errorf("Prefer %q does not ask for the paging cookie", p)
				}
			}
			if diff := cmp.Diff(tt.wantPages, pages); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFetchXMLPagesYieldsPageNumbers(t *testing.T) {
	t.Parallel()
	fs := &fetchServer{t: t, ids: testIDs(7), cookies: true}
	f := newFake(t, fs.handle)
	c := newTestClient(t, f)
	var got []string
	for p, err := range c.FetchXMLPages(context.Background(), "accounts", accountFetch, nil) {
		if err != nil {
			t.Fatalf("FetchXMLPages: %v", err)
		}
		got = append(got, fmt.Sprintf("%d:%d:%v:%v", p.Page, len(p.Records), p.MoreRecords, p.PagingCookie != ""))
	}
	if diff := cmp.Diff([]string{"1:3:true:true", "2:3:true:true", "3:1:false:false"}, got); diff != "" {
		t.Errorf("pages (-want +got):\n%s", diff)
	}
	// Stopping early makes no further request.
	before := f.count()
	for range c.FetchXMLPages(context.Background(), "accounts", accountFetch, nil) {
		break
	}
	if n := f.count() - before; n != 1 {
		t.Errorf("%d requests for one page, want 1", n)
	}
}

func TestFetchXMLRefusedLocally(t *testing.T) {
	t.Parallel()
	f := newFake(t, nil)
	c := newTestClient(t, f)
	ctx := context.Background()
	tests := []struct {
		name  string
		set   string
		fetch string
		opts  *FetchOptions
	}{
		{"top with page size", "accounts", `<fetch top="5"><entity name="account"/></fetch>`, &FetchOptions{PageSize: 2}},
		{"top with page", "accounts", `<fetch top="5"><entity name="account"/></fetch>`, &FetchOptions{Page: 2}},
		{"top with cookie", "accounts", `<fetch top="5"><entity name="account"/></fetch>`, &FetchOptions{PagingCookie: `<cookie page="1"/>`}},
		{"cookie without page number", "accounts", accountFetch, &FetchOptions{PagingCookie: `<cookie/>`}},
		{"negative page", "accounts", accountFetch, &FetchOptions{Page: -1}},
		{"negative page size", "accounts", accountFetch, &FetchOptions{PageSize: -1}},
		{"bad entity set", "account s", accountFetch, nil},
		{"not FetchXML", "accounts", `<invalid>`, nil},
		{"bad caller id", "accounts", accountFetch, &FetchOptions{Caller: Caller{ID: "someone"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.FetchXML(ctx, tt.set, tt.fetch, tt.opts)
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("FetchXML err = %v, want ErrInvalidInput", err)
			}
			_, err = fetchAllIDs(c, tt.set, tt.fetch, tt.opts)
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("FetchXMLAll err = %v, want ErrInvalidInput", err)
			}
		})
	}
	if n := f.count(); n != 0 {
		t.Errorf("%d requests reached the server, want 0", n)
	}
}

func TestFetchXMLErrors(t *testing.T) {
	t.Parallel()
	t.Run("service error", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
			reply(w, http.StatusBadRequest, `{"error":{"code":"0x80041103","message":"'account' entity doesn't contain attribute with Name = 'nope' and NameMapping = 'Logical'."}}`)
		})
		c := newTestClient(t, f)
		_, err := fetchAllIDs(c, "accounts", accountFetch, nil)
		var apiErr *Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "0x80041103" {
			t.Errorf("err = %v, want *Error 400 0x80041103", err)
		}
	})
	t.Run("body not JSON", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
			reply(w, http.StatusOK, `{"value":[`)
		})
		c := newTestClient(t, f)
		if _, _, err := c.FetchXML(context.Background(), "accounts", accountFetch, nil); err == nil || !strings.Contains(err.Error(), "decode response") {
			t.Errorf("err = %v, want a decode error", err)
		}
	})
	t.Run("empty page promising more", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
			reply(w, http.StatusOK, `{"@Microsoft.Dynamics.CRM.morerecords":true,"value":[]}`)
		})
		c := newTestClient(t, f)
		_, err := fetchAllIDs(c, "accounts", accountFetch, nil)
		if err == nil || !strings.Contains(err.Error(), "empty but says more records follow") {
			t.Errorf("err = %v", err)
		}
		if n := f.count(); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
}
