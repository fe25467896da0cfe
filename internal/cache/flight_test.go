package cache

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

func TestCoalesce2000(t *testing.T) {
	seg := bytes.Repeat([]byte("s"), 64<<10)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(100 * time.Millisecond)
		w.Write(seg)
	}, defaultOpts())
	const n = 2000
	var wg sync.WaitGroup
	var bad atomic.Int64
	for range n {
		wg.Go(func() {
			res := e.do("GET", "/live/seg42.ts?rnd="+strconv.Itoa(int(time.Now().UnixNano())), telemetry.ClassSegment)
			if res.code != 200 || res.body != string(seg) {
				bad.Add(1)
			}
		})
	}
	wg.Wait()
	if got := e.fetches.Load(); got != 1 {
		t.Fatalf("origin fetches = %d, want 1", got)
	}
	if bad.Load() != 0 {
		t.Fatalf("%d requests got a wrong answer", bad.Load())
	}
	st := e.store.Stats()
	if st.OriginFetches.Load() != 1 || st.Coalesced.Load()+st.Hits.Load() != n-1 {
		t.Fatalf("flights %d coalesced %d hits %d", st.OriginFetches.Load(), st.Coalesced.Load(), st.Hits.Load())
	}
}

// TestStreamWhileDownloading: waiters see the first half of a segment while
// the origin still holds the second.
func TestStreamWhileDownloading(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 256<<10/16)
	half := len(body) / 2
	release := make(chan struct{})
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.Write(body[:half])
		w.(http.Flusher).Flush()
		<-release
		w.Write(body[half:])
	}, defaultOpts())
	edge := e.edge()
	c := newClient(t)
	const waiters = 3
	bodies := make([]io.ReadCloser, waiters)
	for i := range bodies {
		resp, err := c.Get(edge.URL + "/live/big.ts")
		if err != nil {
			t.Fatal(err)
		}
		bodies[i] = resp.Body
		defer resp.Body.Close()
	}
	for i, b := range bodies {
		got := make([]byte, half)
		if _, err := io.ReadFull(b, got); err != nil || !bytes.Equal(got, body[:half]) {
			t.Fatalf("waiter %d: first half: %v", i, err)
		}
	}
	close(release)
	for i, b := range bodies {
		rest, err := io.ReadAll(b)
		if err != nil || !bytes.Equal(rest, body[half:]) {
			t.Fatalf("waiter %d: rest: %d bytes, %v", i, len(rest), err)
		}
	}
	if got := e.fetches.Load(); got != 1 {
		t.Fatalf("origin fetches = %d", got)
	}
}

// TestFirstRequesterCancels: the flight outlives the request that started it.
func TestFirstRequesterCancels(t *testing.T) {
	release := make(chan struct{})
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		<-release
		w.Write([]byte("whole segment"))
	}, defaultOpts())
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan result)
	go func() { first <- e.doCtx(ctx, "GET", "/s.ts", telemetry.ClassSegment) }()
	waitFor(t, "flight", func() bool { return e.fetches.Load() == 1 })
	second := make(chan result)
	go func() { second <- e.do("GET", "/s.ts", telemetry.ClassSegment) }()
	waitFor(t, "second waiter", func() bool { return e.store.Stats().Coalesced.Load() == 1 })
	cancel()
	if r := <-first; r.rec.Reason != "client_gone" {
		t.Fatalf("first: %+v", r.rec)
	}
	close(release)
	if r := <-second; r.code != 200 || r.body != "whole segment" {
		t.Fatalf("second: %d %q", r.code, r.body)
	}
	if r := e.do("GET", "/s.ts", telemetry.ClassSegment); r.rec.Outcome != telemetry.OutcomeHit {
		t.Fatalf("not stored: %v", r.rec.Outcome)
	}
}

// TestWaitersReturnWithinBound: an origin that never answers costs each
// waiter WaitTimeout, not more.
func TestWaitersReturnWithinBound(t *testing.T) {
	hang := make(chan struct{})
	o := defaultOpts()
	o.cfg.WaitTimeout = 150 * time.Millisecond
	o.fetchTimeout = 10 * time.Second
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}, o)
	defer close(hang)
	start := time.Now()
	var wg sync.WaitGroup
	var codes sync.Map
	for i := range 20 {
		wg.Go(func() { codes.Store(i, e.do("GET", "/x.ts", telemetry.ClassSegment).code) })
	}
	wg.Wait()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("waiters took %v", d)
	}
	codes.Range(func(_, v any) bool {
		if v.(int) != http.StatusGatewayTimeout {
			t.Errorf("status %d, want 504", v)
		}
		return true
	})
}

// TestSetCookieReachesOneWaiter: a non-shareable answer goes to one client;
// the others fetch their own.
func TestSetCookieReachesOneWaiter(t *testing.T) {
	var n atomic.Int64
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		id := n.Add(1)
		time.Sleep(50 * time.Millisecond)
		w.Header().Set("Set-Cookie", "session="+strconv.FormatInt(id, 10))
		w.Write([]byte("personal"))
	}, defaultOpts())
	var wg sync.WaitGroup
	var mu sync.Mutex
	seen := map[string]int{}
	for range 10 {
		wg.Go(func() {
			r := e.do("GET", "/s.ts", telemetry.ClassSegment)
			mu.Lock()
			seen[r.header.Get("Set-Cookie")]++
			mu.Unlock()
		})
	}
	wg.Wait()
	for c, k := range seen {
		if k != 1 || c == "" {
			t.Fatalf("cookie %q reached %d clients", c, k)
		}
	}
	if !e.store.isPass("site:/s.ts") {
		t.Fatal("key not marked hit-for-pass")
	}
}

// TestFailureAfterHeadersAborts: a truncated origin transfer is a truncated
// client transfer, never a short file.
func TestFailureAfterHeadersAborts(t *testing.T) {
	cut := make(chan struct{})
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		w.Write(make([]byte, 100))
		w.(http.Flusher).Flush()
		<-cut
		conn, _, _ := w.(http.Hijacker).Hijack()
		conn.Close()
	}, defaultOpts())
	edge := e.edge()
	resp, err := newClient(t).Get(edge.URL + "/cut.ts")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadFull(resp.Body, make([]byte, 100)); err != nil {
		t.Fatal(err)
	}
	close(cut)
	if rest, err := io.ReadAll(resp.Body); err == nil {
		t.Fatalf("client saw a complete response (%d more bytes)", len(rest))
	}
	if e.store.get("site:/cut.ts") != nil {
		t.Fatal("truncated object stored")
	}
	if e.store.Stats().Aborted.Load() != 1 {
		t.Fatal("abort not counted")
	}
}

// TestTooBigUnknownLength: an answer of unknown length that outgrows
// MaxObjectBytes aborts its waiters and makes the key hit-for-pass.
func TestTooBigUnknownLength(t *testing.T) {
	o := defaultOpts()
	o.cfg.MaxObjectBytes = 1 << 20
	big := make([]byte, 3<<20)
	var calls atomic.Int64
	more := make(chan struct{})
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		w.Write(big[:1<<19])
		w.(http.Flusher).Flush() // chunked: unknown length
		if calls.Add(1) == 1 {
			<-more // until the client has seen the first bytes
		}
		w.Write(big[1<<19:])
	}, o)
	edge := e.edge()
	c := newClient(t)
	first, err := c.Get(edge.URL + "/vod.ts")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(first.Body, make([]byte, 1000)); err != nil {
		t.Fatal(err)
	}
	close(more)
	_, err = io.ReadAll(first.Body)
	first.Body.Close()
	if err == nil {
		t.Fatal("first request not aborted")
	}
	resp, body, err := get(t, c, edge.URL+"/vod.ts")
	if err != nil || resp.StatusCode != 200 || len(body) != len(big) {
		t.Fatalf("pass after abort: %v %d bytes", err, len(body))
	}
	if e.store.Stats().HitForPass.Load() != 1 {
		t.Fatal("second request not hit-for-pass")
	}
}

// TestCloseCancelsFlights: Close ends fetches in flight and their waiters.
func TestCloseCancelsFlights(t *testing.T) {
	hang := make(chan struct{})
	o := defaultOpts()
	o.fetchTimeout = time.Minute
	o.cfg.WaitTimeout = time.Minute
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}, o)
	defer close(hang)
	done := make(chan result)
	go func() { done <- e.do("GET", "/x.ts", telemetry.ClassSegment) }()
	waitFor(t, "flight", func() bool { return e.fetches.Load() == 1 })
	e.store.Close()
	if r := <-done; r.code != http.StatusBadGateway {
		t.Fatalf("waiter after Close: %d", r.code)
	}
	if r := e.do("GET", "/y.ts", telemetry.ClassSegment); r.code != http.StatusServiceUnavailable {
		t.Fatalf("request after Close: %d", r.code)
	}
}

// TestOverloadedOriginIsNoHitForPass: a 503 no-store from an origin at
// its capacity is shared by the fetch's waiters and never turns the key
// into hit-for-pass (each request going to the origin on its own would
// feed the overload); the next request after it is one shared fetch again.
func TestOverloadedOriginIsNoHitForPass(t *testing.T) {
	release := make(chan struct{})
	var overloaded atomic.Bool
	overloaded.Store(true)
	e := newEnv(t, func(w http.ResponseWriter, r *http.Request) {
		if overloaded.Load() {
			<-release
			w.Header().Set("Cache-Control", "no-store")
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte("#EXTM3U\n"))
	}, defaultOpts())
	var wg sync.WaitGroup
	codes := make(chan int, 10)
	for range 10 {
		wg.Go(func() { codes <- e.do("GET", "/live/index.m3u8", telemetry.ClassMedia).code })
	}
	waitFor(t, "the waiters to join", func() bool { return e.store.Stats().Coalesced.Load() >= 9 })
	close(release)
	wg.Wait()
	close(codes)
	for c := range codes {
		if c != http.StatusServiceUnavailable {
			t.Errorf("a waiter got %d, want the shared 503", c)
		}
	}
	if n := e.fetches.Load(); n != 1 {
		t.Errorf("origin fetches %d, want one shared fetch", n)
	}
	if e.store.isPass("site:/live/index.m3u8") {
		t.Fatal("a 503 made the playlist hit-for-pass")
	}
	overloaded.Store(false)
	if r := e.do("GET", "/live/index.m3u8", telemetry.ClassMedia); r.code != 200 {
		t.Errorf("after the overload: %d", r.code)
	}
}
