package config

import (
	"fmt"
	"net/textproto"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// maxSharedHeaders bounds sites[].shared_headers: each one multiplies the
// objects a key may split into.
const maxSharedHeaders = 16

// unsharable are the headers sites[].shared_headers refuses (canonical),
// with why: a shared fetch is an anonymous GET of a whole object, framed
// and forwarded by the edge itself.
var unsharable = map[string]string{
	"Authorization":          "credentials: shared fetches are anonymous",
	"Cookie":                 "credentials: shared fetches are anonymous",
	"Range":                  "the edge fetches whole objects and answers ranges itself",
	"If-Range":               "the edge answers conditionals itself",
	"If-Match":               "the edge answers conditionals itself",
	"If-None-Match":          "the edge answers conditionals itself",
	"If-Modified-Since":      "the edge answers conditionals itself",
	"If-Unmodified-Since":    "the edge answers conditionals itself",
	"Cache-Control":          "a client does not steer the shared cache",
	"Pragma":                 "a client does not steer the shared cache",
	"Host":                   "framing: the edge sets it",
	"Content-Length":         "framing: the edge sets it",
	"Content-Type":           "a shared fetch has no body",
	"Expect":                 "framing: the edge sets it",
	"Connection":             "hop-by-hop",
	"Keep-Alive":             "hop-by-hop",
	"Te":                     "hop-by-hop",
	"Trailer":                "hop-by-hop",
	"Transfer-Encoding":      "hop-by-hop",
	"Upgrade":                "hop-by-hop",
	"Via":                    "forwarding: the edge sets it",
	"Forwarded":              "forwarding: shared fetches name no client",
	"X-Forwarded-For":        "forwarding: shared fetches name no client",
	"X-Forwarded-Host":       "forwarding: shared fetches name no client",
	"X-Forwarded-Proto":      "forwarding: shared fetches name no client",
	"X-Real-Ip":              "forwarding: shared fetches name no client",
	"X-Http-Method-Override": "a method override: a shared fetch is a GET",
	"X-Http-Method":          "a method override: a shared fetch is a GET",
	"X-Method-Override":      "a method override: a shared fetch is a GET",
	"X-Original-Url":         "a path override: the key is the path",
	"X-Rewrite-Url":          "a path override: the key is the path",
}

// validateSharedHeaders checks sites[].shared_headers: at most
// maxSharedHeaders header names, none twice, none a shared fetch cannot
// carry.
func validateSharedHeaders(v *validator, key string, names []string) {
	if len(names) > maxSharedHeaders {
		v.bad(key, len(names), fmt.Sprintf("at most %d header names (each one splits the cache)", maxSharedHeaders))
	}
	seen := map[string]bool{}
	for i, name := range names {
		k := fmt.Sprintf("%s[%d]", key, i)
		cn := textproto.CanonicalMIMEHeaderKey(name)
		why, refused := unsharable[cn]
		switch {
		case len(name) > 64 || !httpguts.ValidHeaderFieldName(name):
			v.bad(k, name, "a header name: letters, digits and !#$%&'*+-.^_`|~, such as Accept-Encoding")
		case refused || strings.HasPrefix(cn, "Proxy-"):
			if !refused {
				why = "hop-by-hop"
			}
			v.bad(k, name, "a header a shared fetch may carry, not "+cn+" ("+why+")")
		case seen[cn]:
			v.bad(k, name, "a header not already listed (names match ignoring case)")
		}
		seen[cn] = true
	}
}
