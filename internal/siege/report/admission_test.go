package report_test

import (
	"strings"
	"testing"

	"github.com/rempart/rempart/internal/siege/report"
)

// withAdmission adds a waiting room's account to a synthetic report.
func withAdmission(r *report.Report) *report.Report {
	r.Admission = &report.Admission{
		Viewers: 2400, AdmittedDirectly: 200, Queued: 2200, AdmittedFromQueue: 900, StillWaiting: 1290, GaveUp: 10,
		NotAdmitted: 1300, Refused: 3, Limited: 4, Requeued: 1,
		QueueTime:    report.Spread{Count: 900, P50: 41.5, P95: 118, Max: 131},
		FIFO:         report.FIFO{Measured: true, Sequenced: 1100, Violations: 2, ViewersInvolved: 3},
		WaitAccuracy: report.WaitAccuracy{Count: 900, Within: 873, WithinRatio: 0.97, ErrorP50: 0.081, ErrorP95: 0.27},
		Playback:     report.Playback{Viewers: 1095, StallFree: 1095, StallFreeRatio: 1, UnstartedAtEnd: 5, MeanBitrate: 812e3},
		Renditions: []report.RenditionShare{{Rendition: "/live/240p/index.m3u8", Bandwidth: 407772, Seconds: 100, Share: 0.1},
			{Rendition: "/live/360p/index.m3u8", Bandwidth: 778884, Seconds: 900, Share: 0.9}},
	}
	for i := range r.Series {
		r.Series[i].Admitted = int64(i % 4)
	}
	return r
}

func TestWriteHTMLAdmission(t *testing.T) {
	page := render(t, withAdmission(Synthetic(60)))
	selfContained(t, page)
	for _, w := range []string{
		`<section id="admission">`, "Admitted from the queue", "900", "40.91% of the queued", "1,290",
		"FIFO violations", "<b>2</b>", "3 viewers involved, 1,100 sequenced",
		"41.5s / 1m58s / 2m11s", "<b>97.00%</b>", "error p50 8.1%, p95 27%",
		"<b>100.00%</b>", "1,095 of 1,095; 5 cut by the end", "812 kb/s",
		"/live/360p/index.m3u8 (779 kb/s) 90.00%",
		`<figure id="plot-admission">`, ">admitted that second</text>",
	} {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	// Nothing to judge: dashes, and the reason FIFO was not measured.
	r := withAdmission(Synthetic(20))
	r.Admission.FIFO = report.FIFO{}
	r.Admission.WaitAccuracy, r.Admission.QueueTime, r.Admission.Playback = report.WaitAccuracy{}, report.Spread{}, report.Playback{}
	r.Admission.Renditions = nil
	r.Admission.Renditions = append(r.Admission.Renditions, report.RenditionShare{Rendition: "<script>x</script>", Share: 1})
	page = render(t, r)
	selfContained(t, page)
	for _, w := range []string{"not measured: no admitted viewer was told X-Rempart-Admitted", "&lt;script&gt;x&lt;/script&gt;"} {
		if !strings.Contains(page, w) {
			t.Errorf("page lacks %q", w)
		}
	}
	// Without the section: no table, no plot.
	if page := render(t, Synthetic(20)); strings.Contains(page, `id="admission"`) || strings.Contains(page, "plot-admission") {
		t.Error("admission shown for a run without it")
	}
}
