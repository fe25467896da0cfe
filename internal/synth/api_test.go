package synth

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

func TestCatalog(t *testing.T) {
	_, ts := startServer(t, Options{})
	resp, body := get(t, ts.URL+"/api/catalog")
	if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != "public, max-age=5" ||
		resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("catalog: %s %v", resp.Status, resp.Header)
	}
	var c struct {
		Channels []struct{ URL string } `json:"channels"`
		Tracks   []struct{ URL string } `json:"tracks"`
	}
	if err := json.Unmarshal(body, &c); err != nil || len(c.Channels) != 1 || len(c.Tracks) != 3 {
		t.Fatalf("catalog %s: %v", body, err)
	}
	for _, u := range []string{c.Channels[0].URL, c.Tracks[0].URL} {
		if resp, _ := get(t, ts.URL+u); resp.StatusCode != 200 {
			t.Errorf("catalog URL %s: %s", u, resp.Status)
		}
	}
}

func TestLogin(t *testing.T) {
	s, ts := startServer(t, Options{})
	post := func(body string) (*http.Response, []byte) {
		req, _ := http.NewRequest(http.MethodPost, ts.URL+"/api/login", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		return fetch(t, req)
	}
	resp, body := post(`{"username":"ana","password":"secret"}`)
	var sess session
	if resp.StatusCode != 200 || json.Unmarshal(body, &sess) != nil || len(sess.Token) != 32 {
		t.Fatalf("login: %s %s", resp.Status, body)
	}
	if cc := resp.Header.Get("Cache-Control"); cc != "private, no-store" {
		t.Errorf("login Cache-Control %q", cc)
	}
	cookies := resp.Cookies()
	if len(cookies) != 1 || cookies[0].Name != "session" || cookies[0].Value != sess.Token || !cookies[0].HttpOnly {
		t.Errorf("login cookies %v", cookies)
	}
	for _, tc := range []struct {
		name, body string
		want       int
	}{
		{"bad json", `{"username":`, 400},
		{"not an object", `[1,2]`, 400},
		{"unknown field", `{"username":"a","password":"b","admin":true}`, 400},
		{"trailing data", `{"username":"a","password":"b"} {}`, 400},
		{"empty password", `{"username":"a"}`, 400},
		{"huge body", `{"username":"` + strings.Repeat("a", 100<<10) + `","password":"b"}`, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := post(tc.body)
			if resp.StatusCode != tc.want || !strings.Contains(string(body), `"error"`) {
				t.Errorf("status %s body %.80s, want %d with an error", resp.Status, body, tc.want)
			}
			if resp.Header.Get("Set-Cookie") != "" {
				t.Error("failed login set a cookie")
			}
		})
	}
	resp, _ = get(t, ts.URL+"/api/login")
	if resp.StatusCode != 405 || resp.Header.Get("Allow") != "POST" {
		t.Errorf("GET /api/login: %s Allow %q, want 405 Allow POST", resp.Status, resp.Header.Get("Allow"))
	}
	if n := s.Stats().API.Load(); n != 8 {
		t.Errorf("API counter %d, want 8", n)
	}
}

func TestSearch(t *testing.T) {
	_, ts := startServer(t, Options{})
	for _, tc := range []struct {
		query string
		want  int // status
		hits  int
	}{
		{"?q=scale", 200, 1},
		{"?q=TRACK", 200, 3},
		{"?q=live", 200, 1},
		{"?q=nothing-like-this", 200, 0},
		{"", 400, 0},
		{"?q=" + strings.Repeat("x", 300), 400, 0},
	} {
		resp, body := get(t, ts.URL+"/api/search"+tc.query)
		if resp.StatusCode != tc.want || resp.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("search %.20s: %s %v", tc.query, resp.Status, resp.Header)
			continue
		}
		var r struct{ Results []searchResult }
		if tc.want == 200 && (json.Unmarshal(body, &r) != nil || len(r.Results) != tc.hits) {
			t.Errorf("search %s: %s, want %d hits", tc.query, body, tc.hits)
		}
	}
}

func TestRoutes(t *testing.T) {
	s, ts := startServer(t, Options{})
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", "/healthz", 200},
		{"HEAD", "/live/master.m3u8", 200},
		{"POST", "/live/master.m3u8", 405},
		{"DELETE", "/api/catalog", 405},
		{"GET", "/", 404},
		{"GET", "/live/", 404},
		{"GET", "/nope", 404},
		{"GET", "/api/other", 404},
		{"GET", "/ondemand/", 404},
	} {
		req, _ := http.NewRequest(tc.method, ts.URL+tc.path, nil)
		if resp, _ := fetch(t, req); resp.StatusCode != tc.want {
			t.Errorf("%s %s: %s, want %d", tc.method, tc.path, resp.Status, tc.want)
		} else if tc.want == 405 && !strings.Contains(resp.Header.Get("Allow"), "GET") {
			t.Errorf("%s %s: Allow %q", tc.method, tc.path, resp.Header.Get("Allow"))
		}
	}
	if s.Stats().NotFound.Load() < 5 {
		t.Errorf("NotFound counter %d", s.Stats().NotFound.Load())
	}
}
