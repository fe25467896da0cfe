package playtoken

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/rempart/rempart/internal/fileerr"
)

// ErrKeyFile is wrapped by every problem found in a key file, so that a
// caller tells a bad file from an unreadable one.
var ErrKeyFile = errors.New("invalid playback token key file")

// Load reads the platform's keys from the file at path (see Parse) and
// returns a Verifier for tokens addressed to audience.
func Load(path, audience string) (*Verifier, error) {
	if audience == "" {
		return nil, errNoAudience
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load playback token keys: %w", err)
	}
	v, errs := parse(b, audience)
	if errs != nil {
		return nil, fileerr.Join(path, ErrKeyFile, errs)
	}
	return v, nil
}

// Parse returns a Verifier for tokens addressed to audience, signed with
// one of keys, the contents of a key file:
//
//   - an HMAC secret (HS256) per line, at least MinSecretLen bytes,
//     surrounding spaces trimmed;
//   - Ed25519 public keys (EdDSA) as PEM "PUBLIC KEY" blocks;
//   - blank lines and lines starting with # are ignored.
//
// Every problem is reported with its line, wrapping ErrKeyFile. The
// algorithms accepted follow the kinds of key found.
func Parse(keys []byte, audience string) (*Verifier, error) {
	if audience == "" {
		return nil, errNoAudience
	}
	v, errs := parse(keys, audience)
	if errs != nil {
		return nil, fileerr.Join("", ErrKeyFile, errs)
	}
	return v, nil
}

// errNoAudience: a Verifier needs the aud its tokens name.
var errNoAudience = errors.New("playback token verifier: no audience")

func parse(b []byte, audience string) (*Verifier, []*fileerr.Error) {
	kf := keyFile{v: &Verifier{audience: audience}}
	b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")) // a UTF-8 BOM would join the first secret
	sc := bufio.NewScanner(bytes.NewReader(b))
	n := 0
	for len(kf.errs) < maxErrors && sc.Scan() {
		n++
		kf.line(n, bytes.TrimSpace(sc.Bytes()))
	}
	if sc.Err() != nil { // the only error of a bytes.Reader: bufio.ErrTooLong
		kf.fail(n+1, "a line longer than %d KiB", bufio.MaxScanTokenSize>>10)
	} else if kf.block != nil && len(kf.errs) < maxErrors {
		kf.fail(kf.start, "PEM block never ends: want an -----END line")
	}
	if len(kf.v.hmac.Keys)+len(kf.v.ed.Keys) == 0 && kf.errs == nil {
		kf.fail(0, "no keys: want HMAC secrets, one per line, or Ed25519 PEM PUBLIC KEY blocks")
	}
	if kf.errs != nil {
		return nil, kf.errs
	}
	kf.v.setMethods()
	kf.v.recent = newRecent(recentSize)
	return kf.v, nil
}

// keyFile is the state of a key file being read.
type keyFile struct {
	v     *Verifier
	block []byte // the PEM block being read, nil outside one
	start int    // the line the block began on
	errs  []*fileerr.Error
}

// maxErrors is where reading a bad key file stops: enough to fix it,
// not a screenful per line of a wrong file.
const maxErrors = 10

var (
	pemBegin = []byte("-----BEGIN ")
	pemEnd   = []byte("-----END ")
)

// line reads line n, trimmed.
func (kf *keyFile) line(n int, line []byte) {
	switch {
	case kf.block != nil && bytes.HasPrefix(line, pemBegin):
		kf.fail(n, "BEGIN inside the PEM block of line %d: want its -----END line first", kf.start)
		kf.block, kf.start = append(bytes.Clone(line), '\n'), n
	case kf.block != nil:
		kf.block = append(append(kf.block, line...), '\n')
		if bytes.HasPrefix(line, pemEnd) {
			kf.addPEM(kf.start, kf.block)
			kf.block = nil
		}
	case bytes.HasPrefix(line, pemBegin):
		kf.block, kf.start = append(bytes.Clone(line), '\n'), n
	case bytes.HasPrefix(line, pemEnd):
		kf.fail(n, "END without BEGIN")
	case len(line) == 0 || line[0] == '#':
	default:
		kf.addSecret(n, line)
	}
}

// addSecret adds the HMAC secret of line n.
func (kf *keyFile) addSecret(n int, secret []byte) {
	if len(secret) < MinSecretLen {
		kf.fail(n, "a secret of %d bytes: want at least %d", len(secret), MinSecretLen)
		return
	}
	// A public key pasted without its armour would become an HMAC secret
	// that anyone holding the public key can sign with: the HS256/EdDSA
	// confusion, made by hand.
	if der, err := base64.StdEncoding.DecodeString(string(secret)); err == nil {
		if _, err := x509.ParsePKIXPublicKey(der); err == nil {
			kf.fail(n, "a public key without its PEM armour: want it between -----BEGIN PUBLIC KEY----- and -----END PUBLIC KEY-----")
			return
		}
	}
	kf.v.hmac.Keys = append(kf.v.hmac.Keys, bytes.Clone(secret))
}

// addPEM adds the Ed25519 public key of the PEM block that began on line n.
func (kf *keyFile) addPEM(n int, block []byte) {
	p, _ := pem.Decode(block)
	switch {
	case p == nil:
		kf.fail(n, "malformed PEM block")
		return
	case p.Type != "PUBLIC KEY":
		kf.fail(n, "a PEM %q block: want PUBLIC KEY (Ed25519); private keys never belong here", p.Type)
		return
	}
	k, err := x509.ParsePKIXPublicKey(p.Bytes)
	if err != nil {
		kf.fail(n, "parse public key: %v", err)
		return
	}
	ek, ok := k.(ed25519.PublicKey)
	if !ok {
		kf.fail(n, "a %T public key: want Ed25519", k)
		return
	}
	kf.v.ed.Keys = append(kf.v.ed.Keys, ek)
}

// fail records a problem on line n (0: the whole file).
func (kf *keyFile) fail(n int, format string, args ...any) {
	kf.errs = append(kf.errs, &fileerr.Error{Line: n, Msg: fmt.Sprintf(format, args...)})
}
