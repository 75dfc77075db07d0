package odata

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dynlocal/dynlocal/emulator/daterange"
	"github.com/dynlocal/dynlocal/emulator/model"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// This file holds the Dataverse query functions of $filter
// (Microsoft.Dynamics.CRM.<Name>(PropertyName=...,PropertyValue=...)).
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/filter-rows#dataverse-query-functions
//
// Date functions compile to ranges on the column, computed from Env.Now in UTC (the user's time
// zone in the emulator). "today" is the UTC date of Now.
//
//   - Today, Yesterday, Tomorrow: that day, [day 00:00, next day 00:00).
//   - Last7Days, LastXDays/Weeks/Months/Years: from midnight X units before today up to and
//     including Now: [today - X units, Now]. Last7Days is LastXDays with X = 7, so "the last seven
//     days including today" covers today and the seven days before it. LastXHours counts whole
//     hours back from the start of the current one: [hour of Now - X hours, Now] (at 15:30,
//     LastXHours(1) starts at 14:00), as Dataverse's operator does.
//   - Next7Days, NextXDays/Weeks/Months/Years: from Now to the end of the day X units after today:
//     [Now, today + X units + 1 day). NextXHours is [Now, Now + X hours].
//   - OlderThanXMinutes/Hours: before Now - X; OlderThanXDays/Weeks/Months/Years: before midnight
//     X units before today.
//   - LastWeek, ThisWeek, NextWeek: calendar weeks starting on Sunday, Dataverse's default.
//   - LastMonth .. NextYear: calendar months and years, [first day 00:00, first day of the next).
//   - On: that day; OnOrAfter: from that day's midnight; OnOrBefore: up to the end of that day.
//     A date-time value counts as its UTC date.
//
// Months are added with the day clamped to the month's length (Mar 31 minus one month is Feb 28
// or 29).
//
// Fiscal functions use a default fiscal calendar: a fiscal year starts on the first day of
// Env.FiscalYearStartMonth (January unless set) and is named after the calendar year it starts in
// (with April as start month, fiscal year 2024 runs from 2024-04-01 to 2025-03-31); fiscal periods
// are quarters, numbered 1 to 4 within the fiscal year.
//
//   - ThisFiscalYear/Period, LastFiscalYear/Period, NextFiscalYear/Period: the whole period.
//   - LastXFiscalYears/Periods: the X whole periods before the current one; NextX...: the X whole
//     periods after it.
//   - InFiscalYear(year); InFiscalPeriod(period): that period of the current fiscal year;
//     InFiscalPeriodAndYear(period, year); InOrBeforeFiscalPeriodAndYear: up to the end of that
//     period; InOrAfterFiscalPeriodAndYear: from its start.
//
// Ranges end exclusive ([start, end)) except those ending at Now, which include Now.
//
// The other functions: In and NotIn become model.In; Between becomes [v1, v2] (ge and le) and
// NotBetween its complement (lt v1 or gt v2); their values may be strings or numbers whatever the
// column's type, as Dataverse reads them leniently. EqualUserId and EqualBusinessId compare a
// lookup or key column with Env.UserID or Env.BusinessUnitID; EqualUserTeams and
// EqualUserOrUserTeams become In over Env.TeamIDs (and Env.UserID); EqualUserLanguage compares
// with 1033, every emulated user's language. ContainValues and DoesNotContainValues become
// model.ContainValues on multi-select choice columns. The hierarchy functions (Above, Under, ...)
// are rejected: the fixtures define no hierarchical relationships.

const crmNamespace = "Microsoft.Dynamics.CRM."

// maxX bounds the X of the LastX/NextX/OlderThanX functions so that date arithmetic stays in range.
const maxX = 100000

type fnArity uint8

const (
	argNone   fnArity = iota // PropertyName
	argValue                 // PropertyName, PropertyValue
	argValues                // PropertyName, PropertyValues
	argTwo                   // PropertyName, PropertyValue1, PropertyValue2
	hierarchy                // not supported
)

var fnParams = map[fnArity][]string{
	argNone:   {"PropertyName"},
	argValue:  {"PropertyName", "PropertyValue"},
	argValues: {"PropertyName", "PropertyValues"},
	argTwo:    {"PropertyName", "PropertyValue1", "PropertyValue2"},
}

var queryFunctions = map[string]fnArity{
	"In": argValues, "NotIn": argValues, "Between": argValues, "NotBetween": argValues,
	"ContainValues": argValues, "DoesNotContainValues": argValues,

	"EqualUserId": argNone, "NotEqualUserId": argNone, "EqualBusinessId": argNone, "NotEqualBusinessId": argNone,
	"EqualUserTeams": argNone, "EqualUserOrUserTeams": argNone, "EqualUserLanguage": argNone,

	"Today": argNone, "Tomorrow": argNone, "Yesterday": argNone, "Last7Days": argNone, "Next7Days": argNone,
	"LastWeek": argNone, "ThisWeek": argNone, "NextWeek": argNone, "LastMonth": argNone, "ThisMonth": argNone,
	"NextMonth": argNone, "LastYear": argNone, "ThisYear": argNone, "NextYear": argNone,
	"ThisFiscalYear": argNone, "ThisFiscalPeriod": argNone, "LastFiscalYear": argNone, "LastFiscalPeriod": argNone,
	"NextFiscalYear": argNone, "NextFiscalPeriod": argNone,

	"LastXHours": argValue, "LastXDays": argValue, "LastXWeeks": argValue, "LastXMonths": argValue, "LastXYears": argValue,
	"NextXHours": argValue, "NextXDays": argValue, "NextXWeeks": argValue, "NextXMonths": argValue, "NextXYears": argValue,
	"OlderThanXMinutes": argValue, "OlderThanXHours": argValue, "OlderThanXDays": argValue, "OlderThanXWeeks": argValue,
	"OlderThanXMonths": argValue, "OlderThanXYears": argValue,
	"On": argValue, "OnOrAfter": argValue, "OnOrBefore": argValue,
	"InFiscalYear": argValue, "InFiscalPeriod": argValue,
	"LastXFiscalYears": argValue, "LastXFiscalPeriods": argValue, "NextXFiscalYears": argValue, "NextXFiscalPeriods": argValue,
	"InFiscalPeriodAndYear": argTwo, "InOrBeforeFiscalPeriodAndYear": argTwo, "InOrAfterFiscalPeriodAndYear": argTwo,

	"Above": hierarchy, "AboveOrEqual": hierarchy, "Under": hierarchy, "UnderOrEqual": hierarchy, "NotUnder": hierarchy,
	"EqualUserOrUserHierarchy": hierarchy, "EqualUserOrUserHierarchyAndTeams": hierarchy,
}

// fnCall is a parsed query function call.
type fnCall struct {
	name string // short name: In, LastXDays, ...
	pos  int
	args map[string]token
	col  *model.Column
	// colPos is where PropertyName's value is.
	colPos int
}

func (c *fnCall) full() string { return crmNamespace + c.name }

// queryFunction binds a Dataverse query function.
func (b *binder) queryFunction(n *fnNode) (operand, *dverr.Error) {
	nameTok := n.name
	c := &fnCall{name: strings.TrimPrefix(nameTok.text, crmNamespace), pos: nameTok.pos, args: map[string]token{}}
	arity, known := queryFunctions[c.name]
	if !known {
		if c.name == "Contains" {
			return operand{}, dverr.BadRequest("The query function '%s' (full-text search) is only available on knowledge articles and is not supported by the emulator.", nameTok.text).At(nameTok.pos)
		}
		return operand{}, dverr.BadRequest("An unknown function with name '%s' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.", nameTok.text).At(nameTok.pos)
	}
	if b.nots > 0 {
		return operand{}, notWithFunction().At(nameTok.pos)
	}
	if arity == hierarchy {
		return operand{}, dverr.BadRequest("The hierarchy query function '%s' is not supported: the emulator's fixtures define no hierarchical relationships yet.", nameTok.text).At(nameTok.pos)
	}
	want := fnParams[arity]
	for _, prm := range n.params {
		if !slices.Contains(want, prm.name.text) {
			return operand{}, dverr.BadRequest("The function '%s' has no parameter named '%s'; its parameters are %s.", nameTok.text, prm.name.text, strings.Join(want, ", ")).At(prm.name.pos)
		}
		if _, dup := c.args[prm.name.text]; dup {
			return operand{}, dverr.BadRequest("The parameter '%s' is given more than once.", prm.name.text).At(prm.name.pos)
		}
		v := prm.value
		if v.kind == tAlias {
			var err *dverr.Error
			if v, err = b.resolveAlias(v); err != nil {
				return operand{}, err
			}
		}
		c.args[prm.name.text] = v
	}
	for _, w := range want {
		if _, ok := c.args[w]; !ok {
			return operand{}, dverr.BadRequest("The function '%s' requires the parameter '%s'.", nameTok.text, w).At(nameTok.pos)
		}
	}
	if err := b.functionColumn(c); err != nil {
		return operand{}, err
	}
	x, err := b.buildFunction(c)
	if err != nil {
		return operand{}, err
	}
	o := boolOperand(nameTok.pos, x)
	o.fn = true
	return o, nil
}

// functionColumn resolves PropertyName: a logical name (lookups included) or a lookup value
// property, of the table in scope.
func (b *binder) functionColumn(c *fnCall) *dverr.Error {
	t := c.args["PropertyName"]
	c.colPos = t.pos
	if t.kind != tString {
		return dverr.BadRequest("The PropertyName parameter of '%s' must be a string naming a column, for example PropertyName='createdon'.", c.full()).At(t.pos)
	}
	e := b.scope().entity
	a := lookupValueAttr(e, t.text)
	if a == nil {
		if x, ok := e.Attribute(t.text); ok && x.AttributeOf == "" && x.ValidForRead {
			a = x
		}
	}
	if a == nil {
		return dverr.PropertyNotFound(t.text, e.LogicalName).At(t.pos)
	}
	if err := checkQueryable(a, t.pos); err != nil {
		return err
	}
	c.col = &model.Column{Attr: a}
	return nil
}

func (b *binder) buildFunction(c *fnCall) (model.Expr, *dverr.Error) {
	a := c.col.Attr
	switch c.name {
	case "In", "NotIn":
		vals, err := c.values(1, -1)
		if err != nil {
			return nil, err
		}
		if a.IsMultiSelect() {
			return nil, errMultiSelect(a).At(c.colPos)
		}
		out := make([]any, len(vals))
		for i, v := range vals {
			if out[i], err = c.convert(v); err != nil {
				return nil, err
			}
		}
		return model.In{Column: c.col, Values: out, Negate: c.name == "NotIn"}, nil
	case "Between", "NotBetween":
		vals, err := c.values(2, 2)
		if err != nil {
			return nil, err
		}
		if a.IsMultiSelect() {
			return nil, errMultiSelect(a).At(c.colPos)
		}
		lo, err := c.convert(vals[0])
		if err != nil {
			return nil, err
		}
		hi, err := c.convert(vals[1])
		if err != nil {
			return nil, err
		}
		if c.name == "NotBetween" {
			return model.Or{Terms: []model.Expr{
				model.Compare{Left: c.col, Op: model.Lt, Value: lo},
				model.Compare{Left: c.col, Op: model.Gt, Value: hi},
			}}, nil
		}
		return model.And{Terms: []model.Expr{
			model.Compare{Left: c.col, Op: model.Ge, Value: lo},
			model.Compare{Left: c.col, Op: model.Le, Value: hi},
		}}, nil
	case "ContainValues", "DoesNotContainValues":
		if !a.IsMultiSelect() {
			return nil, dverr.BadRequest("The function '%s' can only be used with multi-select choice columns; '%s' is of type %s.", c.full(), a.LogicalName, a.Type).At(c.colPos)
		}
		vals, err := c.values(1, -1)
		if err != nil {
			return nil, err
		}
		out := make([]int64, len(vals))
		for i, v := range vals {
			n, err := strconv.ParseInt(strings.TrimSpace(v.text), 10, 32)
			if err != nil || v.kind != jString && v.kind != jNumber {
				return nil, c.errValue(v, "Edm.Int32")
			}
			out[i] = n
		}
		return model.ContainValues{Column: c.col, Values: out, Negate: c.name == "DoesNotContainValues"}, nil
	case "EqualUserId", "NotEqualUserId", "EqualBusinessId", "NotEqualBusinessId", "EqualUserTeams", "EqualUserOrUserTeams":
		if !a.IsLookup() && a.Type != model.TypeUniqueidentifier {
			return nil, dverr.BadRequest("The function '%s' can only be used with lookup and unique identifier columns; '%s' is of type %s.", c.full(), a.LogicalName, a.Type).At(c.colPos)
		}
		op := model.Eq
		if strings.HasPrefix(c.name, "Not") {
			op = model.Ne
		}
		switch c.name {
		case "EqualUserId", "NotEqualUserId":
			return model.Compare{Left: c.col, Op: op, Value: strings.ToLower(b.env.UserID)}, nil
		case "EqualBusinessId", "NotEqualBusinessId":
			return model.Compare{Left: c.col, Op: op, Value: strings.ToLower(b.env.BusinessUnitID)}, nil
		}
		var ids []any
		if c.name == "EqualUserOrUserTeams" {
			ids = append(ids, strings.ToLower(b.env.UserID))
		}
		for _, t := range b.env.TeamIDs {
			ids = append(ids, strings.ToLower(t))
		}
		return model.In{Column: c.col, Values: ids}, nil
	case "EqualUserLanguage":
		if a.Type != model.TypeInteger && !a.IsChoice() {
			return nil, dverr.BadRequest("The function '%s' can only be used with whole-number and choice columns; '%s' is of type %s.", c.full(), a.LogicalName, a.Type).At(c.colPos)
		}
		// The emulator's users all work in English (United States).
		return model.Compare{Left: c.col, Op: model.Eq, Value: int64(1033)}, nil
	}
	if a.Type != model.TypeDateTime {
		return nil, dverr.BadRequest("The function '%s' can only be used with date and time columns; '%s' is of type %s.", c.full(), a.LogicalName, a.Type).At(c.colPos)
	}
	return b.dateFunction(c)
}

// values returns the items of PropertyValues, which must be an array of min to max items (max
// -1: no limit).
func (c *fnCall) values(min, max int) ([]jsonItem, *dverr.Error) {
	t := c.args["PropertyValues"]
	if t.kind != tArray {
		return nil, dverr.BadRequest("The PropertyValues parameter of '%s' must be a list of values, for example PropertyValues=[\"a\",\"b\"].", c.full()).At(t.pos)
	}
	n := len(t.items)
	if n < min || max >= 0 && n > max {
		if min == max {
			return nil, dverr.BadRequest("The function '%s' needs exactly %d values in PropertyValues; %d were given.", c.full(), min, n).At(t.pos)
		}
		return nil, dverr.BadRequest("The function '%s' needs at least %d value in PropertyValues.", c.full(), min).At(t.pos)
	}
	return t.items, nil
}

func (c *fnCall) errValue(v jsonItem, typ string) *dverr.Error {
	return dverr.BadRequest("The value '%s' is not a valid %s value for the column '%s' of '%s'.", v.text, typ, c.col.Attr.LogicalName, c.full()).At(v.pos)
}

// convert turns a query function value to the column's Row value type. Dataverse reads these
// values leniently: numbers may be given as strings (PropertyValues=["5","2000"]).
func (c *fnCall) convert(v jsonItem) (any, *dverr.Error) {
	a := c.col.Attr
	typ := edmType(a)
	if v.kind == jNull {
		return nil, dverr.BadRequest("null is not allowed in the values of '%s'.", c.full()).At(v.pos)
	}
	text := v.text
	switch {
	case a.IsLookup() || a.Type == model.TypeUniqueidentifier:
		s := strings.TrimSuffix(strings.TrimPrefix(text, "{"), "}")
		if IsGUID(s) {
			return strings.ToLower(s), nil
		}
	case a.Type == model.TypeString || a.Type == model.TypeMemo || a.Type == model.TypeEntityName:
		return text, nil
	case a.Type == model.TypeInteger || a.Type == model.TypeBigInt || a.IsChoice():
		if n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64); err == nil && v.kind != jBool {
			return n, nil
		}
	case a.Type == model.TypeDouble:
		if f, err := strconv.ParseFloat(strings.TrimSpace(text), 64); err == nil && v.kind != jBool {
			return f, nil
		}
	case a.Type == model.TypeMoney || a.Type == model.TypeDecimal:
		if d, err := model.ParseDecimal(strings.TrimSpace(text), a.Scale()); err == nil && v.kind != jBool {
			return d, nil
		}
	case a.Type == model.TypeBoolean:
		switch text {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
	case a.Type == model.TypeDateTime:
		if t, ok := parseDateText(text); ok {
			return dateValue(a, t), nil
		}
	}
	return nil, c.errValue(v, typ)
}

// parseDateText reads a date or a date-time.
func parseDateText(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(dateLayout, s); err == nil {
		return t, true
	}
	if t, err := parseDateTime(s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// item turns a scalar parameter into a jsonItem so that scalars and array items convert alike.
func item(t token) (jsonItem, bool) {
	switch {
	case t.kind == tString:
		return jsonItem{kind: jString, text: t.text, pos: t.pos}, true
	case t.kind == tNumber:
		return jsonItem{kind: jNumber, text: t.text, pos: t.pos}, true
	case t.kind == tGUID, t.kind == tDate, t.kind == tDateTime:
		return jsonItem{kind: jString, text: t.text, pos: t.pos}, true
	case isBoolLit(t):
		return jsonItem{kind: jBool, text: t.text, pos: t.pos}, true
	case isNull(t):
		return jsonItem{kind: jNull, text: "null", pos: t.pos}, true
	}
	return jsonItem{}, false
}

// intArg reads a whole-number parameter (a number or a string holding one) in [lo, hi].
func (c *fnCall) intArg(name string, lo, hi int64) (int64, *dverr.Error) {
	t := c.args[name]
	v, ok := item(t)
	if ok && (v.kind == jNumber || v.kind == jString) {
		if n, err := strconv.ParseInt(strings.TrimSpace(v.text), 10, 64); err == nil {
			if n < lo || n > hi {
				return 0, dverr.BadRequest("The %s of '%s' must be between %d and %d; %d was given.", name, c.full(), lo, hi, n).At(t.pos)
			}
			return n, nil
		}
	}
	return 0, dverr.BadRequest("The %s of '%s' must be a whole number.", name, c.full()).At(t.pos)
}

// dateArg reads a date parameter; a date-time counts as its UTC date.
func (c *fnCall) dateArg(name string) (time.Time, *dverr.Error) {
	t := c.args[name]
	switch t.kind {
	case tDate, tDateTime:
		return daterange.Midnight(t.time), nil
	case tString:
		if d, ok := parseDateText(t.text); ok {
			return daterange.Midnight(d), nil
		}
	}
	return time.Time{}, dverr.BadRequest("The %s of '%s' must be a date such as 2024-01-31.", name, c.full()).At(t.pos)
}

func (b *binder) dateFunction(c *fnCall) (model.Expr, *dverr.Error) {
	now := b.env.Now
	today := daterange.Midnight(now)
	day := func(n int) time.Time { return today.AddDate(0, 0, n) }
	week := today.AddDate(0, 0, -int(today.Weekday())) // weeks start on Sunday
	month := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	year := time.Date(today.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	fy := daterange.NewFiscal(b.env.FiscalYearStartMonth, now)

	var s daterange.Span
	x := int64(0)
	if strings.Contains(c.name, "X") {
		var err *dverr.Error
		if x, err = c.intArg("PropertyValue", 0, maxX); err != nil {
			return nil, err
		}
	}
	n := int(x)
	// back is the start of "X units before today"; fwd the end of "X units after today".
	unit := func(t time.Time, k int) time.Time {
		switch {
		case strings.HasSuffix(c.name, "Days"):
			return t.AddDate(0, 0, k)
		case strings.HasSuffix(c.name, "Weeks"):
			return t.AddDate(0, 0, 7*k)
		case strings.HasSuffix(c.name, "Months"):
			return daterange.AddMonths(t, k)
		}
		return daterange.AddMonths(t, 12*k) // Years
	}
	switch c.name {
	case "Today":
		s = daterange.Span{Start: today, End: day(1)}
	case "Yesterday":
		s = daterange.Span{Start: day(-1), End: today}
	case "Tomorrow":
		s = daterange.Span{Start: day(1), End: day(2)}
	case "Last7Days":
		s = daterange.Span{Start: day(-7), End: now, EndIncl: true}
	case "Next7Days":
		s = daterange.Span{Start: now, End: day(8)}
	case "LastWeek":
		s = daterange.Span{Start: week.AddDate(0, 0, -7), End: week}
	case "ThisWeek":
		s = daterange.Span{Start: week, End: week.AddDate(0, 0, 7)}
	case "NextWeek":
		s = daterange.Span{Start: week.AddDate(0, 0, 7), End: week.AddDate(0, 0, 14)}
	case "LastMonth":
		s = daterange.Span{Start: daterange.AddMonths(month, -1), End: month}
	case "ThisMonth":
		s = daterange.Span{Start: month, End: daterange.AddMonths(month, 1)}
	case "NextMonth":
		s = daterange.Span{Start: daterange.AddMonths(month, 1), End: daterange.AddMonths(month, 2)}
	case "LastYear":
		s = daterange.Span{Start: year.AddDate(-1, 0, 0), End: year}
	case "ThisYear":
		s = daterange.Span{Start: year, End: year.AddDate(1, 0, 0)}
	case "NextYear":
		s = daterange.Span{Start: year.AddDate(1, 0, 0), End: year.AddDate(2, 0, 0)}
	case "LastXHours":
		s = daterange.Span{Start: now.Truncate(time.Hour).Add(-time.Duration(n) * time.Hour), End: now, EndIncl: true}
	case "NextXHours":
		s = daterange.Span{Start: now, End: now.Add(time.Duration(n) * time.Hour), EndIncl: true}
	case "LastXDays", "LastXWeeks", "LastXMonths", "LastXYears":
		s = daterange.Span{Start: unit(today, -n), End: now, EndIncl: true}
	case "NextXDays", "NextXWeeks", "NextXMonths", "NextXYears":
		s = daterange.Span{Start: now, End: unit(today, n).AddDate(0, 0, 1)}
	case "OlderThanXMinutes":
		s = daterange.Span{NoStart: true, End: now.Add(-time.Duration(n) * time.Minute)}
	case "OlderThanXHours":
		s = daterange.Span{NoStart: true, End: now.Add(-time.Duration(n) * time.Hour)}
	case "OlderThanXDays", "OlderThanXWeeks", "OlderThanXMonths", "OlderThanXYears":
		s = daterange.Span{NoStart: true, End: unit(today, -n)}
	case "On", "OnOrAfter", "OnOrBefore":
		d, err := c.dateArg("PropertyValue")
		if err != nil {
			return nil, err
		}
		s = daterange.Span{Start: d, End: d.AddDate(0, 0, 1), NoStart: c.name == "OnOrBefore", NoEnd: c.name == "OnOrAfter"}
	case "ThisFiscalYear":
		s = fy.Years(fy.Year, 1)
	case "LastFiscalYear":
		s = fy.Years(fy.Year-1, 1)
	case "NextFiscalYear":
		s = fy.Years(fy.Year+1, 1)
	case "LastXFiscalYears":
		s = fy.Years(fy.Year-n, n)
	case "NextXFiscalYears":
		s = fy.Years(fy.Year+1, n)
	case "ThisFiscalPeriod":
		s = fy.Periods(fy.Year, fy.Period, 1)
	case "LastFiscalPeriod":
		s = fy.Periods(fy.Year, fy.Period-1, 1)
	case "NextFiscalPeriod":
		s = fy.Periods(fy.Year, fy.Period+1, 1)
	case "LastXFiscalPeriods":
		s = fy.Periods(fy.Year, fy.Period-n, n)
	case "NextXFiscalPeriods":
		s = fy.Periods(fy.Year, fy.Period+1, n)
	case "InFiscalYear":
		y, err := c.intArg("PropertyValue", 1, 9998)
		if err != nil {
			return nil, err
		}
		s = fy.Years(int(y), 1)
	case "InFiscalPeriod":
		q, err := c.intArg("PropertyValue", 1, daterange.FiscalPeriods)
		if err != nil {
			return nil, err
		}
		s = fy.Periods(fy.Year, int(q), 1)
	case "InFiscalPeriodAndYear", "InOrBeforeFiscalPeriodAndYear", "InOrAfterFiscalPeriodAndYear":
		q, err := c.intArg("PropertyValue1", 1, daterange.FiscalPeriods)
		if err != nil {
			return nil, err
		}
		y, err := c.intArg("PropertyValue2", 1, 9998)
		if err != nil {
			return nil, err
		}
		s = fy.Periods(int(y), int(q), 1)
		s.NoStart = c.name == "InOrBeforeFiscalPeriodAndYear"
		s.NoEnd = c.name == "InOrAfterFiscalPeriodAndYear"
	default:
		return nil, dverr.BadRequest("The function '%s' is not supported.", c.full()).At(c.pos)
	}
	return s.Expr(c.col), nil
}
