package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// MaxFileBytes is the largest configuration file Load reads: far above any
// real configuration, small enough that a wrong path (a log, a disk image)
// fails at once instead of filling memory.
const MaxFileBytes = 1 << 20

// Load reads the configuration file at path and parses it with Parse.
// Errors about the content are *Error values naming path.
func Load(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("load config: %w", err)
	}
	if len(data) > MaxFileBytes {
		return nil, joinErrors(path, []*Error{{Msg: "larger than 1 MiB: want a YAML configuration file (is this the right path?)"}})
	}
	return Parse(data, path)
}

// Parse decodes data, a YAML configuration named name in errors, fills the
// defaults and validates the result. Decoding is strict: unknown keys,
// values of the wrong type, duplicate keys and a second YAML document are
// errors. All problems found are returned together (errors.Join of *Error).
func Parse(data []byte, name string) (*Config, error) {
	root, err := parseDocument(data)
	if err != nil {
		return nil, joinErrors(name, []*Error{err})
	}
	w := newWalker()
	w.walk(root, configType, "")
	if err := joinErrors(name, w.errs); err != nil {
		return nil, err
	}
	// The walker found nothing wrong; decoding with yaml.v3's own strict
	// mode is the reference, and catches whatever the walker may miss.
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil {
		return nil, joinErrors(name, []*Error{yamlError(err)})
	}
	c.Defaults()
	errs := c.validate()
	for _, e := range errs {
		e.Line = w.lines[e.Key]
	}
	if err := joinErrors(name, errs); err != nil {
		return nil, err
	}
	return &c, nil
}

// parseDocument parses data into a node tree and checks that it holds
// exactly one YAML document.
func parseDocument(data []byte) (*yaml.Node, *Error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{Msg: "the file is empty: want a YAML mapping with at least listen and sites (see rempart.example.yaml)"}
		}
		return nil, yamlError(err)
	}
	var extra yaml.Node
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return &root, nil
	case err != nil:
		return nil, yamlError(err)
	default:
		return nil, &Error{Line: extra.Line, Msg: "a second YAML document (after ---): want exactly one document"}
	}
}

// yamlError turns a yaml.v3 error into an *Error, dropping its "yaml: "
// prefix; its message already carries the line.
func yamlError(err error) *Error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "\n ", "")
	return &Error{Msg: msg}
}

// Quick returns the quick-start configuration: one site "default" that
// answers every Host from originURL, listening on listen ("" takes the
// default), everything else at its default. Errors name the keys the
// values were put in (listen, sites[0].origins[0].url).
func Quick(listen, originURL string) (*Config, error) {
	c := &Config{
		Listen: listen,
		Sites: []Site{{
			Name:    "default",
			Hosts:   []string{"*"},
			Origins: []Origin{{URL: originURL}},
		}},
	}
	c.Defaults()
	if err := joinErrors("quick start", c.validate()); err != nil {
		return nil, err
	}
	return c, nil
}
