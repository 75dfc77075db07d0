package contracts

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/dynlocal/dynlocal/client"
)

// fetchInput mirrors the arguments of client.FetchXML and client.FetchOptions (MaxPages only bounds
// the iterators and is left out).
type fetchInput struct {
	EntitySet          string `json:"entitySet"`
	FetchXML           string `json:"fetchXml"`
	IncludeAnnotations string `json:"includeAnnotations,omitempty"`
	Page               int    `json:"page,omitempty"`
	PagingCookie       string `json:"pagingCookie,omitempty"`
	PageSize           int    `json:"pageSize,omitempty"`
	callerInput
}

func init() {
	if _, dup := actions["FetchXML"]; dup {
		panic("contracts: action FetchXML defined twice")
	}
	actions["FetchXML"] = action{
		newInput: func() any { return &fetchInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*fetchInput)
			page, resp, err := c.FetchXML(ctx, in.EntitySet, in.FetchXML, &client.FetchOptions{
				IncludeAnnotations: in.IncludeAnnotations, Page: in.Page, PagingCookie: in.PagingCookie,
				PageSize: in.PageSize, Caller: in.caller(),
			})
			obs := observeRecord(nil, resp, err)
			if err == nil && page != nil {
				obs.body, obs.hasBody = fetchPageBody(page), true
			}
			return obs
		},
	}
}

// fetchPageBody shows a FetchXML page as the client returned it: "value" (the rows), "page",
// "moreRecords", "pagingCookie" (the inner cookie, only when there is one: the last page has none)
// and "totalRecordCount" (only when returned).
func fetchPageBody(p *client.FetchPage) map[string]any {
	rows := make([]any, len(p.Records))
	for i, r := range p.Records {
		rows[i] = map[string]any(r)
	}
	body := map[string]any{
		"value":       rows,
		"page":        json.Number(strconv.Itoa(p.Page)),
		"moreRecords": p.MoreRecords,
	}
	if p.PagingCookie != "" {
		body["pagingCookie"] = p.PagingCookie
	}
	if p.TotalRecordCount >= 0 {
		body["totalRecordCount"] = json.Number(strconv.FormatInt(p.TotalRecordCount, 10))
	}
	return body
}
