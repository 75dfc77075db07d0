package model

import "errors"

// Query is the one query model behind OData and FetchXML: a root table, the columns to read, a
// filter tree, joins along relationships, orderings, grouping and aggregates, a page size and a
// keyset page position. Front ends build a Query from resolved metadata; only this package turns it
// into SQL, with every value bound as a parameter.
type Query struct {
	// Entity is the root table.
	Entity *Entity
	// Columns are the root columns to read; nil reads every stored column.
	Columns []*Attribute
	// Links are joined tables whose columns come back with each row (FetchXML link-entity, and the
	// N:1 joins of OData paths are added by the compiler on demand).
	Links []*Link
	// Filter restricts the rows; nil keeps every row.
	Filter Expr
	// Order sorts the rows. The compiler appends the primary key so the order is total, which
	// keyset paging needs.
	Order []Order
	// Top caps the number of rows (0: no cap). Unlike PageSize it never yields a next page.
	Top int
	// PageSize is the number of rows a page holds (0: no paging). Select reads one extra row to
	// know whether another page follows.
	PageSize int
	// After is the keyset position of the last row of the previous page.
	After *Position
	// Offset skips rows before the first one returned. FetchXML paging by page number alone (no
	// cookie) needs it; keyset positions are preferred because they are stable while rows change.
	Offset int
	// Distinct removes duplicate rows (over the selected columns).
	Distinct bool

	// GroupBy and Aggregates make an aggregate query: one row per group, keyed by alias.
	GroupBy    []GroupBy
	Aggregates []Aggregate
}

// Link is a joined table.
type Link struct {
	// Alias names the link in results and in Column.Link.
	Alias string
	// Entity is the joined table.
	Entity *Entity
	// From is the column of the joined table, To the column of the parent (the root when Parent is
	// nil) that must be equal.
	From, To string
	// Parent is the link this one hangs from, nil for the root.
	Parent *Link
	// Outer keeps parent rows that have no match (LEFT JOIN); otherwise INNER JOIN.
	Outer bool
	// Columns are read from the joined table; nil reads none.
	Columns []*Attribute
	// Filter applies to the joined table's rows (in the ON clause for outer links).
	Filter Expr
}

// Order is one sort key: a column, or an aggregate alias in aggregate queries.
type Order struct {
	Column *Column
	// Alias sorts by a GroupBy or Aggregate alias.
	Alias string
	Desc  bool
}

// Position is a keyset page position: the values of the order columns and the primary key of a
// row, in order. Rows strictly after it come next.
type Position struct {
	Values []any
	ID     string
	// Page is the 1-based number of the page that ends at this position.
	Page int
}

// ErrBadPosition reports a paging cookie or skip token that does not fit the query.
var ErrBadPosition = errors.New("invalid paging cookie")

// GroupBy groups an aggregate query by a column, optionally by a part of a date.
type GroupBy struct {
	Column *Column
	Alias  string
	// DatePart is "", "day", "week", "month", "quarter", "year", "fiscal-period" or "fiscal-year".
	DatePart string
}

// AggregateFunc is an aggregate function.
type AggregateFunc string

// Aggregate functions.
const (
	AggCount         AggregateFunc = "count"         // rows
	AggCountColumn   AggregateFunc = "countcolumn"   // non-null values
	AggCountDistinct AggregateFunc = "countdistinct" // distinct non-null values
	AggSum           AggregateFunc = "sum"
	AggAvg           AggregateFunc = "avg"
	AggMin           AggregateFunc = "min"
	AggMax           AggregateFunc = "max"
)

// Aggregate is one aggregate value of an aggregate query.
type Aggregate struct {
	Func AggregateFunc
	// Column is nil for AggCount.
	Column *Column
	Alias  string
}

// Column is a column of the root table, of a link (Link set), or reached through single-valued
// navigation properties from the root (Path; the compiler joins them).
type Column struct {
	Link *Link
	Path []*Nav
	Attr *Attribute
}

// Expr is a node of a filter tree.
type Expr interface{ isExpr() }

// And is true when every term is.
type And struct{ Terms []Expr }

// Or is true when any term is.
type Or struct{ Terms []Expr }

// Not negates its term.
type Not struct{ X Expr }

// CompareOp is a comparison operator.
type CompareOp string

// Comparison operators.
const (
	Eq CompareOp = "="
	Ne CompareOp = "<>"
	Gt CompareOp = ">"
	Ge CompareOp = ">="
	Lt CompareOp = "<"
	Le CompareOp = "<="
)

// Compare compares a column with a value or with another column. Values are Row values of the
// column's type (string, int64, bool, float64, Decimal, time.Time, Lookup or string id for
// lookups). Comparing with nil follows Dataverse: eq null is IS NULL, ne null is IS NOT NULL.
// String comparisons are case-insensitive, as in Dataverse's collation.
type Compare struct {
	Left  *Column
	Op    CompareOp
	Value any
	// Right, when set, compares with another column instead of Value.
	Right *Column
}

// Match is a string pattern test.
type Match struct {
	Column *Column
	// Kind is "contains", "startswith", "endswith" or "like" (Pattern is then a SQL LIKE pattern
	// with %, _ and [] as Dataverse accepts them).
	Kind    string
	Pattern string
	Negate  bool
}

// In tests membership in a list of values.
type In struct {
	Column *Column
	Values []any
	Negate bool
}

// Null tests for a missing value.
type Null struct {
	Column *Column
	Negate bool
}

// ContainValues tests a MultiSelectPicklist column for any of the values.
type ContainValues struct {
	Column *Column
	Values []int64
	Negate bool
}

// Exists tests related rows reached through a collection-valued navigation (OData any/all,
// FetchXML link-type any/not any/all/not all/exists/in). With All set, every related row must
// satisfy Filter (and rows with no related rows pass, as OData's all does).
type Exists struct {
	// From is the column of the outer query the relation starts at (nil: the root).
	Link *Link
	Nav  *Nav
	// Filter applies to the related rows; nil accepts any.
	Filter Expr
	All    bool
	Negate bool
}

func (And) isExpr()           {}
func (Or) isExpr()            {}
func (Not) isExpr()           {}
func (Compare) isExpr()       {}
func (Match) isExpr()         {}
func (In) isExpr()            {}
func (Null) isExpr()          {}
func (ContainValues) isExpr() {}
func (Exists) isExpr()        {}

// Plain returns x as a value. The expression types are Exprs by value, so a pointer to one is an
// Expr too (some callers build filters with &And{...}); code that switches on an expression's type
// switches on Plain(x) and handles the values only. A nil pointer is nil.
func Plain(x Expr) Expr {
	switch p := x.(type) {
	case *And:
		return deref(p)
	case *Or:
		return deref(p)
	case *Not:
		return deref(p)
	case *Compare:
		return deref(p)
	case *Match:
		return deref(p)
	case *In:
		return deref(p)
	case *Null:
		return deref(p)
	case *ContainValues:
		return deref(p)
	case *Exists:
		return deref(p)
	}
	return x
}

func deref[T Expr](p *T) Expr {
	if p == nil {
		return nil
	}
	return *p
}
