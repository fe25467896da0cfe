package admission

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestAdminCapacity(t *testing.T) {
	clk := newClock()
	rs := NewRooms(slog.New(slog.DiscardHandler), clk.now)
	if _, err := rs.Prepare("live", testConfig(10)); err != nil {
		t.Fatal(err)
	}
	h := rs.AdminHandler()
	do := func(method, target, body string) (int, string) {
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, req)
		return rr.Code, rr.Body.String()
	}
	tests := []struct {
		name, method, target, body string
		code                       int
		want                       string
	}{
		{"list", "GET", "/api/admission", "", 200, `"max_sessions": 10`},
		{"raise sessions", "PUT", "/api/admission?site=live", `{"max_sessions": 500}`, 200, `"max_sessions": 500`},
		{"rate sets burst", "PUT", "/api/admission?site=live", `{"admit_rate": 7.5}`, 200, `"admit_burst": 8`},
		{"kept fields", "GET", "/api/admission", "", 200, `"max_sessions": 500`},
		{"unknown site", "PUT", "/api/admission?site=vod", `{"max_sessions": 1}`, 404, `site \"vod\" has no admission room`},
		{"unknown field", "PUT", "/api/admission?site=live", `{"max_viewers": 1}`, 400, `unknown field \"max_viewers\"`},
		{"negative", "PUT", "/api/admission?site=live", `{"max_sessions": -1}`, 400, `max_sessions -1: want 0 (no cap) to 100000000`},
		{"trailing", "PUT", "/api/admission?site=live", `{"max_sessions": 1} {}`, 400, `data after the JSON object`},
		{"not JSON", "PUT", "/api/admission?site=live", `max_sessions=1`, 400, `want JSON such as`},
		{"huge", "PUT", "/api/admission?site=live", `{"max_sessions": 1` + strings.Repeat(" ", 5000) + `}`, 400, `body over 4096 bytes`},
		{"method", "DELETE", "/api/admission", "", 405, `use GET to read`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := do(tt.method, tt.target, tt.body)
			if code != tt.code || !strings.Contains(body, tt.want) {
				t.Errorf("%s %s: %d %s, want %d containing %s", tt.method, tt.target, code, body, tt.code, tt.want)
			}
		})
	}
	var list []Snapshot
	_, body := do("GET", "/api/admission", "")
	if err := json.Unmarshal([]byte(body), &list); err != nil || len(list) != 1 || list[0].Capacity.MaxSessions != 500 {
		t.Errorf("list %s (%v)", body, err)
	}
	req := httptest.NewRequest("PUT", "/api/admission?site=live", strings.NewReader(`{"max_sessions": 1}`))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	rr := httptest.NewRecorder()
	h.ServeHTTP(rr, req)
	if rr.Code != http.StatusForbidden {
		t.Errorf("cross-site PUT: %d, want 403", rr.Code)
	}
}
