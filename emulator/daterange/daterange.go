// Package daterange holds the date arithmetic that OData query functions (LastXDays, ThisMonth,
// InFiscalPeriod, ...) and FetchXML date operators (last-x-days, this-month, in-fiscal-period, ...)
// share: spans of time turned into comparisons on a column, month arithmetic, and the default
// fiscal calendar.
//
// Every emulated user works in UTC. The default fiscal calendar has years that start on the first
// day of a configurable month (January by default), named after the calendar year they start in,
// and four quarterly periods.
package daterange

import (
	"time"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// Span is a range of time; End is exclusive unless EndIncl. NoStart and NoEnd leave a side open.
type Span struct {
	Start, End     time.Time
	NoStart, NoEnd bool
	EndIncl        bool
}

// Expr is the condition that a column's value lies in the span.
func (s Span) Expr(col *model.Column) model.Expr {
	var terms []model.Expr
	if !s.NoStart {
		terms = append(terms, model.Compare{Left: col, Op: model.Ge, Value: s.Start})
	}
	if !s.NoEnd {
		op := model.Lt
		if s.EndIncl {
			op = model.Le
		}
		terms = append(terms, model.Compare{Left: col, Op: op, Value: s.End})
	}
	if len(terms) == 1 {
		return terms[0]
	}
	return model.And{Terms: terms}
}

// Midnight is the start of t's UTC day.
func Midnight(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

// AddMonths adds n months, clamping the day to the length of the resulting month.
func AddMonths(t time.Time, n int) time.Time {
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

// FiscalPeriods is the number of periods of the default fiscal calendar (quarters).
const FiscalPeriods = 4

// Fiscal is the default fiscal calendar seen at a moment: the current fiscal year and period.
type Fiscal struct {
	StartMonth int
	Year       int // the current fiscal year, named after the calendar year it starts in
	Period     int // the current period, 1..FiscalPeriods
}

// NewFiscal is the fiscal calendar whose years start in startMonth, seen at now.
func NewFiscal(startMonth int, now time.Time) Fiscal {
	f := Fiscal{StartMonth: startMonth, Year: now.Year()}
	months := int(now.Month()) - startMonth
	if months < 0 {
		f.Year--
		months += 12
	}
	f.Period = months/(12/FiscalPeriods) + 1
	return f
}

// Begin is the first day of fiscal year y.
func (f Fiscal) Begin(y int) time.Time {
	return time.Date(y, time.Month(f.StartMonth), 1, 0, 0, 0, 0, time.UTC)
}

// Years is n fiscal years starting with fiscal year y.
func (f Fiscal) Years(y, n int) Span { return Span{Start: f.Begin(y), End: f.Begin(y + n)} }

// Periods is n fiscal periods starting with period q of fiscal year y; q may run outside
// 1..FiscalPeriods and then counts into neighbouring years.
func (f Fiscal) Periods(y, q, n int) Span {
	const months = 12 / FiscalPeriods
	start := AddMonths(f.Begin(y), (q-1)*months)
	return Span{Start: start, End: AddMonths(start, n*months)}
}
