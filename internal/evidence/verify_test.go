package evidence

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rempart/rempart/internal/config"
)

// multiFile writes n entries into segments of about 4KiB.
func multiFile(t *testing.T, n int) string {
	t.Helper()
	dir := t.TempDir()
	l := open(t, dir, config.Evidence{})
	l.w.segBytes = 4 << 10
	write(t, l, 0, n)
	if len(files(t, dir)) < 2 {
		t.Fatalf("want several files, got %d", len(files(t, dir)))
	}
	return dir
}

func TestEvidenceTamperAnyByte(t *testing.T) {
	t.Parallel()
	dir := multiFile(t, 14)
	paths := files(t, dir)
	step := 7
	if testing.Short() {
		step = 41
	}
	for fi, path := range paths {
		orig, _ := os.ReadFile(path)
		lineOf := func(pos int) int { return bytes.Count(orig[:pos], []byte("\n")) + 1 }
		for pos := 0; pos < len(orig); pos += step {
			last := fi == len(paths)-1 && pos == len(orig)-1
			tampered := bytes.Clone(orig)
			tampered[pos] ^= 0x01
			os.WriteFile(path, tampered, 0o600)
			rep, err := verify(t, dir)
			if err != nil {
				t.Fatal(err)
			}
			if last { // the final newline: a torn tail, admitted on the next start
				if rep.TornTail == "" {
					t.Fatalf("last newline flipped: not reported")
				}
				continue
			}
			if rep.OK() || rep.First.File != filepath.Base(path) || rep.First.Line != lineOf(pos) {
				t.Fatalf("%s byte %d (line %d) flipped: got %v", filepath.Base(path), pos, lineOf(pos), rep.First)
			}
		}
		os.WriteFile(path, orig, 0o600)
	}
	verifyOK(t, dir)
}

func TestEvidenceDeletedLine(t *testing.T) {
	dir := multiFile(t, 20)
	tests := []struct {
		name string
		cut  func(ls []string) []string
		line int
		seq  uint64
		why  string
	}{
		{"middle line", func(ls []string) []string { return append(ls[:2:2], ls[3:]...) }, 3, 4, "1 entries missing"},
		{"swapped lines", func(ls []string) []string { ls[1], ls[2] = ls[2], ls[1]; return ls }, 2, 3, "missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := files(t, dir)[0]
			orig, _ := os.ReadFile(path)
			defer os.WriteFile(path, orig, 0o600)
			os.WriteFile(path, []byte(strings.Join(tt.cut(lines(t, path)), "")), 0o600)
			rep, _ := verify(t, dir)
			if rep.OK() || rep.First.Line != tt.line || rep.First.Seq != tt.seq || !strings.Contains(rep.First.Reason, tt.why) {
				t.Fatalf("got %v, want line %d seq %d %q", rep.First, tt.line, tt.seq, tt.why)
			}
		})
	}
	rep := verifyOK(t, dir)
	if rep.Files < 2 || rep.HeadSeq != 20 {
		t.Fatalf("%+v", rep)
	}
}

func TestEvidenceVerifyEmpty(t *testing.T) {
	if _, err := Verify(t.TempDir(), VerifyOptions{Keys: testKeys}); !errors.Is(err, ErrEmpty) {
		t.Fatalf("err %v, want ErrEmpty", err)
	}
}

func TestEvidenceExport(t *testing.T) {
	dir := t.TempDir()
	write(t, open(t, dir, config.Evidence{}), 0, 30) // request i at t0 + i s
	var out bytes.Buffer
	sum, err := Export(dir, VerifyOptions{Keys: keysOf(t, dir)}, t0.Add(10*time.Second), t0.Add(20*time.Second), &out)
	if err != nil {
		t.Fatal(err)
	}
	ls := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(ls) != 11 {
		t.Fatalf("%d lines, want 10 entries and the summary", len(ls))
	}
	for _, l := range ls[:10] {
		if err := checkLine(keysOf(t, dir), []byte(l)); err != nil {
			t.Fatalf("exported line does not verify: %v %q", err, l)
		}
	}
	var last struct{ Summary Summary }
	if err := json.Unmarshal([]byte(ls[10]), &last); err != nil {
		t.Fatal(err)
	}
	s := last.Summary
	if s.Requests != 10 || !s.Verified || s.HeadSeq != 30 || s.Head == "" || s.Actions["none"] != 10 ||
		!s.From.Equal(t0.Add(10*time.Second)) || !s.To.Equal(t0.Add(19*time.Second)) {
		t.Fatalf("summary %+v", s)
	}
	// Clients 10..19 map to 203.0.113.(i%7): 3, 4 and 5 twice, ties by key.
	if s.TopSources[0] != (Count{"203.0.113.3", 2}) || len(s.TopSources) != 7 ||
		s.TopPrefixes[0] != (Count{"203.0.113.0/24", 10}) || s.TopPaths[0] != (Count{"/api/search", 10}) {
		t.Fatalf("tops %+v %+v %+v", s.TopSources, s.TopPrefixes, s.TopPaths)
	}
	if sum.Requests != s.Requests {
		t.Fatal("returned summary differs from the written one")
	}
}

func TestEvidenceTopCounterBounded(t *testing.T) {
	c := newTopCounter(10)
	for i := range 1000 {
		c.add("heavy")
		c.add(string(rune('a' + i%50)))
	}
	top := c.top(3)
	if len(c.m) > 10 || !c.approx || top[0].Key != "heavy" {
		t.Fatalf("%d keys, top %v", len(c.m), top)
	}
}

func TestEvidenceHeaders(t *testing.T) {
	h := http.Header{}
	h.Set("Cookie", "session=hunter2")
	h.Set("Authorization", "Bearer abc.def")
	h.Set("User-Agent", strings.Repeat("x", 2000))
	for i := range 40 {
		h.Set(fmt.Sprintf("X-Pad-%d", i), "1")
	}
	kept, left := keepHeaders(h, testRedactor)
	got := map[string]string{}
	size := 0
	for _, hd := range kept {
		got[hd.Name] = hd.Value
		size += len(hd.Name) + len(hd.Value)
	}
	if got["Cookie"] != "session="+testRedactor.hash("hunter2") {
		t.Errorf("Cookie kept as %q", got["Cookie"])
	}
	if got["Authorization"] != "Bearer "+testRedactor.hash("abc.def") {
		t.Errorf("Authorization kept as %q", got["Authorization"])
	}
	if len(got["User-Agent"]) != maxHeaderValue {
		t.Errorf("User-Agent kept at %d bytes, want %d", len(got["User-Agent"]), maxHeaderValue)
	}
	if len(kept) > maxHeaders || size > maxHeaderBytes || left != 43-len(kept) {
		t.Errorf("kept %d headers (%d bytes), %d left", len(kept), size, left)
	}
}

func TestEvidenceClip(t *testing.T) {
	for _, tt := range []struct {
		in   string
		n    int
		want string
	}{
		{"abc", 5, "abc"}, {"abcdef", 3, "abc"}, {"aé", 2, "a"}, {"a\xffb", 5, "a\uFFFDb"},
	} {
		if got := clip(tt.in, tt.n); got != tt.want {
			t.Errorf("clip(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
		}
	}
}

func FuzzEvidenceParseLine(f *testing.F) {
	rec, r := request(1)
	rec.Action, rec.Fingerprint = "blocked", 42
	e := buildEntry(rec, r, "attack", testRedactor)
	e.Seq, e.PrevHash = 1, ZeroHash
	valid, _, err := appendLine(nil, e, testKeys.signer())
	if err != nil {
		f.Fatal(err)
	}
	valid = valid[:len(valid)-1]
	f.Add(valid, uint(10), byte('x'))
	f.Add([]byte(`{"seq":1,"hash":"`+ZeroHash+`"}`), uint(0), byte(0))
	f.Add([]byte(`{}`), uint(1), byte('"'))
	f.Fuzz(func(t *testing.T, data []byte, pos uint, b byte) {
		if e, _, h, err := parseLine(data); err == nil && checkLine(testKeys, data) == nil && e.Key != "" {
			// A line that verifies re-encodes to a line that verifies too.
			if line, _, err := appendLine(nil, &e, testKeys.signer()); err == nil {
				if err := checkLine(testKeys, bytes.TrimSuffix(line, []byte("\n"))); err != nil {
					t.Fatalf("re-encoded %q (hash %s): %v", data, h, err)
				}
			}
		}
		// Any single changed byte of a valid line is caught.
		m := bytes.Clone(valid)
		i := int(pos % uint(len(m)))
		if m[i] == b {
			return
		}
		m[i] = b
		if checkLine(testKeys, m) == nil {
			t.Fatalf("byte %d changed to %q not caught", i, b)
		}
	})
}
