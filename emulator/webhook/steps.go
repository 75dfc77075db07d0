package webhook

import (
	"errors"
	"sort"
	"strings"

	"github.com/dynlocal/dynlocal/emulator/model"
	"github.com/dynlocal/dynlocal/emulator/store"
)

// Step is a registered step whose handler is a webhook.
// Step is a registered sdkmessageprocessingstep whose event handler is a webhook.
type Step struct {
	ID, Name        string
	Message         string
	Entity          string
	Stage, Mode     int
	Rank            int
	Filtering       []string
	AsyncAutoDelete bool
	Endpoint        Endpoint
	Images          []Image
}

// Endpoint is a webhook service endpoint.
type Endpoint struct {
	ID, Name, URL string
	AuthType      int
	// AuthValue is the secret; it never leaves the emulator except to the endpoint itself.
	AuthValue string
}

// Image is an entity image a step asks for.
type Image struct {
	Alias      string
	Type       int // 0 pre, 1 post, 2 both
	Attributes []string
}

// Wants reports whether the step asks for a pre-image (pre) or a post-image.
func (st *Step) Wants(pre bool) bool {
	for _, im := range st.Images {
		if im.Type == 2 || pre && im.Type == 0 || !pre && im.Type == 1 {
			return true
		}
	}
	return false
}

var registrationTables = []string{"sdkmessageprocessingstep", "sdkmessageprocessingstepimage", "serviceendpoint", "sdkmessage", "sdkmessagefilter"}

func (h *Dispatcher) generation() uint64 {
	var g uint64
	for _, t := range registrationTables {
		g += h.cfg.Store.Generation(t)
	}
	return g
}

// Matching returns the enabled webhook steps for a message on an entity, in stage and rank order.
// Registrations are read once per change of the registration tables.
func (h *Dispatcher) Matching(tx *store.Tx, message, entity string, changed model.Row) ([]*Step, error) {
	gen := h.generation()
	h.mu.Lock()
	steps, ok := h.steps, h.loaded && h.gen == gen
	h.mu.Unlock()
	if !ok {
		var err error
		if steps, err = loadSteps(tx); err != nil {
			return nil, err
		}
		h.mu.Lock()
		h.steps, h.gen, h.loaded = steps, gen, true
		h.mu.Unlock()
	}
	var out []*Step
	for _, st := range steps {
		if st.Message != message || st.Entity != "" && st.Entity != entity {
			continue
		}
		if (message == "Update" || message == MessageUpdateMultiple) && len(st.Filtering) > 0 {
			hit := false
			for _, a := range st.Filtering {
				if _, ok := changed[a]; ok {
					hit = true
				}
			}
			if !hit {
				continue
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// loadSteps reads every enabled step whose event handler is a webhook service endpoint.
func loadSteps(tx *store.Tx) ([]*Step, error) {
	sch := tx.Schema()
	se, ok1 := sch.Entity("sdkmessageprocessingstep")
	ep, ok2 := sch.Entity("serviceendpoint")
	msg, ok3 := sch.Entity("sdkmessage")
	if !ok1 || !ok2 || !ok3 {
		return nil, nil
	}
	res, err := tx.Select(&model.Query{Entity: se})
	if err != nil {
		return nil, err
	}
	var out []*Step
	for _, r := range res.Rows {
		row := r.Row
		if state, _ := row["statecode"].(int64); state != 0 {
			continue
		}
		handler, ok := row["eventhandler"].(model.Lookup)
		if !ok || handler.ID == "" {
			continue
		}
		epRow, _, err := tx.Get(ep, handler.ID, nil)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if c, _ := epRow["contract"].(int64); c != 8 {
			continue
		}
		st := &Step{ID: r.ID}
		st.Name, _ = row["name"].(string)
		if l, ok := row["sdkmessageid"].(model.Lookup); ok {
			m, _, err := tx.Get(msg, l.ID, []string{"name"})
			if err == nil {
				st.Message, _ = m["name"].(string)
			}
		}
		if l, ok := row["sdkmessagefilterid"].(model.Lookup); ok && l.ID != "" {
			if fe, ok := sch.Entity("sdkmessagefilter"); ok {
				f, _, err := tx.Get(fe, l.ID, []string{"primaryobjecttypecode"})
				if err == nil {
					st.Entity, _ = f["primaryobjecttypecode"].(string)
				}
			}
		}
		stage, _ := row["stage"].(int64)
		mode, _ := row["mode"].(int64)
		rank, _ := row["rank"].(int64)
		st.Stage, st.Mode, st.Rank = int(stage), int(mode), int(rank)
		if f, _ := row["filteringattributes"].(string); f != "" {
			for _, a := range strings.Split(f, ",") {
				if a = strings.TrimSpace(strings.ToLower(a)); a != "" {
					st.Filtering = append(st.Filtering, a)
				}
			}
		}
		st.AsyncAutoDelete, _ = row["asyncautodelete"].(bool)
		st.Endpoint.ID = handler.ID
		st.Endpoint.Name, _ = epRow["name"].(string)
		st.Endpoint.URL, _ = epRow["url"].(string)
		at, _ := epRow["authtype"].(int64)
		st.Endpoint.AuthType = int(at)
		st.Endpoint.AuthValue, _ = epRow["authvalue"].(string)
		if ie, ok := sch.Entity("sdkmessageprocessingstepimage"); ok {
			ids, err := tx.Referencing(ie, "sdkmessageprocessingstepid", r.ID)
			if err != nil {
				return nil, err
			}
			for _, iid := range ids {
				im, _, err := tx.Get(ie, iid, nil)
				if err != nil {
					return nil, err
				}
				var si Image
				si.Alias, _ = im["entityalias"].(string)
				t, _ := im["imagetype"].(int64)
				si.Type = int(t)
				if a, _ := im["attributes"].(string); a != "" {
					for _, x := range strings.Split(a, ",") {
						if x = strings.TrimSpace(strings.ToLower(x)); x != "" {
							si.Attributes = append(si.Attributes, x)
						}
					}
				}
				st.Images = append(st.Images, si)
			}
		}
		out = append(out, st)
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Stage != out[j].Stage {
			return out[i].Stage < out[j].Stage
		}
		return out[i].Rank < out[j].Rank
	})
	return out, nil
}
