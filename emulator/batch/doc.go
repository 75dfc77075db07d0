// Package batch splits a Dataverse Web API $batch request body into its operations and assembles
// the multipart response, in the form the service (and the clients that parse it strictly) use.
//
// It only deals with the multipart framing: Parse turns a multipart/mixed body into top-level
// requests and change sets of requests, keeping each request line's target exactly as sent
// (relative, server-relative, absolute or a $n Content-ID reference, raw spaces and quotes
// included); Write renders the results as a batchresponse_ multipart body with changesetresponse_
// parts. Reader reads the same parts one at a time from a stream, holding about one part in memory,
// for bodies too large to hold whole; Parse is a Reader over a byte slice. Running the operations, resolving $n references and deciding what a failure means for the
// rest of the batch belong to the emulator, which passes each request through its ordinary handler.
//
// Malformed bodies are answered with *dverr.Error values carrying status 400 and the message the
// OData library behind Dataverse gives where it is known (see errors.go for which are Dataverse's
// own, which are the OData library's, and which are ours), with Position set to the byte offset in
// the body where the problem was found.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/execute-batch-operations-using-web-api
package batch
