package odata

import (
	"net/url"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/dverr"
)

// Option is one name=value pair of a query string, in order.
type Option struct {
	Name, Value string
}

// Options is a parsed query string. Go's url.ParseQuery cannot be used: OData puts ';' inside
// $expand options, which it rejects.
type Options []Option

// ParseOptions splits a raw query string on '&', decoding names and values once ('+' is a space, as
// ASP.NET decodes it). A repeated system query option is an error, as in Dataverse.
func ParseOptions(raw string) (Options, error) {
	var out Options
	seen := map[string]bool{}
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			return nil, dverr.BadRequest("The query string could not be decoded: %v.", err)
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			return nil, dverr.BadRequest("The query string could not be decoded: %v.", err)
		}
		if strings.HasPrefix(name, "$") || strings.HasPrefix(name, "@") {
			if seen[name] {
				return nil, dverr.BadRequest("Query option '%s' was specified more than once, but it must be specified at most once.", name)
			}
			seen[name] = true
		}
		out = append(out, Option{Name: name, Value: val})
	}
	return out, nil
}

// Get returns an option's value.
func (q Options) Get(name string) (string, bool) {
	for _, o := range q {
		if o.Name == name {
			return o.Value, true
		}
	}
	return "", false
}

// Allow checks that only the given system query options are present. Unknown system options and
// options the resource does not take get Dataverse's errors; with loose set they are ignored.
func (q Options) Allow(loose bool, names ...string) error {
	var ignore func(string)
	if loose {
		ignore = func(string) {}
	}
	return q.AllowOr(ignore, names...)
}

// AllowOr is Allow that, when ignore is not nil, ignores the options Dataverse would reject and
// tells ignore each one's name.
func (q Options) AllowOr(ignore func(option string), names ...string) error {
	for _, o := range q {
		if !strings.HasPrefix(o.Name, "$") {
			continue
		}
		ok := false
		for _, n := range names {
			if o.Name == n {
				ok = true
				break
			}
		}
		if ok {
			continue
		}
		if ignore != nil {
			ignore(o.Name)
			continue
		}
		switch o.Name {
		case "$skip", "$search", "$format", "$compute", "$index", "$schemaversion", "$levels":
			return dverr.BadRequest("The query parameter %s is not supported", o.Name)
		case "$select", "$filter", "$orderby", "$top", "$expand", "$count", "$apply", "$skiptoken", "$id":
			return dverr.BadRequest("The query parameter %s is not supported on this resource.", o.Name)
		}
		return dverr.BadRequest("The query parameter %s is not supported", o.Name)
	}
	return nil
}

// Aliases returns the parameter aliases (@p1=...) of the query string, keyed with the @.
func (q Options) Aliases() map[string]string {
	m := map[string]string{}
	for _, o := range q {
		if strings.HasPrefix(o.Name, "@") {
			m[o.Name] = o.Value
		}
	}
	return m
}
