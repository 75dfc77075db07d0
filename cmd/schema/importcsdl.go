package main

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/fixtures"
)

// This file turns a $metadata document into compact fixture files (fixtures/README.md, "Compact
// tables"), which the loader expands as it expands hand-written ones. CSDL carries names, Edm
// types, keys and navigation properties; everything else is the expander's default or a choice
// documented in the usage text.

// importOptions are the flags of import-csdl.
type importOptions struct {
	out    string
	tables []string // logical names or wildcards; none means every table
	noDeps bool
}

// compactTable is a table as import-csdl writes it: the subset of the compact format CSDL can fill.
type compactTable struct {
	LogicalName         string                    `json:"logicalName"`
	EntitySetName       string                    `json:"entitySetName,omitempty"`
	ObjectTypeCode      *int                      `json:"objectTypeCode,omitempty"`
	Ownership           string                    `json:"ownership"`
	PrimaryID           string                    `json:"primaryId"`
	PrimaryName         string                    `json:"primaryName,omitempty"`
	IsActivity          bool                      `json:"isActivity,omitempty"`
	IsIntersect         bool                      `json:"isIntersect,omitempty"`
	HasCurrency         bool                      `json:"hasCurrency,omitempty"`
	OmitSystemColumns   []string                  `json:"omitSystemColumns,omitempty"`
	SystemRelationships map[string]compactRelName `json:"systemRelationships,omitempty"`
	Attributes          []compactColumn           `json:"attributes"`
}

type compactRelName struct {
	Name string `json:"name"`
	Nav  string `json:"nav"`
}

type compactColumn struct {
	Name string `json:"name"`
	Type string `json:"type,omitempty"` // empty for a system column: the expander's

	Format    string   `json:"format,omitempty"`
	MaxLength int      `json:"maxLength,omitempty"`
	Precision *int     `json:"precision,omitempty"`
	Targets   []string `json:"targets,omitempty"`
}

type compactRelationship struct {
	Name             string `json:"name"`
	Type             string `json:"type,omitempty"`
	Lookup           string `json:"lookup,omitempty"`
	Target           string `json:"target,omitempty"`
	Nav              string `json:"nav,omitempty"`
	CollectionNav    string `json:"collectionNav,omitempty"`
	Entity1          string `json:"entity1,omitempty"`
	Entity2          string `json:"entity2,omitempty"`
	Intersect        string `json:"intersect,omitempty"`
	Entity1Attribute string `json:"entity1Attribute,omitempty"`
	Entity2Attribute string `json:"entity2Attribute,omitempty"`
	Entity1Nav       string `json:"entity1Nav,omitempty"`
	Entity2Nav       string `json:"entity2Nav,omitempty"`
}

// importedTable is one table converted from an entity type.
type importedTable struct {
	table compactTable
	rels  []compactRelationship // 1:N where it is the many side, N:N where it is entity1
	deps  []string              // tables it cannot load without
}

// Column settings for what CSDL does not say: the largest values Dataverse allows, so that no
// value the tenant accepted is refused.
const (
	importMaxLength        = 4000
	importDecimalPrecision = 10
	importDoublePrecision  = 5
)

// edmColumnType maps an Edm type onto a compact column type and format. skip is true for types
// that are no column the emulator keeps (images and files).
func edmColumnType(edm string) (typ, format string, skip bool, err error) {
	switch edm {
	case "Edm.String":
		return "String", "", false, nil
	case "Edm.Int32":
		return "Integer", "", false, nil
	case "Edm.Int64":
		return "BigInt", "", false, nil
	case "Edm.Decimal":
		return "Decimal", "", false, nil
	case "Edm.Double":
		return "Double", "", false, nil
	case "Edm.Boolean":
		return "Boolean", "", false, nil
	case "Edm.DateTimeOffset":
		return "DateTime", "", false, nil
	case "Edm.Date":
		return "DateTime", "DateOnly", false, nil
	case "Edm.Guid":
		return "Uniqueidentifier", "", false, nil
	case "Edm.Binary", "Edm.Stream":
		return "", "", true, nil
	}
	return "", "", false, fmt.Errorf("unknown Edm type %q (want Edm.String, Edm.Int32, Edm.Int64, Edm.Decimal, Edm.Double, Edm.Boolean, Edm.DateTimeOffset, Edm.Date, Edm.Guid, Edm.Binary or Edm.Stream)", edm)
}

// lookupColumn returns x for a lookup's value property "_x_value".
func lookupColumn(property string) (string, bool) {
	s, ok := strings.CutPrefix(property, "_")
	if !ok {
		return "", false
	}
	s, ok = strings.CutSuffix(s, "_value")
	return s, ok && s != ""
}

// csdlSchema is the document's tables, resolved: keys and properties inherited from base types.
type csdlSchema struct {
	doc    *csdlDocument
	tables map[string]*csdlEntityType // name -> type, tables only
	order  []string                   // document order
}

// tablesOf picks the entity types that are tables (those deriving from crmbaseentity) and
// resolves inherited keys and properties.
func tablesOf(doc *csdlDocument) (*csdlSchema, error) {
	byName := map[string]*csdlEntityType{}
	for _, t := range doc.Types {
		if t.Name == "" {
			return nil, fmt.Errorf("csdl: line %d: entity type without Name", t.Line)
		}
		byName[t.Name] = t
	}
	s := &csdlSchema{doc: doc, tables: map[string]*csdlEntityType{}}
	for _, t := range doc.Types {
		chain, isTable := []*csdlEntityType{t}, false
		for b := unqualify(t.BaseType); b != "" && len(chain) <= len(doc.Types); {
			if b == "crmbaseentity" {
				isTable = true
				break
			}
			base := byName[b]
			if base == nil {
				break
			}
			chain = append(chain, base)
			b = unqualify(base.BaseType)
		}
		if !isTable || t.Abstract {
			continue
		}
		resolved := *t
		for _, base := range chain[1:] {
			if len(resolved.Key) == 0 {
				resolved.Key = base.Key
			}
			for _, p := range base.Properties {
				if !slices.ContainsFunc(resolved.Properties, func(q csdlPropertyElem) bool { return q.Name == p.Name }) {
					resolved.Properties = append(resolved.Properties, p)
				}
			}
		}
		if len(resolved.Key) != 1 {
			return nil, fmt.Errorf("csdl: line %d: entity type %s: want a Key with one PropertyRef, found %d", t.Line, t.Name, len(resolved.Key))
		}
		s.tables[t.Name] = &resolved
		s.order = append(s.order, t.Name)
	}
	if len(s.order) == 0 {
		return nil, fmt.Errorf("csdl: no entity type derives from mscrm.crmbaseentity; is this a Dataverse $metadata document?")
	}
	return s, nil
}

// property returns a table's property of the name.
func (t *csdlEntityType) property(name string) (csdlPropertyElem, bool) {
	i := slices.IndexFunc(t.Properties, func(p csdlPropertyElem) bool { return p.Name == name })
	if i < 0 {
		return csdlPropertyElem{}, false
	}
	return t.Properties[i], true
}

// nav returns a table's navigation property of the name.
func (t *csdlEntityType) nav(name string) (csdlNavigation, bool) {
	i := slices.IndexFunc(t.Navs, func(n csdlNavigation) bool { return n.Name == name })
	if i < 0 {
		return csdlNavigation{}, false
	}
	return t.Navs[i], true
}

// intersectFor finds the intersect table of a many-to-many relationship between two tables: a
// table without navigation properties whose only columns are its key and the two tables' keys.
func (s *csdlSchema) intersectFor(a, b *csdlEntityType) string {
	ka, kb := a.Key[0].Name, b.Key[0].Name
	if ka == kb {
		return ""
	}
	for _, name := range s.order {
		t := s.tables[name]
		// An intersect table holds its key and the two keys it links, and Dataverse's own add
		// versionnumber (systemuserroles).
		n := len(t.Properties)
		if _, ok := t.property("versionnumber"); ok {
			n--
		}
		if len(t.Navs) > 0 || n != 3 {
			continue
		}
		if _, ok := t.property(ka); !ok {
			continue
		}
		if _, ok := t.property(kb); ok {
			return name
		}
	}
	return ""
}

// builtinCodes are the object type codes of the built-in tables; a standard table needs one and
// CSDL has none. Loading the built-in set is slow, so it happens once.
var builtinCodes = sync.OnceValue(func() map[string]int {
	out := map[string]int{}
	set, err := fixtures.Default()
	if err != nil {
		return out
	}
	for _, raw := range set.Entities {
		var e struct {
			LogicalName    string
			ObjectTypeCode int
		}
		if json.Unmarshal(raw, &e) == nil {
			out[e.LogicalName] = e.ObjectTypeCode
		}
	}
	return out
})

// convert turns every table of the document into a compact table.
func (s *csdlSchema) convert(logf func(string, ...any)) (map[string]*importedTable, error) {
	intersects := map[string]bool{}
	for _, name := range s.order {
		t := s.tables[name]
		for _, n := range t.Navs {
			if other, ok := s.manyToMany(t, n); ok {
				if i := s.intersectFor(t, other); i != "" {
					intersects[i] = true
				}
			}
		}
	}
	codes := builtinCodes()
	out := map[string]*importedTable{}
	for _, name := range s.order {
		it, err := s.convertTable(s.tables[name], intersects[name], codes, logf)
		if err != nil {
			return nil, err
		}
		out[name] = it
	}
	return out, nil
}

// manyToMany returns the other table of a collection-valued navigation property whose partner is
// collection-valued too.
func (s *csdlSchema) manyToMany(t *csdlEntityType, n csdlNavigation) (*csdlEntityType, bool) {
	target, coll := n.target()
	other := s.tables[target]
	if !coll || other == nil || n.Partner == "" {
		return nil, false
	}
	p, ok := other.nav(n.Partner)
	if !ok {
		return nil, false
	}
	back, pcoll := p.target()
	return other, pcoll && back == t.Name
}

// convertTable converts one entity type.
func (s *csdlSchema) convertTable(t *csdlEntityType, intersect bool, codes map[string]int, logf func(string, ...any)) (*importedTable, error) {
	where := fmt.Sprintf("csdl: line %d: entity type %s", t.Line, t.Name)
	key := t.Key[0].Name
	kp, ok := t.property(key)
	if !ok {
		return nil, fmt.Errorf("%s: key %s is not a Property", where, key)
	}
	if kp.Type != "Edm.Guid" {
		return nil, fmt.Errorf("%s: key %s is %s; a Dataverse table's primary key is Edm.Guid", where, key, kp.Type)
	}
	ct := compactTable{LogicalName: t.Name, EntitySetName: s.doc.Sets[t.Name], PrimaryID: key, IsIntersect: intersect}
	if !strings.Contains(t.Name, "_") || intersect {
		code, ok := codes[t.Name]
		if !ok {
			h := fnv.New32a()
			h.Write([]byte(t.Name))
			code = 60000 + int(h.Sum32()%10000)
		}
		ct.ObjectTypeCode = &code
	}
	it := &importedTable{}
	addDep := func(d string) {
		if d != t.Name && !slices.Contains(it.deps, d) {
			it.deps = append(it.deps, d)
		}
	}

	// Lookups: a single-valued navigation property with a referential constraint on _x_value.
	type lookupNav struct{ target, nav, partner string }
	lookups := map[string][]lookupNav{}
	for _, n := range t.Navs {
		target, coll := n.target()
		if coll || len(n.Constraints) != 1 {
			continue
		}
		col, ok := lookupColumn(n.Constraints[0].Property)
		if !ok {
			return nil, fmt.Errorf("%s: navigation property %s: referential constraint on %q, want a _column_value property", where, n.Name, n.Constraints[0].Property)
		}
		if s.tables[target] == nil {
			logf("%s.%s points at %s, which the document does not define as a table; left out", t.Name, n.Name, target)
			continue
		}
		lookups[col] = append(lookups[col], lookupNav{target, n.Name, n.Partner})
	}

	present, lookupPresent := map[string]bool{}, map[string]bool{}
	for _, p := range t.Properties {
		col, isLookup := lookupColumn(p.Name)
		if !isLookup {
			col = p.Name
		}
		present[col] = true
		lookupPresent[col] = isLookup
	}
	// System columns take their Dataverse types and relationships from the expander; ownership
	// and currency decide which it adds, and the rest are omitted. A column with a system name
	// that the ownership does not give (organizationid on a user-owned queue) is an ordinary one.
	switch {
	case intersect:
		ct.Ownership = "None"
	case present["ownerid"]:
		ct.Ownership = "UserOwned"
	case lookupPresent["organizationid"]:
		// A plain Edm.Guid organizationid (uom, systemuser) is an ordinary column.
		ct.Ownership = "OrganizationOwned"
	default:
		ct.Ownership = "None"
	}
	systemNames := map[string]bool{}
	if !intersect {
		ct.HasCurrency = present["transactioncurrencyid"]
		for _, c := range fixtures.SystemColumns(ct.Ownership, ct.HasCurrency) {
			systemNames[c] = true
		}
	}
	var system []string
	for _, p := range t.Properties {
		col, isLookup := lookupColumn(p.Name)
		if !isLookup {
			col = p.Name
		}
		if systemNames[col] {
			// Named without a type, the column keeps its place and takes everything else from
			// the expander's template.
			system = append(system, col)
			ct.Attributes = append(ct.Attributes, compactColumn{Name: col})
			continue
		}
		if isLookup {
			navs := lookups[col]
			if len(navs) == 0 {
				logf("%s.%s has no navigation property to a table in the document; left out", t.Name, p.Name)
				continue
			}
			c := compactColumn{Name: col, Type: "Lookup"}
			for _, n := range navs {
				c.Targets = append(c.Targets, n.target)
				addDep(n.target)
				name, collNav := n.partner, n.partner
				if name == "" {
					name, collNav = n.target+"_"+t.Name+"_"+col, ""
				}
				it.rels = append(it.rels, compactRelationship{Name: name, Lookup: t.Name + "." + col, Target: n.target, Nav: n.nav, CollectionNav: collNav})
			}
			if slices.Equal(c.Targets, []string{"account", "contact"}) || slices.Equal(c.Targets, []string{"contact", "account"}) {
				c.Type = "Customer"
			}
			ct.Attributes = append(ct.Attributes, c)
			continue
		}
		typ, format, skip, err := edmColumnType(p.Type)
		if err != nil {
			return nil, fmt.Errorf("%s: property %s: %w", where, p.Name, err)
		}
		if skip {
			logf("%s.%s is %s, which the emulator does not keep; left out", t.Name, p.Name, p.Type)
			continue
		}
		c := compactColumn{Name: col, Type: typ, Format: format}
		switch typ {
		case "String":
			c.MaxLength = importMaxLength
		case "Decimal":
			c.Precision = ptrTo(importDecimalPrecision)
		case "Double":
			c.Precision = ptrTo(importDoublePrecision)
		}
		ct.Attributes = append(ct.Attributes, c)
	}

	if !intersect {
		for _, c := range fixtures.SystemColumns(ct.Ownership, ct.HasCurrency) {
			if !present[c] {
				ct.OmitSystemColumns = append(ct.OmitSystemColumns, c)
			}
		}
		for _, col := range system {
			if navs := lookups[col]; len(navs) > 0 && navs[0].partner != "" {
				if ct.SystemRelationships == nil {
					ct.SystemRelationships = map[string]compactRelName{}
				}
				ct.SystemRelationships[col] = compactRelName{Name: navs[0].partner, Nav: navs[0].nav}
			}
			for _, n := range lookups[col] {
				addDep(n.target)
			}
		}
		ct.IsActivity = key == "activityid"
		ct.PrimaryName = primaryName(t)
		if ct.PrimaryName == "" {
			return nil, fmt.Errorf("%s: no Edm.String property to serve as the primary name column", where)
		}
	}

	// Many-to-many relationships, written by the side whose name sorts first.
	for _, n := range t.Navs {
		other, ok := s.manyToMany(t, n)
		if !ok || other.Name < t.Name || other.Name == t.Name && n.Partner < n.Name {
			continue
		}
		inter := s.intersectFor(t, other)
		if inter == "" {
			logf("%s.%s: no intersect table for the many-to-many relationship in the document; left out", t.Name, n.Name)
			continue
		}
		it.rels = append(it.rels, compactRelationship{Name: n.Name, Type: "ManyToMany", Entity1: t.Name, Entity2: other.Name,
			Intersect: inter, Entity1Attribute: t.Key[0].Name, Entity2Attribute: other.Key[0].Name, Entity1Nav: n.Name, Entity2Nav: n.Partner})
		addDep(other.Name)
		addDep(inter)
	}
	it.table = ct
	return it, nil
}

func ptrTo[T any](v T) *T { return &v }

// primaryName guesses the primary name column, which CSDL does not mark: the first of
// <prefix>_name, name, fullname, subject, title, then the first string column whose name ends in
// "name", then the first string column.
func primaryName(t *csdlEntityType) string {
	var candidates []string
	if prefix, _, ok := strings.Cut(t.Name, "_"); ok {
		candidates = append(candidates, prefix+"_name")
	}
	candidates = append(candidates, "name", "fullname", "subject", "title")
	for _, c := range candidates {
		if p, ok := t.property(c); ok && p.Type == "Edm.String" {
			return c
		}
	}
	first := ""
	for _, p := range t.Properties {
		if p.Type != "Edm.String" || fixtures.IsSystemColumn(p.Name) {
			continue
		}
		if strings.HasSuffix(p.Name, "name") {
			return p.Name
		}
		if first == "" {
			first = p.Name
		}
	}
	return first
}

// importCSDL converts the document and writes the chosen tables, and the tables they point at,
// into o.out.
func importCSDL(doc *csdlDocument, o importOptions, logf func(string, ...any)) error {
	s, err := tablesOf(doc)
	if err != nil {
		return err
	}
	all, err := s.convert(logf)
	if err != nil {
		return err
	}
	defs := make([]client.EntityDefinition, len(s.order))
	for i, name := range s.order {
		defs[i] = client.EntityDefinition{LogicalName: name}
	}
	queue, err := choose(defs, pullOptions{tables: o.tables})
	if err != nil {
		return err
	}
	order, err := withDependencies(queue, o.noDeps, func(name string) ([]string, error) { return all[name].deps, nil })
	if err != nil {
		return err
	}
	chosen := map[string]bool{}
	for _, name := range order {
		chosen[name] = true
	}
	slices.Sort(order)
	for _, name := range order {
		it := all[name]
		if err := writeJSON(filepath.Join(o.out, "entities", name+".json"), it.table); err != nil {
			return err
		}
		var rels []compactRelationship
		for _, r := range it.rels {
			if chosen[r.Target] || chosen[r.Entity2] {
				rels = append(rels, r)
			}
		}
		if len(rels) > 0 {
			if err := writeJSON(filepath.Join(o.out, "relationships", name+".json"), rels); err != nil {
				return err
			}
		}
	}
	logf("wrote %d tables to %s", len(order), o.out)
	return nil
}
