package contracts

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/dynlocal/dynlocal/client"
)

// uploadFileInput mirrors the arguments of client.UploadFile. The content is text, or base64 for
// binary data, repeated repeat times (so a suite can send a file of several chunks without
// spelling it out).
type uploadFileInput struct {
	EntitySet     string `json:"entitySet"`
	Key           string `json:"key"`
	Column        string `json:"column"`
	FileName      string `json:"fileName"`
	Content       string `json:"content,omitempty"`
	ContentBase64 string `json:"contentBase64,omitempty"`
	Repeat        int    `json:"repeat,omitempty"`
	ChunkSize     int    `json:"chunkSize,omitempty"`
}

func (in *uploadFileInput) data() ([]byte, error) {
	b := []byte(in.Content)
	if in.ContentBase64 != "" {
		var err error
		if b, err = base64.StdEncoding.DecodeString(in.ContentBase64); err != nil {
			return nil, fmt.Errorf("contentBase64: %w", err)
		}
	}
	if in.Repeat > 1 {
		b = bytes.Repeat(b, in.Repeat)
	}
	return b, nil
}

// fileColumnInput mirrors the arguments of client.DownloadFile.
type fileColumnInput struct {
	EntitySet string `json:"entitySet"`
	Key       string `json:"key"`
	Column    string `json:"column"`
	ChunkSize int    `json:"chunkSize,omitempty"`
	FullSize  bool   `json:"fullSize,omitempty"`
}

// deleteFileInput names a row's file or image column to empty.
type deleteFileInput struct {
	EntitySet string `json:"entitySet"`
	Key       string `json:"key"`
	Column    string `json:"column"`
}

// shownFile is how a download shows: the headers' name, size and MIME type, the content as text
// when it is short UTF-8 (else as base64 when short), and its SHA-256.
func shownFile(info *client.FileInfo, data []byte) map[string]any {
	out := map[string]any{"fileName": info.Name, "size": info.Size, "mimeType": info.MimeType, "length": len(data)}
	sum := sha256.Sum256(data)
	out["sha256"] = hex.EncodeToString(sum[:])
	switch {
	case len(data) > 4096:
	case utf8.Valid(data):
		out["content"] = string(data)
	default:
		out["contentBase64"] = base64.StdEncoding.EncodeToString(data)
	}
	return out
}

func init() {
	for _, n := range []string{"UploadFile", "DownloadFile", "DeleteFile"} {
		if _, dup := actions[n]; dup {
			panic("contracts: action " + n + " defined twice")
		}
	}
	actions["UploadFile"] = action{
		newInput: func() any { return &uploadFileInput{} },
		check: func(x any) error {
			in := x.(*uploadFileInput)
			if in.Content != "" && in.ContentBase64 != "" {
				return fmt.Errorf("give content or contentBase64, not both")
			}
			if in.Repeat < 0 || in.ChunkSize < 0 {
				return fmt.Errorf("repeat and chunkSize must not be negative")
			}
			if strings.TrimSpace(in.EntitySet) == "" || in.Key == "" || in.Column == "" {
				return fmt.Errorf("entitySet, key and column are required")
			}
			return nil
		},
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*uploadFileInput)
			data, err := in.data()
			if err != nil {
				return observation{err: err}
			}
			resp, err := c.UploadFile(ctx, in.EntitySet, in.Key, in.Column, in.FileName, bytes.NewReader(data), &client.UploadFileOptions{ChunkSize: in.ChunkSize})
			return observeRecord(nil, resp, err)
		},
	}
	actions["DownloadFile"] = action{
		newInput: func() any { return &fileColumnInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*fileColumnInput)
			var buf bytes.Buffer
			info, resp, err := c.DownloadFile(ctx, in.EntitySet, in.Key, in.Column, &buf, &client.DownloadFileOptions{ChunkSize: in.ChunkSize, FullSize: in.FullSize})
			var body any
			if err == nil && info != nil {
				body = shownFile(info, buf.Bytes())
			}
			return observeValue(body, resp, err)
		},
	}
	actions["DeleteFile"] = action{
		newInput: func() any { return &deleteFileInput{} },
		run: func(ctx context.Context, c *client.Client, x any) observation {
			in := x.(*deleteFileInput)
			resp, err := c.DeleteFile(ctx, in.EntitySet, in.Key, in.Column)
			return observeRecord(nil, resp, err)
		},
	}
}
