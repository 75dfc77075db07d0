package store

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// PutMetadata stores entity documents (EntityMetadata with Attributes and Keys embedded) and
// relationship documents, creating each entity's table or adding the columns it lacks, then
// rebuilds the schema this transaction (and, after Commit, the store) works with.
func (t *Tx) PutMetadata(entities, relationships []json.RawMessage) error {
	if err := t.mustWrite(); err != nil {
		return err
	}
	var seq int
	if err := t.query().QueryRowContext(t.ctx, `SELECT COALESCE(MAX(seq), 0) FROM "_meta_entity"`).Scan(&seq); err != nil {
		return fmt.Errorf("store: put metadata: %w", err)
	}
	for _, doc := range entities {
		e, err := model.ParseEntity(doc)
		if err != nil {
			return err
		}
		seq++
		if err := t.putEntity(e, seq); err != nil {
			return err
		}
	}
	for _, doc := range relationships {
		r, err := model.ParseRelationship(doc)
		if err != nil {
			return err
		}
		facts, err := r.Facts()
		if err != nil {
			return fmt.Errorf("store: put relationship %s: %w", r.SchemaName, err)
		}
		if _, err := t.execStmt(`INSERT INTO "_meta_relationship" (schemaname, metadataid, doc, facts) VALUES (?, ?, ?, ?)
			ON CONFLICT (schemaname) DO UPDATE SET metadataid = excluded.metadataid, doc = excluded.doc, facts = excluded.facts`,
			r.SchemaName, r.MetadataID, string(doc), facts); err != nil {
			return fmt.Errorf("store: put relationship %s: %w", r.SchemaName, err)
		}
	}
	if _, err := t.execStmt(`UPDATE "_dynlocal" SET value = value + 1 WHERE key = 'schemaversion'`); err != nil {
		return fmt.Errorf("store: put metadata: %w", err)
	}
	sch, err := loadSchema(t.ctx, t.query())
	if err != nil {
		return err
	}
	// Index lookup columns now that relationships are known.
	for _, e := range sch.Entities() {
		if err := t.ensureIndexes(e); err != nil {
			return err
		}
	}
	t.schema = sch
	t.schemaDirty = true
	return nil
}

func (t *Tx) putEntity(e *model.Entity, seq int) error {
	bare, err := withoutMembers(e.Raw, "Attributes", "Keys")
	if err != nil {
		return fmt.Errorf("store: entity %s: %w", e.LogicalName, err)
	}
	var existing int
	if err := t.query().QueryRowContext(t.ctx, `SELECT seq FROM "_meta_entity" WHERE logicalname = ?`, e.LogicalName).Scan(&existing); err == nil {
		seq = existing
	}
	// The columns are kept packed beside the table (loadSchema); their rows name them, with no
	// document.
	packed, err := model.PackAttributes(e.Attributes)
	if err != nil {
		return fmt.Errorf("store: put entity %s: %w", e.LogicalName, err)
	}
	if _, err := t.execStmt(`INSERT INTO "_meta_entity" (logicalname, entitysetname, metadataid, seq, doc, attrs) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (logicalname) DO UPDATE SET entitysetname = excluded.entitysetname, metadataid = excluded.metadataid, doc = excluded.doc, attrs = excluded.attrs`,
		e.LogicalName, e.EntitySetName, e.MetadataID, seq, string(bare), packed); err != nil {
		return fmt.Errorf("store: put entity %s: %w", e.LogicalName, err)
	}
	if _, err := t.execStmt(`DELETE FROM "_meta_attribute" WHERE entity = ?`, e.LogicalName); err != nil {
		return fmt.Errorf("store: put entity %s: %w", e.LogicalName, err)
	}
	for i, a := range e.Attributes {
		if _, err := t.execStmt(`INSERT INTO "_meta_attribute" (entity, logicalname, metadataid, seq, doc) VALUES (?, ?, ?, ?, '')`,
			e.LogicalName, a.LogicalName, a.MetadataID, i); err != nil {
			return fmt.Errorf("store: put attribute %s.%s: %w", e.LogicalName, a.LogicalName, err)
		}
	}
	for _, k := range e.Keys {
		if _, err := t.execStmt(`INSERT INTO "_meta_key" (entity, logicalname, metadataid, doc) VALUES (?, ?, ?, ?)
			ON CONFLICT (entity, logicalname) DO UPDATE SET metadataid = excluded.metadataid, doc = excluded.doc`,
			e.LogicalName, k.LogicalName, k.MetadataID, string(k.Raw)); err != nil {
			return fmt.Errorf("store: put key %s.%s: %w", e.LogicalName, k.LogicalName, err)
		}
	}
	return t.ensureTable(e)
}

// columns lists the SQL columns of an entity's table: name and type.
func columns(e *model.Entity) [][2]string {
	var cols [][2]string
	for _, a := range e.Attributes {
		if !a.Stored() || a.LogicalName == "versionnumber" {
			continue
		}
		typ := sqlType(a)
		if a.LogicalName == e.PrimaryIDAttribute {
			typ = "TEXT NOT NULL PRIMARY KEY"
		}
		cols = append(cols, [2]string{a.LogicalName, typ})
		if a.IsPolymorphic() {
			cols = append(cols, [2]string{typeColumn(a), "TEXT"})
		}
	}
	// Every table keeps a row version, whether or not metadata exposes it.
	cols = append(cols, [2]string{"versionnumber", "INTEGER NOT NULL DEFAULT 0"})
	return cols
}

// ensureTable creates the entity's table, or adds the columns an existing table lacks.
func (t *Tx) ensureTable(e *model.Entity) error {
	have := map[string]bool{}
	rows, err := t.query().QueryContext(t.ctx, `SELECT name FROM pragma_table_info(?)`, e.LogicalName)
	if err != nil {
		return fmt.Errorf("store: table info %s: %w", e.LogicalName, err)
	}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		have[n] = true
	}
	rows.Close()
	cols := columns(e)
	if len(have) == 0 {
		var b strings.Builder
		b.WriteString("CREATE TABLE " + quote(e.LogicalName) + " (")
		for i, c := range cols {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quote(c[0]) + " " + c[1])
		}
		b.WriteString(")")
		if _, err := t.execStmt(b.String()); err != nil {
			return fmt.Errorf("store: create table %s: %w", e.LogicalName, err)
		}
	} else {
		for _, c := range cols {
			if have[c[0]] {
				continue
			}
			typ := c[1]
			if strings.Contains(typ, "PRIMARY KEY") {
				return fmt.Errorf("store: table %s: cannot change the primary key", e.LogicalName)
			}
			if _, err := t.execStmt("ALTER TABLE " + quote(e.LogicalName) + " ADD COLUMN " + quote(c[0]) + " " + typ); err != nil {
				return fmt.Errorf("store: add column %s.%s: %w", e.LogicalName, c[0], err)
			}
		}
	}
	return nil
}

// ensureIndexes indexes lookup columns (so joins and filters on them never scan), the primary
// name, created and modified dates, and alternate keys (unique, as Dataverse enforces them).
func (t *Tx) ensureIndexes(e *model.Entity) error {
	table := quote(e.LogicalName)
	for _, a := range e.Attributes {
		if !a.Stored() {
			continue
		}
		// Lookups (joins and filters on them), the primary name (the usual sort and search
		// column, which Dataverse indexes too) and modifiedon (change polling).
		if a.IsLookup() || a.IsPrimaryName || a.LogicalName == e.PrimaryNameAttribute || a.LogicalName == "modifiedon" || a.LogicalName == "createdon" {
			idx := quote("ix_" + e.LogicalName + "_" + a.LogicalName)
			// A standard table has dozens of lookups, most of them empty in most rows; a partial
			// index leaves the empty ones out, so an insert does not pay for every lookup, and
			// SQLite still uses it for col = ? (which implies col IS NOT NULL).
			partial := ""
			if a.IsLookup() {
				partial = " WHERE " + quote(a.LogicalName) + " IS NOT NULL"
			}
			if _, err := t.execStmt("CREATE INDEX IF NOT EXISTS " + idx + " ON " + table + " (" + quote(a.LogicalName) + ")" + partial); err != nil {
				return fmt.Errorf("store: index %s.%s: %w", e.LogicalName, a.LogicalName, err)
			}
		}
	}
	// The webhook queue picks the waiting system jobs by state, in sequence order; with a backlog
	// of many thousand jobs this index lets it read only the first few instead of sorting them all.
	if e.LogicalName == "asyncoperation" {
		st, ok1 := e.Attribute("statecode")
		seq, ok2 := e.Attribute("sequence")
		if ok1 && ok2 && st.Stored() && seq.Stored() {
			if _, err := t.execStmt("CREATE INDEX IF NOT EXISTS " + quote("ix_asyncoperation_queue") + " ON " + table +
				" (" + quote(st.LogicalName) + ", " + quote(seq.LogicalName) + ")"); err != nil {
				return fmt.Errorf("store: index %s queue: %w", e.LogicalName, err)
			}
		}
	}
	for _, k := range e.Keys {
		var cols []string
		for _, an := range k.Attributes {
			cols = append(cols, quote(an))
		}
		if !model.ValidIdent(k.LogicalName) {
			return fmt.Errorf("store: key %s.%s: invalid name", e.LogicalName, k.LogicalName)
		}
		idx := quote("ak_" + e.LogicalName + "_" + k.LogicalName)
		if _, err := t.execStmt("CREATE UNIQUE INDEX IF NOT EXISTS " + idx + " ON " + table + " (" + strings.Join(cols, ", ") + ")"); err != nil {
			return fmt.Errorf("store: key %s.%s: %w", e.LogicalName, k.LogicalName, err)
		}
	}
	return nil
}

// withoutMembers returns a JSON object document without the named top-level members. The other
// members keep their order and text.
func withoutMembers(doc json.RawMessage, names ...string) (json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("metadata document is not a JSON object")
	}
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := t.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, err
		}
		skip := false
		for _, n := range names {
			if key == n {
				skip = true
			}
		}
		if skip {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		k, _ := json.Marshal(key)
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
