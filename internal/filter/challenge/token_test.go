package challenge

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	platformSecret = "platform-secret-0123456789abcdef"
	rotatedSecret  = "rotated-secret-0123456789abcdef"
)

func edPEM(t *testing.T, pub ed25519.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestTokens(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	_, otherPriv, _ := ed25519.GenerateKey(rand.Reader)
	tk, err := parseTokenKeys([]byte("# platform keys\n" + platformSecret + "\n" + rotatedSecret + "\n" + edPEM(t, pub)))
	if err != nil {
		t.Fatalf("parseTokenKeys: %v", err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	claims := func(edit func(*tokenClaims)) *tokenClaims {
		c := &tokenClaims{RegisteredClaims: jwt.RegisteredClaims{
			Audience:  jwt.ClaimStrings{TokenAudience},
			ExpiresAt: jwt.NewNumericDate(now.Add(time.Hour)),
			Subject:   "app-42",
		}}
		if edit != nil {
			edit(c)
		}
		return c
	}
	sign := func(m jwt.SigningMethod, key any, c *tokenClaims) string {
		s, err := jwt.NewWithClaims(m, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hs := func(c *tokenClaims) string { return sign(jwt.SigningMethodHS256, []byte(platformSecret), c) }
	none := sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil))

	tests := []struct {
		name, token, path string
		want              error
	}{
		{"valid HS256", hs(claims(nil)), "/live/a.m3u8", nil},
		{"valid with the second key", sign(jwt.SigningMethodHS256, []byte(rotatedSecret), claims(nil)), "/x", nil},
		{"valid EdDSA", sign(jwt.SigningMethodEdDSA, priv, claims(nil)), "/x", nil},
		{"expired", hs(claims(func(c *tokenClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-time.Minute)) })), "/x", ErrBadToken},
		{"expired within leeway", hs(claims(func(c *tokenClaims) { c.ExpiresAt = jwt.NewNumericDate(now.Add(-10 * time.Second)) })), "/x", nil},
		{"no exp", hs(claims(func(c *tokenClaims) { c.ExpiresAt = nil })), "/x", ErrBadToken},
		{"not yet valid", hs(claims(func(c *tokenClaims) { c.NotBefore = jwt.NewNumericDate(now.Add(time.Hour)) })), "/x", ErrBadToken},
		{"wrong audience", hs(claims(func(c *tokenClaims) { c.Audience = jwt.ClaimStrings{"api"} })), "/x", ErrBadToken},
		{"no audience", hs(claims(func(c *tokenClaims) { c.Audience = nil })), "/x", ErrBadToken},
		{"wrong HMAC key", sign(jwt.SigningMethodHS256, []byte("attacker-secret-0123456789abcdef"), claims(nil)), "/x", ErrBadToken},
		{"wrong Ed25519 key", sign(jwt.SigningMethodEdDSA, otherPriv, claims(nil)), "/x", ErrBadToken},
		{"HS512 not accepted", sign(jwt.SigningMethodHS512, []byte(platformSecret), claims(nil)), "/x", ErrBadToken},
		{"alg none", none, "/x", ErrBadToken},
		{"garbage", "not.a.jwt", "/x", ErrBadToken},
		{"too long", strings.Repeat("a", maxTokenLen+1), "/x", ErrBadToken},
		{"path scope: inside", hs(claims(func(c *tokenClaims) { c.Path = "/live/" })), "/live/a.m3u8", nil},
		{"path scope: the prefix itself", hs(claims(func(c *tokenClaims) { c.Path = "/live" })), "/live", nil},
		{"path scope: segment-wise", hs(claims(func(c *tokenClaims) { c.Path = "/live" })), "/lively/a", ErrTokenScope},
		{"path scope: outside", hs(claims(func(c *tokenClaims) { c.Path = "/live/" })), "/api/users", ErrTokenScope},
		{"path scope: dot segments", hs(claims(func(c *tokenClaims) { c.Path = "/live/" })), "/live/../api/users", ErrTokenScope},
		{"path scope: double slash", hs(claims(func(c *tokenClaims) { c.Path = "/live/" })), "/live//a", ErrTokenScope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tk.verify(tt.token, tt.path, clock)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("verify = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestTokenKeyFile(t *testing.T) {
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	tests := []struct {
		name, file, wantErr string
		methods             string
	}{
		{"hmac only", platformSecret + "\n", "", "HS256"},
		{"ed25519 only", edPEM(t, pub), "", "EdDSA"},
		{"both", platformSecret + "\n" + edPEM(t, pub), "", "HS256,EdDSA"},
		{"empty", "# nothing\n\n", "no keys", ""},
		{"short secret", "short\n", "line 1: a secret of 5 bytes", ""},
		{"unterminated PEM", "-----BEGIN PUBLIC KEY-----\nMCow\n", "unterminated", ""},
		{"not a public key", "-----BEGIN PRIVATE KEY-----\nMCow\n-----END PRIVATE KEY-----\n", "line 3: want a PEM PUBLIC KEY", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk, err := parseTokenKeys([]byte(tt.file))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("parseTokenKeys = %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseTokenKeys: %v", err)
			}
			if got := strings.Join(tk.methods, ","); got != tt.methods {
				t.Errorf("methods = %s, want %s", got, tt.methods)
			}
		})
	}
}

func TestBearer(t *testing.T) {
	for _, tt := range []struct{ header, want string }{
		{"Bearer abc", "abc"}, {"bearer  abc ", "abc"}, {"Basic abc", ""}, {"Bearer", ""}, {"", ""},
	} {
		r := request("GET", "/", home, uaChrome)
		if tt.header != "" {
			r.Header.Set("Authorization", tt.header)
		}
		if got, _ := bearer(r.Header); got != tt.want {
			t.Errorf("bearer(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}
