package model

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// FormatValue is the OData.Community.Display.V1.FormattedValue of a value, in the en-US formats
// Dataverse uses for a user in UTC.
func FormatValue(a *Attribute, v any) string {
	switch x := v.(type) {
	case bool:
		if x {
			return a.TrueLabel
		}
		return a.FalseLabel
	case int64:
		if a.IsChoice() {
			l, _ := a.OptionLabel(x)
			return l
		}
		if a.Type == TypeBigInt || a.LogicalName == "versionnumber" {
			return ""
		}
		return GroupDigits(strconv.FormatInt(x, 10))
	case []int64:
		labels := make([]string, 0, len(x))
		for _, n := range x {
			if l, ok := a.OptionLabel(n); ok {
				labels = append(labels, l)
			}
		}
		return strings.Join(labels, "; ")
	case Decimal:
		if a.Type == TypeMoney {
			p := a.Precision
			d, err := x.Rescale(p)
			if err != nil {
				return ""
			}
			s := d.String()
			neg := strings.HasPrefix(s, "-")
			s = strings.TrimPrefix(s, "-")
			out := "$" + GroupDecimal(s)
			if neg {
				out = "-" + out
			}
			return out
		}
		return GroupDecimal(x.String())
	case float64:
		prec := a.Precision
		if prec <= 0 {
			prec = 2
		}
		return GroupDecimal(strconv.FormatFloat(x, 'f', prec, 64))
	case time.Time:
		if a.Format == "DateOnly" {
			return fmt.Sprintf("%d/%d/%d", x.Month(), x.Day(), x.Year())
		}
		return x.UTC().Format("1/2/2006 3:04 PM")
	}
	return ""
}

// GroupDigits inserts thousands separators into an integer string.
func GroupDigits(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func GroupDecimal(s string) string {
	intPart, frac, hasFrac := strings.Cut(s, ".")
	out := GroupDigits(intPart)
	if hasFrac {
		out += "." + frac
	}
	return out
}
