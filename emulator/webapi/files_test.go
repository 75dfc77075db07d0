package webapi

import (
	"strings"
	"testing"
)

var contentRangeCases = []struct {
	in   string
	want contentRange
	ok   bool
}{
	{"bytes 0-4194303/25870370", contentRange{0, 4194303, 25870370}, true},
	{"bytes 25165824-25870369/25870370", contentRange{25165824, 25870369, 25870370}, true},
	{"BYTES 0-0/1", contentRange{0, 0, 1}, true},
	{"", contentRange{}, false},
	{"bytes", contentRange{}, false},
	{"bytes 0-9", contentRange{}, false},
	{"bytes 0-9/*", contentRange{}, false},
	{"bytes */10", contentRange{}, false},
	{"bytes 5-2/10", contentRange{}, false},
	{"bytes 0-10/10", contentRange{}, false},
	{"bytes -1-9/10", contentRange{}, false},
	{"bytes +1-9/10", contentRange{}, false},
	{"items 0-9/10", contentRange{}, false},
	{"bytes 0-99999999999999999999/1", contentRange{}, false},
}

func TestParseContentRange(t *testing.T) {
	for _, tc := range contentRangeCases {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseContentRange(tc.in)
			if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
				t.Fatalf("parseContentRange(%q) = %+v, %v; want %+v ok=%v", tc.in, got, err, tc.want, tc.ok)
			}
		})
	}
}

var rangeCases = []struct {
	in          string
	size        int64
	first, last int64
	ok, fits    bool
}{
	{"bytes=0-4194303", 10 << 20, 0, 4194303, true, true},
	{"bytes=4-", 10, 4, 9, true, true},
	{"bytes=-3", 10, 7, 9, true, true},
	{"bytes=-30", 10, 0, 9, true, true},
	{"bytes=5-100", 10, 5, 9, true, true},
	{"bytes=10-20", 10, 0, 0, true, false},
	{"bytes=-0", 10, 0, 0, true, false},
	{"bytes=5-2", 10, 0, 0, false, false},
	{"bytes=0-1,4-5", 10, 0, 0, false, false},
	{"bytes=-", 10, 0, 0, false, false},
	{"items=0-1", 10, 0, 0, false, false},
	{"bytes=a-b", 10, 0, 0, false, false},
	{"", 10, 0, 0, false, false},
}

func TestParseRange(t *testing.T) {
	for _, tc := range rangeCases {
		t.Run(tc.in, func(t *testing.T) {
			r, err := parseRange(tc.in)
			if (err == nil) != tc.ok {
				t.Fatalf("parseRange(%q) error = %v, want ok=%v", tc.in, err, tc.ok)
			}
			if err != nil {
				return
			}
			first, last, fits := r.resolve(tc.size)
			if fits != tc.fits || (fits && (first != tc.first || last != tc.last)) {
				t.Fatalf("resolve(%d) = %d-%d %v, want %d-%d %v", tc.size, first, last, fits, tc.first, tc.last, tc.fits)
			}
		})
	}
}

func FuzzParseContentRange(f *testing.F) {
	for _, tc := range contentRangeCases {
		f.Add(tc.in)
	}
	f.Fuzz(func(t *testing.T, s string) {
		cr, err := parseContentRange(s)
		if err != nil {
			return
		}
		if cr.first < 0 || cr.first > cr.last || cr.last >= cr.size {
			t.Fatalf("parseContentRange(%q) = %+v: not a range inside its size", s, cr)
		}
	})
}

func FuzzParseRange(f *testing.F) {
	for _, tc := range rangeCases {
		f.Add(tc.in, tc.size)
	}
	f.Fuzz(func(t *testing.T, s string, size int64) {
		r, err := parseRange(s)
		if err != nil || size < 0 {
			return
		}
		first, last, ok := r.resolve(size)
		if ok && (first < 0 || first > last || last >= size) {
			t.Fatalf("parseRange(%q).resolve(%d) = %d-%d: not inside the file", s, size, first, last)
		}
		if strings.Count(s, ",") > 0 {
			t.Fatalf("parseRange(%q) accepted several ranges", s)
		}
	})
}
