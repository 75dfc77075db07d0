package contracts

import (
	"context"
	"encoding/json"

	"github.com/dynlocal/dynlocal/client"
)

// functionInput mirrors client.CallFunction: the function's path relative to the API root and
// its parameters (strings become OData strings; {"$literal": "..."} is written as it is, for GUIDs
// and enum members).
type functionInput struct {
	Path   string                     `json:"path"`
	Params map[string]json.RawMessage `json:"params,omitempty"`
	callerInput
}

// actionInput mirrors client.CallAction: the action's path and its JSON body.
type actionInput struct {
	Path string          `json:"path"`
	Body json.RawMessage `json:"body,omitempty"`
	callerInput
}

func init() {
	for _, name := range []string{"CallFunction", "CallAction"} {
		if _, dup := actions[name]; dup {
			panic("contracts: action " + name + " defined twice")
		}
	}
	// CallFunction and CallAction show the operation's JSON answer as the body (none for 204).
	actions["CallFunction"] = action{
		newInput: func() any { return &functionInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*functionInput)
			params := map[string]any{}
			for name, raw := range in.Params {
				var lit struct {
					Literal *string `json:"$literal"`
				}
				if json.Unmarshal(raw, &lit) == nil && lit.Literal != nil {
					params[name] = client.Literal(*lit.Literal)
					continue
				}
				var v any
				if err := json.Unmarshal(raw, &v); err != nil {
					return observation{err: err}
				}
				params[name] = v
			}
			rec, resp, err := c.CallFunction(ctx, in.Path, params, &client.OperationOptions{Caller: in.caller()})
			return observeRecord(rec, resp, err)
		},
	}
	actions["CallAction"] = action{
		newInput: func() any { return &actionInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*actionInput)
			var body any
			if len(in.Body) > 0 {
				body = in.Body
			}
			rec, resp, err := c.CallAction(ctx, in.Path, body, &client.OperationOptions{Caller: in.caller()})
			return observeRecord(rec, resp, err)
		},
	}
}
