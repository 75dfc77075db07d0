package metadataapi

import (
	"encoding/xml"
	"net/http"
	"sort"
	"strconv"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/webapi"
	"github.com/dynlocal/dynlocal/emulator/wire"
	"github.com/dynlocal/dynlocal/fixtures"
)

// This file writes the service's CSDL ($metadata) from the schema: an entity type per table with
// its key, properties (lookups as _x_value) and navigation properties with partners and
// referential constraints; the metadata types behind EntityDefinitions and friends (open types, so
// the many properties of a definition need not be listed); the functions and actions the emulator
// serves; and the entity container with every entity set.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/web-api-service-documents#csdl-metadata-document

// csdl answers GET $metadata.
func (s *API) csdl(req *webapi.Request) (*wire.Response, error) {
	if req.R.Method != http.MethodGet && req.R.Method != http.MethodHead {
		return nil, wire.MethodNotAllowed(req.R)
	}
	if err := req.Query.Allow(s.cfg.Loose); err != nil {
		return nil, err
	}
	var ops []*webapi.Operation
	err := s.InTx(req, false, func(tx *store.Tx) error {
		var err error
		ops, err = req.Operations(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	shown := ops[:0:0]
	for _, op := range ops {
		if !op.Hidden {
			shown = append(shown, op)
		}
	}
	resp := wire.NewResponse(http.StatusOK)
	resp.Text = buildCSDL(s.store.Schema(), shown)
	resp.ContentType = "application/xml"
	return resp, nil
}

// csdlWriter accumulates the document with indentation.
type csdlWriter struct {
	b     strings.Builder
	depth int
}

// elem writes <name attrs...>, self-closing when selfClose. Attributes with an empty value are left
// out (a navigation property without a partner), except Name.
func (w *csdlWriter) elem(name string, selfClose bool, attrs ...string) {
	w.b.WriteString(strings.Repeat("  ", w.depth))
	w.b.WriteString("<" + name)
	for i := 0; i+1 < len(attrs); i += 2 {
		if attrs[i+1] == "" && attrs[i] != "Name" {
			continue
		}
		w.b.WriteString(" " + attrs[i] + `="`)
		xml.EscapeText(&w.b, []byte(attrs[i+1]))
		w.b.WriteString(`"`)
	}
	if selfClose {
		w.b.WriteString("/>\n")
		return
	}
	w.b.WriteString(">\n")
	w.depth++
}

func (w *csdlWriter) close(name string) {
	w.depth--
	w.b.WriteString(strings.Repeat("  ", w.depth) + "</" + name + ">\n")
}

// csdlProperty is one structural property of an entity type.
type csdlProperty struct {
	name, typ string
	key       bool
	attr      *model.Attribute
}

// entityProperties lists the properties of a table's entity type: the readable stored columns,
// lookups as their _x_value property.
func entityProperties(e *model.Entity) []csdlProperty {
	var out []csdlProperty
	for _, a := range e.Attributes {
		key := a.LogicalName == e.PrimaryIDAttribute
		if !key && (!a.Stored() || !a.ValidForRead) {
			continue
		}
		name := a.LogicalName
		if a.IsLookup() {
			name = a.LookupProperty()
		}
		out = append(out, csdlProperty{name: name, typ: a.EdmType(), key: key, attr: a})
	}
	return out
}

// navPartner is the navigation property on the target of n that leads back through the same
// relationship, or "" when the target has none. A self-referential many-to-many relationship whose
// two sides share a name is its own partner.
func navPartner(e *model.Entity, n *model.Nav) string {
	if n.TargetEntity == nil {
		return ""
	}
	self := ""
	for _, m := range n.TargetEntity.Navs() {
		if m.Relationship != n.Relationship || m.Target != e.LogicalName {
			continue
		}
		switch {
		case n.Kind == model.NavSingle && m.Kind == model.NavCollection,
			n.Kind == model.NavCollection && m.Kind == model.NavSingle:
			return m.Name
		case n.Kind == model.NavManyToMany && m.Kind == model.NavManyToMany:
			if m != n {
				return m.Name
			}
			self = m.Name
		}
	}
	return self
}

// attributeTypeNamesSorted lists the attribute metadata types for the CSDL, in name order.
func attributeTypeNamesSorted() []string {
	var out []string
	for t := range attributeTypeProps {
		if t != "AttributeMetadata" {
			out = append(out, t)
		}
	}
	sort.Strings(out)
	return out
}

// buildCSDL renders the CSDL document for a schema and the operations the Web API serves.
func buildCSDL(sch *model.Schema, ops []*webapi.Operation) string {
	w := &csdlWriter{}
	w.b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n")
	w.elem("edmx:Edmx", false, "Version", "4.0", "xmlns:edmx", "http://docs.oasis-open.org/odata/ns/edmx")
	w.elem("edmx:DataServices", false)
	w.elem("Schema", false, "Namespace", "Microsoft.Dynamics.CRM", "Alias", "mscrm", "xmlns", "http://docs.oasis-open.org/odata/ns/edm")
	entities := sch.Entities()
	w.entityTypes(entities)
	w.metadataTypes()
	w.complexTypes(ops)
	w.operations(ops)
	w.container(entities, ops)
	w.close("Schema")
	w.close("edmx:DataServices")
	w.close("edmx:Edmx")
	return w.b.String()
}

// entityTypes writes an EntityType per table, with its columns and navigation properties.
func (w *csdlWriter) entityTypes(entities []*model.Entity) {
	w.elem("EntityType", true, "Name", "crmbaseentity", "Abstract", "true")
	for _, e := range entities {
		w.elem("EntityType", false, "Name", e.LogicalName, "BaseType", "mscrm.crmbaseentity")
		w.elem("Key", false)
		w.elem("PropertyRef", true, "Name", e.PrimaryIDAttribute)
		w.close("Key")
		for _, p := range entityProperties(e) {
			attrs := []string{"Name", p.name, "Type", p.typ}
			switch {
			case p.key:
				attrs = append(attrs, "Nullable", "false")
			case p.typ == "Edm.String":
				attrs = append(attrs, "Unicode", "false")
			case p.typ == "Edm.Decimal":
				attrs = append(attrs, "Scale", "Variable")
			}
			w.elem("Property", true, attrs...)
		}
		for _, n := range e.Navs() {
			partner := navPartner(e, n)
			switch n.Kind {
			case model.NavSingle:
				a, _ := e.Attribute(n.Attribute)
				if a == nil || n.TargetEntity == nil {
					continue
				}
				w.elem("NavigationProperty", false, "Name", n.Name, "Type", "mscrm."+n.Target, "Partner", partner)
				ref := n.Relationship.ReferencedAttribute
				if ref == "" {
					ref = n.TargetEntity.PrimaryIDAttribute
				}
				w.elem("ReferentialConstraint", true, "Property", a.LookupProperty(), "ReferencedProperty", ref)
				w.close("NavigationProperty")
			default:
				w.elem("NavigationProperty", true, "Name", n.Name, "Type", "Collection(mscrm."+n.Target+")", "Partner", partner)
			}
		}
		w.close("EntityType")
	}

}

// metadataTypes writes the metadata types. They are open: a definition carries far more
// properties than listed.
func (w *csdlWriter) metadataTypes() {
	w.elem("EntityType", false, "Name", "MetadataBase", "Abstract", "true", "OpenType", "true")
	w.elem("Key", false)
	w.elem("PropertyRef", true, "Name", "MetadataId")
	w.close("Key")
	w.elem("Property", true, "Name", "MetadataId", "Type", "Edm.Guid", "Nullable", "false")
	w.elem("Property", true, "Name", "HasChanged", "Type", "Edm.Boolean")
	w.close("EntityType")
	w.elem("EntityType", false, "Name", "EntityMetadata", "BaseType", "mscrm.MetadataBase", "OpenType", "true")
	for _, p := range []string{"LogicalName", "SchemaName", "EntitySetName", "LogicalCollectionName", "PrimaryIdAttribute", "PrimaryNameAttribute"} {
		w.elem("Property", true, "Name", p, "Type", "Edm.String")
	}
	w.elem("Property", true, "Name", "ObjectTypeCode", "Type", "Edm.Int32")
	w.elem("Property", true, "Name", "IsCustomEntity", "Type", "Edm.Boolean")
	w.elem("NavigationProperty", true, "Name", "Attributes", "Type", "Collection(mscrm.AttributeMetadata)")
	w.elem("NavigationProperty", true, "Name", "Keys", "Type", "Collection(mscrm.EntityKeyMetadata)")
	w.elem("NavigationProperty", true, "Name", "ManyToOneRelationships", "Type", "Collection(mscrm.OneToManyRelationshipMetadata)")
	w.elem("NavigationProperty", true, "Name", "OneToManyRelationships", "Type", "Collection(mscrm.OneToManyRelationshipMetadata)")
	w.elem("NavigationProperty", true, "Name", "ManyToManyRelationships", "Type", "Collection(mscrm.ManyToManyRelationshipMetadata)")
	w.close("EntityType")
	w.elem("EntityType", false, "Name", "AttributeMetadata", "BaseType", "mscrm.MetadataBase", "OpenType", "true")
	for _, p := range []string{"LogicalName", "SchemaName", "EntityLogicalName", "AttributeOf"} {
		w.elem("Property", true, "Name", p, "Type", "Edm.String")
	}
	w.elem("Property", true, "Name", "ColumnNumber", "Type", "Edm.Int32")
	w.elem("Property", true, "Name", "IsCustomAttribute", "Type", "Edm.Boolean")
	w.close("EntityType")
	for _, t := range attributeTypeNamesSorted() {
		base, _ := fixtures.AttributeBaseType(t)
		attrs := []string{"Name", t, "BaseType", "mscrm." + base}
		if t == "EnumAttributeMetadata" {
			attrs = append(attrs, "Abstract", "true")
		}
		attrs = append(attrs, "OpenType", "true")
		switch t {
		case "EnumAttributeMetadata":
			w.elem("EntityType", false, attrs...)
			w.elem("NavigationProperty", true, "Name", "OptionSet", "Type", "mscrm.OptionSetMetadata")
			w.elem("NavigationProperty", true, "Name", "GlobalOptionSet", "Type", "mscrm.OptionSetMetadata")
			w.close("EntityType")
		case "BooleanAttributeMetadata":
			w.elem("EntityType", false, attrs...)
			w.elem("NavigationProperty", true, "Name", "OptionSet", "Type", "mscrm.BooleanOptionSetMetadata")
			w.elem("NavigationProperty", true, "Name", "GlobalOptionSet", "Type", "mscrm.BooleanOptionSetMetadata")
			w.close("EntityType")
		default:
			w.elem("EntityType", true, attrs...)
		}
	}
	w.elem("EntityType", true, "Name", "EntityKeyMetadata", "BaseType", "mscrm.MetadataBase", "OpenType", "true")
	w.elem("EntityType", false, "Name", "RelationshipMetadataBase", "BaseType", "mscrm.MetadataBase", "Abstract", "true", "OpenType", "true")
	w.elem("Property", true, "Name", "SchemaName", "Type", "Edm.String")
	w.close("EntityType")
	w.elem("EntityType", true, "Name", "OneToManyRelationshipMetadata", "BaseType", "mscrm.RelationshipMetadataBase", "OpenType", "true")
	w.elem("EntityType", true, "Name", "ManyToManyRelationshipMetadata", "BaseType", "mscrm.RelationshipMetadataBase", "OpenType", "true")
	w.elem("EntityType", false, "Name", "OptionSetMetadataBase", "BaseType", "mscrm.MetadataBase", "Abstract", "true", "OpenType", "true")
	w.elem("Property", true, "Name", "Name", "Type", "Edm.String")
	w.close("EntityType")
	w.elem("EntityType", true, "Name", "OptionSetMetadata", "BaseType", "mscrm.OptionSetMetadataBase", "OpenType", "true")
	w.elem("EntityType", true, "Name", "BooleanOptionSetMetadata", "BaseType", "mscrm.OptionSetMetadataBase", "OpenType", "true")

}

// complexTypes writes the complex types of the functions' answers and parameters.
func (w *csdlWriter) complexTypes(ops []*webapi.Operation) {
	w.elem("ComplexType", false, "Name", "WhoAmIResponse")
	for _, p := range []string{"BusinessUnitId", "UserId", "OrganizationId"} {
		w.elem("Property", true, "Name", p, "Type", "Edm.Guid", "Nullable", "false")
	}
	w.close("ComplexType")
	w.elem("ComplexType", false, "Name", "EntityRecordCountCollection")
	w.elem("Property", true, "Name", "Count", "Type", "Edm.Int32", "Nullable", "false")
	w.elem("Property", true, "Name", "IsReadOnly", "Type", "Edm.Boolean", "Nullable", "false")
	w.elem("Property", true, "Name", "Keys", "Type", "Collection(Edm.String)", "Nullable", "false")
	w.elem("Property", true, "Name", "Values", "Type", "Collection(Edm.Int64)", "Nullable", "false")
	w.close("ComplexType")
	w.elem("ComplexType", false, "Name", "RetrieveTotalRecordCountResponse")
	w.elem("Property", true, "Name", "EntityRecordCountCollection", "Type", "mscrm.EntityRecordCountCollection", "Nullable", "false")
	w.close("ComplexType")
	w.elem("ComplexType", true, "Name", "EntityQueryExpression", "OpenType", "true")
	w.elem("ComplexType", false, "Name", "DeletedMetadataCollection", "OpenType", "true")
	w.elem("Property", true, "Name", "Count", "Type", "Edm.Int32", "Nullable", "false")
	w.elem("Property", true, "Name", "IsReadOnly", "Type", "Edm.Boolean", "Nullable", "false")
	w.close("ComplexType")
	w.elem("ComplexType", false, "Name", "RetrieveMetadataChangesResponse")
	w.elem("NavigationProperty", true, "Name", "EntityMetadata", "Type", "Collection(mscrm.EntityMetadata)")
	w.elem("Property", true, "Name", "ServerVersionStamp", "Type", "Edm.String")
	w.elem("Property", true, "Name", "DeletedMetadata", "Type", "mscrm.DeletedMetadataCollection")
	w.close("ComplexType")

	// The types the operations' parameters and answers refer to.
	for _, t := range webapi.OperationTypes() {
		if t.Enum {
			flags := ""
			if t.IsFlags {
				flags = "true"
			}
			w.elem("EnumType", false, "Name", t.Name, "IsFlags", flags)
			for _, m := range t.Members {
				w.elem("Member", true, "Name", m.Name, "Value", strconv.FormatInt(m.Value, 10))
			}
			w.close("EnumType")
			continue
		}
		if len(t.Properties) == 0 {
			w.elem("ComplexType", true, "Name", t.Name, "OpenType", "true")
			continue
		}
		w.elem("ComplexType", false, "Name", t.Name, "OpenType", "true")
		for _, p := range t.Properties {
			w.elem("Property", true, "Name", p.Name, "Type", p.Type)
		}
		w.close("ComplexType")
	}
	// The response types the operations define.
	for _, op := range ops {
		if op.Response == nil || op.Returns == "" {
			continue
		}
		w.elem("ComplexType", false, "Name", strings.TrimPrefix(op.Returns, "mscrm."))
		for _, p := range op.Response {
			w.elem("Property", true, "Name", p.Name, "Type", p.Type)
		}
		w.close("ComplexType")
	}
}

// operations writes the functions and actions: a bound one's first parameter is what it is bound
// to (entity, or entityset for a collection), as in Dataverse's document.
func (w *csdlWriter) operations(ops []*webapi.Operation) {
	for _, op := range ops {
		kind := "Function"
		if op.Kind == webapi.Action {
			kind = "Action"
		}
		bound := ""
		if op.Binding != webapi.Unbound {
			bound = "true"
		}
		empty := op.Binding == webapi.Unbound && len(op.Params) == 0 && op.Returns == ""
		w.elem(kind, empty, "Name", op.Name, "IsBound", bound)
		if empty {
			continue
		}
		target := "mscrm.crmbaseentity"
		if op.Entity != "" {
			target = "mscrm." + op.Entity
		}
		switch op.Binding {
		case webapi.BoundEntity:
			w.elem("Parameter", true, "Name", "entity", "Type", target, "Nullable", "false")
		case webapi.BoundCollection:
			w.elem("Parameter", true, "Name", "entityset", "Type", "Collection("+target+")", "Nullable", "false")
		}
		for _, p := range op.Params {
			nullable := "false"
			if p.Optional {
				nullable = ""
			}
			w.elem("Parameter", true, "Name", p.Name, "Type", p.Type, "Nullable", nullable)
		}
		if op.Returns != "" {
			w.elem("ReturnType", true, "Type", op.Returns, "Nullable", "false")
		}
		w.close(kind)
	}
}

// container writes the entity container: an entity set per table with its navigation bindings,
// the metadata sets, and the function and action imports.
func (w *csdlWriter) container(entities []*model.Entity, ops []*webapi.Operation) {
	w.elem("EntityContainer", false, "Name", "System")
	for _, e := range entities {
		navs := e.Navs()
		if len(navs) == 0 {
			w.elem("EntitySet", true, "Name", e.EntitySetName, "EntityType", "mscrm."+e.LogicalName)
			continue
		}
		w.elem("EntitySet", false, "Name", e.EntitySetName, "EntityType", "mscrm."+e.LogicalName)
		for _, n := range navs {
			if n.TargetEntity == nil {
				continue
			}
			w.elem("NavigationPropertyBinding", true, "Path", n.Name, "Target", n.TargetEntity.EntitySetName)
		}
		w.close("EntitySet")
	}
	w.elem("EntitySet", true, "Name", "EntityDefinitions", "EntityType", "mscrm.EntityMetadata")
	w.elem("EntitySet", true, "Name", "RelationshipDefinitions", "EntityType", "mscrm.RelationshipMetadataBase")
	w.elem("EntitySet", true, "Name", "GlobalOptionSetDefinitions", "EntityType", "mscrm.OptionSetMetadataBase")
	for _, op := range ops {
		switch {
		case op.Binding != webapi.Unbound:
		case op.Kind == webapi.Function:
			w.elem("FunctionImport", true, "Name", op.Name, "Function", "mscrm."+op.Name)
		default:
			w.elem("ActionImport", true, "Name", op.Name, "Action", "mscrm."+op.Name)
		}
	}
	w.close("EntityContainer")

}
