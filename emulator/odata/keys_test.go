package odata

import (
	"testing"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// TestResolvePathKeyNames checks that an alternate key segment must name a defined key.
func TestResolvePathKeyNames(t *testing.T) {
	t.Parallel()
	sch := testSchema(t) // a schema of this test's own, given an alternate key
	acct := entity(t, sch, "account")
	acct.Keys = append(acct.Keys, &model.Key{LogicalName: "accountnumberkey", Attributes: []string{"accountnumber"}})
	const msg = "The key in the request URI is not valid for resource 'Microsoft.Dynamics.CRM.account'. Ensure that the names and number of key properties match the declared or alternate key properties for the resource 'Microsoft.Dynamics.CRM.account'."
	tests := []struct {
		name, path string
		ok         bool
	}{
		{"primary key", "accounts(00000000-0000-0000-0000-000000000001)", true},
		{"primary key by name", "accounts(accountid=00000000-0000-0000-0000-000000000001)", true},
		{"alternate key", "accounts(accountnumber='A-1')", true},
		{"alternate key with a property after it", "accounts(accountnumber='A-1')/name", true},
		{"column that is not a key", "accounts(name='x')", false},
		{"unknown column", "accounts(nothere='x')", false},
		{"key and another column", "accounts(accountnumber='A-1',name='x')", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			segs, err := SplitPath(tt.path)
			if err != nil {
				t.Fatal(err)
			}
			_, err = ResolvePath(sch, segs, nil)
			if tt.ok {
				if err != nil {
					t.Fatalf("ResolvePath(%q): %v", tt.path, err)
				}
				return
			}
			de, ok := dverr.As(err)
			if !ok || de.Status != 400 || de.Code != "0x80060888" || de.Message != msg {
				t.Fatalf("ResolvePath(%q) = %v, want 400 0x80060888 %q", tt.path, err, msg)
			}
		})
	}
}
