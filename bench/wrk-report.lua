-- wrk-report.lua: print wrk's own summary as one machine-readable line, so
-- nginx-compare.sh needs no parsing of wrk's human units ("1.2ms", "3.4MB").
--   wrk requests=N duration_us=N bytes=N p50_us=N p99_us=N errors=N non2xx=N
-- errors sums connect, read, write and timeout errors; non2xx counts answers
-- with a status >= 300 (wrk's "status" error counter).
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "wrk requests=%d duration_us=%d bytes=%d p50_us=%d p99_us=%d errors=%d non2xx=%d\n",
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(99),
    e.connect + e.read + e.write + e.timeout, e.status))
end
