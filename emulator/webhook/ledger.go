package webhook

import (
	"context"
	"crypto/sha256"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// A Ledger lets a write call its synchronous webhooks without holding the store's writer.
//
// Dataverse calls a synchronous step inside the operation's transaction. The emulator has one
// writer, so a step that hangs there would stall every other write (and, for an in-memory store,
// every read) for as long as the endpoint takes. Instead the write is rehearsed:
//
//  1. The operation runs in a write transaction. A synchronous step whose outcome is not known
//     yet is not called: its call is noted as pending and the operation goes on as if it
//     succeeded, noting any further calls the same way.
//  2. If calls are pending, the transaction is rolled back, and the calls are made in order with
//     nothing held, stopping at the first that fails. Their outcomes are recorded.
//  3. The operation runs again from the start, in a new transaction. Each step it meets takes the
//     recorded outcome of the call made for it, so a failure fails the operation as it would have
//     in place, and a run that meets no unknown step commits.
//
// A run replays the ids and times the first run generated (NewID, Now), so the contexts it builds
// are those the endpoints were sent. A recorded outcome is used only if the step's context is
// unchanged apart from row versions: a write another request committed in between (a different
// pre-image, say) makes the step be called again with what the data is now. After maxRecalls such
// changes the remaining calls are made inside the transaction, as Dataverse does, so a write that
// keeps losing the race still completes; those calls are bounded by the request's context and the
// webhook timeout.
//
// Endpoints therefore see every call of a write once (again only when the data changed under it),
// in Dataverse's order, before the write commits, and may call the Web API back (they do not see the uncommitted write, as they
// would not in Dataverse). A Ledger belongs to one write and is not safe for concurrent use.
type Ledger struct {
	newID func() string
	clock func() time.Time

	ids, times int
	idList     []string
	timeList   []time.Time
	calls      []*ledgerCall // made, in the order the operation meets their steps
	met        int           // calls of this run that matched a made call
	pending    []*ledgerCall // met in this run and not made yet
	recalls    int
	inTx       bool
}

// maxRecalls bounds how often a write calls a step again because the data changed under it.
const maxRecalls = 3

type ledgerCall struct {
	key      string
	h        *Dispatcher
	d        *delivery
	attempts int
	rec      DeliveryRecord
	answer   []byte
}

// errPending ends a run that cannot go on before a pending call is made (a custom API's main
// operation, whose answer the rest of the call uses). The run is rolled back and made again, so
// no client sees it; it is a Dataverse-shaped error only so that it is not logged as a fault.
var errPending = dverr.New(http.StatusServiceUnavailable, dverr.CodeNone, "A synchronous webhook is called before the operation goes on.")

// NewLedger returns a Ledger for one write; newID and clock are what the write would use without one.
func NewLedger(newID func() string, clock func() time.Time) *Ledger {
	return &Ledger{newID: newID, clock: clock}
}

// Begin starts a run: ids, times and calls are replayed from the first.
func (l *Ledger) Begin() {
	l.ids, l.times, l.met = 0, 0, 0
	l.pending = nil
}

// NewID returns the id the run's first run generated at this point, or a new one.
func (l *Ledger) NewID() string {
	if l.ids == len(l.idList) {
		l.idList = append(l.idList, l.newID())
	}
	l.ids++
	return l.idList[l.ids-1]
}

// Now returns the time the first run read at this point, or the clock's.
func (l *Ledger) Now() time.Time {
	if l.times == len(l.timeList) {
		l.timeList = append(l.timeList, l.clock())
	}
	l.times++
	return l.timeList[l.times-1]
}

// Pending reports whether the run met calls that are not made yet: it must be rolled back, the
// calls made (Settle) and the operation run again.
func (l *Ledger) Pending() bool { return len(l.pending) > 0 }

// Settle makes the pending calls in order, with nothing held, until one fails; the calls after a
// failure are not made (the operation fails there). Each call ends with ctx.
func (l *Ledger) Settle(ctx context.Context) {
	for _, c := range l.pending {
		c.rec, c.answer = c.h.deliver(ctx, c.d, c.attempts)
		l.calls = append(l.calls, c)
		if !c.rec.Succeeded {
			break
		}
	}
	l.pending = nil
}

// call makes a synchronous call the ledger's way: it returns the recorded outcome when the call
// was made for the same context, makes it now when the ledger gave up rehearsing, and otherwise
// notes it as pending and reports false.
func (l *Ledger) call(ctx context.Context, h *Dispatcher, d *delivery, attempts int) (DeliveryRecord, []byte, bool) {
	if l.inTx {
		rec, answer := h.deliver(ctx, d, attempts)
		return rec, answer, true
	}
	key := callKey(d)
	if len(l.pending) == 0 && l.met < len(l.calls) {
		if c := l.calls[l.met]; c.key == key {
			l.met++
			return c.rec, c.answer, true
		}
		// The operation now sends something else than the endpoint saw: forget that outcome and
		// the later ones, and call again.
		l.calls = l.calls[:l.met]
		l.recalls++
		if l.recalls > maxRecalls {
			l.inTx = true
			rec, answer := h.deliver(ctx, d, attempts)
			return rec, answer, true
		}
	}
	l.pending = append(l.pending, &ledgerCall{key: key, h: h, d: d, attempts: attempts})
	return DeliveryRecord{}, nil, false
}

// versionAttr matches a row version in a context: it changes whenever anything else is written,
// without changing what the step is asked about.
var versionAttr = regexp.MustCompile(`"key":"versionnumber","value":-?[0-9]+`)

// callKey identifies what a call sends: its step and its context, row versions aside.
func callKey(d *delivery) string {
	sum := sha256.Sum256(versionAttr.ReplaceAll(d.body, []byte(`"key":"versionnumber","value":0`)))
	return d.step.ID + "/" + strconv.Itoa(d.step.Stage) + "/" + string(sum[:])
}
