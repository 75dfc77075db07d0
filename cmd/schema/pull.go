package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/contracts"
)

// pullOptions are the flags of pull.
type pullOptions struct {
	out     string
	tables  []string // logical names or wildcards
	custom  bool
	noDeps  bool
	rows    int
	secrets []string // values no written row may contain
}

// choiceTypes are the column types whose options live in the OptionSet navigation property, which
// Dataverse only returns through a cast with $expand.
var choiceTypes = map[string]bool{
	"Microsoft.Dynamics.CRM.PicklistAttributeMetadata":            true,
	"Microsoft.Dynamics.CRM.MultiSelectPicklistAttributeMetadata": true,
	"Microsoft.Dynamics.CRM.StateAttributeMetadata":               true,
	"Microsoft.Dynamics.CRM.StatusAttributeMetadata":              true,
	"Microsoft.Dynamics.CRM.BooleanAttributeMetadata":             true,
}

// pulledTable is one table's definition as it will be written.
type pulledTable struct {
	doc  client.Record
	rels []client.Record // every relationship the table takes part in
}

// pull reads the chosen tables (and, unless noDeps, the tables they point at), their relationships
// and the global option sets, and writes them into o.out.
func pull(ctx context.Context, c *client.Client, o pullOptions, logf func(string, ...any)) error {
	list, _, err := c.ListEntities(ctx, nil)
	if err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	queue, err := choose(list.Entities, o)
	if err != nil {
		return err
	}
	exists := map[string]bool{}
	for _, e := range list.Entities {
		exists[e.LogicalName] = true
	}
	tables := map[string]*pulledTable{}
	order, err := withDependencies(queue, o.noDeps, func(name string) ([]string, error) {
		t, err := pullTable(ctx, c, name)
		if err != nil {
			return nil, err
		}
		tables[name] = t
		logf("pulled %s (%d columns, %d relationships)", name, len(items(t.doc["Attributes"])), len(t.rels))
		var deps []string
		for _, dep := range dependencies(t) {
			if !exists[dep] {
				logf("%s points at %s, which the target does not list; skipped", name, dep)
				continue
			}
			deps = append(deps, dep)
		}
		return deps, nil
	})
	if err != nil {
		return err
	}
	sets, _, err := c.ListGlobalOptionSets(ctx)
	if err != nil {
		return fmt.Errorf("global option sets: %w", err)
	}
	if err := writeSchema(o.out, order, tables, sets); err != nil {
		return err
	}
	if o.rows > 0 {
		if err := pullRows(ctx, c, o, order, tables, logf); err != nil {
			return err
		}
	}
	logf("wrote %d tables and %d global option sets to %s", len(order), len(sets), o.out)
	return nil
}

// withDependencies visits the chosen tables and, unless noDeps, the tables they point at, each
// once, and returns them in the order visited. visit reads a table and returns the tables it
// points at. With noDeps a table pointed at but not chosen is an error naming it.
func withDependencies(queue []string, noDeps bool, visit func(name string) ([]string, error)) ([]string, error) {
	seen := map[string]bool{}
	var order, missing []string
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if seen[name] {
			continue
		}
		seen[name] = true
		order = append(order, name)
		deps, err := visit(name)
		if err != nil {
			return nil, err
		}
		for _, dep := range deps {
			switch {
			case seen[dep] || slices.Contains(queue, dep):
			case noDeps:
				missing = append(missing, fmt.Sprintf("%s (needed by %s)", dep, name))
			default:
				queue = append(queue, dep)
			}
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("--no-deps: the chosen tables point at tables not chosen: %s; choose them too, or leave out --no-deps", strings.Join(missing, ", "))
	}
	return order, nil
}

// choose resolves the table arguments against the target's tables.
func choose(all []client.EntityDefinition, o pullOptions) ([]string, error) {
	var out []string
	add := func(n string) {
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	for _, e := range all {
		if o.custom && e.IsCustomEntity || !o.custom && len(o.tables) == 0 {
			add(e.LogicalName)
		}
	}
	for _, pat := range o.tables {
		pat = strings.ToLower(pat)
		if _, err := path.Match(pat, ""); err != nil {
			return nil, fmt.Errorf("table pattern %q: %w", pat, err)
		}
		n := len(out)
		for _, e := range all {
			if ok, _ := path.Match(pat, e.LogicalName); ok {
				add(e.LogicalName)
			}
		}
		if len(out) == n && !slices.ContainsFunc(all, func(e client.EntityDefinition) bool { ok, _ := path.Match(pat, e.LogicalName); return ok }) {
			return nil, fmt.Errorf("no table matches %q", pat)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no tables chosen")
	}
	return out, nil
}

// pullTable reads a table with its columns (each in full, through its type's cast), keys and
// relationships.
func pullTable(ctx context.Context, c *client.Client, name string) (*pulledTable, error) {
	def, _, err := c.GetEntityMetadata(ctx, name, &client.EntityMetadataOptions{Expand: []client.Expand{{Property: "Attributes"}, {Property: "Keys"}}})
	if err != nil {
		return nil, fmt.Errorf("table %s: %w", name, err)
	}
	doc := clean(def.Raw)
	attrs := items(doc["Attributes"])
	var types []string
	for _, a := range attrs {
		if t, _ := a["@odata.type"].(string); t != "" && !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	full := map[string]client.Record{}
	for _, t := range types {
		typ := strings.TrimPrefix(t, "#")
		opts := &client.QueryAttributesOptions{Type: client.AttributeType(typ)}
		if choiceTypes[typ] {
			opts.Expand = []client.Expand{{Property: "OptionSet"}}
		}
		defs, _, err := c.QueryAttributes(ctx, name, opts)
		if err != nil {
			return nil, fmt.Errorf("table %s: columns of type %s: %w", name, typ, err)
		}
		for _, d := range defs {
			full[d.LogicalName] = clean(d.Raw)
		}
	}
	merged := make([]any, len(attrs))
	for i, a := range attrs {
		if f := full[fmt.Sprint(a["LogicalName"])]; f != nil {
			if _, ok := f["@odata.type"]; !ok {
				f["@odata.type"] = a["@odata.type"]
			}
			a = f
		}
		merged[i] = map[string]any(a)
	}
	doc["Attributes"] = merged
	t := &pulledTable{doc: doc}
	for _, kind := range []client.RelationshipKind{client.OneToManyRelationships, client.ManyToOneRelationships, client.ManyToManyRelationships} {
		rels, _, err := c.ListEntityRelationships(ctx, name, kind)
		if err != nil {
			return nil, fmt.Errorf("table %s: %s: %w", name, kind, err)
		}
		for _, r := range rels {
			t.rels = append(t.rels, clean(r))
		}
	}
	return t, nil
}

// dependencies lists the tables a table points at: lookup targets, the other side and the
// intersect table of its many-to-many relationships.
func dependencies(t *pulledTable) []string {
	var out []string
	add := func(v any) {
		if s, _ := v.(string); s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, a := range items(t.doc["Attributes"]) {
		if ts, ok := a["Targets"].([]any); ok {
			for _, x := range ts {
				add(x)
			}
		}
	}
	for _, r := range t.rels {
		if r["RelationshipType"] == "ManyToManyRelationship" {
			add(r["Entity1LogicalName"])
			add(r["Entity2LogicalName"])
			add(r["IntersectEntityName"])
		}
	}
	return out
}

// relationshipEnds are the tables a relationship joins.
func relationshipEnds(r client.Record) []string {
	if r["RelationshipType"] == "ManyToManyRelationship" {
		return []string{fmt.Sprint(r["Entity1LogicalName"]), fmt.Sprint(r["Entity2LogicalName"])}
	}
	return []string{fmt.Sprint(r["ReferencedEntity"]), fmt.Sprint(r["ReferencingEntity"])}
}

// writeSchema writes entities/, relationships/ and optionsets/. Each relationship whose tables were
// both pulled is written once, in the file of the first of its tables in pull order.
func writeSchema(dir string, order []string, tables map[string]*pulledTable, sets []client.Record) error {
	written := map[string]bool{}
	for _, name := range order {
		t := tables[name]
		if err := writeJSON(filepath.Join(dir, "entities", name+".json"), t.doc); err != nil {
			return err
		}
		var rels []client.Record
		for _, r := range t.rels {
			key := fmt.Sprint(r["SchemaName"])
			ends := relationshipEnds(r)
			if written[key] || tables[ends[0]] == nil || tables[ends[1]] == nil {
				continue
			}
			written[key] = true
			rels = append(rels, r)
		}
		if len(rels) > 0 {
			if err := writeJSON(filepath.Join(dir, "relationships", name+".json"), rels); err != nil {
				return err
			}
		}
	}
	for _, s := range sets {
		if err := writeJSON(filepath.Join(dir, "optionsets", fmt.Sprint(s["Name"])+".json"), clean(s)); err != nil {
			return err
		}
	}
	return nil
}

// clean drops the OData control information that belongs to a response, not to a definition
// (@odata.context, @odata.etag, ...), keeping @odata.type.
func clean(r client.Record) client.Record {
	for k := range r {
		if strings.Contains(k, "@odata.") && !strings.HasSuffix(k, "@odata.type") || strings.HasPrefix(k, "@odata.") && k != "@odata.type" {
			delete(r, k)
		}
	}
	return r
}

// items returns the objects of a JSON array.
func items(v any) []client.Record {
	list, _ := v.([]any)
	out := make([]client.Record, 0, len(list))
	for _, x := range list {
		if m, ok := x.(map[string]any); ok {
			out = append(out, client.Record(m))
		}
	}
	return out
}

// writeJSON writes v as indented JSON, creating the directory.
func writeJSON(file string, v any) error {
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	return os.WriteFile(file, buf.Bytes(), 0o644)
}

// redact applies the contract recorder's redaction to a row.
func redact(r client.Record, secrets []string) client.Record {
	out, _ := contracts.RedactSecrets(map[string]any(r), secrets).(map[string]any)
	return out
}
