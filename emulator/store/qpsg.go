package store

/*
typedef struct sqlite3 sqlite3;
extern int sqlite3_db_config(sqlite3*, int op, ...);

// dynlocal_qpsg sets SQLITE_DBCONFIG_ENABLE_QPSG (1007) to on (1), off (0) or leaves it (-1),
// and returns the setting, or -1 when SQLite refuses.
static int dynlocal_qpsg(void *db, int on) {
	int got = -1;
	if (sqlite3_db_config((sqlite3*)db, 1007, on, &got) != 0) return -1;
	return got;
}
*/
import "C"

import (
	"errors"
	"reflect"

	"github.com/mattn/go-sqlite3"
)

// SQLite's query planner may use the values bound to a statement's parameters when it plans it
// (a LIMIT, an equality on an indexed column beside an ORDER BY); a statement so planned is
// prepared again on every run with new values. On the store's wide tables (a standard table has a
// few hundred columns) that preparation was ten times the query itself (~200 us for the contacts
// of one account) and defeated the statement cache. The query planner stability guarantee (QPSG)
// makes the plan depend on the SQL text alone. go-sqlite3 exposes no sqlite3_db_config, so the
// connection's handle is read from its (unexported) field; the version is pinned in go.mod and
// TestQueryPlannerStability fails if that ever stops working.

// setQPSG turns the guarantee on (1) or off (0) for a connection, or leaves it (-1), and reports
// the setting now.
func setQPSG(conn *sqlite3.SQLiteConn, mode int) (bool, error) {
	v := reflect.ValueOf(conn).Elem().FieldByName("db")
	if !v.IsValid() || v.Kind() != reflect.Pointer || v.IsNil() {
		return false, errors.New("store: the sqlite3 connection has no handle to configure")
	}
	got := C.dynlocal_qpsg(v.UnsafePointer(), C.int(mode))
	if got < 0 {
		return false, errors.New("store: SQLite refused SQLITE_DBCONFIG_ENABLE_QPSG")
	}
	return got == 1, nil
}
