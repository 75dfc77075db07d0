package model

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// operatorEnv is a Wednesday morning; fiscal years are calendar years, so the current fiscal
// period is the second quarter.
var operatorEnv = Env{
	Now:            at(2024, 5, 15, 10, 30),
	UserID:         "AAAAAAAA-0000-0000-0000-000000000001",
	BusinessUnitID: "BBBBBBBB-0000-0000-0000-000000000002",
	TeamIDs:        []string{"CCCCCCCC-0000-0000-0000-000000000003"},
}

const (
	user = "aaaaaaaa-0000-0000-0000-000000000001"
	bu   = "bbbbbbbb-0000-0000-0000-000000000002"
	team = "cccccccc-0000-0000-0000-000000000003"
)

var opCol = &Column{Attr: &Attribute{LogicalName: "x"}}

func rng(start, end any) Expr {
	return And{Terms: []Expr{Compare{Left: opCol, Op: Ge, Value: start}, Compare{Left: opCol, Op: Lt, Value: end}}}
}

func toNow(start any) Expr {
	return And{Terms: []Expr{Compare{Left: opCol, Op: Ge, Value: start}, Compare{Left: opCol, Op: Le, Value: operatorEnv.Now}}}
}

func cmpv(op CompareOp, v any) Expr { return Compare{Left: opCol, Op: op, Value: v} }

// operatorCases hold one case per operator of the table: its arguments and the condition it
// builds at operatorEnv.
var operatorCases = []struct {
	name string
	args []any
	want Expr
}{
	{"Equal", []any{"a"}, cmpv(Eq, "a")},
	{"NotEqual", []any{int64(1)}, cmpv(Ne, int64(1))},
	{"GreaterThan", []any{2.5}, cmpv(Gt, 2.5)},
	{"GreaterEqual", []any{true}, cmpv(Ge, true)},
	{"LessThan", []any{day(2024, 1, 1)}, cmpv(Lt, day(2024, 1, 1))},
	{"LessEqual", []any{nil}, cmpv(Le, nil)},

	{"Like", []any{"a%"}, Match{Column: opCol, Kind: "like", Pattern: "a%"}},
	{"NotLike", []any{"a%"}, Match{Column: opCol, Kind: "like", Pattern: "a%", Negate: true}},
	{"BeginsWith", []any{"a"}, Match{Column: opCol, Kind: "startswith", Pattern: "a"}},
	{"DoesNotBeginWith", []any{"a"}, Match{Column: opCol, Kind: "startswith", Pattern: "a", Negate: true}},
	{"EndsWith", []any{"a"}, Match{Column: opCol, Kind: "endswith", Pattern: "a"}},
	{"DoesNotEndWith", []any{"a"}, Match{Column: opCol, Kind: "endswith", Pattern: "a", Negate: true}},
	{"Contains", []any{"a"}, Match{Column: opCol, Kind: "contains", Pattern: "a"}},
	{"DoesNotContain", []any{"a"}, Match{Column: opCol, Kind: "contains", Pattern: "a", Negate: true}},

	{"In", []any{"a", "b"}, In{Column: opCol, Values: []any{"a", "b"}}},
	{"NotIn", []any{int64(1)}, In{Column: opCol, Values: []any{int64(1)}, Negate: true}},
	{"Between", []any{int64(1), int64(9)}, And{Terms: []Expr{cmpv(Ge, int64(1)), cmpv(Le, int64(9))}}},
	{"NotBetween", []any{int64(1), int64(9)}, Or{Terms: []Expr{cmpv(Lt, int64(1)), cmpv(Gt, int64(9))}}},
	{"Null", nil, Null{Column: opCol}},
	{"NotNull", nil, Null{Column: opCol, Negate: true}},
	{"ContainValues", []any{int64(1), int64(3)}, ContainValues{Column: opCol, Values: []int64{1, 3}}},
	{"DoesNotContainValues", []any{int64(2)}, ContainValues{Column: opCol, Values: []int64{2}, Negate: true}},

	{"EqualUserId", nil, cmpv(Eq, user)},
	{"NotEqualUserId", nil, cmpv(Ne, user)},
	{"EqualBusinessId", nil, cmpv(Eq, bu)},
	{"NotEqualBusinessId", nil, cmpv(Ne, bu)},
	{"EqualUserTeams", nil, In{Column: opCol, Values: []any{team}}},
	{"EqualUserOrUserTeams", nil, In{Column: opCol, Values: []any{user, team}}},
	{"EqualUserOrUserHierarchy", nil, cmpv(Eq, user)},
	{"EqualUserOrUserHierarchyAndTeams", nil, In{Column: opCol, Values: []any{user, team}}},
	{"EqualUserLanguage", nil, cmpv(Eq, int64(1033))},

	{"Today", nil, rng(day(2024, 5, 15), day(2024, 5, 16))},
	{"Yesterday", nil, rng(day(2024, 5, 14), day(2024, 5, 15))},
	{"Tomorrow", nil, rng(day(2024, 5, 16), day(2024, 5, 17))},
	{"Last7Days", nil, toNow(day(2024, 5, 8))},
	{"Next7Days", nil, rng(operatorEnv.Now, day(2024, 5, 23))},
	{"LastWeek", nil, rng(day(2024, 5, 5), day(2024, 5, 12))},
	{"ThisWeek", nil, rng(day(2024, 5, 12), day(2024, 5, 19))},
	{"NextWeek", nil, rng(day(2024, 5, 19), day(2024, 5, 26))},
	{"LastMonth", nil, rng(day(2024, 4, 1), day(2024, 5, 1))},
	{"ThisMonth", nil, rng(day(2024, 5, 1), day(2024, 6, 1))},
	{"NextMonth", nil, rng(day(2024, 6, 1), day(2024, 7, 1))},
	{"LastYear", nil, rng(day(2023, 1, 1), day(2024, 1, 1))},
	{"ThisYear", nil, rng(day(2024, 1, 1), day(2025, 1, 1))},
	{"NextYear", nil, rng(day(2025, 1, 1), day(2026, 1, 1))},
	{"On", []any{at(2024, 3, 1, 23, 0)}, rng(day(2024, 3, 1), day(2024, 3, 2))},
	{"OnOrBefore", []any{day(2024, 3, 1)}, cmpv(Lt, day(2024, 3, 2))},
	{"OnOrAfter", []any{at(2024, 3, 1, 12, 0)}, cmpv(Ge, day(2024, 3, 1))},
	{"LastXHours", []any{2}, toNow(at(2024, 5, 15, 8, 0))},
	{"NextXHours", []any{3}, And{Terms: []Expr{cmpv(Ge, operatorEnv.Now), cmpv(Le, at(2024, 5, 15, 13, 30))}}},
	{"LastXDays", []any{3}, toNow(day(2024, 5, 12))},
	{"LastXWeeks", []any{2}, toNow(day(2024, 5, 1))},
	{"LastXMonths", []any{3}, toNow(day(2024, 2, 15))},
	{"LastXYears", []any{1}, toNow(day(2023, 5, 15))},
	{"NextXDays", []any{2}, rng(operatorEnv.Now, day(2024, 5, 18))},
	{"NextXWeeks", []any{1}, rng(operatorEnv.Now, day(2024, 5, 23))},
	{"NextXMonths", []any{1}, rng(operatorEnv.Now, day(2024, 6, 16))},
	{"NextXYears", []any{1}, rng(operatorEnv.Now, day(2025, 5, 16))},
	{"OlderThanXMinutes", []any{30}, cmpv(Lt, at(2024, 5, 15, 10, 0))},
	{"OlderThanXHours", []any{2}, cmpv(Lt, at(2024, 5, 15, 8, 30))},
	{"OlderThanXDays", []any{7}, cmpv(Lt, day(2024, 5, 8))},
	{"OlderThanXWeeks", []any{1}, cmpv(Lt, day(2024, 5, 8))},
	{"OlderThanXMonths", []any{1}, cmpv(Lt, day(2024, 4, 15))},
	{"OlderThanXYears", []any{2}, cmpv(Lt, day(2022, 5, 15))},

	{"ThisFiscalYear", nil, rng(day(2024, 1, 1), day(2025, 1, 1))},
	{"LastFiscalYear", nil, rng(day(2023, 1, 1), day(2024, 1, 1))},
	{"NextFiscalYear", nil, rng(day(2025, 1, 1), day(2026, 1, 1))},
	{"ThisFiscalPeriod", nil, rng(day(2024, 4, 1), day(2024, 7, 1))},
	{"LastFiscalPeriod", nil, rng(day(2024, 1, 1), day(2024, 4, 1))},
	{"NextFiscalPeriod", nil, rng(day(2024, 7, 1), day(2024, 10, 1))},
	{"LastXFiscalYears", []any{2}, rng(day(2022, 1, 1), day(2024, 1, 1))},
	{"NextXFiscalYears", []any{2}, rng(day(2025, 1, 1), day(2027, 1, 1))},
	{"LastXFiscalPeriods", []any{2}, rng(day(2023, 10, 1), day(2024, 4, 1))},
	{"NextXFiscalPeriods", []any{3}, rng(day(2024, 7, 1), day(2025, 4, 1))},
	{"InFiscalYear", []any{2023}, rng(day(2023, 1, 1), day(2024, 1, 1))},
	{"InFiscalPeriod", []any{4}, rng(day(2024, 10, 1), day(2025, 1, 1))},
	{"InFiscalPeriodAndYear", []any{1, 2023}, rng(day(2023, 1, 1), day(2023, 4, 1))},
	{"InOrBeforeFiscalPeriodAndYear", []any{1, 2023}, cmpv(Lt, day(2023, 4, 1))},
	{"InOrAfterFiscalPeriodAndYear", []any{1, 2023}, cmpv(Ge, day(2023, 1, 1))},

	// The hierarchy operators build nothing: the emulator refuses them.
	{"Under", []any{user}, nil},
	{"UnderOrEqual", []any{user}, nil},
	{"NotUnder", []any{user}, nil},
	{"Above", []any{user}, nil},
	{"AboveOrEqual", []any{user}, nil},
}

func TestOperators(t *testing.T) {
	t.Parallel()
	tested := map[string]bool{}
	for _, tt := range operatorCases {
		tested[tt.name] = true
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			op, ok := LookupOperator(tt.name)
			if !ok {
				t.Fatalf("LookupOperator(%q) found nothing", tt.name)
			}
			if d := cmp.Diff(tt.want, op.Expr(opCol, tt.args, operatorEnv)); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
	for _, op := range Operators() {
		if !tested[op.Name] {
			t.Errorf("operator %s has no case", op.Name)
		}
	}
}

// TestOperatorArgs checks what each operator takes, which the front ends read and validate.
func TestOperatorArgs(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    Args
		bounds  []Bound
		columns ColumnKind
	}{
		{"Equal", ArgValue, nil, ScalarColumn},
		{"Like", ArgValue, nil, TextColumn},
		{"In", ArgValues, nil, ScalarColumn},
		{"Between", ArgTwoValues, nil, ScalarColumn},
		{"Null", ArgNone, nil, AnyColumn},
		{"ContainValues", ArgOptions, nil, MultiSelectColumn},
		{"EqualUserTeams", ArgNone, nil, IDColumn},
		{"EqualUserLanguage", ArgNone, nil, WholeNumberColumn},
		{"Today", ArgNone, nil, DateColumn},
		{"OnOrAfter", ArgDate, nil, DateColumn},
		{"LastXHours", ArgWhole, []Bound{{0, MaxX}}, DateColumn},
		{"OlderThanXMinutes", ArgWhole, []Bound{{0, MaxX}}, DateColumn},
		{"LastXFiscalPeriods", ArgWhole, []Bound{{0, MaxX}}, DateColumn},
		{"InFiscalYear", ArgWhole, []Bound{{1, 9998}}, DateColumn},
		{"InFiscalPeriod", ArgWhole, []Bound{{1, 4}}, DateColumn},
		{"InOrAfterFiscalPeriodAndYear", ArgWholePair, []Bound{{1, 4}, {1, 9998}}, DateColumn},
		{"Under", ArgValue, nil, IDColumn},
	}
	for _, tt := range tests {
		op, _ := LookupOperator(tt.name)
		if op.Args != tt.args || op.Columns != tt.columns || !cmp.Equal(op.Bounds, tt.bounds) {
			t.Errorf("%s takes %v %v on %v, want %v %v on %v", tt.name, op.Args, op.Bounds, op.Columns, tt.args, tt.bounds, tt.columns)
		}
	}
}

func TestColumnKinds(t *testing.T) {
	t.Parallel()
	multi := &Attribute{Type: TypeMultiSelect, TypeName: "MultiSelectPicklistType"}
	tests := []struct {
		kind   ColumnKind
		accept []*Attribute
		refuse []*Attribute
	}{
		{AnyColumn, []*Attribute{{Type: TypeString}, multi}, nil},
		{ScalarColumn, []*Attribute{{Type: TypeString}, {Type: TypePicklist}}, []*Attribute{multi}},
		{TextColumn, []*Attribute{{Type: TypeString}, {Type: TypeMemo}, {Type: TypeEntityName}}, []*Attribute{{Type: TypeInteger}}},
		{DateColumn, []*Attribute{{Type: TypeDateTime}}, []*Attribute{{Type: TypeString}}},
		{IDColumn, []*Attribute{{Type: TypeLookup}, {Type: TypeOwner}, {Type: TypeCustomer}, {Type: TypeUniqueidentifier}}, []*Attribute{{Type: TypeString}}},
		{WholeNumberColumn, []*Attribute{{Type: TypeInteger}, {Type: TypeState}}, []*Attribute{{Type: TypeBigInt}}},
		{MultiSelectColumn, []*Attribute{multi}, []*Attribute{{Type: TypePicklist}}},
	}
	for _, tt := range tests {
		for _, a := range tt.accept {
			if !tt.kind.Accepts(a) {
				t.Errorf("%s columns refuse %s", tt.kind, a.Type)
			}
		}
		for _, a := range tt.refuse {
			if tt.kind.Accepts(a) {
				t.Errorf("%s columns accept %s", tt.kind, a.Type)
			}
		}
	}
}
