package identity

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/testkit"
)

// chromeHello is the ClientHello of the JA4 technical description's example
// (Chrome), with GREASE values added and lists shuffled as a browser would.
func chromeHello() *tls.ClientHelloInfo {
	return &tls.ClientHelloInfo{
		CipherSuites: []uint16{0x3a3a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030,
			0xcca9, 0xcca8, 0xc013, 0xc014, 0x009c, 0x009d, 0x002f, 0x0035},
		Extensions: []uint16{0x9a9a, 0x0000, 0x0017, 0xff01, 0x000a, 0x000b, 0x0023, 0x0010,
			0x0005, 0x000d, 0x0012, 0x0033, 0x002d, 0x002b, 0x001b, 0x4469, 0x0015, 0xdada},
		SignatureSchemes:  []tls.SignatureScheme{0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601},
		SupportedVersions: []uint16{0x2a2a, tls.VersionTLS13, tls.VersionTLS12},
		SupportedProtos:   []string{"h2", "http/1.1"},
		ServerName:        "tv.example",
	}
}

func TestHelloFingerprint(t *testing.T) {
	const chrome = "t13d1516h2_8daaf6152771_e5627efa2ab1" // from the JA4 description
	tests := []struct {
		name   string
		change func(h *tls.ClientHelloInfo)
		want   string
	}{
		{"chrome", func(*tls.ClientHelloInfo) {}, chrome},
		{"no sni", func(h *tls.ClientHelloInfo) {
			h.Extensions = h.Extensions[2:] // drops GREASE and SNI
			h.ServerName = ""
		}, "t13i1515h2_8daaf6152771_e5627efa2ab1"},
		{"tls 1.2, http/1.1", func(h *tls.ClientHelloInfo) {
			h.SupportedVersions = []uint16{tls.VersionTLS12}
			h.SupportedProtos = []string{"http/1.1"}
		}, "t12d1516h1_8daaf6152771_e5627efa2ab1"},
		{"no alpn", func(h *tls.ClientHelloInfo) { h.SupportedProtos = nil }, "t13d1516" + "00_8daaf6152771_e5627efa2ab1"},
		{"odd alpn", func(h *tls.ClientHelloInfo) { h.SupportedProtos = []string{"\xabx\x09"} }, "t13d1516a9_8daaf6152771_e5627efa2ab1"},
		{"empty lists", func(h *tls.ClientHelloInfo) {
			*h = tls.ClientHelloInfo{}
		}, "t00i000000_000000000000_000000000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := chromeHello()
			tt.change(h)
			fp, s := HelloFingerprint(h)
			if s != tt.want {
				t.Fatalf("HelloFingerprint = %s, want %s", s, tt.want)
			}
			if fp != fnv64([]byte(s)) || fp == 0 {
				t.Fatalf("hash %x does not match the string", fp)
			}
		})
	}
}

// TestTLSFingerprintOverTheWire runs real handshakes through the hooks and
// checks the fingerprint reaches the request and the registry empties.
func TestTLSFingerprintOverTheWire(t *testing.T) {
	for _, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				fmt.Fprintf(w, "%s %x %s", JA4From(r.Context()), TLSFingerprintFrom(r.Context()), r.Proto)
			}))
			srv.EnableHTTP2 = h2
			srv.TLS = TLSConfig(nil)
			srv.Config.ConnContext = ConnContext
			srv.Config.ConnState = ConnState
			srv.StartTLS()
			defer srv.Close()
			got := get(t, srv.Client(), srv.URL)
			var ja4, hash, proto string
			fmt.Sscan(got, &ja4, &hash, &proto)
			alpn := "00"
			if h2 {
				alpn = "h2"
			}
			if !strings.HasPrefix(ja4, "t13i") || ja4[8:10] != alpn || len(ja4) != 36 {
				t.Fatalf("JA4 = %q (%s)", ja4, proto)
			}
			if hash != fmt.Sprintf("%x", fnv64([]byte(ja4))) {
				t.Fatalf("TLSFingerprintFrom = %s, want the hash of %s", hash, ja4)
			}
			if n := hellos.len(); n != 0 {
				t.Fatalf("registry holds %d connections after the handshake", n)
			}
		})
	}
}

func TestRegistryForgetsConnsWithoutHello(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.NotFoundHandler())
	srv.TLS = TLSConfig(nil)
	srv.Config.ConnContext = ConnContext
	srv.Config.ConnState = ConnState
	srv.StartTLS()
	defer srv.Close()
	for range 5 {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.Write([]byte("GET / HTTP/1.1\r\n\r\n")) // not a ClientHello
		c.Close()
	}
	deadline := time.Now().Add(5 * time.Second)
	for hellos.len() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("registry still holds %d connections", hellos.len())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestPlainConnHasNoTLSFingerprint(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%d %s", TLSFingerprintFrom(r.Context()), Peer(r))
	}))
	srv.Config.ConnContext = ConnContext
	srv.Config.ConnState = ConnState
	srv.Start()
	defer srv.Close()
	if got := get(t, srv.Client(), srv.URL); got != "0 127.0.0.1" {
		t.Fatalf("got %q", got)
	}
}

func get(t *testing.T, c *http.Client, url string) string {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, b := testkit.Fetch(t, c, req)
	return string(b)
}

func BenchmarkHelloFingerprint(b *testing.B) {
	h := chromeHello()
	b.ReportAllocs()
	for b.Loop() {
		HelloFingerprint(h)
	}
}
