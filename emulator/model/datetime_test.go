package model

import (
	"testing"
	"time"
)

// The hand-written date and time reader and writer agree with time.Parse and time.Format.
func FuzzDateTime(f *testing.F) {
	for _, s := range []string{"2024-01-15T09:30:00Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "2024-02-30T00:00:00Z",
		"2023-02-29T10:00:00Z", "2024-02-29T10:00:00Z", "2024-13-01T00:00:00Z", "2024-01-15T24:00:00Z", "2024-01-15T09:60:00Z",
		"2024-01-15T09:30:60Z", "2024-01-1ZT09:30:00Z", "2024-01-15 09:30:00Z", "+024-01-15T09:30:00Z", "2024-00-10T00:00:00Z", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseDateTime(s)
		want, werr := time.Parse(DateTimeLayout, s)
		if (err == nil) != (werr == nil) || got != want {
			t.Fatalf("ParseDateTime(%q) = %v, %v; time.Parse: %v, %v", s, got, err, want, werr)
		}
		if err == nil {
			if out, std := FormatDateTime(got), got.UTC().Format(DateTimeLayout); out != std {
				t.Fatalf("FormatDateTime(%v) = %q, time.Format %q", got, out, std)
			}
		}
	})
}

func TestFormatDateTime(t *testing.T) {
	for _, tm := range []time.Time{time.Date(2024, 1, 15, 9, 30, 5, 999, time.UTC), time.Date(1, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 12, 7, 23, 59, 59, 0, time.FixedZone("x", -5*3600)), time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if got, want := FormatDateTime(tm), tm.UTC().Format(DateTimeLayout); got != want {
			t.Errorf("FormatDateTime(%v) = %q, want %q", tm, got, want)
		}
	}
}
