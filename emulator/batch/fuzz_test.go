package batch

import (
	"errors"
	"net/http"
	"testing"
)

// FuzzBatch feeds Parse arbitrary content types and bodies, seeded with every testdata input. It
// must never panic; every error must be a positioned *dverr.Error (400, or 415 for a body that is
// not multipart); every success must respect the batch rules, and its answer must survive Write
// and a read back with the standard library.
func FuzzBatch(f *testing.F) {
	for _, file := range inputFiles(f) {
		in := readInput(f, file)
		f.Add(in.contentType, in.body)
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		parts, err := Parse(contentType, body)
		if err != nil {
			checkParseErr(t, contentType, body, err)
			return
		}
		n := 0
		for i, p := range parts {
			if p.IsChangeSet() != (p.ChangeSetBoundary != "") {
				t.Fatalf("part %d: change set %v with boundary %q", i, p.IsChangeSet(), p.ChangeSetBoundary)
			}
			if !p.IsChangeSet() {
				n++
				checkRequest(t, p.Request, false)
				continue
			}
			ids := map[string]bool{}
			for _, r := range p.ChangeSet {
				n++
				checkRequest(t, r, true)
				if r.ContentID != "" && ids[r.ContentID] {
					t.Fatalf("Content-ID %q twice in a change set", r.ContentID)
				}
				ids[r.ContentID] = true
			}
		}
		if n > MaxOperations {
			t.Fatalf("%d operations accepted", n)
		}
		if _, err := Write(new(discard), answer(parts), counterID()); errors.Is(err, errCollision) {
			return // a body holding every boundary tried; nothing to read back
		}
		roundTrip(t, parts)
	})
}

func checkRequest(t *testing.T, r *Request, inChangeSet bool) {
	t.Helper()
	switch r.Method {
	case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
	default:
		t.Fatalf("method %q accepted", r.Method)
	}
	if inChangeSet && r.Method == http.MethodGet {
		t.Fatal("GET accepted in a change set")
	}
	if r.Target == "" || r.Header == nil || (r.Body != nil && len(r.Body) == 0) {
		t.Fatalf("request %+v", r)
	}
}

type discard struct{}

func (*discard) Write(b []byte) (int, error) { return len(b), nil }
