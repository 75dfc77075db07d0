package store

import (
	"errors"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// ActivityPointer is the table in which Dataverse shows every activity (task, email, phone call,
// ...) beside its own table: one row per activity, under the same id, with the columns all
// activities share and activitytypecode naming the activity's table. The store keeps it in step
// with every insert, update and delete of an activity, whatever the path (a request, a change
// set, a cascade, the fixture loader).
const ActivityPointer = "activitypointer"

// pointerFor returns the activitypointer table when e is an activity kept in it.
func (t *Tx) pointerFor(e *model.Entity) (*model.Entity, bool) {
	if !e.IsActivity || e.LogicalName == ActivityPointer {
		return nil, false
	}
	p, ok := t.schema.Entity(ActivityPointer)
	if !ok || p.PrimaryIDAttribute != e.PrimaryIDAttribute {
		return nil, false
	}
	return p, true
}

// pointerRow keeps the values of row for the columns the pointer table has with the same type.
func pointerRow(p, e *model.Entity, row model.Row) model.Row {
	out := model.Row{}
	for k, v := range row {
		if k == model.VersionColumn {
			continue
		}
		pa, ok := p.Attribute(k)
		if !ok || !pa.Stored() {
			continue
		}
		if ea, ok := e.Attribute(k); !ok || ea.Type != pa.Type {
			continue
		}
		out[k] = v
	}
	return out
}

// insertPointer adds the activitypointer row of a new activity.
func (t *Tx) insertPointer(e *model.Entity, row model.Row) error {
	p, ok := t.pointerFor(e)
	if !ok {
		return nil
	}
	pr := pointerRow(p, e, row)
	pr[p.PrimaryIDAttribute] = row[e.PrimaryIDAttribute]
	if a, ok := p.Attribute("activitytypecode"); ok && a.Stored() {
		pr["activitytypecode"] = e.LogicalName
	}
	_, err := t.Insert(p, pr)
	return err
}

// updatePointer carries an activity's changed shared columns to its activitypointer row.
func (t *Tx) updatePointer(e *model.Entity, id string, row model.Row) error {
	p, ok := t.pointerFor(e)
	if !ok {
		return nil
	}
	pr := pointerRow(p, e, row)
	delete(pr, p.PrimaryIDAttribute)
	if len(pr) == 0 {
		return nil
	}
	_, err := t.Update(p, id, pr)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}

// deletePointer removes a deleted activity's activitypointer row, with what cascades from it.
func (t *Tx) deletePointer(e *model.Entity, id string, deleting map[string]bool) error {
	p, ok := t.pointerFor(e)
	if !ok {
		return nil
	}
	err := t.delete(p, id, deleting)
	if errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
