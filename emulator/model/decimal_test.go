package model

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestDecimalString(t *testing.T) {
	tests := []struct {
		d    Decimal
		want string
	}{
		{Decimal{0, 0}, "0"},
		{Decimal{0, 2}, "0.00"},
		{Decimal{5, 2}, "0.05"},
		{Decimal{-5, 2}, "-0.05"},
		{Decimal{123, 2}, "1.23"},
		{Decimal{-123, 3}, "-0.123"},
		{Decimal{200005000, 4}, "20000.5000"},
		{Decimal{42, 0}, "42"},
		{Decimal{math.MaxInt64, 4}, "922337203685477.5807"},
		{Decimal{math.MinInt64, 4}, "-922337203685477.5808"},
		{Decimal{7, 10}, "0.0000000007"},
	}
	for _, tt := range tests {
		if got := tt.d.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.d, got, tt.want)
		}
		if got, _ := tt.d.MarshalJSON(); string(got) != tt.want {
			t.Errorf("%#v.MarshalJSON() = %q, want %q", tt.d, got, tt.want)
		}
		if got := tt.d.AppendJSON([]byte("x:")); string(got) != "x:"+tt.want {
			t.Errorf("%#v.AppendJSON = %q, want %q", tt.d, got, "x:"+tt.want)
		}
	}
	// What String writes, ParseDecimal reads back as the same number.
	r := rand.New(rand.NewPCG(1, 2))
	for range 10000 {
		d := Decimal{Unscaled: r.Int64() >> r.IntN(63), Scale: r.IntN(11)}
		if r.IntN(2) == 0 {
			d.Unscaled = -d.Unscaled
		}
		back, err := ParseDecimal(d.String(), d.Scale)
		if err != nil || back != d {
			t.Fatalf("ParseDecimal(%q, %d) = %#v, %v; want %#v", d.String(), d.Scale, back, err, d)
		}
	}
}
