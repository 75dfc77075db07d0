package webapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// The functions that read a record to answer about another one: InitializeFrom (a new record's
// values, mapped from an existing one) and IsValidStateTransition.

// mappedSystemColumns are the columns InitializeFrom never copies: the ones the platform stamps
// on every row, which no attribute map of Dataverse's covers.
var mappedSystemColumns = map[string]bool{
	"createdon": true, "createdby": true, "createdonbehalfby": true, "modifiedon": true, "modifiedby": true,
	"modifiedonbehalfby": true, "ownerid": true, "owninguser": true, "owningteam": true, "owningbusinessunit": true,
	"statecode": true, "statuscode": true, "versionnumber": true, "importsequencenumber": true,
	"overriddencreatedon": true, "timezoneruleversionnumber": true, "utcconversiontimezonecode": true,
	"exchangerate": true, "processid": true, "stageid": true, "traversedpath": true,
}

// targetFieldTypes are the members of the TargetFieldType enum, by name and value.
var targetFieldTypes = map[string]string{
	"All": "All", "ValidForCreate": "ValidForCreate", "ValidForUpdate": "ValidForUpdate", "ValidForRead": "ValidForRead",
	"0": "All", "1": "ValidForCreate", "2": "ValidForUpdate", "3": "ValidForRead",
}

// enumArg returns an enum parameter's member name or number as text ("" when absent).
func enumArg(a *Args, name string) string {
	switch v := a.Values[name].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	}
	return ""
}

// initializeFrom serves InitializeFrom: the values a new TargetEntityName row takes from the
// EntityMoniker row, as a body ready to POST. The fixtures have no attributemap rows, so the
// emulator maps what Dataverse's default maps do: the lookup of the relationship from the source
// table to the target (the first, by schema name, whose lookup the TargetFieldType allows and is
// not a system column), bound to the source row, and every column both tables have under the same
// name and type that the TargetFieldType allows, except values the new row would take by default
// anyway. A table pair no relationship joins has no map, and is refused.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/initializefrom
func (s *Handler) initializeFrom(req *Request, _ *Operation, a *Args) (*wire.Response, error) {
	fieldType := "All"
	if a.Values["TargetFieldType"] != nil {
		var ok bool
		if fieldType, ok = targetFieldTypes[enumArg(a, "TargetFieldType")]; !ok {
			return nil, errParam("The value of the parameter 'TargetFieldType' is not a valid value of the enum type 'Microsoft.Dynamics.CRM.TargetFieldType'.")
		}
	}
	body := wire.NewObject()
	err := s.InTx(req, false, func(tx *store.Tx) error {
		se, id, err := s.recordRef(req, tx, "EntityMoniker", a.Values["EntityMoniker"])
		if err != nil {
			return err
		}
		name := a.String("TargetEntityName")
		te, ok := tx.Schema().Entity(name)
		if !ok {
			// The platform's code for an unknown table name here is not published; this is
			// InvalidArgument with the metadata cache's wording.
			return dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument, "The entity with a name = '%s' was not found in the MetadataCache.", name)
		}
		var rel *model.Relationship
		for _, r := range tx.Schema().Relationships() {
			if r.Type == model.OneToMany && r.ReferencedEntity == se.LogicalName && r.ReferencingEntity == te.LogicalName &&
				r.ReferencingNav != "" && referencingMappable(te, r, fieldType) {
				rel = r
				break
			}
		}
		if rel == nil {
			// Dataverse answers InitializeFrom between tables without an entity map with an
			// error whose code is not published; InvalidArgument is the closest documented one.
			return dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument,
				"No entity map exists from the entity '%s' to the entity '%s'.", se.LogicalName, te.LogicalName)
		}
		row, _, err := tx.Get(se, id, nil)
		if err != nil {
			return mapStoreErr(err, se, id)
		}
		body.Set("@odata.context", req.Base+"$metadata#"+te.EntitySetName+"/$entity")
		body.Set("@odata.type", "#"+crmNamespace+te.LogicalName)
		body.Set(rel.ReferencingNav+"@odata.bind", se.EntitySetName+"("+id+")")
		for _, ta := range te.Attributes {
			if !mappable(ta, fieldType) || ta.LogicalName == rel.ReferencingAttribute {
				continue
			}
			sa, ok := se.Attribute(ta.LogicalName)
			if !ok || sa.Type != ta.Type || !sa.Stored() || sa.IsPrimaryID || sa.AttributeOf != "" {
				continue
			}
			v := row[sa.LogicalName]
			if v == nil {
				continue
			}
			if l, ok := v.(model.Lookup); ok {
				re, ok := tx.Schema().Entity(l.Entity)
				nav := navFor(te, ta, l.Entity)
				if !ok || nav == ta.LogicalName {
					continue // a lookup to a table the target cannot point at
				}
				body.Set(nav+"@odata.bind", re.EntitySetName+"("+l.ID+")")
				continue
			}
			if !fits(ta, v) || (ta.Default != nil && ta.Default == v) {
				continue
			}
			body.Set(ta.LogicalName, jsonValue(ta, v))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	resp := wire.NewResponse(http.StatusOK)
	resp.JSON = body
	return resp, nil
}

// fits reports whether a source value is valid for the target column: a choice must be one of
// the column's options (same-named choices of two tables often have different ones) and a text no
// longer than the column allows.
func fits(a *model.Attribute, v any) bool {
	has := func(n int64) bool {
		for _, o := range a.Options {
			if o.Value == n {
				return true
			}
		}
		return false
	}
	switch x := v.(type) {
	case int64:
		if a.IsChoice() {
			return has(x)
		}
	case []int64:
		for _, n := range x {
			if !has(n) {
				return false
			}
		}
	case string:
		return a.MaxLength <= 0 || utf16Len(x) <= a.MaxLength
	}
	return true
}

// referencingMappable reports whether InitializeFrom may set the lookup of a relationship: one
// the TargetFieldType allows, and not a system column (contact.accountid, which the platform
// keeps, is not valid for create, so an account maps to a contact's parentcustomerid).
func referencingMappable(te *model.Entity, r *model.Relationship, fieldType string) bool {
	a, ok := te.Attribute(r.ReferencingAttribute)
	return ok && !mappedSystemColumns[a.LogicalName] && mappable(a, fieldType)
}

// mappable reports whether InitializeFrom may fill a target column for a TargetFieldType.
func mappable(a *model.Attribute, fieldType string) bool {
	if a.IsPrimaryID || !a.Stored() || a.AttributeOf != "" || mappedSystemColumns[a.LogicalName] {
		return false
	}
	switch fieldType {
	case "ValidForCreate":
		return a.ValidForCreate
	case "ValidForUpdate":
		return a.ValidForUpdate
	case "ValidForRead":
		return a.ValidForRead
	}
	return true
}

// isValidStateTransition serves IsValidStateTransition: whether the row may move to NewState
// (a state's invariant name, "Resolved") with NewStatus. The move is valid when the status
// belongs to the state and differs from the row's current status. The emulator does not model a
// status's allowed transitions (EnforceStateTransitions), so any other status of the table counts.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/isvalidstatetransition
func (s *Handler) isValidStateTransition(req *Request, op *Operation, a *Args) (*wire.Response, error) {
	status, err := strconv.ParseInt(enumArg(a, "NewStatus"), 10, 32)
	if err != nil {
		return nil, errParam("Cannot convert the value of the parameter 'NewStatus' to the expected type 'Edm.Int32'.")
	}
	valid := false
	err = s.InTx(req, false, func(tx *store.Tx) error {
		e, id, err := s.recordRef(req, tx, "Entity", a.Values["Entity"])
		if err != nil {
			return err
		}
		var sa, ua *model.Attribute
		for _, at := range e.Attributes {
			switch at.Type {
			case model.TypeState:
				sa = at
			case model.TypeStatus:
				ua = at
			}
		}
		if sa == nil || ua == nil {
			return dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument, "The entity '%s' has no state and status.", e.LogicalName)
		}
		newState := a.String("NewState")
		state, found := int64(0), false
		for _, o := range sa.Options {
			if strings.EqualFold(stateInvariantName(sa, o.Value), newState) {
				state, found = o.Value, true
				break
			}
		}
		if !found {
			// The code of this refusal is not published; InvalidArgument is the closest.
			return dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument, "'%s' is not a valid state of the entity '%s'.", newState, e.LogicalName)
		}
		row, _, err := tx.Get(e, id, []string{sa.LogicalName, ua.LogicalName})
		if err != nil {
			return mapStoreErr(err, e, id)
		}
		owner, known := statusState(ua, status)
		current, _ := row[ua.LogicalName].(int64)
		valid = known && owner == state && current != status
		return nil
	})
	if err != nil {
		return nil, err
	}
	body := wire.NewObject()
	body.Set("IsValid", valid)
	return OperationResponse(req, op.Returns, body), nil
}

func init() {
	registerBuiltin(
		withOp(&Operation{Name: "InitializeFrom", Kind: Function, Returns: "mscrm.crmbaseentity",
			Params: []Param{
				{Name: "EntityMoniker", Type: "mscrm.crmbaseentity"},
				{Name: "TargetEntityName", Type: "Edm.String"},
				// Documented as required; the SDK's request defaults it to All, and so does the
				// emulator when it is left out.
				{Name: "TargetFieldType", Type: "mscrm.TargetFieldType", Optional: true},
			}}, (*Handler).initializeFrom),
		withOp(&Operation{Name: "IsValidStateTransition", Kind: Function, Returns: "mscrm.IsValidStateTransitionResponse",
			Params: []Param{
				{Name: "Entity", Type: "mscrm.crmbaseentity"},
				{Name: "NewState", Type: "Edm.String"},
				{Name: "NewStatus", Type: "Edm.Int32"},
			},
			Response: []Param{{Name: "IsValid", Type: "Edm.Boolean"}}}, (*Handler).isValidStateTransition),
	)
}
