// demo.js drives the page of `rempart demo`: it plays the live stream through
// hls.js (or the browser's own HLS), shows what the edge reports in
// stats.json, and what the player sees. It is loaded from a file, never
// inline, so a Content-Security-Policy of script-src 'self' holds.
//
// Tests read window.rempartDemo: {stalls, errors, level, playing}.
(function () {
  'use strict';

  const STREAM_URL = '/live/master.m3u8';
  // Relative, so the page works wherever the edge mounts it (/_rempart/).
  const STATS_URL = 'stats.json';
  const STATS_EVERY_MS = 1000;
  const STATS_TIMEOUT_MS = 2500;
  const PLAYER_EVERY_MS = 500;
  const RETRY_MIN_MS = 2000;
  const RETRY_MAX_MS = 15000;
  const HLS_MIME = 'application/vnd.apple.mpegurl';

  // hls.js reports stalls as non-fatal media errors too; they are counted
  // once, as stalls, from the video's waiting events.
  const STALL_DETAILS = new Set([
    'bufferStalledError', 'bufferNudgeOnStall', 'bufferSeekOverHole',
  ]);

  // state is what tests observe. level is the hls.js rendition index (0 is
  // the lowest), -1 while unknown or when the browser plays natively.
  const state = { stalls: 0, errors: 0, level: -1, playing: false };
  window.rempartDemo = state;

  const $ = (id) => document.getElementById(id);
  const video = $('video');
  const streamNotice = $('stream-notice');
  const statsNotice = $('stats-notice');

  let hls = null;        // the hls.js player, null when native or absent
  let started = false;   // playback began once: later waiting events are stalls
  let retryMs = RETRY_MIN_MS;
  let transientNotice = false; // the stream notice clears once playback resumes

  // ---- notices --------------------------------------------------------

  function showNotice(el, text, transient) {
    // Rewriting the same words would make screen readers repeat them.
    if (el.textContent !== text) el.textContent = text;
    el.hidden = false;
    if (el === streamNotice) transientNotice = Boolean(transient);
  }

  function hideNotice(el) {
    el.hidden = true;
    el.textContent = '';
  }

  // ---- player ---------------------------------------------------------

  function startPlayer() {
    watchMedia();
    const native = video.canPlayType(HLS_MIME) !== '';
    if (window.Hls && window.Hls.isSupported()) {
      startHls();
    } else if (!window.Hls) {
      showNotice(streamNotice, 'hls.js is not built: run `make web`.' +
        (native ? ' Meanwhile the browser plays the stream on its own.' : ''));
      if (native) startNative();
    } else if (native) {
      startNative();
    } else {
      showNotice(streamNotice, 'This browser cannot play HLS streams: it has ' +
        'neither Media Source Extensions nor native HLS support.');
    }
    setInterval(renderPlayer, PLAYER_EVERY_MS);
  }

  function startNative() {
    video.src = STREAM_URL;
    playMuted();
  }

  function startHls() {
    const Hls = window.Hls;
    hls = new Hls({
      startLevel: 0, // lowest rendition first; ABR climbs as bandwidth allows
      // hls.min.js starts its transmuxer as a blob: worker, which a CSP of
      // script-src 'self' forbids; the demo's streams are light enough to
      // transmux on the main thread.
      enableWorker: false,
    });
    hls.on(Hls.Events.MANIFEST_PARSED, playMuted);
    hls.on(Hls.Events.LEVEL_SWITCHED, (_, data) => {
      state.level = data.level;
      renderPlayer();
    });
    hls.on(Hls.Events.ERROR, (_, data) => onHlsError(data));
    hls.loadSource(STREAM_URL);
    hls.attachMedia(video);
  }

  function playMuted() {
    video.muted = true;
    const p = video.play();
    if (p) p.catch(() => { /* autoplay refused: the controls remain */ });
  }

  function onHlsError(data) {
    if (!STALL_DETAILS.has(data.details)) state.errors++;
    if (!data.fatal) return; // hls.js retries non-fatal errors itself
    const Hls = window.Hls;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR) {
      showNotice(streamNotice, 'Stream error: the video could not be ' +
        'decoded (' + data.details + '). Recovering…', true);
      hls.recoverMediaError();
      return;
    }
    const why = data.type === Hls.ErrorTypes.NETWORK_ERROR
      ? 'the stream could not be loaded' + httpStatus(data)
      : 'playback failed';
    showNotice(streamNotice, 'Stream error: ' + why + ' (' + data.details +
      '). Retrying in ' + Math.round(retryMs / 1000) + ' s…', true);
    restartHls();
  }

  function httpStatus(data) {
    const code = data.response && data.response.code;
    return code ? ': the edge answered HTTP ' + code : '';
  }

  // restartHls rebuilds the player after a fatal error, backing off so a
  // failing edge is not hammered by its own demo page.
  function restartHls() {
    hls.destroy();
    hls = null;
    state.level = -1;
    setTimeout(startHls, retryMs);
    retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
  }

  function watchMedia() {
    video.addEventListener('playing', () => {
      started = true;
      state.playing = true;
      retryMs = RETRY_MIN_MS;
      if (transientNotice) hideNotice(streamNotice);
      renderPlayer();
    });
    video.addEventListener('waiting', () => {
      if (started) state.stalls++;
      state.playing = false;
      renderPlayer();
    });
    for (const ev of ['pause', 'ended', 'emptied']) {
      video.addEventListener(ev, () => { state.playing = false; renderPlayer(); });
    }
    video.addEventListener('error', () => {
      if (hls) return; // hls.js reports the same failure with more detail
      state.errors++;
      const code = video.error ? video.error.code : 0;
      showNotice(streamNotice, 'Stream error: the browser could not play ' +
        'the stream (media error ' + code + ').');
    });
  }

  function renderPlayer() {
    $('play-state').textContent = playState();
    $('play-level').textContent = rendition();
    $('play-resolution').textContent = video.videoWidth
      ? video.videoWidth + ' × ' + video.videoHeight : '–';
    const ahead = bufferAhead();
    $('play-buffer').textContent = ahead === null ? '–' : ahead.toFixed(1) + ' s';
    $('play-stalls').textContent = String(state.stalls);
    $('play-dropped').textContent = String(droppedFrames());
    $('play-errors').textContent = String(state.errors);
  }

  function playState() {
    if (state.playing) return 'playing';
    if (video.ended) return 'ended';
    if (!started) return 'starting';
    return video.paused ? 'paused' : 'stalled';
  }

  function rendition() {
    if (!hls) return video.src ? 'chosen by the browser' : '–';
    const levels = hls.levels || [];
    const i = hls.currentLevel;
    if (i < 0 || i >= levels.length) return '–';
    state.level = i;
    const kbps = Math.round(levels[i].bitrate / 1000);
    return (i + 1) + ' of ' + levels.length + ' · ' + kbps + ' kb/s' +
      (hls.autoLevelEnabled ? ' (auto)' : '');
  }

  function bufferAhead() {
    const b = video.buffered;
    const t = video.currentTime;
    for (let i = 0; i < b.length; i++) {
      if (b.start(i) <= t + 0.1 && t <= b.end(i)) return b.end(i) - t;
    }
    return b.length ? 0 : null;
  }

  function droppedFrames() {
    if (video.getVideoPlaybackQuality) {
      return video.getVideoPlaybackQuality().droppedVideoFrames;
    }
    return 0;
  }

  // ---- edge stats -----------------------------------------------------

  async function pollStats() {
    try {
      const res = await fetch(STATS_URL, {
        cache: 'no-store',
        signal: AbortSignal.timeout(STATS_TIMEOUT_MS),
      });
      if (!res.ok) throw new Error('the edge answered HTTP ' + res.status);
      renderStats(await res.json());
      hideNotice(statsNotice);
      document.body.classList.remove('stats-stale');
    } catch (err) {
      showNotice(statsNotice, 'Stats unavailable: ' + statsFailure(err) +
        '. Retrying every second.');
      document.body.classList.add('stats-stale');
    } finally {
      setTimeout(pollStats, STATS_EVERY_MS);
    }
  }

  function statsFailure(err) {
    if (err.name === 'TimeoutError') return 'the edge did not answer in time';
    if (err.name === 'SyntaxError') return 'the answer was not valid JSON';
    if (err.name === 'TypeError') return 'the edge could not be reached';
    return err.message;
  }

  function renderStats(s) {
    $('stat-hit-ratio').textContent = num(s.hit_ratio, (v) => (v * 100).toFixed(1) + ' %');
    $('stat-requests-rps').textContent = num(s.requests_rps, perSecond);
    $('stat-origin-rps').textContent = num(s.origin_rps, perSecond);
    $('stat-viewers').textContent = num(s.viewers, (v) => String(Math.round(v)));
    $('stat-cache').textContent = num(s.cache_bytes, (v) =>
      bytes(v) + num(s.cache_objects, (n) => ' · ' + n + (n === 1 ? ' object' : ' objects'), ''));
    $('stat-uptime').textContent = num(s.uptime_seconds, duration);
  }

  // num formats v with f when it is a finite number, else shows a dash.
  function num(v, f, missing) {
    return typeof v === 'number' && Number.isFinite(v) ? f(v) : (missing ?? '–');
  }

  function perSecond(v) {
    return v.toFixed(1) + ' /s';
  }

  function bytes(v) {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let i = 0;
    while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
    return (i === 0 ? String(v) : v.toFixed(1)) + ' ' + units[i];
  }

  function duration(sec) {
    sec = Math.floor(sec);
    const h = Math.floor(sec / 3600);
    const m = Math.floor(sec / 60) % 60;
    const s = sec % 60;
    if (h) return h + ' h ' + m + ' min';
    if (m) return m + ' min ' + s + ' s';
    return s + ' s';
  }

  startPlayer();
  pollStats();
})();
