package fetchxml

import (
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// account wraps entity content in a query on account.
func account(inner string) string {
	return "<fetch><entity name='account'>" + inner + "</entity></fetch>"
}

// errorCases are bad queries with Dataverse's code and message, and the offset of the element at
// fault (-1: not checked).
var errorCases = []struct {
	name string
	xml  string
	code string
	msg  string
	pos  int
}{
	// Malformed XML: line and column in the message, byte offset in Position.
	{name: "unclosed element", xml: "<fetch><entity name='account'>", code: "0x80040201",
		msg: "Malformed FetchXML: unexpected EOF. Line 1, position 31.", pos: 30},
	{name: "mismatched end tag", xml: "<fetch>\n  <entity name='account'>\n  </fetch>", code: "0x80040201",
		msg: "Malformed FetchXML: element <entity> closed by </fetch>. Line 3, position 11.", pos: 44},
	{name: "attribute without quotes", xml: "<fetch top=5><entity name='account' /></fetch>", code: "0x80040201",
		msg: "Malformed FetchXML: unquoted or missing attribute value in element. Line 1, position 13.", pos: 12},
	{name: "two roots", xml: "<fetch><entity name='account' /></fetch><fetch />", code: "0x80040201",
		msg: "Malformed FetchXML: there are multiple root elements. Line 1, position 41.", pos: 40},
	{name: "text after the root", xml: "<fetch><entity name='account' /></fetch> x", code: "0x80040201",
		msg: "Malformed FetchXML: data at the root level is invalid. Line 1, position 41.", pos: 40},
	{name: "empty", xml: "  ", code: "0x80040203", msg: "Expected non-empty string.", pos: 0},
	{name: "no element", xml: "<!-- nothing -->", code: "0x80040201", msg: "Malformed FetchXML: the root element is missing. Line 1, position 17.", pos: 16},
	{name: "nested too deep", xml: strings.Repeat("<filter>", 70), code: "0x80040201", msg: "The FetchXML is nested more than 64 elements deep.", pos: 64 * 8},
	{name: "other encoding", xml: `<?xml version="1.0" encoding="utf-16"?><fetch />`, code: "0x80040201", msg: "Malformed FetchXML: opening charset \"utf-16\": only UTF-8 is supported. Line 1, position 40.", pos: 39},

	// The fetch element.
	{name: "root is not fetch", xml: "<query />", code: "0x8004111C", msg: "The root element of a FetchXML query must be 'fetch', not 'query'.", pos: 0},
	{name: "unknown fetch attribute", xml: "<fetch colour='red'><entity name='account' /></fetch>", code: "0x80040203", msg: "The 'colour' attribute is not declared on the 'fetch' element.", pos: 0},
	{name: "no entity", xml: "<fetch />", code: "0x80041102", msg: "Entity Name was not specified in FetchXml String.", pos: 0},
	{name: "two entities", xml: "<fetch><entity name='account' /><entity name='contact' /></fetch>", code: "0x8004111C", msg: "Invalid Child Node, valid nodes are entity. NodeName = entity", pos: 32},
	{name: "top with page", xml: "<fetch top='5' page='1'><entity name='account' /></fetch>", code: "0x80040203", msg: "The top attribute can't be specified with paging attribute page", pos: 0},
	{name: "top with count", xml: "<fetch top='5' count='2'><entity name='account' /></fetch>", code: "0x80040203", msg: "The top attribute can't be specified with paging attribute count", pos: 0},
	{name: "top with total count", xml: "<fetch top='5' returntotalrecordcount='true'><entity name='account' /></fetch>", code: "0x80040203", msg: "The top attribute can't be specified with paging attribute returntotalrecordcount", pos: 0},
	{name: "top too large", xml: "<fetch top='5001'><entity name='account' /></fetch>", code: "0x80040203", msg: "The top attribute can't be greater than 5000; 5001 was given.", pos: 0},
	{name: "count zero", xml: "<fetch count='0'><entity name='account' /></fetch>", code: "0x80040203", msg: "The 'count' attribute of the 'fetch' element must be a whole number greater than zero; '0' was given.", pos: 0},
	{name: "page not a number", xml: "<fetch page='two'><entity name='account' /></fetch>", code: "0x80040203", msg: "The 'page' attribute of the 'fetch' element must be a whole number greater than zero; 'two' was given.", pos: 0},
	{name: "bad boolean", xml: "<fetch distinct='yes'><entity name='account' /></fetch>", code: "0x80040203", msg: "The 'distinct' attribute of the 'fetch' element must be true or false; 'yes' was given.", pos: 0},
	{name: "aggregate limit too large", xml: "<fetch aggregatelimit='60000'><entity name='account' /></fetch>", code: "0x80040203", msg: "The aggregatelimit attribute can't exceed the default aggregate limit of 50000; 60000 was given.", pos: 0},
	{name: "bad mapping", xml: "<fetch mapping='physical'><entity name='account' /></fetch>", code: "0x80041116", msg: "The mapping attribute must be 'logical'; 'physical' was given.", pos: 0},
	{name: "retained data", xml: "<fetch datasource='retained'><entity name='account' /></fetch>", code: "0x80040800", msg: "The datasource 'retained' is not supported: the emulator keeps no long-term retained data.", pos: 0},

	// Names.
	{name: "unknown entity", xml: "<fetch><entity name='nosuch' /></fetch>", code: "0x80041102", msg: "The entity with a name = 'nosuch' with namemapping = 'Logical' was not found in the MetadataCache.", pos: 7},
	{name: "entity without name", xml: "<fetch><entity /></fetch>", code: "0x80041102", msg: "Entity Name was not specified in FetchXml String.", pos: 7},
	{name: "unknown attribute", xml: account("<attribute name='nosuch' />"), code: "0x80041103", msg: "'account' entity doesn't contain attribute with Name = 'nosuch' and NameMapping = 'Logical'.", pos: 30},
	{name: "attribute names are case sensitive", xml: account("<attribute name='Name' />"), code: "0x80041103", msg: "'account' entity doesn't contain attribute with Name = 'Name' and NameMapping = 'Logical'.", pos: 30},
	{name: "unknown condition attribute", xml: account("<filter><condition attribute='nosuch' operator='null' /></filter>"), code: "0x80041103", msg: "'account' entity doesn't contain attribute with Name = 'nosuch' and NameMapping = 'Logical'.", pos: 38},
	{name: "unknown link entity", xml: account("<link-entity name='nosuch' from='a' to='b' />"), code: "0x80041102", msg: "The entity with a name = 'nosuch' with namemapping = 'Logical' was not found in the MetadataCache.", pos: 30},
	{name: "unknown link from", xml: account("<link-entity name='contact' from='nosuch' to='primarycontactid' />"), code: "0x80041103", msg: "'contact' entity doesn't contain attribute with Name = 'nosuch' and NameMapping = 'Logical'.", pos: 30},
	{name: "unknown link to", xml: account("<link-entity name='contact' from='contactid' to='nosuch' />"), code: "0x80041103", msg: "'account' entity doesn't contain attribute with Name = 'nosuch' and NameMapping = 'Logical'.", pos: 30},
	{name: "unknown link column", xml: account("<link-entity name='contact' from='contactid' to='primarycontactid'><attribute name='name' /></link-entity>"), code: "0x80041103", msg: "'contact' entity doesn't contain attribute with Name = 'name' and NameMapping = 'Logical'.", pos: -1},
	{name: "unknown order attribute", xml: account("<order attribute='nosuch' />"), code: "0x80041103", msg: "'account' entity doesn't contain attribute with Name = 'nosuch' and NameMapping = 'Logical'.", pos: 30},
	{name: "column kept nowhere", xml: account("<attribute name='entityimage' />"), code: "0x80040203", msg: "The column 'entityimage' of 'account' can't be retrieved: the emulator keeps no value for it.", pos: 30},
	{name: "unknown element", xml: account("<column name='name' />"), code: "0x8004111C", msg: "Invalid Child Node, valid nodes are filter, order, link-entity, attribute, all-attributes, no-attrs. NodeName = column", pos: 30},
	{name: "unknown attribute of attribute", xml: account("<attribute name='name' label='x' />"), code: "0x80040203", msg: "The 'label' attribute is not declared on the 'attribute' element.", pos: 30},
	{name: "repeated attribute", xml: account("<attribute name='name' name='x' />"), code: "0x80040201", msg: "Malformed FetchXML: the 'name' attribute appears twice on the 'attribute' element.", pos: 30},
	{name: "duplicate output name", xml: account("<attribute name='name' alias='x' /><attribute name='revenue' alias='x' />"), code: "0x8004111B", msg: "The column name 'x' is used more than once in the query; each column returned must have a unique name.", pos: 65},

	// Links.
	{name: "sixteen links", xml: account(strings.Repeat("<link-entity name='contact' from='contactid' to='primarycontactid' />", 16)), code: "0x8004430D", msg: "Number of link entities in query exceeded maximum limit.", pos: 30 + 15*69},
	{name: "sixteen nested links", xml: account(strings.Repeat("<link-entity name='account' from='accountid' to='parentaccountid'>", 16) + strings.Repeat("</link-entity>", 16)), code: "0x8004430D", msg: "Number of link entities in query exceeded maximum limit.", pos: -1},
	{name: "links in filters count too", xml: account(strings.Repeat("<link-entity name='contact' from='contactid' to='primarycontactid' />", 10) + "<filter>" + strings.Repeat("<link-entity name='task' from='regardingobjectid' to='accountid' link-type='any' />", 6) + "</filter>"), code: "0x8004430D", msg: "Number of link entities in query exceeded maximum limit.", pos: -1},
	{name: "bad link type", xml: account("<link-entity name='contact' from='contactid' to='primarycontactid' link-type='left' />"), code: "0x80041117", msg: "The link-type 'left' is not valid; use inner, outer, any, not any, all, not all, exists, in or matchfirstrowusingcrossapply.", pos: 30},
	{name: "join inside a filter", xml: account("<filter><link-entity name='contact' from='contactid' to='primarycontactid' link-type='outer' /></filter>"), code: "0x80041117", msg: "A link-entity inside a filter only filters rows: its link-type must be any, not any, all or not all, not 'outer'.", pos: 38},
	{name: "columns from a filtering link", xml: account("<filter><link-entity name='task' from='regardingobjectid' to='accountid' link-type='any'><attribute name='subject' /></link-entity></filter>"), code: "0x80041118", msg: "A link-entity of link-type 'any' only filters rows and can't have attribute elements.", pos: -1},
	{name: "filtering link off a relationship", xml: account("<filter><link-entity name='contact' from='lastname' to='name' link-type='any' /></filter>"), code: "0x80040800", msg: "The emulator supports filtering link-entities only along relationships: no relationship of 'account' joins contact.lastname to account.name.", pos: 38},
	{name: "from and to not inferable", xml: account("<link-entity name='contact' />"), code: "0x80040203", msg: "The link-entity 'contact' needs from and to attributes: they can't be inferred from the relationships between 'account' and 'contact'.", pos: 30},
	{name: "duplicate alias", xml: account("<link-entity name='contact' from='contactid' to='primarycontactid' alias='x' /><link-entity name='contact' from='parentcustomerid' to='accountid' alias='x' />"), code: "0x8004111B", msg: "The alias 'x' is used by more than one link-entity.", pos: -1},
	{name: "cross apply on one-to-many", xml: account("<link-entity name='contact' from='parentcustomerid' to='accountid' link-type='matchfirstrowusingcrossapply' />"), code: "0x80040800", msg: "The link-type matchfirstrowusingcrossapply is only supported by the emulator when from is the primary key of 'contact'.", pos: 30},
	{name: "unknown entityname", xml: account("<filter><condition entityname='zz' attribute='name' operator='null' /></filter>"), code: "0x8004110A", msg: "The entityname 'zz' is not the alias of a link-entity of the query.", pos: 38},
	{name: "link filter names a later link", xml: account("<link-entity name='contact' from='contactid' to='primarycontactid' alias='a'><filter><condition entityname='b' attribute='fullname' operator='null' /></filter></link-entity><link-entity name='contact' from='parentcustomerid' to='accountid' alias='b' />"), code: "0x80040800", msg: "This filter can't refer to the link-entity 'b': a link-entity's filter can only refer to itself and to the link-entities before it.", pos: -1},
	{name: "conditions on the intersect table", xml: account("<filter><link-entity name='accountleads' from='accountid' to='accountid' link-type='any'><filter><condition attribute='leadid' operator='null' /></filter></link-entity></filter>"), code: "0x80040800", msg: "Conditions on the intersect table 'accountleads' are not supported by the emulator; filter the related 'lead' rows instead.", pos: -1},

	// Conditions.
	{name: "unknown operator", xml: account("<filter><condition attribute='name' operator='contains' value='x' /></filter>"), code: "0x80041120", msg: "The 'operator' attribute is invalid - The value 'contains' is invalid according to its datatype 'String' - The Enumeration constraint failed.", pos: 38},
	{name: "no operator", xml: account("<filter><condition attribute='name' value='x' /></filter>"), code: "0x80041120", msg: "The condition needs an operator.", pos: 38},
	{name: "bad filter type", xml: account("<filter type='xor' />"), code: "0x80041122", msg: "The filter type 'xor' is not valid; use and or or.", pos: 30},
	{name: "condition outside a filter", xml: account("<condition attribute='name' operator='null' />"), code: "0x8004111C", msg: "Invalid Child Node, valid nodes are filter, order, link-entity, attribute, all-attributes, no-attrs. NodeName = condition", pos: 30},
	{name: "string for an integer", xml: account("<filter><condition attribute='numberofemployees' operator='eq' value='abc' /></filter>"), code: "0x80040203",
		msg: "An exception System.FormatException was thrown while trying to convert input value 'abc' to attribute 'account.numberofemployees'. Expected type of attribute value: System.Int32. Exception raised: Input string was not in a correct format.", pos: 38},
	{name: "integer overflow", xml: account("<filter><condition attribute='numberofemployees' operator='eq' value='3000000000' /></filter>"), code: "0x80040203",
		msg: "An exception System.OverflowException was thrown while trying to convert input value '3000000000' to attribute 'account.numberofemployees'. Expected type of attribute value: System.Int32. Exception raised: Value was either too large or too small for an Int32.", pos: 38},
	{name: "bad guid", xml: account("<filter><condition attribute='primarycontactid' operator='eq' value='a%' /></filter>"), code: "0x80040203",
		msg: "An exception System.FormatException was thrown while trying to convert input value 'a%' to attribute 'account.primarycontactid'. Expected type of attribute value: System.Guid. Exception raised: Guid should contain 32 digits with 4 dashes (xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx).", pos: 38},
	{name: "bad date", xml: account("<filter><condition attribute='createdon' operator='on' value='yesterday' /></filter>"), code: "0x80040203",
		msg: "An exception System.FormatException was thrown while trying to convert input value 'yesterday' to attribute 'account.createdon'. Expected type of attribute value: System.DateTime. Exception raised: String was not recognized as a valid DateTime.", pos: 38},
	{name: "bad boolean value", xml: account("<filter><condition attribute='donotemail' operator='eq' value='yes' /></filter>"), code: "0x80040203",
		msg: "An exception System.FormatException was thrown while trying to convert input value 'yes' to attribute 'account.donotemail'. Expected type of attribute value: System.Boolean. Exception raised: String was not recognized as a valid Boolean.", pos: 38},
	{name: "bad money in a value element", xml: account("<filter><condition attribute='revenue' operator='in'><value>1</value><value>x</value></condition></filter>"), code: "0x80040203",
		msg: "An exception System.FormatException was thrown while trying to convert input value 'x' to attribute 'account.revenue'. Expected type of attribute value: System.Decimal. Exception raised: Input string was not in a correct format.", pos: 99},
	{name: "no value", xml: account("<filter><condition attribute='name' operator='eq' /></filter>"), code: "0x80040203",
		msg: "Condition for attribute 'account.name': null is not a valid value for an operator. Use the Null or NotNull operators instead.", pos: 38},
	{name: "value and value elements", xml: account("<filter><condition attribute='name' operator='eq' value='a'><value>b</value></condition></filter>"), code: "0x80040203",
		msg: "The condition operator 'eq' on 'account.name' takes one value, not 2.", pos: 38},
	{name: "two value elements", xml: account("<filter><condition attribute='name' operator='ne'><value>a</value><value>b</value></condition></filter>"), code: "0x80040203",
		msg: "The condition operator 'ne' on 'account.name' takes one value, not 2.", pos: 38},
	{name: "value for null", xml: account("<filter><condition attribute='name' operator='null' value='x' /></filter>"), code: "0x80040203",
		msg: "The condition operator 'null' on 'account.name' doesn't take a value.", pos: 38},
	{name: "between with one value", xml: account("<filter><condition attribute='numberofemployees' operator='between'><value>1</value></condition></filter>"), code: "0x80040203",
		msg: "The condition operator 'between' on 'account.numberofemployees' takes 2 values, not 1.", pos: 38},
	{name: "in without values", xml: account("<filter><condition attribute='name' operator='in' /></filter>"), code: "0x80040203",
		msg: "The condition operator 'in' on 'account.name' needs at least one value.", pos: 38},
	{name: "x not a number", xml: account("<filter><condition attribute='createdon' operator='last-x-days' value='three' /></filter>"), code: "0x80040203",
		msg: "An exception System.FormatException was thrown while trying to convert input value 'three' to attribute 'account.createdon'. Expected type of attribute value: System.Int32. Exception raised: Input string was not in a correct format.", pos: 38},
	{name: "x out of range", xml: account("<filter><condition attribute='createdon' operator='last-x-days' value='-1' /></filter>"), code: "0x80040203",
		msg: "The value of the condition operator 'last-x-days' on 'account.createdon' must be between 0 and 100000; -1 was given.", pos: 38},
	{name: "fiscal period out of range", xml: account("<filter><condition attribute='createdon' operator='in-fiscal-period' value='5' /></filter>"), code: "0x80040203",
		msg: "The value of the condition operator 'in-fiscal-period' on 'account.createdon' must be between 1 and 4; 5 was given.", pos: 38},
	{name: "date operator on text", xml: account("<filter><condition attribute='name' operator='today' /></filter>"), code: "0x80040203",
		msg: "The condition operator 'today' can only be used with date and time columns; 'account.name' is of type String.", pos: 38},
	{name: "like on a number", xml: account("<filter><condition attribute='numberofemployees' operator='like' value='1%' /></filter>"), code: "0x80040203",
		msg: "The condition operator 'like' can only be used with text columns; 'account.numberofemployees' is of type Integer.", pos: 38},
	{name: "eq on multi-select", xml: account("<filter><condition attribute='tags' operator='eq' value='1' /></filter>"), code: "0x80040203",
		msg: "The multi-select choice column 'account.tags' can only be tested with the operators null, not-null, contain-values and not-contain-values.", pos: 38},
	{name: "contain-values on a choice", xml: account("<filter><condition attribute='statecode' operator='contain-values' value='1' /></filter>"), code: "0x80040203",
		msg: "The condition operator 'contain-values' can only be used with multi-select choice columns; 'account.statecode' is of type State.", pos: 38},
	{name: "user operator on text", xml: account("<filter><condition attribute='name' operator='eq-userid' /></filter>"), code: "0x80040203",
		msg: "The condition operator 'eq-userid' can only be used with lookup and unique identifier columns; 'account.name' is of type String.", pos: 38},
	{name: "hierarchy", xml: account("<filter><condition attribute='accountid' operator='under' value='aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee' /></filter>"), code: "0x80040800",
		msg: "The hierarchy operator 'under' needs a hierarchical relationship on 'account'; the emulator's fixtures define none.", pos: 38},
	{name: "valueof of another type", xml: account("<filter><condition attribute='name' operator='eq' valueof='numberofemployees' /></filter>"), code: "0x80040203",
		msg: "Column comparison needs columns of the same type: 'account.name' is String and 'account.numberofemployees' is Integer.", pos: 38},
	{name: "valueof with like", xml: account("<filter><condition attribute='name' operator='like' valueof='accountnumber' /></filter>"), code: "0x80040203",
		msg: "valueof can only be used with the operators eq, ne, neq, gt, ge, lt and le, not 'like'.", pos: 38},
	{name: "condition on an aggregate", xml: account("<filter><condition attribute='name' operator='eq' value='x' alias='n' /></filter>"), code: "0x80040800",
		msg: "Conditions with the 'alias' attribute (on aggregated values) are not supported by the emulator.", pos: 38},
	{name: "column of another element", xml: account("<filter><condition attribute='name' operator='in'><item>x</item></condition></filter>"), code: "0x8004111C",
		msg: "Invalid Child Node, valid nodes are value. NodeName = item", pos: 80},

	// Orders.
	{name: "order by unknown alias", xml: account("<attribute name='name' /><order alias='zz' />"), code: "0x8004110A", msg: "The order alias 'zz' does not name an attribute of the query.", pos: 55},
	{name: "order with attribute and alias", xml: account("<order attribute='name' alias='n' />"), code: "0x80040203", msg: "An order element needs either an attribute or an alias.", pos: 30},
	{name: "order by unknown entityname", xml: account("<order entityname='zz' attribute='name' />"), code: "0x8004110A", msg: "The order names the entity 'zz', which is not the alias of a link-entity of the query.", pos: 30},

	// Aggregates.
	{name: "aggregate without alias", xml: "<fetch aggregate='true'><entity name='account'><attribute name='revenue' aggregate='sum' /></entity></fetch>", code: "0x8004110B", msg: "An alias is required for the aggregate attribute 'revenue'.", pos: 47},
	{name: "aggregate outside an aggregate query", xml: account("<attribute name='revenue' alias='r' aggregate='sum' />"), code: "0x8004111A", msg: "The 'aggregate' attribute of an attribute element is only allowed in aggregate queries (fetch aggregate='true').", pos: 30},
	{name: "plain attribute in an aggregate query", xml: "<fetch aggregate='true'><entity name='account'><attribute name='name' /></entity></fetch>", code: "0x8004111A", msg: "In an aggregate query every attribute needs an aggregate function or groupby='true'; 'name' has neither.", pos: 47},
	{name: "unknown aggregate function", xml: "<fetch aggregate='true'><entity name='account'><attribute name='revenue' alias='r' aggregate='median' /></entity></fetch>", code: "0x8004111A", msg: "The aggregate function 'median' is not valid; use count, countcolumn, sum, avg, min or max.", pos: 47},
	{name: "sum of text", xml: "<fetch aggregate='true'><entity name='account'><attribute name='name' alias='r' aggregate='sum' /></entity></fetch>", code: "0x8004111A", msg: "The aggregate function 'sum' can't be applied to the column 'name' of type String.", pos: 47},
	{name: "distinct sum", xml: "<fetch aggregate='true'><entity name='account'><attribute name='revenue' alias='r' aggregate='sum' distinct='true' /></entity></fetch>", code: "0x8004111A", msg: "distinct is only supported with the countcolumn aggregate function.", pos: 47},
	{name: "date grouping of a number", xml: "<fetch aggregate='true'><entity name='account'><attribute name='revenue' alias='r' groupby='true' dategrouping='year' /></entity></fetch>", code: "0x8004111A", msg: "dategrouping can only be used with date and time columns; 'revenue' is of type Money.", pos: 47},
	{name: "bad date grouping", xml: "<fetch aggregate='true'><entity name='account'><attribute name='createdon' alias='r' groupby='true' dategrouping='decade' /></entity></fetch>", code: "0x8004111A", msg: "The dategrouping 'decade' is not valid; use day, week, month, quarter, year, fiscal-period or fiscal-year.", pos: 47},
	{name: "aggregate query without attributes", xml: "<fetch aggregate='true'><entity name='account' /></fetch>", code: "0x8004111A", msg: "An aggregate query needs at least one attribute with an aggregate function or groupby='true'.", pos: 24},
	{name: "aggregate order by attribute", xml: "<fetch aggregate='true'><entity name='account'><attribute name='revenue' alias='r' aggregate='sum' /><order attribute='revenue' /></entity></fetch>", code: "0x80040203", msg: "An aggregate query is ordered by the alias of a groupby or aggregate attribute: <order alias='...' />; 'revenue' is not an alias.", pos: -1},
	{name: "row aggregate", xml: account("<attribute name='accountid' alias='CountChildren' rowaggregate='CountChildren' />"), code: "0x80040800", msg: "rowaggregate needs a hierarchical relationship on 'account'; the emulator's fixtures define none.", pos: 30},
	{name: "all-attributes in an aggregate query", xml: "<fetch aggregate='true'><entity name='account'><all-attributes /></entity></fetch>", code: "0x8004111A", msg: "all-attributes can't be used in an aggregate query.", pos: 47},
}

func TestErrors(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	for _, tt := range errorCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse(sch, tt.xml, testEnv)
			checkErr(t, err, tt.code, tt.msg, tt.pos)
		})
	}
}

func TestAggregateLimitExceeded(t *testing.T) {
	t.Parallel()
	checkErr(t, dverr.AggregateLimitExceeded(), "0x8004E023", "AggregateQueryRecordLimit exceeded. Cannot perform this operation.", -1)
}
