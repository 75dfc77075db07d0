package model

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"
)

// AttributeType is a Dataverse AttributeTypeCode name, as it appears in AttributeMetadata.AttributeType.
type AttributeType string

// The attribute types the store knows how to keep.
const (
	TypeString           AttributeType = "String"
	TypeMemo             AttributeType = "Memo"
	TypeInteger          AttributeType = "Integer"
	TypeBigInt           AttributeType = "BigInt"
	TypeDecimal          AttributeType = "Decimal"
	TypeDouble           AttributeType = "Double"
	TypeMoney            AttributeType = "Money"
	TypeBoolean          AttributeType = "Boolean"
	TypeDateTime         AttributeType = "DateTime"
	TypePicklist         AttributeType = "Picklist"
	TypeState            AttributeType = "State"
	TypeStatus           AttributeType = "Status"
	TypeMultiSelect      AttributeType = "Virtual" // MultiSelectPicklist reports AttributeType Virtual
	TypeLookup           AttributeType = "Lookup"
	TypeCustomer         AttributeType = "Customer"
	TypeOwner            AttributeType = "Owner"
	TypeUniqueidentifier AttributeType = "Uniqueidentifier"
	TypeEntityName       AttributeType = "EntityName"
)

// VersionColumn is the row version column every table has; the ETag is W/"<versionnumber>".
const VersionColumn = "versionnumber"

// Option is one choice of a Picklist, State, Status or MultiSelectPicklist column.
type Option struct {
	Value int64
	Label string
	// State is the statecode a Status option belongs to; -1 for other option kinds.
	State int64
	// DefaultStatus is, for a State option, the statuscode its state takes when a write sets the
	// state without a status (StateOptionMetadata.DefaultStatus); -1 for other option kinds and
	// when the metadata gives none.
	DefaultStatus int64
	// InvariantName is a State option's name as Dataverse's messages spell it ("Active", "Won");
	// empty for other option kinds.
	InvariantName string
}

// Attribute is the part of a column's AttributeMetadata the emulator works with. The full Dataverse
// document stays in Raw.
type Attribute struct {
	LogicalName string
	SchemaName  string
	MetadataID  string
	Type        AttributeType
	// TypeName is AttributeTypeName.Value ("StringType", "MultiSelectPicklistType", ...).
	TypeName    string
	DisplayName string

	MaxLength int     // String, Memo
	Precision int     // Decimal, Double, Money (digits after the point)
	MinValue  float64 // numeric types
	MaxValue  float64
	HasRange  bool
	// Format is "DateOnly" or "DateAndTime" for DateTime (whether values carry a time on the wire,
	// which follows DateTimeBehavior), the FormatName for strings.
	Format string
	// Targets are the entities a lookup may point to (more than one for Customer, Owner and
	// polymorphic Lookup columns).
	Targets []string
	Options []Option
	// TrueLabel and FalseLabel label Boolean values.
	TrueLabel, FalseLabel string
	// Default is the value a new row gets when a create does not set the column (Boolean
	// DefaultValue); nil when the column has none.
	Default any

	IsPrimaryID    bool
	IsPrimaryName  bool
	ValidForCreate bool
	ValidForUpdate bool
	ValidForRead   bool
	RequiredLevel  string
	// AttributeOf names the column this one derives from (for example a lookup's name column);
	// such columns have no storage of their own.
	AttributeOf string
	IsCustom    bool

	// doc is the full AttributeMetadata document (Doc).
	doc *attributeDocument
	// lookupProperty is LookupProperty; member and memberNull are ReadMember and ReadMemberNull.
	// ParseAttribute and UnpackAttributes write them once (nameFacts).
	lookupProperty, member, memberNull string
}

// IsLookup reports whether the column holds a reference to another row.
func (a *Attribute) IsLookup() bool {
	return a.Type == TypeLookup || a.Type == TypeCustomer || a.Type == TypeOwner
}

// IsPolymorphic reports whether the lookup may point at rows of more than one table, in which case
// the store keeps the target table beside the id.
func (a *Attribute) IsPolymorphic() bool {
	return a.IsLookup() && (len(a.Targets) > 1 || a.Type == TypeOwner || a.Type == TypeCustomer)
}

// IsMultiSelect reports whether the column is a MultiSelectPicklist.
func (a *Attribute) IsMultiSelect() bool {
	return a.TypeName == "MultiSelectPicklistType"
}

// IsChoice reports whether the column holds one option value.
func (a *Attribute) IsChoice() bool {
	return a.Type == TypePicklist || a.Type == TypeState || a.Type == TypeStatus
}

// Stored reports whether the column has storage in the entity's table.
func (a *Attribute) Stored() bool {
	if a.AttributeOf != "" {
		return false
	}
	switch a.Type {
	case TypeMultiSelect:
		return a.IsMultiSelect()
	case "CalendarRules", "PartyList", "ManagedProperty", "Image", "File":
		return false
	}
	return true
}

// LookupProperty is the Web API name of a lookup column's value: "_primarycontactid_value".
func (a *Attribute) LookupProperty() string {
	if a.lookupProperty != "" {
		return a.lookupProperty
	}
	return "_" + a.LogicalName + "_value"
}

// ReadMember is the start of the column's member in a row read, "name": (the _x_value property
// for a lookup), and ReadMemberNull the whole member with no value. A read of a wide table
// writes a hundred or more of them a row, most of them null.
func (a *Attribute) ReadMember() string {
	if a.member != "" {
		return a.member
	}
	return readMember(a)
}

// ReadMemberNull is ReadMember followed by null.
func (a *Attribute) ReadMemberNull() string {
	if a.memberNull != "" {
		return a.memberNull
	}
	return readMember(a) + "null"
}

func readMember(a *Attribute) string {
	name := a.LogicalName
	if a.IsLookup() {
		name = a.LookupProperty()
	}
	return `"` + name + `":`
}

// nameFacts writes the names derived from the column's logical name once, for the columns of a
// schema, which every request reads.
func (a *Attribute) nameFacts() {
	if a.IsLookup() {
		a.lookupProperty = "_" + a.LogicalName + "_value"
	}
	a.member = readMember(a)
	a.memberNull = a.member + "null"
}

// Scale is the number of digits after the point the store keeps for exact numbers. Money is kept
// at four places, as Dataverse stores it, whatever the column's display precision.
func (a *Attribute) Scale() int {
	switch a.Type {
	case TypeMoney:
		return 4
	case TypeDecimal:
		return a.Precision
	}
	return 0
}

// EdmType is the OData type of the column's value, as the service document declares it.
func (a *Attribute) EdmType() string {
	switch a.Type {
	case TypeString, TypeMemo, TypeEntityName:
		return "Edm.String"
	case TypeInteger, TypePicklist, TypeState, TypeStatus:
		return "Edm.Int32"
	case TypeBigInt:
		return "Edm.Int64"
	case TypeDecimal, TypeMoney:
		return "Edm.Decimal"
	case TypeDouble:
		return "Edm.Double"
	case TypeBoolean:
		return "Edm.Boolean"
	case TypeDateTime:
		if a.Format == "DateOnly" {
			return "Edm.Date"
		}
		return "Edm.DateTimeOffset"
	case TypeUniqueidentifier, TypeLookup, TypeCustomer, TypeOwner:
		return "Edm.Guid"
	}
	return "Edm.String"
}

// DateValue is a time as the column keeps it: UTC, and midnight for date-only columns.
func (a *Attribute) DateValue(t time.Time) time.Time {
	t = t.UTC()
	if a.Format == "DateOnly" {
		return midnight(t)
	}
	return t
}

// OptionLabel returns the label of a choice value.
func (a *Attribute) OptionLabel(v int64) (string, bool) {
	for _, o := range a.Options {
		if o.Value == v {
			return o.Label, true
		}
	}
	return "", false
}

// Key is an alternate key.
type Key struct {
	LogicalName string
	SchemaName  string
	MetadataID  string
	Attributes  []string
	Raw         json.RawMessage
}

// RelationshipType tells one-to-many from many-to-many relationships.
type RelationshipType string

// Relationship types, as in RelationshipMetadataBase.RelationshipType.
const (
	OneToMany  RelationshipType = "OneToManyRelationship"
	ManyToMany RelationshipType = "ManyToManyRelationship"
)

// Relationship is a 1:N (seen from the other side, N:1) or N:N relationship.
type Relationship struct {
	SchemaName string
	MetadataID string
	Type       RelationshipType

	// One-to-many: the "one" side is referenced, the "many" side references it through a lookup.
	ReferencedEntity     string
	ReferencedAttribute  string
	ReferencingEntity    string
	ReferencingAttribute string
	// ReferencingNav is the single-valued navigation property on the referencing (many) side,
	// for example "primarycontactid" or "parentcustomerid_account".
	ReferencingNav string
	// ReferencedNav is the collection-valued navigation property on the referenced (one) side,
	// for example "contact_customer_accounts".
	ReferencedNav string

	// Many-to-many.
	Entity1, Entity2          string
	IntersectEntity           string
	Entity1IntersectAttribute string
	Entity2IntersectAttribute string
	Entity1Nav, Entity2Nav    string

	// CascadeDelete is CascadeConfiguration.Delete of a one-to-many relationship: "Cascade"
	// (deleting the referenced row deletes the referencing rows), "Restrict" (refused while they
	// exist) or "RemoveLink" (their lookup is cleared; also the default).
	CascadeDelete string

	Raw json.RawMessage `json:"-"`
}

// Entity is the part of a table's EntityMetadata the emulator works with, plus its columns, keys
// and relationships.
type Entity struct {
	LogicalName          string
	SchemaName           string
	EntitySetName        string
	MetadataID           string
	PrimaryIDAttribute   string
	PrimaryNameAttribute string
	ObjectTypeCode       int
	OwnershipType        string
	IsActivity           bool
	IsIntersect          bool
	IsCustom             bool
	DisplayName          string
	// ChangeTracking is EntityMetadata.ChangeTrackingEnabled: the table's changes can be read
	// with delta links.
	ChangeTracking bool

	// Attributes in metadata order. Raw (below) is the entity's own document; each attribute and
	// key keeps its document in its own Raw.
	Attributes []*Attribute
	Keys       []*Key

	attrs map[string]*Attribute
	// readable is every readable stored column in metadata order, what a row without $select
	// shows; ParseEntity fills it once.
	readable []*Attribute
	// navs maps navigation property names to their relationship and direction.
	navs map[string]*Nav

	Raw json.RawMessage
}

// Attribute returns a column by logical name.
func (e *Entity) Attribute(name string) (*Attribute, bool) {
	a, ok := e.attrs[name]
	return a, ok
}

// PrimaryID returns the primary key column.
func (e *Entity) PrimaryID() *Attribute { return e.attrs[e.PrimaryIDAttribute] }

// NavKind says what a navigation property leads to.
type NavKind int

// Navigation property kinds.
const (
	// NavSingle is a single-valued navigation through a lookup on this entity (N:1).
	NavSingle NavKind = iota
	// NavCollection is a collection of rows whose lookup points at this entity (1:N).
	NavCollection
	// NavManyToMany is a collection through an intersect table (N:N).
	NavManyToMany
)

// Nav is a navigation property of an entity.
type Nav struct {
	Name         string
	Kind         NavKind
	Relationship *Relationship
	// Target is the logical name of the entity the navigation leads to; TargetEntity is that entity
	// in the same Schema.
	Target       string
	TargetEntity *Entity
	// Attribute is the lookup column: on this entity for NavSingle, on the target for NavCollection.
	Attribute string
}

// Nav returns a navigation property by name.
func (e *Entity) Nav(name string) (*Nav, bool) {
	n, ok := e.navs[name]
	return n, ok
}

// Navs returns the navigation properties sorted by name.
func (e *Entity) Navs() []*Nav {
	out := make([]*Nav, 0, len(e.navs))
	for _, n := range e.navs {
		out = append(out, n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SingleNavsFor returns the single-valued navigation properties that write the lookup attr, one
// per target for polymorphic lookups.
func (e *Entity) SingleNavsFor(attr string) []*Nav {
	var out []*Nav
	for _, n := range e.Navs() {
		if n.Kind == NavSingle && n.Attribute == attr {
			out = append(out, n)
		}
	}
	return out
}

// Schema is an immutable view of all metadata. The store swaps in a new Schema when metadata
// changes, so a request works with one consistent view from start to end.
type Schema struct {
	entities      map[string]*Entity
	bySet         map[string]*Entity
	relationships map[string]*Relationship
	// Version increases with every metadata change.
	Version int64
}

// Entity returns a table by logical name.
func (s *Schema) Entity(logicalName string) (*Entity, bool) {
	e, ok := s.entities[logicalName]
	return e, ok
}

// EntityBySet returns a table by entity set name. Names are case sensitive, as in Dataverse.
func (s *Schema) EntityBySet(set string) (*Entity, bool) {
	e, ok := s.bySet[set]
	return e, ok
}

// Entities returns every table, sorted by logical name.
func (s *Schema) Entities() []*Entity {
	out := make([]*Entity, 0, len(s.entities))
	for _, e := range s.entities {
		out = append(out, e)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].LogicalName < out[j].LogicalName })
	return out
}

// Relationship returns a relationship by schema name.
func (s *Schema) Relationship(schemaName string) (*Relationship, bool) {
	r, ok := s.relationships[schemaName]
	return r, ok
}

// Relationships returns every relationship, sorted by schema name.
func (s *Schema) Relationships() []*Relationship {
	out := make([]*Relationship, 0, len(s.relationships))
	for _, r := range s.relationships {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SchemaName < out[j].SchemaName })
	return out
}

// label is the Dataverse Label complex type, read for its user-localized text.
type label struct {
	UserLocalizedLabel *struct {
		Label string `json:"Label"`
	} `json:"UserLocalizedLabel"`
	LocalizedLabels []struct {
		Label        string `json:"Label"`
		LanguageCode int    `json:"LanguageCode"`
	} `json:"LocalizedLabels"`
}

func (l *label) text() string {
	if l == nil {
		return ""
	}
	if l.UserLocalizedLabel != nil {
		return l.UserLocalizedLabel.Label
	}
	for _, ll := range l.LocalizedLabels {
		if ll.LanguageCode == 1033 {
			return ll.Label
		}
	}
	if len(l.LocalizedLabels) > 0 {
		return l.LocalizedLabels[0].Label
	}
	return ""
}

type entityDoc struct {
	MetadataID           string            `json:"MetadataId"`
	LogicalName          string            `json:"LogicalName"`
	SchemaName           string            `json:"SchemaName"`
	EntitySetName        string            `json:"EntitySetName"`
	PrimaryIDAttribute   string            `json:"PrimaryIdAttribute"`
	PrimaryNameAttribute string            `json:"PrimaryNameAttribute"`
	ObjectTypeCode       int               `json:"ObjectTypeCode"`
	OwnershipType        string            `json:"OwnershipType"`
	IsActivity           bool              `json:"IsActivity"`
	IsIntersect          bool              `json:"IsIntersect"`
	IsCustomEntity       bool              `json:"IsCustomEntity"`
	ChangeTracking       bool              `json:"ChangeTrackingEnabled"`
	DisplayName          *label            `json:"DisplayName"`
	Attributes           []json.RawMessage `json:"Attributes,omitempty"`
	Keys                 []json.RawMessage `json:"Keys,omitempty"`
}

type optionDoc struct {
	Value         int64  `json:"Value"`
	Label         *label `json:"Label"`
	State         *int64 `json:"State"`
	DefaultStatus *int64 `json:"DefaultStatus"`
	InvariantName string `json:"InvariantName"`
}

type attributeDoc struct {
	MetadataID        string `json:"MetadataId"`
	LogicalName       string `json:"LogicalName"`
	SchemaName        string `json:"SchemaName"`
	AttributeType     string `json:"AttributeType"`
	AttributeTypeName *struct {
		Value string `json:"Value"`
	} `json:"AttributeTypeName"`
	DisplayName *label   `json:"DisplayName"`
	MaxLength   *int     `json:"MaxLength"`
	Precision   *int     `json:"Precision"`
	MinValue    *float64 `json:"MinValue"`
	MaxValue    *float64 `json:"MaxValue"`
	Format      any      `json:"Format"`
	FormatName  *struct {
		Value string `json:"Value"`
	} `json:"FormatName"`
	DateTimeBehavior *struct {
		Value string `json:"Value"`
	} `json:"DateTimeBehavior"`
	Targets   []string `json:"Targets"`
	OptionSet *struct {
		Options     []optionDoc `json:"Options"`
		TrueOption  *optionDoc  `json:"TrueOption"`
		FalseOption *optionDoc  `json:"FalseOption"`
	} `json:"OptionSet"`
	IsPrimaryID      bool  `json:"IsPrimaryId"`
	IsPrimaryName    bool  `json:"IsPrimaryName"`
	IsValidForCreate *bool `json:"IsValidForCreate"`
	IsValidForUpdate *bool `json:"IsValidForUpdate"`
	IsValidForRead   *bool `json:"IsValidForRead"`
	RequiredLevel    *struct {
		Value string `json:"Value"`
	} `json:"RequiredLevel"`
	AttributeOf       string `json:"AttributeOf"`
	IsCustomAttribute bool   `json:"IsCustomAttribute"`
	DefaultValue      any    `json:"DefaultValue"`
}

type keyDoc struct {
	MetadataID    string   `json:"MetadataId"`
	LogicalName   string   `json:"LogicalName"`
	SchemaName    string   `json:"SchemaName"`
	KeyAttributes []string `json:"KeyAttributes"`
}

type relationshipDoc struct {
	MetadataID       string `json:"MetadataId"`
	SchemaName       string `json:"SchemaName"`
	RelationshipType string `json:"RelationshipType"`

	ReferencedEntity                        string `json:"ReferencedEntity"`
	ReferencedAttribute                     string `json:"ReferencedAttribute"`
	ReferencingEntity                       string `json:"ReferencingEntity"`
	ReferencingAttribute                    string `json:"ReferencingAttribute"`
	ReferencedEntityNavigationPropertyName  string `json:"ReferencedEntityNavigationPropertyName"`
	ReferencingEntityNavigationPropertyName string `json:"ReferencingEntityNavigationPropertyName"`

	Entity1LogicalName            string `json:"Entity1LogicalName"`
	Entity2LogicalName            string `json:"Entity2LogicalName"`
	IntersectEntityName           string `json:"IntersectEntityName"`
	Entity1IntersectAttribute     string `json:"Entity1IntersectAttribute"`
	Entity2IntersectAttribute     string `json:"Entity2IntersectAttribute"`
	Entity1NavigationPropertyName string `json:"Entity1NavigationPropertyName"`
	Entity2NavigationPropertyName string `json:"Entity2NavigationPropertyName"`
	CascadeConfiguration          *struct {
		Delete string `json:"Delete"`
	} `json:"CascadeConfiguration"`
}

// ParseEntity reads an EntityMetadata document (with its Attributes and Keys) into an Entity.
func ParseEntity(doc json.RawMessage) (*Entity, error) {
	var d entityDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("model: entity metadata: %w", err)
	}
	attrs, err := parseAttributes(d.Attributes)
	if err != nil {
		return nil, fmt.Errorf("model: entity %s: %w", d.LogicalName, err)
	}
	return newEntity(&d, doc, attrs, d.Keys)
}

func parseAttributes(docs []json.RawMessage) ([]*Attribute, error) {
	out := make([]*Attribute, 0, len(docs))
	for _, raw := range docs {
		a, err := ParseAttribute(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, nil
}

// ParseEntityParts reads an entity document stored without its Attributes and Keys, plus those
// documents, without re-assembling the whole document.
func ParseEntityParts(doc json.RawMessage, attrs, keys []json.RawMessage) (*Entity, error) {
	parsed, err := parseAttributes(attrs)
	if err != nil {
		return nil, fmt.Errorf("model: entity metadata: %w", err)
	}
	return EntityWithAttributes(doc, parsed, keys)
}

// EntityWithAttributes is ParseEntityParts for columns already parsed (AttributeFromFacts).
func EntityWithAttributes(doc json.RawMessage, attrs []*Attribute, keys []json.RawMessage) (*Entity, error) {
	var d entityDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("model: entity metadata: %w", err)
	}
	return newEntity(&d, doc, attrs, keys)
}

func newEntity(d *entityDoc, doc json.RawMessage, attrs []*Attribute, keyDocs []json.RawMessage) (*Entity, error) {
	if d.LogicalName == "" || d.EntitySetName == "" || d.PrimaryIDAttribute == "" {
		return nil, fmt.Errorf("model: entity metadata %q: LogicalName, EntitySetName and PrimaryIdAttribute are required", d.LogicalName)
	}
	if !ValidIdent(d.LogicalName) || !ValidIdent(d.EntitySetName) {
		return nil, fmt.Errorf("model: entity metadata: invalid name %q / %q", d.LogicalName, d.EntitySetName)
	}
	e := &Entity{
		LogicalName:          d.LogicalName,
		SchemaName:           d.SchemaName,
		EntitySetName:        d.EntitySetName,
		MetadataID:           strings.ToLower(d.MetadataID),
		PrimaryIDAttribute:   d.PrimaryIDAttribute,
		PrimaryNameAttribute: d.PrimaryNameAttribute,
		ObjectTypeCode:       d.ObjectTypeCode,
		OwnershipType:        d.OwnershipType,
		IsActivity:           d.IsActivity,
		IsIntersect:          d.IsIntersect,
		IsCustom:             d.IsCustomEntity,
		ChangeTracking:       d.ChangeTracking,
		DisplayName:          d.DisplayName.text(),
		attrs:                map[string]*Attribute{},
		navs:                 map[string]*Nav{},
		Raw:                  doc,
	}
	for _, a := range attrs {
		if _, dup := e.attrs[a.LogicalName]; dup {
			return nil, fmt.Errorf("model: entity %s: duplicate attribute %s", e.LogicalName, a.LogicalName)
		}
		e.Attributes = append(e.Attributes, a)
		e.attrs[a.LogicalName] = a
	}
	if _, ok := e.attrs[e.PrimaryIDAttribute]; !ok {
		return nil, fmt.Errorf("model: entity %s: primary id attribute %s is not defined", e.LogicalName, e.PrimaryIDAttribute)
	}
	for _, a := range e.Attributes {
		if a.Stored() && a.ValidForRead {
			e.readable = append(e.readable, a)
		}
	}
	// Callers may append to what Shown returns: the full capacity makes them copy.
	e.readable = slices.Clip(e.readable)
	for _, raw := range keyDocs {
		var kd keyDoc
		if err := json.Unmarshal(raw, &kd); err != nil {
			return nil, fmt.Errorf("model: entity %s: key: %w", e.LogicalName, err)
		}
		for _, an := range kd.KeyAttributes {
			if _, ok := e.attrs[an]; !ok {
				return nil, fmt.Errorf("model: entity %s: key %s names unknown attribute %s", e.LogicalName, kd.LogicalName, an)
			}
		}
		e.Keys = append(e.Keys, &Key{LogicalName: kd.LogicalName, SchemaName: kd.SchemaName, MetadataID: strings.ToLower(kd.MetadataID), Attributes: kd.KeyAttributes, Raw: raw})
	}
	return e, nil
}

// ParseAttribute reads an AttributeMetadata document.
func ParseAttribute(doc json.RawMessage) (*Attribute, error) {
	var d attributeDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("attribute metadata: %w", err)
	}
	if !ValidIdent(d.LogicalName) {
		return nil, fmt.Errorf("attribute metadata: invalid LogicalName %q", d.LogicalName)
	}
	a := &Attribute{
		LogicalName:    d.LogicalName,
		SchemaName:     d.SchemaName,
		MetadataID:     strings.ToLower(d.MetadataID),
		Type:           AttributeType(d.AttributeType),
		DisplayName:    d.DisplayName.text(),
		Targets:        d.Targets,
		IsPrimaryID:    d.IsPrimaryID,
		IsPrimaryName:  d.IsPrimaryName,
		ValidForCreate: d.IsValidForCreate == nil || *d.IsValidForCreate,
		ValidForUpdate: d.IsValidForUpdate == nil || *d.IsValidForUpdate,
		ValidForRead:   d.IsValidForRead == nil || *d.IsValidForRead,
		RequiredLevel:  "None",
		AttributeOf:    d.AttributeOf,
		IsCustom:       d.IsCustomAttribute,
		doc:            &attributeDocument{raw: doc},
	}
	if d.AttributeTypeName != nil {
		a.TypeName = d.AttributeTypeName.Value
	}
	if d.RequiredLevel != nil {
		a.RequiredLevel = d.RequiredLevel.Value
	}
	if d.MaxLength != nil {
		a.MaxLength = *d.MaxLength
	}
	if d.Precision != nil {
		a.Precision = *d.Precision
	} else if a.Type == TypeMoney {
		a.Precision = 2
	}
	if a.Precision < 0 || a.Precision > 10 {
		return nil, fmt.Errorf("attribute %s: precision %d out of range", a.LogicalName, a.Precision)
	}
	if d.MinValue != nil && d.MaxValue != nil {
		a.MinValue, a.MaxValue, a.HasRange = *d.MinValue, *d.MaxValue, true
	}
	switch f := d.Format.(type) {
	case string:
		a.Format = f
	}
	if a.Type == TypeDateTime {
		// The Web API carries a date without a time (Edm.Date) only for the DateOnly behaviour. A
		// column formatted DateOnly with UserLocal behaviour (opportunity.estimatedclosedate) is
		// shown as a date but travels as a DateTimeOffset, so Format here records the wire kind:
		// the behaviour decides, and the format only when a document gives no behaviour.
		switch {
		case d.DateTimeBehavior != nil && d.DateTimeBehavior.Value == "DateOnly":
			a.Format = "DateOnly"
		case d.DateTimeBehavior != nil && d.DateTimeBehavior.Value != "":
			a.Format = "DateAndTime"
		case a.Format == "":
			a.Format = "DateAndTime"
		}
	}
	if d.FormatName != nil && a.Format == "" {
		a.Format = d.FormatName.Value
	}
	if d.OptionSet != nil {
		for _, o := range d.OptionSet.Options {
			st, def := int64(-1), int64(-1)
			if o.State != nil {
				st = *o.State
			}
			if o.DefaultStatus != nil {
				def = *o.DefaultStatus
			}
			a.Options = append(a.Options, Option{Value: o.Value, Label: o.Label.text(), State: st, DefaultStatus: def, InvariantName: o.InvariantName})
		}
		if d.OptionSet.TrueOption != nil {
			a.TrueLabel = d.OptionSet.TrueOption.Label.text()
		}
		if d.OptionSet.FalseOption != nil {
			a.FalseLabel = d.OptionSet.FalseOption.Label.text()
		}
	}
	if b, ok := d.DefaultValue.(bool); ok && a.Type == TypeBoolean {
		a.Default = b
	}
	if a.Type == TypeBoolean {
		if a.TrueLabel == "" {
			a.TrueLabel = "Yes"
		}
		if a.FalseLabel == "" {
			a.FalseLabel = "No"
		}
	}
	a.nameFacts()
	return a, nil
}

// ParseRelationship reads a OneToManyRelationshipMetadata or ManyToManyRelationshipMetadata document.
func ParseRelationship(doc json.RawMessage) (*Relationship, error) {
	var d relationshipDoc
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, fmt.Errorf("model: relationship metadata: %w", err)
	}
	r := &Relationship{
		SchemaName:                d.SchemaName,
		MetadataID:                strings.ToLower(d.MetadataID),
		Type:                      RelationshipType(d.RelationshipType),
		ReferencedEntity:          d.ReferencedEntity,
		ReferencedAttribute:       d.ReferencedAttribute,
		ReferencingEntity:         d.ReferencingEntity,
		ReferencingAttribute:      d.ReferencingAttribute,
		ReferencingNav:            d.ReferencingEntityNavigationPropertyName,
		ReferencedNav:             d.ReferencedEntityNavigationPropertyName,
		Entity1:                   d.Entity1LogicalName,
		Entity2:                   d.Entity2LogicalName,
		IntersectEntity:           d.IntersectEntityName,
		Entity1IntersectAttribute: d.Entity1IntersectAttribute,
		Entity2IntersectAttribute: d.Entity2IntersectAttribute,
		Entity1Nav:                d.Entity1NavigationPropertyName,
		Entity2Nav:                d.Entity2NavigationPropertyName,
		Raw:                       doc,
	}
	r.CascadeDelete = "RemoveLink"
	if d.CascadeConfiguration != nil && d.CascadeConfiguration.Delete != "" {
		r.CascadeDelete = d.CascadeConfiguration.Delete
	}
	if r.Type == "" {
		if r.IntersectEntity != "" {
			r.Type = ManyToMany
		} else {
			r.Type = OneToMany
		}
	}
	if r.SchemaName == "" {
		return nil, fmt.Errorf("model: relationship metadata without SchemaName")
	}
	switch r.Type {
	case OneToMany:
		if r.ReferencedEntity == "" || r.ReferencingEntity == "" || r.ReferencingAttribute == "" {
			return nil, fmt.Errorf("model: relationship %s: referenced and referencing entity and attribute are required", r.SchemaName)
		}
	case ManyToMany:
		if r.Entity1 == "" || r.Entity2 == "" || !ValidIdent(r.IntersectEntity) || !ValidIdent(r.Entity1IntersectAttribute) || !ValidIdent(r.Entity2IntersectAttribute) {
			return nil, fmt.Errorf("model: relationship %s: entities, intersect entity and intersect attributes are required", r.SchemaName)
		}
	default:
		return nil, fmt.Errorf("model: relationship %s: unknown type %q", r.SchemaName, r.Type)
	}
	return r, nil
}

// NewSchema links entities and relationships into a Schema, checking that every name they use
// exists.
func NewSchema(entities []*Entity, rels []*Relationship, version int64) (*Schema, error) {
	s := &Schema{
		entities:      map[string]*Entity{},
		bySet:         map[string]*Entity{},
		relationships: map[string]*Relationship{},
		Version:       version,
	}
	for _, e := range entities {
		if _, dup := s.entities[e.LogicalName]; dup {
			return nil, fmt.Errorf("model: duplicate entity %s", e.LogicalName)
		}
		if _, dup := s.bySet[e.EntitySetName]; dup {
			return nil, fmt.Errorf("model: duplicate entity set %s", e.EntitySetName)
		}
		// Entities are shared between schema versions only through copies: navs are rebuilt here.
		e.navs = map[string]*Nav{}
		s.entities[e.LogicalName] = e
		s.bySet[e.EntitySetName] = e
	}
	addNav := func(e *Entity, n *Nav) error {
		if n.Name == "" {
			return nil
		}
		if _, dup := e.navs[n.Name]; dup {
			return fmt.Errorf("model: entity %s: duplicate navigation property %s", e.LogicalName, n.Name)
		}
		e.navs[n.Name] = n
		return nil
	}
	for _, r := range rels {
		if _, dup := s.relationships[r.SchemaName]; dup {
			return nil, fmt.Errorf("model: duplicate relationship %s", r.SchemaName)
		}
		s.relationships[r.SchemaName] = r
		switch r.Type {
		case OneToMany:
			one, ok1 := s.entities[r.ReferencedEntity]
			many, ok2 := s.entities[r.ReferencingEntity]
			if !ok1 || !ok2 {
				// A relationship to a table the fixtures do not define is skipped, so that partial
				// exports from a tenant still load.
				continue
			}
			if _, ok := many.attrs[r.ReferencingAttribute]; !ok {
				return nil, fmt.Errorf("model: relationship %s: %s has no attribute %s", r.SchemaName, many.LogicalName, r.ReferencingAttribute)
			}
			if r.ReferencedAttribute == "" {
				r.ReferencedAttribute = one.PrimaryIDAttribute
			}
			if err := addNav(many, &Nav{Name: r.ReferencingNav, Kind: NavSingle, Relationship: r, Target: one.LogicalName, TargetEntity: one, Attribute: r.ReferencingAttribute}); err != nil {
				return nil, err
			}
			if err := addNav(one, &Nav{Name: r.ReferencedNav, Kind: NavCollection, Relationship: r, Target: many.LogicalName, TargetEntity: many, Attribute: r.ReferencingAttribute}); err != nil {
				return nil, err
			}
		case ManyToMany:
			e1, ok1 := s.entities[r.Entity1]
			e2, ok2 := s.entities[r.Entity2]
			if !ok1 || !ok2 {
				continue
			}
			if err := addNav(e1, &Nav{Name: r.Entity1Nav, Kind: NavManyToMany, Relationship: r, Target: e2.LogicalName, TargetEntity: e2}); err != nil {
				return nil, err
			}
			if e1 != e2 || r.Entity2Nav != r.Entity1Nav {
				if err := addNav(e2, &Nav{Name: r.Entity2Nav, Kind: NavManyToMany, Relationship: r, Target: e1.LogicalName, TargetEntity: e1}); err != nil {
					return nil, err
				}
			}
		}
	}
	return s, nil
}

// ValidIdent reports whether a metadata name is safe to use as an SQL identifier: Dataverse logical
// names are lower-case letters, digits and underscores, starting with a letter.
func ValidIdent(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r == '_' || (r >= '0' && r <= '9'):
			if i == 0 && r != '_' {
				return false
			}
		default:
			return false
		}
	}
	return true
}
