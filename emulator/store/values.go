package store

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// toSQL converts a Row value of attribute a to what is bound in SQL.
func toSQL(a *model.Attribute, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch a.Type {
	case model.TypeString, model.TypeMemo, model.TypeEntityName:
		s, ok := v.(string)
		if !ok {
			return nil, typeErr(a, v)
		}
		return s, nil
	case model.TypeUniqueidentifier:
		s, ok := v.(string)
		if !ok {
			return nil, typeErr(a, v)
		}
		return strings.ToLower(s), nil
	case model.TypeInteger, model.TypeBigInt, model.TypePicklist, model.TypeState, model.TypeStatus:
		n, ok := v.(int64)
		if !ok {
			return nil, typeErr(a, v)
		}
		return n, nil
	case model.TypeBoolean:
		b, ok := v.(bool)
		if !ok {
			return nil, typeErr(a, v)
		}
		if b {
			return int64(1), nil
		}
		return int64(0), nil
	case model.TypeDouble:
		f, ok := v.(float64)
		if !ok {
			return nil, typeErr(a, v)
		}
		return f, nil
	case model.TypeMoney, model.TypeDecimal:
		d, ok := v.(model.Decimal)
		if !ok {
			return nil, typeErr(a, v)
		}
		d, err := d.Rescale(a.Scale())
		if err != nil {
			return nil, err
		}
		return d.Unscaled, nil
	case model.TypeDateTime:
		t, ok := v.(time.Time)
		if !ok {
			return nil, typeErr(a, v)
		}
		if a.Format == "DateOnly" {
			return t.Format(model.DateOnlyLayout), nil
		}
		return model.FormatDateTime(t), nil
	case model.TypeLookup, model.TypeCustomer, model.TypeOwner:
		l, ok := v.(model.Lookup)
		if !ok {
			return nil, typeErr(a, v)
		}
		return strings.ToLower(l.ID), nil
	}
	if a.IsMultiSelect() {
		vals, ok := v.([]int64)
		if !ok {
			return nil, typeErr(a, v)
		}
		if len(vals) == 0 {
			return nil, nil
		}
		var b strings.Builder
		b.WriteByte(',')
		for _, n := range vals {
			b.WriteString(strconv.FormatInt(n, 10))
			b.WriteByte(',')
		}
		return b.String(), nil
	}
	return nil, fmt.Errorf("store: column %s: unsupported type %s", a.LogicalName, a.Type)
}

func typeErr(a *model.Attribute, v any) error {
	return fmt.Errorf("store: column %s (%s): unexpected value type %T", a.LogicalName, a.Type, v)
}

// fromSQL converts a scanned SQL value of attribute a to a Row value. typ is the polymorphic
// target entity (empty when the column has none).
func fromSQL(a *model.Attribute, v any, typ string) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch a.Type {
	case model.TypeString, model.TypeMemo, model.TypeEntityName, model.TypeUniqueidentifier:
		return asString(v), nil
	case model.TypeInteger, model.TypeBigInt, model.TypePicklist, model.TypeState, model.TypeStatus:
		return asInt(v)
	case model.TypeBoolean:
		n, err := asInt(v)
		return n != 0, err
	case model.TypeDouble:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		}
		return nil, fmt.Errorf("store: column %s: unexpected %T", a.LogicalName, v)
	case model.TypeMoney, model.TypeDecimal:
		n, err := asInt(v)
		return model.Decimal{Unscaled: n, Scale: a.Scale()}, err
	case model.TypeDateTime:
		s := asString(v)
		if len(s) == len(model.DateOnlyLayout) {
			return time.Parse(model.DateOnlyLayout, s)
		}
		return model.ParseDateTime(s)
	case model.TypeLookup, model.TypeCustomer, model.TypeOwner:
		l := model.Lookup{ID: asString(v), Entity: typ}
		if l.Entity == "" && len(a.Targets) > 0 {
			l.Entity = a.Targets[0]
		}
		return l, nil
	}
	if a.IsMultiSelect() {
		var out []int64
		for _, p := range strings.Split(strings.Trim(asString(v), ","), ",") {
			if p == "" {
				continue
			}
			n, err := strconv.ParseInt(p, 10, 64)
			if err != nil {
				return nil, err
			}
			out = append(out, n)
		}
		return out, nil
	}
	return nil, fmt.Errorf("store: column %s: unsupported type %s", a.LogicalName, a.Type)
}

func asString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case []byte:
		return string(x)
	}
	return fmt.Sprint(v)
}

func asInt(v any) (int64, error) {
	switch x := v.(type) {
	case int64:
		return x, nil
	case float64:
		return int64(x), nil
	case string:
		return strconv.ParseInt(x, 10, 64)
	}
	return 0, fmt.Errorf("store: unexpected integer value %T", v)
}

// sqlType is the column type used for an attribute.
func sqlType(a *model.Attribute) string {
	switch a.Type {
	case model.TypeString, model.TypeMemo, model.TypeEntityName:
		return "TEXT COLLATE NOCASE"
	case model.TypeInteger, model.TypeBigInt, model.TypePicklist, model.TypeState, model.TypeStatus, model.TypeBoolean, model.TypeMoney, model.TypeDecimal:
		return "INTEGER"
	case model.TypeDouble:
		return "REAL"
	}
	return "TEXT"
}
