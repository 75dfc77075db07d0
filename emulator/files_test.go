package emulator_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// addFileColumn creates a File column on account through the metadata API.
func addFileColumn(t *testing.T, e *env, schemaName string, maxKB int) {
	t.Helper()
	e.do("POST", "EntityDefinitions(LogicalName='account')/Attributes", map[string]any{
		"@odata.type": crm + "FileAttributeMetadata", "SchemaName": schemaName, "MaxSizeInKB": maxKB,
		"DisplayName": mlabel("Document"), "RequiredLevel": map[string]any{"Value": "None"},
	}).expect(t, 204)
}

func newAccount(t *testing.T, e *env, name string) string {
	t.Helper()
	return idFromEntityID(t, e.do("POST", "accounts", map[string]any{"name": name}).expect(t, 204).Header)
}

func pngImage(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.SetNRGBA(x, y, color.NRGBA{R: uint8(x), G: uint8(y), B: 99, A: 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestFileColumnSingleRequest(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	addFileColumn(t, e, "new_Doc", 1)
	id := newAccount(t, e, "Files")
	col := "accounts(" + id + ")/new_doc"

	e.do("GET", col+"/$value", nil).expectError(t, 404, "0x80040217", "")
	e.do("PATCH", col, "hello, file", "Content-Type", "application/octet-stream", "x-ms-file-name", "hello.txt").expect(t, 204)
	got := e.do("GET", col+"/$value", nil).expect(t, 200)
	if string(got.Body) != "hello, file" {
		t.Fatalf("body = %q", got.Body)
	}
	for h, want := range map[string]string{"x-ms-file-size": "11", "x-ms-file-name": "hello.txt", "mimetype": "text/plain", "Content-Type": "application/octet-stream"} {
		if g := got.Header.Get(h); g != want {
			t.Errorf("%s = %q, want %q", h, g, want)
		}
	}
	part := e.do("GET", col+"/$value", nil, "Range", "bytes=7-10").expect(t, 206)
	if string(part.Body) != "file" || part.Header.Get("x-ms-file-size") != "11" || part.Header.Get("x-ms-chunk-size") != "4194304" {
		t.Fatalf("range: %q %v", part.Body, part.Header)
	}
	// The property URL without $value gives the same bytes as {"value": "<base64>"}.
	js := e.do("GET", col, nil, "Range", "bytes=0-4").expect(t, 206)
	if v := js.JSON(t)["value"]; v != base64.StdEncoding.EncodeToString([]byte("hello")) || !strings.Contains(js.Header.Get("Content-Disposition"), "hello.txt") {
		t.Errorf("GET without $value: %v %v", v, js.Header)
	}
	e.do("GET", col+"/$value", nil, "Range", "bytes=20-30").expect(t, 416)
	e.do("GET", col+"/$value", nil, "Range", "bytes=5-2").expect(t, 400)

	row := e.do("GET", "accounts("+id+")?$select=name,new_doc,new_doc_name", nil).expect(t, 200).JSON(t)
	if row["new_doc_name"] != "hello.txt" {
		t.Errorf("new_doc_name = %v", row["new_doc_name"])
	}
	if fid, _ := row["new_doc"].(string); len(fid) != 36 {
		t.Errorf("new_doc = %v, want the file id", row["new_doc"])
	}

	// Over MaxSizeInKB (1 KB): Dataverse's error, and the file kept is the old one.
	e.do("PATCH", col, strings.Repeat("x", 1025), "Content-Type", "application/octet-stream", "x-ms-file-name", "big.txt").
		expectError(t, 400, "0x80044a02", "Attachment file size is too big.")
	if got := e.do("GET", col+"/$value", nil).expect(t, 200); string(got.Body) != "hello, file" {
		t.Fatalf("after a refused upload: %q", got.Body)
	}
	// Not a file column.
	e.do("PATCH", "accounts("+id+")/name", "x", "Content-Type", "application/octet-stream", "x-ms-file-name", "a.txt").expectError(t, 400, "0x80040203", "")
	// No file name.
	e.do("PATCH", col, "x", "Content-Type", "application/octet-stream").expect(t, 400)

	e.do("DELETE", col, nil).expect(t, 204)
	e.do("GET", col+"/$value", nil).expect(t, 404)
	row = e.do("GET", "accounts("+id+")?$select=new_doc,new_doc_name", nil).expect(t, 200).JSON(t)
	if row["new_doc"] != nil || row["new_doc_name"] != nil {
		t.Errorf("after delete: %v", row)
	}
}

func TestFileColumnChunked(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	addFileColumn(t, e, "new_Doc", 64)
	id := newAccount(t, e, "Chunks")
	col := "accounts(" + id + ")/new_doc"
	data := bytes.Repeat([]byte("0123456789abcdef"), 2500) // 40000 bytes

	start := e.do("PATCH", col+"?x-ms-file-name=data.bin", nil, "x-ms-transfer-mode", "chunked", "Content-Type", "").expect(t, 200)
	loc := start.Header.Get("Location")
	if !strings.Contains(loc, "/new_doc?sessiontoken=") || start.Header.Get("x-ms-chunk-size") != "4194304" || start.Header.Get("Accept-Ranges") != "bytes" {
		t.Fatalf("start: %v", start.Header)
	}
	chunk := 16000
	for off := 0; off < len(data); off += chunk {
		end := min(off+chunk, len(data))
		want := 206
		if end == len(data) {
			want = 204
		}
		e.do("PATCH", loc, data[off:end], "Content-Type", "application/octet-stream", "x-ms-file-name", "data.bin",
			"Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, end-1, len(data))).expect(t, want)
	}
	got := e.do("GET", col+"/$value", nil).expect(t, 200)
	if !bytes.Equal(got.Body, data) || got.Header.Get("x-ms-file-name") != "data.bin" {
		t.Fatalf("download: %d bytes, name %q", len(got.Body), got.Header.Get("x-ms-file-name"))
	}
	// The session ended with its last chunk.
	e.do("PATCH", loc, "x", "Content-Range", "bytes 0-0/1").expect(t, 400)

	t.Run("errors", func(t *testing.T) {
		loc := e.do("PATCH", col+"?x-ms-file-name=e.bin", nil, "x-ms-transfer-mode", "chunked", "Content-Type", "").expect(t, 200).Header.Get("Location")
		for _, cr := range []string{"", "bytes 0-9", "items 0-9/10", "bytes 5-2/10", "bytes 0-9/5", "bytes -1-9/10"} {
			e.do("PATCH", loc, "0123456789", "Content-Range", cr).expect(t, 400)
			loc = e.do("PATCH", col+"?x-ms-file-name=e.bin", nil, "x-ms-transfer-mode", "chunked", "Content-Type", "").expect(t, 200).Header.Get("Location")
		}
		// A chunk that skips ahead, and a body longer than its range.
		e.do("PATCH", loc, "0123456789", "Content-Range", "bytes 10-19/20").expect(t, 400)
		loc = e.do("PATCH", col+"?x-ms-file-name=e.bin", nil, "x-ms-transfer-mode", "chunked", "Content-Type", "").expect(t, 200).Header.Get("Location")
		e.do("PATCH", loc, "0123456789", "Content-Range", "bytes 0-4/20").expect(t, 400)
		// Over the column's 64 KB.
		loc = e.do("PATCH", col+"?x-ms-file-name=e.bin", nil, "x-ms-transfer-mode", "chunked", "Content-Type", "").expect(t, 200).Header.Get("Location")
		e.do("PATCH", loc, "0123456789", "Content-Range", "bytes 0-9/70000").expectError(t, 400, "0x80044a02", "")
		e.do("PATCH", col+"?sessiontoken=nope", "0", "Content-Range", "bytes 0-0/1").expect(t, 400)
		// Nothing of the failed sessions replaced the file.
		if got := e.do("GET", col+"/$value", nil).expect(t, 200); !bytes.Equal(got.Body, data) {
			t.Fatal("a failed upload changed the file")
		}
	})
}

func TestFileColumnMetadata(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	addFileColumn(t, e, "new_Doc", 2048)
	a := e.do("GET", "EntityDefinitions(LogicalName='account')/Attributes(LogicalName='new_doc')/"+crm+"FileAttributeMetadata?$select=MaxSizeInKB", nil).expect(t, 200).JSON(t)
	if fmt.Sprint(a["MaxSizeInKB"]) != "2048" {
		t.Errorf("MaxSizeInKB = %v", a["MaxSizeInKB"])
	}
	n := e.do("GET", "EntityDefinitions(LogicalName='account')/Attributes(LogicalName='new_doc_name')?$select=AttributeType,IsValidForUpdate", nil).expect(t, 200).JSON(t)
	if n["AttributeType"] != "String" || n["IsValidForUpdate"] != false {
		t.Errorf("new_doc_name = %v", n)
	}
	e.do("POST", "EntityDefinitions(LogicalName='account')/Attributes", map[string]any{
		"@odata.type": crm + "FileAttributeMetadata", "SchemaName": "new_Huge", "MaxSizeInKB": 20 * 1024 * 1024,
	}).expect(t, 400)
	e.do("POST", "EntityDefinitions(LogicalName='account')/Attributes", map[string]any{
		"@odata.type": crm + "ImageAttributeMetadata", "SchemaName": "new_Logo", "MaxSizeInKB": 100, "CanStoreFullImage": false,
	}).expect(t, 204)
	for _, c := range []string{"new_logoid", "new_logo_timestamp", "new_logo_url"} {
		e.do("GET", "EntityDefinitions(LogicalName='account')/Attributes(LogicalName='"+c+"')?$select=LogicalName", nil).expect(t, 200)
	}
	// Without full-size storage the thumbnail is all there is.
	id := newAccount(t, e, "Logo")
	img := pngImage(t, 50, 80)
	e.do("PATCH", "accounts("+id+")/new_logo", img, "Content-Type", "application/octet-stream", "x-ms-file-name", "logo.png").expect(t, 204)
	e.do("GET", "accounts("+id+")/new_logo/$value?size=full", nil).expect(t, 204)
	thumb := e.do("GET", "accounts("+id+")/new_logo/$value", nil).expect(t, 200)
	cfg, err := png.DecodeConfig(bytes.NewReader(thumb.Body))
	if err != nil || cfg.Width != 50 || cfg.Height != 50 {
		t.Fatalf("thumbnail of a 50x80 image: %v %+v", err, cfg)
	}
}

func TestImageColumn(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	id := newAccount(t, e, "Image")
	col := "accounts(" + id + ")/entityimage"
	img := pngImage(t, 300, 200)

	e.do("GET", col+"/$value", nil).expect(t, 204)
	e.do("PATCH", col, "not an image", "Content-Type", "application/octet-stream", "x-ms-file-name", "x.png").
		expectError(t, 400, "0x80072553", "Error occured when processing image. Reason: Update image properties failed for objectid: "+id+", logicalName: account, attribute: entityimage")
	e.do("PATCH", col, img, "Content-Type", "application/octet-stream", "x-ms-file-name", "pic.png").expect(t, 204)

	row := e.do("GET", "accounts("+id+")?$select=name,entityimage,entityimage_url,entityimageid,entityimage_timestamp", nil).expect(t, 200).JSON(t)
	b64, _ := row["entityimage"].(string)
	thumb, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("entityimage = %.40v: %v", row["entityimage"], err)
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(thumb))
	if err != nil || cfg.Width != 144 || cfg.Height != 144 {
		t.Fatalf("thumbnail: %v %+v", err, cfg)
	}
	imageID, _ := row["entityimageid"].(string)
	if u, _ := row["entityimage_url"].(string); imageID == "" || !strings.HasPrefix(u, "/Image/download.aspx?Entity=account&Attribute=entityimage&Id="+imageID+"&Timestamp=") {
		t.Errorf("entityimage_url = %v (id %v)", row["entityimage_url"], imageID)
	}
	if got := e.do("GET", col+"/$value", nil).expect(t, 200); !bytes.Equal(got.Body, thumb) {
		t.Error("$value differs from the row's thumbnail")
	}
	if got := e.do("GET", col+"/$value?size=full", nil).expect(t, 200); !bytes.Equal(got.Body, img) || got.Header.Get("mimetype") != "image/png" {
		t.Errorf("full image: %d bytes, %q", len(got.Body), got.Header.Get("mimetype"))
	}
	// Without $select the image is not read, as with the SDK's AllColumns.
	if all := e.do("GET", "accounts("+id+")", nil).expect(t, 200).JSON(t); all["entityimage"] != nil {
		t.Error("entityimage shown without $select")
	}
	// PUT {"value": base64} sets it, {"value": null} clears it.
	small := pngImage(t, 20, 10)
	e.do("PUT", col, map[string]any{"value": base64.StdEncoding.EncodeToString(small)}).expect(t, 204)
	if got := e.do("GET", col+"/$value?size=full", nil).expect(t, 200); !bytes.Equal(got.Body, small) {
		t.Error("PUT did not set the image")
	}
	e.do("PUT", col, map[string]any{"value": nil}).expect(t, 204)
	row = e.do("GET", "accounts("+id+")?$select=entityimage,entityimage_url", nil).expect(t, 200).JSON(t)
	if row["entityimage"] != nil || row["entityimage_url"] != nil {
		t.Errorf("after clearing: %v", row)
	}
}

func TestFilesFollowRowsAndSnapshots(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	addFileColumn(t, e, "new_Doc", 1024)
	id := newAccount(t, e, "Snap")
	col := "accounts(" + id + ")/new_doc"
	e.do("PATCH", col, "version one", "Content-Type", "application/octet-stream", "x-ms-file-name", "v.txt").expect(t, 204)
	e.do("PUT", "/_emulator/snapshots/files", nil).expect(t, 204)
	e.do("PATCH", col, "version two", "Content-Type", "application/octet-stream", "x-ms-file-name", "v.txt").expect(t, 204)
	e.do("POST", "/_emulator/snapshots/files/restore", nil).expect(t, 204)
	if got := e.do("GET", col+"/$value", nil).expect(t, 200); string(got.Body) != "version one" {
		t.Fatalf("after restore: %q", got.Body)
	}
	// Deleting the row deletes its file: a new row with the same id has none.
	e.do("DELETE", "accounts("+id+")", nil).expect(t, 204)
	e.do("POST", "accounts", map[string]any{"accountid": id, "name": "again"}).expect(t, 204)
	e.do("GET", col+"/$value", nil).expect(t, 404)
	// A restore brings the file back with the row.
	e.do("POST", "/_emulator/snapshots/files/restore", nil).expect(t, 204)
	e.do("GET", col+"/$value", nil).expect(t, 200)
}

// patternReader yields n deterministic bytes without holding them.
type patternReader struct{ n, off int64 }

func (r *patternReader) Read(p []byte) (int, error) {
	if r.off >= r.n {
		return 0, io.EOF
	}
	p = p[:min(int64(len(p)), r.n-r.off)]
	for i := range p {
		p[i] = byte((r.off + int64(i)) * 7 % 251)
	}
	r.off += int64(len(p))
	return len(p), nil
}

// heapPeak samples HeapInuse until stopped and reports the highest value seen.
func heapPeak() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak.Load()
	}
}

// TestFileColumn100MB uploads (in one request and in chunks) and downloads 100 MB through the
// HTTP handler and checks that the heap never holds anything near the file.
func TestFileColumn100MB(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 100 MB")
	}
	e := newEnv(t)
	addFileColumn(t, e, "new_Big", 200*1024)
	id := newAccount(t, e, "Big")
	col := e.api + "accounts(" + id + ")/new_big"
	const size = 100 << 20
	want := sha256.New()
	io.Copy(want, &patternReader{n: size})
	wantSum := want.Sum(nil)

	send := func(method, u string, body io.Reader, length int64, headers ...string) *http.Response {
		t.Helper()
		req, err := http.NewRequest(method, u, body)
		if err != nil {
			t.Fatal(err)
		}
		req.ContentLength = length
		req.Header.Set("Authorization", "Bearer "+e.token)
		for i := 0; i+1 < len(headers); i += 2 {
			req.Header.Set(headers[i], headers[i+1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	download := func() {
		t.Helper()
		resp := send("GET", col+"/$value", nil, 0)
		defer resp.Body.Close()
		h := sha256.New()
		n, err := io.Copy(h, resp.Body)
		if err != nil || resp.StatusCode != 200 || n != size || !bytes.Equal(h.Sum(nil), wantSum) {
			t.Fatalf("download: status %d, %d bytes, %v", resp.StatusCode, n, err)
		}
	}

	// A low GC target makes the heap in use follow what is live rather than the collector's
	// pacing, so the peak shows what the server holds, not garbage awaiting collection.
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	stop := heapPeak()
	resp := send("PATCH", col, &patternReader{n: size}, size, "Content-Type", "application/octet-stream", "x-ms-file-name", "big.bin")
	resp.Body.Close()
	if resp.StatusCode != 204 {
		t.Fatalf("single upload: %d", resp.StatusCode)
	}
	download()
	single := stop()

	runtime.GC()
	stop = heapPeak()
	resp = send("PATCH", col+"?x-ms-file-name=big.bin", nil, 0, "x-ms-transfer-mode", "chunked")
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	src := &patternReader{n: size}
	const chunk = 4 << 20
	for off := int64(0); off < size; off += chunk {
		n := min(chunk, size-off)
		resp := send("PATCH", loc, io.LimitReader(src, n), n, "Content-Type", "application/octet-stream",
			"Content-Range", fmt.Sprintf("bytes %d-%d/%d", off, off+n-1, size))
		resp.Body.Close()
		if resp.StatusCode != 206 && resp.StatusCode != 204 {
			t.Fatalf("chunk at %d: %d", off, resp.StatusCode)
		}
	}
	download()
	chunked := stop()

	t.Logf("100 MB: heap in use before %.1f MB; peak during single-request upload+download %.1f MB, during chunked upload+download %.1f MB",
		float64(base.HeapInuse)/(1<<20), float64(single)/(1<<20), float64(chunked)/(1<<20))
	for name, peak := range map[string]uint64{"single": single, "chunked": chunked} {
		if peak > base.HeapInuse+48<<20 {
			t.Errorf("%s: heap peaked at %d MB over a base of %d MB: the file is being held in memory", name, peak>>20, base.HeapInuse>>20)
		}
	}
}

func TestFileBlockMessages(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	addFileColumn(t, e, "new_Doc", 1024)
	id := newAccount(t, e, "Blocks")
	target := map[string]any{"@odata.type": crm + "account", "accountid": id}

	init := e.do("POST", "InitializeFileBlocksUpload", map[string]any{"Target": target, "FileAttributeName": "new_doc", "FileName": "blocks.txt"}).expect(t, 200).JSON(t)
	token, _ := init["FileContinuationToken"].(string)
	if token == "" {
		t.Fatalf("InitializeFileBlocksUpload: %v", init)
	}
	blocks := []string{"first part, ", "second part, ", "third part"}
	var ids []string
	// Sent out of order: the BlockList orders them.
	for _, i := range []int{2, 0, 1} {
		bid := base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("block-%03d", i)))
		e.do("POST", "UploadBlock", map[string]any{"BlockId": bid, "BlockData": base64.StdEncoding.EncodeToString([]byte(blocks[i])), "FileContinuationToken": token}).expect(t, 204)
	}
	for i := range blocks {
		ids = append(ids, base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("block-%03d", i))))
	}
	e.do("POST", "UploadBlock", map[string]any{"BlockId": "!!", "BlockData": "", "FileContinuationToken": token}).expect(t, 400)
	e.do("POST", "CommitFileBlocksUpload", map[string]any{"FileName": "blocks.txt", "MimeType": "text/plain", "BlockList": []string{"bm9wZQ=="}, "FileContinuationToken": token}).expect(t, 400)
	commit := e.do("POST", "CommitFileBlocksUpload", map[string]any{"FileName": "blocks.txt", "MimeType": "text/plain", "BlockList": ids, "FileContinuationToken": token}).expect(t, 200).JSON(t)
	if fmt.Sprint(commit["FileSizeInBytes"]) != "35" {
		t.Fatalf("commit: %v", commit)
	}
	if got := e.do("GET", "accounts("+id+")/new_doc/$value", nil).expect(t, 200); string(got.Body) != "first part, second part, third part" {
		t.Fatalf("file = %q", got.Body)
	}

	dl := e.do("POST", "InitializeFileBlocksDownload", map[string]any{"Target": target, "FileAttributeName": "new_doc"}).expect(t, 200).JSON(t)
	if dl["FileName"] != "blocks.txt" || fmt.Sprint(dl["FileSizeInBytes"]) != "35" || dl["IsChunkingSupported"] != true {
		t.Fatalf("InitializeFileBlocksDownload: %v", dl)
	}
	var got []byte
	for off := 0; off < 35; off += 10 {
		b := e.do("POST", "DownloadBlock", map[string]any{"Offset": off, "BlockLength": 10, "FileContinuationToken": dl["FileContinuationToken"]}).expect(t, 200).JSON(t)
		chunk, err := base64.StdEncoding.DecodeString(b["Data"].(string))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, chunk...)
	}
	if string(got) != "first part, second part, third part" {
		t.Fatalf("blocks = %q", got)
	}
	e.do("POST", "DownloadBlock", map[string]any{"Offset": 0, "BlockLength": 0, "FileContinuationToken": dl["FileContinuationToken"]}).expect(t, 400)

	e.do("POST", "DeleteFile", map[string]any{"FileId": commit["FileId"]}).expect(t, 204)
	e.do("GET", "accounts("+id+")/new_doc/$value", nil).expect(t, 404)
	e.do("POST", "DeleteFile", map[string]any{"FileId": commit["FileId"]}).expect(t, 404)
	e.do("POST", "InitializeFileBlocksDownload", map[string]any{"Target": target, "FileAttributeName": "name"}).expect(t, 400)
}

// TestAttachmentBodiesRoundTrip checks that a note's base64 documentbody comes back as it was
// written. (activitymimeattachment is not among the fixture tables.)
func TestAttachmentBodiesRoundTrip(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	body := base64.StdEncoding.EncodeToString(pngImage(t, 30, 20))
	note := idFromEntityID(t, e.do("POST", "annotations", map[string]any{"subject": "n", "filename": "a.png", "mimetype": "image/png", "documentbody": body}).expect(t, 204).Header)
	if got := e.do("GET", "annotations("+note+")?$select=documentbody,filesize", nil).expect(t, 200).JSON(t); got["documentbody"] != body {
		t.Errorf("annotation.documentbody = %.40v", got["documentbody"])
	}
}
