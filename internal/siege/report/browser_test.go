package report_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/rempart/rempart/internal/browsertest"
	"github.com/rempart/rempart/internal/siege/report"
)

// figureBox is what the browser says of one figure's plot.
type figureBox struct {
	ID     string  `json:"id"`
	Width  float64 `json:"width"`
	Height float64 `json:"height"`
	Paths  int     `json:"paths"` // series paths with a non-empty box
	Texts  int     `json:"texts"` // labels: ticks, phases, legend
}

const figureBoxes = `[...document.querySelectorAll('figure')].map(f => {
  const svg = f.querySelector('svg.chart'), r = svg.getBoundingClientRect();
  const drawn = [...svg.querySelectorAll('g.series path')].filter(p => {
    const b = p.getBBox(); return b.width > 0 || b.height > 0; });
  return {id: f.id, width: r.width, height: r.height, paths: drawn.length,
    texts: svg.querySelectorAll('text').length};
})`

// TestHTMLInBrowser opens the page of a realistic run in Chromium, checks
// that every plot is laid out and drawn, and leaves screenshots to look at.
func TestHTMLInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser (-short)")
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	writeReport(t, page, Synthetic(120))

	ctx := browsertest.New(t)
	browsertest.Navigate(t, ctx, "file://"+page)

	if got := browsertest.Text(t, ctx, "#verdict strong"); got != "✗ FAIL" {
		t.Errorf("verdict = %q, want ✗ FAIL", got)
	}
	boxes := browsertest.Eval[[]figureBox](t, ctx, figureBoxes)
	if len(boxes) != 7 {
		t.Errorf("%d figures, want 7: %+v", len(boxes), boxes)
	}
	for _, b := range boxes {
		if b.Width < 600 || b.Height < 200 || b.Paths == 0 || b.Texts < 10 {
			t.Errorf("figure %s: %.0f×%.0f px, %d drawn paths, %d labels; want a visible, drawn plot",
				b.ID, b.Width, b.Height, b.Paths, b.Texts)
		}
	}
	if w := browsertest.Eval[int](t, ctx, "document.documentElement.scrollWidth"); w > browsertest.Width {
		t.Errorf("page is %d px wide, wider than the %d px window", w, browsertest.Width)
	}
	if msgs := browsertest.Messages(ctx); len(msgs) > 0 {
		t.Errorf("console messages (a blocked load or script?): %q", msgs)
	}
	screenshots(t, ctx, boxes)

	t.Run("long run", func(t *testing.T) {
		page := filepath.Join(dir, "long.html")
		writeReport(t, page, Synthetic(3*3600))
		browsertest.Navigate(t, ctx, "file://"+page)
		for _, b := range browsertest.Eval[[]figureBox](t, ctx, figureBoxes) {
			if b.Paths == 0 {
				t.Errorf("figure %s of a long run draws nothing", b.ID)
			}
		}
		browsertest.Eval[bool](t, ctx, "document.getElementById('plot-states').scrollIntoView(), true")
		browsertest.Screenshot(t, ctx, filepath.Join(artifacts(t), "siege-report-long-run.png"))
	})
	t.Run("admission", func(t *testing.T) {
		page := filepath.Join(dir, "admission.html")
		writeReport(t, page, withAdmission(Synthetic(120)))
		browsertest.Navigate(t, ctx, "file://"+page)
		boxes := browsertest.Eval[[]figureBox](t, ctx, figureBoxes)
		if i := slices.IndexFunc(boxes, func(b figureBox) bool { return b.ID == "plot-admission" }); i < 0 || boxes[i].Paths < 2 {
			t.Errorf("figures %+v: want the waiting room drawn, two lines", boxes)
		}
		if w := browsertest.Eval[int](t, ctx, "document.documentElement.scrollWidth"); w > browsertest.Width {
			t.Errorf("page is %d px wide, wider than the %d px window", w, browsertest.Width)
		}
		browsertest.Eval[bool](t, ctx, "document.getElementById('admission').scrollIntoView(), true")
		browsertest.Screenshot(t, ctx, filepath.Join(artifacts(t), "siege-report-admission.png"))
		browsertest.Eval[bool](t, ctx, "document.getElementById('plot-admission').scrollIntoView(), true")
		browsertest.Screenshot(t, ctx, filepath.Join(artifacts(t), "siege-report-plot-admission.png"))
	})
	t.Run("empty run", func(t *testing.T) {
		page := filepath.Join(dir, "empty.html")
		writeReport(t, page, &report.Report{Scenario: "nothing happened", Stopped: "interrupted"})
		browsertest.Navigate(t, ctx, "file://"+page)
		if got := browsertest.Text(t, ctx, "#plots p"); !strings.HasPrefix(got, "Nothing to plot") {
			t.Errorf("plots section says %q, want it to say there is nothing to plot", got)
		}
		browsertest.Screenshot(t, ctx, filepath.Join(artifacts(t), "siege-report-empty.png"))
	})
}

// artifacts is where screenshots go: $REMPART_ARTIFACTS, or a temporary
// directory.
func artifacts(t *testing.T) string {
	if dir := os.Getenv("REMPART_ARTIFACTS"); dir != "" {
		return dir
	}
	return t.TempDir()
}

// screenshots saves the top of the page, then each figure scrolled to the top.
func screenshots(t *testing.T, ctx context.Context, boxes []figureBox) {
	dir := artifacts(t)
	browsertest.Screenshot(t, ctx, filepath.Join(dir, "siege-report-top.png"))
	browsertest.Eval[bool](t, ctx, "document.querySelector('#populations').scrollIntoView(), true")
	browsertest.Screenshot(t, ctx, filepath.Join(dir, "siege-report-tables.png"))
	for i := 0; i < len(boxes); i += 2 {
		browsertest.Eval[bool](t, ctx, fmt.Sprintf("document.getElementById(%q).scrollIntoView(), true", boxes[i].ID))
		browsertest.Screenshot(t, ctx, filepath.Join(dir, "siege-report-"+boxes[i].ID+".png"))
	}
}

func writeReport(t *testing.T, path string, r *report.Report) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := report.WriteHTML(f, r); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}
