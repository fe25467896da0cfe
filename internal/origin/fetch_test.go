package origin

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
)

func TestFetchRewritesURL(t *testing.T) {
	tests := []struct {
		name, base, target, want string
	}{
		{"no base path", "", "/live/a.m3u8?x=1", "/live/a.m3u8?x=1"},
		{"root base path", "/", "/a.ts", "/a.ts"},
		{"base path", "/origin", "/a/b.ts", "/origin/a/b.ts"},
		{"base path with slash", "/origin/", "/a/b.ts?q=%20", "/origin/a/b.ts?q=%20"},
		{"escapes kept", "/o", "/a%3Bb%20c.ts", "/o/a%3Bb%20c.ts"},
		{"escaped base", "/my%2Fo", "/a.ts", "/my%2Fo/a.ts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var gotURI, gotHost string
			o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
				gotURI, gotHost = r.RequestURI, r.Host
			})
			p := newTestPool(t, testUpstream(nil), o.URL+tt.base)
			resp, err := fetch(t, p, http.MethodGet, tt.target, "")
			mustStatus(t, resp, err, http.StatusOK)
			if gotURI != tt.want {
				t.Errorf("origin saw %q, want %q", gotURI, tt.want)
			}
			if want := strings.TrimPrefix(o.URL, "http://"); gotHost != want {
				t.Errorf("origin saw Host %q, want %q", gotHost, want)
			}
		})
	}
}

// TestFetchRefusesPathsOutsideBase: a path that would climb out of the
// origin's base path, or hide a separator, is never sent (issue 11, hole
// 4: "/../x.ts" reached the origin as "<base>/../x.ts").
func TestFetchRefusesPathsOutsideBase(t *testing.T) {
	o := newOrigin(t, status(http.StatusOK))
	p := newTestPool(t, testUpstream(nil), o.URL+"/base")
	for _, target := range []string{"/../x.ts", "/a/../../x.ts", "/%2e%2e/x.ts", "/..%2Fx.ts", "/a%00"} {
		u, err := url.Parse(target)
		if err != nil {
			t.Fatal(err)
		}
		req := &http.Request{Method: http.MethodGet, URL: u, Header: http.Header{}}
		if _, err := p.Fetch(t.Context(), req); !errors.Is(err, ErrBadPath) {
			t.Errorf("Fetch(%q) err = %v, want ErrBadPath", target, err)
		}
	}
	if n := o.hits.Load(); n != 0 {
		t.Fatalf("origin hit %d times, want 0", n)
	}
}

func TestFetchDoesNotFollowRedirect(t *testing.T) {
	elsewhere := newOrigin(t, status(http.StatusOK))
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.URL+"/moved", http.StatusFound)
	})
	p := newTestPool(t, testUpstream(nil), o.URL)
	resp, err := fetch(t, p, http.MethodGet, "/a", "")
	mustStatus(t, resp, err, http.StatusFound)
	if n := elsewhere.hits.Load(); n != 0 {
		t.Fatalf("redirect target hit %d times, want 0", n)
	}
	if n := p.Stats().Status3xx.Load(); n != 1 {
		t.Fatalf("Status3xx = %d, want 1", n)
	}
}

// stall answers after the client gives up (or the test ends).
func stall(w http.ResponseWriter, r *http.Request) {
	<-r.Context().Done()
}

// slowBody sends headers and a first chunk, then stalls.
func slowBody(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte("first"))
	w.(http.Flusher).Flush()
	<-r.Context().Done()
}

func TestFetchTimeouts(t *testing.T) {
	tests := []struct {
		name    string
		handler http.HandlerFunc // nil: a closed port
		up      func(*config.Upstream)
		limit   time.Duration // the fetch must fail within this
		wantErr error         // from Fetch, or nil if from reading the body
		readErr error
	}{
		{
			name:  "closed port",
			up:    func(u *config.Upstream) { u.ConnectTimeout = 500 * time.Millisecond },
			limit: 500 * time.Millisecond,
		},
		{
			name:    "slow headers",
			handler: stall,
			up:      func(u *config.Upstream) { u.ResponseHeaderTimeout = 100 * time.Millisecond },
			limit:   time.Second,
		},
		{
			name:    "fetch timeout before headers",
			handler: stall,
			up:      func(u *config.Upstream) { u.FetchTimeout = 100 * time.Millisecond },
			limit:   time.Second,
			wantErr: context.DeadlineExceeded,
		},
		{
			name:    "body past fetch timeout",
			handler: slowBody,
			up:      func(u *config.Upstream) { u.FetchTimeout = 150 * time.Millisecond },
			limit:   time.Second,
			readErr: ErrFetchTimeout,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			url := closedURL(t)
			if tt.handler != nil {
				url = newOrigin(t, tt.handler).URL
			}
			up := testUpstream(tt.up)
			up.Retries = retriesOf(0)
			p := newTestPool(t, up, url)
			start := time.Now()
			err := fetchAndRead(t, p)
			if took := time.Since(start); took > tt.limit {
				t.Errorf("took %v, want under %v", took, tt.limit)
			}
			if err == nil {
				t.Fatal("fetch succeeded, want an error")
			}
			for _, want := range []error{tt.wantErr, tt.readErr} {
				if want != nil && !errors.Is(err, want) {
					t.Errorf("err = %v, want %v", err, want)
				}
			}
			if n := p.Stats().InFlight.Load(); n != 0 {
				t.Errorf("InFlight = %d after the fetch, want 0", n)
			}
		})
	}
}

// fetchAndRead fetches /a and reads the whole body; it returns the first error.
func fetchAndRead(t *testing.T, p *Pool) error {
	resp, err := fetch(t, p, http.MethodGet, "/a", "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, err = io.ReadAll(resp.Body)
	return err
}

func TestFetchTimeoutIsNetTimeout(t *testing.T) {
	o := newOrigin(t, stall)
	up := testUpstream(func(u *config.Upstream) { u.ResponseHeaderTimeout = 50 * time.Millisecond })
	up.Retries = retriesOf(0)
	p := newTestPool(t, up, o.URL)
	_, err := fetch(t, p, http.MethodGet, "/a", "")
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a net.Error with Timeout()", err)
	}
	if n := p.Stats().Errors.Load(); n != 1 {
		t.Fatalf("Errors = %d, want 1", n)
	}
}
