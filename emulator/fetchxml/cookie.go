package fetchxml

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/dynlocal/dynlocal/emulator/model"
)

// EncodePosition writes a page position as Dataverse's inner paging cookie:
//
//	<cookie page="1"><name last="Contoso" /><accountid last="{GUID}" first="{GUID}" /></cookie>
//
// one element per order column (named by its logical name, null values marked null="1") and the
// primary key last. firstID is the first row of the page, which Dataverse also records.
func EncodePosition(q *model.Query, p *model.Position, firstID string) string {
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
	case model.Decimal:
		return x.String()
	case time.Time:
		return x.UTC().Format(model.DateTimeLayout)
	case model.Lookup:
		return x.ID
	}
	return fmt.Sprint(v)
}

// DecodePosition reads a position written by EncodePosition for the same query. A cookie written
// for another order (or table) is rejected.
func DecodePosition(q *model.Query, cookie string) (*model.Position, error) {
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
			return nil, model.ErrBadPosition
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
				return nil, model.ErrBadPosition
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
		return nil, model.ErrBadPosition
	}
	p := &model.Position{Page: page}
	for i, o := range q.Order {
		el := elems[i]
		if o.Column == nil || el.Name.Local != o.Column.Attr.LogicalName {
			return nil, model.ErrBadPosition
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
				return nil, model.ErrBadPosition
			}
			pv, err := parsePositionValue(o.Column.Attr, text)
			if err != nil {
				return nil, model.ErrBadPosition
			}
			v = pv
		}
		p.Values = append(p.Values, v)
	}
	last := elems[len(elems)-1]
	if last.Name.Local != q.Entity.PrimaryIDAttribute {
		return nil, model.ErrBadPosition
	}
	for _, a := range last.Attr {
		if a.Name.Local == "last" {
			p.ID = strings.ToLower(strings.Trim(a.Value, "{}"))
		}
	}
	if p.ID == "" {
		return nil, model.ErrBadPosition
	}
	return p, nil
}

// parsePositionValue converts cookie text back to the SQL form the keyset compares with.
func parsePositionValue(a *model.Attribute, s string) (any, error) {
	switch a.Type {
	case model.TypeString, model.TypeMemo, model.TypeEntityName:
		return s, nil
	case model.TypeUniqueidentifier, model.TypeLookup, model.TypeCustomer, model.TypeOwner:
		return strings.ToLower(strings.Trim(s, "{}")), nil
	case model.TypeInteger, model.TypeBigInt, model.TypePicklist, model.TypeState, model.TypeStatus:
		return strconv.ParseInt(s, 10, 64)
	case model.TypeBoolean:
		return s == "1", nil
	case model.TypeDouble:
		return strconv.ParseFloat(s, 64)
	case model.TypeMoney, model.TypeDecimal:
		d, err := model.ParseDecimal(s, a.Scale())
		if err != nil {
			return nil, err
		}
		return d, nil
	case model.TypeDateTime:
		layout := model.DateTimeLayout
		if len(s) == len(model.DateOnlyLayout) {
			layout = model.DateOnlyLayout
		}
		return time.Parse(layout, s)
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
		return "", 0, model.ErrBadPosition
	}
	page, err = strconv.Atoi(c.PageNumber)
	if err != nil || page < 1 {
		return "", 0, model.ErrBadPosition
	}
	inner = c.PagingCookie
	for i := 0; i < 2; i++ {
		if inner, err = url.QueryUnescape(inner); err != nil {
			return "", 0, model.ErrBadPosition
		}
	}
	return inner, page, nil
}
