package client_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/dynlocal/dynlocal/client"
)

// fileAccount adds a File column new_Doc (maxKB) to account on an in-process emulator and
// creates an account; it returns the client and the account's id.
func fileAccount(t *testing.T, maxKB int) (*client.Client, string) {
	t.Helper()
	c, _ := startPollEmulator(t)
	ctx := context.Background()
	if _, _, err := c.CreateAttribute(ctx, "account", client.AttributeSpec{Type: "File", SchemaName: "new_Doc", MaxSizeInKB: maxKB}, nil); err != nil {
		t.Fatal(err)
	}
	_, resp, err := c.CreateRecord(ctx, "accounts", client.Record{"name": "Files"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c, resp.ID
}

// onlyReader hides every method of a reader but Read, so its size is unknown.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestUploadDownloadFile(t *testing.T) {
	t.Parallel()
	c, id := fileAccount(t, 1024)
	ctx := context.Background()
	big := bytes.Repeat([]byte("abcdefghij"), 30_001) // 300010 bytes: several chunks of 64 KB

	tests := []struct {
		name  string
		data  []byte
		input func(b []byte) io.Reader
		up    *client.UploadFileOptions
		down  *client.DownloadFileOptions
	}{
		{name: "small single request", data: []byte("hello"), input: func(b []byte) io.Reader { return bytes.NewReader(b) }},
		{name: "empty", data: []byte{}, input: func(b []byte) io.Reader { return bytes.NewReader(b) }},
		{name: "chunked, size from Len", data: big, input: func(b []byte) io.Reader { return bytes.NewReader(b) },
			up: &client.UploadFileOptions{ChunkSize: 64 << 10}, down: &client.DownloadFileOptions{ChunkSize: 50_000}},
		{name: "chunked, size given", data: big, input: func(b []byte) io.Reader { return onlyReader{bytes.NewReader(b)} },
			up: &client.UploadFileOptions{ChunkSize: 100_003, Size: int64(len(big))}},
		{name: "chunk size equal to the file", data: big[:65536], input: func(b []byte) io.Reader { return bytes.NewReader(b) },
			up: &client.UploadFileOptions{ChunkSize: 65536}, down: &client.DownloadFileOptions{ChunkSize: 65536}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.UploadFile(ctx, "accounts", id, "new_doc", "f.bin", tc.input(tc.data), tc.up); err != nil {
				t.Fatal(err)
			}
			var got bytes.Buffer
			info, _, err := c.DownloadFile(ctx, "accounts", id, "new_doc", &got, tc.down)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got.Bytes(), tc.data) || info.Size != int64(len(tc.data)) || info.Name != "f.bin" {
				t.Fatalf("downloaded %d bytes, info %+v; want %d bytes", got.Len(), info, len(tc.data))
			}
		})
	}

	t.Run("unknown size over one chunk", func(t *testing.T) {
		_, err := c.UploadFile(ctx, "accounts", id, "new_doc", "f.bin", onlyReader{bytes.NewReader(big)}, &client.UploadFileOptions{ChunkSize: 1000})
		if !errors.Is(err, client.ErrInvalidInput) {
			t.Fatalf("err = %v, want ErrInvalidInput", err)
		}
	})
	t.Run("too large", func(t *testing.T) {
		_, err := c.UploadFile(ctx, "accounts", id, "new_doc", "f.bin", strings.NewReader(strings.Repeat("x", 1025<<10)), &client.UploadFileOptions{ChunkSize: 512 << 10})
		var ce *client.Error
		if !errors.As(err, &ce) || ce.StatusCode != 400 || ce.Code != "0x80044a02" {
			t.Fatalf("err = %v, want Dataverse's 0x80044a02", err)
		}
	})
	t.Run("delete", func(t *testing.T) {
		if _, err := c.DeleteFile(ctx, "accounts", id, "new_doc"); err != nil {
			t.Fatal(err)
		}
		_, _, err := c.DownloadFile(ctx, "accounts", id, "new_doc", io.Discard, nil)
		var ce *client.Error
		if !errors.As(err, &ce) || ce.StatusCode != 404 {
			t.Fatalf("download after delete: %v", err)
		}
	})
	t.Run("bad input", func(t *testing.T) {
		for _, err := range []error{
			func() error {
				_, err := c.UploadFile(ctx, "accounts", id, "new_doc", "", strings.NewReader("x"), nil)
				return err
			}(),
			func() error {
				_, err := c.UploadFile(ctx, "accounts", id, "bad/col", "a", strings.NewReader("x"), nil)
				return err
			}(),
			func() error { _, _, err := c.DownloadFile(ctx, "accounts", id, "new_doc", nil, nil); return err }(),
		} {
			if !errors.Is(err, client.ErrInvalidInput) {
				t.Errorf("err = %v, want ErrInvalidInput", err)
			}
		}
	})
}
