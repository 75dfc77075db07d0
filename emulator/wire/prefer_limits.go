package wire

import (
	"net/http"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// Dataverse documents no limit of its own on the Prefer header; its front end refuses oversized
// headers as a whole. These bounds keep a request from buying seconds of annotation matching, or a
// megabyte of Preference-Applied echo, with one header, while staying far above what any client
// sends (a handful of preferences, a few annotation patterns).
const (
	// MaxPreferBytes bounds the Prefer header: the lengths of all its values together.
	MaxPreferBytes = 8 << 10
	// MaxAnnotationPatterns bounds the patterns odata.include-annotations may list, in all Prefer
	// values together.
	MaxAnnotationPatterns = 100
)

// CheckPrefer refuses, with a 400, a Prefer header longer than MaxPreferBytes or one whose
// odata.include-annotations preferences list more than MaxAnnotationPatterns patterns. It runs
// before ParsePrefer so that the patterns of an oversized header are never split or matched.
func CheckPrefer(h http.Header) error {
	size := 0
	for _, v := range h.Values("Prefer") {
		size += len(v)
	}
	if size > MaxPreferBytes {
		return dverr.BadRequest("The Prefer header is %d bytes long; at most %d bytes are accepted.", size, MaxPreferBytes)
	}
	n := 0
	for _, line := range h.Values("Prefer") {
		for _, item := range splitOutsideQuotes(line, ',') {
			name, val, _ := strings.Cut(strings.TrimSpace(item), "=")
			if !strings.EqualFold(strings.TrimSpace(name), "odata.include-annotations") {
				continue
			}
			for _, pat := range strings.Split(strings.Trim(strings.TrimSpace(val), `"`), ",") {
				if strings.TrimSpace(pat) != "" {
					n++
				}
			}
		}
	}
	if n > MaxAnnotationPatterns {
		return dverr.BadRequest("The Prefer header's odata.include-annotations preference lists %d patterns; at most %d are accepted.", n, MaxAnnotationPatterns)
	}
	return nil
}
