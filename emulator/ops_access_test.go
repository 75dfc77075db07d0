package emulator_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	fabrikamID = "4d2c9a10-5e1f-4b7a-9c3d-100000000104" // an account owned by Dana
	danaID     = "4d2c9a10-5e1f-4b7a-9c3d-000000000011"
	systemID   = "4d2c9a10-5e1f-4b7a-9c3d-000000000012"
	defaultBU  = "4d2c9a10-5e1f-4b7a-9c3d-000000000002"
	missingID  = "4d2c9a10-5e1f-4b7a-9c3d-0000000000ff"
)

// withRef adds a parameter alias @t holding an entity reference to the function path.
func withRef(path, alias, ref string) string {
	return path + "?" + alias + "=" + url.QueryEscape("{'@odata.id':'"+ref+"'}")
}

func userRef(id string) map[string]any {
	return map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.systemuser", "systemuserid": id}
}

func accountRef(id string) map[string]any {
	return map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": id}
}

func TestRetrieveVersionAndOrganization(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	got := e.do("GET", "RetrieveVersion()", nil).expect(t, http.StatusOK).JSON(t)
	if got["Version"] != "9.2.0.0" || !strings.HasSuffix(got["@odata.context"].(string), "$metadata#Microsoft.Dynamics.CRM.RetrieveVersionResponse") {
		t.Fatalf("RetrieveVersion = %v", got)
	}
	e.do("POST", "RetrieveVersion", map[string]any{}).expect(t, http.StatusNotFound)

	org := e.do("GET", "RetrieveCurrentOrganization(AccessType=Microsoft.Dynamics.CRM.EndpointAccessType'Default')", nil).expect(t, http.StatusOK).JSON(t)
	d, _ := org["Detail"].(map[string]any)
	if d["FriendlyName"] != "dynlocal" || d["OrganizationId"] != "4d2c9a10-5e1f-4b7a-9c3d-000000000001" || d["State"] != "Enabled" {
		t.Fatalf("Detail = %v", org)
	}
	ep, _ := d["Endpoints"].(map[string]any)
	if keys, _ := ep["Keys"].([]any); len(keys) != 3 || keys[0] != "WebApplication" {
		t.Fatalf("Endpoints = %v", ep)
	}
	e.do("GET", "RetrieveCurrentOrganization()", nil).expect(t, http.StatusBadRequest)
	e.do("GET", "RetrieveCurrentOrganization(AccessType=Microsoft.Dynamics.CRM.EndpointAccessType'Elsewhere')", nil).expect(t, http.StatusBadRequest)
}

func TestSharing(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	shared := func() []any {
		t.Helper()
		got := e.do("GET", withRef("RetrieveSharedPrincipalsAndAccess(Target=@t)", "@t", "accounts("+fabrikamID+")"), nil).expect(t, http.StatusOK).JSON(t)
		list, _ := got["PrincipalAccesses"].([]any)
		return list
	}
	access := func(user string) string {
		t.Helper()
		got := e.do("GET", withRef("systemusers("+user+")/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@t)", "@t", "accounts("+fabrikamID+")"), nil).
			expect(t, http.StatusOK).JSON(t)
		return got["AccessRights"].(string)
	}
	if got := shared(); len(got) != 0 {
		t.Fatalf("shares before any grant: %v", got)
	}
	const all = "ReadAccess, WriteAccess, AppendAccess, AppendToAccess, CreateAccess, DeleteAccess, ShareAccess, AssignAccess"
	if got := access(danaID); got != all {
		t.Errorf("owner's access = %q", got)
	}
	if got := access(systemID); got != "None" {
		t.Errorf("access before a share = %q", got)
	}

	grant := func(action, mask string) {
		t.Helper()
		e.do("POST", action, map[string]any{
			"Target":          accountRef(fabrikamID),
			"PrincipalAccess": map[string]any{"Principal": userRef(systemID), "AccessMask": mask},
		}).expect(t, http.StatusNoContent)
	}
	grant("GrantAccess", "ReadAccess")
	grant("GrantAccess", "WriteAccess")
	want := []any{map[string]any{"AccessMask": "ReadAccess, WriteAccess",
		"Principal": map[string]any{"@odata.type": "#Microsoft.Dynamics.CRM.systemuser", "ownerid": systemID}}}
	if diff := cmp.Diff(want, shared()); diff != "" {
		t.Errorf("shares after two grants (-want +got):\n%s", diff)
	}
	if got := access(systemID); got != "ReadAccess, WriteAccess" {
		t.Errorf("access after grants = %q", got)
	}
	grant("ModifyAccess", "AppendAccess, AppendToAccess")
	if got := access(systemID); got != "AppendAccess, AppendToAccess" {
		t.Errorf("access after ModifyAccess = %q", got)
	}
	e.do("POST", "RevokeAccess", map[string]any{"Target": accountRef(fabrikamID), "Revokee": userRef(systemID)}).expect(t, http.StatusNoContent)
	e.do("POST", "RevokeAccess", map[string]any{"Target": accountRef(fabrikamID), "Revokee": userRef(systemID)}).expect(t, http.StatusNoContent)
	if got := shared(); len(got) != 0 {
		t.Fatalf("shares after revoke: %v", got)
	}
	if got := access(systemID); got != "None" {
		t.Errorf("access after revoke = %q", got)
	}
}

func TestSharingErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	principal := map[string]any{"Principal": userRef(systemID), "AccessMask": "ReadAccess"}
	for _, tc := range []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"no target", map[string]any{"PrincipalAccess": principal}, 400, ""},
		{"target not a reference", map[string]any{"Target": "accounts", "PrincipalAccess": principal}, 400, ""},
		{"target without id", map[string]any{"Target": map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account"}, "PrincipalAccess": principal}, 400, "0x80040203"},
		{"unknown target type", map[string]any{"Target": map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.nothing", "nothingid": fabrikamID}, "PrincipalAccess": principal}, 400, ""},
		{"missing target row", map[string]any{"Target": accountRef(missingID), "PrincipalAccess": principal}, 404, "0x80040217"},
		{"missing principal", map[string]any{"Target": accountRef(fabrikamID), "PrincipalAccess": map[string]any{"Principal": userRef(missingID), "AccessMask": "ReadAccess"}}, 404, "0x80040217"},
		{"principal not a principal", map[string]any{"Target": accountRef(fabrikamID), "PrincipalAccess": map[string]any{"Principal": accountRef(fabrikamID), "AccessMask": "ReadAccess"}}, 400, "0x80040203"},
		{"bad mask", map[string]any{"Target": accountRef(fabrikamID), "PrincipalAccess": map[string]any{"Principal": userRef(systemID), "AccessMask": "EverythingAccess"}}, 400, ""},
		{"organization-owned target", map[string]any{"Target": map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.organization", "organizationid": "4d2c9a10-5e1f-4b7a-9c3d-000000000001"}, "PrincipalAccess": principal}, 400, "0x80040203"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("POST", "GrantAccess", tc.body).expect(t, tc.status)
			if code, _ := r.Error(t); tc.code != "" && code != tc.code {
				t.Errorf("code = %q, want %q", code, tc.code)
			}
		})
	}
	// Nothing was shared by the refused calls.
	got := e.do("GET", withRef("RetrieveSharedPrincipalsAndAccess(Target=@t)", "@t", "accounts("+fabrikamID+")"), nil).expect(t, http.StatusOK).JSON(t)
	if list, _ := got["PrincipalAccesses"].([]any); len(list) != 0 {
		t.Errorf("shares after refused grants: %v", list)
	}
	e.do("GET", withRef("RetrieveSharedPrincipalsAndAccess(Target=@t)", "@t", "accounts("+missingID+")"), nil).
		expectError(t, http.StatusNotFound, "0x80040217", "Entity 'account' With Id = "+missingID+" Does Not Exist")
	e.do("GET", withRef("systemusers("+missingID+")/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@t)", "@t", "accounts("+fabrikamID+")"), nil).
		expect(t, http.StatusNotFound)
	e.do("GET", withRef("accounts("+fabrikamID+")/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@t)", "@t", "accounts("+fabrikamID+")"), nil).
		expect(t, http.StatusNotFound)
	e.do("GET", "GrantAccess", nil).expect(t, http.StatusNotFound)
}

func TestRetrieveUserPrivileges(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	privileges := func() []any {
		t.Helper()
		got := e.do("GET", "systemusers("+danaID+")/Microsoft.Dynamics.CRM.RetrieveUserPrivileges", nil).expect(t, http.StatusOK).JSON(t)
		list, _ := got["RolePrivileges"].([]any)
		return list
	}
	if got := privileges(); len(got) != 0 {
		t.Fatalf("privileges of a user without roles: %d", len(got))
	}
	role := e.do("POST", "roles", map[string]any{"name": "Salesperson", "businessunitid@odata.bind": "/businessunits(" + defaultBU + ")"}).
		expect(t, http.StatusNoContent)
	roleID := idFromEntityID(t, role.Header)
	e.do("POST", "systemusers("+danaID+")/systemuserroles_association/$ref", map[string]any{"@odata.id": e.api + "roles(" + roleID + ")"}).
		expect(t, http.StatusNoContent)
	found := false
	for _, p := range privileges() {
		p := p.(map[string]any)
		if p["PrivilegeName"] == "prvReadAccount" {
			found = p["Depth"] == "Global" && p["BusinessUnitId"] == defaultBU && p["PrivilegeId"] != ""
		}
	}
	if !found {
		t.Fatal("prvReadAccount at Global depth is not among the role's privileges")
	}
	// A user with a role has every right on every record.
	got := e.do("GET", withRef("systemusers("+danaID+")/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@t)", "@t", "accounts(4d2c9a10-5e1f-4b7a-9c3d-100000000101)"), nil).
		expect(t, http.StatusOK).JSON(t)
	if !strings.HasPrefix(got["AccessRights"].(string), "ReadAccess, WriteAccess") {
		t.Errorf("access with a role = %v", got)
	}
}

func TestIsValidStateTransition(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for _, tc := range []struct {
		state  string
		status string
		want   bool
	}{
		{"Inactive", "2", true},
		{"Active", "1", false}, // the row's current status
		{"Inactive", "1", false},
		{"Active", "99", false},
	} {
		got := e.do("GET", withRef("IsValidStateTransition(Entity=@t,NewState='"+tc.state+"',NewStatus="+tc.status+")", "@t", "accounts("+fabrikamID+")"), nil).
			expect(t, http.StatusOK).JSON(t)
		if got["IsValid"] != tc.want {
			t.Errorf("%s/%s: IsValid = %v, want %v", tc.state, tc.status, got["IsValid"], tc.want)
		}
	}
	e.do("GET", withRef("IsValidStateTransition(Entity=@t,NewState='Bogus',NewStatus=1)", "@t", "accounts("+fabrikamID+")"), nil).expect(t, http.StatusBadRequest)
	e.do("GET", withRef("IsValidStateTransition(Entity=@t,NewState='Inactive',NewStatus=2)", "@t", "accounts("+missingID+")"), nil).
		expectError(t, http.StatusNotFound, "0x80040217", "")
	e.do("GET", withRef("IsValidStateTransition(Entity=@t,NewState='Inactive')", "@t", "accounts("+fabrikamID+")"), nil).expect(t, http.StatusBadRequest)
}

func TestInitializeFrom(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	path := "InitializeFrom(EntityMoniker=@p1,TargetEntityName=@p2,TargetFieldType=@p3)?@p1=" +
		url.QueryEscape("{'@odata.id':'accounts("+fabrikamID+")'}") + "&@p2='contact'&@p3=Microsoft.Dynamics.CRM.TargetFieldType'ValidForCreate'"
	got := e.do("GET", path, nil).expect(t, http.StatusOK).JSON(t)
	if got["@odata.type"] != "#Microsoft.Dynamics.CRM.contact" || !strings.HasSuffix(got["@odata.context"].(string), "$metadata#contacts/$entity") {
		t.Fatalf("InitializeFrom = %v", got)
	}
	bound := false
	for k, v := range got {
		if strings.HasSuffix(k, "@odata.bind") && v == "accounts("+fabrikamID+")" {
			bound = true
		}
	}
	if !bound || got["address1_city"] != "Lynnwood" {
		t.Errorf("InitializeFrom = %v", got)
	}
	if _, ok := got["contactid"]; ok {
		t.Error("the target's primary key is mapped")
	}
	// The answer creates the row as it is.
	delete(got, "@odata.context")
	delete(got, "@odata.type")
	got["lastname"] = "Mapped"
	e.do("POST", "contacts", got).expect(t, http.StatusNoContent)

	e.do("GET", "InitializeFrom(EntityMoniker=@p1,TargetEntityName='nothing')?@p1="+url.QueryEscape("{'@odata.id':'accounts("+fabrikamID+")'}"), nil).
		expect(t, http.StatusBadRequest)
	e.do("GET", "InitializeFrom(EntityMoniker=@p1,TargetEntityName='contact')?@p1="+url.QueryEscape("{'@odata.id':'accounts("+missingID+")'}"), nil).
		expectError(t, http.StatusNotFound, "0x80040217", "")
	e.do("GET", "InitializeFrom(EntityMoniker=@p1,TargetEntityName='uom')?@p1="+url.QueryEscape("{'@odata.id':'accounts("+fabrikamID+")'}"), nil).
		expect(t, http.StatusBadRequest)
}

func TestSharingWithTeam(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	const teamID = "4d2c9a10-5e1f-4b7a-9c3d-000000000003"
	access := func() string {
		t.Helper()
		got := e.do("GET", withRef("systemusers("+systemID+")/Microsoft.Dynamics.CRM.RetrievePrincipalAccess(Target=@t)", "@t", "accounts("+fabrikamID+")"), nil).
			expect(t, http.StatusOK).JSON(t)
		return got["AccessRights"].(string)
	}
	e.do("POST", "GrantAccess", map[string]any{
		"Target": accountRef(fabrikamID),
		"PrincipalAccess": map[string]any{
			"Principal":  map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.team", "teamid": teamID},
			"AccessMask": "ReadAccess, ShareAccess",
		},
	}).expect(t, http.StatusNoContent)
	if got := access(); got != "None" {
		t.Errorf("access of a user outside the team = %q", got)
	}
	e.do("POST", "teams("+teamID+")/teammembership_association/$ref", map[string]any{"@odata.id": e.api + "systemusers(" + systemID + ")"}).
		expect(t, http.StatusNoContent)
	if got := access(); got != "ReadAccess, ShareAccess" {
		t.Errorf("access of a team member = %q", got)
	}
	got := e.do("GET", withRef("RetrieveSharedPrincipalsAndAccess(Target=@t)", "@t", "accounts("+fabrikamID+")"), nil).expect(t, http.StatusOK).JSON(t)
	want := []any{map[string]any{"AccessMask": "ReadAccess, ShareAccess",
		"Principal": map[string]any{"@odata.type": "#Microsoft.Dynamics.CRM.team", "ownerid": teamID}}}
	if diff := cmp.Diff(want, got["PrincipalAccesses"]); diff != "" {
		t.Errorf("shares (-want +got):\n%s", diff)
	}
}
