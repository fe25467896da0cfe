package challenge

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/rempart/rempart/internal/keyring"
)

// CookieName is the clearance cookie's name.
const CookieName = "rempart_clearance"

// Layout of a clearance, before base64url (no padding):
//
//	[0]      version (clearanceV1)
//	[1:9]    expiry, Unix seconds, big-endian
//	[9:21]   client binding (see bindAddrTo)
//	[21:53]  HMAC-SHA256 of bytes [0:21]
const (
	clearanceV1     = 0x01
	bindLen         = keyring.BindLen
	clearanceSigned = 1 + 8 + bindLen
	clearanceLen    = clearanceSigned + sha256.Size
)

// maxCookieTries bounds how many cookies of our name one request may make
// us check: a stale copy (another path, an old edge) must not hide the
// fresh one, but a flood of them must not cost more than a few HMACs.
const maxCookieTries = 3

var b64 = base64.RawURLEncoding

// scratch is the per-verification working memory, pooled so that the
// valid path allocates nothing: byte arrays handed to hash.Hash (an
// interface) would otherwise escape to the heap on every call.
type scratch struct {
	binder *keyring.Binder
	bind   []byte    // the last binding computed
	buf    [128]byte // a decoded clearance or challenge
	mac    [sha256.Size]byte
}

var scratchPool = sync.Pool{New: func() any { return &scratch{binder: keyring.NewBinder()} }}

func getScratch() *scratch  { return scratchPool.Get().(*scratch) }
func putScratch(s *scratch) { scratchPool.Put(s) }

// bindTo computes into s.bind the binding of a challenge: the client's
// network (keyring.Binder.Bind), so that a phone whose carrier changes its
// address while it solves still redeems the solution (for a clearance of
// its new address).
func (s *scratch) bindTo(client netip.Addr, ua string) {
	s.bind = s.binder.Bind(client, ua)
}

// bindAddrTo computes into s.bind the binding of a clearance: the exact
// address that solved (keyring.Binder.BindAddr). Bound to its network, one
// solution would clear every address of a challenged /24 sharing a
// User-Agent (issue 11, hole 5); each address now pays its own work.
func (s *scratch) bindAddrTo(client netip.Addr, ua string) {
	s.bind = s.binder.BindAddr(client, ua)
}

// signClearance returns a clearance for client and ua valid until expiry,
// signed with the first key.
func signClearance(keys *Keys, client netip.Addr, ua string, expiry time.Time) string {
	s := getScratch()
	defer putScratch(s)
	s.bindAddrTo(client, ua)
	b := s.buf[:clearanceLen]
	b[0] = clearanceV1
	binary.BigEndian.PutUint64(b[1:9], uint64(expiry.Unix()))
	copy(b[9:clearanceSigned], s.bind)
	keys.Sign(&s.mac, b[:clearanceSigned])
	copy(b[clearanceSigned:], s.mac[:])
	return b64.EncodeToString(b)
}

// verifyClearance reports whether v is a clearance signed by one of keys,
// unexpired at now and bound to client and ua. It does not allocate.
func verifyClearance(keys *Keys, v string, client netip.Addr, ua string, now time.Time) bool {
	if len(v) != b64.EncodedLen(clearanceLen) {
		return false
	}
	s := getScratch()
	defer putScratch(s)
	b := s.buf[:clearanceLen]
	if n, err := b64.Decode(b, []byte(v)); err != nil || n != clearanceLen || b[0] != clearanceV1 {
		return false
	}
	if now.Unix() >= int64(binary.BigEndian.Uint64(b[1:9])) {
		return false
	}
	s.bindAddrTo(client, ua)
	if subtle.ConstantTimeCompare(b[9:clearanceSigned], s.bind) != 1 {
		return false
	}
	return signedByAny(keys, s, b[:clearanceSigned], b[clearanceSigned:])
}

// signedByAny reports whether sig is the HMAC of msg under one of keys;
// s.mac is overwritten.
func signedByAny(keys *Keys, s *scratch, msg, sig []byte) bool {
	return keys.Verify(&s.mac, msg, sig)
}

// cookieValues calls try with the value of each cookie named name in h's
// Cookie headers, at most maxCookieTries of them, until it returns true.
// It parses as browsers send cookies ("a=1; b=2"), without allocating.
func cookieValues(h http.Header, name string, try func(string) bool) bool {
	tries := 0
	for _, line := range h["Cookie"] {
		for line != "" {
			var part string
			part, line, _ = strings.Cut(line, ";")
			k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
			if !ok || k != name {
				continue
			}
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			if try(v) {
				return true
			}
			if tries++; tries >= maxCookieTries {
				return false
			}
		}
	}
	return false
}
