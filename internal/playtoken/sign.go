package playtoken

import (
	"errors"
	"fmt"

	"github.com/golang-jwt/jwt/v5"
)

// Sign mints an HS256 token for audience with claims, signed with secret.
// It is for tests, demos and tooling (rempart siege): the platform mints
// the real tokens. claims.Expiry is required; claims.Path is left out when
// empty.
func Sign(secret []byte, claims Claims, audience string) (string, error) {
	switch {
	case len(secret) < MinSecretLen:
		return "", fmt.Errorf("sign playback token: a secret of %d bytes, want at least %d", len(secret), MinSecretLen)
	case claims.Expiry.IsZero():
		return "", errors.New("sign playback token: no expiry")
	case audience == "":
		return "", errors.New("sign playback token: no audience")
	}
	wc := wireClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   claims.Subject,
			Audience:  jwt.ClaimStrings{audience},
			ExpiresAt: jwt.NewNumericDate(claims.Expiry),
		},
		Path: claims.Path,
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, wc).SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("sign playback token: %w", err)
	}
	return s, nil
}
