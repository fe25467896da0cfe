package config

import (
	"errors"

	"github.com/rempart/rempart/internal/fileerr"
)

// ErrInvalid is wrapped by every *Error, so that callers (reload, the
// command line) can tell a bad configuration from an unreadable file with
// errors.Is(err, ErrInvalid).
var ErrInvalid = errors.New("invalid configuration")

// Error is one problem found in a configuration: file, line, key path, what is
// wrong and what would be valid. It unwraps to ErrInvalid.
type Error = fileerr.Error

// joinErrors joins errs (nil when empty), setting File where it is unset and
// ErrInvalid as their kind.
func joinErrors(file string, errs []*Error) error {
	return fileerr.Join(file, ErrInvalid, errs)
}
