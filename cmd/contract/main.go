// Command contract runs, records and lists dynlocal contract suites against a target: the emulator
// (started in-process when no target is given) or a live Dataverse tenant.
//
//	contract run                                   # built-in suites against an in-process emulator
//	contract run --target https://org.crm.dynamics.com \
//	    --token-url https://login.microsoftonline.com/<tenant>/oauth2/v2.0/token \
//	    --client-id <app id> --client-secret <secret> contracts/suites
//	contract record --target ... --out recorded contracts/suites/records.json
//	contract list
//
// Every flag has an environment fallback: DYNLOCAL_TARGET, DYNLOCAL_TOKEN_URL, DYNLOCAL_CLIENT_ID,
// DYNLOCAL_CLIENT_SECRET, DYNLOCAL_SCOPE, DYNLOCAL_TOKEN. The exit status is 0 when every case
// passed, 1 when a case failed or the target could not be used, 2 on a usage error.
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
