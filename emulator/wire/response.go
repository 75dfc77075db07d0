package wire

import (
	"io"
	"net/http"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// Response is what a handler produces inside its transaction; it is written only after commit, so
// a failed commit never leaves a success on the wire.
type Response struct {
	Status int
	Header http.Header
	JSON   any
	Text   string
	// ContentType overrides the default for text bodies.
	ContentType string
	// Stream, when set, writes a body too big to hold (a file download) after the headers; the
	// handler sets Content-Type and Content-Length. An error from it can no longer change the
	// status, so it aborts the connection and the client sees a short body.
	Stream func(w io.Writer) error
}

func NewResponse(status int) *Response { return &Response{Status: status, Header: http.Header{}} }

func (resp *Response) Write(w http.ResponseWriter) {
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.Header().Set("OData-Version", "4.0")
	switch {
	case resp.JSON != nil:
		WriteJSON(w, resp.Status, resp.JSON)
	case resp.Stream != nil:
		w.WriteHeader(resp.Status)
		if err := resp.Stream(w); err != nil {
			panic(http.ErrAbortHandler)
		}
	case resp.Text != "":
		ct := resp.ContentType
		if ct == "" {
			ct = "text/plain"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(resp.Status)
		w.Write([]byte(resp.Text))
	default:
		w.WriteHeader(resp.Status)
	}
}

func MethodNotAllowed(r *http.Request) error {
	return dverr.New(http.StatusMethodNotAllowed, dverr.CodeMethodNotAllowed, "The requested resource does not support http method '%s'.", r.Method)
}

func EntityIDResponse(status int, url string) *Response {
	resp := NewResponse(status)
	resp.Header.Set("OData-EntityId", url)
	return resp
}
