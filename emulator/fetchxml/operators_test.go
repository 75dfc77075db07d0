package fetchxml

import (
	"testing"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// TestOperatorNames checks that every FetchXML operator maps to a Dataverse condition operator.
func TestOperatorNames(t *testing.T) {
	t.Parallel()
	for op, name := range operators {
		if _, ok := model.LookupOperator(name); !ok {
			t.Errorf("%s: no condition operator %s", op, name)
		}
	}
}
