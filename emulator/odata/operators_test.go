package odata

import (
	"testing"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// TestOperatorNames checks that every Dataverse condition operator $filter maps to exists.
func TestOperatorNames(t *testing.T) {
	t.Parallel()
	names := []string{"Null", "NotNull"}
	for _, m := range []map[string]string{compareOperators, matchOperators} {
		for _, name := range m {
			names = append(names, name)
		}
	}
	for _, name := range names {
		if _, ok := model.LookupOperator(name); !ok {
			t.Errorf("no condition operator %s", name)
		}
	}
	for _, op := range model.Operators() {
		if _, ok := queryFunction(op.Name); ok && fnParams[op.Args] == nil {
			t.Errorf("query function %s takes arguments %v, which have no parameters", op.Name, op.Args)
		}
	}
}
