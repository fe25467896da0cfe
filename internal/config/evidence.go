package config

import (
	"fmt"
	"path/filepath"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// maxRedact bounds shield.evidence.redact: each name is checked against
// every header and query parameter of a sampled request.
const maxRedact = 64

// Defaults fills e's zero fields with the defaults its fields document. The
// edge calls it through Config.Defaults; the evidence package and the
// `rempart evidence` commands call it on a bare section, so that the key
// and head files default to the same paths everywhere.
func (e *Evidence) Defaults() {
	setDefault(&e.MaxBytes, 1<<30)
	setDefault(&e.SampleRate, 0.01)
	setDefault(&e.PerSecond, 100)
	if e.Dir != "" {
		base := filepath.Clean(e.Dir)
		setDefault(&e.KeyFile, base+".key")
		setDefault(&e.HeadFile, base+".head")
	}
}

// validateKeep checks where the key lives and the redacted names. The key
// file need not exist (the edge writes one on first start); its mode and
// length are checked when it is read.
func (e *Evidence) validateKeep(v *validator) {
	if e.Dir != "" && e.KeyFile != "" && inside(e.KeyFile, e.Dir) {
		v.bad("shield.evidence.key_file", e.KeyFile,
			"a file outside shield.evidence.dir (the key must not travel with the log it authenticates)")
	}
	if len(e.Redact) > maxRedact {
		v.bad("shield.evidence.redact", len(e.Redact), fmt.Sprintf("at most %d names", maxRedact))
	}
	for i, name := range e.Redact {
		if len(name) > 64 || !httpguts.ValidHeaderFieldName(name) {
			v.bad(fmt.Sprintf("shield.evidence.redact[%d]", i), name,
				"a header or query parameter name: letters, digits and !#$%&'*+-.^_`|~, such as X-Platform-Id")
		}
	}
}

// inside reports whether path is dir or lies under it.
func inside(path, dir string) bool {
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
