// Package webhook calls the webhooks registered the Dataverse way: serviceendpoints with contract 8
// and sdkmessageprocessingsteps pointing at them, for Create, Update and Delete, posting the
// RemoteExecutionContext Dataverse posts. Synchronous steps run before the operation commits,
// under the request's context, and fail the operation when the endpoint fails; a Ledger makes
// those calls with the transaction rolled back and the write made again (ledger.go); asynchronous
// (post-operation) steps are written as system jobs (asyncoperation rows) once the operation
// commits, and workers deliver the waiting jobs from the store (queue.go), a few at a time per
// endpoint, retrying as queue.go describes. Webhooks may not call the emulator itself
// (target.go). The write path calls the Dispatcher; nothing here knows HTTP handlers.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/use-webhooks
package webhook
