package model

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// EncodePosition writes a page position as Dataverse's inner paging cookie:
//
//	<cookie page="1"><name last="Contoso" /><accountid last="{GUID}" first="{GUID}" /></cookie>
//
// one element per order column (named by its logical name, null values marked null="1") and the
// primary key last. firstID is the first row of the page, which Dataverse also records.
func EncodePosition(q *Query, p *Position, firstID string) string {
	var b strings.Builder
	fmt.Fprintf(&b, `<cookie page="%d">`, p.Page)
	for i, o := range q.Order {
		if o.Column == nil || i >= len(p.Values) {
			continue
		}
		b.WriteString("<" + o.Column.Attr.LogicalName)
		if v := p.Values[i]; v == nil {
			b.WriteString(` null="1"`)
		} else {
			b.WriteString(` last="`)
			xml.EscapeText(&b2{&b}, []byte(positionText(v)))
			b.WriteString(`"`)
		}
		b.WriteString(" />")
	}
	pk := q.Entity.PrimaryIDAttribute
	fmt.Fprintf(&b, `<%s last="{%s}" first="{%s}" /></cookie>`, pk, strings.ToUpper(p.ID), strings.ToUpper(firstID))
	return b.String()
}

// b2 adapts a strings.Builder to io.Writer for xml.EscapeText.
type b2 struct{ b *strings.Builder }

func (w *b2) Write(p []byte) (int, error) { return w.b.Write(p) }

func positionText(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case int64:
		return strconv.FormatInt(x, 10)
	case bool:
		if x {
			return "1"
		}
		return "0"
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case Decimal:
		return x.String()
	case time.Time:
		return FormatDateTime(x)
	case Lookup:
		return x.ID
	}
	return fmt.Sprint(v)
}

// DecodePosition reads a position written by EncodePosition for the same query. A cookie written
// for another order (or table) is rejected.
func DecodePosition(q *Query, cookie string) (*Position, error) {
	dec := xml.NewDecoder(strings.NewReader(cookie))
	var elems []xml.StartElement
	page := 0
	depth := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			if depth == 0 && len(elems) > 0 {
				break
			}
			return nil, ErrBadPosition
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			if t.Name.Local == "cookie" && depth == 1 {
				for _, a := range t.Attr {
					if a.Name.Local == "page" {
						page, _ = strconv.Atoi(a.Value)
					}
				}
				continue
			}
			if depth != 2 {
				return nil, ErrBadPosition
			}
			elems = append(elems, t)
		case xml.EndElement:
			depth--
		}
		if depth == 0 && len(elems) > 0 {
			break
		}
	}
	if len(elems) != len(q.Order)+1 {
		return nil, ErrBadPosition
	}
	p := &Position{Page: page}
	for i, o := range q.Order {
		el := elems[i]
		if o.Column == nil || el.Name.Local != o.Column.Attr.LogicalName {
			return nil, ErrBadPosition
		}
		var v any
		isNull := false
		var text string
		has := false
		for _, a := range el.Attr {
			switch a.Name.Local {
			case "null":
				isNull = a.Value == "1"
			case "last":
				text, has = a.Value, true
			}
		}
		if !isNull {
			if !has {
				return nil, ErrBadPosition
			}
			pv, err := parsePositionValue(o.Column.Attr, text)
			if err != nil {
				return nil, ErrBadPosition
			}
			v = pv
		}
		p.Values = append(p.Values, v)
	}
	last := elems[len(elems)-1]
	if last.Name.Local != q.Entity.PrimaryIDAttribute {
		return nil, ErrBadPosition
	}
	for _, a := range last.Attr {
		if a.Name.Local == "last" {
			if id := strings.Trim(a.Value, "{}"); IsGUID(id) {
				p.ID = strings.ToLower(id)
			}
		}
	}
	if p.ID == "" {
		return nil, ErrBadPosition
	}
	return p, nil
}

// parsePositionValue converts cookie text back to the SQL form the keyset compares with.
func parsePositionValue(a *Attribute, s string) (any, error) {
	switch a.Type {
	case TypeString, TypeMemo, TypeEntityName:
		return s, nil
	case TypeUniqueidentifier, TypeLookup, TypeCustomer, TypeOwner:
		id := strings.Trim(s, "{}")
		if !IsGUID(id) {
			return nil, ErrBadPosition
		}
		return strings.ToLower(id), nil
	case TypeInteger, TypeBigInt, TypePicklist, TypeState, TypeStatus:
		return strconv.ParseInt(s, 10, 64)
	case TypeBoolean:
		return s == "1", nil
	case TypeDouble:
		return strconv.ParseFloat(s, 64)
	case TypeMoney, TypeDecimal:
		d, err := ParseDecimal(s, a.Scale())
		if err != nil {
			return nil, err
		}
		return d, nil
	case TypeDateTime:
		layout := DateTimeLayout
		if len(s) == len(DateOnlyLayout) {
			layout = DateOnlyLayout
		}
		t, err := time.Parse(layout, s)
		if err != nil || t.Format(layout) != s {
			// Only the form EncodePosition writes: no fractions, no other offsets.
			return nil, ErrBadPosition
		}
		return t, nil
	}
	return nil, fmt.Errorf("store: cannot page on %s", a.LogicalName)
}

// PagingCookie wraps an inner cookie the way Dataverse returns it in
// @Microsoft.Dynamics.CRM.fetchxmlpagingcookie and in $skiptoken: the inner cookie URL-encoded
// twice, inside a cookie element that names the next page.
func PagingCookie(inner string, nextPage int) string {
	// Dataverse's encoder writes spaces as %20, not +.
	esc := func(s string) string { return strings.ReplaceAll(url.QueryEscape(s), "+", "%20") }
	enc := esc(esc(inner))
	var b bytes.Buffer
	fmt.Fprintf(&b, `<cookie pagenumber="%d" pagingcookie="%s" istracking="False" />`, nextPage, enc)
	return b.String()
}

// ParsePagingCookie returns the inner cookie and page number of a cookie written by PagingCookie.
func ParsePagingCookie(s string) (inner string, page int, err error) {
	var c struct {
		PageNumber   string `xml:"pagenumber,attr"`
		PagingCookie string `xml:"pagingcookie,attr"`
	}
	if err := xml.Unmarshal([]byte(s), &c); err != nil {
		return "", 0, ErrBadPosition
	}
	page, err = strconv.Atoi(c.PageNumber)
	if err != nil || page < 1 {
		return "", 0, ErrBadPosition
	}
	inner = c.PagingCookie
	for i := 0; i < 2; i++ {
		if inner, err = url.QueryUnescape(inner); err != nil {
			return "", 0, ErrBadPosition
		}
	}
	return inner, page, nil
}
