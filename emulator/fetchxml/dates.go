package fetchxml

import (
	"strings"
	"time"

	"github.com/dynlocal/dynlocal/emulator/daterange"
	"github.com/dynlocal/dynlocal/emulator/model"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// The date operators compile to ranges on the column, computed from Env.Now in UTC, with the same
// meaning as the OData query functions of the same names (odata/functions.go), so that a question
// asked both ways selects the same rows:
//
//   - today, yesterday, tomorrow: that day, [00:00, next day 00:00).
//   - last-seven-days, last-x-days/weeks/months/years: from midnight X units before today up to
//     and including Now. last-x-hours starts at the whole hour X hours before the current one.
//   - next-seven-days, next-x-days/weeks/months/years: from Now to the end of the day X units
//     after today. next-x-hours: [Now, Now + X hours].
//   - olderthan-x-minutes/hours: before Now - X; olderthan-x-days/weeks/months/years: before
//     midnight X units before today.
//   - last-week .. next-year: calendar weeks (starting on Sunday), months and years.
//   - on: that day; on-or-before: up to the end of that day; on-or-after: from its midnight. A
//     date-time value counts as its UTC date.
//   - fiscal operators: whole fiscal years and periods of the default calendar (see doc.go);
//     last-x-fiscal-periods are the X periods before the current one, next-x-... the X after it;
//     in-fiscal-period is that period of the current fiscal year; in-fiscal-period-and-year takes
//     the period then the year as two value elements.
//
// Ranges are [start, end) except those ending at Now, which include it. Months are added with the
// day clamped to the month's length.

// maxX bounds the X of the x-operators so that date arithmetic stays in range.
const maxX = 100000

// dateArg says what value a date operator takes.
type dateArg uint8

const (
	dateNone       dateArg = iota // no value
	dateDay                       // a date
	dateX                         // a whole number of units
	dateYear                      // a fiscal year
	datePeriod                    // a fiscal period
	datePeriodYear                // a fiscal period and year, as two value elements
)

var dateOperators = map[string]dateArg{
	"yesterday": dateNone, "today": dateNone, "tomorrow": dateNone, "last-seven-days": dateNone, "next-seven-days": dateNone,
	"last-week": dateNone, "this-week": dateNone, "next-week": dateNone, "last-month": dateNone, "this-month": dateNone,
	"next-month": dateNone, "last-year": dateNone, "this-year": dateNone, "next-year": dateNone,
	"on": dateDay, "on-or-before": dateDay, "on-or-after": dateDay,

	"last-x-hours": dateX, "next-x-hours": dateX, "last-x-days": dateX, "next-x-days": dateX, "last-x-weeks": dateX,
	"next-x-weeks": dateX, "last-x-months": dateX, "next-x-months": dateX, "last-x-years": dateX, "next-x-years": dateX,
	"olderthan-x-minutes": dateX, "olderthan-x-hours": dateX, "olderthan-x-days": dateX, "olderthan-x-weeks": dateX,
	"olderthan-x-months": dateX, "olderthan-x-years": dateX,

	"this-fiscal-year": dateNone, "this-fiscal-period": dateNone, "next-fiscal-year": dateNone, "next-fiscal-period": dateNone,
	"last-fiscal-year": dateNone, "last-fiscal-period": dateNone,
	"last-x-fiscal-years": dateX, "last-x-fiscal-periods": dateX, "next-x-fiscal-years": dateX, "next-x-fiscal-periods": dateX,
	"in-fiscal-year": dateYear, "in-fiscal-period": datePeriod,
	"in-fiscal-period-and-year": datePeriodYear, "in-or-before-fiscal-period-and-year": datePeriodYear,
	"in-or-after-fiscal-period-and-year": datePeriodYear,
}

// whole reads a whole-number operator value in [lo, hi].
func (c *cond) whole(v valueText, lo, hi int) (int, *dverr.Error) {
	n, err := c.int32(v)
	if err != nil {
		return 0, err
	}
	if n < int64(lo) || n > int64(hi) {
		return 0, fail(v.pos, codeInvalidArgument, "The value of the condition operator '%s' on '%s' must be between %d and %d; %d was given.", c.op, c.name(), lo, hi, n)
	}
	return int(n), nil
}

// date builds a date operator.
func (c *cond) date() (model.Expr, *dverr.Error) {
	a := c.col.Attr
	if a.Type != model.TypeDateTime {
		return nil, c.p.failf(c.n, codeInvalidArgument, "The condition operator '%s' can only be used with date and time columns; '%s' is of type %s.", c.op, c.name(), a.Type)
	}
	now := c.p.env.Now
	today := daterange.Midnight(now)
	day := func(n int) time.Time { return today.AddDate(0, 0, n) }
	week := today.AddDate(0, 0, -int(today.Weekday())) // weeks start on Sunday
	month := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)
	year := time.Date(today.Year(), 1, 1, 0, 0, 0, 0, time.UTC)
	fy := daterange.NewFiscal(c.p.env.FiscalYearStartMonth, now)

	var x, fyear, fperiod int
	var on time.Time
	switch dateOperators[c.op] {
	case dateNone:
		if err := c.none(); err != nil {
			return nil, err
		}
	case dateDay:
		v, err := c.one()
		if err != nil {
			return nil, err
		}
		d, ok := parseDate(strings.TrimSpace(v.text))
		if !ok {
			return nil, c.errConvert(v, "FormatException", "System.DateTime", msgDate)
		}
		on = daterange.Midnight(d)
	case dateX, dateYear, datePeriod:
		v, err := c.one()
		if err != nil {
			return nil, err
		}
		lo, hi := 0, maxX
		switch dateOperators[c.op] {
		case dateYear:
			lo, hi = 1, 9998
		case datePeriod:
			lo, hi = 1, daterange.FiscalPeriods
		}
		if x, err = c.whole(v, lo, hi); err != nil {
			return nil, err
		}
	case datePeriodYear:
		vals, err := c.values(2)
		if err != nil {
			return nil, err
		}
		if fperiod, err = c.whole(vals[0], 1, daterange.FiscalPeriods); err != nil {
			return nil, err
		}
		if fyear, err = c.whole(vals[1], 1, 9998); err != nil {
			return nil, err
		}
	}
	// unit moves t by k of the operator's units.
	unit := func(t time.Time, k int) time.Time {
		switch {
		case strings.HasSuffix(c.op, "-days"):
			return t.AddDate(0, 0, k)
		case strings.HasSuffix(c.op, "-weeks"):
			return t.AddDate(0, 0, 7*k)
		case strings.HasSuffix(c.op, "-months"):
			return daterange.AddMonths(t, k)
		}
		return daterange.AddMonths(t, 12*k) // years
	}
	var s daterange.Span
	switch c.op {
	case "today":
		s = daterange.Span{Start: today, End: day(1)}
	case "yesterday":
		s = daterange.Span{Start: day(-1), End: today}
	case "tomorrow":
		s = daterange.Span{Start: day(1), End: day(2)}
	case "last-seven-days":
		s = daterange.Span{Start: day(-7), End: now, EndIncl: true}
	case "next-seven-days":
		s = daterange.Span{Start: now, End: day(8)}
	case "last-week":
		s = daterange.Span{Start: week.AddDate(0, 0, -7), End: week}
	case "this-week":
		s = daterange.Span{Start: week, End: week.AddDate(0, 0, 7)}
	case "next-week":
		s = daterange.Span{Start: week.AddDate(0, 0, 7), End: week.AddDate(0, 0, 14)}
	case "last-month":
		s = daterange.Span{Start: daterange.AddMonths(month, -1), End: month}
	case "this-month":
		s = daterange.Span{Start: month, End: daterange.AddMonths(month, 1)}
	case "next-month":
		s = daterange.Span{Start: daterange.AddMonths(month, 1), End: daterange.AddMonths(month, 2)}
	case "last-year":
		s = daterange.Span{Start: year.AddDate(-1, 0, 0), End: year}
	case "this-year":
		s = daterange.Span{Start: year, End: year.AddDate(1, 0, 0)}
	case "next-year":
		s = daterange.Span{Start: year.AddDate(1, 0, 0), End: year.AddDate(2, 0, 0)}
	case "on":
		s = daterange.Span{Start: on, End: on.AddDate(0, 0, 1)}
	case "on-or-before":
		s = daterange.Span{NoStart: true, End: on.AddDate(0, 0, 1)}
	case "on-or-after":
		s = daterange.Span{Start: on, NoEnd: true}
	case "last-x-hours":
		s = daterange.Span{Start: now.Truncate(time.Hour).Add(-time.Duration(x) * time.Hour), End: now, EndIncl: true}
	case "next-x-hours":
		s = daterange.Span{Start: now, End: now.Add(time.Duration(x) * time.Hour), EndIncl: true}
	case "last-x-days", "last-x-weeks", "last-x-months", "last-x-years":
		s = daterange.Span{Start: unit(today, -x), End: now, EndIncl: true}
	case "next-x-days", "next-x-weeks", "next-x-months", "next-x-years":
		s = daterange.Span{Start: now, End: unit(today, x).AddDate(0, 0, 1)}
	case "olderthan-x-minutes":
		s = daterange.Span{NoStart: true, End: now.Add(-time.Duration(x) * time.Minute)}
	case "olderthan-x-hours":
		s = daterange.Span{NoStart: true, End: now.Add(-time.Duration(x) * time.Hour)}
	case "olderthan-x-days", "olderthan-x-weeks", "olderthan-x-months", "olderthan-x-years":
		s = daterange.Span{NoStart: true, End: unit(today, -x)}
	case "this-fiscal-year":
		s = fy.Years(fy.Year, 1)
	case "last-fiscal-year":
		s = fy.Years(fy.Year-1, 1)
	case "next-fiscal-year":
		s = fy.Years(fy.Year+1, 1)
	case "last-x-fiscal-years":
		s = fy.Years(fy.Year-x, x)
	case "next-x-fiscal-years":
		s = fy.Years(fy.Year+1, x)
	case "this-fiscal-period":
		s = fy.Periods(fy.Year, fy.Period, 1)
	case "last-fiscal-period":
		s = fy.Periods(fy.Year, fy.Period-1, 1)
	case "next-fiscal-period":
		s = fy.Periods(fy.Year, fy.Period+1, 1)
	case "last-x-fiscal-periods":
		s = fy.Periods(fy.Year, fy.Period-x, x)
	case "next-x-fiscal-periods":
		s = fy.Periods(fy.Year, fy.Period+1, x)
	case "in-fiscal-year":
		s = fy.Years(x, 1)
	case "in-fiscal-period":
		s = fy.Periods(fy.Year, x, 1)
	case "in-fiscal-period-and-year":
		s = fy.Periods(fyear, fperiod, 1)
	case "in-or-before-fiscal-period-and-year":
		s = fy.Periods(fyear, fperiod, 1)
		s.NoStart = true
	case "in-or-after-fiscal-period-and-year":
		s = fy.Periods(fyear, fperiod, 1)
		s.NoEnd = true
	default:
		return nil, c.p.failf(c.n, codeInvalidOperator, "The operator '%s' is not supported.", c.op)
	}
	return s.Expr(c.col), nil
}
