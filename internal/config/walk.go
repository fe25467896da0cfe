package config

import (
	"fmt"
	"reflect"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// The walker checks a YAML node tree against the schema before it is
// decoded. yaml.v3's strict mode says "field foo not found in type
// config.Site" and stops at the first bad value; the walker instead names
// the key path, lists the valid keys, says what each bad value should look
// like, reports every problem at once, and records the line of each key so
// that Validate's errors can point into the file.

var (
	configType   = reflect.TypeFor[Config]()
	durationType = reflect.TypeFor[time.Duration]()
	byteSizeType = reflect.TypeFor[ByteSize]()
)

type walker struct {
	errs  []*Error
	lines map[string]int // key path → line of the key
	// seen bounds the work on documents that alias the same node many
	// times (a "billion laughs" file): each node is checked once per type.
	seen map[visit]bool
}

type visit struct {
	n *yaml.Node
	t reflect.Type
}

func newWalker() *walker {
	return &walker{lines: map[string]int{}, seen: map[visit]bool{}}
}

func (w *walker) fail(line int, key, msg string) {
	w.errs = append(w.errs, &Error{Line: line, Key: key, Msg: msg})
}

// walk checks n against type t at key path path.
func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n == nil || n.ShortTag() == "!!null" || w.seen[visit{n, t}] {
		return
	}
	w.seen[visit{n, t}] = true
	switch {
	case t == durationType || t == byteSizeType:
		w.leaf(n, t, path)
	case t.Kind() == reflect.Pointer:
		w.walk(n, t.Elem(), path)
	case t.Kind() == reflect.Struct:
		w.structure(n, t, path)
	case t.Kind() == reflect.Slice:
		w.list(n, t, path)
	case t.Kind() == reflect.Map:
		w.dict(n, t, path)
	default:
		w.leaf(n, t, path)
	}
}

// leaf decodes a scalar with yaml.v3 itself, so that what passes here is
// exactly what the real decoding accepts.
func (w *walker) leaf(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind == yaml.ScalarNode && n.Decode(reflect.New(t).Interface()) == nil {
		return
	}
	w.fail(n.Line, path, fmt.Sprintf("%s: want %s", describe(n), wantOf(t)))
}

func (w *walker) structure(n *yaml.Node, t reflect.Type, path string) {
	fields := yamlFields(t)
	if n.Kind != yaml.MappingNode {
		w.fail(n.Line, path, fmt.Sprintf("%s: want a mapping with keys %s", describe(n), keyNames(fields)))
		return
	}
	w.pairs(n, path, func(k, v *yaml.Node) {
		f, ok := fields[k.Value]
		if !ok {
			w.fail(k.Line, "", fmt.Sprintf("unknown key %q %s (valid keys: %s)", k.Value, where(path), keyNames(fields)))
			return
		}
		w.walk(v, f.typ, join(path, k.Value))
	}, func(n *yaml.Node) { w.structure(n, t, path) })
}

func (w *walker) list(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.SequenceNode {
		w.fail(n.Line, path, fmt.Sprintf("%s: want a list (- item, or [a, b])", describe(n)))
		return
	}
	for i, item := range n.Content {
		p := fmt.Sprintf("%s[%d]", path, i)
		w.lines[p] = item.Line
		w.walk(item, t.Elem(), p)
	}
}

func (w *walker) dict(n *yaml.Node, t reflect.Type, path string) {
	if n.Kind != yaml.MappingNode {
		w.fail(n.Line, path, fmt.Sprintf("%s: want a mapping", describe(n)))
		return
	}
	w.pairs(n, path, func(k, v *yaml.Node) {
		w.walk(v, t.Elem(), join(path, k.Value))
	}, func(n *yaml.Node) { w.dict(n, t, path) })
}

// pairs calls each for every key and value of the mapping n, reporting
// duplicate and non-scalar keys, and merge for the mappings merged in with
// "<<".
func (w *walker) pairs(n *yaml.Node, path string, each func(k, v *yaml.Node), merge func(*yaml.Node)) {
	first := map[string]int{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind != yaml.ScalarNode {
			w.fail(k.Line, "", fmt.Sprintf("%s as a key %s: want a plain name", describe(k), where(path)))
			continue
		}
		if k.ShortTag() == "!!merge" {
			w.merged(v, merge)
			continue
		}
		if line, dup := first[k.Value]; dup {
			w.fail(k.Line, join(path, k.Value), fmt.Sprintf("given twice (first at line %d): want each key once", line))
			continue
		}
		first[k.Value] = k.Line
		w.lines[join(path, k.Value)] = k.Line
		each(k, v)
	}
}

// merged checks the value of a "<<" merge key: a mapping or a list of them.
func (w *walker) merged(v *yaml.Node, merge func(*yaml.Node)) {
	if v.Kind == yaml.AliasNode && v.Alias != nil {
		v = v.Alias
	}
	items := []*yaml.Node{v}
	if v.Kind == yaml.SequenceNode {
		items = v.Content
	}
	for _, m := range items {
		if m.Kind == yaml.AliasNode && m.Alias != nil {
			m = m.Alias
		}
		if m.Kind != yaml.MappingNode {
			w.fail(m.Line, "", "<< merges a mapping: want a mapping or a list of mappings")
			continue
		}
		if !w.seen[visit{m, nil}] {
			w.seen[visit{m, nil}] = true
			merge(m)
		}
	}
}

// field is one yaml key of a struct.
type field struct {
	index int
	typ   reflect.Type
}

// yamlFields maps the yaml keys of struct type t to its fields.
func yamlFields(t reflect.Type) map[string]field {
	m := make(map[string]field, t.NumField())
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		m[name] = field{i, f.Type}
	}
	return m
}

// keyNames lists the keys of fields in declaration order.
func keyNames(fields map[string]field) string {
	names := make([]string, len(fields))
	for name, f := range fields {
		names[f.index] = name
	}
	return strings.Join(compact(names), ", ")
}

func compact(s []string) []string {
	out := s[:0]
	for _, v := range s {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func where(path string) string {
	if path == "" {
		return "at the top level"
	}
	return "in " + path
}

// describe names a node's value for an error message.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	v := n.Value
	if len(v) > 64 {
		v = v[:64] + "..."
	}
	return fmt.Sprintf("%q", v)
}

// wantOf says what a value of type t looks like.
func wantOf(t reflect.Type) string {
	switch {
	case t == durationType:
		return "a duration such as 5s, 250ms or 1m30s (zero is 0s)"
	case t == byteSizeType:
		return "a size such as 256MiB, 1GiB or 4096 (units B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)"
	case t.Kind() == reflect.Bool:
		return "true or false"
	case t.Kind() == reflect.Int:
		return "an integer"
	case t.Kind() == reflect.Float64:
		return "a number such as 0.01 or 30"
	case t.Kind() == reflect.String:
		return "a string"
	}
	return t.String()
}
