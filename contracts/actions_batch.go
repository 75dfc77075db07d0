package contracts

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/dynlocal/dynlocal/client"
)

// batchActionInput mirrors client.BatchAction.
type batchActionInput struct {
	Collection           string         `json:"collection,omitempty"`
	Action               string         `json:"action"`
	Key                  string         `json:"key,omitempty"`
	Data                 map[string]any `json:"data,omitempty"`
	ReturnRepresentation bool           `json:"returnRepresentation,omitempty"`
	IfMatch              string         `json:"ifMatch,omitempty"`
	ContentID            string         `json:"contentId,omitempty"`
}

// batchInput mirrors the arguments of client.Batch and client.BatchOptions. repeat, when above 0,
// sends the actions that many times over (a way to write a batch of more than 1,000 actions).
type batchInput struct {
	Actions         []batchActionInput `json:"actions"`
	Repeat          int                `json:"repeat,omitempty"`
	Independent     bool               `json:"independent,omitempty"`
	ContinueOnError bool               `json:"continueOnError,omitempty"`
	callerInput
}

// rowsCreator is an input whose step may create rows the runner cannot see through
// OData-EntityId: the tracker asks it which, whatever the step's status.
type rowsCreator interface {
	createdRows(obs observation) []tracked
}

// createdRows lists the rows a batch created: every create result with an id, in the entity set its
// action named. A create into "$<id>/<navigation>" names no entity set; such rows need the step's
// cleanup.
func (in *batchInput) createdRows(obs observation) []tracked {
	m, _ := obs.body.(map[string]any)
	results, _ := m["results"].([]any)
	acts := in.expanded()
	var out []tracked
	for i, r := range results {
		res, _ := r.(map[string]any)
		id, _ := res["id"].(string)
		if i >= len(acts) || id == "" || !strings.EqualFold(acts[i].Action, "create") {
			continue
		}
		if set := acts[i].Collection; set != "" && !strings.Contains(set, "/") && !strings.HasPrefix(set, "$") {
			out = append(out, tracked{kind: trackedRow, set: set, key: strings.ToLower(id)})
		}
	}
	return out
}

func (in *batchInput) expanded() []batchActionInput {
	if in.Repeat <= 1 {
		return in.Actions
	}
	out := make([]batchActionInput, 0, len(in.Actions)*in.Repeat)
	for range in.Repeat {
		out = append(out, in.Actions...)
	}
	return out
}

func init() {
	if _, dup := actions["Batch"]; dup {
		panic("contracts: action Batch defined twice")
	}
	actions["Batch"] = action{
		newInput: func() any { return &batchInput{} },
		check: func(x any) error {
			if x.(*batchInput).Repeat < 0 {
				return errors.New("repeat must not be negative")
			}
			return nil
		},
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*batchInput)
			acts := in.expanded()
			list := make([]client.BatchAction, len(acts))
			for i, a := range acts {
				list[i] = client.BatchAction{
					Collection: a.Collection, Action: a.Action, Key: a.Key, ReturnRepresentation: a.ReturnRepresentation,
					IfMatch: a.IfMatch, ContentID: a.ContentID,
				}
				if a.Data != nil {
					list[i].Data = client.Record(a.Data)
				}
			}
			results, resp, err := c.Batch(ctx, list, &client.BatchOptions{
				Independent: in.Independent, ContinueOnError: in.ContinueOnError,
				Caller: in.caller(),
			})
			return observeBatch(results, resp, err)
		},
	}
}

// observeBatch shows a batch as {"results": [...], "error": {...}}: one result per action, in
// order, with "status" (0 when not run), "id", "record", "error" and "notRun" when set, and the
// overall error when Batch returned one. An error without an answer (a batch the client refused
// before sending it) shows as status 0 and {"error": {"message": ...}}.
func observeBatch(results []client.BatchResult, resp *client.Response, err error) observation {
	var ce *client.Error
	if err != nil && resp == nil && !errors.As(err, &ce) {
		if errors.Is(err, client.ErrInvalidInput) {
			return observation{body: map[string]any{"error": map[string]any{"message": err.Error()}}, hasBody: true, header: http.Header{}}
		}
		return observation{err: err}
	}
	obs := observation{}
	switch {
	case resp != nil:
		obs.status, obs.header = resp.StatusCode, resp.Header
	case ce != nil:
		obs.status, obs.header = ce.StatusCode, ce.Header
	}
	body := map[string]any{}
	if results != nil {
		list := make([]any, len(results))
		for i, r := range results {
			row := map[string]any{"status": json.Number(strconv.Itoa(r.StatusCode))}
			if r.ID != "" {
				row["id"] = r.ID
			}
			if r.Record != nil {
				row["record"] = map[string]any(r.Record)
			}
			if r.Err != nil {
				row["error"] = map[string]any{"code": r.Err.Code, "message": r.Err.Message}
			}
			if r.NotRun {
				row["notRun"] = true
			}
			list[i] = row
		}
		body["results"] = list
	}
	if err != nil {
		e := map[string]any{"message": err.Error()}
		if errors.As(err, &ce) {
			e["code"] = ce.Code
		}
		body["error"] = e
	}
	obs.body, obs.hasBody = body, true
	return obs
}
