package emulator_test

import "testing"

// TestReservedTableNames checks that a new table can't take a name that shadows a Web API path
// or operation, or one of the store's own tables.
func TestReservedTableNames(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ name, set string }{
		{"new_Thing", "WhoAmI"},
		{"new_Thing", "entitydefinitions"},
		{"new_Thing", "$metadata"},
		{"new_Thing", "RelationshipDefinitions"},
		{"sqlite_master", "sqlitemasters"},
		{"_dynlocal_x", "dynlocalxs"},
		{"new_Account2", "Accounts"},
	} {
		t.Run(tc.set, func(t *testing.T) {
			def := metaTableDef(tc.name, "Thing")
			def["EntitySetName"] = tc.set
			e.do("POST", "EntityDefinitions", def).expect(t, 400)
		})
	}
	e.do("GET", "WhoAmI", nil).expect(t, 200)
	e.do("GET", "EntityDefinitions(LogicalName='account')?$select=LogicalName", nil).expect(t, 200)
}
