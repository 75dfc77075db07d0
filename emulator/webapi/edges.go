package webapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// emptyGUID is Guid.Empty, which Dataverse never takes as a record's id.
const emptyGUID = "00000000-0000-0000-0000-000000000000"

// minDateTime is the earliest value a Dataverse DateTime column holds (SQL Server's datetime).
var minDateTime = time.Date(1753, 1, 1, 0, 0, 0, 0, time.UTC)

// checkDateRange refuses a DateTime value before 1753-01-01, which Dataverse can't store.
func checkDateRange(a *model.Attribute, t time.Time) error {
	if t.Before(minDateTime) {
		// The message is Dataverse's for a date out of range; the code is its invalid-argument
		// code, as no dedicated one is documented.
		return dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument,
			"The date-time format for %s is invalid, or value is outside the supported range.", a.LogicalName)
	}
	return nil
}

// checkRecordID refuses the empty GUID as the id of a record to create. Dataverse documents no
// message for it; this is its invalid-argument answer for a primary key it can't use.
func checkRecordID(e *model.Entity, id string) error {
	if strings.EqualFold(id, emptyGUID) {
		return dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument,
			"The value %s of '%s' on record of type '%s' is not a valid id: the empty GUID can't identify a record.", id, e.PrimaryIDAttribute, e.LogicalName)
	}
	return nil
}
