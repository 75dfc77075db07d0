package webapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/odata"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/webhook"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// The bulk messages are actions bound to an entity set: POST {set}/Microsoft.Dynamics.CRM.CreateMultiple
// (and UpdateMultiple, UpsertMultiple) with {"Targets": [...]}. On a standard table they run in one
// transaction: any failing row rolls the whole call back.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/bulk-operations

// crmNamespace qualifies the names of Dataverse's actions and types.
const crmNamespace = "Microsoft.Dynamics.CRM."

// bulkRow is one of a bulk call's Targets, decoded and resolved before anything is written.
type bulkRow struct {
	plan *writePlan
	// id is the existing row an update writes to; update tells an update from a create.
	id     string
	update bool
	// index is the row's position in Targets, which errors name.
	index int
	op    *webhook.Operation
}

// bulk serves CreateMultiple, UpdateMultiple and UpsertMultiple bound to the entity set.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/createmultiple
// https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/updatemultiple
// https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/upsertmultiple
func (s *Handler) bulk(req *Request, message string) (*wire.Response, error) {
	e := req.Res.Entity
	if req.Res.Key != nil {
		// The bulk actions are bound to the collection, never to one row.
		return nil, dverr.ResourceNotFound(req.Res.Operation)
	}
	if req.R.Method != http.MethodPost {
		return nil, wire.MethodNotAllowed(req.R)
	}
	if req.Res.HasParens && strings.TrimSpace(req.Res.Params) != "" {
		return nil, dverr.BadRequest("Bad Request - Error in query syntax.")
	}
	if err := req.Query.AllowOr(s.ignorer(req)); err != nil {
		return nil, err
	}
	if err := refuseDirectWrite(e, message); err != nil {
		return nil, err
	}
	targets, err := readTargets(req, e, message)
	if err != nil {
		return nil, err
	}
	var ids []string
	err = s.InTx(req, true, func(tx *store.Tx) error {
		w := s.newWriter(req.Ctx, tx, req.Caller)
		w.bulk = true
		rows, err := s.resolveTargets(req, tx, e, message, targets)
		if err != nil {
			return err
		}
		ids, err = w.writeBulk(message, e, rows)
		return err
	})
	if err != nil {
		return nil, err
	}
	if message != webhook.MessageCreateMultiple {
		// UpdateMultiple and UpsertMultiple answer 204; the Web API returns no UpsertMultipleResponse.
		return wire.NewResponse(http.StatusNoContent), nil
	}
	o := wire.NewObject()
	o.Set("@odata.context", req.Base+"$metadata#Microsoft.Dynamics.CRM.CreateMultipleResponse")
	o.Set("Ids", ids)
	resp := wire.NewResponse(http.StatusOK)
	resp.JSON = o
	return resp, nil
}

// atTarget names the row of Targets an error is about, keeping its status and code.
func atTarget(err error, i int) error {
	de, ok := dverr.As(err)
	if !ok {
		return err
	}
	c := *de
	c.Message = fmt.Sprintf("Targets[%d]: %s", i, de.Message)
	return &c
}

// readTargets reads the body of a bulk action: an object whose only parameter is Targets, a
// non-empty array of records of the entity set's table, each typed with @odata.type.
func readTargets(req *Request, e *model.Entity, message string) ([]*wire.Object, error) {
	body, err := readJSONBody(req, e.EntitySetName)
	if err != nil {
		return nil, err
	}
	var raw json.RawMessage
	for _, m := range body.Members() {
		switch {
		case m.Name == "Targets":
			raw = bytes.TrimSpace(m.Raw())
		case strings.HasPrefix(m.Name, "@"):
			// Annotations of the parameters object carry nothing the action reads.
		default:
			return nil, dverr.BadRequest("An error occurred while validating input parameters: Microsoft.OData.ODataException: The parameter '%s' in the request payload is not a valid parameter for the operation '%s'.", m.Name, message)
		}
	}
	if raw == nil {
		return nil, dverr.BadRequest("One or more parameters of the operation '%s' are missing from the request payload. The missing parameters are: Targets.", message)
	}
	var items []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return nil, dverr.BadRequest("An error occurred while validating input parameters: Microsoft.OData.ODataException: The parameter 'Targets' of the operation '%s' must be an array of records (Collection(Microsoft.Dynamics.CRM.crmbaseentity)).", message)
	}
	if len(items) == 0 {
		return nil, dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument, "The Targets parameter of %s contains no records; send at least one.", message)
	}
	out := make([]*wire.Object, len(items))
	for i, it := range items {
		o, err := ParseObject(it, e.EntitySetName)
		if err != nil {
			return nil, atTarget(err, i)
		}
		if err := checkTargetType(e, o, message); err != nil {
			return nil, atTarget(err, i)
		}
		out[i] = o
	}
	return out, nil
}

// checkTargetType checks a record's @odata.type: it must be given (the Targets parameter is typed
// with the abstract crmbaseentity) and name the entity set's table.
func checkTargetType(e *model.Entity, o *wire.Object, message string) error {
	v, ok := o.Get("@odata.type")
	if !ok {
		return dverr.BadRequest("The record has no @odata.type annotation. Every record in the Targets parameter of %s must name its table, as in \"@odata.type\": \"%s%s\".", message, crmNamespace, e.LogicalName)
	}
	raw, _ := v.(json.RawMessage)
	var typ string
	if json.Unmarshal(raw, &typ) != nil {
		return dverr.BadRequest("An error occurred while validating input parameters: Microsoft.OData.ODataException: The value of the annotation 'odata.type' must be a string.")
	}
	name, qualified := strings.CutPrefix(strings.TrimPrefix(typ, "#"), crmNamespace)
	if qualified && name == e.LogicalName {
		return nil
	}
	if !qualified {
		return dverr.BadRequest("An error occurred while validating input parameters: Microsoft.OData.ODataException: A type named '%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", typ)
	}
	return dverr.BadRequest("The record is of type '%s', but %s on the entity set '%s' takes records of '%s' only: all the records in Targets must be of the same table.", name, message, e.EntitySetName, e.LogicalName)
}

// resolveTargets decodes every record of Targets against the table and finds the rows the updates
// write to, before anything is written.
func (s *Handler) resolveTargets(req *Request, tx *store.Tx, e *model.Entity, message string, targets []*wire.Object) ([]*bulkRow, error) {
	d := s.decoderFor(req, tx)
	rows := make([]*bulkRow, 0, len(targets))
	seenID := map[string]int{}
	seenKey := map[string]int{}
	var missing []string
	firstMissing := -1
	for i, t := range targets {
		if message == webhook.MessageCreateMultiple {
			plan, err := d.decodeRecord(e, t, opCreate)
			if err != nil {
				return nil, atTarget(err, i)
			}
			rows = append(rows, &bulkRow{plan: plan, index: i})
			continue
		}
		key, err := targetKey(d, e, t)
		if err != nil {
			return nil, atTarget(err, i)
		}
		if key == nil && message == webhook.MessageUpdateMultiple {
			return nil, atTarget(dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument, "Entity Id must be specified for Update"), i)
		}
		id, exists := "", false
		if key != nil {
			if message == webhook.MessageUpsertMultiple {
				text, err := keyText(e, key)
				if err != nil {
					return nil, atTarget(err, i)
				}
				if j, dup := seenKey[text]; dup {
					return nil, duplicateTarget(i, j)
				}
				seenKey[text] = i
			}
			id, err = lookupKey(tx, e, key)
			var m *altKeyMissing
			switch {
			case errors.As(err, &m) && message == webhook.MessageUpsertMultiple:
				id = ""
			case err != nil:
				return nil, atTarget(asNotFound(err), i)
			}
			if id != "" {
				if exists, err = tx.Exists(e, id); err != nil {
					return nil, err
				}
			}
		}
		if id != "" {
			if j, dup := seenID[id]; dup {
				if message == webhook.MessageUpsertMultiple {
					return nil, duplicateTarget(i, j)
				}
				// UpdateMultiple writes the first record for a row and ignores the later ones.
				continue
			}
			seenID[id] = i
		}
		if message == webhook.MessageUpdateMultiple && !exists {
			missing = append(missing, id)
			if firstMissing < 0 {
				firstMissing = i
			}
			continue
		}
		if exists {
			plan, err := d.decodeRecord(e, t, opUpdate)
			if err != nil {
				return nil, atTarget(err, i)
			}
			if key.Single == nil {
				// Key columns in the record are dropped when the row exists, as with an upsert by key.
				for _, p := range key.Pairs {
					delete(plan.Row, strings.TrimSuffix(strings.TrimPrefix(p.Name, "_"), "_value"))
				}
			}
			rows = append(rows, &bulkRow{plan: plan, id: id, update: true, index: i})
			continue
		}
		plan, err := d.decodeRecord(e, t, opCreate)
		if err != nil {
			return nil, atTarget(err, i)
		}
		if key != nil {
			if err := keyIntoPlan(e, plan, key, id); err != nil {
				return nil, atTarget(err, i)
			}
		}
		rows = append(rows, &bulkRow{plan: plan, index: i})
	}
	if len(missing) > 0 {
		// The wording of Dataverse's bulk error for rows that do not exist.
		return nil, atTarget(dverr.New(http.StatusNotFound, dverr.CodeObjectDoesNotExist, "%s With Ids = %s Do Not Exist", e.SchemaName, strings.Join(missing, ", ")), firstMissing)
	}
	return rows, nil
}

// duplicateTarget refuses an UpsertMultiple whose records i and j address the same row.
func duplicateTarget(i, j int) error {
	return atTarget(dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument,
		"The record has the same key values as Targets[%d]: UpsertMultiple does not accept more than one record for the same row.", j), i)
}

// targetKey returns how a record of Targets identifies its row: the row URL in @odata.id (by
// primary or alternate key) or the primary key column. It is nil when the record gives neither.
func targetKey(d *decoder, e *model.Entity, t *wire.Object) (*odata.Key, error) {
	var key *odata.Key
	if v, ok := t.Get("@odata.id"); ok {
		raw, _ := v.(json.RawMessage)
		var u string
		if json.Unmarshal(raw, &u) != nil {
			return nil, dverr.BadRequest("An error occurred while validating input parameters: Microsoft.OData.ODataException: The value of the annotation 'odata.id' must be a string.")
		}
		te, k, err := d.resolve(u)
		if err != nil {
			return nil, err
		}
		if te.LogicalName != e.LogicalName {
			return nil, dverr.BadRequest("The @odata.id '%s' refers to a record of '%s', not of '%s'.", u, te.LogicalName, e.LogicalName)
		}
		key = k
	}
	v, ok := t.Get(e.PrimaryIDAttribute)
	if !ok {
		return key, nil
	}
	raw, _ := v.(json.RawMessage)
	var id string
	if json.Unmarshal(raw, &id) != nil || !model.IsGUID(id) {
		return nil, convertError(raw, "Edm.Guid")
	}
	id = strings.ToLower(id)
	if key != nil {
		if key.Single != nil && key.Single.Text != id {
			return nil, dverr.BadRequest("The primary key in the record (%s) does not match the one in its @odata.id (%s).", id, key.Single.Text)
		}
		return key, nil
	}
	return &odata.Key{Single: &odata.Literal{Kind: odata.LitGUID, Text: id}}, nil
}

// keyText is a key in one canonical spelling, to find records of Targets that address the same row.
func keyText(e *model.Entity, k *odata.Key) (string, error) {
	if k.Single != nil {
		return "id=" + strings.ToLower(k.Single.Text), nil
	}
	vals, err := altKeyValues(e, k)
	if err != nil {
		return "", err
	}
	names := make([]string, 0, len(vals))
	for n := range vals {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		v := vals[n]
		if l, ok := v.(model.Lookup); ok {
			v = l.ID
		}
		fmt.Fprintf(&b, "%s=%v;", n, v)
	}
	return b.String(), nil
}

// keyIntoPlan gives a record that creates its row the key that addressed it: the primary key, or
// the alternate key's values where the record does not give them.
func keyIntoPlan(e *model.Entity, plan *writePlan, key *odata.Key, id string) error {
	if key.Single != nil {
		if plan.ID != "" && plan.ID != id {
			return dverr.BadRequest("The primary key in the record (%s) does not match the key of the row (%s).", plan.ID, id)
		}
		plan.ID = id
		return nil
	}
	vals, err := altKeyValues(e, key)
	if err != nil {
		return err
	}
	for k, v := range vals {
		if k == e.PrimaryIDAttribute {
			if s, ok := v.(string); ok && plan.ID == "" {
				plan.ID = s
			}
			continue
		}
		if _, given := plan.Row[k]; !given {
			plan.Row[k] = v
		}
	}
	return nil
}

// writeBulk writes the rows of a bulk call in order and returns the ids of the rows it created.
// Steps registered on the bulk message run once for the call, with every row in Targets: the
// pre-operation stages before the first row is written, the post-operation stage after the last.
// Each row runs its own Create or Update steps as it is written.
func (w *writer) writeBulk(message string, e *model.Entity, rows []*bulkRow) ([]string, error) {
	changed := model.Row{}
	for _, r := range rows {
		for k := range r.plan.Row {
			changed[k] = nil
		}
	}
	steps, err := w.steps(message, e, changed)
	if err != nil {
		return nil, err
	}
	call := &webhook.Operation{Message: message, Entity: e}
	if len(steps) > 0 {
		for _, r := range rows {
			if err := w.bulkTarget(steps, e, r); err != nil {
				return nil, atTarget(err, r.index)
			}
			call.Rows = append(call.Rows, r.op)
		}
		if len(rows) == 1 {
			call.ID = rows[0].op.ID
		}
		if err := w.s.hooks.Run(w.invocation(), steps, preStages, call); err != nil {
			return nil, err
		}
	}
	var ids []string
	for _, r := range rows {
		if r.update {
			if err := w.update(r.plan, r.id); err != nil {
				return nil, atTarget(err, r.index)
			}
			continue
		}
		id, err := w.create(r.plan)
		if err != nil {
			return nil, atTarget(err, r.index)
		}
		r.id = id
		ids = append(ids, id)
	}
	if len(steps) == 0 {
		return ids, nil
	}
	for _, r := range rows {
		if r.op.Post, err = w.image(steps, false, e, r.id); err != nil {
			return nil, err
		}
	}
	return ids, w.s.hooks.Run(w.invocation(), steps, postStages, call)
}

// bulkTarget prepares a row for the steps of a bulk message: its id and system columns, as its
// own Create or Update will write them, and its pre-image.
func (w *writer) bulkTarget(steps []*webhook.Step, e *model.Entity, r *bulkRow) error {
	p := r.plan
	if r.update {
		if err := w.stampUpdate(e, r.id, p.Row); err != nil {
			return err
		}
		target := model.Row{}
		for k, v := range p.Row {
			target[k] = v
		}
		target[e.PrimaryIDAttribute] = r.id
		r.op = &webhook.Operation{Message: "Update", Entity: e, ID: r.id, Target: target}
		pre, err := w.image(steps, true, e, r.id)
		r.op.Pre = pre
		return err
	}
	if p.ID == "" {
		p.ID = w.newID()
	}
	p.Row[e.PrimaryIDAttribute] = p.ID
	if err := w.stampCreate(e, p.Row); err != nil {
		return err
	}
	// The create writes this same map, so the post-operation stage sees the row as written.
	r.op = &webhook.Operation{Message: "Create", Entity: e, ID: p.ID, Target: p.Row}
	return nil
}

// mergeBulkSteps adds to the steps of a single-row Create or Update those registered on
// CreateMultiple or UpdateMultiple, which Dataverse runs with Targets holding the one row.
func (w *writer) mergeBulkSteps(steps []*webhook.Step, message string, e *model.Entity, changed model.Row) ([]*webhook.Step, error) {
	bulk := webhook.BulkOf(message)
	if bulk == "" {
		return steps, nil
	}
	more, err := w.s.hooks.Matching(w.tx, bulk, e.LogicalName, changed)
	if err != nil {
		return nil, err
	}
	return webhook.Merge(steps, more), nil
}
