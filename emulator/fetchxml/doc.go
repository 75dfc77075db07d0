// Package fetchxml parses FetchXML, Dataverse's XML query language, into the emulator's one query
// model, model.Query, resolving every name against the schema. It writes no SQL and serves no HTTP:
// the store runs the query and the Web API layer renders the rows.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/fetchxml/overview
//
// # Result names
//
// Parse describes every output column in Fetch.Columns, with the JSON key Dataverse gives it:
//
//   - a root column: its logical name; a lookup column as the Web API names its value,
//     _<name>_value;
//   - a link-entity column: EncodeKey(alias, column), "<alias>_x002e_<column>", the Web API's
//     spelling of "<alias>.<column>". A link-entity without an alias gets "<name><N>", where N
//     is the 1-based position of the link-entity element among all link-entity elements of the
//     query, in document order (the first link to contact is "contact1", as Dataverse names it);
//   - an attribute with an alias: the alias alone, for root and link columns alike;
//   - aggregate queries: the alias of each aggregate or group-by attribute (a group-by attribute
//     without one is keyed as an unaliased column would be).
//
// The Web API also returns the primary key and @odata.etag of every non-aggregate row whether or
// not they were asked for; Columns lists only what the query names, and the renderer adds those.
//
// # Columns
//
// An entity with no attribute element returns every column, as Dataverse does; all-attributes
// does the same, and no-attrs returns only the primary key. A link-entity returns only the
// columns it names. Rows are ordered by the entity's order elements first, then by those of its
// link-entities in document order, as Dataverse does.
//
// # Links
//
// Inner and outer link-entities become model.Link joins (nested ones hang from their parent).
// Link types that only filter become model.Exists tests on the relationship that the from and to
// columns follow (N:1 or 1:N; an intersect entity followed by a link to the other side is the
// N:N relationship):
//
//   - exists, in and any: the row has a related row that matches the link's filter;
//   - not any: it has none;
//   - not all: the same as any: Dataverse documents that, despite its name, "not all" returns
//     parent rows with at least one matching related row;
//   - all: the row has related rows, and none of them matches the link's filter. This is
//     Dataverse's documented behaviour (the filter must be inverted to ask that every related
//     row satisfies a condition); it is not OData's all(), which is also true without related
//     rows.
//
// These link types may stand inside a filter (where they are terms of its and/or) or directly
// under an entity or link-entity (where they restrict it). Inside them, nested inner links
// become nested tests, and outer links, which cannot restrict anything, are dropped.
// matchfirstrowusingcrossapply is an outer join when the link follows a many-to-one relationship
// (at most one related row exists anyway) and is refused otherwise.
//
// # Conditions
//
// Values are converted to the column's value type (model.Row) and refused with Dataverse's
// FormatException message when they do not fit. Dates without a time zone are UTC, the time zone
// of every emulated user.
//
// Every operator is a Dataverse condition operator (operators.go maps the names onto
// model.LookupOperator's table), which builds the condition: the relative date and fiscal
// operators mean exactly what the OData query functions of the same names mean (see
// model/dates.go), so that the same question asked both ways returns the same rows.
// eq-userid, eq-businessid and their negations compare with Env.UserID and Env.BusinessUnitID;
// eq-userteams and eq-useroruserteams test membership in Env.TeamIDs (and the user).
// The emulated user manages nobody, so eq-useroruserhierarchy is eq-userid and
// eq-useroruserhierarchyandteams is eq-useroruserteams. eq-userlanguage compares with 1033. The
// hierarchy operators (under, above, ...) are refused: the fixtures define no hierarchical
// relationships, and neither is rowaggregate='CountChildren'.
//
// # Paging
//
// count is the page size (5,000 when absent, and at most 5,000) and page the 1-based page. A
// paging cookie from the previous page positions Query.After (keyset paging); without a usable
// one, Fetch.Skip says how many rows to skip.
//
// # Errors
//
// Every error is a *dverr.Error with status 400, the Dataverse code where one is known, and the
// byte offset of the element it concerns (of the fault, for malformed XML, whose message also
// gives the line and column).
package fetchxml
