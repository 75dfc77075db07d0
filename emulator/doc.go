// Package emulator is dynlocal's HTTP server: a local stand-in for the Microsoft Dataverse Web API
// (https://learn.microsoft.com/power-apps/developer/data-platform/webapi/overview) and the Microsoft
// identity platform endpoints clients get tokens from.
//
// A Server routes requests with gorilla/mux: token endpoints under /{tenant}/oauth2/v2.0/, the Web
// API under /api/data/v9.2/ (bearer token required), and the admin API under /_emulator/. Handlers
// resolve the path with package odata, run against package store inside one transaction per request,
// and return errors; one writer renders Dataverse's error envelope.
package emulator
