package wire

// Object is a JSON object whose members keep the order they were added in. Dataverse writes
// @odata.context first, @odata.etag next, annotations before their property and @odata.nextLink
// last, and metadata documents with MetadataId and names first; clients and diffs are easier on the
// eye when the emulator does the same. The zero Object is empty and ready to use.
//
// Values are what Marshal writes: nil, strings, booleans, integers, float64, json.Number,
// json.RawMessage (written as it is), nested *Object values, slices of those, and anything else
// encoding/json can encode. ParseObject gives objects whose values are json.RawMessage.
type Object struct {
	members []Member
	// index finds a member once the object is too large for a linear scan to be the faster.
	index map[string]int
}

// Member is one name and value of an Object.
type Member struct {
	Name  string
	Value any
}

// indexFrom is the size at which an object starts keeping an index of its names. Most objects the
// fixtures build (labels, managed properties) are far smaller; records and documents are larger.
const indexFrom = 8

// NewObject returns an empty object.
func NewObject() *Object { return &Object{} }

// Len returns the number of members.
func (o *Object) Len() int { return len(o.members) }

// Members returns the members in order. The slice is the object's own: do not change it.
func (o *Object) Members() []Member { return o.members }

func (o *Object) find(name string) int {
	if o.index != nil {
		if i, ok := o.index[name]; ok {
			return i
		}
		return -1
	}
	for i := range o.members {
		if o.members[i].Name == name {
			return i
		}
	}
	return -1
}

// Get returns a member's value.
func (o *Object) Get(name string) (any, bool) {
	if i := o.find(name); i >= 0 {
		return o.members[i].Value, true
	}
	return nil, false
}

// Set adds a member at the end, or replaces the value of an existing one in its position.
func (o *Object) Set(name string, v any) {
	if i := o.find(name); i >= 0 {
		o.members[i].Value = v
		return
	}
	o.members = append(o.members, Member{Name: name, Value: v})
	switch {
	case o.index != nil:
		o.index[name] = len(o.members) - 1
	case len(o.members) > indexFrom:
		o.index = make(map[string]int, 2*len(o.members))
		for i, m := range o.members {
			o.index[m.Name] = i
		}
	}
}

// Remove deletes a member; the others keep their order.
func (o *Object) Remove(name string) {
	i := o.find(name)
	if i < 0 {
		return
	}
	o.members = append(o.members[:i], o.members[i+1:]...)
	if o.index != nil {
		delete(o.index, name)
		for j := i; j < len(o.members); j++ {
			o.index[o.members[j].Name] = j
		}
	}
}

// WithContext returns a copy of o that starts with @odata.context.
func WithContext(context string, o *Object) *Object {
	out := &Object{members: make([]Member, 0, len(o.members)+1)}
	out.Set("@odata.context", context)
	for _, m := range o.members {
		out.Set(m.Name, m.Value)
	}
	return out
}

// MarshalJSON writes the members in order.
func (o *Object) MarshalJSON() ([]byte, error) { return Marshal(o) }
