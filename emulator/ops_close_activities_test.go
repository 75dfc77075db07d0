package emulator_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
)

// closeActivity reads the one row of set whose lookup column points at id.
func (e *env) closeActivity(set, lookup, id, sel string) map[string]any {
	e.t.Helper()
	list := e.salesGet(set + "?$filter=_" + lookup + "_value%20eq%20" + id + "&$select=" + sel)
	rows := list["value"].([]any)
	if len(rows) != 1 {
		e.t.Fatalf("%s for %s: %d rows", set, id, len(rows))
	}
	return rows[0].(map[string]any)
}

// WinOpportunity and LoseOpportunity create an opportunityclose activity with the values given,
// completed (state Completed, status Completed), with its activitypointers row.
func TestWinOpportunityCreatesOpportunityClose(t *testing.T) {
	e := newEnv(t)
	account := e.salesCreate("accounts", map[string]any{"name": "Buyer"})
	newOpp := func() string {
		return e.salesCreate("opportunities", map[string]any{"name": "Deal", "customerid_account@odata.bind": "/accounts(" + account + ")"})
	}
	won := newOpp()
	e.do("POST", "WinOpportunity", map[string]any{"Status": 3, "OpportunityClose": map[string]any{
		"subject": "Won the deal", "actualrevenue": 1234.5,
		"opportunityid@odata.bind": "/opportunities(" + won + ")"}}).expect(t, http.StatusNoContent)
	c := e.closeActivity("opportunitycloses", "opportunityid", won, "subject,actualrevenue,statecode,statuscode,activityid,opportunityid")
	if rev, _ := c["actualrevenue"].(json.Number).Float64(); c["subject"] != "Won the deal" || rev != 1234.5 ||
		c["statecode"] != json.Number("1") || c["statuscode"] != json.Number("2") || c["_opportunityid_value"] != won {
		t.Errorf("opportunityclose = %v", c)
	}
	p := e.salesGet("activitypointers(" + c["activityid"].(string) + ")?$select=activitytypecode,subject,statecode")
	if p["activitytypecode"] != "opportunityclose" || p["subject"] != "Won the deal" || p["statecode"] != json.Number("1") {
		t.Errorf("activitypointer = %v", p)
	}
	// The opportunity lists its close activities through Opportunity_OpportunityClose.
	list := e.salesGet("opportunities(" + won + ")/Opportunity_OpportunityClose?$select=subject")
	if n := len(list["value"].([]any)); n != 1 {
		t.Errorf("Opportunity_OpportunityClose: %d rows", n)
	}

	lost := newOpp()
	e.do("POST", "LoseOpportunity", map[string]any{"Status": 5, "OpportunityClose": map[string]any{
		"subject": "Lost the deal", "opportunityid@odata.bind": "/opportunities(" + lost + ")"}}).expect(t, http.StatusNoContent)
	c = e.closeActivity("opportunitycloses", "opportunityid", lost, "subject,statecode,statuscode")
	if c["subject"] != "Lost the deal" || c["statecode"] != json.Number("1") || c["statuscode"] != json.Number("2") {
		t.Errorf("opportunityclose = %v", c)
	}

	// A refused close writes no activity.
	open := newOpp()
	e.do("POST", "WinOpportunity", map[string]any{"Status": 5, "OpportunityClose": map[string]any{
		"subject": "Wrong status", "opportunityid@odata.bind": "/opportunities(" + open + ")"}}).expect(t, http.StatusBadRequest)
	list = e.salesGet("opportunitycloses?$filter=_opportunityid_value%20eq%20" + open)
	if n := len(list["value"].([]any)); n != 0 {
		t.Errorf("refused close left %d opportunityclose rows", n)
	}
}

// CloseIncident creates an incidentresolution activity with the values given, completed (state
// Completed, status Closed).
func TestCloseIncidentCreatesIncidentResolution(t *testing.T) {
	e := newEnv(t)
	account := e.salesCreate("accounts", map[string]any{"name": "Customer"})
	inc := e.salesCreate("incidents", map[string]any{"title": "Broken", "customerid_account@odata.bind": "/accounts(" + account + ")"})
	e.do("POST", "CloseIncident", map[string]any{"Status": 5, "IncidentResolution": map[string]any{
		"subject": "Fixed it", "timespent": 30, "incidentid@odata.bind": "/incidents(" + inc + ")"}}).expect(t, http.StatusNoContent)
	r := e.closeActivity("incidentresolutions", "incidentid", inc, "subject,timespent,statecode,statuscode,activityid,incidentid")
	if r["subject"] != "Fixed it" || r["timespent"] != json.Number("30") ||
		r["statecode"] != json.Number("1") || r["statuscode"] != json.Number("2") || r["_incidentid_value"] != inc {
		t.Errorf("incidentresolution = %v", r)
	}
	p := e.salesGet("activitypointers(" + r["activityid"].(string) + ")?$select=activitytypecode")
	if p["activitytypecode"] != "incidentresolution" {
		t.Errorf("activitypointer = %v", p)
	}
}

// An email's attachment keeps its body as the base64 text it was given.
func TestEmailAttachmentBodyRoundTrips(t *testing.T) {
	e := newEnv(t)
	email := e.salesCreate("emails", map[string]any{"subject": "With attachment"})
	content := []byte("%PDF-1.4 binary \x00\x01\x02\xff")
	body := base64.StdEncoding.EncodeToString(content)
	id := e.salesCreate("activitymimeattachments", map[string]any{
		"subject": "Invoice", "filename": "invoice.pdf", "mimetype": "application/pdf", "body": body,
		"objecttypecode":                      "email",
		"objectid_activitypointer@odata.bind": "/activitypointers(" + email + ")",
	})
	a := e.salesGet("activitymimeattachments(" + id + ")?$select=body,filename,mimetype,subject,_objectid_value")
	if a["body"] != body || a["filename"] != "invoice.pdf" || a["mimetype"] != "application/pdf" || a["_objectid_value"] != email {
		t.Fatalf("attachment = %v", a)
	}
	got, err := base64.StdEncoding.DecodeString(a["body"].(string))
	if err != nil || string(got) != string(content) {
		t.Errorf("body decodes to %q, %v", got, err)
	}
	// The email lists it through email_activity_mime_attachment.
	list := e.salesGet("emails(" + email + ")/email_activity_mime_attachment?$select=filename")
	if rows := list["value"].([]any); len(rows) != 1 || rows[0].(map[string]any)["filename"] != "invoice.pdf" {
		t.Errorf("email_activity_mime_attachment = %v", list["value"])
	}
	// Deleting the email deletes its attachments.
	e.do("DELETE", "emails("+email+")", nil).expect(t, http.StatusNoContent)
	e.do("GET", "activitymimeattachments("+id+")", nil).expect(t, http.StatusNotFound)
}
