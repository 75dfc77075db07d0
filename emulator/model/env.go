package model

import "time"

// Env is what the relative condition operators read: the clock, the calling user and the fiscal
// calendar. Both front ends take one; the same Env gives the same condition from OData and
// FetchXML.
type Env struct {
	// Now is the current time; the zero time stands for the wall clock. Every emulated user works
	// in UTC, so "today" is Now's UTC date.
	Now time.Time
	// UserID is the calling user's systemuserid.
	UserID string
	// BusinessUnitID is the calling user's business unit.
	BusinessUnitID string
	// TeamIDs are the teams the user belongs to (may be empty).
	TeamIDs []string
	// FiscalYearStartMonth is the month (1..12) fiscal years start in; 0, or any value outside
	// 1..12, means January. See dates.go for the fiscal calendar.
	FiscalYearStartMonth int
}

// Normalized returns env with the wall clock for a zero Now, Now in UTC, and January for a fiscal
// start month outside 1..12.
func (env Env) Normalized() Env {
	if env.Now.IsZero() {
		env.Now = time.Now()
	}
	env.Now = env.Now.UTC()
	if env.FiscalYearStartMonth < 1 || env.FiscalYearStartMonth > 12 {
		env.FiscalYearStartMonth = 1
	}
	return env
}
