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

// NewObjectSize returns an empty object with room for n members.
func NewObjectSize(n int) *Object { return &Object{members: make([]Member, 0, n)} }

// Len returns the number of members.
func (o *Object) Len() int { return len(o.members) }

// Members returns the members in order. The slice is the object's own: do not change it.
func (o *Object) Members() []Member { return o.members }

func (o *Object) find(name string) int {
	if o.index == nil && len(o.members) > indexFrom {
		// Built on the first lookup by name, so that objects only ever appended to (Add) and
		// written never pay for it.
		o.index = make(map[string]int, 2*len(o.members))
		for i, m := range o.members {
			o.index[m.Name] = i
		}
	}
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
	o.Add(name, v)
}

// Add appends a member the object does not have yet, without looking for it: for code that builds
// an object from names it knows to be distinct (a row's columns). Adding a name twice makes an
// object that Marshal writes with the name twice.
func (o *Object) Add(name string, v any) {
	o.members = append(o.members, Member{Name: name, Value: v})
	if o.index != nil {
		o.index[name] = len(o.members) - 1
	}
}

// encoded is a run of members already written as JSON, without braces.
type encoded []byte

// AddEncoded appends members already written as JSON, without braces and without a leading or
// trailing comma ("a":1,"b":null): a row shaped straight from the store. Marshal writes them as
// they are. Get, Set and Remove do not see the names inside, so only an object nobody looks into
// by name afterwards (a read's answer) is built this way; Members shows the run as one member
// with an empty name.
func (o *Object) AddEncoded(members []byte) {
	if len(members) > 0 {
		o.members = append(o.members, Member{Value: encoded(members)})
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

// PutFirst makes name the first member of o, with the value v (a member of that name already
// in o is dropped). Unlike WithContext it changes o: for objects the caller has just built.
func (o *Object) PutFirst(name string, v any) {
	// A scan, not find: one lookup does not pay for building the index.
	for i := range o.members {
		if o.members[i].Name == name {
			o.members = append(o.members[:i], o.members[i+1:]...)
			break
		}
	}
	o.members = append(o.members, Member{})
	copy(o.members[1:], o.members)
	o.members[0] = Member{Name: name, Value: v}
	o.index = nil
}

// WithContext returns a copy of o that starts with @odata.context.
func WithContext(context string, o *Object) *Object {
	out := &Object{members: make([]Member, 0, len(o.members)+1)}
	out.members = append(out.members, Member{Name: "@odata.context", Value: context})
	for _, m := range o.members {
		if m.Name != "@odata.context" {
			out.members = append(out.members, m)
		}
	}
	return out
}

// MarshalJSON writes the members in order.
func (o *Object) MarshalJSON() ([]byte, error) { return Marshal(o) }
