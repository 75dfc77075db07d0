package client

import (
	"context"
	"fmt"
	"net/http"
)

// WhoAmIResult identifies the caller: the systemuser row, its business unit and the organisation.
type WhoAmIResult struct {
	UserID         string `json:"UserId"`
	BusinessUnitID string `json:"BusinessUnitId"`
	OrganizationID string `json:"OrganizationId"`
}

// WhoAmI returns the identity of the caller (the application user for client credentials, the signed-in
// user for the authorization code flow), with GET WhoAmI.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/whoami
func (c *Client) WhoAmI(ctx context.Context) (*WhoAmIResult, *Response, error) {
	r := c.apiRequest(http.MethodGet, "WhoAmI", nil)
	resp, body, err := c.send(ctx, r)
	if err != nil {
		return nil, resp, err
	}
	var out WhoAmIResult
	if err := decodeJSON(body, &out); err != nil {
		return nil, resp, fmt.Errorf("dataverse: GET %s: decode response: %w", r.url, err)
	}
	if out.UserID == "" {
		return nil, resp, fmt.Errorf("dataverse: GET %s: response has no UserId", r.url)
	}
	return &out, resp, nil
}

// GetCurrentUser returns the caller's systemuser row: WhoAmI, then GET systemusers(<UserId>) with the
// given columns (all of them when none are given). The Response is that of the second request.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/whoami
func (c *Client) GetCurrentUser(ctx context.Context, columns ...string) (Record, *Response, error) {
	who, resp, err := c.WhoAmI(ctx)
	if err != nil {
		return nil, resp, err
	}
	return c.GetRecord(ctx, "systemusers", who.UserID, &GetOptions{Select: columns})
}
