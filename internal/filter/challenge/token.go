package challenge

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TokenAudience is the audience ("aud") an app token must name.
const TokenAudience = "rempart"

// maxTokenLen bounds the Authorization header we parse: a bigger token is
// refused before any decoding.
const maxTokenLen = 4096

// tokenLeeway tolerates clock skew between the platform and the edge on
// exp and nbf.
const tokenLeeway = 30 * time.Second

// Reasons an app token is refused.
var (
	ErrBadToken   = errors.New("invalid app token")
	ErrTokenScope = errors.New("app token not valid for this path")
)

// tokenClaims are the claims rempart reads: the registered ones (exp, nbf,
// aud) and an optional path prefix the token is limited to.
type tokenClaims struct {
	jwt.RegisteredClaims
	// Path, when set, limits the token to URLs whose path is Path or lies
	// under it ("/live/" or "/live" both allow "/live/a.m3u8").
	Path string `json:"path,omitempty"`
}

// tokenKeys are the platform's verification keys.
type tokenKeys struct {
	hmac    jwt.VerificationKeySet // []byte secrets, for HS256
	ed      jwt.VerificationKeySet // ed25519.PublicKey, for EdDSA
	methods []string
}

// loadTokenKeys reads the platform's keys from path: HMAC secrets, one per
// line, and Ed25519 public keys as PEM "PUBLIC KEY" blocks.
func loadTokenKeys(path string) (*tokenKeys, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load token keys: %w", err)
	}
	tk, err := parseTokenKeys(b)
	if err != nil {
		return nil, fmt.Errorf("load token keys %s: %w", path, err)
	}
	return tk, nil
}

func parseTokenKeys(b []byte) (*tokenKeys, error) {
	tk := &tokenKeys{}
	var block []byte // a PEM block being read, nil outside one
	sc := bufio.NewScanner(bytes.NewReader(b))
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		switch {
		case bytes.HasPrefix(line, []byte("-----BEGIN ")):
			block = append([]byte(nil), line...)
			block = append(block, '\n')
		case block != nil:
			block = append(append(block, line...), '\n')
			if bytes.HasPrefix(line, []byte("-----END ")) {
				if err := tk.addPEM(block); err != nil {
					return nil, fmt.Errorf("line %d: %w", n, err)
				}
				block = nil
			}
		case len(line) == 0 || line[0] == '#':
		case len(line) < MinKeyLen:
			return nil, fmt.Errorf("line %d: a secret of %d bytes, want at least %d", n, len(line), MinKeyLen)
		default:
			tk.hmac.Keys = append(tk.hmac.Keys, bytes.Clone(line))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if block != nil {
		return nil, errors.New("unterminated PEM block")
	}
	if len(tk.hmac.Keys) > 0 {
		tk.methods = append(tk.methods, jwt.SigningMethodHS256.Alg())
	}
	if len(tk.ed.Keys) > 0 {
		tk.methods = append(tk.methods, jwt.SigningMethodEdDSA.Alg())
	}
	if len(tk.methods) == 0 {
		return nil, ErrNoKeys
	}
	return tk, nil
}

func (tk *tokenKeys) addPEM(block []byte) error {
	p, _ := pem.Decode(block)
	if p == nil || p.Type != "PUBLIC KEY" {
		return errors.New("want a PEM PUBLIC KEY block (Ed25519)")
	}
	k, err := x509.ParsePKIXPublicKey(p.Bytes)
	if err != nil {
		return fmt.Errorf("parse public key: %w", err)
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		return fmt.Errorf("a %T public key, want Ed25519", k)
	}
	tk.ed.Keys = append(tk.ed.Keys, ek)
	return nil
}

// keyfunc gives jwt the keys for the token's algorithm; the parser has
// already refused any algorithm outside tk.methods ("none" included).
func (tk *tokenKeys) keyfunc(t *jwt.Token) (any, error) {
	switch t.Method.(type) {
	case *jwt.SigningMethodHMAC:
		return tk.hmac, nil
	case *jwt.SigningMethodEd25519:
		return tk.ed, nil
	}
	return nil, ErrBadToken
}

// verify checks an app token for a request to urlPath at now.
func (tk *tokenKeys) verify(raw, urlPath string, now func() time.Time) error {
	if len(raw) > maxTokenLen {
		return ErrBadToken
	}
	var claims tokenClaims
	_, err := jwt.ParseWithClaims(raw, &claims, tk.keyfunc,
		jwt.WithValidMethods(tk.methods),
		jwt.WithAudience(TokenAudience),
		jwt.WithExpirationRequired(),
		jwt.WithLeeway(tokenLeeway),
		jwt.WithTimeFunc(now))
	if err != nil {
		return fmt.Errorf("%w: %w", ErrBadToken, err)
	}
	if claims.Path != "" && !underPath(urlPath, claims.Path) {
		return ErrTokenScope
	}
	return nil
}

// underPath reports whether p is scope or lies under it, segment-wise. A
// path with dot segments or doubled slashes is never in scope: the origin
// might resolve "/live/../admin" out of it.
func underPath(p, scope string) bool {
	if p == "" || path.Clean(p) != strings.TrimSuffix(p, "/") && path.Clean(p) != p {
		return false
	}
	if !strings.HasPrefix(p, scope) {
		return false
	}
	return len(p) == len(scope) || strings.HasSuffix(scope, "/") || p[len(scope)] == '/'
}

// bearer returns the token of an "Authorization: Bearer <token>" header.
func bearer(h http.Header) (string, bool) {
	v := h.Get("Authorization")
	const scheme = "bearer "
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	return strings.TrimSpace(v[len(scheme):]), true
}
