package emulator_test

import (
	"encoding/json"
	"net/http"
	"testing"
)

// create posts a row and returns its id.
func (e *env) salesCreate(set string, body map[string]any) string {
	e.t.Helper()
	r := e.do("POST", set, body).expect(e.t, http.StatusNoContent)
	return idFromEntityID(e.t, r.Header)
}

// get reads a row's columns.
func (e *env) salesGet(path string) map[string]any {
	e.t.Helper()
	return e.do("GET", path, nil).expect(e.t, http.StatusOK).JSON(e.t)
}

func TestQualifyLead(t *testing.T) {
	e := newEnv(t)
	lead := e.salesCreate("leads", map[string]any{
		"firstname": "Ada", "lastname": "Lovelace", "companyname": "Analytical Engines",
		"subject": "Difference engine", "emailaddress1": "ada@example.com", "telephone1": "555-0100",
	})
	r := e.do("POST", "leads("+lead+")/Microsoft.Dynamics.CRM.QualifyLead", map[string]any{
		"CreateAccount": true, "CreateContact": true, "CreateOpportunity": true, "Status": 3,
	}).expect(t, http.StatusOK).JSON(t)
	if ctx, _ := r["@odata.context"].(string); ctx != e.api+"$metadata#Microsoft.Dynamics.CRM.QualifyLeadResponse" {
		t.Errorf("@odata.context = %q", ctx)
	}
	list, _ := r["CreatedEntities"].([]any)
	if len(list) != 3 {
		t.Fatalf("CreatedEntities = %v", r["CreatedEntities"])
	}
	ids := map[string]string{}
	for _, x := range list {
		m := x.(map[string]any)
		typ, _ := m["@odata.type"].(string)
		for _, n := range []string{"account", "contact", "opportunity"} {
			if typ == "#Microsoft.Dynamics.CRM."+n {
				ids[n], _ = m[n+"id"].(string)
			}
		}
	}
	if len(ids) != 3 {
		t.Fatalf("created = %v", list)
	}
	acc := e.salesGet("accounts(" + ids["account"] + ")?$select=name,emailaddress1,_originatingleadid_value")
	if acc["name"] != "Analytical Engines" || acc["emailaddress1"] != "ada@example.com" || acc["_originatingleadid_value"] != lead {
		t.Errorf("account = %v", acc)
	}
	con := e.salesGet("contacts(" + ids["contact"] + ")?$select=fullname,_parentcustomerid_value,_originatingleadid_value")
	if con["fullname"] != "Ada Lovelace" || con["_parentcustomerid_value"] != ids["account"] || con["_originatingleadid_value"] != lead {
		t.Errorf("contact = %v", con)
	}
	opp := e.salesGet("opportunities(" + ids["opportunity"] + ")?$select=name,_customerid_value,_parentcontactid_value,_originatingleadid_value")
	if opp["name"] != "Difference engine" || opp["_customerid_value"] != ids["account"] || opp["_parentcontactid_value"] != ids["contact"] {
		t.Errorf("opportunity = %v", opp)
	}
	l := e.salesGet("leads(" + lead + ")?$select=statecode,statuscode,_qualifyingopportunityid_value")
	if l["statecode"] != json.Number("1") || l["statuscode"] != json.Number("3") || l["_qualifyingopportunityid_value"] != ids["opportunity"] {
		t.Errorf("lead = %v", l)
	}

	// A qualified lead is closed.
	e.do("POST", "leads("+lead+")/Microsoft.Dynamics.CRM.QualifyLead", map[string]any{
		"CreateAccount": false, "CreateContact": false, "CreateOpportunity": false, "Status": 3,
	}).expectError(t, http.StatusBadRequest, "0x80040519", "The lead is already closed.")
}

func TestQualifyLeadErrors(t *testing.T) {
	e := newEnv(t)
	lead := e.salesCreate("leads", map[string]any{"lastname": "Babbage", "subject": "Engines"})
	account := e.salesCreate("accounts", map[string]any{"name": "Existing"})
	path := "leads(" + lead + ")/Microsoft.Dynamics.CRM.QualifyLead"
	cases := []struct {
		name   string
		body   map[string]any
		status int
		code   string
	}{
		{"status of another state", map[string]any{"CreateAccount": false, "CreateContact": false, "CreateOpportunity": true, "Status": 4}, 400, "0x80048408"},
		{"missing status", map[string]any{"CreateAccount": false, "CreateContact": false, "CreateOpportunity": true}, 400, "0x0"},
		{"customer of the wrong type", map[string]any{"CreateAccount": false, "CreateContact": false, "CreateOpportunity": true, "Status": 3,
			"OpportunityCustomerId": map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.lead", "leadid": lead}}, 400, "0x0"},
		{"customer missing", map[string]any{"CreateAccount": false, "CreateContact": false, "CreateOpportunity": true, "Status": 3,
			"OpportunityCustomerId": map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": "00000000-0000-0000-0000-0000000000aa"}}, 404, "0x80040217"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", path, c.body)
			r.expect(t, c.status)
			if code, _ := r.Error(t); c.code != "0x0" && code != c.code {
				t.Errorf("code = %s, want %s", code, c.code)
			}
		})
	}
	// Nothing was written by the failed calls.
	if l := e.salesGet("leads(" + lead + ")?$select=statecode"); l["statecode"] != json.Number("0") {
		t.Fatalf("lead = %v", l)
	}
	// With an existing customer the opportunity is for that customer.
	r := e.do("POST", path, map[string]any{"CreateAccount": false, "CreateContact": false, "CreateOpportunity": true, "Status": 3,
		"OpportunityCustomerId": map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": account}}).expect(t, http.StatusOK).JSON(t)
	opp := r["CreatedEntities"].([]any)[0].(map[string]any)["opportunityid"].(string)
	if o := e.salesGet("opportunities(" + opp + ")?$select=_customerid_value"); o["_customerid_value"] != account {
		t.Errorf("opportunity = %v", o)
	}
}

func TestWinLoseOpportunity(t *testing.T) {
	e := newEnv(t)
	account := e.salesCreate("accounts", map[string]any{"name": "Buyer"})
	newOpp := func() string {
		return e.salesCreate("opportunities", map[string]any{"name": "Deal", "customerid_account@odata.bind": "/accounts(" + account + ")"})
	}
	won := newOpp()
	e.do("POST", "WinOpportunity", map[string]any{"Status": 3, "OpportunityClose": map[string]any{
		"subject": "Won", "actualrevenue": 1234.5, "actualend": "2026-03-01T00:00:00Z",
		"opportunityid@odata.bind": "/opportunities(" + won + ")"}}).expect(t, http.StatusNoContent)
	o := e.salesGet("opportunities(" + won + ")?$select=statecode,statuscode,actualvalue,actualclosedate")
	if o["statecode"] != json.Number("1") || o["statuscode"] != json.Number("3") || o["actualclosedate"] != "2026-03-01" {
		t.Errorf("won = %v", o)
	}
	e.do("POST", "LoseOpportunity", map[string]any{"Status": 4, "OpportunityClose": map[string]any{
		"opportunityid@odata.bind": "/opportunities(" + won + ")"}}).
		expectError(t, http.StatusBadRequest, "0x80040515", "The opportunity is already closed.")

	lost := newOpp()
	e.do("POST", "LoseOpportunity", map[string]any{"Status": 3, "OpportunityClose": map[string]any{
		"opportunityid@odata.bind": "/opportunities(" + lost + ")"}}).
		expectError(t, http.StatusBadRequest, "0x80048408", "3 is not a valid status code for state code OpportunityState.Lost on opportunity with Id "+lost+".")
	e.do("POST", "LoseOpportunity", map[string]any{"Status": 5, "OpportunityClose": map[string]any{"subject": "Lost"}}).
		expectError(t, http.StatusBadRequest, "0x80043b15", "The opportunity id is missing or invalid.")
	e.do("POST", "LoseOpportunity", map[string]any{"Status": 5, "OpportunityClose": map[string]any{
		"opportunityid@odata.bind": "/opportunities(" + lost + ")"}}).expect(t, http.StatusNoContent)
	if o := e.salesGet("opportunities(" + lost + ")?$select=statecode,statuscode"); o["statecode"] != json.Number("2") || o["statuscode"] != json.Number("5") {
		t.Errorf("lost = %v", o)
	}
	// A plain update still may not win an opportunity.
	e.do("PATCH", "opportunities("+newOpp()+")", map[string]any{"statecode": 1, "statuscode": 3}).expect(t, http.StatusBadRequest)
}

func TestCloseIncident(t *testing.T) {
	e := newEnv(t)
	account := e.salesCreate("accounts", map[string]any{"name": "Customer"})
	inc := e.salesCreate("incidents", map[string]any{"title": "Broken", "customerid_account@odata.bind": "/accounts(" + account + ")"})
	body := func(status int) map[string]any {
		return map[string]any{"Status": status, "IncidentResolution": map[string]any{
			"subject": "Fixed", "incidentid@odata.bind": "/incidents(" + inc + ")"}}
	}
	e.do("POST", "CloseIncident", body(6)).expectError(t, http.StatusBadRequest, "0x80048408", "")
	e.do("POST", "CloseIncident", map[string]any{"Status": 5, "IncidentResolution": map[string]any{"subject": "x"}}).
		expectError(t, http.StatusBadRequest, "0x80044409", "The incident id is missing.")
	e.do("POST", "CloseIncident", body(5)).expect(t, http.StatusNoContent)
	if i := e.salesGet("incidents(" + inc + ")?$select=statecode,statuscode"); i["statecode"] != json.Number("1") || i["statuscode"] != json.Number("5") {
		t.Errorf("incident = %v", i)
	}
	e.do("POST", "CloseIncident", body(5)).expectError(t, http.StatusBadRequest, "0x80044411", "Already Closed or Canceled")
}

func TestMerge(t *testing.T) {
	e := newEnv(t)
	parent := e.salesCreate("accounts", map[string]any{"name": "Parent"})
	target := e.salesCreate("accounts", map[string]any{"name": "Target"})
	sub := e.salesCreate("accounts", map[string]any{"name": "Sub", "parentaccountid@odata.bind": "/accounts(" + parent + ")"})
	child := e.salesCreate("contacts", map[string]any{"lastname": "Child", "parentcustomerid_account@odata.bind": "/accounts(" + sub + ")"})
	ref := func(id string) map[string]any {
		return map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountid": id}
	}
	cases := []struct {
		name string
		body map[string]any
		code string
	}{
		{"same record", map[string]any{"Target": ref(target), "Subordinate": ref(target), "PerformParentingChecks": false}, "0x80045305"},
		{"mismatched types", map[string]any{"Target": ref(target), "Subordinate": map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.contact", "contactid": child}, "PerformParentingChecks": false}, "0x80040203"},
		{"parenting check", map[string]any{"Target": ref(target), "Subordinate": ref(sub), "PerformParentingChecks": true}, "0x80045317"},
		{"unsupported table", map[string]any{"Target": map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.opportunity", "opportunityid": target}, "Subordinate": ref(sub), "PerformParentingChecks": false}, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do("POST", "Merge", c.body)
			if r.Status < 400 || r.Status >= 500 {
				t.Fatalf("status = %d; body %s", r.Status, r.Body)
			}
			if code, _ := r.Error(t); c.code != "" && code != c.code {
				t.Errorf("code = %s, want %s", code, c.code)
			}
		})
	}
	e.do("POST", "Merge", map[string]any{"Target": ref(target), "Subordinate": ref(sub), "PerformParentingChecks": false,
		"UpdateContent": map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.account", "accountnumber": "1234"}}).expect(t, http.StatusNoContent)
	if s := e.salesGet("accounts(" + sub + ")?$select=statecode,statuscode,merged,_masterid_value"); s["statecode"] != json.Number("1") || s["statuscode"] != json.Number("2") || s["merged"] != true || s["_masterid_value"] != target {
		t.Errorf("subordinate = %v", s)
	}
	if a := e.salesGet("accounts(" + target + ")?$select=accountnumber"); a["accountnumber"] != "1234" {
		t.Errorf("target = %v", a)
	}
	if c := e.salesGet("contacts(" + child + ")?$select=_parentcustomerid_value"); c["_parentcustomerid_value"] != target {
		t.Errorf("child = %v", c)
	}
	// The subordinate is now inactive.
	e.do("POST", "Merge", map[string]any{"Target": ref(target), "Subordinate": ref(sub), "PerformParentingChecks": false}).
		expectError(t, http.StatusBadRequest, "0x80045304", "Merge cannot be performed on entity that is inactive.")
}

func TestMergeIncident(t *testing.T) {
	e := newEnv(t)
	account := e.salesCreate("accounts", map[string]any{"name": "Customer"})
	a := e.salesCreate("incidents", map[string]any{"title": "A", "customerid_account@odata.bind": "/accounts(" + account + ")"})
	b := e.salesCreate("incidents", map[string]any{"title": "B", "customerid_account@odata.bind": "/accounts(" + account + ")"})
	e.do("POST", "Merge", map[string]any{
		"Target":                 map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.incident", "incidentid": a},
		"Subordinate":            map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.incident", "incidentid": b},
		"UpdateContent":          map[string]any{"@odata.type": "Microsoft.Dynamics.CRM.incident", "title": "ignored"},
		"PerformParentingChecks": false,
	}).expect(t, http.StatusNoContent)
	if s := e.salesGet("incidents(" + b + ")?$select=statecode,statuscode,merged"); s["statecode"] != json.Number("2") || s["statuscode"] != json.Number("2000") || s["merged"] != true {
		t.Errorf("subordinate = %v", s)
	}
	if s := e.salesGet("incidents(" + a + ")?$select=title"); s["title"] != "A" {
		t.Errorf("target = %v", s)
	}
}
