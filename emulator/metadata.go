package emulator

import (
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// isMetadataPath reports whether a resource path is served by the metadata handlers:
// EntityDefinitions, RelationshipDefinitions, GlobalOptionSetDefinitions and $metadata.
func isMetadataPath(rest string) bool {
	for _, p := range []string{"EntityDefinitions", "RelationshipDefinitions", "GlobalOptionSetDefinitions"} {
		if rest == p || strings.HasPrefix(rest, p+"(") || strings.HasPrefix(rest, p+"/") {
			return true
		}
	}
	return rest == "$metadata"
}

// serveMetadata serves table, column, relationship and option set definitions and the CSDL
// document.
func (s *Server) serveMetadata(req *apiRequest, rest string) (*response, error) {
	name, _, _ := strings.Cut(rest, "(")
	name, _, _ = strings.Cut(name, "/")
	return nil, dverr.ResourceNotFound(name)
}

// isMetadataOperation reports whether name is a metadata function or action the emulator serves.
func isMetadataOperation(name string) bool { return false }

// metadataOperation runs a metadata function or action.
func (s *Server) metadataOperation(req *apiRequest) (*response, error) {
	return nil, dverr.ResourceNotFound(req.res.Operation)
}
