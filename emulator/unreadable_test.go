package emulator_test

import (
	"strings"
	"testing"
)

// TestUnreadableColumnsThroughFetchXML checks that a column not valid for read
// (serviceendpoint.authvalue) never comes back and can't be filtered, sorted or grouped on.
func TestUnreadableColumnsThroughFetchXML(t *testing.T) {
	e := newEnv(t)
	e.do("POST", "serviceendpoints", map[string]any{"name": "hook", "contract": 8, "url": "http://127.0.0.1:1/hook",
		"authtype": 4, "authvalue": "s3cret-value"}).expect(t, 204)
	for _, tc := range []struct {
		name, xml string
		status    int
	}{
		{"attribute", `<fetch><entity name="serviceendpoint"><attribute name="name"/><attribute name="authvalue"/></entity></fetch>`, 200},
		{"all-attributes", `<fetch><entity name="serviceendpoint"><all-attributes/></entity></fetch>`, 200},
		{"condition", `<fetch><entity name="serviceendpoint"><attribute name="name"/><filter><condition attribute="authvalue" operator="like" value="s3%"/></filter></entity></fetch>`, 400},
		{"order", `<fetch><entity name="serviceendpoint"><attribute name="name"/><order attribute="authvalue"/></entity></fetch>`, 400},
		{"groupby", `<fetch aggregate="true"><entity name="serviceendpoint"><attribute name="authvalue" groupby="true" alias="v"/></entity></fetch>`, 400},
		{"aggregate", `<fetch aggregate="true"><entity name="serviceendpoint"><attribute name="authvalue" aggregate="countcolumn" alias="v"/></entity></fetch>`, 400},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", fetchPath("serviceendpoints", tc.xml), nil)
			if strings.Contains(string(r.Body), "s3cret") {
				t.Fatalf("the secret leaks: %s", r.Body)
			}
			if tc.status == 400 {
				r.expectError(t, 400, "0x80041103", "'serviceendpoint' entity doesn't contain attribute with Name = 'authvalue' and NameMapping = 'Logical'.")
				return
			}
			r.expect(t, tc.status)
		})
	}
}
