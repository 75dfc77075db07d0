package emulator

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// errorEnvelope is Dataverse's error body.
type errorEnvelope struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// writeError renders err as the Dataverse error envelope. A *dverr.Error keeps its status, code and
// message; a cancelled request gets nothing (the client is gone); anything else is an emulator bug,
// logged and answered with a 500.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	de, ok := dverr.As(err)
	if !ok {
		if errors.Is(err, context.Canceled) && r.Context().Err() != nil {
			return
		}
		s.log.ErrorContext(r.Context(), "internal error", slog.String("method", r.Method), slog.String("url", r.URL.String()), slog.Any("err", err))
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
	writeJSON(w, de.Status, errorEnvelope{Error: errorBody{Code: de.Code, Message: de.Message}})
}

// writeJSON writes v as the response body with Dataverse's content type.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := marshalValue(v)
	if err != nil {
		status = http.StatusInternalServerError
		body = []byte(`{"error":{"code":"0x80040216","message":"An unexpected error occurred."}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; odata.metadata=minimal")
	h.Set("OData-Version", "4.0")
	w.WriteHeader(status)
	w.Write(body)
}
