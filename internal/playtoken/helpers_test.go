package playtoken

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"go.uber.org/goleak"
)

// TestMain checks that a Verifier starts no goroutine (its cache runs
// none without an expiry).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	testAudience = "rempart"
	testSecret   = "platform-secret-0123456789abcdef"
	testRotated  = "rotated-secret-0123456789abcdef"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// testEdKey is a fixed Ed25519 key: Ed25519 signatures are deterministic,
// so tokens signed with it are the same in every run (fuzz seeds).
var testEdKey = ed25519.NewKeyFromSeed([]byte("rempart-playtoken-test-seed-0032"))

func edPEM(t testing.TB, pub ed25519.PublicKey) string {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

// testKeyFile holds both secrets and the Ed25519 test key.
func testKeyFile(t testing.TB) string {
	return "# platform keys\n" + testSecret + "\n" + testRotated + "\n" + edPEM(t, testEdKey.Public().(ed25519.PublicKey))
}

func testVerifier(t testing.TB) (*Verifier, ed25519.PrivateKey) {
	t.Helper()
	v, err := Parse([]byte(testKeyFile(t)), testAudience)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return v, testEdKey
}

// claims are valid claims at testNow for a token, changed by edit.
func claims(edit func(*wireClaims)) *wireClaims {
	c := &wireClaims{RegisteredClaims: jwt.RegisteredClaims{
		Audience:  jwt.ClaimStrings{testAudience},
		ExpiresAt: jwt.NewNumericDate(testNow.Add(time.Hour)),
		Subject:   "account-42",
	}}
	if edit != nil {
		edit(c)
	}
	return c
}

func mustSign(t testing.TB, m jwt.SigningMethod, key any, c *wireClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(m, c).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// errorsIsOne reports whether err wraps exactly one of the sentinels.
func errorsIsOne(err error) bool {
	n := 0
	for _, s := range []error{ErrMissing, ErrBad, ErrScope} {
		if errors.Is(err, s) {
			n++
		}
	}
	return n == 1
}
