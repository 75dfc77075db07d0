package emulator_test

import (
	"database/sql"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// handWritten is the yardstick for BenchmarkKit's reads of every column: a hand-written
// handler over database/sql and go-sqlite3 that reads the emulator's own data file and returns
// the same rows with every column (SELECT *, NULL as null), as the kit's hand-written floor
// would if it returned what a Dataverse read without $select returns. It has no OData parser,
// metadata, auth, ETags or journal, and knows only the kit's three read URLs.
type handWritten struct {
	w1, w2, w4 *sql.Stmt

	mu     sync.Mutex
	shapes map[*sql.Stmt]*handShape
}

// handShape is what the handler works out once per statement: each column's key with its colon,
// and whether its values are quoted (declared anything but INTEGER or REAL).
type handShape struct {
	keys   [][]byte
	quoted []bool
}

func newHandWritten(b *testing.B, path string) *handWritten {
	// The emulator's own driver registration, for the same connection settings: without the
	// query planner stability guarantee SQLite prepares these statements again on every run.
	db, err := sql.Open("sqlite3_dynlocal", "file:"+path+"?_busy_timeout=10000&_query_only=1&_stmt_cache_size=16")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	prep := func(q string) *sql.Stmt {
		st, err := db.Prepare(q)
		if err != nil {
			b.Fatal(err)
		}
		return st
	}
	return &handWritten{
		w1:     prep(`SELECT * FROM account WHERE numberofemployees >= ? ORDER BY name, accountid LIMIT ?`),
		w2:     prep(`SELECT * FROM account WHERE accountid = ?`),
		w4:     prep(`SELECT * FROM contact WHERE parentcustomerid = ? ORDER BY contactid`),
		shapes: map[*sql.Stmt]*handShape{},
	}
}

func (h *handWritten) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := strings.TrimPrefix(r.URL.Path, "/api/data/v9.2/")
	q := r.URL.Query()
	switch {
	case p == "accounts":
		n, _ := strconv.Atoi(strings.TrimPrefix(q.Get("$filter"), "numberofemployees ge "))
		top, _ := strconv.Atoi(q.Get("$top"))
		h.list(w, h.w1, "accounts", n, top)
	case strings.HasPrefix(p, "accounts(") && strings.HasSuffix(p, ")"):
		h.one(w, h.w2, "accounts", p[len("accounts("):len(p)-1])
	case p == "contacts":
		h.list(w, h.w4, "contacts", strings.TrimPrefix(q.Get("$filter"), "_parentcustomerid_value eq "))
	default:
		http.NotFound(w, r)
	}
}

func (h *handWritten) shape(st *sql.Stmt, rows *sql.Rows) (*handShape, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if s := h.shapes[st]; s != nil {
		return s, nil
	}
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	s := &handShape{}
	for _, t := range types {
		k, _ := json.Marshal(t.Name())
		s.keys = append(s.keys, append(k, ':'))
		dt := t.DatabaseTypeName()
		s.quoted = append(s.quoted, dt != "INTEGER" && dt != "REAL")
	}
	h.shapes[st] = s
	return s, nil
}

// rows runs st and writes each row as a JSON object after prefix; one is true for a single
// row written as the body's own object.
func (h *handWritten) rows(st *sql.Stmt, prefix string, one bool, args ...any) ([]byte, bool, error) {
	rows, err := st.Query(args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	s, err := h.shape(st, rows)
	if err != nil {
		return nil, false, err
	}
	vals := make([]sql.RawBytes, len(s.keys))
	ptrs := make([]any, len(vals))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	b := append(handBuffer(), prefix...)
	found := false
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return nil, false, err
		}
		if found {
			b = append(b, ',')
		}
		found = true
		if !one {
			b = append(b, '{')
		} // else the row's members join the prefix's object
		for i, v := range vals {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, s.keys[i]...)
			switch {
			case v == nil:
				b = append(b, "null"...)
			case s.quoted[i]:
				b = appendHandString(b, v)
			default:
				b = append(b, v...)
			}
		}
		b = append(b, '}')
	}
	return b, found, rows.Err()
}

func (h *handWritten) one(w http.ResponseWriter, st *sql.Stmt, set, id string) {
	b, found, err := h.rows(st, `{"@odata.context":"http://127.0.0.1/api/data/v9.2/$metadata#`+set+`/$entity",`, true, id)
	switch {
	case err != nil:
		http.Error(w, err.Error(), http.StatusInternalServerError)
	case !found:
		http.NotFound(w, nil)
	default:
		handReply(w, b)
	}
}

func (h *handWritten) list(w http.ResponseWriter, st *sql.Stmt, set string, args ...any) {
	b, _, err := h.rows(st, `{"@odata.context":"http://127.0.0.1/api/data/v9.2/$metadata#`+set+`","value":[`, false, args...)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	handReply(w, append(b, "]}"...))
}

func handReply(w http.ResponseWriter, b []byte) {
	h := w.Header()
	h.Set("Content-Type", "application/json; odata.metadata=minimal")
	h.Set("OData-Version", "4.0")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	b = b[:0]
	handBuffers.Put(&b)
}

// handBuffers keeps answers' buffers for reuse, as the emulator does.
var handBuffers sync.Pool

func handBuffer() []byte {
	if b, ok := handBuffers.Get().(*[]byte); ok {
		return *b
	}
	return make([]byte, 0, 16<<10)
}

// appendHandString writes s as a JSON string (it escapes quotes, backslashes and control
// characters; the rest of UTF-8 passes as it is).
func appendHandString(b, s []byte) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, c := range s {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&15])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}
