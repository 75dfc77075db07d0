package wire

import (
	"net/http"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

func TestCheckPrefer(t *testing.T) {
	t.Parallel()
	pats := func(n int) string {
		p := make([]string, n)
		for i := range p {
			p[i] = "NS" + strings.Repeat("x", i%3) + ".*"
		}
		return `odata.include-annotations="` + strings.Join(p, ",") + `"`
	}
	tests := []struct {
		name   string
		prefer []string
		ok     bool
	}{
		{name: "none", ok: true},
		{name: "common", prefer: []string{`return=representation,odata.include-annotations="*"`, "odata.maxpagesize=5"}, ok: true},
		{name: "max patterns", prefer: []string{pats(MaxAnnotationPatterns)}, ok: true},
		{name: "too many patterns", prefer: []string{pats(MaxAnnotationPatterns + 1)}},
		{name: "too many patterns over two headers", prefer: []string{pats(60), pats(60)}},
		{name: "too long", prefer: []string{"odata.maxpagesize=1," + strings.Repeat(" ", MaxPreferBytes)}},
		{name: "half a million patterns", prefer: []string{pats(500000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			h := http.Header{}
			for _, v := range tt.prefer {
				h.Add("Prefer", v)
			}
			err := CheckPrefer(h)
			if tt.ok {
				if err != nil {
					t.Fatalf("CheckPrefer: %v", err)
				}
				return
			}
			de, ok := dverr.As(err)
			if !ok || de.Status != http.StatusBadRequest {
				t.Fatalf("CheckPrefer = %v, want a 400", err)
			}
		})
	}
}

// TestParsePreferBounded checks that ParsePrefer itself keeps at most MaxAnnotationPatterns
// distinct patterns, whatever reaches it, so that matching an annotation costs a bounded number of
// comparisons.
func TestParsePreferBounded(t *testing.T) {
	t.Parallel()
	p := make([]string, 5000)
	for i := range p {
		p[i] = "NS.T" + strings.Repeat("x", i)
	}
	h := http.Header{"Prefer": {`odata.include-annotations="*,*,*,` + strings.Join(p, ",") + `"`}}
	got := ParsePrefer(h)
	if len(got.Annotations) > MaxAnnotationPatterns {
		t.Fatalf("%d patterns kept, want at most %d", len(got.Annotations), MaxAnnotationPatterns)
	}
	if !got.WantsAnnotation(AnnFormatted) {
		t.Fatal(`"*" lost`)
	}
	if len(got.AnnotationsRaw) > MaxPreferBytes {
		t.Fatalf("AnnotationsRaw is %d bytes", len(got.AnnotationsRaw))
	}
	dup := ParsePrefer(http.Header{"Prefer": {`odata.include-annotations="*,*,*,*"`}})
	if len(dup.Annotations) != 1 {
		t.Fatalf("duplicates kept: %q", dup.Annotations)
	}
}
