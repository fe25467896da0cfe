package evidence

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/rempart/rempart/internal/keyring"
)

// MinKeyLen is the shortest secret the evidence key file may hold, in
// bytes: the chain must stand for years, longer than a clearance key.
const MinKeyLen = 32

// Labels of the keys derived from a secret of the key file: one secret,
// three uses that cannot be confused.
const (
	labelChain  = "rempart evidence chain v1"
	labelRedact = "rempart evidence redact v1"
	labelID     = "rempart evidence key id v1"
)

// ErrKeyFile is wrapped by the errors of a key file the log refuses: too
// open, too short, not a regular file.
var ErrKeyFile = errors.New("unsafe evidence key file")

// Key is one secret of the key file as the log uses it.
type Key struct {
	// ID names the key in entries and heads (16 hex digits); it reveals
	// nothing of the secret.
	ID     string
	chain  []byte // keys the entries' hashes and the head's MAC
	redact []byte // keys the hashes of redacted secrets
}

// Keys are the secrets of a key file: the first signs, all verify.
type Keys struct{ list []*Key }

// NewKeys derives the keys of secrets, the first signing. It refuses none
// at all and any secret shorter than MinKeyLen.
func NewKeys(secrets ...[]byte) (*Keys, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w: no secret", ErrKeyFile)
	}
	ks := &Keys{}
	for i, s := range secrets {
		if len(s) < MinKeyLen {
			return nil, fmt.Errorf("%w: secret %d is %d bytes, want at least %d (64 hex digits from a random source)",
				ErrKeyFile, i+1, len(s), MinKeyLen)
		}
		id := derive(s, labelID)
		ks.list = append(ks.list, &Key{ID: hex.EncodeToString(id[:8]), chain: derive(s, labelChain), redact: derive(s, labelRedact)})
	}
	return ks, nil
}

func derive(secret []byte, label string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(label))
	return m.Sum(nil)
}

// signer is the key new entries are written with.
func (ks *Keys) signer() *Key { return ks.list[0] }

// find returns the key named id, nil if the file does not hold it.
func (ks *Keys) find(id string) *Key {
	if ks == nil {
		return nil
	}
	for _, k := range ks.list {
		if k.ID == id {
			return k
		}
	}
	return nil
}

// IDs lists the keys' IDs, the signing one first.
func (ks *Keys) IDs() []string {
	ids := make([]string, len(ks.list))
	for i, k := range ks.list {
		ids[i] = k.ID
	}
	return ids
}

// mac returns the hex HMAC-SHA256 of msg under k's chain key.
func (k *Key) mac(msg []byte) string {
	m := hmac.New(sha256.New, k.chain)
	m.Write(msg)
	return hex.EncodeToString(m.Sum(nil))
}

// LoadKeys reads the key file at path: secrets one per line (blank lines
// and # comments ignored), the first signing. It refuses a file that others
// may read or write, that is not a regular file, or whose secrets are
// shorter than MinKeyLen.
func LoadKeys(path string) (*Keys, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("evidence key file: %w", err)
	}
	switch {
	case !st.Mode().IsRegular():
		return nil, fmt.Errorf("%w %s: not a regular file", ErrKeyFile, path)
	case st.Mode().Perm()&0o007 != 0:
		return nil, fmt.Errorf("%w %s: mode %04o lets every user read or change it: chmod 600 %s (or 640 for a group of verifiers)",
			ErrKeyFile, path, st.Mode().Perm(), path)
	}
	secrets, err := keyring.ReadSecrets(path)
	if err != nil {
		return nil, fmt.Errorf("evidence key file: %w", err)
	}
	ks, err := NewKeys(secrets...)
	if err != nil {
		return nil, fmt.Errorf("evidence key file %s: %w", path, err)
	}
	return ks, nil
}

// newSecret returns a fresh random secret, 32 bytes in hex: what the edge
// writes to a missing key file.
func newSecret() []byte {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics rather)
	return []byte(hex.EncodeToString(b))
}

// createKeyFile writes secret to a new key file at path, mode 0600. It
// never replaces a file: a replaced key would silently orphan the log.
func createKeyFile(path string, secret []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("create evidence key file: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("create evidence key file: %w", err)
	}
	_, err = fmt.Fprintf(f, "# rempart evidence chain key: keep it apart from the log; verify needs it\n%s\n", secret)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("write evidence key file: %w", err)
	}
	return syncDir(filepath.Dir(path))
}
