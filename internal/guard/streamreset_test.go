package guard

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"

	"github.com/rempart/rempart/internal/config"
)

// resetTestLimits is the default reset budget.
var resetTestLimits = ResetLimits{Rate: 5, Burst: 50}

// fastHandler answers at once, as a cache hit does, counting its calls.
func fastHandler(served *atomic.Int64) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served.Add(1)
		io.WriteString(w, "#EXTM3U\n")
	})
}

// h2cServer serves h over cleartext HTTP/2 (prior knowledge) behind
// H2Listener.
func h2cServer(t *testing.T, stats *ConnStats, h http.Handler) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h, Protocols: new(http.Protocols)}
	Apply(srv, config.Limits{ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 10 * time.Second}, stats)
	srv.Protocols.SetHTTP1(true)
	srv.Protocols.SetUnencryptedHTTP2(true)
	go srv.Serve(H2Listener(ln, resetTestLimits, stats))
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// h2TLSServer serves h over HTTP/2 on TLS through ServeH2TLS.
func h2TLSServer(t *testing.T, stats *ConnStats, h http.Handler) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.EnableHTTP2 = true
	Apply(srv.Config, config.Limits{ReadHeaderTimeout: 5 * time.Second, IdleTimeout: 10 * time.Second}, stats)
	if err := ServeH2TLS(srv.Config, resetTestLimits, stats); err != nil {
		t.Fatal(err)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// h2client is a raw HTTP/2 client that can misbehave.
type h2client struct {
	c   net.Conn
	fr  *http2.Framer
	blk []byte // the request's header block
}

func dialH2(t *testing.T, addr string, overTLS bool) *h2client {
	t.Helper()
	var c net.Conn
	var err error
	if overTLS {
		c, err = tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2"}})
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write([]byte(http2.ClientPreface)); err != nil {
		t.Fatal(err)
	}
	fr := http2.NewFramer(c, c)
	if err := fr.WriteSettings(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	enc := hpack.NewEncoder(&buf)
	for _, f := range [][2]string{{":method", "GET"}, {":scheme", map[bool]string{false: "http", true: "https"}[overTLS]}, {":authority", "x"}, {":path", "/live/master.m3u8"}} {
		enc.WriteField(hpack.HeaderField{Name: f[0], Value: f[1]})
	}
	return &h2client{c: c, fr: fr, blk: buf.Bytes()}
}

// openReset opens stream id and cancels it at once; false once the
// server has closed the connection.
func (h *h2client) openReset(id uint32) bool {
	err := h.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: h.blk, EndStream: true, EndHeaders: true})
	if err == nil {
		err = h.fr.WriteRSTStream(id, http2.ErrCodeCancel)
	}
	return err == nil
}

// closed reports whether the server closed the connection within d,
// reading (and dropping) whatever it sent until then.
func (h *h2client) closed(d time.Duration) bool {
	h.c.SetReadDeadline(time.Now().Add(d))
	for {
		if _, err := h.fr.ReadFrame(); err != nil {
			var ne net.Error
			return !(errors.As(err, &ne) && ne.Timeout())
		}
	}
}

// TestRapidResetCut: a connection opening and cancelling streams back to
// back (CVE-2023-44487) is closed at the frame that crosses its reset
// budget, before handlers run for much more than the budget, in cleartext
// HTTP/2 and over TLS; one cancelling a few streams, as a player switching
// quality does, lives on; plain requests are not counted.
func TestRapidResetCut(t *testing.T) {
	for _, overTLS := range []bool{false, true} {
		t.Run(map[bool]string{false: "h2c", true: "tls"}[overTLS], func(t *testing.T) {
			var stats ConnStats
			var served atomic.Int64
			serve := h2cServer
			if overTLS {
				serve = h2TLSServer
			}
			addr := serve(t, &stats, fastHandler(&served))

			h := dialH2(t, addr, overTLS)
			sent := 0
			for i := range 1000 {
				if !h.openReset(uint32(2*i + 1)) {
					break
				}
				sent++
			}
			if !h.closed(5 * time.Second) {
				t.Fatalf("the connection is still open after %d open/reset pairs", sent)
			}
			if n := stats.ResetFloodCut.Load(); n != 1 {
				t.Fatalf("ResetFloodCut = %d, want 1", n)
			}
			if n := served.Load(); n > int64(resetTestLimits.Burst)+10 {
				t.Fatalf("%d handlers ran for a rapid-reset connection; want at most about the reset burst (%d)",
					n, resetTestLimits.Burst)
			}
			if n := stats.StreamsReset.Load(); n <= int64(resetTestLimits.Burst) {
				t.Fatalf("StreamsReset = %d, want more than the burst", n)
			}

			// A player cancelling a download now and then keeps its connection.
			p := dialH2(t, addr, overTLS)
			for i := range 10 {
				if !p.openReset(uint32(2*i + 1)) {
					t.Fatalf("a connection cancelling %d streams was closed", i)
				}
				time.Sleep(10 * time.Millisecond)
			}
			if p.closed(300 * time.Millisecond) {
				t.Fatal("a connection that cancelled 10 streams was closed")
			}

			// Whole requests are not resets: a client fetching 200 times
			// over one connection is untouched.
			client := &http.Client{Transport: &http.Transport{
				TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
				Protocols:       h2Protocols(overTLS)}}
			defer client.CloseIdleConnections()
			scheme := map[bool]string{false: "http", true: "https"}[overTLS]
			for range 200 {
				resp, err := client.Get(scheme + "://" + addr + "/live/master.m3u8")
				if err != nil || resp.ProtoMajor != 2 || resp.StatusCode != 200 {
					t.Fatalf("GET over HTTP/2: %v %v", resp, err)
				}
				if overTLS && resp.TLS == nil {
					t.Fatal("a request served through ServeH2TLS lost its TLS state")
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if n := stats.ResetFloodCut.Load(); n != 1 {
				t.Fatalf("ResetFloodCut = %d after polite connections, want 1", n)
			}
		})
	}
}

// h2Protocols is HTTP/2 only: over TLS, or cleartext with prior knowledge.
func h2Protocols(overTLS bool) *http.Protocols {
	p := new(http.Protocols)
	if overTLS {
		p.SetHTTP2(true)
	} else {
		p.SetUnencryptedHTTP2(true)
	}
	return p
}
