package emulator_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// createMultipleBody is a CreateMultiple body of n accounts named prefix 0, prefix 1, ...
func createMultipleBody(prefix string, n int) string {
	var b strings.Builder
	b.WriteString(`{"Targets":[`)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"@odata.type":"Microsoft.Dynamics.CRM.account","name":"%s %d","numberofemployees":%d}`, prefix, i, i)
	}
	b.WriteString(`]}`)
	return b.String()
}

// BenchmarkCreateMultiple1000 compares one CreateMultiple of 1,000 accounts with a $batch change
// set of the same 1,000 creates, on a file database whose account table starts empty and on one
// that starts with 100,000 rows (seeded by CreateMultiple calls of 5,000).
func BenchmarkCreateMultiple1000(b *testing.B) {
	for _, seed := range []int{0, 100_000} {
		setup := func(b *testing.B) (http.Handler, string) {
			h, tok := benchSetup(b)
			const chunk = 5000
			for i := 0; i < seed; i += chunk {
				serve(b, h, tok, "POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", createMultipleBody(fmt.Sprintf("seed %d", i), chunk), 200)
			}
			return h, tok
		}
		name := "empty"
		if seed > 0 {
			name = fmt.Sprintf("%dk", seed/1000)
		}
		b.Run(name+"/CreateMultiple", func(b *testing.B) {
			h, tok := setup(b)
			body := createMultipleBody("bulk", 1000)
			b.ReportAllocs()
			for b.Loop() {
				serve(b, h, tok, "POST", "accounts/Microsoft.Dynamics.CRM.CreateMultiple", body, 200)
			}
		})
		b.Run(name+"/changeset", func(b *testing.B) {
			h, tok := setup(b)
			var ops []batchPart
			for i := 0; i < 1000; i++ {
				ops = append(ops, batchPart{method: "POST", target: "/api/data/v9.2/accounts", body: fmt.Sprintf(`{"name":"batch %d","numberofemployees":%d}`, i, i), contentID: fmt.Sprint(i + 1)})
			}
			body, ct := buildBatch(nil, ops)
			b.ReportAllocs()
			for b.Loop() {
				serveBatch(b, h, tok, body, ct)
			}
		})
	}
}
