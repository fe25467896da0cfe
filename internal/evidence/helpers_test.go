package evidence

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/telemetry"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var t0 = time.Date(2026, 3, 14, 20, 0, 0, 0, time.UTC)

// clock is a fake clock tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { c.t = c.t.Add(time.Millisecond); return c.t }

// open opens a log in dir that keeps every refused request.
func open(t *testing.T, dir string, cfg config.Evidence) *Log {
	t.Helper()
	cfg.Dir = dir
	if cfg.SampleRate == 0 {
		cfg.SampleRate = 1
	}
	if cfg.PerSecond == 0 {
		cfg.PerSecond = 1_000_000
	}
	c := &clock{t: t0}
	l, err := Open(cfg, slog.New(slog.DiscardHandler), c.now)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// start runs l's writer; the returned stop cancels it and checks its error.
func start(t *testing.T, l *Log) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	return func() {
		t.Helper()
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
	}
}

// request builds a refused request from client number i at t0 + i seconds.
func request(i int) (*telemetry.Record, *http.Request) {
	r := httptest.NewRequest("GET", fmt.Sprintf("http://tv.example/api/search?q=%d", i), nil)
	r.Header.Set("User-Agent", "flood/1.0")
	r.Header.Set("Cookie", "session=secret")
	rec := &telemetry.Record{Start: t0.Add(time.Duration(i) * time.Second),
		Client: netip.AddrFrom4([4]byte{203, 0, 113, byte(i % 7)}), Class: telemetry.ClassAPI, Status: 429}
	rec.Decide("filter", telemetry.OutcomeRefused, "rate_ip")
	return rec, r
}

// write appends n refused requests, numbered from first, through Observe.
func write(t *testing.T, l *Log, first, n int) {
	t.Helper()
	stop := start(t, l)
	for i := first; i < first+n; i++ {
		rec, r := request(i)
		l.Observe(rec, r, t0)
	}
	waitWritten(t, l, uint64(n))
	stop()
}

func waitWritten(t *testing.T, l *Log, n uint64) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for l.Stats().Written < n+0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
}

// testKeys key entries that tests build without a Log.
var testKeys, _ = NewKeys([]byte(strings.Repeat("k", MinKeyLen)))

// testRedactor redacts with testKeys and no extra names.
var testRedactor = newRedactor(testKeys.signer(), nil)

// checkLine parses line and checks its hash under ks.
func checkLine(ks *Keys, line []byte) error {
	e, body, claimed, err := parseLine(line)
	if err != nil {
		return err
	}
	return checkHash(ks, &e, body, claimed)
}

// keysOf loads the keys Open wrote for the log in dir (its default key
// file).
func keysOf(t *testing.T, dir string) *Keys {
	t.Helper()
	ks, err := LoadKeys(dir + ".key")
	if err != nil {
		t.Fatal(err)
	}
	return ks
}

// verify runs Verify on dir with its keys.
func verify(t *testing.T, dir string) (Report, error) {
	t.Helper()
	return Verify(dir, VerifyOptions{Keys: keysOf(t, dir)})
}

// verifyOK runs Verify and fails unless the chain holds.
func verifyOK(t *testing.T, dir string) Report {
	t.Helper()
	rep, err := verify(t, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK() {
		t.Fatalf("chain broken: %v (%d problems)", rep.First, rep.Problems)
	}
	return rep
}

// files returns dir's segment paths, oldest first.
func files(t *testing.T, dir string) []string {
	t.Helper()
	segs, err := listSegments(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, s := range segs {
		out = append(out, filepath.Join(dir, s.name))
	}
	return out
}

// lines returns the lines of the file at path.
func lines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.SplitAfter(string(data), "\n")
}
