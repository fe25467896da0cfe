# Varnish as an anti-DDoS caching edge, for bench/siege-compare.sh (rempart
# siege scenarios against rempart, nginx and Varnish). @ORIGIN_HOST@ and
# @ORIGIN_PORT@ are filled in at run time. Written for Debian's varnish
# 7.1 and varnish-modules 0.20 (vmod_vsthrottle), both from bookworm.
#
# What Varnish brings by itself, nothing to configure:
# - request coalescing: concurrent misses on one object wait on its
#   waiting list for the single backend fetch (hit-for-miss objects, made
#   for uncacheable answers, skip it);
# - a thread per request being served: slow readers hold threads (the
#   thread pool parameters are set on the command line by the script);
# - idle connections sit in the waiter, closed after timeout_idle (5 s).
# What it does not have: a per-client connection limit (there is no
# limit_conn equivalent in Varnish or varnish-modules).
vcl 4.1;

import vsthrottle;

backend origin {
    .host = "@ORIGIN_HOST@";
    .port = "@ORIGIN_PORT@";
    .connect_timeout = 1s;          # rempart: connect_timeout
    .first_byte_timeout = 10s;
    .between_bytes_timeout = 10s;
    .max_connections = 512;         # rempart: max_concurrency per origin
}

sub vcl_recv {
    # Per-address token buckets (vmod_vsthrottle), the same budgets as
    # nginx's limit_req in bench/nginx/nginx-siege.conf.tmpl: the credential
    # and search APIs 1 request/s with a burst of 5, everything else 10/s
    # with a burst of 20. Refused at once with 429, no backend work.
    if (req.url ~ "^/api/(login|search)(\?|$)") {
        if (vsthrottle.is_denied("api:" + client.identity, 5, 5s)) {
            return (synth(429, "Too Many Requests"));
        }
        return (pass);              # never cached, never coalesced
    }
    if (vsthrottle.is_denied("all:" + client.identity, 20, 2s)) {
        return (synth(429, "Too Many Requests"));
    }
    # Playlists and segments: no query string in the key (cache-bust
    # requests hit the cache, as with rempart's key normalization), and
    # no cookie or credentials, so the built-in VCL does not pass them.
    if (req.url ~ "\.(ts|m3u8)(\?|$)") {
        set req.url = regsub(req.url, "\?.*$", "");
        unset req.http.Cookie;
        unset req.http.Authorization;
    }
    # Falls through to the built-in vcl_recv (methods, cookies, hash).
}

sub vcl_backend_response {
    # grace: serve a stale copy while one background fetch refreshes it
    # (stale-while-revalidate), and while the origin fails. A live media
    # playlist must not be much older than one segment (2 s in the
    # scoreboard's origin), so its grace is short; other objects get a
    # minute. keep: expired objects kept for conditional refreshes.
    if (bereq.url ~ "\.m3u8$") {
        set beresp.grace = 2s;
    } else {
        set beresp.grace = 1m;
    }
    set beresp.keep = 1m;
    if (bereq.url ~ "\.(ts|m3u8)$") {
        unset beresp.http.Set-Cookie;
    }
    # Falls through to the built-in vcl_backend_response (TTL from
    # Cache-Control; Set-Cookie, private, no-store: hit-for-miss).
}

sub vcl_synth {
    if (resp.status == 429) {
        set resp.http.Retry-After = "1";
        set resp.http.Content-Type = "text/plain";
        set resp.body = "too many requests";
        return (deliver);
    }
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
