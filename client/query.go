package client

import (
	"fmt"
	"strconv"
	"strings"
)

// query is an ordered list of query parameters. OData cares about neither order nor duplicates, but
// a stable order makes requests predictable in tests, logs and recordings.
type query []KeyValue

func (q *query) add(key, value string) { *q = append(*q, KeyValue{key, value}) }

// encode renders the query with OData-friendly escaping (see escapeQuery).
func (q query) encode() string {
	var b strings.Builder
	for i, kv := range q {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(escapeWith(kv.Key, queryKeep))
		b.WriteByte('=')
		b.WriteString(escapeWith(formatValue(kv.Value), queryValueKeep))
	}
	return b.String()
}

// formatValue renders a KeyValue value as text for a query string or a form.
func formatValue(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case []byte:
		return string(x)
	case fmt.Stringer:
		return x.String()
	default:
		return fmt.Sprint(x)
	}
}

// Characters kept as they are. Besides the unreserved ones, URLs keep the punctuation OData texts are
// made of ($ ' ( ) , : @ / * !, and = inside query values), so they stay readable:
// $select=name,revenue, $expand=primarycontactid($select=fullname) and accounts(accountnumber='A1').
// Everything else is percent-encoded. In queries that includes ; (Go's net/url drops any query pair
// containing one), & inside values, + (which some servers read as a space) and the space (as %20).
const (
	unreserved     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~"
	queryKeep      = unreserved + "$'(),:@/*!"
	queryValueKeep = queryKeep + "="
	pathKeep       = unreserved + "$'(),:@*!=+;&"
	upperhex       = "0123456789ABCDEF"
	percentEncode  = '%'
)

// escapePath escapes one path segment, such as a key between parentheses.
func escapePath(s string) string { return escapeWith(s, pathKeep) }

func escapeWith(s, keep string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x80 && strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte(percentEncode)
		b.WriteByte(upperhex[c>>4])
		b.WriteByte(upperhex[c&15])
	}
	return b.String()
}

// cleanRawURLPart percent-encodes the bytes of an already written path or query that cannot appear in a
// request line (spaces, quotes, non-ASCII, ...), leaving valid %XX escapes and the structural
// characters alone. It lets a RawRequest path be written the way the docs print URLs:
// accounts?$filter=name eq 'A'.
func cleanRawURLPart(s string, isQuery bool) string {
	keep := pathKeep + "/"
	if isQuery {
		keep = queryValueKeep + "&+?"
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			b.WriteByte(c)
			continue
		}
		if c < 0x80 && strings.IndexByte(keep, c) >= 0 {
			b.WriteByte(c)
			continue
		}
		b.WriteByte(percentEncode)
		b.WriteByte(upperhex[c>>4])
		b.WriteByte(upperhex[c&15])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// Expand is one navigation property to expand, with the options Dataverse allows inside $expand.
// It renders as prop($select=a,b;$filter=...;$orderby=...;$top=n;$expand=...).
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/join-tables
type Expand struct {
	// Property is the navigation property, such as primarycontactid or Account_Tasks.
	Property string
	// Select lists the columns of the related rows.
	Select []string
	// Filter, OrderBy and Top apply to collection-valued navigation properties only.
	Filter  string
	OrderBy []string
	Top     int
	// Expand nests further expansions.
	Expand []Expand
}

// renderExpand renders a list of expansions comma-separated, validating names.
func renderExpand(list []Expand) (string, error) {
	parts := make([]string, 0, len(list))
	for _, e := range list {
		if err := checkName("expand property", e.Property); err != nil {
			return "", err
		}
		var opts []string
		if len(e.Select) > 0 {
			sel, err := renderSelect(e.Select)
			if err != nil {
				return "", err
			}
			opts = append(opts, "$select="+sel)
		}
		if e.Filter != "" {
			opts = append(opts, "$filter="+e.Filter)
		}
		if len(e.OrderBy) > 0 {
			opts = append(opts, "$orderby="+strings.Join(e.OrderBy, ","))
		}
		if e.Top < 0 {
			return "", fmt.Errorf("client: expand %s: negative $top %d: %w", e.Property, e.Top, ErrInvalidInput)
		}
		if e.Top > 0 {
			opts = append(opts, "$top="+strconv.Itoa(e.Top))
		}
		if len(e.Expand) > 0 {
			nested, err := renderExpand(e.Expand)
			if err != nil {
				return "", err
			}
			opts = append(opts, "$expand="+nested)
		}
		if len(opts) == 0 {
			parts = append(parts, e.Property)
			continue
		}
		parts = append(parts, e.Property+"("+strings.Join(opts, ";")+")")
	}
	return strings.Join(parts, ","), nil
}

// renderSelect validates column names and joins them with commas.
func renderSelect(cols []string) (string, error) {
	for _, c := range cols {
		if err := checkName("column", c); err != nil {
			return "", err
		}
	}
	return strings.Join(cols, ","), nil
}

// addSelectExpand appends $select and $expand when given.
func (q *query) addSelectExpand(sel []string, exp []Expand) error {
	if len(sel) > 0 {
		s, err := renderSelect(sel)
		if err != nil {
			return err
		}
		q.add("$select", s)
	}
	if len(exp) > 0 {
		e, err := renderExpand(exp)
		if err != nil {
			return err
		}
		q.add("$expand", e)
	}
	return nil
}
