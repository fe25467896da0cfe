package viewer

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/filter/challenge"
	"github.com/rempart/rempart/internal/testkit"
)

// TestReadChallengeFromTheEdgesPage: the viewer finds the challenge and
// its difficulty in the page the edge really renders (a change of the
// page's markup breaks this test, not a siege run), and its solution is
// one the edge accepts; the 403 that points at the page is recognized.
func TestReadChallengeFromTheEdgesPage(t *testing.T) {
	c, err := challenge.New(config.Challenge{Difficulty: 8, MaxDifficulty: 12, ClearanceTTL: time.Hour}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(&challenge.Stage{C: c, Active: func() bool { return true },
		Next: http.NotFoundHandler()})
	defer srv.Close()
	get := func(path string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		req.Header.Set("User-Agent", "rempart-siege/1")
		return testkit.Fetch(t, nil, req)
	}

	resp, body := get("/live/master.m3u8")
	ref, ok := challengeRef(response{status: resp.StatusCode, body: body})
	if !ok {
		t.Fatalf("a player's request in attack mode: %d %s; want a 403 pointing at the challenge", resp.StatusCode, body)
	}
	resp, page := get(ref)
	if resp.StatusCode != 200 {
		t.Fatalf("challenge page %s: %d", ref, resp.StatusCode)
	}
	ch, bits, err := readChallenge(page)
	if err != nil || bits != 8 {
		t.Fatalf("readChallenge: %q %d %v; want the challenge at 8 bits", ch, bits, err)
	}
	form := url.Values{"challenge": {ch}, "counter": {challenge.Solve(ch, bits)}, "return": {"/"}}
	req, _ := http.NewRequest(http.MethodPost, srv.URL+challenge.VerifyPath, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "rempart-siege/1")
	nofollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	ans, err := nofollow.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	ans.Body.Close()
	if ans.StatusCode != http.StatusSeeOther || len(ans.Cookies()) == 0 || ans.Cookies()[0].Name != challenge.CookieName {
		t.Fatalf("verify: %d %v; want 303 with the clearance cookie", ans.StatusCode, ans.Cookies())
	}

	for _, bad := range []string{"", "<html>", `data-difficulty="99" name="challenge" value="x"`} {
		if _, _, err := readChallenge([]byte(bad)); err == nil {
			t.Errorf("readChallenge(%q) found a challenge", bad)
		}
	}
	if _, ok := challengeRef(response{status: 403, body: []byte(`{"status":"refused","reason":"blocked"}`)}); ok {
		t.Error("a refusal without a challenge was taken for one")
	}
}
