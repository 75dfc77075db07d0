// Package webhook receives the calls a Dataverse webhook service endpoint makes and decodes the
// execution context they carry.
//
// A [Receiver] is an http.Handler: it checks the secret the endpoint was registered with (the
// WebhookKey code parameter, HTTP headers or query string values, compared in constant time),
// answers probes and URL validation calls, and hands each decoded [Event] to a function, either
// while Dataverse waits (a handler error then fails the delivery, and a synchronous step's
// operation) or, with [WithAsyncHandling], after acknowledging it.
//
//	receiver := webhook.NewReceiver(webhook.Auth{Key: key}, func(ctx context.Context, ev *webhook.Event) error {
//		log.Println(ev.MessageName, ev.PrimaryEntityName, ev.PrimaryEntityID)
//		return nil
//	})
//	http.Handle("/dataverse/events", receiver)
//
// [Decode] turns a RemoteExecutionContext (the body of a webhook call, and of Service Bus and Event
// Hub messages) into an [Event] on its own: key/value lists become maps, WCF dates time.Time values,
// and SDK types ([Entity], [EntityReference], [OptionSetValue], [Money]) Go values.
//
// The package does not depend on the Web API client: a service that only receives events needs
// neither credentials nor an org URL.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/use-webhooks
package webhook
