package contracts

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/dynlocal/dynlocal/client"
	"github.com/dynlocal/dynlocal/client/webhook"
)

// webhookInput describes a webhook round trip: a webhook.Receiver listening on loopback is
// registered on the target for Create of entity (a serviceendpoints row with contract 8 and a
// WebhookKey, then an sdkmessageprocessingsteps row in stage 40 with mode), a row of data is created
// in entitySet, and the step waits for the execution context of that row.
type webhookInput struct {
	// EntitySet is where the row is created, such as "accounts".
	EntitySet string `json:"entitySet"`
	// Entity is the table's logical name, such as "account", which the message filter names.
	Entity string `json:"entity"`
	// Data is the row to create.
	Data map[string]any `json:"data"`
	// Mode is the step's mode: 0 synchronous (the create waits for the webhook), 1 asynchronous.
	Mode int `json:"mode,omitempty"`
}

func init() {
	if _, dup := actions["Webhook"]; dup {
		panic("contracts: action Webhook defined twice")
	}
	actions["Webhook"] = action{
		newInput: func() any { return &webhookInput{} },
		check: func(x any) error {
			in := x.(*webhookInput)
			if in.Mode != 0 && in.Mode != 1 {
				return fmt.Errorf("mode %d: want 0 (synchronous) or 1 (asynchronous)", in.Mode)
			}
			return nil
		},
		run: func(ctx context.Context, c *client.Client, x any) observation {
			return runWebhook(ctx, c, x.(*webhookInput))
		},
	}
}

// createdRows reports the row the round trip created, so that the case deletes it.
func (in *webhookInput) createdRows(obs observation) []tracked {
	if id := idFromEntityID(obs.header.Get("OData-EntityId")); id != "" {
		return []tracked{{kind: trackedRow, set: in.EntitySet, key: id}}
	}
	return nil
}

// runWebhook registers a receiver, creates the row and shows what the receiver decoded: the create's
// status and headers, and as body {"event": {...}, "headers": {...}} with the execution context's
// identity (MessageName, PrimaryEntityName, PrimaryEntityId, Stage, Mode, Depth, the registered
// step as OwningExtension), its Target (the columns data set, as decoded: a money column as
// {"Value": "<decimal>"}, a choice as {"Value": n}) and OutputParameters.id, and the
// x-ms-dynamics-* headers it came with. Other suites may create rows in the same table meanwhile:
// their events reach the receiver too and are answered, but only this row's event is shown.
//
// The target must be able to reach this machine's loopback interface: the emulator can, a tenant
// cannot.
func runWebhook(ctx context.Context, c *client.Client, in *webhookInput) observation {
	key := "contract-" + newKey()
	events := make(chan *webhook.Event, 16)
	receiver := webhook.NewReceiver(webhook.Auth{Key: key}, func(ctx context.Context, ev *webhook.Event) error {
		select {
		case events <- ev:
		default: // another suite's row; nobody waits for it
		}
		return nil
	})
	hs := httptest.NewServer(receiver) // on 127.0.0.1
	defer hs.Close()

	// Registrations are removed even when the step's context has run out.
	cleanCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	endpointID, stepID, err := registerWebhook(ctx, c, hs.URL+"/dataverse/events", key, in)
	if endpointID != "" {
		defer c.DeleteRecord(cleanCtx, "serviceendpoints", endpointID, nil)
	}
	if stepID != "" {
		// Deferred after the endpoint: runs first, so no delivery starts towards a closed receiver.
		defer c.DeleteRecord(cleanCtx, "sdkmessageprocessingsteps", stepID, nil)
	}
	if err != nil {
		return observation{err: fmt.Errorf("register the webhook: %w", err)}
	}

	_, resp, err := c.CreateRecord(ctx, in.EntitySet, client.Record(in.Data), nil)
	if err != nil {
		return observeRecord(nil, resp, err)
	}
	for {
		select {
		case ev := <-events:
			if !strings.EqualFold(ev.PrimaryEntityID, resp.ID) {
				continue
			}
			obs := observation{status: resp.StatusCode, header: resp.Header}
			g, err := genericOf(showEvent(ev, in.Data))
			if err != nil {
				return observation{err: err}
			}
			obs.body, obs.hasBody = g, true
			return obs
		case <-ctx.Done():
			return observation{err: fmt.Errorf("no webhook call for %s(%s): %w", in.EntitySet, resp.ID, ctx.Err())}
		}
	}
}

// registerWebhook creates the service endpoint and the step, returning the ids of what it created.
func registerWebhook(ctx context.Context, c *client.Client, url, key string, in *webhookInput) (endpointID, stepID string, err error) {
	_, resp, err := c.CreateRecord(ctx, "serviceendpoints", client.Record{
		"name": "contract webhook", "contract": 8, "url": url, "authtype": 4, "authvalue": key, "messageformat": 2,
	}, nil)
	if err != nil {
		return "", "", err
	}
	endpointID = resp.ID
	msgs, _, err := c.QueryRecords(ctx, "sdkmessages", &client.QueryOptions{
		Select: []string{"sdkmessageid"}, Filter: "name eq 'Create'",
	})
	if err != nil {
		return endpointID, "", err
	}
	if len(msgs.Records) == 0 {
		return endpointID, "", errors.New("no sdkmessages row named Create")
	}
	msgID, _ := msgs.Records[0]["sdkmessageid"].(string)
	filters, _, err := c.QueryRecords(ctx, "sdkmessagefilters", &client.QueryOptions{
		Select: []string{"sdkmessagefilterid"},
		Filter: "_sdkmessageid_value eq " + msgID + " and primaryobjecttypecode eq '" + strings.ReplaceAll(in.Entity, "'", "''") + "'",
	})
	if err != nil {
		return endpointID, "", err
	}
	if len(filters.Records) == 0 {
		return endpointID, "", fmt.Errorf("no sdkmessagefilters row for Create of %s", in.Entity)
	}
	filterID, _ := filters.Records[0]["sdkmessagefilterid"].(string)
	_, resp, err = c.CreateRecord(ctx, "sdkmessageprocessingsteps", client.Record{
		"name": "contract webhook: Create of " + in.Entity, "stage": 40, "mode": in.Mode, "rank": 1, "supporteddeployment": 0,
		"sdkmessageid@odata.bind":                 client.Bind("sdkmessages", msgID),
		"sdkmessagefilterid@odata.bind":           client.Bind("sdkmessagefilters", filterID),
		"eventhandler_serviceendpoint@odata.bind": client.Bind("serviceendpoints", endpointID),
	}, nil)
	if err != nil {
		return endpointID, "", err
	}
	return endpointID, resp.ID, nil
}

// showEvent picks what a suite checks out of an execution context.
func showEvent(ev *webhook.Event, data map[string]any) map[string]any {
	out := map[string]any{
		"MessageName":       ev.MessageName,
		"PrimaryEntityName": ev.PrimaryEntityName,
		"PrimaryEntityId":   ev.PrimaryEntityID,
		"Stage":             ev.Stage,
		"Mode":              ev.Mode,
		"Depth":             ev.Depth,
	}
	if ev.OwningExtension != nil {
		out["OwningExtension"] = map[string]any{"LogicalName": ev.OwningExtension.LogicalName, "Id": ev.OwningExtension.ID}
	}
	if ev.Target != nil {
		attrs := map[string]any{}
		for k := range data {
			if v, ok := ev.Target.Attributes[k]; ok {
				attrs[k] = v
			}
		}
		out["Target"] = map[string]any{"LogicalName": ev.Target.LogicalName, "Id": ev.Target.ID, "Attributes": attrs}
	}
	if id, ok := ev.OutputParameters["id"]; ok {
		out["OutputId"] = id
	}
	headers := map[string]any{}
	for _, h := range []string{"x-ms-dynamics-request-name", "x-ms-dynamics-entity-name"} {
		if v := ev.Headers.Get(h); v != "" {
			headers[h] = v
		}
	}
	return map[string]any{"event": out, "headers": headers}
}
