package emulator_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator"
)

// The webhook queue's pick of waiting jobs (by state, in sequence order) is served by an index, so
// a backlog of many thousand jobs is not sorted on every pick.
func TestWebhookQueueIsIndexed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	srv, err := emulator.New(context.Background(), emulator.Config{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv.Close()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(dir, "dynlocal.sqlite")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`EXPLAIN QUERY PLAN SELECT t0.asyncoperationid FROM asyncoperation t0
		WHERE t0.statecode IN (0) AND t0.operationtype = 1 AND t0.owningextensionid IS NOT NULL AND t0.data IS NOT NULL
		ORDER BY t0.sequence, t0.asyncoperationid LIMIT 16`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if !strings.Contains(strings.Join(plan, "\n"), "ix_asyncoperation_queue") {
		t.Errorf("the queue's query does not use its index:\n%s", strings.Join(plan, "\n"))
	}
}
