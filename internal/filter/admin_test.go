package filter

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/mitigation"
)

// call sends one request to the admin handler and returns status and body.
func call(t *testing.T, h http.Handler, method, target, body string, hdr ...string) (int, string) {
	t.Helper()
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, r)
	if ct := rr.Header().Get("Content-Type"); rr.Code != 403 && ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q, want application/json", method, target, ct)
	}
	return rr.Code, rr.Body.String()
}

func TestAdminBlocksHappyPath(t *testing.T) {
	f := writeFile(t, "blocks.txt", "192.0.2.0/24 # known bad\n")
	s, clk := newShield(t, config.Shield{BlockFiles: []string{f}})
	h := s.AdminHandler()

	code, body := call(t, h, "POST", "/api/blocks", `{"prefix":"203.0.113.0/24","ttl":"2h","reason":"scraping"}`)
	if code != 200 {
		t.Fatalf("POST: %d %s", code, body)
	}
	var b BlockInfo
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatal(err)
	}
	if b.Prefix != "203.0.113.0/24" || b.Reason != "scraping" || b.Source != "operator" || !b.Until.Equal(clk.Now().Add(2*time.Hour)) {
		t.Fatalf("POST answered %+v", b)
	}
	code, body = call(t, h, "POST", "/api/blocks", `{"prefix":"198.51.100.7"}`)
	if code != 200 || !strings.Contains(body, `"198.51.100.7/32"`) || !strings.Contains(body, operatorReason) {
		t.Fatalf("bare address: %d %s", code, body)
	}

	code, body = call(t, h, "GET", "/api/blocks", "")
	var list []BlockInfo
	if err := json.Unmarshal([]byte(body), &list); code != 200 || err != nil {
		t.Fatalf("GET: %d %v %s", code, err, body)
	}
	if len(list) != 3 || list[0].Source != "file" || !list[0].Until.IsZero() || strings.Contains(body, "0001-01-01") {
		t.Fatalf("GET listed %+v", list)
	}

	code, body = call(t, h, "POST", "/api/blocks/import?ttl=30m&reason=feed", "# feed\n2001:db8:1::/48\n203.0.113.0/24 # renewed\n")
	var ir ImportResult
	if json.Unmarshal([]byte(body), &ir); code != 200 || ir.Imported != 2 || !ir.Until.Equal(clk.Now().Add(30*time.Minute)) {
		t.Fatalf("import: %d %s", code, body)
	}

	code, body = call(t, h, "GET", "/api/mitigations", "")
	var ms []mitigation.Mitigation
	if err := json.Unmarshal([]byte(body), &ms); code != 200 || err != nil || len(ms) != 3 {
		t.Fatalf("mitigations: %d %v %s", code, err, body)
	}

	if code, body = call(t, h, "DELETE", "/api/blocks?prefix=203.0.113.0/24", ""); code != 200 {
		t.Fatalf("DELETE: %d %s", code, body)
	}
	if code, body = call(t, h, "DELETE", "/api/blocks?prefix=203.0.113.0/24", ""); code != 404 || !strings.Contains(body, "not blocked") {
		t.Fatalf("DELETE again: %d %s", code, body)
	}
	if code, body = call(t, h, "DELETE", "/api/blocks?prefix=192.0.2.0/24", ""); code != 409 || !strings.Contains(body, "blocks.txt:1") {
		t.Fatalf("DELETE of a file block: %d %s", code, body)
	}
}

func TestAdminHostileInput(t *testing.T) {
	s, _ := newShield(t, config.Shield{MaxBlocks: 3})
	h := s.AdminHandler()
	huge := `{"prefix":"203.0.113.0/24","reason":"` + strings.Repeat("x", maxBlockBody) + `"}`
	tests := []struct {
		name, method, target, body string
		status                     int
		says                       string
	}{
		{"unknown field", "POST", "/api/blocks", `{"prefix":"203.0.113.0/24","tll":"1h"}`, 400, `unknown field "tll"`},
		{"not JSON", "POST", "/api/blocks", `prefix=1.2.3.4`, 400, "invalid JSON at byte"},
		{"empty", "POST", "/api/blocks", ``, 400, "body: empty"},
		{"cut short", "POST", "/api/blocks", `{"prefix":"1.2.3.4"`, 400, "cut short"},
		{"wrong type", "POST", "/api/blocks", `{"prefix":1234}`, 400, `field "prefix"`},
		{"two objects", "POST", "/api/blocks", `{"prefix":"1.2.3.4"}{"prefix":"5.6.7.8"}`, 400, "exactly one object"},
		{"array", "POST", "/api/blocks", `[{"prefix":"1.2.3.4"}]`, 400, "body:"},
		{"no prefix", "POST", "/api/blocks", `{"reason":"x"}`, 400, "prefix: required"},
		{"bad prefix", "POST", "/api/blocks", `{"prefix":"1.2.3"}`, 400, `prefix: "1.2.3"`},
		{"too wide", "POST", "/api/blocks", `{"prefix":"0.0.0.0/0"}`, 400, "/8 or narrower"},
		{"too wide v6", "POST", "/api/blocks", `{"prefix":"2000::/3"}`, 400, "/32 or narrower"},
		{"bad ttl", "POST", "/api/blocks", `{"prefix":"1.2.3.4","ttl":"forever"}`, 400, `ttl "forever"`},
		{"negative ttl", "POST", "/api/blocks", `{"prefix":"1.2.3.4","ttl":"-1h"}`, 400, "positive duration"},
		{"huge body", "POST", "/api/blocks", huge, 413, "larger than"},
		{"delete without prefix", "DELETE", "/api/blocks", ``, 400, "query parameter prefix: required"},
		{"delete bad prefix", "DELETE", "/api/blocks?prefix=x", ``, 400, "query parameter prefix"},
		{"import bad line", "POST", "/api/blocks/import", "1.2.3.4\nbogus\n", 400, "body:2:"},
		{"import bad ttl", "POST", "/api/blocks/import?ttl=0s", "1.2.3.4\n", 400, "query parameter ttl"},
		{"import over max", "POST", "/api/blocks/import", "1.2.3.4\n1.2.3.5\n1.2.3.6\n1.2.3.7\n", 400, "body:4: more than 3"},
		{"unknown endpoint", "GET", "/api/nope", ``, 404, "no endpoint GET /api/nope"},
		{"wrong method", "PUT", "/api/blocks", ``, 404, "no endpoint PUT"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := call(t, h, tc.method, tc.target, tc.body)
			var e struct{ Error string }
			if err := json.Unmarshal([]byte(body), &e); err != nil || e.Error == "" {
				t.Fatalf("error body %q is not {\"error\": ...}", body)
			}
			if code != tc.status || !strings.Contains(e.Error, tc.says) {
				t.Fatalf("%d %s, want %d saying %q", code, e.Error, tc.status, tc.says)
			}
		})
	}
	if n := len(s.Blocks()); n != 0 {
		t.Fatalf("hostile input blocked %d prefixes", n)
	}
}

func TestAdminFullBlocklist(t *testing.T) {
	s, _ := newShield(t, config.Shield{MaxBlocks: 1})
	h := s.AdminHandler()
	call(t, h, "POST", "/api/blocks", `{"prefix":"203.0.113.1"}`)
	if code, body := call(t, h, "POST", "/api/blocks", `{"prefix":"203.0.113.2"}`); code != 507 || !strings.Contains(body, "shield.max_blocks") {
		t.Fatalf("full: %d %s", code, body)
	}
	if code, _ := call(t, h, "POST", "/api/blocks/import", "203.0.113.3\n"); code != 507 {
		t.Fatalf("import when full: %d", code)
	}
}

func TestAdminRefusesCrossOriginBrowsers(t *testing.T) {
	s, _ := newShield(t, config.Shield{})
	h := s.AdminHandler()
	code, _ := call(t, h, "POST", "/api/blocks", `{"prefix":"203.0.113.1"}`, "Sec-Fetch-Site", "cross-site", "Content-Type", "text/plain")
	if code != http.StatusForbidden || len(s.Blocks()) != 0 {
		t.Fatalf("cross-site POST: %d, %d blocks", code, len(s.Blocks()))
	}
}

func TestAdminListStreamsLargeLists(t *testing.T) {
	s, _ := newShield(t, config.Shield{})
	var b strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&b, "10.%d.%d.0/24\n", i/250, i%250)
	}
	h := s.AdminHandler()
	if code, body := call(t, h, "POST", "/api/blocks/import", b.String()); code != 200 {
		t.Fatalf("import: %d %s", code, body)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/api/blocks")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list []BlockInfo
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || len(list) != 5000 {
		t.Fatalf("listed %d: %v", len(list), err)
	}
	io.Copy(io.Discard, resp.Body)
}
