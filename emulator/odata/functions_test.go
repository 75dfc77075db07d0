package odata

import (
	"strings"
	"testing"
	"time"

	"github.com/dynlocal/dynlocal/emulator/model"

	"github.com/google/go-cmp/cmp"
)

// rng is the expected range [start, end) on a column.
func rng(c *model.Column, start, end time.Time) model.Expr {
	return and(cmpx(c, model.Ge, start), cmpx(c, model.Lt, end))
}

// toNow is the expected range [start, Now].
func toNow(c *model.Column, start time.Time) model.Expr {
	return and(cmpx(c, model.Ge, start), cmpx(c, model.Le, testEnv.Now))
}

const crm = "Microsoft.Dynamics.CRM."

// Now is Wednesday 2024-05-15 10:30 UTC; the week started on Sunday 2024-05-12; fiscal years
// are calendar years and the current fiscal period is the second quarter.
var functionTests = []filterTest{
	// Lists and ranges.
	{name: "In with aliases", entity: "contact", in: crm + "In(PropertyName=@p1,PropertyValues=@p2)", aliases: map[string]string{"@p1": "'lastname'", "@p2": `["OBrian","O'Brian"]`}, want: model.In{Column: col("lastname"), Values: []any{"OBrian", "O'Brian"}}},
	{name: "In inline single quotes", in: crm + "In(PropertyName='name',PropertyValues=['a','b'])", want: model.In{Column: col("name"), Values: []any{"a", "b"}}},
	{name: "In with escaped quote", in: crm + `In(PropertyName='name',PropertyValues=["O\"B"])`, want: model.In{Column: col("name"), Values: []any{`O"B`}}},
	{name: "NotIn numbers", in: crm + "NotIn(PropertyName='accountcategorycode',PropertyValues=[1,2])", want: model.In{Column: col("accountcategorycode"), Values: []any{int64(1), int64(2)}, Negate: true}},
	{name: "In on a lookup", in: crm + "In(PropertyName='primarycontactid',PropertyValues=['{6F9619FF-8B86-D011-B42D-00C04FC964FF}'])", want: model.In{Column: col("primarycontactid"), Values: []any{guid}}},
	{name: "In on a lookup value property", in: crm + "In(PropertyName='_primarycontactid_value',PropertyValues=['" + guid + "'])", want: model.In{Column: col("primarycontactid"), Values: []any{guid}}},
	{name: "In on money", in: crm + "In(PropertyName='revenue',PropertyValues=[\"10.5\",20])", want: model.In{Column: col("revenue"), Values: []any{model.Decimal{Unscaled: 105000, Scale: 4}, model.Decimal{Unscaled: 200000, Scale: 4}}}},
	{name: "Between numbers as strings", in: crm + `Between(PropertyName='numberofemployees',PropertyValues=["5","2000"])`, want: and(cmpx(col("numberofemployees"), model.Ge, int64(5)), cmpx(col("numberofemployees"), model.Le, int64(2000)))},
	{name: "NotBetween dates", in: crm + `NotBetween(PropertyName='createdon',PropertyValues=["2024-01-01","2024-02-01T00:00:00Z"])`, want: or(cmpx(col("createdon"), model.Lt, day(2024, 1, 1)), cmpx(col("createdon"), model.Gt, day(2024, 2, 1)))},
	{name: "function and condition", in: crm + `In(PropertyName='name',PropertyValues=["a"]) and name ne null`, want: and(model.In{Column: col("name"), Values: []any{"a"}}, model.Null{Column: col("name"), Negate: true})},
	{name: "function eq true", in: crm + "Today(PropertyName='createdon') eq true", want: rng(col("createdon"), day(2024, 5, 15), day(2024, 5, 16))},
	{name: "function in a lambda", in: "Account_Tasks/any(t:" + crm + "Today(PropertyName='scheduledend'))", want: model.Exists{Nav: &model.Nav{Name: "Account_Tasks"}, Filter: rng(col("scheduledend"), day(2024, 5, 15), day(2024, 5, 16))}},

	// Multi-select choices.
	{name: "ContainValues", in: crm + "ContainValues(PropertyName='tags',PropertyValues=['1','2'])", want: model.ContainValues{Column: col("tags"), Values: []int64{1, 2}}},
	{name: "DoesNotContainValues", in: crm + "DoesNotContainValues(PropertyName=@p1,PropertyValues=@p2)", aliases: map[string]string{"@p1": "'tags'", "@p2": "[3]"}, want: model.ContainValues{Column: col("tags"), Values: []int64{3}, Negate: true}},
	{name: "ContainValues on a choice", in: crm + "ContainValues(PropertyName='accountcategorycode',PropertyValues=['1'])", msg: "The function 'Microsoft.Dynamics.CRM.ContainValues' can only be used with multi-select choice columns; 'accountcategorycode' is of type Picklist.", pos: 50},
	{name: "ContainValues bad value", in: crm + "ContainValues(PropertyName='tags',PropertyValues=['x'])", msg: "The value 'x' is not a valid Edm.Int32 value for the column 'tags' of 'Microsoft.Dynamics.CRM.ContainValues'.", pos: 73},
	{name: "In on multi-select", in: crm + "In(PropertyName='tags',PropertyValues=['1'])", msg: "The multi-select choice column 'tags' can only be filtered with eq null, ne null and the Microsoft.Dynamics.CRM.ContainValues and DoesNotContainValues functions.", pos: 39},

	// Users, business units and teams.
	{name: "EqualUserId", in: crm + "EqualUserId(PropertyName='ownerid')", want: cmpx(col("ownerid"), model.Eq, testEnv.UserID)},
	{name: "NotEqualUserId on a key", entity: "systemuser", in: crm + "NotEqualUserId(PropertyName=@p1)", aliases: map[string]string{"@p1": "'systemuserid'"}, want: cmpx(col("systemuserid"), model.Ne, testEnv.UserID)},
	{name: "EqualBusinessId", in: crm + "EqualBusinessId(PropertyName='ownerid')", want: cmpx(col("ownerid"), model.Eq, testEnv.BusinessUnitID)},
	{name: "NotEqualBusinessId", in: crm + "NotEqualBusinessId(PropertyName='ownerid')", want: cmpx(col("ownerid"), model.Ne, testEnv.BusinessUnitID)},
	{name: "EqualUserTeams", in: crm + "EqualUserTeams(PropertyName='ownerid')", want: model.In{Column: col("ownerid"), Values: []any{testEnv.TeamIDs[0], testEnv.TeamIDs[1]}}},
	{name: "EqualUserOrUserTeams", in: crm + "EqualUserOrUserTeams(PropertyName='ownerid')", want: model.In{Column: col("ownerid"), Values: []any{testEnv.UserID, testEnv.TeamIDs[0], testEnv.TeamIDs[1]}}},
	{name: "EqualUserOrUserHierarchy", in: crm + "EqualUserOrUserHierarchy(PropertyName='ownerid')", want: cmpx(col("ownerid"), model.Eq, testEnv.UserID)},
	{name: "EqualUserOrUserHierarchyAndTeams", in: crm + "EqualUserOrUserHierarchyAndTeams(PropertyName='ownerid')", want: model.In{Column: col("ownerid"), Values: []any{testEnv.UserID, testEnv.TeamIDs[0], testEnv.TeamIDs[1]}}},
	{name: "comparison operator is no query function", in: crm + "Equal(PropertyName='name',PropertyValue='a')", msg: "An unknown function with name 'Microsoft.Dynamics.CRM.Equal' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.", pos: 0},
	{name: "EqualUserId on a string", in: crm + "EqualUserId(PropertyName='name')", msg: "The function 'Microsoft.Dynamics.CRM.EqualUserId' can only be used with lookup and unique identifier columns; 'name' is of type String.", pos: 48},

	// Calendar functions.
	{name: "Today", in: crm + "Today(PropertyName='createdon')", want: rng(col("createdon"), day(2024, 5, 15), day(2024, 5, 16))},
	{name: "Yesterday", in: crm + "Yesterday(PropertyName='createdon')", want: rng(col("createdon"), day(2024, 5, 14), day(2024, 5, 15))},
	{name: "Tomorrow", in: crm + "Tomorrow(PropertyName='createdon')", want: rng(col("createdon"), day(2024, 5, 16), day(2024, 5, 17))},
	{name: "Last7Days", in: crm + "Last7Days(PropertyName='createdon')", want: toNow(col("createdon"), day(2024, 5, 8))},
	{name: "Next7Days", in: crm + "Next7Days(PropertyName='createdon')", want: rng(col("createdon"), testEnv.Now, day(2024, 5, 23))},
	{name: "LastWeek", in: crm + "LastWeek(PropertyName='createdon')", want: rng(col("createdon"), day(2024, 5, 5), day(2024, 5, 12))},
	{name: "ThisWeek", in: crm + "ThisWeek(PropertyName='createdon')", want: rng(col("createdon"), day(2024, 5, 12), day(2024, 5, 19))},
	{name: "NextWeek", in: crm + "NextWeek(PropertyName='createdon')", want: rng(col("createdon"), day(2024, 5, 19), day(2024, 5, 26))},
	{name: "LastMonth", in: crm + "LastMonth(PropertyName='createdon')", want: rng(col("createdon"), day(2024, 4, 1), day(2024, 5, 1))},
	{name: "ThisMonth", in: crm + "ThisMonth(PropertyName='createdon')", want: rng(col("createdon"), day(2024, 5, 1), day(2024, 6, 1))},
	{name: "NextMonth", in: crm + "NextMonth(PropertyName='createdon')", want: rng(col("createdon"), day(2024, 6, 1), day(2024, 7, 1))},
	{name: "LastYear", in: crm + "LastYear(PropertyName='createdon')", want: rng(col("createdon"), day(2023, 1, 1), day(2024, 1, 1))},
	{name: "ThisYear", in: crm + "ThisYear(PropertyName='createdon')", want: rng(col("createdon"), day(2024, 1, 1), day(2025, 1, 1))},
	{name: "NextYear", in: crm + "NextYear(PropertyName='createdon')", want: rng(col("createdon"), day(2025, 1, 1), day(2026, 1, 1))},
	{name: "LastXHours with aliases", in: crm + "LastXHours(PropertyName=@p1,PropertyValue=@p2)", aliases: map[string]string{"@p1": "'createdon'", "@p2": "12"}, want: toNow(col("createdon"), at(2024, 5, 14, 22, 0))},
	{name: "NextXHours", in: crm + "NextXHours(PropertyName='createdon',PropertyValue=3)", want: and(cmpx(col("createdon"), model.Ge, testEnv.Now), cmpx(col("createdon"), model.Le, at(2024, 5, 15, 13, 30)))},
	{name: "LastXDays", in: crm + "LastXDays(PropertyName='createdon',PropertyValue=3)", want: toNow(col("createdon"), day(2024, 5, 12))},
	{name: "LastXDays value as string", in: crm + "LastXDays(PropertyName='createdon',PropertyValue='3')", want: toNow(col("createdon"), day(2024, 5, 12))},
	{name: "LastXWeeks", in: crm + "LastXWeeks(PropertyName='createdon',PropertyValue=2)", want: toNow(col("createdon"), day(2024, 5, 1))},
	{name: "LastXMonths", in: crm + "LastXMonths(PropertyName='createdon',PropertyValue=3)", want: toNow(col("createdon"), day(2024, 2, 15))},
	{name: "LastXYears", in: crm + "LastXYears(PropertyName='createdon',PropertyValue=1)", want: toNow(col("createdon"), day(2023, 5, 15))},
	{name: "NextXDays", in: crm + "NextXDays(PropertyName='createdon',PropertyValue=2)", want: rng(col("createdon"), testEnv.Now, day(2024, 5, 18))},
	{name: "NextXWeeks", in: crm + "NextXWeeks(PropertyName='createdon',PropertyValue=1)", want: rng(col("createdon"), testEnv.Now, day(2024, 5, 23))},
	{name: "NextXMonths", in: crm + "NextXMonths(PropertyName='createdon',PropertyValue=1)", want: rng(col("createdon"), testEnv.Now, day(2024, 6, 16))},
	{name: "NextXYears", in: crm + "NextXYears(PropertyName='createdon',PropertyValue=1)", want: rng(col("createdon"), testEnv.Now, day(2025, 5, 16))},
	{name: "OlderThanXMinutes", in: crm + "OlderThanXMinutes(PropertyName='createdon',PropertyValue=30)", want: cmpx(col("createdon"), model.Lt, at(2024, 5, 15, 10, 0))},
	{name: "OlderThanXHours", in: crm + "OlderThanXHours(PropertyName='createdon',PropertyValue=2)", want: cmpx(col("createdon"), model.Lt, at(2024, 5, 15, 8, 30))},
	{name: "OlderThanXDays", in: crm + "OlderThanXDays(PropertyName=@p1,PropertyValue=@p2)", aliases: map[string]string{"@p1": "'createdon'", "@p2": "7"}, want: cmpx(col("createdon"), model.Lt, day(2024, 5, 8))},
	{name: "OlderThanXWeeks", in: crm + "OlderThanXWeeks(PropertyName='createdon',PropertyValue=1)", want: cmpx(col("createdon"), model.Lt, day(2024, 5, 8))},
	{name: "OlderThanXMonths", in: crm + "OlderThanXMonths(PropertyName='createdon',PropertyValue=1)", want: cmpx(col("createdon"), model.Lt, day(2024, 4, 15))},
	{name: "OlderThanXYears", in: crm + "OlderThanXYears(PropertyName='createdon',PropertyValue=2)", want: cmpx(col("createdon"), model.Lt, day(2022, 5, 15))},
	{name: "On", in: crm + "On(PropertyName='createdon',PropertyValue=2024-01-31)", want: rng(col("createdon"), day(2024, 1, 31), day(2024, 2, 1))},
	{name: "On with a string", in: crm + "On(PropertyName='createdon',PropertyValue='2024-01-31')", want: rng(col("createdon"), day(2024, 1, 31), day(2024, 2, 1))},
	{name: "OnOrAfter", in: crm + "OnOrAfter(PropertyName='createdon',PropertyValue=2024-01-31T23:00:00Z)", want: cmpx(col("createdon"), model.Ge, day(2024, 1, 31))},
	{name: "OnOrBefore", in: crm + "OnOrBefore(PropertyName='createdon',PropertyValue=2024-01-31)", want: cmpx(col("createdon"), model.Lt, day(2024, 2, 1))},
	{name: "date function on a date-only column", entity: "contact", in: crm + "ThisMonth(PropertyName='birthdate')", want: rng(col("birthdate"), day(2024, 5, 1), day(2024, 6, 1))},

	// Fiscal functions (fiscal year = calendar year, periods = quarters).
	{name: "ThisFiscalYear", in: crm + "ThisFiscalYear(PropertyName='createdon')", want: rng(col("createdon"), day(2024, 1, 1), day(2025, 1, 1))},
	{name: "LastFiscalYear", in: crm + "LastFiscalYear(PropertyName='createdon')", want: rng(col("createdon"), day(2023, 1, 1), day(2024, 1, 1))},
	{name: "NextFiscalYear", in: crm + "NextFiscalYear(PropertyName='createdon')", want: rng(col("createdon"), day(2025, 1, 1), day(2026, 1, 1))},
	{name: "ThisFiscalPeriod", in: crm + "ThisFiscalPeriod(PropertyName='createdon')", want: rng(col("createdon"), day(2024, 4, 1), day(2024, 7, 1))},
	{name: "LastFiscalPeriod", in: crm + "LastFiscalPeriod(PropertyName='createdon')", want: rng(col("createdon"), day(2024, 1, 1), day(2024, 4, 1))},
	{name: "NextFiscalPeriod", in: crm + "NextFiscalPeriod(PropertyName='createdon')", want: rng(col("createdon"), day(2024, 7, 1), day(2024, 10, 1))},
	{name: "LastXFiscalYears", in: crm + "LastXFiscalYears(PropertyName='createdon',PropertyValue=2)", want: rng(col("createdon"), day(2022, 1, 1), day(2024, 1, 1))},
	{name: "NextXFiscalYears", in: crm + "NextXFiscalYears(PropertyName='createdon',PropertyValue=2)", want: rng(col("createdon"), day(2025, 1, 1), day(2027, 1, 1))},
	{name: "LastXFiscalPeriods", in: crm + "LastXFiscalPeriods(PropertyName='createdon',PropertyValue=2)", want: rng(col("createdon"), day(2023, 10, 1), day(2024, 4, 1))},
	{name: "NextXFiscalPeriods", in: crm + "NextXFiscalPeriods(PropertyName='createdon',PropertyValue=3)", want: rng(col("createdon"), day(2024, 7, 1), day(2025, 4, 1))},
	{name: "InFiscalYear", in: crm + "InFiscalYear(PropertyName='createdon',PropertyValue=2023)", want: rng(col("createdon"), day(2023, 1, 1), day(2024, 1, 1))},
	{name: "InFiscalPeriod", in: crm + "InFiscalPeriod(PropertyName='createdon',PropertyValue=4)", want: rng(col("createdon"), day(2024, 10, 1), day(2025, 1, 1))},
	{name: "InFiscalPeriodAndYear", in: crm + "InFiscalPeriodAndYear(PropertyName=@p1,PropertyValue1=@p2,PropertyValue2=@p3)", aliases: map[string]string{"@p1": "'createdon'", "@p2": "1", "@p3": "2023"}, want: rng(col("createdon"), day(2023, 1, 1), day(2023, 4, 1))},
	{name: "InOrBeforeFiscalPeriodAndYear", in: crm + "InOrBeforeFiscalPeriodAndYear(PropertyName='createdon',PropertyValue1=1,PropertyValue2=2023)", want: cmpx(col("createdon"), model.Lt, day(2023, 4, 1))},
	{name: "InOrAfterFiscalPeriodAndYear", in: crm + "InOrAfterFiscalPeriodAndYear(PropertyName='createdon',PropertyValue1=1,PropertyValue2=2023)", want: cmpx(col("createdon"), model.Ge, day(2023, 1, 1))},
	{name: "fiscal period out of range", in: crm + "InFiscalPeriod(PropertyName='createdon',PropertyValue=5)", msg: "The PropertyValue of 'Microsoft.Dynamics.CRM.InFiscalPeriod' must be between 1 and 4; 5 was given.", pos: 77},

	// Errors.
	{name: "not around a function", in: "not " + crm + "Today(PropertyName='createdon')", msg: "Not operator along with the Custom Named Condition operators is not allowed", pos: 4},
	{name: "not around a parenthesized function", in: "not (name eq 'a' and " + crm + "Today(PropertyName='createdon'))", msg: "Not operator along with the Custom Named Condition operators is not allowed", pos: 21},
	{name: "function eq false", in: crm + "Today(PropertyName='createdon') eq false", msg: "Not operator along with the Custom Named Condition operators is not allowed", pos: 55},
	{name: "hierarchy function", in: crm + "Under(PropertyName='accountid',PropertyValue=" + guid + ")", msg: "The hierarchy query function 'Microsoft.Dynamics.CRM.Under' is not supported: the emulator's fixtures define no hierarchical relationships yet.", pos: 0},
	{name: "date function on a string", in: crm + "Today(PropertyName='name')", msg: "The function 'Microsoft.Dynamics.CRM.Today' can only be used with date and time columns; 'name' is of type String.", pos: 42},
	{name: "unknown query function", in: crm + "Someday(PropertyName='createdon')", msg: "An unknown function with name 'Microsoft.Dynamics.CRM.Someday' was found. This may also be a function import or a key lookup on a navigation property, which is not allowed.", pos: 0},
	{name: "missing parameter", in: crm + "LastXDays(PropertyName='createdon')", msg: "The function 'Microsoft.Dynamics.CRM.LastXDays' requires the parameter 'PropertyValue'.", pos: 0},
	{name: "unknown parameter", in: crm + "Today(PropertyName='createdon',PropertyValue=1)", msg: "The function 'Microsoft.Dynamics.CRM.Today' has no parameter named 'PropertyValue'; its parameters are PropertyName.", pos: 54},
	{name: "duplicate parameter", in: crm + "Today(PropertyName='createdon',PropertyName='createdon')", msg: "The parameter 'PropertyName' is given more than once.", pos: 54},
	{name: "unknown property name", in: crm + "Today(PropertyName='madeon')", msg: "Could not find a property named 'madeon' on type 'Microsoft.Dynamics.CRM.account'.", pos: 42},
	{name: "property name not a string", in: crm + "Today(PropertyName=createdon)", msg: "Syntax error at position 42 in 'Microsoft.Dynamics.CRM.Today(PropertyName=createdon)'.", pos: 42},
	{name: "property name a number", in: crm + "Today(PropertyName=5)", msg: "The PropertyName parameter of 'Microsoft.Dynamics.CRM.Today' must be a string naming a column, for example PropertyName='createdon'.", pos: 42},
	{name: "Between with three values", in: crm + "Between(PropertyName='numberofemployees',PropertyValues=[1,2,3])", msg: "The function 'Microsoft.Dynamics.CRM.Between' needs exactly 2 values in PropertyValues; 3 were given.", pos: 79},
	{name: "In with a scalar", in: crm + "In(PropertyName='name',PropertyValues='a')", msg: "The PropertyValues parameter of 'Microsoft.Dynamics.CRM.In' must be a list of values, for example PropertyValues=[\"a\",\"b\"].", pos: 61},
	{name: "In with an empty list", in: crm + "In(PropertyName='name',PropertyValues=[])", msg: "The function 'Microsoft.Dynamics.CRM.In' needs at least 1 value in PropertyValues.", pos: 61},
	{name: "In with a bad number", in: crm + "In(PropertyName='numberofemployees',PropertyValues=['x'])", msg: "The value 'x' is not a valid Edm.Int32 value for the column 'numberofemployees' of 'Microsoft.Dynamics.CRM.In'.", pos: 75},
	{name: "In with null", in: crm + "In(PropertyName='name',PropertyValues=[null])", msg: "null is not allowed in the values of 'Microsoft.Dynamics.CRM.In'.", pos: 62},
	{name: "single quote inside single-quoted item", in: crm + "In(PropertyName='name',PropertyValues=['a','O'Brian'])", msg: "Invalid JSON. A comma character ',' was expected in scope 'Array'. Every two elements in an array and properties of an object must be separated by commas.", pos: 69},
	{name: "single quote via alias", entity: "contact", in: crm + "In(PropertyName=@p1,PropertyValues=@p2)", aliases: map[string]string{"@p1": "'lastname'", "@p2": "['OBrian','O'Brian']"}, msg: "Invalid JSON. A comma character ',' was expected in scope 'Array'. Every two elements in an array and properties of an object must be separated by commas.", pos: 58},
	{name: "unclosed list", in: crm + "In(PropertyName='name',PropertyValues=['a'", msg: "Invalid JSON. Unexpected end of input was found in JSON content. Not all object and array scopes were closed.", pos: 65},
	{name: "X not a number", in: crm + "LastXDays(PropertyName='createdon',PropertyValue='x')", msg: "The PropertyValue of 'Microsoft.Dynamics.CRM.LastXDays' must be a whole number.", pos: 72},
	{name: "X negative", in: crm + "LastXDays(PropertyName='createdon',PropertyValue=-1)", msg: "The PropertyValue of 'Microsoft.Dynamics.CRM.LastXDays' must be between 0 and 100000; -1 was given.", pos: 72},
	{name: "On without a date", in: crm + "On(PropertyName='createdon',PropertyValue=5)", msg: "The PropertyValue of 'Microsoft.Dynamics.CRM.On' must be a date such as 2024-01-31.", pos: 65},
	{name: "full-text Contains", in: crm + "Contains(PropertyName='name',PropertyValue='x')", msg: "The query function 'Microsoft.Dynamics.CRM.Contains' (full-text search) is only available on knowledge articles and is not supported by the emulator.", pos: 0},
	{name: "missing close parenthesis", in: crm + "Today(PropertyName='createdon'", msg: "')' or ',' expected at position 53 in 'Microsoft.Dynamics.CRM.Today(PropertyName='createdon''.", pos: 53},
}

func TestQueryFunctions(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	for _, tt := range functionTests {
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

func TestFiscalCalendar(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	acct := entity(t, sch, "account")
	tests := []struct {
		name  string
		now   time.Time
		start int
		in    string
		want  model.Expr
	}{
		{"April year, this year", at(2024, 5, 15, 10, 30), 4, "ThisFiscalYear", rng(col("createdon"), day(2024, 4, 1), day(2025, 4, 1))},
		{"April year, this period", at(2024, 5, 15, 10, 30), 4, "ThisFiscalPeriod", rng(col("createdon"), day(2024, 4, 1), day(2024, 7, 1))},
		{"April year, last period crosses the year", at(2024, 5, 15, 10, 30), 4, "LastFiscalPeriod", rng(col("createdon"), day(2024, 1, 1), day(2024, 4, 1))},
		{"April year before April", at(2024, 2, 10, 0, 0), 4, "ThisFiscalYear", rng(col("createdon"), day(2023, 4, 1), day(2024, 4, 1))},
		{"April year before April, period", at(2024, 2, 10, 0, 0), 4, "ThisFiscalPeriod", rng(col("createdon"), day(2024, 1, 1), day(2024, 4, 1))},
		{"April year, next period crosses the year", at(2024, 2, 10, 0, 0), 4, "NextFiscalPeriod", rng(col("createdon"), day(2024, 4, 1), day(2024, 7, 1))},
		{"invalid start month means January", at(2024, 5, 15, 10, 30), 13, "ThisFiscalYear", rng(col("createdon"), day(2024, 1, 1), day(2025, 1, 1))},
		{"October year, period and year", at(2024, 5, 15, 10, 30), 10, "InFiscalPeriodAndYear(PropertyName='createdon',PropertyValue1=3,PropertyValue2=2023)", rng(col("createdon"), day(2024, 4, 1), day(2024, 7, 1))},
		{"week starts on Sunday, on a Sunday", at(2024, 5, 12, 0, 0), 1, "ThisWeek", rng(col("createdon"), day(2024, 5, 12), day(2024, 5, 19))},
		{"week starts on Sunday, on a Saturday", at(2024, 5, 18, 23, 59), 1, "ThisWeek", rng(col("createdon"), day(2024, 5, 12), day(2024, 5, 19))},
		{"month arithmetic clamps the day", at(2024, 3, 31, 12, 0), 1, "LastXMonths(PropertyName='createdon',PropertyValue=1)", and(cmpx(col("createdon"), model.Ge, day(2024, 2, 29)), cmpx(col("createdon"), model.Le, at(2024, 3, 31, 12, 0)))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			in := crm + tt.in
			if !strings.Contains(tt.in, "(") {
				in += "(PropertyName='createdon')"
			}
			env := model.Env{Now: tt.now, FiscalYearStartMonth: tt.start}
			got, err := ParseFilter(sch, acct, in, nil, env)
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got, exprOpts); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}
