package route

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/rempart/rempart/internal/telemetry"
)

func TestClassify(t *testing.T) {
	rules := []Rule{
		{Prefix: "/vod/", Suffix: ".mp4", Class: telemetry.ClassOnDemand},
		{Suffix: "/master.m3u8", Class: telemetry.ClassMaster},
	}
	tests := []struct {
		path string
		want telemetry.Class
	}{
		{"/live/a/index.m3u8", telemetry.ClassMedia},
		{"/live/master.m3u8", telemetry.ClassMaster},
		{"/live/a/123.ts", telemetry.ClassSegment},
		{"/live/a/123.TS", telemetry.ClassSegment},
		{"/live/a/init.m4s", telemetry.ClassSegment},
		{"/live/a/1.mp4", telemetry.ClassSegment},
		{"/vod/film.mp4", telemetry.ClassOnDemand},
		{"/subs/fr.vtt", telemetry.ClassSegment},
		{"/ondemand/track1.wav", telemetry.ClassOnDemand},
		{"/music/a.mp3", telemetry.ClassOnDemand},
		{"/api/catalog", telemetry.ClassAPI},
		{"/v1.2/catalog", telemetry.ClassAPI},
		{"/", telemetry.ClassAPI},
		{"", telemetry.ClassAPI},
		{"/file.", telemetry.ClassAPI},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			if got := Classify(rules, tt.path); got != tt.want {
				t.Errorf("Classify(%q) = %v, want %v", tt.path, got, tt.want)
			}
		})
	}
}

func TestRouter(t *testing.T) {
	hit := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Site", name) })
	}
	rt, err := New([]Site{
		{Name: "live", Hosts: []string{"live.example", "127.0.0.1:8080"}, Next: hit("live")},
		{Name: "api", Hosts: []string{"api.example"}, Next: hit("api")},
		{Name: "v6", Hosts: []string{"::1"}, Next: hit("v6")},
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ host, want string }{
		{"live.example", "live"}, {"LIVE.Example", "live"}, {"live.example:443", "live"}, {"[::1]:8080", "v6"},
		{"127.0.0.1:8080", "live"}, {"api.example", "api"}, {"evil.example", ""}, {"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("GET", "/x.ts", nil)
			r.Host = tt.host
			rt.ServeHTTP(w, r)
			if got := w.Header().Get("X-Site"); got != tt.want {
				t.Errorf("site = %q, want %q", got, tt.want)
			}
			if tt.want == "" && w.Code != http.StatusMisdirectedRequest {
				t.Errorf("unknown host got %d, want 421", w.Code)
			}
		})
	}
}

func TestRouterFallbackAndConflicts(t *testing.T) {
	h := http.NotFoundHandler()
	rt, err := New([]Site{{Name: "d", Hosts: []string{"*"}, Next: h}})
	if err != nil || rt.Lookup("anything") == nil {
		t.Fatalf("default site not used: %v", err)
	}
	if _, err := New([]Site{{Name: "a", Hosts: []string{"x"}, Next: h}, {Name: "b", Hosts: []string{"X"}, Next: h}}); err == nil {
		t.Error("duplicate host accepted")
	}
	if _, err := New([]Site{{Name: "a", Hosts: []string{"*"}, Next: h}, {Name: "b", Hosts: []string{"*"}, Next: h}}); err == nil {
		t.Error("two default sites accepted")
	}
}

func BenchmarkRoute(b *testing.B) {
	rt, _ := New([]Site{{Name: "live", Hosts: []string{"live.example"}, Next: http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})}})
	r := httptest.NewRequest("GET", "/live/a/123.ts", nil)
	r.Host = "live.example"
	w := httptest.NewRecorder()
	b.ReportAllocs()
	for b.Loop() {
		rt.ServeHTTP(w, r)
	}
}

func TestClassFixedOnlyByRule(t *testing.T) {
	rules := []Rule{{Prefix: "/feed", Class: telemetry.ClassAPI}}
	if c, fixed := classify(rules, "/feed/x.ts"); c != telemetry.ClassAPI || !fixed {
		t.Errorf("rule match = %v fixed=%v, want api fixed", c, fixed)
	}
	if c, fixed := classify(rules, "/seg"); c != telemetry.ClassAPI || fixed {
		t.Errorf("built-in = %v fixed=%v, want api not fixed", c, fixed)
	}
}

func TestStripPort(t *testing.T) {
	tests := []struct{ in, want string }{
		{"live.example:8080", "live.example"}, {"[::1]:443", "::1"}, {"[::1]", "::1"},
		{"127.0.0.1:80", "127.0.0.1"},
	}
	for _, tt := range tests {
		if got, ok := stripPort(tt.in); !ok || got != tt.want {
			t.Errorf("stripPort(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
	if _, ok := stripPort("live.example"); ok {
		t.Error("stripPort found a port in a bare host")
	}
}
