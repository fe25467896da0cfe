package detect

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/rempart/rempart/internal/telemetry"
)

// The baseline snapshot is the learned baseline on disk, so that a
// restarted edge judges with it from its first second: a cold edge has no
// baseline for the false-positive veto to consult (issue 11). Version 1,
// little-endian:
//
//	magic "RPBL" | version u16 | sketch depth u16 | sketch width u16 | classes u16
//	saved (Unix ns) i64 | n u32 | nRate u32
//	rate, player, heavy, guard, errRatio, hitLat, missLat, legitN f64
//	legitQuery [classes]f64 | legit [depth × width]f32
//	fingerprints u32, then (key u64, rate f64)*, keys increasing
//	paths u32, then (name length u16, name, rate f64)*, names increasing
//	CRC-32C of all the above u32
//
// Only what the verdicts read is kept. Fingerprint keys are the identity
// stage's, the same in every process; path keys are hashes seeded per
// process, so paths are saved by name and hashed again when loaded. At the
// caps the file is under 360 KiB (snapshotMaxSize). A change to any of it,
// telemetry's classes included, takes a new version:
// TestSnapshotFormatPinned fails until it does.
const (
	snapshotVersion = 1
	snapshotMagic   = "RPBL"
	snapshotHeader  = len(snapshotMagic) + 4*2 + 8 + 2*4
	snapshotFloats  = 8
	// snapshotMaxSize is the largest valid snapshot: anything longer is
	// refused before it is parsed.
	snapshotMaxSize = snapshotHeader + 8*snapshotFloats + 8*int(telemetry.NumClasses) +
		4*cmsDepth*cmsWidth + 4 + maxBaselineKeys*(8+8) + 4 + maxBaselineKeys*(2+maxPathName+8) + 4
)

// The ways a snapshot is refused; errors wrap one of them.
var (
	// ErrSnapshotCorrupt: truncated, damaged, oversized, or not a baseline
	// snapshot at all.
	ErrSnapshotCorrupt = errors.New("baseline snapshot corrupt")
	// ErrSnapshotVersion: written by a rempart with another format.
	ErrSnapshotVersion = errors.New("baseline snapshot from another version")
	// ErrSnapshotStale: older than shield.detect.baseline_max_age.
	ErrSnapshotStale = errors.New("baseline snapshot too old")
	// ErrSnapshotFuture: saved after the present by this clock.
	ErrSnapshotFuture = errors.New("baseline snapshot from the future")
)

var snapshotCRC = crc32.MakeTable(crc32.Castagnoli)

// encodeBaseline writes b as a snapshot saved at saved. The caller keeps b
// still meanwhile.
func encodeBaseline(b *baseline, saved time.Time) []byte {
	le := binary.LittleEndian
	out := make([]byte, 0, snapshotHeader+8*snapshotFloats+4*cmsDepth*cmsWidth+16*len(b.fp)+64*len(b.pathName))
	out = append(out, snapshotMagic...)
	for _, v := range []uint16{snapshotVersion, cmsDepth, cmsWidth, uint16(telemetry.NumClasses)} {
		out = le.AppendUint16(out, v)
	}
	out = le.AppendUint64(out, uint64(saved.UnixNano()))
	out = le.AppendUint32(out, uint32(b.n))
	out = le.AppendUint32(out, uint32(b.nRate))
	for _, f := range b.scalars() {
		out = le.AppendUint64(out, math.Float64bits(*f))
	}
	for _, f := range b.legitQuery {
		out = le.AppendUint64(out, math.Float64bits(f))
	}
	for _, f := range b.legit {
		out = le.AppendUint32(out, math.Float32bits(f))
	}
	keys := slices.Sorted(maps.Keys(b.fp))
	out = le.AppendUint32(out, uint32(len(keys)))
	for _, k := range keys {
		out = le.AppendUint64(out, k)
		out = le.AppendUint64(out, math.Float64bits(b.fp[k]))
	}
	names := make([]string, 0, len(b.pathName))
	byName := make(map[string]uint64, len(b.pathName))
	for k, name := range b.pathName {
		names = append(names, name)
		byName[name] = k
	}
	slices.Sort(names)
	out = le.AppendUint32(out, uint32(len(names)))
	for _, name := range names {
		out = le.AppendUint16(out, uint16(len(name)))
		out = append(out, name...)
		out = le.AppendUint64(out, math.Float64bits(b.path[byName[name]]))
	}
	return le.AppendUint32(out, crc32.Checksum(out, snapshotCRC))
}

// scalars are the baseline's single numbers in snapshot order.
func (b *baseline) scalars() [snapshotFloats]*float64 {
	return [...]*float64{&b.rate, &b.player, &b.heavy, &b.guard, &b.errRatio, &b.hitLat, &b.missLat, &b.legitN}
}

// decodeBaseline reads a snapshot into a baseline with the given
// half-life, returning when it was saved. It refuses anything but a whole,
// well-formed snapshot of this version.
func decodeBaseline(data []byte, halfLife float64) (*baseline, time.Time, error) {
	if len(data) > snapshotMaxSize {
		return nil, time.Time{}, fmt.Errorf("%w: %d bytes, more than any snapshot (%d)", ErrSnapshotCorrupt, len(data), snapshotMaxSize)
	}
	if len(data) < snapshotHeader || !bytes.HasPrefix(data, []byte(snapshotMagic)) {
		return nil, time.Time{}, fmt.Errorf("%w: not a baseline snapshot (no %q header)", ErrSnapshotCorrupt, snapshotMagic)
	}
	r := snapReader{b: data[len(snapshotMagic):]}
	if v := r.u16(); v != snapshotVersion {
		return nil, time.Time{}, fmt.Errorf("%w: version %d, this rempart reads version %d", ErrSnapshotVersion, v, snapshotVersion)
	}
	body, sum := data[:len(data)-4], binary.LittleEndian.Uint32(data[len(data)-4:])
	if crc32.Checksum(body, snapshotCRC) != sum {
		return nil, time.Time{}, fmt.Errorf("%w: checksum mismatch (truncated or damaged)", ErrSnapshotCorrupt)
	}
	r.b = body[len(snapshotMagic)+2:]
	depth, width, classes := r.u16(), r.u16(), r.u16()
	if depth != cmsDepth || width != cmsWidth || classes != uint16(telemetry.NumClasses) {
		return nil, time.Time{}, fmt.Errorf("%w: sketch %d×%d and %d classes, this rempart has %d×%d and %d",
			ErrSnapshotVersion, depth, width, classes, cmsDepth, cmsWidth, telemetry.NumClasses)
	}
	saved := time.Unix(0, int64(r.u64()))
	b := newBaseline(halfLife)
	r.body(b)
	if r.err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %w", ErrSnapshotCorrupt, r.err)
	}
	return b, saved, nil
}

// body reads everything after the header into b.
func (r *snapReader) body(b *baseline) {
	b.n, b.nRate = int(r.u32()), int(r.u32())
	if b.nRate > b.n {
		r.fail("%d seconds learned into the rate, more than the %d learned", b.nRate, b.n)
	}
	for i, f := range b.scalars() {
		*f = r.rate(fmt.Sprintf("baseline value %d", i))
	}
	if b.player > 1 || b.errRatio > 1 {
		r.fail("player share %g or error ratio %g above 1", b.player, b.errRatio)
	}
	for c := range b.legitQuery {
		b.legitQuery[c] = r.rate("legit query rate")
	}
	for i := range b.legit {
		v := math.Float32frombits(r.u32())
		if !(v >= 0) || math.IsInf(float64(v), 0) {
			r.fail("sketch cell %d is %g", i, v)
		}
		b.legit[i] = v
	}
	r.fingerprints(b)
	r.paths(b)
	if r.err == nil && len(r.b) != 0 {
		r.fail("%d bytes after the paths", len(r.b))
	}
}

func (r *snapReader) fingerprints(b *baseline) {
	n := r.count("fingerprints")
	var last uint64
	for i := range n {
		k := r.u64()
		if i > 0 && k <= last {
			r.fail("fingerprint keys out of order at %d", i)
		}
		last = k
		b.fp[k] = r.rate("fingerprint rate")
	}
}

func (r *snapReader) paths(b *baseline) {
	n := r.count("paths")
	last := ""
	for i := range n {
		size := int(r.u16())
		if size == 0 || size > maxPathName {
			r.fail("path %d is %d bytes long, want 1 to %d", i, size, maxPathName)
		}
		name := string(r.take(size))
		if i > 0 && name <= last {
			r.fail("path names out of order at %d", i)
		}
		last = name
		k := stringHash(name)
		b.path[k] += r.rate("path rate")
		if _, dup := b.pathName[k]; !dup {
			b.pathName[k] = name
		}
	}
}

// snapReader reads a snapshot front to back; the first problem stops it
// and stays in err.
type snapReader struct {
	b   []byte
	err error
}

func (r *snapReader) fail(format string, args ...any) {
	if r.err == nil {
		r.err = fmt.Errorf(format, args...)
	}
	r.b = nil
}

func (r *snapReader) take(n int) []byte {
	if r.err != nil {
		return make([]byte, n)
	}
	if len(r.b) < n {
		r.fail("truncated")
		return make([]byte, n)
	}
	p := r.b[:n]
	r.b = r.b[n:]
	return p
}

func (r *snapReader) u16() uint16 { return binary.LittleEndian.Uint16(r.take(2)) }
func (r *snapReader) u32() uint32 { return binary.LittleEndian.Uint32(r.take(4)) }
func (r *snapReader) u64() uint64 { return binary.LittleEndian.Uint64(r.take(8)) }

// rate reads a finite number ≥ 0.
func (r *snapReader) rate(what string) float64 {
	v := math.Float64frombits(r.u64())
	if !(v >= 0) || math.IsInf(v, 0) {
		r.fail("%s is %g", what, v)
		return 0
	}
	return v
}

// count reads a table's length, at most maxBaselineKeys.
func (r *snapReader) count(what string) int {
	n := r.u32()
	if n > maxBaselineKeys {
		r.fail("%d %s, more than the %d kept", n, what, maxBaselineKeys)
		return 0
	}
	return int(n)
}
