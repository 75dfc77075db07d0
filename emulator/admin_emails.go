package emulator

import (
	"net/http"

	"github.com/dynlocal/dynlocal/emulator/wire"
)

// sentEmails serves GET /_emulator/emails: the emails SendEmail sent, oldest first. Nothing
// leaves the machine; this list is where they go. DELETE clears it.
func (s *Server) sentEmails(w http.ResponseWriter, r *http.Request) error {
	if r.Method == http.MethodDelete {
		s.web.ClearSentEmails()
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"value": s.web.SentEmails()})
	return nil
}
