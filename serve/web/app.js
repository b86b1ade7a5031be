// The web page of `consensus serve`: an overview of every instrument and a
// page per instrument, drawn from the JSON API under /api/v1 and the charts
// the server renders. No framework and no build step: the file is embedded
// in the binary as it stands.
//
// The rule the page keeps: what it shows is exactly what its address says,
// or an error saying what is wrong with the address, never another answer.
// The API is the one reader of times and figures; the page only formats
// what it is given.
'use strict';

const api = '/api/v1';

// ---- Talking to the API -------------------------------------------------

const tokenKey = 'consensus-token';

// The token, when the server asks for one, is kept for this browser tab only.
function authHeaders() {
  const token = sessionStorage.getItem(tokenKey);
  return token ? { Authorization: 'Bearer ' + token } : {};
}

// parseExact reads JSON keeping every number as the exact text the server
// wrote (165.69 stays "165.69"), so figures are shown digit for digit and
// never pass through binary floating point.
function parseExact(text) {
  return JSON.parse(text, (key, value, context) =>
    typeof value === 'number' ? (context && context.source) || String(value) : value);
}

// APIError is an answer the server refused, with its status and the field
// at fault when the server names one.
class APIError extends Error {
  constructor(status, message, field) {
    super(message);
    this.status = status;
    this.field = field || null;
  }
}

async function request(path, attempt = 0) {
  const sent = sessionStorage.getItem(tokenKey);
  const res = await fetch(api + path, { headers: authHeaders() });
  if (res.status === 401) {
    let reason = '';
    try { reason = parseExact(await res.text()).error || ''; } catch (e) { /* not JSON */ }
    await askForToken(sent ? 'The server refused the token you gave' + (reason ? ': ' + reason : '.') + ' Give another, or forget it.' : '');
    return request(path);
  }
  // Busy with other large requests (serve --max-expensive): wait as told
  // and ask again, a few times, before showing the error.
  const retryAfter = Number(res.headers.get('Retry-After'));
  if (res.status === 503 && retryAfter > 0 && attempt < 3) {
    await new Promise((r) => setTimeout(r, 1000 * retryAfter));
    return request(path, attempt + 1);
  }
  if (!res.ok) {
    let message = res.status + ' ' + res.statusText;
    let field = null;
    try {
      const body = parseExact(await res.text());
      message = body.error || message;
      field = body.field;
    } catch (e) { /* not JSON */ }
    throw new APIError(res.status, message, field);
  }
  return res;
}

async function getJSON(path) {
  return parseExact(await (await request(path)).text());
}

// askForToken opens the token dialog once, however many requests wait on
// it, saying why when a token was refused.
let tokenAsked = null;
function askForToken(refusal) {
  const dialog = document.getElementById('token-dialog');
  const message = document.getElementById('token-message');
  message.textContent = refusal || 'This server needs an access token.';
  message.className = refusal ? 'refused' : '';
  document.getElementById('token-forget').hidden = !sessionStorage.getItem(tokenKey);
  if (tokenAsked) return tokenAsked;
  tokenAsked = new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const input = document.getElementById('token-input');
      if (dialog.returnValue === 'forget') sessionStorage.removeItem(tokenKey);
      else if (input.value.trim()) sessionStorage.setItem(tokenKey, input.value.trim());
      input.value = '';
      tokenAsked = null;
      showTokenButton();
      resolve();
    }, { once: true });
    if (!dialog.open) dialog.showModal();
  });
  return tokenAsked;
}

function showTokenButton() {
  document.getElementById('token-button').hidden = !sessionStorage.getItem(tokenKey);
}

function wireToken() {
  showTokenButton();
  document.getElementById('token-button').addEventListener('click', async () => {
    await askForToken('Change the token this tab sends, or forget it.');
    location.reload();
  });
}

// fetchChart fetches a chart with the token (an <img src> could not send
// it) and hands it to the image as a blob, which cannot run scripts. The
// chart's own title and description, read from the SVG without running
// it, become the image's alternative text.
async function fetchChart(path) {
  return (await request(path)).text();
}

function showChart(img, text) {
  const svg = new DOMParser().parseFromString(text, 'image/svg+xml');
  const title = svg.querySelector('title');
  const desc = svg.querySelector('desc');
  img.alt = [title && title.textContent, desc && desc.textContent].filter(Boolean).join('. ');
  const old = img.src;
  img.src = URL.createObjectURL(new Blob([text], { type: 'image/svg+xml' }));
  if (old.startsWith('blob:')) URL.revokeObjectURL(old);
  return svg;
}

// ---- Live updates ------------------------------------------------------

// follow reads the server-sent event stream with fetch (EventSource cannot
// send a token) and calls onEvent for each event; it reconnects with the
// last event id, so no event is missed. While the connection is down, a
// banner says so and retries back off from 1 to 30 seconds; "live" shows
// only while the stream is open.
async function follow(instrument, onEvent) {
  const live = document.getElementById('live');
  const banner = document.getElementById('banner');
  const bannerText = document.getElementById('banner-text');
  let lastId = '';
  let delay = 1000;
  let lostAt = null;
  let wake = null;
  document.getElementById('banner-retry').addEventListener('click', () => wake && wake());
  const setLive = (on) => {
    live.dataset.live = on ? 'on' : 'off';
    live.textContent = on ? 'live' : 'not live';
    live.title = on ? 'Live: new events update this page' : 'Live updates are off';
  };
  // A page left for another must close its stream: a browser keeps only
  // six connections to a server, and a page kept in its back-forward
  // cache with a stream open would hold one of them.
  let abort = null;
  let left = false;
  window.addEventListener('pagehide', () => { left = true; if (abort) abort.abort(); });
  window.addEventListener('pageshow', (e) => { if (e.persisted) location.reload(); });
  for (;;) {
    if (left) return;
    abort = new AbortController();
    let quiet = 0;
    try {
      const headers = authHeaders();
      if (lastId) headers['Last-Event-ID'] = lastId;
      const query = instrument ? '?instrument=' + encodeURIComponent(instrument) : '';
      const res = await fetch(api + '/events/stream' + query, { headers, signal: abort.signal });
      if (res.status === 401) {
        await askForToken(headers.Authorization ? 'The server refused the token you gave. Give another, or forget it.' : '');
        continue;
      }
      if (!res.ok || !res.body) throw new Error('the event stream answered ' + res.status);
      setLive(true);
      if (lostAt) onEvent(null); // back after a loss: draw again what may have changed
      lostAt = null;
      delay = 1000;
      banner.hidden = true;
      // The server sends a comment every 15 s; silence for 40 s is a dead line.
      const watch = () => { clearTimeout(quiet); quiet = setTimeout(() => abort.abort(), 40000); };
      watch();
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        watch();
        buffer += value;
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('id:')) lastId = line.slice(3).trim();
            else if (line.startsWith('data:')) data += line.slice(5).trim();
          }
          if (data) onEvent(JSON.parse(data));
        }
      }
    } catch (e) { /* reconnect below */ }
    clearTimeout(quiet);
    setLive(false);
    lostAt = lostAt || new Date();
    const seconds = Math.round(delay / 1000);
    bannerText.textContent = 'The live connection to the server was lost at ' + clock(lostAt) +
      '; figures may be out of date. Retrying in ' + seconds + ' s.';
    banner.hidden = false;
    await new Promise((r) => { wake = r; setTimeout(r, delay); });
    wake = null;
    delay = Math.min(delay * 2, 30000);
  }
}

function clock(d) {
  return d.toISOString().slice(11, 19) + ' UTC';
}

// debounce runs fn once events stop arriving for a moment, so an import of
// thousands of events reloads the page once, not thousands of times.
function debounce(fn, ms) {
  let timer = 0;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

// ---- Times -------------------------------------------------------------------

// A time is kept as whole seconds since 1970 (UTC) and the nine digits of
// its fraction, so a nanosecond is never lost to a float.
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// parseTime reads what the API writes (RFC 3339, and the bare dates links
// carry, meaning the end of that day UTC), or returns null. It is used to
// show and compare times; the API alone decides what a link's time means.
function parseTime(text) {
  if (typeof text !== 'string') return null;
  let m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (m) return checked(+m[1], +m[2], +m[3], 23, 59, 59, '999999999', 0);
  m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/.exec(text);
  if (!m) return null;
  let offset = 0;
  if (m[8] !== 'Z') offset = (m[8][0] === '-' ? -1 : 1) * (Number(m[8].slice(1, 3)) * 3600 + Number(m[8].slice(4, 6)) * 60);
  return checked(+m[1], +m[2], +m[3], +m[4], +m[5], +m[6], (m[7] || '').padEnd(9, '0'), offset);
}

function checked(y, mo, d, h, mi, s, frac, offset) {
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const back = new Date(ms);
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 || s > 59) return null;
  return { sec: ms / 1000 - offset, frac };
}

function utcParts(t) {
  const d = new Date(t.sec * 1000);
  return { date: d.toISOString().slice(0, 10), time: d.toISOString().slice(11, 19), d };
}

function fracText(t) {
  const f = t.frac.replace(/0+$/, '');
  return f ? '.' + f : '';
}

// rfc3339 writes a time as the API does: UTC, the fraction without
// trailing zeros.
function rfc3339(t) {
  const p = utcParts(t);
  return p.date + 'T' + p.time + fracText(t) + 'Z';
}

function isEndOfDay(t) {
  return utcParts(t).time === '23:59:59' && t.frac === '999999999';
}

// linkTime is how a time goes into an address: a bare date when it is the
// end of that day, as the API reads a bare date, else the full timestamp.
function linkTime(t) {
  return isEndOfDay(t) ? utcParts(t).date : rfc3339(t);
}

function dayText(t) {
  const d = utcParts(t).d;
  return d.getUTCDate() + ' ' + months[d.getUTCMonth()] + ' ' + d.getUTCFullYear();
}

// readable is a time as people read it: "11 Sep 2025, end of day UTC" or
// "2 Dec 2026, 13:08:32.430504 UTC".
function readable(text) {
  const t = typeof text === 'string' ? parseTime(text) : text;
  if (!t) return text ? String(text) : '–';
  if (isEndOfDay(t)) return dayText(t) + ', end of day UTC';
  return dayText(t) + ', ' + utcParts(t).time + fracText(t) + ' UTC';
}

// shortDay is a date alone, for tables: "11 Sep 2025", with the time when
// it is not the end of the day.
function shortDay(text) {
  const t = parseTime(text);
  if (!t) return '–';
  return isEndOfDay(t) ? dayText(t) : dayText(t) + ' ' + utcParts(t).time + ' UTC';
}

// exDay is a split's ex-date: the day alone when the split is effective at
// its start, as a bare date given for a split means; else the full time.
function exDay(text) {
  const t = parseTime(text);
  if (!t) return '–';
  return utcParts(t).time === '00:00:00' && !fracText(t) ? dayText(t) : shortDay(text);
}

function compareTimes(a, b) {
  return a.sec !== b.sec ? a.sec - b.sec : (a.frac < b.frac ? -1 : a.frac > b.frac ? 1 : 0);
}

// justBefore is the last nanosecond before t: as known then, an event
// recorded at t is not yet in the ledger.
function justBefore(t) {
  if (t.frac === '000000000') return { sec: t.sec - 1, frac: '999999999' };
  return { sec: t.sec, frac: String(Number(t.frac) - 1).padStart(9, '0') };
}

function isFuture(t) {
  return t.sec * 1000 + Number(t.frac.slice(0, 3)) > Date.now();
}

// shiftBack moves a time back by days or by calendar months (the 31st of a
// month with fewer days becomes its last day), keeping the time of day.
function shiftBack(t, days, monthsBack) {
  const d = new Date(t.sec * 1000);
  if (monthsBack) {
    const day = d.getUTCDate();
    d.setUTCDate(1);
    d.setUTCMonth(d.getUTCMonth() - monthsBack);
    const last = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
    d.setUTCDate(Math.min(day, last));
  }
  d.setUTCDate(d.getUTCDate() - days);
  return { sec: d.getTime() / 1000, frac: t.frac };
}

// ---- Figures -------------------------------------------------------------

// Decimals by currency: ISO 4217's minor units, for the currencies that do
// not have two.
const minorUnits = { JPY: 0, KRW: 0, VND: 0, CLP: 0, ISK: 0, UGX: 0, PYG: 0, BHD: 3, KWD: 3, OMR: 3, JOD: 3, TND: 3, IQD: 3, LYD: 3 };

function digitsOf(currency) {
  return currency in minorUnits ? minorUnits[currency] : 2;
}

// roundText rounds an exact decimal's text to n places, half away from
// zero, in decimal digits (never through a float).
function roundText(text, n) {
  let s = String(text);
  const negative = s.startsWith('-');
  if (negative) s = s.slice(1);
  let [whole, frac = ''] = s.split('.');
  if (frac.length > n) {
    const up = frac[n] >= '5';
    let digits = (whole + frac.slice(0, n)).split('').map(Number);
    if (up) {
      let i = digits.length - 1;
      while (i >= 0 && digits[i] === 9) { digits[i] = 0; i--; }
      if (i < 0) digits.unshift(1); else digits[i]++;
    }
    digits = digits.join('');
    whole = digits.slice(0, digits.length - n) || '0';
    frac = digits.slice(digits.length - n);
  }
  frac = frac.padEnd(n, '0');
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return (negative && /[1-9]/.test(whole + frac) ? '-' : '') + grouped + (n > 0 ? '.' + frac : '');
}

// figure shows an exact decimal with n decimals (2 unless said) and
// thousands separators; '–' when absent.
function figure(text, n = 2) {
  if (text === null || text === undefined) return '–';
  return roundText(text, n);
}

// money shows an amount in its currency's decimals.
function money(text, currency) {
  return figure(text, digitsOf(currency));
}

function count(text) {
  return text === null || text === undefined ? '–' : roundText(text, 0);
}

// ---- The page's pieces ------------------------------------------------------

function element(tag, props, ...children) {
  const el = document.createElement(tag);
  Object.assign(el, props);
  for (const c of children) if (c !== null && c !== undefined) el.append(c);
  return el;
}

function setText(id, text) {
  document.getElementById(id).textContent = text;
}

// setFigure shows a figure with a smaller note after it (a currency, a date),
// and the exact value on hover when the figure is rounded for reading.
function setFigure(id, text, note, exact) {
  const el = document.getElementById(id);
  el.replaceChildren(text);
  el.title = exact ? 'exactly ' + exact : '';
  if (note) el.append(' ', element('small', {}, note));
}

// showError shows what went wrong; with hide, the answer it replaces is
// hidden, so an error never stands beside figures it does not belong to.
function showError(err, hide) {
  const box = document.getElementById('error');
  box.replaceChildren();
  box.hidden = !err;
  for (const id of hide || []) document.getElementById(id).hidden = !!err;
  if (!err) return;
  let text = err.message || String(err);
  if (err.field === 'as_of' || err.field === 'known_at') {
    text = 'This address cannot be shown: ' + text.replace(/\.$/, '') + '. Nothing else is shown in its place; choose another time below.';
  }
  box.append(element('strong', {}, err.status === 404 ? 'Not found. ' : err.status ? 'Refused. ' : 'Error. '), text);
}

function showNote(id, text) {
  const el = document.getElementById(id);
  el.textContent = text || '';
  el.hidden = !text;
}

// labelClass is the CSS class of a consensus label's badge.
function labelClass(label) {
  return 'badge ' + String(label || '').toLowerCase().replace(/\s+/g, '-');
}

// download saves text as a file the browser offers to keep.
function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = element('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// csv writes rows of objects with the given columns, values as the API
// gave them (exact figures, full times).
function csv(columns, rows) {
  const cell = (v) => {
    if (v === null || v === undefined) return '';
    const s = Array.isArray(v) ? v.join('; ') : String(v);
    return /[",\r\n]/.test(s) || /^[=+\-@]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  };
  return [columns.join(',')].concat(rows.map((r) => columns.map((c) => cell(r[c])).join(','))).join('\r\n') + '\r\n';
}

const consensusColumns = ['instrument', 'currency', 'as_of', 'known_at', 'window_days', 'analysts', 'buy', 'hold', 'sell',
  'mean_rating', 'label', 'targets', 'mean_target', 'median_target', 'high_target', 'low_target', 'stddev_target',
  'close', 'close_at', 'upside_pct'];

// ---- The point in time -------------------------------------------------------

// The address holds the point in time; the pickers show it. The page reads
// the address once and writes it only when the user changes a picker.
function addressPoint() {
  const params = new URLSearchParams(location.search);
  return { asOf: params.get('as_of'), knownAt: params.get('known_at') };
}

// fillPicker shows a time in a date box and a time box (UTC); a value the
// page cannot read leaves them empty, and the API's refusal is shown.
function fillPicker(id, text) {
  const date = document.getElementById(id);
  const time = document.getElementById(id + '-time');
  const t = parseTime(text || '');
  date.value = t ? utcParts(t).date : '';
  time.value = t && !isEndOfDay(t) ? utcParts(t).time + fracText(t) : '';
}

// pickerValue is the time a date box and a time box say, for the address:
// the date alone means its end of day; a time is UTC, to the nanosecond.
// Returns undefined when the time box cannot be read.
function pickerValue(id) {
  const date = document.getElementById(id).value;
  const timeBox = document.getElementById(id + '-time');
  const time = timeBox.value.trim();
  timeBox.setCustomValidity('');
  if (!date) return null;
  if (!time) return date;
  const m = /^(\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?$/.exec(time);
  if (!m || +m[1] > 23 || +m[2] > 59 || +(m[3] || 0) > 59) {
    timeBox.setCustomValidity('Give the time as HH:MM, HH:MM:SS or HH:MM:SS.fffffffff (UTC)');
    timeBox.reportValidity();
    return undefined;
  }
  return date + 'T' + m[1] + ':' + m[2] + ':' + (m[3] || '00') + (m[4] || '') + 'Z';
}

function pointFromPickers(asOfId, knownAtId) {
  const asOf = pickerValue(asOfId);
  const knownAt = pickerValue(knownAtId);
  if (asOf === undefined || knownAt === undefined) return undefined;
  return { asOf, knownAt };
}

// queryText writes a query for an address, leaving the colons of times as
// they are (legal in a query) so the address reads as the time it holds.
function queryText(q) {
  return q.toString().replace(/%3A/gi, ':');
}

function writeAddress(pt, extra) {
  const q = new URLSearchParams();
  if (pt.asOf) q.set('as_of', pt.asOf);
  if (pt.knownAt) q.set('known_at', pt.knownAt);
  for (const [k, v] of Object.entries(extra || {})) if (v) q.set(k, v);
  const s = queryText(q);
  history.replaceState(null, '', location.pathname + (s ? '?' + s : ''));
}

// wirePoint shows the address's point in time in a view's pickers and,
// when the user changes them (or anything else in the form), writes the
// address, with extra()'s parameters, and loads the view again.
function wirePoint(form, asOfId, knownAtId, state, load, extra) {
  state.point = addressPoint();
  fillPicker(asOfId, state.point.asOf);
  fillPicker(knownAtId, state.point.knownAt);
  const changed = () => {
    const pt = pointFromPickers(asOfId, knownAtId);
    if (pt === undefined) return;
    state.point = pt;
    writeAddress(pt, extra ? extra() : {});
    load();
  };
  document.getElementById(form).addEventListener('change', changed);
  wireClearButtons(changed);
}

function wireClearButtons(onClear) {
  for (const button of document.querySelectorAll('button[data-clear]')) {
    button.addEventListener('click', () => {
      for (const id of button.dataset.clear.split(' ')) document.getElementById(id).value = '';
      onClear();
    });
  }
}

// resolvePoint turns the address's point into the one the page shows,
// asking first(params) for an answer and reading it:
//   - a known_at after now is capped at now, and said so: the ledger may
//     still learn of events, so it is no snapshot;
//   - without as_of, the page shows the latest close in the ledger rather
//     than "now", which on a ledger whose data ends earlier shows nothing.
// It returns the query to ask with and the notes to show.
async function resolvePoint(pt, first, latestClose) {
  const q = new URLSearchParams();
  if (pt.asOf) q.set('as_of', pt.asOf);
  if (pt.knownAt) q.set('known_at', pt.knownAt);
  let answer = await first(q); // the API reads (or refuses) the address's times
  const notes = [];
  let capped = false;
  const known = parseTime(pt.knownAt || '');
  if (pt.knownAt && known && isFuture(known)) {
    capped = true;
    q.delete('known_at');
    notes.push('The address asks for the ledger as known at ' + readable(pt.knownAt) +
      ', which is still in the future: shown as known now instead. Events recorded later can still change this answer, so it is no snapshot.');
    answer = null;
  }
  let latest = false;
  if (!pt.asOf) {
    if (!answer) answer = await first(q);
    const close = latestClose(answer);
    if (close) {
      q.set('as_of', linkTime(close));
      latest = true;
      answer = null; // asked again at that close
    }
  }
  return { q, notes, capped, latest, answer };
}

function whenLine(c, r) {
  const window = Number(c.window_days) > 0 ? c.window_days + '-day window' : 'no expiry';
  const asOf = 'As of ' + readable(c.as_of) + (r.latest ? ' (the latest close in the ledger)' : '');
  const known = r.q.has('known_at') ? 'as known at ' + readable(c.known_at) : 'as known now (' + readable(c.known_at) + ')';
  return asOf + ' · ' + known + ' · ' + window;
}

// ---- The overview ------------------------------------------------------------

const overview = { seq: 0, rows: [], key: 'instrument', ascending: true, query: null };

async function loadOverview() {
  const pt = overview.point;
  const seq = ++overview.seq;
  let changes = null;
  try {
    const r = await resolvePoint(pt, (q) => getJSON('/consensus' + (q.toString() ? '?' + q : '')), (rows) => {
      let best = null;
      for (const row of rows) {
        const t = parseTime(row.close_at || '');
        if (t && (!best || compareTimes(t, best) > 0)) best = t;
      }
      return best;
    });
    // The rating changes are asked for at once when the date is known, so
    // their request runs beside the list's rather than after it.
    if (r.q.has('as_of')) changes = askChanges(r.q.get('as_of'), r.q);
    const rows = r.answer || await getJSON('/consensus' + (r.q.toString() ? '?' + r.q : ''));
    if (seq !== overview.seq) return;
    overview.rows = rows;
    overview.query = r.q;
    showError(null, ['overview-body']);
    showNote('overview-note', r.notes.join(' '));
    const c = overview.rows[0];
    setText('overview-when-line', c ? whenLine(c, r) + '. Every close shows its own date.' : '');
    fillPicker('overview-as-of', r.q.get('as_of'));
    fillPicker('overview-known-at', r.capped ? pt.knownAt : r.q.get('known_at'));
  } catch (err) {
    if (seq !== overview.seq) return;
    overview.rows = [];
    setText('overview-when-line', '');
    showNote('overview-note', '');
    showError(err, ['overview-body']);
    return;
  }
  const currencies = [...new Set(overview.rows.map((r) => r.currency))].sort();
  const select = document.getElementById('currency-filter');
  const chosen = select.value;
  select.replaceChildren(element('option', { value: '' }, 'all'), ...currencies.map((c) => element('option', { value: c }, c)));
  select.value = currencies.includes(chosen) ? chosen : '';
  drawOverview();
  if (overview.rows.length === 0) return;
  if (!changes) changes = askChanges(overview.rows[0].as_of, overview.query);
  await drawChanges(changes, overview.query, seq);
}

// askChanges asks for the rating changes of every instrument in the 30
// days up to the as_of shown (by default the latest close), as known at the
// known_at shown. It never fails: an error is the answer, for drawChanges
// to show beside the list, which it never holds up.
function askChanges(asOf, q) {
  const to = parseTime(asOf);
  const p = new URLSearchParams({ from: utcParts(shiftBack(to, 29, 0)).date, to: linkTime(to) });
  if (q.has('known_at')) p.set('known_at', q.get('known_at'));
  return getJSON('/actions?' + p).catch((err) => err);
}

async function drawChanges(asked, q, seq) {
  const feed = await asked;
  if (seq !== overview.seq) return;
  if (feed instanceof Error) {
    setText('changes-when', 'The rating changes could not be read: ' + feed.message);
    document.querySelector('#changes tbody').replaceChildren();
    return;
  }
  const shown = feed.actions.length;
  setText('changes-when', 'Every instrument\'s ratings, target revisions and withdrawals effective from ' + dayText(parseTime(feed.from)) +
    ' to ' + readable(feed.to) + ', newest first' + (Number(feed.total) > shown ? ': the latest ' + shown + ' of ' + feed.total : '') +
    '. The action is the ledger\'s (upgrade, target raised from … to …), as known at the time shown.');
  // A row links to its instrument as of the change, and to the event in
  // that instrument's log, both as known at the time shown.
  const link = (a, hash) => {
    const lq = new URLSearchParams({ as_of: linkTime(parseTime(a.effective_at)) });
    if (q.has('known_at')) lq.set('known_at', q.get('known_at'));
    return '/instruments/' + encodeURIComponent(a.instrument) + '?' + queryText(lq) + (hash || '');
  };
  document.querySelector('#changes tbody').replaceChildren(...feed.actions.map((a) => {
    const ccy = a.currency;
    const target = cell('Target', { className: 'num', title: a.target === null ? '' : 'exactly ' + a.target + (a.previous_target === null ? '' : ', from ' + a.previous_target) });
    if (a.previous_target !== null) target.append(money(a.previous_target, ccy) + ' → ');
    target.append(a.target === null ? '–' : money(a.target, ccy) + ' ' + ccy);
    return element('tr', {},
      cell('Effective', {}, shortDay(a.effective_at)),
      cell('Instrument', {}, element('a', { href: link(a) }, a.instrument)),
      cell('Analyst', {}, a.analyst, a.firm ? element('div', { className: 'note' }, a.firm) : null),
      cell('Rating', {}, a.rating ? a.rating + (a.broker_rating && a.broker_rating !== a.rating ? ' (' + a.broker_rating + ')' : '') : (typeNames[a.type] || a.type)),
      target,
      cell('Action', { className: 'action' }, actionText(a)),
      cell('Event', {}, element('a', { href: link(a, '#event-' + a.event_id), title: a.event_id, className: 'id' }, a.event_id.slice(0, 8))));
  }));
  document.getElementById('changes-empty').hidden = shown > 0;
  performance.mark('changes-drawn'); // the first-load test reads it
}

// Labels sort from the most bullish to the most bearish, not alphabetically.
const labelRank = { 'Strong Buy': 1, 'Moderate Buy': 2, 'Hold': 3, 'Moderate Sell': 4, 'Strong Sell': 5, 'No Consensus': 6 };
// Money columns compare amounts only within a currency.
const moneyKeys = new Set(['mean_target', 'close', 'median_target', 'high_target', 'low_target', 'stddev_target', 'target', 'adjusted_target',
  'p0', 'p1', 'target_adjusted']);

// compareBy orders rows by one key: absent values last, labels by rank,
// money grouped by currency (yen are never compared with dollars as if
// they were the same unit), numbers by value, text alphabetically.
function compareBy(key, ascending) {
  return (a, b) => {
    if (moneyKeys.has(key) && a.currency !== b.currency) return a.currency < b.currency ? -1 : 1;
    const value = (row) => (key === 'label' ? labelRank[row.label] : row[key]);
    const x = value(a);
    const y = value(b);
    const absent = (v) => v === null || v === undefined || v === '';
    if (absent(x) || absent(y)) return absent(x) - absent(y);
    const nx = Number(x);
    const ny = Number(y);
    // Ordering is the one place a figure's value is read as a number; it is
    // never printed from that number.
    const order = Number.isNaN(nx) || Number.isNaN(ny) ? String(x).localeCompare(String(y)) : nx - ny;
    return ascending ? order : -order;
  };
}

function overviewShown() {
  const text = document.getElementById('filter').value.trim().toLowerCase();
  const currency = document.getElementById('currency-filter').value;
  return overview.rows.filter((r) => (!currency || r.currency === currency) &&
    (!text || r.instrument.toLowerCase().includes(text) || r.label.toLowerCase().includes(text) || r.currency.toLowerCase() === text))
    .sort(compareBy(overview.key, overview.ascending));
}

function drawOverview() {
  const body = document.querySelector('#overview-table tbody');
  const q = overview.query ? queryText(overview.query) : '';
  const shown = overviewShown();
  body.replaceChildren(...shown.map((r) => {
    const link = element('a', { href: '/instruments/' + encodeURIComponent(r.instrument) + (q ? '?' + q : '') }, r.instrument);
    const close = element('td', { className: 'num', title: r.close === null ? '' : 'exactly ' + r.close }, money(r.close, r.currency));
    if (r.close !== null) close.append(element('small', { className: 'date' }, 'on ' + shortDay(r.close_at)));
    return element('tr', {},
      element('td', {}, link, ' ', element('span', { className: 'muted' }, r.currency)),
      element('td', {}, element('span', { className: labelClass(r.label) }, r.label)),
      element('td', { className: 'num' }, count(r.analysts)),
      element('td', { className: 'num' }, count(r.buy)),
      element('td', { className: 'num' }, count(r.hold)),
      element('td', { className: 'num' }, count(r.sell)),
      element('td', { className: 'num', title: r.mean_target === null ? '' : 'exactly ' + r.mean_target }, money(r.mean_target, r.currency)),
      close,
      element('td', { className: 'num' }, figure(r.upside_pct)));
  }));
  setText('overview-count', 'Showing ' + shown.length + ' of ' + overview.rows.length + ' instruments');
  document.getElementById('overview-empty').hidden = overview.rows.length > 0;
  performance.mark('overview-drawn'); // the first-load test reads it
  sortMarks('#overview-table', overview);
}

function startOverview() {
  document.getElementById('overview').hidden = false;
  wirePoint('overview-when', 'overview-as-of', 'overview-known-at', overview, loadOverview);
  sortable('#overview-table', overview, drawOverview);
  document.getElementById('filter').addEventListener('input', drawOverview);
  document.getElementById('currency-filter').addEventListener('change', drawOverview);
  document.getElementById('export-list').addEventListener('click', () => {
    download('consensus-list.csv', csv(consensusColumns, overviewShown()), 'text/csv');
  });
  loadOverview();
  follow('', debounce(loadOverview, 500));
}

// ---- An instrument -----------------------------------------------------------

// superseded stops drawing an answer a newer question replaced.
const superseded = new Error('superseded');

const inst = { seq: 0, symbol: '', point: null, answer: null, q: null, explain: [], key: '', ascending: true, log: null, logURL: '', history: null };

// chartEvery is the period of the chart's points for each range: the
// chart and its hover readout ask for the same rows.
const chartEvery = { 3: 'day', 6: 'week', 12: 'week', 24: 'week', 60: 'month' };

function drawCard(c, r) {
  const card = document.getElementById('card');
  const ccy = c.currency;
  setText('currency', ccy);
  const badge = document.getElementById('card-label');
  badge.textContent = c.label;
  badge.className = labelClass(c.label);
  setText('card-when', whenLine(c, r) + topText(c));
  setText('card-analysts', count(c.analysts));
  setText('card-buy', count(c.buy));
  setText('card-hold', count(c.hold));
  setText('card-sell', count(c.sell));
  setText('card-mean-rating', figure(c.mean_rating));
  setFigure('card-mean-target', money(c.mean_target, ccy), c.mean_target === null ? '' : ccy, c.mean_target);
  setFigure('card-median-target', money(c.median_target, ccy), '', c.median_target);
  setText('card-high-low', c.high_target === null ? '–' : money(c.high_target, ccy) + ' / ' + money(c.low_target, ccy));
  setFigure('card-stddev-target', money(c.stddev_target, ccy), '', c.stddev_target);
  setFigure('card-close', money(c.close, ccy), c.close === null ? '' : 'on ' + shortDay(c.close_at), c.close);
  setFigure('card-upside', figure(c.upside_pct), c.upside_pct === null ? '' : '%');
  const splits = document.getElementById('card-splits');
  splits.textContent = c.adjusted === false ? 'Prices and targets as published, not adjusted for splits.'
    : (c.splits || []).length ? 'Adjusted for splits: ' + c.splits.map((s) => s.ratio + ' on ' + exDay(s.effective_at)).join(', ') + '.' : '';
  splits.hidden = splits.textContent === '';
  card.dataset.asOf = c.as_of;
  card.dataset.knownAt = c.known_at;
  card.dataset.state = 'ready';
}

// eventLink names an event by the start of its id and links to its row in
// the event log.
function eventLink(id) {
  if (!id) return null;
  return element('a', { href: '#event-' + id, title: id, className: 'id' }, id.slice(0, 8));
}

function cell(label, props, ...children) {
  const td = element('td', props || {}, ...children);
  td.dataset.label = label;
  return td;
}

function explainShown() {
  const status = document.getElementById('status-filter').value;
  const rows = inst.explain.filter((e) => !status || e.status === status);
  if (inst.key) rows.sort(compareBy(inst.key, inst.ascending));
  return rows;
}

function drawExplain() {
  const ccy = inst.answer ? inst.answer.currency : '';
  const shown = explainShown();
  document.querySelector('#explain tbody').replaceChildren(...shown.map((e) => {
    const why = cell('Why', { className: 'why' }, e.reason);
    for (const note of e.notes) why.append(element('div', { className: 'note' }, note));
    const rating = e.rating ? e.rating + (e.broker_rating && e.broker_rating !== e.rating ? ' (' + e.broker_rating + ')' : '') : '–';
    const events = cell('Events', { className: 'events' });
    if (e.rating_event_id) events.append('rating ', eventLink(e.rating_event_id), actionNote(e.rating_action));
    if (e.target_event_id) events.append(e.rating_event_id ? element('br') : '', 'target ', eventLink(e.target_event_id), actionNote(e.target_action));
    if (!e.rating_event_id && !e.target_event_id) events.append('–');
    return element('tr', { className: 'status-' + e.status },
      cell('Analyst', {}, analystLink(e.analyst, inst.q, 'who'), e.firm ? element('div', { className: 'note' }, e.firm) : null),
      cell('Status', {}, element('span', { className: 'status' }, e.status.replace('_', ' '))),
      cell('Rating', {}, rating),
      cell('Target', { className: 'num', title: e.target === null ? '' : 'exactly ' + e.target + ', as published' }, money(e.target, ccy)),
      cell('Split factor', { className: 'num split-col' }, e.target_factor === null || e.target_factor === undefined ? '–' : e.target_factor),
      cell('Adjusted target', { className: 'num split-col', title: e.adjusted_target === null ? '' : 'exactly ' + e.adjusted_target }, money(e.adjusted_target, ccy)),
      cell('Last active', {}, e.last_active ? shortDay(e.last_active) : '–'),
      events,
      why);
  }));
  setText('explain-count', 'Showing ' + shown.length + ' of ' + inst.explain.length + ' analysts');
  // The factor and the adjusted target are worth their columns only when a
  // split moves some target.
  document.getElementById('explain').classList.toggle('no-splits', !inst.explain.some((e) => e.target_factor && e.target_factor !== '1'));
  sortMarks('#explain', inst);
}

// asPublished says whether the page shows prices and targets as published
// rather than adjusted for splits (the Prices control, adjusted=false in
// the address), and adjusted sets the API's parameter to match.
function asPublished() {
  return document.getElementById('adjusted').value === 'false';
}

function adjusted(p) {
  if (asPublished()) p.set('adjusted', 'false');
  return p;
}

// drawTrend shows the counts and mean rating now against 1 week, 1 month
// and 3 months earlier, each asked of the API at that as_of.
async function drawTrend(base, c, q, current) {
  const asOf = parseTime(c.as_of);
  const earlier = [['1 week earlier', shiftBack(asOf, 7, 0)], ['1 month earlier', shiftBack(asOf, 0, 1)], ['3 months earlier', shiftBack(asOf, 0, 3)]];
  const answers = await Promise.all(earlier.map(([, t]) => {
    const p = adjusted(withTop(new URLSearchParams(q)));
    p.set('as_of', rfc3339(t));
    return getJSON(base + '/consensus?' + p);
  }));
  current();
  const rows = [['Shown', c]].concat(earlier.map(([name], i) => [name, answers[i]]));
  document.querySelector('#trend tbody').replaceChildren(...rows.map(([name, r]) => element('tr', {},
    cell('', {}, name),
    cell('As of', {}, shortDay(r.as_of)),
    cell('Analysts', { className: 'num' }, count(r.analysts)),
    cell('Buy', { className: 'num' }, count(r.buy)),
    cell('Hold', { className: 'num' }, count(r.hold)),
    cell('Sell', { className: 'num' }, count(r.sell)),
    cell('Mean rating', { className: 'num' }, figure(r.mean_rating)),
    cell('Consensus', {}, element('span', { className: labelClass(r.label) }, r.label)))));
}

// chartQuery is the period the charts (and the history export) cover: the
// chosen range up to the as_of shown.
function chartQuery(c) {
  const range = Number(document.getElementById('range').value);
  const to = parseTime(c.as_of);
  const p = new URLSearchParams({ from: linkTime(shiftBack(to, 0, range)), to: linkTime(to), every: chartEvery[range] || 'week' });
  if (inst.q.has('known_at')) p.set('known_at', inst.q.get('known_at'));
  // As first published (CONTRACT section 9): each row as known on its own
  // day, restated rows shaded on the charts and named in the readout.
  if (document.getElementById('first-published').checked) p.set('first_published', 'true');
  return adjusted(withTop(p));
}

// dailyQuery is what the history export asks for: the chart's range and
// point in time, but a row for every day rather than the chart's points
// (the API's history bounds its rows; five years of days are well within).
function dailyQuery(c) {
  const p = chartQuery(c);
  p.set('every', 'day');
  return p;
}

async function loadInstrument() {
  const symbol = inst.symbol;
  const base = '/instruments/' + encodeURIComponent(symbol);
  const card = document.getElementById('card');
  card.dataset.state = 'loading';
  inst.log = null;
  inst.logLoading = null;
  // Only the latest question's answer is drawn: an older, slower one must
  // not replace it.
  const seq = ++inst.seq;
  const current = () => { if (seq !== inst.seq) throw superseded; };
  try {
    const ask = (q) => {
      const p = adjusted(withTop(new URLSearchParams(q)));
      p.set('explain', 'true');
      return getJSON(base + '/consensus?' + p);
    };
    const r = await resolvePoint(inst.point, ask, (c) => parseTime(c.close_at || ''));
    inst.q = r.q;
    const c = r.answer || await ask(r.q);
    current();
    inst.answer = c;
    inst.explain = c.explain || [];
    showError(null, ['instrument-body', 'instrument-when']);
    showNote('instrument-note', r.notes.join(' '));
    fillPicker('as-of', r.q.get('as_of'));
    fillPicker('known-at', r.capped ? inst.point.knownAt : r.q.get('known_at'));
    drawCard(c, r);
    drawTopLine(c);
    drawExplain();
    setText('print-line', symbol + ' analyst consensus. ' + whenLine(c, r) + topText(c) + '. Printed from ' + location.href + ' on ' + readable(new Date().toISOString()) + '.');
    setText('caption-targets', 'Mean price target (' + c.currency + ') with the high–low range of targets, against the close (' + c.currency + ')');
    const later = [drawTrend(base, c, r.q, current), drawCharts(base, c, current)];
    if (location.hash.startsWith('#event-')) later.push(goToEvent());
    else if (document.getElementById('log-section').open || document.getElementById('feed-section').open) later.push(loadLog());
    await Promise.all(later);
  } catch (err) {
    if (err === superseded || seq !== inst.seq) return;
    card.dataset.state = 'error';
    showNote('instrument-note', '');
    showError(err, err.status === 404 ? ['instrument-body', 'instrument-when'] : ['instrument-body']);
    if (err.status === 404) setText('currency', '');
  }
}

async function drawCharts(base, c, current) {
  const chart = chartQuery(c);
  setText('export-history-note', 'one row per day from ' + shortDay(chart.get('from')) + ' to ' + shortDay(chart.get('to')) +
    (chart.has('first_published') ? ', each as first published' : '') + ', the consensus of each day as the card shows it');
  // Drawn at the width they are shown at, so their text stays legible
  // on a phone rather than shrunk with the picture.
  const targets = document.getElementById('chart-targets');
  const width = Math.round(Math.min(960, Math.max(320, targets.parentElement.clientWidth)));
  const size = (height) => '&width=' + width + '&height=' + height + '&';
  const [targetsSVG, ratingsSVG, rows] = await Promise.all([
    fetchChart(base + '/chart.svg?panel=targets' + size(Math.max(240, Math.round(width * 0.4))) + chart),
    fetchChart(base + '/chart.svg?panel=ratings' + size(Math.max(200, Math.round(width * 0.23))) + chart),
    getJSON(base + '/history?' + chart),
  ]);
  current();
  inst.history = rows;
  inst.plot = plotArea(showChart(targets, targetsSVG), width);
  showChart(document.getElementById('chart-ratings'), ratingsSVG);
}

// plotArea reads where the chart's time axis runs, in the SVG's own
// drawing (its horizontal grid lines span the plot), as fractions of its
// width, so the hover readout can map a pointer to a row.
function plotArea(svg, width) {
  const grid = svg.querySelector('polyline.grid');
  if (!grid) return { left: 0, right: 1 };
  const xs = grid.getAttribute('points').trim().split(/\s+/).map((p) => Number(p.split(',')[0]));
  return { left: Math.min(...xs) / width, right: Math.max(...xs) / width };
}

// readAt shows the history row under the pointer: the chart's values with
// their units, read from the same rows the chart was drawn from.
function readAt(img, clientX) {
  const rows = inst.history;
  if (!rows || rows.length === 0 || !inst.plot) return;
  const box = img.getBoundingClientRect();
  const f = Math.max(0, Math.min(1, ((clientX - box.left) / box.width - inst.plot.left) / (inst.plot.right - inst.plot.left)));
  // The time axis is linear from the first row to the last: take the row
  // nearest the pointer's time.
  const at = (row) => parseTime(row.as_of).sec;
  const first = at(rows[0]);
  const span = at(rows[rows.length - 1]) - first || 1;
  let i = 0;
  for (let j = 1; j < rows.length; j++) if (Math.abs(at(rows[j]) - first - f * span) < Math.abs(at(rows[i]) - first - f * span)) i = j;
  const r = rows[i];
  const ccy = r.currency;
  setText('readout-targets', shortDay(r.as_of) + ': mean target ' + money(r.mean_target, ccy) + ' ' + ccy +
    (r.high_target === null ? '' : ' (high ' + money(r.high_target, ccy) + ', low ' + money(r.low_target, ccy) + ')') +
    ', close ' + (r.close === null ? '–' : money(r.close, ccy) + ' ' + ccy + ' on ' + shortDay(r.close_at)) +
    ', upside ' + (r.upside_pct === null ? '–' : figure(r.upside_pct) + ' %') +
    (r.restated ? ' (as first published; restated since)' : ''));
  setText('readout-ratings', shortDay(r.as_of) + ': ' + count(r.buy) + ' buy, ' + count(r.hold) + ' hold, ' + count(r.sell) + ' sell of ' + count(r.analysts) + ' analysts');
  const x = inst.plot.left + (inst.plot.right - inst.plot.left) * ((at(r) - first) / span);
  for (const cursor of document.querySelectorAll('.chart .cursor')) {
    cursor.style.left = (x * 100) + '%';
    cursor.hidden = false;
  }
}

// ---- The event log and the rating changes -----------------------------------

const typeNames = { RatingAdded: 'Rating', TargetRevised: 'Target revised', RatingWithdrawn: 'Withdrawn', CloseRecorded: 'Close', EventRetracted: 'Retraction', SplitRecorded: 'Split' };

// loadLog reads the events once per answer drawn, however many callers
// ask (opening a section, an #event- address), and draws them once. It
// asks for the log as known at the page's known_at, as every figure on the
// page is: the actions of an event change when an earlier event is
// backfilled or retracted later, so a page at an older known_at shows them
// as known then (and leaves out the events recorded since). A page as
// known now shows the log with everything stored.
function loadLog() {
  const p = new URLSearchParams();
  if (inst.q && inst.q.has('known_at')) p.set('known_at', inst.q.get('known_at'));
  const url = '/instruments/' + encodeURIComponent(inst.symbol) + '/events' + (p.has('known_at') ? '?' + p : '');
  if (!inst.logLoading || inst.logURL !== url) {
    inst.logURL = url;
    const loading = getJSON(url).then((events) => {
      if (inst.logLoading !== loading) return; // a later question's log replaces it
      inst.log = events;
      drawLog();
      drawFeed();
    });
    inst.logLoading = loading;
    loading.catch(() => { if (inst.logLoading === loading) inst.logLoading = null; });
  }
  return inst.logLoading;
}

// knownLink is the address of this page as known at t, keeping the as_of
// shown, so the link says exactly what it shows.
function knownLink(t) {
  const q = new URLSearchParams();
  q.set('as_of', inst.q.get('as_of') || linkTime(parseTime(inst.answer.as_of)));
  q.set('known_at', rfc3339(t));
  const range = document.getElementById('range').value;
  if (range !== '6') q.set('range', range);
  withTop(q);
  adjusted(q);
  return location.pathname + '?' + queryText(q);
}

// actionText shows the ledger's rating and target actions (CONTRACT
// section 8) as the API gives them: null ones are left out, '–' for none.
function actionText(e) {
  const a = [e.rating_action, e.target_action].filter(Boolean);
  return a.length ? a.join(', ').replace(/_/g, ' ') : '–';
}

// actionNote is the action of an event the explain table names, after its
// link: ' (upgrade)'; nothing when the action is null.
function actionNote(a) {
  return a ? ' (' + a.replace(/_/g, ' ') + ')' : '';
}

// details is an event's data as the log shows it: an analyst's name links
// to the analyst's page.
function details(e) {
  const d = e.data || {};
  const ccy = d.currency || (inst.answer && inst.answer.currency) || '';
  const who = () => analystLink(d.analyst, inst.q);
  switch (e.type) {
    case 'RatingAdded':
      return [who(), (d.firm ? ' (' + d.firm + ')' : '') + ': ' + d.rating + (d.broker_rating && d.broker_rating !== d.rating ? ' (' + d.broker_rating + ')' : '') +
        (d.target ? ', target ' + money(d.target, ccy) + ' ' + ccy : '')];
    case 'TargetRevised': return [who(), ': target ' + money(d.target, ccy) + ' ' + ccy];
    case 'RatingWithdrawn': return [who(), ': coverage dropped'];
    case 'CloseRecorded': return ['close ' + money(d.price, ccy) + ' ' + ccy];
    case 'EventRetracted': return ['reason: ' + d.reason];
    case 'SplitRecorded': return ['split ' + d.ratio];
  }
  return [JSON.stringify(d)];
}

function drawLog() {
  const rows = inst.log || [];
  document.querySelector('#log tbody').replaceChildren(...rows.map((e) => {
    const rec = parseTime(e.recorded_at);
    const retraction = cell('Retraction', {});
    if (e.retracted_by) retraction.append('retracted by ', eventLink(e.retracted_by));
    if (e.type === 'EventRetracted' && e.data) retraction.append('retracts ', eventLink(e.data.retracted_event_id));
    if (!retraction.childNodes.length) retraction.append('–');
    const known = cell('Known', { className: 'known' },
      element('a', { href: knownLink(justBefore(rec)), className: 'before', title: 'The consensus as the ledger knew it just before this event was recorded' }, 'just before'),
      ' · ',
      element('a', { href: knownLink(rec), className: 'after', title: 'The consensus as the ledger knew it once this event was recorded' }, 'at'));
    const tr = element('tr', { id: 'event-' + e.event_id, className: (e.retracted_by ? 'retracted ' : '') + 'type-' + e.type },
      cell('#', { className: 'num' }, String(e.version)),
      cell('Event', {}, typeNames[e.type] || e.type, element('div', { className: 'note' }, element('a', { href: '#event-' + e.event_id, className: 'id', title: e.event_id }, e.event_id))),
      cell('Effective', {}, shortDay(e.effective_at)),
      cell('Recorded', {}, readable(e.recorded_at), element('div', { className: 'note' }, 'by ' + e.recorded_by + ', ' + e.source)),
      cell('Details', {}, ...details(e)),
      cell('Action', { className: 'action' }, actionText(e)),
      retraction,
      known);
    return tr;
  }));
  markEvent();
  const summary = document.querySelector('#log-section summary h2');
  summary.textContent = 'Event log (' + rows.length + ' events)';
}

function drawFeed() {
  const rows = (inst.log || []).filter((e) => ['RatingAdded', 'TargetRevised', 'RatingWithdrawn'].includes(e.type))
    .sort((a, b) => compareTimes(parseTime(b.effective_at), parseTime(a.effective_at)) || b.version - a.version);
  document.querySelector('#feed tbody').replaceChildren(...rows.map((e) => {
    const d = e.data || {};
    const ccy = d.currency || inst.answer.currency;
    return element('tr', { className: e.retracted_by ? 'retracted' : '' },
      cell('Effective', {}, shortDay(e.effective_at)),
      cell('Analyst', {}, analystLink(d.analyst, inst.q), d.firm ? element('div', { className: 'note' }, d.firm) : null),
      cell('Event', {}, (typeNames[e.type] || e.type) + (e.retracted_by ? ' (retracted)' : '')),
      cell('Rating', {}, d.rating ? d.rating + (d.broker_rating && d.broker_rating !== d.rating ? ' (' + d.broker_rating + ')' : '') : '–'),
      cell('Target', { className: 'num' }, d.target ? money(d.target, ccy) + ' ' + ccy : '–'),
      cell('Action', { className: 'action' }, actionText(e)),
      cell('Event id', {}, eventLink(e.event_id)));
  }));
}

// diffFigureNames are the names of the diff's fields as the card shows
// them.
const diffFigureNames = {
  currency: 'Currency', window_days: 'Window (days)', analysts: 'Analysts', buy: 'Buy', hold: 'Hold', sell: 'Sell',
  mean_rating: 'Mean rating', label: 'Consensus', targets: 'Targets', mean_target: 'Mean target', median_target: 'Median target',
  high_target: 'High target', low_target: 'Low target', stddev_target: 'Std. deviation', close: 'Close', close_at: 'Close on',
  upside_pct: 'Upside %',
};

// diffValue shows one value of a diff as the card shows that figure.
function diffValue(field, v) {
  if (v === null) return '–';
  const ccy = inst.answer ? inst.answer.currency : '';
  if (moneyKeys.has(field)) return money(v, ccy);
  if (field === 'close_at') return shortDay(v);
  if (field === 'mean_rating' || field === 'upside_pct') return figure(v);
  return String(v);
}

// loadDiff asks what changed the consensus over the chart's period between
// the time picked and the knowledge time the card shows, and draws one row
// per changed figure, the changed value highlighted, with the events that
// caused it (once per as_of) linking to the event log.
async function loadDiff() {
  if (!inst.answer) return;
  const since = pickerValue('since-known');
  if (since === undefined) return;
  if (!since) {
    setText('diff-summary', 'Pick the earlier time to compare with.');
    document.querySelector('#diff tbody').replaceChildren();
    return;
  }
  const p = chartQuery(inst.answer);
  p.set('from_known', since);
  if (p.has('known_at')) {
    p.set('to_known', p.get('known_at'));
    p.delete('known_at');
  }
  const table = document.getElementById('diff');
  table.dataset.state = 'loading';
  const rows = await getJSON('/instruments/' + encodeURIComponent(inst.symbol) + '/diff?' + p);
  const body = [];
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    const first = i === 0 || rows[i - 1].as_of !== r.as_of;
    const tr = element('tr', { className: first ? 'first-of-day' : '' },
      cell('As of', {}, first ? shortDay(r.as_of) : ''),
      cell('Figure', { className: 'field' }, diffFigureNames[r.field] || r.field),
      cell('Before', { className: 'num before', title: r.before === null ? '' : 'exactly ' + r.before }, diffValue(r.field, r.before)),
      cell('After', { className: 'num after changed', title: r.after === null ? '' : 'exactly ' + r.after }, diffValue(r.field, r.after)));
    tr.dataset.field = r.field;
    tr.dataset.asOf = r.as_of;
    if (first) {
      let span = 1;
      while (i + span < rows.length && rows[i + span].as_of === r.as_of) span++;
      const causes = cell('Caused by', { className: 'causes', rowSpan: span });
      r.causes.forEach((x, k) => {
        if (k > 0) causes.append(element('br'));
        causes.append(typeNames[x.type] || x.type, ' ', eventLink(x.event_id), ' (effective ' + shortDay(x.effective_at) + ')');
      });
      if (!r.causes.length) causes.append('–');
      tr.append(causes);
    }
    body.push(tr);
  }
  table.querySelector('tbody').replaceChildren(...body);
  const days = new Set(rows.map((r) => r.as_of)).size;
  setText('diff-summary', rows.length ? rows.length + ' changed figures on ' + days + (days === 1 ? ' day' : ' days') + ' of the chart\'s period.'
    : 'Nothing changed over the chart\'s period.');
  table.dataset.state = 'ready';
}

// goToEvent opens the log at the event the address names.
async function goToEvent() {
  const section = document.getElementById('log-section');
  section.open = true;
  await loadLog();
  const row = markEvent();
  if (row) row.scrollIntoView({ block: 'center' });
}

// markEvent marks the log's row the address names.
function markEvent() {
  for (const old of document.querySelectorAll('#log tr.target')) old.classList.remove('target');
  const row = location.hash.startsWith('#event-') ? document.getElementById(location.hash.slice(1)) : null;
  if (row) row.classList.add('target');
  return row;
}

function startInstrument(symbol) {
  inst.symbol = symbol;
  document.getElementById('instrument').hidden = false;
  setText('symbol', symbol);
  document.title = symbol + ' – analyst consensus';
  const range = new URLSearchParams(location.search).get('range');
  if (range && chartEvery[range]) document.getElementById('range').value = range;
  if (new URLSearchParams(location.search).get('adjusted') === 'false') document.getElementById('adjusted').value = 'false';
  wireTopSwitch();
  wirePoint('instrument-when', 'as-of', 'known-at', inst, loadInstrument, () => {
    const r = document.getElementById('range').value;
    return { range: r !== '6' ? r : '', adjusted: asPublished() ? 'false' : '', top: topN() };
  });
  document.getElementById('print').addEventListener('click', () => window.print());
  document.getElementById('status-filter').addEventListener('change', drawExplain);
  sortable('#explain', inst, drawExplain);
  for (const id of ['log-section', 'feed-section']) {
    document.getElementById(id).addEventListener('toggle', (e) => {
      if (e.target.open) loadLog().catch((err) => showError(err));
    });
  }
  document.getElementById('diff-form').addEventListener('submit', (e) => {
    e.preventDefault();
    loadDiff().catch((err) => showError(err));
  });
  window.addEventListener('hashchange', () => { if (location.hash.startsWith('#event-')) goToEvent().catch((err) => showError(err)); });
  for (const img of document.querySelectorAll('.chart img')) {
    img.addEventListener('pointermove', (e) => readAt(img, e.clientX));
    img.addEventListener('pointerdown', (e) => readAt(img, e.clientX));
  }
  document.getElementById('export-explain').addEventListener('click', () => {
    const rows = explainShown().map((e) => Object.assign({ instrument: symbol, as_of: inst.answer.as_of, known_at: inst.answer.known_at }, e));
    download(symbol + '-analysts.csv', csv(['instrument', 'as_of', 'known_at', 'analyst', 'firm', 'rating', 'broker_rating', 'target',
      'target_factor', 'adjusted_target', 'rating_event_id', 'target_event_id', 'rating_action', 'target_action', 'last_active', 'status', 'reason', 'notes'], rows), 'text/csv');
  });
  document.getElementById('export-history').addEventListener('click', async () => {
    try {
      const rows = await getJSON('/instruments/' + encodeURIComponent(symbol) + '/history?' + dailyQuery(inst.answer));
      download(symbol + '-history-daily.csv', csv(consensusColumns.concat(rows.some((r) => 'restated' in r) ? ['restated'] : []), rows), 'text/csv');
    } catch (err) { showError(err); }
  });
  loadInstrument();
  follow(symbol, debounce(loadInstrument, 500));
}

// ---- Analysts ----------------------------------------------------------------

// pointQuery is the point in time of q alone (as_of and known_at), the
// part of an address another page shows the same moment with.
function pointQuery(q) {
  const p = new URLSearchParams();
  for (const key of ['as_of', 'known_at']) if (q && q.has(key)) p.set(key, q.get(key));
  return p;
}

// analystLink names an analyst and links to the analyst's page at the point
// in time q holds, so the track record shown is the one known then.
function analystLink(id, q, className) {
  if (!id) return '–';
  const p = queryText(pointQuery(q));
  return element('a', { href: '/analysts/' + encodeURIComponent(id) + (p ? '?' + p : ''), className: className || 'analyst' }, id);
}

// topN is the N of the instrument page's "top analysts" switch, as typed
// (the API reads and refuses it), or '' while the switch is off. Its box,
// like the ranking's min_closed, is a text box: a number box would empty
// top=abc from an address, and the page would show an answer its address
// does not ask for instead of the API's refusal.
function topN() {
  return document.getElementById('top-on').checked ? document.getElementById('top-n').value.trim() : '';
}

function withTop(p) {
  const n = topN();
  if (n) p.set('top', n);
  return p;
}

function topText(c) {
  return c.top ? ' · only the top ' + c.top.n + ' analysts' : '';
}

// drawTopLine says whose ratings a top-N answer counts: the cut as of the
// answer's date, each name linking to the analyst's page.
function drawTopLine(c) {
  const el = document.getElementById('top-line');
  el.hidden = !c.top;
  if (!c.top) return el.replaceChildren();
  const t = c.top;
  el.replaceChildren('Counting only the top ' + t.n + ' analysts by success rate as of ' + readable(t.as_of) + ': ' +
    count(t.ranked) + (t.ranked === '1' ? ' analyst' : ' analysts') + ' had at least 5 scored rating calls then' +
    (t.analysts.length ? ', and the cut is ' : ', so no analyst counts.'));
  t.analysts.forEach((a, i) => {
    el.append(i ? ', ' : '', analystLink(a.analyst, inst.q), ' (' + figure(a.success_rate) + ' % of ' + count(a.scored_rating_calls) + ')');
  });
  if (t.analysts.length) el.append('. The others show as “not top” below.');
}

// wireTopSwitch reads top=N from the address. A top-N history cannot be
// shown as first published (the API refuses the pair), so turning one on
// turns the other off.
function wireTopSwitch() {
  const on = document.getElementById('top-on');
  const firstPublished = document.getElementById('first-published');
  const top = new URLSearchParams(location.search).get('top');
  if (top !== null) {
    on.checked = true;
    document.getElementById('top-n').value = top;
  }
  on.addEventListener('change', () => { if (on.checked) firstPublished.checked = false; });
  firstPublished.addEventListener('change', () => { if (firstPublished.checked) on.checked = false; });
}

const trackRecordColumns = ['analyst', 'firm', 'calls', 'closed', 'scored_rating_calls', 'success_rate', 'avg_return_pct',
  'scored_target_calls', 'accuracy', 'avg_error_pct'];
const callColumns = ['instrument', 'currency', 'analyst', 'firm', 'event_id', 'type', 'rating', 'start', 'end', 'closed',
  'p0', 'p1', 'target', 'target_adjusted', 'met_at_end', 'met_within', 'error_pct', 'return_pct'];

// pointLine says which moment a page without a figure of its own shows:
// the address's as_of and known_at, or now.
function pointLine(q, asOf) {
  const when = q.has('as_of') ? 'As of ' + readable(asOf || q.get('as_of')) : 'As of now' + (asOf ? ' (' + readable(asOf) + ')' : '');
  return when + ' · ' + (q.has('known_at') ? 'as known at ' + readable(q.get('known_at')) : 'as known now');
}

// percentNote shows a score in %, '–' when nothing was scored.
function percentNote(value) {
  return value === null ? '–' : figure(value) + ' %';
}

// The ranking.

const ranking = { seq: 0, rows: [], q: null, key: 'position', ascending: true };

function rankingFilters(p) {
  const rank = document.getElementById('rank').value;
  const minClosed = document.getElementById('min-closed').value.trim();
  const firm = document.getElementById('firm').value.trim();
  if (rank !== 'success') p.set('rank', rank);
  if (minClosed) p.set('min_closed', minClosed);
  if (firm) p.set('firm', firm);
  return p;
}

async function loadRanking() {
  const seq = ++ranking.seq;
  const ask = (q) => getJSON('/analysts?' + rankingFilters(new URLSearchParams(q)));
  try {
    const r = await resolvePoint(ranking.point, ask, () => null);
    const rows = r.answer || await ask(r.q);
    if (seq !== ranking.seq) return;
    ranking.rows = rows.map((row, i) => Object.assign({ position: String(i + 1) }, row));
    ranking.q = r.q;
    showError(null, ['ranking-body']);
    showNote('ranking-note', r.notes.join(' '));
    setText('ranking-when-line', pointLine(r.q) + ' · ranked by ' + document.getElementById('rank').selectedOptions[0].textContent);
    fillPicker('ranking-as-of', r.q.get('as_of'));
    fillPicker('ranking-known-at', r.capped ? ranking.point.knownAt : r.q.get('known_at'));
  } catch (err) {
    if (seq !== ranking.seq) return;
    ranking.rows = [];
    setText('ranking-when-line', '');
    showNote('ranking-note', '');
    showError(err, ['ranking-body']);
    return;
  }
  drawRanking();
}

function rankingShown() {
  return ranking.rows.slice().sort(compareBy(ranking.key, ranking.ascending));
}

function drawRanking() {
  const shown = rankingShown();
  document.querySelector('#ranking-table tbody').replaceChildren(...shown.map((r) => element('tr', {},
    cell('#', { className: 'num' }, r.position),
    cell('Analyst', {}, analystLink(r.analyst, ranking.q, 'who'), r.firm ? element('div', { className: 'note' }, r.firm) : null),
    cell('Calls', { className: 'num' }, count(r.calls)),
    cell('Closed', { className: 'num' }, count(r.closed)),
    cell('Success %', { className: 'num', title: 'over ' + r.scored_rating_calls + ' scored rating calls' }, figure(r.success_rate),
      element('small', { className: 'date' }, 'of ' + count(r.scored_rating_calls))),
    cell('Avg return %', { className: 'num' }, figure(r.avg_return_pct)),
    cell('Accuracy %', { className: 'num', title: 'over ' + r.scored_target_calls + ' scored target calls' }, figure(r.accuracy),
      element('small', { className: 'date' }, 'of ' + count(r.scored_target_calls))),
    cell('Avg error %', { className: 'num' }, figure(r.avg_error_pct)))));
  setText('ranking-count', shown.length + (shown.length === 1 ? ' analyst' : ' analysts'));
  document.getElementById('ranking-empty').hidden = shown.length > 0;
  sortMarks('#ranking-table', ranking);
}

// sortMarks shows which column a table is sorted by.
function sortMarks(table, state) {
  for (const th of document.querySelectorAll(table + ' th[data-key]')) {
    th.setAttribute('aria-sort', th.dataset.key === state.key ? (state.ascending ? 'ascending' : 'descending') : 'none');
  }
}

// sortable makes a table's headers sort it: a second click turns the order.
function sortable(table, state, draw) {
  for (const th of document.querySelectorAll(table + ' th[data-key]')) {
    th.querySelector('button').addEventListener('click', () => {
      state.ascending = state.key === th.dataset.key ? !state.ascending : true;
      state.key = th.dataset.key;
      draw();
    });
  }
}

function startRanking() {
  document.getElementById('ranking').hidden = false;
  document.title = 'Analysts – analyst consensus';
  const params = new URLSearchParams(location.search);
  // The address's filters go to the API as given: it refuses what it
  // cannot read, naming the field, rather than the page guessing.
  const rank = params.get('rank');
  if (rank !== null) {
    const select = document.getElementById('rank');
    if (![...select.options].some((o) => o.value === rank)) select.append(element('option', { value: rank }, rank));
    select.value = rank;
  }
  document.getElementById('min-closed').value = params.get('min_closed') ?? '';
  document.getElementById('firm').value = params.get('firm') ?? '';
  sortable('#ranking-table', ranking, drawRanking);
  wirePoint('ranking-when', 'ranking-as-of', 'ranking-known-at', ranking, loadRanking,
    () => Object.fromEntries(rankingFilters(new URLSearchParams())));
  document.getElementById('export-ranking').addEventListener('click', () => {
    download('analysts.csv', csv(['position'].concat(trackRecordColumns), rankingShown()), 'text/csv');
  });
  loadRanking();
  follow('', debounce(loadRanking, 500));
}

// One analyst.

const an = { seq: 0, id: '', point: null, q: null, report: null, key: 'start', ascending: false };

// maxAnalystCharts bounds the charts an analyst page draws (one history
// request each): the instruments with the most calls first.
const maxAnalystCharts = 12;

async function loadAnalyst() {
  const path = '/analysts/' + encodeURIComponent(an.id);
  const card = document.getElementById('analyst-card');
  card.dataset.state = 'loading';
  const seq = ++an.seq;
  const current = () => { if (seq !== an.seq) throw superseded; };
  try {
    const ask = (q) => getJSON(path + (q.toString() ? '?' + q : ''));
    const r = await resolvePoint(an.point, ask, () => null);
    const report = r.answer || await ask(r.q);
    current();
    an.report = report;
    an.q = r.q;
    showError(null, ['analyst-body', 'analyst-when']);
    showNote('analyst-note', r.notes.join(' '));
    fillPicker('analyst-as-of', r.q.get('as_of'));
    fillPicker('analyst-known-at', r.capped ? an.point.knownAt : r.q.get('known_at'));
    drawAnalystCard(report, r);
    const instruments = [...new Set(report.calls.map((c) => c.instrument))].sort();
    const select = document.getElementById('calls-filter');
    const chosen = select.value;
    select.replaceChildren(element('option', { value: '' }, 'all'), ...instruments.map((i) => element('option', { value: i }, i)));
    select.value = instruments.includes(chosen) ? chosen : '';
    drawCalls();
    await drawAnalystCharts(report, r.q, current);
  } catch (err) {
    if (err === superseded || seq !== an.seq) return;
    card.dataset.state = 'error';
    showNote('analyst-note', '');
    showError(err, err.status === 404 ? ['analyst-body', 'analyst-when'] : ['analyst-body']);
  }
}

function drawAnalystCard(report, r) {
  const s = report.summary;
  setText('analyst-firm', s.firm);
  setText('analyst-card-when', pointLine(r.q, report.as_of));
  setText('analyst-calls', count(s.calls));
  setText('analyst-closed', count(s.closed));
  setFigure('analyst-success', percentNote(s.success_rate), 'of ' + count(s.scored_rating_calls) + ' scored ratings', s.success_rate);
  setFigure('analyst-return', percentNote(s.avg_return_pct), '', s.avg_return_pct);
  setFigure('analyst-accuracy', percentNote(s.accuracy), 'of ' + count(s.scored_target_calls) + ' scored targets', s.accuracy);
  setFigure('analyst-error', percentNote(s.avg_error_pct), '', s.avg_error_pct);
  const card = document.getElementById('analyst-card');
  card.dataset.asOf = report.as_of;
  card.dataset.knownAt = report.known_at;
  card.dataset.state = 'ready';
}

function callsShown() {
  const instrument = document.getElementById('calls-filter').value;
  const rows = an.report.calls.filter((c) => !instrument || c.instrument === instrument);
  // Times sort as times (their texts drop trailing zeros, so they do not
  // sort as text); the rest as the other tables do.
  const byTime = (a, b) => (an.ascending ? 1 : -1) * compareTimes(parseTime(a.start), parseTime(b.start));
  return rows.sort(an.key === 'start' ? byTime : compareBy(an.key, an.ascending));
}

// yesNo shows a scored yes/no, '–' when the call was not scored.
function yesNo(v) {
  return v === null || v === undefined ? '–' : v ? 'yes' : 'no';
}

function drawCalls() {
  const shown = callsShown();
  const point = pointQuery(an.q);
  document.querySelector('#calls tbody').replaceChildren(...shown.map((c) => {
    const ccy = c.currency;
    // The instrument as the consensus stood the day the call was made.
    const q = new URLSearchParams(point);
    q.set('as_of', linkTime(parseTime(c.start)));
    const what = c.type === 'rating' ? c.rating + ' rating' + (c.target === null ? '' : ' with a target') : 'target revised';
    const target = cell('Target', { className: 'num', title: c.target === null ? '' : 'published ' + c.target + ' ' + ccy + ', ' + c.target_adjusted + ' adjusted' },
      c.target_adjusted === null ? '–' : money(c.target_adjusted, ccy) + ' ' + ccy);
    if (c.target !== null && c.target !== c.target_adjusted) target.append(element('small', { className: 'date' }, 'published ' + money(c.target, ccy)));
    return element('tr', { className: c.closed ? 'closed' : 'open' },
      cell('Instrument', {}, element('a', { href: '/instruments/' + encodeURIComponent(c.instrument) + '?' + queryText(q) }, c.instrument), ' ',
        element('span', { className: 'muted' }, ccy)),
      cell('Made', {}, shortDay(c.start), element('small', { className: 'date' }, c.closed ? 'closed ' + shortDay(c.end) : 'open until ' + shortDay(c.end))),
      cell('Call', {}, what, element('div', { className: 'note' }, eventLinkOn(c))),
      cell('Close then', { className: 'num' }, money(c.p0, ccy)),
      target,
      cell('Close a year on', { className: 'num' }, money(c.p1, ccy)),
      cell('Return %', { className: 'num' }, figure(c.return_pct)),
      cell('Target met', {}, c.met_within === null ? '–' : yesNo(c.met_within) + ' within the year, ' + yesNo(c.met_at_end) + ' at its end'),
      cell('Error %', { className: 'num' }, figure(c.error_pct)));
  }));
  setText('calls-count', 'Showing ' + shown.length + ' of ' + an.report.calls.length + ' calls');
  sortMarks('#calls', an);
}

// eventLinkOn links a call's event in its instrument's event log.
function eventLinkOn(c) {
  const q = queryText(pointQuery(an.q));
  return element('a', { href: '/instruments/' + encodeURIComponent(c.instrument) + (q ? '?' + q : '') + '#event-' + c.event_id,
    className: 'id', title: c.event_id }, c.event_id.slice(0, 8));
}

// historyEvery is the period of an analyst chart's closes: days up to
// about a year and a half, weeks up to eight years, months beyond, so no
// chart asks for more than about 550 rows.
function historyEvery(from, to) {
  const days = (to.sec - from.sec) / 86400;
  return days <= 550 ? 'day' : days <= 8 * 366 ? 'week' : 'month';
}

// drawAnalystCharts draws, per instrument, the analyst's targets against
// the closes. The closes are a history to the analyst page's as_of, whose
// one basis is that as_of (CONTRACT section 7): the basis the calls'
// adjusted targets are on.
async function drawAnalystCharts(report, q, current) {
  const box = document.getElementById('analyst-charts');
  const by = new Map();
  for (const c of report.calls) if (c.target_adjusted !== null) (by.get(c.instrument) || by.set(c.instrument, []).get(c.instrument)).push(c);
  const instruments = [...by.keys()].sort((a, b) => by.get(b).length - by.get(a).length || (a < b ? -1 : 1)).slice(0, maxAnalystCharts);
  showNote('analyst-charts-note', by.size > maxAnalystCharts ? 'Charts for the ' + maxAnalystCharts + ' instruments with the most targets, of ' + by.size +
    '; the calls table lists every call.' : by.size ? '' : 'No call of this analyst has a target.');
  const to = parseTime(report.as_of);
  const histories = await Promise.all(instruments.map((symbol) => {
    const first = by.get(symbol).reduce((m, c) => (compareTimes(parseTime(c.start), m) < 0 ? parseTime(c.start) : m), to);
    const from = shiftBack(first, 30, 0);
    const p = new URLSearchParams({ from: linkTime(from), to: rfc3339(to), every: historyEvery(from, to) });
    if (q.has('known_at')) p.set('known_at', q.get('known_at'));
    return getJSON('/instruments/' + encodeURIComponent(symbol) + '/history?' + p);
  }));
  current();
  box.replaceChildren();
  instruments.forEach((symbol, i) => {
    const fig = element('figure', { className: 'chart small' },
      element('figcaption', {}, symbol + ' (' + by.get(symbol)[0].currency + '): ' + by.get(symbol).length + ' targets against the close'));
    box.append(fig); // placed first, so it is drawn at the width it is shown at
    fig.append(targetsChart(symbol, by.get(symbol), histories[i], to, Math.max(280, Math.min(620, fig.clientWidth - 16))));
  });
}

const svgNS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs, ...children) {
  const el = document.createElementNS(svgNS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c);
  return el;
}

// targetsChart draws one instrument's closes and the analyst's targets on
// it. Positions are computed in floating point, which only places marks;
// every figure written on the chart is the API's exact text, rounded.
function targetsChart(symbol, calls, rows, asOf, width) {
  const height = Math.round(Math.max(180, width * 0.42));
  const pad = { left: 64, right: 12, top: 12, bottom: 26 };
  // Each close once, where it was recorded: a history row carries the
  // latest close forward, which would draw closes that never were.
  const closes = [];
  for (const r of rows) {
    if (r.close !== null && (!closes.length || closes[closes.length - 1].close_at !== r.close_at)) closes.push(r);
  }
  const ccy = calls[0].currency;
  const values = closes.map((r) => r.close).concat(calls.map((c) => c.target_adjusted));
  let low = values[0];
  let high = values[0];
  for (const v of values) {
    if (Number(v) < Number(low)) low = v;
    if (Number(v) > Number(high)) high = v;
  }
  const t0 = parseTime(rows.length ? rows[0].as_of : calls[0].start).sec;
  const t1 = asOf.sec;
  const x = (t) => pad.left + (width - pad.left - pad.right) * ((Math.min(Math.max(t.sec, t0), t1) - t0) / (t1 - t0 || 1));
  const span = Number(high) - Number(low) || Math.abs(Number(high)) || 1;
  const y = (v) => pad.top + (height - pad.top - pad.bottom) * (1 - (Number(v) - Number(low)) / span);
  const met = (c) => (c.met_within === null ? 'open' : c.met_within ? 'met' : 'missed');
  const tally = { met: 0, missed: 0, open: 0 };
  for (const c of calls) tally[met(c)]++;
  const el = svg('svg', { width, height, viewBox: '0 0 ' + width + ' ' + height, role: 'img', class: 'targets' },
    svg('title', {}, symbol + ': targets of ' + calls[0].analyst + ' against the close (' + ccy + ')'),
    svg('desc', {}, calls.length + ' targets: ' + tally.met + ' met within the year, ' + tally.missed + ' missed, ' + tally.open + ' still open; ' +
      closes.length + ' closes from ' + (closes.length ? shortDay(closes[0].close_at) + ' to ' + shortDay(closes[closes.length - 1].close_at) : 'none')));
  const axis = (v) => svg('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, money(v, ccy));
  el.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(high), y2: y(high), class: 'grid' }),
    svg('line', { x1: pad.left, x2: width - pad.right, y1: y(low), y2: y(low), class: 'grid' }), axis(high), axis(low),
    svg('text', { x: pad.left, y: height - 8, class: 'axis' }, shortDay(rows.length ? rows[0].as_of : calls[0].start)),
    svg('text', { x: width - pad.right, y: height - 8, 'text-anchor': 'end', class: 'axis' }, shortDay(rfc3339(asOf))));
  if (closes.length) {
    el.append(svg('polyline', { class: 'close', points: closes.map((r) => x(parseTime(r.close_at)).toFixed(1) + ',' + y(r.close).toFixed(1)).join(' ') }));
  }
  for (const c of calls) {
    const start = parseTime(c.start);
    const end = parseTime(c.end);
    const label = shortDay(c.start) + ': target ' + money(c.target_adjusted, ccy) + ' ' + ccy + ', ' +
      (c.met_within === null ? (c.closed ? 'not scored' : 'open until ' + shortDay(c.end)) : c.met_within ? 'met within the year' : 'not met within the year');
    el.append(svg('g', { class: 'call ' + met(c) },
      svg('title', {}, label),
      svg('line', { x1: x(start), x2: x(end), y1: y(c.target_adjusted), y2: y(c.target_adjusted) }),
      svg('circle', { cx: x(start), cy: y(c.target_adjusted), r: 3.5 })));
  }
  return el;
}

function startAnalyst(id) {
  an.id = id;
  document.getElementById('analyst').hidden = false;
  setText('analyst-id', id);
  document.title = id + ' – analyst track record';
  wirePoint('analyst-when', 'analyst-as-of', 'analyst-known-at', an, loadAnalyst);
  sortable('#calls', an, drawCalls);
  document.getElementById('calls-filter').addEventListener('change', drawCalls);
  document.getElementById('export-calls').addEventListener('click', () => {
    const rows = callsShown().map((c) => Object.assign({ as_of: an.report.as_of, known_at: an.report.known_at }, c));
    download(id + '-calls.csv', csv(['as_of', 'known_at'].concat(callColumns), rows), 'text/csv');
  });
  loadAnalyst();
  follow('', debounce(loadAnalyst, 500));
}

// ---- A firm's disclosures -------------------------------------------------------

// startDisclosures shows /firms/{firm}: the API's disclosures answer as
// two tables, and links to the same answer as PDF and CSV. The links are
// fetched with the token (when the server asks for one) and saved.
async function startDisclosures(firm) {
  const section = document.getElementById('disclosures');
  section.hidden = false;
  setText('firm-name', firm);
  document.title = 'Disclosures: ' + firm;
  const params = new URLSearchParams(location.search);
  const q = new URLSearchParams();
  for (const name of ['as_of', 'known_at', 'months', 'window']) if (params.has(name)) q.set(name, params.get(name));
  const base = '/firms/' + encodeURIComponent(firm) + '/disclosures';
  const query = (format) => {
    const f = new URLSearchParams(q);
    if (format) f.set('format', format);
    const text = f.toString();
    return base + (text ? '?' + text : '');
  };
  for (const [id, format, type] of [['disclosures-pdf', 'pdf', 'application/pdf'], ['disclosures-csv', 'csv', 'text/csv']]) {
    const link = document.getElementById(id);
    link.href = api + query(format);
    link.addEventListener('click', async (ev) => {
      ev.preventDefault();
      try {
        const blob = await (await request(query(format))).blob();
        download('disclosures.' + format, blob, type);
      } catch (err) { showError(err); }
    });
  }
  let rep;
  try {
    rep = await getJSON(query(''));
  } catch (err) {
    showError(err, ['disclosures']);
    return;
  }
  setText('disclosures-when', 'As of ' + readable(rep.as_of) + ', as known at ' + readable(rep.known_at) +
    '; recommendations of the ' + rep.months + ' months to that date.');
  const d = rep.distribution;
  document.querySelector('#distribution tbody').replaceChildren(...['buy', 'hold', 'sell'].map((b) => element('tr', {},
    element('td', {}, b), element('td', { className: 'num' }, String(d[b])),
    element('td', { className: 'num' }, d[b + '_pct'] === null ? '–' : String(d[b + '_pct']) + ' %'))));
  const dash = (v) => (v === null || v === undefined ? '–' : String(v));
  document.querySelector('#recommendations tbody').replaceChildren(...rep.recommendations.map((r) => element('tr', {},
    element('td', {}, shortDay(r.effective_at)),
    element('td', {}, element('a', { href: '/instruments/' + encodeURIComponent(r.instrument) }, r.instrument)),
    element('td', {}, analystLink(r.analyst, q)),
    element('td', {}, r.rating === null ? '–' : r.rating + (r.broker_rating && r.broker_rating !== r.rating ? ' (' + r.broker_rating + ')' : '')),
    element('td', {}, dash(r.rating_action)),
    element('td', { className: 'num' }, r.target === null ? '–' : r.target + ' ' + r.currency),
    element('td', {}, dash(r.target_action)),
    element('td', { className: 'num' }, dash(r.close_at_publication)),
    element('td', { className: 'num' }, dash(r.close_as_of)))));
}

// ---- Start -------------------------------------------------------------------

function start() {
  wireToken();
  const match = location.pathname.match(/^\/instruments\/([^/]+)$/);
  const analyst = location.pathname.match(/^\/analysts\/([^/]+)$/);
  const firm = location.pathname.match(/^\/firms\/([^/]+)$/);
  if (match) startInstrument(decodeURIComponent(match[1]).toUpperCase());
  else if (analyst) startAnalyst(decodeURIComponent(analyst[1]));
  else if (/^\/analysts\/?$/.test(location.pathname)) startRanking();
  else if (firm) startDisclosures(decodeURIComponent(firm[1]));
  else startOverview();
}

start();
