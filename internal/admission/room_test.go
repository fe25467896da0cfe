package admission

import (
	"fmt"
	"net/http"
	"testing"
	"time"
)

func TestAdmitsUpToCapacityThenQueues(t *testing.T) {
	f := newFixture(t, testConfig(2))
	a, b, c := newViewer("192.0.2.1"), newViewer("198.51.100.1"), newViewer("203.0.113.1")
	for i, v := range []*viewer{a, b} {
		rp := f.get(v, "/live/master.m3u8")
		if rp.code != http.StatusOK || rp.body != "served" || rp.admitted != fmt.Sprint(i+1) || v.session == "" {
			t.Fatalf("viewer %d: %d %q admitted %q session %q, want 200 served, admitted %d with a session", i, rp.code, rp.body, rp.admitted, v.session, i+1)
		}
		if len(rp.header.Values("Set-Cookie")) != 1 {
			t.Errorf("viewer %d: want the session cookie, got %q", i, rp.header.Values("Set-Cookie"))
		}
	}
	rp := f.get(c, "/live/master.m3u8")
	if rp.code != http.StatusServiceUnavailable || rp.answer.Status != "queued" || rp.answer.Number != 1 ||
		rp.answer.Position != 1 || c.ticket == "" || rp.header.Get("Retry-After") == "" {
		t.Fatalf("third viewer: %d %+v, want 503 queued number 1 position 1 with a ticket and Retry-After", rp.code, rp.answer)
	}
	// Admitted viewers keep their place however many come.
	for i := range 50 {
		f.get(newViewer(fmt.Sprintf("10.0.%d.1", i)), "/live/master.m3u8")
	}
	for _, v := range []*viewer{a, b} {
		if rp := f.get(v, "/live/seg1.ts"); rp.code != http.StatusOK || rp.admitted != "" {
			t.Errorf("admitted viewer: %d (admitted %q), want 200 without a new admission", rp.code, rp.admitted)
		}
	}
	if got := f.room.Snapshot(f.clk.now()); got.Sessions != 2 || got.Waiting != 51 {
		t.Errorf("snapshot %+v, want 2 sessions and 51 waiting", got)
	}
}

func TestIdleSessionFreesItsPlaceForTheHeadOfTheLine(t *testing.T) {
	f := newFixture(t, testConfig(1))
	a, b, c := newViewer("192.0.2.1"), newViewer("198.51.100.1"), newViewer("203.0.113.1")
	f.get(a, "/m.m3u8")
	f.get(b, "/m.m3u8")
	f.get(c, "/m.m3u8")
	// a keeps watching for a while: its place stays taken.
	for range 5 {
		f.tick(10 * time.Second)
		if rp := f.get(a, "/m.m3u8"); rp.code != http.StatusOK {
			t.Fatalf("watching viewer refused: %d", rp.code)
		}
		if rp := f.get(b, "/m.m3u8"); rp.code != http.StatusServiceUnavailable {
			t.Fatalf("waiting viewer got %d while the place is taken", rp.code)
		}
		f.get(c, "/m.m3u8")
	}
	// a leaves: after session_idle (30s) its place goes to b, not c.
	f.tick(31 * time.Second)
	if rp := f.get(c, "/m.m3u8"); rp.code != http.StatusServiceUnavailable || rp.answer.Position != 1 {
		t.Fatalf("second in line: %d %+v, want 503 at position 1 (b's place is held)", rp.code, rp.answer)
	}
	if rp := f.get(b, "/m.m3u8"); rp.code != http.StatusOK || rp.admitted != "2" {
		t.Fatalf("head of line: %d admitted %q, want 200 admitted 2", rp.code, rp.admitted)
	}
	if rp := f.get(a, "/m.m3u8"); rp.code != http.StatusServiceUnavailable {
		t.Errorf("ended session: %d, want it to queue anew (503)", rp.code)
	}
}

func TestFIFOOrderAsPlacesFree(t *testing.T) {
	f := newFixture(t, testConfig(1))
	first := newViewer("192.0.2.1")
	f.get(first, "/m.m3u8")
	var line []*viewer
	for i := range 20 {
		v := newViewer(fmt.Sprintf("10.%d.0.1", i))
		f.get(v, "/m.m3u8")
		line = append(line, v)
	}
	for i, v := range line {
		f.tick(31 * time.Second) // the place's holder left
		for j, w := range line[i+1:] {
			if rp := f.get(w, "/m.m3u8"); rp.code != http.StatusServiceUnavailable || rp.answer.Position != j+1 {
				t.Fatalf("round %d: viewer %d got %d position %d, want 503 position %d (the head holds a granted place)", i, i+1+j, rp.code, rp.answer.Position, j+1)
			}
		}
		if rp := f.get(v, "/m.m3u8"); rp.code != http.StatusOK || rp.admitted != fmt.Sprint(i+2) {
			t.Fatalf("round %d: head got %d admitted %q, want 200 admitted %d", i, rp.code, rp.admitted, i+2)
		}
	}
}
