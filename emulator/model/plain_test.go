package model

import (
	"reflect"
	"testing"
)

// Plain turns a pointer to an expression into the expression, and leaves values alone.
func TestPlain(t *testing.T) {
	c := Compare{Op: Eq, Value: int64(1)}
	for _, tc := range []struct{ in, want Expr }{
		{&c, c},
		{c, c},
		{&And{Terms: []Expr{&c}}, And{Terms: []Expr{&c}}},
		{&Exists{All: true}, Exists{All: true}},
		{(*Or)(nil), nil},
		{nil, nil},
	} {
		if got := Plain(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Plain(%#v) = %#v, want %#v", tc.in, got, tc.want)
		}
	}
}
