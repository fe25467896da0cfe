package admission

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/netip"
	"sync"
	"time"

	"github.com/rempart/rempart/internal/keyring"
)

// Sealed values: sessions and tickets, before base64url (no padding):
//
//	[0]      kind and version (sessionV1, ticketV1)
//	[1:9]    the room's epoch (random per Room: a value from another
//	         process or site does not name our places)
//	[9:17]   id: a session's admission number, a ticket's number
//	[17:25]  issued, Unix milliseconds
//	[25:37]  client binding (keyring.Binder)
//	[37:69]  HMAC-SHA256 of the site name, a zero byte and bytes [0:37]
const (
	sessionV1  = 0x51
	ticketV1   = 0x71
	sealSigned = 25 + keyring.BindLen
	sealLen    = sealSigned + sha256.Size
	// maxSiteName bounds the site name signed with each value (config
	// allows 32 bytes).
	maxSiteName = 64
)

// SealedLen is the length of a session or ticket as sent.
var SealedLen = b64.EncodedLen(sealLen)

var b64 = base64.RawURLEncoding

// Reasons a sealed value is refused.
var (
	ErrForged    = errors.New("forged")    // malformed, or the signature does not verify
	ErrElsewhere = errors.New("elsewhere") // bound to another client
	ErrStale     = errors.New("stale")     // from another epoch (process or site)
)

// sealed is a verified session or ticket.
type sealed struct {
	id     uint64
	issued time.Time
}

// sealer signs and opens one room's sessions and tickets.
type sealer struct {
	keys  *keyring.Keys
	site  string
	epoch uint64
}

// sealScratch is the per-call working memory, pooled so that opening a
// value allocates nothing.
type sealScratch struct {
	binder *keyring.Binder
	msg    [maxSiteName + 1 + sealSigned]byte
	buf    [sealLen]byte
	mac    [sha256.Size]byte
	tmp    [sha256.Size]byte
}

var sealPool = sync.Pool{New: func() any { return &sealScratch{binder: keyring.NewBinder()} }}

// seal returns a value of kind for id, issued at now, bound to client and ua.
func (s *sealer) seal(kind byte, id uint64, now time.Time, client netip.Addr, ua string) string {
	sc := sealPool.Get().(*sealScratch)
	defer sealPool.Put(sc)
	b := sc.buf[:]
	b[0] = kind
	binary.BigEndian.PutUint64(b[1:9], s.epoch)
	binary.BigEndian.PutUint64(b[9:17], id)
	binary.BigEndian.PutUint64(b[17:25], uint64(now.UnixMilli()))
	copy(b[25:sealSigned], sc.binder.Bind(client, ua))
	s.keys.Sign(&sc.mac, sc.message(s.site, b[:sealSigned]))
	copy(b[sealSigned:], sc.mac[:])
	return b64.EncodeToString(b)
}

// message returns the signed message: the site name, a zero byte, signed.
func (sc *sealScratch) message(site string, signed []byte) []byte {
	n := copy(sc.msg[:maxSiteName], site)
	sc.msg[n] = 0
	n++
	n += copy(sc.msg[n:], signed)
	return sc.msg[:n]
}

// open verifies v as a value of kind bound to client and ua. It does not
// allocate. The signature is checked before the binding and the epoch, so
// that ErrElsewhere and ErrStale are only said of our own values.
func (s *sealer) open(kind byte, v string, client netip.Addr, ua string) (sealed, error) {
	if len(v) != SealedLen {
		return sealed{}, ErrForged
	}
	sc := sealPool.Get().(*sealScratch)
	defer sealPool.Put(sc)
	b := sc.buf[:]
	if n, err := b64.Decode(b, []byte(v)); err != nil || n != sealLen || b[0] != kind {
		return sealed{}, ErrForged
	}
	if !s.keys.Verify(&sc.tmp, sc.message(s.site, b[:sealSigned]), b[sealSigned:]) {
		return sealed{}, ErrForged
	}
	if binary.BigEndian.Uint64(b[1:9]) != s.epoch {
		return sealed{}, ErrStale
	}
	if string(b[25:sealSigned]) != string(sc.binder.Bind(client, ua)) {
		return sealed{}, ErrElsewhere
	}
	return sealed{
		id:     binary.BigEndian.Uint64(b[9:17]),
		issued: time.UnixMilli(int64(binary.BigEndian.Uint64(b[17:25]))),
	}, nil
}
