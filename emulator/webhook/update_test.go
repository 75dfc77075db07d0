package webhook

import "flag"

// This package has no golden files; it accepts -update so that go test ./... -update, which
// regenerates them elsewhere, does not fail here. emulator/batch/update_test.go explains the
// convention.
var _ = flag.Bool("update", false, "rewrite the golden files from the current output")
