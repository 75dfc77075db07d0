package webapi

import "strings"

// reservedSegments are the first path segments the Web API serves itself.
var reservedSegments = []string{"$metadata", "$batch", "$crossjoin", "$entity", "$root", "EntityDefinitions",
	"RelationshipDefinitions", "GlobalOptionSetDefinitions", "ManagedPropertyDefinitions"}

// IsReservedName reports whether name, compared case-insensitively, is a path segment the Web API
// serves itself or the name of a built-in function or action, so that an entity set of that name
// would shadow it.
func IsReservedName(name string) bool {
	for _, r := range reservedSegments {
		if strings.EqualFold(r, name) {
			return true
		}
	}
	builtinMu.Lock()
	defer builtinMu.Unlock()
	for _, op := range builtinOperations {
		if strings.EqualFold(op.Name, name) {
			return true
		}
	}
	return false
}
