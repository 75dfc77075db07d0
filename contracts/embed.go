package contracts

import "embed"

// builtinSuites holds the committed suites, so that cmd/contract runs them without a checkout.
//
//go:embed suites/*.json
var builtinSuites embed.FS
