package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

const (
	listSelect   = "$select=LogicalName,DisplayName,AttributeType,Description,IsCustomAttribute,IsPrimaryId,IsPrimaryName,RequiredLevel,IsValidForRead,IsValidForCreate,IsValidForUpdate"
	byLogical    = metaAPI + "EntityDefinitions(LogicalName='account')"
	setNameQuery = "GET " + metaAPI + "EntityDefinitions?$select=LogicalName,EntitySetName&$filter=EntitySetName%20eq%20'accounts'"
)

func TestListAttributes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		entity     string
		opts       *ListAttributesOptions
		wantReqs   []string
		wantNames  []string
		wantByType map[string]int
		wantCustom int
		wantID     string
		wantName   string
		wantErr    error
	}{
		{
			name:       "every column, sorted",
			entity:     "account",
			wantReqs:   []string{"GET " + byLogical + "/Attributes?" + listSelect},
			wantNames:  []string{"accountid", "name", "new_balance", "ownerid", "primarycontactid", "revenue", "versionnumber"},
			wantByType: map[string]int{"Uniqueidentifier": 1, "String": 1, "Money": 2, "Owner": 1, "Lookup": 1, "BigInt": 1},
			wantCustom: 1, wantID: "accountid", wantName: "name",
		},
		{
			name:       "money by friendly name is a cast",
			entity:     "account",
			opts:       &ListAttributesOptions{Type: "Money"},
			wantReqs:   []string{"GET " + byLogical + "/Attributes/Microsoft.Dynamics.CRM.MoneyAttributeMetadata?" + listSelect},
			wantNames:  []string{"new_balance", "revenue"},
			wantByType: map[string]int{"Money": 2},
			wantCustom: 1,
		},
		{
			name:       "lookup is a cast and a filter, so owners stay out",
			entity:     accountMetaID,
			opts:       &ListAttributesOptions{Type: "lookup"},
			wantReqs:   []string{"GET " + metaAPI + "EntityDefinitions(" + accountMetaID + ")/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata?" + listSelect + "&$filter=AttributeType%20eq%20Microsoft.Dynamics.CRM.AttributeTypeCode'Lookup'"},
			wantNames:  []string{"primarycontactid"},
			wantByType: map[string]int{"Lookup": 1},
		},
		{
			name:       "the lookup class takes owners too",
			entity:     "account",
			opts:       &ListAttributesOptions{Type: "Microsoft.Dynamics.CRM.LookupAttributeMetadata"},
			wantReqs:   []string{"GET " + byLogical + "/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata?" + listSelect},
			wantNames:  []string{"ownerid", "primarycontactid"},
			wantByType: map[string]int{"Lookup": 1, "Owner": 1},
		},
		{
			name:   "set name, details, labeled only",
			entity: "accounts",
			opts:   &ListAttributesOptions{Details: true, LabeledOnly: true},
			wantReqs: []string{
				"GET " + metaAPI + "EntityDefinitions(LogicalName='accounts')/Attributes?" + listSelect + ",SchemaName,IsSecured,IsAuditEnabled,IsValidForAdvancedFind",
				setNameQuery,
				"GET " + metaAPI + "EntityDefinitions(" + accountMetaID + ")/Attributes?" + listSelect + ",SchemaName,IsSecured,IsAuditEnabled,IsValidForAdvancedFind",
			},
			wantNames:  []string{"accountid", "name", "new_balance", "ownerid", "primarycontactid", "revenue"},
			wantByType: map[string]int{"Uniqueidentifier": 1, "String": 1, "Money": 2, "Owner": 1, "Lookup": 1, "BigInt": 1},
			wantCustom: 1, wantID: "accountid", wantName: "name",
		},
		{
			name:    "unknown type is refused before sending",
			entity:  "account",
			opts:    &ListAttributesOptions{Type: "Currencies"},
			wantErr: ErrInvalidInput,
		},
		{
			name:     "unknown table",
			entity:   "nosuchtable",
			wantReqs: []string{"GET " + metaAPI + "EntityDefinitions(LogicalName='nosuchtable')/Attributes?" + listSelect, "GET " + metaAPI + "EntityDefinitions?$select=LogicalName,EntitySetName&$filter=EntitySetName%20eq%20'nosuchtable'"},
			wantErr:  ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, c := newMetadataFake(t)
			got, _, err := c.ListAttributes(context.Background(), tt.entity, tt.opts)
			if diff := cmp.Diff(tt.wantReqs, metaRequestLines(f.requests()), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, a := range got.Attributes {
				names = append(names, a.LogicalName)
			}
			if diff := cmp.Diff(tt.wantNames, names); diff != "" {
				t.Errorf("columns (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantByType, got.ByType); diff != "" {
				t.Errorf("ByType (-want +got):\n%s", diff)
			}
			total := 0
			for _, n := range tt.wantByType {
				total += n
			}
			if got.TotalCount != total || got.CustomCount != tt.wantCustom || got.SystemCount != total-tt.wantCustom {
				t.Errorf("counts = %d/%d/%d, want %d/%d/%d", got.TotalCount, got.CustomCount, got.SystemCount, total, tt.wantCustom, total-tt.wantCustom)
			}
			if got.PrimaryIDAttribute != tt.wantID || got.PrimaryNameAttribute != tt.wantName || got.EntityLogicalName != "account" {
				t.Errorf("primary = %q/%q of %q, want %q/%q of account", got.PrimaryIDAttribute, got.PrimaryNameAttribute, got.EntityLogicalName, tt.wantID, tt.wantName)
			}
		})
	}
}

func TestListAttributesTypedFields(t *testing.T) {
	t.Parallel()
	_, c := newMetadataFake(t)
	got, _, err := c.ListAttributes(context.Background(), "account", &ListAttributesOptions{Type: "String"})
	if err != nil {
		t.Fatal(err)
	}
	want := AttributeDefinition{
		MetadataID: nameColumnID, LogicalName: "name", SchemaName: "name", EntityLogicalName: "account",
		ODataType: "Microsoft.Dynamics.CRM.StringAttributeMetadata", AttributeType: "String", AttributeTypeName: "StringType",
		DisplayName: "Account Name", RequiredLevel: "None", IsPrimaryName: true, IsValidForRead: true,
		IsValidForCreate: true, IsValidForUpdate: true, IsAuditEnabled: true, IsValidForAdvancedFind: true,
	}
	if len(got.Attributes) != 1 {
		t.Fatalf("%d columns, want 1", len(got.Attributes))
	}
	if diff := cmp.Diff(want, got.Attributes[0], cmpopts.IgnoreFields(AttributeDefinition{}, "Raw")); diff != "" {
		t.Errorf("column (-want +got):\n%s", diff)
	}
	if got.Attributes[0].Raw["MaxLength"] != json.Number("160") {
		t.Errorf("Raw MaxLength = %v, want 160", got.Attributes[0].Raw["MaxLength"])
	}
}

func TestQueryAttributes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		entity    string
		opts      *QueryAttributesOptions
		wantReq   string
		wantNames []string
		wantErr   error
	}{
		{
			name:      "no options",
			entity:    "contact",
			wantReq:   "GET " + metaAPI + "EntityDefinitions(LogicalName='contact')/Attributes",
			wantNames: []string{"contactid", "fullname", "parentcustomerid"},
		},
		{
			name:   "picklist cast with select and expand",
			entity: "account",
			opts: &QueryAttributesOptions{Type: "Picklist", Select: []string{"LogicalName"},
				Expand: []Expand{{Property: "OptionSet"}, {Property: "GlobalOptionSet", Select: []string{"Options"}}}},
			wantReq: "GET " + byLogical + "/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet,GlobalOptionSet($select=Options)",
		},
		{
			name:      "customer filter combined with the caller's",
			entity:    "contact",
			opts:      &QueryAttributesOptions{Type: "Customer", Select: []string{"LogicalName", "Targets"}, Filter: "IsCustomAttribute eq false"},
			wantReq:   "GET " + metaAPI + "EntityDefinitions(LogicalName='contact')/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata?$select=LogicalName,Targets&$filter=(AttributeType%20eq%20Microsoft.Dynamics.CRM.AttributeTypeCode'Customer')%20and%20(IsCustomAttribute%20eq%20false)",
			wantNames: []string{"parentcustomerid"},
		},
		{
			name:      "filter with quotes and an enum literal",
			entity:    "account",
			opts:      &QueryAttributesOptions{Filter: "RequiredLevel/Value eq Microsoft.Dynamics.CRM.AttributeRequiredLevel'None' and LogicalName eq 'new_balance'"},
			wantReq:   "GET " + byLogical + "/Attributes?$filter=RequiredLevel/Value%20eq%20Microsoft.Dynamics.CRM.AttributeRequiredLevel'None'%20and%20LogicalName%20eq%20'new_balance'",
			wantNames: []string{"new_balance"},
		},
		{name: "bad select", entity: "account", opts: &QueryAttributesOptions{Select: []string{"x/y"}}, wantErr: ErrInvalidInput},
		{name: "bad type", entity: "account", opts: &QueryAttributesOptions{Type: "Enum"}, wantErr: ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, c := newMetadataFake(t)
			got, _, err := c.QueryAttributes(context.Background(), tt.entity, tt.opts)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || f.count() != 0 {
					t.Errorf("error = %v after %d requests, want %v before any", err, f.count(), tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{tt.wantReq}, metaRequestLines(f.requests())); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			var names []string
			for _, a := range got {
				names = append(names, a.LogicalName)
			}
			if diff := cmp.Diff(tt.wantNames, names, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("columns (-want +got):\n%s", diff)
			}
		})
	}
}

func TestGetAttribute(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		entity    string
		attribute string
		opts      *GetAttributeOptions
		wantReqs  []string
		wantErr   error
	}{
		{
			name: "by logical names", entity: "account", attribute: "Name",
			wantReqs: []string{"GET " + byLogical + "/Attributes(LogicalName='name')"},
		},
		{
			name: "by ids with a cast and select", entity: accountMetaID, attribute: nameColumnID,
			opts:     &GetAttributeOptions{Type: "String", Select: []string{"LogicalName", "MaxLength"}},
			wantReqs: []string{"GET " + metaAPI + "EntityDefinitions(" + accountMetaID + ")/Attributes(" + nameColumnID + ")/Microsoft.Dynamics.CRM.StringAttributeMetadata?$select=LogicalName,MaxLength"},
		},
		{
			name: "by set name", entity: "accounts", attribute: "LogicalName='name'",
			wantReqs: []string{
				"GET " + metaAPI + "EntityDefinitions(LogicalName='accounts')/Attributes(LogicalName='name')",
				setNameQuery,
				"GET " + metaAPI + "EntityDefinitions(" + accountMetaID + ")/Attributes(LogicalName='name')",
			},
		},
		{
			name: "wrong cast is a 404", entity: "account", attribute: "name", opts: &GetAttributeOptions{Type: "Money"},
			wantReqs: []string{
				"GET " + byLogical + "/Attributes(LogicalName='name')/Microsoft.Dynamics.CRM.MoneyAttributeMetadata",
				"GET " + metaAPI + "EntityDefinitions?$select=LogicalName,EntitySetName&$filter=EntitySetName%20eq%20'account'",
			},
			wantErr: ErrNotFound,
		},
		{name: "virtual cannot be cast", entity: "account", attribute: "name", opts: &GetAttributeOptions{Type: "Virtual"}, wantErr: ErrInvalidInput},
		{name: "bad column", entity: "account", attribute: "na me", wantErr: ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, c := newMetadataFake(t)
			got, _, err := c.GetAttribute(context.Background(), tt.entity, tt.attribute, tt.opts)
			if diff := cmp.Diff(tt.wantReqs, metaRequestLines(f.requests()), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.MetadataID != nameColumnID || got.DisplayName != "Account Name" || !got.IsPrimaryName {
				t.Errorf("got %+v, want the name column", got)
			}
		})
	}
}

func TestAttributeSpecRender(t *testing.T) {
	t.Parallel()
	const ns = "Microsoft.Dynamics.CRM."
	required := func(v string) Record {
		return Record{"Value": v, "CanBeChanged": true, "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings"}
	}
	base := func(class, code, typeName, schema string) Record {
		return Record{"@odata.type": ns + class, "AttributeType": code, "AttributeTypeName": Record{"Value": typeName},
			"SchemaName": schema, "RequiredLevel": required("None")}
	}
	with := func(r Record, kv ...any) Record {
		for i := 0; i+1 < len(kv); i += 2 {
			r[kv[i].(string)] = kv[i+1]
		}
		return r
	}
	tests := []struct {
		name string
		spec AttributeSpec
		want Record
	}{
		{
			name: "money as in the docs",
			spec: AttributeSpec{Type: "Money", SchemaName: "new_Balance", DisplayName: "Balance", Description: "Enter the balance amount", PrecisionSource: Some(2)},
			want: with(base("MoneyAttributeMetadata", "Money", "MoneyType", "new_Balance"),
				"DisplayName", Label("Balance", 0), "Description", Label("Enter the balance amount", 0), "PrecisionSource", 2),
		},
		{
			name: "string defaults",
			spec: AttributeSpec{Type: "String", SchemaName: "new_Code", RequiredLevel: "Recommended"},
			want: with(base("StringAttributeMetadata", "String", "StringType", "new_Code"),
				"MaxLength", 100, "FormatName", Record{"Value": "Text"}, "RequiredLevel", required("Recommended")),
		},
		{
			name: "email string",
			spec: AttributeSpec{Type: "String", SchemaName: "new_Mail", MaxLength: 320, Format: "Email"},
			want: with(base("StringAttributeMetadata", "String", "StringType", "new_Mail"), "MaxLength", 320, "FormatName", Record{"Value": "Email"}),
		},
		{
			name: "memo",
			spec: AttributeSpec{Type: "Memo", SchemaName: "new_Notes"},
			want: with(base("MemoAttributeMetadata", "Memo", "MemoType", "new_Notes"), "MaxLength", 2000, "Format", "TextArea"),
		},
		{
			name: "integer with a zero minimum",
			spec: AttributeSpec{Type: "Integer", SchemaName: "new_Count", MinValue: Some(0.0), MaxValue: Some(1000.0)},
			want: with(base("IntegerAttributeMetadata", "Integer", "IntegerType", "new_Count"), "Format", "None", "MinValue", 0.0, "MaxValue", 1000.0),
		},
		{
			name: "bigint",
			spec: AttributeSpec{Type: "BigInt", SchemaName: "new_Big"},
			want: base("BigIntAttributeMetadata", "BigInt", "BigIntType", "new_Big"),
		},
		{
			name: "decimal with zero precision",
			spec: AttributeSpec{Type: "Decimal", SchemaName: "new_Rate", Precision: Some(0)},
			want: with(base("DecimalAttributeMetadata", "Decimal", "DecimalType", "new_Rate"), "Precision", 0),
		},
		{
			name: "double",
			spec: AttributeSpec{Type: "Float", SchemaName: "new_Ratio", Precision: Some(5)},
			want: with(base("DoubleAttributeMetadata", "Double", "DoubleType", "new_Ratio"), "Precision", 5),
		},
		{
			name: "boolean",
			spec: AttributeSpec{Type: "Boolean", SchemaName: "new_Active", TrueLabel: "Active", DefaultValue: true},
			want: with(base("BooleanAttributeMetadata", "Boolean", "BooleanType", "new_Active"), "DefaultValue", true,
				"OptionSet", Record{"@odata.type": ns + "BooleanOptionSetMetadata", "OptionSetType": "Boolean",
					"TrueOption": Record{"Value": 1, "Label": Label("Active", 0)}, "FalseOption": Record{"Value": 0, "Label": Label("No", 0)}}),
		},
		{
			name: "date only",
			spec: AttributeSpec{Type: "DateTime", SchemaName: "new_Due", Format: "DateOnly", DateTimeBehavior: "DateOnly"},
			want: with(base("DateTimeAttributeMetadata", "DateTime", "DateTimeType", "new_Due"), "Format", "DateOnly", "DateTimeBehavior", Record{"Value": "DateOnly"}),
		},
		{
			name: "date and time by default",
			spec: AttributeSpec{Type: "DateTime", SchemaName: "new_At"},
			want: with(base("DateTimeAttributeMetadata", "DateTime", "DateTimeType", "new_At"), "Format", "DateAndTime"),
		},
		{
			name: "picklist with local options",
			spec: AttributeSpec{Type: "Choice", SchemaName: "new_Colour", LanguageCode: 1031, Options: []ChoiceOption{
				{Value: 727000000, Label: "Rot", Color: "#ff0000"}, {Value: 727000001, Label: "Blau", Description: "Himmel"}}},
			want: with(base("PicklistAttributeMetadata", "Picklist", "PicklistType", "new_Colour"),
				"OptionSet", Record{"@odata.type": ns + "OptionSetMetadata", "IsGlobal": false, "OptionSetType": "Picklist", "Options": []any{
					Record{"Value": 727000000, "Label": Label("Rot", 1031), "Color": "#ff0000"},
					Record{"Value": 727000001, "Label": Label("Blau", 1031), "Description": Label("Himmel", 1031)},
				}}),
		},
		{
			name: "multi-select bound to a global choice",
			spec: AttributeSpec{Type: "MultiSelectPicklist", SchemaName: "new_Tags", GlobalOptionSet: "new_tags"},
			want: with(base("MultiSelectPicklistAttributeMetadata", "Virtual", "MultiSelectPicklistType", "new_Tags"),
				"GlobalOptionSet@odata.bind", "/GlobalOptionSetDefinitions(Name='new_tags')"),
		},
		{
			name: "file with extra properties",
			spec: AttributeSpec{Type: "File", SchemaName: "new_Doc", MaxSizeInKB: 10240, Extra: Record{"IsAuditEnabled": Record{"Value": true}}},
			want: with(base("FileAttributeMetadata", "Virtual", "FileType", "new_Doc"), "MaxSizeInKB", 10240, "IsAuditEnabled", Record{"Value": true}),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.spec.definition()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("definition (-want +got):\n%s", diff)
			}
		})
	}
}

func TestAttributeSpecInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		spec AttributeSpec
	}{
		{name: "no schema name", spec: AttributeSpec{Type: "String"}},
		{name: "bad schema name", spec: AttributeSpec{Type: "String", SchemaName: "new Name"}},
		{name: "no type", spec: AttributeSpec{SchemaName: "new_X"}},
		{name: "lookup", spec: AttributeSpec{Type: "Lookup", SchemaName: "new_X"}},
		{name: "virtual", spec: AttributeSpec{Type: "Virtual", SchemaName: "new_X"}},
		{name: "max length on money", spec: AttributeSpec{Type: "Money", SchemaName: "new_X", MaxLength: 10}},
		{name: "precision on integer", spec: AttributeSpec{Type: "Integer", SchemaName: "new_X", Precision: Some(2)}},
		{name: "precision source on decimal", spec: AttributeSpec{Type: "Decimal", SchemaName: "new_X", PrecisionSource: Some(2)}},
		{name: "min on string", spec: AttributeSpec{Type: "String", SchemaName: "new_X", MinValue: Some(1.0)}},
		{name: "format on boolean", spec: AttributeSpec{Type: "Boolean", SchemaName: "new_X", Format: "Text"}},
		{name: "behavior on string", spec: AttributeSpec{Type: "String", SchemaName: "new_X", DateTimeBehavior: "UserLocal"}},
		{name: "options on string", spec: AttributeSpec{Type: "String", SchemaName: "new_X", Options: []ChoiceOption{{Value: 1, Label: "A"}}}},
		{name: "picklist without options", spec: AttributeSpec{Type: "Picklist", SchemaName: "new_X"}},
		{name: "picklist with both", spec: AttributeSpec{Type: "Picklist", SchemaName: "new_X", GlobalOptionSet: "g", Options: []ChoiceOption{{Value: 1, Label: "A"}}}},
		{name: "duplicate option", spec: AttributeSpec{Type: "Picklist", SchemaName: "new_X", Options: []ChoiceOption{{Value: 1, Label: "A"}, {Value: 1, Label: "B"}}}},
		{name: "bad global name", spec: AttributeSpec{Type: "Picklist", SchemaName: "new_X", GlobalOptionSet: "a'b"}},
		{name: "true label on integer", spec: AttributeSpec{Type: "Integer", SchemaName: "new_X", TrueLabel: "Yes"}},
		{name: "size on string", spec: AttributeSpec{Type: "String", SchemaName: "new_X", MaxSizeInKB: 10}},
		{name: "negative length", spec: AttributeSpec{Type: "String", SchemaName: "new_X", MaxLength: -1}},
		{name: "bad required level", spec: AttributeSpec{Type: "String", SchemaName: "new_X", RequiredLevel: "Mandatory"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, c := newMetadataFake(t)
			_, _, err := c.CreateAttribute(context.Background(), "account", tt.spec, nil)
			if !errors.Is(err, ErrInvalidInput) || f.count() != 0 {
				t.Errorf("error = %v after %d requests, want ErrInvalidInput before any", err, f.count())
			}
		})
	}
}

func TestCreateAttribute(t *testing.T) {
	t.Parallel()
	moneyBody := `{"@odata.type":"Microsoft.Dynamics.CRM.MoneyAttributeMetadata","AttributeType":"Money","AttributeTypeName":{"Value":"MoneyType"},` +
		`"DisplayName":{"@odata.type":"Microsoft.Dynamics.CRM.Label","LocalizedLabels":[{"@odata.type":"Microsoft.Dynamics.CRM.LocalizedLabel","Label":"Balance","LanguageCode":1033}]},` +
		`"PrecisionSource":2,"RequiredLevel":{"CanBeChanged":true,"ManagedPropertyLogicalName":"canmodifyrequirementlevelsettings","Value":"None"},"SchemaName":"new_Balance"}`
	spec := AttributeSpec{Type: "Money", SchemaName: "new_Balance", DisplayName: "Balance", PrecisionSource: Some(2)}
	tests := []struct {
		name     string
		entity   string
		def      Definition
		opts     *MetadataWriteOptions
		wantReqs []string
		wantBody string
		wantSol  string
		wantErr  error
	}{
		{
			name: "spec by logical name", entity: "account", def: spec,
			wantReqs: []string{"POST " + byLogical + "/Attributes"}, wantBody: moneyBody,
		},
		{
			name: "pointer to spec with a solution", entity: accountMetaID, def: &spec, opts: &MetadataWriteOptions{SolutionUniqueName: "examplesolution"},
			wantReqs: []string{"POST " + metaAPI + "EntityDefinitions(" + accountMetaID + ")/Attributes"}, wantBody: moneyBody, wantSol: "examplesolution",
		},
		{
			name: "record by set name", entity: "accounts",
			def: Record{"@odata.type": "Microsoft.Dynamics.CRM.StringAttributeMetadata", "SchemaName": "new_Code", "MaxLength": 10, "@odata.context": "dropped"},
			wantReqs: []string{
				"POST " + metaAPI + "EntityDefinitions(LogicalName='accounts')/Attributes",
				setNameQuery,
				"POST " + metaAPI + "EntityDefinitions(" + accountMetaID + ")/Attributes",
			},
			wantBody: `{"@odata.type":"Microsoft.Dynamics.CRM.StringAttributeMetadata","MaxLength":10,"SchemaName":"new_Code"}`,
		},
		{
			name: "unknown table", entity: "nosuchtable", def: spec,
			wantReqs: []string{
				"POST " + metaAPI + "EntityDefinitions(LogicalName='nosuchtable')/Attributes",
				"GET " + metaAPI + "EntityDefinitions?$select=LogicalName,EntitySetName&$filter=EntitySetName%20eq%20'nosuchtable'",
			},
			wantErr: ErrNotFound,
		},
		{name: "nil definition", entity: "account", wantErr: ErrInvalidInput},
		{name: "bad solution name", entity: "account", def: spec, opts: &MetadataWriteOptions{SolutionUniqueName: "a/b"}, wantErr: ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, c := newMetadataFake(t)
			id, resp, err := c.CreateAttribute(context.Background(), tt.entity, tt.def, tt.opts)
			if diff := cmp.Diff(tt.wantReqs, metaRequestLines(f.requests()), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("error = %v, want %v", err, tt.wantErr)
				}
				var apiErr *Error
				if tt.wantErr == ErrNotFound && (!errors.As(err, &apiErr) || apiErr.Method != "POST") {
					t.Errorf("error = %#v, want the POST's 404 *Error", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if id != newColumnID || resp.ID != newColumnID || resp.StatusCode != http.StatusNoContent {
				t.Errorf("id = %q, Response.ID = %q, status %d; want %s, 204", id, resp.ID, resp.StatusCode, newColumnID)
			}
			checkRequest(t, wantRequest{
				Method: "POST", Path: f.last(t).Path, Body: tt.wantBody,
				Headers: map[string]string{"MSCRM.SolutionUniqueName": tt.wantSol, "Content-Type": "application/json; charset=utf-8", "If-Match": ""},
			}, f.last(t))
		})
	}
}

func TestUpdateAttribute(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		entity      string
		attribute   string
		def         Definition
		opts        *UpdateAttributeOptions
		wantReqs    []string
		wantHeaders map[string]string
		wantBody    string
		wantErr     error
	}{
		{
			name: "definition read back, cast from @odata.type, merged labels", entity: "account", attribute: "name",
			def: Record{"@odata.context": "http://x/$metadata#...", "@odata.type": "#Microsoft.Dynamics.CRM.StringAttributeMetadata",
				"MetadataId": nameColumnID, "LogicalName": "name", "MaxLength": 200},
			opts:        &UpdateAttributeOptions{MergeLabels: true, SolutionUniqueName: "examplesolution"},
			wantReqs:    []string{"PUT " + byLogical + "/Attributes(LogicalName='name')/Microsoft.Dynamics.CRM.StringAttributeMetadata"},
			wantHeaders: map[string]string{"If-Match": "*", "MSCRM.MergeLabels": "true", "MSCRM.SolutionUniqueName": "examplesolution"},
			wantBody:    `{"@odata.type":"#Microsoft.Dynamics.CRM.StringAttributeMetadata","LogicalName":"name","MaxLength":200,"MetadataId":"` + nameColumnID + `"}`,
		},
		{
			name: "column named by the definition's MetadataId, no cast", entity: accountMetaID,
			def:         Record{"MetadataId": nameColumnID, "SchemaName": "Name"},
			wantReqs:    []string{"PUT " + metaAPI + "EntityDefinitions(" + accountMetaID + ")/Attributes(" + nameColumnID + ")"},
			wantHeaders: map[string]string{"If-Match": "*", "MSCRM.MergeLabels": "", "MSCRM.SolutionUniqueName": ""},
			wantBody:    `{"MetadataId":"` + nameColumnID + `","SchemaName":"Name"}`,
		},
		{
			name: "spec named by its schema name, table by set name", entity: "accounts",
			def: AttributeSpec{Type: "String", SchemaName: "Name", MaxLength: 200},
			wantReqs: []string{
				"PUT " + metaAPI + "EntityDefinitions(LogicalName='accounts')/Attributes(LogicalName='name')/Microsoft.Dynamics.CRM.StringAttributeMetadata",
				setNameQuery,
				"PUT " + metaAPI + "EntityDefinitions(" + accountMetaID + ")/Attributes(LogicalName='name')/Microsoft.Dynamics.CRM.StringAttributeMetadata",
			},
			wantHeaders: map[string]string{"If-Match": "*"},
			wantBody: `{"@odata.type":"Microsoft.Dynamics.CRM.StringAttributeMetadata","AttributeType":"String","AttributeTypeName":{"Value":"StringType"},` +
				`"FormatName":{"Value":"Text"},"MaxLength":200,"RequiredLevel":{"CanBeChanged":true,"ManagedPropertyLogicalName":"canmodifyrequirementlevelsettings","Value":"None"},"SchemaName":"Name"}`,
		},
		{
			name: "missing column", entity: "account", attribute: "nosuchcolumn", def: Record{"MaxLength": 1},
			wantReqs: []string{
				"PUT " + byLogical + "/Attributes(LogicalName='nosuchcolumn')",
				"GET " + metaAPI + "EntityDefinitions?$select=LogicalName,EntitySetName&$filter=EntitySetName%20eq%20'account'",
			},
			wantErr: ErrNotFound,
		},
		{name: "no column named", entity: "account", def: Record{"MaxLength": 1}, wantErr: ErrInvalidInput},
		{name: "unknown type", entity: "account", attribute: "name", def: Record{"@odata.type": "Nonsense"}, wantErr: ErrInvalidInput},
		{name: "nil definition", entity: "account", attribute: "name", wantErr: ErrInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, c := newMetadataFake(t)
			resp, err := c.UpdateAttribute(context.Background(), tt.entity, tt.attribute, tt.def, tt.opts)
			if diff := cmp.Diff(tt.wantReqs, metaRequestLines(f.requests()), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("requests (-want +got):\n%s", diff)
			}
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("error = %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusNoContent {
				t.Errorf("status = %d, want 204", resp.StatusCode)
			}
			last := f.last(t)
			checkRequest(t, wantRequest{Method: "PUT", Path: last.Path, Headers: tt.wantHeaders, Body: tt.wantBody}, last)
		})
	}
}

func TestDeleteAttribute(t *testing.T) {
	t.Parallel()
	f, c := newMetadataFake(t)
	resp, err := c.DeleteAttribute(context.Background(), "account", "{"+nameColumnID+"}")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"DELETE " + byLogical + "/Attributes(" + nameColumnID + ")"}, metaRequestLines(f.requests())); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	if resp.StatusCode != 204 {
		t.Errorf("status = %d", resp.StatusCode)
	}
	if _, err := c.DeleteAttribute(context.Background(), "account", ""); !errors.Is(err, ErrInvalidInput) {
		t.Errorf("empty column: error = %v, want ErrInvalidInput", err)
	}
}
