// Package target turns the connection flags the dynlocal commands share (--target, --token-url,
// --client-id, --client-secret, --scope, --token and their DYNLOCAL_* environment fallbacks) into a
// connection: a live tenant, an emulator started separately on a loopback address, or, without
// --target, an emulator started in-process with its development credentials.
//
// It is a helper of the binaries under cmd/, which is why it may import the emulator.
package target
