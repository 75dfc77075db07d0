package store

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// selectList returns the SQL select list for the given attributes of e and a function that turns a
// scanned row into a Row. The row's version is always scanned last.
func selectList(e *model.Entity, attrs []*model.Attribute) (string, int, func(vals []any) (model.Row, int64, error)) {
	list, n := columnList(attrs)
	conv := func(vals []any) (model.Row, int64, error) {
		row := make(model.Row, len(attrs)+1)
		i := 0
		for _, a := range attrs {
			v, next, err := readValue(a, vals, i)
			if err != nil {
				return nil, 0, err
			}
			row[a.LogicalName] = v
			i = next
		}
		ver, err := asInt(vals[i])
		if err != nil {
			return nil, 0, err
		}
		if _, ok := e.Attribute(model.VersionColumn); ok {
			row[model.VersionColumn] = ver
		}
		return row, ver, nil
	}
	return list, n, conv
}

// columnList is the select list of attrs (a polymorphic lookup brings its type column) followed
// by the row version, and how many columns that is.
func columnList(attrs []*model.Attribute) (string, int) {
	var cols []string
	for _, a := range attrs {
		cols = append(cols, quote(a.LogicalName))
		if a.IsPolymorphic() {
			cols = append(cols, quote(typeColumn(a)))
		}
	}
	cols = append(cols, quote(model.VersionColumn))
	return strings.Join(cols, ", "), len(cols)
}

// readValue converts the value of a at vals[i] (and the type column after it, for a polymorphic
// lookup) and returns the index of the next column.
func readValue(a *model.Attribute, vals []any, i int) (any, int, error) {
	raw := vals[i]
	i++
	typ := ""
	if a.IsPolymorphic() {
		if vals[i] != nil {
			typ = asString(vals[i])
		}
		i++
	}
	v, err := fromSQL(a, raw, typ)
	return v, i, err
}

// readValues converts the values of attrs read from vals[i:] in place: the value of attrs[k]
// lands at vals[i+k], at or before where it was read. It returns the index of the next column.
func readValues(attrs []*model.Attribute, vals []any, i int) (int, error) {
	start := i
	for k, a := range attrs {
		v, next, err := readValue(a, vals, i)
		if err != nil {
			return 0, err
		}
		vals[start+k] = v
		i = next
	}
	return i, nil
}

// storedAttrs returns the stored attributes of e named in names, or all of them when names is nil.
func storedAttrs(e *model.Entity, names []string) ([]*model.Attribute, error) {
	var out []*model.Attribute
	if names == nil {
		for _, a := range e.Attributes {
			if a.Stored() && a.LogicalName != model.VersionColumn {
				out = append(out, a)
			}
		}
		return out, nil
	}
	for _, n := range names {
		if n == model.VersionColumn {
			continue
		}
		a, ok := e.Attribute(n)
		if !ok || !a.Stored() {
			return nil, fmt.Errorf("store: %s has no stored column %s", e.LogicalName, n)
		}
		out = append(out, a)
	}
	return out, nil
}

// Get reads one row by primary key. names limits the columns (nil = all); the primary key and
// versionnumber are always included. It returns ErrNotFound when the row does not exist.
func (t *Tx) Get(e *model.Entity, id string, names []string) (model.Row, int64, error) {
	p, err := t.s.getPlan(e, names)
	if err != nil {
		return nil, 0, err
	}
	vals, err := t.readRow(e, p, id)
	if err != nil {
		return nil, 0, err
	}
	return p.conv(vals)
}

// readRow runs a plan's statement for the row with primary key id and returns its values as the
// driver gives them, or ErrNotFound.
func (t *Tx) readRow(e *model.Entity, p *getPlan, id string) ([]any, error) {
	vals := make([]any, p.n)
	ptrs := make([]any, p.n)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := t.query().QueryRowContext(t.ctx, p.sql, strings.ToLower(id)).Scan(ptrs...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("store: get %s: %w", e.LogicalName, err)
	}
	return vals, nil
}

// GetColumns reads one row by primary key as values in the order of cols, which must all be
// stored: a read that shapes the row by position needs no map of it. It returns ErrNotFound when
// the row does not exist.
func (t *Tx) GetColumns(e *model.Entity, id string, cols []*model.Attribute) ([]any, int64, error) {
	p, err := t.s.columnsPlan(e, cols)
	if err != nil {
		return nil, 0, err
	}
	vals, err := t.readRow(e, p, id)
	if err != nil {
		return nil, 0, err
	}
	i, err := readValues(cols, vals, 0)
	if err != nil {
		return nil, 0, err
	}
	ver, err := asInt(vals[i])
	if err != nil {
		return nil, 0, err
	}
	return vals[:len(cols)], ver, nil
}

// columnsPlan is the statement GetColumns runs for a column list. Plans are kept by table and
// list; a list is known by its length and its first and last columns, and compared whole.
func (s *Store) columnsPlan(e *model.Entity, cols []*model.Attribute) (*getPlan, error) {
	key := colKey(e, cols)
	s.plansMu.RLock()
	p := s.colPlans[key]
	s.plansMu.RUnlock()
	if p != nil && slices.Equal(p.cols, cols) {
		return p, nil
	}
	for _, a := range cols {
		if !a.Stored() {
			return nil, fmt.Errorf("store: %s has no stored column %s", e.LogicalName, a.LogicalName)
		}
	}
	list, n := columnList(cols)
	p = &getPlan{cols: slices.Clone(cols), n: n,
		sql: "SELECT " + list + " FROM " + quote(e.LogicalName) + " WHERE " + quote(e.PrimaryIDAttribute) + " = ?"}
	s.plansMu.Lock()
	if s.colPlans == nil || len(s.colPlans) >= maxGetPlans {
		s.colPlans = map[colPlanKey]*getPlan{}
	}
	s.colPlans[key] = p
	s.plansMu.Unlock()
	return p, nil
}

type colPlanKey struct {
	e           *model.Entity
	n           int
	first, last *model.Attribute
}

// colKey is the key of a table's column list: its length and its first and last columns. Lists
// that share a key are told apart by comparing them whole.
func colKey(e *model.Entity, cols []*model.Attribute) colPlanKey {
	key := colPlanKey{e: e, n: len(cols)}
	if len(cols) > 0 {
		key.first, key.last = cols[0], cols[len(cols)-1]
	}
	return key
}

// getPlan is how Get reads a table's row for one list of columns: the statement and the
// conversion of its values. Plans are kept by table and column list, so a read by id builds no
// SQL text (and go-sqlite3 finds the statement prepared).
type getPlan struct {
	// names is Get's column list; cols is GetColumns'.
	names []string
	cols  []*model.Attribute
	sql   string
	n     int
	conv  func([]any) (model.Row, int64, error)
}

type getPlanKey struct {
	e    *model.Entity
	n    int
	hash uint64
}

// maxGetPlans bounds the plans kept; past it the cache starts over (a schema change leaves the
// plans of the tables it replaced behind).
const maxGetPlans = 1024

func (s *Store) getPlan(e *model.Entity, names []string) (*getPlan, error) {
	key := getPlanKey{e: e, n: len(names), hash: hashNames(names)}
	if names == nil {
		key.n = -1
	}
	s.plansMu.RLock()
	p := s.getPlans[key]
	s.plansMu.RUnlock()
	if p != nil && slices.Equal(p.names, names) {
		return p, nil
	}
	given := names
	if names != nil && !contains(names, e.PrimaryIDAttribute) {
		names = append([]string{e.PrimaryIDAttribute}, names...)
	}
	attrs, err := storedAttrs(e, names)
	if err != nil {
		return nil, err
	}
	list, n, conv := selectList(e, attrs)
	p = &getPlan{names: slices.Clone(given), n: n, conv: conv,
		sql: "SELECT " + list + " FROM " + quote(e.LogicalName) + " WHERE " + quote(e.PrimaryIDAttribute) + " = ?"}
	s.plansMu.Lock()
	if s.getPlans == nil || len(s.getPlans) >= maxGetPlans {
		s.getPlans = map[getPlanKey]*getPlan{}
	}
	s.getPlans[key] = p
	s.plansMu.Unlock()
	return p, nil
}

// hashNames is FNV-1a over the names, each ended by a zero byte.
func hashNames(names []string) uint64 {
	h := uint64(14695981039346656037)
	for _, n := range names {
		for i := 0; i < len(n); i++ {
			h ^= uint64(n[i])
			h *= 1099511628211
		}
		h ^= 0
		h *= 1099511628211
	}
	return h
}

// Version returns a row's current version, or ErrNotFound.
func (t *Tx) Version(e *model.Entity, id string) (int64, error) {
	var v int64
	err := t.query().QueryRowContext(t.ctx, "SELECT "+quote(model.VersionColumn)+" FROM "+quote(e.LogicalName)+" WHERE "+quote(e.PrimaryIDAttribute)+" = ?", strings.ToLower(id)).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ErrNotFound
	}
	if err != nil {
		return 0, fmt.Errorf("store: version %s: %w", e.LogicalName, err)
	}
	return v, nil
}

// Exists reports whether a row exists. It reads only the primary key's index, not the row: a
// lookup bound on a create is checked this way, once per row of a bulk load.
func (t *Tx) Exists(e *model.Entity, id string) (bool, error) {
	var one int
	err := t.query().QueryRowContext(t.ctx, "SELECT 1 FROM "+quote(e.LogicalName)+" WHERE "+quote(e.PrimaryIDAttribute)+" = ?", strings.ToLower(id)).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("store: exists %s: %w", e.LogicalName, err)
	}
	return true, nil
}

// bindRow turns a Row into column names and SQL arguments, sorted by column for stable SQL.
func bindRow(e *model.Entity, row model.Row) ([]string, []any, error) {
	names := make([]string, 0, len(row))
	for n := range row {
		names = append(names, n)
	}
	sort.Strings(names)
	var cols []string
	var args []any
	for _, n := range names {
		if n == model.VersionColumn {
			continue
		}
		a, ok := e.Attribute(n)
		if !ok || !a.Stored() {
			return nil, nil, fmt.Errorf("store: %s has no stored column %s", e.LogicalName, n)
		}
		v, err := toSQL(a, row[n])
		if err != nil {
			return nil, nil, err
		}
		cols = append(cols, a.LogicalName)
		args = append(args, v)
		if a.IsPolymorphic() {
			var typ any
			if l, ok := row[n].(model.Lookup); ok {
				typ = l.Entity
			}
			cols = append(cols, typeColumn(a))
			args = append(args, typ)
		}
	}
	return cols, args, nil
}

// current returns the transaction's view of e. A request may have resolved e before another
// transaction changed the table's columns; writes use the columns the table has now, and values
// for columns deleted meanwhile are dropped rather than failing on a missing SQL column.
func (t *Tx) current(e *model.Entity, row model.Row) *model.Entity {
	cur, ok := t.schema.Entity(e.LogicalName)
	if !ok || cur == e {
		return e
	}
	for name := range row {
		if _, ok := cur.Attribute(name); !ok && name != model.VersionColumn {
			delete(row, name)
		}
	}
	return cur
}

// Insert adds a row; the row must hold the primary key. It returns the row's new version, or
// ErrDuplicate when the primary key or an alternate key value is taken.
func (t *Tx) Insert(e *model.Entity, row model.Row) (int64, error) {
	if err := t.mustWrite(); err != nil {
		return 0, err
	}
	if _, ok := row[e.PrimaryIDAttribute].(string); !ok {
		return 0, fmt.Errorf("store: insert %s: primary key missing", e.LogicalName)
	}
	e = t.current(e, row)
	cols, args, err := bindRow(e, row)
	if err != nil {
		return 0, err
	}
	ver := t.NextVersion()
	t.touch(e.LogicalName)
	cols = append(cols, model.VersionColumn)
	args = append(args, ver)
	q := make([]string, len(cols))
	marks := make([]string, len(cols))
	for i, c := range cols {
		q[i] = quote(c)
		marks[i] = "?"
	}
	_, err = t.execStmt("INSERT INTO "+quote(e.LogicalName)+" ("+strings.Join(q, ", ")+") VALUES ("+strings.Join(marks, ", ")+")", args...)
	if err != nil {
		if isUniqueViolation(err) {
			return 0, ErrDuplicate
		}
		return 0, fmt.Errorf("store: insert %s: %w", e.LogicalName, err)
	}
	if err := t.insertPointer(e, row); err != nil {
		return 0, err
	}
	return ver, nil
}

// Update writes the columns in row to an existing row and bumps its version. It returns the new
// version, ErrNotFound, or ErrDuplicate for an alternate key clash.
func (t *Tx) Update(e *model.Entity, id string, row model.Row) (int64, error) {
	if err := t.mustWrite(); err != nil {
		return 0, err
	}
	delete(row, e.PrimaryIDAttribute)
	e = t.current(e, row)
	cols, args, err := bindRow(e, row)
	if err != nil {
		return 0, err
	}
	ver := t.NextVersion()
	t.touch(e.LogicalName)
	sets := make([]string, 0, len(cols)+1)
	for _, c := range cols {
		sets = append(sets, quote(c)+" = ?")
	}
	sets = append(sets, quote(model.VersionColumn)+" = ?")
	args = append(args, ver, strings.ToLower(id))
	res, err := t.execStmt("UPDATE "+quote(e.LogicalName)+" SET "+strings.Join(sets, ", ")+" WHERE "+quote(e.PrimaryIDAttribute)+" = ?", args...)
	if err != nil {
		if isUniqueViolation(err) {
			return 0, ErrDuplicate
		}
		return 0, fmt.Errorf("store: update %s: %w", e.LogicalName, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return 0, ErrNotFound
	}
	if err := t.updatePointer(e, id, row); err != nil {
		return 0, err
	}
	return ver, nil
}

// ErrRestricted is returned by Delete when a relationship with CascadeDelete "Restrict" still has
// referencing rows.
var ErrRestricted = errors.New("store: delete restricted by a related row")

// Delete removes a row and applies each relationship's delete behaviour to what refers to it:
// referencing rows are deleted (Cascade), keep the row from being deleted (Restrict) or have their
// lookup cleared (RemoveLink); N:N links are removed. It returns ErrNotFound when the row does not
// exist.
func (t *Tx) Delete(e *model.Entity, id string) error {
	if err := t.mustWrite(); err != nil {
		return err
	}
	return t.delete(e, strings.ToLower(id), map[string]bool{})
}

func (t *Tx) delete(e *model.Entity, id string, deleting map[string]bool) error {
	key := e.LogicalName + ":" + id
	if deleting[key] {
		return nil
	}
	deleting[key] = true
	t.touch(e.LogicalName)
	res, err := t.execStmt("DELETE FROM "+quote(e.LogicalName)+" WHERE "+quote(e.PrimaryIDAttribute)+" = ?", id)
	if err != nil {
		return fmt.Errorf("store: delete %s: %w", e.LogicalName, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	if err := t.tombstone(e, id); err != nil {
		return err
	}
	if err := t.deleteFiles(e.LogicalName, id, "", "", false); err != nil {
		return err
	}
	// An activity's pointer row goes first: its relationships (activitypointer_activity_parties,
	// which cascades) decide what happens to the activity's parties, which the activity type's
	// own relationships to them would otherwise only unlink.
	if err := t.deletePointer(e, id, deleting); err != nil {
		return err
	}
	for _, r := range t.schema.Relationships() {
		switch r.Type {
		case model.OneToMany:
			if r.ReferencedEntity != e.LogicalName {
				continue
			}
			many, ok := t.schema.Entity(r.ReferencingEntity)
			if !ok {
				continue
			}
			a, ok := many.Attribute(r.ReferencingAttribute)
			if !ok || !a.Stored() {
				continue
			}
			where := quote(a.LogicalName) + " = ?"
			args := []any{id}
			if a.IsPolymorphic() {
				where += " AND " + quote(typeColumn(a)) + " = ?"
				args = append(args, e.LogicalName)
			}
			switch r.CascadeDelete {
			case "Cascade", "Restrict":
				children, err := t.ids(many, where, args)
				if err != nil {
					return err
				}
				for _, cid := range children {
					if deleting[many.LogicalName+":"+cid] {
						continue
					}
					if r.CascadeDelete == "Restrict" {
						return ErrRestricted
					}
					if err := t.delete(many, cid, deleting); err != nil && !errors.Is(err, ErrNotFound) {
						return err
					}
				}
			default:
				set := quote(a.LogicalName) + " = NULL"
				if a.IsPolymorphic() {
					set += ", " + quote(typeColumn(a)) + " = NULL"
				}
				t.touch(many.LogicalName)
				if _, err := t.execStmt("UPDATE "+quote(many.LogicalName)+" SET "+set+", "+quote(model.VersionColumn)+" = ? WHERE "+where, append([]any{t.NextVersion()}, args...)...); err != nil {
					return fmt.Errorf("store: delete %s: clear %s.%s: %w", e.LogicalName, many.LogicalName, a.LogicalName, err)
				}
			}
		case model.ManyToMany:
			inter, ok := t.schema.Entity(r.IntersectEntity)
			if !ok {
				continue
			}
			for _, side := range [][2]string{{r.Entity1, r.Entity1IntersectAttribute}, {r.Entity2, r.Entity2IntersectAttribute}} {
				if side[0] != e.LogicalName {
					continue
				}
				t.touch(inter.LogicalName)
				if _, err := t.execStmt("DELETE FROM "+quote(inter.LogicalName)+" WHERE "+quote(side[1])+" = ?", id); err != nil {
					return fmt.Errorf("store: delete %s: unlink %s: %w", e.LogicalName, r.SchemaName, err)
				}
			}
		}
	}
	return nil
}

// ids returns the primary keys of the rows of e matching a condition.
func (t *Tx) ids(e *model.Entity, where string, args []any) ([]string, error) {
	rows, err := t.query().QueryContext(t.ctx, "SELECT "+quote(e.PrimaryIDAttribute)+" FROM "+quote(e.LogicalName)+" WHERE "+where, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s ids: %w", e.LogicalName, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// FindByKey returns the primary key of the row whose columns equal values (an alternate key).
func (t *Tx) FindByKey(e *model.Entity, values model.Row) (string, error) {
	cols, args, err := bindRow(e, values)
	if err != nil {
		return "", err
	}
	if len(cols) == 0 {
		return "", ErrNotFound
	}
	conds := make([]string, len(cols))
	for i, c := range cols {
		if args[i] == nil {
			conds[i] = quote(c) + " IS NULL"
		} else {
			conds[i] = quote(c) + " = ?"
		}
	}
	var bound []any
	for _, a := range args {
		if a != nil {
			bound = append(bound, a)
		}
	}
	var id string
	err = t.query().QueryRowContext(t.ctx, "SELECT "+quote(e.PrimaryIDAttribute)+" FROM "+quote(e.LogicalName)+" WHERE "+strings.Join(conds, " AND ")+" LIMIT 2", bound...).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: find %s by key: %w", e.LogicalName, err)
	}
	return id, nil
}

// Associate links two rows through an N:N relationship; id1 belongs to r.Entity1 and linkID becomes
// the intersect row's key. Linking rows that are already linked returns ErrDuplicate.
func (t *Tx) Associate(r *model.Relationship, id1, id2, linkID string) error {
	if err := t.mustWrite(); err != nil {
		return err
	}
	inter, ok := t.schema.Entity(r.IntersectEntity)
	if !ok {
		return fmt.Errorf("store: relationship %s: no intersect table", r.SchemaName)
	}
	id1, id2 = strings.ToLower(id1), strings.ToLower(id2)
	var n int
	if err := t.query().QueryRowContext(t.ctx, "SELECT COUNT(*) FROM "+quote(inter.LogicalName)+" WHERE "+quote(r.Entity1IntersectAttribute)+" = ? AND "+quote(r.Entity2IntersectAttribute)+" = ?", id1, id2).Scan(&n); err != nil {
		return fmt.Errorf("store: associate %s: %w", r.SchemaName, err)
	}
	if n > 0 {
		return ErrDuplicate
	}
	row := model.Row{inter.PrimaryIDAttribute: linkID}
	a1, ok1 := inter.Attribute(r.Entity1IntersectAttribute)
	a2, ok2 := inter.Attribute(r.Entity2IntersectAttribute)
	if !ok1 || !ok2 {
		return fmt.Errorf("store: relationship %s: intersect attributes missing", r.SchemaName)
	}
	row[a1.LogicalName] = intersectValue(a1, id1, r.Entity1)
	row[a2.LogicalName] = intersectValue(a2, id2, r.Entity2)
	_, err := t.Insert(inter, row)
	return err
}

func intersectValue(a *model.Attribute, id, entity string) any {
	if a.IsLookup() {
		return model.Lookup{ID: id, Entity: entity}
	}
	return id
}

// Disassociate removes an N:N link. It returns ErrNotFound when there was none.
func (t *Tx) Disassociate(r *model.Relationship, id1, id2 string) error {
	if err := t.mustWrite(); err != nil {
		return err
	}
	t.touch(r.IntersectEntity)
	res, err := t.execStmt("DELETE FROM "+quote(r.IntersectEntity)+" WHERE "+quote(r.Entity1IntersectAttribute)+" = ? AND "+quote(r.Entity2IntersectAttribute)+" = ?", strings.ToLower(id1), strings.ToLower(id2))
	if err != nil {
		return fmt.Errorf("store: disassociate %s: %w", r.SchemaName, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// Linked returns the ids on the other side of an N:N relationship for the row id of entity.
func (t *Tx) Linked(r *model.Relationship, entity, id string) ([]string, error) {
	from, to := r.Entity1IntersectAttribute, r.Entity2IntersectAttribute
	if entity != r.Entity1 {
		from, to = to, from
	}
	rows, err := t.query().QueryContext(t.ctx, "SELECT "+quote(to)+" FROM "+quote(r.IntersectEntity)+" WHERE "+quote(from)+" = ? ORDER BY "+quote(to), strings.ToLower(id))
	if err != nil {
		return nil, fmt.Errorf("store: linked %s: %w", r.SchemaName, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}

// CheckReferences verifies that every lookup value of every table points at an existing row. The
// fixture loader calls it once after loading rows in any order.
func (t *Tx) CheckReferences() error {
	for _, e := range t.schema.Entities() {
		for _, a := range e.Attributes {
			if !a.IsLookup() || !a.Stored() {
				continue
			}
			for _, target := range a.Targets {
				te, ok := t.schema.Entity(target)
				if !ok {
					continue
				}
				q := "SELECT s." + quote(e.PrimaryIDAttribute) + ", s." + quote(a.LogicalName) + " FROM " + quote(e.LogicalName) + " s LEFT JOIN " + quote(te.LogicalName) + " r ON r." + quote(te.PrimaryIDAttribute) + " = s." + quote(a.LogicalName) +
					" WHERE s." + quote(a.LogicalName) + " IS NOT NULL AND r." + quote(te.PrimaryIDAttribute) + " IS NULL"
				var args []any
				if a.IsPolymorphic() {
					q += " AND s." + quote(typeColumn(a)) + " = ?"
					args = append(args, target)
				} else if len(a.Targets) > 1 {
					continue
				}
				var sid, ref string
				err := t.query().QueryRowContext(t.ctx, q+" LIMIT 1", args...).Scan(&sid, &ref)
				if err == nil {
					return fmt.Errorf("store: %s %s: %s points at missing %s %s", e.LogicalName, sid, a.LogicalName, target, ref)
				}
				if !errors.Is(err, sql.ErrNoRows) {
					return fmt.Errorf("store: check references: %w", err)
				}
			}
		}
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// First returns the primary key of the table's first row in key order, or ErrNotFound.
func (t *Tx) First(e *model.Entity) (string, error) {
	var id string
	err := t.query().QueryRowContext(t.ctx, "SELECT "+quote(e.PrimaryIDAttribute)+" FROM "+quote(e.LogicalName)+" ORDER BY "+quote(e.PrimaryIDAttribute)+" LIMIT 1").Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return "", ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("store: first %s: %w", e.LogicalName, err)
	}
	return id, nil
}

// Count returns the number of rows in a table.
func (t *Tx) Count(e *model.Entity) (int64, error) {
	var n int64
	if err := t.query().QueryRowContext(t.ctx, "SELECT COUNT(*) FROM "+quote(e.LogicalName)).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count %s: %w", e.LogicalName, err)
	}
	return n, nil
}

// Referencing returns the primary keys of the rows of e whose lookup attr points at id, in key
// order.
func (t *Tx) Referencing(e *model.Entity, attr, id string) ([]string, error) {
	a, ok := e.Attribute(attr)
	if !ok || !a.IsLookup() {
		return nil, fmt.Errorf("store: %s has no lookup %s", e.LogicalName, attr)
	}
	rows, err := t.query().QueryContext(t.ctx, "SELECT "+quote(e.PrimaryIDAttribute)+" FROM "+quote(e.LogicalName)+" WHERE "+quote(attr)+" = ? ORDER BY "+quote(e.PrimaryIDAttribute), strings.ToLower(id))
	if err != nil {
		return nil, fmt.Errorf("store: referencing %s.%s: %w", e.LogicalName, attr, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
