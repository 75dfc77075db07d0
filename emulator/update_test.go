package emulator_test

import "flag"

// update makes the golden tests rewrite their .golden files from the current output (go test
// ./... -update); emulator/batch/update_test.go explains the convention.
var update = flag.Bool("update", false, "rewrite the golden files from the current output")
