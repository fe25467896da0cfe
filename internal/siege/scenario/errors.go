package scenario

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalid is wrapped by every *Error, so that callers can tell a bad
// scenario (exit status 2) from an unreadable file.
var ErrInvalid = errors.New("invalid scenario")

// Error is one problem found in a scenario. Parse returns all of them
// joined with errors.Join; each prints on one line as
//
//	kickoff.yaml: line 7: phases[1].arrivals.viewers.rate: -3: want a number ≥ 0
type Error struct {
	File string // the scenario's name; empty when unknown
	Line int    // 1-based line of the offending key or value; 0 when unknown
	Key  string // key path, such as "populations.viewers.model"
	Msg  string // what is wrong and what would be valid
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

// joinErrors joins errs (nil when empty), setting File on each.
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
