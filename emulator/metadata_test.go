package emulator_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const crm = "Microsoft.Dynamics.CRM."

// metaURL escapes the characters of a metadata URL that a Go client will not send raw.
var metaURL = strings.NewReplacer(" ", "%20", `"`, "%22", "{", "%7B", "}", "%7D").Replace

// mlabel is a Label as clients post it: text, LanguageCode pairs (a single text is 1033).
func mlabel(texts ...any) map[string]any {
	if len(texts) == 1 {
		texts = append(texts, 1033)
	}
	var ll []any
	for i := 0; i+1 < len(texts); i += 2 {
		ll = append(ll, map[string]any{"@odata.type": crm + "LocalizedLabel", "Label": texts[i], "LanguageCode": texts[i+1]})
	}
	return map[string]any{"@odata.type": crm + "Label", "LocalizedLabels": ll}
}

// metaItems returns the value array of a collection answer.
func metaItems(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	list, ok := body["value"].([]any)
	if !ok {
		t.Fatalf("answer has no value array: %v", body)
	}
	out := make([]map[string]any, len(list))
	for i, v := range list {
		out[i] = v.(map[string]any)
	}
	return out
}

// metaNames collects one string property of items, sorted.
func metaNames(list []map[string]any, prop string) []string {
	var out []string
	for _, m := range list {
		s, _ := m[prop].(string)
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func metaKeys(m map[string]any) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// metaUserLabel is DisplayName.UserLocalizedLabel.Label (or of another label property).
func metaUserLabel(m map[string]any, prop string) string {
	l, _ := m[prop].(map[string]any)
	ul, _ := l["UserLocalizedLabel"].(map[string]any)
	s, _ := ul["Label"].(string)
	return s
}

// metaLanguages maps LanguageCode to text for a label property.
func metaLanguages(m map[string]any, prop string) map[string]string {
	out := map[string]string{}
	l, _ := m[prop].(map[string]any)
	ll, _ := l["LocalizedLabels"].([]any)
	for _, x := range ll {
		xm := x.(map[string]any)
		out[string(xm["LanguageCode"].(json.Number))] = xm["Label"].(string)
	}
	return out
}

func TestMetadataEntityDefinitions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)

	all := e.do("GET", "EntityDefinitions?$select=LogicalName,EntitySetName,OwnershipType", nil).expect(t, 200).JSON(t)
	if all["@odata.context"] != e.api+"$metadata#EntityDefinitions(LogicalName,EntitySetName,OwnershipType)" {
		t.Errorf("@odata.context = %v", all["@odata.context"])
	}
	if _, paged := all["@odata.nextLink"]; paged {
		t.Error("metadata answer is paged")
	}
	list := metaItems(t, all)
	got := metaNames(list, "LogicalName")
	for _, want := range []string{"account", "accountleads", "contact", "msevtmgt_event", "systemuser", "task"} {
		if i := sort.SearchStrings(got, want); i == len(got) || got[i] != want {
			t.Errorf("EntityDefinitions lacks %s: %v", want, got)
		}
	}
	for _, m := range list {
		if diff := cmp.Diff([]string{"EntitySetName", "LogicalName", "MetadataId", "OwnershipType"}, metaKeys(m)); diff != "" {
			t.Fatalf("selected item keys (-want +got):\n%s", diff)
		}
	}
	var accountID string
	for _, m := range list {
		if m["LogicalName"] == "account" {
			accountID = m["MetadataId"].(string)
		}
	}

	tests := []struct {
		name, path string
		want       []string
	}{
		{"or of names", "EntityDefinitions?$select=LogicalName&$filter=LogicalName eq 'account' or LogicalName eq 'contact'", []string{"account", "contact"}},
		{"complex path", "EntityDefinitions?$select=LogicalName&$filter=IsCustomEntity eq true and IsCustomizable/Value eq true", []string{"msevtmgt_event"}},
		{"function", "EntityDefinitions?$select=LogicalName&$filter=startswith(EntitySetName,'opportun')", []string{"opportunity", "opportunityclose"}},
		{"number", "EntityDefinitions?$select=LogicalName&$filter=ObjectTypeCode eq 2", []string{"contact"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := e.do("GET", metaURL(tt.path), nil).expect(t, 200).JSON(t)
			if diff := cmp.Diff(tt.want, metaNames(metaItems(t, body), "LogicalName")); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	t.Run("enum literal", func(t *testing.T) {
		body := e.do("GET", metaURL("EntityDefinitions?$select=LogicalName,OwnershipType&$filter=OwnershipType eq Microsoft.Dynamics.CRM.OwnershipTypes'OrganizationOwned'"), nil).expect(t, 200).JSON(t)
		list := metaItems(t, body)
		got := metaNames(list, "LogicalName")
		for _, want := range []string{"organization", "transactioncurrency"} {
			if i := sort.SearchStrings(got, want); i == len(got) || got[i] != want {
				t.Errorf("organization-owned tables lack %s: %v", want, got)
			}
		}
		for _, m := range list {
			if m["OwnershipType"] != "OrganizationOwned" {
				t.Errorf("%v matched", m)
			}
		}
	})
	t.Run("by logical name", func(t *testing.T) {
		got := e.do("GET", "EntityDefinitions(LogicalName='account')?$select=LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,DisplayName", nil).expect(t, 200).JSON(t)
		if got["@odata.context"] != e.api+"$metadata#EntityDefinitions(LogicalName,EntitySetName,PrimaryIdAttribute,PrimaryNameAttribute,DisplayName)/$entity" {
			t.Errorf("@odata.context = %v", got["@odata.context"])
		}
		if got["MetadataId"] != accountID || got["EntitySetName"] != "accounts" || got["PrimaryIdAttribute"] != "accountid" || got["PrimaryNameAttribute"] != "name" {
			t.Errorf("account = %v", got)
		}
		if metaUserLabel(got, "DisplayName") != "Account" {
			t.Errorf("DisplayName = %v", got["DisplayName"])
		}
	})
	t.Run("by MetadataId, whole document", func(t *testing.T) {
		got := e.do("GET", "EntityDefinitions("+accountID+")", nil).expect(t, 200).JSON(t)
		if got["@odata.context"] != e.api+"$metadata#EntityDefinitions/$entity" || got["LogicalName"] != "account" {
			t.Errorf("answer = %v %v", got["@odata.context"], got["LogicalName"])
		}
		for _, k := range []string{"SchemaName", "ObjectTypeCode", "IsCustomizable", "Privileges", "DisplayCollectionName"} {
			if _, ok := got[k]; !ok {
				t.Errorf("full document lacks %s", k)
			}
		}
		if _, ok := got["Attributes"]; ok {
			t.Error("Attributes shown without $expand")
		}
	})
	t.Run("expand attributes with nested options", func(t *testing.T) {
		got := e.do("GET", metaURL("EntityDefinitions(LogicalName='contact')?$select=LogicalName&$expand=Attributes($select=LogicalName,AttributeType;$filter=AttributeType eq Microsoft.Dynamics.CRM.AttributeTypeCode'Customer')"), nil).expect(t, 200).JSON(t)
		if got["@odata.context"] != e.api+"$metadata#EntityDefinitions(LogicalName,Attributes(LogicalName,AttributeType))/$entity" {
			t.Errorf("@odata.context = %v", got["@odata.context"])
		}
		attrs := got["Attributes"].([]any)
		if len(attrs) != 1 {
			t.Fatalf("Attributes = %v", attrs)
		}
		a := attrs[0].(map[string]any)
		want := map[string]any{"@odata.type": "#" + crm + "LookupAttributeMetadata", "MetadataId": a["MetadataId"], "LogicalName": "parentcustomerid", "AttributeType": "Customer"}
		if diff := cmp.Diff(want, a); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("expand keys and relationships on the whole set", func(t *testing.T) {
		body := e.do("GET", metaURL("EntityDefinitions?$select=LogicalName&$filter=LogicalName eq 'account'&$expand=Keys($select=LogicalName),ManyToManyRelationships($select=SchemaName),ManyToOneRelationships($select=SchemaName;$filter=ReferencedEntity eq 'contact')"), nil).expect(t, 200).JSON(t)
		acc := metaItems(t, body)[0]
		keys := acc["Keys"].([]any)
		if len(keys) != 1 || keys[0].(map[string]any)["LogicalName"] != "dynlocal_accountnumber" {
			t.Errorf("Keys = %v", keys)
		}
		m2m := acc["ManyToManyRelationships"].([]any)
		if len(m2m) != 1 || m2m[0].(map[string]any)["SchemaName"] != "accountleads_association" {
			t.Errorf("ManyToManyRelationships = %v", m2m)
		}
		n1 := acc["ManyToOneRelationships"].([]any)
		if len(n1) != 1 || n1[0].(map[string]any)["SchemaName"] != "account_primary_contact" {
			t.Errorf("ManyToOneRelationships = %v", n1)
		}
	})
	t.Run("collections of a table", func(t *testing.T) {
		body := e.do("GET", "EntityDefinitions(LogicalName='account')/OneToManyRelationships?$select=SchemaName,ReferencingEntity", nil).expect(t, 200).JSON(t)
		if body["@odata.context"] != e.api+"$metadata#EntityDefinitions('account')/OneToManyRelationships(SchemaName,ReferencingEntity)" {
			t.Errorf("@odata.context = %v", body["@odata.context"])
		}
		got := metaNames(metaItems(t, body), "SchemaName")
		for _, want := range []string{"Account_Tasks", "contact_customer_accounts"} {
			if i := sort.SearchStrings(got, want); i == len(got) || got[i] != want {
				t.Errorf("OneToManyRelationships lacks %s: %v", want, got)
			}
		}
		for _, m := range metaItems(t, body) {
			if _, typed := m["@odata.type"]; typed {
				t.Errorf("item of a concrete collection carries @odata.type: %v", m)
			}
		}
		one := e.do("GET", "EntityDefinitions(LogicalName='account')/Keys(LogicalName='dynlocal_accountnumber')?$select=KeyAttributes", nil).expect(t, 200).JSON(t)
		if ka := one["KeyAttributes"].([]any); len(ka) != 1 || ka[0] != "accountnumber" {
			t.Errorf("key = %v", one)
		}
		e.do("GET", "EntityDefinitions(LogicalName='account')/ManyToOneRelationships(SchemaName='account_primary_contact')", nil).expect(t, 200)
		e.do("GET", "EntityDefinitions(LogicalName='account')/Keys(LogicalName='nope')", nil).expect(t, 404)
	})

	errs := []struct {
		name, path    string
		status        int
		code, message string
	}{
		{"unknown table", "EntityDefinitions(LogicalName='nope')", 404, "0x80040217", "Could not find an entity with specified entity name: nope"},
		{"unknown id", "EntityDefinitions(00000000-0000-0000-0000-00000000abcd)", 404, "0x80040217", "Could not find an entity with specified MetadataId: 00000000-0000-0000-0000-00000000abcd"},
		{"unknown property", "EntityDefinitions?$select=Nope", 400, "0x0", "Could not find a property named 'Nope' on type 'Microsoft.Dynamics.CRM.EntityMetadata'."},
		{"filter on unknown property", "EntityDefinitions?$filter=Nope eq 1", 400, "0x0", "Could not find a property named 'Nope' on type 'Microsoft.Dynamics.CRM.EntityMetadata'."},
		{"no paging options", "EntityDefinitions?$top=2", 400, "0x0", "The query parameter $top is not supported on this resource."},
		{"expand a property", "EntityDefinitions?$expand=LogicalName", 400, "0x0", ""},
		{"unknown key", "EntityDefinitions(SchemaName='Account')", 400, "0x0", ""},
		{"unknown segment", "EntityDefinitions(LogicalName='account')/Columns", 404, "0x8006088a", "Resource not found for the segment 'Columns'."},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			e.do("GET", metaURL(tt.path), nil).expectError(t, tt.status, tt.code, tt.message)
		})
	}
}

func TestMetadataAttributes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	base := "EntityDefinitions(LogicalName='account')/Attributes"

	all := e.do("GET", base, nil).expect(t, 200).JSON(t)
	if all["@odata.context"] != e.api+"$metadata#EntityDefinitions('account')/Attributes" {
		t.Errorf("@odata.context = %v", all["@odata.context"])
	}
	list := metaItems(t, all)
	byName := map[string]map[string]any{}
	for _, a := range list {
		byName[a["LogicalName"].(string)] = a
		if typ, _ := a["@odata.type"].(string); !strings.HasPrefix(typ, "#"+crm) || !strings.HasSuffix(typ, "AttributeMetadata") {
			t.Errorf("%s: @odata.type = %q", a["LogicalName"], typ)
		}
	}
	name := byName["name"]
	if name == nil || name["@odata.type"] != "#"+crm+"StringAttributeMetadata" {
		t.Fatalf("name = %v", name)
	}
	if _, ok := name["MaxLength"]; ok {
		t.Error("a listing without cast shows MaxLength, a StringAttributeMetadata property")
	}
	if _, ok := byName["accountcategorycode"]["OptionSet"]; ok {
		t.Error("OptionSet shown without $expand")
	}

	t.Run("cast", func(t *testing.T) {
		body := e.do("GET", base+"/"+crm+"PicklistAttributeMetadata?$select=LogicalName,AttributeType,DefaultFormValue", nil).expect(t, 200).JSON(t)
		if body["@odata.context"] != e.api+"$metadata#EntityDefinitions('account')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata(LogicalName,AttributeType,DefaultFormValue)" {
			t.Errorf("@odata.context = %v", body["@odata.context"])
		}
		got := metaNames(metaItems(t, body), "LogicalName")
		for _, want := range []string{"accountcategorycode", "customertypecode", "industrycode"} {
			if i := sort.SearchStrings(got, want); i == len(got) || got[i] != want {
				t.Errorf("picklists lack %s: %v", want, got)
			}
		}
		for _, m := range metaItems(t, body) {
			if m["AttributeType"] != "Picklist" {
				t.Errorf("the cast lists %v", m)
			}
			if _, typed := m["@odata.type"]; typed {
				t.Errorf("cast item carries @odata.type: %v", m)
			}
			if _, ok := m["DefaultFormValue"]; !ok {
				t.Errorf("cast item lacks DefaultFormValue: %v", m)
			}
		}
		money := e.do("GET", base+"/"+crm+"MoneyAttributeMetadata?$select=LogicalName,Precision,PrecisionSource", nil).expect(t, 200).JSON(t)
		for _, m := range metaItems(t, money) {
			if _, ok := m["PrecisionSource"]; !ok {
				t.Errorf("money item = %v", m)
			}
		}
	})
	t.Run("expand option sets", func(t *testing.T) {
		body := e.do("GET", base+"/"+crm+"PicklistAttributeMetadata?$select=LogicalName&$expand=OptionSet($select=Options),GlobalOptionSet&$filter="+metaURL("LogicalName eq 'accountcategorycode'"), nil).expect(t, 200).JSON(t)
		a := metaItems(t, body)[0]
		set := a["OptionSet"].(map[string]any)
		opts := set["Options"].([]any)
		if len(opts) != 2 || opts[0].(map[string]any)["Value"] != json.Number("1") || metaUserLabel(opts[0].(map[string]any), "Label") != "Preferred Customer" {
			t.Errorf("OptionSet = %v", set)
		}
		if v, ok := a["GlobalOptionSet"]; !ok || v != nil {
			t.Errorf("GlobalOptionSet of a local choice = %v (present %v)", v, ok)
		}
	})
	t.Run("one column", func(t *testing.T) {
		got := e.do("GET", base+"(LogicalName='name')", nil).expect(t, 200).JSON(t)
		if got["@odata.context"] != e.api+"$metadata#EntityDefinitions('account')/Attributes/$entity" || got["@odata.type"] != "#"+crm+"StringAttributeMetadata" {
			t.Errorf("answer = %v %v", got["@odata.context"], got["@odata.type"])
		}
		if got["MaxLength"] != json.Number("160") {
			t.Errorf("MaxLength = %v", got["MaxLength"])
		}
		id := got["MetadataId"].(string)
		byID := e.do("GET", "EntityDefinitions(LogicalName='account')/Attributes("+id+")/"+crm+"StringAttributeMetadata?$select=LogicalName,MaxLength", nil).expect(t, 200).JSON(t)
		want := map[string]any{
			"@odata.context": e.api + "$metadata#EntityDefinitions('account')/Attributes/Microsoft.Dynamics.CRM.StringAttributeMetadata(LogicalName,MaxLength)/$entity",
			"MetadataId":     id, "LogicalName": "name", "MaxLength": json.Number("160"),
		}
		if diff := cmp.Diff(want, byID); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
		status := e.do("GET", base+"(LogicalName='statuscode')/"+crm+"StatusAttributeMetadata?$select=LogicalName&$expand=OptionSet", nil).expect(t, 200).JSON(t)
		if opts := status["OptionSet"].(map[string]any)["Options"].([]any); len(opts) != 2 {
			t.Errorf("statuscode options = %v", opts)
		}
	})
	t.Run("filter", func(t *testing.T) {
		body := e.do("GET", base+"?$select=LogicalName&$filter="+metaURL("IsCustomAttribute eq false and RequiredLevel/Value eq Microsoft.Dynamics.CRM.AttributeRequiredLevel'ApplicationRequired'"), nil).expect(t, 200).JSON(t)
		if diff := cmp.Diff([]string{"name"}, metaNames(metaItems(t, body), "LogicalName")); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})

	errs := []struct {
		name, path    string
		status        int
		code, message string
	}{
		{"abstract cast", base + "/" + crm + "EnumAttributeMetadata", 400, "0x0", ""},
		{"unknown cast", base + "/" + crm + "FooAttributeMetadata", 404, "0x8006088a", "Resource not found for the segment 'Microsoft.Dynamics.CRM.FooAttributeMetadata'."},
		{"cast without namespace", base + "/String", 404, "0x8006088a", "Resource not found for the segment 'String'."},
		{"type property without cast", base + "?$select=LogicalName,MaxLength", 400, "0x0", "Could not find a property named 'MaxLength' on type 'Microsoft.Dynamics.CRM.AttributeMetadata'."},
		{"expand without cast", base + "?$expand=OptionSet", 400, "0x0", "Could not find a property named 'OptionSet' on type 'Microsoft.Dynamics.CRM.AttributeMetadata'."},
		{"cast of another type", base + "(LogicalName='name')/" + crm + "PicklistAttributeMetadata", 404, "0x80040217", ""},
		{"unknown column", base + "(LogicalName='nope')", 404, "0x80040217", "Could not find an attribute with specified attribute name: nope"},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			e.do("GET", metaURL(tt.path), nil).expectError(t, tt.status, tt.code, tt.message)
		})
	}
}

func TestMetadataRelationshipsAndOptionSets(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	all := metaItems(t, e.do("GET", "RelationshipDefinitions?$select=SchemaName", nil).expect(t, 200).JSON(t))
	kinds := map[string]int{}
	for _, r := range all {
		kinds[r["@odata.type"].(string)]++
	}
	if kinds["#"+crm+"OneToManyRelationshipMetadata"] == 0 || kinds["#"+crm+"ManyToManyRelationshipMetadata"] != 3 || len(kinds) != 2 {
		t.Errorf("relationship types = %v", kinds)
	}
	one := e.do("GET", "RelationshipDefinitions(SchemaName='account_primary_contact')", nil).expect(t, 200).JSON(t)
	if one["@odata.context"] != e.api+"$metadata#RelationshipDefinitions/$entity" || one["ReferencingAttribute"] != "primarycontactid" || one["@odata.type"] != "#"+crm+"OneToManyRelationshipMetadata" {
		t.Errorf("relationship = %v", one)
	}
	byID := e.do("GET", "RelationshipDefinitions("+one["MetadataId"].(string)+")/"+crm+"OneToManyRelationshipMetadata?$select=ReferencedEntity", nil).expect(t, 200).JSON(t)
	if byID["ReferencedEntity"] != "contact" || byID["@odata.type"] != nil {
		t.Errorf("by id with cast = %v", byID)
	}
	m2m := metaItems(t, e.do("GET", "RelationshipDefinitions/"+crm+"ManyToManyRelationshipMetadata?$select=SchemaName,IntersectEntityName", nil).expect(t, 200).JSON(t))
	var intersects []string
	for _, r := range m2m {
		intersects = append(intersects, r["IntersectEntityName"].(string))
	}
	sort.Strings(intersects)
	if diff := cmp.Diff([]string{"accountleads", "systemuserroles", "teammembership"}, intersects); diff != "" {
		t.Errorf("many-to-many intersect tables (-want +got):\n%s", diff)
	}
	filtered := metaItems(t, e.do("GET", "RelationshipDefinitions?$select=SchemaName&$filter="+metaURL("SchemaName eq 'Account_Tasks'"), nil).expect(t, 200).JSON(t))
	if len(filtered) != 1 {
		t.Errorf("filtered = %v", filtered)
	}
	e.do("GET", "RelationshipDefinitions(SchemaName='nope')", nil).expectError(t, 404, "0x80040217", "Could not find a relationship with specified relationship name: nope")
	e.do("GET", "RelationshipDefinitions(SchemaName='account_primary_contact')/"+crm+"ManyToManyRelationshipMetadata", nil).expect(t, 404)
	e.do("GET", "RelationshipDefinitions/"+crm+"Nope", nil).expect(t, 404)

	sets := e.do("GET", "GlobalOptionSetDefinitions", nil).expect(t, 200).JSON(t)
	if sets["@odata.context"] != e.api+"$metadata#GlobalOptionSetDefinitions" || len(metaItems(t, sets)) != 0 {
		t.Errorf("option sets = %v", sets)
	}
	e.do("GET", "GlobalOptionSetDefinitions(Name='nope')", nil).expectError(t, 404, "0x80040217", "Could not find an option set with specified name: nope")
}

// metaColumnDefs are definitions of a column of every type the Web API creates, as clients post them.
func metaColumnDefs() []map[string]any {
	opts := func(labels ...string) []any {
		var out []any
		for i, l := range labels {
			out = append(out, map[string]any{"Value": 100000000 + i, "Label": mlabel(l)})
		}
		return out
	}
	return []map[string]any{
		{"@odata.type": crm + "StringAttributeMetadata", "SchemaName": "new_Code", "MaxLength": 20, "FormatName": map[string]any{"Value": "Text"}, "DisplayName": mlabel("Code"), "RequiredLevel": map[string]any{"Value": "None"}},
		{"@odata.type": crm + "MemoAttributeMetadata", "SchemaName": "new_Notes", "MaxLength": 4000, "DisplayName": mlabel("Notes")},
		{"@odata.type": crm + "IntegerAttributeMetadata", "SchemaName": "new_Quantity", "MinValue": 0, "MaxValue": 1000, "DisplayName": mlabel("Quantity")},
		{"@odata.type": crm + "BigIntAttributeMetadata", "SchemaName": "new_Big", "DisplayName": mlabel("Big")},
		{"@odata.type": crm + "DecimalAttributeMetadata", "SchemaName": "new_Rate", "Precision": 3, "MinValue": -1000, "MaxValue": 1000, "DisplayName": mlabel("Rate")},
		{"@odata.type": crm + "DoubleAttributeMetadata", "SchemaName": "new_Score", "Precision": 2, "DisplayName": mlabel("Score")},
		{"@odata.type": crm + "MoneyAttributeMetadata", "AttributeType": "Money", "AttributeTypeName": map[string]any{"Value": "MoneyType"}, "SchemaName": "new_Balance", "PrecisionSource": 2, "DisplayName": mlabel("Balance")},
		{"@odata.type": crm + "BooleanAttributeMetadata", "SchemaName": "new_Active", "DefaultValue": false, "DisplayName": mlabel("Active"),
			"OptionSet": map[string]any{"TrueOption": map[string]any{"Value": 1, "Label": mlabel("Open")}, "FalseOption": map[string]any{"Value": 0, "Label": mlabel("Closed")}}},
		{"@odata.type": crm + "DateTimeAttributeMetadata", "SchemaName": "new_Opened", "Format": "DateOnly", "DateTimeBehavior": map[string]any{"Value": "DateOnly"}, "DisplayName": mlabel("Opened")},
		{"@odata.type": crm + "DateTimeAttributeMetadata", "SchemaName": "new_LastSeen", "Format": "DateAndTime", "DisplayName": mlabel("Last Seen")},
		{"@odata.type": crm + "PicklistAttributeMetadata", "SchemaName": "new_Kind", "DisplayName": mlabel("Kind"),
			"OptionSet": map[string]any{"@odata.type": crm + "OptionSetMetadata", "IsGlobal": false, "OptionSetType": "Picklist", "Options": opts("Checking", "Savings")}},
		{"@odata.type": crm + "MultiSelectPicklistAttributeMetadata", "SchemaName": "new_Tags", "DisplayName": mlabel("Tags"),
			"OptionSet": map[string]any{"IsGlobal": false, "OptionSetType": "Picklist", "Options": opts("Red", "Green", "Blue")}},
	}
}

// metaTableDef is a new table's definition with its primary name column.
func metaTableDef(schema, display string) map[string]any {
	return map[string]any{
		"@odata.type": crm + "EntityMetadata", "SchemaName": schema, "OwnershipType": "UserOwned",
		"IsActivity": false, "HasActivities": false, "HasNotes": true,
		"DisplayName": mlabel(display), "DisplayCollectionName": mlabel(display + "s"), "Description": mlabel("A table made by a test."),
		"Attributes": []any{map[string]any{
			"@odata.type": crm + "StringAttributeMetadata", "SchemaName": "new_Name", "IsPrimaryName": true, "MaxLength": 100,
			"FormatName": map[string]any{"Value": "Text"}, "RequiredLevel": map[string]any{"Value": "None"}, "DisplayName": mlabel("Name"),
		}},
	}
}

// csdlDoc is the part of a CSDL document the tests check.
type csdlDoc struct {
	XMLName xml.Name     `xml:"Edmx"`
	Version string       `xml:"Version,attr"`
	Schemas []csdlSchema `xml:"DataServices>Schema"`
}

type csdlSchema struct {
	Namespace    string           `xml:"Namespace,attr"`
	Alias        string           `xml:"Alias,attr"`
	EntityTypes  []csdlEntityType `xml:"EntityType"`
	ComplexTypes []csdlEntityType `xml:"ComplexType"`
	Functions    []csdlOperation  `xml:"Function"`
	Actions      []csdlOperation  `xml:"Action"`
	Container    struct {
		Name            string          `xml:"Name,attr"`
		EntitySets      []csdlEntitySet `xml:"EntitySet"`
		FunctionImports []struct {
			Name     string `xml:"Name,attr"`
			Function string `xml:"Function,attr"`
		} `xml:"FunctionImport"`
		ActionImports []struct {
			Name   string `xml:"Name,attr"`
			Action string `xml:"Action,attr"`
		} `xml:"ActionImport"`
	} `xml:"EntityContainer"`
}

type csdlEntityType struct {
	Name     string `xml:"Name,attr"`
	BaseType string `xml:"BaseType,attr"`
	Abstract bool   `xml:"Abstract,attr"`
	OpenType bool   `xml:"OpenType,attr"`
	Key      []struct {
		Name string `xml:"Name,attr"`
	} `xml:"Key>PropertyRef"`
	Properties []struct {
		Name     string `xml:"Name,attr"`
		Type     string `xml:"Type,attr"`
		Nullable string `xml:"Nullable,attr"`
	} `xml:"Property"`
	Navs []struct {
		Name        string `xml:"Name,attr"`
		Type        string `xml:"Type,attr"`
		Partner     string `xml:"Partner,attr"`
		Constraints []struct {
			Property           string `xml:"Property,attr"`
			ReferencedProperty string `xml:"ReferencedProperty,attr"`
		} `xml:"ReferentialConstraint"`
	} `xml:"NavigationProperty"`
}

type csdlOperation struct {
	Name       string `xml:"Name,attr"`
	Parameters []struct {
		Name string `xml:"Name,attr"`
		Type string `xml:"Type,attr"`
	} `xml:"Parameter"`
	ReturnType struct {
		Type string `xml:"Type,attr"`
	} `xml:"ReturnType"`
}

type csdlEntitySet struct {
	Name       string `xml:"Name,attr"`
	EntityType string `xml:"EntityType,attr"`
	Bindings   []struct {
		Path   string `xml:"Path,attr"`
		Target string `xml:"Target,attr"`
	} `xml:"NavigationPropertyBinding"`
}

// getCSDL fetches and parses $metadata.
func getCSDL(t *testing.T, e *env) (*csdlSchema, []byte) {
	t.Helper()
	r := e.do("GET", "$metadata", nil, "Accept", "application/xml").expect(t, 200)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/xml") {
		t.Fatalf("Content-Type = %q", ct)
	}
	var doc csdlDoc
	if err := xml.Unmarshal(r.Body, &doc); err != nil {
		t.Fatalf("$metadata is not valid XML: %v", err)
	}
	if doc.XMLName.Space != "http://docs.oasis-open.org/odata/ns/edmx" || doc.Version != "4.0" || len(doc.Schemas) != 1 {
		t.Fatalf("Edmx = %+v version %q, %d schemas", doc.XMLName, doc.Version, len(doc.Schemas))
	}
	return &doc.Schemas[0], r.Body
}

func (s *csdlSchema) entityType(name string) *csdlEntityType {
	for i := range s.EntityTypes {
		if s.EntityTypes[i].Name == name {
			return &s.EntityTypes[i]
		}
	}
	return nil
}

func (t *csdlEntityType) propertyTypes() map[string]string {
	out := map[string]string{}
	for _, p := range t.Properties {
		out[p.Name] = p.Type
	}
	return out
}

// checkCSDL checks that every reference in the document resolves: keys to properties, navigation
// types to entity types, partners to navigation properties that point back, constraints to
// properties, entity sets to types, imports to operations.
func checkCSDL(t *testing.T, s *csdlSchema) {
	t.Helper()
	if s.Namespace != "Microsoft.Dynamics.CRM" || s.Alias != "mscrm" || s.Container.Name != "System" {
		t.Errorf("schema %q alias %q container %q", s.Namespace, s.Alias, s.Container.Name)
	}
	types := map[string]*csdlEntityType{}
	for i := range s.EntityTypes {
		types["mscrm."+s.EntityTypes[i].Name] = &s.EntityTypes[i]
	}
	// inherited returns a type's properties, including those of its base types.
	var inherited func(et *csdlEntityType) map[string]string
	inherited = func(et *csdlEntityType) map[string]string {
		props := et.propertyTypes()
		if b := types[et.BaseType]; b != nil {
			for k, v := range inherited(b) {
				props[k] = v
			}
		}
		return props
	}
	for _, et := range s.EntityTypes {
		if et.BaseType != "" && types[et.BaseType] == nil {
			t.Errorf("%s: unknown base type %s", et.Name, et.BaseType)
		}
		props := inherited(&et)
		for _, k := range et.Key {
			if props[k.Name] == "" {
				t.Errorf("%s: key %s is not a property", et.Name, k.Name)
			}
		}
		for _, n := range et.Navs {
			target := strings.TrimSuffix(strings.TrimPrefix(n.Type, "Collection("), ")")
			tt := types[target]
			if tt == nil {
				t.Errorf("%s.%s: unknown type %s", et.Name, n.Name, n.Type)
				continue
			}
			if n.Partner != "" {
				found := false
				for _, m := range tt.Navs {
					if m.Name == n.Partner && strings.Contains(m.Type, "mscrm."+et.Name) {
						found = true
					}
				}
				if !found {
					t.Errorf("%s.%s: partner %s is not a navigation property of %s back to %s", et.Name, n.Name, n.Partner, target, et.Name)
				}
			}
			for _, c := range n.Constraints {
				if props[c.Property] != "Edm.Guid" || inherited(tt)[c.ReferencedProperty] == "" {
					t.Errorf("%s.%s: constraint %s -> %s does not resolve", et.Name, n.Name, c.Property, c.ReferencedProperty)
				}
			}
		}
	}
	for _, es := range s.Container.EntitySets {
		et := types[es.EntityType]
		if et == nil {
			t.Errorf("entity set %s: unknown type %s", es.Name, es.EntityType)
			continue
		}
		for _, b := range es.Bindings {
			found := false
			for _, n := range et.Navs {
				found = found || n.Name == b.Path
			}
			if !found {
				t.Errorf("entity set %s: binding of unknown navigation property %s", es.Name, b.Path)
			}
		}
	}
	ops := map[string]bool{}
	for _, f := range s.Functions {
		ops["mscrm."+f.Name] = true
	}
	for _, a := range s.Actions {
		ops["mscrm."+a.Name] = true
	}
	for _, fi := range s.Container.FunctionImports {
		if !ops[fi.Function] {
			t.Errorf("function import %s: unknown function %s", fi.Name, fi.Function)
		}
	}
	for _, ai := range s.Container.ActionImports {
		if !ops[ai.Action] {
			t.Errorf("action import %s: unknown action %s", ai.Name, ai.Action)
		}
	}
}

func TestCSDL(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	s, body := getCSDL(t, e)
	golden := filepath.Join("testdata", "csdl.golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(golden, body, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test ./emulator -run TestCSDL -update to create it)", err)
	}
	if string(want) != string(body) {
		t.Errorf("$metadata differs from %s; run go test ./emulator -run TestCSDL -update and review the diff", golden)
	}
	checkCSDL(t, s)

	acc := s.entityType("account")
	if acc == nil || acc.BaseType != "mscrm.crmbaseentity" || len(acc.Key) != 1 || acc.Key[0].Name != "accountid" {
		t.Fatalf("account = %+v", acc)
	}
	props := acc.propertyTypes()
	for name, typ := range map[string]string{
		"accountid": "Edm.Guid", "name": "Edm.String", "numberofemployees": "Edm.Int32", "revenue": "Edm.Decimal",
		"creditonhold": "Edm.Boolean", "_primarycontactid_value": "Edm.Guid", "_ownerid_value": "Edm.Guid",
		"statecode": "Edm.Int32", "versionnumber": "Edm.Int64", "createdon": "Edm.DateTimeOffset", "accountcategorycode": "Edm.Int32",
	} {
		if props[name] != typ {
			t.Errorf("account.%s: type %q, want %q", name, props[name], typ)
		}
	}
	if _, ok := props["primarycontactid"]; ok {
		t.Error("a lookup appears under its logical name")
	}
	navs := map[string]string{}
	for _, n := range acc.Navs {
		navs[n.Name] = n.Type + " partner=" + n.Partner
		if n.Name == "primarycontactid" {
			if len(n.Constraints) != 1 || n.Constraints[0].Property != "_primarycontactid_value" || n.Constraints[0].ReferencedProperty != "contactid" {
				t.Errorf("primarycontactid constraints = %+v", n.Constraints)
			}
		}
	}
	for name, want := range map[string]string{
		"primarycontactid":         "mscrm.contact partner=account_primary_contact",
		"Account_Tasks":            "Collection(mscrm.task) partner=regardingobjectid_account_task",
		"accountleads_association": "Collection(mscrm.lead) partner=accountleads_association",
		"createdby":                "mscrm.systemuser partner=lk_accountbase_createdby",
	} {
		if navs[name] != want {
			t.Errorf("account nav %s = %q, want %q", name, navs[name], want)
		}
	}
	contact := s.entityType("contact").propertyTypes()
	if contact["birthdate"] != "Edm.Date" {
		t.Errorf("contact.birthdate = %q, want Edm.Date", contact["birthdate"])
	}

	sets := map[string]string{}
	for _, es := range s.Container.EntitySets {
		sets[es.Name] = es.EntityType
	}
	doc := e.do("GET", "", nil).expect(t, 200).JSON(t)
	for _, v := range metaItems(t, doc) {
		if sets[v["name"].(string)] == "" {
			t.Errorf("entity set %s of the service document is not in $metadata", v["name"])
		}
	}
	if sets["EntityDefinitions"] != "mscrm.EntityMetadata" {
		t.Errorf("EntityDefinitions = %q", sets["EntityDefinitions"])
	}
	fns := map[string]string{}
	for _, f := range s.Functions {
		fns[f.Name] = f.ReturnType.Type
	}
	if fns["WhoAmI"] != "mscrm.WhoAmIResponse" || fns["RetrieveTotalRecordCount"] != "mscrm.RetrieveTotalRecordCountResponse" || fns["RetrieveMetadataChanges"] == "" {
		t.Errorf("functions = %v", fns)
	}
	var actions []string
	for _, a := range s.Actions {
		actions = append(actions, a.Name)
	}
	for _, want := range []string{"CreateMultiple", "PublishAllXml", "PublishXml", "UpdateMultiple", "UpsertMultiple"} {
		if !slices.Contains(actions, want) {
			t.Errorf("action %s is not in $metadata: %v", want, actions)
		}
	}
	complex := map[string]bool{}
	for _, c := range s.ComplexTypes {
		complex[c.Name] = true
	}
	if !complex["WhoAmIResponse"] || !complex["RetrieveTotalRecordCountResponse"] {
		t.Errorf("complex types = %v", complex)
	}
	e.do("POST", "$metadata", "{}").expect(t, http.StatusMethodNotAllowed)
}

func TestMetadataCreateColumns(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	entityID := e.do("GET", "EntityDefinitions(LogicalName='account')?$select=LogicalName", nil).expect(t, 200).JSON(t)["MetadataId"].(string)
	for _, def := range metaColumnDefs() {
		schema := def["SchemaName"].(string)
		t.Run(schema, func(t *testing.T) {
			r := e.do("POST", "EntityDefinitions(LogicalName='account')/Attributes", def, "MSCRM.SolutionUniqueName", "dynlocaltests").expect(t, http.StatusNoContent)
			loc := r.Header.Get("OData-EntityId")
			prefix := e.api + "EntityDefinitions(" + entityID + ")/Attributes("
			if !strings.HasPrefix(loc, prefix) {
				t.Fatalf("OData-EntityId = %q, want %s<id>)", loc, prefix)
			}
			id := idFromEntityID(t, r.Header)
			typ := strings.TrimPrefix(def["@odata.type"].(string), crm)
			got := e.do("GET", "EntityDefinitions(LogicalName='account')/Attributes("+id+")/"+crm+typ, nil).expect(t, 200).JSON(t)
			if got["LogicalName"] != strings.ToLower(schema) || got["SchemaName"] != schema || got["MetadataId"] != id || got["IsCustomAttribute"] != true || got["IsManaged"] != false {
				t.Errorf("column = %v", got)
			}
			if got["EntityLogicalName"] != "account" || got["CreatedOn"] != "2026-03-14T15:09:26Z" {
				t.Errorf("EntityLogicalName %v CreatedOn %v", got["EntityLogicalName"], got["CreatedOn"])
			}
			if metaUserLabel(got, "DisplayName") == "" {
				t.Errorf("DisplayName = %v", got["DisplayName"])
			}
			for _, k := range []string{"IsAuditEnabled", "RequiredLevel", "IsValidForAdvancedFind", "AttributeTypeName", "ColumnNumber"} {
				if _, ok := got[k]; !ok {
					t.Errorf("the new column lacks %s", k)
				}
			}
		})
	}
	// The columns work at once: create, read, filter.
	r := e.do("POST", "accounts", map[string]any{
		"name": "Metadata test", "new_code": "C-1", "new_notes": "many words", "new_quantity": 7, "new_big": json.Number("9007199254740993"),
		"new_rate": 1.234, "new_score": 2.5, "new_balance": 10.25, "new_active": true, "new_opened": "2024-01-31",
		"new_lastseen": "2024-01-31T12:34:56Z", "new_kind": 100000001, "new_tags": "100000000,100000002",
	}).expect(t, http.StatusNoContent)
	id := idFromEntityID(t, r.Header)
	got := e.do("GET", "accounts("+id+")?$select=new_code,new_quantity,new_big,new_rate,new_balance,new_active,new_opened,new_lastseen,new_kind,new_tags", nil).expect(t, 200).JSON(t)
	for k, want := range map[string]any{
		"new_code": "C-1", "new_quantity": json.Number("7"), "new_big": json.Number("9007199254740993"), "new_rate": json.Number("1.234"),
		"new_balance": json.Number("10.2500"), "new_active": true, "new_opened": "2024-01-31", "new_lastseen": "2024-01-31T12:34:56Z",
		"new_kind": json.Number("100000001"), "new_tags": "100000000,100000002",
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if got["_transactioncurrencyid_value"] == nil {
		t.Error("the first Money column did not bring transactioncurrencyid")
	}
	for _, f := range []string{"new_code eq 'C-1'", "new_quantity gt 5", "new_balance ge 10", "new_active eq true", "new_opened eq 2024-01-31", "new_kind eq 100000001",
		"Microsoft.Dynamics.CRM.ContainValues(PropertyName='new_tags',PropertyValues=['100000002'])"} {
		body := e.do("GET", "accounts?$select=name&$filter="+metaURL(f), nil).expect(t, 200).JSON(t)
		if list := metaItems(t, body); len(list) != 1 || list[0]["name"] != "Metadata test" {
			t.Errorf("$filter=%s: %v", f, list)
		}
	}
	cur := e.do("GET", "EntityDefinitions(LogicalName='account')/Attributes(LogicalName='transactioncurrencyid')?$select=LogicalName", nil)
	cur.expect(t, 200)
}

func TestMetadataCreateColumnErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	str := func(schema string, extra ...any) map[string]any {
		m := map[string]any{"@odata.type": crm + "StringAttributeMetadata", "SchemaName": schema, "DisplayName": mlabel("X")}
		for i := 0; i+1 < len(extra); i += 2 {
			m[extra[i].(string)] = extra[i+1]
		}
		return m
	}
	pick := func(values ...any) map[string]any {
		var opts []any
		for _, v := range values {
			opts = append(opts, map[string]any{"Value": v, "Label": mlabel("Option")})
		}
		return map[string]any{"@odata.type": crm + "PicklistAttributeMetadata", "SchemaName": "new_Pick", "DisplayName": mlabel("Pick"), "OptionSet": map[string]any{"Options": opts}}
	}
	e.do("POST", "EntityDefinitions(LogicalName='account')/Attributes", str("new_Dup")).expect(t, http.StatusNoContent)
	tests := []struct {
		name          string
		path          string
		body          any
		status        int
		code, message string
	}{
		{"duplicate schema name", "", str("new_Dup"), 400, "0x80040237", "An attribute with the name 'new_Dup' already exists on the entity 'account'. Choose a different schema name."},
		{"duplicate ignoring case", "", str("new_dup"), 400, "0x80040237", ""},
		{"existing system name", "", str("new_x", "LogicalName", "name"), 400, "0x80040203", ""},
		{"no prefix", "", str("Balance"), 400, "0x80040203", "The schema name 'Balance' for type Attribute must start with a valid customization prefix followed by an underscore, for example 'new_Balance'."},
		{"prefix too short", "", str("n_Balance"), 400, "0x80040203", ""},
		{"no schema name", "", map[string]any{"@odata.type": crm + "StringAttributeMetadata"}, 400, "0x80040203", "The SchemaName of the attribute is required."},
		{"unknown type", "", str("new_X", "@odata.type", crm+"FooAttributeMetadata"), 400, "0x80040203", "The type 'Microsoft.Dynamics.CRM.FooAttributeMetadata' is not an attribute metadata type."},
		{"abstract type", "", str("new_X", "@odata.type", crm+"EnumAttributeMetadata"), 400, "0x80040203", ""},
		{"no type", "", map[string]any{"SchemaName": "new_X"}, 400, "0x80040203", ""},
		{"type mismatch", "", str("new_X", "AttributeType", "Integer"), 400, "0x80040203", ""},
		{"lookup without relationship", "", str("new_X", "@odata.type", crm+"LookupAttributeMetadata"), 400, "0x80040203", ""},
		{"MaxLength too big", "", str("new_X", "MaxLength", 4001), 400, "0x80040203", "The MaxLength 4001 of the column 'new_X' is out of range: a String column's MaxLength must be between 1 and 4000."},
		{"MaxLength zero", "", str("new_X", "MaxLength", 0), 400, "0x80040203", ""},
		{"precision", "", map[string]any{"@odata.type": crm + "MoneyAttributeMetadata", "SchemaName": "new_M", "Precision": 5}, 400, "0x80040203", ""},
		{"min above max", "", map[string]any{"@odata.type": crm + "IntegerAttributeMetadata", "SchemaName": "new_I", "MinValue": 10, "MaxValue": 1}, 400, "0x80040203", ""},
		{"integer out of range", "", map[string]any{"@odata.type": crm + "IntegerAttributeMetadata", "SchemaName": "new_I", "MaxValue": 3000000000}, 400, "0x80040203", ""},
		{"duplicate option values", "", pick(1, 1), 400, "0x8004431a", "The option value 1 is used more than once in the option set of 'new_Pick'."},
		{"option out of range", "", pick(3000000000), 400, "0x8004431a", ""},
		{"no options", "", pick(), 400, "0x8004431a", ""},
		{"bad date format", "", map[string]any{"@odata.type": crm + "DateTimeAttributeMetadata", "SchemaName": "new_D", "Format": "Weekly"}, 400, "0x80040203", ""},
		{"not JSON", "", "{", 400, "0x80048d19", ""},
		{"unknown table", "EntityDefinitions(LogicalName='nope')/Attributes", str("new_X"), 404, "0x80040217", "Could not find an entity with specified entity name: nope"},
		{"intersect table", "EntityDefinitions(LogicalName='accountleads')/Attributes", str("new_X"), 400, "0x80040203", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = "EntityDefinitions(LogicalName='account')/Attributes"
			}
			e.do("POST", path, tt.body).expectError(t, tt.status, tt.code, tt.message)
		})
	}
	// Nothing was half-created: account has the one good column and no other new_ column.
	body := e.do("GET", "EntityDefinitions(LogicalName='account')/Attributes?$select=LogicalName&$filter="+metaURL("startswith(LogicalName,'new_')"), nil).expect(t, 200).JSON(t)
	if diff := cmp.Diff([]string{"new_dup"}, metaNames(metaItems(t, body), "LogicalName")); diff != "" {
		t.Errorf("columns after the errors (-want +got):\n%s", diff)
	}
}

func TestMetadataUpdateColumn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := "EntityDefinitions(LogicalName='account')/Attributes"
	def := map[string]any{"@odata.type": crm + "StringAttributeMetadata", "SchemaName": "new_Bank", "MaxLength": 50,
		"DisplayName": mlabel("Bank", 1033, "Banque", 1036), "Description": mlabel("Bank name", 1033, "Nom de la banque", 1036)}
	id := idFromEntityID(t, e.do("POST", path, def).expect(t, http.StatusNoContent).Header)
	one := path + "(" + id + ")/" + crm + "StringAttributeMetadata"

	// Round-trip what GET gives, as dynamics-web-api's updateAttribute does, with one label changed.
	got := e.do("GET", one, nil).expect(t, 200).JSON(t)
	got["DisplayName"] = mlabel("Bank account")
	got["MaxLength"] = 80
	got["RequiredLevel"] = map[string]any{"Value": "ApplicationRequired", "CanBeChanged": true, "ManagedPropertyLogicalName": "canmodifyrequirementlevelsettings"}
	delete(got, "Description")
	r := e.do("PUT", one, got, "MSCRM.MergeLabels", "true", "If-Match", "*").expect(t, http.StatusNoContent)
	if !strings.HasSuffix(r.Header.Get("OData-EntityId"), "/Attributes("+id+")") {
		t.Errorf("OData-EntityId = %q", r.Header.Get("OData-EntityId"))
	}
	after := e.do("GET", one, nil).expect(t, 200).JSON(t)
	if diff := cmp.Diff(map[string]string{"1033": "Bank account", "1036": "Banque"}, metaLanguages(after, "DisplayName")); diff != "" {
		t.Errorf("merged DisplayName (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"1033": "Bank name", "1036": "Nom de la banque"}, metaLanguages(after, "Description")); diff != "" {
		t.Errorf("Description not sent, merged (-want +got):\n%s", diff)
	}
	if after["MaxLength"] != json.Number("80") || after["RequiredLevel"].(map[string]any)["Value"] != "ApplicationRequired" || metaUserLabel(after, "DisplayName") != "Bank account" {
		t.Errorf("after merge: MaxLength %v RequiredLevel %v", after["MaxLength"], after["RequiredLevel"])
	}

	// Without MSCRM.MergeLabels, labels not sent are lost.
	e.do("PUT", path+"(LogicalName='new_bank')", map[string]any{"@odata.type": crm + "StringAttributeMetadata", "SchemaName": "new_Bank", "DisplayName": mlabel("Bank", 1033)}).expect(t, http.StatusNoContent)
	replaced := e.do("GET", one, nil).expect(t, 200).JSON(t)
	if diff := cmp.Diff(map[string]string{"1033": "Bank"}, metaLanguages(replaced, "DisplayName")); diff != "" {
		t.Errorf("replaced DisplayName (-want +got):\n%s", diff)
	}
	if d := metaLanguages(replaced, "Description"); len(d) != 0 || replaced["Description"].(map[string]any)["UserLocalizedLabel"] != nil {
		t.Errorf("Description not sent without merge = %v", replaced["Description"])
	}
	if replaced["MaxLength"] != json.Number("80") {
		t.Errorf("MaxLength not sent changed to %v", replaced["MaxLength"])
	}

	errs := []struct {
		name, path string
		body       any
		code       string
		status     int
	}{
		{"change of type", one, map[string]any{"@odata.type": crm + "MemoAttributeMetadata"}, "0x80040203", 400},
		{"cast of another type", path + "(" + id + ")/" + crm + "MemoAttributeMetadata", map[string]any{}, "0x80040203", 400},
		{"rename", one, map[string]any{"SchemaName": "new_Other"}, "0x80040203", 400},
		{"bad MaxLength", one, map[string]any{"MaxLength": 0}, "0x80040203", 400},
		{"bad required level", one, map[string]any{"RequiredLevel": map[string]any{"Value": "Always"}}, "0x80040203", 400},
		{"unknown column", path + "(LogicalName='nope')", map[string]any{}, "0x80040217", 404},
	}
	for _, tt := range errs {
		t.Run(tt.name, func(t *testing.T) {
			e.do("PUT", tt.path, tt.body).expectError(t, tt.status, tt.code, "")
		})
	}
	// A system column can be updated too (its labels, here).
	e.do("PUT", path+"(LogicalName='name')", map[string]any{"DisplayName": mlabel("Company")}, "MSCRM.MergeLabels", "true").expect(t, http.StatusNoContent)
	if l := metaUserLabel(e.do("GET", path+"(LogicalName='name')", nil).expect(t, 200).JSON(t), "DisplayName"); l != "Company" {
		t.Errorf("name label = %q", l)
	}
}

func TestMetadataPatchRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, p := range []string{
		"EntityDefinitions(LogicalName='account')",
		"EntityDefinitions(LogicalName='account')/Attributes(LogicalName='name')",
		"RelationshipDefinitions(SchemaName='account_primary_contact')",
	} {
		e.do("PATCH", p, map[string]any{"DisplayName": mlabel("X")}, "If-Match", "*").expectError(t, http.StatusMethodNotAllowed, "0x80060889",
			"PATCH method is not supported for metadata entities. Use PUT with the complete definition to update it.")
	}
	e.do("POST", "EntityDefinitions(LogicalName='account')", map[string]any{}).expect(t, http.StatusMethodNotAllowed)
}

func TestMetadataDeleteColumn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := "EntityDefinitions(LogicalName='account')/Attributes"
	id := idFromEntityID(t, e.do("POST", path, map[string]any{"@odata.type": crm + "IntegerAttributeMetadata", "SchemaName": "new_Count", "DisplayName": mlabel("Count")}).expect(t, 204).Header)
	e.do("POST", "accounts", map[string]any{"name": "with count", "new_count": 3}).expect(t, 204)
	e.do("DELETE", path+"("+id+")", nil).expect(t, http.StatusNoContent)
	e.do("GET", path+"("+id+")", nil).expect(t, 404)
	e.do("GET", "accounts?$select=new_count", nil).expectError(t, 400, "0x0", "Could not find a property named 'new_count' on type 'Microsoft.Dynamics.CRM.account'.")
	s, _ := getCSDL(t, e)
	if _, ok := s.entityType("account").propertyTypes()["new_count"]; ok {
		t.Error("deleted column still in $metadata")
	}
	e.do("GET", "accounts?$select=name&$filter="+metaURL("name eq 'with count'"), nil).expect(t, 200)

	tests := []struct {
		name, path string
		status     int
		code       string
	}{
		{"system column", path + "(LogicalName='telephone1')", 400, "0x80040203"},
		{"primary key", path + "(LogicalName='accountid')", 400, "0x80040203"},
		{"managed custom column", "EntityDefinitions(LogicalName='msevtmgt_event')/Attributes(LogicalName='msevtmgt_description')", 400, "0x80040203"},
		{"unknown", path + "(LogicalName='nope')", 404, "0x80040217"},
		{"again", path + "(" + id + ")", 404, "0x80040217"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do("DELETE", tt.path, nil).expectError(t, tt.status, tt.code, "")
		})
	}
}

func TestMetadataTableEndToEnd(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	nextCode := 10000
	for _, m := range metaItems(t, e.do("GET", "EntityDefinitions?$select=ObjectTypeCode", nil).expect(t, 200).JSON(t)) {
		if n, err := m["ObjectTypeCode"].(json.Number).Int64(); err == nil && int(n) >= nextCode {
			nextCode = int(n) + 1
		}
	}
	code := func(n int) json.Number { return json.Number(strconv.Itoa(n)) }
	r := e.do("POST", "EntityDefinitions", metaTableDef("new_BankAccount", "Bank Account"), "MSCRM.SolutionUniqueName", "dynlocaltests").expect(t, http.StatusNoContent)
	entityID := idFromEntityID(t, r.Header)
	if r.Header.Get("OData-EntityId") != e.api+"EntityDefinitions("+entityID+")" {
		t.Errorf("OData-EntityId = %q", r.Header.Get("OData-EntityId"))
	}
	def := e.do("GET", "EntityDefinitions("+entityID+")", nil).expect(t, 200).JSON(t)
	for k, want := range map[string]any{
		"LogicalName": "new_bankaccount", "SchemaName": "new_BankAccount", "EntitySetName": "new_bankaccounts",
		"LogicalCollectionName": "new_bankaccounts", "CollectionSchemaName": "new_BankAccounts", "PrimaryIdAttribute": "new_bankaccountid",
		"PrimaryNameAttribute": "new_name", "IsCustomEntity": true, "IsManaged": false, "OwnershipType": "UserOwned",
		"HasNotes": true, "HasActivities": false, "IsOptimisticConcurrencyEnabled": true, "ObjectTypeCode": code(nextCode),
	} {
		if def[k] != want {
			t.Errorf("%s = %v, want %v", k, def[k], want)
		}
	}
	if metaUserLabel(def, "DisplayName") != "Bank Account" || metaUserLabel(def, "DisplayCollectionName") != "Bank Accounts" {
		t.Errorf("labels = %v / %v", def["DisplayName"], def["DisplayCollectionName"])
	}
	attrs := metaItems(t, e.do("GET", "EntityDefinitions("+entityID+")/Attributes?$select=LogicalName", nil).expect(t, 200).JSON(t))
	have := metaNames(attrs, "LogicalName")
	for _, want := range []string{"new_bankaccountid", "new_name", "createdon", "createdby", "modifiedon", "ownerid", "owningbusinessunit", "statecode", "statuscode", "versionnumber"} {
		if i := sort.SearchStrings(have, want); i == len(have) || have[i] != want {
			t.Errorf("the new table lacks %s: %v", want, have)
		}
	}

	// Columns of every type, then a lookup through a relationship.
	for _, c := range metaColumnDefs() {
		e.do("POST", "EntityDefinitions("+entityID+")/Attributes", c).expect(t, http.StatusNoContent)
	}
	rel := map[string]any{
		"@odata.type": crm + "OneToManyRelationshipMetadata", "SchemaName": "new_account_new_bankaccount",
		"ReferencedEntity": "account", "ReferencedAttribute": "accountid", "ReferencingEntity": "new_bankaccount",
		"CascadeConfiguration": map[string]any{"Assign": "NoCascade", "Delete": "RemoveLink", "Merge": "NoCascade", "Reparent": "NoCascade", "Share": "NoCascade", "Unshare": "NoCascade"},
		"Lookup": map[string]any{"@odata.type": crm + "LookupAttributeMetadata", "AttributeType": "Lookup", "SchemaName": "new_AccountId",
			"DisplayName": mlabel("Account"), "RequiredLevel": map[string]any{"Value": "None"}},
	}
	rr := e.do("POST", "RelationshipDefinitions", rel).expect(t, http.StatusNoContent)
	if !strings.HasPrefix(rr.Header.Get("OData-EntityId"), e.api+"RelationshipDefinitions(") {
		t.Errorf("relationship OData-EntityId = %q", rr.Header.Get("OData-EntityId"))
	}
	gotRel := e.do("GET", "RelationshipDefinitions(SchemaName='new_account_new_bankaccount')", nil).expect(t, 200).JSON(t)
	if gotRel["ReferencingAttribute"] != "new_accountid" || gotRel["ReferencingEntityNavigationPropertyName"] != "new_AccountId" || gotRel["ReferencedEntityNavigationPropertyName"] != "new_account_new_bankaccount" {
		t.Errorf("relationship = %v", gotRel)
	}
	lookup := e.do("GET", "EntityDefinitions("+entityID+")/Attributes(LogicalName='new_accountid')/"+crm+"LookupAttributeMetadata?$select=Targets,AttributeType", nil).expect(t, 200).JSON(t)
	if ts := lookup["Targets"].([]any); len(ts) != 1 || ts[0] != "account" || lookup["AttributeType"] != "Lookup" {
		t.Errorf("lookup = %v", lookup)
	}
	e.do("POST", "RelationshipDefinitions", rel).expectError(t, 400, "0x80040237", "A relationship with the name 'new_account_new_bankaccount' already exists.")

	// Rows.
	acc := idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": "Owner bank"}).expect(t, 204).Header)
	row := map[string]any{
		"new_name": "Main", "new_code": "C-1", "new_notes": "notes", "new_quantity": 7, "new_big": json.Number("9007199254740993"),
		"new_rate": 1.234, "new_score": 2.5, "new_balance": 10.25, "new_active": true, "new_opened": "2024-01-31",
		"new_lastseen": "2024-01-31T12:34:56Z", "new_kind": 100000001, "new_tags": "100000000,100000002",
		"new_AccountId@odata.bind": "/accounts(" + acc + ")",
	}
	id := idFromEntityID(t, e.do("POST", "new_bankaccounts", row).expect(t, 204).Header)
	e.do("POST", "new_bankaccounts", map[string]any{"new_name": "Other", "new_quantity": 1, "new_active": false}).expect(t, 204)
	got := e.do("GET", "new_bankaccounts("+id+")?$select=new_name,new_code,new_big,new_balance,new_opened,new_kind,new_tags,_new_accountid_value&$expand=new_AccountId($select=name)", nil).expect(t, 200).JSON(t)
	for k, want := range map[string]any{
		"new_name": "Main", "new_code": "C-1", "new_big": json.Number("9007199254740993"), "new_balance": json.Number("10.2500"),
		"new_opened": "2024-01-31", "new_kind": json.Number("100000001"), "new_tags": "100000000,100000002", "_new_accountid_value": acc,
	} {
		if got[k] != want {
			t.Errorf("%s = %v, want %v", k, got[k], want)
		}
	}
	if nav, _ := got["new_AccountId"].(map[string]any); nav == nil || nav["name"] != "Owner bank" {
		t.Errorf("expanded lookup = %v", got["new_AccountId"])
	}
	queries := []struct {
		filter string
		want   []string
	}{
		{"new_quantity gt 5", []string{"Main"}},
		{"new_active eq false", []string{"Other"}},
		{"new_code eq 'C-1' and new_rate lt 2 and new_score gt 2", []string{"Main"}},
		{"new_opened eq 2024-01-31 and new_lastseen gt 2024-01-01T00:00:00Z", []string{"Main"}},
		{"new_balance ge 10 and new_big eq 9007199254740993", []string{"Main"}},
		{"new_kind eq 100000001", []string{"Main"}},
		{"Microsoft.Dynamics.CRM.ContainValues(PropertyName='new_tags',PropertyValues=['100000002'])", []string{"Main"}},
		{"_new_accountid_value eq " + acc, []string{"Main"}},
		{"new_AccountId/name eq 'Owner bank'", []string{"Main"}},
		{"new_code eq null", []string{"Other"}},
	}
	for _, q := range queries {
		body := e.do("GET", "new_bankaccounts?$select=new_name&$orderby=new_name&$filter="+metaURL(q.filter), nil).expect(t, 200).JSON(t)
		if diff := cmp.Diff(q.want, metaNames(metaItems(t, body), "new_name")); diff != "" {
			t.Errorf("$filter=%s (-want +got):\n%s", q.filter, diff)
		}
	}
	fetch := `<fetch><entity name="new_bankaccount"><attribute name="new_name"/><attribute name="new_balance"/><attribute name="new_kind"/>` +
		`<filter><condition attribute="new_quantity" operator="gt" value="5"/><condition attribute="new_opened" operator="on" value="2024-01-31"/></filter>` +
		`<link-entity name="account" from="accountid" to="new_accountid" alias="acc"><attribute name="name"/></link-entity></entity></fetch>`
	fetched := metaItems(t, e.do("GET", "new_bankaccounts?fetchXml="+url.QueryEscape(fetch), nil).expect(t, 200).JSON(t))
	if len(fetched) != 1 || fetched[0]["new_name"] != "Main" || fetched[0]["new_balance"] != json.Number("10.2500") || fetched[0]["acc_x002e_name"] != "Owner bank" {
		t.Errorf("FetchXML rows = %v", fetched)
	}
	back := metaItems(t, e.do("GET", "accounts("+acc+")/new_account_new_bankaccount?$select=new_name", nil).expect(t, 200).JSON(t))
	if len(back) != 1 || back[0]["new_name"] != "Main" {
		t.Errorf("collection navigation = %v", back)
	}
	count := e.do("GET", "RetrieveTotalRecordCount(EntityNames=['new_bankaccount'])", nil).expect(t, 200).JSON(t)
	if vals := count["EntityRecordCountCollection"].(map[string]any)["Values"].([]any); vals[0] != json.Number("2") {
		t.Errorf("count = %v", count)
	}

	// $metadata and the service document know the table.
	s, _ := getCSDL(t, e)
	checkCSDL(t, s)
	et := s.entityType("new_bankaccount")
	if et == nil || len(et.Key) != 1 || et.Key[0].Name != "new_bankaccountid" {
		t.Fatalf("$metadata new_bankaccount = %+v", et)
	}
	wantTypes := map[string]string{
		"new_bankaccountid": "Edm.Guid", "new_name": "Edm.String", "new_code": "Edm.String", "new_notes": "Edm.String",
		"new_quantity": "Edm.Int32", "new_big": "Edm.Int64", "new_rate": "Edm.Decimal", "new_score": "Edm.Double",
		"new_balance": "Edm.Decimal", "new_active": "Edm.Boolean", "new_opened": "Edm.Date", "new_lastseen": "Edm.DateTimeOffset",
		"new_kind": "Edm.Int32", "new_tags": "Edm.String", "_new_accountid_value": "Edm.Guid", "_ownerid_value": "Edm.Guid",
		"_transactioncurrencyid_value": "Edm.Guid", "exchangerate": "Edm.Decimal", "statecode": "Edm.Int32",
	}
	props := et.propertyTypes()
	for k, want := range wantTypes {
		if props[k] != want {
			t.Errorf("$metadata new_bankaccount.%s = %q, want %q", k, props[k], want)
		}
	}
	navOK := false
	for _, n := range et.Navs {
		if n.Name == "new_AccountId" && n.Type == "mscrm.account" && n.Partner == "new_account_new_bankaccount" &&
			len(n.Constraints) == 1 && n.Constraints[0].Property == "_new_accountid_value" && n.Constraints[0].ReferencedProperty == "accountid" {
			navOK = true
		}
	}
	if !navOK {
		t.Errorf("$metadata new_bankaccount navigation new_AccountId = %+v", et.Navs)
	}
	found := false
	for _, es := range s.Container.EntitySets {
		found = found || (es.Name == "new_bankaccounts" && es.EntityType == "mscrm.new_bankaccount")
	}
	if !found {
		t.Error("$metadata has no new_bankaccounts entity set")
	}
	sets := metaNames(metaItems(t, e.do("GET", "", nil).expect(t, 200).JSON(t)), "name")
	if i := sort.SearchStrings(sets, "new_bankaccounts"); i == len(sets) || sets[i] != "new_bankaccounts" {
		t.Error("the service document does not list new_bankaccounts")
	}

	// A second table gets the next code, a duplicate is refused, and the table can go again.
	r2 := e.do("POST", "EntityDefinitions", metaTableDef("new_Box", "Box")).expect(t, 204)
	box := e.do("GET", "EntityDefinitions("+idFromEntityID(t, r2.Header)+")?$select=EntitySetName,ObjectTypeCode", nil).expect(t, 200).JSON(t)
	if box["EntitySetName"] != "new_boxes" || box["ObjectTypeCode"] != code(nextCode+1) {
		t.Errorf("second table = %v", box)
	}
	e.do("POST", "EntityDefinitions", metaTableDef("new_BankAccount", "Again")).expectError(t, 400, "0x80040237", "An entity with the name 'new_BankAccount' already exists. Choose a different schema name.")
	e.do("DELETE", "EntityDefinitions(LogicalName='new_bankaccount')", nil).expect(t, http.StatusNoContent)
	e.do("GET", "new_bankaccounts", nil).expectError(t, 404, "0x8006088a", "Resource not found for the segment 'new_bankaccounts'.")
	e.do("GET", "EntityDefinitions("+entityID+")", nil).expect(t, 404)
	e.do("GET", "RelationshipDefinitions(SchemaName='new_account_new_bankaccount')", nil).expect(t, 404)
	e.do("GET", "accounts("+acc+")?$select=name", nil).expect(t, 200)
	s, _ = getCSDL(t, e)
	checkCSDL(t, s)
	if s.entityType("new_bankaccount") != nil {
		t.Error("deleted table still in $metadata")
	}
	e.do("DELETE", "EntityDefinitions(LogicalName='account')", nil).expectError(t, 400, "0x80040203", "The entity 'account' is a system entity and cannot be deleted.")
	e.do("DELETE", "EntityDefinitions(LogicalName='msevtmgt_event')", nil).expect(t, 400)
}

func TestMetadataCreateTableErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	with := func(change func(m map[string]any)) map[string]any {
		m := metaTableDef("new_Thing", "Thing")
		change(m)
		return m
	}
	primary := func(m map[string]any) map[string]any { return m["Attributes"].([]any)[0].(map[string]any) }
	tests := []struct {
		name string
		body any
		code string
	}{
		{"no prefix", with(func(m map[string]any) { m["SchemaName"] = "Thing" }), "0x80040203"},
		{"no display name", with(func(m map[string]any) { delete(m, "DisplayName") }), "0x80040203"},
		{"no collection name", with(func(m map[string]any) { delete(m, "DisplayCollectionName") }), "0x80040203"},
		{"no primary name", with(func(m map[string]any) { m["Attributes"] = []any{} }), "0x80040203"},
		{"primary name not a string", with(func(m map[string]any) { primary(m)["@odata.type"] = crm + "IntegerAttributeMetadata" }), "0x80040203"},
		{"bad ownership", with(func(m map[string]any) { m["OwnershipType"] = "TeamOwned" }), "0x80040203"},
		{"bad column", with(func(m map[string]any) { primary(m)["MaxLength"] = 5000 }), "0x80040203"},
		{"wrong type", with(func(m map[string]any) { m["@odata.type"] = crm + "AttributeMetadata" }), "0x80040203"},
		{"existing set name", with(func(m map[string]any) { m["EntitySetName"] = "accounts" }), "0x80040237"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.do("POST", "EntityDefinitions", tt.body).expectError(t, 400, tt.code, "")
		})
	}
}

func TestMetadataFailedCreateLeavesNoTrace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	snapshot := func() (string, string) {
		defs := e.do("GET", "EntityDefinitions?$select=LogicalName,EntitySetName&$expand=Attributes($select=LogicalName)", nil).expect(t, 200)
		_, csdl := getCSDL(t, e)
		return string(defs.Body), string(csdl)
	}
	defs, csdl := snapshot()
	failing := []struct {
		method, path string
		body         any
	}{
		// A table whose second column is invalid: the first must not be created either.
		{"POST", "EntityDefinitions", func() map[string]any {
			m := metaTableDef("new_Ghost", "Ghost")
			m["Attributes"] = append(m["Attributes"].([]any), map[string]any{"@odata.type": crm + "PicklistAttributeMetadata", "SchemaName": "new_Bad", "OptionSet": map[string]any{"Options": []any{}}})
			return m
		}()},
		{"POST", "EntityDefinitions", metaTableDef("new_Account", "Duplicate set")},
		{"POST", "EntityDefinitions(LogicalName='account')/Attributes", map[string]any{"@odata.type": crm + "StringAttributeMetadata", "SchemaName": "new_Long", "MaxLength": 100000}},
		{"POST", "RelationshipDefinitions", map[string]any{"@odata.type": crm + "OneToManyRelationshipMetadata", "SchemaName": "new_contact_account",
			"ReferencedEntity": "contact", "ReferencingEntity": "account", "Lookup": map[string]any{"@odata.type": crm + "LookupAttributeMetadata", "SchemaName": "new_X", "DisplayName": mlabel("X")},
			"ReferencingEntityNavigationPropertyName": "primarycontactid"}},
		{"POST", "RelationshipDefinitions", map[string]any{"@odata.type": crm + "OneToManyRelationshipMetadata", "SchemaName": "new_nope_account",
			"ReferencedEntity": "nope", "ReferencingEntity": "account", "Lookup": map[string]any{"SchemaName": "new_Y"}}},
	}
	// new_Account's set name would be new_accounts; make it collide through EntitySetName instead.
	failing[1].body.(map[string]any)["EntitySetName"] = "contacts"
	for _, f := range failing {
		r := e.do(f.method, f.path, f.body)
		if r.Status < 400 {
			t.Fatalf("%s %s succeeded: %d %s", f.method, f.path, r.Status, r.Body)
		}
	}
	defs2, csdl2 := snapshot()
	if defs != defs2 {
		t.Error("EntityDefinitions changed after failed creates")
	}
	if csdl != csdl2 {
		t.Error("$metadata changed after failed creates")
	}
	e.do("GET", "new_ghosts", nil).expect(t, 404)
}

func TestRetrieveTotalRecordCount(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	want := func(keys []string) map[string]any {
		var vals []any
		for _, k := range keys {
			n := len(metaItems(t, e.do("GET", map[string]string{"account": "accounts", "contact": "contacts"}[k]+"?$select=createdon", nil).expect(t, 200).JSON(t)))
			vals = append(vals, json.Number(strings.TrimSpace(string(metaJSON(t, n)))))
		}
		var ks []any
		for _, k := range keys {
			ks = append(ks, k)
		}
		return map[string]any{
			"@odata.context":              e.api + "$metadata#Microsoft.Dynamics.CRM.RetrieveTotalRecordCountResponse",
			"EntityRecordCountCollection": map[string]any{"Count": json.Number(string(metaJSON(t, len(keys)))), "IsReadOnly": false, "Keys": ks, "Values": vals},
		}
	}
	got := e.do("GET", "RetrieveTotalRecordCount(EntityNames=['account','contact'])", nil).expect(t, 200).JSON(t)
	if diff := cmp.Diff(want([]string{"account", "contact"}), got); diff != "" {
		t.Errorf("literal list (-want +got):\n%s", diff)
	}
	got = e.do("GET", "RetrieveTotalRecordCount(EntityNames=@p1)?@p1="+metaURL(`["account"]`), nil).expect(t, 200).JSON(t)
	if diff := cmp.Diff(want([]string{"account"}), got); diff != "" {
		t.Errorf("alias (-want +got):\n%s", diff)
	}
	e.do("GET", "RetrieveTotalRecordCount(EntityNames=['nope'])", nil).expectError(t, 404, "0x80041102", "The entity with a name = 'nope' with namemapping = 'Logical' was not found in the MetadataCache.")
	e.do("GET", "RetrieveTotalRecordCount()", nil).expect(t, 400)
	e.do("GET", "RetrieveTotalRecordCount(EntityNames=@p1)", nil).expect(t, 400)
	e.do("GET", "RetrieveTotalRecordCount(EntityNames='account')", nil).expect(t, 400)
	e.do("POST", "RetrieveTotalRecordCount(EntityNames=['account'])", "{}").expectError(t, 404, "", "")
	e.do("GET", "NoSuchFunction()", nil).expectError(t, 404, "0x8006088a", "Resource not found for the segment 'NoSuchFunction'.")
}

func keysOfList(m map[string][]string) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func metaJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestRetrieveMetadataChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	query := `{"Criteria":{"FilterOperator":"Or","Conditions":[{"ConditionOperator":"Equals","PropertyName":"LogicalName","Value":{"Type":"System.String","Value":"account"}},` +
		`{"ConditionOperator":"In","PropertyName":"LogicalName","Value":{"Type":"System.String[]","Value":["contact"]}}]},` +
		`"Properties":{"AllProperties":false,"PropertyNames":["SchemaName","Attributes"]},` +
		`"AttributeQuery":{"Criteria":{"FilterOperator":"And","Conditions":[{"ConditionOperator":"Equals","PropertyName":"AttributeType","Value":{"Type":"Microsoft.Xrm.Sdk.Metadata.AttributeTypeCode","Value":"Picklist"}}]},"Properties":{"AllProperties":false,"PropertyNames":["LogicalName","AttributeType"]}},` +
		`"LabelQuery":{"FilterLanguages":[1033],"MissingLabelBehavior":0}}`
	body := e.do("GET", "RetrieveMetadataChanges(Query=@p1)?@p1="+metaURL(query), nil).expect(t, 200).JSON(t)
	if body["@odata.context"] != e.api+"$metadata#Microsoft.Dynamics.CRM.RetrieveMetadataChangesResponse" || body["ServerVersionStamp"] == "" {
		t.Errorf("answer = %v", body)
	}
	list := body["EntityMetadata"].([]any)
	got := map[string][]string{}
	for _, x := range list {
		m := x.(map[string]any)
		if diff := cmp.Diff([]string{"Attributes", "MetadataId", "SchemaName"}, metaKeys(m)); diff != "" {
			t.Errorf("entity keys (-want +got):\n%s", diff)
		}
		var attrs []string
		for _, a := range m["Attributes"].([]any) {
			am := a.(map[string]any)
			if am["AttributeType"] != "Picklist" || am["@odata.type"] != "#"+crm+"PicklistAttributeMetadata" {
				t.Errorf("attribute query let through %v", am)
			}
			attrs = append(attrs, am["LogicalName"].(string))
		}
		sort.Strings(attrs)
		got[m["SchemaName"].(string)] = attrs
	}
	if len(got) != 2 {
		t.Errorf("tables = %v, want Account and Contact", keysOfList(got))
	}
	for table, want := range map[string][]string{"Account": {"accountcategorycode", "industrycode"}, "Contact": {"gendercode"}} {
		for _, w := range want {
			if i := sort.SearchStrings(got[table], w); i == len(got[table]) || got[table][i] != w {
				t.Errorf("%s lacks %s: %v", table, w, got[table])
			}
		}
	}
	all := e.do("GET", "RetrieveMetadataChanges(Query=@p1)?@p1="+metaURL(`{"Criteria":{"Conditions":[{"ConditionOperator":"GreaterThan","PropertyName":"ObjectTypeCode","Value":10000}]}}`), nil).expect(t, 200).JSON(t)
	var above []string
	for _, x := range all["EntityMetadata"].([]any) {
		above = append(above, x.(map[string]any)["LogicalName"].(string))
	}
	sort.Strings(above)
	// Custom API tables come with a solution and so get codes above 10000 too.
	if diff := cmp.Diff([]string{"customapi", "customapirequestparameter", "customapiresponseproperty", "msevtmgt_event"}, above); diff != "" {
		t.Errorf("tables with ObjectTypeCode > 10000 (-want +got):\n%s", diff)
	}
	e.do("GET", "RetrieveMetadataChanges(Query=@p1)?@p1="+metaURL(`{"Criteria":{"Conditions":[{"ConditionOperator":"Like","PropertyName":"LogicalName","Value":"a"}]}}`), nil).expect(t, 400)
	e.do("GET", "RetrieveMetadataChanges(Query=@p1)?@p1="+metaURL(`{not json`), nil).expect(t, 400)
}

func TestPublishActions(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.do("POST", "PublishXml", map[string]any{"ParameterXml": "<importexportxml><entities><entity>account</entity></entities></importexportxml>"}).expect(t, http.StatusNoContent)
	e.do("POST", "PublishAllXml", nil).expect(t, http.StatusNoContent)
	e.do("POST", "PublishAllXml", map[string]any{}).expect(t, http.StatusNoContent)
	e.do("POST", "PublishXml", map[string]any{}).expect(t, 400)
	e.do("POST", "PublishXml", map[string]any{"Other": 1, "ParameterXml": "<x/>"}).expect(t, 400)
	e.do("GET", "PublishAllXml", nil).expectError(t, 404, "", "No HTTP resource was found that matches the request URI '"+e.api+"PublishAllXml'.")
}

// Every type $metadata refers to in the mscrm namespace is defined in it: operation parameters and
// answers included, so that a client that reads the document can resolve them.
func TestCSDLTypesAreDefined(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	doc := string(e.do("GET", "$metadata", nil).expect(t, 200).Body)
	refs := regexp.MustCompile(`Type="(?:Collection\()?mscrm\.([A-Za-z_0-9]+)\)?"`).FindAllStringSubmatch(doc, -1)
	defined := map[string]bool{}
	for _, m := range regexp.MustCompile(`<(?:EntityType|ComplexType|EnumType) Name="([^"]+)"`).FindAllStringSubmatch(doc, -1) {
		defined[m[1]] = true
	}
	missing := map[string]bool{}
	for _, r := range refs {
		if !defined[r[1]] {
			missing[r[1]] = true
		}
	}
	if len(refs) == 0 || len(missing) > 0 {
		t.Errorf("%d type references; undefined: %v", len(refs), missing)
	}
}
