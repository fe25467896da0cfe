package runner

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strings"
)

// ErrUnsafeTarget is returned for a target (or metrics URL) outside the
// loopback network when the operator did not say they own it.
var ErrUnsafeTarget = errors.New("target is not on this machine's loopback network")

// Resolver looks host names up; *net.Resolver satisfies it.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Target is a checked target: where requests go, pinned to one address so
// that a name cannot resolve elsewhere between the check and the run.
type Target struct {
	// URL is the base URL with its host replaced by the pinned address.
	URL *url.URL
	// Host is the Host header to send: the host as the operator wrote it.
	Host string
	// Addr is the pinned address and port.
	Addr netip.AddrPort
}

// CheckTarget parses raw ("http://127.0.0.1:8080", or "127.0.0.1:8080"),
// resolves its host with res (nil: net.DefaultResolver) and refuses it with
// ErrUnsafeTarget unless every address it resolves to is loopback (127/8,
// ::1) or own is set (--i-own-this-target).
func CheckTarget(ctx context.Context, raw string, own bool, res Resolver) (*Target, error) {
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("target %q: scheme %q: want http or https", raw, u.Scheme)
	}
	if u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("target %q: want scheme://host[:port][/prefix], no user, query or fragment", raw)
	}
	addrs, err := resolve(ctx, u.Hostname(), res)
	if err != nil {
		return nil, fmt.Errorf("target %q: %w", raw, err)
	}
	for _, a := range addrs {
		if !a.Unmap().IsLoopback() && !own {
			return nil, fmt.Errorf("target %q resolves to %s: %w (siege sends attack traffic; "+
				"pass --i-own-this-target only for a system you own and may load-test)", raw, a, ErrUnsafeTarget)
		}
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	ap, err := netip.ParseAddrPort(net.JoinHostPort(addrs[0].Unmap().String(), port))
	if err != nil {
		return nil, fmt.Errorf("target %q: port %q: %w", raw, port, err)
	}
	pinned := *u
	pinned.Host = ap.String()
	pinned.Path = strings.TrimSuffix(u.Path, "/")
	return &Target{URL: &pinned, Host: u.Host, Addr: ap}, nil
}

// resolve returns host's addresses, loopback ones first.
func resolve(ctx context.Context, host string, res Resolver) ([]netip.Addr, error) {
	if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return []netip.Addr{a}, nil
	}
	if res == nil {
		res = net.DefaultResolver
	}
	addrs, err := res.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve %s: no addresses", host)
	}
	// Prefer IPv4: distinct source addresses exist only in 127/8.
	for i, a := range addrs {
		if a.Unmap().Is4() {
			addrs[0], addrs[i] = addrs[i], addrs[0]
			break
		}
	}
	return addrs, nil
}

// SourceAddr returns the i-th distinct loopback source address:
// 127.0.1.1, 127.0.1.2 ... 127.0.1.254, 127.0.2.1 ... It skips 127.0.0.0/24
// (127.0.0.1 is the usual address of local services) and host parts 0 and
// 255, and wraps after 65,535 × 254 ≈ 16.6 million clients.
func SourceAddr(i int64) netip.Addr {
	const perBlock, blocks = 254, 65535
	i %= perBlock * blocks
	if i < 0 {
		i += perBlock * blocks
	}
	block := i/perBlock + 1
	return netip.AddrFrom4([4]byte{127, byte(block >> 8), byte(block), byte(i%perBlock + 1)})
}
