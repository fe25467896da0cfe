// Package testkit holds the helpers that tests across rempart share: finding
// the real programs they drive (ffmpeg, ffprobe, python3) and speaking raw
// HTTP/1.1 to a server, for requests a client library refuses to build.
// Only test files import it.
package testkit

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"os/exec"
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
