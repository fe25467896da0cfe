// Package testkit holds the helpers that tests across rempart share: finding
// the real programs they drive (ffmpeg, ffprobe, python3) and speaking raw
// HTTP/1.1 to a server, for requests a client library refuses to build.
// Only test files import it.
package testkit

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/netip"
	"os/exec"
	"sync/atomic"
	"testing"
	"time"
)

// NeedTool returns the path of the program name. `make test` installs the
// programs the suite drives, so a missing one fails the test; only -short
// runs skip.
func NeedTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if testing.Short() {
			t.Skipf("%s not installed (skipped under -short)", name)
		}
		t.Fatalf("%s not installed: run `make test`, which installs it", name)
	}
	return p
}

// RawStatus sends req as raw bytes to addr and returns the status code of
// the answer. The request is written concurrently, so a server that answers
// before reading a huge request whole does not deadlock the test.
func RawStatus(t testing.TB, addr, req string) int {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	go io.WriteString(c, req)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("read response: %v", err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// crowdAddrs numbers the source addresses of every CrowdTransport, so that
// two transports never share one.
var crowdAddrs atomic.Uint32

// CrowdTransport returns a transport whose every new connection comes from
// its own loopback address (127.1.0.1, 127.1.0.2, ...: Linux routes all of
// 127.0.0.0/8 to the loopback interface), so that a test crowd looks like
// many people to per-address limits, as siege's clients do.
func CrowdTransport(maxConns int) *http.Transport {
	return &http.Transport{
		MaxIdleConnsPerHost: maxConns,
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			i := crowdAddrs.Add(1)
			src := netip.AddrFrom4([4]byte{127, byte(1 + i>>16%254), byte(i >> 8), byte(i)})
			d := net.Dialer{Timeout: 5 * time.Second, LocalAddr: net.TCPAddrFromAddrPort(netip.AddrPortFrom(src, 0))}
			return d.DialContext(ctx, network, addr)
		},
	}
}

// Fetch sends req with c (nil: http.DefaultClient) and returns the
// response, its body read whole and closed; any error fails the test.
func Fetch(t testing.TB, c *http.Client, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}
