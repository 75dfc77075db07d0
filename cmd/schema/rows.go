package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dynlocal/dynlocal/client"
)

// lookupTypes are the column types whose values are references to other rows.
var lookupTypes = map[string]bool{"Lookup": true, "Customer": true, "Owner": true}

// tableRows are the rows read from one table, before references are resolved.
type tableRows struct {
	set     string
	records []client.Record
	binds   []map[string]reference // per record: navigation property -> reference
}

type reference struct{ table, id string }

// pullRows copies up to o.rows rows of every pulled table into rows/NN-<entityset>.json, as a
// client would POST them: only columns valid for read and create (and createdon, modifiedon), with
// the recorder's secrets redacted, and lookups as @odata.bind references to rows that were copied
// too (a reference to a row left behind would not load).
func pullRows(ctx context.Context, c *client.Client, o pullOptions, order []string, tables map[string]*pulledTable, logf func(string, ...any)) error {
	pulled := map[string]*tableRows{}
	ids := map[reference]bool{}
	for _, name := range order {
		t := tables[name]
		set, _ := t.doc["EntitySetName"].(string)
		if set == "" || t.doc["IsIntersect"] == true {
			// Intersect rows are links, written as associations on the related tables' rows.
			continue
		}
		tr, err := readRows(ctx, c, t, o)
		if err != nil {
			return fmt.Errorf("rows of %s: %w", name, err)
		}
		pk, _ := t.doc["PrimaryIdAttribute"].(string)
		for _, r := range tr.records {
			ids[reference{name, fmt.Sprint(r[pk])}] = true
		}
		pulled[name] = tr
		logf("read %d rows of %s", len(tr.records), set)
	}
	for i, name := range order {
		tr := pulled[name]
		if tr == nil || len(tr.records) == 0 {
			continue
		}
		for j, r := range tr.records {
			for nav, ref := range tr.binds[j] {
				if ids[ref] {
					r[nav+"@odata.bind"] = "/" + fmt.Sprint(tables[ref.table].doc["EntitySetName"]) + "(" + ref.id + ")"
				}
			}
		}
		file := filepath.Join(o.out, "rows", fmt.Sprintf("%03d-%s.json", i+1, tr.set))
		if err := writeJSON(file, tr.records); err != nil {
			return err
		}
	}
	return nil
}

// readRows reads the rows of one table with the columns a fixture row may hold.
func readRows(ctx context.Context, c *client.Client, t *pulledTable, o pullOptions) (*tableRows, error) {
	pk, _ := t.doc["PrimaryIdAttribute"].(string)
	navs := map[string]map[string]string{} // lookup column -> target table -> navigation property
	for _, r := range t.rels {
		if r["RelationshipType"] == "OneToManyRelationship" && r["ReferencingEntity"] == t.doc["LogicalName"] {
			col := fmt.Sprint(r["ReferencingAttribute"])
			if navs[col] == nil {
				navs[col] = map[string]string{}
			}
			navs[col][fmt.Sprint(r["ReferencedEntity"])] = fmt.Sprint(r["ReferencingEntityNavigationPropertyName"])
		}
	}
	var cols, lookups []string
	for _, a := range items(t.doc["Attributes"]) {
		name := fmt.Sprint(a["LogicalName"])
		typ := fmt.Sprint(a["AttributeType"])
		read := a["IsValidForRead"] == true
		create := a["IsValidForCreate"] == true || name == "createdon" || name == "modifiedon"
		switch {
		case name == pk:
			cols = append(cols, name)
		case !read || !create || a["AttributeOf"] != nil && a["AttributeOf"] != "":
		case lookupTypes[typ]:
			lookups = append(lookups, name)
		case typ == "Virtual" && a["@odata.type"] != "#Microsoft.Dynamics.CRM.MultiSelectPicklistAttributeMetadata":
		default:
			cols = append(cols, name)
		}
	}
	page, _, err := c.QueryRecords(ctx, fmt.Sprint(t.doc["EntitySetName"]), &client.QueryOptions{
		Select: append(append([]string{}, cols...), lookups...), Top: o.rows,
		IncludeAnnotations: "Microsoft.Dynamics.CRM.lookuplogicalname",
	})
	if err != nil {
		return nil, err
	}
	tr := &tableRows{set: fmt.Sprint(t.doc["EntitySetName"])}
	for _, rec := range page.Records {
		out := client.Record{}
		for _, col := range cols {
			if v, ok := rec[col]; ok && v != nil {
				out[col] = v
			}
		}
		binds := map[string]reference{}
		for _, col := range lookups {
			id, _ := rec["_"+col+"_value"].(string)
			target, _ := rec["_"+col+"_value@Microsoft.Dynamics.CRM.lookuplogicalname"].(string)
			if nav := navs[col][target]; id != "" && nav != "" {
				binds[nav] = reference{target, strings.ToLower(id)}
			}
		}
		tr.records = append(tr.records, redact(out, o.secrets))
		tr.binds = append(tr.binds, binds)
	}
	return tr, nil
}
