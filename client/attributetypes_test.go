package client

import (
	"errors"
	"testing"
)

func TestAttributeSelection(t *testing.T) {
	t.Parallel()
	const ns = "Microsoft.Dynamics.CRM."
	tests := []struct {
		name       string
		typ        AttributeType
		wantCast   string
		wantFilter string
		wantErr    bool
	}{
		{name: "none", typ: ""},
		{name: "money", typ: "Money", wantCast: ns + "MoneyAttributeMetadata"},
		{name: "lower case", typ: "string", wantCast: ns + "StringAttributeMetadata"},
		{name: "picklist", typ: AttributeTypePicklist, wantCast: ns + "PicklistAttributeMetadata"},
		{name: "alias choice", typ: "Choice", wantCast: ns + "PicklistAttributeMetadata"},
		{name: "alias with a space", typ: "Whole Number", wantCast: ns + "IntegerAttributeMetadata"},
		{name: "alias currency", typ: "currency", wantCast: ns + "MoneyAttributeMetadata"},
		{name: "multi-select is virtual with a class of its own", typ: "MultiSelectPicklist", wantCast: ns + "MultiSelectPicklistAttributeMetadata"},
		{name: "type name", typ: "MultiSelectPicklistType", wantCast: ns + "MultiSelectPicklistAttributeMetadata"},
		{name: "uniqueidentifier", typ: "UniqueIdentifier", wantCast: ns + "UniqueIdentifierAttributeMetadata"},
		{name: "lookup shares its class", typ: "Lookup", wantCast: ns + "LookupAttributeMetadata",
			wantFilter: "AttributeType eq Microsoft.Dynamics.CRM.AttributeTypeCode'Lookup'"},
		{name: "customer", typ: "Customer", wantCast: ns + "LookupAttributeMetadata",
			wantFilter: "AttributeType eq Microsoft.Dynamics.CRM.AttributeTypeCode'Customer'"},
		{name: "owner", typ: "owner", wantCast: ns + "LookupAttributeMetadata",
			wantFilter: "AttributeType eq Microsoft.Dynamics.CRM.AttributeTypeCode'Owner'"},
		{name: "virtual has no class", typ: "Virtual", wantFilter: "AttributeType eq Microsoft.Dynamics.CRM.AttributeTypeCode'Virtual'"},
		{name: "calendar rules", typ: "CalendarRules", wantFilter: "AttributeType eq Microsoft.Dynamics.CRM.AttributeTypeCode'CalendarRules'"},
		{name: "full class takes every column of it", typ: ns + "LookupAttributeMetadata", wantCast: ns + "LookupAttributeMetadata"},
		{name: "class with hash", typ: "#" + ns + "MoneyAttributeMetadata", wantCast: ns + "MoneyAttributeMetadata"},
		{name: "short class", typ: "BooleanAttributeMetadata", wantCast: ns + "BooleanAttributeMetadata"},
		{name: "abstract enum", typ: "EnumAttributeMetadata", wantErr: true},
		{name: "unknown", typ: "Currencies", wantErr: true},
		{name: "path injection", typ: "String/../../accounts", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cast, filter, err := attributeSelection(tt.typ)
			if tt.wantErr {
				if !errors.Is(err, ErrInvalidInput) {
					t.Errorf("error = %v, want ErrInvalidInput", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cast != tt.wantCast || filter != tt.wantFilter {
				t.Errorf("cast, filter = %q, %q; want %q, %q", cast, filter, tt.wantCast, tt.wantFilter)
			}
		})
	}
}

func TestAttributeTypeMetadataType(t *testing.T) {
	t.Parallel()
	for _, k := range attributeKinds {
		got, err := k.name.MetadataType()
		if k.class == "" {
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("%s: error = %v, want ErrInvalidInput", k.name, err)
			}
			continue
		}
		if err != nil || got != metadataNamespace+k.class {
			t.Errorf("%s: MetadataType = %q, %v; want %s", k.name, got, err, metadataNamespace+k.class)
		}
	}
}

func TestCastOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
		wantErr  bool
	}{
		{in: "", want: ""},
		{in: "#Microsoft.Dynamics.CRM.BooleanAttributeMetadata", want: "Microsoft.Dynamics.CRM.BooleanAttributeMetadata"},
		{in: "Microsoft.Dynamics.CRM.AttributeMetadata", want: ""},
		{in: "Microsoft.Dynamics.CRM.FutureAttributeMetadata", want: "Microsoft.Dynamics.CRM.FutureAttributeMetadata"},
		{in: "Money", want: "Microsoft.Dynamics.CRM.MoneyAttributeMetadata"},
		{in: "Virtual", wantErr: true},
		{in: "Microsoft.Dynamics.CRM.EntityMetadata", wantErr: true},
	}
	for _, tt := range tests {
		got, err := castOf(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("castOf(%q) = %q, %v; want %q (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}
