package challenge

import "github.com/rempart/rempart/internal/keyring"

// Keys is the rotating set of secrets that signs clearances and challenges
// (keyring.Keys).
type Keys = keyring.Keys

// MinKeyLen is the shortest secret a key file may hold, in bytes.
const MinKeyLen = keyring.MinKeyLen

// ErrNoKeys is returned when a key file holds no usable secret.
var ErrNoKeys = keyring.ErrNoKeys
