package synth

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"
)

// fakeClock is a settable clock for Options.Now.
type fakeClock struct {
	mu sync.Mutex // protects t
	t  time.Time
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testEpoch is a wall time at the start of a loop for every D in 1..10
// (a multiple of 8·9·5·7 seconds after the Unix epoch).
var testEpoch = time.Unix(1_700_000_000-1_700_000_000%2520, 0)

// startServer builds a Server for opts and serves it on a loopback port.
func startServer(t *testing.T, opts Options) (*Server, *httptest.Server) {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New(%+v): %v", opts, err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts
}

// fetch does a request and returns the response with its body read.
func fetch(t *testing.T, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", req.URL, err)
	}
	return resp, body
}

// get fetches url with GET.
func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return fetch(t, req)
}

// packets calls fn for every transport packet of data.
func packets(data []byte, fn func(p tsPacket)) {
	for off := 0; off+tsPacketSize <= len(data); off += tsPacketSize {
		fn(tsPacket(data[off : off+tsPacketSize]))
	}
}

// firstVideoPTS returns the PTS of the first video PES in a segment.
func firstVideoPTS(t *testing.T, seg []byte) int64 {
	t.Helper()
	pts, err := pesPTS(firstPES(seg, 0xE0))
	if err != nil {
		t.Fatalf("first video PTS: %v", err)
	}
	return pts
}

// pcrs returns every PCR base in a segment, in order.
func pcrs(seg []byte) []int64 {
	var out []int64
	packets(seg, func(p tsPacket) {
		if o := p.pcrOffset(); o >= 0 {
			out = append(out, readPCRBase(p[o:]))
		}
	})
	return out
}
