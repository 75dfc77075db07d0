package wire

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// Prefer is the parsed Prefer header (one or more headers, comma-separated values, quoted strings
// kept whole).
type Prefer struct {
	ReturnRepresentation bool
	Annotations          []string // patterns from odata.include-annotations, nil if not asked
	AnnotationsRaw       string
	MaxPageSize          int
	ContinueOnError      bool
	TrackChanges         bool
}

func ParsePrefer(h http.Header) Prefer {
	var p Prefer
	for _, line := range h.Values("Prefer") {
		for _, item := range splitOutsideQuotes(line, ',') {
			item = strings.TrimSpace(item)
			name, val, _ := strings.Cut(item, "=")
			name = strings.ToLower(strings.TrimSpace(name))
			val = strings.TrimSpace(val)
			switch name {
			case "return":
				if strings.EqualFold(val, "representation") {
					p.ReturnRepresentation = true
				}
			case "odata.include-annotations":
				v := strings.Trim(val, `"`)
				p.AnnotationsRaw = v
				if p.addAnnotations(v) {
					// Patterns past the bound were dropped: echo only those kept.
					p.AnnotationsRaw = strings.Join(p.Annotations, ",")
				}
			case "odata.maxpagesize":
				if n, err := strconv.Atoi(strings.Trim(val, `"`)); err == nil && n > 0 {
					p.MaxPageSize = n
				}
			case "odata.continue-on-error":
				p.ContinueOnError = true
			case "odata.track-changes":
				p.TrackChanges = true
			}
		}
	}
	return p
}

// addAnnotations adds the comma-separated patterns of v, skipping repeats and keeping at most
// MaxAnnotationPatterns in all, so that WantsAnnotation compares a term with a bounded number of
// patterns. It reports whether any pattern was dropped for the bound (CheckPrefer refuses such a
// header first; this keeps the parse bounded whoever calls it).
func (p *Prefer) addAnnotations(v string) (dropped bool) {
	for pat := range strings.SplitSeq(v, ",") {
		pat = strings.TrimSpace(pat)
		if pat == "" || slices.Contains(p.Annotations, pat) {
			continue
		}
		if len(p.Annotations) == MaxAnnotationPatterns {
			return true
		}
		p.Annotations = append(p.Annotations, pat)
	}
	return false
}

// WantsAnnotation reports whether the include-annotations preference covers term (for example
// "OData.Community.Display.V1.FormattedValue"). Patterns may be "*", "Namespace.*" or exact terms,
// and a leading "-" excludes.
func (p Prefer) WantsAnnotation(term string) bool {
	want := false
	for _, pat := range p.Annotations {
		neg := strings.HasPrefix(pat, "-")
		pat = strings.TrimPrefix(pat, "-")
		match := pat == "*" || pat == term || strings.HasSuffix(pat, ".*") && strings.HasPrefix(term, strings.TrimSuffix(pat, "*"))
		if match {
			if neg {
				return false
			}
			want = true
		}
	}
	return want
}

func splitOutsideQuotes(s string, sep byte) []string {
	var out []string
	inQ := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"':
			inQ = !inQ
		case sep:
			if !inQ {
				out = append(out, s[start:i])
				start = i + 1
			}
		}
	}
	return append(out, s[start:])
}

const (
	AnnFormatted  = "OData.Community.Display.V1.FormattedValue"
	AnnLookupName = "Microsoft.Dynamics.CRM.lookuplogicalname"
	AnnAssociated = "Microsoft.Dynamics.CRM.associatednavigationproperty"
)
