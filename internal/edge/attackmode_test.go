package edge

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/filter/challenge"
	"github.com/rempart/rempart/internal/mitigation"
)

// TestAttackModeSparesViewers: when the detector turns attack mode on, a
// viewer already watching keeps getting segments, while a newcomer without
// clearance is sent to the challenge (403 JSON for a player).
func TestAttackModeSparesViewers(t *testing.T) {
	e, get := segmentEdge(t)
	if code := get("127.0.0.2"); code != 200 {
		t.Fatalf("viewer before attack mode: %d", code)
	}
	if _, err := e.def.shield.Apply(mitigation.Mitigation{ID: "am", Kind: mitigation.AttackMode, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	if code := get("127.0.0.2"); code != 200 {
		t.Errorf("viewer already watching was challenged: %d", code)
	}
	if code := get("127.0.0.3"); code != 403 {
		t.Errorf("newcomer in attack mode got %d, want 403 (challenge)", code)
	}
}

// TestAttackModeOwnPagesNotWatching: a client that asks a segment as a
// document gets the challenge page (200) in attack mode; that page is not
// the segment, so the client is not counted as watching and stays
// challenged on every other path (issue 11, hole 1: it was exempted for
// 30 s, renewable, the API included).
func TestAttackModeOwnPagesNotWatching(t *testing.T) {
	e, _ := segmentEdge(t)
	if _, err := e.def.shield.Apply(mitigation.Mitigation{ID: "am", Kind: mitigation.AttackMode, Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	for client, doc := range map[string]string{"127.0.0.4": "Accept: text/html", "127.0.0.5": "Sec-Fetch-Dest: document"} {
		if code, body := fetchFrom(e, client, "/x.ts", doc); code != 200 || !strings.Contains(body, challenge.VerifyPath) {
			t.Fatalf("%s: /x.ts as a document got %d, want the challenge page", client, code)
		}
		for _, path := range []string{"/api/me", "/live/a/1.ts"} {
			if code, _ := fetchFrom(e, client, path); code != 403 {
				t.Errorf("%s, after the challenge page for /x.ts: %s got %d, want 403 (not exempted)", client, path, code)
			}
		}
		if code, body := fetchFrom(e, client, "/x.ts", doc); code != 200 || !strings.Contains(body, challenge.VerifyPath) {
			t.Errorf("%s: /x.ts as a document again got %d, want the challenge page again", client, code)
		}
	}
}

// TestChallengePrefixScoped: a challenged prefix sends its newcomers to the
// challenge; its viewer already watching and every other prefix pass.
func TestChallengePrefixScoped(t *testing.T) {
	e, get := segmentEdge(t)
	if code := get("127.0.0.2"); code != 200 {
		t.Fatalf("viewer before the challenge: %d", code)
	}
	if _, err := e.def.shield.Apply(mitigation.Mitigation{ID: "cp", Kind: mitigation.ChallengePrefix,
		Prefix: netip.MustParsePrefix("127.0.0.0/24"), Reason: "test"}); err != nil {
		t.Fatal(err)
	}
	for client, want := range map[string]int{"127.0.0.2": 200, "127.0.0.3": 403, "127.0.1.3": 200} {
		if code := get(client); code != want {
			t.Errorf("%s got %d, want %d", client, code, want)
		}
	}
}

// segmentEdge is a default edge in front of an origin of cacheable
// segments, and a function that GETs one from a client address.
func segmentEdge(t *testing.T) (*Edge, func(client string) int) {
	o := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60")
		io.WriteString(w, "segment")
	}))
	t.Cleanup(o.Close)
	cfg, err := config.Quick("127.0.0.1:0", o.URL)
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(cfg, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	return e, func(client string) int {
		code, _ := fetchFrom(e, client, "/live/a/1.ts")
		return code
	}
}

// fetchFrom GETs path from e as client with headers ("Name: value") and
// returns the status and body.
func fetchFrom(e *Edge, client, path string, headers ...string) (int, string) {
	r := httptest.NewRequest("GET", path, nil)
	r.RemoteAddr = client + ":40000"
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ":")
		r.Header.Set(k, strings.TrimSpace(v))
	}
	w := httptest.NewRecorder()
	e.ServeHTTP(w, r)
	return w.Code, w.Body.String()
}
