package report_test

import (
	"strings"
	"testing"

	"github.com/rempart/rempart/internal/siege/report"
)

// TestWriteHTMLShowsLinkAndHolds: a run through a shared link shows the
// link in the summary and its own plot; waiting-room holds show next to
// the requests and stay out of the error share.
func TestWriteHTMLShowsLinkAndHolds(t *testing.T) {
	r := Synthetic(30)
	r.Link = &report.Link{Mbps: 380, Bytes: 1_200_000_000, MeanMbps: 320, Utilization: 320.0 / 380, PeakMbps: 379.5, FullSeconds: 12, DelayS: 42}
	for i := range r.Series {
		v := 100.0 + float64(i)
		r.Series[i].LinkMbps = &v
	}
	r.Pops[0].Requests, r.Pops[0].Held, r.Pops[0].Errors = 1000, 600, 4
	page := render(t, r)
	selfContained(t, page)
	for _, w := range []string{
		`<dt>Link</dt><dd id="link">380 Mb/s shared by the viewers · carried 1.2 GB, mean 320 Mb/s (84.21% of capacity)`,
		`<figure id="plot-link">`, ">capacity</text>",
		"600 held in a waiting room", "1.00%", // 4 errors of the 400 requests not held
	} {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	r.Link = nil
	if page := render(t, r); strings.Contains(page, `id="plot-link"`) || strings.Contains(page, "<dt>Link</dt>") {
		t.Error("a run without a link shows one")
	}
}

func TestErrorRatio(t *testing.T) {
	for _, c := range []struct {
		errs, reqs, held int64
		want             float64
	}{
		{0, 0, 0, 0}, {1, 10, 0, 0.1}, {1, 10, 8, 0.5}, {0, 10, 10, 0}, {1, 1, 1, 0},
	} {
		if got := report.ErrorRatio(c.errs, c.reqs, c.held); got != c.want {
			t.Errorf("ErrorRatio(%d, %d, %d) = %v, want %v", c.errs, c.reqs, c.held, got, c.want)
		}
	}
}
