package telemetry

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
	"time"
)

func TestStatsObserve(t *testing.T) {
	s := NewStats(1000, 30*time.Second)
	now := time.Unix(1000, 0)
	recs := []Record{
		{Class: ClassSegment, Outcome: OutcomeHit, Stage: StageCache, Bytes: 100, Status: 200, Client: netip.MustParseAddr("127.0.0.2")},
		{Class: ClassSegment, Outcome: OutcomeMiss, Stage: StageCache, Bytes: 50, Status: 200, Client: netip.MustParseAddr("127.0.0.3")},
		{Class: ClassMedia, Outcome: OutcomeCoalesced, Stage: StageCache, Status: 200, Client: netip.MustParseAddr("127.0.0.2")},
		{Class: ClassAPI, Outcome: OutcomePass, Stage: StageCache, Status: 200, Client: netip.MustParseAddr("127.0.0.9")},
		{Class: ClassSegment, Outcome: OutcomeRefused, Stage: "filter", Status: 429, Client: netip.MustParseAddr("127.0.0.10")},
		// The challenge page, asked as a document for a segment: 200, but
		// the edge's own page.
		{Class: ClassSegment, Outcome: OutcomeRefused, Stage: "challenge", Status: 200, Client: netip.MustParseAddr("127.0.0.11")},
	}
	for i := range recs {
		recs[i].Start = now.Add(-time.Millisecond)
		s.Observe(&recs[i], now)
	}
	all, cached, origin := s.Totals()
	if all != 6 || cached != 2 || origin != 2 {
		t.Fatalf("Totals = %d, %d, %d; want 6, 2, 2", all, cached, origin)
	}
	if got := s.Bytes(ClassSegment); got != 150 {
		t.Errorf("segment bytes = %d, want 150", got)
	}
	// Only live media objects the cache served count as viewers.
	if n, sat := s.Viewers.Count(now); n != 2 || sat {
		t.Errorf("viewers = %d (saturated %v), want 2", n, sat)
	}
	if n, _ := s.Viewers.Count(now.Add(time.Minute)); n != 0 {
		t.Errorf("viewers after the window = %d, want 0", n)
	}
}

// TestServedObject: only the cache's answers with the object itself
// (2xx, 304) are objects served; the edge's own pages are not, whatever
// their status.
func TestServedObject(t *testing.T) {
	tests := []struct {
		name   string
		stage  string
		status int
		want   bool
	}{
		{"hit", StageCache, 200, true},
		{"range", StageCache, 206, true},
		{"revalidated", StageCache, 304, true},
		{"origin redirect", StageCache, 302, false},
		{"origin not found", StageCache, 404, false},
		{"origin failing", StageCache, 502, false},
		{"challenge page", "challenge", 200, false},
		{"waiting room", "admission", 200, false},
		{"degraded redirect", "admission", 302, false},
		{"no stage", "", 200, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Record{Stage: tt.stage, Status: tt.status, Class: ClassSegment}
			if got := r.ServedObject(); got != tt.want {
				t.Errorf("ServedObject() = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestViewersBounded(t *testing.T) {
	v := NewViewers(64, time.Minute)
	now := time.Unix(5000, 0)
	for i := range 10000 {
		v.Seen(netip.AddrFrom4([4]byte{127, byte(i >> 16), byte(i >> 8), byte(i)}), now)
	}
	n, sat := v.Count(now)
	if !sat || n > 64+viewerShards {
		t.Fatalf("Count = %d saturated=%v; want a bounded, saturated table", n, sat)
	}
}

func TestWriterCountsAndCarriesRecord(t *testing.T) {
	rr := httptest.NewRecorder()
	tw := NewWriter(rr, time.Unix(1, 0))
	defer tw.Release()
	RecordOf(tw).Decide("cache", OutcomeHit, "")
	tw.WriteHeader(http.StatusPartialContent)
	tw.Write([]byte("hello"))
	if tw.Rec.Status != 206 || tw.Rec.Bytes != 5 || tw.Rec.Outcome != OutcomeHit {
		t.Fatalf("record = %+v", tw.Rec)
	}
	if RecordOf(rr) == nil {
		t.Fatal("RecordOf on a plain writer must return a throwaway record")
	}
}

func TestClassNames(t *testing.T) {
	for _, n := range ClassNames() {
		c, err := ParseClass(n)
		if err != nil || c.String() != n {
			t.Errorf("ParseClass(%q) = %v, %v", n, c, err)
		}
	}
	if _, err := ParseClass("segments"); err == nil {
		t.Error("ParseClass accepted an unknown name")
	}
}

func TestHistogram(t *testing.T) {
	var h Histogram
	h.Observe(300 * time.Microsecond)
	h.Observe(3 * time.Millisecond)
	h.Observe(time.Minute)
	b, n, sum := h.Snapshot()
	if n != 3 || b[0.0005] != 1 || b[0.005] != 2 || b[10] != 2 || sum < 60 {
		t.Fatalf("snapshot = %v %d %f", b, n, sum)
	}
}

func BenchmarkObserve(b *testing.B) {
	s := NewStats(100000, 30*time.Second)
	now := time.Now()
	r := Record{Class: ClassSegment, Outcome: OutcomeHit, Stage: StageCache, Status: 200, Start: now, Client: netip.MustParseAddr("127.0.0.1")}
	b.ReportAllocs()
	for b.Loop() {
		s.Observe(&r, now)
	}
}

func TestViewersRecent(t *testing.T) {
	v := NewViewers(100, 30*time.Second)
	a, b := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")
	now := time.Unix(1000, 0)
	v.Seen(a, now)
	if !v.Recent(a, now.Add(29*time.Second)) || v.Recent(a, now.Add(31*time.Second)) || v.Recent(b, now) {
		t.Fatal("Recent must hold for a viewer seen within the window only")
	}
}

// TestRefuseAllocatesNothing: refusing is the common path under a flood.
// Stages refuse into the edge's Writer.
func TestRefuseAllocatesNothing(t *testing.T) {
	w := httptest.NewRecorder()
	tw := NewWriter(w, time.Unix(1000, 0))
	defer tw.Release()
	allocs := testing.AllocsPerRun(100, func() {
		clear(w.Header())
		tw.wroteHeader = false
		Refuse(tw, "filter", OutcomeRefused, "rate_limited", 429, "too many requests", 7)
	})
	if allocs > 0 {
		t.Fatalf("Refuse allocates %.0f times per call", allocs)
	}
	if got := w.Header().Get("Retry-After"); got != "7" {
		t.Fatalf("Retry-After = %q", got)
	}
}
