package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/rempart/rempart/internal/siege/report"
)

// Board is the scoreboard: every (scenario, proxy) report found.
type Board struct {
	Proxies   []string // column order within a scenario
	Scenarios []string // row order
	Baseline  string   // scenario with no attack, for the excess origin requests
	// Reports by scenario, then proxy; a missing entry is a run that wrote
	// no report (it failed to start, or was stopped).
	Reports map[string]map[string]*report.Report
}

// Load reads dir/<proxy>/<scenario>.json for every pair; a missing file is
// not an error (the table says "no report"), an unreadable one is.
func (b *Board) Load(dir string) error {
	b.Reports = map[string]map[string]*report.Report{}
	for _, sc := range b.Scenarios {
		b.Reports[sc] = map[string]*report.Report{}
		for _, px := range b.Proxies {
			r, err := readReport(filepath.Join(dir, px, sc+".json"))
			if errors.Is(err, fs.ErrNotExist) {
				continue
			}
			if err != nil {
				return err
			}
			b.Reports[sc][px] = r
		}
	}
	return nil
}

func readReport(path string) (*report.Report, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r report.Report
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if r.Schema != report.Schema {
		return nil, fmt.Errorf("read %s: schema %q, want %q", path, r.Schema, report.Schema)
	}
	return &r, nil
}

// baseline returns the origin requests of proxy's baseline run, if any.
func (b *Board) baseline(proxy string) (float64, bool) {
	r := b.Reports[b.Baseline][proxy]
	if r == nil || r.Origin == nil {
		return 0, false
	}
	return r.Origin.Requests, true
}
