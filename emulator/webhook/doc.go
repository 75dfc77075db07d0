// Package webhook calls the webhooks registered the Dataverse way: serviceendpoints with contract 8
// and sdkmessageprocessingsteps pointing at them, for Create, Update and Delete, posting the
// RemoteExecutionContext Dataverse posts. Synchronous steps run inside the operation's transaction,
// under the request's context, and fail the operation when the endpoint fails; asynchronous
// (post-operation) steps are queued after commit, retried once on 502/503/504 and recorded as
// system jobs. The write path calls the Dispatcher; nothing here knows HTTP handlers.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/use-webhooks
package webhook
