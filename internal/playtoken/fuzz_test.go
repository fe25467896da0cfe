package playtoken

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// FuzzVerify feeds arbitrary tokens and paths to Verify: no panic, a
// sentinel on every refusal, and nothing passes but what our keys signed.
// The keys and the clock are fixed, and HS256 and Ed25519 signatures
// deterministic, so the seeds are the same in every fuzzing process.
func FuzzVerify(f *testing.F) {
	v, priv := testVerifier(f)
	signed := map[string]bool{} // header.claims of the tokens we signed
	seed := func(tok, path string) {
		signed[tok[:strings.LastIndexByte(tok, '.')]] = true
		f.Add(tok, path)
	}
	seed(mustSign(f, jwt.SigningMethodHS256, []byte(testSecret), claims(nil)), "/live/a.ts")
	seed(mustSign(f, jwt.SigningMethodHS256, []byte(testRotated), claims(func(c *wireClaims) { c.Path = "/live/" })), "/live/../a")
	seed(mustSign(f, jwt.SigningMethodEdDSA, priv, claims(func(c *wireClaims) {
		c.NotBefore = jwt.NewNumericDate(testNow)
		c.Audience = jwt.ClaimStrings{"x", testAudience}
	})), "/")
	f.Add(mustSign(f, jwt.SigningMethodHS256, []byte(testSecret), claims(func(c *wireClaims) { c.ExpiresAt = nil })), "/x")
	f.Add("eyJhbGciOiJub25lIn0.eyJleHAiOjF9.", "/")
	f.Add("", "")
	f.Fuzz(func(t *testing.T, raw, path string) {
		c, err := v.Verify(raw, path, testNow)
		if err != nil {
			if !errorsIsOne(err) || c != (Claims{}) {
				t.Fatalf("Verify(%q) = %+v, %v", raw, c, err)
			}
			return
		}
		if !signed[raw[:strings.LastIndexByte(raw, '.')]] {
			t.Fatalf("a token we did not sign passed: %q", raw)
		}
		if !c.Expiry.Add(Leeway).After(testNow) {
			t.Fatalf("an expired token passed: %+v", c)
		}
	})
}

// FuzzParse feeds arbitrary key files to Parse: no panic, and what it
// accepts holds usable keys only.
func FuzzParse(f *testing.F) {
	f.Add([]byte(testKeyFile(f)))
	f.Add([]byte("# c\n" + testSecret + "\r\n-----BEGIN PUBLIC KEY-----\nMCow\n-----END PUBLIC KEY-----\n"))
	f.Add([]byte("-----BEGIN X-----\n-----BEGIN PUBLIC KEY-----\n"))
	f.Add([]byte("-----END \n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := Parse(b, testAudience)
		if err != nil {
			return
		}
		if len(v.hmac.Keys)+len(v.ed.Keys) == 0 || len(v.methods) == 0 {
			t.Fatalf("Parse(%q) accepted no keys", b)
		}
		for _, k := range v.hmac.Keys {
			if len(k.([]byte)) < MinSecretLen {
				t.Fatalf("Parse(%q) accepted a short secret %q", b, k)
			}
		}
		_, _ = v.Verify("a.b."+strings.Repeat("c", hs256SigLen), "/", time.Unix(0, 0))
	})
}
