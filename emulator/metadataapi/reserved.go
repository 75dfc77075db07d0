package metadataapi

import (
	"strings"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/webapi"
)

// internalPrefixes start the names of tables SQLite and the store keep for themselves.
var internalPrefixes = []string{"sqlite_", "_dynlocal", "_meta"}

// checkEntityNames refuses a new table whose names would collide with the store's own tables or
// whose entity set name would shadow a path or operation of the Web API. Dataverse reserves such
// names too; the answer is its duplicate-name error, as for a name already in use.
func checkEntityNames(e *model.Entity) error {
	for _, n := range []string{e.LogicalName, e.SchemaName, e.EntitySetName} {
		low := strings.ToLower(n)
		for _, p := range internalPrefixes {
			if strings.HasPrefix(low, p) {
				return metadataDuplicate("The name '%s' is reserved. Choose a different schema name.", n)
			}
		}
	}
	for _, n := range []string{e.EntitySetName, e.SchemaName, e.LogicalName} {
		if webapi.IsReservedName(n) {
			return metadataDuplicate("The entity set name '%s' is already in use. Choose a different schema name.", n)
		}
	}
	return nil
}
