package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
)

// BulkOptions adjusts CreateMultiple, UpdateMultiple and UpsertMultiple.
type BulkOptions struct {
	// Caller runs the call as another user.
	Caller
	// SuppressDuplicateDetection and BypassCustomPluginExecution are as in CreateOptions.
	SuppressDuplicateDetection  *bool
	BypassCustomPluginExecution bool
}

// bulk sends one of the bulk actions bound to entitySet with the records as its Targets. Each
// record is typed "@odata.type": "Microsoft.Dynamics.CRM.<table>" unless it already names a type,
// or table is empty; the records themselves are not changed.
func (c *Client) bulk(ctx context.Context, message, entitySet, table string, targets []Record, opts *BulkOptions) (*Response, []byte, error) {
	if opts == nil {
		opts = &BulkOptions{}
	}
	if err := checkName("entity set", entitySet); err != nil {
		return nil, nil, err
	}
	if table != "" {
		if err := checkName("table", table); err != nil {
			return nil, nil, err
		}
	}
	list := make([]Record, len(targets))
	for i, t := range targets {
		if _, typed := t["@odata.type"]; typed || table == "" {
			list[i] = nonNil(t)
			continue
		}
		r := make(Record, len(t)+1)
		for k, v := range t {
			r[k] = v
		}
		r["@odata.type"] = "Microsoft.Dynamics.CRM." + table
		list[i] = r
	}
	r := c.apiRequest(http.MethodPost, entitySet+"/Microsoft.Dynamics.CRM."+message, nil)
	if err := r.setJSON(map[string]any{"Targets": list}); err != nil {
		return nil, nil, err
	}
	if err := callerHeaders(r.header, opts.Caller, opts.SuppressDuplicateDetection, opts.BypassCustomPluginExecution); err != nil {
		return nil, nil, err
	}
	return c.send(ctx, r)
}

// CreateMultiple creates records of one table in one request and returns their ids, in the order
// of targets. table is the table's logical name (such as "account"), which types every record;
// pass "" when the records carry their own "@odata.type". On a standard table the call is all or
// nothing: one failing record fails it and nothing is created.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/createmultiple
func (c *Client) CreateMultiple(ctx context.Context, entitySet, table string, targets []Record, opts *BulkOptions) ([]string, *Response, error) {
	resp, body, err := c.bulk(ctx, "CreateMultiple", entitySet, table, targets, opts)
	if err != nil {
		return nil, resp, err
	}
	var out struct {
		IDs []string `json:"Ids"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, resp, fmt.Errorf("dataverse: CreateMultiple on %s: decode the answer: %w", entitySet, err)
	}
	return out.IDs, resp, nil
}

// UpdateMultiple updates records of one table in one request (204). Each record names its row with
// its primary key column (such as "accountid") or an "@odata.id" such as
// "accounts(accountnumber='A-1')"; a later record for a row already updated by the call is ignored,
// as Dataverse ignores it. table is as in CreateMultiple.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/updatemultiple
func (c *Client) UpdateMultiple(ctx context.Context, entitySet, table string, targets []Record, opts *BulkOptions) (*Response, error) {
	resp, _, err := c.bulk(ctx, "UpdateMultiple", entitySet, table, targets, opts)
	return resp, err
}

// UpsertMultiple creates or updates records of one table in one request (204: the Web API does not
// say which rows were created). Each record names its row as in UpdateMultiple; a record that
// names no existing row creates it, with the key it was given. Two records for the same row fail
// the call. table is as in CreateMultiple.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/upsertmultiple
func (c *Client) UpsertMultiple(ctx context.Context, entitySet, table string, targets []Record, opts *BulkOptions) (*Response, error) {
	resp, _, err := c.bulk(ctx, "UpsertMultiple", entitySet, table, targets, opts)
	return resp, err
}
