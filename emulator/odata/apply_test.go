package odata

import (
	"testing"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/google/go-cmp/cmp"
)

type applyTest struct {
	name    string
	in      string
	aliases map[string]string
	want    *Apply
	msg     string
	pos     int
}

var applyTests = []applyTest{
	{name: "groupby", in: "groupby((statecode))", want: &Apply{GroupBy: []model.GroupBy{{Column: col("statecode"), Alias: "statecode"}}}},
	{name: "groupby several", in: "groupby((name, accountcategorycode))", want: &Apply{GroupBy: []model.GroupBy{{Column: col("name"), Alias: "name"}, {Column: col("accountcategorycode"), Alias: "accountcategorycode"}}}},
	{name: "groupby with aggregates", in: "groupby((accountcategorycode),aggregate(revenue with sum as total,$count as count))", want: &Apply{
		GroupBy:    []model.GroupBy{{Column: col("accountcategorycode"), Alias: "accountcategorycode"}},
		Aggregates: []model.Aggregate{{Func: model.AggSum, Column: col("revenue"), Alias: "total"}, {Func: model.AggCount, Alias: "count"}},
	}},
	{name: "average", in: "aggregate(revenue with average as avg)", want: &Apply{Aggregates: []model.Aggregate{{Func: model.AggAvg, Column: col("revenue"), Alias: "avg"}}}},
	{name: "count", in: "aggregate($count as count)", want: &Apply{Aggregates: []model.Aggregate{{Func: model.AggCount, Alias: "count"}}}},
	{name: "min max countdistinct", in: "aggregate(revenue with min as lo, revenue with max as hi, numberofemployees with countdistinct as n, createdon with max as latest)", want: &Apply{Aggregates: []model.Aggregate{
		{Func: model.AggMin, Column: col("revenue"), Alias: "lo"},
		{Func: model.AggMax, Column: col("revenue"), Alias: "hi"},
		{Func: model.AggCountDistinct, Column: col("numberofemployees"), Alias: "n"},
		{Func: model.AggMax, Column: col("createdon"), Alias: "latest"},
	}}},
	{name: "filter then groupby", in: "filter(name eq 'x')/groupby((accountcategorycode))", want: &Apply{
		Filter:  cmpx(col("name"), model.Eq, "x"),
		GroupBy: []model.GroupBy{{Column: col("accountcategorycode"), Alias: "accountcategorycode"}},
	}},
	{name: "two filters", in: "filter(name ne null)/filter(revenue gt 5)/aggregate($count as c)", want: &Apply{
		Filter:     and(model.Null{Column: col("name"), Negate: true}, cmpx(col("revenue"), model.Gt, model.Decimal{Unscaled: 50000, Scale: 4})),
		Aggregates: []model.Aggregate{{Func: model.AggCount, Alias: "c"}},
	}},
	{name: "filter alone", in: "filter(Account_Tasks/any())", want: &Apply{Filter: model.Exists{Nav: &model.Nav{Name: "Account_Tasks"}}}},
	{name: "filter with alias and function", in: "filter(name eq @p1 and " + crm + "ThisYear(PropertyName='createdon'))/aggregate($count as c)", aliases: map[string]string{"@p1": "'x'"}, want: &Apply{
		Filter:     and(cmpx(col("name"), model.Eq, "x"), cmpx(col("createdon"), model.Ge, day(2024, 1, 1)), cmpx(col("createdon"), model.Lt, day(2025, 1, 1))),
		Aggregates: []model.Aggregate{{Func: model.AggCount, Alias: "c"}},
	}},
	{name: "groupby navigation path", in: "groupby((primarycontactid/fullname),aggregate($count as count))", want: &Apply{
		GroupBy:    []model.GroupBy{{Column: col("primarycontactid", "fullname"), Alias: "contact_fullname"}},
		Aggregates: []model.Aggregate{{Func: model.AggCount, Alias: "count"}},
	}},
	{name: "groupby multi-level path", in: "groupby((primarycontactid/createdby/fullname))", want: &Apply{GroupBy: []model.GroupBy{{Column: col("primarycontactid", "createdby", "fullname"), Alias: "systemuser_fullname"}}}},
	{name: "groupby lookup value", in: "groupby((_primarycontactid_value))", want: &Apply{GroupBy: []model.GroupBy{{Column: col("primarycontactid"), Alias: "_primarycontactid_value"}}}},
	{name: "aggregate through a path", in: "aggregate(primarycontactid/numberofchildren with sum as kids)", want: &Apply{Aggregates: []model.Aggregate{{Func: model.AggSum, Column: col("primarycontactid", "numberofchildren"), Alias: "kids"}}}},

	{name: "groupby date-time", in: "groupby((createdon))", msg: "Grouping by the date and time column 'createdon' is not supported in $apply.", pos: 9},
	{name: "missing alias", in: "aggregate(revenue with sum)", msg: "An aggregate needs an alias: add 'as <alias>' at position 26 in 'aggregate(revenue with sum)'.", pos: 26},
	{name: "count without alias", in: "aggregate($count)", msg: "An aggregate needs an alias: add 'as <alias>' at position 16 in 'aggregate($count)'.", pos: 16},
	{name: "missing with", in: "aggregate(revenue as total)", msg: "Expected 'with' and an aggregation method (sum, average, min, max or countdistinct) at position 18 in 'aggregate(revenue as total)'.", pos: 18},
	{name: "sum of a string", in: "aggregate(name with sum as s)", msg: "The aggregation method 'sum' cannot be applied to 'name' of type Edm.String.", pos: 10},
	{name: "unknown method", in: "aggregate(revenue with median as m)", msg: "The aggregation method 'median' is not supported; use sum, average, min, max or countdistinct.", pos: 23},
	{name: "unknown property", in: "groupby((Name))", msg: "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'.", pos: 9},
	{name: "unknown aggregated property", in: "aggregate(Revenue with sum as total)", msg: "Could not find a property named 'Revenue' on type 'Microsoft.Dynamics.CRM.account'.", pos: 10},
	{name: "unknown property in filter", in: "filter(Name eq 'x')/aggregate($count as c)", msg: "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'.", pos: 7},
	{name: "filter after groupby", in: "groupby((name))/filter(name eq 'x')", msg: "The transformation 'filter' cannot follow groupby or aggregate; only filter transformations may come first.", pos: 16},
	{name: "groupby without inner parentheses", in: "groupby(name)", msg: "groupby takes a parenthesized list of properties, as in groupby((name,statecode)); found 'name' at position 8 in 'groupby(name)'.", pos: 8},
	{name: "unsupported transformation", in: "compute(revenue mul 2 as r)", msg: "The transformation 'compute' is not supported; Dataverse supports filter, groupby and aggregate.", pos: 0},
	{name: "unknown transformation", in: "foo(x)", msg: "'foo' is not a valid transformation at position 0 in 'foo(x)'.", pos: 0},
	{name: "duplicate alias", in: "aggregate($count as c, $count as c)", msg: "The alias 'c' is used more than once.", pos: 33},
	{name: "alias same as group", in: "groupby((name),aggregate(revenue with sum as name))", msg: "The alias 'name' is used more than once.", pos: 45},
	{name: "duplicate group", in: "groupby((name,name))", msg: "The property 'name' is grouped by more than once.", pos: 14},
	{name: "group by navigation", in: "groupby((primarycontactid))", msg: "Only properties of primitive type can be grouped by; use the lookup value property _primarycontactid_value.", pos: 9},
	{name: "aggregate a collection", in: "aggregate(Account_Tasks with countdistinct as n)", msg: "The navigation property 'Account_Tasks' is a collection; filter on its rows with Account_Tasks/any(...) or Account_Tasks/all(...).", pos: 10},
	{name: "unclosed filter", in: "filter(name eq 'x'", msg: "')' or operator expected at position 18 in 'filter(name eq 'x''.", pos: 18},
	{name: "filter not a condition", in: "filter(name)", msg: "The $filter expression must evaluate to a single boolean value.", pos: 7},
	{name: "groupby with filter inside", in: "groupby((name),filter(name eq 'x'))", msg: "groupby accepts only an aggregate transformation after its properties; found 'filter'.", pos: 15},
	{name: "text after", in: "groupby((name)) x", msg: "Syntax error at position 16 in 'groupby((name)) x'.", pos: 16},
	{name: "empty", in: "", msg: "Expression expected at position 0 in ''.", pos: 0},
	{name: "syntax before names", in: "groupby((Name))/", msg: "Expression expected at position 16 in 'groupby((Name))/'.", pos: 16},
	{name: "unterminated", in: "filter(name eq 'x)", msg: "There is an unterminated literal at position 18 in 'filter(name eq 'x)'.", pos: 18},
}

func TestParseApply(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	acct := entity(t, sch, "account")
	for _, tt := range applyTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseApply(sch, acct, tt.in, tt.aliases, testEnv)
			if tt.msg != "" {
				checkQueryErr(t, err, tt.msg, tt.pos)
				return
			}
			if err != nil {
				t.Fatalf("ParseApply(%q): %v", tt.in, err)
			}
			if d := cmp.Diff(tt.want, got, exprOpts); d != "" {
				t.Errorf("ParseApply(%q) (-want +got):\n%s", tt.in, d)
			}
		})
	}
}

func FuzzParseApply(f *testing.F) {
	for _, tt := range applyTests {
		f.Add(tt.in, tt.aliases["@p1"])
	}
	sch := testSchema(f)
	acct := entity(f, sch, "account")
	f.Fuzz(func(t *testing.T, text, alias string) {
		a, err := ParseApply(sch, acct, text, map[string]string{"@p1": alias}, testEnv)
		if err != nil {
			checkFuzzErr(t, err, text)
			return
		}
		if a == nil {
			t.Fatalf("%q: nil result without error", text)
		}
	})
}
