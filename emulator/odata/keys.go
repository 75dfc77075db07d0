package odata

import (
	"net/http"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// CheckKeyNames checks that the names of an alternate key segment (accountnumber='A-1') are
// exactly the columns of one of e's alternate keys, or e's primary key written as name=value. A
// lookup column in a key is named by its lookup property (_primarycontactid_value). A single
// value (a GUID) is not checked here. Dataverse's URI parser refuses any other set of names
// before it reads a row, whatever the values.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/use-alternate-key-reference-record
func CheckKeyNames(e *model.Entity, k *Key) error {
	if k == nil || k.Pairs == nil {
		return nil
	}
	names := make([]string, 0, len(k.Pairs))
	for _, p := range k.Pairs {
		name := p.Name
		if strings.HasPrefix(name, "_") && strings.HasSuffix(name, "_value") && len(name) > 7 {
			name = name[1 : len(name)-6]
		}
		names = append(names, name)
	}
	if len(names) == 1 && names[0] == e.PrimaryIDAttribute {
		return nil
	}
	for _, key := range e.Keys {
		if sameNames(key.Attributes, names) {
			return nil
		}
	}
	return errKeyMismatch(e)
}

// codeKeyMismatch is the code Dataverse gives errors of its OData URI parser, this one included.
const codeKeyMismatch = dverr.CodeExpandNotSupported

// errKeyMismatch is the message the alternate key documentation quotes for a key segment naming
// columns that are not a key. The documentation gives no code or status; 400 and 0x80060888 are
// what client code handling this answer from Dataverse matches on.
func errKeyMismatch(e *model.Entity) *dverr.Error {
	t := "Microsoft.Dynamics.CRM." + e.LogicalName
	return dverr.New(http.StatusBadRequest, codeKeyMismatch,
		"The key in the request URI is not valid for resource '%s'. Ensure that the names and number of key properties match the declared or alternate key properties for the resource '%s'.", t, t)
}

// sameNames reports whether a and b hold the same names, each once.
func sameNames(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := make(map[string]bool, len(a))
	for _, x := range a {
		seen[x] = true
	}
	for _, x := range b {
		if !seen[x] {
			return false
		}
		delete(seen, x)
	}
	return true
}
