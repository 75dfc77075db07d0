package dynlocaltest_test

import (
	"context"
	"testing"

	"github.com/dynlocal/dynlocal/dynlocaltest"
)

// BenchmarkNew measures what a test pays for its own organisation: New and its cleanup, once the
// process has loaded the fixture set (the first New of a set pays for that; it is made before the
// timer starts), with an emulator of the test's own and with Shared. The FirstRequest variants add
// the client's first call, which fetches a token.
func BenchmarkNew(b *testing.B) {
	for _, mode := range []struct {
		name string
		opts []dynlocaltest.Option
	}{{"Own", nil}, {"Shared", []dynlocaltest.Option{dynlocaltest.Shared()}}} {
		b.Run(mode.name, func(b *testing.B) { benchmarkNew(b, mode.opts...) })
	}
}

func benchmarkNew(b *testing.B, opts ...dynlocaltest.Option) {
	warm := &stubT{}
	warm.run(func(t testing.TB) { dynlocaltest.New(t, opts...) })
	if warm.Failed() {
		b.Fatalf("%q", warm.messages())
	}
	b.Run("New+Cleanup", func(b *testing.B) {
		for b.Loop() {
			st := &stubT{}
			st.run(func(t testing.TB) { dynlocaltest.New(t, opts...) })
			if st.Failed() {
				b.Fatalf("%q", st.messages())
			}
		}
	})
	b.Run("FirstRequest", func(b *testing.B) {
		for b.Loop() {
			st := &stubT{}
			st.run(func(t testing.TB) {
				if _, _, err := dynlocaltest.New(t, opts...).Client().Count(context.Background(), "accounts", ""); err != nil {
					t.Fatalf("count: %v", err)
				}
			})
			if st.Failed() {
				b.Fatalf("%q", st.messages())
			}
		}
	})
}
