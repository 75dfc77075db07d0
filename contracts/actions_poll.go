package contracts

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/dynlocal/dynlocal/client"
)

// pollInput mirrors the arguments of client.PollChanges. cursor is the cursor an earlier step
// showed (capture it whole and pass it back); absent, the step is a first poll. Since and LookBack
// are left out: they read the client's clock, which a recorded suite cannot pin down.
type pollInput struct {
	EntitySet  string          `json:"entitySet"`
	Cursor     json.RawMessage `json:"cursor,omitempty"`
	PrimaryKey string          `json:"primaryKey,omitempty"`
	Filter     string          `json:"filter,omitempty"`
	Select     []string        `json:"select,omitempty"`
	PageSize   int             `json:"pageSize,omitempty"`
	MaxPages   int             `json:"maxPages,omitempty"`
}

func (in *pollInput) cursor() (*client.PollCursor, error) {
	if len(in.Cursor) == 0 || string(in.Cursor) == "null" {
		return nil, nil
	}
	var cur client.PollCursor
	if err := json.Unmarshal(in.Cursor, &cur); err != nil {
		return nil, fmt.Errorf("cursor: %w", err)
	}
	return &cur, nil
}

func init() {
	if _, dup := actions["PollChanges"]; dup {
		panic("contracts: action PollChanges defined twice")
	}
	actions["PollChanges"] = action{
		newInput: func() any { return &pollInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*pollInput)
			cur, err := in.cursor()
			if err != nil {
				return observation{err: err}
			}
			res, resp, err := c.PollChanges(ctx, in.EntitySet, cur, &client.PollOptions{
				PrimaryKey: in.PrimaryKey, Filter: in.Filter, Select: in.Select, PageSize: in.PageSize, MaxPages: in.MaxPages,
			})
			var body any
			if res != nil {
				body = map[string]any{
					"created": rowsOf(res.Created),
					"updated": rowsOf(res.Updated),
					"cursor":  res.Cursor,
					"more":    res.More,
				}
			}
			return observeValue(body, resp, err)
		},
	}
}

// rowsOf shows rows as a JSON array, empty rather than null.
func rowsOf(rows []client.Record) []any {
	out := make([]any, len(rows))
	for i, r := range rows {
		out[i] = map[string]any(r)
	}
	return out
}
