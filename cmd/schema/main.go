// Command schema reads a Dataverse environment's schema through the Web API, or from a saved
// $metadata document, and writes it as a fixtures directory the emulator loads (--fixtures DIR).
//
//	schema pull --out fixtures/ cr8a1_project               # one table and the tables it points at
//	schema pull --out fixtures/ 'cr8a1_*' --rows 20         # a wildcard, with up to 20 rows each
//	schema pull --out fixtures/ --custom                    # every custom table
//	schema pull --out builtin/                              # no --target: export the built-in set
//	schema import-csdl --out fixtures/ --tables account metadata.xml  # from a saved $metadata
//
// It connects with the same flags as contract run: --target, --token-url, --client-id,
// --client-secret, --scope, --token, with the environment fallbacks DYNLOCAL_TARGET,
// DYNLOCAL_TOKEN_URL, DYNLOCAL_CLIENT_ID, DYNLOCAL_CLIENT_SECRET, DYNLOCAL_SCOPE, DYNLOCAL_TOKEN.
// import-csdl needs no connection; its usage text lists what CSDL cannot carry.
// The exit status is 0 on success, 1 when the pull or import failed, 2 on a usage error.
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
