(() => {
"use strict";
const $ = (id) => document.getElementById(id);
const d = $("w").dataset, url = d.statusUrl, ret = d.returnUrl || "/";
const l1 = $("l1"), l2 = $("l2"), bar = $("bar"), msg = $("msg"), keep = $("keep");
const st = window.rempartWait = { polls: 0, state: "waiting", position: +d.pos || 0 };
let retry = +d.retry || 3, fails = 0, start = 0;

const fill = (s, k, v) => s.replace("{" + k + "}", v);
const num = (n) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, T.sep);
const set = (el, s) => { if (el.textContent !== s) el.textContent = s; };

// dur is texts.duration in waitpage's Go: keep them in step.
function dur(s) {
  if (!(s >= 60)) return T.lt;
  let m = Math.floor(s / 60 + 0.5);
  if (m >= 10) m = Math.floor(s / 300 + 0.5) * 5;
  if (m >= 60) m = Math.floor(s / 900 + 0.5) * 15;
  const h = Math.floor(m / 60), r = m % 60;
  const out = h === 0 ? (m === 1 ? T.min1 : fill(T.mins, "n", m))
    : r === 0 ? (h === 1 ? T.hour1 : fill(T.hours, "n", h))
    : fill(fill(T.hm, "h", h), "m", r);
  return fill(T.about, "d", out);
}
const waitLine = (tmpl, s) => (s >= 0 ? fill(tmpl, "d", dur(s)) : T.unknown);

function progress(p) {
  bar.hidden = !p;
  if (!p) return;
  start = Math.max(start, p);
  bar.max = start;
  bar.value = start - p;
}

function queued(j) {
  if (j.number > 0) set($("tk"), fill(T.ticket, "n", num(j.number)));
  const p = j.position > 0 ? j.position : 0;
  st.position = p;
  set(l1, p ? fill(T.pos, "n", num(p)) : T.raffle);
  set(l2, waitLine(p ? T.wait : T.mean, j.wait));
  progress(p);
}

function prequeue(j) {
  set(l1, fill(T.doors, "d", dur(j.opens_in)));
  set(l2, T.draw);
  progress(0);
}

function stop(first, second) {
  set(l1, first);
  set(l2, second);
  bar.hidden = keep.hidden = msg.hidden = true;
}

// later polls again after s seconds, jittered by ±20% so that a room of
// viewers does not ask in step.
const later = (s) => setTimeout(poll, Math.min(600, Math.max(0.1, s)) * 1000 * (0.8 + 0.4 * Math.random()));

function backoff() {
  fails++;
  set(msg, T.retrying);
  msg.hidden = false;
  later(Math.min(60, retry * 2 ** fails));
}

function handle(j) {
  st.state = j.status || "error";
  switch (j.status) {
  case "admitted":
    stop(T.admitted, "");
    location.replace(ret);
    return;
  case "refused":
    stop(T.refused, Object.prototype.hasOwnProperty.call(T.reasons, j.reason) ? T.reasons[j.reason] : T.reasons[""]);
    $("again").hidden = false;
    return;
  case "queued": queued(j); break;
  case "prequeue": prequeue(j); break;
  case "limited": break;
  default: backoff(); return;
  }
  fails = 0;
  msg.hidden = true;
  if (j.retry_after > 0) retry = j.retry_after;
  later(retry);
}

// poll asks the status URL where the ticket stands. The answer's JSON
// decides, whatever its HTTP status; without one, it is an error.
async function poll() {
  st.polls++;
  let j = null;
  try {
    const r = await fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } });
    j = await r.json();
  } catch (e) {
    j = null;
  }
  handle(j && typeof j === "object" ? j : {});
}

progress(st.position);
later(retry);
})();
