package client

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
)

// ListAttributesOptions adjusts ListAttributes. The zero value lists every column.
type ListAttributesOptions struct {
	// Type keeps only columns of one kind, such as "Money", "String", "Picklist" or
	// "Microsoft.Dynamics.CRM.LookupAttributeMetadata" (see AttributeType). The service does the
	// filtering, through a cast to the kind's metadata type and, where the cast is shared (Lookup,
	// Customer, Owner, PartyList) or absent (Virtual, CalendarRules), a $filter on AttributeType.
	// An unknown name is refused before any request (the Prismatic component sends it as a path
	// segment and gets a 404).
	Type AttributeType
	// Details also selects SchemaName, IsSecured, IsAuditEnabled and IsValidForAdvancedFind.
	Details bool
	// LabeledOnly leaves out columns without a display label, as the Prismatic component's List
	// Attributes does.
	// The counts and primary columns are computed before this filter.
	LabeledOnly bool
}

// AttributeList is the result of ListAttributes.
type AttributeList struct {
	// EntityLogicalName is the table's logical name, when the service returned it on the columns.
	EntityLogicalName string
	// Attributes are sorted by LogicalName.
	Attributes []AttributeDefinition
	// TotalCount, CustomCount and SystemCount count the columns of the listing.
	TotalCount  int
	CustomCount int
	SystemCount int
	// ByType counts the columns per AttributeType ("Unknown" when a column has none).
	ByType map[string]int
	// PrimaryIDAttribute and PrimaryNameAttribute are the logical names of the primary key and
	// primary name columns, when the listing holds them.
	PrimaryIDAttribute   string
	PrimaryNameAttribute string
}

// The 11 properties the Prismatic component's List Attributes selects, and the 4 its details add.
var (
	attributeListSelect = []string{"LogicalName", "DisplayName", "AttributeType", "Description", "IsCustomAttribute",
		"IsPrimaryId", "IsPrimaryName", "RequiredLevel", "IsValidForRead", "IsValidForCreate", "IsValidForUpdate"}
	attributeDetailSelect = []string{"SchemaName", "IsSecured", "IsAuditEnabled", "IsValidForAdvancedFind"}
)

// ListAttributes lists the columns of a table, named by logical name, MetadataId or entity set name
// (as in GetEntityMetadata), with counts, a count per type and the primary columns.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api
func (c *Client) ListAttributes(ctx context.Context, entity string, opts *ListAttributesOptions) (*AttributeList, *Response, error) {
	if opts == nil {
		opts = &ListAttributesOptions{}
	}
	sel := attributeListSelect
	if opts.Details {
		sel = append(slices.Clip(sel), attributeDetailSelect...)
	}
	defs, resp, err := c.queryAttributes(ctx, entity, opts.Type, sel, "", nil)
	if err != nil {
		return nil, resp, err
	}
	out := &AttributeList{ByType: map[string]int{}, TotalCount: len(defs)}
	for _, d := range defs {
		if d.IsCustomAttribute {
			out.CustomCount++
		} else {
			out.SystemCount++
		}
		out.ByType[valueOr(d.AttributeType, "Unknown")]++
		if d.IsPrimaryID && out.PrimaryIDAttribute == "" {
			out.PrimaryIDAttribute = d.LogicalName
		}
		if d.IsPrimaryName && out.PrimaryNameAttribute == "" {
			out.PrimaryNameAttribute = d.LogicalName
		}
		if out.EntityLogicalName == "" {
			out.EntityLogicalName = d.EntityLogicalName
		}
	}
	if opts.LabeledOnly {
		defs = slices.DeleteFunc(defs, func(d AttributeDefinition) bool { return d.DisplayName == "" })
	}
	slices.SortStableFunc(defs, func(a, b AttributeDefinition) int { return strings.Compare(a.LogicalName, b.LogicalName) })
	out.Attributes = defs
	return out, resp, nil
}

// QueryAttributesOptions adjusts QueryAttributes.
type QueryAttributesOptions struct {
	// Type keeps only columns of one kind, as in ListAttributesOptions. It also makes the
	// type-specific properties (MaxLength, Precision, OptionSet, Targets, ...) selectable and
	// expandable, since Dataverse only offers those through a cast.
	Type AttributeType
	// Select lists the properties to return; empty returns them all.
	Select []string
	// Filter is an OData $filter on primitive and enum properties, such as
	// "IsCustomAttribute eq true" (label paths cannot be filtered). It is combined with the one
	// Type may need.
	Filter string
	// Expand returns navigation properties, such as OptionSet and GlobalOptionSet of choice
	// columns.
	Expand []Expand
}

// QueryAttributes queries the columns of a table (named as in GetEntityMetadata) with a type, select,
// filter and expand, in the order the service returns them.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query-metadata-web-api
func (c *Client) QueryAttributes(ctx context.Context, entity string, opts *QueryAttributesOptions) ([]AttributeDefinition, *Response, error) {
	if opts == nil {
		opts = &QueryAttributesOptions{}
	}
	return c.queryAttributes(ctx, entity, opts.Type, opts.Select, opts.Filter, opts.Expand)
}

func (c *Client) queryAttributes(ctx context.Context, entity string, typ AttributeType, sel []string, filter string, exp []Expand) ([]AttributeDefinition, *Response, error) {
	cast, typeFilter, err := attributeSelection(typ)
	if err != nil {
		return nil, nil, err
	}
	var q query
	if len(sel) > 0 {
		s, err := renderSelect(sel)
		if err != nil {
			return nil, nil, err
		}
		q.add("$select", s)
	}
	if f := andFilter(typeFilter, filter); f != "" {
		q.add("$filter", f)
	}
	if len(exp) > 0 {
		e, err := renderExpand(exp)
		if err != nil {
			return nil, nil, err
		}
		q.add("$expand", e)
	}
	suffix := "/Attributes"
	if cast != "" {
		suffix += "/" + cast
	}
	list, resp, err := onEntity(ctx, c, entity, func(path string) ([]Record, *Response, error) {
		return c.getMetadataList(ctx, c.apiRequest(http.MethodGet, path+suffix, q))
	})
	if err != nil {
		return nil, resp, err
	}
	defs := make([]AttributeDefinition, 0, len(list))
	for _, m := range list {
		defs = append(defs, newAttributeDefinition(m))
	}
	return defs, resp, nil
}

// GetAttributeOptions adjusts GetAttribute.
type GetAttributeOptions struct {
	// Type casts the column to its metadata type (such as "Money" or "Picklist"), which Dataverse
	// needs to return type-specific properties. A column of another type answers 404.
	Type AttributeType
	// Select lists the properties to return; empty returns them all.
	Select []string
	// Expand returns navigation properties, such as OptionSet with Type Picklist.
	Expand []Expand
}

// GetAttribute retrieves one column of a table. The table is named as in GetEntityMetadata; the
// column by logical name, MetadataId or alternate key (LogicalName='name').
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/retrieve-metadata-name-metadataid
func (c *Client) GetAttribute(ctx context.Context, entity, attribute string, opts *GetAttributeOptions) (*AttributeDefinition, *Response, error) {
	if opts == nil {
		opts = &GetAttributeOptions{}
	}
	key, err := attributeKey(attribute)
	if err != nil {
		return nil, nil, err
	}
	suffix := "/Attributes(" + escapePath(key) + ")"
	if opts.Type != "" {
		cast, err := opts.Type.MetadataType()
		if err != nil {
			return nil, nil, err
		}
		suffix += "/" + cast
	}
	var q query
	if err := q.addSelectExpand(opts.Select, opts.Expand); err != nil {
		return nil, nil, err
	}
	rec, resp, err := onEntity(ctx, c, entity, func(path string) (Record, *Response, error) {
		return c.getMetadataObject(ctx, c.apiRequest(http.MethodGet, path+suffix, q))
	})
	if err != nil {
		return nil, resp, err
	}
	def := newAttributeDefinition(rec)
	return &def, resp, nil
}

// CreateAttribute adds a column to a table (named as in GetEntityMetadata) with
// POST EntityDefinitions(...)/Attributes. def is an AttributeSpec, or a Record holding the
// definition as the Dataverse docs print it (with "@odata.type"). It returns the new column's
// MetadataId, which Response.ID also holds (from OData-EntityId).
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-update-column-definitions-using-web-api
func (c *Client) CreateAttribute(ctx context.Context, entity string, def Definition, opts *MetadataWriteOptions) (string, *Response, error) {
	if opts == nil {
		opts = &MetadataWriteOptions{}
	}
	if def == nil {
		return "", nil, fmt.Errorf("client: CreateAttribute needs a definition: %w", ErrInvalidInput)
	}
	body, err := def.definition()
	if err != nil {
		return "", nil, err
	}
	return onEntity(ctx, c, entity, func(path string) (string, *Response, error) {
		r := c.apiRequest(http.MethodPost, path+"/Attributes", nil)
		if err := r.setJSON(body); err != nil {
			return "", nil, err
		}
		if err := setSolution(r.header, opts.SolutionUniqueName); err != nil {
			return "", nil, err
		}
		return c.sendWrite(ctx, r)
	})
}

// UpdateAttributeOptions adjusts UpdateAttribute.
type UpdateAttributeOptions struct {
	// MergeLabels keeps the labels of languages the definition does not mention
	// (MSCRM.MergeLabels: true). Without it Dataverse replaces all labels with those sent.
	MergeLabels bool
	// SolutionUniqueName records the change in this unmanaged solution (MSCRM.SolutionUniqueName).
	SolutionUniqueName string
}

// UpdateAttribute replaces a column definition with PUT, which is how Dataverse updates metadata
// (PATCH is refused): def must be the whole definition, typically one read with GetAttribute (with
// its Type) and changed. The column is attribute (logical name or MetadataId); when that is "",
// the MetadataId, LogicalName or SchemaName in def names it. When def carries @odata.type the path
// casts to it, as Dataverse requires for type-specific properties. The request sends If-Match: * so
// that it never creates a column: a missing one is a 404.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-update-column-definitions-using-web-api
func (c *Client) UpdateAttribute(ctx context.Context, entity, attribute string, def Definition, opts *UpdateAttributeOptions) (*Response, error) {
	if opts == nil {
		opts = &UpdateAttributeOptions{}
	}
	if def == nil {
		return nil, fmt.Errorf("client: UpdateAttribute needs a definition: %w", ErrInvalidInput)
	}
	body, err := def.definition()
	if err != nil {
		return nil, err
	}
	if attribute == "" {
		attribute = firstSet(propString(body, "MetadataId"), propString(body, "LogicalName"), propString(body, "SchemaName"))
		if attribute == "" {
			return nil, fmt.Errorf("client: UpdateAttribute: name the column or give its MetadataId or LogicalName in the definition: %w", ErrInvalidInput)
		}
	}
	key, err := attributeKey(attribute)
	if err != nil {
		return nil, err
	}
	suffix := "/Attributes(" + escapePath(key) + ")"
	cast, err := castOf(propString(body, "@odata.type"))
	if err != nil {
		return nil, err
	}
	if cast != "" {
		suffix += "/" + cast
	}
	_, resp, err := onEntity(ctx, c, entity, func(path string) (struct{}, *Response, error) {
		r := c.apiRequest(http.MethodPut, path+suffix, nil)
		if err := r.setJSON(body); err != nil {
			return struct{}{}, nil, err
		}
		r.header.Set("If-Match", "*")
		if opts.MergeLabels {
			r.header.Set("MSCRM.MergeLabels", "true")
		}
		if err := setSolution(r.header, opts.SolutionUniqueName); err != nil {
			return struct{}{}, nil, err
		}
		resp, _, err := c.send(ctx, r)
		return struct{}{}, resp, err
	})
	return resp, err
}

// DeleteAttribute deletes a column and its data. The table is named as in GetEntityMetadata, the
// column as in GetAttribute.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-update-column-definitions-using-web-api
func (c *Client) DeleteAttribute(ctx context.Context, entity, attribute string) (*Response, error) {
	key, err := attributeKey(attribute)
	if err != nil {
		return nil, err
	}
	_, resp, err := onEntity(ctx, c, entity, func(path string) (struct{}, *Response, error) {
		resp, _, err := c.send(ctx, c.apiRequest(http.MethodDelete, path+"/Attributes("+escapePath(key)+")", nil))
		return struct{}{}, resp, err
	})
	return resp, err
}

// metadataTypePattern matches a full column metadata type name.
var metadataTypePattern = regexp.MustCompile(`^Microsoft\.Dynamics\.CRM\.[A-Za-z]+AttributeMetadata$`)

// castOf returns the cast segment for the @odata.type of a column definition: "" for none or for the
// base AttributeMetadata (plain Virtual columns), the name itself when it is a full metadata type
// (including ones this client does not know), else the type a short name such as Money maps to.
func castOf(odataType string) (string, error) {
	t := strings.TrimPrefix(strings.TrimSpace(odataType), "#")
	switch {
	case t == "", t == metadataNamespace+"AttributeMetadata":
		return "", nil
	case metadataTypePattern.MatchString(t):
		return t, nil
	}
	cast, err := AttributeType(t).MetadataType()
	if err != nil {
		return "", fmt.Errorf("client: @odata.type %q: %w", odataType, err)
	}
	return cast, nil
}

func firstSet(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
