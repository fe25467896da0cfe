package guard

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"testing"
	"time"

	"go.uber.org/goleak"
)

// v2 builds a PROXY v2 header as the spec lays it out: signature,
// version 2 and command, family and transport, length, then body.
func v2(cmd, fam byte, body ...[]byte) []byte {
	b := append([]byte{}, proxySig[:]...)
	b = append(b, 0x20|cmd, fam)
	n := 0
	for _, p := range body {
		n += len(p)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	for _, p := range body {
		b = append(b, p...)
	}
	return b
}

// addrs is the address block for src and dst: addresses then ports.
func addrs(src, dst string) []byte {
	s, d := netip.MustParseAddrPort(src), netip.MustParseAddrPort(dst)
	b := append(s.Addr().AsSlice(), d.Addr().AsSlice()...)
	b = binary.BigEndian.AppendUint16(b, s.Port())
	return binary.BigEndian.AppendUint16(b, d.Port())
}

// tlv is a type-length-value record (e.g. PP2_TYPE_AUTHORITY 0x02).
func tlv(typ byte, v string) []byte {
	return append(binary.BigEndian.AppendUint16([]byte{typ}, uint16(len(v))), v...)
}

func TestParseProxyHeader(t *testing.T) {
	tests := []struct {
		name     string
		in       []byte
		src, dst string // "" for the connection's own endpoints
		err      bool
	}{
		{"tcp4", v2(1, 0x11, addrs("198.51.100.7:40000", "203.0.113.1:443")), "198.51.100.7:40000", "203.0.113.1:443", false},
		{"tcp6", v2(1, 0x21, addrs("[2001:db8::7]:40000", "[2001:db8::1]:443")), "[2001:db8::7]:40000", "[2001:db8::1]:443", false},
		{"tcp4 with tlvs", v2(1, 0x11, addrs("198.51.100.7:1", "203.0.113.1:80"), tlv(0x02, "tv.example"), tlv(0x05, "id-1")), "198.51.100.7:1", "203.0.113.1:80", false},
		{"v4-mapped in tcp6", v2(1, 0x21, addrs("[::ffff:198.51.100.7]:1", "[::ffff:203.0.113.1]:80")), "198.51.100.7:1", "203.0.113.1:80", false},
		{"local", v2(0, 0x00), "", "", false},
		{"local ignores family", v2(0, 0x11, addrs("198.51.100.7:1", "203.0.113.1:80")), "", "", false},
		{"unspec", v2(1, 0x00), "", "", false},
		{"udp4", v2(1, 0x12, addrs("198.51.100.7:1", "203.0.113.1:80")), "", "", true},
		{"unix", v2(1, 0x31, make([]byte, 216)), "", "", true},
		{"short tcp4 block", v2(1, 0x11, make([]byte, 8)), "", "", true},
		{"short tcp6 block", v2(1, 0x21, addrs("198.51.100.7:1", "203.0.113.1:80")), "", "", true},
		{"command 2", v2(2, 0x11, addrs("198.51.100.7:1", "203.0.113.1:80")), "", "", true},
		{"version 1 binary", append(append([]byte{}, proxySig[:]...), 0x11, 0x11, 0, 0), "", "", true},
		{"version 1 text", []byte("PROXY TCP4 198.51.100.7 203.0.113.1 1 80\r\n"), "", "", true},
		{"http", []byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), "", "", true},
		{"truncated", v2(1, 0x11, addrs("198.51.100.7:1", "203.0.113.1:80"))[:20], "", "", true},
		{"too long", v2(1, 0x11, addrs("198.51.100.7:1", "203.0.113.1:80"), make([]byte, proxyMaxLen)), "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n, err := parseProxyHeader(tt.in)
			if (err != nil) != tt.err {
				t.Fatalf("err = %v, want error %v", err, tt.err)
			}
			if err != nil {
				if !errors.Is(err, ErrProxyHeader) {
					t.Fatalf("err = %v, not ErrProxyHeader", err)
				}
				return
			}
			if n != len(tt.in) {
				t.Fatalf("length %d, want %d", n, len(tt.in))
			}
			if got := addrString(h.src); got != tt.src {
				t.Fatalf("src = %s, want %s", got, tt.src)
			}
			if got := addrString(h.dst); got != tt.dst {
				t.Fatalf("dst = %s, want %s", got, tt.dst)
			}
			// Reading from a stream stops exactly at the header's end.
			r := bytes.NewReader(append(append([]byte{}, tt.in...), "GET"...))
			if _, err := readProxyHeader(r); err != nil || r.Len() != 3 {
				t.Fatalf("readProxyHeader: err %v, %d bytes left, want 3", err, r.Len())
			}
		})
	}
}

func addrString(a netip.AddrPort) string {
	if !a.IsValid() {
		return ""
	}
	return a.String()
}

// FuzzProxyHeader checks the parser never panics nor reads past its input,
// and that reading from a stream agrees with parsing a buffer.
func FuzzProxyHeader(f *testing.F) {
	f.Add(v2(1, 0x11, addrs("198.51.100.7:40000", "203.0.113.1:443")))
	f.Add(v2(1, 0x21, addrs("[2001:db8::7]:1", "[2001:db8::1]:2"), tlv(1, "h2")))
	f.Add(v2(0, 0x00))
	f.Add([]byte("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, n, err := parseProxyHeader(b)
		if err != nil {
			if n != 0 {
				t.Fatalf("error with length %d", n)
			}
		} else if n < proxyFixedLen || n > len(b) || n > proxyFixedLen+proxyMaxLen {
			t.Fatalf("length %d of %d bytes", n, len(b))
		}
		if h.src.IsValid() && (h.src.Addr().Is4In6() || !h.dst.IsValid()) {
			t.Fatalf("header %+v", h)
		}
		r := bytes.NewReader(b)
		h2, err2 := readProxyHeader(r)
		if (err == nil) != (err2 == nil) || h2 != h {
			t.Fatalf("parse: %+v %v; read: %+v %v", h, err, h2, err2)
		}
		if err == nil && r.Len() != len(b)-n {
			t.Fatalf("read %d bytes, header is %d", len(b)-r.Len(), n)
		}
	})
}

// proxyServer serves RemoteAddr on a ProxyListener (trusting 127.0.0.2)
// under a LimitListener with perIP.
func proxyServer(t *testing.T, perIP int, timeout time.Duration) (addr string, stats *ConnStats) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stats = new(ConnStats)
	trusted := []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}
	ln := LimitListener(ProxyListener(inner, trusted, timeout, stats), perIP, 0, stats)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.RemoteAddr)
	}), ReadHeaderTimeout: 2 * time.Second}
	done := make(chan struct{})
	go func() { defer close(done); srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return inner.Addr().String(), stats
}

// ask sends prefix then a GET on a connection from local, and returns the
// body, or an error when the server closed the connection or refused the
// request.
func ask(t *testing.T, local, addr string, prefix []byte) (string, error) {
	t.Helper()
	c := dialFrom(t, local, addr)
	if c == nil {
		return "", errors.New("reset at connect")
	}
	c.SetDeadline(time.Now().Add(3 * time.Second))
	c.Write(prefix)
	fmt.Fprintf(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return string(b), err
}

func TestProxyListenerOverTheWire(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // after the server's cleanup
	addr, stats := proxyServer(t, 1, 300*time.Millisecond)
	hdr := v2(1, 0x11, addrs("198.51.100.7:40000", "203.0.113.1:443"))
	tests := []struct {
		name, local string
		prefix      []byte
		want        string // "" when the connection must be closed
	}{
		{"trusted proxy", "127.0.0.2", hdr, "198.51.100.7:40000"},
		{"trusted local command", "127.0.0.2", v2(0, 0), "127.0.0.2:"},
		{"untrusted peer sends http", "127.0.0.3", nil, "127.0.0.3:"},
		{"untrusted peer's header is bad http", "127.0.0.3", hdr, ""},
		{"trusted without header", "127.0.0.2", nil, ""},
		{"trusted with v1 header", "127.0.0.2", []byte("PROXY TCP4 198.51.100.7 203.0.113.1 1 80\r\n"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ask(t, tt.local, addr, tt.prefix)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("served %q, want the connection closed", got)
				}
				return
			}
			if err != nil || len(got) < len(tt.want) || got[:len(tt.want)] != tt.want {
				t.Fatalf("RemoteAddr = %q (%v), want %s…", got, err, tt.want)
			}
		})
	}
	if got := stats.ProxyRefused.Load(); got != 2 {
		t.Errorf("ProxyRefused = %d, want 2", got)
	}
}

// TestProxyListenerFeedsLimits checks that the caps count the client named
// by the header, not the proxy, and that a stalled header holds up nobody.
func TestProxyListenerFeedsLimits(t *testing.T) {
	addr, stats := proxyServer(t, 1, 2*time.Second)
	stalled := dialFrom(t, "127.0.0.2", addr) // trusted, sends nothing yet
	stalled.Write(proxySig[:6])

	hold := dialFrom(t, "127.0.0.2", addr)
	hold.Write(v2(1, 0x11, addrs("198.51.100.7:1", "203.0.113.1:443")))
	deadline := time.Now().Add(2 * time.Second)
	for stats.Open.Load() != 1 {
		if time.Now().After(deadline) {
			t.Fatal("proxied connection not accepted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := ask(t, "127.0.0.2", addr, v2(1, 0x11, addrs("198.51.100.7:2", "203.0.113.1:443"))); err == nil {
		t.Fatal("second connection of 198.51.100.7 served, want refused")
	}
	if got, err := ask(t, "127.0.0.2", addr, v2(1, 0x11, addrs("198.51.100.8:1", "203.0.113.1:443"))); err != nil {
		t.Fatalf("another client behind the same proxy: %v %q", err, got)
	}
	if stats.RefusedPerIP.Load() != 1 {
		t.Fatalf("RefusedPerIP = %d, want 1", stats.RefusedPerIP.Load())
	}
}

func TestProxyListenerNothingTrusted(t *testing.T) {
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer inner.Close()
	if ln := ProxyListener(inner, nil, 0, nil); ln != inner {
		t.Fatal("ProxyListener without trusted proxies wraps the listener")
	}
}
