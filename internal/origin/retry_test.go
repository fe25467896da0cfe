package origin

import (
	"net/http"
	"sync/atomic"
	"testing"
)

// failFirst answers code to the first n requests, then 200.
func failFirst(n int64, code int) http.HandlerFunc {
	var seen atomic.Int64
	return func(w http.ResponseWriter, _ *http.Request) {
		if seen.Add(1) <= n {
			w.WriteHeader(code)
			w.Write([]byte("origin trouble"))
		}
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name        string
		first       http.HandlerFunc // nil: a closed port
		second      http.HandlerFunc // nil: only one origin
		retries     int
		method      string
		body        string
		wantStatus  int // 0: want an error
		wantHits    [2]int64
		wantRetries uint64
	}{
		{"503 then success", failFirst(1, 503), nil, 1, "GET", "", 200, [2]int64{2, 0}, 1},
		{"504 twice, retries 1", failFirst(2, 504), nil, 1, "GET", "", 504, [2]int64{2, 0}, 1},
		{"no retries", failFirst(1, 503), nil, 0, "GET", "", 503, [2]int64{1, 0}, 0},
		{"500 not retried", failFirst(1, 500), status(200), 1, "GET", "", 500, [2]int64{1, 0}, 0},
		{"404 not retried", status(404), status(200), 1, "GET", "", 404, [2]int64{1, 0}, 0},
		{"failover on 502", status(502), status(200), 1, "GET", "", 200, [2]int64{1, 1}, 1},
		{"failover on refused", nil, status(200), 1, "GET", "", 200, [2]int64{0, 1}, 1},
		{"HEAD retried", status(503), status(200), 1, "HEAD", "", 200, [2]int64{1, 1}, 1},
		{"wraps to first", status(503), status(503), 2, "GET", "", 503, [2]int64{2, 1}, 2},
		{"POST not retried", status(503), status(200), 3, "POST", "x=1", 503, [2]int64{1, 0}, 0},
		{"POST refused not retried", nil, status(200), 3, "POST", "x=1", 0, [2]int64{0, 0}, 0},
		{"PUT not retried", status(502), status(200), 3, "PUT", "", 502, [2]int64{1, 0}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var origins [2]*fakeOrigin
			urls := []string{closedURL(t)}
			if tt.first != nil {
				origins[0] = newOrigin(t, tt.first)
				urls[0] = origins[0].URL
			}
			if tt.second != nil {
				origins[1] = newOrigin(t, tt.second)
				urls = append(urls, origins[1].URL)
			}
			up := testUpstream(nil)
			up.Retries = retriesOf(tt.retries)
			p := newTestPool(t, up, urls...)
			resp, err := fetch(t, p, tt.method, "/seg.ts", tt.body)
			if tt.wantStatus == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("status %d, want an error", resp.StatusCode)
				}
			} else {
				mustStatus(t, resp, err, tt.wantStatus)
			}
			for i, o := range origins {
				if o != nil && o.hits.Load() != tt.wantHits[i] {
					t.Errorf("origin %d hits = %d, want %d", i, o.hits.Load(), tt.wantHits[i])
				}
			}
			if n := p.Stats().Retries.Load(); n != tt.wantRetries {
				t.Errorf("Retries = %d, want %d", n, tt.wantRetries)
			}
			if n := p.Stats().InFlight.Load(); n != 0 {
				t.Errorf("InFlight = %d, want 0", n)
			}
		})
	}
}
