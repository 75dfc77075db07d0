package emulator_test

import "testing"

// TestEdgeValuesRefused checks that the empty GUID as a new record's id and DateTime values before
// 1753 are refused, and that nothing is written.
func TestEdgeValuesRefused(t *testing.T) {
	e := newEnv(t)
	const empty = "00000000-0000-0000-0000-000000000000"
	for _, tc := range []struct {
		name, method, path string
		body               map[string]any
	}{
		{"empty id in body", "POST", "accounts", map[string]any{"name": "x", "accountid": empty}},
		{"empty id upsert", "PATCH", "accounts(" + empty + ")", map[string]any{"name": "x"}},
		{"date before 1753", "POST", "accounts", map[string]any{"name": "x", "lastonholdtime": "1752-12-31T23:59:59Z"}},
		{"date-only before 1753", "POST", "contacts", map[string]any{"lastname": "x", "birthdate": "1600-01-01"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do(tc.method, tc.path, tc.body)
			r.expect(t, 400)
			if code, _ := r.Error(t); code != "0x80040203" {
				t.Fatalf("code = %q, want 0x80040203; body: %s", code, r.Body)
			}
		})
	}
	e.do("GET", "accounts("+empty+")", nil).expect(t, 404)
	e.do("POST", "accounts", map[string]any{"name": "x", "lastonholdtime": "1753-01-01T00:00:00Z"}).expect(t, 204)
}
