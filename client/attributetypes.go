package client

import (
	"fmt"
	"strings"
)

// AttributeType names a kind of column. It is one of the AttributeType constants (the Dataverse
// AttributeTypeCode values, plus MultiSelectPicklist, File and Image, which Dataverse files under
// Virtual), a common alias, an AttributeTypeName such as MoneyType, or a metadata type such as
// Microsoft.Dynamics.CRM.MoneyAttributeMetadata. Names are matched case-insensitively.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/attributetypecode
type AttributeType string

// Kinds of column. Each has a metadata type of its own except Customer, Owner and PartyList (all
// LookupAttributeMetadata), and Virtual and CalendarRules (none).
const (
	AttributeTypeBigInt              AttributeType = "BigInt"
	AttributeTypeBoolean             AttributeType = "Boolean"
	AttributeTypeCalendarRules       AttributeType = "CalendarRules"
	AttributeTypeCustomer            AttributeType = "Customer"
	AttributeTypeDateTime            AttributeType = "DateTime"
	AttributeTypeDecimal             AttributeType = "Decimal"
	AttributeTypeDouble              AttributeType = "Double"
	AttributeTypeEntityName          AttributeType = "EntityName"
	AttributeTypeFile                AttributeType = "File"
	AttributeTypeImage               AttributeType = "Image"
	AttributeTypeInteger             AttributeType = "Integer"
	AttributeTypeLookup              AttributeType = "Lookup"
	AttributeTypeManagedProperty     AttributeType = "ManagedProperty"
	AttributeTypeMemo                AttributeType = "Memo"
	AttributeTypeMoney               AttributeType = "Money"
	AttributeTypeMultiSelectPicklist AttributeType = "MultiSelectPicklist"
	AttributeTypeOwner               AttributeType = "Owner"
	AttributeTypePartyList           AttributeType = "PartyList"
	AttributeTypePicklist            AttributeType = "Picklist"
	AttributeTypeState               AttributeType = "State"
	AttributeTypeStatus              AttributeType = "Status"
	AttributeTypeString              AttributeType = "String"
	AttributeTypeUniqueidentifier    AttributeType = "Uniqueidentifier"
	AttributeTypeVirtual             AttributeType = "Virtual"
)

// metadataNamespace prefixes Dataverse's metadata type names.
const metadataNamespace = "Microsoft.Dynamics.CRM."

// attributeKind describes one kind of column: how to select its columns with a cast and a filter.
type attributeKind struct {
	name     AttributeType // canonical name
	code     string        // AttributeTypeCode of its columns; "" for a metadata type given by name
	class    string        // metadata type without namespace; "" when the kind has none of its own
	typeName string        // AttributeTypeName.Value
	// shared is true when class also holds columns of other codes (LookupAttributeMetadata holds
	// Lookup, Customer, Owner and PartyList), so that a cast alone would not select only this kind.
	shared bool
}

var attributeKinds = []attributeKind{
	{name: AttributeTypeBigInt, code: "BigInt", class: "BigIntAttributeMetadata", typeName: "BigIntType"},
	{name: AttributeTypeBoolean, code: "Boolean", class: "BooleanAttributeMetadata", typeName: "BooleanType"},
	{name: AttributeTypeCalendarRules, code: "CalendarRules", typeName: "CalendarRulesType"},
	{name: AttributeTypeCustomer, code: "Customer", class: "LookupAttributeMetadata", typeName: "CustomerType", shared: true},
	{name: AttributeTypeDateTime, code: "DateTime", class: "DateTimeAttributeMetadata", typeName: "DateTimeType"},
	{name: AttributeTypeDecimal, code: "Decimal", class: "DecimalAttributeMetadata", typeName: "DecimalType"},
	{name: AttributeTypeDouble, code: "Double", class: "DoubleAttributeMetadata", typeName: "DoubleType"},
	{name: AttributeTypeEntityName, code: "EntityName", class: "EntityNameAttributeMetadata", typeName: "EntityNameType"},
	{name: AttributeTypeFile, code: "Virtual", class: "FileAttributeMetadata", typeName: "FileType"},
	{name: AttributeTypeImage, code: "Virtual", class: "ImageAttributeMetadata", typeName: "ImageType"},
	{name: AttributeTypeInteger, code: "Integer", class: "IntegerAttributeMetadata", typeName: "IntegerType"},
	{name: AttributeTypeLookup, code: "Lookup", class: "LookupAttributeMetadata", typeName: "LookupType", shared: true},
	{name: AttributeTypeManagedProperty, code: "ManagedProperty", class: "ManagedPropertyAttributeMetadata", typeName: "ManagedPropertyType"},
	{name: AttributeTypeMemo, code: "Memo", class: "MemoAttributeMetadata", typeName: "MemoType"},
	{name: AttributeTypeMoney, code: "Money", class: "MoneyAttributeMetadata", typeName: "MoneyType"},
	{name: AttributeTypeMultiSelectPicklist, code: "Virtual", class: "MultiSelectPicklistAttributeMetadata", typeName: "MultiSelectPicklistType"},
	{name: AttributeTypeOwner, code: "Owner", class: "LookupAttributeMetadata", typeName: "OwnerType", shared: true},
	{name: AttributeTypePartyList, code: "PartyList", class: "LookupAttributeMetadata", typeName: "PartyListType", shared: true},
	{name: AttributeTypePicklist, code: "Picklist", class: "PicklistAttributeMetadata", typeName: "PicklistType"},
	{name: AttributeTypeState, code: "State", class: "StateAttributeMetadata", typeName: "StateType"},
	{name: AttributeTypeStatus, code: "Status", class: "StatusAttributeMetadata", typeName: "StatusType"},
	{name: AttributeTypeString, code: "String", class: "StringAttributeMetadata", typeName: "StringType"},
	{name: AttributeTypeUniqueidentifier, code: "Uniqueidentifier", class: "UniqueIdentifierAttributeMetadata", typeName: "UniqueidentifierType"},
	{name: AttributeTypeVirtual, code: "Virtual", typeName: "VirtualType"},
}

// attributeAliases are the names the maker portal and the Prismatic component's docs use for column kinds.
var attributeAliases = map[string]AttributeType{
	"text":        AttributeTypeString,
	"choice":      AttributeTypePicklist,
	"optionset":   AttributeTypePicklist,
	"choices":     AttributeTypeMultiSelectPicklist,
	"multichoice": AttributeTypeMultiSelectPicklist,
	"currency":    AttributeTypeMoney,
	"wholenumber": AttributeTypeInteger,
	"int":         AttributeTypeInteger,
	"float":       AttributeTypeDouble,
	"yesno":       AttributeTypeBoolean,
	"twooptions":  AttributeTypeBoolean,
	"bool":        AttributeTypeBoolean,
	"guid":        AttributeTypeUniqueidentifier,
	"multiline":   AttributeTypeMemo,
}

// lookupAttributeKind resolves a name to a kind. A metadata type given by name (with or without the
// namespace and '#') selects every column of that type, so LookupAttributeMetadata takes Customer
// and Owner columns too while Lookup does not.
func lookupAttributeKind(t AttributeType) (attributeKind, error) {
	s := strings.TrimSpace(string(t))
	s = strings.TrimPrefix(s, "#")
	low := strings.ToLower(s)
	if rest, ok := strings.CutPrefix(low, strings.ToLower(metadataNamespace)); ok {
		low = rest
	}
	if a, ok := attributeAliases[strings.NewReplacer(" ", "", "_", "", "-", "").Replace(low)]; ok {
		low = strings.ToLower(string(a))
	}
	for _, k := range attributeKinds {
		switch {
		case low == strings.ToLower(string(k.name)), low == strings.ToLower(k.typeName):
			return k, nil
		case k.class != "" && low == strings.ToLower(k.class):
			return attributeKind{name: k.name, class: k.class, typeName: k.typeName}, nil
		}
	}
	if low == "enumattributemetadata" || low == "attributemetadata" {
		return attributeKind{}, fmt.Errorf("client: column type %q is abstract and cannot select columns: %w", t, ErrInvalidInput)
	}
	return attributeKind{}, fmt.Errorf("client: unknown column type %q: want a name such as String, Money or Picklist, or a type such as %sMoneyAttributeMetadata: %w",
		t, metadataNamespace, ErrInvalidInput)
}

// cast returns the cast path segment for the kind's metadata type, or "".
func (k attributeKind) cast() string {
	if k.class == "" {
		return ""
	}
	return metadataNamespace + k.class
}

// filter returns the $filter that a cast needs to select only this kind, or "".
func (k attributeKind) filter() string {
	if k.code == "" || (k.class != "" && !k.shared) {
		return ""
	}
	return "AttributeType eq " + metadataNamespace + "AttributeTypeCode'" + k.code + "'"
}

// MetadataType returns the full metadata type of the kind, the name a cast and @odata.type use, such
// as Microsoft.Dynamics.CRM.MoneyAttributeMetadata for Money. Virtual and CalendarRules have none of
// their own, and an unknown name is an error; both wrap ErrInvalidInput.
func (t AttributeType) MetadataType() (string, error) {
	k, err := lookupAttributeKind(t)
	if err != nil {
		return "", err
	}
	if k.class == "" {
		return "", fmt.Errorf("client: column type %s has no metadata type of its own: %w", k.name, ErrInvalidInput)
	}
	return k.cast(), nil
}

// attributeSelection renders a column type as the cast segment and $filter of a listing.
func attributeSelection(t AttributeType) (cast, filter string, err error) {
	if t == "" {
		return "", "", nil
	}
	k, err := lookupAttributeKind(t)
	if err != nil {
		return "", "", err
	}
	return k.cast(), k.filter(), nil
}

// andFilter joins two $filter expressions.
func andFilter(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return "(" + a + ") and (" + b + ")"
}
