package admission

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/rempart/rempart/internal/config"
	"github.com/rempart/rempart/internal/playtoken"
)

// Tokens checks the platform's playback tokens on gated requests
// (admission.tokens): a token, when present, must be valid for the path;
// with Required, a request that opens a session must carry one. The
// token's subject is the account its sessions count against.
type Tokens struct {
	v        *playtoken.Verifier
	required bool
}

// NewTokens loads the platform's keys for cfg; nil (no checks) without a
// keys file.
func NewTokens(cfg config.PlaybackTokens) (*Tokens, error) {
	if cfg.KeysFile == "" {
		return nil, nil
	}
	v, err := playtoken.Load(cfg.KeysFile, cfg.Audience)
	if err != nil {
		return nil, fmt.Errorf("load playback token keys: %w", err)
	}
	return &Tokens{v: v, required: cfg.Required}, nil
}

// checkToken returns the account of r's token; ok is false when r was
// refused. opening says r would open a session (tokens are required then).
func (s *Stage) checkToken(w http.ResponseWriter, r *http.Request, now time.Time, opening bool) (account string, ok bool) {
	t := s.Tokens
	if t == nil {
		return "", true
	}
	raw, found := playtoken.FromRequest(r, playtoken.QueryParam)
	if !found {
		if t.required && opening {
			s.refuse(w, reasonTokenRequired)
			return "", false
		}
		return "", true
	}
	c, err := t.v.Verify(raw, r.URL.Path, now)
	switch {
	case err == nil:
		return c.Subject, true
	case errors.Is(err, playtoken.ErrScope):
		s.refuse(w, reasonTokenScope)
	default:
		s.refuse(w, reasonBadToken)
	}
	return "", false
}
