package wire

import (
	"strconv"
	"strings"
)

// ETag is the weak ETag of a row version.
func ETag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// ETagMatches reports whether an If-Match / If-None-Match value names the current version. "*"
// matches any existing row.
func ETagMatches(header string, version int64) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(t)
		if t == "*" || t == ETag(version) || strings.Trim(strings.TrimPrefix(t, "W/"), `"`) == strings.Trim(strings.TrimPrefix(ETag(version), "W/"), `"`) {
			return true
		}
	}
	return false
}
