package attack

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
)

// The lean HTTP/1.1 engine of the floods: requests are appended to a reused
// buffer and written in one call; responses are parsed from a bufio.Reader
// with ReadSlice and discarded, so a keep-alive exchange allocates nothing.
// net/http costs several allocations and two goroutines per connection,
// which at 50,000 requests/s on two cores is most of the budget.

// Bounds on what a server can make the parser hold or loop over.
const (
	readBufSize   = 4 << 10 // longest status or header line
	maxHeaders    = 128     // header lines per response
	maxInterim    = 8       // 1xx responses before the final one
	maxChunkSize  = 1 << 40 // larger chunk sizes are malformed
	maxTrailerLen = 64      // trailer lines after the last chunk
)

// errMalformed is wrapped by every parse error of a response.
var errMalformed = errors.New("malformed HTTP/1.1 response")

// response is what readResponse learned about one exchange.
type response struct {
	status  int
	bytes   int64 // body bytes
	keep    bool  // the connection may carry another request
	started bool  // at least one byte of the response arrived
}

// header is what the parser keeps of a response's header.
type header struct {
	length  int64 // Content-Length, -1 if absent
	chunked bool
	keep    bool
}

// readResponse reads one response to a GET or POST and discards its body.
func readResponse(br *bufio.Reader) (response, error) { return readResponseInto(br, nil) }

// readResponseInto reads one response, keeping the first bytes of a 200's
// body in keep (nil: discard every body).
func readResponseInto(br *bufio.Reader, keep *sink) (response, error) {
	var r response
	for range maxInterim {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return r, fmt.Errorf("read status line: %w", err)
		}
		r.started = true
		status, http11, err := parseStatusLine(line)
		if err != nil {
			return r, err
		}
		h, err := readHeader(br, http11)
		if err != nil {
			return r, err
		}
		r.status, r.keep = status, h.keep
		if status >= 100 && status < 200 && status != 101 {
			continue // interim; the final response follows
		}
		if status != 200 {
			keep = nil
		}
		r.bytes, r.keep, err = readBody(br, status, h, keep)
		return r, err
	}
	return r, fmt.Errorf("%w: over %d interim responses", errMalformed, maxInterim)
}

// parseStatusLine parses "HTTP/1.x NNN reason".
func parseStatusLine(line []byte) (status int, http11 bool, err error) {
	if len(line) < 12 || !bytes.HasPrefix(line, []byte("HTTP/1.")) || line[8] != ' ' {
		return 0, false, fmt.Errorf("%w: status line %.40q", errMalformed, line)
	}
	for _, b := range line[9:12] {
		if b < '0' || b > '9' {
			return 0, false, fmt.Errorf("%w: status line %.40q", errMalformed, line)
		}
		status = status*10 + int(b-'0')
	}
	if status < 100 {
		return 0, false, fmt.Errorf("%w: status %d", errMalformed, status)
	}
	return status, line[7] == '1', nil
}

// readHeader reads header lines up to the blank line.
func readHeader(br *bufio.Reader, http11 bool) (header, error) {
	h := header{length: -1, keep: http11}
	for range maxHeaders {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return h, fmt.Errorf("read header: %w", err)
		}
		line = trimCRLF(line)
		if len(line) == 0 {
			return h, nil
		}
		if err := h.add(line); err != nil {
			return h, err
		}
	}
	return h, fmt.Errorf("%w: over %d header lines", errMalformed, maxHeaders)
}

// add notes the header line if it frames the body or the connection.
func (h *header) add(line []byte) error {
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return fmt.Errorf("%w: header line %.40q", errMalformed, line)
	}
	value = bytes.TrimSpace(value)
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		n, ok := parseUint(value, 10)
		if !ok {
			return fmt.Errorf("%w: Content-Length %.40q", errMalformed, value)
		}
		h.length = n
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		h.chunked = hasToken(value, "chunked")
	case bytes.EqualFold(name, []byte("Connection")):
		if hasToken(value, "close") {
			h.keep = false
		} else if hasToken(value, "keep-alive") {
			h.keep = true
		}
	}
	return nil
}

// readBody reads the body into keep (nil: discards it) and says whether
// the connection is reusable.
func readBody(br *bufio.Reader, status int, h header, keep *sink) (int64, bool, error) {
	switch {
	case status == 204 || status == 304 || status == 101:
		return 0, h.keep && status != 101, nil
	case h.chunked:
		n, err := discardChunked(br, keep)
		return n, h.keep && err == nil, err
	case h.length >= 0:
		n, err := keep.take(br, h.length)
		if err != nil {
			return n, false, fmt.Errorf("read body: %w", err)
		}
		return n, h.keep, nil
	}
	var w io.Writer = io.Discard
	if keep != nil {
		w = keep
	}
	n, err := br.WriteTo(w) // delimited by the close
	return n, false, err
}

// sink keeps the first max bytes of a body (a playlist a bot reads) and
// counts the rest, which it drops.
type sink struct {
	buf []byte
	max int
}

// Write keeps what fits under max and drops the rest.
func (s *sink) Write(p []byte) (int, error) {
	if room := s.max - len(s.buf); room > 0 {
		s.buf = append(s.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// take reads n bytes of body from br into s; a nil s discards them
// without copying.
func (s *sink) take(br *bufio.Reader, n int64) (int64, error) {
	if s == nil || len(s.buf) >= s.max {
		d, err := br.Discard(int(n))
		return int64(d), err
	}
	return io.CopyN(s, br, n)
}

// discardChunked reads a chunked body into keep (nil: discards it) and its
// trailer.
func discardChunked(br *bufio.Reader, keep *sink) (int64, error) {
	var total int64
	for {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return total, fmt.Errorf("read chunk size: %w", err)
		}
		line, _, _ = bytes.Cut(trimCRLF(line), []byte(";"))
		size, ok := parseUint(bytes.TrimSpace(line), 16)
		if !ok || size > maxChunkSize {
			return total, fmt.Errorf("%w: chunk size %.40q", errMalformed, line)
		}
		if size == 0 {
			return total, discardTrailer(br)
		}
		n, err := keep.take(br, size)
		total += n
		if err != nil {
			return total, fmt.Errorf("read chunk: %w", err)
		}
		if line, err = br.ReadSlice('\n'); err != nil || len(trimCRLF(line)) != 0 {
			return total, fmt.Errorf("%w: no CRLF after chunk", errMalformed)
		}
	}
}

// discardTrailer reads trailer lines up to the blank line.
func discardTrailer(br *bufio.Reader) error {
	for range maxTrailerLen {
		line, err := br.ReadSlice('\n')
		if err != nil {
			return fmt.Errorf("read trailer: %w", err)
		}
		if len(trimCRLF(line)) == 0 {
			return nil
		}
	}
	return fmt.Errorf("%w: over %d trailer lines", errMalformed, maxTrailerLen)
}

func trimCRLF(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

// parseUint parses a non-empty decimal or hex number without allocating.
func parseUint(b []byte, base int64) (int64, bool) {
	if len(b) == 0 || len(b) > 15 {
		return 0, false
	}
	var n int64
	for _, c := range b {
		var d int64
		switch {
		case c >= '0' && c <= '9':
			d = int64(c - '0')
		case base == 16 && c|0x20 >= 'a' && c|0x20 <= 'f':
			d = int64(c|0x20-'a') + 10
		default:
			return 0, false
		}
		n = n*base + d
	}
	return n, true
}

// hasToken reports whether the comma-separated list v holds tok.
func hasToken(v []byte, tok string) bool {
	for len(v) > 0 {
		var t []byte
		t, v, _ = bytes.Cut(v, []byte(","))
		if bytes.EqualFold(bytes.TrimSpace(t), []byte(tok)) {
			return true
		}
	}
	return false
}

// Random material for request lines and bodies. math/rand/v2's top-level
// functions are per-thread ChaCha8 states: no lock, no allocation.

const hexDigits = "0123456789abcdef"

// appendHex appends n random hex digits.
func appendHex(dst []byte, n int) []byte {
	for n > 0 {
		r := rand.Uint64()
		for i := 0; i < 16 && n > 0; i, n = i+1, n-1 {
			dst = append(dst, hexDigits[r&0xf])
			r >>= 4
		}
	}
	return dst
}

// appendLetters appends n random lowercase letters.
func appendLetters(dst []byte, n int) []byte {
	for range n {
		dst = append(dst, byte('a'+rand.IntN(26)))
	}
	return dst
}

// words are what a search flood or a credential stuffer types.
var words = []string{
	"final", "goal", "replay", "highlights", "penalty", "kickoff", "derby",
	"champions", "league", "cup", "live", "stream", "match", "stadium",
	"striker", "keeper", "offside", "extra", "time", "trophy", "anthem",
	"fans", "pitch", "coach", "transfer", "injury", "var", "corner",
}

// appendWord appends one random word.
func appendWord(dst []byte) []byte { return append(dst, words[rand.IntN(len(words))]...) }
