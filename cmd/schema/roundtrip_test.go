package main

import (
	"context"
	"encoding/json"
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/emulator"
	"github.com/dynlocal/dynlocal/fixtures"
	"github.com/dynlocal/dynlocal/internal/target"
)

const crm = "#Microsoft.Dynamics.CRM."

func label(s string) map[string]any {
	return map[string]any{"LocalizedLabels": []any{map[string]any{"Label": s, "LanguageCode": 1033}}}
}

// startEmulator starts an emulator on a loopback port and returns a client with its development
// credentials.
func startEmulator(t *testing.T, set *fixtures.Set) (*client.Client, string) {
	t.Helper()
	srv, err := emulator.New(context.Background(), emulator.Config{Fixtures: set})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	if err := srv.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	c, err := target.Dev(srv.URL()).Client()
	if err != nil {
		t.Fatal(err)
	}
	return c, srv.URL()
}

// TestRoundTrip pulls a table created through the metadata API into a fixtures directory, starts a
// second emulator on it, and compares what both answer about the table.
//
// The emulator cannot create many-to-many relationships, alternate keys or columns bound to a global
// option set through the metadata API, so those parts come from the tenant's fixtures instead: the
// pull also takes account (alternate key dynlocal_accountnumber, many-to-many
// accountleads_association), and the tenant starts with one global option set.
func TestRoundTrip(t *testing.T) {
	ctx := context.Background()
	set, err := fixtures.Default()
	if err != nil {
		t.Fatal(err)
	}
	set.OptionSets = append(set.OptionSets, json.RawMessage(`{"@odata.type": "#Microsoft.Dynamics.CRM.OptionSetMetadata", "MetadataId": "6a1f3c2e-0000-4000-8000-0000000000f1",
		"Name": "new_size", "IsGlobal": true, "OptionSetType": "Picklist", "DisplayName": {"LocalizedLabels": [{"Label": "Size", "LanguageCode": 1033}]},
		"Options": [{"Value": 1, "Label": {"LocalizedLabels": [{"Label": "Small", "LanguageCode": 1033}]}}]}`))
	tenant, tenantURL := startEmulator(t, set)

	table := client.Record{
		"@odata.type": crm + "EntityMetadata", "SchemaName": "new_Vault", "OwnershipType": "UserOwned",
		"HasActivities": false, "HasNotes": true, "DisplayName": label("Vault"), "DisplayCollectionName": label("Vaults"),
		"Attributes": []any{map[string]any{"@odata.type": crm + "StringAttributeMetadata", "SchemaName": "new_Name", "IsPrimaryName": true,
			"MaxLength": 100, "FormatName": map[string]any{"Value": "Text"}, "RequiredLevel": map[string]any{"Value": "None"}, "DisplayName": label("Name")}},
	}
	if _, _, err := tenant.CreateEntity(ctx, table, nil); err != nil {
		t.Fatal(err)
	}
	opts := func(labels ...string) []any {
		var out []any
		for i, l := range labels {
			out = append(out, map[string]any{"Value": 100000000 + i, "Label": label(l)})
		}
		return out
	}
	columns := []client.Record{
		{"@odata.type": crm + "StringAttributeMetadata", "SchemaName": "new_Code", "MaxLength": 20, "FormatName": map[string]any{"Value": "Email"}, "DisplayName": label("Code")},
		{"@odata.type": crm + "MemoAttributeMetadata", "SchemaName": "new_Notes", "MaxLength": 4000, "DisplayName": label("Notes")},
		{"@odata.type": crm + "IntegerAttributeMetadata", "SchemaName": "new_Quantity", "MinValue": 0, "MaxValue": 1000, "DisplayName": label("Quantity")},
		{"@odata.type": crm + "BigIntAttributeMetadata", "SchemaName": "new_Big", "DisplayName": label("Big")},
		{"@odata.type": crm + "DecimalAttributeMetadata", "SchemaName": "new_Rate", "Precision": 3, "MinValue": -1000, "MaxValue": 1000, "DisplayName": label("Rate")},
		{"@odata.type": crm + "DoubleAttributeMetadata", "SchemaName": "new_Score", "Precision": 2, "DisplayName": label("Score")},
		{"@odata.type": crm + "MoneyAttributeMetadata", "SchemaName": "new_Balance", "PrecisionSource": 2, "DisplayName": label("Balance")},
		{"@odata.type": crm + "BooleanAttributeMetadata", "SchemaName": "new_Active", "DefaultValue": false, "DisplayName": label("Active"),
			"OptionSet": map[string]any{"TrueOption": map[string]any{"Value": 1, "Label": label("Open")}, "FalseOption": map[string]any{"Value": 0, "Label": label("Closed")}}},
		{"@odata.type": crm + "DateTimeAttributeMetadata", "SchemaName": "new_Opened", "Format": "DateOnly", "DateTimeBehavior": map[string]any{"Value": "DateOnly"}, "DisplayName": label("Opened")},
		{"@odata.type": crm + "DateTimeAttributeMetadata", "SchemaName": "new_LastSeen", "Format": "DateAndTime", "DisplayName": label("Last Seen")},
		{"@odata.type": crm + "PicklistAttributeMetadata", "SchemaName": "new_Kind", "DisplayName": label("Kind"),
			"OptionSet": map[string]any{"@odata.type": crm + "OptionSetMetadata", "IsGlobal": false, "OptionSetType": "Picklist", "Options": opts("Checking", "Savings")}},
		{"@odata.type": crm + "MultiSelectPicklistAttributeMetadata", "SchemaName": "new_Tags", "DisplayName": label("Tags"),
			"OptionSet": map[string]any{"IsGlobal": false, "OptionSetType": "Picklist", "Options": opts("Red", "Green", "Blue")}},
	}
	for _, col := range columns {
		if _, _, err := tenant.CreateAttribute(ctx, "new_vault", col, nil); err != nil {
			t.Fatalf("%s: %v", col["SchemaName"], err)
		}
	}
	rel := map[string]any{
		"@odata.type": crm + "OneToManyRelationshipMetadata", "SchemaName": "new_account_new_vault",
		"ReferencedEntity": "account", "ReferencedAttribute": "accountid", "ReferencingEntity": "new_vault",
		"Lookup": map[string]any{"@odata.type": crm + "LookupAttributeMetadata", "SchemaName": "new_AccountId", "DisplayName": label("Account")},
	}
	if _, err := tenant.Do(ctx, &client.RawRequest{Method: "POST", Path: "/api/data/v9.2/RelationshipDefinitions", JSON: rel}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	// Rows come along so that the second emulator has the users its credentials sign in as.
	if err := pull(ctx, tenant, pullOptions{out: dir, tables: []string{"new_vault", "account"}, rows: 50}, t.Logf); err != nil {
		t.Fatal(err)
	}
	pulled, err := fixtures.LoadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	copyClient, copyURL := startEmulator(t, pulled)

	get := func(c *client.Client, org, path string) string {
		t.Helper()
		raw, err := c.Do(ctx, &client.RawRequest{Method: "GET", Path: "/api/data/v9.2/" + path, ResponseType: client.ResponseText})
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		return strings.ReplaceAll(raw.Text, org, "ORG")
	}
	for _, path := range []string{
		"EntityDefinitions(LogicalName='new_vault')?$expand=Attributes,Keys",
		"EntityDefinitions(LogicalName='account')?$expand=Attributes,Keys",
		"EntityDefinitions(LogicalName='new_vault')/Attributes/Microsoft.Dynamics.CRM.PicklistAttributeMetadata?$expand=OptionSet",
		"EntityDefinitions(LogicalName='new_vault')/Attributes/Microsoft.Dynamics.CRM.LookupAttributeMetadata",
		"EntityDefinitions(LogicalName='new_vault')/ManyToOneRelationships",
		"EntityDefinitions(LogicalName='new_vault')/OneToManyRelationships",
		"EntityDefinitions(LogicalName='account')/ManyToManyRelationships",
		"RelationshipDefinitions(SchemaName='new_account_new_vault')",
		"GlobalOptionSetDefinitions",
	} {
		// Compared as JSON values: the pulled files hold each object's properties in sorted order.
		var want, got any
		if err := json.Unmarshal([]byte(get(tenant, tenantURL, path)), &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(get(copyClient, copyURL, path)), &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("GET %s differs (-tenant +copy):\n%s", path, diff)
		}
	}
	typeRE := regexp.MustCompile(`(?s)<EntityType Name="new_vault".*?</EntityType>`)
	setRE := regexp.MustCompile(`(?s)<EntitySet Name="new_vaults".*?</EntitySet>`)
	want, got := get(tenant, tenantURL, "$metadata"), get(copyClient, copyURL, "$metadata")
	for _, re := range []*regexp.Regexp{typeRE, setRE} {
		w, g := re.FindString(want), re.FindString(got)
		if w == "" {
			t.Fatalf("$metadata of the tenant has no %s", re)
		}
		if diff := cmp.Diff(w, g); diff != "" {
			t.Errorf("$metadata %s differs (-tenant +copy):\n%s", re, diff)
		}
	}
}
