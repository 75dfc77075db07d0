package fetchxml

import (
	"html"
	"strconv"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// fetchCases check the fetch element's attributes.
var fetchCases = []struct {
	name string
	xml  string
	want Fetch // Query, Entity and Columns are not compared
	// wantTop and wantPageSize are Query.Top and Query.PageSize.
	wantTop, wantPageSize int
}{
	{name: "defaults", xml: `<fetch><entity name='account'><attribute name='name' /></entity></fetch>`,
		want: Fetch{Page: 1, Count: 5000, AggregateLimit: 50000}, wantPageSize: 5000},
	{name: "top", xml: `<fetch top='10'><entity name='account'><attribute name='name' /></entity></fetch>`,
		want: Fetch{Page: 1, Count: 5000, AggregateLimit: 50000, Top: 10}, wantTop: 10},
	{name: "count and page", xml: `<fetch count='50' page='3'><entity name='account'><attribute name='name' /></entity></fetch>`,
		want: Fetch{Page: 3, Count: 50, Skip: 100, AggregateLimit: 50000}, wantPageSize: 50},
	{name: "count capped", xml: `<fetch count='9000'><entity name='account'><attribute name='name' /></entity></fetch>`,
		want: Fetch{Page: 1, Count: 5000, AggregateLimit: 50000}, wantPageSize: 5000},
	{name: "flags", xml: `<fetch version='1.0' output-format='xml-platform' mapping='logical' distinct='true' no-lock='true' returntotalrecordcount='true' latematerialize='false' useraworderby='1' options='OptimizeForUnknown' utc-offset='0' datasource='live'><entity name='account'><attribute name='name' /></entity></fetch>`,
		want: Fetch{Page: 1, Count: 5000, AggregateLimit: 50000, Distinct: true, ReturnTotalRecordCount: true}, wantPageSize: 5000},
	{name: "aggregate limit", xml: `<fetch aggregate='true' aggregatelimit='10'><entity name='account'><attribute name='accountid' alias='n' aggregate='count' /></entity></fetch>`,
		want: Fetch{Page: 1, Count: 5000, AggregateLimit: 10, Aggregate: true}, wantPageSize: 5000},
	{name: "byte order mark and declaration", xml: "\ufeff<?xml version='1.0' encoding='utf-8'?>\n<fetch><entity name='account'><attribute name='name' /></entity></fetch>",
		want: Fetch{Page: 1, Count: 5000, AggregateLimit: 50000}, wantPageSize: 5000},
	{name: "paging cookie kept", xml: `<fetch page='2' count='5' paging-cookie='&lt;cookie page="1"&gt;&lt;/cookie&gt;'><entity name='account'><attribute name='name' /></entity></fetch>`,
		want: Fetch{Page: 2, Count: 5, Skip: 5, PagingCookie: `<cookie page="1"></cookie>`, AggregateLimit: 50000}, wantPageSize: 5},
}

func TestFetchAttributes(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	for _, tt := range fetchCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse(sch, tt.xml, testEnv)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, *f, cmpopts.IgnoreFields(Fetch{}, "Query", "Entity", "Columns")); diff != "" {
				t.Errorf("fetch (-want +got):\n%s", diff)
			}
			q := f.Query
			if q.Top != tt.wantTop || q.PageSize != tt.wantPageSize || q.Offset != tt.want.Skip || q.Distinct != tt.want.Distinct {
				t.Errorf("query top %d page size %d offset %d distinct %v, want %d %d %d %v", q.Top, q.PageSize, q.Offset, q.Distinct, tt.wantTop, tt.wantPageSize, tt.want.Skip, tt.want.Distinct)
			}
			if f.Entity.LogicalName != "account" || q.Entity != f.Entity {
				t.Errorf("entity %s", f.Entity.LogicalName)
			}
		})
	}
}

// keys returns the output keys of a parse.
func keys(f *Fetch) []string {
	var out []string
	for _, c := range f.Columns {
		out = append(out, c.Key)
	}
	return out
}

// columnCases check attribute selection and the output keys.
var columnCases = []struct {
	name     string
	xml      string
	wantKeys []string
	// wantColumns is Query.Columns; wantLinkColumns the columns of each link, in order.
	wantColumns     []*model.Attribute
	wantLinkColumns [][]*model.Attribute
}{
	{name: "attributes", xml: `<fetch><entity name='account'><attribute name='name' /><attribute name='primarycontactid' /><attribute name='revenue' /></entity></fetch>`,
		wantKeys: []string{"name", "_primarycontactid_value", "revenue"}, wantColumns: attrs("name", "primarycontactid", "revenue")},
	{name: "alias", xml: `<fetch><entity name='account'><attribute name='name' alias='AccountName' /><attribute name='primarycontactid' alias='pc' /></entity></fetch>`,
		wantKeys: []string{"AccountName", "pc"}, wantColumns: attrs("name", "primarycontactid")},
	{name: "same column twice", xml: `<fetch><entity name='account'><attribute name='name' /><attribute name='name' /><attribute name='name' alias='n2' /></entity></fetch>`,
		wantKeys: []string{"name", "n2"}, wantColumns: attrs("name")},
	{name: "version number", xml: `<fetch><entity name='account'><attribute name='versionnumber' /></entity></fetch>`,
		wantKeys: []string{"versionnumber"}, wantColumns: attrs()},
	{name: "no attributes: every column", xml: `<fetch><entity name='lead' /></fetch>`,
		wantKeys: []string{"leadid", "fullname", "subject", "estimatedvalue"}, wantColumns: attrs("leadid", "fullname", "subject", "estimatedvalue")},
	{name: "all-attributes", xml: `<fetch><entity name='contact'><all-attributes /></entity></fetch>`,
		wantKeys:    []string{"contactid", "fullname", "firstname", "lastname", "numberofchildren", "birthdate", "_parentcustomerid_value", "versionnumber"},
		wantColumns: attrs("contactid", "fullname", "firstname", "lastname", "numberofchildren", "birthdate", "parentcustomerid")},
	{name: "no-attrs", xml: `<fetch><entity name='account'><no-attrs /></entity></fetch>`, wantColumns: attrs()},
	{name: "link columns", xml: `<fetch><entity name='account'><attribute name='name' /><link-entity name='contact' from='contactid' to='primarycontactid' alias='pc'><attribute name='fullname' /><attribute name='parentcustomerid' /><attribute name='lastname' alias='ln' /></link-entity></entity></fetch>`,
		wantKeys: []string{"name", "pc_x002e_fullname", "pc_x002e_parentcustomerid", "ln"}, wantColumns: attrs("name"),
		wantLinkColumns: [][]*model.Attribute{attrs("fullname", "parentcustomerid", "lastname")}},
	{name: "link without alias", xml: `<fetch><entity name='account'><attribute name='name' /><filter><link-entity name='task' from='regardingobjectid' to='accountid' link-type='any' /></filter><link-entity name='contact' from='contactid' to='primarycontactid'><attribute name='fullname' /></link-entity><link-entity name='contact' from='parentcustomerid' to='accountid' link-type='outer'><attribute name='fullname' /></link-entity></entity></fetch>`,
		wantKeys: []string{"name", "contact2_x002e_fullname", "contact3_x002e_fullname"}, wantColumns: attrs("name"),
		wantLinkColumns: [][]*model.Attribute{attrs("fullname"), attrs("fullname")}},
	{name: "link all-attributes", xml: `<fetch><entity name='account'><attribute name='name' /><link-entity name='lead' from='leadid' to='accountid' alias='l'><all-attributes /></link-entity></entity></fetch>`,
		wantKeys: []string{"name", "l_x002e_leadid", "l_x002e_fullname", "l_x002e_subject", "l_x002e_estimatedvalue"}, wantColumns: attrs("name"),
		wantLinkColumns: [][]*model.Attribute{attrs("leadid", "fullname", "subject", "estimatedvalue")}},
	{name: "link only: root still returns every column", xml: `<fetch><entity name='lead'><link-entity name='accountleads' from='leadid' to='leadid' alias='al'><attribute name='accountid' /></link-entity></entity></fetch>`,
		wantKeys: []string{"leadid", "fullname", "subject", "estimatedvalue", "al_x002e_accountid"}, wantColumns: attrs("leadid", "fullname", "subject", "estimatedvalue"),
		wantLinkColumns: [][]*model.Attribute{attrs("accountid")}},
	{name: "link with no columns", xml: `<fetch><entity name='account'><attribute name='name' /><link-entity name='contact' from='contactid' to='primarycontactid' /></entity></fetch>`,
		wantKeys: []string{"name"}, wantColumns: attrs("name"), wantLinkColumns: [][]*model.Attribute{nil}},
}

func TestColumns(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	for _, tt := range columnCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse(sch, tt.xml, testEnv)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantKeys, keys(f)); diff != "" {
				t.Errorf("keys (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantColumns, f.Query.Columns, queryOpts); diff != "" {
				t.Errorf("columns (-want +got):\n%s", diff)
			}
			var links [][]*model.Attribute
			for _, l := range f.Query.Links {
				links = append(links, l.Columns)
			}
			if diff := cmp.Diff(tt.wantLinkColumns, links, queryOpts); diff != "" {
				t.Errorf("link columns (-want +got):\n%s", diff)
			}
			for _, c := range f.Columns {
				if c.Attr == nil || c.Link != nil && c.Key != "ln" && c.Key != EncodeKey(c.Link.Alias, c.Attr.LogicalName) {
					t.Errorf("column %+v", c)
				}
			}
		})
	}
}

// Links used by the expectations of linkCases.
var (
	pcLink   = &model.Link{Alias: "pc", Entity: ent("contact"), From: "contactid", To: "primarycontactid", Columns: attrs("fullname")}
	pcOuter  = &model.Link{Alias: "pc", Entity: ent("contact"), From: "contactid", To: "primarycontactid", Outer: true, Columns: attrs("fullname")}
	custLink = &model.Link{Alias: "c", Entity: ent("contact"), From: "parentcustomerid", To: "accountid", Outer: true}
	taskLink = &model.Link{Alias: "t", Entity: ent("task"), From: "regardingobjectid", To: "contactid", Parent: custLink, Columns: attrs("subject")}
	alLink   = &model.Link{Alias: "accountleads1", Entity: ent("accountleads"), From: "accountid", To: "accountid"}
	leadLink = &model.Link{Alias: "l", Entity: ent("lead"), From: "leadid", To: "leadid", Parent: alLink, Columns: attrs("fullname")}
)

// linkCases check link-entity elements: the joins (Query.Links) and the filter.
var linkCases = []struct {
	name       string
	xml        string
	wantLinks  []*model.Link
	wantFilter model.Expr
}{
	{name: "inner many-to-one",
		xml:       `<link-entity name='contact' from='contactid' to='primarycontactid' link-type='inner' alias='pc'><attribute name='fullname' /></link-entity>`,
		wantLinks: []*model.Link{pcLink}},
	{name: "outer, condition on the link after the join",
		xml:        `<link-entity name='contact' from='contactid' to='primarycontactid' link-type='outer' alias='pc'><attribute name='fullname' /></link-entity><filter><condition entityname='pc' attribute='fullname' operator='null' /></filter>`,
		wantLinks:  []*model.Link{pcOuter},
		wantFilter: model.Null{Column: lcol(pcOuter, "fullname")}},
	{name: "filter inside the link",
		xml: `<link-entity name='contact' from='contactid' to='primarycontactid' alias='pc' link-type='outer'><attribute name='fullname' /><filter><condition attribute='lastname' operator='eq' value='x' /></filter></link-entity>`,
		wantLinks: []*model.Link{{Alias: "pc", Entity: ent("contact"), From: "contactid", To: "primarycontactid", Outer: true, Columns: attrs("fullname"),
			Filter: cmpx(col("lastname"), model.Eq, "x")}}},
	{name: "valueof across tables",
		xml:        `<filter><condition attribute='name' operator='eq' valueof='pc.fullname' /></filter><link-entity name='contact' from='contactid' to='primarycontactid' alias='pc'><attribute name='fullname' /></link-entity>`,
		wantLinks:  []*model.Link{pcLink},
		wantFilter: model.Compare{Left: col("name"), Op: model.Eq, Right: lcol(pcLink, "fullname")}},
	{name: "entityname is the name of an unaliased link",
		xml:        `<link-entity name='contact' from='contactid' to='primarycontactid' /><filter><condition entityname='contact' attribute='fullname' operator='not-null' /></filter>`,
		wantLinks:  []*model.Link{{Alias: "contact1", Entity: ent("contact"), From: "contactid", To: "primarycontactid"}},
		wantFilter: model.Null{Column: &model.Column{Link: &model.Link{Alias: "contact1", Entity: ent("contact"), From: "contactid", To: "primarycontactid"}, Attr: attr("fullname")}, Negate: true}},
	{name: "nested one-to-many",
		xml:       `<link-entity name='contact' from='parentcustomerid' to='accountid' link-type='outer' alias='c'><link-entity name='task' from='regardingobjectid' to='contactid' alias='t'><attribute name='subject' /></link-entity></link-entity>`,
		wantLinks: []*model.Link{custLink, taskLink}},
	{name: "many-to-many through the intersect table",
		xml:       `<link-entity name='accountleads' from='accountid' to='accountid' intersect='true' visible='false'><link-entity name='lead' from='leadid' to='leadid' alias='l'><attribute name='fullname' /></link-entity></link-entity>`,
		wantLinks: []*model.Link{alLink, leadLink}},
	{name: "from and to inferred",
		xml:       `<link-entity name='systemuser' alias='cb'><attribute name='fullname' /></link-entity>`,
		wantLinks: []*model.Link{{Alias: "cb", Entity: ent("systemuser"), From: "systemuserid", To: "createdby", Columns: attrs("fullname")}}},
	{name: "to inferred from from",
		xml:       `<link-entity name='contact' from='parentcustomerid' alias='c' link-type='outer' />`,
		wantLinks: []*model.Link{custLink}},
	{name: "matchfirstrowusingcrossapply on a many-to-one",
		xml:       `<link-entity name='contact' from='contactid' to='primarycontactid' link-type='matchfirstrowusingcrossapply' alias='pc'><attribute name='fullname' /></link-entity>`,
		wantLinks: []*model.Link{pcOuter}},

	// Links that only filter.
	{name: "any",
		xml:        `<filter><link-entity name='task' from='regardingobjectid' to='accountid' link-type='any'><filter><condition attribute='subject' operator='eq' value='Call' /></filter></link-entity></filter>`,
		wantFilter: model.Exists{Nav: nav("Account_Tasks"), Filter: cmpx(col("subject"), model.Eq, "Call")}},
	{name: "any naming itself",
		xml:        `<filter><link-entity name='task' from='regardingobjectid' to='accountid' link-type='any' alias='t'><filter><condition entityname='t' attribute='subject' operator='eq' value='Call' /></filter></link-entity></filter>`,
		wantFilter: model.Exists{Nav: nav("Account_Tasks"), Filter: cmpx(col("subject"), model.Eq, "Call")}},
	{name: "not any",
		xml:        `<filter><link-entity name='task' from='regardingobjectid' to='accountid' link-type='not any' /></filter>`,
		wantFilter: model.Exists{Nav: nav("Account_Tasks"), Negate: true}},
	{name: "all: related rows exist and none matches",
		xml: `<filter><link-entity name='task' from='regardingobjectid' to='accountid' link-type='all'><filter><condition attribute='subject' operator='eq' value='Call' /></filter></link-entity></filter>`,
		wantFilter: and(model.Exists{Nav: nav("Account_Tasks")},
			model.Exists{Nav: nav("Account_Tasks"), Filter: cmpx(col("subject"), model.Eq, "Call"), Negate: true})},
	{name: "not all is any",
		xml:        `<filter><link-entity name='task' from='regardingobjectid' to='accountid' link-type='not all'><filter><condition attribute='subject' operator='eq' value='Call' /></filter></link-entity></filter>`,
		wantFilter: model.Exists{Nav: nav("Account_Tasks"), Filter: cmpx(col("subject"), model.Eq, "Call")}},
	{name: "any in an or filter",
		xml:        `<filter type='or'><link-entity name='contact' from='contactid' to='primarycontactid' link-type='any' /><condition attribute='statecode' operator='eq' value='1' /></filter>`,
		wantFilter: or(model.Exists{Nav: nav("primarycontactid")}, cmpx(col("statecode"), model.Eq, int64(1)))},
	{name: "exists under the entity",
		xml:        `<link-entity name='contact' from='parentcustomerid' to='accountid' link-type='exists'><filter><condition attribute='lastname' operator='eq' value='x' /></filter></link-entity>`,
		wantFilter: model.Exists{Nav: nav("contact_customer_accounts"), Filter: cmpx(col("lastname"), model.Eq, "x")}},
	{name: "in under the entity",
		xml:        `<link-entity name='systemuser' from='systemuserid' to='createdby' link-type='in' />`,
		wantFilter: model.Exists{Nav: nav("createdby")}},
	{name: "exists under a join",
		xml: `<link-entity name='contact' from='contactid' to='primarycontactid' alias='pc'><attribute name='fullname' /><link-entity name='task' from='regardingobjectid' to='contactid' link-type='exists' /></link-entity>`,
		wantLinks: []*model.Link{{Alias: "pc", Entity: ent("contact"), From: "contactid", To: "primarycontactid", Columns: attrs("fullname"),
			Filter: model.Exists{Nav: nav("Contact_Tasks")}}}},
	{name: "many-to-many any",
		xml:        `<filter><link-entity name='accountleads' from='accountid' to='accountid' link-type='any'><link-entity name='lead' from='leadid' to='leadid'><filter><condition attribute='subject' operator='like' value='%x%' /></filter></link-entity></link-entity></filter>`,
		wantFilter: model.Exists{Nav: nav("accountleads_association"), Filter: model.Match{Column: col("subject"), Kind: "like", Pattern: "%x%"}}},
	{name: "many-to-many not any without the other side",
		xml:        `<filter><link-entity name='accountleads' from='accountid' to='accountid' link-type='not any' /></filter>`,
		wantFilter: model.Exists{Nav: nav("accountleads_association"), Negate: true}},
	{name: "nested links inside any",
		xml: `<filter><link-entity name='contact' from='parentcustomerid' to='accountid' link-type='any'><link-entity name='task' from='regardingobjectid' to='contactid'><filter><condition attribute='subject' operator='eq' value='Call' /></filter></link-entity><link-entity name='account' from='accountid' to='parentcustomerid' link-type='outer' /><filter><condition attribute='lastname' operator='not-null' /></filter></link-entity></filter>`,
		wantFilter: model.Exists{Nav: nav("contact_customer_accounts"), Filter: and(
			model.Exists{Nav: nav("Contact_Tasks"), Filter: cmpx(col("subject"), model.Eq, "Call")},
			model.Null{Column: col("lastname"), Negate: true})}},
	{name: "any correlated with a join",
		xml:        `<link-entity name='contact' from='contactid' to='primarycontactid' alias='pc'><attribute name='fullname' /></link-entity><filter><link-entity name='task' from='regardingobjectid' to='accountid' link-type='any'><filter><condition attribute='subject' operator='eq' valueof='pc.fullname' /></filter></link-entity></filter>`,
		wantLinks:  []*model.Link{pcLink},
		wantFilter: model.Exists{Nav: nav("Account_Tasks"), Filter: model.Compare{Left: col("subject"), Op: model.Eq, Right: lcol(pcLink, "fullname")}}},
}

func TestLinks(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	for _, tt := range linkCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse(sch, "<fetch><entity name='account'><attribute name='name' />"+tt.xml+"</entity></fetch>", testEnv)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantLinks, f.Query.Links, queryOpts); diff != "" {
				t.Errorf("links (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantFilter, f.Query.Filter, queryOpts); diff != "" {
				t.Errorf("filter (-want +got):\n%s", diff)
			}
		})
	}
}

// orderCases check order elements.
var orderCases = []struct {
	name string
	xml  string
	want []model.Order
}{
	{name: "ascending and descending", xml: `<fetch><entity name='account'><attribute name='name' /><order attribute='name' /><order attribute='createdon' descending='true' /></entity></fetch>`,
		want: []model.Order{{Column: col("name")}, {Column: col("createdon"), Desc: true}}},
	{name: "link orders come after the entity's", xml: `<fetch><entity name='account'><link-entity name='contact' from='contactid' to='primarycontactid' alias='pc'><attribute name='fullname' /><order attribute='fullname' /></link-entity><order attribute='name' /></entity></fetch>`,
		want: []model.Order{{Column: col("name")}, {Column: lcol(pcLink, "fullname")}}},
	{name: "entityname moves a link order first", xml: `<fetch><entity name='account'><link-entity name='contact' from='contactid' to='primarycontactid' alias='pc'><attribute name='fullname' /></link-entity><order entityname='pc' attribute='fullname' descending='true' /><order attribute='name' /></entity></fetch>`,
		want: []model.Order{{Column: lcol(pcLink, "fullname"), Desc: true}, {Column: col("name")}}},
	{name: "by alias", xml: `<fetch><entity name='account'><attribute name='name' alias='n' /><link-entity name='contact' from='contactid' to='primarycontactid' alias='pc'><attribute name='fullname' alias='cn' /></link-entity><order alias='cn' /><order alias='n' descending='true' /></entity></fetch>`,
		want: []model.Order{{Column: lcol(&model.Link{Alias: "pc", Entity: ent("contact"), From: "contactid", To: "primarycontactid", Columns: attrs("fullname")}, "fullname")}, {Column: col("name"), Desc: true}}},
}

func TestOrders(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	for _, tt := range orderCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse(sch, tt.xml, testEnv)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, f.Query.Order, queryOpts); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
}

// aggregateCases check aggregate queries: grouping, aggregates, order and output columns.
var aggregateCases = []struct {
	name      string
	xml       string
	wantGroup []model.GroupBy
	wantAgg   []model.Aggregate
	wantOrder []model.Order
	wantCols  []OutputColumn
}{
	{name: "every function",
		xml: `<fetch aggregate='true'><entity name='account'>
			<attribute name='numberofemployees' alias='Average' aggregate='avg' />
			<attribute name='numberofemployees' alias='Count' aggregate='count' />
			<attribute name='numberofemployees' alias='ColumnCount' aggregate='countcolumn' />
			<attribute name='numberofemployees' alias='Distinct' aggregate='countcolumn' distinct='true' />
			<attribute name='revenue' alias='Maximum' aggregate='max' />
			<attribute name='createdon' alias='Minimum' aggregate='min' />
			<attribute name='revenue' alias='Sum' aggregate='sum' />
		</entity></fetch>`,
		wantAgg: []model.Aggregate{
			{Func: model.AggAvg, Column: col("numberofemployees"), Alias: "Average"},
			{Func: model.AggCount, Alias: "Count"},
			{Func: model.AggCountColumn, Column: col("numberofemployees"), Alias: "ColumnCount"},
			{Func: model.AggCountDistinct, Column: col("numberofemployees"), Alias: "Distinct"},
			{Func: model.AggMax, Column: col("revenue"), Alias: "Maximum"},
			{Func: model.AggMin, Column: col("createdon"), Alias: "Minimum"},
			{Func: model.AggSum, Column: col("revenue"), Alias: "Sum"},
		},
		wantCols: []OutputColumn{
			{Key: "Average", Attr: attr("numberofemployees"), Alias: "Average", Aggregate: model.AggAvg},
			{Key: "Count", Attr: attr("numberofemployees"), Alias: "Count", Aggregate: model.AggCount},
			{Key: "ColumnCount", Attr: attr("numberofemployees"), Alias: "ColumnCount", Aggregate: model.AggCountColumn},
			{Key: "Distinct", Attr: attr("numberofemployees"), Alias: "Distinct", Aggregate: model.AggCountDistinct},
			{Key: "Maximum", Attr: attr("revenue"), Alias: "Maximum", Aggregate: model.AggMax},
			{Key: "Minimum", Attr: attr("createdon"), Alias: "Minimum", Aggregate: model.AggMin},
			{Key: "Sum", Attr: attr("revenue"), Alias: "Sum", Aggregate: model.AggSum},
		}},
	{name: "group by with order",
		xml:       `<fetch aggregate='true'><entity name='account'><attribute name='numberofemployees' alias='Total' aggregate='sum' /><attribute name='address1_city' alias='City' groupby='true' /><order alias='City' descending='true' /></entity></fetch>`,
		wantGroup: []model.GroupBy{{Column: col("address1_city"), Alias: "City"}},
		wantAgg:   []model.Aggregate{{Func: model.AggSum, Column: col("numberofemployees"), Alias: "Total"}},
		wantOrder: []model.Order{{Alias: "City", Desc: true}},
		wantCols: []OutputColumn{
			{Key: "Total", Attr: attr("numberofemployees"), Alias: "Total", Aggregate: model.AggSum},
			{Key: "City", Attr: attr("address1_city"), Alias: "City", GroupBy: true},
		}},
	{name: "date grouping, and group by without alias",
		xml:       `<fetch aggregate='true'><entity name='account'><attribute name='createdon' alias='Year' groupby='true' dategrouping='year' /><attribute name='createdon' alias='FP' groupby='true' dategrouping='fiscal-period' usertimezone='false' /><attribute name='statecode' groupby='true' /><attribute name='accountid' alias='n' aggregate='count' /></entity></fetch>`,
		wantGroup: []model.GroupBy{{Column: col("createdon"), Alias: "Year", DatePart: "year"}, {Column: col("createdon"), Alias: "FP", DatePart: "fiscal-period"}, {Column: col("statecode"), Alias: "statecode"}},
		wantAgg:   []model.Aggregate{{Func: model.AggCount, Alias: "n"}},
		wantCols: []OutputColumn{
			{Key: "Year", Attr: attr("createdon"), Alias: "Year", GroupBy: true, DatePart: "year"},
			{Key: "FP", Attr: attr("createdon"), Alias: "FP", GroupBy: true, DatePart: "fiscal-period"},
			{Key: "statecode", Attr: attr("statecode"), Alias: "statecode", GroupBy: true},
			{Key: "n", Attr: attr("accountid"), Alias: "n", Aggregate: model.AggCount},
		}},
	{name: "group by a linked column",
		xml:       `<fetch aggregate='true'><entity name='account'><attribute name='revenue' alias='r' aggregate='sum' /><link-entity name='contact' from='contactid' to='primarycontactid' alias='pc'><attribute name='lastname' alias='ln' groupby='true' /><attribute name='numberofchildren' alias='kids' aggregate='max' /></link-entity><order alias='r' /></entity></fetch>`,
		wantGroup: []model.GroupBy{{Column: lcol(&model.Link{Alias: "pc", Entity: ent("contact"), From: "contactid", To: "primarycontactid"}, "lastname"), Alias: "ln"}},
		wantAgg: []model.Aggregate{{Func: model.AggSum, Column: col("revenue"), Alias: "r"},
			{Func: model.AggMax, Column: lcol(&model.Link{Alias: "pc", Entity: ent("contact"), From: "contactid", To: "primarycontactid"}, "numberofchildren"), Alias: "kids"}},
		wantOrder: []model.Order{{Alias: "r"}},
		wantCols: []OutputColumn{
			{Key: "r", Attr: attr("revenue"), Alias: "r", Aggregate: model.AggSum},
			{Key: "ln", Link: &model.Link{Alias: "pc", Entity: ent("contact"), From: "contactid", To: "primarycontactid"}, Attr: attr("lastname"), Alias: "ln", GroupBy: true},
			{Key: "kids", Link: &model.Link{Alias: "pc", Entity: ent("contact"), From: "contactid", To: "primarycontactid"}, Attr: attr("numberofchildren"), Alias: "kids", Aggregate: model.AggMax},
		}},
	{name: "aggregates only in a link",
		xml:     `<fetch aggregate='true'><entity name='account'><link-entity name='contact' from='contactid' to='primarycontactid' alias='pc'><attribute name='contactid' alias='n' aggregate='countcolumn' /></link-entity></entity></fetch>`,
		wantAgg: []model.Aggregate{{Func: model.AggCountColumn, Column: lcol(&model.Link{Alias: "pc", Entity: ent("contact"), From: "contactid", To: "primarycontactid"}, "contactid"), Alias: "n"}},
		wantCols: []OutputColumn{
			{Key: "n", Link: &model.Link{Alias: "pc", Entity: ent("contact"), From: "contactid", To: "primarycontactid"}, Attr: attr("contactid"), Alias: "n", Aggregate: model.AggCountColumn},
		}},
}

func TestAggregates(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	for _, tt := range aggregateCases {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f, err := Parse(sch, tt.xml, testEnv)
			if err != nil {
				t.Fatal(err)
			}
			if !f.Aggregate || f.Query.Columns != nil || f.Query.Distinct {
				t.Errorf("aggregate %v columns %v distinct %v", f.Aggregate, f.Query.Columns, f.Query.Distinct)
			}
			if diff := cmp.Diff(tt.wantGroup, f.Query.GroupBy, queryOpts); diff != "" {
				t.Errorf("group by (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantAgg, f.Query.Aggregates, queryOpts); diff != "" {
				t.Errorf("aggregates (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantOrder, f.Query.Order, queryOpts); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCols, f.Columns, queryOpts); diff != "" {
				t.Errorf("columns (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEncodeKey(t *testing.T) {
	t.Parallel()
	if got := EncodeKey("pc", "fullname"); got != "pc_x002e_fullname" {
		t.Errorf("EncodeKey = %q", got)
	}
}

// TestPagingCookie pages with the cookie a previous page would return: the right one positions
// the query after that page's last row; one for another page, or garbage, falls back to skipping.
func TestPagingCookie(t *testing.T) {
	t.Parallel()
	sch := testSchema(t)
	const query = `<fetch count='5' page='%d' paging-cookie='%s'><entity name='account'><attribute name='name' /><order attribute='name' descending='true' /><order attribute='revenue' /></entity></fetch>`
	first, err := Parse(sch, strings.Replace(strings.Replace(query, "%d", "1", 1), "%s", "", 1), testEnv)
	if err != nil {
		t.Fatal(err)
	}
	pos := &model.Position{Values: []any{"Contoso", nil}, ID: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", Page: 1}
	inner := model.EncodePosition(first.Query, pos, "00000000-0000-0000-0000-000000000001")
	tests := []struct {
		name     string
		page     int
		cookie   string
		wantPos  *model.Position
		wantSkip int
	}{
		{"cookie for the page before", 2, inner, pos, 0},
		{"annotation value", 2, model.PagingCookie(inner, 2), pos, 0},
		{"cookie for another page", 3, inner, nil, 10},
		{"no cookie", 2, "", nil, 5},
		{"garbage", 2, "<cookie page='1'><name last='x' /></cookie>", nil, 5},
		{"not XML", 2, "%%%", nil, 5},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			x := strings.Replace(strings.Replace(query, "%d", itoa(tt.page), 1), "%s", html.EscapeString(tt.cookie), 1)
			f, err := Parse(sch, x, testEnv)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantPos, f.Query.After); diff != "" {
				t.Errorf("after (-want +got):\n%s", diff)
			}
			if f.Skip != tt.wantSkip || f.Query.Offset != tt.wantSkip {
				t.Errorf("skip %d offset %d, want %d", f.Skip, f.Query.Offset, tt.wantSkip)
			}
		})
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
