// Package contracts runs contract suites: JSON files that describe calls to the Dataverse Web API and
// what must come back, run unchanged against the dynlocal emulator or a live tenant.
//
// A suite is a list of cases; a case is a list of steps; a step names an action of the client package
// (CreateRecord, GetRecord, ..., the table and column actions such as GetEntityMetadata and
// CreateAttribute, Do for raw HTTP), gives its input and states the expected status,
// headers and body. Values that differ between runs and targets are written as matchers ({{guid}},
// {{etag}}, {{datetime}}, {{any}}, ...); values needed by later steps are captured
// ({{capture account.id}}) and used as {{account.id}}. Every step runs through the real client, so a
// suite checks the client and the service together. Two actions reach further: Webhook registers a
// webhook.Receiver on loopback and checks what the target posts to it, and Throttled checks the
// client's retries of 429 answers against a loopback server without calling the target at all, since
// the emulator does not throttle.
//
//	s, err := contracts.Load("contracts/suites/records.json")
//	report, err := contracts.Run(ctx, s, contracts.Target{URL: url, TokenURL: tokenURL,
//		ClientID: id, ClientSecret: secret})
//	for _, c := range report.Cases { ... }
//
// Record runs a suite and rewrites its expectations from what the target answered, turning volatile
// values into matchers and keeping secrets out of the file; recording against the emulator reproduces
// the committed suites byte for byte, which is how drift is caught. The file format, the matchers and
// the recording workflow are described in README.md next to this file.
package contracts
