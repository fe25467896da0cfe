package attack

import (
	"errors"
	"regexp"
	"strings"
	"testing"
)

func TestTemplateDraws(t *testing.T) {
	tests := []struct {
		tmpl string
		re   string // every drawing matches
		kind int    // distinct drawings expected in 200: 1, 2 or all
	}{
		{"/live/master.m3u8", `^/live/master\.m3u8$`, 1},
		{"/x{rand}.ts?cb={rand}", `^/x[0-9a-f]{16}\.ts\?cb=[0-9a-f]{16}$`, 200},
		{"/live/{240p|360p}/index.m3u8", `^/live/(240p|360p)/index\.m3u8$`, 2},
		{"/live/{240p|360p}/x{rand}.ts", `^/live/(240p|360p)/x[0-9a-f]{16}\.ts$`, 200},
		{"/x.ts{|?cb=1}", `^/x\.ts(\?cb=1)?$`, 2},
		{"{rand}", `^[0-9a-f]{16}$`, 200},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			tm, err := parseTemplate(tt.tmpl)
			if err != nil {
				t.Fatal(err)
			}
			re := regexp.MustCompile(tt.re)
			seen := map[string]bool{}
			var buf []byte
			for range 200 {
				buf = tm.appendTo(buf[:0])
				if !re.Match(buf) {
					t.Fatalf("drew %q, want %s", buf, tt.re)
				}
				seen[string(buf)] = true
			}
			if len(seen) != tt.kind {
				t.Errorf("%d distinct drawings in 200, want %d", len(seen), tt.kind)
			}
		})
	}
}

func TestTemplateErrors(t *testing.T) {
	tests := []struct{ tmpl, want string }{
		{"", "want a path of 1 to 1024 bytes"},
		{"/" + strings.Repeat("x", maxTemplate), "want a path of 1 to 1024 bytes"},
		{"/x{rand", "a { without its }"},
		{"/x{a|{b}}", "braces do not nest"},
		{"/x}", "a } without its {"},
		{"/x{random}.ts", "{random}: want {rand} or alternatives"},
		{"/x{}.ts", "{}: want {rand} or alternatives"},
		{"/{" + strings.Repeat("a|", maxAlternatives) + "a}", "alternatives: want at most 256"},
	}
	for _, tt := range tests {
		t.Run(tt.tmpl, func(t *testing.T) {
			_, err := parseTemplate(tt.tmpl)
			if err == nil || !errors.Is(err, errTemplate) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("parseTemplate(%q) = %v, want an error containing %q", tt.tmpl, err, tt.want)
			}
		})
	}
}

func TestTemplatesGetTheirSlash(t *testing.T) {
	ts, err := parseTemplates([]string{"live/master.m3u8", "/x{rand}"})
	if err != nil {
		t.Fatal(err)
	}
	if got := string(ts[0].appendTo(nil)); got != "/live/master.m3u8" {
		t.Errorf("drew %q, want the path with its slash", got)
	}
}

// BenchmarkTemplate: drawing a random segment name allocates nothing.
func BenchmarkTemplate(b *testing.B) {
	tm, err := parseTemplate("/live/{240p|360p}/x{rand}.ts?cb={rand}")
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf = tm.appendTo(buf[:0])
	}
}
