package odata

import (
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/dynlocal/dynlocal/emulator/model"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// This file holds the Dataverse query functions of $filter
// (Microsoft.Dynamics.CRM.<Name>(PropertyName=...,PropertyValue=...)).
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/query/filter-rows#dataverse-query-functions
//
// A query function is the Dataverse condition operator of the same name (model.LookupOperator):
// this file reads its parameters as the operator's arguments and reports OData's errors; the
// operator builds the condition, with the meaning FetchXML gives it too (model/dates.go for the
// dates and the fiscal calendar). Values of In, NotIn, Between and NotBetween may be strings or
// numbers whatever the column's type, as Dataverse reads them leniently. Every condition
// operator but the comparisons, the string matches and the null tests is a query function;
// Contains is not (Microsoft.Dynamics.CRM.Contains is full-text search), and the hierarchy
// functions (Above, Under, ...) are refused: the fixtures define no hierarchical relationships.

const crmNamespace = "Microsoft.Dynamics.CRM."

// fnParams are the parameters of a query function, by the arguments its operator takes.
var fnParams = map[model.Args][]string{
	model.ArgNone:      {"PropertyName"},
	model.ArgValue:     {"PropertyName", "PropertyValue"},
	model.ArgDate:      {"PropertyName", "PropertyValue"},
	model.ArgWhole:     {"PropertyName", "PropertyValue"},
	model.ArgValues:    {"PropertyName", "PropertyValues"},
	model.ArgTwoValues: {"PropertyName", "PropertyValues"},
	model.ArgOptions:   {"PropertyName", "PropertyValues"},
	model.ArgWholePair: {"PropertyName", "PropertyValue1", "PropertyValue2"},
}

// queryFunction returns the condition operator a query function names, if it is one.
func queryFunction(name string) (*model.Operator, bool) {
	op, ok := model.LookupOperator(name)
	if !ok || name == "Contains" {
		return nil, false
	}
	switch op.Family {
	case model.FamilyCompare, model.FamilyMatch, model.FamilyNull:
		return nil, false
	}
	return op, true
}

// fnCall is a parsed query function call.
type fnCall struct {
	name string // short name: In, LastXDays, ...
	op   *model.Operator
	pos  int
	args map[string]token
	col  *model.Column
	// colPos is where PropertyName's value is.
	colPos int
}

func (c *fnCall) full() string { return crmNamespace + c.name }

// queryFunction binds a Dataverse query function.
func (b *binder) queryFunction(n *fnNode) (operand, *dverr.Error) {
	nameTok := n.name
	c := &fnCall{name: strings.TrimPrefix(nameTok.text, crmNamespace), pos: nameTok.pos, args: map[string]token{}}
	op, known := queryFunction(c.name)
	if !known {
		if c.name == "Contains" {
			return operand{}, dverr.BadRequest("The query function '%s' (full-text search) is only available on knowledge articles and is not supported by the emulator.", nameTok.text).At(nameTok.pos)
		}
		return operand{}, dverr.BadRequest("An unknown function with name '%s' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.", nameTok.text).At(nameTok.pos)
	}
	if b.nots > 0 {
		return operand{}, notWithFunction().At(nameTok.pos)
	}
	c.op = op
	if op.Family == model.FamilyHierarchy {
		return operand{}, dverr.BadRequest("The hierarchy query function '%s' is not supported: the emulator's fixtures define no hierarchical relationships yet.", nameTok.text).At(nameTok.pos)
	}
	want := fnParams[op.Args]
	for _, prm := range n.params {
		if !slices.Contains(want, prm.name.text) {
			return operand{}, dverr.BadRequest("The function '%s' has no parameter named '%s'; its parameters are %s.", nameTok.text, prm.name.text, strings.Join(want, ", ")).At(prm.name.pos)
		}
		if _, dup := c.args[prm.name.text]; dup {
			return operand{}, dverr.BadRequest("The parameter '%s' is given more than once.", prm.name.text).At(prm.name.pos)
		}
		v := prm.value
		if v.kind == tAlias {
			var err *dverr.Error
			if v, err = b.resolveAlias(v); err != nil {
				return operand{}, err
			}
		}
		c.args[prm.name.text] = v
	}
	for _, w := range want {
		if _, ok := c.args[w]; !ok {
			return operand{}, dverr.BadRequest("The function '%s' requires the parameter '%s'.", nameTok.text, w).At(nameTok.pos)
		}
	}
	if err := b.functionColumn(c); err != nil {
		return operand{}, err
	}
	x, err := b.buildFunction(c)
	if err != nil {
		return operand{}, err
	}
	o := boolOperand(nameTok.pos, x)
	o.fn = true
	return o, nil
}

// functionColumn resolves PropertyName: a logical name (lookups included) or a lookup value
// property, of the table in scope.
func (b *binder) functionColumn(c *fnCall) *dverr.Error {
	t := c.args["PropertyName"]
	c.colPos = t.pos
	if t.kind != tString {
		return dverr.BadRequest("The PropertyName parameter of '%s' must be a string naming a column, for example PropertyName='createdon'.", c.full()).At(t.pos)
	}
	e := b.scope().entity
	a := lookupValueAttr(e, t.text)
	if a == nil {
		if x, ok := e.Attribute(t.text); ok && x.AttributeOf == "" && x.ValidForRead {
			a = x
		}
	}
	if a == nil {
		return dverr.PropertyNotFound(t.text, e.LogicalName).At(t.pos)
	}
	if err := checkQueryable(a, t.pos); err != nil {
		return err
	}
	c.col = &model.Column{Attr: a}
	return nil
}

// buildFunction reads the arguments of a query function and builds its condition.
func (b *binder) buildFunction(c *fnCall) (model.Expr, *dverr.Error) {
	op := c.op
	// Values are counted before the column is checked, and converted after.
	if op.Args != model.ArgValues && op.Args != model.ArgTwoValues {
		if err := c.checkColumn(); err != nil {
			return nil, err
		}
	}
	var args []any
	switch op.Args {
	case model.ArgValues, model.ArgTwoValues:
		least, most := 1, -1
		if op.Args == model.ArgTwoValues {
			least, most = 2, 2
		}
		vals, err := c.values(least, most)
		if err != nil {
			return nil, err
		}
		if err := c.checkColumn(); err != nil {
			return nil, err
		}
		args = make([]any, len(vals))
		for i, v := range vals {
			if args[i], err = c.convert(v); err != nil {
				return nil, err
			}
		}
	case model.ArgOptions:
		vals, err := c.values(1, -1)
		if err != nil {
			return nil, err
		}
		for _, v := range vals {
			n, err := strconv.ParseInt(strings.TrimSpace(v.text), 10, 32)
			if err != nil || v.kind != jString && v.kind != jNumber {
				return nil, c.errValue(v, "Edm.Int32")
			}
			args = append(args, n)
		}
	case model.ArgDate:
		d, err := c.dateArg("PropertyValue")
		if err != nil {
			return nil, err
		}
		args = []any{d}
	case model.ArgWhole:
		n, err := c.intArg("PropertyValue", op.Bounds[0])
		if err != nil {
			return nil, err
		}
		args = []any{n}
	case model.ArgWholePair:
		for i, name := range []string{"PropertyValue1", "PropertyValue2"} {
			n, err := c.intArg(name, op.Bounds[i])
			if err != nil {
				return nil, err
			}
			args = append(args, n)
		}
	}
	return op.Expr(c.col, args, b.env), nil
}

// checkColumn checks that the function applies to its column.
func (c *fnCall) checkColumn() *dverr.Error {
	a := c.col.Attr
	switch {
	case c.op.Columns.Accepts(a):
		return nil
	case c.op.Columns == model.ScalarColumn:
		return errMultiSelect(a).At(c.colPos)
	}
	return dverr.BadRequest("The function '%s' can only be used with %s columns; '%s' is of type %s.", c.full(), c.op.Columns, a.LogicalName, a.Type).At(c.colPos)
}

// values returns the items of PropertyValues, which must be an array of min to max items (max
// -1: no limit).
func (c *fnCall) values(min, max int) ([]jsonItem, *dverr.Error) {
	t := c.args["PropertyValues"]
	if t.kind != tArray {
		return nil, dverr.BadRequest("The PropertyValues parameter of '%s' must be a list of values, for example PropertyValues=[\"a\",\"b\"].", c.full()).At(t.pos)
	}
	n := len(t.items)
	if n < min || max >= 0 && n > max {
		if min == max {
			return nil, dverr.BadRequest("The function '%s' needs exactly %d values in PropertyValues; %d were given.", c.full(), min, n).At(t.pos)
		}
		return nil, dverr.BadRequest("The function '%s' needs at least %d value in PropertyValues.", c.full(), min).At(t.pos)
	}
	return t.items, nil
}

func (c *fnCall) errValue(v jsonItem, typ string) *dverr.Error {
	return dverr.BadRequest("The value '%s' is not a valid %s value for the column '%s' of '%s'.", v.text, typ, c.col.Attr.LogicalName, c.full()).At(v.pos)
}

// convert turns a query function value to the column's Row value type. Dataverse reads these
// values leniently: numbers may be given as strings (PropertyValues=["5","2000"]).
func (c *fnCall) convert(v jsonItem) (any, *dverr.Error) {
	a := c.col.Attr
	typ := a.EdmType()
	if v.kind == jNull {
		return nil, dverr.BadRequest("null is not allowed in the values of '%s'.", c.full()).At(v.pos)
	}
	text := v.text
	switch {
	case a.IsLookup() || a.Type == model.TypeUniqueidentifier:
		s := strings.TrimSuffix(strings.TrimPrefix(text, "{"), "}")
		if model.IsGUID(s) {
			return strings.ToLower(s), nil
		}
	case a.Type == model.TypeString || a.Type == model.TypeMemo || a.Type == model.TypeEntityName:
		return text, nil
	case a.Type == model.TypeInteger || a.Type == model.TypeBigInt || a.IsChoice():
		if n, err := strconv.ParseInt(strings.TrimSpace(text), 10, 64); err == nil && v.kind != jBool {
			return n, nil
		}
	case a.Type == model.TypeDouble:
		if f, err := strconv.ParseFloat(strings.TrimSpace(text), 64); err == nil && v.kind != jBool {
			return f, nil
		}
	case a.Type == model.TypeMoney || a.Type == model.TypeDecimal:
		if d, err := model.ParseDecimal(strings.TrimSpace(text), a.Scale()); err == nil && v.kind != jBool {
			return d, nil
		}
	case a.Type == model.TypeBoolean:
		switch text {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
	case a.Type == model.TypeDateTime:
		if t, ok := parseDateText(text); ok {
			return a.DateValue(t), nil
		}
	}
	return nil, c.errValue(v, typ)
}

// parseDateText reads a date or a date-time.
func parseDateText(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(dateLayout, s); err == nil {
		return t, true
	}
	if t, err := parseDateTime(s); err == nil {
		return t, true
	}
	return time.Time{}, false
}

// item turns a scalar parameter into a jsonItem so that scalars and array items convert alike.
func item(t token) (jsonItem, bool) {
	switch {
	case t.kind == tString:
		return jsonItem{kind: jString, text: t.text, pos: t.pos}, true
	case t.kind == tNumber:
		return jsonItem{kind: jNumber, text: t.text, pos: t.pos}, true
	case t.kind == tGUID, t.kind == tDate, t.kind == tDateTime:
		return jsonItem{kind: jString, text: t.text, pos: t.pos}, true
	case isBoolLit(t):
		return jsonItem{kind: jBool, text: t.text, pos: t.pos}, true
	case isNull(t):
		return jsonItem{kind: jNull, text: "null", pos: t.pos}, true
	}
	return jsonItem{}, false
}

// intArg reads a whole-number parameter (a number or a string holding one) within bound.
func (c *fnCall) intArg(name string, bound model.Bound) (int, *dverr.Error) {
	lo, hi := int64(bound.Lo), int64(bound.Hi)
	t := c.args[name]
	v, ok := item(t)
	if ok && (v.kind == jNumber || v.kind == jString) {
		if n, err := strconv.ParseInt(strings.TrimSpace(v.text), 10, 64); err == nil {
			if n < lo || n > hi {
				return 0, dverr.BadRequest("The %s of '%s' must be between %d and %d; %d was given.", name, c.full(), lo, hi, n).At(t.pos)
			}
			return int(n), nil
		}
	}
	return 0, dverr.BadRequest("The %s of '%s' must be a whole number.", name, c.full()).At(t.pos)
}

// dateArg reads a date or date-time parameter; the operator takes its UTC date.
func (c *fnCall) dateArg(name string) (time.Time, *dverr.Error) {
	t := c.args[name]
	switch t.kind {
	case tDate, tDateTime:
		return t.time, nil
	case tString:
		if d, ok := parseDateText(t.text); ok {
			return d, nil
		}
	}
	return time.Time{}, dverr.BadRequest("The %s of '%s' must be a date such as 2024-01-31.", name, c.full()).At(t.pos)
}
