// Package keyring holds rotating HMAC-SHA256 secrets and the client
// binding that signed values (clearances, sessions, tickets) carry, so that
// a value copied to another network or browser no longer verifies.
package keyring

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"os"
	"sync"
	"sync/atomic"
)

// MinKeyLen is the shortest secret a key file may hold, in bytes.
const MinKeyLen = 16

// ErrNoKeys is returned when a key file holds no usable secret.
var ErrNoKeys = errors.New("no keys")

// Keys is a rotating set of HMAC-SHA256 secrets: the first signs, all
// verify. Rotation is a new first line: values signed with the old key
// stay valid until they expire, new ones use the new key. It is safe for
// concurrent use; Store swaps the whole set atomically.
type Keys struct {
	set atomic.Pointer[[]*macKey]
}

// macKey is one secret with a pool of HMAC states, so that verifying does
// not allocate one per request (hmac.New does).
type macKey struct {
	pool sync.Pool // of hash.Hash, HMAC-SHA256 keyed with this secret
}

func newMacKey(secret []byte) *macKey {
	s := bytes.Clone(secret)
	return &macKey{pool: sync.Pool{New: func() any { return hmac.New(sha256.New, s) }}}
}

// sum appends HMAC(secret, msg) to dst[:0]. dst and msg must not be on the
// caller's stack (they go through an interface and would escape there).
func (k *macKey) sum(dst *[sha256.Size]byte, msg []byte) {
	h := k.pool.Get().(hash.Hash)
	h.Reset()
	h.Write(msg)
	h.Sum(dst[:0])
	k.pool.Put(h)
}

// Store replaces the set with secrets, the first signing. It refuses an
// empty set or a secret shorter than MinKeyLen, keeping the old set.
func (k *Keys) Store(secrets ...[]byte) error {
	if len(secrets) == 0 {
		return ErrNoKeys
	}
	set := make([]*macKey, 0, len(secrets))
	for i, s := range secrets {
		if len(s) < MinKeyLen {
			return fmt.Errorf("key %d: %d bytes, want at least %d", i+1, len(s), MinKeyLen)
		}
		set = append(set, newMacKey(s))
	}
	k.set.Store(&set)
	return nil
}

// Load reads secrets from path, one per line (blank lines and # comments
// ignored, surrounding spaces trimmed) and stores them. Any error keeps the
// old set.
func (k *Keys) Load(path string) error {
	secrets, err := ReadSecrets(path)
	if err != nil {
		return err
	}
	if err := k.Store(secrets...); err != nil {
		return fmt.Errorf("load keys %s: %w", path, err)
	}
	return nil
}

// Random stores one fresh random secret: signed values then last as long
// as the process and are valid on this edge only.
func (k *Keys) Random() {
	secret := make([]byte, 32)
	rand.Read(secret) // never fails (crypto/rand panics rather)
	_ = k.Store(secret)
}

func (k *Keys) all() []*macKey {
	if p := k.set.Load(); p != nil {
		return *p
	}
	return nil
}

// ReadSecrets reads secrets from path as Load does, without storing them.
func ReadSecrets(path string) ([][]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load keys: %w", err)
	}
	var out [][]byte
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		out = append(out, bytes.Clone(line))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("load keys %s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("load keys %s: %w", path, ErrNoKeys)
	}
	return out, nil
}

// Sign writes into mac the HMAC of msg under the signing (first) key. mac
// and msg must not be on the caller's stack (they would escape through the
// hash interface). It panics when no key was stored: a programming error.
func (k *Keys) Sign(mac *[sha256.Size]byte, msg []byte) {
	k.all()[0].sum(mac, msg)
}

// Verify reports whether sig is the HMAC of msg under one of the keys;
// scratch is overwritten.
func (k *Keys) Verify(scratch *[sha256.Size]byte, msg, sig []byte) bool {
	for _, mk := range k.all() {
		mk.sum(scratch, msg)
		if hmac.Equal(scratch[:], sig) {
			return true
		}
	}
	return false
}

// Empty reports whether no key was stored yet.
func (k *Keys) Empty() bool { return len(k.all()) == 0 }
