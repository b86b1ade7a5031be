// The web page of `consensus serve`: an overview of every instrument and a
// page per instrument, drawn from the JSON API under /api/v1 and the charts
// the server renders. No framework and no build step: the file is embedded
// in the binary as it stands.
'use strict';

const api = '/api/v1';

// ---- Talking to the API -------------------------------------------------

// The token, when the server asks for one, is kept for this browser tab only.
function authHeaders() {
  const token = sessionStorage.getItem('consensus-token');
  return token ? { Authorization: 'Bearer ' + token } : {};
}

// parseExact reads JSON keeping every number as the exact text the server
// wrote (165.69 stays "165.69"), so figures are shown digit for digit and
// never pass through binary floating point.
function parseExact(text) {
  return JSON.parse(text, (key, value, context) =>
    typeof value === 'number' ? (context && context.source) || String(value) : value);
}

async function request(path, attempt = 0) {
  const res = await fetch(api + path, { headers: authHeaders() });
  if (res.status === 401) {
    await askForToken();
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
    try { message = parseExact(await res.text()).error || message; } catch (e) { /* not JSON */ }
    throw new Error(message);
  }
  return res;
}

async function getJSON(path) {
  return parseExact(await (await request(path)).text());
}

function askForToken() {
  const dialog = document.getElementById('token-dialog');
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      sessionStorage.setItem('consensus-token', document.getElementById('token-input').value.trim());
      resolve();
    }, { once: true });
    if (!dialog.open) dialog.showModal();
  });
}

// Shows a chart: fetched with the token (an <img src> could not send it)
// and handed to the image as a blob, which cannot run scripts.
async function showChart(img, path) {
  const blob = await (await request(path)).blob();
  const old = img.src;
  img.src = URL.createObjectURL(blob);
  if (old.startsWith('blob:')) URL.revokeObjectURL(old);
}

// ---- Live updates ------------------------------------------------------

// follow reads the server-sent event stream with fetch (EventSource cannot
// send a token) and calls onEvent for each event; it reconnects with the
// last event id, so no event is missed.
async function follow(instrument, onEvent) {
  const live = document.getElementById('live');
  let lastId = '';
  for (;;) {
    try {
      const headers = authHeaders();
      if (lastId) headers['Last-Event-ID'] = lastId;
      const query = instrument ? '?instrument=' + encodeURIComponent(instrument) : '';
      const res = await fetch(api + '/events/stream' + query, { headers });
      if (!res.ok || !res.body) throw new Error('stream ' + res.status);
      live.dataset.live = 'on';
      live.title = 'Live: new events update this page';
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
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
    live.dataset.live = 'off';
    live.title = 'Live updates are off; reconnecting';
    await new Promise((r) => setTimeout(r, 3000));
  }
}

// debounce runs fn once events stop arriving for a moment, so an import of
// thousands of events reloads the page once, not thousands of times.
function debounce(fn, ms) {
  let timer = 0;
  return () => { clearTimeout(timer); timer = setTimeout(fn, ms); };
}

// ---- Formatting -------------------------------------------------------------

// figure shows an exact decimal with at least two decimals, as the command
// line does (165 becomes 165.00); padding with zeros changes no value.
function figure(text) {
  if (text === null || text === undefined) return '–';
  const [whole, frac = ''] = String(text).split('.');
  return whole + '.' + frac.padEnd(2, '0');
}

function day(text) {
  return text ? String(text).slice(0, 10) : '–';
}

function element(tag, props, ...children) {
  const el = document.createElement(tag);
  Object.assign(el, props);
  for (const c of children) el.append(c);
  return el;
}

function setText(id, text) {
  document.getElementById(id).textContent = text;
}

// setFigure shows a figure with a smaller note after it (a currency, a date).
function setFigure(id, text, note) {
  const el = document.getElementById(id);
  el.replaceChildren(text);
  if (note) el.append(' ', element('small', {}, note));
}

function showError(err) {
  const box = document.getElementById('error');
  box.textContent = err ? err.message || String(err) : '';
  box.hidden = !err;
}

// labelClass is the CSS class of a consensus label's badge.
function labelClass(label) {
  return 'badge ' + String(label || '').toLowerCase().replace(/\s+/g, '-');
}

// ---- The point in time -------------------------------------------------------

// The pickers and the address bar hold the same state, so a page can be
// bookmarked or shared as it is shown.
function readPoint(asOfId, knownAtId) {
  const params = new URLSearchParams(location.search);
  const asOf = document.getElementById(asOfId);
  const knownAt = document.getElementById(knownAtId);
  asOf.value = params.get('as_of') || '';
  knownAt.value = params.get('known_at') || '';
}

function pointQuery(asOfId, knownAtId) {
  const q = new URLSearchParams();
  const asOf = document.getElementById(asOfId).value;
  const knownAt = document.getElementById(knownAtId).value;
  if (asOf) q.set('as_of', asOf);
  if (knownAt) q.set('known_at', knownAt);
  return q;
}

function keepInAddress(q) {
  const s = q.toString();
  history.replaceState(null, '', location.pathname + (s ? '?' + s : ''));
}

function wireClearButtons() {
  for (const button of document.querySelectorAll('button[data-clear]')) {
    button.addEventListener('click', () => {
      for (const id of button.dataset.clear.split(' ')) document.getElementById(id).value = '';
      document.getElementById(button.dataset.clear.split(' ')[0]).dispatchEvent(new Event('change', { bubbles: true }));
    });
  }
}

// ---- The overview ------------------------------------------------------------

const overview = { rows: [], key: 'instrument', ascending: true };

async function loadOverview() {
  const q = pointQuery('overview-as-of', 'overview-known-at');
  keepInAddress(q);
  try {
    overview.rows = await getJSON('/consensus' + (q.toString() ? '?' + q : ''));
    showError(null);
  } catch (err) {
    showError(err);
    return;
  }
  drawOverview();
}

// Labels sort from the most bullish to the most bearish, not alphabetically.
const labelRank = { 'Strong Buy': 1, 'Moderate Buy': 2, 'Hold': 3, 'Moderate Sell': 4, 'Strong Sell': 5, 'No Consensus': 6 };

function compareRows(a, b) {
  const value = (row) => (overview.key === 'label' ? labelRank[row.label] : row[overview.key]);
  const x = value(a);
  const y = value(b);
  if (x === null || x === undefined) return 1; // absent figures sort last
  if (y === null || y === undefined) return -1;
  const nx = Number(x);
  const ny = Number(y);
  // Ordering is the one place a figure's value is read as a number; it is
  // never printed from that number.
  const order = Number.isNaN(nx) || Number.isNaN(ny) ? String(x).localeCompare(String(y)) : nx - ny;
  return overview.ascending ? order : -order;
}

function drawOverview() {
  const body = document.querySelector('#overview-table tbody');
  const q = pointQuery('overview-as-of', 'overview-known-at').toString();
  body.replaceChildren(...[...overview.rows].sort(compareRows).map((r) => {
    const link = element('a', { href: '/instruments/' + encodeURIComponent(r.instrument) + (q ? '?' + q : '') }, r.instrument);
    return element('tr', {},
      element('td', {}, link, ' ', element('span', { className: 'muted' }, r.currency)),
      element('td', {}, element('span', { className: labelClass(r.label) }, r.label)),
      element('td', { className: 'num' }, r.analysts),
      element('td', { className: 'num' }, r.buy),
      element('td', { className: 'num' }, r.hold),
      element('td', { className: 'num' }, r.sell),
      element('td', { className: 'num' }, figure(r.mean_target)),
      element('td', { className: 'num' }, figure(r.close)),
      element('td', { className: 'num' }, figure(r.upside_pct)));
  }));
  document.getElementById('overview-empty').hidden = overview.rows.length > 0;
  for (const th of document.querySelectorAll('#overview-table th')) {
    th.setAttribute('aria-sort', th.dataset.key === overview.key ? (overview.ascending ? 'ascending' : 'descending') : 'none');
  }
}

function startOverview() {
  document.getElementById('overview').hidden = false;
  readPoint('overview-as-of', 'overview-known-at');
  for (const th of document.querySelectorAll('#overview-table th')) {
    th.querySelector('button').addEventListener('click', () => {
      overview.ascending = overview.key === th.dataset.key ? !overview.ascending : true;
      overview.key = th.dataset.key;
      drawOverview();
    });
  }
  document.getElementById('overview-when').addEventListener('change', loadOverview);
  loadOverview();
  follow('', debounce(loadOverview, 500));
}

// ---- An instrument -----------------------------------------------------------

function todayUTC() {
  return new Date().toISOString().slice(0, 10);
}

function monthsBefore(date, months) {
  const d = new Date(date + 'T00:00:00Z');
  d.setUTCMonth(d.getUTCMonth() - months);
  return d.toISOString().slice(0, 10);
}

function drawCard(c) {
  const card = document.getElementById('card');
  setText('currency', c.currency);
  const badge = document.getElementById('card-label');
  badge.textContent = c.label;
  badge.className = labelClass(c.label);
  setText('card-when', 'As of ' + c.as_of + ', as known at ' + c.known_at +
    (Number(c.window_days) > 0 ? ', ' + c.window_days + '-day window' : ', no expiry'));
  setText('card-analysts', c.analysts);
  setText('card-buy', c.buy);
  setText('card-hold', c.hold);
  setText('card-sell', c.sell);
  setText('card-mean-rating', c.mean_rating === null ? '–' : figure(c.mean_rating));
  setFigure('card-mean-target', figure(c.mean_target), c.mean_target === null ? '' : c.currency);
  setText('card-median-target', figure(c.median_target));
  setText('card-high-low', c.high_target === null ? '–' : figure(c.high_target) + ' / ' + figure(c.low_target));
  setText('card-stddev-target', figure(c.stddev_target));
  setFigure('card-close', figure(c.close), c.close === null ? '' : 'on ' + day(c.close_at));
  setFigure('card-upside', figure(c.upside_pct), c.upside_pct === null ? '' : '%');
  card.dataset.asOf = c.as_of;
  card.dataset.state = 'ready';
}

function eventCell(id) {
  return id ? element('td', { className: 'id' }, element('code', {}, id)) : element('td', {}, '–');
}

function drawExplain(list) {
  const body = document.querySelector('#explain tbody');
  body.replaceChildren(...(list || []).map((e) => {
    const why = element('td', {}, e.reason);
    for (const note of e.notes) why.append(element('div', { className: 'note' }, note));
    const rating = e.rating ? e.rating + (e.broker_rating && e.broker_rating !== e.rating ? ' (' + e.broker_rating + ')' : '') : '–';
    return element('tr', { className: 'status-' + e.status },
      element('td', {}, e.analyst),
      element('td', {}, e.firm || '–'),
      element('td', {}, element('span', { className: 'status' }, e.status)),
      element('td', {}, rating),
      element('td', { className: 'num' }, figure(e.target)),
      element('td', {}, day(e.last_active)),
      eventCell(e.rating_event_id),
      eventCell(e.target_event_id),
      why);
  }));
}

async function loadInstrument(symbol) {
  const point = pointQuery('as-of', 'known-at');
  const range = document.getElementById('range').value;
  const address = new URLSearchParams(point);
  if (range !== '6') address.set('range', range);
  keepInAddress(address);

  const card = document.getElementById('card');
  card.dataset.state = 'loading';
  const base = '/instruments/' + encodeURIComponent(symbol);
  const consensus = new URLSearchParams(point);
  consensus.set('explain', 'true');
  const to = point.get('as_of') || todayUTC();
  const chart = new URLSearchParams({ from: monthsBefore(to, Number(range)), to: to });
  if (point.get('known_at')) chart.set('known_at', point.get('known_at'));
  try {
    const c = await getJSON(base + '/consensus?' + consensus);
    drawCard(c);
    drawExplain(c.explain);
    showError(null);
    // Drawn at the width they are shown at, so their text stays legible
    // on a phone rather than shrunk with the picture.
    const targets = document.getElementById('chart-targets');
    const width = Math.round(Math.min(960, Math.max(320, targets.parentElement.clientWidth - 16)));
    const size = (height) => '&width=' + width + '&height=' + height + '&';
    await Promise.all([
      showChart(targets, base + '/chart.svg?panel=targets' + size(Math.max(240, Math.round(width * 0.4))) + chart),
      showChart(document.getElementById('chart-ratings'), base + '/chart.svg?panel=ratings' + size(Math.max(200, Math.round(width * 0.23))) + chart),
    ]);
  } catch (err) {
    card.dataset.state = 'error';
    showError(err);
  }
}

function startInstrument(symbol) {
  document.getElementById('instrument').hidden = false;
  setText('symbol', symbol);
  document.title = symbol + ' – analyst consensus';
  readPoint('as-of', 'known-at');
  const range = new URLSearchParams(location.search).get('range');
  if (range) document.getElementById('range').value = range;
  const reload = () => loadInstrument(symbol);
  document.getElementById('instrument-when').addEventListener('change', reload);
  reload();
  follow(symbol, debounce(reload, 500));
}

// ---- Start -------------------------------------------------------------------

function start() {
  wireClearButtons();
  const match = location.pathname.match(/^\/instruments\/([^/]+)$/);
  if (match) startInstrument(decodeURIComponent(match[1]).toUpperCase());
  else startOverview();
}

start();
