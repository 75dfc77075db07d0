package model

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Row is one record as the store sees it: logical column name to value. A missing key means the
// column is not part of the row (not selected, or not written); a nil value is SQL NULL.
//
// Value types by attribute type:
//
//	String, Memo, Uniqueidentifier, EntityName  string
//	Integer, BigInt, Picklist, State, Status    int64
//	Boolean                                     bool
//	Double                                      float64
//	Money, Decimal                              Decimal
//	DateTime                                    time.Time (UTC; DateOnly columns at midnight)
//	Lookup, Customer, Owner                     Lookup
//	MultiSelectPicklist                         []int64
type Row map[string]any

// Lookup is a reference to a row of another table.
type Lookup struct {
	ID     string
	Entity string
}

// Decimal is an exact decimal number: Unscaled × 10^-Scale.
type Decimal struct {
	Unscaled int64
	Scale    int
}

// ErrDecimalRange reports a number that does not fit the store's exact representation.
var ErrDecimalRange = errors.New("number out of range")

// ParseDecimal reads a decimal literal (as JSON writes numbers: optional sign, digits, optional
// fraction and exponent) and rounds it half away from zero to scale places.
func ParseDecimal(s string, scale int) (Decimal, error) {
	if s == "" {
		return Decimal{}, fmt.Errorf("empty number")
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	exp := 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		e, err := strconv.Atoi(s[i+1:])
		if err != nil || e > 400 || e < -400 {
			return Decimal{}, fmt.Errorf("invalid number %q", s)
		}
		exp = e
		s = s[:i]
	}
	intPart, frac := s, ""
	if i := strings.IndexByte(s, '.'); i >= 0 {
		intPart, frac = s[:i], s[i+1:]
	}
	if intPart == "" && frac == "" {
		return Decimal{}, fmt.Errorf("invalid number")
	}
	digits := intPart + frac
	for _, c := range digits {
		if c < '0' || c > '9' {
			return Decimal{}, fmt.Errorf("invalid number")
		}
	}
	// value = digits × 10^(exp - len(frac)); we want digits × 10^(exp - len(frac) + scale).
	shift := exp - len(frac) + scale
	digits = strings.TrimLeft(digits, "0")
	var roundUp bool
	if shift < 0 {
		cut := len(digits) + shift
		if cut < 0 {
			digits, roundUp = "", false
		} else {
			roundUp = digits[cut] >= '5'
			digits = digits[:cut]
		}
	} else {
		if len(digits) > 0 {
			if len(digits)+shift > 19 {
				return Decimal{}, ErrDecimalRange
			}
			digits += strings.Repeat("0", shift)
		}
	}
	var u uint64
	if digits != "" {
		if len(digits) > 19 {
			return Decimal{}, ErrDecimalRange
		}
		v, err := strconv.ParseUint(digits, 10, 64)
		if err != nil {
			return Decimal{}, ErrDecimalRange
		}
		u = v
	}
	if roundUp {
		u++
	}
	if u > math.MaxInt64 {
		return Decimal{}, ErrDecimalRange
	}
	v := int64(u)
	if neg {
		v = -v
	}
	return Decimal{Unscaled: v, Scale: scale}, nil
}

// String writes the number with exactly Scale digits after the point, as Dataverse writes Money and
// Decimal values.
func (d Decimal) String() string { return string(d.Append(nil)) }

// Append appends the number as String writes it.
func (d Decimal) Append(dst []byte) []byte {
	u := uint64(d.Unscaled)
	if d.Unscaled < 0 {
		u = -u
		dst = append(dst, '-')
	}
	var buf [20]byte
	digits := strconv.AppendUint(buf[:0], u, 10)
	if d.Scale <= 0 {
		return append(dst, digits...)
	}
	if len(digits) <= d.Scale {
		dst = append(dst, '0', '.')
		for range d.Scale - len(digits) {
			dst = append(dst, '0')
		}
		return append(dst, digits...)
	}
	dst = append(dst, digits[:len(digits)-d.Scale]...)
	dst = append(dst, '.')
	return append(dst, digits[len(digits)-d.Scale:]...)
}

// MarshalJSON writes the exact number.
func (d Decimal) MarshalJSON() ([]byte, error) { return d.Append(nil), nil }

// AppendJSON appends the number as MarshalJSON writes it.
func (d Decimal) AppendJSON(dst []byte) []byte { return d.Append(dst) }

// Float returns the nearest float64.
func (d Decimal) Float() float64 {
	return float64(d.Unscaled) / math.Pow10(d.Scale)
}

// Rescale returns d at another scale, rounding half away from zero.
func (d Decimal) Rescale(scale int) (Decimal, error) {
	if scale == d.Scale {
		return d, nil
	}
	return ParseDecimal(d.String(), scale)
}

// Time formats used on the wire and in storage.
const (
	DateTimeLayout = "2006-01-02T15:04:05Z"
	DateOnlyLayout = "2006-01-02"
)

// FormatDateTime writes t in UTC as DateTimeLayout does. It is what every row read writes for its
// date and time columns, so it is written out by hand rather than through time.Format's layout
// interpreter; years outside 0-9999 take time.Format.
func FormatDateTime(t time.Time) string {
	var b [20]byte
	return string(AppendDateTime(b[:0], t))
}

// AppendDateTime appends t as FormatDateTime writes it.
func AppendDateTime(dst []byte, t time.Time) []byte {
	t = t.UTC()
	year, month, day := t.Date()
	if year < 0 || year > 9999 {
		return t.AppendFormat(dst, DateTimeLayout)
	}
	hour, minute, sec := t.Clock()
	put := func(v, n int) {
		for k := n - 1; k >= 0; k-- {
			dst = append(dst, '0'+byte(v/pow10[k]%10))
		}
	}
	put(year, 4)
	dst = append(dst, '-')
	put(int(month), 2)
	dst = append(dst, '-')
	put(day, 2)
	dst = append(dst, 'T')
	put(hour, 2)
	dst = append(dst, ':')
	put(minute, 2)
	dst = append(dst, ':')
	put(sec, 2)
	return append(dst, 'Z')
}

var pow10 = [...]int{1, 10, 100, 1000}

// ParseDateTime reads a time written by FormatDateTime (DateTimeLayout), with time.Parse's
// result; the fixed layout is read by hand, and anything else, or a date that does not exist, goes
// to time.Parse, which says why it is wrong.
func ParseDateTime(s string) (time.Time, error) {
	if len(s) == len(DateTimeLayout) && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[19] == 'Z' {
		num := func(i, n int) int {
			v := 0
			for _, c := range []byte(s[i : i+n]) {
				if c < '0' || c > '9' {
					return -1
				}
				v = v*10 + int(c-'0')
			}
			return v
		}
		year, month, day := num(0, 4), num(5, 2), num(8, 2)
		hour, minute, sec := num(11, 2), num(14, 2), num(17, 2)
		if year >= 0 && month >= 1 && month <= 12 && day >= 1 && hour >= 0 && hour < 24 && minute >= 0 && minute < 60 && sec >= 0 && sec < 60 {
			t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
			if t.Day() == day { // not normalized past the month's end
				return t, nil
			}
		}
	}
	return time.Parse(DateTimeLayout, s)
}
