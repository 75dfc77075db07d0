package wire

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// ErrorEnvelope is Dataverse's error body.
type ErrorEnvelope struct {
	Error ErrorBody `json:"error"`
}

// ErrorBody is the error envelope's content.
type ErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// WriteJSON writes v as the response body with Dataverse's content type.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b := bodyPool.Get().(*bytes.Buffer)
	defer putBody(b)
	b.Reset()
	body := []byte(nil)
	if err := appendJSON(b, v); err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"0x80040216","message":"An unexpected error occurred."}}`)
	} else {
		body = b.Bytes()
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; odata.metadata=minimal")
	h.Set("OData-Version", "4.0")
	w.WriteHeader(status)
	w.Write(body)
}

// bodyPool keeps the buffers JSON answers are written into: a response writer copies what it is
// given, so a buffer serves the next answer once written.
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBody returns a buffer to the pool unless an unusually large answer grew it.
func putBody(b *bytes.Buffer) {
	if b.Cap() <= 1<<20 {
		bodyPool.Put(b)
	}
}

// WriteError renders err as the Dataverse error envelope. A *dverr.Error keeps its status, code and
// message; a cancelled request gets nothing (the client is gone); anything else is an emulator bug,
// logged and answered with a 500.
func WriteError(w http.ResponseWriter, r *http.Request, err error, log *slog.Logger) {
	de, ok := dverr.As(err)
	if !ok {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			return
		}
		log.ErrorContext(r.Context(), "internal error", slog.String("method", r.Method), slog.String("url", r.URL.String()), slog.Any("err", err))
		de = dverr.New(http.StatusInternalServerError, "0x80040216", "An unexpected error occurred.")
	}
	for k, vs := range de.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	if de.Status == http.StatusUnauthorized {
		// Dataverse answers an unauthenticated call with an empty body; the WWW-Authenticate header
		// tells the client where to get a token.
		w.WriteHeader(de.Status)
		return
	}
	WriteJSON(w, de.Status, ErrorEnvelope{Error: ErrorBody{Code: de.Code, Message: de.Message}})
}
