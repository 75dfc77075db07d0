// Command emulator runs dynlocal: a local Microsoft Dataverse Web API backed by SQLite, with the
// standard tables loaded and well-known development credentials.
//
//	go run ./cmd/emulator                 # file database under ./.dynlocal
//	go run ./cmd/emulator --in-memory     # nothing kept on disk
//
// Every flag has an environment fallback: --addr and DYNLOCAL_ADDR, --data and DYNLOCAL_DATA, ...
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
