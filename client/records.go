package client

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
)

// CreateOptions adjusts CreateRecord.
type CreateOptions struct {
	// ReturnRepresentation asks for the created row back (Prefer: return=representation, 201).
	ReturnRepresentation bool
	// Select and Expand shape the returned row; they are only sent with ReturnRepresentation.
	Select []string
	Expand []Expand
	// Caller runs the create as another user.
	Caller
	// SuppressDuplicateDetection, when set, sends MSCRM.SuppressDuplicateDetection; false turns
	// duplicate detection on (Dataverse suppresses it by default).
	SuppressDuplicateDetection *bool
	// BypassCustomPluginExecution skips custom plug-ins (needs the prvBypassCustomPlugins privilege).
	BypassCustomPluginExecution bool
}

// GetOptions adjusts GetRecord.
type GetOptions struct {
	// Select lists the columns to return; empty returns them all.
	Select []string
	// Expand returns related rows through navigation properties.
	Expand []Expand
	// IncludeAnnotations asks for annotations, such as "*" or
	// "OData.Community.Display.V1.FormattedValue" (Prefer: odata.include-annotations="...").
	IncludeAnnotations string
	// IfNoneMatch makes the retrieve conditional on an ETag: an unchanged row answers 304 with no body.
	IfNoneMatch string
	// Caller runs the retrieve as another user.
	Caller
}

// UpdateOptions adjusts UpdateRecord.
type UpdateOptions struct {
	// IfMatch is the ETag the row must still have (optimistic concurrency; a changed row answers 412).
	// Empty sends If-Match: *, which makes the PATCH update only: a missing row is a 404, never a create.
	IfMatch string
	// ReturnRepresentation asks for the updated row back (200); Select shapes it.
	ReturnRepresentation bool
	Select               []string
	// Caller runs the update as another user.
	Caller
	// SuppressDuplicateDetection and BypassCustomPluginExecution are as in CreateOptions.
	SuppressDuplicateDetection  *bool
	BypassCustomPluginExecution bool
}

// UpsertOptions adjusts UpsertRecord.
type UpsertOptions struct {
	// IfMatch "*" prevents a create (a missing row is a 404); an ETag makes the update conditional.
	IfMatch string
	// IfNoneMatch "*" prevents an update (an existing row is a 412).
	IfNoneMatch string
	// ReturnRepresentation asks for the row back: 201 when created, 200 when updated, which sets
	// Response.Created. Select shapes the row.
	ReturnRepresentation bool
	Select               []string
	// Caller runs the upsert as another user.
	Caller
	// SuppressDuplicateDetection and BypassCustomPluginExecution are as in CreateOptions.
	SuppressDuplicateDetection  *bool
	BypassCustomPluginExecution bool
}

// DeleteOptions adjusts DeleteRecord.
type DeleteOptions struct {
	// IfMatch deletes only if the row still has this ETag (else 412).
	IfMatch string
	// Caller runs the delete as another user.
	Caller
	// BypassCustomPluginExecution is as in CreateOptions.
	BypassCustomPluginExecution bool
}

// callerHeaders sets the impersonation and execution headers shared by the record actions.
func callerHeaders(h http.Header, caller Caller, suppressDup *bool, bypass bool) error {
	if err := caller.setHeaders(h); err != nil {
		return err
	}
	if suppressDup != nil {
		h.Set("MSCRM.SuppressDuplicateDetection", strconv.FormatBool(*suppressDup))
	}
	if bypass {
		h.Set("MSCRM.BypassCustomPluginExecution", "true")
	}
	return nil
}

// recordResult sends r and decodes the row in the response, if there is one.
func (c *Client) recordResult(ctx context.Context, r *request) (Record, *Response, error) {
	resp, body, err := c.send(ctx, r)
	if err != nil {
		return nil, resp, err
	}
	if resp.StatusCode == http.StatusNoContent || resp.StatusCode == http.StatusNotModified {
		return nil, resp, nil
	}
	rec, err := decodeRecord(r.method, r.url, body, resp)
	return rec, resp, err
}

// CreateRecord creates a row in entitySet (such as "accounts"). Without ReturnRepresentation
// Dataverse answers 204 and the result is nil; the new id is in Response.ID (from OData-EntityId).
// With it, the answer is 201 and the created row.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-entity-web-api
func (c *Client) CreateRecord(ctx context.Context, entitySet string, data Record, opts *CreateOptions) (Record, *Response, error) {
	if opts == nil {
		opts = &CreateOptions{}
	}
	if err := checkName("entity set", entitySet); err != nil {
		return nil, nil, err
	}
	var q query
	if opts.ReturnRepresentation {
		if err := q.addSelectExpand(opts.Select, opts.Expand); err != nil {
			return nil, nil, err
		}
	}
	r := c.apiRequest(http.MethodPost, entitySet, q)
	if err := r.setJSON(nonNil(data)); err != nil {
		return nil, nil, err
	}
	if opts.ReturnRepresentation {
		r.prefer("return=representation")
	}
	if err := callerHeaders(r.header, opts.Caller, opts.SuppressDuplicateDetection, opts.BypassCustomPluginExecution); err != nil {
		return nil, nil, err
	}
	return c.recordResult(ctx, r)
}

// GetRecord retrieves the row of entitySet with the given key (a GUID or an alternate key).
//
// With GetOptions.IfNoneMatch and an unchanged row Dataverse answers 304 Not Modified: GetRecord then
// returns a nil Record, a Response with StatusCode 304 and a nil error. Dataverse never answers 304
// when $expand or annotations are requested.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/retrieve-entity-using-web-api
func (c *Client) GetRecord(ctx context.Context, entitySet, key string, opts *GetOptions) (Record, *Response, error) {
	if opts == nil {
		opts = &GetOptions{}
	}
	path, err := recordPath(entitySet, key)
	if err != nil {
		return nil, nil, err
	}
	var q query
	if err := q.addSelectExpand(opts.Select, opts.Expand); err != nil {
		return nil, nil, err
	}
	r := c.apiRequest(http.MethodGet, path, q)
	if opts.IncludeAnnotations != "" {
		r.prefer(`odata.include-annotations="` + opts.IncludeAnnotations + `"`)
	}
	if opts.IfNoneMatch != "" {
		r.header.Set("If-None-Match", opts.IfNoneMatch)
	}
	if err := opts.Caller.setHeaders(r.header); err != nil {
		return nil, nil, err
	}
	return c.recordResult(ctx, r)
}

// UpdateRecord updates the row of entitySet with the given key, changing only the columns in data.
// It never creates a row: it sends If-Match: * (or UpdateOptions.IfMatch), so a missing row is a 404
// (ErrNotFound) and a stale ETag a 412 (ErrPreconditionFailed). The result is the updated row with
// ReturnRepresentation, else nil.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/update-delete-entities-using-web-api
func (c *Client) UpdateRecord(ctx context.Context, entitySet, key string, data Record, opts *UpdateOptions) (Record, *Response, error) {
	if opts == nil {
		opts = &UpdateOptions{}
	}
	path, err := recordPath(entitySet, key)
	if err != nil {
		return nil, nil, err
	}
	var q query
	if opts.ReturnRepresentation {
		if err := q.addSelectExpand(opts.Select, nil); err != nil {
			return nil, nil, err
		}
	}
	r := c.apiRequest(http.MethodPatch, path, q)
	if err := r.setJSON(nonNil(data)); err != nil {
		return nil, nil, err
	}
	ifMatch := opts.IfMatch
	if ifMatch == "" {
		ifMatch = "*"
	}
	r.header.Set("If-Match", ifMatch)
	if opts.ReturnRepresentation {
		r.prefer("return=representation")
	}
	if err := callerHeaders(r.header, opts.Caller, opts.SuppressDuplicateDetection, opts.BypassCustomPluginExecution); err != nil {
		return nil, nil, err
	}
	return c.recordResult(ctx, r)
}

// UpsertRecord updates the row of entitySet with the given key, or creates it with that key if it does
// not exist. UpsertOptions.IfMatch "*" turns it into update-only and IfNoneMatch "*" into create-only.
// With ReturnRepresentation the row comes back and Response.Created tells a create (201) from an
// update (200); without it Dataverse answers 204 either way and Response.Created stays false.
//
// With an alternate key, do not repeat the key columns in data: Dataverse copies them from the key.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/use-upsert-insert-update-record
func (c *Client) UpsertRecord(ctx context.Context, entitySet, key string, data Record, opts *UpsertOptions) (Record, *Response, error) {
	if opts == nil {
		opts = &UpsertOptions{}
	}
	if opts.IfMatch != "" && opts.IfNoneMatch != "" {
		return nil, nil, fmt.Errorf("client: upsert with both IfMatch and IfNoneMatch can neither create nor update: %w", ErrInvalidInput)
	}
	path, err := recordPath(entitySet, key)
	if err != nil {
		return nil, nil, err
	}
	var q query
	if opts.ReturnRepresentation {
		if err := q.addSelectExpand(opts.Select, nil); err != nil {
			return nil, nil, err
		}
	}
	r := c.apiRequest(http.MethodPatch, path, q)
	if err := r.setJSON(nonNil(data)); err != nil {
		return nil, nil, err
	}
	if opts.IfMatch != "" {
		r.header.Set("If-Match", opts.IfMatch)
	}
	if opts.IfNoneMatch != "" {
		r.header.Set("If-None-Match", opts.IfNoneMatch)
	}
	if opts.ReturnRepresentation {
		r.prefer("return=representation")
	}
	if err := callerHeaders(r.header, opts.Caller, opts.SuppressDuplicateDetection, opts.BypassCustomPluginExecution); err != nil {
		return nil, nil, err
	}
	rec, resp, err := c.recordResult(ctx, r)
	if resp != nil && err == nil {
		resp.Created = resp.StatusCode == http.StatusCreated
	}
	return rec, resp, err
}

// DeleteRecord deletes the row of entitySet with the given key. A missing row is a 404 (ErrNotFound);
// with DeleteOptions.IfMatch a changed row is a 412 (ErrPreconditionFailed).
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/update-delete-entities-using-web-api#basic-delete
func (c *Client) DeleteRecord(ctx context.Context, entitySet, key string, opts *DeleteOptions) (*Response, error) {
	if opts == nil {
		opts = &DeleteOptions{}
	}
	path, err := recordPath(entitySet, key)
	if err != nil {
		return nil, err
	}
	r := c.apiRequest(http.MethodDelete, path, nil)
	if opts.IfMatch != "" {
		r.header.Set("If-Match", opts.IfMatch)
	}
	if err := callerHeaders(r.header, opts.Caller, nil, opts.BypassCustomPluginExecution); err != nil {
		return nil, err
	}
	resp, _, err := c.send(ctx, r)
	return resp, err
}

// nonNil turns a nil Record into an empty one, so that the body is {} rather than null.
func nonNil(r Record) Record {
	if r == nil {
		return Record{}
	}
	return r
}
