package store

import (
	"net/http"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// checkReadable refuses a query that reads, filters, orders, groups or aggregates on a column not
// valid for read, whichever front end built it. Dataverse documents no message for this case; the
// answer is the query builder's error for a column the table does not have (400, 0x80041103), the
// same as a FetchXML condition on an unknown column gets, since such a column is invisible to reads.
func checkReadable(q *model.Query) error {
	e, a := q.Unreadable()
	if a == nil {
		return nil
	}
	name := q.Entity.LogicalName
	if e != nil {
		name = e.LogicalName
	}
	return dverr.New(http.StatusBadRequest, dverr.CodeQueryBuilderNoAttr,
		"'%s' entity doesn't contain attribute with Name = '%s' and NameMapping = 'Logical'.", name, a.LogicalName)
}
