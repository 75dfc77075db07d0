package client

import (
	"encoding/json"
	"fmt"
	"math/big"
	"regexp"
	"strconv"
	"strings"
)

// KeyValue is a name and a value. It is a pair of an alternate key (AlternateKey), and a query
// parameter, form field or multipart field of a RawRequest, where order matters.
type KeyValue struct {
	Key   string
	Value any
}

// GUID marks a value that is written bare in an alternate key, as a lookup column in a key needs
// (_primarycontactid_value=00000000-...); a plain string would be quoted.
type GUID string

var (
	guidPattern       = regexp.MustCompile(`^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$`)
	identifierPattern = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	// A bare key value: a number, a GUID, true, false or null.
	bareValuePattern = regexp.MustCompile(`^(-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?|true|false|null|` +
		`[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$`)
)

// trimBraces strips one pair of curly braces around a GUID, as older tooling writes them.
func trimBraces(s string) string {
	if len(s) >= 2 && s[0] == '{' && s[len(s)-1] == '}' {
		return s[1 : len(s)-1]
	}
	return s
}

// isGUID reports whether s is a GUID in the 8-4-4-4-12 form, braces allowed.
func isGUID(s string) bool { return guidPattern.MatchString(trimBraces(strings.TrimSpace(s))) }

// normalizeKey checks a record key and returns its canonical form: a bare GUID, or an alternate key
// whose string values are single-quoted. Double-quoted values are turned into single-quoted ones.
func normalizeKey(key string) (string, error) {
	k := strings.TrimSpace(key)
	if g := trimBraces(k); guidPattern.MatchString(g) {
		return g, nil
	}
	pairs, err := parseAlternateKey(k)
	if err != nil {
		return "", fmt.Errorf("client: invalid key %q: want a GUID or an alternate key such as accountnumber='A1' (%v): %w", key, err, ErrInvalidInput)
	}
	return strings.Join(pairs, ","), nil
}

// parseAlternateKey splits name=value pairs separated by commas outside quotes and returns each pair
// rendered canonically.
func parseAlternateKey(s string) ([]string, error) {
	if s == "" {
		return nil, fmt.Errorf("empty key")
	}
	var out []string
	i := 0
	for {
		eq := strings.IndexByte(s[i:], '=')
		if eq < 0 {
			return nil, fmt.Errorf("no '=' after position %d", i)
		}
		name := strings.TrimSpace(s[i : i+eq])
		if !identifierPattern.MatchString(name) {
			return nil, fmt.Errorf("bad key name %q at position %d", name, i)
		}
		i += eq + 1
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i >= len(s) {
			return nil, fmt.Errorf("missing value for %s", name)
		}
		var value string
		switch q := s[i]; q {
		case '\'', '"':
			text, next, err := readQuoted(s, i)
			if err != nil {
				return nil, err
			}
			value = quoteKeyString(text)
			i = next
		default:
			end := strings.IndexByte(s[i:], ',')
			if end < 0 {
				end = len(s) - i
			}
			value = strings.TrimSpace(s[i : i+end])
			value = trimBraces(value)
			if !bareValuePattern.MatchString(value) {
				return nil, fmt.Errorf("value %q of %s must be a quoted string, a number, a GUID, true, false or null", value, name)
			}
			i += end
		}
		out = append(out, name+"="+value)
		for i < len(s) && s[i] == ' ' {
			i++
		}
		if i == len(s) {
			return out, nil
		}
		if s[i] != ',' {
			return nil, fmt.Errorf("unexpected %q at position %d", s[i], i)
		}
		i++
	}
}

// readQuoted reads a literal that starts with a quote at s[i]; a doubled quote is an escaped one.
// It returns the unescaped text and the index after the closing quote.
func readQuoted(s string, i int) (string, int, error) {
	q := s[i]
	var b strings.Builder
	for j := i + 1; j < len(s); j++ {
		if s[j] != q {
			b.WriteByte(s[j])
			continue
		}
		if j+1 < len(s) && s[j+1] == q {
			b.WriteByte(q)
			j++
			continue
		}
		return b.String(), j + 1, nil
	}
	return "", 0, fmt.Errorf("unterminated literal at position %d", i)
}

// quoteKeyString renders s as an OData string literal: single quotes, embedded ones doubled.
func quoteKeyString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// AlternateKey renders name=value pairs as an alternate key. Strings are quoted with embedded quotes
// doubled; integers, floats, json.Number and booleans are bare; GUID values are bare with braces
// removed; nil is null. Other values are formatted with fmt and quoted. For example
//
//	client.AlternateKey(
//		client.KeyValue{Key: "accountnumber", Value: "O'Brien-1"},
//		client.KeyValue{Key: "address1_postalcode", Value: 98052},
//	)
//
// gives
//
//	accountnumber='O''Brien-1',address1_postalcode=98052
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/retrieve-entity-using-web-api#retrieve-using-an-alternate-key
func AlternateKey(pairs ...KeyValue) string {
	parts := make([]string, 0, len(pairs))
	for _, p := range pairs {
		parts = append(parts, p.Key+"="+keyLiteral(p.Value))
	}
	return strings.Join(parts, ",")
}

func keyLiteral(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return quoteKeyString(x)
	case GUID:
		return trimBraces(strings.TrimSpace(string(x)))
	case bool:
		return strconv.FormatBool(x)
	case int:
		return strconv.FormatInt(int64(x), 10)
	case int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return fmt.Sprint(x)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64)
	case json.Number:
		return x.String()
	case *big.Int:
		return x.String()
	case fmt.Stringer:
		return quoteKeyString(x.String())
	default:
		return quoteKeyString(fmt.Sprint(x))
	}
}

// Bind returns the value of an "<navigation>@odata.bind" annotation that points at a row, such as
// "/contacts(00000000-0000-0000-0000-000000000001)", for setting lookups on create and update. The key
// is used as given; Bind does not validate it.
//
// Dataverse: https://learn.microsoft.com/power-apps/developer/data-platform/webapi/associate-disassociate-entities-using-web-api
func Bind(entitySet, key string) string {
	return "/" + entitySet + "(" + trimBraces(strings.TrimSpace(key)) + ")"
}

// checkName validates an entity set, property or navigation property name, which ends up in a URL path.
func checkName(kind, name string) error {
	if !identifierPattern.MatchString(name) {
		return fmt.Errorf("client: invalid %s %q: want a name such as accounts or name: %w", kind, name, ErrInvalidInput)
	}
	return nil
}

// recordPath returns "<set>(<key>)" with the key validated and escaped for a URL path.
func recordPath(entitySet, key string) (string, error) {
	if err := checkName("entity set", entitySet); err != nil {
		return "", err
	}
	k, err := normalizeKey(key)
	if err != nil {
		return "", err
	}
	return entitySet + "(" + escapePath(k) + ")", nil
}
