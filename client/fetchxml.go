package client

import (
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"iter"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// FetchOptions adjusts FetchXML and its iterators: annotations, page number, paging cookie, page
// size, impersonated user and a bound on pages.
type FetchOptions struct {
	// IncludeAnnotations asks for annotations, such as "*" or
	// "OData.Community.Display.V1.FormattedValue". The paging annotations are always asked for
	// besides these (see FetchXML).
	IncludeAnnotations string
	// Page is the 1-based page to ask for; it sets page= on <fetch>. 0 leaves the query's own page
	// attribute, if any (Dataverse then answers page 1), unless PagingCookie is given.
	Page int
	// PagingCookie is FetchPage.PagingCookie of the page before the one wanted; it sets paging-cookie=
	// on <fetch>, XML-escaped. Without Page the page asked for is the one after the cookie's.
	PagingCookie string
	// PageSize sets count= on <fetch> when greater than 0: the rows a page holds (Dataverse caps
	// it at 5,000).
	PageSize int
	// Caller runs the query as another user.
	Caller
	// MaxPages bounds FetchXMLPages and FetchXMLAll (0: no bound). A query with more pages ends with
	// an error matching ErrTooManyPages rather than the Prismatic component's silent cut after 100
	// pages.
	MaxPages int
}

// FetchPage is one page of a FetchXML query.
type FetchPage struct {
	Records []Record
	// Page is the 1-based number of the page returned.
	Page int
	// PagingCookie is the inner paging cookie (<cookie page="1">...</cookie>), decoded from the
	// @Microsoft.Dynamics.CRM.fetchxmlpagingcookie annotation, for asking for the next page. It is ""
	// on the last page, and when the service sent no usable cookie (the next page is then asked
	// for by number).
	PagingCookie string
	// MoreRecords reports whether pages follow (@Microsoft.Dynamics.CRM.morerecords; when the
	// service omits it, the presence of a paging cookie).
	MoreRecords bool
	// TotalRecordCount is @Microsoft.Dynamics.CRM.totalrecordcount (a <fetch> with
	// returntotalrecordcount="true"), or -1 when it was not returned.
	TotalRecordCount int64
	// Annotations holds every root annotation as sent, such as @odata.context and the raw
	// @Microsoft.Dynamics.CRM.fetchxmlpagingcookie.
	Annotations map[string]any
}

// Root annotations of a FetchXML answer.
const (
	annotationPagingCookie    = "Microsoft.Dynamics.CRM.fetchxmlpagingcookie"
	annotationMoreRecords     = "Microsoft.Dynamics.CRM.morerecords"
	annotationTotalCount      = "Microsoft.Dynamics.CRM.totalrecordcount"
	annotationTotalCountLimit = "Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded"
)

// FetchXML runs a FetchXML query against entitySet (the set of the query's <entity>, such as
// "accounts" for <entity name="account">) and returns one page: GET {set}?fetchXml=<query>.
//
// The query's <fetch> start tag is rewritten for the paging options: page=, paging-cookie= and
// count= replace attributes of the same name rather than being added twice, the cookie is
// XML-escaped, and an XML declaration, comments or whitespace before <fetch> are kept (dynamics-web-api
// silently stops paging when it sees them). Setting a page drops a paging-cookie already in
// the query unless PagingCookie gives one, since a cookie only leads to the page after its own. A
// <fetch top="..."> cannot be paged: top combined with page, count or a cookie is refused with
// ErrInvalidInput, as Dataverse would refuse it.
//
// The Prefer header always asks for the paging annotations (fetchxmlpagingcookie and morerecords,
// and the total count ones when the query sets returntotalrecordcount), merged with
// IncludeAnnotations, so that PagingCookie and MoreRecords are filled whatever the caller asked
// for. Error answers come back as *Error.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/use-fetchxml-web-api
// and https://learn.microsoft.com/power-apps/developer/data-platform/fetchxml/page-results
func (c *Client) FetchXML(ctx context.Context, entitySet, fetchXML string, opts *FetchOptions) (*FetchPage, *Response, error) {
	if opts == nil {
		opts = &FetchOptions{}
	}
	if err := checkName("entity set", entitySet); err != nil {
		return nil, nil, err
	}
	if opts.Page < 0 || opts.PageSize < 0 || opts.MaxPages < 0 {
		return nil, nil, fmt.Errorf("client: FetchOptions Page %d, PageSize %d and MaxPages %d must not be negative: %w",
			opts.Page, opts.PageSize, opts.MaxPages, ErrInvalidInput)
	}
	page := opts.Page
	if page == 0 && opts.PagingCookie != "" {
		prev, ok := cookiePage(opts.PagingCookie)
		if !ok {
			return nil, nil, fmt.Errorf(`client: PagingCookie names no page (want <cookie page="N">...) and Page is not set: %w`, ErrInvalidInput)
		}
		page = prev + 1
	}
	fetchText, info, err := rewriteFetch(fetchXML, page, opts.PagingCookie, opts.PageSize)
	if err != nil {
		return nil, nil, err
	}
	r := c.apiRequest(http.MethodGet, entitySet, query{{Key: "fetchXml", Value: fetchText}})
	need := []string{annotationPagingCookie, annotationMoreRecords}
	if info.totalCount {
		need = append(need, annotationTotalCount, annotationTotalCountLimit)
	}
	r.prefer(`odata.include-annotations="` + mergeAnnotations(opts.IncludeAnnotations, need...) + `"`)
	if err := opts.Caller.setHeaders(r.header); err != nil {
		return nil, nil, err
	}
	resp, body, err := c.send(ctx, r)
	if err != nil {
		return nil, resp, err
	}
	fp, err := decodeFetchPage(body, resp)
	if err != nil {
		return nil, resp, fmt.Errorf("dataverse: GET %s: %w", redactURL(r.url), err)
	}
	fp.Page = info.page
	return fp, resp, nil
}

// decodeFetchPage reads a FetchXML answer and its paging annotations.
func decodeFetchPage(body []byte, resp *Response) (*FetchPage, error) {
	var raw map[string]any
	if err := decodeJSON(body, &raw); err != nil {
		return nil, fmt.Errorf("decode response: %w", err)
	}
	fillControl(resp, raw)
	fp := &FetchPage{TotalRecordCount: -1, Annotations: map[string]any{}}
	for k, v := range raw {
		if k == "value" {
			list, ok := v.([]any)
			if !ok {
				return nil, fmt.Errorf("value is not an array")
			}
			fp.Records = make([]Record, 0, len(list))
			for _, it := range list {
				m, ok := it.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("value holds a %T, not a row", it)
				}
				fp.Records = append(fp.Records, Record(m))
			}
			continue
		}
		if strings.HasPrefix(k, "@") {
			fp.Annotations[k] = v
		}
	}
	cookie, _ := raw["@"+annotationPagingCookie].(string)
	more, said := raw["@"+annotationMoreRecords].(bool)
	if !said {
		// dynamics-web-api pages while a cookie comes back; do the same when the flag is missing.
		more = cookie != ""
	}
	fp.MoreRecords = more
	if more {
		fp.PagingCookie = innerCookie(cookie)
	}
	if n, ok := raw["@"+annotationTotalCount].(json.Number); ok {
		if v, err := n.Int64(); err == nil {
			fp.TotalRecordCount = v
		}
	}
	return fp, nil
}

// FetchXMLPages walks the pages of a FetchXML query, starting at FetchOptions.Page (or the query's
// own page attribute, or page 1). It continues while a page says more records follow, asking for
// the next page number with the cookie the page returned, or by number alone when the service sent
// morerecords without a usable cookie. Because FetchXML always asks for the paging annotations,
// this works whether or not IncludeAnnotations names them (the Prismatic component's Fetch All
// stops after page one otherwise). It stops at the first error (yielded once) or when the caller stops ranging; with
// MaxPages set, a query with more pages ends with an error matching ErrTooManyPages.
func (c *Client) FetchXMLPages(ctx context.Context, entitySet, fetchXML string, opts *FetchOptions) iter.Seq2[*FetchPage, error] {
	return func(yield func(*FetchPage, error) bool) {
		o := FetchOptions{}
		if opts != nil {
			o = *opts
		}
		for n := 1; ; n++ {
			if o.MaxPages > 0 && n > o.MaxPages {
				yield(nil, fmt.Errorf("client: FetchXML query on %s has more than %d pages: %w", entitySet, o.MaxPages, ErrTooManyPages))
				return
			}
			page, _, err := c.FetchXML(ctx, entitySet, fetchXML, &o)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(page, nil) || !page.MoreRecords {
				return
			}
			if len(page.Records) == 0 {
				// A server that keeps promising rows it never sends would be paged forever.
				yield(nil, fmt.Errorf("dataverse: FetchXML page %d on %s is empty but says more records follow", page.Page, entitySet))
				return
			}
			o.Page = page.Page + 1
			o.PagingCookie = page.PagingCookie
		}
	}
}

// FetchXMLAll walks every row of every page of a FetchXML query (see FetchXMLPages).
func (c *Client) FetchXMLAll(ctx context.Context, entitySet, fetchXML string, opts *FetchOptions) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for page, err := range c.FetchXMLPages(ctx, entitySet, fetchXML, opts) {
			if err != nil {
				yield(nil, err)
				return
			}
			for _, r := range page.Records {
				if !yield(r, nil) {
					return
				}
			}
		}
	}
}

// mergeAnnotations adds the terms of need that value (an odata.include-annotations list such as
// "*" or "OData.Community.Display.V1.FormattedValue") does not already cover.
func mergeAnnotations(value string, need ...string) string {
	value = strings.TrimSpace(value)
	if len(value) >= 2 && value[0] == '"' && value[len(value)-1] == '"' {
		value = value[1 : len(value)-1]
	}
	var terms []string
	for t := range strings.SplitSeq(value, ",") {
		if t = strings.TrimSpace(t); t != "" {
			terms = append(terms, t)
		}
	}
	for _, n := range need {
		if !annotationCovered(terms, n) {
			terms = append(terms, n)
		}
	}
	return strings.Join(terms, ",")
}

// annotationCovered reports whether one of the include terms (exact names, "*" or "Namespace.*")
// selects the annotation term t. Exclusions ("-term") select nothing.
func annotationCovered(terms []string, t string) bool {
	for _, p := range terms {
		switch {
		case p == "*", strings.EqualFold(p, t):
			return true
		case strings.HasSuffix(p, ".*") && !strings.HasPrefix(p, "-"):
			prefix := p[:len(p)-1] // keeps the dot
			if len(t) > len(prefix) && strings.EqualFold(t[:len(prefix)], prefix) {
				return true
			}
		}
	}
	return false
}

// innerCookie returns the inner cookie of a fetchxmlpagingcookie annotation such as
// <cookie pagenumber="2" pagingcookie="%253ccookie%2520page%253d%25221%2522%253e..." istracking="False" />:
// the pagingcookie attribute URL-decoded twice. It returns "" when there is none to be found.
func innerCookie(annotation string) string {
	if annotation == "" {
		return ""
	}
	var outer struct {
		PagingCookie string `xml:"pagingcookie,attr"`
	}
	s := ""
	if xml.Unmarshal([]byte(annotation), &outer) == nil {
		s = outer.PagingCookie
	} else {
		// Not an element: decode the whole value, as dynamics-web-api does, and look for the cookie.
		s = annotation
		for range 2 {
			if u, err := url.QueryUnescape(s); err == nil {
				s = u
			}
		}
		s = cookieInText.FindString(s)
	}
	// Dataverse encodes twice; tolerate a server that encodes once.
	for i := 0; i < 2 && !strings.HasPrefix(s, "<"); i++ {
		u, err := url.QueryUnescape(s)
		if err != nil {
			return ""
		}
		s = u
	}
	if !strings.HasPrefix(s, "<cookie") {
		return ""
	}
	return s
}

var (
	cookieInText  = regexp.MustCompile(`(?s)<cookie\s+page=["']\d+["'].*</cookie>`)
	cookiePageNum = regexp.MustCompile(`^<cookie\s[^>]*?\bpage\s*=\s*["'](\d+)["']`)
)

// cookiePage returns the page number an inner cookie was issued for.
func cookiePage(cookie string) (int, bool) {
	m := cookiePageNum.FindStringSubmatch(strings.TrimSpace(cookie))
	if m == nil {
		return 0, false
	}
	n, err := strconv.Atoi(m[1])
	return n, err == nil && n > 0
}

// fetchInfo is what rewriteFetch learns from the <fetch> tag.
type fetchInfo struct {
	page       int  // the page the rewritten query asks for (1 when it names none)
	totalCount bool // returntotalrecordcount="true"
}

// rewriteFetch sets the paging attributes on the <fetch> start tag of src: page= and
// paging-cookie= (the cookie XML-escaped; removed when page > 0 and cookie is "") when page > 0,
// and count= when count > 0. Existing attributes are replaced in place, new ones appended; the rest
// of the text is left exactly as written.
func rewriteFetch(src string, page int, cookie string, count int) (string, fetchInfo, error) {
	tag, err := parseFetchTag(src)
	if err != nil {
		return "", fetchInfo{}, err
	}
	var set []fetchAttrValue
	if page > 0 {
		set = append(set, fetchAttrValue{"page", strconv.Itoa(page)}, fetchAttrValue{"paging-cookie", cookie})
	} else if cookie != "" {
		set = append(set, fetchAttrValue{"paging-cookie", cookie})
	}
	if count > 0 {
		set = append(set, fetchAttrValue{"count", strconv.Itoa(count)})
	}
	out := tag.rewrite(set)
	final, err := parseFetchTag(out)
	if err != nil {
		return "", fetchInfo{}, err
	}
	if _, hasTop := final.get("top"); hasTop {
		for _, name := range []string{"page", "count", "paging-cookie"} {
			if _, ok := final.get(name); ok {
				return "", fetchInfo{}, fmt.Errorf("client: FetchXML <fetch top=...> cannot be paged (it also has %s=): %w", name, ErrInvalidInput)
			}
		}
	}
	info := fetchInfo{page: 1}
	if v, ok := final.get("page"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return "", fetchInfo{}, fmt.Errorf("client: FetchXML <fetch page=%q>: want a page number from 1: %w", v, ErrInvalidInput)
		}
		info.page = n
	}
	if v, ok := final.get("returntotalrecordcount"); ok && strings.EqualFold(strings.TrimSpace(v), "true") {
		info.totalCount = true
	}
	return out, info, nil
}

type fetchAttrValue struct {
	name  string
	value string // unescaped; "" removes the attribute
}

// fetchTag is the <fetch> start tag found in a FetchXML text.
type fetchTag struct {
	src     string
	nameEnd int // index just after "<fetch"
	tail    int // index where the text after the last attribute starts (whitespace and > or />)
	attrs   []fetchAttr
}

// fetchAttr is one attribute of the tag; src[start:end] is its text with the whitespace before it.
type fetchAttr struct {
	name       string
	value      string // as written, entities not decoded
	start, end int
	nameStart  int
}

func (t *fetchTag) get(name string) (string, bool) {
	for _, a := range t.attrs {
		if a.name == name {
			return a.value, true
		}
	}
	return "", false
}

// rewrite returns the text with the attributes in set replaced or added (or removed, for empty
// values). Duplicates of a replaced attribute are dropped.
func (t *fetchTag) rewrite(set []fetchAttrValue) string {
	var b strings.Builder
	b.Grow(len(t.src) + 64)
	b.WriteString(t.src[:t.nameEnd])
	done := map[string]bool{}
	for _, a := range t.attrs {
		i := indexAttr(set, a.name)
		switch {
		case i < 0:
			b.WriteString(t.src[a.start:a.end])
		case done[a.name]:
		default:
			done[a.name] = true
			if set[i].value != "" {
				b.WriteString(t.src[a.start:a.nameStart])
				writeAttr(&b, set[i])
			}
		}
	}
	for _, s := range set {
		if !done[s.name] && s.value != "" {
			b.WriteByte(' ')
			writeAttr(&b, s)
		}
	}
	b.WriteString(t.src[t.tail:])
	return b.String()
}

func indexAttr(set []fetchAttrValue, name string) int {
	for i, s := range set {
		if s.name == name {
			return i
		}
	}
	return -1
}

func writeAttr(b *strings.Builder, a fetchAttrValue) {
	b.WriteString(a.name)
	b.WriteString(`="`)
	b.WriteString(escapeXMLAttr(a.value))
	b.WriteByte('"')
}

// escapeXMLAttr escapes s for a double-quoted XML attribute value.
func escapeXMLAttr(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\t':
			b.WriteString("&#x9;")
		case '\n':
			b.WriteString("&#xA;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// parseFetchTag finds the <fetch> start tag after any byte order mark, whitespace, XML
// declaration, processing instructions, comments and document type declaration, and reads its
// attributes, respecting either kind of quote.
func parseFetchTag(src string) (*fetchTag, error) {
	bad := func(pos int, format string, args ...any) error {
		return fmt.Errorf("client: FetchXML at byte %d: %s: %w", pos, fmt.Sprintf(format, args...), ErrInvalidInput)
	}
	i := 0
	if strings.HasPrefix(src, "\ufeff") {
		i = len("\ufeff")
	}
	for {
		i = skipXMLSpace(src, i)
		rest := src[i:]
		var end string
		switch {
		case strings.HasPrefix(rest, "<?"):
			end = "?>"
		case strings.HasPrefix(rest, "<!--"):
			end = "-->"
		case strings.HasPrefix(rest, "<!DOCTYPE"):
			end = ">"
		}
		if end == "" {
			break
		}
		j := strings.Index(rest, end)
		if j < 0 {
			return nil, bad(i, "unterminated %q", rest[:min(len(rest), 9)])
		}
		i += j + len(end)
	}
	const open = "<fetch"
	if !strings.HasPrefix(src[i:], open) || (i+len(open) < len(src) && !isTagDelim(src[i+len(open)])) {
		found := src[i:min(len(src), i+20)]
		return nil, bad(i, "want the <fetch> element first, found %q", found)
	}
	t := &fetchTag{src: src, nameEnd: i + len(open)}
	j := t.nameEnd
	for {
		start := j
		j = skipXMLSpace(src, j)
		if j >= len(src) {
			return nil, bad(j, "unterminated <fetch> tag")
		}
		if src[j] == '>' || strings.HasPrefix(src[j:], "/>") {
			t.tail = start
			return t, nil
		}
		if j == start {
			return nil, bad(j, "want whitespace before attribute")
		}
		nameStart := j
		for j < len(src) && !isXMLSpace(src[j]) && src[j] != '=' && src[j] != '>' && src[j] != '/' && src[j] != '"' && src[j] != '\'' {
			j++
		}
		name := src[nameStart:j]
		if name == "" {
			return nil, bad(j, "unexpected %q in <fetch> tag", src[j])
		}
		j = skipXMLSpace(src, j)
		if j >= len(src) || src[j] != '=' {
			return nil, bad(j, "attribute %s has no value", name)
		}
		j = skipXMLSpace(src, j+1)
		if j >= len(src) || (src[j] != '"' && src[j] != '\'') {
			return nil, bad(j, "value of attribute %s is not quoted", name)
		}
		q := src[j]
		k := strings.IndexByte(src[j+1:], q)
		if k < 0 {
			return nil, bad(j, "value of attribute %s is not closed", name)
		}
		value := src[j+1 : j+1+k]
		j += k + 2
		t.attrs = append(t.attrs, fetchAttr{name: name, value: value, start: start, end: j, nameStart: nameStart})
	}
}

func skipXMLSpace(s string, i int) int {
	for i < len(s) && isXMLSpace(s[i]) {
		i++
	}
	return i
}

func isXMLSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

func isTagDelim(c byte) bool { return isXMLSpace(c) || c == '>' || c == '/' }
