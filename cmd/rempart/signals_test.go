package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestMain lets the test binary run as the rempart command when
// REMPART_TEST_MAIN=1, so signal handling is tested on the real main.
func TestMain(m *testing.M) {
	if os.Getenv("REMPART_TEST_MAIN") == "1" {
		main()
		os.Exit(0)
	}
	code := m.Run()
	removeSiegeBinary()
	os.Exit(code)
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func writeConfig(t *testing.T, path, listen, origin string) {
	t.Helper()
	cfg := fmt.Sprintf("listen: %q\nadmin:\n  listen: \"off\"\nsites:\n  - name: s\n    hosts: [\"*\"]\n    origins:\n      - url: %q\n", listen, origin)
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestSignals: SIGHUP reloads the file, a bad file keeps the running
// configuration, SIGTERM drains and exits 0.
func TestSignals(t *testing.T) {
	a := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "A") }))
	defer a.Close()
	b := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "B") }))
	defer b.Close()
	path := filepath.Join(t.TempDir(), "rempart.yaml")
	listen := freePort(t)
	writeConfig(t, path, listen, a.URL)

	cmd := exec.Command(os.Args[0], "serve", "--config", path)
	cmd.Env = append(os.Environ(), "REMPART_TEST_MAIN=1")
	stderr := &syncBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	url := "http://" + listen + "/api/who"
	waitBody(t, url, "A", stderr)

	writeConfig(t, path, listen, b.URL)
	cmd.Process.Signal(syscall.SIGHUP)
	waitBody(t, url, "B", stderr)

	os.WriteFile(path, []byte("sites: [ {name: BAD} ]\n"), 0o600)
	cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	waitBody(t, url, "B", stderr)

	cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("still running 10 s after SIGTERM\n%s", stderr.String())
	}
	log := stderr.String()
	for _, want := range []string{"configuration reloaded", "reload failed", "sites[0].name", "shutting down"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
}

func waitBody(t *testing.T, url, want string, stderr *syncBuffer) {
	t.Helper()
	var last string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url)
		if err != nil {
			last = err.Error()
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if last = string(body); last == want {
			return
		}
	}
	t.Fatalf("GET %s: last answer %q, want %q\n%s", url, last, want, stderr.String())
}
