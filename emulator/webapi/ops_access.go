package webapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// The security operations: record sharing (GrantAccess, ModifyAccess, RevokeAccess and the
// functions that read shares back), a user's privileges and access, and the service's version and
// organization. ops_records.go holds InitializeFrom and IsValidStateTransition.
//
// The emulator enforces no security: every caller may read and write every row. These operations
// answer as Dataverse does for the model they keep:
//
//   - Shares are kept per record and principal (user or team) in the store, as Dataverse keeps
//     them in principalobjectaccess; the built-in fixtures have no such table.
//   - A role's privileges: the fixtures have no privilege or roleprivileges rows, so every role is
//     taken to hold every privilege the tables' metadata lists (EntityMetadata.Privileges) at
//     Global depth, as the System Administrator role does. A user without roles has none.
//   - A principal's access to a record is every right when it owns the record (directly or
//     through a team it belongs to) or holds a role, plus what the record is shared with it or
//     its teams.

// accessRight is a member of the AccessRights enum, a flags enum.
type accessRight struct {
	name string
	bit  int64
}

// accessRights are the AccessRights members in value order, the order Dataverse writes them in a
// flags value ("ReadAccess, WriteAccess").
var accessRights = []accessRight{
	{"ReadAccess", 1}, {"WriteAccess", 2}, {"AppendAccess", 4}, {"AppendToAccess", 16},
	{"CreateAccess", 32}, {"DeleteAccess", 65536}, {"ShareAccess", 262144}, {"AssignAccess", 524288},
}

// allAccess is every right a user-owned record has.
const allAccess int64 = 1 | 2 | 4 | 16 | 32 | 65536 | 262144 | 524288

// shareableAccess is what GrantAccess and ModifyAccess may give: every right but CreateAccess,
// which is not a right on an existing record. Dataverse ignores it in a share; so does the emulator.
const shareableAccess = allAccess &^ 32

// formatAccess writes an AccessRights value as its member names, "None" for no right.
func formatAccess(mask int64) string {
	var names []string
	for _, r := range accessRights {
		if mask&r.bit != 0 {
			names = append(names, r.name)
		}
	}
	if len(names) == 0 {
		return "None"
	}
	return strings.Join(names, ", ")
}

// parseAccess reads an AccessRights value: member names separated by commas (the form a flags
// enum takes in JSON and in Microsoft.Dynamics.CRM.AccessRights'...' literals) or the number.
func parseAccess(param string, v any) (int64, error) {
	bad := func() error {
		return errParam("The value of the parameter '%s' is not a valid value of the enum type 'Microsoft.Dynamics.CRM.AccessRights'.", param)
	}
	var text string
	switch x := v.(type) {
	case json.Number:
		text = x.String()
	case string:
		text = x
	default:
		return 0, bad()
	}
	var mask int64
	for _, part := range strings.Split(text, ",") {
		part = strings.TrimSpace(part)
		if n, err := strconv.ParseInt(part, 10, 64); err == nil {
			if n < 0 || n&^allAccess != 0 {
				return 0, bad()
			}
			mask |= n
			continue
		}
		found := part == "None"
		for _, r := range accessRights {
			if r.name == part {
				mask |= r.bit
				found = true
			}
		}
		if !found {
			return 0, bad()
		}
	}
	return mask, nil
}

// recordRef resolves an entity reference parameter to its table and row, which must exist. It
// takes both forms Dataverse takes: {"@odata.id": "accounts(<id>)"} (the one function URLs use)
// and {"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": "<id>"} (actions' bodies).
// Principals may also name their row by ownerid, the key of their base type.
func (s *Handler) recordRef(req *Request, tx *store.Tx, param string, v any) (*model.Entity, string, error) {
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, "", errParam("The parameter '%s' must be an entity reference: an object with '@odata.id', or '@odata.type' and the row's id.", param)
	}
	if ref, ok := obj["@odata.id"].(string); ok {
		e, k, err := s.decoderFor(req, tx).resolveURL(ref)
		if err != nil {
			return nil, "", err
		}
		id, err := lookupKey(tx, e, k)
		if err != nil {
			return nil, "", asNotFound(err)
		}
		return e, id, s.mustExist(tx, e, id)
	}
	typ, _ := obj["@odata.type"].(string)
	if typ == "" {
		return nil, "", errParam("The entity reference given for the parameter '%s' has neither '@odata.id' nor '@odata.type'.", param)
	}
	name := strings.TrimPrefix(strings.TrimPrefix(typ, "#"), crmNamespace)
	e, ok := tx.Schema().Entity(name)
	if !ok || strings.Contains(name, ".") {
		return nil, "", errParam("A type named '%s' could not be resolved by the model. When a model is available, each type name must resolve to a valid type.", strings.TrimPrefix(typ, "#"))
	}
	raw, has := obj[e.PrimaryIDAttribute]
	if !has && (e.LogicalName == "systemuser" || e.LogicalName == "team") {
		raw, has = obj["ownerid"]
	}
	id, _ := raw.(string)
	if !has || raw == nil {
		// The platform's wording for a reference without an id is not published; this is the
		// InvalidArgument code with a message that names what is missing.
		return nil, "", dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument,
			"The entity reference given for the parameter '%s' has no '%s': the id of the %s record is required.", param, e.PrimaryIDAttribute, e.LogicalName)
	}
	if !model.IsGUID(id) {
		return nil, "", errParam("Cannot convert the literal '%v' to the expected type 'Edm.Guid'.", raw)
	}
	id = strings.ToLower(id)
	return e, id, s.mustExist(tx, e, id)
}

// mustExist answers Dataverse's 404 for a row that does not exist.
func (s *Handler) mustExist(tx *store.Tx, e *model.Entity, id string) error {
	ok, err := tx.Exists(e, id)
	if err != nil {
		return err
	}
	if !ok {
		return dverr.RecordNotFound(e.LogicalName, id)
	}
	return nil
}

// shareTarget resolves the Target of a sharing operation: a record of a table whose rows have
// owners, the only ones Dataverse shares.
func (s *Handler) shareTarget(req *Request, tx *store.Tx, a *Args) (*model.Entity, string, error) {
	e, id, err := s.recordRef(req, tx, "Target", a.Values["Target"])
	if err != nil {
		return nil, "", err
	}
	if e.OwnershipType != "UserOwned" {
		// Dataverse refuses to share rows of organization-owned tables; the exact code of that
		// refusal is not published, so this uses InvalidArgument.
		return nil, "", dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument,
			"The entity '%s' is not user or team owned: its records cannot be shared.", e.LogicalName)
	}
	return e, id, nil
}

// principalRef resolves a security principal parameter: a systemuser or a team that exists.
func (s *Handler) principalRef(req *Request, tx *store.Tx, param string, v any) (*model.Entity, string, error) {
	e, id, err := s.recordRef(req, tx, param, v)
	if err != nil {
		return nil, "", err
	}
	if e.LogicalName != "systemuser" && e.LogicalName != "team" {
		return nil, "", dverr.New(http.StatusBadRequest, dverr.CodeInvalidArgument,
			"The parameter '%s' must be a security principal (a systemuser or a team), not a %s.", param, e.LogicalName)
	}
	return e, id, nil
}

// principalAccessArg reads the PrincipalAccess parameter of GrantAccess and ModifyAccess.
func (s *Handler) principalAccessArg(req *Request, tx *store.Tx, a *Args) (*model.Entity, string, int64, error) {
	pa, ok := a.Values["PrincipalAccess"].(map[string]any)
	if !ok {
		return nil, "", 0, errParam("The parameter 'PrincipalAccess' must be an object of type 'Microsoft.Dynamics.CRM.PrincipalAccess'.")
	}
	for name := range pa {
		if name != "Principal" && name != "AccessMask" && !strings.HasPrefix(name, "@") {
			return nil, "", 0, errParam("The property '%s' does not exist on type 'Microsoft.Dynamics.CRM.PrincipalAccess'. Make sure to only use property names that are defined by the type.", name)
		}
	}
	if pa["Principal"] == nil {
		return nil, "", 0, errParam("The property 'Principal' of the parameter 'PrincipalAccess' is required and was not given a value.")
	}
	pe, pid, err := s.principalRef(req, tx, "PrincipalAccess.Principal", pa["Principal"])
	if err != nil {
		return nil, "", 0, err
	}
	mask := int64(0)
	if raw, ok := pa["AccessMask"]; ok && raw != nil {
		if mask, err = parseAccess("PrincipalAccess.AccessMask", raw); err != nil {
			return nil, "", 0, err
		}
	}
	return pe, pid, mask & shareableAccess, nil
}

// grantAccess serves GrantAccess, which adds rights to a principal's share of a record, and
// modifyAccess ModifyAccess, which replaces them. A share left with no right is removed.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/grantaccess
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/modifyaccess
func (s *Handler) grantAccess(req *Request, _ *Operation, a *Args) (*wire.Response, error) {
	return s.share(req, a, false)
}

func (s *Handler) modifyAccess(req *Request, _ *Operation, a *Args) (*wire.Response, error) {
	return s.share(req, a, true)
}

// share records a share: replace says whether the rights given replace the principal's current
// ones (ModifyAccess) or add to them (GrantAccess).
func (s *Handler) share(req *Request, a *Args, replace bool) (*wire.Response, error) {
	err := s.InTx(req, true, func(tx *store.Tx) error {
		e, id, err := s.shareTarget(req, tx, a)
		if err != nil {
			return err
		}
		pe, pid, mask, err := s.principalAccessArg(req, tx, a)
		if err != nil {
			return err
		}
		old, had, err := tx.Share(e.LogicalName, id, pid)
		if err != nil {
			return err
		}
		if !replace && had {
			mask |= old.Mask
		}
		if mask == 0 {
			_, err := tx.DeleteShare(e.LogicalName, id, pid)
			return err
		}
		return tx.PutShare(store.Share{Entity: e.LogicalName, RecordID: id, PrincipalType: pe.LogicalName, PrincipalID: pid, Mask: mask})
	})
	if err != nil {
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}

// revokeAccess serves RevokeAccess: the principal's share of the record is removed (revoking a
// share that does not exist changes nothing and succeeds).
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/revokeaccess
func (s *Handler) revokeAccess(req *Request, _ *Operation, a *Args) (*wire.Response, error) {
	err := s.InTx(req, true, func(tx *store.Tx) error {
		e, id, err := s.shareTarget(req, tx, a)
		if err != nil {
			return err
		}
		_, pid, err := s.principalRef(req, tx, "Revokee", a.Values["Revokee"])
		if err != nil {
			return err
		}
		_, err = tx.DeleteShare(e.LogicalName, id, pid)
		return err
	})
	if err != nil {
		return nil, err
	}
	return wire.NewResponse(http.StatusNoContent), nil
}

// principalObject writes a principal as Dataverse writes a crmbaseentity that is a principal: its
// type and the key of the principal base type.
func principalObject(entity, id string) *wire.Object {
	o := wire.NewObject()
	o.Set("@odata.type", "#"+crmNamespace+entity)
	o.Set("ownerid", id)
	return o
}

// retrieveSharedPrincipalsAndAccess serves RetrieveSharedPrincipalsAndAccess: the principals a
// record is shared with and their rights, in the order the shares were made.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/retrievesharedprincipalsandaccess
func (s *Handler) retrieveSharedPrincipalsAndAccess(req *Request, op *Operation, a *Args) (*wire.Response, error) {
	list := []*wire.Object{}
	err := s.InTx(req, false, func(tx *store.Tx) error {
		e, id, err := s.shareTarget(req, tx, a)
		if err != nil {
			return err
		}
		shares, err := tx.Shares(e.LogicalName, id)
		if err != nil {
			return err
		}
		for _, sh := range shares {
			o := wire.NewObject()
			o.Set("AccessMask", formatAccess(sh.Mask))
			o.Set("Principal", principalObject(sh.PrincipalType, sh.PrincipalID))
			list = append(list, o)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	body := wire.NewObject()
	body.Set("PrincipalAccesses", list)
	return OperationResponse(req, op.Returns, body), nil
}

// retrievePrincipalAccess serves RetrievePrincipalAccess, bound to the user whose access to the
// Target record it answers.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/retrieveprincipalaccess
func (s *Handler) retrievePrincipalAccess(req *Request, op *Operation, a *Args) (*wire.Response, error) {
	var mask int64
	err := s.InTx(req, false, func(tx *store.Tx) error {
		e, id, err := s.recordRef(req, tx, "Target", a.Values["Target"])
		if err != nil {
			return err
		}
		mask, err = userAccess(tx, a.ID, e, id)
		return err
	})
	if err != nil {
		return nil, err
	}
	body := wire.NewObject()
	body.Set("AccessRights", formatAccess(mask))
	return OperationResponse(req, op.Returns, body), nil
}

// userAccess is a user's access to a record: every right when the user holds a role or owns the
// record (itself or through one of its teams), plus the shares with the user and its teams.
func userAccess(tx *store.Tx, userID string, e *model.Entity, id string) (int64, error) {
	roles, err := linkedIDs(tx, "systemuserroles_association", "systemuser", userID)
	if err != nil {
		return 0, err
	}
	if len(roles) > 0 {
		return recordRights(e), nil
	}
	teams, err := linkedIDs(tx, "teammembership_association", "systemuser", userID)
	if err != nil {
		return 0, err
	}
	principals := map[string]bool{strings.ToLower(userID): true}
	for _, t := range teams {
		principals[strings.ToLower(t)] = true
	}
	if a, ok := e.Attribute("ownerid"); ok && a.IsLookup() {
		row, _, err := tx.Get(e, id, []string{"ownerid"})
		if err != nil {
			return 0, err
		}
		if l, ok := row["ownerid"].(model.Lookup); ok && principals[strings.ToLower(l.ID)] {
			return recordRights(e), nil
		}
	}
	shares, err := tx.Shares(e.LogicalName, id)
	if err != nil {
		return 0, err
	}
	var mask int64
	for _, sh := range shares {
		if principals[sh.PrincipalID] {
			mask |= sh.Mask
		}
	}
	return mask, nil
}

// recordRights is every right a record of e can be held with: the ones its table's privileges
// cover (no Share or Assign on tables without owners).
func recordRights(e *model.Entity) int64 {
	if e.OwnershipType == "UserOwned" {
		return allAccess
	}
	return allAccess &^ (262144 | 524288)
}

// linkedIDs returns the rows an N:N relationship links to a row; none when the schema lacks the
// relationship.
func linkedIDs(tx *store.Tx, relationship, entity, id string) ([]string, error) {
	r, ok := tx.Schema().Relationship(relationship)
	if !ok {
		return nil, nil
	}
	return tx.Linked(r, entity, id)
}

// retrieveUserPrivileges serves RetrieveUserPrivileges, bound to a user: the privileges of the
// user's roles (see the top of this file for how a role's privileges are derived), each once.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/retrieveuserprivileges
func (s *Handler) retrieveUserPrivileges(req *Request, op *Operation, a *Args) (*wire.Response, error) {
	list := []*wire.Object{}
	err := s.InTx(req, false, func(tx *store.Tx) error {
		roles, err := linkedIDs(tx, "systemuserroles_association", "systemuser", a.ID)
		if err != nil || len(roles) == 0 {
			return err
		}
		// The business unit is the first role's, as every derived privilege is held by every role.
		bu := ""
		if role, ok := tx.Schema().Entity("role"); ok {
			row, _, err := tx.Get(role, roles[0], []string{"businessunitid"})
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if l, ok := row["businessunitid"].(model.Lookup); ok {
				bu = l.ID
			}
		}
		seen := map[string]bool{}
		for _, e := range tx.Schema().Entities() {
			var doc struct {
				Privileges []struct {
					Name        string `json:"Name"`
					PrivilegeID string `json:"PrivilegeId"`
				} `json:"Privileges"`
			}
			if err := json.Unmarshal(e.Raw, &doc); err != nil {
				continue
			}
			for _, p := range doc.Privileges {
				if p.PrivilegeID == "" || seen[p.PrivilegeID] {
					continue
				}
				seen[p.PrivilegeID] = true
				o := wire.NewObject()
				o.Set("Depth", "Global")
				o.Set("PrivilegeId", p.PrivilegeID)
				o.Set("BusinessUnitId", bu)
				o.Set("PrivilegeName", p.Name)
				list = append(list, o)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	body := wire.NewObject()
	body.Set("RolePrivileges", list)
	return OperationResponse(req, op.Returns, body), nil
}

// serviceVersion is the version RetrieveVersion reports: the Dataverse release whose Web API the
// emulator follows (v9.2), with build numbers of its own.
const serviceVersion = "9.2.0.0"

// retrieveVersion serves RetrieveVersion.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/retrieveversion
func (s *Handler) retrieveVersion(req *Request, op *Operation, _ *Args) (*wire.Response, error) {
	body := wire.NewObject()
	body.Set("Version", serviceVersion)
	return OperationResponse(req, op.Returns, body), nil
}

// endpointAccessTypes are the members of the EndpointAccessType enum, by name and value.
var endpointAccessTypes = map[string]bool{"Default": true, "Internet": true, "Intranet": true, "0": true, "1": true, "2": true}

// retrieveCurrentOrganization serves RetrieveCurrentOrganization: the organization row's name and
// id, and the endpoints of the service the request was sent to.
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/reference/retrievecurrentorganization
func (s *Handler) retrieveCurrentOrganization(req *Request, op *Operation, a *Args) (*wire.Response, error) {
	access := ""
	switch v := a.Values["AccessType"].(type) {
	case string:
		access = v
	case json.Number:
		access = v.String()
	}
	if !endpointAccessTypes[access] {
		return nil, errParam("The value of the parameter 'AccessType' is not a valid value of the enum type 'Microsoft.Dynamics.CRM.EndpointAccessType'.")
	}
	var orgID, name string
	err := s.InTx(req, false, func(tx *store.Tx) error {
		id, err := organizationID(tx)
		if err != nil || id == "" {
			return err
		}
		orgID = id
		e, _ := tx.Schema().Entity("organization")
		row, _, err := tx.Get(e, id, []string{e.PrimaryNameAttribute})
		if err != nil {
			return err
		}
		name, _ = row[e.PrimaryNameAttribute].(string)
		return nil
	})
	if err != nil {
		return nil, err
	}
	origin := req.Base
	if i := strings.Index(origin, "/api/data/"); i >= 0 {
		origin = origin[:i]
	}
	origin = strings.TrimSuffix(origin, "/")
	endpoints := wire.NewObject()
	endpoints.Set("Count", 3)
	endpoints.Set("IsReadOnly", false)
	endpoints.Set("Keys", []string{"WebApplication", "OrganizationService", "OrganizationDataService"})
	endpoints.Set("Values", []string{origin + "/", origin + "/XRMServices/2011/Organization.svc", origin + "/XRMServices/2011/OrganizationData.svc"})
	d := wire.NewObject()
	// DatacenterId, Geo and TenantId describe the hosting of a real environment and have no
	// meaning here: they are null. EnvironmentId is the organization's id.
	d.Set("DatacenterId", nil)
	d.Set("Endpoints", endpoints)
	d.Set("EnvironmentId", orgID)
	d.Set("FriendlyName", name)
	d.Set("Geo", nil)
	d.Set("OrganizationId", orgID)
	d.Set("OrganizationType", "Developer")
	d.Set("OrganizationVersion", serviceVersion)
	d.Set("SchemaType", "Standard")
	d.Set("State", "Enabled")
	d.Set("TenantId", nil)
	d.Set("UniqueName", name)
	d.Set("UrlName", name)
	body := wire.NewObject()
	body.Set("Detail", d)
	return OperationResponse(req, op.Returns, body), nil
}

// withOp makes an operation's Serve call f with the operation itself, whose Returns names the
// answer's type.
func withOp(op *Operation, f func(*Handler, *Request, *Operation, *Args) (*wire.Response, error)) *Operation {
	op.Serve = func(s *Handler, req *Request, a *Args) (*wire.Response, error) { return f(s, req, op, a) }
	return op
}

func init() {
	target := Param{Name: "Target", Type: "mscrm.crmbaseentity"}
	principalAccess := Param{Name: "PrincipalAccess", Type: "mscrm.PrincipalAccess"}
	registerBuiltin(
		withOp(&Operation{Name: "RetrieveVersion", Kind: Function, Returns: "mscrm.RetrieveVersionResponse",
			Response: []Param{{Name: "Version", Type: "Edm.String"}}}, (*Handler).retrieveVersion),
		withOp(&Operation{Name: "RetrieveCurrentOrganization", Kind: Function, Returns: "mscrm.RetrieveCurrentOrganizationResponse",
			Params:   []Param{{Name: "AccessType", Type: "mscrm.EndpointAccessType"}},
			Response: []Param{{Name: "Detail", Type: "mscrm.OrganizationDetail"}}}, (*Handler).retrieveCurrentOrganization),
		withOp(&Operation{Name: "RetrieveUserPrivileges", Kind: Function, Binding: BoundEntity, Entity: "systemuser",
			Returns:  "mscrm.RetrieveUserPrivilegesResponse",
			Response: []Param{{Name: "RolePrivileges", Type: "Collection(mscrm.RolePrivilege)"}}}, (*Handler).retrieveUserPrivileges),
		withOp(&Operation{Name: "RetrievePrincipalAccess", Kind: Function, Binding: BoundEntity, Entity: "systemuser",
			Params: []Param{target}, Returns: "mscrm.RetrievePrincipalAccessResponse",
			Response: []Param{{Name: "AccessRights", Type: "mscrm.AccessRights"}}}, (*Handler).retrievePrincipalAccess),
		withOp(&Operation{Name: "RetrieveSharedPrincipalsAndAccess", Kind: Function, Params: []Param{target},
			Returns:  "mscrm.RetrieveSharedPrincipalsAndAccessResponse",
			Response: []Param{{Name: "PrincipalAccesses", Type: "Collection(mscrm.PrincipalAccess)"}}}, (*Handler).retrieveSharedPrincipalsAndAccess),
		withOp(&Operation{Name: "GrantAccess", Kind: Action, Params: []Param{target, principalAccess}}, (*Handler).grantAccess),
		withOp(&Operation{Name: "ModifyAccess", Kind: Action, Params: []Param{target, principalAccess}}, (*Handler).modifyAccess),
		withOp(&Operation{Name: "RevokeAccess", Kind: Action, Params: []Param{target, {Name: "Revokee", Type: "mscrm.crmbaseentity"}}}, (*Handler).revokeAccess),
	)
}
