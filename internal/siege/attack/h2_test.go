package attack

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/siege/sim"
)

// h2Frame is one frame as the test server read it. The server parses
// frames on its own (RFC 9113 §4.1), not with the package's helpers.
type h2Frame struct {
	typ, flags byte
	stream     uint32
	payload    []byte
}

// h2Server reads the client preface and frames; react may answer a frame
// (write to c) and return false to end the connection.
type h2Server struct {
	*tcpServer
	mu     sync.Mutex // guards frames
	frames []h2Frame
}

func startH2(t *testing.T, react func(c net.Conn, f h2Frame, n int) bool) *h2Server {
	s := &h2Server{}
	s.tcpServer = startTCP(t, func(c net.Conn) {
		preface := make([]byte, 24)
		if _, err := io.ReadFull(c, preface); err != nil || string(preface) != "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" {
			return
		}
		c.Write([]byte{0, 0, 0, 4, 0, 0, 0, 0, 0}) // empty SETTINGS
		hdr := make([]byte, 9)
		for {
			if _, err := io.ReadFull(c, hdr); err != nil {
				return
			}
			f := h2Frame{typ: hdr[3], flags: hdr[4], stream: binary.BigEndian.Uint32(hdr[5:]) & (1<<31 - 1)}
			f.payload = make([]byte, int(hdr[0])<<16|int(hdr[1])<<8|int(hdr[2]))
			if _, err := io.ReadFull(c, f.payload); err != nil {
				return
			}
			s.mu.Lock()
			s.frames = append(s.frames, f)
			n := len(s.frames)
			s.mu.Unlock()
			if react != nil && !react(c, f, n) {
				return
			}
		}
	})
	return s
}

func (s *h2Server) got() []h2Frame {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]h2Frame(nil), s.frames...)
}

// ofType filters frames, leaving out the client's SETTINGS and acks.
func ofType(fs []h2Frame, types ...byte) []h2Frame {
	var out []h2Frame
	for _, f := range fs {
		for _, t := range types {
			if f.typ == t {
				out = append(out, f)
			}
		}
	}
	return out
}

func TestH2RapidReset(t *testing.T) {
	srv := startH2(t, nil)
	env, r := newEnv(t, srv.url(), sim.Params{"mode": "rapid-reset", "streams": 50, "settle": "50ms"}, 1000)
	Models()["h2-flood"].Run(t.Context(), env, sim.Client{Intended: time.Now()})
	fs := ofType(srv.got(), 0x1, 0x3)
	if len(fs) != 100 {
		t.Fatalf("server read %d HEADERS/RST_STREAM frames, want 100", len(fs))
	}
	for i := 0; i < len(fs); i += 2 {
		h, rst := fs[i], fs[i+1]
		id := uint32(i + 1)
		switch {
		case h.typ != 0x1 || h.stream != id || h.flags&0x4 == 0:
			t.Fatalf("frame %d: type %d stream %d flags %#x; want HEADERS on %d with END_HEADERS", i, h.typ, h.stream, h.flags, id)
		case rst.typ != 0x3 || rst.stream != id || binary.BigEndian.Uint32(rst.payload) != 0x8:
			t.Fatalf("frame %d: type %d stream %d; want RST_STREAM(CANCEL) on %d", i+1, rst.typ, rst.stream, id)
		}
	}
	if n := len(ofType(srv.got(), 0x4)); n != 2 {
		t.Errorf("%d SETTINGS frames from the client, want its own and one ack", n)
	}
	if err := r.firstErr(); err != nil || r.n.Load() != 1 || r.conns.Load() != 0 {
		t.Fatalf("recorded %d, %v, %d held", r.n.Load(), err, r.conns.Load())
	}
	if left := env.Budget.Left(); left != 1000-51 {
		t.Errorf("budget left %d, want %d (one per stream, one for the connection)", left, 1000-51)
	}
}

// TestH2GoAway: the server's GOAWAY stops the attack and is recorded.
func TestH2GoAway(t *testing.T) {
	srv := startH2(t, func(c net.Conn, f h2Frame, n int) bool {
		if f.typ == 0x1 && f.stream == 19 {
			goaway := []byte{0, 0, 8, 7, 0, 0, 0, 0, 0, 0, 0, 0, 19, 0, 0, 0, 11} // ENHANCE_YOUR_CALM
			c.Write(goaway)
			time.Sleep(50 * time.Millisecond)
			return false
		}
		return true
	})
	env, r := newEnv(t, srv.url(), sim.Params{"streams": 100_000}, 1_000_000)
	Models()["h2-flood"].Run(t.Context(), env, sim.Client{Intended: time.Now()})
	err := r.firstErr()
	if !errors.Is(err, ErrGoAway) || !strings.Contains(err.Error(), "ENHANCE_YOUR_CALM") {
		t.Fatalf("recorded %v, want GOAWAY ENHANCE_YOUR_CALM", err)
	}
	t.Log(err)
}

func TestH2Continuation(t *testing.T) {
	srv := startH2(t, nil)
	env, r := newEnv(t, srv.url(), sim.Params{"mode": "continuation", "frames": 100, "frame_size": 512}, 1000)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Models()["h2-flood"].Run(ctx, env, sim.Client{Intended: time.Now()})
	}()
	eventually(t, 5*time.Second, "100 CONTINUATION frames", func() bool { return len(ofType(srv.got(), 0x9)) == 100 })
	fs := ofType(srv.got(), 0x1, 0x9)
	if fs[0].typ != 0x1 || fs[0].stream != 1 {
		t.Fatalf("first frame type %d on %d, want HEADERS on 1", fs[0].typ, fs[0].stream)
	}
	for i, f := range fs {
		if f.flags&0x4 != 0 || f.stream != 1 || (i > 0 && (f.typ != 0x9 || len(f.payload) < 400)) {
			t.Fatalf("frame %d: type %d stream %d flags %#x, %d bytes", i, f.typ, f.stream, f.flags, len(f.payload))
		}
	}
	if r.conns.Load() != 1 {
		t.Fatalf("%d connections held, want 1 while the block is open", r.conns.Load())
	}
	cancel()
	<-done
	if err := r.firstErr(); err != nil || r.conns.Load() != 0 {
		t.Fatalf("recorded %v, %d held", err, r.conns.Load())
	}
}

// goH2C is net/http's own server speaking h2c with prior knowledge: a
// check that the frames and header blocks are ones a real server takes.
func goH2C(t *testing.T, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.Protocols = new(http.Protocols)
	srv.Config.Protocols.SetUnencryptedHTTP2(true)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the attacks' protocol errors are expected
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestH2AgainstNetHTTP(t *testing.T) {
	var served atomic.Int64
	release := make(chan struct{})
	srv := goH2C(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/live/master.m3u8" && r.ProtoMajor == 2 && r.UserAgent() == defaultFloodUA {
			served.Add(1)
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	t.Run("streams", func(t *testing.T) {
		env, r := newEnv(t, srv.URL, sim.Params{"mode": "streams", "streams": 20}, 1000)
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() {
			defer close(done)
			Models()["h2-flood"].Run(ctx, env, sim.Client{Intended: time.Now()})
		}()
		eventually(t, 5*time.Second, "20 requests decoded by net/http", func() bool { return served.Load() == 20 })
		cancel()
		<-done
		if err := r.firstErr(); err != nil {
			t.Fatal(err)
		}
	})
	close(release)
	t.Run("rapid-reset", func(t *testing.T) {
		env, r := newEnv(t, srv.URL, sim.Params{"streams": 2000, "settle": "200ms"}, 10_000)
		Models()["h2-flood"].Run(t.Context(), env, sim.Client{Intended: time.Now()})
		err := r.firstErr()
		if err != nil && bytes.Contains([]byte(err.Error()), []byte("PROTOCOL_ERROR")) {
			t.Fatalf("net/http refused our frames: %v", err)
		}
		t.Logf("net/http's reaction to 2000 rapid resets: %v", err)
	})
	t.Run("continuation", func(t *testing.T) {
		env, r := newEnv(t, srv.URL, sim.Params{"mode": "continuation", "frames": 2000, "frame_size": 16000}, 10)
		ctx, cancel := context.WithTimeout(t.Context(), 3*time.Second)
		defer cancel()
		Models()["h2-flood"].Run(ctx, env, sim.Client{Intended: time.Now()})
		err := r.firstErr()
		if !errors.Is(err, ErrGoAway) && !errors.Is(err, ErrServerClosed) {
			t.Fatalf("recorded %v; net/http should end a 32 MB header block", err)
		}
		t.Logf("net/http's reaction to a CONTINUATION flood: %v", err)
	})
}

// TestH2OverTLS: ALPN h2 against net/http's TLS server.
func TestH2OverTLS(t *testing.T) {
	var served atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ProtoMajor == 2 {
			served.Add(1)
		}
	}))
	srv.EnableHTTP2 = true
	srv.StartTLS()
	defer srv.Close()
	env, r := newEnv(t, srv.URL, sim.Params{"mode": "streams", "streams": 10, "insecure": true}, 100)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Models()["h2-flood"].Run(ctx, env, sim.Client{Intended: time.Now()})
	}()
	eventually(t, 5*time.Second, "10 h2 requests over TLS", func() bool { return served.Load() == 10 })
	cancel()
	<-done
	if err := r.firstErr(); err != nil {
		t.Fatal(err)
	}
}
