package edge_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/edge"
)

// TestContentLengthWithTransferEncoding: a request with both framings is
// refused with 400 and its connection closed (RFC 9112 §6.1), with the
// shield on or off and on an h2c listener. Go's server alone serves it by
// Transfer-Encoding and keeps the connection open (issue 11, hole 6).
func TestContentLengthWithTransferEncoding(t *testing.T) {
	o := newOrigin(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, "ok")
	})
	tests := []struct {
		name string
		edit func(*config.Config)
	}{
		{"shield on", func(*config.Config) {}},
		{"shield off", func(c *config.Config) { c.Shield.Mode = "off" }},
		{"h2c listener", func(c *config.Config) { c.H2C = true }},
	}
	const smuggle = "POST /api/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n" +
		"0\r\n\r\nGET /api/y HTTP/1.1\r\nHost: x\r\n\r\n"
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := quick(t, o.URL)
			tt.edit(cfg)
			e := startEdge(t, cfg, edge.Options{})
			c, err := net.DialTimeout("tcp", e.Addr(), time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if _, err := io.WriteString(c, smuggle); err != nil {
				t.Fatal(err)
			}
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("read response: %v", err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d, want 400", resp.StatusCode)
			}
			if rest, err := io.ReadAll(br); err != nil || len(rest) > 0 {
				t.Fatalf("after the 400: read %q, %v; want the connection closed", rest, err)
			}
			if n := o.count("/api/x") + o.count("/api/y"); n != 0 {
				t.Fatalf("origin saw %d of the requests, want none", n)
			}
		})
	}
}
