package client

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
)

// OperationOptions adjusts CallFunction and CallAction.
type OperationOptions struct {
	// Caller runs the operation as another user.
	Caller
}

// Literal is a function parameter written into the URL as it is, for the values CallFunction cannot
// tell from a string: a GUID (Edm.Guid literals are not quoted), an enum member
// (Microsoft.Dynamics.CRM.AccessRights'ReadAccess'), a date.
type Literal string

// CallFunction calls a function of the Web API with GET and returns its JSON answer. path is the
// function as the URL names it, relative to the API root: "RetrieveVersion", or bound,
// "systemusers(<id>)/Microsoft.Dynamics.CRM.RetrieveUserPrivileges". Each parameter is passed as a
// parameter alias (Name=@p1 with @p1=<literal> in the query string), so values need no escaping by
// the caller: a string becomes a quoted OData string, nil null, a bool or number itself, a Literal
// its text, anything else JSON (records, arrays).
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/use-web-api-functions
func (c *Client) CallFunction(ctx context.Context, path string, params map[string]any, opts *OperationOptions) (Record, *Response, error) {
	path, err := operationPath(path)
	if err != nil {
		return nil, nil, err
	}
	names := make([]string, 0, len(params))
	for n := range params {
		if n == "" || strings.ContainsAny(n, "=,()@&?#/ ") {
			return nil, nil, fmt.Errorf("client: function parameter name %q: %w", n, ErrInvalidInput)
		}
		names = append(names, n)
	}
	sort.Strings(names)
	var q query
	var args []string
	for i, n := range names {
		lit, err := functionLiteral(params[n])
		if err != nil {
			return nil, nil, fmt.Errorf("client: function parameter %s: %w", n, err)
		}
		alias := fmt.Sprintf("@p%d", i+1)
		args = append(args, n+"="+alias)
		q.add(alias, lit)
	}
	r := c.apiRequest(http.MethodGet, path+"("+strings.Join(args, ",")+")", q)
	return c.callOperation(ctx, r, opts)
}

// CallAction calls an action of the Web API with POST, body as its JSON parameters (nil: none),
// and returns its JSON answer (nil for an action that answers 204). path is the action as the URL
// names it: "WinOpportunity", or bound, "leads(<id>)/Microsoft.Dynamics.CRM.QualifyLead".
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/use-web-api-actions
func (c *Client) CallAction(ctx context.Context, path string, body any, opts *OperationOptions) (Record, *Response, error) {
	path, err := operationPath(path)
	if err != nil {
		return nil, nil, err
	}
	r := c.apiRequest(http.MethodPost, path, nil)
	if body != nil {
		if err := r.setJSON(body); err != nil {
			return nil, nil, err
		}
	}
	return c.callOperation(ctx, r, opts)
}

func (c *Client) callOperation(ctx context.Context, r *request, opts *OperationOptions) (Record, *Response, error) {
	if opts != nil {
		if err := opts.Caller.setHeaders(r.header); err != nil {
			return nil, nil, err
		}
	}
	resp, body, err := c.send(ctx, r)
	if err != nil {
		return nil, resp, err
	}
	if len(strings.TrimSpace(string(body))) == 0 {
		return nil, resp, nil
	}
	var rec map[string]any
	if err := decodeJSON(body, &rec); err != nil {
		return nil, resp, fmt.Errorf("dataverse: %s %s: decode response: %w", r.method, redactURL(r.url), err)
	}
	return Record(rec), resp, nil
}

// operationPath checks an operation path relative to the API root.
func operationPath(path string) (string, error) {
	path = strings.TrimPrefix(strings.TrimSpace(path), "/")
	if path == "" || strings.ContainsAny(path, "?#") || strings.Contains(path, "://") {
		return "", fmt.Errorf("client: operation path %q must be relative to the API root, such as WhoAmI or leads(<id>)/Microsoft.Dynamics.CRM.QualifyLead: %w", path, ErrInvalidInput)
	}
	return strings.TrimSuffix(path, "()"), nil
}

// functionLiteral writes a value as an OData URL literal.
func functionLiteral(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case Literal:
		return string(x), nil
	case string:
		return "'" + strings.ReplaceAll(x, "'", "''") + "'", nil
	case bool, int, int32, int64, float64, json.Number:
		return fmt.Sprint(x), nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("%v: %w", err, ErrInvalidInput)
	}
	return string(b), nil
}
