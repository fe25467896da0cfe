// challenge.js: runs the proof of work of the rempart challenge page in a
// Web Worker, shows how it goes, and submits the solution. The page's text
// is rendered by the server in the visitor's language; this script only
// fills in numbers. window.rempartChallenge exposes the state to tests.
(function () {
  'use strict';

  const root = document.getElementById('challenge');
  const form = document.getElementById('solution');
  const el = (id) => document.getElementById(id);
  const work = el('work'), status = el('status'), rate = el('rate'), live = el('live');
  const slow = el('slow'), keep = el('keep'), failed = el('failed');
  const msg = root.dataset;
  const difficulty = Number(msg.difficulty);
  let slowAfter = Number(msg.slowAfter) || 20000;

  const lang = document.documentElement.lang || 'en';
  const seconds = new Intl.NumberFormat(lang, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
  const count = new Intl.NumberFormat(lang, { notation: 'compact', maximumFractionDigits: 1 });

  const state = window.rempartChallenge = {
    state: 'starting', difficulty: difficulty, hashes: 0, rate: 0, elapsed: 0, counter: null,
  };

  let worker = null, timer = 0, startedAt = 0, before = 0, next = 0;

  const fill = (text, values) => text.replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));

  function elapsed() {
    return before + (startedAt ? performance.now() - startedAt : 0);
  }

  function tick() {
    state.elapsed = elapsed();
    status.textContent = fill(msg.msgProgress, { t: seconds.format(state.elapsed / 1000) });
    if (state.elapsed > slowAfter) pause();
  }

  function start() {
    try {
      worker = new Worker(msg.worker);
    } catch (e) {
      fail(e);
      return;
    }
    worker.onmessage = onMessage;
    worker.onerror = (e) => { e.preventDefault(); fail(e.message || e); };
    worker.postMessage({ challenge: form.elements.challenge.value, difficulty: difficulty, start: next });
    startedAt = performance.now();
    state.state = 'working';
    root.classList.remove('paused');
    tick();
    timer = setInterval(tick, 100);
  }

  function stop() {
    if (worker) worker.terminate();
    worker = null;
    clearInterval(timer);
    before = elapsed();
    startedAt = 0;
  }

  function onMessage(e) {
    const m = e.data;
    if (m.type === 'progress') {
      next = m.next;
      state.hashes = m.hashes;
      state.rate = m.rate;
      rate.textContent = fill(msg.msgRate, { rate: count.format(Math.round(m.rate)) });
    } else if (m.type === 'found') {
      solved(m.counter);
    }
  }

  function solved(counter) {
    stop();
    state.state = 'solved';
    state.counter = counter;
    root.classList.add('done');
    status.textContent = msg.msgDone;
    live.textContent = msg.msgDone;
    form.elements.counter.value = counter;
    form.submit();
  }

  // pause stops working on a slow device after slowAfter, so that a
  // phone left on the page does not drain its battery without a word.
  function pause() {
    stop();
    state.state = 'paused';
    root.classList.add('paused');
    slow.hidden = false;
    live.textContent = el('slow-text').textContent;
    keep.focus();
  }

  keep.addEventListener('click', function () {
    slow.hidden = true;
    slowAfter = Infinity; // asked to keep trying: no second interruption
    start();
  });

  function fail(err) {
    stop();
    state.state = 'failed';
    state.error = String(err);
    work.hidden = true;
    failed.hidden = false;
  }

  work.hidden = false;
  if (!window.Worker || !window.Intl) {
    fail('no Web Worker');
    return;
  }
  start();
})();
