package webapi

import (
	"testing"
	"time"
)

// Delta tokens and change page positions come back from clients: whatever they hold, parsing
// never panics, and what parses prints back to the same text.
func FuzzDeltaToken(f *testing.F) {
	f.Add(deltaToken{Version: 1042, Issued: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC), Lineage: 123456789}.String())
	f.Add("919042!08/22/2017 08:10:44")
	f.Add("1!01/02/2006 15:04:05!zz")
	f.Add("!!")
	f.Fuzz(func(t *testing.T, s string) {
		tok, ok := parseDeltaToken(s)
		if !ok {
			return
		}
		if again, ok := parseDeltaToken(tok.String()); !ok || again != tok {
			t.Errorf("%q parsed as %+v, which prints as %q and parses as %+v", s, tok, tok.String(), again)
		}
	})
}

func FuzzChangePos(f *testing.F) {
	f.Add(changePos{Since: 1, Upto: 20, Lineage: 99, Phase: 1, AfterVersion: 7, AfterID: "4d2c9a10-5e1f-4b7a-9c3d-000000000001"}.String())
	f.Add(changePos{Upto: 5, Lineage: 1}.String())
	f.Add("ct!1!2!3!4!5!6")
	f.Add("ct!!!!!!")
	f.Fuzz(func(t *testing.T, s string) {
		p, ok := parseChangePos(s)
		if !ok {
			return
		}
		if p.Phase < 0 || p.Phase > 1 || p.Upto < p.Since {
			t.Errorf("%q accepted as %+v", s, p)
		}
		if again, ok := parseChangePos(p.String()); !ok || again != p {
			t.Errorf("%q parsed as %+v, which prints as %q and parses as %+v", s, p, p.String(), again)
		}
	})
}
