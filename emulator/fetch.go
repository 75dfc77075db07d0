package emulator

import (
	"net/http"
	"strconv"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/fetchxml"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
)

// fetchRecords serves GET {set}?fetchXml=...: the FetchXML query runs on the same query model as
// OData. Null columns are omitted from rows; linked columns are keyed alias_x002e_attribute; pages
// are positioned by the paging cookie (keyset) or by page number.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/fetchxml/overview
func (s *Server) fetchRecords(req *apiRequest, e *model.Entity, text string) (*response, error) {
	if err := req.query.Allow(s.cfg.Loose, "$count"); err != nil {
		return nil, err
	}
	f, err := fetchxml.Parse(s.store.Schema(), text, model.Env{Now: s.cfg.Clock(), UserID: req.caller.UserID, BusinessUnitID: req.caller.BusinessUnitID})
	if err != nil {
		return nil, err
	}
	if f.AggregateLimit == fetchxml.DefaultAggregateLimit {
		// Without an aggregatelimit attribute the server's limit applies (Config.AggregateLimit).
		f.AggregateLimit = s.cfg.AggregateLimit
	}
	if f.Entity != e {
		return nil, dverr.BadRequest("The entity '%s' of the FetchXML query does not match the entity set '%s' (entity '%s').", f.Entity.LogicalName, e.EntitySetName, e.LogicalName)
	}
	// Dataverse returns the primary key of every row of a plain query, asked for or not.
	pk := e.PrimaryID()
	if !f.Aggregate && !f.Distinct && !model.ContainsAttr(f.Query.Columns, pk) {
		f.Query.Columns = append(f.Query.Columns, pk)
		f.Columns = append(f.Columns, fetchxml.OutputColumn{Key: pk.LogicalName, Attr: pk})
	}
	var resp *response
	err = s.inTx(req, false, func(tx *store.Tx) error {
		res, err := tx.Select(f.Query)
		if err != nil {
			return err
		}
		if f.Aggregate && res.SourceRows > int64(f.AggregateLimit) {
			return dverr.AggregateLimitExceeded()
		}
		body := newObject()
		body.set("@odata.context", req.base+"$metadata#"+e.EntitySetName)
		if f.ReturnTotalRecordCount {
			total, err := tx.CountRows(f.Query, maxCount+1)
			if err != nil {
				return err
			}
			if req.prefer.wantsAnnotation("Microsoft.Dynamics.CRM.totalrecordcount") {
				body.set("@Microsoft.Dynamics.CRM.totalrecordcount", min(total, maxCount))
			}
			if req.prefer.wantsAnnotation("Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded") {
				body.set("@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded", total > maxCount)
			}
		}
		if res.More {
			if req.prefer.wantsAnnotation("Microsoft.Dynamics.CRM.fetchxmlpagingcookie") {
				next := *res.Next
				next.Page = f.Page
				cookie := model.PagingCookie(model.EncodePosition(f.Query, &next, res.Rows[0].ID), f.Page+1)
				body.set("@Microsoft.Dynamics.CRM.fetchxmlpagingcookie", cookie)
			}
			if req.prefer.wantsAnnotation("Microsoft.Dynamics.CRM.morerecords") {
				body.set("@Microsoft.Dynamics.CRM.morerecords", true)
			}
		}
		sh := newShaper(tx, req.base, req.prefer)
		list := make([]*object, 0, len(res.Rows))
		for _, r := range res.Rows {
			o, err := fetchRow(sh, f, r)
			if err != nil {
				return err
			}
			list = append(list, o)
		}
		body.set("value", list)
		resp = newResponse(http.StatusOK)
		resp.json = body
		if req.prefer.Annotations != nil {
			resp.header.Set("Preference-Applied", `odata.include-annotations="`+req.prefer.AnnotationsRaw+`"`)
		}
		return nil
	})
	return resp, err
}

// fetchRow shapes one FetchXML result row.
func fetchRow(sh *shaper, f *fetchxml.Fetch, r store.ResultRow) (*object, error) {
	o := newObject()
	if !f.Aggregate {
		o.set("@odata.etag", etag(r.Version))
	}
	fv := sh.prefer.wantsAnnotation(annFormatted)
	for _, c := range f.Columns {
		var v any
		switch {
		case f.Aggregate:
			v = r.Row[c.Alias]
		case c.Link != nil:
			v = r.Links[c.Link][c.Attr.LogicalName]
		default:
			v = r.Row[c.Attr.LogicalName]
		}
		if v == nil {
			continue
		}
		if l, ok := v.(model.Lookup); ok {
			if l.ID == "" {
				continue
			}
			if fv {
				name, err := sh.primaryName(l)
				if err != nil {
					return nil, err
				}
				if name != "" {
					o.set(c.Key+"@"+annFormatted, name)
				}
			}
			if sh.prefer.wantsAnnotation(annLookupName) {
				o.set(c.Key+"@"+annLookupName, l.Entity)
			}
			o.set(c.Key, l.ID)
			continue
		}
		if fv {
			if f.Aggregate && c.Aggregate != "" {
				if n, ok := v.(int64); ok {
					o.set(c.Key+"@"+annFormatted, group(strconv.FormatInt(n, 10)))
				} else if str := formatValue(c.Attr, v); str != "" {
					o.set(c.Key+"@"+annFormatted, str)
				}
			} else if c.DatePart == "" {
				if str := formatValue(c.Attr, v); str != "" {
					o.set(c.Key+"@"+annFormatted, str)
				}
			}
		}
		if c.DatePart != "" || (f.Aggregate && (c.Aggregate == model.AggCount || c.Aggregate == model.AggCountColumn || c.Aggregate == model.AggCountDistinct)) {
			o.set(c.Key, v)
		} else {
			o.set(c.Key, jsonValue(c.Attr, v))
		}
	}
	return o, nil
}
