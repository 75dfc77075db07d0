package batch

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/google/go-cmp/cmp"
)

// FuzzReader checks that a Reader fed one byte at a time reads exactly what Parse reads from the
// whole body in one slice: the same parts, or the same error at the same position.
func FuzzReader(f *testing.F) {
	for _, file := range inputFiles(f) {
		in := readInput(f, file)
		f.Add(in.contentType, in.body)
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		want, wantErr := Parse(contentType, body)
		got, gotErr := readAll(contentType, iotest.OneByteReader(bytes.NewReader(body)))
		if diff := cmp.Diff(errString(wantErr), errString(gotErr)); diff != "" {
			t.Fatalf("error (-whole +streamed):\n%s", diff)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("parts (-whole +streamed):\n%s", diff)
		}
	})
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// TestReaderHoldsOnePart reads a batch of large parts and checks that the Reader's buffer never
// grows to hold more than about one part, and that it reads the body only as far as it must.
func TestReaderHoldsOnePart(t *testing.T) {
	const part = 256 << 10
	var b strings.Builder
	for i := range 64 {
		b.WriteString("--b\r\nContent-Type: application/http\r\nContent-Transfer-Encoding: binary\r\n\r\nPOST accounts HTTP/1.1\r\n\r\n")
		b.WriteString(strings.Repeat(string(rune('a'+i%26)), part) + "\r\n")
	}
	b.WriteString("--b--\r\n")
	src := &countingReader{r: strings.NewReader(b.String())}
	r, err := NewReader("multipart/mixed; boundary=b", src)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		p, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Request.Body) != part {
			t.Fatalf("part %d: body of %d bytes", n, len(p.Request.Body))
		}
		n++
		if held := cap(r.p.buf); held > 4*part+keepCap {
			t.Fatalf("after part %d the reader holds %d bytes", n, held)
		}
		if ahead := src.n - r.p.pos; ahead > 2*part+readChunk {
			t.Fatalf("after part %d the reader has read %d bytes ahead", n, ahead)
		}
	}
	if n != 64 {
		t.Fatalf("%d parts", n)
	}
}

// TestReaderError checks that a failure to read the body is reported as such, not as a
// malformed body.
func TestReaderError(t *testing.T) {
	boom := errors.New("boom")
	src := io.MultiReader(strings.NewReader("--b\r\nContent-Type: application/http\r\n"), iotest.ErrReader(boom))
	_, err := readAll("multipart/mixed; boundary=b", src)
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want one wrapping %v", err, boom)
	}
}

type countingReader struct {
	r io.Reader
	n int
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += n
	return n, err
}
