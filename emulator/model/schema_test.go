package model

import (
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestEdmType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		attr Attribute
		want string
	}{
		{Attribute{Type: TypeMemo}, "Edm.String"},
		{Attribute{Type: TypeStatus}, "Edm.Int32"},
		{Attribute{Type: TypeBigInt}, "Edm.Int64"},
		{Attribute{Type: TypeMoney}, "Edm.Decimal"},
		{Attribute{Type: TypeDouble}, "Edm.Double"},
		{Attribute{Type: TypeBoolean}, "Edm.Boolean"},
		{Attribute{Type: TypeDateTime, Format: "DateOnly"}, "Edm.Date"},
		{Attribute{Type: TypeDateTime, Format: "DateAndTime"}, "Edm.DateTimeOffset"},
		{Attribute{Type: TypeOwner}, "Edm.Guid"},
		{Attribute{Type: TypeMultiSelect}, "Edm.String"},
	}
	for _, tt := range tests {
		if got := tt.attr.EdmType(); got != tt.want {
			t.Errorf("EdmType(%s %s) = %s, want %s", tt.attr.Type, tt.attr.Format, got, tt.want)
		}
	}
}

func TestDateValue(t *testing.T) {
	t.Parallel()
	in := time.Date(2024, 1, 31, 23, 30, 0, 0, time.FixedZone("x", -3600))
	if got := (&Attribute{Format: "DateOnly"}).DateValue(in); !got.Equal(day(2024, 2, 1)) {
		t.Errorf("date-only: %v", got)
	}
	if got := (&Attribute{}).DateValue(in); !got.Equal(at(2024, 2, 1, 0, 30)) || got.Location() != time.UTC {
		t.Errorf("date and time: %v", got)
	}
}

// A DateTime column's wire kind follows its behaviour: Format DateOnly with UserLocal behaviour
// (how Dataverse describes opportunity.estimatedclosedate) still travels with a time.
func TestParseAttributeDateKindFollowsBehavior(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		doc  string
		want string
	}{
		{`"Format": "DateOnly", "DateTimeBehavior": {"Value": "UserLocal"}`, "Edm.DateTimeOffset"},
		{`"Format": "DateOnly", "DateTimeBehavior": {"Value": "DateOnly"}`, "Edm.Date"},
		{`"Format": "DateAndTime", "DateTimeBehavior": {"Value": "TimeZoneIndependent"}`, "Edm.DateTimeOffset"},
		{`"Format": "DateOnly"`, "Edm.Date"},
		{`"DateTimeBehavior": {"Value": "DateOnly"}`, "Edm.Date"},
	} {
		a, err := ParseAttribute([]byte(`{"LogicalName": "d", "AttributeType": "DateTime", ` + tt.doc + `}`))
		if err != nil {
			t.Fatal(err)
		}
		if got := a.EdmType(); got != tt.want {
			t.Errorf("%s: EdmType = %s, want %s", tt.doc, got, tt.want)
		}
	}
}

// Columns rebuilt from their pack are the columns parsed from their documents.
func TestAttributePackRoundTrip(t *testing.T) {
	t.Parallel()
	docs := []string{
		`{"LogicalName": "statuscode", "SchemaName": "StatusCode", "MetadataId": "1", "AttributeType": "Status", "AttributeTypeName": {"Value": "StatusType"},
		  "OptionSet": {"Options": [{"Value": 1, "Label": {"UserLocalizedLabel": {"Label": "Active"}}, "State": 0}, {"Value": 2, "Label": {"UserLocalizedLabel": {"Label": "Inactive"}}, "State": 1}]},
		  "IsValidForCreate": false, "RequiredLevel": {"Value": "SystemRequired"}}`,
		`{"LogicalName": "donotemail", "AttributeType": "Boolean", "DefaultValue": true, "OptionSet": {"TrueOption": {"Value": 1, "Label": {"UserLocalizedLabel": {"Label": "Do Not Allow"}}}}}`,
		`{"LogicalName": "revenue", "AttributeType": "Money", "MinValue": -922337203685477, "MaxValue": 922337203685477, "Precision": 4, "IsValidForRead": false}`,
		`{"LogicalName": "parentcustomerid", "AttributeType": "Customer", "Targets": ["account", "contact"], "AttributeOf": "", "IsCustomAttribute": true}`,
		`{"LogicalName": "estimatedclosedate", "AttributeType": "DateTime", "Format": "DateOnly", "DateTimeBehavior": {"Value": "UserLocal"}}`,
		`{"LogicalName": "fullname", "AttributeType": "String", "AttributeOf": "", "MaxLength": 160, "FormatName": {"Value": "Text"}}`,
		`{"LogicalName": "creditonhold", "AttributeType": "Boolean", "DefaultValue": false}`,
	}
	var parsed []*Attribute
	for _, doc := range docs {
		a, err := ParseAttribute([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, a)
	}
	packed, err := PackAttributes(parsed)
	if err != nil {
		t.Fatal(err)
	}
	back, err := UnpackAttributes(packed)
	if err != nil {
		t.Fatal(err)
	}
	if len(back) != len(parsed) {
		t.Fatalf("%d columns back, want %d", len(back), len(parsed))
	}
	for i, a := range parsed {
		b := back[i]
		if string(b.Doc()) != docs[i] {
			t.Errorf("%s: document %s", a.LogicalName, b.Doc())
		}
		if diff := cmp.Diff(*a, *b, cmpopts.IgnoreUnexported(Attribute{})); diff != "" {
			t.Errorf("%s (-parsed +unpacked):\n%s", a.LogicalName, diff)
		}
		if !a.Equal(b) {
			t.Errorf("%s: Equal says the unpacked column differs", a.LogicalName)
		}
		// The names a read writes are made once, for unpacked columns too: a lookup's
		// _x_value property was made again, one string, for every row read.
		for _, c := range []*Attribute{a, b} {
			if got, want := c.ReadMember(), readMember(c); got != want {
				t.Errorf("%s: ReadMember = %s, want %s", c.LogicalName, got, want)
			}
			if got, want := c.ReadMemberNull(), readMember(c)+"null"; got != want {
				t.Errorf("%s: ReadMemberNull = %s, want %s", c.LogicalName, got, want)
			}
			same := func(f func() string) bool {
				first := f()
				return unsafe.StringData(first) == unsafe.StringData(f())
			}
			if !same(c.ReadMember) || !same(c.ReadMemberNull) || c.IsLookup() && !same(c.LookupProperty) {
				t.Errorf("%s: its names are made again on every call", c.LogicalName)
			}
		}
	}
	if got := parsed[3].ReadMemberNull(); got != `"_parentcustomerid_value":null` {
		t.Errorf("a lookup's member is %s", got)
	}
	if got := parsed[5].ReadMember(); got != `"fullname":` {
		t.Errorf("a string's member is %s", got)
	}
	if _, err := UnpackAttributes([]byte("not a pack")); err == nil {
		t.Error("a damaged pack unpacked")
	}
}

// A pack cut short anywhere is an error, never a panic.
func TestUnpackCutShort(t *testing.T) {
	t.Parallel()
	a, err := ParseAttribute([]byte(`{"LogicalName": "prioritycode", "AttributeType": "Picklist", "Targets": ["x"],
		"OptionSet": {"Options": [{"Value": 1, "Label": {"UserLocalizedLabel": {"Label": "High"}}}]}}`))
	if err != nil {
		t.Fatal(err)
	}
	packed, err := PackAttributes([]*Attribute{a, a})
	if err != nil {
		t.Fatal(err)
	}
	for n := 0; n < len(packed); n++ {
		cols, err := UnpackAttributes(packed[:n])
		if err == nil {
			// Only the compressed documents may be cut without the facts noticing; the document
			// then reads as nil rather than garbage.
			for _, c := range cols {
				if d := c.Doc(); d != nil && string(d) != string(a.Doc()) {
					t.Errorf("cut at %d: document %q", n, d)
				}
			}
		}
	}
}
