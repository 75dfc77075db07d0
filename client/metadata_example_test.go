package client_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"

	"github.com/dynlocal/dynlocal/client"
)

// newColumnServer stands in for Dataverse: it takes a new column on the account table and serves it
// back, cast to its type, the way the service does.
func newColumnServer() *httptest.Server {
	const (
		entityPath = "/api/data/v9.2/EntityDefinitions(LogicalName='account')/Attributes"
		columnID   = "f11bef16-287c-e511-80d2-00155d2a68d2"
	)
	var (
		mu     sync.Mutex
		column map[string]any
	)
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+entityPath, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		json.NewDecoder(r.Body).Decode(&column)
		column["MetadataId"] = columnID
		column["LogicalName"] = strings.ToLower(column["SchemaName"].(string))
		column["@odata.type"] = "#" + column["@odata.type"].(string)
		column["Description"] = map[string]any{"LocalizedLabels": []any{}, "UserLocalizedLabel": nil}
		w.Header().Set("OData-EntityId", "http://"+r.Host+entityPath+"("+columnID+")")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("GET "+entityPath+"(LogicalName='new_balance')/Microsoft.Dynamics.CRM.MoneyAttributeMetadata",
		func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			w.Header().Set("Content-Type", "application/json; odata.metadata=minimal")
			json.NewEncoder(w).Encode(column)
		})
	return httptest.NewServer(mux)
}

// Add a currency column to a table, then read its definition back with the type-specific
// properties, which Dataverse only returns through a cast.
func ExampleClient_CreateAttribute() {
	srv := newColumnServer()
	defer srv.Close()
	ctx := context.Background()
	c, err := client.New(srv.URL, client.WithStaticToken("token"))
	if err != nil {
		fmt.Println(err)
		return
	}

	id, resp, err := c.CreateAttribute(ctx, "account", client.AttributeSpec{
		Type:            client.AttributeTypeMoney,
		SchemaName:      "new_Balance",
		DisplayName:     "Balance",
		PrecisionSource: client.Some(2), // the currency's precision
	}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("created:", resp.StatusCode, id)

	col, _, err := c.GetAttribute(ctx, "account", "new_balance", &client.GetAttributeOptions{Type: "Money"})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(col.LogicalName, col.ODataType)
	fmt.Printf("%s, %s, required: %s, precision source: %v\n",
		col.DisplayName, col.AttributeType, col.RequiredLevel, col.Raw["PrecisionSource"])
	// Output:
	// created: 204 f11bef16-287c-e511-80d2-00155d2a68d2
	// new_balance Microsoft.Dynamics.CRM.MoneyAttributeMetadata
	// Balance, Money, required: None, precision source: 2
}
