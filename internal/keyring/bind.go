package keyring

import (
	"crypto/sha256"
	"hash"
	"net/netip"

	"github.com/rempart/rempart/internal/identity"
)

// BindLen is the length of a client binding in signed values.
const BindLen = 12

// Binder computes client bindings: a hash of a client's network or address
// and of its User-Agent. A value copied to bots elsewhere, or replayed with
// another User-Agent, no longer matches. A Binder is not safe for
// concurrent use; pool it.
type Binder struct {
	sha hash.Hash
	tmp [64]byte
	sum [sha256.Size]byte
}

// NewBinder returns a Binder.
func NewBinder() *Binder { return &Binder{sha: sha256.New()} }

// Bind returns the binding of client's network (IPv4 /24, IPv6 /64, so
// that a household or a phone moving within its carrier's block keeps its
// value) and ua, BindLen bytes valid until the next call. It does not
// allocate.
func (b *Binder) Bind(client netip.Addr, ua string) []byte {
	return b.bind(identity.PrefixOf(client), ua)
}

// BindAddr is Bind for client's exact address (IPv4 /32, IPv6 /128): for
// what one client earned by its own work, which its neighbours must earn
// again (a clearance).
func (b *Binder) BindAddr(client netip.Addr, ua string) []byte {
	return b.bind(identity.Aggregate(client, 128), ua)
}

// bind hashes network and ua into b.sum.
func (b *Binder) bind(network netip.Prefix, ua string) []byte {
	a := network.Addr().As16()
	copy(b.tmp[:16], a[:])
	b.tmp[16] = byte(network.Bits())
	b.sha.Reset()
	b.sha.Write(b.tmp[:17])
	for len(ua) > 0 {
		n := copy(b.tmp[:], ua)
		b.sha.Write(b.tmp[:n])
		ua = ua[n:]
	}
	b.sha.Sum(b.sum[:0])
	return b.sum[:BindLen]
}
