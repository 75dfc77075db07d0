package webapi

import (
	"net/http"
	"strconv"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/fetchxml"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// fetchRecords serves GET {set}?fetchXml=...: the FetchXML query runs on the same query model as
// OData. Null columns are omitted from rows; linked columns are keyed alias_x002e_attribute; pages
// are positioned by the paging cookie (keyset) or by page number.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/fetchxml/overview
func (s *Handler) fetchRecords(req *Request, e *model.Entity, text string) (*wire.Response, error) {
	if err := req.Query.AllowOr(s.ignorer(req), "$count"); err != nil {
		return nil, err
	}
	f, err := fetchxml.Parse(s.store.Schema(), text, model.Env{Now: s.cfg.Clock(), UserID: req.Caller.UserID, BusinessUnitID: req.Caller.BusinessUnitID})
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
	var resp *wire.Response
	err = s.InTx(req, false, func(tx *store.Tx) error {
		res, err := tx.Select(f.Query)
		if err != nil {
			return err
		}
		if f.Aggregate && res.SourceRows > int64(f.AggregateLimit) {
			return dverr.AggregateLimitExceeded()
		}
		body := wire.NewObject()
		body.Set("@odata.context", req.Base+"$metadata#"+e.EntitySetName)
		if f.ReturnTotalRecordCount {
			total, err := tx.CountRows(f.Query, maxCount+1)
			if err != nil {
				return err
			}
			if req.Prefer.WantsAnnotation("Microsoft.Dynamics.CRM.totalrecordcount") {
				body.Set("@Microsoft.Dynamics.CRM.totalrecordcount", min(total, maxCount))
			}
			if req.Prefer.WantsAnnotation("Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded") {
				body.Set("@Microsoft.Dynamics.CRM.totalrecordcountlimitexceeded", total > maxCount)
			}
		}
		if res.More {
			if req.Prefer.WantsAnnotation("Microsoft.Dynamics.CRM.fetchxmlpagingcookie") {
				body.Set("@Microsoft.Dynamics.CRM.fetchxmlpagingcookie", f.NextCookie(res.Next, res.Rows[0].ID))
			}
			if req.Prefer.WantsAnnotation("Microsoft.Dynamics.CRM.morerecords") {
				body.Set("@Microsoft.Dynamics.CRM.morerecords", true)
			}
		}
		sh := newShaper(tx, req.Base, req.Prefer)
		list := make([]*wire.Object, 0, len(res.Rows))
		for _, r := range res.Rows {
			o, err := fetchRow(sh, f, r)
			if err != nil {
				return err
			}
			list = append(list, o)
		}
		body.Set("value", list)
		resp = wire.NewResponse(http.StatusOK)
		resp.JSON = body
		if req.Prefer.Annotations != nil {
			resp.Header.Set("Preference-Applied", `odata.include-annotations="`+req.Prefer.AnnotationsRaw+`"`)
		}
		return nil
	})
	return resp, err
}

// fetchRow shapes one FetchXML result row.
func fetchRow(sh *shaper, f *fetchxml.Fetch, r store.ResultRow) (*wire.Object, error) {
	o := wire.NewObject()
	if !f.Aggregate {
		o.Set("@odata.etag", wire.ETag(r.Version))
	}
	fv := sh.prefer.WantsAnnotation(wire.AnnFormatted)
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
					o.Set(c.Key+"@"+wire.AnnFormatted, name)
				}
			}
			if sh.prefer.WantsAnnotation(wire.AnnLookupName) {
				o.Set(c.Key+"@"+wire.AnnLookupName, l.Entity)
			}
			o.Set(c.Key, l.ID)
			continue
		}
		if fv {
			if f.Aggregate && c.Aggregate != "" {
				if n, ok := v.(int64); ok {
					o.Set(c.Key+"@"+wire.AnnFormatted, model.GroupDigits(strconv.FormatInt(n, 10)))
				} else if str := model.FormatValue(c.Attr, v); str != "" {
					o.Set(c.Key+"@"+wire.AnnFormatted, str)
				}
			} else if c.DatePart == "" {
				if str := model.FormatValue(c.Attr, v); str != "" {
					o.Set(c.Key+"@"+wire.AnnFormatted, str)
				}
			}
		}
		if c.DatePart != "" || (f.Aggregate && (c.Aggregate == model.AggCount || c.Aggregate == model.AggCountColumn || c.Aggregate == model.AggCountDistinct)) {
			o.Set(c.Key, v)
		} else {
			o.Set(c.Key, jsonValue(c.Attr, v))
		}
	}
	return o, nil
}
