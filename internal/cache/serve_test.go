package cache

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/origin"
	"github.com/rempart/rempart/internal/telemetry"
)

const lastMod = "Sun, 01 Mar 2026 11:00:00 GMT"

func TestServeFromCache(t *testing.T) {
	body := strings.Repeat("x", 100)
	var methods atomic.Pointer[string]
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		m := r.Method
		methods.Store(&m)
		w.Header().Set("Etag", `"abc"`)
		w.Header().Set("Last-Modified", lastMod)
		w.Header().Set("Content-Type", "video/mp2t")
		w.Write([]byte(body))
	}, defaultOpts())
	if r := e.do("HEAD", "/s.ts", telemetry.ClassSegment); r.code != 200 || r.body != "" || r.header.Get("Content-Length") != "100" {
		t.Fatalf("HEAD miss: %d %q %v", r.code, r.body, r.header)
	}
	if *methods.Load() != "GET" {
		t.Fatalf("HEAD filled with %s", *methods.Load())
	}
	waitFor(t, "stored", func() bool { return e.store.get("site:/s.ts") != nil })
	e.clock.Advance(3 * time.Second)
	tests := []struct {
		name   string
		method string
		hdr    []string
		code   int
		body   string
		check  func(http.Header) bool
	}{
		{"get", "GET", nil, 200, body, func(h http.Header) bool { return h.Get("Age") == "3" && h.Get("Etag") == `"abc"` }},
		{"head", "HEAD", nil, 200, "", func(h http.Header) bool { return h.Get("Content-Length") == "100" }},
		{"range", "GET", []string{"Range", "bytes=10-19"}, 206, body[10:20], func(h http.Header) bool { return h.Get("Content-Range") == "bytes 10-19/100" }},
		{"range 416", "GET", []string{"Range", "bytes=500-"}, 416, "", nil},
		{"if-none-match", "GET", []string{"If-None-Match", `"abc"`}, 304, "", nil},
		{"if-none-match other", "GET", []string{"If-None-Match", `"zzz"`}, 200, body, nil},
		{"if-modified-since", "GET", []string{"If-Modified-Since", lastMod}, 304, "", nil},
		{"if-range stale", "GET", []string{"Range", "bytes=0-1", "If-Range", `"old"`}, 200, body, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(tt.method, "/s.ts", telemetry.ClassSegment, tt.hdr...)
			if r.code != tt.code || (tt.code != 416 && r.body != tt.body) || r.rec.Outcome != telemetry.OutcomeHit {
				t.Fatalf("%d %q %v", r.code, r.body, r.rec.Outcome)
			}
			if tt.check != nil && !tt.check(r.header) {
				t.Fatalf("headers %v", r.header)
			}
		})
	}
	if e.fetches.Load() != 1 {
		t.Fatalf("origin fetches %d", e.fetches.Load())
	}
}

func TestRangeOnMiss(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789"), 1000)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Range") != "" {
			t.Error("range forwarded to origin")
		}
		w.Write(body)
	}, defaultOpts())
	r := e.do("GET", "/r.ts", telemetry.ClassSegment, "Range", "bytes=5-14")
	if r.code != 206 || r.body != string(body[5:15]) || r.header.Get("Content-Range") != "bytes 5-14/10000" {
		t.Fatalf("%d %q %v", r.code, r.body, r.header)
	}
	waitFor(t, "stored", func() bool { return e.store.get("site:/r.ts") != nil })
	if r := e.do("GET", "/r.ts", telemetry.ClassSegment, "Range", "bytes=-3"); r.code != 206 || r.body != "789" {
		t.Fatalf("suffix range: %d %q", r.code, r.body)
	}
}

func TestQueryNormalization(t *testing.T) {
	var queries []string
	ch := make(chan string, 10)
	o := defaultOpts()
	o.policies[telemetry.ClassMedia].QueryKeep = []string{"a", "b"}
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		ch <- r.URL.RawQuery
		w.Write([]byte(playlist))
	}, o)
	for _, q := range []string{"?rnd=1", "?rnd=2&x=y", "", "?_=99"} {
		if r := e.do("GET", "/seg.ts"+q, telemetry.ClassSegment); r.code != 200 {
			t.Fatal(r.code)
		}
	}
	for _, q := range []string{"?b=2&a=1&rnd=5", "?a=1&b=2", "?rnd=9&a=1&b=2"} {
		e.do("GET", "/p.m3u8"+q, telemetry.ClassMedia)
	}
	close(ch)
	for q := range ch {
		queries = append(queries, q)
	}
	if len(queries) != 2 || queries[0] != "" || queries[1] != "a=1&b=2" {
		t.Fatalf("origin saw %q", queries)
	}
}

// TestVaryVariants: an answer that varies on a shared header is stored
// once per value, as the key holds the value; on a header shared fetches
// do not carry, it cannot vary, and is stored once.
func TestVaryVariants(t *testing.T) {
	origin := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept-Language")
		w.Write([]byte("lang=" + r.Header.Get("Accept-Language")))
	}
	e := newEnv(t, origin, defaultOpts())
	e.h.ShareHeaders([]string{"Accept-Language"})
	steps := []struct{ lang, want string }{{"fr", "lang=fr"}, {"fr", "lang=fr"}, {"en", "lang=en"}, {"en", "lang=en"}, {"fr", "lang=fr"}}
	for _, s := range steps {
		if r := e.do("GET", "/v.ts", telemetry.ClassSegment, "Accept-Language", s.lang); r.body != s.want {
			t.Fatalf("%s: got %q", s.lang, r.body)
		}
	}
	if e.fetches.Load() != 2 {
		t.Fatalf("origin fetches %d, want 2 (one per variant)", e.fetches.Load())
	}
	e = newEnv(t, origin, defaultOpts())
	for _, s := range steps {
		if r := e.do("GET", "/v.ts", telemetry.ClassSegment, "Accept-Language", s.lang); r.body != "lang=" {
			t.Fatalf("%s, not shared: got %q", s.lang, r.body)
		}
	}
	if e.fetches.Load() != 1 {
		t.Fatalf("origin fetches %d, want 1 (Accept-Language is not carried)", e.fetches.Load())
	}
}

func TestPassAndHeaders(t *testing.T) {
	type seen struct {
		method, body string
		header       http.Header
	}
	ch := make(chan seen, 4)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ch <- seen{r.Method, string(b), r.Header.Clone()}
		w.Header().Set("Connection", "X-Hop")
		w.Header().Set("X-Hop", "1")
		w.Header().Set("Cache-Control", "max-age=60")
		w.Write([]byte("ok"))
	}, defaultOpts())
	edge := e.edge()
	c := newClient(t)

	req, _ := http.NewRequest("POST", edge.URL+"/api/vote", strings.NewReader("payload"))
	req.Header.Set("Cookie", "s=1")
	req.Header.Set("X-Forwarded-For", "10.0.0.1")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s := <-ch
	if s.method != "POST" || s.body != "payload" || s.header.Get("Cookie") != "s=1" ||
		s.header.Get("X-Forwarded-For") != "10.0.0.1, 127.0.0.1" || s.header.Get("Via") != viaValue ||
		s.header.Get("X-Forwarded-Host") == "" || s.header.Get("X-Forwarded-Proto") != "http" {
		t.Fatalf("pass request: %+v", s)
	}
	if resp.Header.Get("X-Hop") != "" {
		t.Fatal("hop-by-hop response header relayed")
	}

	req, _ = http.NewRequest("GET", edge.URL+"/live/s.ts", nil)
	req.Header.Set("Cookie", "s=1")
	req.Header.Set("Authorization", "Bearer x")
	req.Header.Set("Connection", "X-Secret")
	req.Header.Set("X-Secret", "1")
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	s = <-ch
	if s.header.Get("Cookie") != "" || s.header.Get("Authorization") != "" || s.header.Get("X-Secret") != "" || s.header.Get("Via") != viaValue {
		t.Fatalf("shared fetch leaked headers: %v", s.header)
	}

	r := e.do("GET", "/api/me", telemetry.ClassAPI, "Authorization", "Bearer x")
	if r.rec.Outcome != telemetry.OutcomePass || (<-ch).header.Get("Authorization") != "Bearer x" {
		t.Fatalf("api with credentials: %v", r.rec.Outcome)
	}
}

// TestSetReadable: a value Set is readable at once (the reason for otter
// over ristretto, whose admission may drop a Set), and the store stays under
// MaxBytes by evicting.
func TestSetReadable(t *testing.T) {
	s, err := NewStore(config.Cache{MaxBytes: 8 << 20, MaxObjectBytes: 1 << 18, WaitTimeout: time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now()
	put := func(i, size int) (string, *entry) {
		key := "site:/p" + strconv.Itoa(i)
		e := &entry{status: 200, body: make([]byte, size), fetched: now, expires: now.Add(time.Minute), header: http.Header{}}
		e.weight = weigh(key, e)
		s.set(key, e)
		return key, e
	}
	for i := range 1000 { // 2.3 MB: room for all
		if key, e := put(i, 2048); s.get(key) != e {
			t.Fatalf("Set %d not readable at once", i)
		}
	}
	for i := 1000; i < 5000; i++ {
		put(i, 4096)
	}
	s.objects.CleanUp()
	if s.Stats().Bytes() > 8<<20 || s.Stats().Evictions.Load() == 0 {
		t.Fatalf("bytes %d evictions %d", s.Stats().Bytes(), s.Stats().Evictions.Load())
	}
}

func TestNewStoreValidates(t *testing.T) {
	for _, cfg := range []config.Cache{
		{MaxBytes: 10, MaxObjectBytes: 1, WaitTimeout: time.Second},
		{MaxBytes: 1 << 20, MaxObjectBytes: 2 << 20, WaitTimeout: time.Second},
		{MaxBytes: 1 << 20, MaxObjectBytes: 1 << 10},
	} {
		if _, err := NewStore(cfg, nil); err == nil {
			t.Errorf("%+v accepted", cfg)
		}
	}
}

// TestErrorStatusClientFault: a request body the edge could not read, or a
// path the origin pool refuses, is the client's fault: 400, or 413 for a
// body over a size limit, never the 502 of an origin down (issue 11, hole 2).
func TestErrorStatusClientFault(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		code    int
		reason  string
		outcome telemetry.Outcome
	}{
		{"malformed body", fmt.Errorf("fetch /a: %w: %w", origin.ErrClientBody, errors.New("bad chunk")),
			http.StatusBadRequest, "client_body", telemetry.OutcomeRefused},
		{"too large", fmt.Errorf("fetch /a: %w: %w", origin.ErrClientBody, &http.MaxBytesError{Limit: 1}),
			http.StatusRequestEntityTooLarge, "body_too_large", telemetry.OutcomeRefused},
		{"path refused", fmt.Errorf("fetch: %w", origin.ErrBadPath), http.StatusBadRequest, "bad_path", telemetry.OutcomeRefused},
		{"origin down", errors.New("connection refused"), http.StatusBadGateway, "origin_down", telemetry.OutcomeError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, reason := errorStatus(tt.err)
			if code != tt.code || reason != tt.reason {
				t.Fatalf("errorStatus = %d %q, want %d %q", code, reason, tt.code, tt.reason)
			}
			rr := httptest.NewRecorder()
			var rec telemetry.Record
			writeError(rr, httptest.NewRequest("POST", "/a", nil), &rec, code, reason)
			if rr.Code != tt.code || rec.Outcome != tt.outcome || !strings.HasPrefix(rr.Body.String(), strconv.Itoa(tt.code)) {
				t.Fatalf("writeError: %d %q outcome %v", rr.Code, rr.Body.String(), rec.Outcome)
			}
		})
	}
}
