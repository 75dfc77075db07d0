package metadataapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/webapi"
	"github.com/dynlocal/dynlocal/emulator/wire"
	"github.com/dynlocal/dynlocal/fixtures"
)

// This file changes metadata: it creates, updates and deletes columns, creates and deletes tables
// and one-to-many relationships (which is how lookup columns are made). Definitions are completed
// by the fixtures package into the documents the fixtures themselves are made of, checked against
// the schema, and stored in one transaction with the table changes they need, so a refused or
// failed change leaves nothing behind. MSCRM.SolutionUniqueName is accepted and ignored: the
// emulator has no solutions.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-update-entity-definitions-using-web-api
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-update-column-definitions-using-web-api

// metadataRefused is the answer for a change Dataverse does not allow on this item.
func metadataRefused(format string, args ...any) error {
	return dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument, format, args...)
}

// metadataDuplicate is the answer for a name already in use.
func metadataDuplicate(format string, args ...any) error {
	return dverr.New(http.StatusBadRequest, dverr.CodeDuplicateRecord, format, args...)
}

// entityDocWith returns a table's full document with its column documents replaced by attrs.
func entityDocWith(e *model.Entity, attrs []json.RawMessage) json.RawMessage {
	var b bytes.Buffer
	raw := bytes.TrimSpace(e.Raw)
	b.Write(raw[:len(raw)-1])
	if len(bytes.TrimSpace(raw[1:len(raw)-1])) > 0 {
		b.WriteByte(',')
	}
	b.WriteString(`"Attributes":[`)
	for i, a := range attrs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(a)
	}
	b.WriteString(`],"Keys":[`)
	for i, k := range e.Keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.Write(k.Raw)
	}
	b.WriteString(`]}`)
	return b.Bytes()
}

// attributeDocs lists a table's column documents.
func attributeDocs(e *model.Entity) []json.RawMessage {
	out := make([]json.RawMessage, len(e.Attributes))
	for i, a := range e.Attributes {
		out[i] = a.Doc()
	}
	return out
}

// nextColumnNumber is the ColumnNumber a new column of e gets.
func nextColumnNumber(e *model.Entity) int {
	n := len(e.Attributes)
	for _, a := range e.Attributes {
		var d struct {
			ColumnNumber int `json:"ColumnNumber"`
		}
		if json.Unmarshal(a.Doc(), &d) == nil && d.ColumnNumber > n {
			n = d.ColumnNumber
		}
	}
	return n + 1
}

// docFlag reads a top-level boolean of a document.
func docFlag(raw json.RawMessage, name string) bool {
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return false
	}
	var b bool
	json.Unmarshal(m[name], &b)
	return b
}

// checkNewAttribute refuses a column whose name or MetadataId the table already uses.
func checkNewAttribute(e *model.Entity, a *model.Attribute) error {
	for _, o := range e.Attributes {
		if o.LogicalName == a.LogicalName || strings.EqualFold(o.SchemaName, a.SchemaName) {
			return metadataDuplicate("An attribute with the name '%s' already exists on the entity '%s'. Choose a different schema name.", a.SchemaName, e.LogicalName)
		}
		if o.MetadataID == a.MetadataID {
			return metadataDuplicate("An attribute with the MetadataId %s already exists on the entity '%s'.", a.MetadataID, e.LogicalName)
		}
	}
	if _, ok := e.Nav(a.LogicalName); ok {
		return metadataDuplicate("The name '%s' is already used by a navigation property of the entity '%s'.", a.LogicalName, e.LogicalName)
	}
	return nil
}

// createAttribute answers POST EntityDefinitions(...)/Attributes.
func (s *API) createAttribute(req *webapi.Request, p *metaPath) (*wire.Response, error) {
	body, err := readDefinition(req, "Attributes")
	if err != nil {
		return nil, err
	}
	var url string
	err = s.InTx(req, true, func(tx *store.Tx) error {
		e, err := findEntity(tx.Schema(), p.key)
		if err != nil {
			return err
		}
		if e.IsIntersect {
			return metadataRefused("Columns cannot be added to the intersect entity '%s'.", e.LogicalName)
		}
		doc, err := fixtures.CompleteAttribute(body, fixtures.AttributeOptions{
			Entity: e.LogicalName, MetadataID: s.cfg.NewID(), Column: nextColumnNumber(e), Now: s.cfg.Clock(),
		})
		if err != nil {
			return err
		}
		a, err := model.ParseAttribute(doc)
		if err != nil {
			return err
		}
		if err := checkNewAttribute(e, a); err != nil {
			return err
		}
		docs := append(attributeDocs(e), doc)
		var rels []json.RawMessage
		if a.Type == model.TypeMoney {
			extra, rel, err := s.currencyColumns(tx.Schema(), e, nextColumnNumber(e)+1)
			if err != nil {
				return err
			}
			docs = append(docs, extra...)
			if rel != nil {
				rels = append(rels, rel)
			}
		}
		if kind := strings.TrimSuffix(a.TypeName, "Type"); kind == "File" || kind == "Image" {
			extra, err := fixtures.FileColumnCompanions(fixtures.FileColumnOptions{Entity: e.LogicalName, Custom: e.IsCustom,
				Kind: kind, Name: a.LogicalName, SchemaName: a.SchemaName, Column: nextColumnNumber(e) + 1, NewID: s.cfg.NewID, Now: s.cfg.Clock()})
			if err != nil {
				return err
			}
			docs = append(docs, extra...)
		}
		if err := tx.PutMetadata([]json.RawMessage{entityDocWith(e, docs)}, rels); err != nil {
			return err
		}
		url = req.Base + "EntityDefinitions(" + e.MetadataID + ")/Attributes(" + a.MetadataID + ")"
		return nil
	})
	if err != nil {
		return nil, err
	}
	return wire.EntityIDResponse(http.StatusNoContent, url), nil
}

// currencyColumns returns what a table's first Money column brings along, as in Dataverse: the
// transactioncurrencyid and exchangerate columns and the relationship to transactioncurrency. A
// table that has them, or a schema without transactioncurrency, gets nothing.
func (s *API) currencyColumns(sch *model.Schema, e *model.Entity, column int) ([]json.RawMessage, json.RawMessage, error) {
	if _, ok := e.Attribute("transactioncurrencyid"); ok {
		return nil, nil, nil
	}
	tc, ok := sch.Entity("transactioncurrency")
	if !ok {
		return nil, nil, nil
	}
	attrs, rel, err := fixtures.CurrencyColumns(fixtures.CurrencyOptions{
		Entity: e.LogicalName, Custom: e.IsCustom, Column: column, NewID: s.cfg.NewID, Now: s.cfg.Clock(),
		CurrencyPrimaryID: tc.PrimaryIDAttribute,
	})
	if err != nil {
		return nil, nil, err
	}
	if _, dup := sch.Relationship(defaultCurrencyRelationship(e)); dup {
		rel = nil
	}
	return attrs, rel, nil
}

// defaultCurrencyRelationship is the name of the relationship behind a table's
// transactioncurrencyid.
func defaultCurrencyRelationship(e *model.Entity) string {
	return "TransactionCurrency_" + e.LogicalName
}

// updateAttribute answers PUT EntityDefinitions(...)/Attributes(...)[/cast]: the definition sent
// replaces the column's, with labels merged as MSCRM.MergeLabels says.
func (s *API) updateAttribute(req *webapi.Request, p *metaPath) (*wire.Response, error) {
	if _, err := attributeCast(p); err != nil {
		return nil, err
	}
	body, err := readDefinition(req, "Attributes")
	if err != nil {
		return nil, err
	}
	merge := strings.EqualFold(strings.TrimSpace(req.R.Header.Get("MSCRM.MergeLabels")), "true")
	var url string
	err = s.InTx(req, true, func(tx *store.Tx) error {
		e, err := findEntity(tx.Schema(), p.key)
		if err != nil {
			return err
		}
		a, err := findAttribute(e, p.navKey)
		if err != nil {
			return err
		}
		if p.cast != "" && attributeType(a) != p.cast {
			return metadataRefused("The attribute '%s' is a '%s%s', not a '%s%s'.", a.LogicalName, crmNS, attributeType(a), crmNS, p.cast)
		}
		doc, err := fixtures.UpdateAttribute(a.Doc(), body, merge, s.cfg.Clock())
		if err != nil {
			return err
		}
		if _, err := model.ParseAttribute(doc); err != nil {
			return metadataRefused("The definition of the attribute '%s' is not valid: %v", a.LogicalName, err)
		}
		docs := attributeDocs(e)
		for i, o := range e.Attributes {
			if o == a {
				docs[i] = doc
			}
		}
		if err := tx.PutMetadata([]json.RawMessage{entityDocWith(e, docs)}, nil); err != nil {
			return err
		}
		url = req.Base + "EntityDefinitions(" + e.MetadataID + ")/Attributes(" + a.MetadataID + ")"
		return nil
	})
	if err != nil {
		return nil, err
	}
	return wire.EntityIDResponse(http.StatusNoContent, url), nil
}

// deleteAttribute answers DELETE EntityDefinitions(...)/Attributes(...). Only unmanaged custom
// columns can go, and not while a relationship or an alternate key depends on them.
func (s *API) deleteAttribute(req *webapi.Request, p *metaPath) (*wire.Response, error) {
	err := s.InTx(req, true, func(tx *store.Tx) error {
		sch := tx.Schema()
		e, err := findEntity(sch, p.key)
		if err != nil {
			return err
		}
		a, err := findAttribute(e, p.navKey)
		if err != nil {
			return err
		}
		switch {
		case !a.IsCustom:
			return metadataRefused("The attribute '%s' of the entity '%s' is a system attribute and cannot be deleted.", a.LogicalName, e.LogicalName)
		case docFlag(a.Doc(), "IsManaged"):
			return metadataRefused("The attribute '%s' of the entity '%s' is managed and can only be removed by uninstalling its solution.", a.LogicalName, e.LogicalName)
		case a.IsPrimaryID || a.IsPrimaryName || a.LogicalName == e.PrimaryNameAttribute:
			return metadataRefused("The attribute '%s' is the primary attribute of the entity '%s' and cannot be deleted.", a.LogicalName, e.LogicalName)
		}
		for _, r := range sch.Relationships() {
			if r.Type == model.OneToMany && r.ReferencingEntity == e.LogicalName && r.ReferencingAttribute == a.LogicalName {
				return metadataRefused("The attribute '%s' cannot be deleted because the relationship '%s' uses it. Delete the relationship, which deletes its lookup attribute.", a.LogicalName, r.SchemaName)
			}
		}
		for _, k := range e.Keys {
			for _, n := range k.Attributes {
				if n == a.LogicalName {
					return metadataRefused("The attribute '%s' cannot be deleted because the alternate key '%s' uses it.", a.LogicalName, k.LogicalName)
				}
			}
		}
		if err := deleteFileColumn(tx, e, a); err != nil {
			return err
		}
		return tx.DeleteAttribute(e.LogicalName, a.LogicalName)
	})
	if err != nil {
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}

// nextObjectTypeCode is the ObjectTypeCode of a new custom table: above every code in use and at
// least 10000, as Dataverse numbers custom tables.
func nextObjectTypeCode(sch *model.Schema) int {
	n := 10000
	for _, e := range sch.Entities() {
		if e.ObjectTypeCode >= n {
			n = e.ObjectTypeCode + 1
		}
	}
	return n
}

// createEntity answers POST EntityDefinitions: a new custom table with its primary name column,
// the system columns of its ownership and their relationships.
func (s *API) createEntity(req *webapi.Request) (*wire.Response, error) {
	body, err := readDefinition(req, "EntityDefinitions")
	if err != nil {
		return nil, err
	}
	var url string
	err = s.InTx(req, true, func(tx *store.Tx) error {
		sch := tx.Schema()
		ids := map[string]string{}
		for _, e := range sch.Entities() {
			ids[e.LogicalName] = e.PrimaryIDAttribute
		}
		ne, err := fixtures.CompleteEntity(body, fixtures.EntityOptions{
			MetadataID: s.cfg.NewID(), ObjectTypeCode: nextObjectTypeCode(sch), NewID: s.cfg.NewID,
			Now: s.cfg.Clock(), PrimaryIDs: ids,
		})
		if err != nil {
			return err
		}
		e, err := model.ParseEntity(ne.Entity)
		if err != nil {
			return err
		}
		if err := checkEntityNames(e); err != nil {
			return err
		}
		for _, o := range sch.Entities() {
			switch {
			case strings.EqualFold(o.LogicalName, e.LogicalName), strings.EqualFold(o.SchemaName, e.SchemaName):
				return metadataDuplicate("An entity with the name '%s' already exists. Choose a different schema name.", e.SchemaName)
			case strings.EqualFold(o.EntitySetName, e.EntitySetName):
				return metadataDuplicate("The entity set name '%s' is already used by the entity '%s'.", e.EntitySetName, o.LogicalName)
			case o.LogicalName == e.LogicalName:
				return metadataDuplicate("An entity with the name '%s' already exists. Choose a different schema name.", e.SchemaName)
			case o.EntitySetName == e.EntitySetName:
				return metadataDuplicate("The entity set name '%s' is already used by the entity '%s'.", e.EntitySetName, o.LogicalName)
			case o.MetadataID == e.MetadataID:
				return metadataDuplicate("An entity with the MetadataId %s already exists.", e.MetadataID)
			}
		}
		for _, raw := range ne.Relationships {
			r, err := model.ParseRelationship(raw)
			if err != nil {
				return err
			}
			if _, ok := sch.Relationship(r.SchemaName); ok {
				return metadataDuplicate("A relationship with the name '%s' already exists.", r.SchemaName)
			}
		}
		if err := tx.PutMetadata([]json.RawMessage{ne.Entity}, ne.Relationships); err != nil {
			return err
		}
		url = req.Base + "EntityDefinitions(" + e.MetadataID + ")"
		return nil
	})
	if err != nil {
		return nil, err
	}
	return wire.EntityIDResponse(http.StatusNoContent, url), nil
}

// deleteEntity answers DELETE EntityDefinitions(...): an unmanaged custom table goes with its rows
// and relationships.
func (s *API) deleteEntity(req *webapi.Request, p *metaPath) (*wire.Response, error) {
	err := s.InTx(req, true, func(tx *store.Tx) error {
		e, err := findEntity(tx.Schema(), p.key)
		if err != nil {
			return err
		}
		switch {
		case !e.IsCustom:
			return metadataRefused("The entity '%s' is a system entity and cannot be deleted.", e.LogicalName)
		case docFlag(e.Raw, "IsManaged"):
			return metadataRefused("The entity '%s' is managed and can only be removed by uninstalling its solution.", e.LogicalName)
		}
		return tx.DeleteEntity(e.LogicalName)
	})
	if err != nil {
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}

// createRelationship answers POST RelationshipDefinitions with a one-to-many relationship: its
// Lookup becomes a column of the referencing table and both tables get their navigation
// properties.
func (s *API) createRelationship(req *webapi.Request) (*wire.Response, error) {
	body, err := readDefinition(req, "RelationshipDefinitions")
	if err != nil {
		return nil, err
	}
	referenced, referencing, manyToMany, err := fixtures.RelationshipEnds(body)
	if err != nil {
		return nil, err
	}
	if manyToMany {
		return nil, dverr.New(http.StatusNotImplemented, dverr.CodeNotSupported, "Creating many-to-many relationships is not supported by the emulator.")
	}
	var url string
	err = s.InTx(req, true, func(tx *store.Tx) error {
		sch := tx.Schema()
		one, ok := sch.Entity(referenced)
		if !ok {
			return metadataNotFound("entity", "entity name", referenced)
		}
		many, ok := sch.Entity(referencing)
		if !ok {
			return metadataNotFound("entity", "entity name", referencing)
		}
		if many.IsIntersect || one.IsIntersect {
			return metadataRefused("An intersect entity cannot take part in a one-to-many relationship.")
		}
		rel, lookup, err := fixtures.CompleteRelationship(body, fixtures.RelationshipOptions{
			MetadataID:          s.cfg.NewID(),
			ReferencedPrimaryID: one.PrimaryIDAttribute,
			Lookup:              fixtures.AttributeOptions{Entity: many.LogicalName, MetadataID: s.cfg.NewID(), Column: nextColumnNumber(many), Now: s.cfg.Clock()},
		})
		if err != nil {
			return err
		}
		r, err := model.ParseRelationship(rel)
		if err != nil {
			return err
		}
		a, err := model.ParseAttribute(lookup)
		if err != nil {
			return err
		}
		for _, o := range sch.Relationships() {
			if strings.EqualFold(o.SchemaName, r.SchemaName) {
				return metadataDuplicate("A relationship with the name '%s' already exists.", r.SchemaName)
			}
			if o.MetadataID == r.MetadataID {
				return metadataDuplicate("A relationship with the MetadataId %s already exists.", r.MetadataID)
			}
		}
		if err := checkNewAttribute(many, a); err != nil {
			return err
		}
		if _, ok := many.Nav(r.ReferencingNav); ok {
			return metadataDuplicate("The entity '%s' already has a navigation property named '%s'.", many.LogicalName, r.ReferencingNav)
		}
		if _, ok := one.Nav(r.ReferencedNav); ok {
			return metadataDuplicate("The entity '%s' already has a navigation property named '%s'.", one.LogicalName, r.ReferencedNav)
		}
		if one == many && r.ReferencedNav == r.ReferencingNav {
			return metadataDuplicate("A self-referential relationship needs two different navigation property names.")
		}
		if err := tx.PutMetadata([]json.RawMessage{entityDocWith(many, append(attributeDocs(many), lookup))}, []json.RawMessage{rel}); err != nil {
			return err
		}
		url = req.Base + "RelationshipDefinitions(" + r.MetadataID + ")"
		return nil
	})
	if err != nil {
		return nil, err
	}
	return wire.EntityIDResponse(http.StatusNoContent, url), nil
}

// deleteRelationship answers DELETE RelationshipDefinitions(...): an unmanaged custom relationship
// goes, and with a one-to-many relationship its lookup column.
func (s *API) deleteRelationship(req *webapi.Request, p *metaPath) (*wire.Response, error) {
	err := s.InTx(req, true, func(tx *store.Tx) error {
		r, err := findRelationship(tx.Schema(), p.key)
		if err != nil {
			return err
		}
		switch {
		case !docFlag(r.Raw, "IsCustomRelationship"):
			return metadataRefused("The relationship '%s' is a system relationship and cannot be deleted.", r.SchemaName)
		case docFlag(r.Raw, "IsManaged"):
			return metadataRefused("The relationship '%s' is managed and can only be removed by uninstalling its solution.", r.SchemaName)
		}
		return tx.DeleteRelationship(r.SchemaName)
	})
	if err != nil {
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}
