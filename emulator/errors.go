package emulator

import (
	"net/http"

	"github.com/dynlocal/dynlocal/emulator/wire"
)

// writeError renders err as the Dataverse error envelope, logging what is not a client's mistake.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	if reason := errorReason(err); reason != "" {
		noteReason(r.Context(), reason)
	}
	wire.WriteError(w, r, err, s.log)
}
