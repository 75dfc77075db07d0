package store

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// SQLite refuses statements past its compile-time limits: an expression nested more than 1,000
// deep, more than 32,766 bound variables, more than 2,000 terms in an ORDER BY or a result. The
// compiler keeps clear of the first two (balanced AND/OR trees, long IN lists bound as one JSON
// array); whatever still hits a limit is the caller's query being too large, a 400, not a 500.

// inlineInValues is the longest IN list bound value by value; longer lists are bound as one JSON
// array read with json_each, so that no list can run out of variables.
const inlineInValues = 256

// maxVariables is SQLite's default SQLITE_MAX_VARIABLE_NUMBER.
const maxVariables = 32766

// flatTerms is the longest list of terms joined as one flat chain; SQLite nests a chain of n terms
// n deep.
const flatTerms = 64

// joinBalanced joins SQL terms with sep (" AND " or " OR "): a short list as one chain, a long one
// as a balanced tree of parentheses, so that n terms nest about 64 + log2(n) deep instead of n.
func joinBalanced(parts []string, sep string) string {
	if len(parts) <= flatTerms {
		return strings.Join(parts, sep)
	}
	mid := len(parts) / 2
	return "(" + joinBalanced(parts[:mid], sep) + ")" + sep + "(" + joinBalanced(parts[mid:], sep) + ")"
}

// jsonList encodes bound values as a JSON array for json_each, or reports false when a value has
// no exact JSON form (bytes, for instance).
func jsonList(vals []any) (string, bool) {
	for _, v := range vals {
		switch v.(type) {
		case string, int64, float64, nil:
		default:
			return "", false
		}
	}
	b, err := json.Marshal(vals)
	if err != nil {
		return "", false
	}
	return string(b), true
}

// sqlLimitMessages are the texts of SQLite's errors for a statement beyond its limits.
var sqlLimitMessages = []string{
	"Expression tree is too large",
	"too many SQL variables",
	"too many terms in ORDER BY",
	"too many terms in",
	"too many columns",
	"too many FROM clause terms",
	"parser stack overflow",
	"at most 64 tables in a join",
	"string or blob too big",
	"LIKE or GLOB pattern too complex",
}

// errQueryTooLarge is the answer to a query beyond SQLite's limits. Dataverse documents no single
// error for a query too large for its database; this one keeps Dataverse's status and generic
// invalid-argument code.
func errQueryTooLarge() error {
	return dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument,
		"The query is too large or too complex to run. Reduce the number of conditions, values, orders or columns and try again.")
}

// limitError turns an error of SQLite about one of its limits into a 400 and returns any other
// error as it is.
func limitError(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := dverr.As(err); ok {
		return err
	}
	msg := err.Error()
	for _, m := range sqlLimitMessages {
		if strings.Contains(msg, m) {
			return errors.Join(errQueryTooLarge(), err)
		}
	}
	return err
}

// flatten splices nested terms of the same kind (an Or inside an Or, an And inside an And) into
// one list, so that a parser's left-deep chain "a or b or c ..." compiles as a balanced tree.
func flatten(terms []model.Expr, or bool) []model.Expr {
	nested := false
	for _, t := range terms {
		if sub, ok := sameKind(t, or); ok && sub != nil {
			nested = true
			break
		}
	}
	if !nested {
		return terms
	}
	var out []model.Expr
	var walk func([]model.Expr)
	walk = func(ts []model.Expr) {
		for _, t := range ts {
			if sub, ok := sameKind(t, or); ok {
				walk(sub)
				continue
			}
			out = append(out, t)
		}
	}
	walk(terms)
	return out
}

// sameKind returns the terms of t when t is an Or (or is true) or an And (or is false).
func sameKind(t model.Expr, or bool) ([]model.Expr, bool) {
	switch x := model.Plain(t).(type) {
	case model.Or:
		return x.Terms, or
	case model.And:
		return x.Terms, !or
	}
	return nil, false
}
