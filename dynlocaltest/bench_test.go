package dynlocaltest_test

import (
	"context"
	"testing"

	"github.com/dynlocal/dynlocal/dynlocaltest"
)

// BenchmarkNew measures what a test pays for its own organisation: New and its cleanup, once the
// process has loaded the fixture set (the first New of a set pays for that; it is made before the
// timer starts). The FirstRequest variant adds the client's first call, which fetches a token.
func BenchmarkNew(b *testing.B) {
	warm := &stubT{}
	warm.run(func(t testing.TB) { dynlocaltest.New(t) })
	if warm.Failed() {
		b.Fatalf("%q", warm.messages())
	}
	b.Run("New+Cleanup", func(b *testing.B) {
		for b.Loop() {
			st := &stubT{}
			st.run(func(t testing.TB) { dynlocaltest.New(t) })
			if st.Failed() {
				b.Fatalf("%q", st.messages())
			}
		}
	})
	b.Run("FirstRequest", func(b *testing.B) {
		for b.Loop() {
			st := &stubT{}
			st.run(func(t testing.TB) {
				if _, _, err := dynlocaltest.New(t).Client().Count(context.Background(), "accounts", ""); err != nil {
					t.Fatalf("count: %v", err)
				}
			})
			if st.Failed() {
				b.Fatalf("%q", st.messages())
			}
		}
	})
}
