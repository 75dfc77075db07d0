package emulator

// ForgetBaselines empties the process's cache of fixture databases, so that a test can start a
// server as a new process would. Servers already running keep theirs.
func ForgetBaselines() {
	baselines.mu.Lock()
	clear(baselines.m)
	baselines.mu.Unlock()
}
