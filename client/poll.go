package client

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// PollCursor is where PollChanges stopped: persist it (it marshals to JSON) and pass it to the next
// call. Build it only through PollChanges; the zero cursor means "from the beginning".
//
// A timestamp alone cannot be a cursor: Dataverse stamps modifiedon to the second, so rows written in
// the cursor's second after a poll would be lost with "modifiedon gt cursor", and reported again
// with "ge". PollChanges therefore reads with ge and remembers which row versions it has already
// reported from that instant on, skipping exactly those.
type PollCursor struct {
	// ModifiedOn is where the next poll starts reading (modifiedon ge ModifiedOn). It is normally
	// the latest modifiedon read so far, earlier when PollOptions.Overlap or a page boundary in the
	// service's current second calls for reading some rows again. Zero reads every row.
	ModifiedOn time.Time `json:"modifiedOn"`
	// CreatedSince is when rows began to be new to the poller: a row reported for the first time
	// is created if its createdon is at or after it (zero: always).
	CreatedSince time.Time `json:"createdSince,omitzero"`
	// Seen lists, by id, the latest version reported of each row modified at or after ModifiedOn
	// (or CreatedSince, when earlier).
	Seen []PollSeen `json:"seen,omitempty"`
}

// PollSeen is one row version PollChanges has reported.
type PollSeen struct {
	ID         string    `json:"id"`
	ModifiedOn time.Time `json:"modifiedOn"`
	// Version is the row's @odata.etag (or versionnumber), which tells two changes made in the same
	// second apart; "" when the service returned neither.
	Version string `json:"version,omitempty"`
}

// PollOptions adjusts PollChanges: the inputs of the Prismatic component's "New and Updated
// Records" trigger, plus what polling without losses needs.
type PollOptions struct {
	// PrimaryKey is the table's primary id column, such as "accountid", used as the tie-breaking
	// sort key and to recognise rows. Empty looks it up in EntityDefinitions, which costs one more
	// request per poll: set it when you know it.
	PrimaryKey string
	// Filter is an extra OData $filter, combined with the modifiedon condition by "and".
	Filter string
	// Select lists the columns to return; empty returns them all. The primary key, createdon and
	// modifiedon are added when missing, since polling needs them.
	Select []string
	// PageSize is the number of rows per page (Prefer: odata.maxpagesize); 0 leaves Dataverse's
	// 5,000.
	PageSize int
	// MaxPages bounds the pages with new changes read by one poll (0: no bound). When it stops a
	// poll early, PollResult.More is set and the cursor resumes where it stopped. Pages holding only
	// rows already reported do not count, so that a poll always makes progress, however many rows
	// share one timestamp. A bound also ends a poll of a table written faster than it is read.
	MaxPages int
	// Since and LookBack apply to the first poll only (a nil cursor): report the rows changed at or
	// after Since, or else in the LookBack window before now (by the client's clock), and count the
	// rows created in that time as created. With neither, the first poll reports nothing and only
	// marks where the next one starts.
	Since    time.Time
	LookBack time.Duration
	// Overlap makes every poll read again this much before the latest modifiedon it has seen
	// (duplicates are still skipped), so that rows whose transaction committed after a poll with a
	// modifiedon stamped before it are not lost. Dataverse stamps modifiedon when an operation
	// starts, not when it commits; a few seconds cover long synchronous plug-in chains, and clock skew between the Date header and the
	// stamps. Zero trusts commits to be immediate.
	Overlap time.Duration
}

// PollResult is what changed since the cursor.
type PollResult struct {
	// Created holds the rows reported for the first time that are new since the poller started:
	// createdon at or after Cursor.CreatedSince, or equal to modifiedon. Unlike the Prismatic
	// component, which splits on createdon == modifiedon alone, a row created then updated between two polls (by a plug-in,
	// say) is created. Updated holds the other changed rows. Both are in (modifiedon, primary key)
	// order. A row changed again while a poll walked its pages can appear twice, once per version.
	Created, Updated []Record
	// Cursor is where the next poll starts.
	Cursor PollCursor
	// More reports that MaxPages stopped the poll before the last page: poll again soon.
	More bool
}

// dataverseTime is how the Web API writes date and time columns.
const dataverseTime = "2006-01-02T15:04:05Z"

// PollChanges returns the rows of the table behind entitySet (such as "accounts") created or updated
// since cursor: what the Prismatic component's "New and Updated Records" polling trigger reports,
// without its losses and repeats. It reads
//
//	GET {set}?$filter=(<Filter>) and modifiedon ge <cursor>&$orderby=modifiedon asc,<key> asc
//
// page by page to the end (or MaxPages), skips the row versions the cursor says were already
// reported, and returns the rest with the cursor to pass next time. Every change is then reported
// once, across pages and polls, as long as the cursor is persisted after the changes are handled
// (and, if writes can become visible after the poll that follows their modifiedon stamp, within
// Overlap). Several changes of a row between two polls are reported once, as its latest version.
// Dates are compared as times, never as strings, so a cursor never becomes empty or malformed.
//
// Paging follows Dataverse's paging cookie, which continues after the sort values of the previous
// page's last row. A row written during the walk, in the same second as such a page boundary but
// with a smaller id, sorts before the boundary and is not returned by the rest of the walk. So when
// a boundary's modifiedon is within a second of the page's Date header (the service's clock), the
// next poll starts reading from that boundary again instead of from the latest modifiedon.
//
// A nil cursor is the first poll. Without Since or LookBack it reports nothing and marks the
// current end of the table: it reads the rows with the latest modifiedon (one small page, newest
// first) so that the cursor comes from the service's own stamps rather than from a local clock that
// may be skewed. An empty table gives a zero cursor, from which the next poll reads everything.
// (The Prismatic component instead queries "modifiedon gt now" with the local time: a query for
// nothing that also loses the rows written in that second.)
//
// opts may be nil. The *Response is that of the last page read (nil when the call failed before
// reading one); the result is nil whenever the error is not.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/page-results
func (c *Client) PollChanges(ctx context.Context, entitySet string, cursor *PollCursor, opts *PollOptions) (*PollResult, *Response, error) {
	if opts == nil {
		opts = &PollOptions{}
	}
	if err := checkName("entity set", entitySet); err != nil {
		return nil, nil, err
	}
	if opts.PageSize < 0 || opts.MaxPages < 0 || opts.LookBack < 0 || opts.Overlap < 0 {
		return nil, nil, fmt.Errorf("client: poll %s: PageSize, MaxPages, LookBack and Overlap must not be negative: %w", entitySet, ErrInvalidInput)
	}
	pk := opts.PrimaryKey
	if pk == "" {
		var err error
		if pk, err = c.primaryIDAttribute(ctx, entitySet); err != nil {
			return nil, nil, err
		}
	} else if err := checkName("primary key", pk); err != nil {
		return nil, nil, err
	}
	w := c.startPoll(cursor, opts)
	if w == nil {
		return c.pollBaseline(ctx, entitySet, pk, opts)
	}
	resp, err := c.walkPoll(ctx, entitySet, pk, opts, w)
	if err != nil {
		return nil, resp, err
	}
	return w.finish(opts.Overlap), resp, nil
}

// pollWalk is a poll under way: where it reads from, what it has read and what it reports.
type pollWalk struct {
	lower        time.Time // the first instant read: rows modified before it can no longer come back
	createdSince time.Time
	high         time.Time // the latest modifiedon read
	rewind       time.Time // the earliest page boundary that rows may still be written behind
	seen         map[string]PollSeen
	res          PollResult
}

// startPoll starts from the cursor, or else from Since or LookBack. It returns nil for a first poll
// with neither, which only marks where the next one starts.
func (c *Client) startPoll(cursor *PollCursor, opts *PollOptions) *pollWalk {
	w := &pollWalk{seen: map[string]PollSeen{}}
	switch {
	case cursor != nil:
		w.lower = toSecond(cursor.ModifiedOn)
		w.createdSince = cursor.CreatedSince.UTC()
		for _, s := range cursor.Seen {
			if prev, ok := w.seen[s.ID]; !ok || prev.ModifiedOn.Before(s.ModifiedOn) {
				w.seen[s.ID] = s
			}
		}
	case !opts.Since.IsZero():
		w.lower = toSecond(opts.Since)
		w.createdSince = w.lower
	case opts.LookBack > 0:
		w.lower = toSecond(c.now().Add(-opts.LookBack))
		w.createdSince = w.lower
	default:
		return nil
	}
	w.high = w.lower
	return w
}

// walkPoll reads the pages from w.lower on, to the last one or MaxPages, and returns the response
// of the last page read.
func (c *Client) walkPoll(ctx context.Context, entitySet, pk string, opts *PollOptions, w *pollWalk) (*Response, error) {
	q := &QueryOptions{
		Select:   pollSelect(opts.Select, pk),
		Filter:   pollFilter(opts.Filter, w.lower),
		OrderBy:  []string{"modifiedon asc", pk + " asc"},
		PageSize: opts.PageSize,
	}
	for pages := 0; ; {
		page, resp, err := c.QueryRecords(ctx, entitySet, q)
		if err != nil {
			return resp, fmt.Errorf("client: poll %s: %w", entitySet, err)
		}
		fresh, last, err := w.take(page.Records, pk)
		if err != nil {
			return resp, fmt.Errorf("client: poll %s: %w", entitySet, err)
		}
		if page.NextLink == "" {
			return resp, nil
		}
		if len(page.Records) > 0 && boundaryMayMove(last, resp.Header.Get("Date"), opts.Overlap) &&
			(w.rewind.IsZero() || last.Before(w.rewind)) {
			w.rewind = last
		}
		if fresh > 0 {
			pages++
		}
		if opts.MaxPages > 0 && pages >= opts.MaxPages {
			w.res.More = true
			return resp, nil
		}
		q = &QueryOptions{NextLink: page.NextLink, PageSize: opts.PageSize}
	}
}

// take reports the rows of a page that the poll has not reported yet. It returns how many it
// reported and the modifiedon of the page's last row, where the next page starts.
func (w *pollWalk) take(records []Record, pk string) (int, time.Time, error) {
	fresh := 0
	var last time.Time
	for _, rec := range records {
		row, err := pollRow(rec, pk)
		if err != nil {
			return fresh, last, err
		}
		last = row.ModifiedOn
		if row.ModifiedOn.Before(w.lower) {
			continue // outside the filter sent: already behind the cursor
		}
		if row.ModifiedOn.After(w.high) {
			w.high = row.ModifiedOn
		}
		prev, known := w.seen[row.ID]
		if known && (row.ModifiedOn.Before(prev.ModifiedOn) ||
			row.ModifiedOn.Equal(prev.ModifiedOn) && row.Version == prev.Version) {
			continue // reported already (or an older copy of a row reported since)
		}
		fresh++
		if !known && (row.createdOn.Equal(row.ModifiedOn) || !row.createdOn.Before(w.createdSince)) {
			w.res.Created = append(w.res.Created, rec)
		} else {
			w.res.Updated = append(w.res.Updated, rec)
		}
		w.seen[row.ID] = row.PollSeen
	}
	return fresh, last, nil
}

// finish sets the cursor the next poll starts from and returns the result.
func (w *pollWalk) finish(overlap time.Duration) *PollResult {
	next := w.high
	if !w.rewind.IsZero() && w.rewind.Before(next) {
		next = w.rewind
	}
	next = toSecond(next.Add(-overlap))
	if next.Before(w.lower) {
		next = w.lower
	}
	// A complete walk has seen every row created before next (a later one sorts after next); an
	// interrupted one may have left rows that were created, then moved ahead by an update.
	createdSince := w.createdSince
	if !w.res.More && next.After(createdSince) {
		createdSince = next
	}
	w.res.Cursor = newPollCursor(next, createdSince, w.seen)
	return &w.res
}

// boundaryMayMove reports whether rows can still be written behind a page boundary: whether its
// second may still be the service's current second, given the page's Date header. Date has a
// second's resolution and is taken after the page was read, hence the extra second; without it
// every boundary is suspect.
func boundaryMayMove(boundary time.Time, date string, overlap time.Duration) bool {
	d, err := http.ParseTime(date)
	if err != nil {
		return true
	}
	return !boundary.Before(d.Add(-time.Second - overlap))
}

// toSecond truncates t to the second, in UTC: the resolution of modifiedon and of $filter literals.
func toSecond(t time.Time) time.Time { return t.UTC().Truncate(time.Second) }

// pollBaseline is the first poll without Since or LookBack: it reports nothing and returns a cursor
// at the latest modifiedon, with the rows stamped in that second (or in the Overlap window before it)
// marked as seen. Rows count as created from the next second on: one created in the latest second
// but after this poll is still created unless it is also updated before it is first reported.
func (c *Client) pollBaseline(ctx context.Context, entitySet, pk string, opts *PollOptions) (*PollResult, *Response, error) {
	size := 50
	if opts.PageSize > 0 && opts.PageSize < size {
		size = opts.PageSize
	}
	q := QueryOptions{
		Select:   []string{pk, "modifiedon"},
		Filter:   opts.Filter,
		OrderBy:  []string{"modifiedon desc"},
		PageSize: size,
	}
	var latest, keep time.Time
	var resp *Response
	seen := map[string]PollSeen{}
walk:
	for {
		page, pageResp, err := c.QueryRecords(ctx, entitySet, &q)
		if err != nil {
			return nil, pageResp, fmt.Errorf("client: poll %s: %w", entitySet, err)
		}
		resp = pageResp
		for _, rec := range page.Records {
			row, err := pollRow(rec, pk)
			if err != nil {
				return nil, resp, fmt.Errorf("client: poll %s: %w", entitySet, err)
			}
			if latest.IsZero() {
				latest = row.ModifiedOn
				keep = toSecond(latest.Add(-opts.Overlap))
			}
			if row.ModifiedOn.Before(keep) {
				break walk
			}
			// Rows written during this walk sort before its position and are not read: they are
			// new and the next poll reports them.
			seen[row.ID] = row.PollSeen
		}
		if page.NextLink == "" {
			break
		}
		q.NextLink = page.NextLink
	}
	if latest.IsZero() {
		return &PollResult{}, resp, nil
	}
	return &PollResult{Cursor: newPollCursor(keep, toSecond(latest).Add(time.Second), seen)}, resp, nil
}

// newPollCursor keeps, in a stable order, the seen versions that the next poll can read again, and
// those of rows that could pass for created (modified, hence created, at or after createdSince,
// which lags behind next after an interrupted walk).
func newPollCursor(next, createdSince time.Time, seen map[string]PollSeen) PollCursor {
	cur := PollCursor{ModifiedOn: next, CreatedSince: createdSince}
	keep := next
	if createdSince.Before(keep) {
		keep = createdSince
	}
	for _, s := range seen {
		if !s.ModifiedOn.Before(keep) {
			cur.Seen = append(cur.Seen, s)
		}
	}
	slices.SortFunc(cur.Seen, func(a, b PollSeen) int {
		return cmp.Or(a.ModifiedOn.Compare(b.ModifiedOn), cmp.Compare(a.ID, b.ID))
	})
	return cur
}

func pollSelect(sel []string, pk string) []string {
	if len(sel) == 0 {
		return nil
	}
	out := slices.Clone(sel)
	for _, col := range []string{pk, "createdon", "modifiedon"} {
		if !slices.Contains(out, col) {
			out = append(out, col)
		}
	}
	return out
}

// pollFilter adds "modifiedon ge <lower>" to the caller's filter. The date literal is bare, as
// Dataverse wants it.
func pollFilter(filter string, lower time.Time) string {
	if lower.IsZero() {
		return filter
	}
	cond := "modifiedon ge " + lower.UTC().Format(dataverseTime)
	if filter == "" {
		return cond
	}
	return "(" + filter + ") and " + cond
}

type polledRow struct {
	PollSeen
	createdOn time.Time // zero when the row has none
}

func pollRow(rec Record, pk string) (polledRow, error) {
	var row polledRow
	id, ok := rec[pk].(string)
	if !ok || id == "" {
		return row, fmt.Errorf("row without a %s string: %v", pk, rec[pk])
	}
	row.ID = id
	var err error
	if row.ModifiedOn, err = parseDataverseTime(rec["modifiedon"]); err != nil || row.ModifiedOn.IsZero() {
		return row, fmt.Errorf("row %s: modifiedon %v is not a date", id, rec["modifiedon"])
	}
	if rec["createdon"] != nil {
		if row.createdOn, err = parseDataverseTime(rec["createdon"]); err != nil {
			return row, fmt.Errorf("row %s: createdon %v is not a date", id, rec["createdon"])
		}
	}
	row.Version = rec.ETag()
	if row.Version == "" {
		if n, ok := rec["versionnumber"].(json.Number); ok {
			row.Version = n.String()
		}
	}
	return row, nil
}

// parseDataverseTime reads a Web API date and time ("2016-09-28T22:57:53Z"), accepting fractional
// seconds and offsets too; nil is the zero time.
func parseDataverseTime(v any) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("not a string")
	}
	t, err := time.Parse(dataverseTime, s)
	if err != nil {
		if t, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return time.Time{}, err
		}
	}
	return t.UTC(), nil
}

// primaryIDAttribute looks up the primary id column of the table behind entitySet.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api
func (c *Client) primaryIDAttribute(ctx context.Context, entitySet string) (string, error) {
	page, _, err := c.QueryRecords(ctx, "EntityDefinitions", &QueryOptions{
		Select: []string{"PrimaryIdAttribute"},
		Filter: "EntitySetName eq '" + entitySet + "'",
	})
	if err != nil {
		return "", fmt.Errorf("client: poll %s: look up the primary key: %w", entitySet, err)
	}
	if len(page.Records) == 0 {
		return "", fmt.Errorf("client: poll %s: no table has this entity set name: %w", entitySet, ErrNotFound)
	}
	pk, _ := page.Records[0]["PrimaryIdAttribute"].(string)
	if err := checkName("primary key", pk); err != nil {
		return "", fmt.Errorf("client: poll %s: EntityDefinitions gave primary key %q", entitySet, pk)
	}
	return pk, nil
}
