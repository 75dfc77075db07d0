package fetchxml

import (
	"fmt"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/emulator/model"

	"github.com/google/go-cmp/cmp"
)

// conditionCases are filters on account (or on the entity named), one per operator and value type;
// want is the Query.Filter expected.
var conditionCases = []struct {
	name   string
	entity string
	filter string
	want   model.Expr
}{
	// Comparisons, with values of every type.
	{name: "eq string", filter: `<condition attribute='name' operator='eq' value='Contoso' />`, want: cmpx(col("name"), model.Eq, "Contoso")},
	{name: "eq keeps spaces", filter: `<condition attribute='name' operator='eq' value=' a b ' />`, want: cmpx(col("name"), model.Eq, " a b ")},
	{name: "neq", filter: `<condition attribute='name' operator='neq' value='x' />`, want: cmpx(col("name"), model.Ne, "x")},
	{name: "ne", filter: `<condition attribute='name' operator='ne' value='x' />`, want: cmpx(col("name"), model.Ne, "x")},
	{name: "gt money", filter: `<condition attribute='revenue' operator='gt' value='1000.5' />`, want: cmpx(col("revenue"), model.Gt, dec("1000.5", 4))},
	{name: "ge integer", filter: `<condition attribute='numberofemployees' operator='ge' value=' 10 ' />`, want: cmpx(col("numberofemployees"), model.Ge, int64(10))},
	{name: "lt double", filter: `<condition attribute='address1_latitude' operator='lt' value='47.5' />`, want: cmpx(col("address1_latitude"), model.Lt, 47.5)},
	{name: "le decimal", filter: `<condition attribute='exchangerate' operator='le' value='1.23456' />`, want: cmpx(col("exchangerate"), model.Le, dec("1.2346", 4))},
	{name: "eq bigint", filter: `<condition attribute='versionnumber' operator='eq' value='9000000000' />`, want: cmpx(col("versionnumber"), model.Eq, int64(9000000000))},
	{name: "eq boolean 1", filter: `<condition attribute='donotemail' operator='eq' value='1' />`, want: cmpx(col("donotemail"), model.Eq, true)},
	{name: "eq boolean false", filter: `<condition attribute='donotemail' operator='eq' value='False' />`, want: cmpx(col("donotemail"), model.Eq, false)},
	{name: "eq picklist", filter: `<condition attribute='accountcategorycode' operator='eq' value='2' />`, want: cmpx(col("accountcategorycode"), model.Eq, int64(2))},
	{name: "eq state", filter: `<condition attribute='statecode' operator='eq' value='0' />`, want: cmpx(col("statecode"), model.Eq, int64(0))},
	{name: "eq lookup braces", filter: `<condition attribute='primarycontactid' operator='eq' value='{AAAAAAAA-BBBB-CCCC-DDDD-EEEEEEEEEEEE}' />`, want: cmpx(col("primarycontactid"), model.Eq, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")},
	{name: "eq lookup no dashes", filter: `<condition attribute='ownerid' operator='eq' value='AAAAAAAABBBBCCCCDDDDEEEEEEEEEEEE' />`, want: cmpx(col("ownerid"), model.Eq, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")},
	{name: "eq primary key", filter: `<condition attribute='accountid' operator='eq' value='aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' />`, want: cmpx(col("accountid"), model.Eq, "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee")},
	{name: "le date", filter: `<condition attribute='createdon' operator='le' value='2024-01-31' />`, want: cmpx(col("createdon"), model.Le, day(2024, 1, 31))},
	{name: "gt date-time offset", filter: `<condition attribute='createdon' operator='gt' value='2024-01-31T10:00:00+02:00' />`, want: cmpx(col("createdon"), model.Gt, at(2024, 1, 31, 8, 0))},
	{name: "gt US date", filter: `<condition attribute='createdon' operator='gt' value='2/28/2022 3:04 PM' />`, want: cmpx(col("createdon"), model.Gt, at(2022, 2, 28, 15, 4))},
	{name: "eq date-only", filter: `<condition attribute='foundedon' operator='eq' value='2024-01-31T15:00:00Z' />`, want: cmpx(col("foundedon"), model.Eq, day(2024, 1, 31))},
	{name: "value element", filter: `<condition attribute='name' operator='eq'><value>Contoso</value></condition>`, want: cmpx(col("name"), model.Eq, "Contoso")},
	{name: "valueof", filter: `<condition attribute='name' operator='eq' valueof='accountnumber' />`, want: model.Compare{Left: col("name"), Op: model.Eq, Right: col("accountnumber")}},
	{name: "valueof integer kinds", filter: `<condition attribute='numberofemployees' operator='gt' valueof='statecode' />`, want: model.Compare{Left: col("numberofemployees"), Op: model.Gt, Right: col("statecode")}},
	{name: "valueof root name", filter: `<condition attribute='name' operator='ne' valueof='account.accountnumber' />`, want: model.Compare{Left: col("name"), Op: model.Ne, Right: col("accountnumber")}},
	{name: "entityname root", filter: `<condition entityname='account' attribute='name' operator='null' />`, want: model.Null{Column: col("name")}},

	// Patterns.
	{name: "like", filter: `<condition attribute='name' operator='like' value='%on[st]o%' />`, want: model.Match{Column: col("name"), Kind: "like", Pattern: "%on[st]o%"}},
	{name: "not-like", filter: `<condition attribute='name' operator='not-like' value='C%' />`, want: model.Match{Column: col("name"), Kind: "like", Pattern: "C%", Negate: true}},
	{name: "begins-with", filter: `<condition attribute='name' operator='begins-with' value='Con' />`, want: model.Match{Column: col("name"), Kind: "startswith", Pattern: "Con"}},
	{name: "not-begin-with", filter: `<condition attribute='name' operator='not-begin-with' value='Con' />`, want: model.Match{Column: col("name"), Kind: "startswith", Pattern: "Con", Negate: true}},
	{name: "ends-with", filter: `<condition attribute='description' operator='ends-with' value='so' />`, want: model.Match{Column: col("description"), Kind: "endswith", Pattern: "so"}},
	{name: "not-end-with", filter: `<condition attribute='name' operator='not-end-with' value='so' />`, want: model.Match{Column: col("name"), Kind: "endswith", Pattern: "so", Negate: true}},

	// Lists, ranges, nulls.
	{name: "in", filter: `<condition attribute='address1_city' operator='in'><value>Redmond</value><value>Seattle</value></condition>`, want: model.In{Column: col("address1_city"), Values: []any{"Redmond", "Seattle"}}},
	{name: "in one value attribute", filter: `<condition attribute='numberofemployees' operator='in' value='5' />`, want: model.In{Column: col("numberofemployees"), Values: []any{int64(5)}}},
	{name: "not-in", filter: `<condition attribute='statecode' operator='not-in'><value>0</value><value>1</value></condition>`, want: model.In{Column: col("statecode"), Values: []any{int64(0), int64(1)}, Negate: true}},
	{name: "between", filter: `<condition attribute='numberofemployees' operator='between'><value>6</value><value>20</value></condition>`,
		want: and(cmpx(col("numberofemployees"), model.Ge, int64(6)), cmpx(col("numberofemployees"), model.Le, int64(20)))},
	{name: "not-between", filter: `<condition attribute='createdon' operator='not-between'><value>2024-01-01</value><value>2024-02-01</value></condition>`,
		want: or(cmpx(col("createdon"), model.Lt, day(2024, 1, 1)), cmpx(col("createdon"), model.Gt, day(2024, 2, 1)))},
	{name: "null", filter: `<condition attribute='revenue' operator='null' />`, want: model.Null{Column: col("revenue")}},
	{name: "not-null with empty value", filter: `<condition attribute='revenue' operator='not-null' value='' />`, want: model.Null{Column: col("revenue"), Negate: true}},
	{name: "null multi-select", filter: `<condition attribute='tags' operator='null' />`, want: model.Null{Column: col("tags")}},

	// Multi-select choices.
	{name: "contain-values", filter: `<condition attribute='tags' operator='contain-values'><value>1</value><value>3</value></condition>`, want: model.ContainValues{Column: col("tags"), Values: []int64{1, 3}}},
	{name: "not-contain-values list", filter: `<condition attribute='tags' operator='not-contain-values' value='2,3' />`, want: model.ContainValues{Column: col("tags"), Values: []int64{2, 3}, Negate: true}},

	// The caller.
	{name: "eq-userid", filter: `<condition attribute='ownerid' operator='eq-userid' />`, want: cmpx(col("ownerid"), model.Eq, testEnv.UserID)},
	{name: "ne-userid", filter: `<condition attribute='createdby' operator='ne-userid' />`, want: cmpx(col("createdby"), model.Ne, testEnv.UserID)},
	{name: "eq-userteams", filter: `<condition attribute='ownerid' operator='eq-userteams' />`, want: model.In{Column: col("ownerid"), Values: []any{testEnv.TeamIDs[0], testEnv.TeamIDs[1]}}},
	{name: "eq-useroruserteams", filter: `<condition attribute='ownerid' operator='eq-useroruserteams' />`, want: model.In{Column: col("ownerid"), Values: []any{testEnv.UserID, testEnv.TeamIDs[0], testEnv.TeamIDs[1]}}},
	{name: "eq-useroruserhierarchy", filter: `<condition attribute='ownerid' operator='eq-useroruserhierarchy' />`, want: cmpx(col("ownerid"), model.Eq, testEnv.UserID)},
	{name: "eq-useroruserhierarchyandteams", filter: `<condition attribute='ownerid' operator='eq-useroruserhierarchyandteams' />`, want: model.In{Column: col("ownerid"), Values: []any{testEnv.UserID, testEnv.TeamIDs[0], testEnv.TeamIDs[1]}}},
	{name: "eq-businessid", filter: `<condition attribute='owningbusinessunit' operator='eq-businessid' />`, want: cmpx(col("owningbusinessunit"), model.Eq, testEnv.BusinessUnitID)},
	{name: "ne-businessid", filter: `<condition attribute='owningbusinessunit' operator='ne-businessid' />`, want: cmpx(col("owningbusinessunit"), model.Ne, testEnv.BusinessUnitID)},
	{name: "eq-userlanguage", filter: `<condition attribute='languagecode' operator='eq-userlanguage' />`, want: cmpx(col("languagecode"), model.Eq, int64(1033))},

	// Relative dates; testEnv.Now is Wednesday 2024-05-15 10:30 UTC.
	{name: "today", filter: `<condition attribute='createdon' operator='today' />`, want: model.DateRange{Start: day(2024, 5, 15), End: day(2024, 5, 16)}.Expr(col("createdon"))},
	{name: "yesterday", filter: `<condition attribute='createdon' operator='yesterday' />`, want: model.DateRange{Start: day(2024, 5, 14), End: day(2024, 5, 15)}.Expr(col("createdon"))},
	{name: "tomorrow", filter: `<condition attribute='createdon' operator='tomorrow' />`, want: model.DateRange{Start: day(2024, 5, 16), End: day(2024, 5, 17)}.Expr(col("createdon"))},
	{name: "last-seven-days", filter: `<condition attribute='createdon' operator='last-seven-days' />`, want: model.DateRange{Start: day(2024, 5, 8), End: testEnv.Now, EndIncl: true}.Expr(col("createdon"))},
	{name: "next-seven-days", filter: `<condition attribute='createdon' operator='next-seven-days' />`, want: model.DateRange{Start: testEnv.Now, End: day(2024, 5, 23)}.Expr(col("createdon"))},
	{name: "last-week", filter: `<condition attribute='createdon' operator='last-week' />`, want: model.DateRange{Start: day(2024, 5, 5), End: day(2024, 5, 12)}.Expr(col("createdon"))},
	{name: "this-week", filter: `<condition attribute='createdon' operator='this-week' />`, want: model.DateRange{Start: day(2024, 5, 12), End: day(2024, 5, 19)}.Expr(col("createdon"))},
	{name: "next-week", filter: `<condition attribute='createdon' operator='next-week' />`, want: model.DateRange{Start: day(2024, 5, 19), End: day(2024, 5, 26)}.Expr(col("createdon"))},
	{name: "last-month", filter: `<condition attribute='createdon' operator='last-month' />`, want: model.DateRange{Start: day(2024, 4, 1), End: day(2024, 5, 1)}.Expr(col("createdon"))},
	{name: "this-month", filter: `<condition attribute='createdon' operator='this-month' />`, want: model.DateRange{Start: day(2024, 5, 1), End: day(2024, 6, 1)}.Expr(col("createdon"))},
	{name: "next-month", filter: `<condition attribute='createdon' operator='next-month' />`, want: model.DateRange{Start: day(2024, 6, 1), End: day(2024, 7, 1)}.Expr(col("createdon"))},
	{name: "last-year", filter: `<condition attribute='createdon' operator='last-year' />`, want: model.DateRange{Start: day(2023, 1, 1), End: day(2024, 1, 1)}.Expr(col("createdon"))},
	{name: "this-year", filter: `<condition attribute='createdon' operator='this-year' />`, want: model.DateRange{Start: day(2024, 1, 1), End: day(2025, 1, 1)}.Expr(col("createdon"))},
	{name: "next-year", filter: `<condition attribute='createdon' operator='next-year' />`, want: model.DateRange{Start: day(2025, 1, 1), End: day(2026, 1, 1)}.Expr(col("createdon"))},
	{name: "on", filter: `<condition attribute='createdon' operator='on' value='2024-03-01T23:00:00Z' />`, want: model.DateRange{Start: day(2024, 3, 1), End: day(2024, 3, 2)}.Expr(col("createdon"))},
	{name: "on-or-before", filter: `<condition attribute='createdon' operator='on-or-before' value='2024-03-01' />`, want: cmpx(col("createdon"), model.Lt, day(2024, 3, 2))},
	{name: "on-or-after", filter: `<condition attribute='createdon' operator='on-or-after' value='3/1/2024' />`, want: cmpx(col("createdon"), model.Ge, day(2024, 3, 1))},
	{name: "last-x-hours", filter: `<condition attribute='createdon' operator='last-x-hours' value='2' />`, want: model.DateRange{Start: at(2024, 5, 15, 8, 0), End: testEnv.Now, EndIncl: true}.Expr(col("createdon"))},
	{name: "next-x-hours", filter: `<condition attribute='createdon' operator='next-x-hours' value='3' />`, want: model.DateRange{Start: testEnv.Now, End: at(2024, 5, 15, 13, 30), EndIncl: true}.Expr(col("createdon"))},
	{name: "last-x-days", filter: `<condition attribute='createdon' operator='last-x-days' value='3' />`, want: model.DateRange{Start: day(2024, 5, 12), End: testEnv.Now, EndIncl: true}.Expr(col("createdon"))},
	{name: "last-x-weeks", filter: `<condition attribute='createdon' operator='last-x-weeks' value='2' />`, want: model.DateRange{Start: day(2024, 5, 1), End: testEnv.Now, EndIncl: true}.Expr(col("createdon"))},
	{name: "last-x-months", filter: `<condition attribute='createdon' operator='last-x-months' value='2' />`, want: model.DateRange{Start: day(2024, 3, 15), End: testEnv.Now, EndIncl: true}.Expr(col("createdon"))},
	{name: "last-x-years", filter: `<condition attribute='createdon' operator='last-x-years' value='1' />`, want: model.DateRange{Start: day(2023, 5, 15), End: testEnv.Now, EndIncl: true}.Expr(col("createdon"))},
	{name: "next-x-days", filter: `<condition attribute='createdon' operator='next-x-days' value='2' />`, want: model.DateRange{Start: testEnv.Now, End: day(2024, 5, 18)}.Expr(col("createdon"))},
	{name: "next-x-weeks", filter: `<condition attribute='createdon' operator='next-x-weeks' value='1' />`, want: model.DateRange{Start: testEnv.Now, End: day(2024, 5, 23)}.Expr(col("createdon"))},
	{name: "next-x-months", filter: `<condition attribute='createdon' operator='next-x-months' value='1' />`, want: model.DateRange{Start: testEnv.Now, End: day(2024, 6, 16)}.Expr(col("createdon"))},
	{name: "next-x-years", filter: `<condition attribute='createdon' operator='next-x-years' value='1' />`, want: model.DateRange{Start: testEnv.Now, End: day(2025, 5, 16)}.Expr(col("createdon"))},
	{name: "olderthan-x-minutes", filter: `<condition attribute='createdon' operator='olderthan-x-minutes' value='30' />`, want: cmpx(col("createdon"), model.Lt, at(2024, 5, 15, 10, 0))},
	{name: "olderthan-x-hours", filter: `<condition attribute='createdon' operator='olderthan-x-hours' value='1' />`, want: cmpx(col("createdon"), model.Lt, at(2024, 5, 15, 9, 30))},
	{name: "olderthan-x-days", filter: `<condition attribute='createdon' operator='olderthan-x-days' value='2' />`, want: cmpx(col("createdon"), model.Lt, day(2024, 5, 13))},
	{name: "olderthan-x-weeks", filter: `<condition attribute='createdon' operator='olderthan-x-weeks' value='1' />`, want: cmpx(col("createdon"), model.Lt, day(2024, 5, 8))},
	{name: "olderthan-x-months", filter: `<condition attribute='createdon' operator='olderthan-x-months' value='1' />`, want: cmpx(col("createdon"), model.Lt, day(2024, 4, 15))},
	{name: "olderthan-x-years", filter: `<condition attribute='createdon' operator='olderthan-x-years' value='2' />`, want: cmpx(col("createdon"), model.Lt, day(2022, 5, 15))},
	{name: "date-only column", entity: "contact", filter: `<condition attribute='birthdate' operator='this-month' />`, want: model.DateRange{Start: day(2024, 5, 1), End: day(2024, 6, 1)}.Expr(col("birthdate"))},

	// The default fiscal calendar: years from January, quarterly periods.
	{name: "this-fiscal-year", filter: `<condition attribute='createdon' operator='this-fiscal-year' />`, want: model.DateRange{Start: day(2024, 1, 1), End: day(2025, 1, 1)}.Expr(col("createdon"))},
	{name: "last-fiscal-year", filter: `<condition attribute='createdon' operator='last-fiscal-year' />`, want: model.DateRange{Start: day(2023, 1, 1), End: day(2024, 1, 1)}.Expr(col("createdon"))},
	{name: "next-fiscal-year", filter: `<condition attribute='createdon' operator='next-fiscal-year' />`, want: model.DateRange{Start: day(2025, 1, 1), End: day(2026, 1, 1)}.Expr(col("createdon"))},
	{name: "this-fiscal-period", filter: `<condition attribute='createdon' operator='this-fiscal-period' />`, want: model.DateRange{Start: day(2024, 4, 1), End: day(2024, 7, 1)}.Expr(col("createdon"))},
	{name: "last-fiscal-period", filter: `<condition attribute='createdon' operator='last-fiscal-period' />`, want: model.DateRange{Start: day(2024, 1, 1), End: day(2024, 4, 1)}.Expr(col("createdon"))},
	{name: "next-fiscal-period", filter: `<condition attribute='createdon' operator='next-fiscal-period' />`, want: model.DateRange{Start: day(2024, 7, 1), End: day(2024, 10, 1)}.Expr(col("createdon"))},
	{name: "last-x-fiscal-years", filter: `<condition attribute='createdon' operator='last-x-fiscal-years' value='2' />`, want: model.DateRange{Start: day(2022, 1, 1), End: day(2024, 1, 1)}.Expr(col("createdon"))},
	{name: "next-x-fiscal-years", filter: `<condition attribute='createdon' operator='next-x-fiscal-years' value='2' />`, want: model.DateRange{Start: day(2025, 1, 1), End: day(2027, 1, 1)}.Expr(col("createdon"))},
	{name: "last-x-fiscal-periods", filter: `<condition attribute='createdon' operator='last-x-fiscal-periods' value='2' />`, want: model.DateRange{Start: day(2023, 10, 1), End: day(2024, 4, 1)}.Expr(col("createdon"))},
	{name: "next-x-fiscal-periods", filter: `<condition attribute='createdon' operator='next-x-fiscal-periods' value='2' />`, want: model.DateRange{Start: day(2024, 7, 1), End: day(2025, 1, 1)}.Expr(col("createdon"))},
	{name: "in-fiscal-year", filter: `<condition attribute='createdon' operator='in-fiscal-year' value='2023' />`, want: model.DateRange{Start: day(2023, 1, 1), End: day(2024, 1, 1)}.Expr(col("createdon"))},
	{name: "in-fiscal-period", filter: `<condition attribute='createdon' operator='in-fiscal-period' value='3' />`, want: model.DateRange{Start: day(2024, 7, 1), End: day(2024, 10, 1)}.Expr(col("createdon"))},
	{name: "in-fiscal-period-and-year", filter: `<condition attribute='createdon' operator='in-fiscal-period-and-year'><value>1</value><value>2023</value></condition>`, want: model.DateRange{Start: day(2023, 1, 1), End: day(2023, 4, 1)}.Expr(col("createdon"))},
	{name: "in-or-before-fiscal-period-and-year", filter: `<condition attribute='createdon' operator='in-or-before-fiscal-period-and-year'><value>4</value><value>2023</value></condition>`, want: cmpx(col("createdon"), model.Lt, day(2024, 1, 1))},
	{name: "in-or-after-fiscal-period-and-year", filter: `<condition attribute='createdon' operator='in-or-after-fiscal-period-and-year'><value>2</value><value>2023</value></condition>`, want: cmpx(col("createdon"), model.Ge, day(2023, 4, 1))},

	// Filters.
	{name: "and of two", filter: `<condition attribute='name' operator='null' /><condition attribute='revenue' operator='not-null' />`,
		want: and(model.Null{Column: col("name")}, model.Null{Column: col("revenue"), Negate: true})},
	{name: "nested or", filter: `<condition attribute='statecode' operator='eq' value='0' /><filter type='or'><condition attribute='name' operator='eq' value='a' /><condition attribute='name' operator='eq' value='b' /><filter /></filter>`,
		want: and(cmpx(col("statecode"), model.Eq, int64(0)), or(cmpx(col("name"), model.Eq, "a"), cmpx(col("name"), model.Eq, "b")))},
	{name: "empty filters", filter: `<filter type='or'><filter /></filter>`, want: nil},
}

func conditionXML(entity, filter string) string {
	if entity == "" {
		entity = "account"
	}
	return fmt.Sprintf("<fetch><entity name='%s'><attribute name='%s' /><filter>%s</filter></entity></fetch>", entity, map[string]string{"account": "name", "contact": "fullname"}[entity], filter)
}

func TestConditions(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	for _, tt := range conditionCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse(sch, conditionXML(tt.entity, tt.filter), testEnv)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, f.Query.Filter, queryOpts); diff != "" {
				t.Errorf("filter (-want +got):\n%s", diff)
			}
		})
	}
}

// TestFiscalStartMonth checks the fiscal calendar with a year starting in April: May 2024 is in
// fiscal year 2024, period 1.
func TestFiscalStartMonth(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	env := testEnv
	env.FiscalYearStartMonth = 4
	tests := []struct {
		op    string
		value string
		want  model.DateRange
	}{
		{"this-fiscal-year", "", model.DateRange{Start: day(2024, 4, 1), End: day(2025, 4, 1)}},
		{"this-fiscal-period", "", model.DateRange{Start: day(2024, 4, 1), End: day(2024, 7, 1)}},
		{"last-fiscal-period", "", model.DateRange{Start: day(2024, 1, 1), End: day(2024, 4, 1)}},
		{"in-fiscal-period", "4", model.DateRange{Start: day(2025, 1, 1), End: day(2025, 4, 1)}},
		{"in-fiscal-year", "2023", model.DateRange{Start: day(2023, 4, 1), End: day(2024, 4, 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.op, func(t *testing.T) {
			t.Parallel()
			v := ""
			if tt.value != "" {
				v = " value='" + tt.value + "'"
			}
			f, err := Parse(sch, conditionXML("", "<condition attribute='createdon' operator='"+tt.op+"'"+v+" />"), env)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want.Expr(col("createdon")), f.Query.Filter, queryOpts); diff != "" {
				t.Errorf("filter (-want +got):\n%s", diff)
			}
		})
	}
}

// TestNowDefaults checks that a zero Env.Now stands for the wall clock.
func TestNowDefaults(t *testing.T) {
	t.Parallel()
	f, err := Parse(testSchema(t), conditionXML("", "<condition attribute='createdon' operator='today' />"), model.Env{})
	if err != nil {
		t.Fatal(err)
	}
	got := f.Query.Filter.(model.And).Terms[0].(model.Compare).Value.(time.Time)
	if want := time.Now().UTC().Truncate(24 * time.Hour); !got.Equal(want) && !got.Equal(want.AddDate(0, 0, -1)) {
		t.Errorf("today starts at %v, want %v", got, want)
	}
}
