package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/dynlocal/dynlocal/client"
)

// newBatchServer stands in for Dataverse answering a change set of a create and an update that
// fails: the batch answers 400 with only the failing part.
func newBatchServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		const b, cs = "batchresponse_1", "changesetresponse_1"
		w.Header().Set("Content-Type", "multipart/mixed; boundary="+b)
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, strings.Join([]string{
			"--" + b,
			"Content-Type: multipart/mixed; boundary=" + cs,
			"",
			"--" + cs,
			"Content-Type: application/http",
			"Content-Transfer-Encoding: binary",
			"Content-ID: 2",
			"",
			"HTTP/1.1 404 Not Found",
			"Content-Type: application/json; odata.metadata=minimal",
			"",
			`{"error":{"code":"0x80040217","message":"Entity 'account' With Id = 00000000-0000-0000-0000-000000000001 Does Not Exist"}}`,
			"--" + cs + "--",
			"--" + b + "--",
			"",
		}, "\r\n"))
	}))
}

// Create a row and update another in one transaction. The update fails, so nothing is written.
func ExampleClient_Batch() {
	srv := newBatchServer()
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithStaticToken("token"))
	if err != nil {
		fmt.Println(err)
		return
	}
	results, _, err := c.Batch(context.Background(), []client.BatchAction{
		{Collection: "accounts", Action: "create", Data: client.Record{"name": "Contoso"}},
		{Collection: "accounts", Action: "update", Key: "00000000-0000-0000-0000-000000000001",
			Data: client.Record{"name": "Fabrikam"}},
	}, nil)
	fmt.Println(errors.Is(err, client.ErrNotFound))
	for i, r := range results {
		if r.Err != nil {
			fmt.Println(i+1, r.StatusCode, r.Err.Code)
			continue
		}
		fmt.Println(i+1, "not run:", r.NotRun)
	}
	// Output:
	// true
	// 1 not run: true
	// 2 404 0x80040217
}
