package client

import (
	"fmt"
	"strings"
)

// Optional is a value that may be absent, for settings where the zero value means something (a
// MinValue of 0, a Precision of 0). The zero Optional is absent; Some makes a present one.
type Optional[T any] struct {
	Value T
	Set   bool
}

// Some returns a present Optional holding v.
func Some[T any](v T) Optional[T] { return Optional[T]{Value: v, Set: true} }

// ChoiceOption is one option of a choice (Picklist or MultiSelectPicklist) column.
type ChoiceOption struct {
	// Value is the number stored in rows. Custom options usually start at the publisher's option
	// value prefix times 10,000 (727000000 for prefix 72700).
	Value int
	// Label is the option's text; Description is optional.
	Label       string
	Description string
	// Color is an optional colour such as #0000ff.
	Color string
}

// AttributeSpec builds a column definition for CreateAttribute (and UpdateAttribute), so that the
// details Dataverse insists on come out right: @odata.type without '#', AttributeType,
// AttributeTypeName, labels with their types, RequiredLevel as a managed property, and the
// type-specific properties of each kind. Settings that do not apply to Type are refused rather than
// silently dropped.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-update-column-definitions-using-web-api
type AttributeSpec struct {
	// Type is the kind of column. CreateAttribute takes String, Memo, Integer, BigInt, Decimal,
	// Double, Money, Boolean, DateTime, Picklist, MultiSelectPicklist, File and Image; lookups are
	// made by creating a relationship.
	Type AttributeType
	// SchemaName is the name with the publisher prefix, such as new_Balance; the logical name is its
	// lower-case form.
	SchemaName string
	// DisplayName and Description become labels in LanguageCode (0: DefaultLanguageCode).
	DisplayName  string
	Description  string
	LanguageCode int
	// RequiredLevel is None (the default), Recommended or ApplicationRequired.
	RequiredLevel string
	// IsPrimaryName marks the primary name column of a new table (EntitySpec sets it).
	IsPrimaryName bool

	// MaxLength is the length of String (default 100) and Memo (default 2000) columns.
	MaxLength int
	// Format is the FormatName of a String column (Text, Email, Url, Phone, TextArea, ...; default
	// Text), the Format of a Memo column (TextArea, ...), an Integer column (None, Duration,
	// TimeZone, Language, Locale) or a DateTime column (DateOnly or DateAndTime, the default).
	Format string
	// DateTimeBehavior is the DateTimeBehavior of a DateTime column: UserLocal, DateOnly or
	// TimeZoneIndependent.
	DateTimeBehavior string
	// MinValue, MaxValue and Precision bound Integer, BigInt, Decimal, Double and Money columns
	// (Precision: Decimal, Double and Money only).
	MinValue  Optional[float64]
	MaxValue  Optional[float64]
	Precision Optional[int]
	// PrecisionSource says where a Money column takes its precision: 0 Precision, 1 the
	// organisation's pricing decimal precision, 2 the currency's precision.
	PrecisionSource Optional[int]
	// Options are the options of a Picklist or MultiSelectPicklist column with a local option set.
	Options []ChoiceOption
	// GlobalOptionSet binds a Picklist or MultiSelectPicklist column to an existing global choice by
	// name instead of Options.
	GlobalOptionSet string
	// TrueLabel and FalseLabel label the options of a Boolean column (default Yes and No);
	// DefaultValue is its default.
	TrueLabel    string
	FalseLabel   string
	DefaultValue bool
	// MaxSizeInKB bounds File and Image columns.
	MaxSizeInKB int

	// Extra holds further properties, written over the rendered ones, such as
	// {"IsAuditEnabled": {"Value": true}} or, for updates, the MetadataId.
	Extra Record
}

// Which kinds take which settings.
var (
	createKinds = map[AttributeType]bool{
		AttributeTypeString: true, AttributeTypeMemo: true, AttributeTypeInteger: true, AttributeTypeBigInt: true,
		AttributeTypeDecimal: true, AttributeTypeDouble: true, AttributeTypeMoney: true, AttributeTypeBoolean: true,
		AttributeTypeDateTime: true, AttributeTypePicklist: true, AttributeTypeMultiSelectPicklist: true,
		AttributeTypeFile: true, AttributeTypeImage: true,
	}
	numericKinds = map[AttributeType]bool{
		AttributeTypeInteger: true, AttributeTypeBigInt: true, AttributeTypeDecimal: true,
		AttributeTypeDouble: true, AttributeTypeMoney: true,
	}
	precisionKinds = map[AttributeType]bool{AttributeTypeDecimal: true, AttributeTypeDouble: true, AttributeTypeMoney: true}
	formatKinds    = map[AttributeType]bool{
		AttributeTypeString: true, AttributeTypeMemo: true, AttributeTypeInteger: true, AttributeTypeDateTime: true,
	}
	choiceKinds = map[AttributeType]bool{AttributeTypePicklist: true, AttributeTypeMultiSelectPicklist: true}
	fileKinds   = map[AttributeType]bool{AttributeTypeFile: true, AttributeTypeImage: true}
)

var requiredLevels = map[string]string{
	"none": "None", "recommended": "Recommended", "applicationrequired": "ApplicationRequired", "systemrequired": "SystemRequired",
}

func (s AttributeSpec) definition() (Record, error) { return (&s).render() }

func (s *AttributeSpec) render() (Record, error) {
	if s.SchemaName == "" {
		return nil, s.invalid("SchemaName is required")
	}
	if err := checkName("schema name", s.SchemaName); err != nil {
		return nil, err
	}
	k, err := lookupAttributeKind(s.Type)
	if err != nil {
		return nil, err
	}
	if err := s.checkSettings(k.name); err != nil {
		return nil, err
	}
	level, err := s.requiredLevel()
	if err != nil {
		return nil, err
	}

	out := Record{
		"@odata.type":       k.cast(),
		"AttributeType":     k.code,
		"AttributeTypeName": Record{"Value": k.typeName},
		"SchemaName":        s.SchemaName,
		"RequiredLevel": Record{
			"Value":                      level,
			"CanBeChanged":               true,
			"ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings",
		},
	}
	if s.DisplayName != "" {
		out["DisplayName"] = Label(s.DisplayName, s.LanguageCode)
	}
	if s.Description != "" {
		out["Description"] = Label(s.Description, s.LanguageCode)
	}
	if s.IsPrimaryName {
		out["IsPrimaryName"] = true
	}
	if err := s.setTypeProperties(out, k.name); err != nil {
		return nil, err
	}
	s.setNumericProperties(out)
	for k, v := range s.Extra {
		out[k] = v
	}
	return out, nil
}

// invalid is the error of a spec that cannot be rendered.
func (s *AttributeSpec) invalid(format string, args ...any) error {
	return fmt.Errorf("client: column %s: %s: %w", s.SchemaName, fmt.Sprintf(format, args...), ErrInvalidInput)
}

// checkSettings refuses the settings that do not apply to type t rather than dropping them, so
// that a mistaken spec fails here and not as a column that silently differs from it.
func (s *AttributeSpec) checkSettings(t AttributeType) error {
	if !createKinds[t] {
		return s.invalid("type %s cannot be created as a column (lookups come from relationships)", t)
	}
	switch {
	case s.MaxLength != 0 && t != AttributeTypeString && t != AttributeTypeMemo:
		return s.invalid("MaxLength applies to String and Memo columns, not %s", t)
	case s.Format != "" && !formatKinds[t]:
		return s.invalid("Format applies to String, Memo, Integer and DateTime columns, not %s", t)
	case s.DateTimeBehavior != "" && t != AttributeTypeDateTime:
		return s.invalid("DateTimeBehavior applies to DateTime columns, not %s", t)
	case (s.MinValue.Set || s.MaxValue.Set) && !numericKinds[t]:
		return s.invalid("MinValue and MaxValue apply to numeric columns, not %s", t)
	case s.Precision.Set && !precisionKinds[t]:
		return s.invalid("Precision applies to Decimal, Double and Money columns, not %s", t)
	case s.PrecisionSource.Set && t != AttributeTypeMoney:
		return s.invalid("PrecisionSource applies to Money columns, not %s", t)
	case (len(s.Options) > 0 || s.GlobalOptionSet != "") && !choiceKinds[t]:
		return s.invalid("Options and GlobalOptionSet apply to Picklist and MultiSelectPicklist columns, not %s", t)
	case len(s.Options) > 0 && s.GlobalOptionSet != "":
		return s.invalid("give Options or GlobalOptionSet, not both")
	case choiceKinds[t] && len(s.Options) == 0 && s.GlobalOptionSet == "":
		return s.invalid("a %s column needs Options or GlobalOptionSet", t)
	case (s.TrueLabel != "" || s.FalseLabel != "" || s.DefaultValue) && t != AttributeTypeBoolean:
		return s.invalid("TrueLabel, FalseLabel and DefaultValue apply to Boolean columns, not %s", t)
	case s.MaxSizeInKB != 0 && !fileKinds[t]:
		return s.invalid("MaxSizeInKB applies to File and Image columns, not %s", t)
	case s.MaxLength < 0 || s.MaxSizeInKB < 0:
		return s.invalid("negative size")
	}
	return nil
}

// requiredLevel takes RequiredLevel in any case and spells it the way Dataverse does.
func (s *AttributeSpec) requiredLevel() (string, error) {
	if s.RequiredLevel == "" {
		return "None", nil
	}
	l, ok := requiredLevels[strings.ToLower(s.RequiredLevel)]
	if !ok {
		return "", s.invalid("RequiredLevel %q: want None, Recommended or ApplicationRequired", s.RequiredLevel)
	}
	return l, nil
}

// setTypeProperties writes the properties of column type t, with Dataverse's defaults for the
// settings left out.
func (s *AttributeSpec) setTypeProperties(out Record, t AttributeType) error {
	switch t {
	case AttributeTypeString:
		out["MaxLength"] = valueOr(s.MaxLength, 100)
		out["FormatName"] = Record{"Value": valueOr(s.Format, "Text")}
	case AttributeTypeMemo:
		out["MaxLength"] = valueOr(s.MaxLength, 2000)
		out["Format"] = valueOr(s.Format, "TextArea")
	case AttributeTypeInteger:
		out["Format"] = valueOr(s.Format, "None")
	case AttributeTypeDateTime:
		out["Format"] = valueOr(s.Format, "DateAndTime")
		if s.DateTimeBehavior != "" {
			out["DateTimeBehavior"] = Record{"Value": s.DateTimeBehavior}
		}
	case AttributeTypeBoolean:
		out["DefaultValue"] = s.DefaultValue
		out["OptionSet"] = Record{
			"@odata.type":   metadataNamespace + "BooleanOptionSetMetadata",
			"TrueOption":    Record{"Value": 1, "Label": Label(valueOr(s.TrueLabel, "Yes"), s.LanguageCode)},
			"FalseOption":   Record{"Value": 0, "Label": Label(valueOr(s.FalseLabel, "No"), s.LanguageCode)},
			"OptionSetType": "Boolean",
		}
	case AttributeTypePicklist, AttributeTypeMultiSelectPicklist:
		return s.setChoiceProperties(out)
	case AttributeTypeFile, AttributeTypeImage:
		if s.MaxSizeInKB != 0 {
			out["MaxSizeInKB"] = s.MaxSizeInKB
		}
	}
	return nil
}

// setChoiceProperties binds a choice column to its global option set, or writes its local one.
func (s *AttributeSpec) setChoiceProperties(out Record) error {
	if s.GlobalOptionSet != "" {
		if err := checkName("global option set", s.GlobalOptionSet); err != nil {
			return err
		}
		out["GlobalOptionSet@odata.bind"] = "/GlobalOptionSetDefinitions(Name=" + quoteKeyString(s.GlobalOptionSet) + ")"
		return nil
	}
	seen := map[int]bool{}
	opts := make([]any, 0, len(s.Options))
	for _, o := range s.Options {
		if seen[o.Value] {
			return s.invalid("option value %d given twice", o.Value)
		}
		seen[o.Value] = true
		opt := Record{"Value": o.Value, "Label": Label(o.Label, s.LanguageCode)}
		if o.Description != "" {
			opt["Description"] = Label(o.Description, s.LanguageCode)
		}
		if o.Color != "" {
			opt["Color"] = o.Color
		}
		opts = append(opts, opt)
	}
	out["OptionSet"] = Record{
		"@odata.type":   metadataNamespace + "OptionSetMetadata",
		"IsGlobal":      false,
		"OptionSetType": "Picklist",
		"Options":       opts,
	}
	return nil
}

// setNumericProperties writes the bounds and precision that were given; checkSettings has made
// sure they apply.
func (s *AttributeSpec) setNumericProperties(out Record) {
	if s.MinValue.Set {
		out["MinValue"] = s.MinValue.Value
	}
	if s.MaxValue.Set {
		out["MaxValue"] = s.MaxValue.Value
	}
	if s.Precision.Set {
		out["Precision"] = s.Precision.Value
	}
	if s.PrecisionSource.Set {
		out["PrecisionSource"] = s.PrecisionSource.Value
	}
}

func valueOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// EntitySpec builds a table definition for CreateEntity: EntityMetadata with its labels, ownership
// and the primary name column Dataverse requires. Dataverse derives the rest: the logical name
// (SchemaName lower-cased), the entity set name, the primary key column (<logicalname>id) and the
// type code.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/create-update-entity-definitions-using-web-api
type EntitySpec struct {
	// SchemaName is the name with the publisher prefix, such as new_BankAccount.
	SchemaName string
	// DisplayName and DisplayCollectionName (the plural) are required; Description is optional. They
	// become labels in LanguageCode (0: DefaultLanguageCode).
	DisplayName           string
	DisplayCollectionName string
	Description           string
	LanguageCode          int
	// OwnershipType is UserOwned (the default) or OrganizationOwned.
	OwnershipType string
	// IsActivity makes an activity table; HasActivities and HasNotes enable activities and notes.
	IsActivity    bool
	HasActivities bool
	HasNotes      bool
	// PrimaryName is the primary name column. Its Type defaults to String, the only type allowed,
	// and its LanguageCode to the table's.
	PrimaryName AttributeSpec
	// Extra holds further EntityMetadata properties, written over the rendered ones.
	Extra Record
}

func (s EntitySpec) definition() (Record, error) {
	bad := func(msg string) (Record, error) {
		return nil, fmt.Errorf("client: table %s: %s: %w", s.SchemaName, msg, ErrInvalidInput)
	}
	if s.SchemaName == "" {
		return bad("SchemaName is required")
	}
	if err := checkName("schema name", s.SchemaName); err != nil {
		return nil, err
	}
	if s.DisplayName == "" || s.DisplayCollectionName == "" {
		return bad("DisplayName and DisplayCollectionName are required")
	}
	ownership := valueOr(s.OwnershipType, "UserOwned")
	if ownership != "UserOwned" && ownership != "OrganizationOwned" {
		return bad("OwnershipType " + ownership + ": want UserOwned or OrganizationOwned")
	}
	primary := s.PrimaryName
	primary.Type = valueOr(primary.Type, AttributeTypeString)
	primary.LanguageCode = valueOr(primary.LanguageCode, s.LanguageCode)
	primary.IsPrimaryName = true
	if k, err := lookupAttributeKind(primary.Type); err != nil || k.name != AttributeTypeString {
		return bad("the primary name column must be a String column")
	}
	col, err := primary.render()
	if err != nil {
		return nil, err
	}
	out := Record{
		"@odata.type":           metadataNamespace + "EntityMetadata",
		"SchemaName":            s.SchemaName,
		"DisplayName":           Label(s.DisplayName, s.LanguageCode),
		"DisplayCollectionName": Label(s.DisplayCollectionName, s.LanguageCode),
		"OwnershipType":         ownership,
		"IsActivity":            s.IsActivity,
		"HasActivities":         s.HasActivities,
		"HasNotes":              s.HasNotes,
		"Attributes":            []any{col},
	}
	if s.Description != "" {
		out["Description"] = Label(s.Description, s.LanguageCode)
	}
	for k, v := range s.Extra {
		out[k] = v
	}
	return out, nil
}
