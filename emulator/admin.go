package emulator

import (
	"context"
	"errors"
	"net/http"
	"runtime"
	"time"

	"github.com/gorilla/mux"

	"github.com/dynlocal/dynlocal/emulator/console"
	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/webhook"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// adminRoutes registers the admin API. It is guarded by guardAdmin (guard.go): no requests from
// other origins' pages, and Config.AdminToken when set.
//
//	GET    /_emulator/health              {"status":"ok", ...}
//	POST   /_emulator/reset               back to the fixtures
//	GET    /_emulator/snapshots           {"value":["name", ...]}
//	PUT    /_emulator/snapshots/{name}    save the current state (POST works too)
//	POST   /_emulator/snapshots/{name}/restore
//	DELETE /_emulator/snapshots/{name}
//	GET    /_emulator/webhooks/deliveries     recent webhook calls and their answers
//	GET    /_emulator/emails              emails SendEmail sent; DELETE clears the list
//	GET    /_emulator/requests            the request journal; DELETE clears it
//	POST   /_emulator/faults              add a fault rule; GET lists them, DELETE clears them
//	DELETE /_emulator/faults/{id}
//	POST   /_emulator/environments        {"name":"ci-1"}: a new organisation at /env/ci-1/
//	GET    /_emulator/environments[/{name}]   DELETE removes one, or all
//
// An environment serves the same admin API, except environments, under /env/{name}/_emulator/.
func (s *Server) adminRoutes(r *mux.Router) {
	r.Methods(http.MethodGet).Path("/health").Handler(s.handle(s.health))
	r.Methods(http.MethodGet).Path("/session").Handler(s.handle(s.consoleSession))
	r.Methods(http.MethodGet, http.MethodHead).Path("/ui").HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, wire.BasePath(r.Context())+consolePath+"/", http.StatusMovedPermanently)
	})
	r.PathPrefix("/ui/").Handler(http.StripPrefix(consolePath, console.Handler()))
	r.Methods(http.MethodPost).Path("/reset").Handler(s.handle(s.reset))
	r.Methods(http.MethodGet).Path("/snapshots").Handler(s.handle(s.listSnapshots))
	r.Methods(http.MethodPut, http.MethodPost).Path("/snapshots/{name}").Handler(s.handle(s.saveSnapshot))
	r.Methods(http.MethodPost).Path("/snapshots/{name}/restore").Handler(s.handle(s.restoreSnapshot))
	r.Methods(http.MethodDelete).Path("/snapshots/{name}").Handler(s.handle(s.deleteSnapshot))
	r.Methods(http.MethodGet).Path("/webhooks/deliveries").Handler(s.handle(s.webhookDeliveries))
	r.Methods(http.MethodGet, http.MethodDelete).Path("/emails").Handler(s.handle(s.sentEmails))
	r.Methods(http.MethodGet).Path("/requests").Handler(s.handle(s.listRequests))
	r.Methods(http.MethodDelete).Path("/requests").Handler(s.handle(s.clearRequests))
	r.Methods(http.MethodPost).Path("/faults").Handler(s.handle(s.addFault))
	r.Methods(http.MethodGet).Path("/faults").Handler(s.handle(s.listFaults))
	r.Methods(http.MethodDelete).Path("/faults").Handler(s.handle(s.clearFaults))
	r.Methods(http.MethodDelete).Path("/faults/{id}").Handler(s.handle(s.deleteFault))
	r.Methods(http.MethodGet).Path("/limits").Handler(s.handle(func(w http.ResponseWriter, r *http.Request) error {
		wire.WriteJSON(w, http.StatusOK, s.limits.info())
		return nil
	}))
	if s.envs != nil {
		r.Methods(http.MethodPost).Path("/environments").Handler(s.handle(s.createEnvironment))
		r.Methods(http.MethodGet).Path("/environments").Handler(s.handle(s.listEnvironments))
		r.Methods(http.MethodDelete).Path("/environments").Handler(s.handle(s.deleteEnvironments))
		r.Methods(http.MethodGet).Path("/environments/{name}").Handler(s.handle(s.getEnvironment))
		r.Methods(http.MethodDelete).Path("/environments/{name}").Handler(s.handle(s.deleteEnvironment))
	}
}

// webhookDeliveries lists recent webhook calls (no secrets: URLs lose their query string).
func (s *Server) webhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	list := s.hooks.Deliveries()
	if list == nil {
		list = []webhook.DeliveryRecord{}
	}
	wire.WriteJSON(w, http.StatusOK, map[string]any{"value": list})
	return nil
}

func (s *Server) health(w http.ResponseWriter, r *http.Request) error {
	o := wire.NewObject()
	o.Set("status", "ok")
	o.Set("time", s.cfg.Clock().UTC().Format(time.RFC3339))
	o.Set("tenantId", s.cfg.TenantID)
	o.Set("entitySets", len(s.store.Schema().Entities()))
	// The process's goroutines, for soak runs that watch for leaks.
	o.Set("goroutines", runtime.NumGoroutine())
	wire.WriteJSON(w, http.StatusOK, o)
	return nil
}

// Reset puts the data back to the fixtures, as POST /_emulator/reset does; snapshots stay.
func (s *Server) Reset(ctx context.Context) error { return s.resetToFixtures(ctx) }

func (s *Server) reset(w http.ResponseWriter, r *http.Request) error {
	if err := s.resetToFixtures(r.Context()); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listSnapshots(w http.ResponseWriter, r *http.Request) error {
	names, err := s.store.Snapshots()
	if err != nil {
		return err
	}
	if names == nil {
		names = []string{}
	}
	o := wire.NewObject()
	o.Set("value", names)
	wire.WriteJSON(w, http.StatusOK, o)
	return nil
}

func snapshotErr(err error, name string) error {
	switch {
	case errors.Is(err, store.ErrBadSnapshotName):
		return dverr.BadRequest("Invalid snapshot name '%s': use 1 to 64 letters, digits, '.', '_' or '-'.", name)
	case errors.Is(err, store.ErrNoSnapshot):
		return dverr.New(http.StatusNotFound, dverr.CodeNone, "No snapshot named '%s'.", name)
	case errors.Is(err, store.ErrBadSnapshot):
		// The snapshot was checked before anything was copied: the data is as it was.
		return dverr.New(http.StatusConflict, dverr.CodeNone,
			"Snapshot '%s' is damaged or incomplete and was not restored; the data is unchanged. Delete it with DELETE /_emulator/snapshots/%s.", name, name)
	}
	return err
}

func (s *Server) deleteSnapshot(w http.ResponseWriter, r *http.Request) error {
	name := mux.Vars(r)["name"]
	if err := s.store.DeleteSnapshot(name); err != nil {
		return snapshotErr(err, name)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) saveSnapshot(w http.ResponseWriter, r *http.Request) error {
	name := mux.Vars(r)["name"]
	if err := s.store.Snapshot(r.Context(), name); err != nil {
		return snapshotErr(err, name)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) restoreSnapshot(w http.ResponseWriter, r *http.Request) error {
	name := mux.Vars(r)["name"]
	if err := s.store.Restore(r.Context(), name); err != nil {
		return snapshotErr(err, name)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
