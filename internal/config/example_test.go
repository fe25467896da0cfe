package config

import (
	"os"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const (
	examplePath = "../../rempart.example.yaml"
	docsPath    = "../../docs/configuration.md"
	// mapKey stands for any key of a map (the class names in classes).
	mapKey = "<class>"
)

// schemaPaths lists the key path of every yaml key in type t, in
// declaration order: "sites[].upstream.retries", "sites[].classes.<class>.ttl".
func schemaPaths(t reflect.Type, prefix string) []string {
	var paths []string
	for i := range t.NumField() {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			continue
		}
		p := join(prefix, name)
		paths = append(paths, p)
		ft := t.Field(i).Type
		switch {
		case ft.Kind() == reflect.Struct:
			paths = append(paths, schemaPaths(ft, p)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			paths = append(paths, schemaPaths(ft.Elem(), p+"[]")...)
		case ft.Kind() == reflect.Map && ft.Elem().Kind() == reflect.Struct:
			paths = append(paths, schemaPaths(ft.Elem(), p+"."+mapKey)...)
		}
	}
	return paths
}

var (
	listIndex = regexp.MustCompile(`\[\d+\]`)
	classKey  = regexp.MustCompile(`\.classes\.[^.]+`)
)

// schemaPath turns a concrete key path into its schema path.
func schemaPath(p string) string {
	return classKey.ReplaceAllString(listIndex.ReplaceAllString(p, "[]"), ".classes."+mapKey)
}

func readExample(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestExampleLoads loads the example as shipped: it must pass as is, since
// the README tells people to run `rempart config check` on it.
func TestExampleLoads(t *testing.T) {
	c, err := Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Sites) != 2 {
		t.Errorf("example has %d sites, want 2", len(c.Sites))
	}
}

func TestExampleHasEveryKey(t *testing.T) {
	root, perr := parseDocument(readExample(t))
	if perr != nil {
		t.Fatal(perr)
	}
	w := newWalker()
	w.walk(root, configType, "")
	seen := map[string]bool{}
	for p := range w.lines {
		seen[schemaPath(p)] = true
	}
	for _, p := range schemaPaths(configType, "") {
		if !seen[p] {
			t.Errorf("%s is not in %s: add it with a comment line (meaning, unit, default)", p, examplePath)
		}
	}
}

// TestExampleDocumentsEveryKey checks that the first use of every key in
// the example has a comment: above it, after it, or above its list item.
func TestExampleDocumentsEveryKey(t *testing.T) {
	var root yaml.Node
	if err := yaml.Unmarshal(readExample(t), &root); err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			walk(n.Content[0], path)
		case yaml.SequenceNode:
			for _, item := range n.Content {
				walk(item, path+"[]")
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				p := schemaPath(join(path, k.Value))
				if _, done := documented[p]; !done {
					documented[p] = k.HeadComment != "" || k.LineComment != "" || v.LineComment != "" ||
						(i == 0 && n.HeadComment != "")
				}
				walk(v, join(path, k.Value))
			}
		}
	}
	walk(&root, "")
	for _, p := range schemaPaths(configType, "") {
		if ok, found := documented[p]; found && !ok {
			t.Errorf("%s: the first %s has no comment line (meaning, unit, default)", examplePath, p)
		}
	}
}

func TestDocsCoverEveryKey(t *testing.T) {
	data, err := os.ReadFile(docsPath)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range schemaPaths(configType, "") {
		if !strings.Contains(string(data), "`"+p+"`") {
			t.Errorf("%s does not document `%s`", docsPath, p)
		}
	}
}
