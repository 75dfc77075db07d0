package model

import (
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func at(y int, m time.Month, d, h, mi int) time.Time {
	return time.Date(y, m, d, h, mi, 0, 0, time.UTC)
}

func TestAddMonthsClampsTheDay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		from time.Time
		n    int
		want time.Time
	}{
		{day(2024, 3, 31), -1, day(2024, 2, 29)},
		{day(2023, 3, 31), -1, day(2023, 2, 28)},
		{day(2024, 1, 31), 1, day(2024, 2, 29)},
		{day(2024, 12, 15), 1, day(2025, 1, 15)},
		{day(2024, 1, 15), -13, day(2022, 12, 15)},
		{day(2024, 5, 15), -13, day(2023, 4, 15)},
		{day(2024, 5, 15), 20, day(2026, 1, 15)},
		{day(2024, 12, 1), 1, day(2025, 1, 1)},
		{day(2024, 1, 1), -1, day(2023, 12, 1)},
	}
	for _, tt := range tests {
		if got := addMonths(tt.from, tt.n); !got.Equal(tt.want) {
			t.Errorf("addMonths(%s, %d) = %s, want %s", tt.from.Format("2006-01-02"), tt.n, got.Format("2006-01-02"), tt.want.Format("2006-01-02"))
		}
	}
}

func TestFiscalCalendar(t *testing.T) {
	t.Parallel()
	f := newFiscal(4, day(2024, 2, 10)) // fiscal years start in April: Feb 2024 is in FY2023, period 4
	if f.year != 2023 || f.period != 4 {
		t.Fatalf("newFiscal = %+v", f)
	}
	if s := f.periods(f.year, f.period, 1); !s.Start.Equal(day(2024, 1, 1)) || !s.End.Equal(day(2024, 4, 1)) {
		t.Errorf("current period = %v..%v", s.Start, s.End)
	}
	if s := f.years(2023, 1); !s.Start.Equal(day(2023, 4, 1)) || !s.End.Equal(day(2024, 4, 1)) {
		t.Errorf("fiscal year = %v..%v", s.Start, s.End)
	}
	if got := midnight(time.Date(2024, 5, 15, 23, 59, 0, 0, time.FixedZone("x", 3600))); !got.Equal(day(2024, 5, 15)) {
		t.Errorf("midnight = %v", got)
	}
}

func TestEnvNormalized(t *testing.T) {
	t.Parallel()
	env := Env{Now: time.Date(2024, 5, 15, 12, 0, 0, 0, time.FixedZone("x", 3600)), FiscalYearStartMonth: 13}.Normalized()
	if env.Now.Location() != time.UTC || !env.Now.Equal(at(2024, 5, 15, 11, 0)) || env.FiscalYearStartMonth != 1 {
		t.Errorf("Normalized = %+v", env)
	}
	if now := (Env{}).Normalized().Now; now.IsZero() || now.Location() != time.UTC {
		t.Errorf("zero Now normalized to %v", now)
	}
}
