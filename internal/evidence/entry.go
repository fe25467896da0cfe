package evidence

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The kinds of entry.
const (
	KindRequest = "request" // a sampled request
	KindGap     = "gap"     // an admitted hole: torn tail, lost writes
	KindPruned  = "pruned"  // the oldest files are deleted from here on
	KindKey     = "key"     // the entries from here on are keyed with another key
)

// ZeroHash is the prev_hash of the first entry ever written (seq 1).
const ZeroHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Entry is one line of the log. Request fields are empty on markers and
// marker fields empty on requests.
type Entry struct {
	Seq      uint64    `json:"seq"`
	Time     time.Time `json:"time"`
	Kind     string    `json:"kind"`
	PrevHash string    `json:"prev_hash"`
	// Key is the ID of the key whose HMAC the hash is; empty on entries
	// written before the chain was keyed, whose hash is a plain SHA-256.
	Key string `json:"key,omitempty"`

	Source         string   `json:"source,omitempty"`          // client address
	Prefix         string   `json:"prefix,omitempty"`          // its aggregated prefix
	Fingerprint    string   `json:"fingerprint,omitempty"`     // HTTP fingerprint
	TLSFingerprint string   `json:"tls_fingerprint,omitempty"` // TLS ClientHello fingerprint
	Method         string   `json:"method,omitempty"`
	Host           string   `json:"host,omitempty"`
	Target         string   `json:"target,omitempty"` // path and query, clipped to maxTarget
	Proto          string   `json:"proto,omitempty"`
	Headers        []Header `json:"headers,omitempty"`
	// HeadersLeft counts headers left out by the bounds (count or bytes).
	HeadersLeft int    `json:"headers_left,omitempty"`
	Site        string `json:"site,omitempty"`
	Class       string `json:"class,omitempty"`
	Outcome     string `json:"outcome,omitempty"`
	Stage       string `json:"stage,omitempty"`
	Status      int    `json:"status,omitempty"`
	Action      string `json:"action,omitempty"` // the mitigation that applied, if any
	Reason      string `json:"reason,omitempty"`
	Verdict     string `json:"verdict,omitempty"` // the detector's verdict at the time

	Note          string   `json:"note,omitempty"`            // gap, pruned, key: what happened
	Lost          uint64   `json:"lost,omitempty"`            // gap: entries known lost
	Files         []string `json:"files,omitempty"`           // pruned: files deleted
	FirstKeptSeq  uint64   `json:"first_kept_seq,omitempty"`  // pruned: first entry kept
	FirstKeptHash string   `json:"first_kept_hash,omitempty"` // pruned: its hash
}

// Header is one request header as kept: name and (possibly clipped or
// redacted) value.
type Header struct {
	Name  string `json:"n"`
	Value string `json:"v"`
}

// hashSuffix is what follows the body's last field: `,"hash":"` + 64 hex +
// `"}`.
const (
	hashKey    = `,"hash":"`
	suffixLen  = len(hashKey) + sha256.Size*2 + len(`"}`)
	maxLineLen = 1 << 20 // longer lines are not ours: our entries are bounded well below
)

// ErrMalformed is wrapped by parseLine's errors: the line is not an entry.
var ErrMalformed = errors.New("malformed entry")

// Why a well-formed line's hash does not hold, as checkHash says.
var (
	errBadMAC     = errors.New("hash mismatch: the line was altered after it was written, or its hash forged without the key")
	errUnknownKey = errors.New("keyed with a key the key file does not hold")
	errBadSHA     = errors.New("hash mismatch: the line was altered after it was written")
)

// appendLine appends e's line (with its trailing newline), keyed with k,
// to dst and returns it with e's hash in hex.
func appendLine(dst []byte, e *Entry, k *Key) ([]byte, string, error) {
	e.Key = k.ID
	body, err := json.Marshal(e)
	if err != nil {
		return dst, "", fmt.Errorf("encode entry %d: %w", e.Seq, err)
	}
	h := k.mac(body)
	dst = append(dst, body[:len(body)-1]...)
	dst = append(dst, hashKey...)
	dst = append(dst, h...)
	dst = append(dst, "\"}\n"...)
	return dst, h, nil
}

// parseLine splits line (without its newline) into the entry, the bytes
// its hash covers and the hash it claims.
func parseLine(line []byte) (e Entry, body []byte, claimed string, err error) {
	if len(line) < suffixLen+2 || line[0] != '{' {
		return e, nil, "", fmt.Errorf("%w: too short or not an object", ErrMalformed)
	}
	cut := len(line) - suffixLen
	tail := line[cut:]
	if !bytes.HasPrefix(tail, []byte(hashKey)) || !bytes.HasSuffix(tail, []byte(`"}`)) {
		return e, nil, "", fmt.Errorf("%w: does not end with the hash field", ErrMalformed)
	}
	claimed = string(tail[len(hashKey) : len(tail)-2])
	if !isHex64(claimed) {
		return e, nil, "", fmt.Errorf("%w: hash is not 64 lowercase hex digits", ErrMalformed)
	}
	body = make([]byte, cut+1)
	copy(body, line[:cut])
	body[cut] = '}'
	if err := json.Unmarshal(body, &e); err != nil {
		return e, nil, claimed, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return e, body, claimed, nil
}

// checkHash says whether claimed is the hash of body: the HMAC under the
// key e names, or, for an entry written before the chain was keyed (no
// key), its SHA-256.
func checkHash(ks *Keys, e *Entry, body []byte, claimed string) error {
	if e.Key == "" {
		sum := sha256.Sum256(body)
		if hex.EncodeToString(sum[:]) != claimed {
			return errBadSHA
		}
		return nil
	}
	k := ks.find(e.Key)
	if k == nil {
		return fmt.Errorf("%w (key %s)", errUnknownKey, e.Key)
	}
	if !hmac.Equal([]byte(k.mac(body)), []byte(claimed)) {
		return errBadMAC
	}
	return nil
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}
