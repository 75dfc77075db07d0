package fetchxml

import (
	"net/url"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// ApplyPaging positions the query at f.Page. A paging cookie written for the page before
// (EncodePosition for this query, with page = f.Page-1) sets Query.After, so that the page
// starts right after the last row of the previous one however rows changed since. Otherwise the
// page is reached by number: Skip, and Query.Offset, are (Page-1)*Count rows, as Dataverse's
// simple paging does. A cookie that does not fit (another query's, another page's, or not a
// cookie at all) is ignored, as Dataverse ignores it.
//
// Parse calls ApplyPaging; call it again after changing Page or PagingCookie.
func (f *Fetch) ApplyPaging() {
	f.Skip = 0
	f.Query.After = nil
	f.Query.Offset = 0
	if f.Top > 0 || f.Page <= 1 {
		return
	}
	if !f.Aggregate && f.PagingCookie != "" {
		if pos := decodeCookie(f.Query, f.PagingCookie); pos != nil && pos.Page+1 == f.Page {
			f.Query.After = pos
			return
		}
	}
	f.Skip = (f.Page - 1) * f.Count
	f.Query.Offset = f.Skip
}

// decodeCookie reads a paging cookie in the form FetchXML's paging-cookie attribute takes (the
// inner <cookie page="1">...</cookie>), and also the forms clients sometimes pass on instead: still
// URL-encoded, or the whole fetchxmlpagingcookie annotation value.
func decodeCookie(q *model.Query, cookie string) *model.Position {
	c := strings.TrimSpace(cookie)
	for i := 0; i < 2 && strings.HasPrefix(strings.ToLower(c), "%3c"); i++ {
		u, err := url.QueryUnescape(c)
		if err != nil {
			return nil
		}
		c = u
	}
	if pos, err := model.DecodePosition(q, c); err == nil {
		return pos
	}
	if inner, _, err := model.ParsePagingCookie(c); err == nil {
		if pos, err := model.DecodePosition(q, inner); err == nil {
			return pos
		}
	}
	return nil
}

// NextCookie is the @Microsoft.Dynamics.CRM.fetchxmlpagingcookie of the page after f's: next is
// the position after the page's last row, firstID the page's first row. Passed back as the
// paging-cookie attribute with page f.Page+1, it continues right after that row.
func (f *Fetch) NextCookie(next *model.Position, firstID string) string {
	p := *next
	p.Page = f.Page
	return model.PagingCookie(model.EncodePosition(f.Query, &p, firstID), f.Page+1)
}
