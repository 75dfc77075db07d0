package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// A small Dataverse metadata store for the metadata tests: four tables with a few columns each,
// served the way Dataverse serves them (labels, managed properties, @odata.type on columns, casts,
// 404 envelopes). It ignores $select; the tests check what was asked for on the recorded requests.

const (
	accountMetaID  = "70816501-edb9-4740-a16c-6a5efbc05d84"
	contactMetaID  = "608861bc-50a4-4c5f-a02c-21fe1943e2cf"
	invoiceMetaID  = "11111111-2222-4333-8444-555555555555"
	addressMetaID  = "22222222-3333-4444-8555-666666666666"
	newColumnID    = "f11bef16-287c-e511-80d2-00155d2a68d2"
	newEntityID    = "417129e1-207c-e511-80d2-00155d2a68d2"
	nameColumnID   = "a1b2c3d4-0000-4000-8000-000000000010"
	unknownTableID = "99999999-9999-4999-8999-999999999999"
)

// label renders a Dataverse label: the first text is the user's, each text has its language.
func metaLabel(texts ...any) map[string]any {
	if len(texts) == 0 {
		return map[string]any{"LocalizedLabels": []any{}, "UserLocalizedLabel": nil}
	}
	var list []any
	for i := 0; i+1 < len(texts); i += 2 {
		list = append(list, map[string]any{"Label": texts[i], "LanguageCode": texts[i+1], "IsManaged": true,
			"MetadataId": "2a4901bf-2241-db11-898a-0007e9e17ebd", "HasChanged": nil})
	}
	return map[string]any{"LocalizedLabels": list, "UserLocalizedLabel": list[0]}
}

func metaManaged(v any, name string) map[string]any {
	return map[string]any{"Value": v, "CanBeChanged": true, "ManagedPropertyLogicalName": name}
}

func metaEntity(id, logical, schema, set, display, plural string, otc int, custom, child bool) map[string]any {
	return map[string]any{
		"MetadataId": id, "LogicalName": logical, "SchemaName": schema, "EntitySetName": set,
		"DisplayName": metaLabel(display, 1033), "DisplayCollectionName": metaLabel(plural, 1033),
		"Description": metaLabel(), "PrimaryIdAttribute": logical + "id", "PrimaryNameAttribute": "name",
		"ObjectTypeCode": otc, "OwnershipType": "UserOwned", "IsCustomEntity": custom, "IsChildEntity": child,
		"IsActivity": false, "IsIntersect": false, "IsValidForQueue": metaManaged(false, "canmodifyqueuesettings"),
		"IsValidForAdvancedFind": true,
	}
}

func metaAttribute(entity, logical, typ, class, display string, custom, primaryID, primaryName bool) map[string]any {
	a := map[string]any{
		"@odata.type": "#Microsoft.Dynamics.CRM." + class, "MetadataId": attributeIDs[entity+"."+logical],
		"LogicalName": logical, "SchemaName": logical, "EntityLogicalName": entity, "AttributeType": typ,
		"AttributeTypeName": map[string]any{"Value": typ + "Type"}, "IsCustomAttribute": custom,
		"IsPrimaryId": primaryID, "IsPrimaryName": primaryName, "IsValidForRead": true,
		"IsValidForCreate": !primaryID, "IsValidForUpdate": !primaryID, "IsSecured": false,
		"IsAuditEnabled": metaManaged(true, "canmodifyauditsettings"), "IsValidForAdvancedFind": metaManaged(true, "canmodifysearchsettings"),
		"RequiredLevel": metaManaged("None", "canmodifyrequirementlevelsettings"), "Description": metaLabel(),
	}
	if display != "" {
		a["DisplayName"] = metaLabel(display, 1033)
	} else {
		a["DisplayName"] = metaLabel()
	}
	return a
}

var attributeIDs = map[string]string{"account.name": nameColumnID}

func metaStore() (entities []map[string]any, attributes map[string][]map[string]any) {
	entities = []map[string]any{
		metaEntity(contactMetaID, "contact", "Contact", "contacts", "Contact", "Contacts", 2, false, false),
		metaEntity(accountMetaID, "account", "Account", "accounts", "Account", "Accounts", 1, false, false),
		metaEntity(invoiceMetaID, "new_invoice", "new_Invoice", "new_invoices", "Invoice", "Invoices", 10010, true, false),
		metaEntity(addressMetaID, "customeraddress", "CustomerAddress", "customeraddresses", "Address", "Addresses", 1071, false, true),
	}
	entities[0]["DisplayName"] = metaLabel("Contact", 1033, "Kontakt", 1031)
	attributes = map[string][]map[string]any{
		"account": {
			metaAttribute("account", "name", "String", "StringAttributeMetadata", "Account Name", false, false, true),
			metaAttribute("account", "accountid", "Uniqueidentifier", "UniqueIdentifierAttributeMetadata", "Account", false, true, false),
			metaAttribute("account", "revenue", "Money", "MoneyAttributeMetadata", "Annual Revenue", false, false, false),
			metaAttribute("account", "new_balance", "Money", "MoneyAttributeMetadata", "Balance", true, false, false),
			metaAttribute("account", "primarycontactid", "Lookup", "LookupAttributeMetadata", "Primary Contact", false, false, false),
			metaAttribute("account", "ownerid", "Owner", "LookupAttributeMetadata", "Owner", false, false, false),
			metaAttribute("account", "versionnumber", "BigInt", "BigIntAttributeMetadata", "", false, false, false),
		},
		"contact": {
			metaAttribute("contact", "contactid", "Uniqueidentifier", "UniqueIdentifierAttributeMetadata", "Contact", false, true, false),
			metaAttribute("contact", "fullname", "String", "StringAttributeMetadata", "Full Name", false, false, true),
			metaAttribute("contact", "parentcustomerid", "Customer", "LookupAttributeMetadata", "Company Name", false, false, false),
		},
		"new_invoice": {
			metaAttribute("new_invoice", "new_invoiceid", "Uniqueidentifier", "UniqueIdentifierAttributeMetadata", "Invoice", true, true, false),
			metaAttribute("new_invoice", "new_name", "String", "StringAttributeMetadata", "Name", true, false, true),
		},
		"customeraddress": {
			metaAttribute("customeraddress", "customeraddressid", "Uniqueidentifier", "UniqueIdentifierAttributeMetadata", "Address", false, true, false),
		},
	}
	attributes["account"][0]["MaxLength"] = 160
	return entities, attributes
}

var (
	entityPathPattern = regexp.MustCompile(`^/api/data/v9\.2/EntityDefinitions\(([^)]*)\)(/Attributes)?(?:\(([^)]*)\))?(?:/([A-Za-z.]+))?$`)
	filterEqPattern   = regexp.MustCompile(`(?:^|[\s(])(\w+) eq (?:Microsoft\.Dynamics\.CRM\.\w+)?('[^']*'|true|false)`)
)

func metaWriteJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	reply(w, status, string(b))
}

func metaNotFound(w http.ResponseWriter, msg string) {
	metaWriteJSON(w, http.StatusNotFound, map[string]any{"error": map[string]any{"code": "0x80060888", "message": msg}})
}

// metaMatchesFilter applies the conjunction of "Name eq value" terms in a $filter to an item.
func metaMatchesFilter(item map[string]any, filter string) bool {
	for _, m := range filterEqPattern.FindAllStringSubmatch(filter, -1) {
		want := strings.Trim(m[2], "'")
		var got string
		switch v := item[m[1]].(type) {
		case string:
			got = v
		case bool:
			got = strconv.FormatBool(v)
		}
		if got != want {
			return false
		}
	}
	return true
}

// metadataHandler answers metadata requests from metaStore.
func metadataHandler(t *testing.T) func(w http.ResponseWriter, r *http.Request, n int) {
	entities, attributes := metaStore()
	findEntity := func(key string) map[string]any {
		logical, byName := strings.CutPrefix(key, "LogicalName=")
		logical = strings.Trim(logical, "'")
		for _, e := range entities {
			if (byName && e["LogicalName"] == logical) || (!byName && e["MetadataId"] == key) {
				return e
			}
		}
		return nil
	}
	return func(w http.ResponseWriter, r *http.Request, n int) {
		base := "http://" + r.Host + "/api/data/v9.2/"
		q := r.URL.Query()
		if r.URL.Path == "/api/data/v9.2/" {
			fakeServiceDocument(w, r, base)
			return
		}
		if r.URL.Path == "/api/data/v9.2/EntityDefinitions" {
			switch r.Method {
			case http.MethodGet:
				var list []any
				for _, e := range entities {
					if metaMatchesFilter(e, q.Get("$filter")) {
						list = append(list, e)
					}
				}
				metaWriteJSON(w, http.StatusOK, map[string]any{"@odata.context": base + "$metadata#EntityDefinitions", "value": list})
			case http.MethodPost:
				reply(w, http.StatusNoContent, "", "OData-EntityId", base+"EntityDefinitions("+newEntityID+")")
			}
			return
		}
		m := entityPathPattern.FindStringSubmatch(r.URL.Path)
		if m == nil {
			metaNotFound(w, "Resource not found for the segment '"+r.URL.Path+"'.")
			return
		}
		entity := findEntity(m[1])
		if entity == nil {
			metaNotFound(w, fmt.Sprintf("Could not find entity with key %s", m[1]))
			return
		}
		if m[2] == "" {
			switch r.Method {
			case http.MethodGet:
				metaWriteJSON(w, http.StatusOK, entity)
			case http.MethodDelete:
				reply(w, http.StatusNoContent, "")
			}
			return
		}
		attrs := attributes[entity["LogicalName"].(string)]
		cast := m[4]
		ofCast := func(a map[string]any) bool {
			return cast == "" || a["@odata.type"] == "#"+cast
		}
		if m[3] == "" {
			switch r.Method {
			case http.MethodGet:
				if cast != "" && !strings.HasSuffix(cast, "AttributeMetadata") {
					metaNotFound(w, "Resource not found for the segment '"+cast+"'.")
					return
				}
				list := []any{}
				for _, a := range attrs {
					if ofCast(a) && metaMatchesFilter(a, q.Get("$filter")) {
						list = append(list, a)
					}
				}
				metaWriteJSON(w, http.StatusOK, map[string]any{"value": list})
			case http.MethodPost:
				reply(w, http.StatusNoContent, "", "OData-EntityId",
					base+"EntityDefinitions("+entity["MetadataId"].(string)+")/Attributes("+newColumnID+")")
			}
			return
		}
		var attr map[string]any
		for _, a := range attrs {
			if "LogicalName='"+a["LogicalName"].(string)+"'" == m[3] || a["MetadataId"] == m[3] {
				attr = a
			}
		}
		if attr == nil || !ofCast(attr) {
			metaNotFound(w, "Could not find attribute "+m[3])
			return
		}
		switch r.Method {
		case http.MethodGet:
			metaWriteJSON(w, http.StatusOK, attr)
		case http.MethodPut:
			reply(w, http.StatusNoContent, "", "OData-EntityId", base+strings.TrimPrefix(r.URL.Path, "/api/data/v9.2/"))
		case http.MethodDelete:
			reply(w, http.StatusNoContent, "")
		}
	}
}

// serviceDocument serves five entity sets, two per page when a page size is asked for.
func fakeServiceDocument(w http.ResponseWriter, r *http.Request, base string) {
	names := []string{"accounts", "contacts", "new_invoices", "customeraddresses", "WhoAmI"}
	start := 0
	if s := r.URL.Query().Get("$skiptoken"); s != "" {
		start, _ = strconv.Atoi(s)
	}
	end := len(names)
	doc := map[string]any{"@odata.context": base + "$metadata"}
	if strings.Contains(r.Header.Get("Prefer"), "odata.maxpagesize=2") && start+2 < end {
		end = start + 2
		doc["@odata.nextLink"] = base + "?$skiptoken=" + url.QueryEscape(strconv.Itoa(end))
	}
	var list []any
	for _, n := range names[start:end] {
		kind := "EntitySet"
		if n == "WhoAmI" {
			kind = "FunctionImport"
		}
		list = append(list, map[string]any{"name": n, "kind": kind, "url": n})
	}
	doc["value"] = list
	metaWriteJSON(w, http.StatusOK, doc)
}

// newMetadataFake starts a fake Dataverse that serves metaStore.
func newMetadataFake(t *testing.T) (*fakeDataverse, *Client) {
	t.Helper()
	f := newFake(t, metadataHandler(t))
	return f, newTestClient(t, f)
}

// requestLines renders recorded requests as "METHOD path?query" lines.
func metaRequestLines(reqs []seen) []string {
	out := make([]string, 0, len(reqs))
	for _, r := range reqs {
		line := r.Method + " " + r.Path
		if r.RawQuery != "" {
			line += "?" + r.RawQuery
		}
		out = append(out, line)
	}
	return out
}
