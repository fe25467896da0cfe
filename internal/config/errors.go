package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every *Error, so that callers (reload, the
// command line) can tell a bad configuration from an unreadable file with
// errors.Is(err, ErrInvalid).
var ErrInvalid = errors.New("invalid configuration")

// Error is one problem found in a configuration. Parse and Validate return
// several of them joined with errors.Join; each prints on one line as
//
//	rempart.yaml: line 14: sites[0].origins[1].url: "ftp://x": want an http:// or https:// URL ...
type Error struct {
	// File is the configuration's name; empty when it came from code.
	File string
	// Line is the 1-based line of the offending key; 0 when unknown.
	Line int
	// Key is the key path, such as "sites[0].upstream.retries"; empty for
	// problems that are not about one key (syntax errors, unknown keys).
	Key string
	// Msg says what is wrong and what would be valid.
	Msg string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File + ": ")
	}
	if e.Line > 0 {
		fmt.Fprintf(&b, "line %d: ", e.Line)
	}
	if e.Key != "" {
		b.WriteString(e.Key + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Unwrap returns ErrInvalid.
func (e *Error) Unwrap() error { return ErrInvalid }

// joinErrors joins errs (nil when empty), setting File where it is unset.
func joinErrors(file string, errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	all := make([]error, len(errs))
	for i, e := range errs {
		if e.File == "" {
			e.File = file
		}
		all[i] = e
	}
	return errors.Join(all...)
}
