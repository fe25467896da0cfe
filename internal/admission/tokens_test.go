package admission

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/playtoken"
	"github.com/rempart/rempart/internal/telemetry"
)

var platformSecret = []byte("platform-secret-0123456789")

// tokenFixture is a room whose gated requests check the platform's tokens.
func tokenFixture(t *testing.T, required bool, maxStreams int) *fixture {
	t.Helper()
	keys := filepath.Join(t.TempDir(), "platform.keys")
	if err := os.WriteFile(keys, append(platformSecret, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(0, func(a *config.Admission) {
		a.Tokens = config.PlaybackTokens{KeysFile: keys, Required: required, MaxStreamsPerAccount: maxStreams}
	})
	f := newFixture(t, cfg)
	tk, err := NewTokens(cfg.Tokens)
	if err != nil {
		t.Fatal(err)
	}
	f.stage.Tokens = tk
	return f
}

func (f *fixture) mint(sub, path string, exp time.Time) string {
	f.t.Helper()
	tok, err := playtoken.Sign(platformSecret, playtoken.Claims{Subject: sub, Path: path, Expiry: exp}, "rempart")
	if err != nil {
		f.t.Fatal(err)
	}
	return tok
}

// withToken sends a gated request for path as v with the token in the
// query, as a tokenised URL carries it.
func (f *fixture) withToken(v *viewer, path, tok string) reply {
	f.t.Helper()
	req := httptest.NewRequest(http.MethodGet, path+"?token="+tok, nil)
	req.Header.Set("User-Agent", v.ua)
	if v.session != "" {
		req.Header.Set(SessionHeader, v.session)
	}
	return f.send(v, req, telemetry.ClassMaster)
}

func TestPlaybackTokens(t *testing.T) {
	f := tokenFixture(t, true, 0)
	now := f.clk.now()
	good := f.mint("acct-1", "/live/", now.Add(time.Hour))
	tests := []struct {
		name, path, tok string
		code            int
		reason          string
	}{
		{"valid", "/live/master.m3u8", good, 200, ""},
		{"no token", "/live/master.m3u8", "", 401, "token_required"},
		{"forged", "/live/master.m3u8", good[:len(good)-2] + "xx", 401, "bad_token"},
		{"expired (a leaked URL)", "/live/master.m3u8", f.mint("acct-1", "/live/", now.Add(-time.Hour)), 401, "bad_token"},
		{"other path", "/vod/master.m3u8", good, 403, "token_scope"},
		{"traversal out of scope", "/live/../admin/master.m3u8", good, 403, "token_scope"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := newViewer("192.0.2.1")
			var rp reply
			if tt.tok == "" {
				rp = f.get(v, tt.path)
			} else {
				rp = f.withToken(v, tt.path, tt.tok)
			}
			if rp.code != tt.code || rp.answer.Reason != tt.reason {
				t.Errorf("got %d %+v, want %d %s", rp.code, rp.answer, tt.code, tt.reason)
			}
		})
	}
}

func TestSessionNeedsNoTokenOnceAdmitted(t *testing.T) {
	f := tokenFixture(t, true, 0)
	v := newViewer("192.0.2.1")
	if rp := f.withToken(v, "/live/master.m3u8", f.mint("a", "", f.clk.now().Add(time.Minute))); rp.code != 200 {
		t.Fatalf("admission with a token: %d", rp.code)
	}
	for range 12 { // the token expires; the session lives on use
		f.tick(10 * time.Second)
		if rp := f.get(v, "/live/seg.ts"); rp.code != 200 {
			t.Fatalf("segment of an admitted session without a token: %d, want 200", rp.code)
		}
	}
}

func TestStreamsPerAccount(t *testing.T) {
	f := tokenFixture(t, false, 2)
	tok := f.mint("family", "", f.clk.now().Add(time.Hour))
	for i, ip := range []string{"192.0.2.1", "198.51.100.1"} {
		if rp := f.withToken(newViewer(ip), "/live/master.m3u8", tok); rp.code != 200 {
			t.Fatalf("stream %d: %d, want 200", i+1, rp.code)
		}
	}
	rp := f.withToken(newViewer("203.0.113.1"), "/live/master.m3u8", tok)
	if rp.code != 403 || rp.answer.Reason != "account_limit" {
		t.Errorf("third stream of the account: %d %+v, want 403 account_limit", rp.code, rp.answer)
	}
	if rp := f.withToken(newViewer("203.0.113.2"), "/live/master.m3u8", f.mint("other", "", f.clk.now().Add(time.Hour))); rp.code != 200 {
		t.Errorf("another account: %d, want 200", rp.code)
	}
	f.tick(31 * time.Second) // both family streams end
	if rp := f.withToken(newViewer("203.0.113.1"), "/live/master.m3u8", tok); rp.code != 200 {
		t.Errorf("after the account's streams ended: %d, want 200", rp.code)
	}
}
