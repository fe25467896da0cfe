package report

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
)

// ErrNoReport is returned by WriteHTML when given a nil report.
var ErrNoReport = errors.New("report: no report")

//go:embed report.html.tmpl
var pageTemplate string

// tmpl is parsed once; a broken template is a programming error, caught by
// any test that renders.
var tmpl = template.Must(template.New("report").Parse(pageTemplate))

// WriteHTML writes r as one self-contained HTML page: the verdict and its
// thresholds, a summary of each population, and plots over time drawn as
// inline SVG. The page loads nothing and runs no script, so it can be
// archived, mailed or printed as is. Every string from the report (scenario,
// population and phase names, thresholds) is escaped. Nothing is written if
// the page cannot be rendered.
func WriteHTML(w io.Writer, r *Report) error {
	if r == nil {
		return ErrNoReport
	}
	var buf bytes.Buffer
	if err := tmpl.Execute(&buf, newPage(r)); err != nil {
		return fmt.Errorf("render html report: %w", err)
	}
	if _, err := buf.WriteTo(w); err != nil {
		return fmt.Errorf("write html report: %w", err)
	}
	return nil
}
