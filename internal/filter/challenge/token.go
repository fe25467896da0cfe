package challenge

import (
	"net/http"

	"github.com/rempart/rempart/internal/playtoken"
)

// TokenAudience is the audience ("aud") an app token must name.
const TokenAudience = "rempart"

// tokenOK reports whether r carries a valid app token for its path; has
// tells whether it carried one at all. Apps send their token in the
// Authorization header only: a token in the query would land in access
// logs and Referer headers.
func (c *Challenger) tokenOK(r *http.Request) (ok, has bool) {
	raw, has := playtoken.FromRequest(r, "")
	v := c.tokens.Load()
	if !has || v == nil {
		return false, has
	}
	_, err := v.Verify(raw, r.URL.Path, c.now())
	return err == nil, true
}
