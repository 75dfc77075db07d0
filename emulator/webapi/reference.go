package webapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// reference serves {set}({key})/{nav}/$ref: read, set or clear a single-valued navigation, and
// associate or disassociate rows through a collection-valued one.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/associate-disassociate-entities-using-web-api
func (s *Handler) reference(req *Request) (*wire.Response, error) {
	nav, m := req.Res.Nav, req.R.Method
	allowed := []string{}
	if m == http.MethodDelete && nav.Kind != model.NavSingle {
		allowed = append(allowed, "$id")
	}
	if err := req.Query.AllowOr(s.ignorer(req), allowed...); err != nil {
		return nil, err
	}
	switch {
	case m == http.MethodGet:
		return s.getReference(req)
	case m == http.MethodPut && nav.Kind == model.NavSingle && req.Res.NavKey == nil:
		return s.setReference(req)
	case m == http.MethodPost && nav.Kind != model.NavSingle && req.Res.NavKey == nil:
		return s.addReference(req)
	case m == http.MethodDelete:
		return s.removeReference(req)
	}
	return nil, wire.MethodNotAllowed(req.R)
}

// readReferenceBody reads {"@odata.id": "<url>"} and resolves it for nav.
func (s *Handler) readReferenceBody(req *Request, tx *store.Tx, nav *model.Nav) (entityRef, error) {
	body, err := readEntityBody(req, req.Res.Entity.EntitySetName)
	if err != nil {
		return entityRef{}, err
	}
	var url string
	for _, mb := range body.Members() {
		if mb.Name == "@odata.id" {
			if err := json.Unmarshal(mb.Raw(), &url); err != nil {
				return entityRef{}, payloadError(req.Res.Entity.EntitySetName, "The value of '@odata.id' must be a string.")
			}
		}
	}
	if url == "" {
		return entityRef{}, payloadError(req.Res.Entity.EntitySetName, "An entity reference body must contain '@odata.id'.")
	}
	return s.decoderFor(req, tx).ref(url, nav)
}

func (s *Handler) getReference(req *Request) (*wire.Response, error) {
	e, nav := req.Res.Entity, req.Res.Nav
	sch := s.store.Schema()
	target, _ := sch.Entity(nav.Target)
	var resp *wire.Response
	err := s.InTx(req, false, func(tx *store.Tx) error {
		id, err := rowID(tx, req)
		if err != nil {
			return err
		}
		if nav.Kind == model.NavSingle {
			row, _, err := tx.Get(e, id, []string{nav.Attribute})
			if err != nil {
				return mapStoreErr(err, e, id)
			}
			l, ok := row[nav.Attribute].(model.Lookup)
			if !ok || l.ID == "" || l.Entity != target.LogicalName {
				resp = wire.NewResponse(http.StatusNoContent)
				return nil
			}
			o := wire.NewObject()
			o.Set("@odata.context", req.Base+"$metadata#$ref")
			o.Set("@odata.id", entityURL(req.Base, target, l.ID))
			resp = wire.NewResponse(http.StatusOK)
			resp.JSON = o
			return nil
		}
		if ok, err := tx.Exists(e, id); err != nil {
			return err
		} else if !ok {
			return dverr.RecordNotFound(e.LogicalName, id)
		}
		var ids []string
		if nav.Kind == model.NavCollection {
			ids, err = tx.Referencing(target, nav.Attribute, id)
		} else {
			ids, err = tx.Linked(nav.Relationship, e.LogicalName, id)
		}
		if err != nil {
			return err
		}
		list := []*wire.Object{}
		for _, cid := range ids {
			o := wire.NewObject()
			o.Set("@odata.id", entityURL(req.Base, target, cid))
			list = append(list, o)
		}
		o := wire.NewObject()
		o.Set("@odata.context", req.Base+"$metadata#Collection($ref)")
		o.Set("value", list)
		resp = wire.NewResponse(http.StatusOK)
		resp.JSON = o
		return nil
	})
	return resp, err
}

func (s *Handler) setReference(req *Request) (*wire.Response, error) {
	e, nav := req.Res.Entity, req.Res.Nav
	err := s.InTx(req, true, func(tx *store.Tx) error {
		id, err := rowID(tx, req)
		if err != nil {
			return err
		}
		if ok, err := tx.Exists(e, id); err != nil {
			return err
		} else if !ok {
			return dverr.RecordNotFound(e.LogicalName, id)
		}
		ref, err := s.readReferenceBody(req, tx, nav)
		if err != nil {
			return err
		}
		row := model.Row{nav.Attribute: model.Lookup{ID: ref.ID, Entity: ref.Entity.LogicalName}}
		return s.newWriter(req.Ctx, tx, req.Caller).update(&writePlan{Entity: e, Row: row}, id)
	})
	if err != nil {
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}

func (s *Handler) addReference(req *Request) (*wire.Response, error) {
	e, nav := req.Res.Entity, req.Res.Nav
	err := s.InTx(req, true, func(tx *store.Tx) error {
		id, err := rowID(tx, req)
		if err != nil {
			return err
		}
		if ok, err := tx.Exists(e, id); err != nil {
			return err
		} else if !ok {
			return dverr.RecordNotFound(e.LogicalName, id)
		}
		ref, err := s.readReferenceBody(req, tx, nav)
		if err != nil {
			return err
		}
		return s.newWriter(req.Ctx, tx, req.Caller).associate(e, id, nav, ref)
	})
	if err != nil {
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}

func (s *Handler) removeReference(req *Request) (*wire.Response, error) {
	e, nav := req.Res.Entity, req.Res.Nav
	sch := s.store.Schema()
	target, _ := sch.Entity(nav.Target)
	err := s.InTx(req, true, func(tx *store.Tx) error {
		id, err := rowID(tx, req)
		if err != nil {
			return err
		}
		if ok, err := tx.Exists(e, id); err != nil {
			return err
		} else if !ok {
			return dverr.RecordNotFound(e.LogicalName, id)
		}
		w := s.newWriter(req.Ctx, tx, req.Caller)
		if nav.Kind == model.NavSingle {
			return w.update(&writePlan{Entity: e, Row: model.Row{nav.Attribute: nil}}, id)
		}
		// The related row is named by a key on the navigation segment or by $id.
		var relatedID string
		switch {
		case req.Res.NavKey != nil:
			relatedID, err = lookupKey(tx, target, req.Res.NavKey)
			if err != nil {
				return asNotFound(err)
			}
		default:
			v, ok := req.Query.Get("$id")
			if !ok {
				return dverr.BadRequest("To disassociate a record from a collection-valued navigation property, name it in the URL (%s(<id>)/$ref) or with $id.", nav.Name)
			}
			d := s.decoderFor(req, tx)
			ref, err := d.ref(v, nav)
			if err != nil {
				return err
			}
			relatedID = ref.ID
		}
		if nav.Kind == model.NavManyToMany {
			r := nav.Relationship
			id1, id2 := id, relatedID
			if e.LogicalName != r.Entity1 {
				id1, id2 = relatedID, id
			}
			err := tx.Disassociate(r, id1, id2)
			if errors.Is(err, store.ErrNotFound) {
				return dverr.RecordNotFound(target.LogicalName, relatedID)
			}
			return err
		}
		row, _, err := tx.Get(target, relatedID, []string{nav.Attribute})
		if err != nil {
			return mapStoreErr(err, target, relatedID)
		}
		if l, ok := row[nav.Attribute].(model.Lookup); !ok || l.ID != id {
			return dverr.RecordNotFound(target.LogicalName, relatedID)
		}
		return w.update(&writePlan{Entity: target, Row: model.Row{nav.Attribute: nil}}, relatedID)
	})
	if err != nil {
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}
