package webapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// The sales and service messages: QualifyLead, WinOpportunity, LoseOpportunity, CloseIncident and
// Merge. Each runs in one transaction and writes every row through the writer, so system columns,
// state rules and webhook steps apply as they do to a plain write.

// Error codes of these messages, from Dataverse's published list of web service error codes.
const (
	codeLeadAlreadyClosed        = "0x80040519" // LeadAlreadyInClosedState
	codeOpportunityAlreadyClosed = "0x80040515" // OpportunityIsAlreadyClosed
	codeMissingOpportunityID     = "0x80043b15" // MissingOpportunityId
	codeIncidentAlreadyClosed    = "0x80044411" // IncidentIsAlreadyClosedOrCancelled
	codeIncidentMissing          = "0x80044409" // IncidentMissingActivityRegardingObject
	codeMergeIdentical           = "0x80045305" // MergeEntitiesIdenticalError
	codeMergeNotActive           = "0x80045304" // MergeEntityNotActiveError
	codeMergeDifferentParent     = "0x80045316" // MergeDifferentlyParentedWarning
	codeMergeLossOfParent        = "0x80045317" // MergeLossOfParentingWarning
)

func init() {
	registerBuiltin(
		// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/qualifylead
		&Operation{
			Name: "QualifyLead", Kind: Action, Binding: BoundEntity, Entity: "lead",
			Params: []Param{
				{Name: "CreateAccount", Type: "Edm.Boolean"},
				{Name: "CreateContact", Type: "Edm.Boolean"},
				{Name: "CreateOpportunity", Type: "Edm.Boolean"},
				{Name: "OpportunityCurrencyId", Type: "mscrm.transactioncurrency", Optional: true},
				{Name: "OpportunityCustomerId", Type: "mscrm.crmbaseentity", Optional: true},
				{Name: "SourceCampaignId", Type: "mscrm.campaign", Optional: true},
				{Name: "Status", Type: "Edm.Int32"},
				{Name: "SuppressDuplicateDetection", Type: "Edm.Boolean", Optional: true},
				{Name: "ProcessInstanceId", Type: "mscrm.crmbaseentity", Optional: true},
			},
			Returns:  "mscrm.QualifyLeadResponse",
			Response: []Param{{Name: "CreatedEntities", Type: "Collection(mscrm.crmbaseentity)"}},
			Serve:    func(s *Handler, req *Request, a *Args) (*wire.Response, error) { return s.salesQualifyLead(req, a) },
		},
		// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/winopportunity
		salesCloseOpportunityOp("WinOpportunity", 1),
		// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/loseopportunity
		salesCloseOpportunityOp("LoseOpportunity", 2),
		// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/closeincident
		&Operation{
			Name: "CloseIncident", Kind: Action,
			// The documented type is mscrm.incidentresolution; a fixture set may have no such
			// table, so $metadata names the base type, which any table's row satisfies.
			Params: []Param{{Name: "IncidentResolution", Type: "mscrm.crmbaseentity"}, {Name: "Status", Type: "Edm.Int32"}},
			Serve:  func(s *Handler, req *Request, a *Args) (*wire.Response, error) { return s.salesCloseIncident(req, a) },
		},
		// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/merge-entity-using-web-api
		&Operation{
			Name: "Merge", Kind: Action,
			Params: []Param{
				{Name: "Target", Type: "mscrm.crmbaseentity"},
				{Name: "Subordinate", Type: "mscrm.crmbaseentity"},
				{Name: "UpdateContent", Type: "mscrm.crmbaseentity", Optional: true},
				{Name: "PerformParentingChecks", Type: "Edm.Boolean"},
			},
			Serve: func(s *Handler, req *Request, a *Args) (*wire.Response, error) { return s.salesMerge(req, a) },
		},
	)
}

// salesCloseOpportunityOp is WinOpportunity (state Won, 1) or LoseOpportunity (state Lost, 2).
func salesCloseOpportunityOp(name string, state int64) *Operation {
	return &Operation{
		Name: name, Kind: Action,
		// The documented type is mscrm.opportunityclose; as for CloseIncident, a fixture set may
		// lack the table, so $metadata names the base type.
		Params: []Param{{Name: "OpportunityClose", Type: "mscrm.crmbaseentity"}, {Name: "Status", Type: "Edm.Int32"}},
		Serve: func(s *Handler, req *Request, a *Args) (*wire.Response, error) {
			return s.salesCloseOpportunity(req, a, name, state)
		},
	}
}

// salesIntArg reads an Edm.Int32 argument the registry has already checked.
func salesIntArg(a *Args, name string) int64 {
	n, _ := a.Values[name].(json.Number)
	v, _ := strconv.ParseInt(n.String(), 10, 64)
	return v
}

// salesObjectArg returns an entity-typed argument as a JSON object (nil when absent or null).
func salesObjectArg(a *Args, name string) map[string]any {
	m, _ := a.Values[name].(map[string]any)
	return m
}

// salesTypedEntity returns the table an entity-typed argument names with @odata.type
// ("Microsoft.Dynamics.CRM.account" or "#Microsoft.Dynamics.CRM.account"); fallback when it has none.
func salesTypedEntity(sch *model.Schema, param string, m map[string]any, fallback string) (*model.Entity, error) {
	name := fallback
	if t, ok := m["@odata.type"].(string); ok {
		name = strings.TrimPrefix(strings.TrimPrefix(t, "#"), crmNamespace)
	}
	if name == "" {
		return nil, errParam("The parameter '%s' needs an @odata.type annotation naming its entity type.", param)
	}
	e, ok := sch.Entity(name)
	if !ok {
		return nil, errParam("The entity type '%s' of the parameter '%s' is not defined.", name, param)
	}
	return e, nil
}

// salesRef resolves an entity reference argument: an object with @odata.type and the primary key,
// or with @odata.id ("accounts(<id>)"). allowed lists the tables it may name (none: any). The row
// must exist.
func (s *Handler) salesRef(req *Request, tx *store.Tx, a *Args, param string, fallback string, allowed ...string) (*entityRef, error) {
	m := salesObjectArg(a, param)
	if m == nil {
		return nil, nil
	}
	var ref entityRef
	if u, ok := m["@odata.id"].(string); ok {
		d := s.decoderFor(req, tx)
		e, k, err := d.resolve(u)
		if err != nil {
			return nil, err
		}
		id, err := d.lookup(e, k)
		if err != nil {
			return nil, err
		}
		ref = entityRef{Entity: e, ID: id}
	} else {
		e, err := salesTypedEntity(tx.Schema(), param, m, fallback)
		if err != nil {
			return nil, err
		}
		id, _ := m[e.PrimaryIDAttribute].(string)
		if !model.IsGUID(id) {
			return nil, errParam("The parameter '%s' must give the %s of the %s it refers to.", param, e.PrimaryIDAttribute, e.LogicalName)
		}
		ref = entityRef{Entity: e, ID: strings.ToLower(id)}
	}
	if len(allowed) > 0 && !salesContains(allowed, ref.Entity.LogicalName) {
		return nil, errParam("The parameter '%s' cannot refer to a %s; it takes a %s.", param, ref.Entity.LogicalName, strings.Join(allowed, " or "))
	}
	ok, err := tx.Exists(ref.Entity, ref.ID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, dverr.RecordNotFound(ref.Entity.LogicalName, ref.ID)
	}
	return &ref, nil
}

func salesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// salesDecodeEntity decodes an entity-typed argument against table e as a create or update body.
func (s *Handler) salesDecodeEntity(req *Request, tx *store.Tx, e *model.Entity, m map[string]any, op writeOp) (*writePlan, error) {
	raw, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	obj, err := wire.ParseObject(raw)
	if err != nil {
		return nil, dverr.BadRequest("The entity parameter is not a JSON object.")
	}
	return s.decoderFor(req, tx).decodeRecord(e, obj, op)
}

// salesCheckStatus refuses a status that does not belong to state, in the words stampState uses.
// -1 asks for the state's default status, as for SetState.
func salesCheckStatus(e *model.Entity, id string, state, status int64) (int64, error) {
	sa, ok1 := e.Attribute("statecode")
	ua, ok2 := e.Attribute("statuscode")
	if !ok1 || !ok2 {
		return status, nil
	}
	if status == -1 {
		if def, ok := defaultStatus(sa, ua, state); ok {
			return def, nil
		}
	}
	if owner, known := statusState(ua, status); !known || owner != state {
		return 0, dverr.New(http.StatusBadRequest, codeInvalidStateCodeStatusCode,
			"%d is not a valid status code for state code %sState.%s on %s with Id %s.",
			status, e.SchemaName, stateInvariantName(sa, state), e.LogicalName, id)
	}
	return status, nil
}

// salesRowState reads a row's statecode (0 when the table has none).
func salesRowState(row model.Row) int64 {
	v, _ := row["statecode"].(int64)
	return v
}

// salesCopyColumns copies the named columns of a source row to a new row of table dst when both tables
// have them with the same type and the source has a value; choice values are copied only when the
// destination column has that option. pairs are source, destination names.
func salesCopyColumns(src model.Row, se, de *model.Entity, dst model.Row, pairs ...string) {
	for i := 0; i+1 < len(pairs); i += 2 {
		from, to := pairs[i], pairs[i+1]
		sa, ok1 := se.Attribute(from)
		da, ok2 := de.Attribute(to)
		v := src[from]
		if !ok1 || !ok2 || v == nil || !da.Stored() || sa.Type != da.Type || sa.IsLookup() {
			continue
		}
		if da.Type == model.TypePicklist {
			n, _ := v.(int64)
			found := false
			for _, o := range da.Options {
				found = found || o.Value == n
			}
			if !found {
				continue
			}
		}
		dst[to] = v
	}
}

// salesSameNames expands column names to source, destination pairs of the same name.
func salesSameNames(names ...string) []string {
	out := make([]string, 0, 2*len(names))
	for _, n := range names {
		out = append(out, n, n)
	}
	return out
}

// salesAddressColumns are the address columns leads, accounts and contacts share.
var salesAddressColumns = salesSameNames("address1_line1", "address1_line2", "address1_line3", "address1_city",
	"address1_stateorprovince", "address1_postalcode", "address1_country", "address1_county",
	"address1_telephone1", "address1_fax", "address1_latitude", "address1_longitude", "address1_name")

// salesQualifyLead qualifies a lead: it creates the account, contact and opportunity asked for from the
// lead's columns (each pointing back at the lead through originatingleadid, the contact under the
// account, the opportunity for the given customer or else the new account or contact), closes the
// lead as Qualified with the given status, and answers references to the created rows.
func (s *Handler) salesQualifyLead(req *Request, a *Args) (*wire.Response, error) {
	var created []*wire.Object
	err := s.InTx(req, true, func(tx *store.Tx) error {
		created = nil // a run made again (InTx) starts over
		sch := tx.Schema()
		le := a.Entity
		lead, _, err := tx.Get(le, a.ID, nil)
		if err != nil {
			return mapStoreErr(err, le, a.ID)
		}
		if salesRowState(lead) != 0 {
			return dverr.New(http.StatusBadRequest, codeLeadAlreadyClosed, "The lead is already closed.")
		}
		status, err := salesCheckStatus(le, a.ID, 1, salesIntArg(a, "Status"))
		if err != nil {
			return err
		}
		customer, err := s.salesRef(req, tx, a, "OpportunityCustomerId", "", "account", "contact")
		if err != nil {
			return err
		}
		currency, err := s.salesRef(req, tx, a, "OpportunityCurrencyId", "transactioncurrency", "transactioncurrency")
		if err != nil {
			return err
		}
		campaign, err := s.salesRef(req, tx, a, "SourceCampaignId", "campaign", "campaign")
		if err != nil {
			return err
		}
		w := s.newWriter(req.Ctx, tx, req.Caller)
		leadRef := model.Lookup{ID: a.ID, Entity: le.LogicalName}
		refer := func(e *model.Entity, id string) {
			o := wire.NewObject()
			o.Set("@odata.type", "#"+crmNamespace+e.LogicalName)
			o.Set(e.PrimaryIDAttribute, id)
			created = append(created, o)
		}
		var account, contact *model.Lookup
		if a.Bool("CreateAccount") {
			ae, ok := sch.Entity("account")
			if !ok {
				return dverr.New(http.StatusBadRequest, dverr.CodeNotSupported, "The account table does not exist in this environment.")
			}
			row := model.Row{}
			salesCopyColumns(lead, le, ae, row, append([]string{"companyname", "name", "description", "description",
				"transactioncurrencyid", "transactioncurrencyid"},
				append(salesSameNames("telephone1", "telephone2", "telephone3", "fax", "emailaddress1", "emailaddress2",
					"emailaddress3", "websiteurl", "numberofemployees", "revenue", "sic", "donotemail", "donotphone",
					"donotfax", "donotpostalmail", "donotbulkemail", "donotsendmm", "preferredcontactmethodcode"), salesAddressColumns...)...)...)
			setIf(ae, row, "originatingleadid", leadRef, true)
			if c, ok := lead["transactioncurrencyid"].(model.Lookup); ok {
				setIf(ae, row, "transactioncurrencyid", c, true)
			}
			id, err := w.create(&writePlan{Entity: ae, Row: row})
			if err != nil {
				return err
			}
			account = &model.Lookup{ID: id, Entity: ae.LogicalName}
			refer(ae, id)
		}
		if a.Bool("CreateContact") {
			ce, ok := sch.Entity("contact")
			if !ok {
				return dverr.New(http.StatusBadRequest, dverr.CodeNotSupported, "The contact table does not exist in this environment.")
			}
			row := model.Row{}
			salesCopyColumns(lead, le, ce, row, append(salesSameNames("firstname", "middlename", "lastname", "salutation",
				"jobtitle", "telephone1", "telephone2", "telephone3", "mobilephone", "pager", "fax", "emailaddress1",
				"emailaddress2", "emailaddress3", "websiteurl", "description", "donotemail", "donotphone", "donotfax",
				"donotpostalmail", "donotbulkemail", "donotsendmm", "preferredcontactmethodcode", "leadsourcecode",
				"yomifirstname", "yomilastname", "yomimiddlename"), salesAddressColumns...)...)
			setIf(ce, row, "originatingleadid", leadRef, true)
			if c, ok := lead["transactioncurrencyid"].(model.Lookup); ok {
				setIf(ce, row, "transactioncurrencyid", c, true)
			}
			if account != nil {
				setIf(ce, row, "parentcustomerid", *account, true)
			}
			id, err := w.create(&writePlan{Entity: ce, Row: row})
			if err != nil {
				return err
			}
			contact = &model.Lookup{ID: id, Entity: ce.LogicalName}
			refer(ce, id)
		}
		var opportunity *model.Lookup
		if a.Bool("CreateOpportunity") {
			oe, ok := sch.Entity("opportunity")
			if !ok {
				return dverr.New(http.StatusBadRequest, dverr.CodeNotSupported, "The opportunity table does not exist in this environment.")
			}
			row := model.Row{}
			salesCopyColumns(lead, le, oe, row, append([]string{"subject", "name", "estimatedamount", "estimatedvalue"},
				salesSameNames("description", "estimatedclosedate", "budgetamount", "budgetstatus", "purchaseprocess",
					"purchasetimeframe", "need", "decisionmaker", "qualificationcomments", "prioritycode",
					"initialcommunication", "evaluatefit", "confirminterest")...)...)
			if _, named := row["name"]; !named {
				salesCopyColumns(lead, le, oe, row, "fullname", "name")
			}
			setIf(oe, row, "originatingleadid", leadRef, true)
			switch {
			case customer != nil:
				setIf(oe, row, "customerid", model.Lookup{ID: customer.ID, Entity: customer.Entity.LogicalName}, true)
			case account != nil:
				setIf(oe, row, "customerid", *account, true)
			case contact != nil:
				setIf(oe, row, "customerid", *contact, true)
			}
			if account != nil {
				setIf(oe, row, "parentaccountid", *account, true)
			}
			if contact != nil {
				setIf(oe, row, "parentcontactid", *contact, true)
			}
			if currency != nil {
				setIf(oe, row, "transactioncurrencyid", model.Lookup{ID: currency.ID, Entity: currency.Entity.LogicalName}, true)
			} else if c, ok := lead["transactioncurrencyid"].(model.Lookup); ok {
				setIf(oe, row, "transactioncurrencyid", c, true)
			}
			if campaign != nil {
				setIf(oe, row, "campaignid", model.Lookup{ID: campaign.ID, Entity: campaign.Entity.LogicalName}, true)
			}
			id, err := w.create(&writePlan{Entity: oe, Row: row})
			if err != nil {
				return err
			}
			opportunity = &model.Lookup{ID: id, Entity: oe.LogicalName}
			refer(oe, id)
		}
		upd := model.Row{"statecode": int64(1), "statuscode": status}
		if opportunity != nil {
			setIf(le, upd, "qualifyingopportunityid", *opportunity, true)
		}
		if account != nil {
			setIf(le, upd, "parentaccountid", *account, true)
		}
		if contact != nil {
			setIf(le, upd, "parentcontactid", *contact, true)
		}
		return w.update(&writePlan{Entity: le, Row: upd}, a.ID)
	})
	if err != nil {
		return nil, err
	}
	list := make([]any, len(created))
	for i, o := range created {
		list[i] = o
	}
	body := wire.NewObject()
	body.Set("CreatedEntities", list)
	return OperationResponse(req, "mscrm.QualifyLeadResponse", body), nil
}

// salesCloseTarget reads the regarding row of a close activity (OpportunityClose, IncidentResolution)
// from its bind property, "opportunityid@odata.bind" or "incidentid@odata.bind". ok is false when
// the activity names none.
func (s *Handler) salesCloseTarget(req *Request, tx *store.Tx, m map[string]any, column, table string) (string, bool, error) {
	u, _ := m[column+"@odata.bind"].(string)
	if u == "" {
		return "", false, nil
	}
	d := s.decoderFor(req, tx)
	e, k, err := d.resolve(u)
	if err != nil {
		return "", false, err
	}
	if e.LogicalName != table {
		return "", false, nil
	}
	id, err := d.lookup(e, k)
	return id, err == nil, err
}

// salesCreateCloseActivity creates the close activity (opportunityclose, incidentresolution) from the
// argument when the table exists. It returns whether it did. The activity is created completed
// (state 1 with that state's default status), as Dataverse creates it.
func (s *Handler) salesCreateCloseActivity(req *Request, tx *store.Tx, w *writer, table string, m map[string]any) (bool, error) {
	e, ok := tx.Schema().Entity(table)
	if !ok {
		return false, nil
	}
	if t, typed := m["@odata.type"].(string); typed {
		if name := strings.TrimPrefix(strings.TrimPrefix(t, "#"), crmNamespace); name != table {
			return false, errParam("The entity type '%s' is not valid here; the parameter takes a %s.", name, table)
		}
	}
	plan, err := s.salesDecodeEntity(req, tx, e, m, opCreate)
	if err != nil {
		return false, err
	}
	if _, ok := e.Attribute("statecode"); ok {
		plan.Row["statecode"] = int64(1)
		delete(plan.Row, "statuscode")
	}
	_, err = w.create(plan)
	return true, err
}

// salesCloseOpportunity serves WinOpportunity and LoseOpportunity: the opportunity named by
// OpportunityClose.opportunityid must be open and the status must belong to the closing state; the
// opportunityclose activity is created (when the table exists) and the opportunity closed, its
// actual revenue and close date taken from the activity.
func (s *Handler) salesCloseOpportunity(req *Request, a *Args, name string, state int64) (*wire.Response, error) {
	m := salesObjectArg(a, "OpportunityClose")
	err := s.InTx(req, true, func(tx *store.Tx) error {
		oe, ok := tx.Schema().Entity("opportunity")
		if !ok {
			return dverr.ResourceNotFound(name)
		}
		id, ok, err := s.salesCloseTarget(req, tx, m, "opportunityid", "opportunity")
		if err != nil {
			return err
		}
		if !ok {
			return dverr.New(http.StatusBadRequest, codeMissingOpportunityID, "The opportunity id is missing or invalid.")
		}
		opp, _, err := tx.Get(oe, id, []string{"statecode"})
		if err != nil {
			return mapStoreErr(err, oe, id)
		}
		if salesRowState(opp) != 0 {
			return dverr.New(http.StatusBadRequest, codeOpportunityAlreadyClosed, "The opportunity is already closed.")
		}
		status, err := salesCheckStatus(oe, id, state, salesIntArg(a, "Status"))
		if err != nil {
			return err
		}
		w := s.newWriter(req.Ctx, tx, req.Caller)
		if _, err := s.salesCreateCloseActivity(req, tx, w, "opportunityclose", m); err != nil {
			return err
		}
		upd := model.Row{"statecode": state, "statuscode": status}
		// The opportunity keeps the close's actual revenue and end date (today when it has none).
		if v, ok := m["actualrevenue"]; ok && v != nil {
			if err := salesSetFromJSON(oe, upd, "actualvalue", v); err != nil {
				return err
			}
		}
		if v, ok := m["actualend"]; ok && v != nil {
			// opportunityclose.actualend travels as a date and time; an actualclosedate that
			// travels as a date takes its date part.
			if a, ok := oe.Attribute("actualclosedate"); ok && a.Format == "DateOnly" {
				if str, isStr := v.(string); isStr {
					if t, err := time.Parse(time.RFC3339, str); err == nil {
						v = t.UTC().Format(model.DateOnlyLayout)
					}
				}
			}
			if err := salesSetFromJSON(oe, upd, "actualclosedate", v); err != nil {
				return err
			}
		} else {
			setIf(oe, upd, "actualclosedate", w.now, true)
		}
		w.closing = true
		return w.update(&writePlan{Entity: oe, Row: upd}, id)
	})
	if err != nil {
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}

// salesSetFromJSON decodes a JSON value for column name of e into row, when e has the column.
func salesSetFromJSON(e *model.Entity, row model.Row, name string, v any) error {
	a, ok := e.Attribute(name)
	if !ok || !a.Stored() {
		return nil
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	val, err := decodeValue(e, a, raw)
	if err != nil {
		return err
	}
	row[name] = val
	return nil
}

// salesCloseIncident serves CloseIncident: the case named by IncidentResolution.incidentid must be
// active and the status must belong to Resolved; the incidentresolution activity is created (when
// the table exists) and the case resolved.
func (s *Handler) salesCloseIncident(req *Request, a *Args) (*wire.Response, error) {
	m := salesObjectArg(a, "IncidentResolution")
	err := s.InTx(req, true, func(tx *store.Tx) error {
		ie, ok := tx.Schema().Entity("incident")
		if !ok {
			return dverr.ResourceNotFound("CloseIncident")
		}
		id, ok, err := s.salesCloseTarget(req, tx, m, "incidentid", "incident")
		if err != nil {
			return err
		}
		if !ok {
			return dverr.New(http.StatusBadRequest, codeIncidentMissing, "The incident id is missing.")
		}
		inc, _, err := tx.Get(ie, id, []string{"statecode"})
		if err != nil {
			return mapStoreErr(err, ie, id)
		}
		if salesRowState(inc) != 0 {
			return dverr.New(http.StatusBadRequest, codeIncidentAlreadyClosed, "Already Closed or Canceled")
		}
		status, err := salesCheckStatus(ie, id, 1, salesIntArg(a, "Status"))
		if err != nil {
			return err
		}
		w := s.newWriter(req.Ctx, tx, req.Caller)
		if _, err := s.salesCreateCloseActivity(req, tx, w, "incidentresolution", m); err != nil {
			return err
		}
		w.closing = true
		return w.update(&writePlan{Entity: ie, Row: model.Row{"statecode": int64(1), "statuscode": status}}, id)
	})
	if err != nil {
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}

// salesMergeable lists the tables Merge accepts, with the column PerformParentingChecks compares.
var salesMergeable = map[string]string{
	"account":  "parentaccountid",
	"contact":  "parentcustomerid",
	"lead":     "parentaccountid",
	"incident": "parentcaseid",
}

// salesMerge serves Merge: Target and Subordinate are rows of the same mergeable table, distinct and
// active. The subordinate's related rows are moved to the target, UpdateContent is written to the
// target (except for cases, whose salesMerge ignores it), and the subordinate is deactivated with
// merged set and masterid pointing at the target.
//
// Dataverse documents that a salesMerge moves related data to the target and that the caller chooses
// the target's new column values with UpdateContent; the emulator copies no other column.
func (s *Handler) salesMerge(req *Request, a *Args) (*wire.Response, error) {
	err := s.InTx(req, true, func(tx *store.Tx) error {
		target, err := s.salesRef(req, tx, a, "Target", "")
		if err != nil {
			return err
		}
		e := target.Entity
		parentCol, ok := salesMergeable[e.LogicalName]
		if !ok {
			// Not documented: the service's answer for another table is not published; this is
			// the closest documented code.
			return dverr.New(http.StatusBadRequest, dverr.CodeNotSupported, "Merge is not supported for the %s entity. Only account, contact, lead and incident rows can be merged.", e.LogicalName)
		}
		sub, err := s.salesRef(req, tx, a, "Subordinate", e.LogicalName)
		if err != nil {
			return err
		}
		if sub.Entity != e {
			// Not documented either: InvalidArgument is the closest published code.
			return dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument, "Merge cannot be performed on a %s and a %s: the Target and the Subordinate must be rows of the same entity.", e.LogicalName, sub.Entity.LogicalName)
		}
		if sub.ID == target.ID {
			return dverr.New(http.StatusBadRequest, codeMergeIdentical, "Merge cannot be performed on master and sub-entities that are identical.")
		}
		cols := []string{"statecode"}
		if has(e, parentCol) {
			cols = append(cols, parentCol)
		}
		trow, _, err := tx.Get(e, target.ID, cols)
		if err != nil {
			return mapStoreErr(err, e, target.ID)
		}
		srow, _, err := tx.Get(e, sub.ID, cols)
		if err != nil {
			return mapStoreErr(err, e, sub.ID)
		}
		if salesRowState(trow) != 0 || salesRowState(srow) != 0 {
			return dverr.New(http.StatusBadRequest, codeMergeNotActive, "Merge cannot be performed on entity that is inactive.")
		}
		if a.Bool("PerformParentingChecks") {
			tp, _ := trow[parentCol].(model.Lookup)
			sp, _ := srow[parentCol].(model.Lookup)
			switch {
			case sp.ID != "" && tp.ID == "":
				return dverr.New(http.StatusBadRequest, codeMergeLossOfParent, "Merge warning: sub-entity might lose parenting.")
			case sp.ID != "" && sp.ID != tp.ID:
				return dverr.New(http.StatusBadRequest, codeMergeDifferentParent, "Merge warning: sub-entity will be differently parented.")
			}
		}
		w := s.newWriter(req.Ctx, tx, req.Caller)
		if m := salesObjectArg(a, "UpdateContent"); m != nil && e.LogicalName != "incident" {
			ue, err := salesTypedEntity(tx.Schema(), "UpdateContent", m, e.LogicalName)
			if err != nil {
				return err
			}
			if ue != e {
				return dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument, "The UpdateContent of a salesMerge of %s rows must be a %s, not a %s.", e.LogicalName, e.LogicalName, ue.LogicalName)
			}
			plan, err := s.salesDecodeEntity(req, tx, e, m, opUpdate)
			if err != nil {
				return err
			}
			if len(plan.Row) > 0 {
				if err := w.update(plan, target.ID); err != nil {
					return err
				}
			}
		}
		if err := salesReparent(tx, w, e, sub.ID, target.ID); err != nil {
			return err
		}
		return salesDeactivateMerged(tx, w, e, sub.ID, target.ID)
	})
	if err != nil {
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}

// salesReparent points every row that refers to the subordinate through a one-to-many relationship at
// the target instead. The target itself is left alone (a salesMerge never makes a row its own parent),
// as are masterid (the merge's own link) and activitypointer (the store keeps it from the
// activities).
func salesReparent(tx *store.Tx, w *writer, e *model.Entity, subID, targetID string) error {
	sch := tx.Schema()
	for _, r := range sch.Relationships() {
		if r.ReferencedEntity != e.LogicalName || r.ReferencingAttribute == "" || r.ReferencingEntity == store.ActivityPointer {
			continue
		}
		re, ok := sch.Entity(r.ReferencingEntity)
		if !ok {
			continue
		}
		ra, ok := re.Attribute(r.ReferencingAttribute)
		if !ok || !ra.Stored() || !ra.IsLookup() || (re == e && ra.LogicalName == "masterid") {
			continue
		}
		res, err := tx.Select(&model.Query{
			Entity:  re,
			Columns: []*model.Attribute{re.PrimaryID()},
			Filter:  &model.Compare{Left: &model.Column{Attr: ra}, Op: model.Eq, Value: subID},
		})
		if err != nil {
			return err
		}
		for _, row := range res.Rows {
			if re == e && row.ID == targetID {
				continue
			}
			upd := model.Row{ra.LogicalName: model.Lookup{ID: targetID, Entity: e.LogicalName}}
			if err := w.update(&writePlan{Entity: re, Row: upd}, row.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// salesDeactivateMerged closes the subordinate of a merge: accounts and contacts become Inactive, leads
// Disqualified, cases Cancelled with the status Merged (2000) where the table has it; merged is set
// and masterid points at the target. Which status a merged lead takes is not documented; the
// emulator uses the Disqualified state's default status.
func salesDeactivateMerged(tx *store.Tx, w *writer, e *model.Entity, subID, targetID string) error {
	state := int64(1)
	switch e.LogicalName {
	case "lead", "incident":
		state = 2
	}
	upd := model.Row{"statecode": state}
	if ua, ok := e.Attribute("statuscode"); ok {
		if sa, ok := e.Attribute("statecode"); ok {
			if def, ok := defaultStatus(sa, ua, state); ok {
				upd["statuscode"] = def
			}
		}
		if e.LogicalName == "incident" {
			if owner, known := statusState(ua, 2000); known && owner == state {
				upd["statuscode"] = int64(2000)
			}
		}
	}
	setIf(e, upd, "merged", true, true)
	setIf(e, upd, "masterid", model.Lookup{ID: targetID, Entity: e.LogicalName}, true)
	return w.update(&writePlan{Entity: e, Row: upd}, subID)
}
