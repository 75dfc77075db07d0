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
	"syscall"
)

// releaseVersion is set by scripts/release (-X main.releaseVersion=v1.2.3); --version prints it
// instead of the module version the build recorded.
var releaseVersion string

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}
