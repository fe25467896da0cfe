package playtoken

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestVerify(t *testing.T) {
	v, priv := testVerifier(t)
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	pub := priv.Public().(ed25519.PublicKey)
	der, _ := x509.MarshalPKIXPublicKey(pub)
	hs := func(edit func(*wireClaims)) string {
		return mustSign(t, jwt.SigningMethodHS256, []byte(testSecret), claims(edit))
	}
	scoped := func(p string) string { return hs(func(c *wireClaims) { c.Path = p }) }
	valid := hs(nil)
	other := hs(func(c *wireClaims) { c.Subject = "account-43" })

	tests := []struct {
		name, token, path string
		want              error // nil: valid
		cause             error // wrapped as well, when set
	}{
		{"valid HS256", valid, "/live/a.m3u8", nil, nil},
		{"valid with the second secret", mustSign(t, jwt.SigningMethodHS256, []byte(testRotated), claims(nil)), "/x", nil, nil},
		{"valid EdDSA", mustSign(t, jwt.SigningMethodEdDSA, priv, claims(nil)), "/x", nil, nil},
		{"audience among others", hs(func(c *wireClaims) { c.Audience = jwt.ClaimStrings{"api", testAudience} }), "/x", nil, nil},
		{"not before, within leeway", hs(func(c *wireClaims) { c.NotBefore = jwt.NewNumericDate(testNow.Add(20 * time.Second)) }), "/x", nil, nil},
		{"expired within leeway", hs(func(c *wireClaims) { c.ExpiresAt = jwt.NewNumericDate(testNow.Add(-20 * time.Second)) }), "/x", nil, nil},

		{"empty", "", "/x", ErrMissing, nil},
		{"forged: wrong HMAC secret", mustSign(t, jwt.SigningMethodHS256, []byte("attacker-secret-0123456789abcdef"), claims(nil)), "/x", ErrBad, jwt.ErrTokenSignatureInvalid},
		{"forged: wrong Ed25519 key", mustSign(t, jwt.SigningMethodEdDSA, otherPriv, claims(nil)), "/x", ErrBad, jwt.ErrTokenSignatureInvalid},
		{"forged: claims of another token", splice(valid, other), "/x", ErrBad, jwt.ErrTokenSignatureInvalid},
		{"forged: signature altered", alterSig(valid, len(valid)-10), "/x", ErrBad, jwt.ErrTokenSignatureInvalid},
		{"signature in non-canonical base64", alterSig(valid, len(valid)-1), "/x", ErrBad, jwt.ErrTokenMalformed},
		{"expired", hs(func(c *wireClaims) { c.ExpiresAt = jwt.NewNumericDate(testNow.Add(-time.Minute)) }), "/x", ErrBad, jwt.ErrTokenExpired},
		{"expired at the leeway's end", hs(func(c *wireClaims) { c.ExpiresAt = jwt.NewNumericDate(testNow.Add(-Leeway)) }), "/x", ErrBad, jwt.ErrTokenExpired},
		{"no exp", hs(func(c *wireClaims) { c.ExpiresAt = nil }), "/x", ErrBad, jwt.ErrTokenRequiredClaimMissing},
		{"not yet valid", hs(func(c *wireClaims) { c.NotBefore = jwt.NewNumericDate(testNow.Add(time.Minute)) }), "/x", ErrBad, jwt.ErrTokenNotValidYet},
		{"wrong audience", hs(func(c *wireClaims) { c.Audience = jwt.ClaimStrings{"api"} }), "/x", ErrBad, jwt.ErrTokenInvalidAudience},
		{"no audience", hs(func(c *wireClaims) { c.Audience = nil }), "/x", ErrBad, jwt.ErrTokenRequiredClaimMissing},
		{"HS512", mustSign(t, jwt.SigningMethodHS512, []byte(testSecret), claims(nil)), "/x", ErrBad, nil},
		{"HS384 with a signature of HS256's length", withAlg(valid, "HS384"), "/x", ErrBad, jwt.ErrTokenSignatureInvalid},
		{"alg none", mustSign(t, jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, claims(nil)), "/x", ErrBad, nil},
		{"alg none with a signature", withAlg(valid, "none"), "/x", ErrBad, nil},
		{"HS256 keyed with the Ed25519 public key", mustSign(t, jwt.SigningMethodHS256, []byte(pub), claims(nil)), "/x", ErrBad, jwt.ErrTokenSignatureInvalid},
		{"HS256 keyed with its DER", mustSign(t, jwt.SigningMethodHS256, der, claims(nil)), "/x", ErrBad, jwt.ErrTokenSignatureInvalid},
		{"HS256 keyed with its PEM", mustSign(t, jwt.SigningMethodHS256, []byte(edPEM(t, pub)), claims(nil)), "/x", ErrBad, jwt.ErrTokenSignatureInvalid},
		{"garbage", "not.a.jwt", "/x", ErrBad, nil},
		{"garbage of a token's shape", "eyJh." + strings.Repeat("x", 40) + "." + strings.Repeat("y", hs256SigLen), "/x", ErrBad, jwt.ErrTokenMalformed},
		{"four parts", valid + ".x", "/x", ErrBad, nil},
		{"oversize", strings.Repeat("a", MaxTokenLen+1), "/x", ErrBad, nil},
		{"oversize claims", hs(func(c *wireClaims) { c.Subject = strings.Repeat("s", MaxTokenLen) }), "/x", ErrBad, nil},

		{"scope: inside", scoped("/live/"), "/live/a.m3u8", nil, nil},
		{"scope: without a slash", scoped("/live"), "/live/a.m3u8", nil, nil},
		{"scope: the prefix itself", scoped("/live"), "/live", nil, nil},
		{"scope: the whole site", scoped("/"), "/any/thing.ts", nil, nil},
		{"scope: segment-wise", scoped("/live"), "/lively/a", ErrScope, nil},
		{"scope: outside", scoped("/live/"), "/api/users", ErrScope, nil},
		{"scope: the parent", scoped("/live/ch1/"), "/live/", ErrScope, nil},
		{"traversal: dot-dot", scoped("/live/"), "/live/../api/users", ErrScope, nil},
		{"traversal: dot", scoped("/live/"), "/live/./a.ts", ErrScope, nil},
		{"traversal: trailing dot-dot", scoped("/live/"), "/live/..", ErrScope, nil},
		{"traversal: doubled slash", scoped("/live/"), "/live//a", ErrScope, nil},
		{"traversal: backslash", scoped("/live/"), `/live/..\admin`, ErrScope, nil},
		{"traversal: dot-dot with parameters", scoped("/live/"), "/live/..;/admin", ErrScope, nil},
		{"traversal: dot with parameters", scoped("/live/"), "/live/.;x/a.ts", ErrScope, nil},
		{"scope: empty path", scoped("/live/"), "", ErrScope, nil},
		{"scope: relative claim", scoped("live/"), "/live/a.ts", ErrScope, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, pass := range []string{"first", "cached"} {
				c, err := v.Verify(tt.token, tt.path, testNow)
				if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) || tt.cause != nil && !errors.Is(err, tt.cause) {
					t.Fatalf("%s Verify = %v, want %v (%v)", pass, err, tt.want, tt.cause)
				}
				if err != nil && c != (Claims{}) {
					t.Errorf("claims %+v with an error", c)
				}
				if err == nil && (c.Subject != "account-42" || c.Expiry.IsZero()) {
					t.Errorf("claims %+v", c)
				}
			}
		})
	}
}

// splice returns the header and claims of a with the signature of b.
func splice(a, b string) string {
	return b[:strings.LastIndexByte(b, '.')] + a[strings.LastIndexByte(a, '.'):]
}

// alterSig flips the lowest bit of the base64url digit at i.
func alterSig(tok string, i int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := []byte(tok)
	b[i] = alphabet[strings.IndexByte(alphabet, b[i])^1]
	return string(b)
}

// withAlg returns tok with its header naming alg, signature unchanged.
func withAlg(tok, alg string) string {
	h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"` + alg + `","typ":"JWT"}`))
	return h + tok[strings.IndexByte(tok, '.'):]
}

// TestVerifyKinds: a token is checked only with keys of its algorithm's
// kind, whichever kinds the file holds.
func TestVerifyKinds(t *testing.T) {
	pub := testEdKey.Public().(ed25519.PublicKey)
	hmacOnly, err := Parse([]byte(testSecret+"\n"), testAudience)
	if err != nil {
		t.Fatal(err)
	}
	edOnly, err := Parse([]byte(edPEM(t, pub)), testAudience)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKIXPublicKey(pub)
	for _, tt := range []struct {
		name  string
		v     *Verifier
		token string
		ok    bool
	}{
		{"HS256, HMAC only", hmacOnly, mustSign(t, jwt.SigningMethodHS256, []byte(testSecret), claims(nil)), true},
		{"EdDSA, HMAC only", hmacOnly, mustSign(t, jwt.SigningMethodEdDSA, testEdKey, claims(nil)), false},
		{"EdDSA, Ed25519 only", edOnly, mustSign(t, jwt.SigningMethodEdDSA, testEdKey, claims(nil)), true},
		{"HS256 with the platform secret, Ed25519 only", edOnly, mustSign(t, jwt.SigningMethodHS256, []byte(testSecret), claims(nil)), false},
		{"HS256 keyed with the public key, Ed25519 only", edOnly, mustSign(t, jwt.SigningMethodHS256, []byte(pub), claims(nil)), false},
		{"HS256 keyed with its DER, Ed25519 only", edOnly, mustSign(t, jwt.SigningMethodHS256, der, claims(nil)), false},
		{"HS256 keyed with its PEM, Ed25519 only", edOnly, mustSign(t, jwt.SigningMethodHS256, []byte(edPEM(t, pub)), claims(nil)), false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.v.Verify(tt.token, "/x", testNow)
			if (err == nil) != tt.ok || err != nil && !errors.Is(err, ErrBad) {
				t.Errorf("Verify = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// TestVerifyCached: a token remembered as valid is still checked for time
// and scope on every use.
func TestVerifyCached(t *testing.T) {
	v, _ := testVerifier(t)
	tok := mustSign(t, jwt.SigningMethodHS256, []byte(testSecret), claims(func(c *wireClaims) {
		c.NotBefore = jwt.NewNumericDate(testNow.Add(-time.Minute))
		c.Path = "/live/"
	}))
	steps := []struct {
		name string
		at   time.Time
		path string
		want error
	}{
		{"first use", testNow, "/live/a.ts", nil},
		{"again", testNow.Add(time.Minute), "/live/b.ts", nil},
		{"out of scope", testNow, "/vod/a.ts", ErrScope},
		{"traversal", testNow, "/live/../vod/a.ts", ErrScope},
		{"before nbf (a clock set back)", testNow.Add(-time.Hour), "/live/a.ts", ErrBad},
		{"valid again", testNow, "/live/a.ts", nil},
		{"within the leeway after exp", testNow.Add(time.Hour + Leeway - time.Second), "/live/a.ts", nil},
		{"expired", testNow.Add(time.Hour + Leeway), "/live/a.ts", ErrBad},
		{"still expired", testNow.Add(2 * time.Hour), "/live/a.ts", ErrBad},
	}
	for _, s := range steps {
		_, err := v.Verify(tok, s.path, s.at)
		if !errors.Is(err, s.want) || (s.want == nil) != (err == nil) {
			t.Errorf("%s: Verify = %v, want %v", s.name, err, s.want)
		}
	}
}

func TestUnderPath(t *testing.T) {
	for _, tt := range []struct {
		p, scope string
		want     bool
	}{
		{"/live/a.ts", "/live/", true},
		{"/live/a.ts", "/live", true},
		{"/live/", "/live/", true},
		{"/live/", "/live", true},
		{"/live", "/live", true},
		{"/live", "/live/", false},
		{"/", "/", true},
		{"/livestream", "/live", false},
		{"/live/../x", "/live/", false},
		{"/live/a/..", "/live/", false},
		{"/live//a", "/live/", false},
		{"/live/a//", "/live/", false},
		{"/live/./a", "/live/", false},
		{`/live/a\b`, "/live/", false},
		{"/live/..;/x", "/live/", false},
		{"/live/a.;b", "/live/", true}, // not a dot segment
		{"/live/..a", "/live/", true},
		{"live/a", "live/", false},
		{"", "/", false},
	} {
		if got := underPath(tt.p, tt.scope); got != tt.want {
			t.Errorf("underPath(%q, %q) = %v, want %v", tt.p, tt.scope, got, tt.want)
		}
	}
}

func TestSign(t *testing.T) {
	v, _ := testVerifier(t)
	want := Claims{Subject: "account-7", Expiry: testNow.Add(time.Hour), Path: "/live/"}
	tok, err := Sign([]byte(testSecret), want, testAudience)
	if err != nil {
		t.Fatalf("Sign: %v", err)
	}
	got, err := v.Verify(tok, "/live/a.ts", testNow)
	if err != nil || got.Subject != want.Subject || !got.Expiry.Equal(want.Expiry) || got.Path != want.Path {
		t.Errorf("Verify(Sign(%+v)) = %+v, %v", want, got, err)
	}
	if _, err := v.Verify(tok, "/vod/a.ts", testNow); !errors.Is(err, ErrScope) {
		t.Errorf("signed path not honoured: %v", err)
	}
	for _, tt := range []struct {
		name, secret, aud string
		c                 Claims
	}{
		{"short secret", "short", testAudience, want},
		{"no expiry", testSecret, testAudience, Claims{Subject: "a"}},
		{"no audience", testSecret, "", want},
	} {
		if tok, err := Sign([]byte(tt.secret), tt.c, tt.aud); err == nil {
			t.Errorf("%s: Sign = %q, want an error", tt.name, tok)
		}
	}
}

// TestVerifyConcurrent: many viewers' tokens, verified and cached at once
// (run with -race).
func TestVerifyConcurrent(t *testing.T) {
	v, priv := testVerifier(t)
	toks := make([]string, 64)
	for i := range toks {
		sub := func(c *wireClaims) { c.Subject = "account-42"; c.ID = strconv.Itoa(i) }
		if i%2 == 0 {
			toks[i] = mustSign(t, jwt.SigningMethodHS256, []byte(testSecret), claims(sub))
		} else {
			toks[i] = mustSign(t, jwt.SigningMethodEdDSA, priv, claims(sub))
		}
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 200 {
				tok := toks[(g*7+i)%len(toks)]
				if i%5 == 0 {
					tok = alterSig(tok, len(tok)-10)
				}
				_, err := v.Verify(tok, "/live/a.ts", testNow)
				if (err == nil) != (i%5 != 0) {
					t.Errorf("Verify(%d, %d) = %v", g, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
