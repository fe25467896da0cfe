// Package playtoken checks the platform's playback tokens at the edge.
//
// A playback token is a JWT the platform mints for a viewer (HS256 with a
// shared secret, or EdDSA with the platform's Ed25519 key). The edge checks
// it without calling anyone: signature, expiry (required), not-before, the
// audience, and an optional "path" claim that limits the token to part of
// the site. The token's subject is the account.
//
// A Verifier is immutable once built and safe for concurrent use; a key
// rotation is a new Verifier (Load again, swap the pointer). It remembers
// the tokens it verified lately so that a player presenting the same token
// for every segment is checked in a fraction of the cost of a JWT parse.
package playtoken

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const (
	// MaxTokenLen bounds a token, in bytes: a longer one is refused before
	// any decoding. The platform's tokens are a few hundred bytes.
	MaxTokenLen = 4096
	// MinSecretLen is the shortest HMAC secret a key file may hold, in
	// bytes.
	MinSecretLen = 16
	// Leeway tolerates clock skew between the platform and the edge on exp
	// and nbf.
	Leeway = 30 * time.Second
	// QueryParam is the query parameter that carries a token for players
	// that cannot set a header (docs/admission.md, "Playback tokens").
	QueryParam = "token"
)

// Reasons a token is refused. Verify's errors wrap exactly one of them.
var (
	// ErrMissing: the request carried no token.
	ErrMissing = errors.New("no playback token")
	// ErrBad: the token is not valid: malformed, too long, an algorithm
	// not accepted, a bad signature, expired, not yet valid, the wrong
	// audience. The cause is wrapped for the log; the client needs none.
	ErrBad = errors.New("invalid playback token")
	// ErrScope: a genuine token, for another part of the site.
	ErrScope = errors.New("playback token not valid for this path")
)

// The refusals made before any decoding are made once: a flood of junk
// costs no allocation.
var (
	errTooLong   = fmt.Errorf("%w: longer than %d bytes", ErrBad, MaxTokenLen)
	errMalformed = fmt.Errorf("%w: not a JWT signed with the kinds of key held", ErrBad)
)

// Claims are what rempart reads from a valid token.
type Claims struct {
	// Subject is the "sub" claim: the account. Empty when the platform
	// set none.
	Subject string
	// Expiry is the "exp" claim, to the second. Never zero in a verified
	// token.
	Expiry time.Time
	// Path is the "path" claim: when set, the token is valid for URL paths
	// that are Path or lie under it, segment-wise ("/live/" and "/live"
	// both allow "/live/a.m3u8", neither allows "/lively"). Empty: the
	// whole site.
	Path string
}

// wireClaims are the claims as they are encoded in a token.
type wireClaims struct {
	jwt.RegisteredClaims
	Path string `json:"path,omitempty"`
}

// Verifier checks playback tokens against the platform's keys. Build it
// with Load or Parse.
type Verifier struct {
	audience string
	hmac     jwt.VerificationKeySet // []byte secrets, for HS256
	ed       jwt.VerificationKeySet // ed25519.PublicKey, for EdDSA
	methods  []string               // the algorithms of the keys held
	recent   *recent                // tokens verified lately
}

// Audience returns the "aud" a token must name.
func (v *Verifier) Audience() string { return v.audience }

// Algorithms returns the JWT algorithms accepted, which follow the kinds of
// key loaded: "HS256" with HMAC secrets, "EdDSA" with Ed25519 keys.
func (v *Verifier) Algorithms() []string { return append([]string(nil), v.methods...) }

// Verify checks raw, a token presented for a request to urlPath (the
// decoded path, r.URL.Path) at now: signed with one of the keys held, by
// an algorithm of their kind; exp present and not past, nbf (when set)
// reached, both give or take Leeway; the Verifier's audience among the
// token's aud (RFC 7519 lets a token name several); urlPath within the
// path claim. It returns the token's claims, or an error wrapping
// ErrMissing (raw is empty), ErrBad or ErrScope, with zero Claims.
//
// Junk is refused before any decoding, and an expired or misaddressed
// token before its signature is checked; a token verified lately is
// remembered, its times and scope checked again on every use.
func (v *Verifier) Verify(raw, urlPath string, now time.Time) (Claims, error) {
	switch {
	case raw == "":
		return Claims{}, ErrMissing
	case len(raw) > MaxTokenLen:
		return Claims{}, errTooLong
	case !v.wellFormed(raw):
		return Claims{}, errMalformed
	}
	k := recentKey(raw)
	c, ok := v.recent.get(k, now)
	if !ok {
		e, err := v.check(raw, now)
		if err != nil {
			return Claims{}, fmt.Errorf("%w: %w", ErrBad, err)
		}
		v.recent.add(k, e)
		c = e.claims
	}
	if c.Path != "" && !underPath(urlPath, c.Path) {
		return Claims{}, ErrScope
	}
	return c, nil
}

// check verifies raw with golang-jwt's parts, in the order of their cost:
// decode, algorithm, claims, and the signature last, so that a flood of
// expired or foreign tokens costs no signature check. The algorithm must
// be one of the keys held (never "none"; HS256 is checked against the HMAC
// secrets only, so a token "signed" with an Ed25519 public key as an HMAC
// secret fails); exp is required; base64 must be canonical, so that a
// token has one spelling (the cache of recent tokens is keyed by it).
func (v *Verifier) check(raw string, now time.Time) (entry, error) {
	var wc wireClaims
	t, _, err := decoder.ParseUnverified(raw, &wc)
	if err != nil {
		return entry{}, err
	}
	keys, err := v.keysFor(t.Method)
	if err != nil {
		return entry{}, err
	}
	val := jwt.NewValidator(jwt.WithAudience(v.audience), jwt.WithExpirationRequired(),
		jwt.WithLeeway(Leeway), jwt.WithTimeFunc(func() time.Time { return now }))
	if err := val.Validate(&wc); err != nil {
		return entry{}, fmt.Errorf("%w: %w", jwt.ErrTokenInvalidClaims, err)
	}
	if err := verifySignature(t, raw[:strings.LastIndexByte(raw, '.')], keys); err != nil {
		return entry{}, err
	}
	return newEntry(&wc), nil
}

// decoder decodes tokens; it holds no state between calls.
var decoder = jwt.NewParser(jwt.WithStrictDecoding())

// keysFor returns the keys that verify m, or an error when m is not one of
// the algorithms of the keys held.
func (v *Verifier) keysFor(m jwt.SigningMethod) ([]jwt.VerificationKey, error) {
	switch alg := m.Alg(); {
	case alg == jwt.SigningMethodHS256.Alg() && len(v.hmac.Keys) > 0:
		return v.hmac.Keys, nil
	case alg == jwt.SigningMethodEdDSA.Alg() && len(v.ed.Keys) > 0:
		return v.ed.Keys, nil
	}
	return nil, fmt.Errorf("%w: algorithm %s, want one of %s", jwt.ErrTokenSignatureInvalid, m.Alg(), strings.Join(v.methods, ", "))
}

// verifySignature checks the signature of t over signing (header.claims)
// with each key in turn.
func verifySignature(t *jwt.Token, signing string, keys []jwt.VerificationKey) error {
	var err error
	for _, k := range keys {
		if err = t.Method.Verify(signing, t.Signature, k); err == nil {
			return nil
		}
	}
	return fmt.Errorf("%w: %w", jwt.ErrTokenSignatureInvalid, err)
}

// newEntry is the cache entry of a verified token.
func newEntry(wc *wireClaims) entry {
	e := entry{
		claims: Claims{Subject: wc.Subject, Expiry: wc.ExpiresAt.Time, Path: wc.Path},
		until:  wc.ExpiresAt.Add(Leeway),
	}
	if wc.NotBefore != nil {
		e.from = wc.NotBefore.Add(-Leeway)
	}
	return e
}

// Lengths of a signature in a token, in base64url characters.
const (
	hs256SigLen = 43 // 32 bytes
	eddsaSigLen = 86 // 64 bytes
)

// setMethods lists the algorithms of the keys held.
func (v *Verifier) setMethods() {
	v.methods = nil
	if len(v.hmac.Keys) > 0 {
		v.methods = append(v.methods, jwt.SigningMethodHS256.Alg())
	}
	if len(v.ed.Keys) > 0 {
		v.methods = append(v.methods, jwt.SigningMethodEdDSA.Alg())
	}
}

// wellFormed reports whether raw has the shape of a token we could
// accept: three base64url parts, the last as long as a signature of the
// kinds of key held. It refuses junk in one pass, without allocating.
func (v *Verifier) wellFormed(raw string) bool {
	dots, last := 0, 0
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		switch {
		case c == '.':
			if i == last { // an empty part
				return false
			}
			dots, last = dots+1, i+1
		case !base64url(c):
			return false
		}
	}
	n := len(raw) - last
	return dots == 2 && (n == hs256SigLen && len(v.hmac.Keys) > 0 || n == eddsaSigLen && len(v.ed.Keys) > 0)
}

// base64url reports whether c is of the base64url alphabet, unpadded.
func base64url(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_'
}
