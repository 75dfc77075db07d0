package store

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// This file holds the metadata changes beyond PutMetadata's create-or-extend: deleting columns,
// tables and relationships, and reading global option sets. Every change rebuilds the schema the
// transaction works with, so later statements in the same transaction (and, after Commit, every
// request) see it; a rolled-back transaction leaves both the tables and the schema as they were.

// ErrNoMetadata is returned when a table, column or relationship to delete does not exist.
var ErrNoMetadata = errors.New("store: no such metadata item")

// DeleteAttribute removes a column: its storage (and the target-table column of a polymorphic
// lookup), the indexes on it, its metadata, the columns derived from it (AttributeOf), the
// alternate keys that use it and the relationships it is the lookup of.
func (t *Tx) DeleteAttribute(entity, attribute string) error {
	if err := t.mustWrite(); err != nil {
		return err
	}
	e, ok := t.schema.Entity(entity)
	if !ok {
		return ErrNoMetadata
	}
	a, ok := e.Attribute(attribute)
	if !ok {
		return ErrNoMetadata
	}
	if a.LogicalName == e.PrimaryIDAttribute {
		return fmt.Errorf("store: %s.%s: the primary key cannot be deleted", entity, attribute)
	}
	if err := t.dropAttribute(e, a); err != nil {
		return err
	}
	return t.reloadSchema()
}

// dropAttribute does DeleteAttribute's work without rebuilding the schema.
func (t *Tx) dropAttribute(e *model.Entity, a *model.Attribute) error {
	table := e.LogicalName
	if err := t.unpackColumns(table); err != nil {
		return err
	}
	for _, k := range e.Keys {
		if !contains(k.Attributes, a.LogicalName) {
			continue
		}
		if err := t.exec(`DROP INDEX IF EXISTS `+quote("ak_"+table+"_"+k.LogicalName), "drop key "+k.LogicalName); err != nil {
			return err
		}
		if err := t.exec(`DELETE FROM "_meta_key" WHERE entity = ? AND logicalname = ?`, "delete key "+k.LogicalName, table, k.LogicalName); err != nil {
			return err
		}
	}
	cols := []string{a.LogicalName}
	if a.IsPolymorphic() {
		cols = append(cols, typeColumn(a))
	}
	have, err := t.tableColumns(table)
	if err != nil {
		return err
	}
	for _, c := range cols {
		if !have[c] {
			continue
		}
		if err := t.dropIndexesOn(table, c); err != nil {
			return err
		}
		if err := t.exec("ALTER TABLE "+quote(table)+" DROP COLUMN "+quote(c), "drop column "+table+"."+c); err != nil {
			return err
		}
	}
	names := []string{a.LogicalName}
	for _, o := range e.Attributes {
		if o.AttributeOf == a.LogicalName {
			names = append(names, o.LogicalName)
		}
	}
	for _, n := range names {
		if err := t.exec(`DELETE FROM "_meta_attribute" WHERE entity = ? AND logicalname = ?`, "delete attribute "+table+"."+n, table, n); err != nil {
			return err
		}
	}
	for _, r := range t.schema.Relationships() {
		switch {
		case r.Type == model.OneToMany && r.ReferencingEntity == table && r.ReferencingAttribute == a.LogicalName,
			r.Type == model.ManyToMany && r.IntersectEntity == table && (r.Entity1IntersectAttribute == a.LogicalName || r.Entity2IntersectAttribute == a.LogicalName):
			if err := t.exec(`DELETE FROM "_meta_relationship" WHERE schemaname = ?`, "delete relationship "+r.SchemaName, r.SchemaName); err != nil {
				return err
			}
		}
	}
	t.touch(table)
	return nil
}

// DeleteEntity removes a table with its rows, its metadata and every relationship it takes part
// in. Lookup columns on other tables that could only point at it are deleted too; polymorphic
// lookups that could also point elsewhere lose it from their Targets.
func (t *Tx) DeleteEntity(entity string) error {
	if err := t.mustWrite(); err != nil {
		return err
	}
	e, ok := t.schema.Entity(entity)
	if !ok {
		return ErrNoMetadata
	}
	for _, r := range t.schema.Relationships() {
		switch r.Type {
		case model.OneToMany:
			if r.ReferencedEntity == entity && r.ReferencingEntity != entity {
				if err := t.forgetTarget(r, entity); err != nil {
					return err
				}
			}
			if r.ReferencedEntity != entity && r.ReferencingEntity != entity {
				continue
			}
		case model.ManyToMany:
			if r.Entity1 != entity && r.Entity2 != entity && r.IntersectEntity != entity {
				continue
			}
		}
		if err := t.exec(`DELETE FROM "_meta_relationship" WHERE schemaname = ?`, "delete relationship "+r.SchemaName, r.SchemaName); err != nil {
			return err
		}
	}
	if err := t.exec("DROP TABLE IF EXISTS "+quote(e.LogicalName), "drop table "+e.LogicalName); err != nil {
		return err
	}
	for _, tbl := range []string{"_meta_attribute", "_meta_key"} {
		if err := t.exec(`DELETE FROM `+quote(tbl)+` WHERE entity = ?`, "delete "+tbl, entity); err != nil {
			return err
		}
	}
	if err := t.exec(`DELETE FROM "_meta_entity" WHERE logicalname = ?`, "delete entity "+entity, entity); err != nil {
		return err
	}
	t.touch(entity)
	return t.reloadSchema()
}

// forgetTarget handles a 1:N relationship from a table being deleted to a lookup on another table:
// a lookup that targets only the deleted table goes; a polymorphic one keeps its other targets.
func (t *Tx) forgetTarget(r *model.Relationship, entity string) error {
	many, ok := t.schema.Entity(r.ReferencingEntity)
	if !ok {
		return nil
	}
	a, ok := many.Attribute(r.ReferencingAttribute)
	if !ok {
		return nil
	}
	var rest []string
	for _, tg := range a.Targets {
		if tg != entity {
			rest = append(rest, tg)
		}
	}
	if len(rest) == 0 {
		return t.dropAttribute(many, a)
	}
	if len(rest) == len(a.Targets) {
		return nil
	}
	doc, err := replaceMember(a.Doc(), "Targets", rest)
	if err != nil {
		return fmt.Errorf("store: attribute %s.%s: %w", many.LogicalName, a.LogicalName, err)
	}
	if a.IsPolymorphic() {
		if err := t.exec("UPDATE "+quote(many.LogicalName)+" SET "+quote(a.LogicalName)+" = NULL, "+quote(typeColumn(a))+" = NULL WHERE "+quote(typeColumn(a))+" = ?",
			"clear "+many.LogicalName+"."+a.LogicalName, entity); err != nil {
			return err
		}
		t.touch(many.LogicalName)
	}
	if err := t.unpackColumns(many.LogicalName); err != nil {
		return err
	}
	return t.exec(`UPDATE "_meta_attribute" SET doc = ? WHERE entity = ? AND logicalname = ?`, "update attribute "+many.LogicalName+"."+a.LogicalName,
		string(doc), many.LogicalName, a.LogicalName)
}

// DeleteRelationship removes a relationship. The lookup column of a one-to-many relationship is
// deleted with it, as Dataverse does; the intersect table of a many-to-many relationship stays.
func (t *Tx) DeleteRelationship(schemaName string) error {
	if err := t.mustWrite(); err != nil {
		return err
	}
	r, ok := t.schema.Relationship(schemaName)
	if !ok {
		return ErrNoMetadata
	}
	if err := t.exec(`DELETE FROM "_meta_relationship" WHERE schemaname = ?`, "delete relationship "+r.SchemaName, r.SchemaName); err != nil {
		return err
	}
	if r.Type == model.OneToMany {
		if many, ok := t.schema.Entity(r.ReferencingEntity); ok {
			if a, ok := many.Attribute(r.ReferencingAttribute); ok && a.LogicalName != many.PrimaryIDAttribute {
				others := false
				for _, o := range t.schema.Relationships() {
					if o != r && o.Type == model.OneToMany && o.ReferencingEntity == many.LogicalName && o.ReferencingAttribute == a.LogicalName {
						others = true
					}
				}
				if !others {
					if err := t.dropAttribute(many, a); err != nil {
						return err
					}
				}
			}
		}
	}
	return t.reloadSchema()
}

// OptionSets returns the global option set (OptionSetMetadata) documents, ordered by name.
func (t *Tx) OptionSets() ([]json.RawMessage, error) {
	rows, err := t.query().QueryContext(t.ctx, `SELECT doc FROM "_meta_optionset" ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: option sets: %w", err)
	}
	defer rows.Close()
	var out []json.RawMessage
	for rows.Next() {
		var doc string
		if err := rows.Scan(&doc); err != nil {
			return nil, fmt.Errorf("store: option sets: %w", err)
		}
		out = append(out, json.RawMessage(doc))
	}
	return out, rows.Err()
}

// PutOptionSet stores a global option set document under its Name.
func (t *Tx) PutOptionSet(doc json.RawMessage) error {
	if err := t.mustWrite(); err != nil {
		return err
	}
	var d struct {
		Name       string `json:"Name"`
		MetadataID string `json:"MetadataId"`
	}
	if err := json.Unmarshal(doc, &d); err != nil {
		return fmt.Errorf("store: option set: %w", err)
	}
	if d.Name == "" || d.MetadataID == "" {
		return fmt.Errorf("store: option set: Name and MetadataId are required")
	}
	return t.exec(`INSERT INTO "_meta_optionset" (name, metadataid, doc) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET metadataid = excluded.metadataid, doc = excluded.doc`,
		"put option set "+d.Name, d.Name, strings.ToLower(d.MetadataID), string(doc))
}

// reloadSchema counts a metadata change and rebuilds the transaction's schema from the metadata
// tables.
func (t *Tx) reloadSchema() error {
	if err := t.exec(`UPDATE "_dynlocal" SET value = value + 1 WHERE key = 'schemaversion'`, "schema version"); err != nil {
		return err
	}
	sch, err := loadSchema(t.ctx, t.query())
	if err != nil {
		return err
	}
	t.schema = sch
	t.schemaDirty = true
	return nil
}

func (t *Tx) exec(query, what string, args ...any) error {
	if _, err := t.execStmt(query, args...); err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

// tableColumns returns the names of a table's SQL columns.
func (t *Tx) tableColumns(table string) (map[string]bool, error) {
	rows, err := t.query().QueryContext(t.ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, fmt.Errorf("store: table info %s: %w", table, err)
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		have[n] = true
	}
	return have, rows.Err()
}

// dropIndexesOn drops the explicit indexes of table that cover column, which SQLite requires before
// the column can be dropped.
func (t *Tx) dropIndexesOn(table, column string) error {
	rows, err := t.query().QueryContext(t.ctx, `SELECT il.name FROM pragma_index_list(?) AS il WHERE il.origin = 'c'
		AND EXISTS (SELECT 1 FROM pragma_index_info(il.name) AS ii WHERE ii.name = ?)`, table, column)
	if err != nil {
		return fmt.Errorf("store: indexes of %s.%s: %w", table, column, err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	for _, n := range names {
		if err := t.exec("DROP INDEX IF EXISTS "+quote(n), "drop index "+n); err != nil {
			return err
		}
	}
	return nil
}

// replaceMember returns a JSON object document with one top-level member's value replaced (or
// appended when absent). The other members keep their order and text.
func replaceMember(doc json.RawMessage, name string, value any) (json.RawMessage, error) {
	v, err := json.Marshal(value)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, fmt.Errorf("metadata document is not a JSON object")
	}
	var b bytes.Buffer
	b.WriteByte('{')
	first, done := true, false
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, err
		}
		if key == name {
			val, done = v, true
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
	if !done {
		if !first {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(name)
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// unpackColumns turns a table whose columns putEntity packed back into one document per
// _meta_attribute row, so that one column can be changed or dropped in place; the next load
// parses them.
func (t *Tx) unpackColumns(entity string) error {
	var packed []byte
	err := t.query().QueryRowContext(t.ctx, `SELECT attrs FROM "_meta_entity" WHERE logicalname = ?`, entity).Scan(&packed)
	if errors.Is(err, sql.ErrNoRows) || err == nil && packed == nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("store: unpack %s: %w", entity, err)
	}
	cols, err := model.UnpackAttributes(packed)
	if err != nil {
		return fmt.Errorf("store: unpack %s: %w", entity, err)
	}
	for _, a := range cols {
		if err := t.exec(`UPDATE "_meta_attribute" SET doc = ? WHERE entity = ? AND logicalname = ?`, "unpack "+entity+"."+a.LogicalName,
			string(a.Doc()), entity, a.LogicalName); err != nil {
			return err
		}
	}
	return t.exec(`UPDATE "_meta_entity" SET attrs = NULL WHERE logicalname = ?`, "unpack "+entity, entity)
}
