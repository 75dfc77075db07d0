package emulator

import "time"

// SetOverflowGrace sets how long a connection over the limit has to send its request, and
// returns a function that puts the old value back.
func SetOverflowGrace(d time.Duration) func() {
	old := overflowGrace
	overflowGrace = d
	return func() { overflowGrace = old }
}
