package daterange

import (
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

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
	}
	for _, tt := range tests {
		if got := AddMonths(tt.from, tt.n); !got.Equal(tt.want) {
			t.Errorf("AddMonths(%s, %d) = %s, want %s", tt.from.Format("2006-01-02"), tt.n, got.Format("2006-01-02"), tt.want.Format("2006-01-02"))
		}
	}
}

func TestFiscalCalendar(t *testing.T) {
	t.Parallel()
	f := NewFiscal(4, day(2024, 2, 10)) // fiscal years start in April: Feb 2024 is in FY2023, period 4
	if f.Year != 2023 || f.Period != 4 {
		t.Fatalf("NewFiscal = %+v", f)
	}
	if s := f.Periods(f.Year, f.Period, 1); !s.Start.Equal(day(2024, 1, 1)) || !s.End.Equal(day(2024, 4, 1)) {
		t.Errorf("current period = %v..%v", s.Start, s.End)
	}
	if s := f.Years(2023, 1); !s.Start.Equal(day(2023, 4, 1)) || !s.End.Equal(day(2024, 4, 1)) {
		t.Errorf("fiscal year = %v..%v", s.Start, s.End)
	}
	if got := Midnight(time.Date(2024, 5, 15, 23, 59, 0, 0, time.FixedZone("x", 3600))); !got.Equal(day(2024, 5, 15)) {
		t.Errorf("Midnight = %v", got)
	}
}
