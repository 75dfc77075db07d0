// Package store keeps dynlocal's data in SQLite: metadata as rows of metadata tables (the full
// Dataverse JSON documents plus indexed names), one table per entity with typed columns, and the
// system columns every row carries.
//
// All writes go through a Tx. Writes are serialised inside the store (one writer connection, BEGIN
// IMMEDIATE), reads run in parallel on a read-only pool when the database is a file in WAL mode, so
// concurrent requests never see "database is locked". Every value reaches SQLite as a bound
// parameter; identifiers come only from metadata, which is validated when it is loaded.
//
// Exact numbers: Money and Decimal are kept as scaled integers (Money at four places, Decimal at its
// column's precision); DateTime as UTC text that sorts; GUIDs as lower-case text; lookups as the
// target id, plus the target table for polymorphic lookups.
package store
