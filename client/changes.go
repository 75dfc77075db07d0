package client

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
)

// TrackChangesOptions adjusts TrackChanges and ChangePages.
type TrackChangesOptions struct {
	// Select lists the columns of the rows returned; empty returns them all. Dataverse keeps the
	// $select in the delta link, so a follow-up takes it from there.
	Select []string
	// DeltaLink asks for the changes since an earlier answer: its ChangePage.DeltaLink. Empty
	// starts change tracking: every row of the table, and a delta link at the end.
	DeltaLink string
	// NextLink continues an answer from a page's NextLink; DeltaLink and Select are then ignored.
	NextLink string
	// PageSize is the number of changes a page holds (Prefer: odata.maxpagesize); 0 leaves
	// Dataverse's 5,000.
	PageSize int
	// Caller runs the query as another user.
	Caller
	// MaxPages bounds ChangePages (0: no bound): an answer with more pages ends with an error
	// matching ErrTooManyPages.
	MaxPages int
}

// ChangePage is one page of a change tracking answer.
type ChangePage struct {
	// Records are the rows created or updated since the delta token; on the first answer, every
	// row of the table. Each has its @odata.etag and primary key.
	Records []Record
	// Deleted are the primary keys of the rows deleted since the delta token ($deletedEntity
	// entries). Dataverse lists them after the new and updated rows.
	Deleted []string
	// NextLink is the next page of the same answer, empty on the last page.
	NextLink string
	// DeltaLink, on the last page, is what to pass as TrackChangesOptions.DeltaLink next time to
	// get the changes made after this answer.
	DeltaLink string
	// Context is @odata.context (ending in /$delta on a follow-up's answer).
	Context string
}

// TrackChanges reads one page of a change tracking answer for entitySet, a table with change
// tracking enabled: with opts.DeltaLink empty, the first answer (every row, sent with Prefer:
// odata.track-changes); with a delta link, the rows created or updated since, then the deleted
// ones. Either ends with a DeltaLink to keep for the next call; ChangePages walks every page.
// Dataverse refuses $filter, $orderby, $expand and $top with change tracking, so only Select is
// offered.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/use-change-tracking-synchronize-data-external-systems
func (c *Client) TrackChanges(ctx context.Context, entitySet string, opts *TrackChangesOptions) (*ChangePage, *Response, error) {
	if opts == nil {
		opts = &TrackChangesOptions{}
	}
	var r *request
	switch {
	case opts.NextLink != "" || opts.DeltaLink != "":
		link := opts.NextLink
		if link == "" {
			link = opts.DeltaLink
		}
		u, err := c.resolveRawPath(link)
		if err != nil {
			return nil, nil, err
		}
		r = &request{method: http.MethodGet, url: u, header: http.Header{}}
	default:
		if err := checkName("entity set", entitySet); err != nil {
			return nil, nil, err
		}
		var q query
		if len(opts.Select) > 0 {
			s, err := renderSelect(opts.Select)
			if err != nil {
				return nil, nil, err
			}
			q.add("$select", s)
		}
		r = c.apiRequest(http.MethodGet, entitySet, q)
		r.prefer("odata.track-changes")
	}
	if opts.PageSize < 0 {
		return nil, nil, fmt.Errorf("client: negative page size %d: %w", opts.PageSize, ErrInvalidInput)
	}
	if opts.PageSize > 0 {
		r.prefer("odata.maxpagesize=" + strconv.Itoa(opts.PageSize))
	}
	if err := opts.Caller.setHeaders(r.header); err != nil {
		return nil, nil, err
	}
	resp, body, err := c.send(ctx, r)
	if err != nil {
		return nil, resp, err
	}
	var raw map[string]any
	if err := decodeJSON(body, &raw); err != nil {
		return nil, resp, fmt.Errorf("dataverse: GET %s: decode response: %w", redactURL(r.url), err)
	}
	fillControl(resp, raw)
	page := &ChangePage{}
	page.NextLink, _ = raw["@odata.nextLink"].(string)
	page.DeltaLink, _ = raw["@odata.deltaLink"].(string)
	page.Context, _ = raw["@odata.context"].(string)
	list, ok := raw["value"].([]any)
	if !ok {
		return nil, resp, fmt.Errorf("dataverse: GET %s: value is not an array", redactURL(r.url))
	}
	page.Records = make([]Record, 0, len(list))
	for _, it := range list {
		m, _ := it.(map[string]any)
		if ctx, _ := m["@odata.context"].(string); strings.HasSuffix(ctx, "/$deletedEntity") {
			id, _ := m["id"].(string)
			page.Deleted = append(page.Deleted, id)
			continue
		}
		page.Records = append(page.Records, Record(m))
	}
	return page, resp, nil
}

// ChangePages walks every page of a change tracking answer, following @odata.nextLink; the last
// page carries the DeltaLink for next time. It stops at the first error (yielded once) or when the
// caller stops ranging; with MaxPages set, an answer with more pages ends with ErrTooManyPages.
func (c *Client) ChangePages(ctx context.Context, entitySet string, opts *TrackChangesOptions) iter.Seq2[*ChangePage, error] {
	return func(yield func(*ChangePage, error) bool) {
		o := TrackChangesOptions{}
		if opts != nil {
			o = *opts
		}
		for n := 1; ; n++ {
			if o.MaxPages > 0 && n > o.MaxPages {
				yield(nil, ErrTooManyPages)
				return
			}
			page, _, err := c.TrackChanges(ctx, entitySet, &o)
			if err != nil {
				yield(nil, err)
				return
			}
			if !yield(page, nil) || page.NextLink == "" {
				return
			}
			o.NextLink = page.NextLink
		}
	}
}

// CountChanges returns how many rows of entitySet were created, updated or deleted since the
// delta token of deltaLink, through GET {set}/$count?$deltatoken=....
func (c *Client) CountChanges(ctx context.Context, entitySet, deltaLink string) (int64, *Response, error) {
	if err := checkName("entity set", entitySet); err != nil {
		return 0, nil, err
	}
	_, rawQuery, ok := strings.Cut(deltaLink, "?")
	token := ""
	for _, kv := range strings.Split(rawQuery, "&") {
		if v, found := strings.CutPrefix(kv, "$deltatoken="); found {
			token = v
		} else if v, found := strings.CutPrefix(kv, "%24deltatoken="); found {
			token = v
		}
	}
	if !ok || token == "" {
		return 0, nil, fmt.Errorf("client: %q is not a delta link (no $deltatoken): %w", deltaLink, ErrInvalidInput)
	}
	r := &request{method: http.MethodGet, url: c.apiBase + entitySet + "/$count?$deltatoken=" + token, header: http.Header{}}
	resp, body, err := c.send(ctx, r)
	if err != nil {
		return 0, resp, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(strings.TrimPrefix(string(body), "\ufeff")), 10, 64)
	if err != nil {
		return 0, resp, fmt.Errorf("dataverse: GET %s: the count is not a number: %q", redactURL(r.url), body)
	}
	return n, resp, nil
}
