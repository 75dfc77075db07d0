package fetchxml

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/dynlocal/dynlocal/emulator/model"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// Messages of the .NET exceptions Dataverse quotes when a condition value does not convert.
const (
	msgFormat  = "Input string was not in a correct format."
	msgGUID    = "Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx)."
	msgBoolean = "String was not recognized as a valid Boolean."
	msgDate    = "String was not recognized as a valid DateTime."
)

// errConvert is Dataverse's answer to a condition value that does not fit the column's type.
func (c *cond) errConvert(v valueText, exception, netType, inner string) *dverr.Error {
	return fail(v.pos, codeInvalidArgument, "An exception System.%s was thrown while trying to convert input value '%s' to attribute '%s'. Expected type of attribute value: %s. Exception raised: %s", exception, v.text, c.name(), netType, inner)
}

// convert turns a condition value into the Row value type of the condition's column.
func (c *cond) convert(v valueText) (any, *dverr.Error) {
	a := c.col.Attr
	t := strings.TrimSpace(v.text)
	switch {
	case a.IsLookup() || a.Type == model.TypeUniqueidentifier:
		if g, ok := parseGUID(t); ok {
			return g, nil
		}
		return nil, c.errConvert(v, "FormatException", "System.Guid", msgGUID)
	case a.Type == model.TypeString || a.Type == model.TypeMemo || a.Type == model.TypeEntityName:
		return v.text, nil
	case a.Type == model.TypeInteger || a.IsChoice():
		return c.int32(v)
	case a.Type == model.TypeBigInt:
		n, err := strconv.ParseInt(t, 10, 64)
		if err != nil {
			if errors.Is(err, strconv.ErrRange) {
				return nil, c.errConvert(v, "OverflowException", "System.Int64", "Value was either too large or too small for an Int64.")
			}
			return nil, c.errConvert(v, "FormatException", "System.Int64", msgFormat)
		}
		return n, nil
	case a.Type == model.TypeDouble:
		f, err := strconv.ParseFloat(t, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			if errors.Is(err, strconv.ErrRange) {
				return nil, c.errConvert(v, "OverflowException", "System.Double", "Value was either too large or too small for a Double.")
			}
			return nil, c.errConvert(v, "FormatException", "System.Double", msgFormat)
		}
		return f, nil
	case a.Type == model.TypeMoney || a.Type == model.TypeDecimal:
		d, err := model.ParseDecimal(t, a.Scale())
		if err != nil {
			if errors.Is(err, model.ErrDecimalRange) {
				return nil, c.errConvert(v, "OverflowException", "System.Decimal", "Value was either too large or too small for a Decimal.")
			}
			return nil, c.errConvert(v, "FormatException", "System.Decimal", msgFormat)
		}
		return d, nil
	case a.Type == model.TypeBoolean:
		switch strings.ToLower(t) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
		return nil, c.errConvert(v, "FormatException", "System.Boolean", msgBoolean)
	case a.Type == model.TypeDateTime:
		d, ok := parseDate(t)
		if !ok {
			return nil, c.errConvert(v, "FormatException", "System.DateTime", msgDate)
		}
		return a.DateValue(d), nil
	}
	return nil, c.p.failf(c.n, codeInvalidArgument, "The column '%s' of type %s can't be compared with a value.", c.name(), a.Type)
}

// int32 reads a whole number the size of Dataverse's Integer and choice columns.
func (c *cond) int32(v valueText) (int64, *dverr.Error) {
	n, err := strconv.ParseInt(strings.TrimSpace(v.text), 10, 32)
	if err != nil {
		if errors.Is(err, strconv.ErrRange) {
			return 0, c.errConvert(v, "OverflowException", "System.Int32", "Value was either too large or too small for an Int32.")
		}
		return 0, c.errConvert(v, "FormatException", "System.Int32", msgFormat)
	}
	return n, nil
}

// parseGUID reads a GUID in any of the forms .NET's Guid.Parse accepts for text (32 digits, with
// or without dashes, optionally in braces or parentheses) and returns it lower-case with dashes.
func parseGUID(s string) (string, bool) {
	if len(s) >= 2 && (s[0] == '{' && s[len(s)-1] == '}' || s[0] == '(' && s[len(s)-1] == ')') {
		s = s[1 : len(s)-1]
	}
	var hex []byte
	switch len(s) {
	case 36:
		for i := 0; i < 36; i++ {
			if i == 8 || i == 13 || i == 18 || i == 23 {
				if s[i] != '-' {
					return "", false
				}
				continue
			}
			hex = append(hex, s[i])
		}
	case 32:
		hex = []byte(s)
	default:
		return "", false
	}
	for i, ch := range hex {
		switch {
		case ch >= '0' && ch <= '9', ch >= 'a' && ch <= 'f':
		case ch >= 'A' && ch <= 'F':
			hex[i] = ch + 'a' - 'A'
		default:
			return "", false
		}
	}
	h := string(hex)
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:], true
}

// dateLayouts are the date and date-time forms condition values take: ISO 8601 (with or without a
// time zone; without one the time is the user's, UTC in the emulator), and the US forms that
// Dataverse's own tools write (2/28/2022, 2/28/2022 3:04 PM).
var dateLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
	"1/2/2006",
	"1/2/2006 15:04",
	"1/2/2006 15:04:05",
	"1/2/2006 3:04 PM",
	"1/2/2006 3:04:05 PM",
}

func parseDate(s string) (time.Time, bool) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}
