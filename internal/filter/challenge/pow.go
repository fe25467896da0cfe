package challenge

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"math/bits"
	"net/netip"
	"strconv"
	"time"
)

// Layout of a challenge, before base64url (no padding):
//
//	[0]      version (challengeV1; distinct from a clearance's, so one is
//	         never accepted as the other)
//	[1:17]   nonce, random
//	[17:25]  issued at, Unix seconds, big-endian
//	[25]     difficulty, leading zero bits asked of a solution
//	[26:38]  client binding
//	[38:70]  HMAC-SHA256 of bytes [0:38]
//
// A solution is a decimal counter such that SHA-256(challenge text ||
// counter text) starts with difficulty zero bits.
const (
	challengeV1     = 0x02
	nonceLen        = 16
	challengeSigned = 1 + nonceLen + 8 + 1 + bindLen
	challengeLen    = challengeSigned + sha256.Size
	maxCounterLen   = 16 // decimal digits: under 2^53, exact in JavaScript
)

// MaxAge is how long a challenge may be solved after it was issued.
const MaxAge = 5 * time.Minute

// maxSkew tolerates a challenge issued slightly "in the future" by another
// edge whose clock runs ahead.
const maxSkew = 30 * time.Second

// Reasons a solution is refused, as recorded and counted.
var (
	ErrMalformed = errors.New("malformed")       // not a challenge or not a counter
	ErrForged    = errors.New("bad signature")   // not signed by our keys
	ErrStale     = errors.New("stale")           // issued over MaxAge ago (or in the future)
	ErrBinding   = errors.New("binding")         // solved by another client
	ErrNotEnough = errors.New("not enough work") // the hash lacks leading zeros
	ErrReplayed  = errors.New("replayed")        // this challenge was already redeemed
)

// issue returns a fresh challenge for client and ua at difficulty bits.
func issue(keys *Keys, client netip.Addr, ua string, difficulty int, now time.Time) string {
	s := getScratch()
	defer putScratch(s)
	s.bindTo(client, ua)
	b := s.buf[:challengeLen]
	b[0] = challengeV1
	rand.Read(b[1 : 1+nonceLen])
	binary.BigEndian.PutUint64(b[17:25], uint64(now.Unix()))
	b[25] = byte(difficulty)
	copy(b[26:challengeSigned], s.bind)
	keys.Sign(&s.mac, b[:challengeSigned])
	copy(b[challengeSigned:], s.mac[:])
	return b64.EncodeToString(b)
}

// solution is a verified challenge's nonce, for the replay cache.
type solution struct {
	nonce [nonceLen]byte
}

// check verifies that counter solves challenge for client and ua at now:
// signature, freshness, binding and work. It does not consult the replay
// cache; the caller does, once the solution is otherwise good.
func check(keys *Keys, challenge, counter string, client netip.Addr, ua string, now time.Time) (solution, error) {
	var sol solution
	if len(challenge) != b64.EncodedLen(challengeLen) || !isCounter(counter) {
		return sol, ErrMalformed
	}
	s := getScratch()
	defer putScratch(s)
	b := s.buf[:challengeLen]
	if n, err := b64.Decode(b, []byte(challenge)); err != nil || n != challengeLen || b[0] != challengeV1 {
		return sol, ErrMalformed
	}
	if !signedByAny(keys, s, b[:challengeSigned], b[challengeSigned:]) {
		return sol, ErrForged
	}
	issued := time.Unix(int64(binary.BigEndian.Uint64(b[17:25])), 0)
	if age := now.Sub(issued); age > MaxAge || age < -maxSkew {
		return sol, ErrStale
	}
	s.bindTo(client, ua)
	if subtle.ConstantTimeCompare(b[26:challengeSigned], s.bind) != 1 {
		return sol, ErrBinding
	}
	if leadingZeros(challenge, counter) < int(b[25]) {
		return sol, ErrNotEnough
	}
	copy(sol.nonce[:], b[1:1+nonceLen])
	return sol, nil
}

func isCounter(s string) bool {
	if s == "" || len(s) > maxCounterLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// leadingZeros returns the number of leading zero bits of
// SHA-256(challenge || counter).
func leadingZeros(challenge, counter string) int {
	var in [128]byte // challenge text (94) + counter (≤ 16)
	n := copy(in[:], challenge)
	n += copy(in[n:], counter)
	sum := sha256.Sum256(in[:n])
	z := 0
	for i := 0; i < len(sum); i += 4 {
		w := binary.BigEndian.Uint32(sum[i:])
		z += bits.LeadingZeros32(w)
		if w != 0 {
			break
		}
	}
	return z
}

// Solve finds a counter for challenge at difficulty bits, as the page's
// worker does. It is for tests and for clients written in Go; expect about
// 2^difficulty hashes.
func Solve(challenge string, difficulty int) string {
	for i := uint64(0); ; i++ {
		counter := strconv.FormatUint(i, 10)
		if leadingZeros(challenge, counter) >= difficulty {
			return counter
		}
	}
}
