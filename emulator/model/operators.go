package model

import (
	"sort"
	"strings"
)

// This file is the one table of Dataverse condition operators. OData ($filter operators, canonical
// functions and Dataverse query functions) and FetchXML (condition operators) map their own
// spellings onto it, read the arguments it asks for, and let it build the condition, so that an
// operator means the same thing from either front end.
//
// Dataverse: https://learn.microsoft.com/dotnet/api/microsoft.xrm.sdk.query.conditionoperator

// Operator is a Dataverse condition operator: the arguments it takes, the columns it applies to
// and the condition it builds.
type Operator struct {
	// Name is the operator's name in Dataverse's ConditionOperator enumeration.
	Name string
	// Family groups the operators that build the same kind of condition.
	Family Family
	// Args says what arguments the operator takes.
	Args Args
	// Bounds are the allowed ranges of the whole numbers of ArgWhole (one) and ArgWholePair (two).
	Bounds []Bound
	// Columns says which columns the operator applies to.
	Columns ColumnKind
	// Compare is the comparison of the FamilyCompare operators, which may also compare two
	// columns.
	Compare CompareOp

	build func(o *Operator, col *Column, args []any, env Env) Expr
}

// Expr builds the operator's condition on col. The front end has checked col against Columns
// and read args as Args says, each converted to the column's Row value type:
//
//	ArgNone        no argument
//	ArgValue       one value (for FamilyMatch the pattern, a string)
//	ArgValues      one or more values
//	ArgTwoValues   two values, low then high
//	ArgOptions     one or more option values, int64
//	ArgDate        one time.Time (its UTC date counts)
//	ArgWhole       one int within Bounds[0]
//	ArgWholePair   two ints within Bounds[0] and Bounds[1]
//
// The hierarchy operators build nothing (nil): the emulator refuses them.
func (o *Operator) Expr(col *Column, args []any, env Env) Expr {
	if o.build == nil {
		return nil
	}
	return o.build(o, col, args, env)
}

// Family is a group of operators that build the same kind of condition.
type Family uint8

// Operator families.
const (
	FamilyCompare       Family = iota // Equal .. LessEqual: Compare
	FamilyMatch                       // Like, BeginsWith, Contains, ...: Match
	FamilyIn                          // In, NotIn: In
	FamilyBetween                     // Between, NotBetween: a closed range or its complement
	FamilyNull                        // Null, NotNull: Null
	FamilyUser                        // EqualUserId, EqualBusinessId, EqualUserTeams, ...: the caller
	FamilyDate                        // Today, LastXDays, InFiscalYear, ...: a DateRange (see dates.go)
	FamilyContainValues               // ContainValues, DoesNotContainValues: ContainValues
	FamilyHierarchy                   // Under, Above, ...: refused, the fixtures define no hierarchies
)

// Args is what arguments an operator takes; see Operator.Expr.
type Args uint8

// Argument shapes.
const (
	ArgNone Args = iota
	ArgValue
	ArgValues
	ArgTwoValues
	ArgOptions
	ArgDate
	ArgWhole
	ArgWholePair
)

// Bound is the allowed range [Lo, Hi] of a whole-number argument.
type Bound struct{ Lo, Hi int }

// Bounds of the whole-number arguments.
var (
	CountBound  = Bound{0, MaxX}
	YearBound   = Bound{1, MaxFiscalYear}
	PeriodBound = Bound{1, FiscalPeriods}
)

// ColumnKind is the kind of column an operator applies to.
type ColumnKind uint8

// Column kinds.
const (
	AnyColumn         ColumnKind = iota // every column, multi-select choices included
	ScalarColumn                        // every column but multi-select choices
	TextColumn                          // String, Memo, EntityName
	DateColumn                          // DateTime
	IDColumn                            // lookups and unique identifiers
	WholeNumberColumn                   // Integer and choices
	MultiSelectColumn                   // multi-select choices
)

// Accepts reports whether the operator's column may be a.
func (k ColumnKind) Accepts(a *Attribute) bool {
	switch k {
	case ScalarColumn:
		return !a.IsMultiSelect()
	case TextColumn:
		return a.Type == TypeString || a.Type == TypeMemo || a.Type == TypeEntityName
	case DateColumn:
		return a.Type == TypeDateTime
	case IDColumn:
		return a.IsLookup() || a.Type == TypeUniqueidentifier
	case WholeNumberColumn:
		return a.Type == TypeInteger || a.IsChoice()
	case MultiSelectColumn:
		return a.IsMultiSelect()
	}
	return true
}

// String names the kind in messages: "can only be used with <kind> columns".
func (k ColumnKind) String() string {
	return [...]string{"any", "single-valued", "text", "date and time", "lookup and unique identifier",
		"whole-number and choice", "multi-select choice"}[k]
}

// LookupOperator returns the operator with a ConditionOperator name.
func LookupOperator(name string) (*Operator, bool) {
	o, ok := operators[name]
	return o, ok
}

// Operators returns every operator of the table, sorted by name.
func Operators() []*Operator {
	out := make([]*Operator, 0, len(operators))
	for _, o := range operators {
		out = append(out, o)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

var operators = map[string]*Operator{}

func add(o *Operator) {
	operators[o.Name] = o
}

func init() {
	for name, op := range map[string]CompareOp{
		"Equal": Eq, "NotEqual": Ne, "GreaterThan": Gt, "GreaterEqual": Ge, "LessThan": Lt, "LessEqual": Le,
	} {
		add(&Operator{Name: name, Family: FamilyCompare, Args: ArgValue, Columns: ScalarColumn, Compare: op, build: compareExpr})
	}
	for name, kind := range map[string]string{
		"Like": "like", "NotLike": "like", "BeginsWith": "startswith", "DoesNotBeginWith": "startswith",
		"EndsWith": "endswith", "DoesNotEndWith": "endswith", "Contains": "contains", "DoesNotContain": "contains",
	} {
		add(&Operator{Name: name, Family: FamilyMatch, Args: ArgValue, Columns: TextColumn, build: matchExpr(kind)})
	}
	for _, name := range []string{"In", "NotIn"} {
		add(&Operator{Name: name, Family: FamilyIn, Args: ArgValues, Columns: ScalarColumn, build: inExpr})
	}
	for _, name := range []string{"Between", "NotBetween"} {
		add(&Operator{Name: name, Family: FamilyBetween, Args: ArgTwoValues, Columns: ScalarColumn, build: betweenExpr})
	}
	for _, name := range []string{"Null", "NotNull"} {
		add(&Operator{Name: name, Family: FamilyNull, Args: ArgNone, Columns: AnyColumn, build: nullExpr})
	}
	for _, name := range []string{"ContainValues", "DoesNotContainValues"} {
		add(&Operator{Name: name, Family: FamilyContainValues, Args: ArgOptions, Columns: MultiSelectColumn, build: containValuesExpr})
	}
	for _, name := range []string{
		"EqualUserId", "NotEqualUserId", "EqualBusinessId", "NotEqualBusinessId", "EqualUserTeams",
		"EqualUserOrUserTeams", "EqualUserOrUserHierarchy", "EqualUserOrUserHierarchyAndTeams",
	} {
		add(&Operator{Name: name, Family: FamilyUser, Args: ArgNone, Columns: IDColumn, build: userExpr})
	}
	add(&Operator{Name: "EqualUserLanguage", Family: FamilyUser, Args: ArgNone, Columns: WholeNumberColumn, build: userExpr})
	for name, s := range dateSpans {
		o := &Operator{Name: name, Family: FamilyDate, Args: ArgNone, Columns: DateColumn, build: dateExpr(s)}
		switch {
		case strings.HasPrefix(name, "On"):
			o.Args = ArgDate
		case strings.HasSuffix(name, "PeriodAndYear"):
			o.Args, o.Bounds = ArgWholePair, []Bound{PeriodBound, YearBound}
		case name == "InFiscalYear":
			o.Args, o.Bounds = ArgWhole, []Bound{YearBound}
		case name == "InFiscalPeriod":
			o.Args, o.Bounds = ArgWhole, []Bound{PeriodBound}
		case strings.Contains(name, "X"):
			o.Args, o.Bounds = ArgWhole, []Bound{CountBound}
		}
		add(o)
	}
	for _, name := range []string{"Under", "UnderOrEqual", "NotUnder", "Above", "AboveOrEqual"} {
		add(&Operator{Name: name, Family: FamilyHierarchy, Args: ArgValue, Columns: IDColumn})
	}
}

// negated reports whether an operator is the negation of another (NotIn, DoesNotContainValues).
func negated(name string) bool {
	return strings.HasPrefix(name, "Not") || strings.HasPrefix(name, "DoesNot")
}

func compareExpr(o *Operator, col *Column, args []any, _ Env) Expr {
	return Compare{Left: col, Op: o.Compare, Value: args[0]}
}

func matchExpr(kind string) func(*Operator, *Column, []any, Env) Expr {
	return func(o *Operator, col *Column, args []any, _ Env) Expr {
		return Match{Column: col, Kind: kind, Pattern: args[0].(string), Negate: negated(o.Name)}
	}
}

func inExpr(o *Operator, col *Column, args []any, _ Env) Expr {
	return In{Column: col, Values: args, Negate: negated(o.Name)}
}

// betweenExpr is [low, high], both ends included, or its complement.
func betweenExpr(o *Operator, col *Column, args []any, _ Env) Expr {
	lo, hi := args[0], args[1]
	if negated(o.Name) {
		return Or{Terms: []Expr{Compare{Left: col, Op: Lt, Value: lo}, Compare{Left: col, Op: Gt, Value: hi}}}
	}
	return And{Terms: []Expr{Compare{Left: col, Op: Ge, Value: lo}, Compare{Left: col, Op: Le, Value: hi}}}
}

func nullExpr(o *Operator, col *Column, _ []any, _ Env) Expr {
	return Null{Column: col, Negate: negated(o.Name)}
}

func containValuesExpr(o *Operator, col *Column, args []any, _ Env) Expr {
	vals := make([]int64, len(args))
	for i, v := range args {
		vals[i] = v.(int64)
	}
	return ContainValues{Column: col, Values: vals, Negate: negated(o.Name)}
}

// userExpr compares with the caller. The emulated user manages nobody, so their hierarchy is
// themselves, and works in English (United States), language 1033.
func userExpr(o *Operator, col *Column, _ []any, env Env) Expr {
	user, bu := strings.ToLower(env.UserID), strings.ToLower(env.BusinessUnitID)
	switch o.Name {
	case "EqualUserId", "EqualUserOrUserHierarchy":
		return Compare{Left: col, Op: Eq, Value: user}
	case "NotEqualUserId":
		return Compare{Left: col, Op: Ne, Value: user}
	case "EqualBusinessId":
		return Compare{Left: col, Op: Eq, Value: bu}
	case "NotEqualBusinessId":
		return Compare{Left: col, Op: Ne, Value: bu}
	case "EqualUserLanguage":
		return Compare{Left: col, Op: Eq, Value: int64(1033)}
	}
	var ids []any
	if o.Name != "EqualUserTeams" {
		ids = append(ids, user)
	}
	for _, t := range env.TeamIDs {
		ids = append(ids, strings.ToLower(t))
	}
	return In{Column: col, Values: ids}
}

func dateExpr(s span) func(*Operator, *Column, []any, Env) Expr {
	return func(_ *Operator, col *Column, args []any, env Env) Expr {
		return s(newCalendar(env), args).Expr(col)
	}
}
