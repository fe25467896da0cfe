package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/rempart/rempart/internal/siege/link"
	"github.com/rempart/rempart/internal/siege/sim"
)

// MaxFileBytes is the largest scenario Load reads: far above any real
// scenario, small enough that a wrong path fails at once.
const MaxFileBytes = 1 << 20

// Bounds on list lengths, so that a hostile file cannot make the runner
// allocate per-population or per-phase state without limit.
const (
	maxPopulations = 64
	maxPhases      = 1000
	maxThresholds  = 1000
)

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

// LoadFile reads the scenario file at path and parses it with Parse.
func LoadFile(path string, models map[string]sim.Model) (*Scenario, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("load scenario: %w", err)
	}
	if len(data) > MaxFileBytes {
		return nil, joinErrors(path, []*Error{{Msg: "larger than 1 MiB: want a YAML scenario (is this the right path?)"}})
	}
	return Parse(data, path, models)
}

// Parse decodes data, a YAML scenario named name in errors, and validates
// it. Decoding is strict: unknown keys, duplicate keys, values of the wrong
// type and a second YAML document are errors naming the key and its line.
// models is the registry of client models; a population's model must be
// one of its keys (nil skips that check). All problems are returned
// together (errors.Join of *Error, each wrapping ErrInvalid).
func Parse(data []byte, name string, models map[string]sim.Model) (*Scenario, error) {
	root, perr := parseDocument(data)
	if perr != nil {
		return nil, joinErrors(name, []*Error{perr})
	}
	d := &decoder{models: models, pops: map[string]int{}}
	s := d.scenario(root)
	if err := joinErrors(name, d.errs); err != nil {
		return nil, err
	}
	return s, nil
}

func parseDocument(data []byte) (*yaml.Node, *Error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Msg: "the file is empty: want a YAML mapping with name, max_duration, max_requests, populations and phases"}
		}
		return nil, yamlError(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, yamlError(err)
	default:
		return nil, &Error{Line: extra.Line, Msg: "a second YAML document (after ---): want exactly one"}
	}
	n := &root
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	return n, nil
}

func yamlError(err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return &Error{Msg: strings.ReplaceAll(msg, "\n ", "")}
}

// decoder walks the node tree, collecting every problem.
type decoder struct {
	errs   []*Error
	models map[string]sim.Model
	pops   map[string]int // population name → index
}

func (d *decoder) fail(n *yaml.Node, key, format string, args ...any) {
	d.errs = append(d.errs, &Error{Line: n.Line, Key: key, Msg: fmt.Sprintf(format, args...)})
}

// mapping calls each for every key of the mapping n, in order, refusing
// keys outside valid (nil: any key) and duplicates. It returns false when n
// is not a mapping.
func (d *decoder) mapping(n *yaml.Node, path string, valid []string, each func(key, kpath string, v *yaml.Node)) bool {
	n = deref(n)
	if n.Kind != yaml.MappingNode {
		what := "a mapping"
		if valid != nil {
			what = "a mapping with keys " + strings.Join(valid, ", ")
		}
		d.fail(n, path, "%s: want %s", describe(n), what)
		return false
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := deref(n.Content[i]), n.Content[i+1]
		kpath := join(path, k.Value)
		switch {
		case k.Kind != yaml.ScalarNode:
			d.fail(k, path, "%s as a key: want a name", describe(k))
		case valid != nil && !slices.Contains(valid, k.Value):
			d.fail(k, path, "unknown key %q (valid keys: %s)", k.Value, strings.Join(valid, ", "))
		case seen[k.Value]:
			d.fail(k, kpath, "given twice")
		default:
			seen[k.Value] = true
			each(k.Value, kpath, v)
		}
	}
	return true
}

func (d *decoder) list(n *yaml.Node, path string, limit int, each func(i int, ipath string, v *yaml.Node)) {
	n = deref(n)
	if n.Kind != yaml.SequenceNode {
		d.fail(n, path, "%s: want a list (- item, or [a, b])", describe(n))
		return
	}
	if len(n.Content) > limit {
		d.fail(n, path, "%d items: want at most %d", len(n.Content), limit)
		return
	}
	for i, v := range n.Content {
		each(i, fmt.Sprintf("%s[%d]", path, i), v)
	}
}

func (d *decoder) str(n *yaml.Node, path string) string {
	n = deref(n)
	var s string
	if n.Kind != yaml.ScalarNode || n.Decode(&s) != nil {
		d.fail(n, path, "%s: want a string", describe(n))
	}
	return s
}

// number decodes a float; ok is false (and a problem recorded) otherwise.
func (d *decoder) number(n *yaml.Node, path string) (float64, bool) {
	n = deref(n)
	var f float64
	if n.Kind != yaml.ScalarNode || n.ShortTag() == "!!str" || n.Decode(&f) != nil {
		d.fail(n, path, "%s: want a number", describe(n))
		return 0, false
	}
	return f, true
}

func (d *decoder) integer(n *yaml.Node, path string) int64 {
	n = deref(n)
	var i int64
	if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
		d.fail(n, path, "%s: want a whole number", describe(n))
	}
	return i
}

// duration parses "30s", "2m"; a bare number is refused because its unit
// would be a guess.
func (d *decoder) duration(n *yaml.Node, path string) time.Duration {
	n = deref(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!str" {
		if v, err := time.ParseDuration(n.Value); err == nil {
			return v
		}
	}
	d.fail(n, path, "%s: want a duration such as 500ms, 30s or 2m", describe(n))
	return 0
}

func deref(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		return fmt.Sprintf("%q", n.Value)
	}
	return "a YAML " + n.ShortTag()
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d *decoder) scenario(root *yaml.Node) *Scenario {
	s := &Scenario{}
	var phases, thresholds *yaml.Node
	keys := []string{"name", "description", "max_duration", "max_requests", "max_clients", "link", "populations", "phases", "thresholds"}
	ok := d.mapping(root, "", keys, func(key, kpath string, v *yaml.Node) {
		switch key {
		case "name":
			s.Name = d.str(v, kpath)
		case "description":
			s.Description = d.str(v, kpath)
		case "max_duration":
			s.MaxDuration = d.duration(v, kpath)
		case "max_requests":
			s.MaxRequests = d.integer(v, kpath)
		case "max_clients":
			s.MaxClients = int(min(d.integer(v, kpath), 1<<31))
		case "link":
			s.Link = d.link(v, kpath)
		case "populations":
			d.populations(s, v)
		case "phases":
			phases = v // after populations, wherever they are in the file
		case "thresholds":
			thresholds = v
		}
	})
	if !ok {
		return s
	}
	d.checkTop(s, root)
	if phases != nil {
		d.list(phases, "phases", maxPhases, func(i int, ipath string, v *yaml.Node) {
			s.Phases = append(s.Phases, d.phase(s, v, ipath))
		})
	}
	if len(s.Phases) == 0 {
		d.fail(root, "phases", "missing: want at least one phase ({name, duration, arrivals})")
	}
	d.checkPhaseNames(s, phases)
	if thresholds != nil {
		d.list(thresholds, "thresholds", maxThresholds, func(i int, ipath string, v *yaml.Node) {
			d.threshold(s, v, ipath)
		})
	}
	return s
}

func (d *decoder) checkTop(s *Scenario, root *yaml.Node) {
	if !nameRE.MatchString(s.Name) {
		d.fail(root, "name", "%q: want a name of lower-case letters, digits, - and _ (at most 64)", s.Name)
	}
	if s.MaxDuration <= 0 || s.MaxDuration > MaxRunDuration {
		d.fail(root, "max_duration", "%s: want a duration above 0s and at most %s (the run's hard cap)", s.MaxDuration, MaxRunDuration)
	}
	if s.MaxRequests <= 0 {
		d.fail(root, "max_requests", "%d: want a whole number above 0 (the run's request budget)", s.MaxRequests)
	}
	if s.MaxClients < 0 {
		d.fail(root, "max_clients", "%d: want 0 (default %d) or more", s.MaxClients, DefaultMaxClients)
	}
	if s.MaxClients == 0 {
		s.MaxClients = DefaultMaxClients
	}
	if len(s.Populations) == 0 {
		d.fail(root, "populations", "missing: want at least one population ({model, role})")
	}
}

func (d *decoder) checkPhaseNames(s *Scenario, phases *yaml.Node) {
	seen := map[string]bool{}
	for i, p := range s.Phases {
		if p.Name != "" && seen[p.Name] {
			d.fail(deref(phases).Content[i], fmt.Sprintf("phases[%d].name", i), "%q: phase names must be unique", p.Name)
		}
		seen[p.Name] = true
	}
}

// link decodes the shared bottleneck: {mbps: 380}.
func (d *decoder) link(n *yaml.Node, path string) Link {
	var l Link
	given := false
	if !d.mapping(n, path, []string{"mbps"}, func(key, kpath string, v *yaml.Node) {
		given = true
		if mbps, ok := d.number(v, kpath); ok {
			if !(mbps > 0 && mbps <= link.MaxMbps) { // also refuses NaN
				d.fail(v, kpath, "%v: want a capacity above 0 and at most %v Mbit/s", mbps, link.MaxMbps)
				return
			}
			l.Mbps = mbps
		}
	}) {
		return l
	}
	if !given {
		d.fail(n, join(path, "mbps"), "missing: want the link's capacity in Mbit/s, e.g. {mbps: 380}")
	}
	return l
}

func (d *decoder) populations(s *Scenario, n *yaml.Node) {
	if m := deref(n); m.Kind == yaml.MappingNode && len(m.Content)/2 > maxPopulations {
		d.fail(m, "populations", "%d populations: want at most %d", len(m.Content)/2, maxPopulations)
		return
	}
	d.mapping(n, "populations", nil, func(name, kpath string, v *yaml.Node) {
		p := d.population(v, kpath)
		p.Name = name
		if !nameRE.MatchString(name) || strings.Contains(name, ".") {
			d.fail(v, kpath, "population name %q: want lower-case letters, digits, - and _ (at most 64)", name)
		} else if name+"." == AdmissionPrefix {
			d.fail(v, kpath, "population name %q: reserved for the admission.* metrics; choose another", name)
		}
		d.pops[name] = len(s.Populations)
		s.Populations = append(s.Populations, p)
	})
}

func (d *decoder) population(n *yaml.Node, path string) Population {
	var p Population
	paramsNode := n
	hasModel, hasRole := false, false
	keys := []string{"model", "role", "lifetime", "params"}
	if !d.mapping(n, path, keys, func(key, kpath string, v *yaml.Node) {
		switch key {
		case "model":
			p.Model, hasModel = d.str(v, kpath), true
			d.checkModel(v, kpath, p.Model)
		case "role":
			p.Role, hasRole = d.str(v, kpath), true
			if p.Role != RoleViewer && p.Role != RoleAttacker {
				d.fail(v, kpath, "%q: want viewer or attacker", p.Role)
			}
		case "lifetime":
			if p.Lifetime = d.duration(v, kpath); p.Lifetime < 0 {
				d.fail(v, kpath, "%s: want 0s (until the run ends) or more", p.Lifetime)
			}
		case "params":
			p.Params = d.params(v, kpath)
			paramsNode = v
		}
	}) {
		return p
	}
	d.checkParams(p, paramsNode, join(path, "params"))
	if !hasModel {
		d.fail(n, join(path, "model"), "missing: want a client model (%s)", d.modelNames())
	}
	if !hasRole {
		d.fail(n, join(path, "role"), "missing: want viewer or attacker")
	}
	return p
}

func (d *decoder) checkModel(v *yaml.Node, path, model string) {
	if d.models == nil {
		return
	}
	if _, ok := d.models[model]; !ok {
		d.fail(v, path, "unknown model %q (known: %s)", model, d.modelNames())
	}
}

// checkParams asks the population's model, when it checks its parameters
// (sim.ParamChecker), whether they are valid; n is where they are written.
func (d *decoder) checkParams(p Population, n *yaml.Node, path string) {
	pc, ok := d.models[p.Model].(sim.ParamChecker)
	if !ok {
		return
	}
	if err := pc.CheckParams(p.Params); err != nil {
		d.fail(n, path, "%v", err)
	}
}

func (d *decoder) modelNames() string {
	if d.models == nil {
		return "live-viewer, get-flood..."
	}
	return strings.Join(slices.Sorted(maps.Keys(d.models)), ", ")
}

func (d *decoder) params(n *yaml.Node, path string) sim.Params {
	if deref(n).Kind != yaml.MappingNode {
		d.fail(n, path, "%s: want a mapping of model parameters", describe(deref(n)))
		return nil
	}
	var p map[string]any
	if err := n.Decode(&p); err != nil {
		d.fail(n, path, "%s", yamlError(err).Msg)
		return nil
	}
	return sim.Params(p)
}

func (d *decoder) phase(s *Scenario, n *yaml.Node, path string) Phase {
	var p Phase
	hasDuration := false
	keys := []string{"name", "duration", "arrivals"}
	if !d.mapping(n, path, keys, func(key, kpath string, v *yaml.Node) {
		switch key {
		case "name":
			p.Name = d.str(v, kpath)
		case "duration":
			p.Duration, hasDuration = d.duration(v, kpath), true
		case "arrivals":
			d.arrivals(&p, v, kpath)
		}
	}) {
		return p
	}
	if !nameRE.MatchString(p.Name) {
		d.fail(n, join(path, "name"), "%q: want a name of lower-case letters, digits, - and _", p.Name)
	}
	if hasDuration && p.Duration <= 0 {
		d.fail(n, join(path, "duration"), "%s: want a duration above 0s", p.Duration)
	} else if !hasDuration {
		d.fail(n, join(path, "duration"), "missing: want a duration such as 30s")
	}
	slices.SortFunc(p.Arrivals, func(a, b Arrival) int { return a.Pop - b.Pop })
	return p
}

func (d *decoder) arrivals(p *Phase, n *yaml.Node, path string) {
	d.mapping(n, path, nil, func(pop, kpath string, v *yaml.Node) {
		i, ok := d.pops[pop]
		if !ok {
			d.fail(v, kpath, "unknown population %q (populations: %s)", pop, strings.Join(slices.Sorted(maps.Keys(d.pops)), ", "))
			return
		}
		if a, ok := d.arrival(v, kpath); ok {
			a.Pop = i
			p.Arrivals = append(p.Arrivals, a)
		}
	})
}

func (d *decoder) arrival(n *yaml.Node, path string) (Arrival, bool) {
	var a Arrival
	given := 0
	ok := d.mapping(n, path, []string{"rate", "ramp"}, func(key, kpath string, v *yaml.Node) {
		given++
		switch key {
		case "rate":
			r, ok := d.number(v, kpath)
			if ok && d.rate(v, kpath, r) {
				a.From, a.To = r, r
			}
		case "ramp":
			d.list(v, kpath, 2, func(i int, ipath string, e *yaml.Node) {
				r, ok := d.number(e, ipath)
				if ok && d.rate(e, ipath, r) {
					if i == 0 {
						a.From = r
					} else {
						a.To = r
					}
				}
			})
			if m := deref(v); m.Kind == yaml.SequenceNode && len(m.Content) != 2 {
				d.fail(v, kpath, "%d numbers: want [from, to] in clients per second", len(m.Content))
			}
		}
	})
	if ok && given != 1 {
		d.fail(n, path, "want exactly one of rate (clients per second) or ramp ([from, to])")
		return a, false
	}
	return a, ok
}

func (d *decoder) rate(n *yaml.Node, path string, r float64) bool {
	if !(r >= 0 && r <= MaxRate) { // also refuses NaN
		d.fail(n, path, "%v: want a rate from 0 to %d clients per second", r, MaxRate)
		return false
	}
	return true
}

func (d *decoder) threshold(s *Scenario, n *yaml.Node, path string) {
	expr := d.str(n, path)
	t, err := ParseThreshold(expr)
	if err != nil {
		d.fail(n, path, "%v", err)
		return
	}
	if t.Pop != "" {
		if _, ok := d.pops[t.Pop]; !ok {
			d.fail(n, path, "%q: unknown population %q in %q (populations: %s)", expr, t.Pop, t.Metric, strings.Join(slices.Sorted(maps.Keys(d.pops)), ", "))
			return
		}
	}
	s.Thresholds = append(s.Thresholds, t)
}
