package model

import "time"

// This file holds the meaning of the relative date operators (Today, LastXDays, ThisFiscalYear,
// ...). They become ranges on the column, computed from Env.Now in UTC, the time zone of every
// emulated user:
//
//   - Today, Yesterday, Tomorrow: that day, [00:00, next day 00:00).
//   - Last7Days, LastXDays/Weeks/Months/Years: from midnight X units before today up to and
//     including Now. Last7Days is LastXDays with X = 7: today and the seven days before it.
//     LastXHours counts whole hours back from the start of the current one: at 15:30,
//     LastXHours(1) starts at 14:00, as Dataverse's operator does.
//   - Next7Days, NextXDays/Weeks/Months/Years: from Now to the end of the day X units after
//     today. NextXHours is [Now, Now + X hours].
//   - OlderThanXMinutes/Hours: before Now - X; OlderThanXDays/Weeks/Months/Years: before
//     midnight X units before today.
//   - LastWeek, ThisWeek, NextWeek: calendar weeks starting on Sunday, Dataverse's default.
//   - LastMonth .. NextYear: calendar months and years, [first day 00:00, first day of the next).
//   - On: that day; OnOrBefore: up to the end of that day; OnOrAfter: from its midnight. A
//     date-time value counts as its UTC date.
//   - The fiscal operators use a default fiscal calendar: a fiscal year starts on the first day
//     of Env.FiscalYearStartMonth and is named after the calendar year it starts in (with April
//     as start month, fiscal year 2024 runs from 2024-04-01 to 2025-03-31); its periods are
//     quarters, numbered 1 to 4. LastXFiscalYears/Periods are the X whole periods before the
//     current one, NextX... the X after it; InFiscalPeriod is that period of the current fiscal
//     year; InOrBeforeFiscalPeriodAndYear runs up to the end of that period and
//     InOrAfterFiscalPeriodAndYear from its start.
//
// Ranges are [start, end) except those ending at Now, which include it. Months are added with
// the day clamped to the month's length (Mar 31 minus one month is Feb 28 or 29).

// MaxX bounds the X of the LastX, NextX and OlderThanX operators, so that date arithmetic stays
// in range.
const MaxX = 100000

// FiscalPeriods is the number of periods of the default fiscal calendar (quarters).
const FiscalPeriods = 4

// MaxFiscalYear is the last fiscal year the fiscal operators accept.
const MaxFiscalYear = 9998

// DateRange is a range of time; End is exclusive unless EndIncl. NoStart and NoEnd leave a side
// open.
type DateRange struct {
	Start, End     time.Time
	NoStart, NoEnd bool
	EndIncl        bool
}

// Expr is the condition that a column's value lies in the range.
func (r DateRange) Expr(col *Column) Expr {
	var terms []Expr
	if !r.NoStart {
		terms = append(terms, Compare{Left: col, Op: Ge, Value: r.Start})
	}
	if !r.NoEnd {
		op := Lt
		if r.EndIncl {
			op = Le
		}
		terms = append(terms, Compare{Left: col, Op: op, Value: r.End})
	}
	if len(terms) == 1 {
		return terms[0]
	}
	return And{Terms: terms}
}

// midnight is the start of t's UTC day.
func midnight(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// addMonths adds n months, clamping the day to the length of the resulting month.
func addMonths(t time.Time, n int) time.Time {
	y, m, d := t.Date()
	total := int(m) - 1 + n
	y += total / 12
	total %= 12
	if total < 0 {
		total += 12
		y--
	}
	first := time.Date(y, time.Month(total+1), 1, t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), time.UTC)
	last := first.AddDate(0, 1, -1).Day()
	return first.AddDate(0, 0, min(d, last)-1)
}

// fiscal is the default fiscal calendar seen at a moment: the current fiscal year and period.
type fiscal struct {
	startMonth int
	year       int // the current fiscal year, named after the calendar year it starts in
	period     int // the current period, 1..FiscalPeriods
}

func newFiscal(startMonth int, now time.Time) fiscal {
	f := fiscal{startMonth: startMonth, year: now.Year()}
	months := int(now.Month()) - startMonth
	if months < 0 {
		f.year--
		months += 12
	}
	f.period = months/(12/FiscalPeriods) + 1
	return f
}

// begin is the first day of fiscal year y.
func (f fiscal) begin(y int) time.Time {
	return time.Date(y, time.Month(f.startMonth), 1, 0, 0, 0, 0, time.UTC)
}

// years is n fiscal years starting with fiscal year y.
func (f fiscal) years(y, n int) DateRange { return DateRange{Start: f.begin(y), End: f.begin(y + n)} }

// periods is n fiscal periods starting with period q of fiscal year y; q may run outside
// 1..FiscalPeriods and then counts into neighbouring years.
func (f fiscal) periods(y, q, n int) DateRange {
	const months = 12 / FiscalPeriods
	start := addMonths(f.begin(y), (q-1)*months)
	return DateRange{Start: start, End: addMonths(start, n*months)}
}

// calendar is what the date operators measure from: Now and the periods it falls in.
type calendar struct {
	now, today, week, month, year time.Time
	fiscal                        fiscal
}

func newCalendar(env Env) calendar {
	env = env.Normalized()
	today := midnight(env.Now)
	return calendar{
		now:    env.Now,
		today:  today,
		week:   today.AddDate(0, 0, -int(today.Weekday())), // weeks start on Sunday
		month:  time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC),
		year:   time.Date(today.Year(), 1, 1, 0, 0, 0, 0, time.UTC),
		fiscal: newFiscal(env.FiscalYearStartMonth, env.Now),
	}
}

func (c calendar) day(n int) time.Time { return c.today.AddDate(0, 0, n) }

// unit moves a time by a number of days, weeks, months or years.
type unit func(t time.Time, k int) time.Time

func days(t time.Time, k int) time.Time   { return t.AddDate(0, 0, k) }
func weeks(t time.Time, k int) time.Time  { return t.AddDate(0, 0, 7*k) }
func months(t time.Time, k int) time.Time { return addMonths(t, k) }
func years(t time.Time, k int) time.Time  { return addMonths(t, 12*k) }

// span computes an operator's range from the calendar and its arguments.
type span func(c calendar, args []any) DateRange

// fixed is a range that takes no argument.
func fixed(f func(c calendar) DateRange) span {
	return func(c calendar, _ []any) DateRange { return f(c) }
}

// counted is a range that takes a whole number X.
func counted(f func(c calendar, x int) DateRange) span {
	return func(c calendar, args []any) DateRange { return f(c, args[0].(int)) }
}

func lastX(u unit) span {
	return counted(func(c calendar, x int) DateRange { return DateRange{Start: u(c.today, -x), End: c.now, EndIncl: true} })
}

func nextX(u unit) span {
	return counted(func(c calendar, x int) DateRange { return DateRange{Start: c.now, End: u(c.today, x).AddDate(0, 0, 1)} })
}

func olderThanX(u unit) span {
	return counted(func(c calendar, x int) DateRange { return DateRange{NoStart: true, End: u(c.today, -x)} })
}

func olderThan(d time.Duration) span {
	return counted(func(c calendar, x int) DateRange {
		return DateRange{NoStart: true, End: c.now.Add(-time.Duration(x) * d)}
	})
}

// on is the day of a date argument; before and after open one side.
func on(before, after bool) span {
	return func(_ calendar, args []any) DateRange {
		d := midnight(args[0].(time.Time))
		return DateRange{Start: d, End: d.AddDate(0, 0, 1), NoStart: before, NoEnd: after}
	}
}

// periodAndYear is the fiscal period and year of two whole-number arguments.
func periodAndYear(before, after bool) span {
	return func(c calendar, args []any) DateRange {
		r := c.fiscal.periods(args[1].(int), args[0].(int), 1)
		r.NoStart, r.NoEnd = before, after
		return r
	}
}

// dateSpans are the date operators by ConditionOperator name.
var dateSpans = map[string]span{
	"Today":     fixed(func(c calendar) DateRange { return DateRange{Start: c.today, End: c.day(1)} }),
	"Yesterday": fixed(func(c calendar) DateRange { return DateRange{Start: c.day(-1), End: c.today} }),
	"Tomorrow":  fixed(func(c calendar) DateRange { return DateRange{Start: c.day(1), End: c.day(2)} }),
	"Last7Days": fixed(func(c calendar) DateRange { return DateRange{Start: c.day(-7), End: c.now, EndIncl: true} }),
	"Next7Days": fixed(func(c calendar) DateRange { return DateRange{Start: c.now, End: c.day(8)} }),
	"LastWeek":  fixed(func(c calendar) DateRange { return DateRange{Start: c.week.AddDate(0, 0, -7), End: c.week} }),
	"ThisWeek":  fixed(func(c calendar) DateRange { return DateRange{Start: c.week, End: c.week.AddDate(0, 0, 7)} }),
	"NextWeek": fixed(func(c calendar) DateRange {
		return DateRange{Start: c.week.AddDate(0, 0, 7), End: c.week.AddDate(0, 0, 14)}
	}),
	"LastMonth": fixed(func(c calendar) DateRange { return DateRange{Start: addMonths(c.month, -1), End: c.month} }),
	"ThisMonth": fixed(func(c calendar) DateRange { return DateRange{Start: c.month, End: addMonths(c.month, 1)} }),
	"NextMonth": fixed(func(c calendar) DateRange { return DateRange{Start: addMonths(c.month, 1), End: addMonths(c.month, 2)} }),
	"LastYear":  fixed(func(c calendar) DateRange { return DateRange{Start: c.year.AddDate(-1, 0, 0), End: c.year} }),
	"ThisYear":  fixed(func(c calendar) DateRange { return DateRange{Start: c.year, End: c.year.AddDate(1, 0, 0)} }),
	"NextYear": fixed(func(c calendar) DateRange {
		return DateRange{Start: c.year.AddDate(1, 0, 0), End: c.year.AddDate(2, 0, 0)}
	}),

	"On":         on(false, false),
	"OnOrBefore": on(true, false),
	"OnOrAfter":  on(false, true),

	"LastXHours": counted(func(c calendar, x int) DateRange {
		return DateRange{Start: c.now.Truncate(time.Hour).Add(-time.Duration(x) * time.Hour), End: c.now, EndIncl: true}
	}),
	"NextXHours": counted(func(c calendar, x int) DateRange {
		return DateRange{Start: c.now, End: c.now.Add(time.Duration(x) * time.Hour), EndIncl: true}
	}),
	"LastXDays": lastX(days), "LastXWeeks": lastX(weeks), "LastXMonths": lastX(months), "LastXYears": lastX(years),
	"NextXDays": nextX(days), "NextXWeeks": nextX(weeks), "NextXMonths": nextX(months), "NextXYears": nextX(years),
	"OlderThanXMinutes": olderThan(time.Minute), "OlderThanXHours": olderThan(time.Hour),
	"OlderThanXDays": olderThanX(days), "OlderThanXWeeks": olderThanX(weeks), "OlderThanXMonths": olderThanX(months),
	"OlderThanXYears": olderThanX(years),

	"ThisFiscalYear":   fixed(func(c calendar) DateRange { return c.fiscal.years(c.fiscal.year, 1) }),
	"LastFiscalYear":   fixed(func(c calendar) DateRange { return c.fiscal.years(c.fiscal.year-1, 1) }),
	"NextFiscalYear":   fixed(func(c calendar) DateRange { return c.fiscal.years(c.fiscal.year+1, 1) }),
	"ThisFiscalPeriod": fixed(func(c calendar) DateRange { return c.fiscal.periods(c.fiscal.year, c.fiscal.period, 1) }),
	"LastFiscalPeriod": fixed(func(c calendar) DateRange { return c.fiscal.periods(c.fiscal.year, c.fiscal.period-1, 1) }),
	"NextFiscalPeriod": fixed(func(c calendar) DateRange { return c.fiscal.periods(c.fiscal.year, c.fiscal.period+1, 1) }),
	"LastXFiscalYears": counted(func(c calendar, x int) DateRange { return c.fiscal.years(c.fiscal.year-x, x) }),
	"NextXFiscalYears": counted(func(c calendar, x int) DateRange { return c.fiscal.years(c.fiscal.year+1, x) }),
	"LastXFiscalPeriods": counted(func(c calendar, x int) DateRange {
		return c.fiscal.periods(c.fiscal.year, c.fiscal.period-x, x)
	}),
	"NextXFiscalPeriods": counted(func(c calendar, x int) DateRange {
		return c.fiscal.periods(c.fiscal.year, c.fiscal.period+1, x)
	}),
	"InFiscalYear":                  counted(func(c calendar, y int) DateRange { return c.fiscal.years(y, 1) }),
	"InFiscalPeriod":                counted(func(c calendar, q int) DateRange { return c.fiscal.periods(c.fiscal.year, q, 1) }),
	"InFiscalPeriodAndYear":         periodAndYear(false, false),
	"InOrBeforeFiscalPeriodAndYear": periodAndYear(true, false),
	"InOrAfterFiscalPeriodAndYear":  periodAndYear(false, true),
}
