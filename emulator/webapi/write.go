package webapi

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/odata"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/webhook"
)

// writer applies decoded bodies to the store inside one transaction, maintaining the system
// columns Dataverse maintains. Lookups in a plan are trusted: the decoder resolved every bound row
// (and the fixture loader checks references once at the end).
type writer struct {
	s *Handler
	// ctx is the request's: synchronous webhooks run under it, so a cancelled request stops
	// waiting for its endpoint and releases the writer.
	ctx context.Context
	tx  *store.Tx
	c   Caller
	now time.Time
	// newID gives ids to new rows and links that come without one.
	newID func() string
	// noHooks turns webhook steps off (fixture loading, system jobs).
	noHooks bool
	// bulk is set while the rows of a CreateMultiple, UpdateMultiple or UpsertMultiple call are
	// written: the steps on the bulk message run once for the call, so a row runs only its
	// single-row steps.
	bulk bool
	// closing is set while a close message (WinOpportunity, LoseOpportunity) writes a state that
	// a plain write may not set (closingStates).
	closing bool
	// host, correlation and operationID describe the operation to webhook endpoints.
	host        string
	correlation string
	operationID string
	orgID       string
}

func (s *Handler) newWriter(ctx context.Context, tx *store.Tx, c Caller) *writer {
	newID, clock := s.generators(tx)
	return &writer{s: s, ctx: ctx, tx: tx, c: c, now: clock().UTC().Truncate(time.Second), newID: newID, host: c.Host}
}

// ledgerKey keeps a write's webhook.Ledger in its transaction (settledWrite).
type ledgerKey struct{}

// ledgerOf returns the Ledger of the write tx belongs to, or nil.
func ledgerOf(tx *store.Tx) *webhook.Ledger {
	l, _ := tx.Value(ledgerKey{}).(*webhook.Ledger)
	return l
}

// generators returns where code writing in tx takes new ids and the time from: the write's Ledger,
// which gives a run that is made again the values of the first, or the handler's own.
func (s *Handler) generators(tx *store.Tx) (func() string, func() time.Time) {
	if l := ledgerOf(tx); l != nil {
		return l.NewID, l.Now
	}
	return s.cfg.NewID, s.cfg.Clock
}

// invocation describes the operation to webhook steps.
func (w *writer) invocation() *webhook.Invocation {
	return &webhook.Invocation{Ctx: w.ctx, Tx: w.tx, Ledger: ledgerOf(w.tx), UserID: w.c.UserID, RealUserID: w.c.RealUserID, BusinessUnitID: w.c.BusinessUnitID,
		Host: w.host, CorrelationID: w.correlation, OperationID: w.operationID, OrganizationID: w.orgID, Now: w.now}
}

// steps returns the webhook steps for an operation, or none when hooks are off.
func (w *writer) steps(message string, e *model.Entity, changed model.Row) ([]*webhook.Step, error) {
	if w.noHooks || w.s.hooks == nil {
		return nil, nil
	}
	steps, err := w.s.hooks.Matching(w.tx, message, e.LogicalName, changed)
	if err == nil && !w.bulk {
		steps, err = w.mergeBulkSteps(steps, message, e, changed)
	}
	if err != nil || len(steps) == 0 {
		return nil, err
	}
	if w.correlation == "" {
		w.correlation = w.newID()
		w.operationID = w.newID()
		if w.orgID, err = organizationID(w.tx); err != nil {
			return nil, err
		}
	}
	return steps, nil
}

// images reads the row for pre- or post-images when a step asks for one.
func (w *writer) image(steps []*webhook.Step, pre bool, e *model.Entity, id string) (model.Row, error) {
	for _, st := range steps {
		if st.Wants(pre) {
			row, _, err := w.tx.Get(e, id, nil)
			if errors.Is(err, store.ErrNotFound) {
				return nil, nil
			}
			return row, err
		}
	}
	return nil, nil
}

var (
	preStages  = []int{webhook.StagePreValidation, webhook.StagePreOperation}
	postStages = []int{webhook.StagePostOperation}
)

// forgetRemembered drops what the transaction remembers of rows (owners' business units, the
// default currency) when a write changes the table they come from.
func (w *writer) forgetRemembered(e *model.Entity) {
	switch e.LogicalName {
	case "systemuser", "team", "transactioncurrency":
		clear(w.tx.Memo())
	}
}

// insertRow inserts a row with its system columns and no webhooks (system jobs).
func (w *writer) insertRow(e *model.Entity, row model.Row) (string, error) {
	if err := w.stampCreate(e, row); err != nil {
		return "", err
	}
	id, _ := row[e.PrimaryIDAttribute].(string)
	_, err := w.tx.Insert(e, row)
	return id, mapStoreErr(err, e, id)
}

// delete removes a row, running the Delete webhook steps.
func (w *writer) delete(e *model.Entity, id string) error {
	if err := refuseDirectWrite(e, "Delete"); err != nil {
		return err
	}
	w.forgetRemembered(e)
	steps, err := w.steps("Delete", e, nil)
	if err != nil {
		return err
	}
	op := &webhook.Operation{Message: "Delete", Entity: e, ID: id}
	if len(steps) > 0 {
		if op.Pre, err = w.image(steps, true, e, id); err != nil {
			return err
		}
		if err := w.s.hooks.Run(w.invocation(), steps, preStages, op); err != nil {
			return err
		}
	}
	if err := mapStoreErr(w.tx.Delete(e, id), e, id); err != nil {
		return err
	}
	if len(steps) > 0 {
		return w.s.hooks.Run(w.invocation(), steps, postStages, op)
	}
	return nil
}

// refuseDirectWrite refuses to create, update or delete activitypointer rows: Dataverse keeps
// that table from the activities themselves (store.ActivityPointer), and its messages there are
// Retrieve and RetrieveMultiple only.
func refuseDirectWrite(e *model.Entity, message string) error {
	if e.LogicalName == store.ActivityPointer {
		return dverr.New(http.StatusBadRequest, dverr.CodeNotSupported,
			"The '%s' method does not support entities of type '%s'. Write the activity through its own table (tasks, emails, phonecalls, ...).", message, e.LogicalName)
	}
	return nil
}

// mapStoreErr turns store sentinel errors into Dataverse errors.
func mapStoreErr(err error, e *model.Entity, id string) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return dverr.RecordNotFound(e.LogicalName, id)
	case errors.Is(err, store.ErrDuplicate):
		return dverr.DuplicateRecord()
	case errors.Is(err, store.ErrRestricted):
		// CannotDeleteDueToAssociation.
		return dverr.New(http.StatusMethodNotAllowed, "0x80040227", "The object you tried to delete is associated with another object and cannot be deleted.")
	}
	return err
}

// lookupKey finds the primary key of the row a key addresses: the GUID itself, or the row with the
// given alternate key values.
func lookupKey(tx *store.Tx, e *model.Entity, k *odata.Key) (string, error) {
	if k.Single != nil {
		if k.Single.Kind != odata.LitGUID {
			return "", dverr.BadRequest("The key value '%s' is not a valid GUID for the primary key '%s' of '%s'.", k.Single.Text, e.PrimaryIDAttribute, e.LogicalName)
		}
		return k.Single.Text, nil
	}
	vals, err := altKeyValues(e, k)
	if err != nil {
		return "", err
	}
	id, err := tx.FindByKey(e, vals)
	if errors.Is(err, store.ErrNotFound) {
		return "", &altKeyMissing{e: e, vals: vals, k: k}
	}
	return id, err
}

// altKeyMissing reports an alternate key that matches no row. For reads it becomes a 404; upsert
// creates the row instead.
type altKeyMissing struct {
	e    *model.Entity
	vals model.Row
	k    *odata.Key
}

func (m *altKeyMissing) Error() string { return "no row for alternate key" }

func (m *altKeyMissing) notFound() *dverr.Error {
	return dverr.New(http.StatusNotFound, dverr.CodeObjectDoesNotExist, "A record with the specified key values does not exist in %s entity", m.e.LogicalName)
}

// asNotFound converts an altKeyMissing to Dataverse's 404.
func asNotFound(err error) error {
	var m *altKeyMissing
	if errors.As(err, &m) {
		return m.notFound()
	}
	return err
}

// altKeyValues checks that the pairs name a defined alternate key and converts the values.
func altKeyValues(e *model.Entity, k *odata.Key) (model.Row, error) {
	names := make([]string, 0, len(k.Pairs))
	vals := model.Row{}
	for _, p := range k.Pairs {
		attrName := p.Name
		if strings.HasPrefix(attrName, "_") && strings.HasSuffix(attrName, "_value") && len(attrName) > 7 {
			attrName = attrName[1 : len(attrName)-6]
		}
		a, ok := e.Attribute(attrName)
		if !ok {
			return nil, dverr.New(http.StatusBadRequest, dverr.CodeInvalidKey, "The key attribute '%s' is not defined for '%s'.", p.Name, e.LogicalName)
		}
		v, err := keyLiteralValue(a, p.Value)
		if err != nil {
			return nil, err
		}
		names = append(names, a.LogicalName)
		vals[a.LogicalName] = v
	}
	for _, key := range e.Keys {
		if sameSet(key.Attributes, names) {
			return vals, nil
		}
	}
	// Dataverse also accepts the primary key written as name=value.
	if len(names) == 1 && names[0] == e.PrimaryIDAttribute {
		return vals, nil
	}
	return nil, dverr.New(http.StatusBadRequest, dverr.CodeInvalidKey, "The specified key attributes are not a defined key for the %s entity", e.LogicalName)
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		if !m[x] {
			return false
		}
	}
	return true
}

// keyLiteralValue converts a URL literal to the value of column a.
func keyLiteralValue(a *model.Attribute, lit odata.Literal) (any, error) {
	bad := func() error {
		return dverr.BadRequest("The key value '%s' is not valid for the attribute '%s' of type '%s'.", lit.Text, a.LogicalName, a.EdmType())
	}
	switch a.Type {
	case model.TypeString, model.TypeMemo:
		if lit.Kind != odata.LitString {
			return nil, bad()
		}
		return lit.Text, nil
	case model.TypeUniqueidentifier:
		if lit.Kind != odata.LitGUID && !(lit.Kind == odata.LitString && model.IsGUID(lit.Text)) {
			return nil, bad()
		}
		return strings.ToLower(lit.Text), nil
	case model.TypeLookup, model.TypeCustomer, model.TypeOwner:
		if lit.Kind != odata.LitGUID && !(lit.Kind == odata.LitString && model.IsGUID(lit.Text)) {
			return nil, bad()
		}
		target := ""
		if len(a.Targets) > 0 {
			target = a.Targets[0]
		}
		return model.Lookup{ID: strings.ToLower(lit.Text), Entity: target}, nil
	case model.TypeInteger, model.TypeBigInt, model.TypePicklist, model.TypeState, model.TypeStatus:
		if lit.Kind != odata.LitNumber {
			return nil, bad()
		}
		v, err := decodeValue(&model.Entity{}, a, []byte(lit.Text))
		if err != nil {
			return nil, bad()
		}
		return v, nil
	case model.TypeDecimal, model.TypeMoney, model.TypeDouble:
		if lit.Kind != odata.LitNumber {
			return nil, bad()
		}
		v, err := decodeValue(&model.Entity{}, a, []byte(lit.Text))
		if err != nil {
			return nil, bad()
		}
		return v, nil
	case model.TypeBoolean:
		if lit.Kind != odata.LitBool {
			return nil, bad()
		}
		return lit.Text == "true", nil
	case model.TypeDateTime:
		if lit.Kind == odata.LitNumber || lit.Kind == odata.LitString {
			v, err := decodeValue(&model.Entity{}, a, []byte(`"`+lit.Text+`"`))
			if err == nil {
				return v, nil
			}
		}
		return nil, bad()
	}
	return nil, bad()
}

// create inserts a planned row and its deep inserts and binds, returning the new id.
func (w *writer) create(p *writePlan) (string, error) {
	e := p.Entity
	if err := refuseDirectWrite(e, "Create"); err != nil {
		return "", err
	}
	// Related rows given inline for single-valued navigations are created first.
	for _, d := range p.Single {
		id, err := w.create(d.Plan)
		if err != nil {
			return "", err
		}
		p.Row[d.Nav.Attribute] = model.Lookup{ID: id, Entity: d.Plan.Entity.LogicalName}
	}
	id := p.ID
	if err := checkRecordID(e, id); err != nil {
		return "", err
	}
	if id == "" {
		id = w.newID()
	}
	w.forgetRemembered(e)
	row := p.Row
	row[e.PrimaryIDAttribute] = id
	if err := w.stampCreate(e, row); err != nil {
		return "", err
	}
	if err := w.customAPIRules(e, "", row); err != nil {
		return "", err
	}
	if err := w.checkEndpointURL(e, row); err != nil {
		return "", err
	}
	steps, err := w.steps("Create", e, row)
	if err != nil {
		return "", err
	}
	op := &webhook.Operation{Message: "Create", Entity: e, ID: id, Target: row}
	if len(steps) > 0 {
		if err := w.s.hooks.Run(w.invocation(), steps, preStages, op); err != nil {
			return "", err
		}
	}
	if _, err := w.tx.Insert(e, row); err != nil {
		return "", mapStoreErr(err, e, id)
	}
	if len(steps) > 0 {
		if op.Post, err = w.image(steps, false, e, id); err != nil {
			return "", err
		}
		if err := w.s.hooks.Run(w.invocation(), steps, postStages, op); err != nil {
			return "", err
		}
	}
	for _, d := range p.Children {
		d.Plan.Row[d.Nav.Attribute] = model.Lookup{ID: id, Entity: e.LogicalName}
		if _, err := w.create(d.Plan); err != nil {
			return "", err
		}
	}
	for _, b := range p.Binds {
		for _, ref := range b.Refs {
			if err := w.associate(e, id, b.Nav, ref); err != nil {
				return "", err
			}
		}
	}
	return id, nil
}

// update writes a planned row over an existing one.
func (w *writer) update(p *writePlan, id string) error {
	e := p.Entity
	if err := refuseDirectWrite(e, "Update"); err != nil {
		return err
	}
	w.forgetRemembered(e)
	if err := w.stampUpdate(e, id, p.Row); err != nil {
		return err
	}
	if err := w.customAPIRules(e, id, p.Row); err != nil {
		return err
	}
	if err := w.checkEndpointURL(e, p.Row); err != nil {
		return err
	}
	steps, err := w.steps("Update", e, p.Row)
	if err != nil {
		return err
	}
	target := model.Row{}
	for k, v := range p.Row {
		target[k] = v
	}
	target[e.PrimaryIDAttribute] = id
	op := &webhook.Operation{Message: "Update", Entity: e, ID: id, Target: target}
	if len(steps) > 0 {
		if op.Pre, err = w.image(steps, true, e, id); err != nil {
			return err
		}
		if err := w.s.hooks.Run(w.invocation(), steps, preStages, op); err != nil {
			return err
		}
	}
	if _, err := w.tx.Update(e, id, p.Row); err != nil {
		return mapStoreErr(err, e, id)
	}
	if len(steps) > 0 {
		if op.Post, err = w.image(steps, false, e, id); err != nil {
			return err
		}
		return w.s.hooks.Run(w.invocation(), steps, postStages, op)
	}
	return nil
}

// associate links a row to another through a collection-valued navigation: for 1:N the related
// row's lookup is pointed at this row, for N:N an intersect row is added.
func (w *writer) associate(e *model.Entity, id string, nav *model.Nav, ref entityRef) error {
	switch nav.Kind {
	case model.NavCollection:
		row := model.Row{nav.Attribute: model.Lookup{ID: id, Entity: e.LogicalName}}
		if err := w.stampUpdate(ref.Entity, ref.ID, row); err != nil {
			return err
		}
		_, err := w.tx.Update(ref.Entity, ref.ID, row)
		return mapStoreErr(err, ref.Entity, ref.ID)
	case model.NavManyToMany:
		r := nav.Relationship
		id1, id2 := id, ref.ID
		if e.LogicalName != r.Entity1 {
			id1, id2 = ref.ID, id
		}
		if ok, err := w.tx.Exists(ref.Entity, ref.ID); err != nil {
			return err
		} else if !ok {
			return dverr.RecordNotFound(ref.Entity.LogicalName, ref.ID)
		}
		err := w.tx.Associate(r, id1, id2, w.newID())
		if errors.Is(err, store.ErrDuplicate) {
			return dverr.New(http.StatusBadRequest, dverr.CodeDuplicateRecord, "Cannot insert duplicate key.")
		}
		return err
	}
	return dverr.BadRequest("The navigation property '%s' is not a collection.", nav.Name)
}

func (w *writer) userRef(id string) any {
	if id == "" {
		return nil
	}
	return model.Lookup{ID: id, Entity: "systemuser"}
}

// setIf sets a column when the entity has it (and, unless force, when the row lacks it).
func setIf(e *model.Entity, row model.Row, name string, v any, force bool) {
	a, ok := e.Attribute(name)
	if !ok || !a.Stored() {
		return
	}
	if _, has := row[name]; has && !force {
		return
	}
	if l, isRef := v.(model.Lookup); isRef && !a.IsLookup() {
		// Some tables keep the owner's business unit or user as a plain id (activityparty,
		// listmember).
		if a.Type != model.TypeUniqueidentifier {
			return
		}
		v = l.ID
	}
	row[name] = v
}

// stampCreate fills the system columns of a new row.
func (w *writer) stampCreate(e *model.Entity, row model.Row) error {
	stampSecretFlag(e, row)
	for _, a := range e.Attributes {
		if a.Default != nil && a.Stored() {
			if v, ok := row[a.LogicalName]; !ok || v == nil && !a.ValidForCreate {
				row[a.LogicalName] = a.Default
			}
		}
	}
	if _, ok := row["createdon"]; !ok {
		setIf(e, row, "createdon", w.now, true)
	}
	if _, ok := row["modifiedon"]; !ok {
		setIf(e, row, "modifiedon", row["createdon"], true)
	}
	setIf(e, row, "createdby", w.userRef(w.c.UserID), false)
	setIf(e, row, "modifiedby", w.userRef(w.c.UserID), false)
	if w.c.Impersonating() {
		setIf(e, row, "createdonbehalfby", w.userRef(w.c.RealUserID), true)
		setIf(e, row, "modifiedonbehalfby", w.userRef(w.c.RealUserID), true)
	}
	if _, ok := e.Attribute("ownerid"); ok {
		if v, has := row["ownerid"]; !has || v == nil {
			row["ownerid"] = w.userRef(w.c.UserID)
		}
		if err := w.stampOwner(e, row); err != nil {
			return err
		}
	}
	id, _ := row[e.PrimaryIDAttribute].(string)
	if err := w.stampState(e, row, id, true); err != nil {
		return err
	}
	if err := w.stampCurrency(e, row); err != nil {
		return err
	}
	return w.stampComputed(e, row, nil)
}

// stampUpdate fills the system columns of an updated row.
// stampSecretFlag keeps serviceendpoint.isauthvalueset in step with the secret it describes.
func stampSecretFlag(e *model.Entity, row model.Row) {
	if v, ok := row["authvalue"]; ok {
		setIf(e, row, "isauthvalueset", v != nil && v != "", true)
	}
}

func (w *writer) stampUpdate(e *model.Entity, id string, row model.Row) error {
	stampSecretFlag(e, row)
	setIf(e, row, "modifiedon", w.now, true)
	setIf(e, row, "modifiedby", w.userRef(w.c.UserID), true)
	var behalf any
	if w.c.Impersonating() {
		behalf = w.userRef(w.c.RealUserID)
	}
	setIf(e, row, "modifiedonbehalfby", behalf, true)
	if v, ok := row["ownerid"]; ok {
		if v == nil {
			return dverr.BadRequest("The owner of a record cannot be removed.")
		}
		if err := w.stampOwner(e, row); err != nil {
			return err
		}
	}
	if err := w.stampState(e, row, id, false); err != nil {
		return err
	}
	if _, money := moneyIn(e, row); money {
		if err := w.stampCurrency(e, row); err != nil {
			return err
		}
	}
	return w.stampComputed(e, row, func(names []string) (model.Row, error) {
		r, _, err := w.tx.Get(e, id, names)
		return r, err
	})
}

// stampOwner derives owninguser, owningteam and owningbusinessunit from ownerid.
func (w *writer) stampOwner(e *model.Entity, row model.Row) error {
	l, ok := row["ownerid"].(model.Lookup)
	if !ok {
		return nil
	}
	if l.Entity == "" {
		l.Entity = "systemuser"
		row["ownerid"] = l
	}
	// Owners' business units are remembered for the transaction (a change set creates many rows
	// for the same owner).
	memo := w.tx.Memo()
	key := "ownerbu:" + l.Entity + ":" + l.ID
	bu, cached := memo[key].(string)
	if !cached {
		bu = w.c.BusinessUnitID
		if te, ok := w.tx.Schema().Entity(l.Entity); ok {
			if _, has := te.Attribute("businessunitid"); has {
				r, _, err := w.tx.Get(te, l.ID, []string{"businessunitid"})
				switch {
				case err == nil:
					if b, ok := r["businessunitid"].(model.Lookup); ok {
						bu = b.ID
					}
				case !errors.Is(err, store.ErrNotFound):
					return err
				}
			}
		}
		memo[key] = bu
	}
	switch l.Entity {
	case "systemuser":
		setIf(e, row, "owninguser", l, true)
		setIf(e, row, "owningteam", nil, true)
	case "team":
		setIf(e, row, "owningteam", l, true)
		setIf(e, row, "owninguser", nil, true)
	}
	if bu != "" {
		setIf(e, row, "owningbusinessunit", model.Lookup{ID: bu, Entity: "businessunit"}, true)
	}
	return nil
}

func moneyIn(e *model.Entity, row model.Row) (string, bool) {
	for name := range row {
		if a, ok := e.Attribute(name); ok && a.Type == model.TypeMoney {
			return name, true
		}
	}
	return "", false
}

// stampCurrency gives a row with money columns the organization's base currency when none is
// bound, and its exchange rate.
func (w *writer) stampCurrency(e *model.Entity, row model.Row) error {
	if _, ok := e.Attribute("transactioncurrencyid"); !ok {
		return nil
	}
	if _, money := moneyIn(e, row); !money {
		return nil
	}
	if v, ok := row["transactioncurrencyid"]; !ok || v == nil {
		tc, ok := w.tx.Schema().Entity("transactioncurrency")
		if !ok {
			return nil
		}
		// Remembered for the transaction, like owners' business units: a change set of creates
		// with money columns looks the currency up once.
		memo := w.tx.Memo()
		id, cached := memo["currency:USD"].(string)
		if !cached {
			var err error
			id, err = w.tx.FindByKey(tc, model.Row{"isocurrencycode": "USD"})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			memo["currency:USD"] = id
		}
		if id == "" {
			return nil
		}
		row["transactioncurrencyid"] = model.Lookup{ID: id, Entity: "transactioncurrency"}
	}
	if a, ok := e.Attribute("exchangerate"); ok && a.Stored() {
		one, err := model.ParseDecimal("1", a.Scale())
		if err != nil {
			return err
		}
		row["exchangerate"] = one
	}
	return nil
}

// stampComputed maintains the columns Dataverse computes from others: fullname from first and last
// name, and address composites from their parts. current reads columns of the existing row when the
// write does not give them (nil when creating).
func (w *writer) stampComputed(e *model.Entity, row model.Row, current func([]string) (model.Row, error)) error {
	get := func(names ...string) (model.Row, bool, error) {
		touched := false
		for _, n := range names {
			if _, ok := row[n]; ok {
				touched = true
			}
		}
		if !touched {
			return nil, false, nil
		}
		merged := model.Row{}
		if current != nil {
			var missing []string
			for _, n := range names {
				if _, ok := row[n]; !ok {
					missing = append(missing, n)
				}
			}
			if len(missing) > 0 {
				cur, err := current(missing)
				if err != nil {
					return nil, false, err
				}
				for k, v := range cur {
					merged[k] = v
				}
			}
		}
		for _, n := range names {
			if v, ok := row[n]; ok {
				merged[n] = v
			}
		}
		return merged, true, nil
	}
	if has(e, "fullname", "firstname", "lastname") {
		m, ok, err := get("firstname", "middlename", "lastname")
		if err != nil {
			return err
		}
		if ok || current == nil {
			parts := []string{}
			for _, n := range []string{"firstname", "middlename", "lastname"} {
				if s, _ := m[n].(string); s != "" {
					parts = append(parts, s)
				}
			}
			if _, hasFull := row["fullname"]; !hasFull || current != nil {
				full := strings.Join(parts, " ")
				if full == "" {
					row["fullname"] = nil
				} else {
					row["fullname"] = full
				}
			}
		}
	}
	for _, prefix := range []string{"address1_", "address2_"} {
		if !has(e, prefix+"composite", prefix+"line1") {
			continue
		}
		names := []string{prefix + "line1", prefix + "line2", prefix + "line3", prefix + "city", prefix + "stateorprovince", prefix + "postalcode", prefix + "country"}
		var present []string
		for _, n := range names {
			if has(e, n) {
				present = append(present, n)
			}
		}
		m, ok, err := get(present...)
		if err != nil {
			return err
		}
		if !ok {
			continue
		}
		str := func(n string) string { s, _ := m[n].(string); return s }
		var lines []string
		for _, n := range []string{"line1", "line2", "line3"} {
			if s := str(prefix + n); s != "" {
				lines = append(lines, s)
			}
		}
		cityLine := str(prefix + "city")
		if st := str(prefix + "stateorprovince"); st != "" {
			if cityLine != "" {
				cityLine += ", "
			}
			cityLine += st
		}
		if pc := str(prefix + "postalcode"); pc != "" {
			if cityLine != "" {
				cityLine += " "
			}
			cityLine += pc
		}
		if cityLine != "" {
			lines = append(lines, cityLine)
		}
		if c := str(prefix + "country"); c != "" {
			lines = append(lines, c)
		}
		if len(lines) == 0 {
			row[prefix+"composite"] = nil
		} else {
			row[prefix+"composite"] = strings.Join(lines, "\r\n")
		}
	}
	return nil
}

func has(e *model.Entity, names ...string) bool {
	for _, n := range names {
		a, ok := e.Attribute(n)
		if !ok || !a.Stored() {
			return false
		}
	}
	return true
}
