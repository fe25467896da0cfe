package identity

import (
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

func TestPaceCounts(t *testing.T) {
	var p pace
	for i := 1; i <= 5; i++ {
		if n := p.count(42, 100); n != i {
			t.Fatalf("request %d of one URL counted %d", i, n)
		}
	}
	if n := p.count(43, 100); n != 1 {
		t.Fatalf("another URL counted %d", n)
	}
	if n := p.count(42, 101); n != 1 {
		t.Fatalf("the next second counted %d", n)
	}
	// More distinct URLs than slots: the hot one, asked between them, is
	// never the least asked, so it is never forgotten.
	for i := range 3 * paceSlots {
		p.count(1000+uint64(i), 102)
		p.count(7, 102)
		p.count(7, 102)
	}
	if n := p.count(7, 102); n != 6*paceSlots+1 {
		t.Fatalf("the hot URL among many counted %d, want %d", n, 6*paceSlots+1)
	}
}

// TestRepeatsOnConnections serves real keep-alive connections through the
// stage: a connection repeating a URL counts up, another connection, a
// new range or a new query starts at one, and a trusted proxy's
// connection (many clients) is not counted.
func TestRepeatsOnConnections(t *testing.T) {
	srv := repeatsServer(t, nil)

	get := func(c *http.Client, path string, h ...string) int {
		t.Helper()
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		for i := 0; i+1 < len(h); i += 2 {
			req.Header.Set(h[i], h[i+1])
		}
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		n, _ := strconv.Atoi(resp.Header.Get("Repeats"))
		return n
	}
	newClient := func() *http.Client { return &http.Client{Transport: &http.Transport{MaxConnsPerHost: 1}} }
	// Stay inside one second: the count is per second.
	for time.Now().Nanosecond() > 500e6 {
		time.Sleep(10 * time.Millisecond)
	}
	flooder, player := newClient(), newClient()
	for i := 1; i <= 10; i++ {
		if n := get(flooder, "/live/480p/index.m3u8"); n != i {
			t.Fatalf("request %d of one playlist on one connection: repeats %d", i, n)
		}
	}
	checks := []struct {
		name string
		c    *http.Client
		path string
		h    []string
		want int
	}{
		{"another connection", player, "/live/480p/index.m3u8", nil, 1},
		{"a byte range", flooder, "/live/480p/index.m3u8", []string{"Range", "bytes=0-99"}, 1},
		{"the next range", flooder, "/live/480p/index.m3u8", []string{"Range", "bytes=100-199"}, 1},
		{"a new query", flooder, "/live/480p/index.m3u8?_HLS_msn=12", nil, 1},
		{"the same again", flooder, "/live/480p/index.m3u8", nil, 11},
	}
	for _, c := range checks {
		if n := get(c.c, c.path, c.h...); n != c.want {
			t.Errorf("%s: repeats %d, want %d", c.name, n, c.want)
		}
	}

	// Behind a trusted proxy the connection carries many viewers.
	proxied := repeatsServer(t, []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")})
	via := newClient()
	for i := range 3 {
		req, _ := http.NewRequest("GET", proxied.URL+"/live/480p/index.m3u8", nil)
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		resp, err := via.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if n := resp.Header.Get("Repeats"); n != "0" {
			t.Fatalf("a trusted proxy's connection counted repeats %s", n)
		}
	}
}

func TestStageAllocsOnConnection(t *testing.T) {
	s := &Stage{Next: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	r := connReq()
	tw := telemetry.NewWriter(discard{}, time.Now())
	defer tw.Release()
	if n := testing.AllocsPerRun(100, func() { s.ServeHTTP(tw, r) }); n != 0 {
		t.Fatalf("Stage allocates %v times per request on a connection", n)
	}
	if tw.Rec.Repeats == 0 {
		t.Fatal("no repeats counted on a connection")
	}
}

// repeatsServer serves the stage on loopback, with the ConnContext hook,
// trusting proxies in trusted; each answer carries the request's Repeats.
func repeatsServer(t *testing.T, trusted []netip.Prefix) *httptest.Server {
	stage := &Stage{Resolver: NewResolver(trusted), Next: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Repeats", strconv.Itoa(telemetry.RecordOf(w).Repeats))
	})}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := telemetry.NewWriter(w, time.Now())
		defer tw.Release()
		stage.ServeHTTP(tw, r)
	}))
	srv.Config.ConnContext = ConnContext
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// BenchmarkStageOnConnection: the stage with the connection's pace counted.
func BenchmarkStageOnConnection(b *testing.B) {
	s := &Stage{Next: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}
	r := connReq()
	tw := telemetry.NewWriter(discard{}, time.Now())
	defer tw.Release()
	b.ReportAllocs()
	for b.Loop() {
		s.ServeHTTP(tw, r)
	}
}

// connReq is a browser's request on a connection ConnContext saw.
func connReq() *http.Request {
	r := browserReq()
	r.RemoteAddr = "192.0.2.1:1234"
	peer := &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1234}
	return r.WithContext(ConnContext(r.Context(), &addrConn{remote: peer}))
}
