package guard

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

const testBurst = 400

// TestStreamRateCutsFloodingConnection: one keep-alive connection firing
// requests back to back is closed after its burst; a connection at a
// player's pace is never touched.
func TestStreamRateCutsFloodingConnection(t *testing.T) {
	var stats ConnStats
	srv := httptest.NewUnstartedServer(StreamRate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}), 100, testBurst, &stats))
	srv.Config.ConnContext = StreamConnContext
	srv.Start()
	defer srv.Close()

	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(c)
	served := 0
	for i := range 2000 {
		if _, err := fmt.Fprintf(c, "GET /%d HTTP/1.1\r\nHost: x\r\n\r\n", i); err != nil {
			break
		}
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			break
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode == 200 {
			served++
		}
	}
	if served < testBurst-10 || served >= 2000 || stats.StreamFloodCut.Load() != 1 {
		t.Fatalf("served %d of 2000 back-to-back requests, %d cuts; want about the burst (%d) and one cut",
			served, stats.StreamFloodCut.Load(), testBurst)
	}

	// At a player's pace the connection lives on.
	client := &http.Client{}
	for range 20 {
		resp, err := client.Get(srv.URL + "/x")
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("paced request: %v %v", resp, err)
		}
		resp.Body.Close()
		time.Sleep(20 * time.Millisecond)
	}
	if n := stats.StreamFloodCut.Load(); n != 1 {
		t.Fatalf("a paced connection was cut (%d cuts)", n)
	}
}
