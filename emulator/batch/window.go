package batch

import "io"

// window is the part of a batch body the parser still needs: the bytes from offset base on, read
// from src as the parser asks for them. Offsets everywhere in the parser count from the start of
// the body; release drops what lies before an offset, so that reading a batch holds about one part
// at a time rather than the whole body.
type window struct {
	src  io.Reader
	buf  []byte
	base int
	eof  bool
	// rerr is the error that ended reading, other than io.EOF.
	rerr error
}

const (
	// readChunk is the least room more makes for each read.
	readChunk = 64 << 10
	// keepCap is the buffer size release keeps without reallocating; beyond it a buffer that held a
	// large part is given back once the part is done.
	keepCap = 1 << 20
)

// end is the offset just past the last byte read; at the end of the body, the body's length.
func (w *window) end() int { return w.base + len(w.buf) }

// more reads the next bytes of the body, or notes its end.
func (w *window) more() {
	if cap(w.buf)-len(w.buf) < readChunk {
		nb := make([]byte, len(w.buf), max(2*cap(w.buf), len(w.buf)+readChunk))
		copy(nb, w.buf)
		w.buf = nb
	}
	n, err := w.src.Read(w.buf[len(w.buf):cap(w.buf)])
	w.buf = w.buf[:len(w.buf)+n]
	if err != nil {
		w.eof = true
		if err != io.EOF {
			w.rerr = err
		}
	}
}

// fill reads until the body up to offset n is held, or the body ends.
func (w *window) fill(n int) {
	for w.end() < n && !w.eof {
		w.more()
	}
}

// slice returns the body between offsets i and j, which must both be held.
func (w *window) slice(i, j int) []byte { return w.buf[i-w.base : j-w.base] }

// release forgets the body before offset upto. Slices returned earlier must no longer be in use.
func (w *window) release(upto int) {
	k := upto - w.base
	if k <= 0 {
		return
	}
	rest := w.buf[k:]
	if cap(w.buf) > keepCap && len(rest) < cap(w.buf)/4 {
		nb := make([]byte, len(rest), max(2*len(rest), readChunk))
		copy(nb, rest)
		w.buf = nb
	} else {
		w.buf = w.buf[:copy(w.buf, rest)]
	}
	w.base = upto
}
