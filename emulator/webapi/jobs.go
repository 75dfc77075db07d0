package webapi

import (
	"context"
	"errors"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
)

// UpdateSystemJob changes columns of a system job (an asyncoperation row) as SYSTEM, stamping
// modifiedon and the row version. A job that no longer exists (the data was reset) is no error.
func (s *Handler) UpdateSystemJob(ctx context.Context, id string, row model.Row) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		ae, ok := tx.Schema().Entity("asyncoperation")
		if !ok {
			return nil
		}
		w := s.newWriter(ctx, tx, Caller{UserID: systemUserID, RealUserID: systemUserID})
		if err := w.stampUpdate(ae, id, row); err != nil {
			return err
		}
		_, err := tx.Update(ae, id, row)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
}

// DeleteSystemJob removes a system job; one already gone is no error.
func (s *Handler) DeleteSystemJob(ctx context.Context, id string) error {
	return s.store.Write(ctx, func(tx *store.Tx) error {
		ae, ok := tx.Schema().Entity("asyncoperation")
		if !ok {
			return nil
		}
		err := tx.Delete(ae, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return err
	})
}

// endpointChecker is what the write path asks of webhook dispatch (a *webhook.Dispatcher) about a
// service endpoint's URL: whether webhooks may call it.
type endpointChecker interface {
	CheckURL(raw, requestHost string) error
}

// checkEndpointURL refuses a serviceendpoint url that targets the emulator itself.
func (w *writer) checkEndpointURL(e *model.Entity, row model.Row) error {
	if e.LogicalName != "serviceendpoint" || w.noHooks {
		return nil
	}
	c, ok := w.s.hooks.(endpointChecker)
	if !ok {
		return nil
	}
	raw, _ := row["url"].(string)
	if raw == "" {
		return nil
	}
	return c.CheckURL(raw, w.host)
}
