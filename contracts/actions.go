package contracts

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/dynlocal/dynlocal/client"
)

// action runs one client method. newInput returns a pointer to the input struct the step's input
// decodes into (unknown fields are errors).
type action struct {
	newInput func() any
	// check, when set, refuses a decoded input that does not make sense (such as two ways of giving
	// the same thing); it runs when the suite is loaded and again before the step runs.
	check func(in any) error
	run   func(ctx context.Context, c *client.Client, in any) observation
}

// observation is what a step saw: the response and, for errors, the body as the client parsed it.
type observation struct {
	status  int
	header  http.Header
	body    any
	hasBody bool
	// err is a failure that produced no HTTP answer (network, token, invalid input).
	err error
}

// expandInput mirrors client.Expand.
type expandInput struct {
	Property string        `json:"property"`
	Select   []string      `json:"select,omitempty"`
	Filter   string        `json:"filter,omitempty"`
	OrderBy  []string      `json:"orderBy,omitempty"`
	Top      int           `json:"top,omitempty"`
	Expand   []expandInput `json:"expand,omitempty"`
}

func toExpand(list []expandInput) []client.Expand {
	if len(list) == 0 {
		return nil
	}
	out := make([]client.Expand, len(list))
	for i, e := range list {
		out[i] = client.Expand{Property: e.Property, Select: e.Select, Filter: e.Filter, OrderBy: e.OrderBy, Top: e.Top, Expand: toExpand(e.Expand)}
	}
	return out
}

// callerInput mirrors client.Caller, which every action that can impersonate takes.
type callerInput struct {
	CallerID       string `json:"callerId,omitempty"`
	CallerObjectID string `json:"callerObjectId,omitempty"`
}

func (in callerInput) caller() client.Caller {
	return client.Caller{ID: in.CallerID, ObjectID: in.CallerObjectID}
}

// writeInput holds the impersonation and execution options shared by create, update and upsert.
type writeInput struct {
	callerInput
	SuppressDuplicateDetection  *bool `json:"suppressDuplicateDetection,omitempty"`
	BypassCustomPluginExecution bool  `json:"bypassCustomPluginExecution,omitempty"`
}

type createInput struct {
	EntitySet            string         `json:"entitySet"`
	Data                 map[string]any `json:"data"`
	ReturnRepresentation bool           `json:"returnRepresentation,omitempty"`
	Select               []string       `json:"select,omitempty"`
	Expand               []expandInput  `json:"expand,omitempty"`
	writeInput
}

type getInput struct {
	EntitySet          string        `json:"entitySet"`
	Key                string        `json:"key"`
	Select             []string      `json:"select,omitempty"`
	Expand             []expandInput `json:"expand,omitempty"`
	IncludeAnnotations string        `json:"includeAnnotations,omitempty"`
	IfNoneMatch        string        `json:"ifNoneMatch,omitempty"`
	callerInput
}

type updateInput struct {
	EntitySet            string         `json:"entitySet"`
	Key                  string         `json:"key"`
	Data                 map[string]any `json:"data"`
	IfMatch              string         `json:"ifMatch,omitempty"`
	ReturnRepresentation bool           `json:"returnRepresentation,omitempty"`
	Select               []string       `json:"select,omitempty"`
	writeInput
}

type upsertInput struct {
	EntitySet            string         `json:"entitySet"`
	Key                  string         `json:"key"`
	Data                 map[string]any `json:"data"`
	IfMatch              string         `json:"ifMatch,omitempty"`
	IfNoneMatch          string         `json:"ifNoneMatch,omitempty"`
	ReturnRepresentation bool           `json:"returnRepresentation,omitempty"`
	Select               []string       `json:"select,omitempty"`
	writeInput
}

type deleteInput struct {
	EntitySet                   string `json:"entitySet"`
	Key                         string `json:"key"`
	IfMatch                     string `json:"ifMatch,omitempty"`
	BypassCustomPluginExecution bool   `json:"bypassCustomPluginExecution,omitempty"`
	callerInput
}

type propertyInput struct {
	EntitySet string `json:"entitySet"`
	Key       string `json:"key"`
	Property  string `json:"property"`
}

type setPropertyInput struct {
	EntitySet string `json:"entitySet"`
	Key       string `json:"key"`
	Property  string `json:"property"`
	Value     any    `json:"value"`
}

type refInput struct {
	EntitySet   string `json:"entitySet"`
	Key         string `json:"key"`
	NavProperty string `json:"navProperty"`
	RelatedSet  string `json:"relatedSet"`
	RelatedKey  string `json:"relatedKey"`
}

type disassociateInput struct {
	EntitySet   string `json:"entitySet"`
	Key         string `json:"key"`
	NavProperty string `json:"navProperty"`
	RelatedKey  string `json:"relatedKey,omitempty"`
}

// queryInput mirrors client.QueryOptions (MaxPages only bounds QueryAll and is left out).
type queryInput struct {
	EntitySet          string          `json:"entitySet"`
	Select             []string        `json:"select,omitempty"`
	Filter             string          `json:"filter,omitempty"`
	OrderBy            []string        `json:"orderBy,omitempty"`
	Expand             []expandInput   `json:"expand,omitempty"`
	Top                int             `json:"top,omitempty"`
	Count              bool            `json:"count,omitempty"`
	Apply              string          `json:"apply,omitempty"`
	Params             []keyValueInput `json:"params,omitempty"`
	PageSize           int             `json:"pageSize,omitempty"`
	IncludeAnnotations string          `json:"includeAnnotations,omitempty"`
	NextLink           string          `json:"nextLink,omitempty"`
	callerInput
}

type countInput struct {
	EntitySet string `json:"entitySet"`
	Filter    string `json:"filter,omitempty"`
}

type noInput struct{}

type currentUserInput struct {
	Columns []string `json:"columns,omitempty"`
}

type keyValueInput struct {
	Key   string `json:"key"`
	Value any    `json:"value"`
}

type doInput struct {
	Method       string            `json:"method"`
	Path         string            `json:"path"`
	Query        []keyValueInput   `json:"query,omitempty"`
	Headers      map[string]string `json:"headers,omitempty"`
	JSON         any               `json:"json,omitempty"`
	Body         *string           `json:"body,omitempty"`
	ContentType  string            `json:"contentType,omitempty"`
	ResponseType string            `json:"responseType,omitempty"`
}

// actions is every action a step can name.
var actions = map[string]action{
	"CreateRecord": {
		newInput: func() any { return &createInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*createInput)
			rec, resp, err := c.CreateRecord(ctx, in.EntitySet, client.Record(in.Data), &client.CreateOptions{
				ReturnRepresentation: in.ReturnRepresentation, Select: in.Select, Expand: toExpand(in.Expand),
				Caller:                     in.caller(),
				SuppressDuplicateDetection: in.SuppressDuplicateDetection, BypassCustomPluginExecution: in.BypassCustomPluginExecution,
			})
			return observeRecord(rec, resp, err)
		},
	},
	"GetRecord": {
		newInput: func() any { return &getInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*getInput)
			rec, resp, err := c.GetRecord(ctx, in.EntitySet, in.Key, &client.GetOptions{
				Select: in.Select, Expand: toExpand(in.Expand), IncludeAnnotations: in.IncludeAnnotations,
				IfNoneMatch: in.IfNoneMatch, Caller: in.caller(),
			})
			return observeRecord(rec, resp, err)
		},
	},
	"UpdateRecord": {
		newInput: func() any { return &updateInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*updateInput)
			rec, resp, err := c.UpdateRecord(ctx, in.EntitySet, in.Key, client.Record(in.Data), &client.UpdateOptions{
				IfMatch: in.IfMatch, ReturnRepresentation: in.ReturnRepresentation, Select: in.Select,
				Caller:                     in.caller(),
				SuppressDuplicateDetection: in.SuppressDuplicateDetection, BypassCustomPluginExecution: in.BypassCustomPluginExecution,
			})
			return observeRecord(rec, resp, err)
		},
	},
	"UpsertRecord": {
		newInput: func() any { return &upsertInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*upsertInput)
			rec, resp, err := c.UpsertRecord(ctx, in.EntitySet, in.Key, client.Record(in.Data), &client.UpsertOptions{
				IfMatch: in.IfMatch, IfNoneMatch: in.IfNoneMatch, ReturnRepresentation: in.ReturnRepresentation, Select: in.Select,
				Caller:                     in.caller(),
				SuppressDuplicateDetection: in.SuppressDuplicateDetection, BypassCustomPluginExecution: in.BypassCustomPluginExecution,
			})
			return observeRecord(rec, resp, err)
		},
	},
	"DeleteRecord": {
		newInput: func() any { return &deleteInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*deleteInput)
			resp, err := c.DeleteRecord(ctx, in.EntitySet, in.Key, &client.DeleteOptions{
				IfMatch: in.IfMatch, Caller: in.caller(),
				BypassCustomPluginExecution: in.BypassCustomPluginExecution,
			})
			return observeRecord(nil, resp, err)
		},
	},
	"GetProperty": {
		newInput: func() any { return &propertyInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*propertyInput)
			v, resp, err := c.GetProperty(ctx, in.EntitySet, in.Key, in.Property)
			obs := observeRecord(nil, resp, err)
			if err == nil && resp != nil && resp.StatusCode != http.StatusNoContent {
				// The client hands back only the value; the body is shown as {"value": ...}.
				obs.body, obs.hasBody = map[string]any{"value": v}, true
			}
			return obs
		},
	},
	"SetProperty": {
		newInput: func() any { return &setPropertyInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*setPropertyInput)
			resp, err := c.SetProperty(ctx, in.EntitySet, in.Key, in.Property, in.Value)
			return observeRecord(nil, resp, err)
		},
	},
	"ClearProperty": {
		newInput: func() any { return &propertyInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*propertyInput)
			resp, err := c.ClearProperty(ctx, in.EntitySet, in.Key, in.Property)
			return observeRecord(nil, resp, err)
		},
	},
	"Associate": {
		newInput: func() any { return &refInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*refInput)
			resp, err := c.Associate(ctx, in.EntitySet, in.Key, in.NavProperty, in.RelatedSet, in.RelatedKey)
			return observeRecord(nil, resp, err)
		},
	},
	"SetReference": {
		newInput: func() any { return &refInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*refInput)
			resp, err := c.SetReference(ctx, in.EntitySet, in.Key, in.NavProperty, in.RelatedSet, in.RelatedKey)
			return observeRecord(nil, resp, err)
		},
	},
	"Disassociate": {
		newInput: func() any { return &disassociateInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*disassociateInput)
			resp, err := c.Disassociate(ctx, in.EntitySet, in.Key, in.NavProperty, in.RelatedKey)
			return observeRecord(nil, resp, err)
		},
	},
	"QueryRecords": {
		newInput: func() any { return &queryInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*queryInput)
			opts := &client.QueryOptions{
				Select: in.Select, Filter: in.Filter, OrderBy: in.OrderBy, Expand: toExpand(in.Expand),
				Top: in.Top, Count: in.Count, Apply: in.Apply, PageSize: in.PageSize,
				IncludeAnnotations: in.IncludeAnnotations, NextLink: in.NextLink,
				Caller: in.caller(),
			}
			for _, p := range in.Params {
				opts.Params = append(opts.Params, client.KeyValue{Key: p.Key, Value: textOf(p.Value)})
			}
			page, resp, err := c.QueryRecords(ctx, in.EntitySet, opts)
			obs := observeRecord(nil, resp, err)
			if err == nil && page != nil {
				obs.body, obs.hasBody = pageBody(page), true
			}
			return obs
		},
	},
	"Count": {
		newInput: func() any { return &countInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*countInput)
			n, resp, err := c.Count(ctx, in.EntitySet, in.Filter)
			obs := observeRecord(nil, resp, err)
			if err == nil && resp != nil {
				// The client hands back only the number; the body is shown as {"value": n}.
				obs.body, obs.hasBody = map[string]any{"value": json.Number(strconv.FormatInt(n, 10))}, true
			}
			return obs
		},
	},
	"WhoAmI": {
		newInput: func() any { return &noInput{} },
		run: func(ctx context.Context, c *client.Client, _ any) observation {
			who, resp, err := c.WhoAmI(ctx)
			obs := observeRecord(nil, resp, err)
			if err == nil && who != nil {
				obs.body = map[string]any{"UserId": who.UserID, "BusinessUnitId": who.BusinessUnitID, "OrganizationId": who.OrganizationID}
				obs.hasBody = true
			}
			return obs
		},
	},
	"GetCurrentUser": {
		newInput: func() any { return &currentUserInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*currentUserInput)
			rec, resp, err := c.GetCurrentUser(ctx, in.Columns...)
			return observeRecord(rec, resp, err)
		},
	},
	"Do": {
		newInput: func() any { return &doInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*doInput)
			rr := &client.RawRequest{Method: in.Method, Path: in.Path, JSON: in.JSON, ContentType: in.ContentType}
			for _, kv := range in.Query {
				rr.Query = append(rr.Query, client.KeyValue{Key: kv.Key, Value: textOf(kv.Value)})
			}
			if len(in.Headers) > 0 {
				rr.Header = http.Header{}
				for k, v := range in.Headers {
					rr.Header.Set(k, v)
				}
			}
			if in.Body != nil {
				rr.Body = []byte(*in.Body)
			}
			switch in.ResponseType {
			case "", "json":
			case "text":
				rr.ResponseType = client.ResponseText
			default:
				return observation{err: fmt.Errorf("responseType %q: want json or text", in.ResponseType)}
			}
			res, err := c.Do(ctx, rr)
			var resp *client.Response
			if res != nil {
				resp = res.Response
			}
			obs := observeRecord(nil, resp, err)
			if err != nil || res == nil {
				return obs
			}
			switch {
			case rr.ResponseType == client.ResponseText && res.Text != "":
				obs.body, obs.hasBody = res.Text, true
			case rr.ResponseType == client.ResponseJSON && res.JSON != nil:
				obs.body, obs.hasBody = res.JSON, true
			}
			return obs
		},
	},
}

// pageBody shows a page as the collection Dataverse sent: @odata.context, @odata.count (when asked
// for), the other root annotations, value, and @odata.nextLink (when there is a next page).
func pageBody(p *client.Page) map[string]any {
	body := make(map[string]any, len(p.Annotations)+4)
	for k, v := range p.Annotations {
		body[k] = v
	}
	if p.Context != "" {
		body["@odata.context"] = p.Context
	}
	if p.Count >= 0 {
		body["@odata.count"] = json.Number(strconv.FormatInt(p.Count, 10))
	}
	rows := make([]any, len(p.Records))
	for i, r := range p.Records {
		rows[i] = map[string]any(r)
	}
	body["value"] = rows
	if p.NextLink != "" {
		body["@odata.nextLink"] = p.NextLink
	}
	return body
}

// ActionNames lists the actions a step can name, sorted.
func ActionNames() []string {
	names := make([]string, 0, len(actions))
	for n := range actions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// observeRecord turns a client result into an observation. An *client.Error becomes its status,
// headers and the body {"error":{"code","message"}} as the client parsed it.
func observeRecord(rec client.Record, resp *client.Response, err error) observation {
	if err != nil {
		var ce *client.Error
		if errors.As(err, &ce) {
			return observation{
				status:  ce.StatusCode,
				header:  ce.Header,
				body:    map[string]any{"error": map[string]any{"code": ce.Code, "message": ce.Message}},
				hasBody: true,
			}
		}
		return observation{err: err}
	}
	if resp == nil {
		return observation{err: errors.New("the client returned neither a response nor an error")}
	}
	obs := observation{status: resp.StatusCode, header: resp.Header}
	if rec != nil {
		obs.body, obs.hasBody = map[string]any(rec), true
	}
	return obs
}

// decodeInput decodes a resolved input into an action's struct, refusing unknown fields.
func decodeInput(in any, dst any) error {
	b, err := encodeJSON(in, false)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return inputError{err}
	}
	return nil
}

// inputError drops encoding/json's "json: " prefix from messages; the cause stays reachable.
type inputError struct{ err error }

func (e inputError) Error() string { return strings.TrimPrefix(e.err.Error(), "json: ") }
func (e inputError) Unwrap() error { return e.err }
