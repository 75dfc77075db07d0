package fetchxml

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"unicode"

	"github.com/antchfx/xmlquery"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// maxDepth bounds element nesting. Real queries nest a handful of filters and links; the bound
// keeps the recursive descent safe from hostile input.
const maxDepth = 64

// document is a well-formed FetchXML text as an xmlquery tree, with the byte offset of every
// element so that errors can name where they are.
type document struct {
	root *xmlquery.Node
	pos  map[*xmlquery.Node]int
}

// parseXML checks that text is well-formed XML with one root element and builds its tree.
//
// xmlquery reports neither columns nor offsets, so the text is first read with encoding/xml,
// which knows both: it finds syntax errors (with line and column, as Dataverse's XML reader
// gives them) and the offset of each start tag. xmlquery then builds the tree, one element node
// per start tag in the same order.
func parseXML(text string) (*document, *dverr.Error) {
	if strings.TrimSpace(text) == "" {
		return nil, fail(0, codeInvalidArgument, "Expected non-empty string.")
	}
	dec := xml.NewDecoder(strings.NewReader(text))
	dec.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		return nil, errors.New("only UTF-8 is supported")
	}
	var starts []int
	depth, roots := 0, 0
	for {
		off := int(dec.InputOffset())
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), "xml: ")
			var se *xml.SyntaxError
			if errors.As(err, &se) {
				msg = se.Msg
			}
			return nil, malformed(text, int(dec.InputOffset()), msg)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				roots++
				if roots > 1 {
					return nil, malformed(text, off, "there are multiple root elements")
				}
			}
			depth++
			if depth > maxDepth {
				return nil, fail(off, codeInvalidXML, "The FetchXML is nested more than %d elements deep.", maxDepth)
			}
			starts = append(starts, off)
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 && strings.TrimFunc(string(t), isSpaceOrBOM) != "" {
				return nil, malformed(text, off, "data at the root level is invalid")
			}
		}
	}
	if roots == 0 {
		return nil, malformed(text, len(text), "the root element is missing")
	}
	top, err := xmlquery.Parse(strings.NewReader(text))
	if err != nil {
		return nil, fail(0, codeInvalidXML, "Malformed FetchXML: %v.", err)
	}
	d := &document{pos: map[*xmlquery.Node]int{}}
	i := 0
	var walk func(n *xmlquery.Node)
	walk = func(n *xmlquery.Node) {
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			if c.Type != xmlquery.ElementNode {
				continue
			}
			if i < len(starts) {
				d.pos[c] = starts[i]
			}
			i++
			if d.root == nil {
				d.root = c
			}
			walk(c)
		}
	}
	walk(top)
	if d.root == nil {
		return nil, fail(0, codeInvalidXML, "Malformed FetchXML: the root element is missing.")
	}
	return d, nil
}

func isSpaceOrBOM(r rune) bool { return unicode.IsSpace(r) || r == '\ufeff' }

// malformed reports a syntax error at byte offset off, giving its line and column (both 1-based,
// the column counted in characters) as Dataverse's XML reader does.
func malformed(text string, off int, msg string) *dverr.Error {
	off = min(max(off, 0), len(text))
	line, col := 1, 1
	for _, r := range text[:off] {
		if r == '\n' {
			line, col = line+1, 1
		} else {
			col++
		}
	}
	return fail(off, codeInvalidXML, "Malformed FetchXML: %s. Line %d, position %d.", msg, line, col)
}

// elements returns the element children of n.
func elements(n *xmlquery.Node) []*xmlquery.Node {
	var out []*xmlquery.Node
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == xmlquery.ElementNode {
			out = append(out, c)
		}
	}
	return out
}

// text returns the character data directly inside n.
func text(n *xmlquery.Node) string {
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if c.Type == xmlquery.TextNode || c.Type == xmlquery.CharDataNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}
