package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/dynlocal/dynlocal/client"
)

// newFetchServer stands in for Dataverse: two pages of accounts, the first carrying the paging
// annotations (only because the client asks for them in Prefer, as the service requires).
func newFetchServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
		fetch := r.URL.Query().Get("fetchXml")
		if !strings.Contains(fetch, `paging-cookie="&lt;cookie page=&quot;1&quot;`) {
			more := ""
			if strings.Contains(r.Header.Get("Prefer"), "Microsoft.Dynamics.CRM.fetchxmlpagingcookie") {
				more = `"@Microsoft.Dynamics.CRM.fetchxmlpagingcookie":"<cookie pagenumber=\"2\" pagingcookie=\"%253ccookie%2520page%253d%25221%2522%253e%253caccountid%2520last%253d%2522%257b2%257d%2522%2520%252f%253e%253c%252fcookie%253e\" istracking=\"False\" />",` +
					`"@Microsoft.Dynamics.CRM.morerecords":true,`
			}
			fmt.Fprint(w, `{`+more+`"value":[{"name":"Contoso"},{"name":"Fabrikam"}]}`)
			return
		}
		fmt.Fprint(w, `{"value":[{"name":"Northwind"}]}`)
	}))
}

// Walk every row of a FetchXML query, page by page. The client asks for the paging cookie itself,
// so no IncludeAnnotations is needed.
func ExampleClient_FetchXMLAll() {
	srv := newFetchServer()
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithStaticToken("token"))
	if err != nil {
		fmt.Println(err)
		return
	}
	const fetch = `<fetch count="2"><entity name="account"><attribute name="name"/><order attribute="accountid"/></entity></fetch>`
	for row, err := range c.FetchXMLAll(context.Background(), "accounts", fetch, &client.FetchOptions{MaxPages: 10}) {
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Println(row["name"])
	}
	// Output:
	// Contoso
	// Fabrikam
	// Northwind
}
