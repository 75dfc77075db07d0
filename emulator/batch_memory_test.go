package emulator_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/dynlocal/dynlocal/emulator"
)

// batchGen produces a $batch body of n POST operations, each with a JSON body padded with
// whitespace to about partSize bytes, without ever holding more than one part.
type batchGen struct {
	n, partSize int
	i           int
	cur         []byte
	done        bool
}

func (g *batchGen) Read(p []byte) (int, error) {
	for len(g.cur) == 0 {
		switch {
		case g.i < g.n:
			body := fmt.Sprintf(`{"name":"big %d"`, g.i)
			g.cur = []byte("--big_batch\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\n" +
				"POST accounts HTTP/1.1\r\nContent-Type: application/json\r\n\r\n" +
				body + strings.Repeat(" ", max(0, g.partSize-len(body))) + "}\r\n")
			g.i++
		case !g.done:
			g.cur = []byte("--big_batch--\r\n")
			g.done = true
		default:
			return 0, io.EOF
		}
	}
	n := copy(p, g.cur)
	g.cur = g.cur[n:]
	return n, nil
}

// TestBatchMemory sends a $batch of 1,000 operations and over 100 MB, one over the size limit
// without a Content-Length (so that the limit must be enforced while reading), and four large ones
// at once, and checks that the heap in use never grows anywhere near the size of a body, and that
// it is back near where it started afterwards.
func TestBatchMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves several hundred MB")
	}
	// The request journal keeps up to 16 KB of each of the last 1,000 requests' bodies by design;
	// it is turned off so that what remains afterwards is what the batches left behind.
	e := newEnvWith(t, emulator.Config{JournalSize: -1})
	send := func(g *batchGen, length int64) (int, []byte) {
		t.Helper()
		req, err := http.NewRequest("POST", e.api+"$batch", g)
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		req.ContentLength = length
		req.Header.Set("Authorization", "Bearer "+e.token)
		req.Header.Set("Content-Type", "multipart/mixed; boundary=big_batch")
		resp, err := testClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, b
	}
	const limit = 64 << 20

	// A low GC target makes the heap in use follow what is live rather than the collector's
	// pacing, so the peak shows what the server holds, not garbage awaiting collection.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	// A small batch first, so that what the server loads once (the table's columns, caches) is in
	// the base.
	if status, body := send(&batchGen{n: 2, partSize: 10}, -1); status != 200 {
		t.Fatalf("small batch: status %d\n%.500s", status, body)
	}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)

	stop := heapPeak()
	status, body := send(&batchGen{n: 1000, partSize: 105 << 10}, -1)
	big := stop()
	if status != 200 || bytes.Count(body, []byte("HTTP/1.1 204 No Content")) != 1000 {
		t.Fatalf("large batch: status %d, %d operations answered 204\n%.500s", status, bytes.Count(body, []byte("HTTP/1.1 204")), body)
	}

	runtime.GC()
	stop = heapPeak()
	status, body = send(&batchGen{n: 1000, partSize: 140 << 10}, -1)
	refused := stop()
	if status != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized batch: status %d, want 413\n%.500s", status, body)
	}

	runtime.GC()
	stop = heapPeak()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if status, _ := send(&batchGen{n: 1000, partSize: 100 << 10}, -1); status != 200 {
				t.Errorf("concurrent batch: status %d", status)
			}
		})
	}
	wg.Wait()
	concurrent := stop()

	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	t.Logf("heap in use: base %d MB; peak %d MB for a 105 MB batch, %d MB for a refused 140 MB one, %d MB for four 100 MB ones at once; %d MB after",
		base.HeapInuse>>20, big>>20, refused>>20, concurrent>>20, after.HeapInuse>>20)
	for _, c := range []struct {
		name string
		peak uint64
	}{{"105 MB batch", big}, {"refused 140 MB batch", refused}, {"four 100 MB batches", concurrent}} {
		if c.peak > base.HeapInuse+limit {
			t.Errorf("%s: heap in use peaked at %d MB, base %d MB", c.name, c.peak>>20, base.HeapInuse>>20)
		}
	}
	if after.HeapInuse > base.HeapInuse+16<<20 {
		t.Errorf("heap in use after the batches: %d MB, base %d MB", after.HeapInuse>>20, base.HeapInuse>>20)
	}
}

// TestBatchTooLargeContentLength checks that a $batch whose Content-Length is over the limit is
// refused with a 413 before its body is read.
func TestBatchTooLargeContentLength(t *testing.T) {
	e := newEnv(t)
	size, _ := io.Copy(io.Discard, &batchGen{n: 1000, partSize: 140 << 10})
	req, err := http.NewRequest("POST", e.api+"$batch", &batchGen{n: 1000, partSize: 140 << 10})
	if err != nil {
		t.Fatal(err)
	}
	req.ContentLength = size
	req.Header.Set("Authorization", "Bearer "+e.token)
	req.Header.Set("Content-Type", "multipart/mixed; boundary=big_batch")
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("status %d, want 413\n%.300s", resp.StatusCode, b)
	}
}

// TestPreferTooManyAnnotations checks that a Prefer header listing more annotation patterns than
// allowed, or longer than allowed, is refused with a 400 rather than matched and echoed.
func TestPreferTooManyAnnotations(t *testing.T) {
	e := newEnv(t)
	pats := make([]string, 500)
	for i := range pats {
		pats[i] = fmt.Sprintf("NS%d.*", i)
	}
	for _, prefer := range []string{
		`odata.include-annotations="` + strings.Join(pats, ",") + `"`,
		`odata.include-annotations="*",` + strings.Repeat(" ", 10000) + `return=representation`,
	} {
		r := e.do("GET", "accounts?$top=1", nil, "Prefer", prefer)
		if r.Status != http.StatusBadRequest {
			t.Fatalf("status %d, want 400; Preference-Applied %d bytes", r.Status, len(r.Header.Get("Preference-Applied")))
		}
		if _, msg := r.Error(t); !strings.Contains(msg, "Prefer") {
			t.Fatalf("message %q", msg)
		}
	}
}
