package guard

import (
	"errors"
	"io"
	"net"
	"net/netip"
	"os"
	"syscall"
	"testing"
	"time"
)

// acceptAll serves ln until it closes, keeping the accepted connections
// open (they write nothing) until the returned stop is called.
func acceptAll(t *testing.T, ln net.Listener) (stop func() []net.Conn, accepted <-chan net.Conn) {
	t.Helper()
	ch := make(chan net.Conn, 64)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			ch <- c
		}
	}()
	return func() []net.Conn {
		ln.Close()
		<-done
		close(ch)
		var cs []net.Conn
		for c := range ch {
			cs = append(cs, c)
		}
		return cs
	}, ch
}

// dialFrom connects from the local address; nil when the server reset the
// connection so fast that connect itself reported it.
func dialFrom(t *testing.T, local, addr string) net.Conn {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(local)}, Timeout: time.Second}
	c, err := d.Dial("tcp", addr)
	if errors.Is(err, syscall.ECONNRESET) {
		return nil
	}
	if err != nil {
		t.Fatalf("dial from %s: %v", local, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedAtOnce reports whether the server closed c without writing a byte.
func closedAtOnce(c net.Conn) bool {
	if c == nil {
		return true
	}
	c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	var b [1]byte
	n, err := c.Read(b[:])
	if n > 0 {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return err != nil // EOF or reset
}

func TestLimitListener(t *testing.T) {
	tests := []struct {
		name         string
		perIP, total int
		dials        []string // local addresses, in order
		refused      []bool
	}{
		{"per ip", 3, 100,
			[]string{"127.0.0.2", "127.0.0.2", "127.0.0.2", "127.0.0.2", "127.0.0.3"},
			[]bool{false, false, false, true, false}},
		{"total", 10, 3,
			[]string{"127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5", "127.0.0.2"},
			[]bool{false, false, false, true, true}},
		{"no caps", 0, 0,
			[]string{"127.0.0.2", "127.0.0.2", "127.0.0.2", "127.0.0.2"},
			[]bool{false, false, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inner, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			var stats ConnStats
			ln := LimitListener(inner, tt.perIP, tt.total, &stats)
			stop, accepted := acceptAll(t, ln)
			var wantPerIP, wantTotal int64
			var open []net.Conn
			for i, local := range tt.dials {
				c := dialFrom(t, local, inner.Addr().String())
				if !tt.refused[i] {
					open = append(open, <-accepted) // counted: the order holds
				}
				if got := closedAtOnce(c); got != tt.refused[i] {
					t.Fatalf("dial %d from %s: closed at once = %v, want %v", i, local, got, tt.refused[i])
				}
				if tt.refused[i] && tt.name == "per ip" {
					wantPerIP++
				} else if tt.refused[i] {
					wantTotal++
				}
			}
			open = append(open, stop()...)
			if got := stats.RefusedPerIP.Load(); got != wantPerIP {
				t.Errorf("RefusedPerIP = %d, want %d", got, wantPerIP)
			}
			if got := stats.RefusedTotal.Load(); got != wantTotal {
				t.Errorf("RefusedTotal = %d, want %d", got, wantTotal)
			}
			if got := stats.Open.Load(); got != stats.Accepted.Load() || int(got) != len(tt.dials)-int(wantPerIP+wantTotal) {
				t.Errorf("Open = %d, Accepted = %d", got, stats.Accepted.Load())
			}
			for _, c := range open {
				c.Close()
				c.Close() // a second Close must not count twice
			}
			if got, n := stats.Open.Load(), ln.(*limitListener).tracked(); got != 0 || n != 0 {
				t.Fatalf("after closing: Open = %d, tracked addresses = %d", got, n)
			}
		})
	}
}

// TestLimitListenerSlotFreed checks that a closed connection frees its
// slot for the next one from the same address.
func TestLimitListenerSlotFreed(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := LimitListener(inner, 1, 0, nil)
	stop, accepted := acceptAll(t, ln)
	defer stop()
	dialFrom(t, "127.0.0.2", inner.Addr().String())
	first := <-accepted
	if c := dialFrom(t, "127.0.0.2", inner.Addr().String()); !closedAtOnce(c) {
		t.Fatal("second connection not refused")
	}
	first.Close()
	dialFrom(t, "127.0.0.2", inner.Addr().String())
	select {
	case c := <-accepted:
		c.Close()
	case <-time.After(2 * time.Second):
		t.Fatal("slot not freed after Close")
	}
}

// fakeListener hands out connections from alternating addresses without
// any socket, so that the benchmark measures the limiter alone.
type fakeListener struct {
	i  int
	ip [2]*net.TCPAddr
}

func (f *fakeListener) Accept() (net.Conn, error) {
	f.i++
	return &fakeConn{remote: f.ip[f.i%2]}, nil
}
func (f *fakeListener) Close() error   { return nil }
func (f *fakeListener) Addr() net.Addr { return f.ip[0] }

type fakeConn struct {
	net.Conn
	remote net.Addr
}

func (c *fakeConn) RemoteAddr() net.Addr        { return c.remote }
func (c *fakeConn) Close() error                { return nil }
func (c *fakeConn) Read(p []byte) (int, error)  { return 0, io.EOF }
func (c *fakeConn) Write(p []byte) (int, error) { return 0, os.ErrClosed }

// BenchmarkLimitRefuse measures a refusal (the address is at its cap) plus
// one accepted connection and its Close, per iteration.
func BenchmarkLimitRefuse(b *testing.B) {
	held := netip.MustParseAddr("192.0.2.1")
	f := &fakeListener{ip: [2]*net.TCPAddr{
		net.TCPAddrFromAddrPort(netip.AddrPortFrom(held, 1)),
		net.TCPAddrFromAddrPort(netip.MustParseAddrPort("192.0.2.2:1")),
	}}
	var stats ConnStats
	ln := LimitListener(f, 1, 0, &stats).(*limitListener)
	ln.admit(held) // 192.0.2.1 is at its cap from now on
	b.ReportAllocs()
	for b.Loop() {
		c, _ := ln.Accept()
		c.Close()
	}
	if stats.RefusedPerIP.Load() == 0 {
		b.Fatal("nothing refused")
	}
}

// BenchmarkLimitRefuseTCP measures the refusal of real TCP connections on
// loopback: the client's dial and the server's accept, reset and count.
// refused/s is what one accept loop turns away.
func BenchmarkLimitRefuseTCP(b *testing.B) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	var stats ConnStats
	ln := LimitListener(inner, 0, 1, &stats).(*limitListener)
	ln.admit(netip.MustParseAddr("192.0.2.1")) // total cap reached for good
	done := make(chan struct{})
	go func() { defer close(done); ln.Accept() }() // refuses all until closed
	b.ReportAllocs()
	start := time.Now()
	for b.Loop() {
		c, err := net.Dial("tcp", inner.Addr().String())
		if err == nil {
			c.Close()
		} else if !errors.Is(err, syscall.ECONNRESET) {
			b.Fatal(err)
		}
	}
	inner.Close()
	<-done
	b.ReportMetric(float64(stats.RefusedTotal.Load())/time.Since(start).Seconds(), "refused/s")
}
