package client

import (
	"context"
	"net/http"
)

// propertyPath returns "<set>(<key>)/<property>".
func propertyPath(entitySet, key, property, kind string) (string, error) {
	path, err := recordPath(entitySet, key)
	if err != nil {
		return "", err
	}
	if err := checkName(kind, property); err != nil {
		return "", err
	}
	return path + "/" + property, nil
}

// GetProperty retrieves one column of a row, such as the name of an account. The value is decoded
// like a Record value (json.Number for numbers); a column without a value gives nil.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/retrieve-entity-using-web-api#retrieve-a-single-property-value
func (c *Client) GetProperty(ctx context.Context, entitySet, key, property string) (any, *Response, error) {
	path, err := propertyPath(entitySet, key, property, "property")
	if err != nil {
		return nil, nil, err
	}
	rec, resp, err := c.recordResult(ctx, c.apiRequest(http.MethodGet, path, nil))
	if err != nil || rec == nil {
		return nil, resp, err
	}
	return rec["value"], resp, nil
}

// SetProperty sets one column of a row with PUT {"value": value}.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/update-delete-entities-using-web-api#update-a-single-property-value
func (c *Client) SetProperty(ctx context.Context, entitySet, key, property string, value any) (*Response, error) {
	path, err := propertyPath(entitySet, key, property, "property")
	if err != nil {
		return nil, err
	}
	r := c.apiRequest(http.MethodPut, path, nil)
	if err := r.setJSON(map[string]any{"value": value}); err != nil {
		return nil, err
	}
	resp, _, err := c.send(ctx, r)
	return resp, err
}

// ClearProperty sets one column of a row to null with DELETE. It cannot clear a lookup; use
// Disassociate with the single-valued navigation property for that.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/update-delete-entities-using-web-api#delete-a-single-property-value
func (c *Client) ClearProperty(ctx context.Context, entitySet, key, property string) (*Response, error) {
	path, err := propertyPath(entitySet, key, property, "property")
	if err != nil {
		return nil, err
	}
	resp, _, err := c.send(ctx, c.apiRequest(http.MethodDelete, path, nil))
	return resp, err
}

// refBody returns {"@odata.id": "<API root><set>(<key>)"}, the absolute reference the docs use.
func (c *Client) refBody(relatedSet, relatedKey string) (map[string]string, error) {
	path, err := recordPath(relatedSet, relatedKey)
	if err != nil {
		return nil, err
	}
	return map[string]string{"@odata.id": c.apiBase + path}, nil
}

// Associate adds the row relatedSet(relatedKey) to the collection-valued navigation property
// navProperty of entitySet(key), as in POST accounts(<id>)/contact_customer_accounts/$ref.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/associate-disassociate-entities-using-web-api#add-a-record-to-a-collection
func (c *Client) Associate(ctx context.Context, entitySet, key, navProperty, relatedSet, relatedKey string) (*Response, error) {
	return c.writeRef(ctx, http.MethodPost, entitySet, key, navProperty, relatedSet, relatedKey)
}

// SetReference points the single-valued navigation property (lookup) navProperty of entitySet(key) at
// relatedSet(relatedKey), as in PUT opportunities(<id>)/customerid_account/$ref.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/associate-disassociate-entities-using-web-api#change-the-reference-in-a-single-valued-navigation-property
func (c *Client) SetReference(ctx context.Context, entitySet, key, navProperty, relatedSet, relatedKey string) (*Response, error) {
	return c.writeRef(ctx, http.MethodPut, entitySet, key, navProperty, relatedSet, relatedKey)
}

func (c *Client) writeRef(ctx context.Context, method, entitySet, key, navProperty, relatedSet, relatedKey string) (*Response, error) {
	path, err := propertyPath(entitySet, key, navProperty, "navigation property")
	if err != nil {
		return nil, err
	}
	body, err := c.refBody(relatedSet, relatedKey)
	if err != nil {
		return nil, err
	}
	r := c.apiRequest(method, path+"/$ref", nil)
	if err := r.setJSON(body); err != nil {
		return nil, err
	}
	resp, _, err := c.send(ctx, r)
	return resp, err
}

// Disassociate removes a relationship. For a collection-valued navigation property give the related
// row's key: DELETE accounts(<id>)/contact_customer_accounts(<relatedKey>)/$ref. For a single-valued
// one (a lookup) leave relatedKey empty: DELETE accounts(<id>)/primarycontactid/$ref.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/associate-disassociate-entities-using-web-api#remove-a-reference-to-a-table-row
func (c *Client) Disassociate(ctx context.Context, entitySet, key, navProperty, relatedKey string) (*Response, error) {
	path, err := propertyPath(entitySet, key, navProperty, "navigation property")
	if err != nil {
		return nil, err
	}
	if relatedKey != "" {
		k, err := normalizeKey(relatedKey)
		if err != nil {
			return nil, err
		}
		path += "(" + escapePath(k) + ")"
	}
	resp, _, err := c.send(ctx, c.apiRequest(http.MethodDelete, path+"/$ref", nil))
	return resp, err
}
