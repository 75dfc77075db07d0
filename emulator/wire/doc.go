// Package wire is the emulator's thin HTTP layer: JSON objects that keep the key order Dataverse
// writes, the Prefer header, responses, the Dataverse error envelope, ETags and the URLs a
// response points back to. It knows nothing of storage.
package wire
