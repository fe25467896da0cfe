package playtoken

import (
	"net/http"
	"net/url"
	"strings"
)

// FromRequest returns the token r carries in an "Authorization: Bearer"
// header or, when queryParam is not empty, in that query parameter (the
// header first). ok reports whether r carried one at all: "Bearer" with
// nothing after it gives "" and true, which Verify refuses. A value longer
// than MaxTokenLen is returned as found, not unescaped, for Verify to
// refuse. Whether a token may travel in the query (it then lands in
// access logs and Referer headers) is the caller's choice.
func FromRequest(r *http.Request, queryParam string) (raw string, ok bool) {
	if raw, ok := bearer(r.Header.Get("Authorization")); ok {
		return raw, true
	}
	if queryParam == "" {
		return "", false
	}
	return queryValue(r.URL.RawQuery, queryParam)
}

// bearer returns the token of an Authorization header value "Bearer
// <token>" (the scheme in any case).
func bearer(v string) (string, bool) {
	const scheme = "bearer "
	if len(v) <= len(scheme) || !strings.EqualFold(v[:len(scheme)], scheme) {
		return "", false
	}
	return strings.TrimSpace(v[len(scheme):]), true
}

// queryValue returns the first value of name in the raw query q, without
// parsing the rest of it (url.Values would, on every request).
func queryValue(q, name string) (string, bool) {
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, v, _ := strings.Cut(kv, "=")
		if k != name {
			continue
		}
		if len(v) > MaxTokenLen || !strings.ContainsAny(v, "%+") {
			return v, true
		}
		u, err := url.QueryUnescape(v)
		if err != nil {
			return v, true // malformed escapes: Verify refuses it
		}
		return u, true
	}
	return "", false
}
