package client

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"regexp"
	"strings"
)

// MaxBatchActions is the most actions one Batch call takes: Dataverse refuses a $batch with more
// than 1,000 requests.
const MaxBatchActions = 1000

// BatchAction is one operation of a Batch: an entity set, what to do there (create, update, upsert,
// delete or get), the row's key and data, whether to return the row, If-Match and a Content-ID that
// later actions can refer to. The first five are the items of the Prismatic component's Run Batch
// Operations action.
type BatchAction struct {
	// Collection is the entity set, such as "accounts". Inside a change set it may also be
	// "$<id>/<navigation property>" to create a row related to the row of an earlier action.
	// With a "$<id>" Key it may be left empty.
	Collection string
	// Action is "create", "update", "upsert" or "delete", or "get" (only with
	// BatchOptions.Independent, since Dataverse refuses GET inside a change set).
	Action string
	// Key names the row of update, upsert, delete and get: a GUID, an alternate key such as
	// accountnumber='A1', or "$<id>" for the row of an earlier action in the change set.
	Key string
	// Data is the body of create, update and upsert (required; an empty Record sends {}). A
	// "<navigation>@odata.bind" value may be "$<id>" to point at the row of an earlier action.
	Data Record
	// ReturnRepresentation asks for the row back (Prefer: return=representation), for create,
	// update and upsert.
	ReturnRepresentation bool
	// IfMatch sends If-Match on update, upsert and delete. An update without it sends If-Match: *,
	// as UpdateRecord does, so that it never creates a row.
	IfMatch string
	// ContentID names the action inside the change set (the Content-ID header) so that later
	// actions can refer to its row as "$<ContentID>". It defaults to the action's 1-based position;
	// given ones must be letters, digits, '-' or '_' and unique. Independent batches carry none.
	ContentID string
}

// BatchOptions adjusts Batch.
type BatchOptions struct {
	// Independent sends every action as its own request in the batch instead of one atomic change
	// set. Each action then commits on its own, GET is allowed, and Content-ID references are not.
	Independent bool
	// ContinueOnError asks Dataverse to run every request even after one fails
	// (Prefer: odata.continue-on-error). Only meaningful with Independent: a change set stops and
	// rolls back at its first failure whatever the preference says, so it is refused without it.
	ContinueOnError bool
	// Caller runs every action as another user: the header goes on the $batch request and on
	// every part.
	Caller
}

// BatchResult is the outcome of one BatchAction.
type BatchResult struct {
	// StatusCode is the status of the action's own response, such as 201, 204 or 404 (0 when
	// NotRun).
	StatusCode int
	// Header is the header of the action's own response.
	Header http.Header
	// Record is the row in the response: the representation of a create, update or upsert that asked
	// for it, or the row of a get. Numbers decode as json.Number.
	Record Record
	// ID is the GUID at the end of the OData-EntityId header, such as the id of a created row.
	ID string
	// Err is the action's error response, parsed as any *Error.
	Err *Error
	// NotRun reports that the action had no effect: it came after the failure that stopped the
	// batch, or it belonged to the change set the failure rolled back.
	NotRun bool
}

// Batch sends actions in one POST {api}$batch request and returns one result per action, in order.
//
// By default the actions form a single change set: Dataverse runs them in order inside one
// transaction, and later actions can use the row of an earlier one through "$<ContentID>" (as the
// Key, as "$<id>/<navigation>" in Collection, or as an "x@odata.bind" value). With
// BatchOptions.Independent each action is a request of its own.
//
// Everything is checked before anything is sent, and a bad batch (no actions, more than
// MaxBatchActions, an unknown action, a missing key or data, a GET in a change set, a reference to
// no earlier action) is refused with an error wrapping ErrInvalidInput.
//
// The request is written the way Dataverse documents it and the dynamics-web-api library sends it:
// multipart/mixed with a batch_<uuid> boundary and CRLF line ends; each part Content-Type:
// application/http and Content-Transfer-Encoding: binary (plus Content-ID inside the change set,
// which is a nested multipart/mixed part with a changeset_<uuid> boundary); inside, a request line
// with an absolute URL (or a $<id> reference), Content-Type: application/json (Accept for get), the
// action's Prefer and If-Match, and the JSON body.
//
// The answer is read as a multipart body (batchresponse_ parts, changesetresponse_ for the change
// set), each part an HTTP response. Parts are matched to actions by Content-ID inside a change set
// and by position otherwise. How the batch went shows in the status:
//
//   - 200: every action has a result; an action that failed has Err set (with ContinueOnError, or
//     in the change set of a server that answers 200). Batch returns no error.
//   - 400 (Dataverse stopped at a failure): the failing action has Err, the actions after it (and,
//     in a change set, all the others, which were rolled back) have NotRun. Batch returns the
//     results with an error that wraps the failing action's *Error, so errors.As and errors.Is
//     (ErrNotFound, ...) see it. Dataverse answers for the requests it ran, in order; when a change
//     set answer does not say which action failed, every action is NotRun and the error still
//     carries the failure.
//   - any other error status without a batch body (401, 413, a malformed batch): no results and
//     the *Error.
//
// A body that cannot be read gives an error without results; after a 200 the changes may have been
// applied.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/execute-batch-operations-using-web-api
func (c *Client) Batch(ctx context.Context, actions []BatchAction, opts *BatchOptions) ([]BatchResult, *Response, error) {
	if opts == nil {
		opts = &BatchOptions{}
	}
	if opts.ContinueOnError && !opts.Independent {
		return nil, nil, fmt.Errorf("client: batch: ContinueOnError needs Independent (a change set always stops and rolls back at its first failure): %w", ErrInvalidInput)
	}
	caller := http.Header{}
	if err := opts.Caller.setHeaders(caller); err != nil {
		return nil, nil, err
	}
	ops, err := c.batchOps(actions, opts.Independent, caller)
	if err != nil {
		return nil, nil, err
	}
	body, boundary := writeBatch(ops, opts.Independent)

	r := c.apiRequest(http.MethodPost, "$batch", nil)
	r.body = body
	r.contentType = "multipart/mixed; boundary=" + boundary
	if opts.ContinueOnError {
		r.prefer("odata.continue-on-error")
	}
	for k, v := range caller {
		r.header[k] = v
	}
	resp, respBody, err := c.send(ctx, r)
	var outer *Error
	if err != nil && !errors.As(err, &outer) {
		return nil, resp, err // no answer at all
	}
	if outer != nil && !isMultipartMixed(resp.Header.Get("Content-Type")) {
		return nil, resp, err // the batch itself was refused
	}
	if outer != nil {
		// The message newError took from the body would be the start of the multipart text.
		outer.Message = http.StatusText(outer.StatusCode)
	}
	groups, perr := readBatchResponse(resp.Header.Get("Content-Type"), respBody)
	if perr == nil {
		var results []BatchResult
		var unattributed *Error
		results, unattributed, perr = c.matchBatch(ops, groups, opts.Independent, outer != nil)
		if perr == nil {
			if outer == nil {
				return results, resp, nil
			}
			return results, resp, batchFailure(ops, results, unattributed, outer, opts.Independent)
		}
	}
	if outer != nil {
		return nil, resp, fmt.Errorf("dataverse: POST %s: batch answer cannot be read (%v): %w", redactURL(r.url), perr, outer)
	}
	return nil, resp, fmt.Errorf("dataverse: POST %s: %d answer cannot be read, the changes may have been applied: %w",
		redactURL(r.url), resp.StatusCode, perr)
}

// batchFailure builds the error Batch returns with a batch that stopped at a failure.
func batchFailure(ops []batchOp, results []BatchResult, unattributed, outer *Error, independent bool) error {
	rolledBack := "the change set was rolled back"
	if independent {
		rolledBack = "later requests were not run"
	}
	for i, res := range results {
		if res.Err != nil {
			return fmt.Errorf("dataverse: $batch stopped at action %d (%s), %s: %w", i+1, ops[i].action, rolledBack, res.Err)
		}
	}
	if unattributed != nil {
		return fmt.Errorf("dataverse: $batch failed at an action the answer does not name, %s: %w", rolledBack, unattributed)
	}
	return outer
}

// batchOp is a validated action, ready to be written.
type batchOp struct {
	action    string
	method    string
	target    string // absolute URL, or a $<id> reference
	contentID string // "" outside a change set
	header    [][2]string
	body      []byte // nil: none
}

var (
	contentIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)
	referencePattern = regexp.MustCompile(`^\$([A-Za-z0-9_-]+)$`)
)

// batchOps validates the actions and turns them into requests.
func (c *Client) batchOps(actions []BatchAction, independent bool, caller http.Header) ([]batchOp, error) {
	switch {
	case len(actions) == 0:
		return nil, fmt.Errorf("client: batch has no actions: %w", ErrInvalidInput)
	case len(actions) > MaxBatchActions:
		return nil, fmt.Errorf("client: batch has %d actions, Dataverse takes at most %d per $batch: split it: %w",
			len(actions), MaxBatchActions, ErrInvalidInput)
	}
	ops := make([]batchOp, 0, len(actions))
	refs := batchRefs{independent: independent, ids: map[string]bool{}}
	for i, a := range actions {
		op, err := c.batchOp(a, i, refs)
		if err != nil {
			return nil, fmt.Errorf("client: batch action %d (%s %s): %w", i+1, a.Action, a.Collection, err)
		}
		for _, k := range []string{"MSCRMCallerID", "CallerObjectId"} {
			if v := caller.Get(k); v != "" {
				op.header = append(op.header, [2]string{k, v})
			}
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// batchOp validates one action and turns it into a request. The checks run in a fixed order, so
// that an action with several faults is always refused for the same one.
func (c *Client) batchOp(a BatchAction, i int, refs batchRefs) (batchOp, error) {
	op := batchOp{action: strings.ToLower(strings.TrimSpace(a.Action))}
	var err error
	if op.method, err = batchMethod(op.action, a, refs.independent); err != nil {
		return op, err
	}
	if op.target, err = c.batchTarget(a, refs); err != nil {
		return op, err
	}
	if err := refs.checkBinds(a.Data); err != nil {
		return op, err
	}
	if op.contentID, err = refs.take(a.ContentID, i); err != nil {
		return op, err
	}
	op.header = batchHeaders(op, a)
	if a.Data != nil {
		if op.body, err = marshalBody(a.Data); err != nil {
			return op, invalidInput("encode Data: %v", err)
		}
	}
	return op, nil
}

// invalidInput is the error of an action that cannot be sent as it is.
func invalidInput(format string, args ...any) error {
	return fmt.Errorf(format+": %w", append(args, ErrInvalidInput)...)
}

// batchMethod is the HTTP method of an action, once the action is known to come with the key,
// data and options it takes.
func batchMethod(action string, a BatchAction, independent bool) (string, error) {
	var method string
	switch action {
	case "create":
		method = http.MethodPost
		if a.Key != "" {
			return "", invalidInput("create takes no key (upsert creates a row with a given key)")
		}
	case "update", "upsert":
		method = http.MethodPatch
	case "delete":
		method = http.MethodDelete
	case "get":
		method = http.MethodGet
		if !independent {
			return "", invalidInput("get is not allowed in a change set: set BatchOptions.Independent")
		}
	default:
		return "", invalidInput("unknown action %q: want create, update, upsert, delete or get", a.Action)
	}
	switch action {
	case "create", "update", "upsert":
		if a.Data == nil {
			return "", invalidInput("%s needs Data", action)
		}
	default:
		if a.Data != nil {
			return "", invalidInput("%s takes no Data", action)
		}
		if a.ReturnRepresentation {
			return "", invalidInput("%s cannot return a representation", action)
		}
	}
	if action != "create" && a.Key == "" {
		return "", invalidInput("%s needs a Key (a GUID, an alternate key or a $<id> reference)", action)
	}
	if a.IfMatch != "" && (action == "create" || action == "get") {
		return "", invalidInput("%s takes no IfMatch", action)
	}
	return method, nil
}

// batchTarget is the URL an action's request goes to: the row or collection it names, or a
// "$<id>" reference that Dataverse resolves to the URL of an earlier action's row.
func (c *Client) batchTarget(a BatchAction, refs batchRefs) (string, error) {
	if strings.HasPrefix(a.Key, "$") {
		if err := refs.check("key", a.Key); err != nil {
			return "", err
		}
		if a.Collection != "" {
			if err := checkName("entity set", a.Collection); err != nil {
				return "", err
			}
		}
		return a.Key, nil
	}
	var base string
	if ref, nav, ok := strings.Cut(a.Collection, "/"); ok && strings.HasPrefix(ref, "$") {
		if err := refs.check("collection", ref); err != nil {
			return "", err
		}
		if err := checkName("navigation property", nav); err != nil {
			return "", err
		}
		base = a.Collection
	} else {
		if err := checkName("entity set", a.Collection); err != nil {
			return "", err
		}
		base = c.apiBase + a.Collection
	}
	if a.Key != "" {
		k, err := normalizeKey(a.Key)
		if err != nil {
			return "", err
		}
		base += "(" + escapePath(k) + ")"
	}
	return base, nil
}

// batchHeaders are the headers of an action's own request.
func batchHeaders(op batchOp, a BatchAction) [][2]string {
	var h [][2]string
	if op.method == http.MethodGet {
		h = append(h, [2]string{"Accept", "application/json"})
	} else {
		h = append(h, [2]string{"Content-Type", "application/json"})
	}
	if a.ReturnRepresentation {
		h = append(h, [2]string{"Prefer", "return=representation"})
	}
	ifMatch := a.IfMatch
	if ifMatch == "" && op.action == "update" {
		ifMatch = "*"
	}
	if ifMatch != "" {
		h = append(h, [2]string{"If-Match", ifMatch})
	}
	return h
}

// batchRefs are the Content-IDs of the actions so far, which later actions of a change set may
// refer to as "$<id>".
type batchRefs struct {
	independent bool
	ids         map[string]bool
}

// check checks a "$<id>" reference to an earlier action of the change set.
func (r batchRefs) check(what, ref string) error {
	m := referencePattern.FindStringSubmatch(ref)
	switch {
	case m == nil:
		return invalidInput("%s %q is not a reference such as $1", what, ref)
	case r.independent:
		return invalidInput("%s %q: Content-ID references only work inside a change set, not with Independent", what, ref)
	case !r.ids[m[1]]:
		return invalidInput("%s %q names no earlier action of the change set", what, ref)
	}
	return nil
}

// checkBinds checks the "$<id>" values of data's "@odata.bind" properties, which bind to rows of
// earlier actions.
func (r batchRefs) checkBinds(data Record) error {
	for k, v := range data {
		if s, ok := v.(string); ok && strings.HasSuffix(k, "@odata.bind") && strings.HasPrefix(s, "$") {
			if err := r.check(k, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// take records the Content-ID of the action at index i: given, or else its 1-based position.
// Outside a change set there are none.
func (r batchRefs) take(given string, i int) (string, error) {
	if r.independent {
		if given != "" {
			return "", invalidInput("ContentID %q: Content-IDs only exist inside a change set, not with Independent", given)
		}
		return "", nil
	}
	id := given
	if id == "" {
		id = fmt.Sprint(i + 1)
	} else if !contentIDPattern.MatchString(id) {
		return "", invalidInput("ContentID %q: want letters, digits, '-' or '_'", id)
	}
	if r.ids[id] {
		return "", invalidInput("ContentID %q is used twice", id)
	}
	r.ids[id] = true
	return id, nil
}

// marshalBody renders a record as compact JSON without HTML escaping, like request.setJSON.
func marshalBody(r Record) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(r); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// writeBatch renders the multipart/mixed body and returns it with its boundary.
func writeBatch(ops []batchOp, independent bool) ([]byte, string) {
	var b bytes.Buffer
	batch := "batch_" + batchUUID()
	if independent {
		for _, op := range ops {
			b.WriteString("--" + batch + "\r\n")
			writeBatchPart(&b, op)
		}
	} else {
		changeSet := "changeset_" + batchUUID()
		b.WriteString("--" + batch + "\r\n")
		b.WriteString("Content-Type: multipart/mixed; boundary=" + changeSet + "\r\n\r\n")
		for _, op := range ops {
			b.WriteString("--" + changeSet + "\r\n")
			writeBatchPart(&b, op)
		}
		b.WriteString("--" + changeSet + "--\r\n")
	}
	b.WriteString("--" + batch + "--\r\n")
	return b.Bytes(), batch
}

// writeBatchPart writes one application/http part, ending with the CRLF that starts the next
// delimiter.
func writeBatchPart(b *bytes.Buffer, op batchOp) {
	b.WriteString("Content-Type: application/http\r\n")
	b.WriteString("Content-Transfer-Encoding: binary\r\n")
	if op.contentID != "" {
		b.WriteString("Content-ID: " + op.contentID + "\r\n")
	}
	b.WriteString("\r\n")
	b.WriteString(op.method + " " + op.target + " HTTP/1.1\r\n")
	for _, h := range op.header {
		b.WriteString(h[0] + ": " + h[1] + "\r\n")
	}
	b.WriteString("\r\n")
	b.Write(op.body)
	b.WriteString("\r\n")
}

// batchUUID returns a random (version 4) UUID.
func batchUUID() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

func isMultipartMixed(ct string) bool {
	mt, params, err := mime.ParseMediaType(ct)
	return err == nil && mt == "multipart/mixed" && params["boundary"] != ""
}

// batchGroup is a top-level part of a batch answer: one response, or a change set of them.
type batchGroup struct {
	changeSet bool
	parts     []batchPart
}

// batchPart is one embedded HTTP response.
type batchPart struct {
	contentID string
	status    int
	header    http.Header
	body      []byte
}

// readBatchResponse splits a multipart/mixed batch answer into its responses.
func readBatchResponse(contentType string, body []byte) ([]batchGroup, error) {
	boundary, err := multipartBoundary(contentType)
	if err != nil {
		return nil, fmt.Errorf("Content-Type %q: %v", contentType, err)
	}
	mr := multipart.NewReader(bytes.NewReader(body), boundary)
	var groups []batchGroup
	for n := 1; ; n++ {
		p, err := mr.NextRawPart()
		if err == io.EOF {
			return groups, nil
		}
		if err != nil {
			return nil, fmt.Errorf("part %d: %v", n, err)
		}
		ct := p.Header.Get("Content-Type")
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "multipart/") {
			part, err := readHTTPPart(p)
			if err != nil {
				return nil, fmt.Errorf("part %d: %v", n, err)
			}
			groups = append(groups, batchGroup{parts: []batchPart{part}})
			continue
		}
		inner, err := multipartBoundary(ct)
		if err != nil {
			return nil, fmt.Errorf("part %d: Content-Type %q: %v", n, ct, err)
		}
		g := batchGroup{changeSet: true}
		cr := multipart.NewReader(p, inner)
		for m := 1; ; m++ {
			q, err := cr.NextRawPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("part %d.%d: %v", n, m, err)
			}
			if strings.HasPrefix(strings.ToLower(q.Header.Get("Content-Type")), "multipart/") {
				return nil, fmt.Errorf("part %d.%d: a change set nested in a change set", n, m)
			}
			part, err := readHTTPPart(q)
			if err != nil {
				return nil, fmt.Errorf("part %d.%d: %v", n, m, err)
			}
			g.parts = append(g.parts, part)
		}
		groups = append(groups, g)
	}
}

func multipartBoundary(ct string) (string, error) {
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return "", err
	}
	if mt != "multipart/mixed" || params["boundary"] == "" {
		return "", fmt.Errorf("want multipart/mixed with a boundary")
	}
	return params["boundary"], nil
}

// readHTTPPart reads the HTTP response embedded in an application/http part.
func readHTTPPart(p *multipart.Part) (batchPart, error) {
	br := bufio.NewReader(p)
	for { // tolerate blank lines before the status line
		c, err := br.Peek(1)
		if err != nil || (c[0] != '\r' && c[0] != '\n') {
			break
		}
		br.Discard(1)
	}
	res, err := http.ReadResponse(br, nil)
	if err != nil {
		return batchPart{}, fmt.Errorf("embedded HTTP response: %v", err)
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return batchPart{}, fmt.Errorf("embedded HTTP response body: %v", err)
	}
	return batchPart{contentID: strings.TrimSpace(p.Header.Get("Content-ID")), status: res.StatusCode, header: res.Header, body: body}, nil
}

// matchBatch gives each action its response. failed says the batch answered with an error status,
// so that missing responses mean "not run" rather than a broken answer. unattributed is a failure
// the answer gives without saying which action of the change set it belongs to.
func (c *Client) matchBatch(ops []batchOp, groups []batchGroup, independent, failed bool) (results []BatchResult, unattributed *Error, err error) {
	var parts []batchPart
	for _, g := range groups {
		parts = append(parts, g.parts...)
	}
	if len(parts) > len(ops) {
		return nil, nil, fmt.Errorf("%d responses for %d actions", len(parts), len(ops))
	}
	at := make([]int, len(ops)) // index+1 into parts, 0: no response
	switch {
	case !independent && allHaveContentID(parts):
		byID := make(map[string]int, len(ops))
		for i, op := range ops {
			byID[op.contentID] = i
		}
		for j, p := range parts {
			i, ok := byID[p.contentID]
			if !ok {
				return nil, nil, fmt.Errorf("response with Content-ID %q answers no action", p.contentID)
			}
			if at[i] != 0 {
				return nil, nil, fmt.Errorf("two responses with Content-ID %q", p.contentID)
			}
			at[i] = j + 1
		}
	case independent || len(parts) == len(ops):
		// Requests run in order and Dataverse answers in order; one that stopped early answers for
		// the requests it ran.
		for j := range parts {
			at[j] = j + 1
		}
	case failed && len(parts) == 1 && parts[0].status >= 400:
		// A change set failure that does not say where: nothing was applied.
		results = make([]BatchResult, len(ops))
		for i := range results {
			results[i].NotRun = true
		}
		p := parts[0]
		return results, newError(http.MethodPost, c.apiBase+"$batch", p.status, p.header, p.body, c.now()), nil
	default:
		return nil, nil, fmt.Errorf("%d responses without Content-ID for %d actions", len(parts), len(ops))
	}

	results = make([]BatchResult, len(ops))
	failedAt := -1
	for i, op := range ops {
		if at[i] == 0 {
			if !failed {
				return nil, nil, fmt.Errorf("no response for action %d (%s %s)", i+1, op.method, redactURL(op.target))
			}
			results[i].NotRun = true
			continue
		}
		p := parts[at[i]-1]
		res, err := c.batchResult(op, p)
		if err != nil {
			return nil, nil, fmt.Errorf("response to action %d: %v", i+1, err)
		}
		results[i] = res
		if res.Err != nil && failedAt < 0 {
			failedAt = i
		}
	}
	if failed && !independent && failedAt >= 0 {
		// The change set was rolled back: only the failure has an effect worth reporting.
		for i := range results {
			if i != failedAt {
				results[i] = BatchResult{NotRun: true}
			}
		}
	}
	return results, nil, nil
}

func allHaveContentID(parts []batchPart) bool {
	for _, p := range parts {
		if p.contentID == "" {
			return false
		}
	}
	return len(parts) > 0
}

// batchResult decodes one embedded response.
func (c *Client) batchResult(op batchOp, p batchPart) (BatchResult, error) {
	res := BatchResult{StatusCode: p.status, Header: p.header}
	res.ID = idFromEntityURL(p.header.Get("OData-EntityId"))
	if p.status >= 400 {
		res.Err = newError(op.method, op.target, p.status, p.header, p.body, c.now())
		return res, nil
	}
	trimmed := bytes.TrimSpace(bytes.TrimPrefix(p.body, utf8BOM))
	if len(trimmed) == 0 {
		return res, nil
	}
	if !isJSONContentType(p.header.Get("Content-Type")) && trimmed[0] != '{' {
		return res, nil // not a row (a $count, say): the caller has Header and nothing to decode
	}
	if err := decodeJSON(p.body, &res.Record); err != nil {
		return res, fmt.Errorf("decode %d body: %v", p.status, err)
	}
	return res, nil
}
