package contracts

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// SchemaRef is the $schema value of committed suites: the JSON Schema beside the suites directory,
// which editors use to check and complete suite files.
const SchemaRef = "../suite.schema.json"

// Suite is one contract suite file.
type Suite struct {
	// Schema is the file's $schema reference, kept as written.
	Schema string `json:"$schema,omitempty"`
	// Name identifies the suite in reports, such as "records".
	Name string `json:"name"`
	// Description says what the suite covers.
	Description string `json:"description,omitempty"`
	// Parallel lets the cases run concurrently (bounded by the runner's parallelism). Cases of a
	// parallel suite must not depend on each other.
	Parallel bool `json:"parallel,omitempty"`
	// Exact makes every body comparison exact (no extra keys allowed) unless a step says otherwise.
	Exact bool `json:"exact,omitempty"`
	// Setup steps run once before the cases; their captures are visible to every case and the rows
	// they create are deleted after Teardown.
	Setup []Step `json:"setup,omitempty"`
	// Cases are the suite's cases, run in order unless Parallel is set.
	Cases []Case `json:"cases"`
	// Teardown steps run once after all cases, even when some failed.
	Teardown []Step `json:"teardown,omitempty"`

	// Path is the file the suite was loaded from ("" for suites built in memory).
	Path string `json:"-"`
}

// Case is a named list of steps. The rows its steps create are deleted when it ends, in reverse
// order, whether it passed or not.
type Case struct {
	// Name identifies the case in reports, such as "create without representation".
	Name string `json:"name"`
	// Description says what the case shows.
	Description string `json:"description,omitempty"`
	// Steps run in order; the first failing step ends the case.
	Steps []Step `json:"steps"`
}

// Step is one call through the client and what must come back.
type Step struct {
	// Action is a client action: CreateRecord, GetRecord, UpdateRecord, UpsertRecord, DeleteRecord,
	// GetProperty, SetProperty, ClearProperty, Associate, SetReference, Disassociate, QueryRecords,
	// QueryAll, Count, FetchXML, FetchXMLAll, Batch, WhoAmI, GetCurrentUser, Do, PollChanges, one of
	// the metadata actions (ListEntityTypes, ListEntities, GetEntitiesMetadata, GetEntityMetadata,
	// ListAttributes, QueryAttributes, GetAttribute, CreateAttribute, UpdateAttribute,
	// DeleteAttribute, CreateEntity, DeleteEntity), Webhook (a webhook.Receiver registered on the
	// target) or Throttled (the client's retries against a loopback server that answers 429).
	Action string `json:"action"`
	// Note explains the step to a reader; the runner ignores it.
	Note string `json:"note,omitempty"`
	// Auth replaces the target's connection for this step (a fixed token, or none at all).
	Auth *Auth `json:"auth,omitempty"`
	// Input holds the action's arguments and options (see the README), with {{name}} templates.
	Input json.RawMessage `json:"input,omitempty"`
	// Expect is what must come back.
	Expect Expect `json:"expect"`
	// Cleanup names rows (or table and column definitions) this step creates that the runner cannot
	// see (deep-inserted children, rows created with a representation the runner cannot find the key
	// of); they are deleted when the case ends.
	Cleanup []Cleanup `json:"cleanup,omitempty"`
}

// Auth is a per-step connection: exactly one of Token and Anonymous.
type Auth struct {
	// Token is sent as the bearer token instead of the target's credentials.
	Token string `json:"token,omitempty"`
	// Anonymous sends no Authorization header at all.
	Anonymous bool `json:"anonymous,omitempty"`
}

// Expect is what a step must get back. Zero fields are not checked.
type Expect struct {
	// Status is the HTTP status (200, 204, 404, ...).
	Status int `json:"status,omitempty"`
	// Headers maps header names (any case) to expected values with matchers; {{absent}} requires
	// the header to be missing. Headers not named are not checked.
	Headers map[string]string `json:"headers,omitempty"`
	// Exact, when set, overrides the suite's Exact for this step's body.
	Exact *bool `json:"exact,omitempty"`
	// Body is the expected JSON body. For errors it is {"error":{"code":...,"message":...}} as the
	// client parsed them. Absent means the body is not checked; "{{absent}}" means there must be none.
	Body json.RawMessage `json:"body,omitempty"`
}

// Cleanup is something to delete when the case ends: a row (EntitySet and Key), a column (Table and
// Column) or a table (Table alone). Values whose captures were never set (the step that captures
// them failed) are skipped.
type Cleanup struct {
	// EntitySet is the row's entity set, such as "contacts".
	EntitySet string `json:"entitySet,omitempty"`
	// Key is its key, usually a capture such as "{{contact.id}}".
	Key string `json:"key,omitempty"`
	// Table names a table definition (logical name or MetadataId): with Column, the table of a
	// column to delete with DeleteAttribute; alone, a table to delete with DeleteEntity.
	Table string `json:"table,omitempty"`
	// Column names a column of Table (logical name or MetadataId), such as "{{column.id}}".
	Column string `json:"column,omitempty"`
}

// validate checks that the entry names exactly one row, column or table.
func (c Cleanup) validate() error {
	row := c.EntitySet != "" || c.Key != ""
	meta := c.Table != "" || c.Column != ""
	switch {
	case row && meta:
		return errors.New("a cleanup entry names a row (entitySet, key) or a definition (table, column), not both")
	case row && (c.EntitySet == "" || c.Key == ""):
		return errors.New("cleanup entries need an entitySet and a key")
	case meta && c.Table == "":
		return errors.New("a cleanup entry with a column needs its table")
	case !row && !meta:
		return errors.New("cleanup entries need an entitySet and a key, or a table (and a column)")
	}
	for _, v := range []string{c.Key, c.Table, c.Column} {
		if err := checkTemplates(v, true); err != nil {
			return fmt.Errorf("cleanup: %w", err)
		}
	}
	return nil
}

// Load reads and checks the suite file at path.
func Load(path string) (*Suite, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("contracts: %w", err)
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("contracts: %s: %w", path, err)
	}
	s.Path = path
	return s, nil
}

// LoadFS reads and checks the suite file name in fsys.
func LoadFS(fsys fs.FS, name string) (*Suite, error) {
	data, err := fs.ReadFile(fsys, name)
	if err != nil {
		return nil, fmt.Errorf("contracts: %w", err)
	}
	s, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("contracts: %s: %w", name, err)
	}
	s.Path = name
	return s, nil
}

// LoadAll loads the suites named by paths: files, or directories whose *.json files are loaded in
// name order.
func LoadAll(paths ...string) ([]*Suite, error) {
	var out []*Suite
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("contracts: %w", err)
		}
		files := []string{p}
		if info.IsDir() {
			files, err = filepath.Glob(filepath.Join(p, "*.json"))
			if err != nil {
				return nil, fmt.Errorf("contracts: %w", err)
			}
			sort.Strings(files)
			if len(files) == 0 {
				return nil, fmt.Errorf("contracts: no *.json suites in %s", p)
			}
		}
		for _, f := range files {
			s, err := Load(f)
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
	}
	return out, nil
}

// LoadBuiltin loads the suites committed with this package (suites/*.json), in name order.
func LoadBuiltin() ([]*Suite, error) {
	names, err := fs.Glob(builtinSuites, "suites/*.json")
	if err != nil {
		return nil, fmt.Errorf("contracts: %w", err)
	}
	sort.Strings(names)
	out := make([]*Suite, 0, len(names))
	for _, n := range names {
		s, err := LoadFS(builtinSuites, n)
		if err != nil {
			return nil, err
		}
		s.Path = path.Join("contracts", n)
		out = append(out, s)
	}
	return out, nil
}

// Parse decodes and checks a suite. Unknown fields, unknown actions, malformed templates and inputs
// that do not fit their action are errors.
func Parse(data []byte) (*Suite, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var s Suite
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("decode suite: %w", err)
	}
	if dec.More() {
		return nil, errors.New("decode suite: unexpected data after the suite object")
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	return &s, nil
}

// Validate checks the suite's structure: names, actions, inputs and templates.
func (s *Suite) Validate() error {
	var errs []error
	if strings.TrimSpace(s.Name) == "" {
		errs = append(errs, errors.New("suite has no name"))
	}
	if len(s.Cases) == 0 {
		errs = append(errs, errors.New("suite has no cases"))
	}
	check := func(where string, steps []Step) {
		for i := range steps {
			if err := steps[i].validate(); err != nil {
				errs = append(errs, fmt.Errorf("%s step %d (%s): %w", where, i+1, steps[i].Action, err))
			}
		}
	}
	check("setup", s.Setup)
	seen := map[string]bool{}
	for _, c := range s.Cases {
		if strings.TrimSpace(c.Name) == "" {
			errs = append(errs, errors.New("a case has no name"))
		}
		if seen[c.Name] {
			errs = append(errs, fmt.Errorf("case %q appears twice", c.Name))
		}
		seen[c.Name] = true
		if len(c.Steps) == 0 {
			errs = append(errs, fmt.Errorf("case %q has no steps", c.Name))
		}
		check(fmt.Sprintf("case %q", c.Name), c.Steps)
	}
	check("teardown", s.Teardown)
	return errors.Join(errs...)
}

func (st *Step) validate() error {
	a, ok := actions[st.Action]
	if !ok {
		return fmt.Errorf("unknown action %q (want one of %s)", st.Action, strings.Join(ActionNames(), ", "))
	}
	if st.Auth != nil && (st.Auth.Token == "") == !st.Auth.Anonymous {
		return errors.New("auth needs exactly one of token and anonymous")
	}
	in, err := decodeGeneric(st.Input)
	if err != nil {
		return fmt.Errorf("input: %w", err)
	}
	if in == nil {
		in = map[string]any{}
	}
	if err := checkTemplates(in, true); err != nil {
		return fmt.Errorf("input: %w", err)
	}
	// Decode with placeholders for the templates so that field names and shapes are checked now,
	// not halfway through a run. A template may stand for a number or a boolean, which the
	// placeholder cannot know: type errors are left to the run when the input has templates.
	decoded := a.newInput()
	if err := decodeInput(placeholderInput(in), decoded); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) || !containsTemplates(in) {
			return fmt.Errorf("input: %w", err)
		}
	} else if a.check != nil {
		if err := a.check(decoded); err != nil {
			return fmt.Errorf("input: %w", err)
		}
	}
	for name, v := range st.Expect.Headers {
		if err := checkTemplates(v, false); err != nil {
			return fmt.Errorf("expect header %s: %w", name, err)
		}
	}
	if st.Expect.Body != nil {
		body, err := decodeGeneric(st.Expect.Body)
		if err != nil {
			return fmt.Errorf("expect body: %w", err)
		}
		if err := checkTemplates(body, false); err != nil {
			return fmt.Errorf("expect body: %w", err)
		}
	}
	for _, c := range st.Cleanup {
		if err := c.validate(); err != nil {
			return err
		}
	}
	return nil
}

// Format renders the suite the way recorded suites are written: keys of generic objects sorted,
// two-space indentation, no HTML escaping, a trailing newline. Formatting is deterministic, so a
// suite recorded twice against the same behaviour gives the same bytes.
func Format(s *Suite) ([]byte, error) {
	c := *s
	var err error
	if c.Setup, err = canonicalSteps(s.Setup); err != nil {
		return nil, fmt.Errorf("contracts: format %s setup: %w", s.Name, err)
	}
	if c.Teardown, err = canonicalSteps(s.Teardown); err != nil {
		return nil, fmt.Errorf("contracts: format %s teardown: %w", s.Name, err)
	}
	c.Cases = make([]Case, len(s.Cases))
	for i, cs := range s.Cases {
		if cs.Steps, err = canonicalSteps(cs.Steps); err != nil {
			return nil, fmt.Errorf("contracts: format %s case %q: %w", s.Name, cs.Name, err)
		}
		c.Cases[i] = cs
	}
	return encodeJSON(&c, true)
}

// canonicalSteps re-encodes the generic parts of steps (inputs and bodies) with sorted keys and
// exact numbers.
func canonicalSteps(steps []Step) ([]Step, error) {
	if steps == nil {
		return nil, nil
	}
	out := make([]Step, len(steps))
	for i, st := range steps {
		var err error
		if st.Input, err = canonicalRaw(st.Input); err != nil {
			return nil, fmt.Errorf("step %d input: %w", i+1, err)
		}
		if st.Expect.Body, err = canonicalRaw(st.Expect.Body); err != nil {
			return nil, fmt.Errorf("step %d body: %w", i+1, err)
		}
		out[i] = st
	}
	return out, nil
}

// canonicalRaw re-encodes a raw JSON value with sorted keys and exact numbers.
func canonicalRaw(raw json.RawMessage) (json.RawMessage, error) {
	if raw == nil {
		return nil, nil
	}
	v, err := decodeGeneric(raw)
	if err != nil {
		return nil, err
	}
	b, err := encodeJSON(v, false)
	if err != nil {
		return nil, err
	}
	return json.RawMessage(b), nil
}

// decodeGeneric decodes JSON into maps, slices and json.Number; empty input gives nil.
func decodeGeneric(raw []byte) (any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("unexpected data after the JSON value")
	}
	return v, nil
}

// encodeJSON marshals v without HTML escaping; indented output ends with a newline, compact output
// does not.
func encodeJSON(v any, indent bool) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if indent {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	if !indent {
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	}
	return buf.Bytes(), nil
}

// rawOf encodes a generic value as a compact RawMessage.
func rawOf(v any) json.RawMessage {
	b, err := encodeJSON(v, false)
	if err != nil {
		// Generic values built by this package always encode.
		panic(fmt.Sprintf("contracts: encode %T: %v", v, err))
	}
	return b
}
