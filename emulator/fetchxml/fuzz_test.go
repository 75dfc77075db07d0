package fetchxml

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// compile turns a query into SQL where the store is built (with cgo; see store_test.go), so
// that the fuzz target also checks that every query it accepts compiles. It is nil without cgo.
var compile func(q *model.Query) error

// FuzzFetchXML parses arbitrary text. It must never panic; every error is a 400 *dverr.Error
// naming an offset in the text; and, with cgo, every query it accepts compiles.
func FuzzFetchXML(f *testing.F) {
	for _, tt := range conditionCases {
		f.Add(conditionXML(tt.entity, tt.filter))
	}
	for _, tt := range fetchCases {
		f.Add(tt.xml)
	}
	for _, tt := range columnCases {
		f.Add(tt.xml)
	}
	for _, tt := range linkCases {
		f.Add("<fetch><entity name='account'><attribute name='name' />" + tt.xml + "</entity></fetch>")
	}
	for _, tt := range orderCases {
		f.Add(tt.xml)
	}
	for _, tt := range aggregateCases {
		f.Add(tt.xml)
	}
	for _, tt := range errorCases {
		f.Add(tt.xml)
	}
	files, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil {
			f.Add(string(b))
		}
	}
	sch := testSchema(f)
	f.Fuzz(func(t *testing.T, text string) {
		fx, err := Parse(sch, text, testEnv)
		if err != nil {
			checkFuzzErr(t, err, text)
			return
		}
		if compile == nil {
			return
		}
		if err := compile(fx.Query); err != nil {
			t.Fatalf("%q: parsed but does not compile: %v", text, err)
		}
	})
}
