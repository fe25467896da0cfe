// Package fileerr is the error of a problem found in a user's file
// (configuration, scenario): where it is (file, line, key path) and what is
// wrong and would be valid, printed on one line. Each file format keeps its
// own sentinel (Kind), so callers tell a bad file from an unreadable one.
package fileerr

import (
	"errors"
	"fmt"
	"strings"
)

// Error is one problem in a file. It prints as
//
//	rempart.yaml: line 14: sites[0].origins[1].url: "ftp://x": want an http:// or https:// URL ...
type Error struct {
	// File is the file's name; empty when the input came from code.
	File string
	// Line is the 1-based line of the offending key or value; 0 when unknown.
	Line int
	// Key is the key path, such as "sites[0].upstream.retries"; empty for
	// problems that are not about one key (syntax errors, unknown keys).
	Key string
	// Msg says what is wrong and what would be valid.
	Msg string
	// Kind is the format's sentinel (config.ErrInvalid, scenario.ErrInvalid),
	// returned by Unwrap.
	Kind error
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

// Unwrap returns Kind.
func (e *Error) Unwrap() error { return e.Kind }

// Join joins errs (nil when empty) with errors.Join, setting File and Kind
// where they are unset.
func Join(file string, kind error, errs []*Error) error {
	if len(errs) == 0 {
		return nil
	}
	all := make([]error, len(errs))
	for i, e := range errs {
		if e.File == "" {
			e.File = file
		}
		if e.Kind == nil {
			e.Kind = kind
		}
		all[i] = e
	}
	return errors.Join(all...)
}
