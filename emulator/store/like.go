package store

import (
	"database/sql"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/mattn/go-sqlite3"
)

// driverName is mattn/go-sqlite3 with the emulator's SQL functions registered on each connection,
// and the query planner stability guarantee on (qpsg.go).
const driverName = "sqlite3_dynlocal"

func init() {
	sql.Register(driverName, &sqlite3.SQLiteDriver{ConnectHook: connectHook})
}

// connectHook prepares each new connection.
func connectHook(conn *sqlite3.SQLiteConn) error {
	// Without the guarantee queries are slower, never wrong: a connection is not refused for it
	// (TestQueryPlannerStability catches a driver that no longer allows it).
	_, _ = setQPSG(conn, 1)
	return conn.RegisterFunc("dv_like", dvLike, true)
}

// dvLike reports whether value matches a Dataverse (SQL Server) LIKE pattern: % is any run of
// characters, _ any one character, [abc] or [a-c] one of a set and [^abc] one outside it; matching
// ignores case. A NULL value never matches.
func dvLike(pattern, value any) bool {
	p, ok1 := pattern.(string)
	v, ok2 := value.(string)
	if !ok1 || !ok2 {
		return false
	}
	return likeMatch(strings.ToLower(p), strings.ToLower(v))
}

func likeMatch(p, v string) bool {
	for len(p) > 0 {
		switch p[0] {
		case '%':
			for len(p) > 0 && p[0] == '%' {
				p = p[1:]
			}
			if p == "" {
				return true
			}
			for i := 0; i <= len(v); {
				if likeMatch(p, v[i:]) {
					return true
				}
				if i == len(v) {
					break
				}
				_, size := utf8.DecodeRuneInString(v[i:])
				i += size
			}
			return false
		case '_':
			if v == "" {
				return false
			}
			_, size := utf8.DecodeRuneInString(v)
			p, v = p[1:], v[size:]
		case '[':
			end := strings.IndexByte(p[1:], ']')
			if end < 0 || v == "" {
				// An unclosed bracket is a literal '['.
				if v == "" || v[0] != '[' {
					return false
				}
				p, v = p[1:], v[1:]
				continue
			}
			set := p[1 : end+1]
			r, size := utf8.DecodeRuneInString(v)
			if !inSet(set, r) {
				return false
			}
			p, v = p[end+2:], v[size:]
		default:
			pr, psize := utf8.DecodeRuneInString(p)
			vr, vsize := utf8.DecodeRuneInString(v)
			if v == "" || unicode.ToLower(pr) != unicode.ToLower(vr) {
				return false
			}
			p, v = p[psize:], v[vsize:]
		}
	}
	return v == ""
}

func inSet(set string, r rune) bool {
	neg := strings.HasPrefix(set, "^") && len(set) > 1
	if neg {
		set = set[1:]
	}
	found := false
	runes := []rune(set)
	for i := 0; i < len(runes); i++ {
		if i+2 < len(runes) && runes[i+1] == '-' {
			if r >= runes[i] && r <= runes[i+2] {
				found = true
			}
			i += 2
			continue
		}
		if runes[i] == r {
			found = true
		}
	}
	return found != neg
}
