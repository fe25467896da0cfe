package playtoken

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkVerify measures Verify as the edge sees it: valid tokens come
// again with every segment (cache hits), forged ones are new each time.
func BenchmarkVerify(b *testing.B) {
	v, priv := testVerifier(b)
	_, otherPriv, _ := ed25519.GenerateKey(nil)
	expired := func(c *wireClaims) { c.ExpiresAt = jwt.NewNumericDate(testNow.Add(-time.Hour)) }
	for _, bc := range []struct {
		name, raw string
		ok        bool
	}{
		{"HS256", mustSign(b, jwt.SigningMethodHS256, []byte(testSecret), claims(nil)), true},
		{"EdDSA", mustSign(b, jwt.SigningMethodEdDSA, priv, claims(nil)), true},
		{"garbage", "eyJhbGciOiJIUzI1NiJ9." + strings.Repeat("x!", 100) + ".sig", false},
		{"garbage of a token's shape", "eyJh." + strings.Repeat("x", 200) + "." + strings.Repeat("y", hs256SigLen), false},
		{"forged HS256", mustSign(b, jwt.SigningMethodHS256, []byte("attacker-secret-0123456789"), claims(nil)), false},
		{"forged EdDSA", mustSign(b, jwt.SigningMethodEdDSA, otherPriv, claims(nil)), false},
		{"expired EdDSA", mustSign(b, jwt.SigningMethodEdDSA, priv, claims(expired)), false},
		{"oversize", strings.Repeat("a", MaxTokenLen+1), false},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.Verify(bc.raw, "/live/a.ts", testNow); (err == nil) != bc.ok {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyUncached is the price of a token seen for the first time
// (or of every token without the cache of recent ones).
func BenchmarkVerifyUncached(b *testing.B) {
	v, priv := testVerifier(b)
	for _, bc := range []struct{ name, raw string }{
		{"HS256", mustSign(b, jwt.SigningMethodHS256, []byte(testSecret), claims(nil))},
		{"EdDSA", mustSign(b, jwt.SigningMethodEdDSA, priv, claims(nil))},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := v.check(bc.raw, testNow); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkVerifyParallel: many viewers' tokens, verified on every core.
func BenchmarkVerifyParallel(b *testing.B) {
	v, _ := testVerifier(b)
	toks := make([]string, 1024)
	for i := range toks {
		toks[i] = mustSign(b, jwt.SigningMethodHS256, []byte(testSecret), claims(func(c *wireClaims) {
			c.Subject = "account-" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26))
		}))
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for i := 0; pb.Next(); i++ {
			if _, err := v.Verify(toks[i%len(toks)], "/live/a.ts", testNow); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkParse(b *testing.B) {
	file := []byte(testKeyFile(b))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(file, testAudience); err != nil {
			b.Fatal(err)
		}
	}
}
