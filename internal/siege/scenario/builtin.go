package scenario

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"

	"github.com/rempart/rempart/internal/siege/sim"
)

//go:embed builtin/*.yaml
var builtinFS embed.FS

// Info names a built-in scenario for --list.
type Info struct {
	Name        string
	Description string
}

// Builtins lists the built-in scenarios, sorted by name, with their
// descriptions.
func Builtins() []Info {
	var out []Info
	for _, name := range builtinNames() {
		data, _ := builtinFS.ReadFile("builtin/" + name + ".yaml")
		s, err := Parse(data, name+".yaml", nil)
		desc := ""
		if err == nil {
			desc = s.Description
		}
		out = append(out, Info{Name: name, Description: desc})
	}
	return out
}

// Builtin returns the YAML of the built-in scenario name.
func Builtin(name string) ([]byte, bool) {
	if !slices.Contains(builtinNames(), name) {
		return nil, false
	}
	data, err := builtinFS.ReadFile("builtin/" + name + ".yaml")
	return data, err == nil
}

func builtinNames() []string {
	entries, _ := fs.ReadDir(builtinFS, "builtin")
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, strings.TrimSuffix(e.Name(), path.Ext(e.Name())))
	}
	return names
}

// Load returns the scenario ref names: a built-in scenario's name
// ("kickoff"), or the path of a YAML file (anything with a slash or a
// .yaml/.yml suffix).
func Load(ref string, models map[string]sim.Model) (*Scenario, error) {
	if strings.ContainsAny(ref, `/\`) || strings.HasSuffix(ref, ".yaml") || strings.HasSuffix(ref, ".yml") {
		return LoadFile(ref, models)
	}
	data, ok := Builtin(ref)
	if !ok {
		return nil, joinErrors("", []*Error{{Msg: fmt.Sprintf("no built-in scenario %q (built-in: %s; or give a .yaml path)",
			ref, strings.Join(builtinNames(), ", "))}})
	}
	return Parse(data, "builtin:"+ref, models)
}
