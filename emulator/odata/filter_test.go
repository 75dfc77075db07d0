package odata

import (
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/google/go-cmp/cmp"
)

const guid = "6f9619ff-8b86-d011-b42d-00c04fc964ff"

type filterTest struct {
	name    string
	entity  string // default account
	in      string
	aliases map[string]string
	want    model.Expr
	// msg and pos are the expected error.
	msg string
	pos int
}

var filterTests = []filterTest{
	// Literals of every type, converted to the column's value type.
	{name: "string", in: "name eq 'Contoso'", want: cmpx(col("name"), model.Eq, "Contoso")},
	{name: "escaped quote", entity: "contact", in: "lastname eq 'O''Bryan'", want: cmpx(col("lastname"), model.Eq, "O'Bryan")},
	{name: "memo", in: "description ne 'x'", want: cmpx(col("description"), model.Ne, "x")},
	{name: "integer", in: "numberofemployees gt 10", want: cmpx(col("numberofemployees"), model.Gt, int64(10))},
	{name: "negative integer", in: "numberofemployees ge -3", want: cmpx(col("numberofemployees"), model.Ge, int64(-3))},
	{name: "whole decimal for integer", in: "numberofemployees eq 5.0", want: cmpx(col("numberofemployees"), model.Eq, int64(5))},
	{name: "big int with suffix", in: "versionnumber lt 5000000000L", want: cmpx(col("versionnumber"), model.Lt, int64(5000000000))},
	{name: "money", in: "revenue ge 1000.5", want: cmpx(col("revenue"), model.Ge, model.Decimal{Unscaled: 10005000, Scale: 4})},
	{name: "money with suffix", in: "revenue le 100M", want: cmpx(col("revenue"), model.Le, model.Decimal{Unscaled: 1000000, Scale: 4})},
	{name: "money exponent", in: "revenue gt 1.5e3", want: cmpx(col("revenue"), model.Gt, model.Decimal{Unscaled: 15000000, Scale: 4})},
	{name: "decimal", in: "exchangerate eq 1.5", want: cmpx(col("exchangerate"), model.Eq, model.Decimal{Unscaled: 15000000000, Scale: 10})},
	{name: "double", in: "address1_latitude gt 47.5d", want: cmpx(col("address1_latitude"), model.Gt, 47.5)},
	{name: "double from integer", in: "address1_latitude lt 47", want: cmpx(col("address1_latitude"), model.Lt, 47.0)},
	{name: "picklist", in: "accountcategorycode eq 1", want: cmpx(col("accountcategorycode"), model.Eq, int64(1))},
	{name: "state", in: "statecode eq 0", want: cmpx(col("statecode"), model.Eq, int64(0))},
	{name: "boolean", in: "donotemail eq true", want: cmpx(col("donotemail"), model.Eq, true)},
	{name: "boolean false", in: "donotemail ne false", want: cmpx(col("donotemail"), model.Ne, false)},
	{name: "bare boolean column", in: "donotemail", want: cmpx(col("donotemail"), model.Eq, true)},
	{name: "not boolean column", in: "not donotemail", want: model.Not{X: cmpx(col("donotemail"), model.Eq, true)}},
	{name: "boolean column and condition", in: "donotemail and name eq 'a'", want: and(cmpx(col("donotemail"), model.Eq, true), cmpx(col("name"), model.Eq, "a"))},
	{name: "date-time", in: "createdon gt 2024-01-31T12:00:00Z", want: cmpx(col("createdon"), model.Gt, at(2024, 1, 31, 12, 0))},
	{name: "date-time with offset", in: "createdon lt 2024-01-31T12:00:00+02:00", want: cmpx(col("createdon"), model.Lt, at(2024, 1, 31, 10, 0))},
	{name: "date-time with fraction", in: "createdon lt 2024-01-31T12:00:00.5Z", want: cmpx(col("createdon"), model.Lt, at(2024, 1, 31, 12, 0).Add(500e6))},
	{name: "date-time without offset is UTC", in: "createdon lt 2024-01-31T12:00:00", want: cmpx(col("createdon"), model.Lt, at(2024, 1, 31, 12, 0))},
	{name: "date on date-time column", in: "createdon ge 2024-01-31", want: cmpx(col("createdon"), model.Ge, day(2024, 1, 31))},
	{name: "date-only column", entity: "contact", in: "birthdate eq 1990-05-01", want: cmpx(col("birthdate"), model.Eq, day(1990, 5, 1))},
	{name: "date-only column with date-time", entity: "contact", in: "birthdate lt 1990-05-01T23:00:00-02:00", want: cmpx(col("birthdate"), model.Lt, day(1990, 5, 2))},
	{name: "bare guid", in: "accountid eq 6F9619FF-8B86-D011-B42D-00C04FC964FF", want: cmpx(col("accountid"), model.Eq, guid)},
	{name: "quoted guid", in: "accountid eq '6F9619FF-8B86-D011-B42D-00C04FC964FF'", want: cmpx(col("accountid"), model.Eq, guid)},
	{name: "lookup value", in: "_primarycontactid_value eq " + guid, want: cmpx(col("primarycontactid"), model.Eq, guid)},
	{name: "owner lookup value quoted", in: "_ownerid_value ne '" + guid + "'", want: cmpx(col("ownerid"), model.Ne, guid)},
	{name: "lookup value eq null", in: "_primarycontactid_value eq null", want: model.Null{Column: col("primarycontactid")}},
	{name: "polymorphic lookup value", entity: "task", in: "_regardingobjectid_value eq " + guid, want: cmpx(col("regardingobjectid"), model.Eq, guid)},
	{name: "eq null", in: "revenue eq null", want: model.Null{Column: col("revenue")}},
	{name: "ne null", in: "name ne null", want: model.Null{Column: col("name"), Negate: true}},
	{name: "null on the left", in: "null eq name", want: model.Null{Column: col("name")}},
	{name: "ordering against null", in: "revenue gt null", want: model.Compare{Left: col("revenue"), Op: model.Gt}},
	{name: "literal on the left", in: "10 lt numberofemployees", want: cmpx(col("numberofemployees"), model.Gt, int64(10))},
	{name: "navigation eq null", in: "primarycontactid eq null", want: model.Null{Column: col("primarycontactid")}},
	{name: "navigation ne null", in: "primarycontactid ne null", want: model.Null{Column: col("primarycontactid"), Negate: true}},
	{name: "multi-select eq null", in: "tags eq null", want: model.Null{Column: col("tags")}},

	// Column comparison.
	{name: "column to column", entity: "contact", in: "firstname eq lastname", want: model.Compare{Left: col("firstname"), Op: model.Eq, Right: col("lastname")}},
	{name: "column to column ordering", in: "numberofemployees gt accountcategorycode", want: model.Compare{Left: col("numberofemployees"), Op: model.Gt, Right: col("accountcategorycode")}},
	{name: "column types differ", in: "name eq numberofemployees", msg: "A binary operator with incompatible types was detected. Found operand types 'Edm.String' and 'Edm.Int32' for operator kind 'Equal'.", pos: 5},
	{name: "column comparison across tables", in: "primarycontactid/fullname eq name", msg: "Column comparison is only supported between columns of the same table; a column reached through a navigation property cannot be compared with another column.", pos: 26},

	// Navigation paths.
	{name: "lookup path", in: "primarycontactid/fullname eq 'Susanna'", want: cmpx(col("primarycontactid", "fullname"), model.Eq, "Susanna")},
	{name: "multi-level path", in: "primarycontactid/createdby/fullname eq 'System Administrator'", want: cmpx(col("primarycontactid", "createdby", "fullname"), model.Eq, "System Administrator")},
	{name: "lookup value through path", in: "primarycontactid/_createdby_value eq " + guid, want: cmpx(col("primarycontactid", "createdby"), model.Eq, guid)},
	{name: "navigation null through path", in: "primarycontactid/createdby eq null", want: model.Null{Column: col("primarycontactid", "createdby")}},
	{name: "unknown name on target", in: "primarycontactid/foo eq 1", msg: "Could not find a property named 'foo' on type 'Microsoft.Dynamics.CRM.contact'.", pos: 17},
	{name: "property after primitive", in: "primarycontactid/fullname/x eq 1", msg: "Could not find a property named 'x' on type 'Edm.String'.", pos: 26},
	{name: "navigation compared with value", in: "primarycontactid eq " + guid, msg: "A binary operator with incompatible types was detected. Found operand types 'Microsoft.Dynamics.CRM.contact' and 'Edm.Guid' for operator kind 'Equal'.", pos: 17},

	// Logical operators and precedence.
	{name: "and binds tighter than or", in: "name eq 'a' or name eq 'b' and numberofemployees gt 1", want: or(cmpx(col("name"), model.Eq, "a"), and(cmpx(col("name"), model.Eq, "b"), cmpx(col("numberofemployees"), model.Gt, int64(1))))},
	{name: "parentheses", in: "(name eq 'a' or name eq 'b') and numberofemployees gt 1", want: and(or(cmpx(col("name"), model.Eq, "a"), cmpx(col("name"), model.Eq, "b")), cmpx(col("numberofemployees"), model.Gt, int64(1)))},
	{name: "and chain is flat", in: "name eq 'a' and name eq 'b' and name eq 'c'", want: and(cmpx(col("name"), model.Eq, "a"), cmpx(col("name"), model.Eq, "b"), cmpx(col("name"), model.Eq, "c"))},
	{name: "or chain is flat", in: "name eq 'a' or (name eq 'b' or name eq 'c')", want: or(cmpx(col("name"), model.Eq, "a"), cmpx(col("name"), model.Eq, "b"), cmpx(col("name"), model.Eq, "c"))},
	{name: "not parenthesized comparison", in: "not (name eq 'x')", want: model.Not{X: cmpx(col("name"), model.Eq, "x")}},
	{name: "double not", in: "not not (name eq 'x')", want: cmpx(col("name"), model.Eq, "x")},
	{name: "not null test", in: "not (name eq null)", want: model.Null{Column: col("name"), Negate: true}},
	{name: "not binds tighter than eq", in: "not name eq 'x'", msg: "A unary operator with an incompatible type was detected. Found operand type 'Edm.String' for operator kind 'Not'.", pos: 0},
	{name: "and with a non-boolean", in: "name and donotemail", msg: "A binary operator with incompatible types was detected. Found operand types 'Edm.String' and 'Edm.Boolean' for operator kind 'And'.", pos: 5},
	{name: "or with a literal", in: "donotemail or 1", msg: "A binary operator with incompatible types was detected. Found operand types 'Edm.Boolean' and 'Edm.Int32' for operator kind 'Or'.", pos: 11},
	{name: "not a condition", in: "name", msg: "The $filter expression must evaluate to a single boolean value.", pos: 0},

	// String functions.
	{name: "contains", in: "contains(name,'abc')", want: model.Match{Column: col("name"), Kind: "contains", Pattern: "abc"}},
	{name: "startswith", in: "startswith(name, 'a''b')", want: model.Match{Column: col("name"), Kind: "startswith", Pattern: "a'b"}},
	{name: "endswith on memo", in: "endswith(description,'z')", want: model.Match{Column: col("description"), Kind: "endswith", Pattern: "z"}},
	{name: "wildcards kept raw", in: "contains(name,'a%b_[c-d][^e]')", want: model.Match{Column: col("name"), Kind: "contains", Pattern: "a%b_[c-d][^e]"}},
	{name: "not contains", in: "not contains(name,'x')", want: model.Match{Column: col("name"), Kind: "contains", Pattern: "x", Negate: true}},
	{name: "contains eq false", in: "contains(name,'x') eq false", want: model.Match{Column: col("name"), Kind: "contains", Pattern: "x", Negate: true}},
	{name: "contains eq true", in: "contains(name,'x') eq true", want: model.Match{Column: col("name"), Kind: "contains", Pattern: "x"}},
	{name: "contains through path", in: "startswith(primarycontactid/fullname,'S')", want: model.Match{Column: col("primarycontactid", "fullname"), Kind: "startswith", Pattern: "S"}},
	{name: "contains with alias", in: "contains(name,@p1)", aliases: map[string]string{"@p1": "'abc'"}, want: model.Match{Column: col("name"), Kind: "contains", Pattern: "abc"}},
	{name: "contains on a number", in: "contains(numberofemployees,'1')", msg: "No function signature for the function with name 'contains' matches the specified arguments. The function signatures considered are: contains(Edm.String Nullable=true, Edm.String Nullable=true).", pos: 0},
	{name: "contains with a column", in: "contains(name,description)", msg: "The second argument of 'contains' must be a string value; comparing with another column is not supported.", pos: 14},
	{name: "contains missing comma", in: "contains(name 'x')", msg: "')' or ',' expected at position 14 in 'contains(name 'x')'.", pos: 14},
	{name: "contains on multi-select", in: "contains(tags,'1')", msg: "The multi-select choice column 'tags' can only be filtered with eq null, ne null and the Microsoft.Dynamics.CRM.ContainValues and DoesNotContainValues functions.", pos: 9},

	// Lambda operators.
	{name: "any", in: "Account_Tasks/any(t:t/subject eq 'x')", want: model.Exists{Nav: &model.Nav{Name: "Account_Tasks"}, Filter: cmpx(col("subject"), model.Eq, "x")}},
	{name: "any without predicate", in: "Account_Tasks/any()", want: model.Exists{Nav: &model.Nav{Name: "Account_Tasks"}}},
	{name: "all", in: "Account_Tasks/all(t: contains(t/subject,'x'))", want: model.Exists{Nav: &model.Nav{Name: "Account_Tasks"}, All: true, Filter: model.Match{Column: col("subject"), Kind: "contains", Pattern: "x"}}},
	{name: "not any", in: "not Account_Tasks/any()", want: model.Exists{Nav: &model.Nav{Name: "Account_Tasks"}, Negate: true}},
	{name: "any with path in related table", entity: "contact", in: "account_primary_contact/any(a:a/primarycontactid/fullname eq 'x')", want: model.Exists{Nav: &model.Nav{Name: "account_primary_contact"}, Filter: cmpx(col("primarycontactid", "fullname"), model.Eq, "x")}},
	{name: "nested any", entity: "contact", in: "account_primary_contact/any(a:a/Account_Tasks/any(t:t/subject eq 'x') and a/name ne null)", want: model.Exists{Nav: &model.Nav{Name: "account_primary_contact"}, Filter: and(model.Exists{Nav: &model.Nav{Name: "Account_Tasks"}, Filter: cmpx(col("subject"), model.Eq, "x")}, model.Null{Column: col("name"), Negate: true})}},
	{name: "any and root column", in: "Account_Tasks/any(t:t/subject eq 'x') and name eq 'y'", want: and(model.Exists{Nav: &model.Nav{Name: "Account_Tasks"}, Filter: cmpx(col("subject"), model.Eq, "x")}, cmpx(col("name"), model.Eq, "y"))},
	{name: "any on many-to-many", in: "account_contacts/any(c:c/lastname eq 'x')", want: model.Exists{Nav: &model.Nav{Name: "account_contacts"}, Filter: cmpx(col("lastname"), model.Eq, "x")}},
	{name: "path inside lambda", in: "Account_Tasks/any(t:t/regardingobjectid_account_task/name eq 'x')", want: model.Exists{Nav: &model.Nav{Name: "Account_Tasks"}, Filter: cmpx(col("regardingobjectid_account_task", "name"), model.Eq, "x")}},
	{name: "lambda without range variable", in: "Account_Tasks/any(t:subject eq 'x')", msg: "Inside a lambda expression, property paths must start with the range variable 't'.", pos: 20},
	{name: "outer range variable", entity: "contact", in: "account_primary_contact/any(a:a/Account_Tasks/any(t:a/name eq 'x'))", msg: "The range variable 'a' of an enclosing lambda expression cannot be used inside a nested one.", pos: 52},
	{name: "range variable redeclared", entity: "contact", in: "account_primary_contact/any(a:a/Account_Tasks/any(a:a/subject eq 'x'))", msg: "The range variable 'a' has already been declared.", pos: 50},
	{name: "all without predicate", in: "Account_Tasks/all()", msg: "The all operator needs a condition: Account_Tasks/all(x:x/<property> eq <value>).", pos: 14},
	{name: "collection without lambda", in: "Account_Tasks eq null", msg: "The navigation property 'Account_Tasks' is a collection; filter on its rows with Account_Tasks/any(...) or Account_Tasks/all(...).", pos: 0},
	{name: "property of a collection", in: "Account_Tasks/subject eq 'x'", msg: "The parent value for a property access of a property 'subject' is not a single value. Property access can only be applied to a single value.", pos: 14},
	{name: "lambda body not a condition", in: "Account_Tasks/any(t:t/subject)", msg: "The expression of the lambda operator 'any' must evaluate to a single boolean value.", pos: 22},
	{name: "lambda through a lookup", entity: "task", in: "regardingobjectid_account_task/Account_Tasks/any()", msg: "The lambda operator 'any' is only supported on collection-valued navigation properties of the table being filtered, not through 'regardingobjectid_account_task'.", pos: 45},

	// Parameter aliases.
	{name: "alias value", in: "name eq @p1", aliases: map[string]string{"@p1": "'Contoso'"}, want: cmpx(col("name"), model.Eq, "Contoso")},
	{name: "alias keyed without @", in: "numberofemployees gt @n", aliases: map[string]string{"n": "5"}, want: cmpx(col("numberofemployees"), model.Gt, int64(5))},
	{name: "unassigned alias is null", in: "name eq @p2", want: model.Null{Column: col("name")}},
	{name: "alias with a date", in: "createdon lt @d", aliases: map[string]string{"@d": "2024-01-01"}, want: cmpx(col("createdon"), model.Lt, day(2024, 1, 1))},
	{name: "alias type mismatch", in: "name eq @p1", aliases: map[string]string{"@p1": "5"}, msg: "A binary operator with incompatible types was detected. Found operand types 'Edm.String' and 'Edm.Int32' for operator kind 'Equal'.", pos: 5},
	{name: "alias not a literal", in: "name eq @p1", aliases: map[string]string{"@p1": "name eq 'x'"}, msg: "The value 'name eq 'x'' of the parameter alias '@p1' is not a literal.", pos: 8},
	{name: "alias for a property", in: "@p1 eq 'x'", aliases: map[string]string{"@p1": "name"}, want: cmpx(col("name"), model.Eq, "x")},
	{name: "alias for a property path", in: "@p1 eq 'x'", aliases: map[string]string{"@p1": "primarycontactid/fullname"}, want: cmpx(col("primarycontactid", "fullname"), model.Eq, "x")},
	{name: "alias for a property and an unassigned one", in: "@p1 ne @p3", aliases: map[string]string{"@p1": "revenue"}, want: model.Null{Column: col("revenue"), Negate: true}},
	{name: "alias for a property in a function", in: "contains(@p1,'x')", aliases: map[string]string{"@p1": "name"}, want: model.Match{Column: col("name"), Kind: "contains", Pattern: "x"}},
	{name: "alias for a column comparison", in: "numberofemployees gt @p1", aliases: map[string]string{"@p1": "accountcategorycode"}, want: model.Compare{Left: col("numberofemployees"), Op: model.Gt, Right: col("accountcategorycode")}},
	{name: "alias for an unknown property", in: "name eq @p1", aliases: map[string]string{"@p1": "nothere"}, msg: "Could not find a property named 'nothere' on type 'Microsoft.Dynamics.CRM.account'.", pos: 8},
	{name: "alias for a function call", in: "@p1", aliases: map[string]string{"@p1": "contains(name,'x')"}, msg: "The value 'contains(name,'x')' of the parameter alias '@p1' is not a literal.", pos: 0},
	{name: "alias unterminated", in: "name eq @p1", aliases: map[string]string{"@p1": "'abc"}, msg: "There is an unterminated literal at position 4 in ''abc'.", pos: 8},
	{name: "alias list as a value", in: "name eq @p1", aliases: map[string]string{"@p1": `["a"]`}, msg: "A list of values is only allowed as the PropertyValues parameter of a Dataverse query function.", pos: 8},

	// Type mismatches.
	{name: "string with number", in: "name eq 5", msg: "A binary operator with incompatible types was detected. Found operand types 'Edm.String' and 'Edm.Int32' for operator kind 'Equal'.", pos: 5},
	{name: "number with string", in: "numberofemployees eq '5'", msg: "A binary operator with incompatible types was detected. Found operand types 'Edm.Int32' and 'Edm.String' for operator kind 'Equal'.", pos: 18},
	{name: "money with string", in: "revenue gt 'x'", msg: "A binary operator with incompatible types was detected. Found operand types 'Edm.Decimal' and 'Edm.String' for operator kind 'GreaterThan'.", pos: 8},
	{name: "mismatch keeps written order", in: "5 ne name", msg: "A binary operator with incompatible types was detected. Found operand types 'Edm.Int32' and 'Edm.String' for operator kind 'NotEqual'.", pos: 2},
	{name: "string with guid", in: "name ge " + guid, msg: "A binary operator with incompatible types was detected. Found operand types 'Edm.String' and 'Edm.Guid' for operator kind 'GreaterThanOrEqual'.", pos: 5},
	{name: "guid with non-guid string", in: "accountid lt 'abc'", msg: "A binary operator with incompatible types was detected. Found operand types 'Edm.Guid' and 'Edm.String' for operator kind 'LessThan'.", pos: 10},
	{name: "date with string", in: "createdon le '2024-01-01'", msg: "A binary operator with incompatible types was detected. Found operand types 'Edm.DateTimeOffset' and 'Edm.String' for operator kind 'LessThanOrEqual'.", pos: 10},
	{name: "boolean with number", in: "donotemail eq 1", msg: "A binary operator with incompatible types was detected. Found operand types 'Edm.Boolean' and 'Edm.Int32' for operator kind 'Equal'.", pos: 11},
	{name: "decimal literal type", in: "name eq 1.5", msg: "A binary operator with incompatible types was detected. Found operand types 'Edm.String' and 'Edm.Decimal' for operator kind 'Equal'.", pos: 5},
	{name: "double literal type", in: "name eq 1.5e2", msg: "A binary operator with incompatible types was detected. Found operand types 'Edm.String' and 'Edm.Double' for operator kind 'Equal'.", pos: 5},
	{name: "enum literal on a record column", in: "accountcategorycode eq Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned'", msg: "A binary operator with incompatible types was detected. Found operand types 'Edm.Int32' and 'Microsoft.Dynamics.CRM.OwnershipTypes' for operator kind 'Equal'.", pos: 20},
	{name: "fraction for integer", in: "numberofemployees eq 5.5", msg: "The value '5.5' is not a whole number, so it cannot be compared with the whole-number column 'numberofemployees'.", pos: 21},
	{name: "integer out of range", in: "numberofemployees eq 99999999999999999999", msg: "The value '99999999999999999999' is out of range for the column 'numberofemployees'.", pos: 21},
	{name: "money out of range", in: "revenue eq 99999999999999999999", msg: "The value '99999999999999999999' is out of range for the column 'revenue'.", pos: 11},
	{name: "multi-select comparison", in: "tags eq '1'", msg: "The multi-select choice column 'tags' can only be filtered with eq null, ne null and the Microsoft.Dynamics.CRM.ContainValues and DoesNotContainValues functions.", pos: 0},
	{name: "two literals", in: "1 eq 1", msg: "A comparison needs a property on one side; comparing two literal values is not supported.", pos: 2},
	{name: "condition with column", in: "contains(name,'x') eq donotemail", msg: "Comparing a condition with a column is not supported.", pos: 19},

	// Names.
	{name: "unknown property", in: "Name eq 'x'", msg: "Could not find a property named 'Name' on type 'Microsoft.Dynamics.CRM.account'.", pos: 0},
	{name: "unknown property on the right", in: "name eq nme", msg: "Could not find a property named 'nme' on type 'Microsoft.Dynamics.CRM.account'.", pos: 8},
	{name: "lookup logical name without navigation", in: "ownerid eq null", msg: "Could not find a property named 'ownerid' on type 'Microsoft.Dynamics.CRM.account'.", pos: 0},
	{name: "derived name column", in: "primarycontactidname eq 'x'", msg: "Could not find a property named 'primarycontactidname' on type 'Microsoft.Dynamics.CRM.account'.", pos: 0},
	{name: "lookup value of a non-lookup", in: "_name_value eq null", msg: "Could not find a property named '_name_value' on type 'Microsoft.Dynamics.CRM.account'.", pos: 0},
	{name: "image column", in: "entityimage eq null", msg: "The property 'entityimage' of type 'Virtual' cannot be used in a query.", pos: 0},

	// Syntax.
	{name: "unterminated literal", entity: "contact", in: "lastname eq 'O'Bryan'", msg: "There is an unterminated literal at position 21 in 'lastname eq 'O'Bryan''.", pos: 21},
	{name: "unterminated at end", in: "name eq 'abc", msg: "There is an unterminated literal at position 12 in 'name eq 'abc'.", pos: 12},
	{name: "empty", in: "", msg: "Expression expected at position 0 in ''.", pos: 0},
	{name: "blank", in: "  ", msg: "Expression expected at position 2 in '  '.", pos: 2},
	{name: "missing operand", in: "name eq", msg: "Expression expected at position 7 in 'name eq'.", pos: 7},
	{name: "two values", in: "name eq 'x' 'y'", msg: "Syntax error at position 12 in 'name eq 'x' 'y''.", pos: 12},
	{name: "unclosed parenthesis", in: "(name eq 'x'", msg: "')' or operator expected at position 12 in '(name eq 'x''.", pos: 12},
	{name: "stray close parenthesis", in: "name eq 'x')", msg: "Syntax error at position 11 in 'name eq 'x')'.", pos: 11},
	{name: "invalid character", in: "name eq #", msg: "Syntax error: character '#' is not valid at position 8 in 'name eq #'.", pos: 8},
	{name: "invalid date", in: "createdon eq 2024-13-01", msg: "Unrecognized 'Edm.Date' literal '2024-13-01' at '13' in 'createdon eq 2024-13-01'.", pos: 13},
	{name: "invalid date-time", in: "createdon eq 2024-01-01T25:00:00Z", msg: "Unrecognized 'Edm.DateTimeOffset' literal '2024-01-01T25:00:00Z' at '13' in 'createdon eq 2024-01-01T25:00:00Z'.", pos: 13},
	{name: "number followed by letters", in: "numberofemployees eq 5x", msg: "Syntax error at position 22 in 'numberofemployees eq 5x'.", pos: 22},
	{name: "arithmetic", in: "numberofemployees add 1 eq 2", msg: "The operator 'add' is not supported.", pos: 18},
	{name: "in operator", in: "name in ('a','b')", msg: "The operator 'in' is not supported.", pos: 5},
	{name: "canonical function", in: "tolower(name) eq 'x'", msg: "The function 'tolower' is not supported.", pos: 0},
	{name: "unknown function", in: "foo(name)", msg: "An unknown function with name 'foo' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.", pos: 0},
	{name: "operator keywords are case-sensitive", in: "name EQ 'x'", msg: "Syntax error at position 5 in 'name EQ 'x''.", pos: 5},
	{name: "dollar name", in: "$it/name eq 'x'", msg: "'$it' is not supported in this query option.", pos: 0},
	{name: "list outside a function", in: "name eq ['a']", msg: "A list of values is only allowed as the PropertyValues parameter of a Dataverse query function.", pos: 8},
	{name: "too deep", in: strings.Repeat("(", 900) + "name eq 'x'" + strings.Repeat(")", 900), msg: "The recursion limit has been exceeded.", pos: 800},
}

func TestParseFilter(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	for _, tt := range filterTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseFilter(sch, entity(t, sch, tt.entity), tt.in, tt.aliases, testEnv)
			if tt.msg != "" {
				checkQueryErr(t, err, tt.msg, tt.pos)
				return
			}
			if err != nil {
				t.Fatalf("ParseFilter(%q): %v", tt.in, err)
			}
			if d := cmp.Diff(tt.want, got, exprOpts); d != "" {
				t.Errorf("ParseFilter(%q) (-want +got):\n%s", tt.in, d)
			}
		})
	}
}

// TestParseFilterResolvesMetadata checks that the tree holds the schema's own metadata, not copies.
func TestParseFilterResolvesMetadata(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	acct := entity(t, sch, "account")
	contact := entity(t, sch, "contact")
	got, err := ParseFilter(sch, acct, "primarycontactid/fullname eq 'x'", nil, testEnv)
	if err != nil {
		t.Fatal(err)
	}
	c := got.(model.Compare).Left
	nav, _ := acct.Nav("primarycontactid")
	full, _ := contact.Attribute("fullname")
	if len(c.Path) != 1 || c.Path[0] != nav || c.Attr != full || c.Link != nil {
		t.Errorf("column %+v does not point at the schema's metadata", c)
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, tt := range filterTests {
		if len(tt.in) < 200 {
			f.Add(tt.in, tt.aliases["@p1"])
		}
	}
	for _, tt := range functionTests {
		f.Add(tt.in, tt.aliases["@p1"])
	}
	sch := testSchema(f)
	acct := entity(f, sch, "account")
	contact := entity(f, sch, "contact")
	f.Fuzz(func(t *testing.T, text, alias string) {
		aliases := map[string]string{"@p1": alias}
		for _, e := range []*model.Entity{acct, contact} {
			x, err := ParseFilter(sch, e, text, aliases, testEnv)
			if err != nil {
				checkFuzzErr(t, err, text)
				continue
			}
			if x == nil {
				t.Fatalf("%q: nil filter without error", text)
			}
		}
	})
}
