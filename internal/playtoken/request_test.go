package playtoken

import (
	"net/http/httptest"
	"strings"
	"testing"
)

func TestFromRequest(t *testing.T) {
	long := strings.Repeat("a%41", MaxTokenLen)
	tests := []struct {
		name, target, auth, param string
		want                      string
		ok                        bool
	}{
		{"bearer", "/a", "Bearer abc.def.ghi", "", "abc.def.ghi", true},
		{"bearer, any case, spaces", "/a", "bearer   abc ", "", "abc", true},
		{"bearer with nothing", "/a", "Bearer   ", "", "", true},
		{"scheme alone", "/a", "Bearer", "", "", false},
		{"basic", "/a", "Basic dXNlcjpw", "", "", false},
		{"none", "/a", "", QueryParam, "", false},
		{"query not allowed", "/a?token=abc", "", "", "", false},
		{"query", "/a?x=1&token=abc.def&y=2", "", QueryParam, "abc.def", true},
		{"query, first value", "/a?token=one&token=two", "", QueryParam, "one", true},
		{"query, escaped", "/a?token=ab%2Ecd", "", QueryParam, "ab.cd", true},
		{"query, bad escape", "/a?token=ab%zz", "", QueryParam, "ab%zz", true},
		{"query, empty", "/a?token=", "", QueryParam, "", true},
		{"query, name only", "/a?token", "", QueryParam, "", true},
		{"query, similar name", "/a?tokens=abc&xtoken=d", "", QueryParam, "", false},
		{"query, oversize left as found", "/a?token=" + long, "", QueryParam, long, true},
		{"header before query", "/a?token=q", "Bearer h", QueryParam, "h", true},
		{"basic header, query", "/a?token=q", "Basic x", QueryParam, "q", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", tt.target, nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			got, ok := FromRequest(r, tt.param)
			if got != tt.want || ok != tt.ok {
				t.Errorf("FromRequest = %.40q, %v; want %.40q, %v", got, ok, tt.want, tt.ok)
			}
		})
	}
}
