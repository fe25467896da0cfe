package evidence

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rempart/rempart/internal/config"
)

// rehash is how an attacker without the key recomputes a line's hash.
type rehash func(body []byte) string

// The attacker's ways: the plain SHA-256 the chain used before it was
// keyed (anyone can compute it), and an HMAC under a key of their own.
var attackers = map[string]rehash{
	"sha256": func(body []byte) string { s := sha256.Sum256(body); return hex.EncodeToString(s[:]) },
	"own key": func(body []byte) string {
		m := hmac.New(sha256.New, []byte(strings.Repeat("a", 32)))
		m.Write(body)
		return hex.EncodeToString(m.Sum(nil))
	},
}

// entries parses every line of the one-file log in dir.
func entries(t *testing.T, dir string) []Entry {
	t.Helper()
	var out []Entry
	for _, l := range lines(t, files(t, dir)[0]) {
		if l == "" {
			continue
		}
		e, _, _, err := parseLine([]byte(strings.TrimSuffix(l, "\n")))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e)
	}
	return out
}

// forge rewrites the one-file log in dir as an attacker who can write the
// file but has no key: its first keep lines as they are, then es[keep:],
// chained anew, each hash recomputed with h.
func forge(t *testing.T, dir string, es []Entry, keep int, h rehash) {
	t.Helper()
	var buf bytes.Buffer
	ls := lines(t, files(t, dir)[0])
	buf.WriteString(strings.Join(ls[:keep], ""))
	prev := es[0].PrevHash
	if keep > 0 {
		_, _, prev, _ = parseLine([]byte(strings.TrimSuffix(ls[keep-1], "\n")))
	}
	for i := keep; i < len(es); i++ {
		es[i].PrevHash = prev
		body, err := json.Marshal(&es[i])
		if err != nil {
			t.Fatal(err)
		}
		prev = h(body)
		buf.Write(body[:len(body)-1])
		buf.WriteString(hashKey + prev + "\"}\n")
	}
	if err := os.WriteFile(files(t, dir)[0], buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestEvidenceForgedChain: an attacker who can write the log but has no
// key rewrites an entry, deletes one from the middle, renumbers the rest
// or cuts the tail, each time re-chaining every hash after it. Before the
// chain was keyed, each of these verified.
func TestEvidenceForgedChain(t *testing.T) {
	const n = 20
	tests := []struct {
		name string
		edit func(es []Entry) []Entry
		keep int    // lines before the edit, left as they are
		seq  uint64 // of the break
		line int
		why  string
		cut  bool // detected only against the published head
	}{
		{"rewrite one field", func(es []Entry) []Entry { es[6].Source = "192.0.2.66"; return es }, 6, 7, 7, "hash mismatch", false},
		{"delete a middle entry", func(es []Entry) []Entry { return append(es[:6:6], es[7:]...) }, 6, 8, 7, "hash mismatch", false},
		{"delete and renumber", func(es []Entry) []Entry {
			es = append(es[:6:6], es[7:]...)
			for i := 6; i < len(es); i++ {
				es[i].Seq--
			}
			return es
		}, 6, 7, 7, "hash mismatch", false},
		{"renumber all", func(es []Entry) []Entry {
			for i := range es {
				es[i].Seq += 100
			}
			return es
		}, 0, 101, 1, "hash mismatch", false},
		{"truncate the tail", func(es []Entry) []Entry { return es[:n-3] }, n - 3, n - 3, n - 3, "the last 3 entries were removed (tail truncated)", true},
	}
	for _, tt := range tests {
		for who, h := range attackers {
			t.Run(tt.name+"/"+who, func(t *testing.T) {
				dir := t.TempDir()
				write(t, open(t, dir, config.Evidence{}), 0, n)
				head, err := ReadHead(dir + ".head")
				if err != nil || head.Seq != n {
					t.Fatalf("published head %+v, %v; want seq %d", head, err, n)
				}
				es := tt.edit(entries(t, dir))
				forge(t, dir, es, tt.keep, h)
				opts := VerifyOptions{Keys: keysOf(t, dir), Head: &head}
				rep, err := Verify(dir, opts)
				if err != nil {
					t.Fatal(err)
				}
				b := rep.First
				if rep.OK() || b.Seq != tt.seq || b.Line != tt.line || !strings.Contains(b.Reason, tt.why) {
					t.Fatalf("got %v, want line %d seq %d %q", b, tt.line, tt.seq, tt.why)
				}
				if tt.cut { // without the head, a cut tail looks like a log that ends
					if rep, _ := Verify(dir, VerifyOptions{Keys: opts.Keys}); !rep.OK() {
						t.Fatalf("cut tail without a head: %v", rep.First)
					}
				}
			})
		}
	}
}

// TestEvidenceHeadChecked: the head is published where the log can be
// compared with it; a forged head, or one naming an entry the log holds
// with another hash, is reported.
func TestEvidenceHeadChecked(t *testing.T) {
	dir := t.TempDir()
	l := open(t, dir, config.Evidence{})
	if h, ok := l.Head(); !ok || h.Seq != 0 || h.Hash != ZeroHash {
		t.Fatalf("head after Open of an empty log: %+v %v", h, ok)
	}
	write(t, l, 0, 10)
	head, err := ReadHead(dir + ".head")
	if got, _ := l.Head(); err != nil || got != head || head.Seq != 10 {
		t.Fatalf("head file %+v (%v), Head() %+v", head, err, got)
	}
	keys := keysOf(t, dir)
	rep, err := Verify(dir, VerifyOptions{Keys: keys, Head: &head})
	if err != nil || !rep.OK() || !strings.Contains(rep.Published, "agrees with it") {
		t.Fatalf("%v %v %q", err, rep.First, rep.Published)
	}

	forged := head
	forged.Seq = 12
	if rep, _ := Verify(dir, VerifyOptions{Keys: keys, Head: &forged, HeadSource: "h.json"}); rep.OK() ||
		rep.First.File != "h.json" || !strings.Contains(rep.First.Reason, "MAC does not verify") {
		t.Fatalf("forged head: %v", rep.First)
	}
	other := signHead(keys.signer(), 5, strings.Repeat("ab", 32), t0)
	if rep, _ := Verify(dir, VerifyOptions{Keys: keys, Head: &other}); rep.OK() ||
		rep.First.Seq != 5 || rep.First.Line != 5 || !strings.Contains(rep.First.Reason, "replaced") {
		t.Fatalf("head naming another hash for seq 5: %v", rep.First)
	}
	os.Remove(files(t, dir)[0])
	if _, err := Verify(dir, VerifyOptions{Keys: keys, Head: &head}); !errors.Is(err, ErrEmpty) ||
		!strings.Contains(err.Error(), "the whole log was removed") {
		t.Fatalf("log removed: %v", err)
	}
}

// TestEvidenceSecretsHashed: the viewer's secrets, in headers, cookies
// and the query, never reach the file in clear; each is a keyed hash,
// equal for equal secrets, so requests stay correlatable.
func TestEvidenceSecretsHashed(t *testing.T) {
	secrets := map[string]string{
		"Authorization":     "Bearer eyJhbGciOi.sekrit-bearer",
		"X-Rempart-Session": "sekrit-session-7f3a",
		"X-Rempart-Ticket":  "sekrit-ticket-0c1d",
		"X-Api-Key":         "sekrit-apikey-9b2e",
		"X-Platform-Token":  "sekrit-platform-44aa",
		"X-Viewer-Id":       "sekrit-viewer-id-1", // named in shield.evidence.redact
	}
	cookies := "rempart_session=sekrit-cookie-sess; rempart_clearance=sekrit-clearance; prefs=sekrit-prefs"
	query := url.Values{"token": {"sekrit-session-7f3a"}, "key": {"sekrit-q-key"}, "sig": {"sekrit-q-sig"},
		"signature": {"sekrit q/sig+nature"}, "auth": {"sekrit-q-auth"}, "session": {"sekrit-q-session"},
		"uid": {"sekrit-uid"}, "cb": {"kept-in-clear"}}
	dir := t.TempDir()
	l := open(t, dir, config.Evidence{Redact: []string{"x-viewer-id", "UID"}})
	stop := start(t, l)
	for i := range 2 {
		rec, r := request(i)
		r.URL.RawQuery = query.Encode()
		for k, v := range secrets {
			r.Header.Set(k, v)
		}
		r.Header.Set("Cookie", cookies)
		l.Observe(rec, r, t0)
	}
	waitWritten(t, l, 2)
	stop()
	verifyOK(t, dir)

	raw, err := os.ReadFile(files(t, dir)[0])
	if err != nil {
		t.Fatal(err)
	}
	var all []string
	for _, v := range secrets {
		all = append(all, strings.TrimPrefix(v, "Bearer "))
	}
	for _, c := range strings.Split(cookies, "; ") {
		all = append(all, c[strings.IndexByte(c, '=')+1:])
	}
	for k, v := range query {
		if k != "cb" {
			all = append(all, v[0], url.QueryEscape(v[0]))
		}
	}
	for _, s := range all {
		sum := sha256.Sum256([]byte(s))
		if bytes.Contains(raw, []byte(s)) || bytes.Contains(raw, []byte(hex.EncodeToString(sum[:8]))) {
			t.Errorf("secret %q (or its plain hash) in the file", s)
		}
	}
	if !bytes.Contains(raw, []byte("cb=kept-in-clear")) || !bytes.Contains(raw, []byte("Bearer [hmac:")) ||
		!bytes.Contains(raw, []byte("rempart_clearance=[hmac:")) {
		t.Errorf("redaction hid too much, or the scheme and cookie names:\n%s", raw)
	}
	// The session token hashes alike in its header, in the query, and in
	// both entries: four times.
	same := l.redact.hash("sekrit-session-7f3a")
	if n := bytes.Count(raw, []byte(same)); n != 4 {
		t.Errorf("hash %s of the session token found %d times, want 4:\n%s", same, n, raw)
	}
}

// TestEvidenceKeyFile: a missing key is written, 0600 and outside the
// log, and the log says so; a key file others may read, or too short, is
// refused; a lost key is never silently replaced.
func TestEvidenceKeyFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "evidence")
	var logs bytes.Buffer
	cfg := config.Evidence{Dir: dir, SampleRate: 1, PerSecond: 1000}
	l, err := Open(cfg, slog.New(slog.NewTextHandler(&logs, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(dir + ".key")
	if err != nil || st.Mode().Perm() != 0o600 || !strings.Contains(logs.String(), "wrote a new chain key") ||
		!strings.Contains(logs.String(), dir+".key") {
		t.Fatalf("key file %v (%v); log %q", st, err, logs.String())
	}
	write(t, l, 0, 3)

	for _, tt := range []struct {
		name, content string
		mode          os.FileMode
		want          string
	}{
		{"world-readable", strings.Repeat("k", 64), 0o644, "mode 0644 lets every user read or change it: chmod 600"},
		{"too short", "0123456789abcdef", 0o600, "secret 1 is 16 bytes, want at least 32"},
		{"empty", "# nothing\n", 0o600, "no keys"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "k")
			os.WriteFile(path, []byte(tt.content), tt.mode)
			os.Chmod(path, tt.mode)
			c := cfg
			c.Dir, c.KeyFile = t.TempDir(), path
			if _, err := Open(c, nil, nil); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Open: %v, want %q", err, tt.want)
			}
		})
	}

	os.Rename(dir+".key", dir+".key.lost")
	if _, err := Open(cfg, nil, nil); err == nil || !strings.Contains(err.Error(), "keyed with a key the key file does not hold") {
		t.Fatalf("Open with the key lost: %v", err)
	}
	if _, err := os.Stat(dir + ".key"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a new key file replaced the lost one: %v", err)
	}
}

// TestEvidenceKeyRotation: a new key goes first in the key file, the old
// one after it; the chain goes on under the new key, says so in a key
// entry, and verifies with both keys, not with the new one alone.
func TestEvidenceKeyRotation(t *testing.T) {
	dir := t.TempDir()
	write(t, open(t, dir, config.Evidence{}), 0, 5)
	old, _ := os.ReadFile(dir + ".key")
	os.WriteFile(dir+".key", append([]byte(strings.Repeat("n", 40)+"\n"), old...), 0o600)
	write(t, open(t, dir, config.Evidence{}), 5, 5)
	rep := verifyOK(t, dir)
	if rep.Rekeys != 1 || rep.Requests != 10 || rep.HeadSeq != 11 {
		t.Fatalf("after rotation: %+v", rep)
	}
	newOnly, _ := NewKeys([]byte(strings.Repeat("n", 40)))
	if rep, _ := Verify(dir, VerifyOptions{Keys: newOnly}); rep.OK() || rep.First.Line != 1 ||
		!strings.Contains(rep.First.Reason, "key the key file does not hold") {
		t.Fatalf("old entries with the new key only: %v", rep.First)
	}
}

// TestEvidenceUnkeyedLog: a log written before the chain was keyed is
// refused with a clear message, accepted when asked, continued under the
// key; an unkeyed entry after keyed ones is a rewrite even when asked.
func TestEvidenceUnkeyedLog(t *testing.T) {
	dir := t.TempDir()
	write(t, open(t, dir, config.Evidence{}), 0, 6)
	es := entries(t, dir)
	for i := range es {
		es[i].Key = ""
	}
	forge(t, dir, es, 0, attackers["sha256"])
	keys := keysOf(t, dir)
	rep, _ := Verify(dir, VerifyOptions{Keys: keys})
	if rep.OK() || rep.First.Line != 1 || !strings.Contains(rep.First.Reason, "unkeyed entry") ||
		!strings.Contains(rep.First.Reason, "--unkeyed") {
		t.Fatalf("unkeyed log: %v", rep.First)
	}
	if rep, err := Verify(dir, VerifyOptions{Unkeyed: true}); err != nil || !rep.OK() || rep.Unkeyed != 6 {
		t.Fatalf("unkeyed log, accepted: %v %v %+v", err, rep.First, rep)
	}

	write(t, open(t, dir, config.Evidence{}), 6, 3) // the edge goes on, keyed
	rep, _ = Verify(dir, VerifyOptions{Keys: keys, Unkeyed: true})
	if !rep.OK() || rep.Unkeyed != 6 || rep.Rekeys != 1 || rep.HeadSeq != 10 {
		t.Fatalf("keyed after unkeyed: %v %+v", rep.First, rep)
	}
	// The last entry downgraded to a plain SHA-256, the one hash an
	// attacker can compute.
	path := files(t, dir)[0]
	ls := lines(t, path)
	last, _, _, _ := parseLine([]byte(strings.TrimSuffix(ls[9], "\n")))
	last.Key = ""
	body, _ := json.Marshal(&last)
	ls[9] = string(body[:len(body)-1]) + hashKey + attackers["sha256"](body) + "\"}\n"
	os.WriteFile(path, []byte(strings.Join(ls, "")), 0o600)
	if rep, _ := Verify(dir, VerifyOptions{Keys: keys, Unkeyed: true}); rep.OK() || rep.First.Line != 10 ||
		!strings.Contains(rep.First.Reason, "after keyed ones") {
		t.Fatalf("downgraded entry: %v", rep.First)
	}
	if _, err := Verify(dir, VerifyOptions{}); !errors.Is(err, ErrNoKey) {
		t.Fatalf("no key: %v", err)
	}
}
