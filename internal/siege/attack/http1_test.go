package attack

import (
	"bufio"
	"errors"
	"strings"
	"testing"
)

func TestReadResponse(t *testing.T) {
	tests := []struct {
		name, in string
		want     response
		err      bool
	}{
		{"length", "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc", response{200, 3, true, true}, false},
		{"chunked with extension and trailer",
			"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3;x=y\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n",
			response{200, 13, true, true}, false},
		{"interim then final", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", response{404, 0, true, true}, false},
		{"close", "HTTP/1.1 503 Busy\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", response{503, 1, false, true}, false},
		{"http/1.0 until EOF", "HTTP/1.0 200 OK\r\n\r\nhello", response{200, 5, false, true}, false},
		{"http/1.0 keep-alive", "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n", response{200, 0, true, true}, false},
		{"304 has no body", "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n", response{304, 0, true, true}, false},
		{"bad status", "HTTP/1.1 2x0 OK\r\n\r\n", response{started: true}, true},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", response{status: 0, started: true}, true},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", response{200, 3, false, true}, true},
		{"nothing", "", response{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readResponse(bufio.NewReaderSize(strings.NewReader(tt.in), readBufSize))
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("got %+v, %v; want %+v, error %v", got, err, tt.want, tt.err)
			}
		})
	}
}

func TestReadResponseBounds(t *testing.T) {
	many := "HTTP/1.1 200 OK\r\n" + strings.Repeat("X: y\r\n", maxHeaders+1) + "\r\n"
	if _, err := readResponse(bufio.NewReaderSize(strings.NewReader(many), readBufSize)); !errors.Is(err, errMalformed) {
		t.Fatalf("%d headers: %v", maxHeaders+1, err)
	}
	long := "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("y", readBufSize) + "\r\n\r\n"
	if _, err := readResponse(bufio.NewReaderSize(strings.NewReader(long), readBufSize)); !errors.Is(err, bufio.ErrBufferFull) {
		t.Fatalf("a header line over the buffer: %v", err)
	}
}

func FuzzReadResponse(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
	f.Add("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 200 OK\r\n\r\nx")
	f.Fuzz(func(t *testing.T, in string) {
		r, err := readResponse(bufio.NewReaderSize(strings.NewReader(in), readBufSize))
		if err == nil && (r.status < 100 || r.status > 999 || r.bytes > int64(len(in))) {
			t.Fatalf("accepted %+v from %q", r, in)
		}
	})
}
