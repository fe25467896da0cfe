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

	"github.com/rempart/rempart/internal/playtoken"
)

// The platform's secrets for app tokens in tests. The token checks
// themselves are playtoken's (and its tests'); these test the challenge's
// use of them.
const (
	platformSecret = "platform-secret-0123456789abcdef"
	rotatedSecret  = "rotated-secret-0123456789abcdef"
)

// tokenClaims are an app token's claims, to sign tokens in tests.
type tokenClaims struct {
	jwt.RegisteredClaims
	Path string `json:"path,omitempty"`
}

func edPEM(t *testing.T, pub ed25519.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func TestTokenOK(t *testing.T) {
	pub, priv, _ := ed25519.GenerateKey(rand.Reader)
	cfg := testConfig()
	cfg.TokenKeyFile = writeFile(t, t.TempDir(), "tokens", "# platform keys\n"+platformSecret+"\n"+rotatedSecret+"\n"+edPEM(t, pub))
	clk := newClock()
	c := newChallenger(t, cfg, clk)
	sign := func(m jwt.SigningMethod, key any, edit func(*tokenClaims)) string {
		tc := &tokenClaims{RegisteredClaims: jwt.RegisteredClaims{
			Audience:  jwt.ClaimStrings{TokenAudience},
			ExpiresAt: jwt.NewNumericDate(clk.now().Add(time.Hour)),
		}}
		if edit != nil {
			edit(tc)
		}
		s, err := jwt.NewWithClaims(m, tc).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	hs := sign(jwt.SigningMethodHS256, []byte(platformSecret), nil)
	minted, err := playtoken.Sign([]byte(rotatedSecret), playtoken.Claims{Expiry: clk.now().Add(time.Minute), Path: "/live/"}, TokenAudience)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, target, auth string
		ok, has            bool
	}{
		{"HS256", "/api/me", "Bearer " + hs, true, true},
		{"rotated secret, minted by playtoken", "/live/a.m3u8", "Bearer " + minted, true, true},
		{"EdDSA", "/api/me", "bearer " + sign(jwt.SigningMethodEdDSA, priv, nil), true, true},
		{"wrong audience", "/api/me", "Bearer " + sign(jwt.SigningMethodHS256, []byte(platformSecret), func(tc *tokenClaims) { tc.Audience = jwt.ClaimStrings{"api"} }), false, true},
		{"expired", "/api/me", "Bearer " + sign(jwt.SigningMethodHS256, []byte(platformSecret), func(tc *tokenClaims) { tc.ExpiresAt = jwt.NewNumericDate(clk.now().Add(-time.Hour)) }), false, true},
		{"out of scope", "/vod/a.m3u8", "Bearer " + minted, false, true},
		{"traversal out of scope", "/live/../vod/a.m3u8", "Bearer " + minted, false, true},
		{"garbage", "/api/me", "Bearer x.y.z", false, true},
		{"no token", "/api/me", "", false, false},
		{"another scheme", "/api/me", "Basic dXNlcjpw", false, false},
		{"in the query: not for the challenge", "/api/me?token=" + hs, "", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var headers []string
			if tt.auth != "" {
				headers = append(headers, "Authorization: "+tt.auth)
			}
			ok, has := c.tokenOK(request("GET", tt.target, home, uaChrome, headers...))
			if ok != tt.ok || has != tt.has {
				t.Errorf("tokenOK = %v, %v; want %v, %v", ok, has, tt.ok, tt.has)
			}
		})
	}
}

// TestTokenReload: a key file that does not parse keeps the keys in use.
func TestTokenReload(t *testing.T) {
	dir := t.TempDir()
	cfg := testConfig()
	cfg.TokenKeyFile = writeFile(t, dir, "tokens", platformSecret+"\n")
	clk := newClock()
	c := newChallenger(t, cfg, clk)
	tok, err := playtoken.Sign([]byte(platformSecret), playtoken.Claims{Expiry: clk.now().Add(time.Hour)}, TokenAudience)
	if err != nil {
		t.Fatal(err)
	}
	withToken := func() bool {
		ok, _ := c.tokenOK(request("GET", "/api/me", home, uaChrome, "Authorization: Bearer "+tok))
		return ok
	}
	writeFile(t, dir, "tokens", "# rotation\n"+platformSecret+"\nshort\n")
	if err := c.Reload(); !errors.Is(err, playtoken.ErrKeyFile) || !strings.Contains(err.Error(), "line 3") {
		t.Errorf("Reload of a bad token key file = %v, want playtoken.ErrKeyFile at line 3", err)
	}
	if !withToken() {
		t.Error("a failed reload dropped the token keys in use")
	}
	writeFile(t, dir, "tokens", rotatedSecret+"\n")
	if err := c.Reload(); err != nil {
		t.Fatalf("Reload: %v", err)
	}
	if withToken() {
		t.Error("a token signed with a key no longer in the file still passes")
	}
}
