package evidence

import (
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// headRefresh is how often the head is published even when it has not
// moved, so that its time says the edge was alive and the head current.
const headRefresh = time.Minute

// maxHeadBytes bounds a head read from a file or a URL.
const maxHeadBytes = 64 << 10

// ErrBadHead is wrapped by the errors of a head that is not one: malformed,
// or its MAC does not verify.
var ErrBadHead = errors.New("invalid evidence head")

// Head is the chain's head as published outside the log: the last entry on
// disk when it was published. A log whose entries stop before Seq was
// truncated; one whose entry Seq has another hash was rewritten. MAC, under
// the chain key, binds the four fields, so that a head cannot be forged
// (nor an old one be given a new time) without the key.
type Head struct {
	Seq  uint64    `json:"seq"`  // 0: the chain was empty
	Hash string    `json:"hash"` // the entry's hash, ZeroHash when Seq is 0
	Time time.Time `json:"time"` // when it was published
	Key  string    `json:"key"`  // the ID of the key of MAC
	MAC  string    `json:"mac"`
}

// message is what MAC covers.
func (h *Head) message() []byte {
	return fmt.Appendf(nil, "rempart evidence head v1\n%d\n%s\n%s\n%s", h.Seq, h.Hash, h.Time.UTC().Format(time.RFC3339Nano), h.Key)
}

func signHead(k *Key, seq uint64, hash string, now time.Time) Head {
	h := Head{Seq: seq, Hash: hash, Time: now.UTC(), Key: k.ID}
	h.MAC = k.mac(h.message())
	return h
}

// check verifies h's MAC under ks.
func (h *Head) check(ks *Keys) error {
	k := ks.find(h.Key)
	switch {
	case h.Key == "":
		return fmt.Errorf("%w: no key named", ErrBadHead)
	case k == nil:
		return fmt.Errorf("%w: %v (key %s)", ErrBadHead, errUnknownKey, h.Key)
	case !hmac.Equal([]byte(k.mac(h.message())), []byte(h.MAC)):
		return fmt.Errorf("%w: its MAC does not verify: altered, or not published with this key", ErrBadHead)
	}
	return nil
}

// ParseHead decodes a head as writeHead and the admin API write it. It
// does not check the MAC: Verify does, with the keys.
func ParseHead(data []byte) (Head, error) {
	var h Head
	if err := json.Unmarshal(data, &h); err != nil {
		return h, fmt.Errorf("%w: %v", ErrBadHead, err)
	}
	if !isHex64(h.Hash) || !isHex64(h.MAC) {
		return h, fmt.Errorf("%w: hash and mac must be 64 lowercase hex digits", ErrBadHead)
	}
	return h, nil
}

// ReadHead reads the head file at path.
func ReadHead(path string) (Head, error) {
	f, err := os.Open(path)
	if err != nil {
		return Head{}, fmt.Errorf("read evidence head: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxHeadBytes))
	if err != nil {
		return Head{}, fmt.Errorf("read evidence head %s: %w", path, err)
	}
	h, err := ParseHead(data)
	if err != nil {
		return h, fmt.Errorf("evidence head %s: %w", path, err)
	}
	return h, nil
}

// writeHead replaces the file at path with h, atomically: a reader sees the
// old head or the new one, never a mix, even across a crash.
func writeHead(path string, h Head) error {
	data, err := json.Marshal(h)
	if err != nil {
		return fmt.Errorf("encode evidence head: %w", err)
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("write evidence head: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(append(data, '\n'))
	if err == nil {
		err = f.Chmod(0o644) // the head is meant to be published
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write evidence head %s: %w", path, err)
	}
	return syncDir(dir)
}
