package client

import (
	"context"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
)

// QueryOptions adjusts QueryRecords and its iterators: the OData query options Dataverse accepts
// ($select, $filter, $orderby, $expand, $top, $count, $apply, parameter aliases), the page size and
// annotations it reads from Prefer, a next link to continue from, and a bound on pages.
type QueryOptions struct {
	// Select lists the columns; empty returns them all.
	Select []string
	// Filter is an OData $filter expression, sent as written (the client percent-encodes it).
	Filter string
	// OrderBy lists sort keys such as "revenue desc".
	OrderBy []string
	// Expand returns related rows.
	Expand []Expand
	// Top caps the number of rows (no next page follows). Dataverse ignores it with PageSize.
	Top int
	// Count asks for @odata.count (capped at 5,000 by Dataverse).
	Count bool
	// Apply is an OData $apply aggregation such as "groupby((statuscode),aggregate($count as count))".
	Apply string
	// Params are parameter aliases used in Filter, such as {"@p1", "'lastname'"}.
	Params []KeyValue
	// PageSize is the number of rows a page holds (Prefer: odata.maxpagesize); 0 leaves Dataverse's
	// 5,000.
	PageSize int
	// IncludeAnnotations asks for annotations, such as "*".
	IncludeAnnotations string
	// NextLink continues from a page's NextLink (the Prismatic component's "Next Page ID"); the other query
	// options are then carried by the link and ignored, but PageSize must be the same as before.
	NextLink string
	// Caller runs the query as another user.
	Caller
	// MaxPages bounds QueryPages and QueryAll (0: no bound). A query with more pages ends with an
	// error matching ErrTooManyPages, where the Prismatic component stops silently after 100 pages.
	MaxPages int
}

// Page is one page of a query.
type Page struct {
	Records []Record
	// NextLink is the @odata.nextLink to the next page, empty on the last page.
	NextLink string
	// Count is @odata.count, or -1 when it was not asked for.
	Count int64
	// Context is @odata.context.
	Context string
	// Annotations holds the other root annotations (for example
	// @Microsoft.Dynamics.CRM.totalrecordcount).
	Annotations map[string]any
}

// ErrTooManyPages is returned by QueryAll when a query has more pages than QueryOptions.MaxPages.
var ErrTooManyPages = fmt.Errorf("client: more pages than QueryOptions.MaxPages: %w", ErrInvalidInput)

// QueryRecords reads one page of rows of entitySet.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/overview
func (c *Client) QueryRecords(ctx context.Context, entitySet string, opts *QueryOptions) (*Page, *Response, error) {
	if opts == nil {
		opts = &QueryOptions{}
	}
	var r *request
	if opts.NextLink != "" {
		u, err := c.resolveRawPath(opts.NextLink)
		if err != nil {
			return nil, nil, err
		}
		r = &request{method: http.MethodGet, url: u, header: http.Header{}}
	} else {
		if err := checkName("entity set", entitySet); err != nil {
			return nil, nil, err
		}
		q, err := opts.query()
		if err != nil {
			return nil, nil, err
		}
		r = c.apiRequest(http.MethodGet, entitySet, q)
	}
	if opts.PageSize < 0 {
		return nil, nil, fmt.Errorf("client: negative page size %d: %w", opts.PageSize, ErrInvalidInput)
	}
	if opts.PageSize > 0 {
		r.prefer("odata.maxpagesize=" + strconv.Itoa(opts.PageSize))
	}
	if opts.IncludeAnnotations != "" {
		r.prefer(`odata.include-annotations="` + opts.IncludeAnnotations + `"`)
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
	page := &Page{Count: -1, Annotations: map[string]any{}}
	for k, v := range raw {
		switch k {
		case "value":
			list, ok := v.([]any)
			if !ok {
				return nil, resp, fmt.Errorf("dataverse: GET %s: value is not an array", redactURL(r.url))
			}
			page.Records = make([]Record, 0, len(list))
			for _, it := range list {
				m, _ := it.(map[string]any)
				page.Records = append(page.Records, Record(m))
			}
		case "@odata.nextLink":
			page.NextLink, _ = v.(string)
		case "@odata.context":
			page.Context, _ = v.(string)
		default:
			if strings.HasPrefix(k, "@") {
				page.Annotations[k] = v
			}
		}
	}
	page.Count = resp.Count
	return page, resp, nil
}

func (o *QueryOptions) query() (query, error) {
	var q query
	if len(o.Select) > 0 {
		s, err := renderSelect(o.Select)
		if err != nil {
			return nil, err
		}
		q.add("$select", s)
	}
	if o.Filter != "" {
		q.add("$filter", o.Filter)
	}
	if o.Count {
		q.add("$count", "true")
	}
	if o.Top < 0 {
		return nil, fmt.Errorf("client: negative $top %d: %w", o.Top, ErrInvalidInput)
	}
	if o.Top > 0 {
		q.add("$top", strconv.Itoa(o.Top))
	}
	if len(o.OrderBy) > 0 {
		q.add("$orderby", strings.Join(o.OrderBy, ","))
	}
	if len(o.Expand) > 0 {
		e, err := renderExpand(o.Expand)
		if err != nil {
			return nil, err
		}
		q.add("$expand", e)
	}
	if o.Apply != "" {
		q.add("$apply", o.Apply)
	}
	for _, p := range o.Params {
		if !strings.HasPrefix(p.Key, "@") {
			return nil, fmt.Errorf("client: parameter alias %q must start with @: %w", p.Key, ErrInvalidInput)
		}
		q = append(q, p)
	}
	return q, nil
}

// QueryPages walks every page of a query, following @odata.nextLink. It stops at the first error
// (yielded once) or when the caller stops ranging; with MaxPages set, a query with more pages ends
// with ErrTooManyPages rather than a silent cut.
func (c *Client) QueryPages(ctx context.Context, entitySet string, opts *QueryOptions) iter.Seq2[*Page, error] {
	return func(yield func(*Page, error) bool) {
		o := QueryOptions{}
		if opts != nil {
			o = *opts
		}
		for n := 1; ; n++ {
			if o.MaxPages > 0 && n > o.MaxPages {
				yield(nil, ErrTooManyPages)
				return
			}
			page, _, err := c.QueryRecords(ctx, entitySet, &o)
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

// QueryAll walks every row of every page of a query.
func (c *Client) QueryAll(ctx context.Context, entitySet string, opts *QueryOptions) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for page, err := range c.QueryPages(ctx, entitySet, opts) {
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

// Count returns the number of rows of entitySet matching filter (empty: all rows), through
// GET {set}/$count. Dataverse answers with the exact number.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/count-rows
func (c *Client) Count(ctx context.Context, entitySet, filter string) (int64, *Response, error) {
	if err := checkName("entity set", entitySet); err != nil {
		return 0, nil, err
	}
	var q query
	if filter != "" {
		q.add("$filter", filter)
	}
	r := c.apiRequest(http.MethodGet, entitySet+"/$count", q)
	resp, body, err := c.send(ctx, r)
	if err != nil {
		return 0, resp, err
	}
	n, err := strconv.ParseInt(strings.TrimSpace(string(trimBOM(body))), 10, 64)
	if err != nil {
		return 0, resp, fmt.Errorf("dataverse: GET %s: count is not a number: %q", redactURL(r.url), body)
	}
	return n, resp, nil
}

func trimBOM(b []byte) []byte {
	if len(b) >= 3 && b[0] == 0xef && b[1] == 0xbb && b[2] == 0xbf {
		return b[3:]
	}
	return b
}
