package scenario

import (
	"errors"

	"github.com/rempart/rempart/internal/fileerr"
)

// ErrInvalid is wrapped by every *Error, so that callers can tell a bad
// scenario (exit status 2) from an unreadable file.
var ErrInvalid = errors.New("invalid scenario")

// Error is one problem found in a scenario: file, line, key path, what is
// wrong and what would be valid. It unwraps to ErrInvalid.
type Error = fileerr.Error

// joinErrors joins errs (nil when empty), setting File where it is unset and
// ErrInvalid as their kind.
func joinErrors(file string, errs []*Error) error {
	return fileerr.Join(file, ErrInvalid, errs)
}
