package emulator_test

import (
	"context"
	"fmt"
	"math/rand"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
)

func fetchPath(set, xml string) string { return set + "?fetchXml=" + url.QueryEscape(xml) }

func TestFetchXMLBasicsAndLinks(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	aid := idFromEntityID(t, e.do("POST", "accounts", map[string]any{
		"name": "fx parent", "accountnumber": "FX-1",
		"primarycontactid": map[string]any{"firstname": "Fetch", "lastname": "Contact", "jobtitle": "Boss"},
	}).expect(t, 204).Header)
	e.do("POST", "accounts", map[string]any{"name": "fx other"}).expect(t, 204)
	xml := `<fetch mapping="logical"><entity name="account"><attribute name="name"/><attribute name="accountnumber"/>` +
		`<filter><condition attribute="name" operator="like" value="fx %"/></filter><order attribute="name"/>` +
		`<link-entity name="contact" from="contactid" to="primarycontactid" link-type="outer" alias="pc"><attribute name="fullname"/><attribute name="jobtitle"/></link-entity>` +
		`</entity></fetch>`
	got := e.do("GET", fetchPath("accounts", xml), nil).expect(t, 200).JSON(t)
	rows := got["value"].([]any)
	if len(rows) != 2 {
		t.Fatalf("rows: %v", got)
	}
	first := rows[0].(map[string]any)
	if first["name"] != "fx other" {
		t.Fatalf("order: %v", rows)
	}
	if _, ok := first["accountnumber"]; ok {
		t.Errorf("null columns must be omitted: %v", first)
	}
	if _, ok := first["pc_x002e_fullname"]; ok {
		t.Errorf("outer link without a match must give no linked columns: %v", first)
	}
	second := rows[1].(map[string]any)
	want := map[string]any{"name": "fx parent", "accountnumber": "FX-1", "pc_x002e_fullname": "Fetch Contact", "pc_x002e_jobtitle": "Boss", "accountid": aid}
	for k, v := range want {
		if second[k] != v {
			t.Errorf("%s = %v, want %v (row %v)", k, second[k], v, second)
		}
	}
	if _, ok := second["@odata.etag"]; !ok {
		t.Errorf("rows carry @odata.etag: %v", second)
	}
	tests := []struct {
		name, set, xml string
		code           string
	}{
		{"unknown attribute", "accounts", `<fetch><entity name="account"><attribute name="nope"/></entity></fetch>`, "0x80041103"},
		{"malformed XML", "accounts", `<fetch><entity name="account">`, ""},
		{"set mismatch", "contacts", `<fetch><entity name="account"><attribute name="name"/></entity></fetch>`, "0x0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do("GET", fetchPath(tt.set, tt.xml), nil).expect(t, 400)
			if code, msg := r.Error(t); tt.code != "" && code != tt.code || msg == "" {
				t.Errorf("error %s %q, want code %s", code, msg, tt.code)
			}
		})
	}
	var links strings.Builder
	for i := 0; i < 16; i++ {
		links.WriteString(fmt.Sprintf(`<link-entity name="contact" from="contactid" to="primarycontactid" alias="l%d"/>`, i))
	}
	r := e.do("GET", fetchPath("accounts", `<fetch><entity name="account">`+links.String()+`</entity></fetch>`), nil)
	r.expectError(t, 400, "0x8004430D", "Number of link entities in query exceeded maximum limit.")
}

func TestFetchXMLAggregate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.seedAccounts(t,
		map[string]any{"name": "fxa 1", "revenue": 10, "accountcategorycode": 1},
		map[string]any{"name": "fxa 2", "revenue": 15.5, "accountcategorycode": 1},
		map[string]any{"name": "fxa 3", "revenue": 1, "accountcategorycode": 2})
	xml := `<fetch aggregate="true"><entity name="account"><attribute name="accountcategorycode" groupby="true" alias="cat"/>` +
		`<attribute name="revenue" aggregate="sum" alias="total"/><attribute name="accountid" aggregate="count" alias="n"/>` +
		`<filter><condition attribute="name" operator="begins-with" value="fxa"/></filter><order alias="cat"/></entity></fetch>`
	got := e.do("GET", fetchPath("accounts", xml), nil).expect(t, 200)
	if !strings.Contains(string(got.Body), `{"cat":1,"total":25.5000,"n":2},{"cat":2,"total":1.0000,"n":1}`) {
		t.Errorf("aggregate rows: %s", got.Body)
	}
}

var cookieRE = regexp.MustCompile(`pagingcookie="([^"]*)"`)

// TestFetchXMLCookiePagingWhileRowsChange walks 10,000 rows seven at a time by paging cookie, the
// way dynamics-web-api's fetchAll does, while rows are inserted and deleted: every row that
// survives is seen exactly once and the last page has no cookie.
func TestFetchXMLCookiePagingWhileRowsChange(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	st := e.srv.Store()
	acc, _ := st.Schema().Entity("account")
	rng := rand.New(rand.NewSource(3))
	var ids []string
	err := st.Write(context.Background(), func(tx *store.Tx) error {
		for i := 0; i < 10000; i++ {
			id := fmt.Sprintf("6a000000-0000-4000-8000-%012d", i)
			ids = append(ids, id)
			if _, err := tx.Insert(acc, model.Row{"accountid": id, "name": fmt.Sprintf("fbulk %04d", rng.Intn(2500)), "statecode": int64(0)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	deleted := map[string]bool{}
	page, cookie := 1, ""
	for {
		attrs := fmt.Sprintf(`page="%d" count="7"`, page)
		if cookie != "" {
			attrs += ` paging-cookie="` + escapeXMLAttr(cookie) + `"`
		}
		xml := `<fetch ` + attrs + `><entity name="account"><attribute name="name"/><order attribute="name" descending="true"/>` +
			`<filter><condition attribute="name" operator="like" value="fbulk %"/></filter></entity></fetch>`
		body := e.do("GET", fetchPath("accounts", xml), nil, "Prefer", `odata.include-annotations="Microsoft.Dynamics.CRM.fetchxmlpagingcookie"`).expect(t, 200).JSON(t)
		for _, v := range body["value"].([]any) {
			seen[v.(map[string]any)["accountid"].(string)]++
		}
		raw, ok := body["@Microsoft.Dynamics.CRM.fetchxmlpagingcookie"].(string)
		if !ok {
			break
		}
		m := cookieRE.FindStringSubmatch(raw)
		inner, err := url.QueryUnescape(m[1])
		if err == nil {
			inner, err = url.QueryUnescape(inner)
		}
		if err != nil {
			t.Fatal(err)
		}
		cookie, page = inner, page+1
		victim := ids[rng.Intn(len(ids))]
		if !deleted[victim] {
			e.do("DELETE", "accounts("+victim+")", nil).expect(t, 204)
			deleted[victim] = true
		}
		e.do("POST", "accounts", map[string]any{"name": fmt.Sprintf("fbulk %04d", rng.Intn(2500))}).expect(t, 204)
		if page > 3000 {
			t.Fatal("paging does not end")
		}
	}
	for _, id := range ids {
		if !deleted[id] && seen[id] != 1 {
			t.Fatalf("row %s seen %d times", id, seen[id])
		}
	}
	for id, n := range seen {
		if n != 1 {
			t.Fatalf("row %s seen %d times", id, n)
		}
	}
}

func escapeXMLAttr(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(s)
}

// TestODataAndFetchXMLAgree asks the same questions in both languages and expects the same rows.
func TestODataAndFetchXMLAgree(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	for i := 0; i < 12; i++ {
		row := map[string]any{"name": fmt.Sprintf("pair %02d", i), "numberofemployees": i * 10, "accountcategorycode": i%2 + 1}
		if i%3 != 0 {
			row["revenue"] = i * 100
		}
		if i%4 == 0 {
			row["primarycontactid"] = map[string]any{"lastname": fmt.Sprintf("pc %02d", i)}
		}
		e.seedAccounts(t, row)
	}
	pairs := []struct{ odata, fetch string }{
		{"$filter=startswith(name,'pair') and numberofemployees ge 50",
			`<filter><condition attribute="name" operator="begins-with" value="pair"/><condition attribute="numberofemployees" operator="ge" value="50"/></filter>`},
		{"$filter=startswith(name,'pair') and (revenue eq null or accountcategorycode eq 2)",
			`<filter><condition attribute="name" operator="begins-with" value="pair"/><filter type="or"><condition attribute="revenue" operator="null"/><condition attribute="accountcategorycode" operator="eq" value="2"/></filter></filter>`},
		{"$filter=startswith(name,'pair') and Microsoft.Dynamics.CRM.In(PropertyName='numberofemployees',PropertyValues=['10','40','90'])",
			`<filter><condition attribute="name" operator="begins-with" value="pair"/><condition attribute="numberofemployees" operator="in"><value>10</value><value>40</value><value>90</value></condition></filter>`},
		{"$filter=startswith(name,'pair') and primarycontactid/lastname ne null",
			`<filter><condition attribute="name" operator="begins-with" value="pair"/></filter><link-entity name="contact" from="contactid" to="primarycontactid" link-type="inner"><filter><condition attribute="lastname" operator="not-null"/></filter></link-entity>`},
		{"$filter=startswith(name,'pair') and not contains(name,'1')",
			`<filter><condition attribute="name" operator="begins-with" value="pair"/><condition attribute="name" operator="not-like" value="%1%"/></filter>`},
	}
	for _, p := range pairs {
		o := e.do("GET", "accounts?"+escapeQuery("$select=name&"+p.odata), nil).expect(t, 200).JSON(t)
		f := e.do("GET", fetchPath("accounts", `<fetch><entity name="account"><attribute name="name"/>`+p.fetch+`</entity></fetch>`), nil).expect(t, 200).JSON(t)
		on, fn := names(t, o), names(t, f)
		sort.Strings(on)
		sort.Strings(fn)
		if len(on) == 0 {
			t.Errorf("%s: no rows, the pair proves nothing", p.odata)
		}
		if d := cmp.Diff(on, fn); d != "" {
			t.Errorf("%s (-odata +fetchxml):\n%s", p.odata, d)
		}
	}
}
