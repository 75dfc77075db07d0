package webapi

import (
	"errors"
	"net/http"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/odata"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// createRecord serves POST {set}.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-entity-web-api
func (s *Handler) createRecord(req *Request) (*wire.Response, error) {
	e := req.Res.Entity
	rec, err := odata.ParseRecord(s.odataRequest(req), e, req.Query)
	if err != nil {
		return nil, err
	}
	members, err := readEntityBody(req, e.EntitySetName)
	if err != nil {
		return nil, err
	}
	var resp *wire.Response
	err = s.InTx(req, true, func(tx *store.Tx) error {
		plan, err := s.decoderFor(req, tx).decodeRecord(e, members, opCreate)
		if err != nil {
			return err
		}
		id, err := s.newWriter(req.Ctx, tx, req.Caller).create(plan)
		if err != nil {
			return err
		}
		resp, err = s.writeResult(req, tx, rec, e, id, http.StatusCreated)
		return err
	})
	return resp, err
}

// writeResult answers a create or update: the row with the given status when
// Prefer: return=representation was sent, else 204 with OData-EntityId.
func (s *Handler) writeResult(req *Request, tx *store.Tx, rec *odata.Record, e *model.Entity, id string, status int) (*wire.Response, error) {
	if req.Prefer.ReturnRepresentation {
		return s.representation(req, tx, rec, e, id, status)
	}
	return wire.EntityIDResponse(http.StatusNoContent, entityURL(req.Base, e, id)), nil
}

// getRecord serves GET {set}({key}) with $select and $expand, and conditional GET.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/retrieve-entity-using-web-api
func (s *Handler) getRecord(req *Request) (*wire.Response, error) {
	e := req.Res.Entity
	rec, err := odata.ParseRecord(s.odataRequest(req), e, req.Query)
	if err != nil {
		return nil, err
	}
	var resp *wire.Response
	err = s.InTx(req, false, func(tx *store.Tx) error {
		id, err := lookupKey(tx, e, req.Res.Key)
		if err != nil {
			return asNotFound(err)
		}
		body, ver, err := s.shapeRecord(req, tx, e, id, rec)
		if err != nil {
			return err
		}
		tag := wire.ETag(ver)
		if inm := req.R.Header.Get("If-None-Match"); inm != "" && len(rec.Expand) == 0 && req.Prefer.Annotations == nil && wire.ETagMatches(inm, ver) {
			resp = wire.NewResponse(http.StatusNotModified)
			resp.Header.Set("ETag", tag)
			return nil
		}
		resp = wire.NewResponse(http.StatusOK)
		body.PutFirst("@odata.context", contextURL(req.Base, e.EntitySetName, rec.Select, rec.Expand, true))
		resp.JSON = body
		resp.Header.Set("ETag", tag)
		if req.Prefer.Annotations != nil {
			resp.Header.Set("Preference-Applied", `odata.include-annotations="`+req.Prefer.AnnotationsRaw+`"`)
		}
		return nil
	})
	return resp, err
}

// shapeRecord reads a row with its expansions and shapes it (without @odata.context).
func (s *Handler) shapeRecord(req *Request, tx *store.Tx, e *model.Entity, id string, rec *odata.Record) (*wire.Object, int64, error) {
	sh := newShaper(tx, req.Base, req.Prefer)
	if len(rec.Expand) == 0 && sh.plain(rec.Columns) {
		vals, ver, err := tx.GetColumns(e, id, rec.Columns)
		if err != nil {
			return nil, 0, mapStoreErr(err, e, id)
		}
		body, err := sh.encoded(ver, rec.Columns, vals)
		return body, ver, err
	}
	row, ver, err := tx.Get(e, id, rec.Names(e))
	if err != nil {
		return nil, 0, mapStoreErr(err, e, id)
	}
	body, err := sh.row(e, row, ver, rec.Columns)
	if err != nil {
		return nil, 0, err
	}
	if err := s.expand(req, tx, sh, body, e, id, row, rec.Expand); err != nil {
		return nil, 0, err
	}
	return body, ver, nil
}

// expand adds expanded navigation properties to a shaped row.
func (s *Handler) expand(req *Request, tx *store.Tx, sh *shaper, body *wire.Object, e *model.Entity, id string, row model.Row, items []odata.ExpandItem) error {
	sch := tx.Schema()
	for _, x := range items {
		target, _ := sch.Entity(x.Nav.Target)
		if x.Nav.Kind == model.NavSingle {
			l, ok := row[x.Nav.Attribute].(model.Lookup)
			if !ok || l.ID == "" || l.Entity != target.LogicalName {
				body.Set(x.Nav.Name, nil)
				continue
			}
			if x.Ref {
				o := wire.NewObject()
				o.Set("@odata.id", entityURL(req.Base, target, l.ID))
				body.Set(x.Nav.Name, o)
				continue
			}
			if x.Filter != nil {
				// A filter on a single-valued expansion decides whether the related row shows.
				res, err := tx.Select(&model.Query{Entity: target, Columns: []*model.Attribute{}, Top: 1,
					Filter: model.And{Terms: []model.Expr{x.Filter, model.Compare{Left: &model.Column{Attr: target.PrimaryID()}, Op: model.Eq, Value: l.ID}}}})
				if err != nil {
					return err
				}
				if len(res.Rows) == 0 {
					body.Set(x.Nav.Name, nil)
					continue
				}
			}
			child, _, err := s.shapeRecord(req, tx, target, l.ID, &odata.Record{Select: x.Select, Columns: x.Columns, Expand: x.Expand})
			if errors.Is(err, store.ErrNotFound) {
				body.Set(x.Nav.Name, nil)
				continue
			}
			if err != nil {
				return err
			}
			// Expanded single-valued rows carry no ETag in Dataverse's answers.
			child.Remove("@odata.etag")
			body.Set(x.Nav.Name, child)
			continue
		}
		if err := s.expandCollection(req, tx, sh, e, []store.ResultRow{{ID: id, Row: row}}, []*wire.Object{body}, x); err != nil {
			return err
		}
	}
	return nil
}

// upsertRecord serves PATCH {set}({key}): update, or create when the row does not exist, under
// the If-Match / If-None-Match rules.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/update-delete-entities-using-web-api
// and https://learn.microsoft.com/power-apps/developer/data-platform/use-upsert-insert-update-record
func (s *Handler) upsertRecord(req *Request) (*wire.Response, error) {
	e := req.Res.Entity
	rec, err := odata.ParseRecord(s.odataRequest(req), e, req.Query)
	if err != nil {
		return nil, err
	}
	// The representation an update returns honours $select; Dataverse ignores $expand on PATCH
	// (it is still checked, as every query option is).
	rec.Columns, rec.Expand = e.Shown(rec.Select), nil
	members, err := readEntityBody(req, e.EntitySetName)
	if err != nil {
		return nil, err
	}
	ifMatch := strings.TrimSpace(req.R.Header.Get("If-Match"))
	ifNoneMatch := strings.TrimSpace(req.R.Header.Get("If-None-Match"))
	var resp *wire.Response
	err = s.InTx(req, true, func(tx *store.Tx) error {
		key := req.Res.Key
		id, err := lookupKey(tx, e, key)
		var missing *altKeyMissing
		if errors.As(err, &missing) {
			err = nil
		}
		if err != nil {
			return err
		}
		exists := false
		var ver int64
		if id != "" {
			ver, err = tx.Version(e, id)
			if err == nil {
				exists = true
			} else if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		notFound := func() error {
			if missing != nil {
				return missing.notFound()
			}
			return dverr.RecordNotFound(e.LogicalName, id)
		}
		switch {
		case ifNoneMatch == "*" && exists:
			return dverr.DuplicateRecord()
		case ifMatch != "" && !exists:
			return notFound()
		case ifMatch != "" && ifMatch != "*" && !wire.ETagMatches(ifMatch, ver):
			return dverr.VersionMismatch()
		}
		d := s.decoderFor(req, tx)
		w := s.newWriter(req.Ctx, tx, req.Caller)
		if exists {
			plan, err := d.decodeRecord(e, members, opUpdate)
			if err != nil {
				return err
			}
			if key.Single == nil {
				// Key columns in the body of an upsert by alternate key are dropped when the row
				// exists.
				for _, p := range key.Pairs {
					delete(plan.Row, strings.TrimSuffix(strings.TrimPrefix(p.Name, "_"), "_value"))
				}
			}
			if err := w.update(plan, id); err != nil {
				return err
			}
			resp, err = s.writeResult(req, tx, rec, e, id, http.StatusOK)
			return err
		}
		plan, err := d.decodeRecord(e, members, opCreate)
		if err != nil {
			return err
		}
		if key.Single != nil {
			if plan.ID != "" && plan.ID != id {
				return dverr.BadRequest("The primary key in the body (%s) does not match the key in the URL (%s).", plan.ID, id)
			}
			plan.ID = id
		} else {
			vals, err := altKeyValues(e, key)
			if err != nil {
				return err
			}
			for k, v := range vals {
				if k == e.PrimaryIDAttribute {
					if s, ok := v.(string); ok && plan.ID == "" {
						plan.ID = s
					}
					continue
				}
				if _, given := plan.Row[k]; !given {
					plan.Row[k] = v
				}
			}
		}
		newID, err := w.create(plan)
		if err != nil {
			return err
		}
		resp, err = s.writeResult(req, tx, rec, e, newID, http.StatusCreated)
		return err
	})
	return resp, err
}

// deleteRecord serves DELETE {set}({key}), with optional If-Match.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/update-delete-entities-using-web-api#basic-delete
func (s *Handler) deleteRecord(req *Request) (*wire.Response, error) {
	e := req.Res.Entity
	if err := req.Query.AllowOr(s.ignorer(req)); err != nil {
		return nil, err
	}
	ifMatch := strings.TrimSpace(req.R.Header.Get("If-Match"))
	err := s.InTx(req, true, func(tx *store.Tx) error {
		id, err := lookupKey(tx, e, req.Res.Key)
		if err != nil {
			return asNotFound(err)
		}
		ver, err := tx.Version(e, id)
		if err != nil {
			return mapStoreErr(err, e, id)
		}
		if ifMatch != "" && !wire.ETagMatches(ifMatch, ver) {
			return dverr.VersionMismatch()
		}
		return s.newWriter(req.Ctx, tx, req.Caller).delete(e, id)
	})
	if err != nil {
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}

// rowID resolves the key of the addressed row inside tx.
func rowID(tx *store.Tx, req *Request) (string, error) {
	id, err := lookupKey(tx, req.Res.Entity, req.Res.Key)
	if err != nil {
		return "", asNotFound(err)
	}
	return id, nil
}

// getProperty serves GET {set}({key})/{property}.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/retrieve-entity-using-web-api#retrieve-a-single-property-value
func (s *Handler) getProperty(req *Request) (*wire.Response, error) {
	e, a := req.Res.Entity, req.Res.Property
	if err := req.Query.AllowOr(s.ignorer(req)); err != nil {
		return nil, err
	}
	if !a.Stored() || !a.ValidForRead {
		return nil, dverr.BadRequest("The property '%s' cannot be read on its own.", a.LogicalName)
	}
	var resp *wire.Response
	err := s.InTx(req, false, func(tx *store.Tx) error {
		id, err := rowID(tx, req)
		if err != nil {
			return err
		}
		row, _, err := tx.Get(e, id, []string{a.LogicalName})
		if err != nil {
			return mapStoreErr(err, e, id)
		}
		v := row[a.LogicalName]
		if v == nil {
			resp = wire.NewResponse(http.StatusNoContent)
			return nil
		}
		name := a.LogicalName
		if a.IsLookup() {
			name = a.LookupProperty()
		}
		o := wire.NewObject()
		o.Set("@odata.context", req.Base+"$metadata#"+e.EntitySetName+"("+id+")/"+name)
		o.Set("value", jsonValue(a, v))
		resp = wire.NewResponse(http.StatusOK)
		resp.JSON = o
		return nil
	})
	return resp, err
}

// putProperty serves PUT {set}({key})/{property} with body {"value": ...}.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/update-delete-entities-using-web-api#update-a-single-property-value
func (s *Handler) putProperty(req *Request) (*wire.Response, error) {
	e, a := req.Res.Entity, req.Res.Property
	if err := req.Query.AllowOr(s.ignorer(req)); err != nil {
		return nil, err
	}
	if a.IsLookup() {
		return nil, dverr.BadRequest("CRM do not support direct update of Entity Reference properties, Use Navigation properties instead.")
	}
	if a.IsPrimaryID || !a.Stored() {
		return nil, dverr.BadRequest("The property '%s' cannot be updated.", a.LogicalName)
	}
	body, err := readJSONBody(req, e.EntitySetName)
	if err != nil {
		return nil, err
	}
	var raw []byte
	for _, m := range body.Members() {
		if m.Name == "value" {
			raw = m.Raw()
		} else if !strings.HasPrefix(m.Name, "@") {
			return nil, payloadError(e.EntitySetName, "A property value must be sent as {\"value\": ...}; found the property '"+m.Name+"'.")
		}
	}
	if raw == nil {
		return nil, payloadError(e.EntitySetName, "A property value must be sent as {\"value\": ...}.")
	}
	v, err := decodeValue(e, a, raw)
	if err != nil {
		return nil, err
	}
	return s.writeProperty(req, a, v)
}

// deleteProperty serves DELETE {set}({key})/{property}: the value becomes null.
func (s *Handler) deleteProperty(req *Request) (*wire.Response, error) {
	a := req.Res.Property
	if err := req.Query.AllowOr(s.ignorer(req)); err != nil {
		return nil, err
	}
	if a.IsLookup() {
		return nil, dverr.BadRequest("A single-valued navigation property cannot be cleared with a property DELETE; use DELETE .../%s/$ref.", a.LogicalName)
	}
	if a.IsPrimaryID || !a.Stored() {
		return nil, dverr.BadRequest("The property '%s' cannot be updated.", a.LogicalName)
	}
	return s.writeProperty(req, a, nil)
}

func (s *Handler) writeProperty(req *Request, a *model.Attribute, v any) (*wire.Response, error) {
	e := req.Res.Entity
	err := s.InTx(req, true, func(tx *store.Tx) error {
		id, err := rowID(tx, req)
		if err != nil {
			return err
		}
		if !a.ValidForUpdate {
			// As with PATCH, a column that cannot be updated is left alone.
			_, err := tx.Version(e, id)
			return mapStoreErr(err, e, id)
		}
		w := s.newWriter(req.Ctx, tx, req.Caller)
		return w.update(&writePlan{Entity: e, Row: model.Row{a.LogicalName: v}}, id)
	})
	if err != nil {
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}

// getSingleNav serves GET {set}({key})/{single-valued navigation}.
func (s *Handler) getSingleNav(req *Request) (*wire.Response, error) {
	e, nav := req.Res.Entity, req.Res.Nav
	target := nav.TargetEntity
	rec, err := odata.ParseRecord(s.odataRequest(req), target, req.Query)
	if err != nil {
		return nil, err
	}
	var resp *wire.Response
	err = s.InTx(req, false, func(tx *store.Tx) error {
		id, err := rowID(tx, req)
		if err != nil {
			return err
		}
		row, _, err := tx.Get(e, id, []string{nav.Attribute})
		if err != nil {
			return mapStoreErr(err, e, id)
		}
		l, ok := row[nav.Attribute].(model.Lookup)
		if !ok || l.ID == "" || l.Entity != target.LogicalName {
			resp = wire.NewResponse(http.StatusNoContent)
			return nil
		}
		body, ver, err := s.shapeRecord(req, tx, target, l.ID, rec)
		if err != nil {
			return err
		}
		resp = wire.NewResponse(http.StatusOK)
		body.PutFirst("@odata.context", contextURL(req.Base, target.EntitySetName, rec.Select, rec.Expand, true))
		resp.JSON = body
		resp.Header.Set("ETag", wire.ETag(ver))
		return nil
	})
	return resp, err
}
