package webapi

import (
	"encoding/json"
	"encoding/xml"
	"sort"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/fetchxml"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// The QueryExpression complex type as an operation parameter (BulkDelete's QuerySet), read into
// the emulator's query model. The expression is written as the FetchXML query it stands for and
// read by the FetchXML parser, so both share one set of operators, value checks and errors.
//
// Supported: EntityName, Criteria (FilterOperator And/Or, Conditions, nested Filters) with
// conditions on the query's own table, and TopCount. ColumnSet, Orders, PageInfo, Distinct and
// NoLock are accepted and have no effect on which rows match. LinkEntities, conditions on
// another table (EntityName), CompareColumns and any other member are refused.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/queryexpression

// conditionOperators maps ConditionOperator member names to FetchXML operators.
var conditionOperators = map[string]string{
	"Equal": "eq", "NotEqual": "ne", "GreaterThan": "gt", "GreaterEqual": "ge", "LessThan": "lt", "LessEqual": "le",
	"Like": "like", "NotLike": "not-like", "BeginsWith": "begins-with", "DoesNotBeginWith": "not-begin-with",
	"EndsWith": "ends-with", "DoesNotEndWith": "not-end-with", "In": "in", "NotIn": "not-in",
	"Between": "between", "NotBetween": "not-between", "Null": "null", "NotNull": "not-null",
	"EqualUserId": "eq-userid", "NotEqualUserId": "ne-userid", "EqualUserTeams": "eq-userteams",
	"EqualUserOrUserTeams": "eq-useroruserteams", "EqualBusinessId": "eq-businessid", "NotEqualBusinessId": "ne-businessid",
	"ContainValues": "contain-values", "DoesNotContainValues": "not-contain-values",
	"Yesterday": "yesterday", "Today": "today", "Tomorrow": "tomorrow", "Last7Days": "last-seven-days",
	"Next7Days": "next-seven-days", "LastWeek": "last-week", "ThisWeek": "this-week", "NextWeek": "next-week",
	"LastMonth": "last-month", "ThisMonth": "this-month", "NextMonth": "next-month", "LastYear": "last-year",
	"ThisYear": "this-year", "NextYear": "next-year", "On": "on", "OnOrBefore": "on-or-before", "OnOrAfter": "on-or-after",
	"LastXHours": "last-x-hours", "NextXHours": "next-x-hours", "LastXDays": "last-x-days", "NextXDays": "next-x-days",
	"LastXWeeks": "last-x-weeks", "NextXWeeks": "next-x-weeks", "LastXMonths": "last-x-months", "NextXMonths": "next-x-months",
	"LastXYears": "last-x-years", "NextXYears": "next-x-years",
	"OlderThanXMinutes": "olderthan-x-minutes", "OlderThanXHours": "olderthan-x-hours", "OlderThanXDays": "olderthan-x-days",
	"OlderThanXWeeks": "olderthan-x-weeks", "OlderThanXMonths": "olderthan-x-months", "OlderThanXYears": "olderthan-x-years",
}

// queryExpression reads the i-th QueryExpression of a parameter into a query that reads the
// primary keys of the rows it matches.
func queryExpression(sch *model.Schema, v any, i int, env model.Env) (*model.Query, error) {
	q, ok := v.(map[string]any)
	if !ok {
		return nil, errParam("The query %d of the parameter 'QuerySet' must be a QueryExpression object.", i)
	}
	if err := onlyMembers(q, i, "EntityName", "ColumnSet", "Criteria", "Orders", "PageInfo", "Distinct", "NoLock", "TopCount", "LinkEntities"); err != nil {
		return nil, err
	}
	if t, ok := q["@odata.type"].(string); ok && strings.TrimPrefix(strings.TrimPrefix(t, "#"), crmNamespace) != "QueryExpression" {
		return nil, errParam("The query %d of the parameter 'QuerySet' must be a QueryExpression; '%s' is not supported.", i, t)
	}
	name, _ := q["EntityName"].(string)
	if name == "" {
		return nil, errParam("The query %d of the parameter 'QuerySet' must name its table in 'EntityName'.", i)
	}
	if links, ok := q["LinkEntities"].([]any); ok && len(links) > 0 || q["LinkEntities"] != nil && !ok {
		return nil, errParam("The query %d of the parameter 'QuerySet' uses LinkEntities, which the emulator does not support in a QuerySet.", i)
	}
	var b strings.Builder
	b.WriteString("<fetch")
	if t, ok := q["TopCount"].(json.Number); ok {
		if n, err := t.Int64(); err != nil || n < 1 {
			return nil, errParam("The query %d of the parameter 'QuerySet' has a TopCount that is not a positive integer.", i)
		}
		b.WriteString(` top=` + xmlAttr(t.String()))
	} else if q["TopCount"] != nil {
		return nil, errParam("The query %d of the parameter 'QuerySet' has a TopCount that is not a positive integer.", i)
	}
	b.WriteString("><entity name=" + xmlAttr(name) + ">")
	if c := q["Criteria"]; c != nil {
		if err := writeFilter(&b, c, i, 0); err != nil {
			return nil, err
		}
	}
	b.WriteString("</entity></fetch>")
	f, err := fetchxml.Parse(sch, b.String(), env)
	if err != nil {
		return nil, err
	}
	mq := f.Query
	mq.Columns = []*model.Attribute{mq.Entity.PrimaryID()}
	mq.Order = nil
	mq.PageSize = 0
	mq.Offset = 0
	return mq, nil
}

// onlyMembers refuses members of a complex value other than the allowed ones and annotations.
func onlyMembers(obj map[string]any, i int, allowed ...string) error {
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if strings.HasPrefix(k, "@") || containsString(allowed, k) {
			continue
		}
		return errParam("The query %d of the parameter 'QuerySet' has the member '%s', which the emulator does not support.", i, k)
	}
	return nil
}

// writeFilter writes a FilterExpression as a FetchXML filter.
func writeFilter(b *strings.Builder, v any, i, depth int) error {
	f, ok := v.(map[string]any)
	if !ok || depth > 32 {
		return errParam("The query %d of the parameter 'QuerySet' has a filter that is not a FilterExpression object.", i)
	}
	if err := onlyMembers(f, i, "FilterOperator", "Conditions", "Filters", "IsQuickFindFilter", "FilterHint"); err != nil {
		return err
	}
	kind := "and"
	switch op := f["FilterOperator"].(type) {
	case nil:
	case string:
		switch op {
		case "And":
		case "Or":
			kind = "or"
		default:
			return errParam("The query %d of the parameter 'QuerySet' has the filter operator '%s'; use And or Or.", i, op)
		}
	case json.Number:
		switch op.String() {
		case "0":
		case "1":
			kind = "or"
		default:
			return errParam("The query %d of the parameter 'QuerySet' has the filter operator '%s'; use And or Or.", i, op)
		}
	default:
		return errParam("The query %d of the parameter 'QuerySet' has a filter operator that is not a LogicalOperator.", i)
	}
	b.WriteString("<filter type=" + xmlAttr(kind) + ">")
	conds, ok := f["Conditions"].([]any)
	if !ok && f["Conditions"] != nil {
		return errParam("The query %d of the parameter 'QuerySet' has Conditions that are not a collection.", i)
	}
	for _, c := range conds {
		if err := writeCondition(b, c, i); err != nil {
			return err
		}
	}
	subs, ok := f["Filters"].([]any)
	if !ok && f["Filters"] != nil {
		return errParam("The query %d of the parameter 'QuerySet' has Filters that are not a collection.", i)
	}
	for _, sub := range subs {
		if err := writeFilter(b, sub, i, depth+1); err != nil {
			return err
		}
	}
	b.WriteString("</filter>")
	return nil
}

// writeCondition writes a ConditionExpression as a FetchXML condition. Values are Object complex
// values ({"Type": "System.String", "Value": "..."}) or plain JSON values.
func writeCondition(b *strings.Builder, v any, i int) error {
	c, ok := v.(map[string]any)
	if !ok {
		return errParam("The query %d of the parameter 'QuerySet' has a condition that is not a ConditionExpression object.", i)
	}
	if err := onlyMembers(c, i, "AttributeName", "Operator", "Values", "EntityName", "CompareColumns"); err != nil {
		return err
	}
	if en, _ := c["EntityName"].(string); en != "" {
		return errParam("The query %d of the parameter 'QuerySet' has a condition on the linked table '%s', which the emulator does not support in a QuerySet.", i, en)
	}
	if cc, _ := c["CompareColumns"].(bool); cc {
		return errParam("The query %d of the parameter 'QuerySet' compares columns, which the emulator does not support in a QuerySet.", i)
	}
	attr, _ := c["AttributeName"].(string)
	if attr == "" {
		return errParam("The query %d of the parameter 'QuerySet' has a condition without 'AttributeName'.", i)
	}
	opName, ok := c["Operator"].(string)
	if !ok {
		return errParam("The query %d of the parameter 'QuerySet' has a condition on '%s' whose Operator is not a ConditionOperator name.", i, attr)
	}
	op, ok := conditionOperators[opName]
	if !ok {
		return errParam("The query %d of the parameter 'QuerySet' uses the condition operator '%s', which the emulator does not support in a QuerySet.", i, opName)
	}
	vals, ok := c["Values"].([]any)
	if !ok && c["Values"] != nil {
		return errParam("The query %d of the parameter 'QuerySet' has Values that are not a collection.", i)
	}
	texts := make([]string, 0, len(vals))
	for _, x := range vals {
		if obj, ok := x.(map[string]any); ok {
			x = obj["Value"]
		}
		switch t := x.(type) {
		case string:
			texts = append(texts, t)
		case json.Number:
			texts = append(texts, t.String())
		case bool:
			if t {
				texts = append(texts, "1")
			} else {
				texts = append(texts, "0")
			}
		default:
			return errParam("The query %d of the parameter 'QuerySet' has a value for '%s' that is not a string, number or boolean.", i, attr)
		}
	}
	b.WriteString("<condition attribute=" + xmlAttr(attr) + " operator=" + xmlAttr(op))
	if len(texts) == 1 && op != "in" && op != "not-in" && op != "between" && op != "not-between" {
		b.WriteString(" value=" + xmlAttr(texts[0]) + "/>")
		return nil
	}
	b.WriteString(">")
	for _, t := range texts {
		b.WriteString("<value>")
		_ = xml.EscapeText(b, []byte(t))
		b.WriteString("</value>")
	}
	b.WriteString("</condition>")
	return nil
}

// xmlAttr quotes an XML attribute value.
func xmlAttr(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	_ = xml.EscapeText(&b, []byte(s))
	b.WriteByte('"')
	return b.String()
}
