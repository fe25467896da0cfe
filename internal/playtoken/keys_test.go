package playtoken

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	pub := testEdKey.Public().(ed25519.PublicKey)
	ed := edPEM(t, pub)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	ecPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: ecDER}))
	privDER, _ := x509.MarshalPKCS8PrivateKey(testEdKey)
	privPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}))
	tests := []struct {
		name, file string
		algs       string // when valid
		wantErr    string // a part of the error, when not
	}{
		{"HMAC only", testSecret + "\n", "HS256", ""},
		{"Ed25519 only", ed, "EdDSA", ""},
		{"both, comments, blank lines", "# platform\n\n  " + testSecret + "  \n# rotation\n" + ed + "\n", "HS256,EdDSA", ""},
		{"CRLF", strings.ReplaceAll(testSecret+"\n"+ed, "\n", "\r\n"), "HS256,EdDSA", ""},
		{"no final newline", testSecret, "HS256", ""},
		{"indented PEM", strings.ReplaceAll(ed, "\n", "\n  "), "EdDSA", ""},

		{"empty", "", "", "no keys"},
		{"comments only", "# nothing\n\n", "", "no keys"},
		{"short secret", testSecret + "\nshort\n", "", "line 2: a secret of 5 bytes: want at least 16"},
		{"two problems", "short\n" + testSecret + "\ntiny\n", "", "line 1: a secret of 5 bytes: want at least 16\nline 3: a secret of 4 bytes"},
		{"unterminated PEM", testSecret + "\n-----BEGIN PUBLIC KEY-----\nMCow\n", "", "line 2: PEM block never ends"},
		{"END without BEGIN", "-----END PUBLIC KEY-----\n", "", "line 1: END without BEGIN"},
		{"BEGIN inside a block", "-----BEGIN PUBLIC KEY-----\n" + ed, "", "line 2: BEGIN inside the PEM block of line 1"},
		{"private key", testSecret + "\n" + privPEM, "", `line 2: a PEM "PRIVATE KEY" block: want PUBLIC KEY`},
		{"ECDSA key", ecPEM, "", "line 1: a *ecdsa.PublicKey public key: want Ed25519"},
		{"bad PEM body", "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----\n", "", "line 1: malformed PEM block"},
		{"not a key", "-----BEGIN PUBLIC KEY-----\nMCowBQYDK2VwAyEA\n-----END PUBLIC KEY-----\n", "", "line 1: parse public key"},
		{"unarmoured public key", testSecret + "\n" + base64.StdEncoding.EncodeToString(der) + "\n", "", "line 2: a public key without its PEM armour"},
		{"a line too long", strings.Repeat("k", 70000) + "\n", "", "line 1: a line longer than 64 KiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := Parse([]byte(tt.file), testAudience)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.Is(err, ErrKeyFile) {
					t.Errorf("Parse = %v, want ErrKeyFile with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if got := strings.Join(v.Algorithms(), ","); got != tt.algs {
				t.Errorf("algorithms %s, want %s", got, tt.algs)
			}
		})
	}
}

func TestParseBOM(t *testing.T) {
	v, err := Parse([]byte("\xef\xbb\xbf"+testSecret+"\n"), testAudience)
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := Sign([]byte(testSecret), Claims{Expiry: testNow.Add(time.Hour)}, testAudience)
	if _, err := v.Verify(tok, "/", testNow); err != nil {
		t.Errorf("the byte order mark joined the first secret: %v", err)
	}
}

func TestParseErrorsBounded(t *testing.T) {
	_, err := Parse([]byte(strings.Repeat("short\n", 1000)), testAudience)
	if n := strings.Count(err.Error(), "\n") + 1; n != maxErrors {
		t.Errorf("%d errors reported, want %d", n, maxErrors)
	}
}

func TestParseAudience(t *testing.T) {
	if _, err := Parse([]byte(testSecret), ""); err == nil || !strings.Contains(err.Error(), "no audience") {
		t.Errorf("Parse without an audience = %v", err)
	}
}

func TestLoad(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "tokens")
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(good, []byte(testKeyFile(t)), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad, []byte("# keys\nshort\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v, err := Load(good, testAudience)
	if err != nil || v.Audience() != testAudience || len(v.Algorithms()) != 2 {
		t.Fatalf("Load = %v, %v", v, err)
	}
	if _, err := Load(bad, testAudience); !errors.Is(err, ErrKeyFile) || !strings.Contains(err.Error(), bad+": line 2: ") {
		t.Errorf("Load of a bad file = %v, want ErrKeyFile naming %s: line 2", err, bad)
	}
	if _, err := Load(filepath.Join(dir, "missing"), testAudience); !errors.Is(err, fs.ErrNotExist) || errors.Is(err, ErrKeyFile) {
		t.Errorf("Load of a missing file = %v, want fs.ErrNotExist", err)
	}
}
