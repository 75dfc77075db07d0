package webapi

import (
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
	"github.com/dynlocal/dynlocal/emulator/webhook"
	"github.com/dynlocal/dynlocal/emulator/wire"
)

// Config is what the Web API handlers need from the server.
type Config struct {
	// Store holds the data.
	Store *store.Store
	// Hooks calls the webhooks writes trigger; nil calls none.
	Hooks Hooks
	// Loose ignores query options Dataverse rejects instead of failing.
	Loose bool
	// AggregateLimit is the most source rows an aggregate query may read.
	AggregateLimit int
	// Clock and NewID stamp rows and answers.
	Clock func() time.Time
	NewID func() string
	Log   *slog.Logger
	// Operation runs one $batch operation through the server's whole handler chain, from
	// authentication on; cs is the change set it belongs to, nil outside one.
	Operation func(w http.ResponseWriter, r *http.Request, cs *ChangeSet)
	// Metadata serves the metadata API.
	Metadata Extension
}

// Extension serves the parts of the Web API that another package owns: the metadata API.
type Extension interface {
	// Serves reports whether a resource path (after the API root) belongs to the extension.
	Serves(path string) bool
	// Serve answers a request for such a path.
	Serve(req *Request, path string) (*wire.Response, error)
	// Operation answers a call of one of the extension's functions and actions (the
	// operations registered with Serve delegating to it).
	Operation(req *Request) (*wire.Response, error)
	// EntitySets are the extension's entity sets, which the service document lists too.
	EntitySets() []string
}

// Handler serves the Web API's data: records, collections, references, FetchXML, functions and
// $batch, with the write pipeline behind them.
type Handler struct {
	cfg   Config
	store *store.Store
	hooks Hooks
	log   *slog.Logger
	ops   *operationRegistry
	// org remembers the organization row's id (WhoAmI answers it on every call).
	org atomic.Pointer[cachedOrg]
}

// cachedOrg is the organization id as of a generation of the organization table.
type cachedOrg struct {
	gen uint64
	id  string
}

// Hooks is what the write path asks of webhook dispatch (a *webhook.Dispatcher): the steps
// registered for an operation, and running those of some stages.
type Hooks interface {
	Matching(tx *store.Tx, message, entity string, changed model.Row) ([]*webhook.Step, error)
	Run(inv *webhook.Invocation, steps []*webhook.Step, stages []int, op *webhook.Operation) error
}

// New returns a Handler for cfg.
func New(cfg Config) *Handler {
	log := cfg.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Handler{cfg: cfg, store: cfg.Store, hooks: cfg.Hooks, log: log, ops: newOperationRegistry()}
}
