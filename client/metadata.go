package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// This file holds what the table (EntityDefinitions) and column (Attributes) actions share: how an
// entity identifier becomes a path, the typed read models and the label helpers.

// Definition is a table or column definition to send to CreateEntity, CreateAttribute or
// UpdateAttribute. It is either a Record written the way the Dataverse docs print the JSON, or an
// AttributeSpec or EntitySpec, which render one.
type Definition interface {
	definition() (Record, error)
}

// definition returns a copy of r without the control information a retrieved definition carries
// (@odata.context, @odata.etag), so that a definition read with GetAttribute can be changed and sent
// back with UpdateAttribute as it is.
func (r Record) definition() (Record, error) {
	if r == nil {
		return nil, fmt.Errorf("client: nil definition: %w", ErrInvalidInput)
	}
	out := make(Record, len(r))
	for k, v := range r {
		if k == "@odata.context" || k == "@odata.etag" {
			continue
		}
		out[k] = v
	}
	return out, nil
}

// DefaultLanguageCode is the language of labels built without one: 1033, English (United States).
const DefaultLanguageCode = 1033

// Label returns the Label JSON that a display name or description takes on create and update, with
// one localized label in language lang (a Windows LCID such as 1033; 0 means DefaultLanguageCode):
//
//	{"@odata.type":"Microsoft.Dynamics.CRM.Label","LocalizedLabels":[
//	  {"@odata.type":"Microsoft.Dynamics.CRM.LocalizedLabel","Label":"Balance","LanguageCode":1033}]}
//
// UserLocalizedLabel is not written: Dataverse derives it from the caller's language.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/label
func Label(text string, lang int) Record {
	if lang == 0 {
		lang = DefaultLanguageCode
	}
	return Record{
		"@odata.type": "Microsoft.Dynamics.CRM.Label",
		"LocalizedLabels": []any{Record{
			"@odata.type":  "Microsoft.Dynamics.CRM.LocalizedLabel",
			"Label":        text,
			"LanguageCode": lang,
		}},
	}
}

// LabelText returns the text of a Label as Dataverse returns it: the UserLocalizedLabel (the label in
// the caller's language) or, when there is none, the first of the LocalizedLabels. It returns "" for
// anything else, such as a property that was not selected.
func LabelText(label any) string {
	m := jsonObject(label)
	if m == nil {
		return ""
	}
	if u := jsonObject(m["UserLocalizedLabel"]); u != nil {
		if s, _ := u["Label"].(string); s != "" {
			return s
		}
	}
	for _, l := range labelTexts(m) {
		if l != "" {
			return l
		}
	}
	return ""
}

// labelTexts lists every text of a Label: the user-localized one and each localized one.
func labelTexts(label any) []string {
	m := jsonObject(label)
	if m == nil {
		return nil
	}
	var out []string
	if u := jsonObject(m["UserLocalizedLabel"]); u != nil {
		if s, _ := u["Label"].(string); s != "" {
			out = append(out, s)
		}
	}
	list, _ := m["LocalizedLabels"].([]any)
	for _, it := range list {
		if s, _ := jsonObject(it)["Label"].(string); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// asMap returns v as a JSON object, whether it came from decoding (map[string]any) or was built as a
// Record.
func jsonObject(v any) map[string]any {
	switch m := v.(type) {
	case map[string]any:
		return m
	case Record:
		return m
	}
	return nil
}

// str returns a string property, or "".
func propString(m map[string]any, key string) string {
	s, _ := m[key].(string)
	return s
}

// flag returns a boolean property, which Dataverse writes either as a JSON boolean or as a managed
// property {"Value":true,"CanBeChanged":...}.
func propBool(m map[string]any, key string) bool {
	switch v := m[key].(type) {
	case bool:
		return v
	case map[string]any:
		b, _ := v["Value"].(bool)
		return b
	}
	return false
}

// valueString returns the Value of an object property such as RequiredLevel or AttributeTypeName
// ({"Value":"None"}), or the property itself when it is a plain string.
func propValue(m map[string]any, key string) string {
	switch v := m[key].(type) {
	case string:
		return v
	case map[string]any:
		s, _ := v["Value"].(string)
		return s
	}
	return ""
}

// integer returns a whole-number property, or 0.
func propInt(m map[string]any, key string) int {
	switch v := m[key].(type) {
	case json.Number:
		n, _ := v.Int64()
		return int(n)
	case float64:
		return int(v)
	case int:
		return v
	}
	return 0
}

// EntityDefinition is a table definition (EntityMetadata) with its commonly used properties typed.
// Properties that were not selected are zero; every returned property, typed or not, is in Raw.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/entitymetadata
type EntityDefinition struct {
	// MetadataID identifies the table; Dataverse always returns it.
	MetadataID string
	// LogicalName is the lower-case name, such as account.
	LogicalName string
	// SchemaName is the name with its capitals, such as Account.
	SchemaName string
	// EntitySetName is the Web API collection of the table's rows, such as accounts.
	EntitySetName string
	// DisplayName, DisplayCollectionName and Description are label texts in the caller's language
	// (see LabelText); the full labels are in Raw.
	DisplayName           string
	DisplayCollectionName string
	Description           string
	// PrimaryIDAttribute and PrimaryNameAttribute are the logical names of the primary key column
	// and of the primary name column.
	PrimaryIDAttribute   string
	PrimaryNameAttribute string
	// ObjectTypeCode is the table's type code (10000 and up for custom tables).
	ObjectTypeCode int
	// OwnershipType is UserOwned, OrganizationOwned, BusinessOwned, TeamOwned or None.
	OwnershipType string
	// IsCustomEntity is true for tables created by customizers.
	IsCustomEntity bool
	// IsChildEntity is true for child tables: tables whose rows belong to a parent row through a
	// parental relationship, and which lists of top-level tables leave out.
	IsChildEntity bool
	// IsActivity is true for activity tables, such as task.
	IsActivity bool
	// IsIntersect is true for the intersect tables of many-to-many relationships.
	IsIntersect bool
	// Raw is the definition as returned.
	Raw Record
}

func newEntityDefinition(m Record) EntityDefinition {
	return EntityDefinition{
		MetadataID:            propString(m, "MetadataId"),
		LogicalName:           propString(m, "LogicalName"),
		SchemaName:            propString(m, "SchemaName"),
		EntitySetName:         propString(m, "EntitySetName"),
		DisplayName:           LabelText(m["DisplayName"]),
		DisplayCollectionName: LabelText(m["DisplayCollectionName"]),
		Description:           LabelText(m["Description"]),
		PrimaryIDAttribute:    propString(m, "PrimaryIdAttribute"),
		PrimaryNameAttribute:  propString(m, "PrimaryNameAttribute"),
		ObjectTypeCode:        propInt(m, "ObjectTypeCode"),
		OwnershipType:         propValue(m, "OwnershipType"),
		IsCustomEntity:        propBool(m, "IsCustomEntity"),
		IsChildEntity:         propBool(m, "IsChildEntity"),
		IsActivity:            propBool(m, "IsActivity"),
		IsIntersect:           propBool(m, "IsIntersect"),
		Raw:                   m,
	}
}

// AttributeDefinition is a column definition (AttributeMetadata or one of its derived types) with its
// commonly used properties typed. Type-specific properties (MaxLength, Precision, OptionSet, Targets,
// ...) are in Raw, as is every other returned property.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/attributemetadata
type AttributeDefinition struct {
	// MetadataID identifies the column; Dataverse always returns it.
	MetadataID string
	// LogicalName is the lower-case name, such as name or new_balance.
	LogicalName string
	// SchemaName is the name with its capitals, such as new_Balance.
	SchemaName string
	// EntityLogicalName is the logical name of the column's table.
	EntityLogicalName string
	// ODataType is the metadata type from @odata.type without its leading '#', such as
	// Microsoft.Dynamics.CRM.MoneyAttributeMetadata.
	ODataType string
	// AttributeType is the AttributeTypeCode, such as String, Money, Lookup or Virtual.
	AttributeType string
	// AttributeTypeName is AttributeTypeName.Value, such as MoneyType; it tells the kinds of Virtual
	// columns apart (MultiSelectPicklistType, FileType, ImageType).
	AttributeTypeName string
	// DisplayName and Description are label texts in the caller's language (see LabelText).
	DisplayName string
	Description string
	// RequiredLevel is RequiredLevel.Value: None, SystemRequired, ApplicationRequired or Recommended.
	RequiredLevel string
	// IsCustomAttribute is true for columns created by customizers.
	IsCustomAttribute bool
	// IsPrimaryID and IsPrimaryName mark the table's primary key and primary name columns.
	IsPrimaryID   bool
	IsPrimaryName bool
	// IsValidForRead, IsValidForCreate and IsValidForUpdate say what the column can be used for.
	IsValidForRead   bool
	IsValidForCreate bool
	IsValidForUpdate bool
	// IsSecured is true for columns under column-level security.
	IsSecured bool
	// IsAuditEnabled and IsValidForAdvancedFind are the values of those managed properties.
	IsAuditEnabled         bool
	IsValidForAdvancedFind bool
	// Raw is the definition as returned.
	Raw Record
}

func newAttributeDefinition(m Record) AttributeDefinition {
	return AttributeDefinition{
		MetadataID:             propString(m, "MetadataId"),
		LogicalName:            propString(m, "LogicalName"),
		SchemaName:             propString(m, "SchemaName"),
		EntityLogicalName:      propString(m, "EntityLogicalName"),
		ODataType:              strings.TrimPrefix(propString(m, "@odata.type"), "#"),
		AttributeType:          propValue(m, "AttributeType"),
		AttributeTypeName:      propValue(m, "AttributeTypeName"),
		DisplayName:            LabelText(m["DisplayName"]),
		Description:            LabelText(m["Description"]),
		RequiredLevel:          propValue(m, "RequiredLevel"),
		IsCustomAttribute:      propBool(m, "IsCustomAttribute"),
		IsPrimaryID:            propBool(m, "IsPrimaryId"),
		IsPrimaryName:          propBool(m, "IsPrimaryName"),
		IsValidForRead:         propBool(m, "IsValidForRead"),
		IsValidForCreate:       propBool(m, "IsValidForCreate"),
		IsValidForUpdate:       propBool(m, "IsValidForUpdate"),
		IsSecured:              propBool(m, "IsSecured"),
		IsAuditEnabled:         propBool(m, "IsAuditEnabled"),
		IsValidForAdvancedFind: propBool(m, "IsValidForAdvancedFind"),
		Raw:                    m,
	}
}

// MetadataWriteOptions adjusts CreateEntity and CreateAttribute.
type MetadataWriteOptions struct {
	// SolutionUniqueName adds the new component to this unmanaged solution
	// (MSCRM.SolutionUniqueName header).
	SolutionUniqueName string
}

func setSolution(h http.Header, name string) error {
	if name == "" {
		return nil
	}
	if err := checkName("solution unique name", name); err != nil {
		return err
	}
	h.Set("MSCRM.SolutionUniqueName", name)
	return nil
}

// entityRef is an entity identifier parsed for a path.
type entityRef struct {
	key string // what goes between EntityDefinitions( and ), unescaped
	// name is the identifier as given when it was a bare name, which may be an entity set name rather
	// than a logical name; "" for a MetadataId or an explicit alternate key.
	name string
}

// parseEntityRef accepts a MetadataId (braces tolerated), an alternate key such as
// LogicalName='account', or a bare name: a logical name (matched lower-cased, since logical names
// are), a schema name (Account gives account) or an entity set name, resolved by onEntity.
func parseEntityRef(entity string) (entityRef, error) {
	s := strings.TrimSpace(entity)
	switch {
	case isGUID(s):
		return entityRef{key: trimBraces(s)}, nil
	case identifierPattern.MatchString(s):
		return entityRef{key: "LogicalName=" + quoteKeyString(strings.ToLower(s)), name: s}, nil
	case strings.Contains(s, "="):
		k, err := normalizeKey(s)
		if err != nil {
			return entityRef{}, err
		}
		return entityRef{key: k}, nil
	}
	return entityRef{}, fmt.Errorf("client: invalid table %q: want a logical name (account), an entity set name (accounts) or a MetadataId: %w",
		entity, ErrInvalidInput)
}

func (e entityRef) path() string { return "EntityDefinitions(" + escapePath(e.key) + ")" }

// attributeKey renders a column identifier for Attributes(...): a MetadataId, an alternate key such
// as LogicalName='name', or a bare logical name (lower-cased).
func attributeKey(attribute string) (string, error) {
	s := strings.TrimSpace(attribute)
	switch {
	case isGUID(s):
		return trimBraces(s), nil
	case identifierPattern.MatchString(s):
		return "LogicalName=" + quoteKeyString(strings.ToLower(s)), nil
	case strings.Contains(s, "="):
		return normalizeKey(s)
	}
	return "", fmt.Errorf("client: invalid column %q: want a logical name (name) or a MetadataId: %w", attribute, ErrInvalidInput)
}

// onEntity runs call with the EntityDefinitions path of entity. A bare name is tried as a logical
// name first; when that answers 404 the name is looked up as an entity set name and, if a table has
// it, call runs again with that table's MetadataId. The fallback costs one request and only happens
// on a miss, so logical names and ids cost nothing extra. When the lookup finds nothing, the first
// 404 is returned.
func onEntity[T any](ctx context.Context, c *Client, entity string, call func(path string) (T, *Response, error)) (T, *Response, error) {
	ref, err := parseEntityRef(entity)
	if err != nil {
		var zero T
		return zero, nil, err
	}
	v, resp, err := call(ref.path())
	if err == nil || ref.name == "" || !errors.Is(err, ErrNotFound) {
		return v, resp, err
	}
	id := c.entityIDBySetName(ctx, ref.name)
	if id == "" {
		return v, resp, err
	}
	return call("EntityDefinitions(" + id + ")")
}

// entityIDBySetName returns the MetadataId of the table whose entity set is name, or "" when there is
// none or the lookup fails (the caller then reports its own 404).
func (c *Client) entityIDBySetName(ctx context.Context, name string) string {
	var q query
	q.add("$select", "LogicalName,EntitySetName")
	q.add("$filter", "EntitySetName eq "+quoteKeyString(name))
	list, _, err := c.getMetadataList(ctx, c.apiRequest(http.MethodGet, "EntityDefinitions", q))
	if err != nil {
		return ""
	}
	for _, m := range list {
		// Set names are case-sensitive; the check also guards against a server ignoring $filter.
		if propString(m, "EntitySetName") == name && isGUID(propString(m, "MetadataId")) {
			return trimBraces(propString(m, "MetadataId"))
		}
	}
	return ""
}

// getMetadataList sends a GET for a metadata collection and returns its items. Dataverse does not
// page metadata, but an @odata.nextLink is followed should one come.
func (c *Client) getMetadataList(ctx context.Context, r *request) ([]Record, *Response, error) {
	var out []Record
	first := (*Response)(nil)
	for {
		resp, body, err := c.send(ctx, r)
		if first == nil {
			first = resp
		}
		if err != nil {
			return nil, first, err
		}
		var raw struct {
			Value    []Record `json:"value"`
			NextLink string   `json:"@odata.nextLink"`
		}
		if err := decodeJSON(body, &raw); err != nil {
			return nil, first, fmt.Errorf("dataverse: %s %s: decode response: %w", r.method, redactURL(r.url), err)
		}
		for _, m := range raw.Value {
			if m != nil {
				out = append(out, m)
			}
		}
		if raw.NextLink == "" {
			return out, first, nil
		}
		u, err := c.resolveRawPath(raw.NextLink)
		if err != nil {
			return nil, first, err
		}
		r = &request{method: http.MethodGet, url: u, header: r.header}
	}
}

// getMetadataObject sends a GET for one definition and decodes it. The Dataverse docs show a table
// retrieved by name wrapped in "value":[...]; such a wrapper around a single item is removed.
func (c *Client) getMetadataObject(ctx context.Context, r *request) (Record, *Response, error) {
	rec, resp, err := c.recordResult(ctx, r)
	if err != nil {
		return nil, resp, err
	}
	if rec == nil {
		return nil, resp, fmt.Errorf("dataverse: GET %s: empty response", redactURL(r.url))
	}
	if list, ok := rec["value"].([]any); ok && len(list) == 1 && rec["MetadataId"] == nil {
		if m := jsonObject(list[0]); m != nil {
			return Record(m), resp, nil
		}
	}
	return rec, resp, nil
}

// sendWrite sends a metadata write and returns the id of what it created or addressed, from
// OData-EntityId.
func (c *Client) sendWrite(ctx context.Context, r *request) (string, *Response, error) {
	resp, _, err := c.send(ctx, r)
	if err != nil {
		return "", resp, err
	}
	return resp.ID, resp, nil
}
