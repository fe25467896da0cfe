package hls

import (
	"fmt"
	"strconv"
	"strings"
)

// Attr is one attribute of an attribute list (RFC 8216 §4.2).
type Attr struct {
	Name   string
	Value  string // without the quotes of a quoted string
	Quoted bool   // the value was a quoted string
}

// Attrs is an attribute list, in the order written.
type Attrs []Attr

// Get returns the value of the attribute name.
func (a Attrs) Get(name string) (string, bool) {
	for _, at := range a {
		if at.Name == name {
			return at.Value, true
		}
	}
	return "", false
}

// ParseAttrs parses an attribute list: NAME=VALUE pairs separated by
// commas, where a value is a quoted string (which may hold commas) or an
// unquoted token. Names are upper-case letters, digits and '-'; a name may
// appear once. Spaces after a comma are tolerated, as some packagers write
// them.
func ParseAttrs(s string) (Attrs, error) {
	var out Attrs
	for i := 0; i < len(s); {
		a, next, err := parseAttr(s, i)
		if err != nil {
			return nil, err
		}
		if _, dup := out.Get(a.Name); dup {
			return nil, fmt.Errorf("attribute %s appears twice", a.Name)
		}
		out = append(out, a)
		if i, err = skipComma(s, next, a.Name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// IndexAttr finds the attribute name in the attribute list s, parsed as
// ParseAttrs does: it returns the attribute and the index in s where its
// value starts (after the opening quote of a quoted string), so that
// s[i:i+len(a.Value)] is the value; i is -1 when s has no such attribute.
// It fails where ParseAttrs fails, except that it looks for repeats of
// name only, and it does not allocate when s is valid: rewriters use it to
// change one value in place, keeping the rest of the line byte for byte.
func IndexAttr(s, name string) (a Attr, i int, err error) {
	i = -1
	for j := 0; j < len(s); {
		var at Attr
		var next int
		if at, next, err = parseAttr(s, j); err != nil {
			return Attr{}, -1, err
		}
		if at.Name == name {
			if i >= 0 {
				return Attr{}, -1, fmt.Errorf("attribute %s appears twice", name)
			}
			a, i = at, next-len(at.Value)
			if at.Quoted {
				i-- // the closing quote
			}
		}
		if j, err = skipComma(s, next, at.Name); err != nil {
			return Attr{}, -1, err
		}
	}
	return a, i, nil
}

// skipComma checks what follows the value of attribute name, which ends
// at s[i]: the end of the list, or a comma (and the spaces some packagers
// write after it) before another attribute. It returns where that one
// starts.
func skipComma(s string, i int, name string) (int, error) {
	if i == len(s) {
		return i, nil
	}
	if s[i] != ',' {
		return 0, fmt.Errorf("attribute %s: want ',' after the value, got %q", name, s[i])
	}
	i++
	for i < len(s) && s[i] == ' ' {
		i++
	}
	if i == len(s) {
		return 0, fmt.Errorf("attribute list ends with a comma")
	}
	return i, nil
}

// parseAttr parses one NAME=VALUE starting at s[i]; it returns the index
// just after the value.
func parseAttr(s string, i int) (Attr, int, error) {
	start := i
	for i < len(s) && isNameByte(s[i]) {
		i++
	}
	if i == start || i == len(s) || s[i] != '=' {
		return Attr{}, 0, fmt.Errorf("attribute at column %d: want NAME= with NAME in A-Z, 0-9, '-'", start+1)
	}
	a := Attr{Name: s[start:i]}
	i++
	if i < len(s) && s[i] == '"' {
		end := strings.IndexByte(s[i+1:], '"')
		if end < 0 {
			return Attr{}, 0, fmt.Errorf("attribute %s: quoted string has no closing quote", a.Name)
		}
		a.Value, a.Quoted = s[i+1:i+1+end], true
		return a, i + end + 2, nil
	}
	vstart := i
	for i < len(s) && s[i] != ',' {
		if c := s[i]; c == '"' || c == ' ' || c == '\t' {
			return Attr{}, 0, fmt.Errorf("attribute %s: unquoted value has %q", a.Name, c)
		}
		i++
	}
	if i == vstart {
		return Attr{}, 0, fmt.Errorf("attribute %s has an empty value", a.Name)
	}
	a.Value = s[vstart:i]
	return a, i, nil
}

func isNameByte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
}

// parseDecimalInt parses a decimal-integer (RFC 8216 §4.2): digits only,
// at most 2^63-1.
func parseDecimalInt(v string) (int64, error) {
	if v == "" || len(v) > 19 || strings.Trim(v, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a decimal integer", v)
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is out of range", v)
	}
	return n, nil
}

// parseDecimalFloat parses a non-negative decimal-floating-point: digits
// with at most one '.', no sign or exponent.
func parseDecimalFloat(v string) (float64, error) {
	ip, fp, _ := strings.Cut(v, ".")
	if ip == "" || len(v) > 32 || strings.Trim(ip, "0123456789") != "" ||
		strings.Trim(fp, "0123456789") != "" {
		return 0, fmt.Errorf("%q is not a decimal number", v)
	}
	return strconv.ParseFloat(v, 64)
}

// parseResolution parses WIDTHxHEIGHT.
func parseResolution(v string) (w, h int, err error) {
	ws, hs, ok := strings.Cut(v, "x")
	wn, err1 := parseDecimalInt(ws)
	hn, err2 := parseDecimalInt(hs)
	if !ok || err1 != nil || err2 != nil || wn > 1<<20 || hn > 1<<20 {
		return 0, 0, fmt.Errorf("resolution %q: want WIDTHxHEIGHT", v)
	}
	return int(wn), int(hn), nil
}
