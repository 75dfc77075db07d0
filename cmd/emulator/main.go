// Command emulator runs dynlocal: a local Microsoft Dataverse Web API backed by SQLite, with the
// standard tables loaded and well-known development credentials.
//
//	go run ./cmd/emulator                 # file database under ./.dynlocal
//	go run ./cmd/emulator --in-memory     # nothing kept on disk
//	go run ./cmd/emulator --tls           # HTTPS on 127.0.0.1:8443 too, from a local development CA
//
// Every flag has an environment fallback: --addr and DYNLOCAL_ADDR, --data and DYNLOCAL_DATA, ...
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// releaseVersion is set by scripts/release (-X main.releaseVersion=v1.2.3); --version prints it
// instead of the module version the build recorded.
var releaseVersion string

// serverBuilt, when set, is called once run has built the server.
var serverBuilt func()

// startHeap is how far the heap may grow while the server is built before it is collected.
const startHeap = 64 << 20

func main() {
	// Most of what a start allocates (the schema) stays live, so collecting while it is built is
	// wasted time: a few milliseconds of a 40 ms start. The heap may grow to startHeap first (a
	// start that loads the fixtures from scratch collects when it reaches that); then collection
	// goes back to normal.
	gcPercent, memLimit := debug.SetGCPercent(-1), debug.SetMemoryLimit(startHeap)
	serverBuilt = func() {
		debug.SetGCPercent(gcPercent)
		debug.SetMemoryLimit(memLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
