// Package odata parses the OData parts of Dataverse Web API URLs: the resource path (entity sets,
// keys and alternate keys, properties, navigation properties, $ref, $count, functions) and the query
// options, resolving every name against store metadata and answering bad input with the error
// Dataverse gives. It turns queries into model.Query; it writes no SQL and knows nothing of HTTP.
package odata
