package contracts

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"strconv"

	"github.com/dynlocal/dynlocal/client"
)

// queryAllInput mirrors the arguments of client.QueryAll: the query options of QueryRecords
// (without nextLink, since the iterator follows the links itself) and maxPages.
type queryAllInput struct {
	EntitySet          string          `json:"entitySet"`
	Select             []string        `json:"select,omitempty"`
	Filter             string          `json:"filter,omitempty"`
	OrderBy            []string        `json:"orderBy,omitempty"`
	Expand             []expandInput   `json:"expand,omitempty"`
	Params             []keyValueInput `json:"params,omitempty"`
	PageSize           int             `json:"pageSize,omitempty"`
	IncludeAnnotations string          `json:"includeAnnotations,omitempty"`
	MaxPages           int             `json:"maxPages,omitempty"`
	callerInput
}

// fetchAllInput mirrors the arguments of client.FetchXMLAll.
type fetchAllInput struct {
	EntitySet          string `json:"entitySet"`
	FetchXML           string `json:"fetchXml"`
	IncludeAnnotations string `json:"includeAnnotations,omitempty"`
	PageSize           int    `json:"pageSize,omitempty"`
	MaxPages           int    `json:"maxPages,omitempty"`
	callerInput
}

func init() {
	for name, a := range iteratorActions {
		if _, dup := actions[name]; dup {
			panic("contracts: action " + name + " defined twice")
		}
		actions[name] = a
	}
}

// iteratorActions are the actions of the client's fetch-all iterators, which walk every page.
var iteratorActions = map[string]action{
	"QueryAll": {
		newInput: func() any { return &queryAllInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*queryAllInput)
			opts := &client.QueryOptions{
				Select: in.Select, Filter: in.Filter, OrderBy: in.OrderBy, Expand: toExpand(in.Expand),
				PageSize: in.PageSize, IncludeAnnotations: in.IncludeAnnotations, MaxPages: in.MaxPages,
				Caller: in.caller(),
			}
			for _, p := range in.Params {
				opts.Params = append(opts.Params, client.KeyValue{Key: p.Key, Value: textOf(p.Value)})
			}
			return observeAll(c.QueryAll(ctx, in.EntitySet, opts))
		},
	},
	"FetchXMLAll": {
		newInput: func() any { return &fetchAllInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*fetchAllInput)
			return observeAll(c.FetchXMLAll(ctx, in.EntitySet, in.FetchXML, &client.FetchOptions{
				IncludeAnnotations: in.IncludeAnnotations, PageSize: in.PageSize, MaxPages: in.MaxPages,
				Caller: in.caller(),
			}))
		},
	}}

// observeAll walks an iterator to its end and shows {"value": [every row, in order], "count": n}.
// An iterator hands back rows, not responses: a walk that ended without an error shows status 200;
// one that ended with an error answer shows that answer's status and error, beside the rows read
// before it; one that ended with an error the client raised itself (ErrTooManyPages when MaxPages
// stopped it, invalid input) shows no status and {"error": {"message": ...}} beside the rows.
func observeAll(rows iter.Seq2[client.Record, error]) observation {
	list := []any{}
	var err error
	for r, e := range rows {
		if e != nil {
			err = e
			break
		}
		list = append(list, map[string]any(r))
	}
	body := map[string]any{"value": list, "count": json.Number(strconv.Itoa(len(list)))}
	if err == nil {
		return observation{status: http.StatusOK, header: http.Header{}, body: body, hasBody: true}
	}
	var ce *client.Error
	if errors.As(err, &ce) {
		body["error"] = map[string]any{"code": ce.Code, "message": ce.Message}
		return observation{status: ce.StatusCode, header: ce.Header, body: body, hasBody: true}
	}
	if errors.Is(err, client.ErrTooManyPages) || errors.Is(err, client.ErrInvalidInput) {
		body["error"] = map[string]any{"message": err.Error()}
		return observation{header: http.Header{}, body: body, hasBody: true}
	}
	return observation{err: err}
}
