package filter

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rempart/rempart/internal/config"
)

func FuzzParseList(f *testing.F) {
	for _, s := range []string{
		"203.0.113.0/24\n", "# c\n\n198.51.100.7 # why\n", "2001:db8::/48\r\n", "::ffff:1.2.3.4/120",
		"1.2.3.4 5.6.7.8", "0.0.0.0/0", "fe80::1%eth0", "1.2.3.4/33", strings.Repeat("1", 2000), "\x00\xff#\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		list, err := ParseList(strings.NewReader(in), "fuzz", 100)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz") {
				t.Fatalf("error %q does not name the input", err)
			}
			return
		}
		if len(list) > 100 {
			t.Fatalf("%d prefixes past the limit of 100", len(list))
		}
		for _, l := range list {
			p := l.Prefix
			if !p.IsValid() || p != p.Masked() || p.Addr().Is4In6() || l.Line < 1 || l.File != "fuzz" {
				t.Fatalf("bad entry %+v", l)
			}
			if _, err := checkWidth(p); err != nil {
				t.Fatalf("too wide a prefix accepted: %v", p)
			}
			if again, err := ParsePrefix(p.String()); err != nil || again != p {
				t.Fatalf("%v does not round-trip: %v %v", p, again, err)
			}
		}
	})
}

func FuzzAdminPostBlock(f *testing.F) {
	for _, s := range []string{
		`{"prefix":"203.0.113.0/24","ttl":"1h","reason":"x"}`, `{"prefix":"198.51.100.7"}`, `{"prefix":"0.0.0.0/0"}`,
		`{"prefix":"1.2.3.4","ttl":"9999999h"}`, `{"prefix":"1.2.3.4","extra":1}`, `{"prefix":"1.2.3.4"} x`, `null`, `[]`, `"`,
		`{"prefix":"1.2.3.4","reason":"\u001b[2J\u202e"}`,
	} {
		f.Add(s)
	}
	s, _ := newShield(f, config.Shield{MaxBlocks: 64})
	h := s.AdminHandler()
	f.Fuzz(func(t *testing.T, body string) {
		rr := httptest.NewRecorder()
		h.ServeHTTP(rr, httptest.NewRequest(http.MethodPost, "/api/blocks", strings.NewReader(body)))
		switch rr.Code {
		case http.StatusOK:
			var b BlockInfo
			if err := json.Unmarshal(rr.Body.Bytes(), &b); err != nil || b.Prefix == "" {
				t.Fatalf("200 with %q", rr.Body)
			}
			if strings.ContainsAny(b.Reason, "\x1b\u202e") {
				t.Fatalf("reason kept control characters: %q", b.Reason)
			}
			s.Unblock(mustPrefix(b.Prefix))
		case http.StatusBadRequest, http.StatusRequestEntityTooLarge, http.StatusInsufficientStorage:
			var e struct{ Error string }
			if err := json.Unmarshal(rr.Body.Bytes(), &e); err != nil || e.Error == "" {
				t.Fatalf("%d with %q", rr.Code, rr.Body)
			}
		default:
			t.Fatalf("status %d for %q", rr.Code, body)
		}
	})
}

func FuzzAdminImport(f *testing.F) {
	f.Add("203.0.113.0/24\n198.51.100.7 # x\n", "1h")
	f.Add("0.0.0.0/0\n", "")
	f.Add("1.2.3.4\n", "-1s")
	s, _ := newShield(f, config.Shield{MaxBlocks: 16})
	h := s.AdminHandler()
	f.Fuzz(func(t *testing.T, body, ttl string) {
		rr := httptest.NewRecorder()
		r := httptest.NewRequest(http.MethodPost, "/api/blocks/import", strings.NewReader(body))
		q := r.URL.Query()
		q.Set("ttl", ttl)
		r.URL.RawQuery = q.Encode()
		h.ServeHTTP(rr, r)
		if rr.Code >= 500 && rr.Code != http.StatusInsufficientStorage {
			t.Fatalf("status %d for %q ttl %q", rr.Code, body, ttl)
		}
		for _, b := range s.Blocks() {
			s.Unblock(b.Prefix)
		}
	})
}
