package filter

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
)

// Narrowest widths a block may have: a wider block would refuse a large
// share of the Internet on one typo ("10.0.0.0/0").
const (
	MinBlockBits4 = 8  // IPv4: /8 or narrower
	MinBlockBits6 = 32 // IPv6: /32 or narrower
)

// Limits of block lists read from files and the admin API.
const (
	maxLineBytes  = 1024 // a CIDR and a comment
	maxListErrors = 10   // errors reported before "and more"
)

// ErrTooWide is wrapped by the error for a prefix wider than MinBlockBits4
// or MinBlockBits6.
var ErrTooWide = errors.New("prefix too wide to block")

// ParsePrefix parses a prefix to block: a CIDR ("203.0.113.0/24") or a bare
// address ("203.0.113.7", a /32 or /128). Host bits are cleared, an IPv4
// address written in IPv6 becomes IPv4, and a prefix wider than /8 (IPv4)
// or /32 (IPv6) is refused with ErrTooWide.
func ParsePrefix(s string) (netip.Prefix, error) {
	p, err := parseAny(s)
	if err != nil {
		return netip.Prefix{}, err
	}
	return checkWidth(p)
}

// parseAny parses a CIDR or a bare address, of any width, normalized.
func parseAny(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, fmt.Errorf("%q is not a CIDR such as 203.0.113.0/24 or 2001:db8::/48", s)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return p, fmt.Errorf("%q is neither an address nor a CIDR such as 203.0.113.0/24", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	return normalize(p), nil
}

// normalize clears host bits and writes IPv4-mapped IPv6 prefixes as IPv4,
// the form lookups use.
func normalize(p netip.Prefix) netip.Prefix {
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p.Masked()
}

// checkWidth refuses prefixes too wide to block.
func checkWidth(p netip.Prefix) (netip.Prefix, error) {
	if p.Addr().Is4() && p.Bits() < MinBlockBits4 {
		return p, fmt.Errorf("%s: %w: IPv4 blocks must be /%d or narrower", p, ErrTooWide, MinBlockBits4)
	}
	if p.Addr().Is6() && p.Bits() < MinBlockBits6 {
		return p, fmt.Errorf("%s: %w: IPv6 blocks must be /%d or narrower", p, ErrTooWide, MinBlockBits6)
	}
	return p, nil
}

// Listed is one prefix of a block list, with where it was found.
type Listed struct {
	Prefix  netip.Prefix
	File    string // the name given to ParseList
	Line    int    // 1-based
	Comment string // text after # on the same line, trimmed
}

// ParseList reads a block list: one CIDR or address per line, # starting a
// comment, blank lines ignored. name is used in errors, which read
// "name:line: problem". It returns at most limit prefixes: more is an
// error, as is a line longer than 1 KiB.
func ParseList(r io.Reader, name string, limit int) ([]Listed, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), maxLineBytes)
	var (
		out  []Listed
		errs []error
		line int
	)
	for sc.Scan() {
		line++
		l, ok, err := parseLine(sc.Bytes(), name, line)
		switch {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s:%d: %w", name, line, err))
		case ok && len(out) >= limit:
			errs = append(errs, fmt.Errorf("%s:%d: more than %d prefixes: raise shield.max_blocks or split the list", name, line, limit))
		case ok:
			out = append(out, l)
		}
		if len(errs) >= maxListErrors {
			errs = append(errs, fmt.Errorf("%s: stopped after %d errors", name, len(errs)))
			return nil, errors.Join(errs...)
		}
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, scanError(name, line+1, err))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

func scanError(name string, line int, err error) error {
	if errors.Is(err, bufio.ErrTooLong) {
		return fmt.Errorf("%s:%d: line longer than %d bytes", name, line, maxLineBytes)
	}
	return fmt.Errorf("read %s: %w", name, err)
}

// parseLine parses one line; ok is false for blank and comment lines.
func parseLine(b []byte, name string, line int) (l Listed, ok bool, err error) {
	text, comment, _ := bytes.Cut(b, []byte("#"))
	text = bytes.TrimSpace(text)
	if len(text) == 0 {
		return l, false, nil
	}
	if bytes.ContainsAny(text, " \t") {
		return l, false, fmt.Errorf("%q: want one CIDR per line (a comment starts with #)", text)
	}
	p, err := ParsePrefix(string(text))
	if err != nil {
		return l, false, err
	}
	return Listed{Prefix: p, File: name, Line: line, Comment: cleanText(string(bytes.TrimSpace(comment)))}, true, nil
}

// readListFile reads the block list in file.
func readListFile(file string, limit int) ([]Listed, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, fmt.Errorf("open block file: %w", err)
	}
	defer f.Close()
	return ParseList(f, file, limit)
}

// Longest reason kept; longer ones are cut.
const maxReasonBytes = 256

// cleanText makes s safe to print in a terminal or a log line: control,
// bidirectional-override and invalid characters become spaces, and it is
// cut to maxReasonBytes.
func cleanText(s string) string {
	if len(s) > maxReasonBytes {
		s = strings.ToValidUTF8(s[:maxReasonBytes], "")
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\uFFFD' ||
			(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) {
			return ' '
		}
		return r
	}, s)
}
