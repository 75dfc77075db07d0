package contracts

import (
	"context"
	"errors"

	"github.com/dynlocal/dynlocal/client"
)

// bulkInput mirrors the arguments of client.CreateMultiple, UpdateMultiple and UpsertMultiple and
// client.BulkOptions. table types the records; an empty one leaves them as written.
type bulkInput struct {
	EntitySet string           `json:"entitySet"`
	Table     string           `json:"table,omitempty"`
	Targets   []map[string]any `json:"targets"`
	writeInput
}

func (in *bulkInput) records() []client.Record {
	out := make([]client.Record, len(in.Targets))
	for i, t := range in.Targets {
		out[i] = client.Record(t)
	}
	return out
}

func (in *bulkInput) options() *client.BulkOptions {
	return &client.BulkOptions{Caller: in.caller(), SuppressDuplicateDetection: in.SuppressDuplicateDetection,
		BypassCustomPluginExecution: in.BypassCustomPluginExecution}
}

// createdRows lists the rows a CreateMultiple created, from the Ids of its answer, so that the case
// deletes them.
func (in *bulkInput) createdRows(obs observation) []tracked {
	m, _ := obs.body.(map[string]any)
	ids, _ := m["Ids"].([]any)
	var out []tracked
	for _, id := range ids {
		if s, ok := id.(string); ok && s != "" {
			out = append(out, tracked{kind: trackedRow, set: in.EntitySet, key: s})
		}
	}
	return out
}

func init() {
	check := func(x any) error {
		if x.(*bulkInput).EntitySet == "" {
			return errors.New("entitySet is required")
		}
		return nil
	}
	register := func(name string, run func(ctx context.Context, c *client.Client, in *bulkInput) observation) {
		if _, dup := actions[name]; dup {
			panic("contracts: action " + name + " defined twice")
		}
		actions[name] = action{
			newInput: func() any { return &bulkInput{} },
			check:    check,
			run: func(ctx context.Context, c *client.Client, x any) observation {
				return run(ctx, c, x.(*bulkInput))
			},
		}
	}
	// CreateMultiple shows its answer as {"Ids": [...]}.
	register("CreateMultiple", func(ctx context.Context, c *client.Client, in *bulkInput) observation {
		ids, resp, err := c.CreateMultiple(ctx, in.EntitySet, in.Table, in.records(), in.options())
		if err != nil {
			return observeRecord(nil, resp, err)
		}
		list := make([]any, len(ids))
		for i, id := range ids {
			list[i] = id
		}
		return observeRecord(client.Record{"Ids": list}, resp, nil)
	})
	register("UpdateMultiple", func(ctx context.Context, c *client.Client, in *bulkInput) observation {
		resp, err := c.UpdateMultiple(ctx, in.EntitySet, in.Table, in.records(), in.options())
		return observeRecord(nil, resp, err)
	})
	register("UpsertMultiple", func(ctx context.Context, c *client.Client, in *bulkInput) observation {
		resp, err := c.UpsertMultiple(ctx, in.EntitySet, in.Table, in.records(), in.options())
		return observeRecord(nil, resp, err)
	})
}
