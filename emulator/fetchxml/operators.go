package fetchxml

import (
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// operators are the Dataverse condition operators (model.LookupOperator) of FetchXML's operator
// names. FetchXML reads each operator's values and reports Dataverse's errors; the operator
// builds the condition, with the meaning OData's query function of the same name has
// (model/dates.go for the relative dates and the fiscal calendar).
var operators = map[string]string{
	"eq": "Equal", "neq": "NotEqual", "ne": "NotEqual", "gt": "GreaterThan", "ge": "GreaterEqual", "lt": "LessThan", "le": "LessEqual",
	"like": "Like", "not-like": "NotLike", "begins-with": "BeginsWith", "not-begin-with": "DoesNotBeginWith",
	"ends-with": "EndsWith", "not-end-with": "DoesNotEndWith",
	"in": "In", "not-in": "NotIn", "between": "Between", "not-between": "NotBetween", "null": "Null", "not-null": "NotNull",

	"eq-userid": "EqualUserId", "ne-userid": "NotEqualUserId", "eq-userteams": "EqualUserTeams",
	"eq-useroruserteams": "EqualUserOrUserTeams", "eq-useroruserhierarchy": "EqualUserOrUserHierarchy",
	"eq-useroruserhierarchyandteams": "EqualUserOrUserHierarchyAndTeams", "eq-businessid": "EqualBusinessId",
	"ne-businessid": "NotEqualBusinessId", "eq-userlanguage": "EqualUserLanguage",

	"under": "Under", "eq-or-under": "UnderOrEqual", "not-under": "NotUnder", "above": "Above", "eq-or-above": "AboveOrEqual",
	"contain-values": "ContainValues", "not-contain-values": "DoesNotContainValues",

	"yesterday": "Yesterday", "today": "Today", "tomorrow": "Tomorrow", "last-seven-days": "Last7Days",
	"next-seven-days": "Next7Days", "last-week": "LastWeek", "this-week": "ThisWeek", "next-week": "NextWeek",
	"last-month": "LastMonth", "this-month": "ThisMonth", "next-month": "NextMonth", "last-year": "LastYear",
	"this-year": "ThisYear", "next-year": "NextYear",
	"on": "On", "on-or-before": "OnOrBefore", "on-or-after": "OnOrAfter",

	"last-x-hours": "LastXHours", "next-x-hours": "NextXHours", "last-x-days": "LastXDays", "next-x-days": "NextXDays",
	"last-x-weeks": "LastXWeeks", "next-x-weeks": "NextXWeeks", "last-x-months": "LastXMonths", "next-x-months": "NextXMonths",
	"last-x-years": "LastXYears", "next-x-years": "NextXYears",
	"olderthan-x-minutes": "OlderThanXMinutes", "olderthan-x-hours": "OlderThanXHours", "olderthan-x-days": "OlderThanXDays",
	"olderthan-x-weeks": "OlderThanXWeeks", "olderthan-x-months": "OlderThanXMonths", "olderthan-x-years": "OlderThanXYears",

	"this-fiscal-year": "ThisFiscalYear", "this-fiscal-period": "ThisFiscalPeriod", "next-fiscal-year": "NextFiscalYear",
	"next-fiscal-period": "NextFiscalPeriod", "last-fiscal-year": "LastFiscalYear", "last-fiscal-period": "LastFiscalPeriod",
	"last-x-fiscal-years": "LastXFiscalYears", "last-x-fiscal-periods": "LastXFiscalPeriods",
	"next-x-fiscal-years": "NextXFiscalYears", "next-x-fiscal-periods": "NextXFiscalPeriods",
	"in-fiscal-year": "InFiscalYear", "in-fiscal-period": "InFiscalPeriod",
	"in-fiscal-period-and-year": "InFiscalPeriodAndYear", "in-or-before-fiscal-period-and-year": "InOrBeforeFiscalPeriodAndYear",
	"in-or-after-fiscal-period-and-year": "InOrAfterFiscalPeriodAndYear",
}

// conditionOperator returns the Dataverse condition operator of a FetchXML operator name.
func conditionOperator(op string) (*model.Operator, bool) {
	name, ok := operators[op]
	if !ok {
		return nil, false
	}
	return model.LookupOperator(name)
}

// build reads the condition's values as its operator asks and builds the condition.
func (c *cond) build() (model.Expr, *dverr.Error) {
	a, op := c.col.Attr, c.operator
	if a.IsMultiSelect() && !op.Columns.Accepts(a) {
		return nil, c.errMultiSelect()
	}
	if op.Family == model.FamilyHierarchy {
		return nil, c.p.failf(c.n, codeNotSupported, "The hierarchy operator '%s' needs a hierarchical relationship on '%s'; the emulator's fixtures define none.", c.op, c.ent.LogicalName)
	}
	if !op.Columns.Accepts(a) {
		return nil, c.p.failf(c.n, codeInvalidArgument, "The condition operator '%s' can only be used with %s columns; '%s' is of type %s.", c.op, op.Columns, c.name(), a.Type)
	}
	args, err := c.args()
	if err != nil {
		return nil, err
	}
	return op.Expr(c.col, args, c.p.env), nil
}

// args reads the condition's values as the arguments its operator takes.
func (c *cond) args() ([]any, *dverr.Error) {
	op := c.operator
	switch op.Args {
	case model.ArgNone:
		return nil, c.none()
	case model.ArgValue:
		v, err := c.one()
		if err != nil {
			return nil, err
		}
		x, err := c.convert(v)
		return []any{x}, err
	case model.ArgValues, model.ArgTwoValues:
		want := 0
		if op.Args == model.ArgTwoValues {
			want = 2
		}
		vals, err := c.values(want)
		if err != nil {
			return nil, err
		}
		out := make([]any, len(vals))
		for i, v := range vals {
			if out[i], err = c.convert(v); err != nil {
				return nil, err
			}
		}
		return out, nil
	case model.ArgOptions:
		return c.options()
	case model.ArgDate:
		v, err := c.one()
		if err != nil {
			return nil, err
		}
		d, ok := parseDate(strings.TrimSpace(v.text))
		if !ok {
			return nil, c.errConvert(v, "FormatException", "System.DateTime", msgDate)
		}
		return []any{d}, nil
	case model.ArgWhole:
		v, err := c.one()
		if err != nil {
			return nil, err
		}
		n, err := c.whole(v, op.Bounds[0])
		return []any{n}, err
	case model.ArgWholePair:
		vals, err := c.values(2)
		if err != nil {
			return nil, err
		}
		out := make([]any, 2)
		for i, v := range vals {
			if out[i], err = c.whole(v, op.Bounds[i]); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, c.p.failf(c.n, codeInvalidOperator, "The operator '%s' is not supported.", c.op)
}

// options reads the option numbers of contain-values and not-contain-values: one per value
// element (a comma-separated list is also read).
func (c *cond) options() ([]any, *dverr.Error) {
	vals, err := c.values(0)
	if err != nil {
		return nil, err
	}
	var out []any
	for _, v := range vals {
		for _, part := range strings.Split(v.text, ",") {
			n, err := c.int32(valueText{text: part, pos: v.pos})
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		}
	}
	return out, nil
}

// whole reads a whole-number operator value within bound.
func (c *cond) whole(v valueText, bound model.Bound) (int, *dverr.Error) {
	n, err := c.int32(v)
	if err != nil {
		return 0, err
	}
	if n < int64(bound.Lo) || n > int64(bound.Hi) {
		return 0, fail(v.pos, codeInvalidArgument, "The value of the condition operator '%s' on '%s' must be between %d and %d; %d was given.", c.op, c.name(), bound.Lo, bound.Hi, n)
	}
	return int(n), nil
}
