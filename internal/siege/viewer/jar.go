package viewer

import (
	"net/http"
	"strings"
	"time"
)

// Cookie bounds: what one viewer keeps, whatever the target sends.
const (
	maxCookies     = 16
	maxCookieBytes = 4 << 10
)

// jar is a viewer's cookies. There is one target per run, so cookies are
// not scoped by domain or path: every cookie goes back on every request,
// as a browser would send a session cookie with Path=/.
type jar struct {
	cookies []jarCookie
}

type jarCookie struct {
	name, value string
	expires     time.Time // zero: a session cookie
}

// set stores the cookies of resp, replacing those of the same name and
// removing those the target expires.
func (j *jar) set(resp *http.Response, now time.Time) {
	if len(resp.Header["Set-Cookie"]) == 0 {
		return
	}
	for _, c := range resp.Cookies() {
		j.remove(c.Name)
		if c.MaxAge < 0 || (!c.Expires.IsZero() && !c.Expires.After(now)) ||
			len(c.Value) > maxCookieBytes || len(j.cookies) >= maxCookies {
			continue
		}
		jc := jarCookie{name: c.Name, value: c.Value}
		if c.MaxAge > 0 {
			jc.expires = now.Add(time.Duration(c.MaxAge) * time.Second)
		} else if !c.Expires.IsZero() {
			jc.expires = c.Expires
		}
		j.cookies = append(j.cookies, jc)
	}
}

// has reports whether the jar holds a cookie called name.
func (j *jar) has(name string) bool {
	for _, c := range j.cookies {
		if c.name == name {
			return true
		}
	}
	return false
}

func (j *jar) remove(name string) {
	for i, c := range j.cookies {
		if c.name == name {
			j.cookies = append(j.cookies[:i], j.cookies[i+1:]...)
			return
		}
	}
}

// header returns the Cookie header value, or "" when there is none.
func (j *jar) header(now time.Time) string {
	switch len(j.cookies) {
	case 0:
		return ""
	case 1:
		if c := j.cookies[0]; c.expires.IsZero() || c.expires.After(now) {
			return c.name + "=" + c.value
		}
		return ""
	}
	var b strings.Builder
	for _, c := range j.cookies {
		if !c.expires.IsZero() && !c.expires.After(now) {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(c.name + "=" + c.value)
	}
	return b.String()
}
