// Package emulator is dynlocal's HTTP server: a local stand-in for the Microsoft Dataverse Web API
// (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/overview) and the Microsoft
// identity platform endpoints clients get tokens from.
//
// A Server wires the parts together and routes requests with gorilla/mux: token endpoints under
// /{tenant}/oauth2/v2.0/ (package oauth), the Web API under /api/data/v9.x/ (authenticated here,
// then served by package webapi, which hands metadata paths to package metadataapi), and the admin
// API under /_emulator/. Webhooks are dispatched by package webhook. docs/architecture.md draws the
// packages and the path of a request.
package emulator
