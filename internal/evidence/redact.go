package evidence

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
)

// secretWords mark the headers and query parameters that hold a secret of
// the viewer rather than of the attacker (sessions, tickets, clearances,
// platform tokens, API keys, URL signatures): a name containing one of
// them, in any case, is redacted. Over-matching only hides a value.
var secretWords = []string{"token", "key", "secret", "session", "auth", "sig", "passw", "ticket", "credential", "jwt"}

// redactor replaces secrets in what a log entry keeps of a request with a
// keyed hash: equal secrets give equal hashes, so requests carrying the
// same token stay correlatable, but without the key a hash cannot be
// tested against a guess (a plain hash of a short token could). It is
// read-only once built: safe for concurrent use.
type redactor struct {
	key   []byte          // the redaction key, derived from the log's key
	names map[string]bool // shield.evidence.redact, lowercased
}

func newRedactor(k *Key, extra []string) *redactor {
	rd := &redactor{key: k.redact, names: make(map[string]bool, len(extra))}
	for _, n := range extra {
		rd.names[strings.ToLower(n)] = true
	}
	return rd
}

// secret reports whether the header or query parameter named name holds
// a secret.
func (rd *redactor) secret(name string) bool {
	lower := strings.ToLower(name)
	if rd.names[lower] {
		return true
	}
	for _, w := range secretWords {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// hash returns the keyed hash that stands for the secret v.
func (rd *redactor) hash(v string) string {
	m := hmac.New(sha256.New, rd.key)
	m.Write([]byte(v))
	return "[hmac:" + hex.EncodeToString(m.Sum(nil)[:8]) + "]"
}

// header returns what the log keeps of the value v of header name. Every
// cookie's value is hashed, its name kept; Authorization and
// Proxy-Authorization keep their scheme ("Bearer", "Basic") in clear.
func (rd *redactor) header(name, v string) string {
	switch {
	case strings.EqualFold(name, "Cookie"):
		return rd.cookies(v)
	case !rd.secret(name):
		return v
	}
	scheme := ""
	if strings.HasSuffix(strings.ToLower(name), "authorization") {
		if i := strings.IndexByte(v, ' '); i > 0 && i <= 16 && strings.IndexFunc(v[:i], notSchemeRune) < 0 {
			scheme, v = v[:i+1], strings.TrimLeft(v[i+1:], " ")
		}
	}
	return scheme + rd.hash(v)
}

// notSchemeRune reports whether r cannot be part of an authorization
// scheme's name as the log keeps it.
func notSchemeRune(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-')
}

// cookies hashes the value of each cookie of a Cookie header.
func (rd *redactor) cookies(v string) string {
	var b strings.Builder
	for i, c := range strings.Split(v, ";") {
		if i > 0 {
			b.WriteString("; ")
		}
		name, val, ok := strings.Cut(strings.TrimSpace(c), "=")
		b.WriteString(name)
		if ok {
			b.WriteByte('=')
			b.WriteString(rd.hash(val))
		}
	}
	return b.String()
}

// target returns u's path and query with the values of secret query
// parameters hashed. The hash is of the decoded value, so that a token
// hashes the same in a query and in a header.
func (rd *redactor) target(u *url.URL) string {
	uri := u.RequestURI()
	path, query, ok := strings.Cut(uri, "?")
	if !ok || query == "" {
		return uri
	}
	parts := strings.Split(query, "&")
	for i, p := range parts {
		name, val, ok := strings.Cut(p, "=")
		if !ok || val == "" || !rd.secret(unescape(name)) {
			continue
		}
		parts[i] = name + "=" + rd.hash(unescape(val))
	}
	return path + "?" + strings.Join(parts, "&")
}

// unescape decodes a query component, or returns it as it is when it is
// not valid percent-encoding.
func unescape(s string) string {
	if d, err := url.QueryUnescape(s); err == nil {
		return d
	}
	return s
}
