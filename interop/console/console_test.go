package console

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/dynlocal/dynlocal/emulator"
	"github.com/dynlocal/dynlocal/internal/browsertest"
)

var (
	screenshots = flag.Bool("screenshots", false, "also write the console's screenshots to docs/console/ (see docs/console/README.md)")
	// This package has no golden files; it accepts -update so that go test ./... -update, which
	// regenerates them elsewhere, does not fail here (emulator/batch/update_test.go).
	_ = flag.Bool("update", false, "rewrite the golden files from the current output")
)

const (
	// stepTimeout bounds one step: the page showing what an action should lead to. A warm machine
	// needs milliseconds; the margin makes a hang fail instead of eating CI's budget.
	stepTimeout = 15 * time.Second
	// httpTimeout bounds one request the test makes from Go.
	httpTimeout = 10 * time.Second
	// The viewport of the screenshots.
	viewportWidth, viewportHeight = 1280, 800
)

// Contacts of the fixtures: the primary contact of the account the test creates, and the one the
// page changes it to.
const (
	contactID       = "4d2c9a10-5e1f-4b7a-9c3d-100000000204"
	otherContactID  = "4d2c9a10-5e1f-4b7a-9c3d-100000000203"
	accountName     = "Console Test Co"
	snapshotName    = "console-before"
	faultMessage    = "The console's fault answered this."
	adminTokenValue = "console-admin-secret"
)

// TestConsole walks through the console as a developer would, checking through the Web API that
// what the page did happened.
func TestConsole(t *testing.T) {
	chromium := browsertest.RequireChromium(t)
	emu := startEmulator(t, emulator.Config{})
	hook := startHookServer(t)
	stepID := emu.registerWebhook(t, hook.URL)

	// A row of our own, created after the webhook step exists so that its call is delivered.
	id := emu.createAccount(t, map[string]any{
		"name": accountName, "telephone1": "555-0100", "accountcategorycode": 1,
		"primarycontactid@odata.bind": "/contacts(" + contactID + ")",
	})
	contactName := emu.getString(t, "contacts("+contactID+")?$select=fullname", "fullname")

	page := openConsole(t, browsertest.StartBrowser(t, chromium), emu)
	// The steps build on each other: after a failed one the rest would only time out.
	step := func(name string, fn func(t *testing.T)) {
		t.Helper()
		if !t.Run(name, func(t *testing.T) {
			page.t = t
			fn(t)
		}) {
			t.FailNow()
		}
	}

	step("tables", func(t *testing.T) {
		row := `[data-testid="table-row"][data-table="account"]`
		page.waitFor(row, "the account table in the list")
		page.expectText(row+` td:nth-child(3)`, "accounts")
		page.expectText(row+` td:nth-child(4)`, "accountid")
		page.expectText(row+` td:nth-child(5)`, "name")
		want := strings.TrimSpace(emu.getText(t, "accounts/$count"))
		page.waitJS(fmt.Sprintf(`document.querySelector(%q).dataset.count === %q`,
			row+` [data-testid="table-count"]`, want), "the account row count "+want)
		page.screenshot("tables")
		page.click(row + ` [data-testid="table-link"]`)
	})

	step("table detail", func(t *testing.T) {
		col := func(name string) string { return `[data-testid="column-row"][data-column="` + name + `"]` }
		page.waitFor(col("name"), "the name column")
		page.expectText(col("name")+` [data-testid="column-type"]`, "String")
		page.waitTextContains(col("accountcategorycode")+` [data-testid="column-details"]`, "Preferred Customer")
		page.waitTextContains(col("primarycontactid")+` [data-testid="column-details"]`, "contact")
		page.waitTextContains(`[data-testid="rel-n1"]`, "primarycontactid")
		page.waitTextContains(`[data-testid="rel-1n"]`, "parentcustomerid")
		page.waitTextContains(`[data-testid="key-row"][data-key="dynlocal_accountnumber"]`, "accountnumber")
		page.screenshot("table")
		page.click(`[data-testid="table-rows-link"]`)
	})

	step("rows", func(t *testing.T) {
		page.waitFor(`[data-testid="rows-grid"] [data-testid="row"]`, "the rows of account")
		page.waitTextContains(`[data-testid="rows-summary"]`, "of ")

		// Sorting by a column header: the first row is the first name in order.
		page.click(`[data-testid="sort-name"]`)
		first := emu.getString(t, "accounts?$select=name&$orderby="+url.QueryEscape("name asc")+"&$top=1", "value.0.name")
		page.waitJS(fmt.Sprintf(`(document.querySelector('th[data-column="name"]')||{}).getAttribute?.("aria-sort") === "ascending" &&
			document.querySelector('[data-testid="row"] [data-testid="row-link"]').textContent === %q`, first),
			"the rows sorted by name, "+first+" first")
		page.screenshot("rows")

		// The column chooser adds a column.
		page.click(`[data-testid="columns-toggle"]`)
		page.click(`[data-testid="columns-chooser"] input[data-column="description"]`)
		page.click(`[data-testid="columns-apply"]`)
		page.waitFor(`[data-testid="rows-grid"] th[data-column="description"]`, "the description column in the grid")
		if loc := page.eval(`location.hash`); !strings.Contains(loc, "description") {
			t.Errorf("the address %q does not keep the columns", loc)
		}

		// Keyset paging, two rows a page: Next follows the nextLink, Previous goes back.
		names := emu.getStrings(t, "accounts?$select=name&$orderby="+url.QueryEscape("name asc"), "name")
		if len(names) < 4 {
			t.Fatalf("the fixtures have %d accounts; the paging check needs 4", len(names))
		}
		page.eval(`location.hash = "#/rows/account?orderby=name+asc&pagesize=2", ""`)
		firstName := `document.querySelector('[data-testid="row"] [data-testid="row-link"]').textContent`
		page.waitJS(fmt.Sprintf(`document.querySelectorAll('[data-testid="row"]').length === 2 && %s === %q`, firstName, names[0]),
			"the first page of two rows")
		page.waitTextIs(`[data-testid="rows-summary"]`, fmt.Sprintf("Rows 1–2 of %d.", len(names)))
		page.click(`[data-testid="rows-next"]`)
		page.waitJS(fmt.Sprintf(`%s === %q`, firstName, names[2]), "the second page, starting at "+names[2])
		page.waitTextIs(`[data-testid="rows-summary"]`, fmt.Sprintf("Rows 3–4 of %d.", len(names)))
		page.click(`[data-testid="rows-prev"]`)
		page.waitJS(fmt.Sprintf(`%s === %q`, firstName, names[0]), "the first page again")

		// FetchXML, sent as ?fetchXml=.
		page.click(`[data-testid="rows-fetch-toggle"]`)
		page.typeInto(`[data-testid="rows-fetchxml"]`, `<fetch><entity name="account"><attribute name="name" />`+
			`<attribute name="telephone1" /><filter><condition attribute="name" operator="eq" value="`+accountName+`" /></filter></entity></fetch>`)
		page.click(`[data-testid="rows-fetch-run"]`)
		page.waitJS(fmt.Sprintf(`document.querySelectorAll('[data-testid="row"]').length === 1 && document.querySelector('[data-testid="row"]').dataset.id === %q &&
			document.querySelector('[data-testid="row"] td[data-column="telephone1"]').textContent === "555-0100"`, id),
			"the FetchXML query's one row")
		if loc := page.eval(`location.hash`); !strings.Contains(loc, "fetchXml=") {
			t.Errorf("the address %q does not keep the FetchXML query", loc)
		}
		// FetchXML pages with its paging cookie.
		page.typeInto(`[data-testid="rows-fetchxml"]`, `<fetch count="2"><entity name="account"><attribute name="name" />`+
			`<order attribute="name" /></entity></fetch>`)
		page.click(`[data-testid="rows-fetch-run"]`)
		page.waitJS(fmt.Sprintf(`document.querySelectorAll('[data-testid="row"]').length === 2 && %s === %q`, firstName, names[0]),
			"the first FetchXML page")
		page.click(`[data-testid="rows-next"]`)
		page.waitJS(fmt.Sprintf(`document.querySelectorAll('[data-testid="row"]').length === 2 && %s === %q`, firstName, names[2]),
			"the second FetchXML page, starting at "+names[2])
		page.waitTextIs(`[data-testid="rows-summary"]`, "Rows 3–4.")
		page.click(`[data-testid="rows-clear"]`)

		// A bad filter: the error is the Web API's, code and message.
		page.typeInto(`[data-testid="rows-filter"]`, "nosuchcolumn eq 1")
		page.click(`[data-testid="rows-apply"]`)
		status, code, message := emu.apiError(t, "accounts?$select=name&$filter="+url.QueryEscape("nosuchcolumn eq 1"))
		if status != http.StatusBadRequest || message == "" {
			t.Fatalf("the Web API answered the bad filter %d %q %q; the test expects a 400 with a message", status, code, message)
		}
		page.waitFor(`[data-testid="rows-error-box"]`, "the filter's error")
		page.expectText(`[data-testid="rows-error-box-message"]`, message)
		page.expectText(`[data-testid="rows-error-box-code"]`, code)

		// A good one: only our row.
		page.typeInto(`[data-testid="rows-filter"]`, "name eq '"+accountName+"'")
		page.click(`[data-testid="rows-apply"]`)
		page.waitJS(fmt.Sprintf(`document.querySelectorAll('[data-testid="row"]').length === 1 &&
			document.querySelector('[data-testid="row"]').dataset.id === %q && !document.querySelector('[data-testid="rows-error-box"]')`, id),
			"only the account "+accountName)
		page.expectText(`[data-testid="row"] [data-testid="row-link"]`, accountName)
		if loc := page.eval(`location.hash`); !strings.Contains(loc, "filter=") {
			t.Errorf("the address %q does not keep the filter", loc)
		}
		page.click(`[data-testid="row"] [data-testid="row-link"]`)
	})

	field := func(name string) string {
		return `[data-testid="field-row"][data-field="` + name + `"] [data-testid="field-value"]`
	}

	step("row", func(t *testing.T) {
		page.waitFor(`[data-testid="row-fields"]`, "the row's columns")
		page.expectText(field("telephone1"), "555-0100")
		page.expectText(field("name"), accountName)
		// Formatted values and lookup names.
		page.expectText(field("accountcategorycode"), "Preferred Customer")
		page.expectText(field("primarycontactid")+" a", contactName)
		if href := page.eval(`document.querySelector('` + field("primarycontactid") + ` a').getAttribute("href")`); href != "#/rows/contact/"+contactID {
			t.Errorf("the primary contact links to %q, want #/rows/contact/%s", href, contactID)
		}
		// Only the columns with a value: empty ones are hidden, filled ones stay.
		page.click(`[data-testid="row-only-filled"]`)
		page.waitJS(`document.querySelector('[data-testid="field-row"][data-field="accountclassificationcode"]').hidden &&
			!document.querySelector('[data-testid="field-row"][data-field="telephone1"]').hidden`, "the empty columns hidden")
		page.screenshot("row")
		page.click(`[data-testid="row-only-filled"]`)
	})

	step("edit", func(t *testing.T) {
		page.click(`[data-testid="row-edit"]`)
		page.typeInto(`#field-telephone1`, "555-0199")
		// A lookup is edited as the related row's id, and saved as an @odata.bind.
		page.typeInto(`#field-primarycontactid`, otherContactID)
		page.click(`[data-testid="row-save"]`)
		page.waitTextIs(field("telephone1"), "555-0199")
		if got := emu.getString(t, "accounts("+id+")?$select=telephone1", "telephone1"); got != "555-0199" {
			t.Errorf("after saving in the page the Web API has telephone1 %q, want 555-0199", got)
		}
		if got := emu.getString(t, "accounts("+id+")?$select=_primarycontactid_value", "_primarycontactid_value"); got != otherContactID {
			t.Errorf("after saving in the page the Web API has primarycontactid %q, want %s", got, otherContactID)
		}
		page.waitJS(fmt.Sprintf(`document.querySelector('%s a').dataset.id === %q`, field("primarycontactid"), otherContactID),
			"the new primary contact shown")
	})

	step("stale edit", func(t *testing.T) {
		page.click(`[data-testid="row-edit"]`)
		page.waitFor(`#field-telephone1`, "the edit form")
		// Someone else changes the row after the page read it.
		emu.patch(t, "accounts("+id+")", map[string]any{"telephone1": "555-0142"})
		page.typeInto(`#field-telephone1`, "555-0177")
		page.click(`[data-testid="row-save"]`)
		page.waitFor(`[data-testid="row-conflict"]`, "the conflict message")
		page.waitTextContains(`[data-testid="row-conflict"]`, "changed by someone else")
		page.waitTextContains(`[data-testid="row-conflict"]`, "412")
		if got := emu.getString(t, "accounts("+id+")?$select=telephone1", "telephone1"); got != "555-0142" {
			t.Errorf("after the stale save the Web API has telephone1 %q, want the other writer's 555-0142", got)
		}
		page.click(`[data-testid="row-conflict-reload"]`)
		page.waitTextIs(field("telephone1"), "555-0142")
		page.waitJS(`!document.querySelector('[data-testid="row-conflict"]')`, "the conflict message gone")
	})

	step("create and delete", func(t *testing.T) {
		page.eval(`location.hash = "#/rows/account", ""`)
		page.click(`[data-testid="rows-new"]`)
		page.typeInto(`#field-name`, "Console Created Co")
		page.typeInto(`#field-revenue`, "1234.5")
		page.click(`[data-testid="row-save"]`)
		page.waitTextIs(field("name"), "Console Created Co")
		created := regexp.MustCompile(`^#/rows/account/([0-9a-f-]{36})$`).FindStringSubmatch(page.eval(`location.hash`))
		if created == nil {
			t.Fatalf("after Create the page is at %q, want the new row's page", page.eval(`location.hash`))
		}
		var row struct {
			Revenue float64 `json:"revenue"`
		}
		if err := json.Unmarshal(emu.must(t, "GET", "accounts("+created[1]+")?$select=revenue", nil, nil, http.StatusOK), &row); err != nil || row.Revenue != 1234.5 {
			t.Errorf("the created row's revenue is %v (%v), want 1234.5", row.Revenue, err)
		}

		page.click(`[data-testid="row-delete"]`)
		page.waitJS(`document.querySelector('#confirm').open`, "the confirmation dialog")
		page.click(`[data-testid="confirm-cancel"]`)
		page.waitJS(`!document.querySelector('#confirm').open`, "the dialog closed")
		emu.must(t, "GET", "accounts("+created[1]+")?$select=name", nil, nil, http.StatusOK) // Cancel deleted nothing
		page.click(`[data-testid="row-delete"]`)
		page.waitJS(`document.querySelector('#confirm').open`, "the confirmation dialog")
		page.click(`[data-testid="confirm-ok"]`)
		page.waitJS(`location.hash === "#/rows/account"`, "the rows of account after the delete")
		emu.must(t, "GET", "accounts("+created[1]+")?$select=name", nil, nil, http.StatusNotFound)
	})

	step("requests", func(t *testing.T) {
		page.click(`[data-testid="nav-requests"]`)
		entry := fmt.Sprintf(`[data-testid="journal-entry"][data-method="PATCH"][data-status="412"][data-path="/api/data/v9.2/accounts(%s)"]`, id)
		page.waitFor(entry, "the stale PATCH in the journal")
		page.click(entry + ` [data-testid="journal-expand"]`)
		detail := `#journal-detail-` + page.eval(`document.querySelector('`+entry+`').dataset.id`)
		page.waitTextContains(detail+` [data-testid="journal-request-body"]`, "555-0177")
		page.waitTextContains(detail+` [data-testid="journal-request-headers"]`, "If-Match")
		page.waitTextContains(detail+` [data-testid="journal-response-body"]`, "error")
		page.waitTextContains(detail+` [data-testid="journal-response-headers"]`, "application/json")

		// Filtered to PATCH requests: the open entry stays open.
		page.selectValue(`#journal-method`, "PATCH")
		page.waitJS(`[...document.querySelectorAll('[data-testid="journal-entry"]')].every(e => e.dataset.method === "PATCH")`,
			"only PATCH requests")
		page.waitVisible(detail+` [data-testid="journal-request-body"]`, "the stale PATCH still open")
		page.waitTextContains(`[data-testid="limits-summary"]`, "No limits are enforced")
		page.screenshot("requests")
		page.selectValue(`#journal-method`, "")
	})

	step("fault", func(t *testing.T) {
		page.waitVisible(`[data-testid="faults-none"]`, "no fault rules yet")
		page.selectValue(`#fault-method`, "GET")
		page.typeInto(`#fault-entityset`, "contacts")
		page.typeInto(`#fault-status`, "503")
		page.typeInto(`#fault-message`, faultMessage)
		page.click(`[data-testid="fault-add"]`)
		page.waitFor(`[data-testid="fault-row"][data-status="503"]`, "the new fault rule")

		status, _, message := emu.apiError(t, "contacts?$select=fullname")
		if status != http.StatusServiceUnavailable || message != faultMessage {
			t.Fatalf("GET contacts with the fault rule: %d %q, want 503 %q", status, message, faultMessage)
		}
		// The page polls: the rule's count and the journal show the request it failed.
		page.waitTextIs(`[data-testid="fault-row"][data-status="503"] [data-testid="fault-applied"]`, "1")
		page.waitFor(`[data-testid="journal-entry"][data-method="GET"][data-status="503"][data-path="/api/data/v9.2/contacts"]`,
			"the failed request in the journal")

		page.click(`[data-testid="fault-row"][data-status="503"] [data-testid="fault-remove"]`)
		page.waitVisible(`[data-testid="faults-none"]`, "the rule removed")
		if got := emu.getText(t, "contacts/$count"); strings.TrimSpace(got) == "" {
			t.Errorf("GET contacts/$count after the rule was removed answered %q", got)
		}
	})

	step("webhooks", func(t *testing.T) {
		page.click(`[data-testid="nav-webhooks"]`)
		page.waitFor(`[data-testid="step-row"][data-id="`+stepID+`"]`, "the registered step")
		page.waitTextContains(`[data-testid="step-row"][data-id="`+stepID+`"]`, "Create")
		page.waitTextContains(`[data-testid="endpoints-table"]`, hook.URL)
		page.waitFor(`[data-testid="delivery-row"][data-status="200"]`, "the webhook call")
		page.waitFor(`[data-testid="jobs-none"], [data-testid="jobs-table"]`, "the failed system jobs")
		page.screenshot("webhooks")
	})

	step("state", func(t *testing.T) {
		page.click(`[data-testid="nav-state"]`)
		page.waitTextIs(`[data-testid="conn-webapi"]`, emu.url+"/api/data/v9.2/")
		page.expectText(`[data-testid="conn-tenant"]`, emulator.DefaultTenantID)
		page.expectText(`[data-testid="conn-client"]`, emulator.DefaultClientID)
		page.click(`[data-testid="copy-webapi"]`)
		page.waitJS(`document.querySelector('[data-testid="copy-webapi"]').dataset.copied === "true"`, "the Web API URL copied")
		if got := page.eval(`navigator.clipboard.readText()`); got != emu.url+"/api/data/v9.2/" {
			t.Errorf("the clipboard holds %q after Copy, want the Web API URL", got)
		}

		page.waitFor(`[data-testid="snapshots-none"]`, "no snapshots yet")
		page.typeInto(`#snapshot-name`, snapshotName)
		page.click(`[data-testid="snapshot-save"]`)
		row := `[data-testid="snapshot-row"][data-name="` + snapshotName + `"]`
		page.waitFor(row, "the saved snapshot")
		page.screenshot("state")

		// Change the data, then restore in the page: the row is back as it was.
		emu.patch(t, "accounts("+id+")", map[string]any{"telephone1": "555-0000"})
		page.click(row + ` [data-testid="snapshot-restore"]`)
		page.waitJS(`document.querySelector('#confirm').open`, "the confirmation dialog")
		page.waitTextContains(`#confirm-message`, snapshotName)
		page.click(`[data-testid="confirm-ok"]`)
		page.waitTextContains(`[data-testid="status"]`, "Restored snapshot "+snapshotName)
		if got := emu.getString(t, "accounts("+id+")?$select=telephone1", "telephone1"); got != "555-0142" {
			t.Errorf("after restoring %s the Web API has telephone1 %q, want 555-0142", snapshotName, got)
		}
	})

	page.t = t
	page.checkConsole()
}

// TestConsoleAdminToken runs the console against an emulator that wants an admin token: the page
// asks for it, refuses a wrong one, and works once it has the right one.
func TestConsoleAdminToken(t *testing.T) {
	chromium := browsertest.RequireChromium(t)
	// With service protection limits too: the requests page shows them and the load.
	emu := startEmulator(t, emulator.Config{AdminToken: adminTokenValue, Limits: &emulator.Limits{Requests: 10000, Window: time.Minute}})
	page := openConsole(t, browsertest.StartBrowser(t, chromium), emu)

	page.waitVisible(`[data-testid="signin"]`, "the sign-in form")
	page.waitJS(`document.activeElement && document.activeElement.id === "signin-token" && document.getElementById("view").hidden`,
		"the token field focused and the console hidden")
	if got := page.eval(`document.querySelector('label[for="signin-token"]').textContent`); got != "Admin token" {
		t.Errorf("the token field's label is %q", got)
	}

	page.typeInto(`#signin-token`, "not-the-token")
	page.click(`[data-testid="signin-submit"]`)
	page.waitTextContains(`[data-testid="signin-error"]`, "not accepted")
	page.waitJS(`!document.getElementById("signin").hidden`, "the sign-in form still shown")

	page.typeInto(`#signin-token`, adminTokenValue)
	page.click(`[data-testid="signin-submit"]`)
	page.waitFor(`[data-testid="table-row"][data-table="account"]`, "the tables, once signed in")
	page.waitJS(`document.getElementById("signin").hidden`, "the sign-in form gone")
	page.waitTextContains(`[data-testid="who"]`, "Dana Developer")

	// Every admin call carries the token: the journal page lists requests, without an error.
	page.click(`[data-testid="nav-requests"]`)
	page.waitFor(`[data-testid="journal-entry"]`, "the journal, read with the admin token")
	page.waitJS(`!document.querySelector('[data-testid="journal-error-box"]') && document.getElementById("signin").hidden`,
		"no admin error")
	page.waitTextContains(`[data-testid="limits-summary"]`, "Per user: 10000 requests in 60 s")
	page.waitTextContains(`[data-testid="limits-user"]`, "Dana Developer")
	if got := page.eval(`sessionStorage.getItem("dynlocal.adminToken")`); got != adminTokenValue {
		t.Errorf("session storage holds %q as the admin token", got)
	}
	page.checkConsole()
}

// ---------------------------------------------------------------------------------------------
// The emulator, and what the test asks of it from Go

type emu struct {
	url, adminToken string
	hc              *http.Client
	token           string
}

// startEmulator starts an in-memory emulator served by httptest on 127.0.0.1.
func startEmulator(t *testing.T, cfg emulator.Config) *emu {
	t.Helper()
	adminToken := cfg.AdminToken
	srv, err := emulator.New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	hs := httptest.NewServer(srv.Handler())
	t.Cleanup(hs.Close)
	e := &emu{url: hs.URL, adminToken: adminToken, hc: &http.Client{Timeout: httpTimeout}}
	// The console's own session endpoint hands out the development user's token; the test uses
	// it for its Web API calls too.
	var session struct {
		AccessToken string `json:"accessToken"`
	}
	if err := json.Unmarshal(e.must(t, "GET", e.url+"/_emulator/session", nil, nil, http.StatusOK), &session); err != nil || session.AccessToken == "" {
		t.Fatalf("session: %v (token %q)", err, session.AccessToken)
	}
	e.token = session.AccessToken
	return e
}

// do sends a request; Web API paths are relative to the Web API root.
func (e *emu) do(t *testing.T, method, target string, body any, hdr map[string]string) (*http.Response, []byte) {
	t.Helper()
	if !strings.HasPrefix(target, "http") {
		target = e.url + "/api/data/v9.2/" + target
	}
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, target, r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(target, "/_emulator/") {
		if e.adminToken != "" {
			req.Header.Set("Authorization", "Bearer "+e.adminToken)
		}
	} else {
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("OData-Version", "4.0")
		req.Header.Set("Accept", "application/json")
		req.Header.Set("Prefer", `odata.include-annotations="*"`)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := e.hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	return res, b
}

// must sends a request and fails the test unless it gets the status.
func (e *emu) must(t *testing.T, method, target string, body any, hdr map[string]string, status int) []byte {
	t.Helper()
	res, b := e.do(t, method, target, body, hdr)
	if res.StatusCode != status {
		t.Fatalf("%s %s: %d %s, want %d", method, target, res.StatusCode, b, status)
	}
	return b
}

// getString reads a JSON answer and returns the string at a dotted path ("value.0.name").
func (e *emu) getString(t *testing.T, path, field string) string {
	t.Helper()
	var v any
	if err := json.Unmarshal(e.must(t, "GET", path, nil, nil, http.StatusOK), &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range strings.Split(field, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[k]
		case []any:
			var i int
			fmt.Sscan(k, &i)
			if i >= len(x) {
				t.Fatalf("GET %s: no %s", path, field)
			}
			v = x[i]
		}
	}
	s, _ := v.(string)
	return s
}

// getStrings reads a collection and returns one property of every row.
func (e *emu) getStrings(t *testing.T, path, property string) []string {
	t.Helper()
	var page struct {
		Value []map[string]any `json:"value"`
	}
	if err := json.Unmarshal(e.must(t, "GET", path, nil, nil, http.StatusOK), &page); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range page.Value {
		s, _ := r[property].(string)
		out = append(out, s)
	}
	return out
}

func (e *emu) getText(t *testing.T, path string) string {
	t.Helper()
	return string(e.must(t, "GET", path, nil, nil, http.StatusOK))
}

// apiError sends a GET expected to fail and returns its status and the error envelope's code and
// message.
func (e *emu) apiError(t *testing.T, path string) (status int, code, message string) {
	t.Helper()
	res, b := e.do(t, "GET", path, nil, nil)
	var env struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	_ = json.Unmarshal(b, &env)
	return res.StatusCode, env.Error.Code, env.Error.Message
}

func (e *emu) patch(t *testing.T, path string, body map[string]any) {
	t.Helper()
	e.must(t, "PATCH", path, body, nil, http.StatusNoContent)
}

var entityID = regexp.MustCompile(`\(([0-9a-f-]{36})\)$`)

// post creates a row and returns its id.
func (e *emu) post(t *testing.T, set string, body map[string]any) string {
	t.Helper()
	res, b := e.do(t, "POST", set, body, nil)
	m := entityID.FindStringSubmatch(res.Header.Get("OData-EntityId"))
	if res.StatusCode != http.StatusNoContent || m == nil {
		t.Fatalf("POST %s: %d %s (OData-EntityId %q)", set, res.StatusCode, b, res.Header.Get("OData-EntityId"))
	}
	return m[1]
}

func (e *emu) createAccount(t *testing.T, body map[string]any) string {
	t.Helper()
	return e.post(t, "accounts", body)
}

// registerWebhook registers a synchronous post-operation step for Create of account that calls
// url, and returns the step's id.
func (e *emu) registerWebhook(t *testing.T, hookURL string) string {
	t.Helper()
	endpoint := e.post(t, "serviceendpoints", map[string]any{
		"name": "console hook", "contract": 8, "url": hookURL + "/hook", "authtype": 4, "authvalue": "hook-key", "messageformat": 2,
	})
	message := e.getString(t, "sdkmessages?$select=name&$filter="+url.QueryEscape("name eq 'Create'"), "value.0.sdkmessageid")
	filter := e.getString(t, "sdkmessagefilters?$select=name&$filter="+
		url.QueryEscape("_sdkmessageid_value eq "+message+" and primaryobjecttypecode eq 'account'"), "value.0.sdkmessagefilterid")
	return e.post(t, "sdkmessageprocessingsteps", map[string]any{
		"name": "console step: account created", "stage": 40, "mode": 0, "rank": 1, "supporteddeployment": 0,
		"sdkmessageid@odata.bind":                 "/sdkmessages(" + message + ")",
		"sdkmessagefilterid@odata.bind":           "/sdkmessagefilters(" + filter + ")",
		"eventhandler_serviceendpoint@odata.bind": "/serviceendpoints(" + endpoint + ")",
	})
}

// startHookServer answers every webhook call 200.
func startHookServer(t *testing.T) *httptest.Server {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"received":true}`)
	}))
	t.Cleanup(hs.Close)
	return hs
}

// ---------------------------------------------------------------------------------------------
// The page

// page is the console open in a browser tab.
type page struct {
	t        *testing.T
	ctx      context.Context
	mu       sync.Mutex
	messages []chromedp.ConsoleMessage
}

// openConsole opens the console of the emulator's default organization in a new tab with a
// 1280x800 viewport.
func openConsole(t *testing.T, browserCtx context.Context, e *emu) *page {
	t.Helper()
	tab, closeTab := chromedp.NewContext(browserCtx)
	t.Cleanup(closeTab)
	p := &page{t: t, ctx: tab}
	if err := chromedp.Do(tab, chromedp.EmulateViewport(viewportWidth, viewportHeight)); err != nil {
		t.Fatalf("viewport: %v", err)
	}
	// The Copy buttons write to the clipboard, and the test reads it back.
	if err := chromedp.Do(tab, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		for _, name := range []string{"clipboard-read", "clipboard-write"} {
			if _, err := cdp.Call(ctx, tg, browser.SetPermission, browser.SetPermissionParams{
				Permission: &browser.PermissionDescriptor{Name: name}, Setting: browser.PermissionSettingGranted, Origin: e.url,
			}); err != nil {
				return chromedp.Void{}, err
			}
		}
		return chromedp.Void{}, nil
	}); err != nil {
		t.Fatalf("granting the clipboard permissions: %v", err)
	}
	messages := chromedp.Console(tab) // subscribes now, before the page loads
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			p.mu.Lock()
			p.messages = append(p.messages, m)
			p.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("browser console:\n%s", p.console())
		}
	})
	ctx, cancel := context.WithTimeout(tab, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/_emulator/ui/")); err != nil {
		t.Fatalf("load the console: %v", err)
	}
	return p
}

func (p *page) console() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	for _, m := range p.messages {
		fmt.Fprintf(&b, "%s\n", m.String())
	}
	return b.String()
}

// checkConsole fails the test for a script exception or a Content-Security-Policy violation in
// the browser's console (failed requests are logged there too, and some are expected).
func (p *page) checkConsole() {
	p.t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.messages {
		if m.IsException() || strings.Contains(m.String(), "Content Security Policy") {
			p.t.Errorf("browser console: %s", m.String())
		}
	}
}

// state is what the test prints when a wait fails: where the page is and what it shows.
func (p *page) state() string {
	ctx, cancel := context.WithTimeout(p.ctx, 2*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`location.hash + "\n" + document.getElementById("main").innerText.slice(0, 3000)`))
	if err != nil {
		return "(the page cannot be read: " + err.Error() + ")"
	}
	return s
}

// waitJS waits until a JavaScript expression is true.
func (p *page) waitJS(expr, what string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout+time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => { try { return !!(`+expr+`); } catch { return false; } })()`,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(stepTimeout)))
	if err != nil {
		p.t.Fatalf("waiting for %s: %v\nthe page shows:\n%s", what, err, p.state())
	}
}

func (p *page) waitFor(sel, what string) {
	p.t.Helper()
	p.waitJS(fmt.Sprintf(`document.querySelector(%q)`, sel), what)
}

// waitVisible waits until an element is there and shown (hidden elements take no room).
func (p *page) waitVisible(sel, what string) {
	p.t.Helper()
	p.waitJS(fmt.Sprintf(`document.querySelector(%q).getClientRects().length > 0`, sel), what)
}

func (p *page) waitTextContains(sel, text string) {
	p.t.Helper()
	p.waitJS(fmt.Sprintf(`document.querySelector(%q).textContent.includes(%q)`, sel, text), fmt.Sprintf("%s to show %q", sel, text))
}

func (p *page) waitTextIs(sel, text string) {
	p.t.Helper()
	p.waitJS(fmt.Sprintf(`document.querySelector(%q).textContent.trim() === %q`, sel, text), fmt.Sprintf("%s to be %q", sel, text))
}

// expectText checks an element's text once it is there.
func (p *page) expectText(sel, want string) {
	p.t.Helper()
	p.waitFor(sel, sel)
	if got := strings.TrimSpace(p.eval(fmt.Sprintf(`document.querySelector(%q).textContent`, sel))); got != want {
		p.t.Errorf("%s shows %q, want %q", sel, got, want)
	}
}

// eval returns a JavaScript expression's value (awaited when it is a promise) as a string.
func (p *page) eval(expr string) string {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		p.t.Fatalf("evaluate %s: %v", expr, err)
	}
	if s, ok := v.(string); ok {
		return s
	}
	return fmt.Sprint(v)
}

// click clicks an element once it is visible, as a user would.
func (p *page) click(sel string) {
	p.t.Helper()
	p.waitFor(sel, sel)
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.ScrollIntoView(chromedp.CSS(sel)), chromedp.Click(chromedp.CSS(sel), chromedp.NodeVisible)); err != nil {
		p.t.Fatalf("click %s: %v\nthe page shows:\n%s", sel, err, p.state())
	}
}

// typeInto replaces what a text field holds by typing.
func (p *page) typeInto(sel, text string) {
	p.t.Helper()
	p.waitFor(sel, sel)
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	p.eval(fmt.Sprintf(`(el => { el.focus(); el.select(); })(document.querySelector(%q)), ""`, sel))
	// With the text selected, what is typed replaces it.
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.CSS(sel), text, chromedp.NodeVisible)); err != nil {
		p.t.Fatalf("type into %s: %v\nthe page shows:\n%s", sel, err, p.state())
	}
	if got := p.eval(fmt.Sprintf(`document.querySelector(%q).value`, sel)); got != text {
		p.t.Fatalf("%s holds %q after typing %q", sel, got, text)
	}
}

// selectValue picks an option of a select, as a user would (the change event fires).
func (p *page) selectValue(sel, value string) {
	p.t.Helper()
	p.waitFor(sel, sel)
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.SetValue(chromedp.CSS(sel), value)); err != nil {
		p.t.Fatalf("select %s in %s: %v", value, sel, err)
	}
	p.eval(fmt.Sprintf(`document.querySelector(%q).dispatchEvent(new Event("change", {bubbles: true})), ""`, sel))
}

// screenshot captures the viewport into the test's temporary directory and, with -screenshots,
// into docs/console/ at the repository's root.
func (p *page) screenshot(name string) {
	p.t.Helper()
	// Let the status message fade and the focus ring settle, so that captures are alike.
	p.eval(`document.activeElement && document.activeElement.blur && document.activeElement.blur(), ""`)
	p.eval(`document.getElementById("status").textContent = "", window.scrollTo(0, 0), ""`)
	ctx, cancel := context.WithTimeout(p.ctx, stepTimeout)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		p.t.Fatalf("screenshot %s: %v", name, err)
	}
	dirs := []string{p.t.TempDir()}
	if *screenshots {
		dirs = append(dirs, filepath.Join("..", "..", "docs", "console"))
	}
	for _, dir := range dirs {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			p.t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			p.t.Fatal(err)
		}
	}
}
