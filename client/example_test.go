package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/dynlocal/dynlocal/client"
)

// newExampleServer stands in for Dataverse (or the dynlocal emulator): it creates accounts, returns
// them and reports missing ones the way the service does.
func newExampleServer() *httptest.Server {
	const id = "7d577253-3ef0-4a0a-bb7f-8335c2596e70"
	var (
		mu   sync.Mutex
		name string
	)
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/data/v9.2/accounts", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		name, _ = body["name"].(string)
		mu.Unlock()
		w.Header().Set("OData-EntityId", "http://"+r.Host+"/api/data/v9.2/accounts("+id+")")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET /api/data/v9.2/{key}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
		mu.Lock()
		name := name
		mu.Unlock()
		if r.PathValue("key") != "accounts("+id+")" || name == "" {
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"error":{"code":"0x80040217","message":"Entity 'account' With Id = 00000000-0000-0000-0000-000000000001 Does Not Exist"}}`)
			return
		}
		w.Header().Set("ETag", `W/"1001"`)
		fmt.Fprintf(w, `{"@odata.etag":"W/\"1001\"","name":%q,"revenue":20000.0000,"accountid":%q}`, name, id)
	})
	return httptest.NewServer(mux)
}

// Create a row, then read it back with selected columns.
func Example() {
	srv := newExampleServer()
	defer srv.Close()
	ctx := context.Background()

	c, err := client.New(srv.URL, client.WithStaticToken("token"))
	if err != nil {
		fmt.Println(err)
		return
	}
	_, resp, err := c.CreateRecord(ctx, "accounts", client.Record{"name": "Contoso"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("created:", resp.StatusCode, resp.ID)

	acct, resp, err := c.GetRecord(ctx, "accounts", resp.ID, &client.GetOptions{Select: []string{"name", "revenue"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("name:", acct["name"])
	fmt.Println("revenue:", acct["revenue"]) // json.Number keeps the scale
	fmt.Println("etag:", resp.ETag)
	// Output:
	// created: 204 7d577253-3ef0-4a0a-bb7f-8335c2596e70
	// name: Contoso
	// revenue: 20000.0000
	// etag: W/"1001"
}

// Errors from the service carry the status, the Dataverse code and the message, and match sentinels.
func ExampleError() {
	srv := newExampleServer()
	defer srv.Close()

	c, _ := client.New(srv.URL, client.WithStaticToken("token"))
	_, _, err := c.GetRecord(context.Background(), "accounts", "00000000-0000-0000-0000-000000000001", nil)

	fmt.Println(errors.Is(err, client.ErrNotFound))
	var apiErr *client.Error
	if errors.As(err, &apiErr) {
		fmt.Println(apiErr.StatusCode, apiErr.Code)
		fmt.Println(apiErr.Message)
	}
	// Output:
	// true
	// 404 0x80040217
	// Entity 'account' With Id = 00000000-0000-0000-0000-000000000001 Does Not Exist
}

// Keys are validated before anything is sent; alternate keys are best built with AlternateKey.
func ExampleAlternateKey() {
	key := client.AlternateKey(
		client.KeyValue{Key: "accountnumber", Value: "O'Brien-1"},
		client.KeyValue{Key: "address1_postalcode", Value: 98052},
	)
	fmt.Println(key)

	c, _ := client.New("https://org.crm.dynamics.com", client.WithStaticToken("token"))
	_, _, err := c.GetRecord(context.Background(), "accounts", "bad-id", nil)
	fmt.Println(errors.Is(err, client.ErrInvalidInput), strings.Contains(err.Error(), "want a GUID or an alternate key"))
	// Output:
	// accountnumber='O''Brien-1',address1_postalcode=98052
	// true true
}

// Do sends any request, here an unbound function with a query, through the client's credentials.
func ExampleClient_Do() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"path":%q,"query":%q,"auth":%q}`, r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"))
	}))
	defer srv.Close()

	c, _ := client.New(srv.URL, client.WithStaticToken("token"))
	res, err := c.Do(context.Background(), &client.RawRequest{
		Method: http.MethodGet,
		Path:   "/api/data/v9.2/RetrieveTotalRecordCount(EntityNames=@p1)",
		Query:  []client.KeyValue{{Key: "@p1", Value: `["account","contact"]`}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	echo := res.JSON.(map[string]any)
	fmt.Println(echo["path"])
	fmt.Println(echo["query"])
	fmt.Println(echo["auth"])
	// Output:
	// /api/data/v9.2/RetrieveTotalRecordCount(EntityNames=@p1)
	// @p1=%5B%22account%22,%22contact%22%5D
	// Bearer token
}
