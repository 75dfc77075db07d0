package odata

import (
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dynlocal/dynlocal/emulator/dverr"
	"github.com/dynlocal/dynlocal/emulator/model"
)

// This file holds the scanner of the expression-valued query options ($filter, $orderby, $apply).
// The whole text is scanned before parsing starts, as ODL's lexer effectively does: a lexical error
// anywhere (an unterminated string, a character that starts no token) is reported before any
// syntax or name error, which is what Dataverse answers for 'lastname eq 'O'Bryan''.

type tokKind uint8

const (
	tEOF      tokKind = iota
	tIdent            // a name or keyword, possibly qualified (Microsoft.Dynamics.CRM.In) or $-prefixed ($count)
	tString           // 'text'; text holds the unescaped value
	tNumber           // text holds the digits without the type suffix
	tGUID             // text holds the lower-case GUID
	tDate             // 2024-01-31
	tDateTime         // 2024-01-31T12:00:00Z, converted to UTC
	tAlias            // @p1; text holds "@p1"
	tTyped            // Microsoft.Dynamics.CRM.Type'Value': text holds the type name
	tArray            // [..] JSON-style array of query function parameters
	tLParen
	tRParen
	tComma
	tSlash
	tColon
	tEquals
)

// token is one lexical token. pos and end are byte offsets into the scanned text.
type token struct {
	kind     tokKind
	pos, end int
	text     string
	suffix   byte      // tNumber: lower-case m, l, d or f, or 0
	time     time.Time // tDate, tDateTime
	items    []jsonItem
}

// jsonKind is the kind of an item of a JSON-style array.
type jsonKind uint8

const (
	jString jsonKind = iota
	jNumber
	jBool
	jNull
)

// jsonItem is one item of a PropertyValues array.
type jsonItem struct {
	kind jsonKind
	text string
	pos  int
}

// maxArrayItems bounds PropertyValues arrays so that a hostile query cannot make the parser hold
// unbounded state; Dataverse's own limit on In conditions is far lower in practice.
const maxArrayItems = 10000

// scanner turns a text into tokens.
type scanner struct {
	src  string
	pos  int
	toks []token
}

// tokenize scans the whole text.
func tokenize(src string) ([]token, *dverr.Error) {
	s := &scanner{src: src}
	for {
		s.skipSpace()
		if s.pos >= len(s.src) {
			s.toks = append(s.toks, token{kind: tEOF, pos: len(s.src), end: len(s.src)})
			return s.toks, nil
		}
		if err := s.scan(); err != nil {
			return nil, err
		}
	}
}

func (s *scanner) skipSpace() {
	for s.pos < len(s.src) {
		switch s.src[s.pos] {
		case ' ', '\t', '\r', '\n':
			s.pos++
		default:
			return
		}
	}
}

func (s *scanner) emit(kind tokKind, start int, text string) {
	s.toks = append(s.toks, token{kind: kind, pos: start, end: s.pos, text: text})
}

func (s *scanner) unterminated() *dverr.Error {
	return dverr.BadRequest("There is an unterminated literal at position %d in '%s'.", len(s.src), s.src).At(len(s.src))
}

func (s *scanner) invalidChar(pos int) *dverr.Error {
	r, _ := utf8.DecodeRuneInString(s.src[pos:])
	return dverr.BadRequest("Syntax error: character '%c' is not valid at position %d in '%s'.", r, pos, s.src).At(pos)
}

func (s *scanner) syntaxError(pos int) *dverr.Error {
	return dverr.BadRequest("Syntax error at position %d in '%s'.", pos, s.src).At(pos)
}

func (s *scanner) scan() *dverr.Error {
	start := s.pos
	c := s.src[s.pos]
	switch c {
	case '(':
		s.pos++
		s.emit(tLParen, start, "(")
		return nil
	case ')':
		s.pos++
		s.emit(tRParen, start, ")")
		return nil
	case ',':
		s.pos++
		s.emit(tComma, start, ",")
		return nil
	case '/':
		s.pos++
		s.emit(tSlash, start, "/")
		return nil
	case ':':
		s.pos++
		s.emit(tColon, start, ":")
		return nil
	case '=':
		s.pos++
		s.emit(tEquals, start, "=")
		return nil
	case '\'':
		v, err := s.quoted()
		if err != nil {
			return err
		}
		s.emit(tString, start, v)
		return nil
	case '[':
		items, end, err := scanArray(s.src, s.pos)
		if err != nil {
			return err
		}
		s.pos = end
		s.toks = append(s.toks, token{kind: tArray, pos: start, end: end, text: s.src[start:end], items: items})
		return nil
	case '@':
		s.pos++
		id := s.simpleIdent()
		if id == "" {
			return s.syntaxError(start)
		}
		s.emit(tAlias, start, "@"+id)
		return nil
	}
	// A GUID may start with a letter or a digit, so it is tried before names and numbers.
	if rest := len(s.src) - s.pos; rest >= 36 && model.IsGUID(s.src[s.pos:s.pos+36]) && (rest == 36 || !isIdentPart(s.src[s.pos+36]) && s.src[s.pos+36] != '-') {
		s.pos += 36
		s.emit(tGUID, start, strings.ToLower(s.src[start:s.pos]))
		return nil
	}
	if isDigit(c) && s.looksLikeDate() {
		return s.date()
	}
	if isDigit(c) || c == '-' && s.pos+1 < len(s.src) && isDigit(s.src[s.pos+1]) {
		return s.number()
	}
	if isIdentStart(c) || c == '$' && s.pos+1 < len(s.src) && isIdentStart(s.src[s.pos+1]) {
		return s.name()
	}
	return s.invalidChar(start)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// quoted scans a single-quoted string at s.pos, where two quotes stand for one.
func (s *scanner) quoted() (string, *dverr.Error) {
	var b strings.Builder
	s.pos++ // opening quote
	for {
		if s.pos >= len(s.src) {
			return "", s.unterminated()
		}
		ch := s.src[s.pos]
		s.pos++
		if ch == '\'' {
			if s.pos < len(s.src) && s.src[s.pos] == '\'' {
				b.WriteByte('\'')
				s.pos++
				continue
			}
			return b.String(), nil
		}
		b.WriteByte(ch)
	}
}

func (s *scanner) simpleIdent() string {
	start := s.pos
	if s.pos >= len(s.src) || !isIdentStart(s.src[s.pos]) {
		return ""
	}
	for s.pos < len(s.src) && isIdentPart(s.src[s.pos]) {
		s.pos++
	}
	return s.src[start:s.pos]
}

// name scans a name, a dotted qualified name, a $-name, or a typed literal (a qualified name
// immediately followed by a quoted string, as in Microsoft.Dynamics.CRM.OwnershipTypes'UserOwned').
func (s *scanner) name() *dverr.Error {
	start := s.pos
	if s.src[s.pos] == '$' {
		s.pos++
		s.simpleIdent()
		s.emit(tIdent, start, s.src[start:s.pos])
		return nil
	}
	s.simpleIdent()
	for s.pos+1 < len(s.src) && s.src[s.pos] == '.' && isIdentStart(s.src[s.pos+1]) {
		s.pos++
		s.simpleIdent()
	}
	name := s.src[start:s.pos]
	if s.pos < len(s.src) && s.src[s.pos] == '\'' {
		if _, err := s.quoted(); err != nil {
			return err
		}
		s.toks = append(s.toks, token{kind: tTyped, pos: start, end: s.pos, text: name})
		return nil
	}
	s.emit(tIdent, start, name)
	return nil
}

// looksLikeDate reports whether a date (yyyy-mm-dd) starts at s.pos.
func (s *scanner) looksLikeDate() bool {
	t := s.src[s.pos:]
	if len(t) < 10 {
		return false
	}
	for i := 0; i < 10; i++ {
		switch i {
		case 4, 7:
			if t[i] != '-' {
				return false
			}
		default:
			if !isDigit(t[i]) {
				return false
			}
		}
	}
	return true
}

// dateTimeLayouts are the date-time forms accepted in literals. Dataverse takes a date-time without
// an offset as UTC, as the user's time zone here is UTC.
var dateTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02T15:04",
}

func (s *scanner) date() *dverr.Error {
	start := s.pos
	s.pos += 10
	kind := tDate
	if s.pos+1 < len(s.src) && s.src[s.pos] == 'T' && isDigit(s.src[s.pos+1]) {
		kind = tDateTime
		s.pos++
		for s.pos < len(s.src) && (isDigit(s.src[s.pos]) || s.src[s.pos] == ':' || s.src[s.pos] == '.') {
			s.pos++
		}
		if s.pos < len(s.src) {
			switch s.src[s.pos] {
			case 'Z', 'z':
				s.pos++
			case '+', '-':
				s.pos++
				for s.pos < len(s.src) && (isDigit(s.src[s.pos]) || s.src[s.pos] == ':') {
					s.pos++
				}
			}
		}
	}
	if s.pos < len(s.src) && (isIdentPart(s.src[s.pos]) || s.src[s.pos] == '.' || s.src[s.pos] == '-') {
		return s.syntaxError(s.pos)
	}
	text := s.src[start:s.pos]
	var t time.Time
	var err error
	if kind == tDate {
		t, err = time.Parse(dateLayout, text)
		if err != nil {
			return dverr.BadRequest("Unrecognized 'Edm.Date' literal '%s' at '%d' in '%s'.", text, start, s.src).At(start)
		}
	} else {
		t, err = parseDateTime(strings.Replace(text, "z", "Z", 1))
		if err != nil {
			return dverr.BadRequest("Unrecognized 'Edm.DateTimeOffset' literal '%s' at '%d' in '%s'.", text, start, s.src).At(start)
		}
	}
	s.toks = append(s.toks, token{kind: kind, pos: start, end: s.pos, text: text, time: t})
	return nil
}

// dateLayout is the layout of Edm.Date literals.
const dateLayout = "2006-01-02"

func parseDateTime(text string) (time.Time, error) {
	var err error
	for _, l := range dateTimeLayouts {
		var t time.Time
		if t, err = time.Parse(l, text); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}

// number scans [-]digits[.digits][e[+-]digits][suffix].
func (s *scanner) number() *dverr.Error {
	start := s.pos
	if s.src[s.pos] == '-' {
		s.pos++
	}
	digits := func() int {
		n := 0
		for s.pos < len(s.src) && isDigit(s.src[s.pos]) {
			s.pos++
			n++
		}
		return n
	}
	digits()
	if s.pos < len(s.src) && s.src[s.pos] == '.' {
		s.pos++
		if digits() == 0 {
			return s.syntaxError(s.pos)
		}
	}
	if s.pos < len(s.src) && (s.src[s.pos] == 'e' || s.src[s.pos] == 'E') {
		s.pos++
		if s.pos < len(s.src) && (s.src[s.pos] == '+' || s.src[s.pos] == '-') {
			s.pos++
		}
		if digits() == 0 {
			return s.syntaxError(s.pos)
		}
	}
	text := s.src[start:s.pos]
	var suffix byte
	if s.pos < len(s.src) {
		switch c := s.src[s.pos] | 0x20; c {
		case 'm', 'l', 'd', 'f':
			if s.pos+1 >= len(s.src) || !isIdentPart(s.src[s.pos+1]) {
				suffix = c
				s.pos++
			}
		}
	}
	if suffix == 'l' && strings.ContainsAny(text, ".eE") {
		return s.syntaxError(start)
	}
	if s.pos < len(s.src) && (isIdentPart(s.src[s.pos]) || s.src[s.pos] == '.') {
		return s.syntaxError(s.pos)
	}
	s.toks = append(s.toks, token{kind: tNumber, pos: start, end: s.pos, text: text, suffix: suffix})
	return nil
}

// numberType is the Edm type of a number literal, as ODL types it.
func numberType(t token) string {
	switch t.suffix {
	case 'm':
		return "Edm.Decimal"
	case 'd':
		return "Edm.Double"
	case 'f':
		return "Edm.Single"
	case 'l':
		return "Edm.Int64"
	}
	switch {
	case strings.ContainsAny(t.text, "eE"):
		return "Edm.Double"
	case strings.Contains(t.text, "."):
		return "Edm.Decimal"
	}
	if _, err := strconv.ParseInt(t.text, 10, 32); err == nil {
		return "Edm.Int32"
	}
	if _, err := strconv.ParseInt(t.text, 10, 64); err == nil {
		return "Edm.Int64"
	}
	return "Edm.Decimal"
}

// scanArray reads a JSON-style array starting at src[pos] == '['. Items are strings (in double
// or single quotes, with backslash escapes), numbers, booleans or null. It returns the items and
// the offset after the closing bracket. Errors carry the messages of Dataverse's JSON reader.
func scanArray(src string, pos int) ([]jsonItem, int, *dverr.Error) {
	i := pos + 1
	skip := func() {
		for i < len(src) && (src[i] == ' ' || src[i] == '\t' || src[i] == '\r' || src[i] == '\n') {
			i++
		}
	}
	eof := func() *dverr.Error {
		return dverr.BadRequest("Invalid JSON. Unexpected end of input was found in JSON content. Not all object and array scopes were closed.").At(len(src))
	}
	var items []jsonItem
	skip()
	if i < len(src) && src[i] == ']' {
		return nil, i + 1, nil
	}
	for {
		skip()
		if i >= len(src) {
			return nil, 0, eof()
		}
		if len(items) >= maxArrayItems {
			return nil, 0, dverr.BadRequest("Invalid JSON. An array may hold at most %d values.", maxArrayItems).At(i)
		}
		start := i
		c := src[i]
		switch {
		case c == '"' || c == '\'':
			var b strings.Builder
			i++
			for {
				if i >= len(src) {
					return nil, 0, dverr.BadRequest("Invalid JSON. Unexpected end of content while reading a JSON string value.").At(len(src))
				}
				ch := src[i]
				if ch == c {
					i++
					break
				}
				if ch == '\\' {
					if i+1 >= len(src) {
						return nil, 0, dverr.BadRequest("Invalid JSON. Unexpected end of content while reading a JSON string value.").At(len(src))
					}
					i++
					switch e := src[i]; e {
					case '"', '\'', '\\', '/':
						b.WriteByte(e)
					case 'b':
						b.WriteByte('\b')
					case 'f':
						b.WriteByte('\f')
					case 'n':
						b.WriteByte('\n')
					case 'r':
						b.WriteByte('\r')
					case 't':
						b.WriteByte('\t')
					case 'u':
						if i+4 >= len(src) {
							return nil, 0, dverr.BadRequest("Invalid JSON. Unrecognized escape sequence '\\u' in a JSON string value.").At(i - 1)
						}
						n, err := strconv.ParseUint(src[i+1:i+5], 16, 16)
						if err != nil {
							return nil, 0, dverr.BadRequest("Invalid JSON. Unrecognized escape sequence '\\u%s' in a JSON string value.", src[i+1:i+5]).At(i - 1)
						}
						b.WriteRune(rune(n))
						i += 4
					default:
						return nil, 0, dverr.BadRequest("Invalid JSON. Unrecognized escape sequence '\\%c' in a JSON string value.", e).At(i - 1)
					}
					i++
					continue
				}
				b.WriteByte(ch)
				i++
			}
			items = append(items, jsonItem{kind: jString, text: b.String(), pos: start})
		case c == '-' || isDigit(c):
			i++
			for i < len(src) && (isDigit(src[i]) || strings.IndexByte(".eE+-", src[i]) >= 0) {
				i++
			}
			text := src[start:i]
			if !validNumber(text) {
				return nil, 0, dverr.BadRequest("Invalid JSON. The number '%s' is not valid.", text).At(start)
			}
			items = append(items, jsonItem{kind: jNumber, text: text, pos: start})
		case isIdentStart(c):
			for i < len(src) && isIdentPart(src[i]) {
				i++
			}
			switch w := src[start:i]; w {
			case "true", "false":
				items = append(items, jsonItem{kind: jBool, text: w, pos: start})
			case "null":
				items = append(items, jsonItem{kind: jNull, text: w, pos: start})
			default:
				return nil, 0, dverr.BadRequest("Invalid JSON. Unexpected token '%s' was found in JSON content.", w).At(start)
			}
		case c == '[' || c == '{':
			return nil, 0, dverr.BadRequest("Invalid JSON. Nested arrays and objects are not allowed in a list of values.").At(start)
		default:
			r, _ := utf8.DecodeRuneInString(src[i:])
			return nil, 0, dverr.BadRequest("Invalid JSON. Unexpected character '%c' was found in JSON content.", r).At(start)
		}
		skip()
		if i >= len(src) {
			return nil, 0, eof()
		}
		switch src[i] {
		case ',':
			i++
		case ']':
			return items, i + 1, nil
		default:
			return nil, 0, dverr.BadRequest("Invalid JSON. A comma character ',' was expected in scope 'Array'. Every two elements in an array and properties of an object must be separated by commas.").At(i)
		}
	}
}
