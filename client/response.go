package client

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Record is one row: column (or annotation) name to value. An absent key is absent, a nil value is
// JSON null. Numbers decode as json.Number, which keeps the scale of money and decimal values;
// lookups read as _<name>_value GUID strings and are written as "<nav>@odata.bind" (see Bind).
type Record map[string]any

// ETag returns the row's "@odata.etag", or "" if it has none.
func (r Record) ETag() string {
	s, _ := r["@odata.etag"].(string)
	return s
}

// Response describes the HTTP response behind a call. Fields a response does not carry are zero.
type Response struct {
	// StatusCode is the HTTP status, such as 200, 201, 204 or 304.
	StatusCode int
	// Header is the response header.
	Header http.Header
	// ETag is the ETag header, or the row's @odata.etag when the header is absent.
	ETag string
	// EntityID is the OData-EntityId header: the URL of the row created or upserted.
	EntityID string
	// ID is the GUID in EntityID's trailing parentheses, such as the id of a new row.
	ID string
	// NextLink is @odata.nextLink, the URL of the next page of a query.
	NextLink string
	// Count is @odata.count (queries that ask for it), or -1.
	Count int64
	// PreferenceApplied lists the preferences the service honoured, one per entry, such as
	// return=representation and odata.include-annotations="*".
	PreferenceApplied []string
	// Created is true when an upsert created the row (201 Created). It is only reliable when the
	// representation is asked for: without it Dataverse answers 204 either way.
	Created bool
}

func newResponse(status int, h http.Header) *Response {
	r := &Response{StatusCode: status, Header: h, Count: -1, ETag: h.Get("ETag")}
	r.EntityID = h.Get("OData-EntityId")
	r.ID = idFromEntityURL(r.EntityID)
	for _, v := range h.Values("Preference-Applied") {
		r.PreferenceApplied = append(r.PreferenceApplied, splitPreferences(v)...)
	}
	return r
}

// idFromEntityURL returns the GUID between the last parentheses of an entity URL, or "".
func idFromEntityURL(u string) string {
	if !strings.HasSuffix(u, ")") {
		return ""
	}
	open := strings.LastIndexByte(u, '(')
	if open < 0 {
		return ""
	}
	id := u[open+1 : len(u)-1]
	if !isGUID(id) {
		return ""
	}
	return trimBraces(id)
}

// splitPreferences splits a Prefer or Preference-Applied value on commas outside double quotes.
func splitPreferences(v string) []string {
	var out []string
	inQuote := false
	start := 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			inQuote = !inQuote
		case ',':
			if !inQuote {
				if p := strings.TrimSpace(v[start:i]); p != "" {
					out = append(out, p)
				}
				start = i + 1
			}
		}
	}
	if p := strings.TrimSpace(v[start:]); p != "" {
		out = append(out, p)
	}
	return out
}

// Applied reports whether the service echoed the preference p (compared case-insensitively), such as
// resp.Applied("return=representation").
func (r *Response) Applied(p string) bool {
	for _, a := range r.PreferenceApplied {
		if strings.EqualFold(a, p) {
			return true
		}
	}
	return false
}

var utf8BOM = []byte("\ufeff")

// decodeJSON decodes a body with UseNumber, so numbers keep their exact text.
func decodeJSON(body []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(bytes.TrimPrefix(body, utf8BOM)))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	// Anything but white space after the value (a stray "]" included) is an error.
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("unexpected data after the JSON value")
	}
	return nil
}

// decodeRecord decodes a row (or any JSON object) and copies the OData control information it carries
// (@odata.etag, @odata.nextLink, @odata.count) into resp.
func decodeRecord(method, rawURL string, body []byte, resp *Response) (Record, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	var rec Record
	if err := decodeJSON(body, &rec); err != nil {
		return nil, fmt.Errorf("dataverse: %s %s: decode response: %w", method, redactURL(rawURL), err)
	}
	fillControl(resp, rec)
	return rec, nil
}

func fillControl(resp *Response, obj map[string]any) {
	if resp == nil || obj == nil {
		return
	}
	if resp.ETag == "" {
		if s, ok := obj["@odata.etag"].(string); ok {
			resp.ETag = s
		}
	}
	if s, ok := obj["@odata.nextLink"].(string); ok {
		resp.NextLink = s
	}
	if n, ok := obj["@odata.count"].(json.Number); ok {
		if v, err := n.Int64(); err == nil {
			resp.Count = v
		}
	}
}
