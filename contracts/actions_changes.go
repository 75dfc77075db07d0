package contracts

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/dynlocal/dynlocal/client"
)

// trackInput mirrors client.TrackChangesOptions. Without deltaLink the step starts change
// tracking; with the deltaLink an earlier step captured, it reads the changes since.
type trackInput struct {
	EntitySet string   `json:"entitySet"`
	Select    []string `json:"select,omitempty"`
	DeltaLink string   `json:"deltaLink,omitempty"`
	PageSize  int      `json:"pageSize,omitempty"`
	MaxPages  int      `json:"maxPages,omitempty"`
}

// countChangesInput names the delta link whose changes CountChanges counts.
type countChangesInput struct {
	EntitySet string `json:"entitySet"`
	DeltaLink string `json:"deltaLink"`
}

func init() {
	for _, name := range []string{"TrackChanges", "CountChanges"} {
		if _, dup := actions[name]; dup {
			panic("contracts: action " + name + " defined twice")
		}
	}
	// TrackChanges walks every page of the answer (client.ChangePages) and shows what a sync job
	// keeps: the new and updated rows, the deleted ids, the number of pages and the delta link of
	// the last page, with status 200; an error answer shows its status and error.
	actions["TrackChanges"] = action{
		newInput: func() any { return &trackInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*trackInput)
			records, deleted := []any{}, []any{}
			pages, link := 0, ""
			var walkErr error
			for page, err := range c.ChangePages(ctx, in.EntitySet, &client.TrackChangesOptions{
				Select: in.Select, DeltaLink: in.DeltaLink, PageSize: in.PageSize, MaxPages: in.MaxPages,
			}) {
				if err != nil {
					walkErr = err
					break
				}
				pages++
				for _, r := range page.Records {
					records = append(records, map[string]any(r))
				}
				for _, id := range page.Deleted {
					deleted = append(deleted, id)
				}
				link = page.DeltaLink
			}
			if walkErr != nil {
				var ce *client.Error
				if errors.As(walkErr, &ce) {
					body := map[string]any{"error": map[string]any{"code": ce.Code, "message": ce.Message}}
					return observation{status: ce.StatusCode, header: ce.Header, body: body, hasBody: true}
				}
				return observation{err: walkErr}
			}
			body := map[string]any{"records": records, "deleted": deleted, "pages": json.Number(strconv.Itoa(pages)), "deltaLink": link}
			return observation{status: http.StatusOK, header: http.Header{}, body: body, hasBody: true}
		},
	}
	actions["CountChanges"] = action{
		newInput: func() any { return &countChangesInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*countChangesInput)
			n, resp, err := c.CountChanges(ctx, in.EntitySet, in.DeltaLink)
			var body any
			if err == nil {
				body = map[string]any{"value": n}
			}
			return observeValue(body, resp, err)
		},
	}
}
