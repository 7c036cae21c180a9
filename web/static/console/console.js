// Parley agent console: plain JavaScript over the agent API (/agent/api/v1),
// no build step and no dependencies.
//
// Everything live comes over one WebSocket (GET stream): "routing" messages
// (the agent's state, offers and chats) and "events" messages (the ordered
// log of each chat, every party's events, each with its per-chat seq). HTTP
// is used for actions and for what the stream does not carry: chat details,
// files, case history, and the transcript of a chat that is no longer live.
// After a disconnect the stream is reopened with ?cursors=chat:seq,… so it
// continues where it stopped; events are also deduplicated by seq here.
//
// Customer-supplied text only ever reaches the page through textContent or
// text nodes (el() below), never innerHTML.

const API = '/agent/api/v1/';
const STORE_KEY = 'parley.console';
const TYPING_IDLE_MS = 4000; // the agent counts as stopped typing after this
const TYPING_STALE_S = 30; // a customer typing event older than this is history

// ---------------------------------------------------------------- state

const S = {
  token: '',
  agent: null,
  routing: { state: 'logged_out', reason: '', offers: [], chats: [] },
  chats: new Map(), // chat id → Chat (see newChat)
  active: '', // chat id of the shown tab
  offers: new Map(), // chat id → { offer, node, timer }
  ws: null,
  wsTry: 0,
  wsTimer: 0,
  wsPaused: false,
  online: false,
  audio: null,
  alerts: 0,
  dupes: 0,
  tick: 0,
  lastCall: null, // the latest call, ended or not (parleyConsole.call)
};

// ---------------------------------------------------------------- helpers

const $ = (sel, root = document) => root.querySelector(sel);

// el builds an element. Strings among the children become text nodes, and
// the "text" property sets textContent: markup in them is never parsed.
function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c != null && c !== false) e.append(c);
  }
  return e;
}

// Icons are drawn here (no icon fonts, no emoji: not every system has them).
const ICONS = {
  clip: 'M20.5 11.5l-8.4 8.4a5 5 0 0 1-7.1-7.1l8.4-8.4a3.3 3.3 0 0 1 4.7 4.7l-8.4 8.4a1.7 1.7 0 0 1-2.4-2.4l7.8-7.8',
  file: 'M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8zM14 3v5h5',
  image: 'M5 4h14a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2zM21 15l-5-5L5 20M8.5 8.5h.01',
  pin: 'M12 21s-7-6.2-7-11.5a7 7 0 0 1 14 0C19 14.8 12 21 12 21zM12 12a2.5 2.5 0 1 0 0-5 2.5 2.5 0 0 0 0 5z',
};

function icon(name) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS(ns, 'path');
  path.setAttribute('d', ICONS[name]);
  svg.append(path);
  return svg;
}

function newId() {
  const b = new Uint8Array(16);
  crypto.getRandomValues(b);
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

function clockTime(ts) {
  const d = ts ? new Date(Number(ts) * 1000) : new Date();
  return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function duration(s) {
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function shortId(id) {
  return id && id.length > 10 ? id.slice(0, 8) + '…' : id || '';
}

class ApiError extends Error {
  constructor(status, code, message) {
    super(message || 'request failed');
    this.status = status;
    this.code = code;
  }
}

// api calls the agent API with the bearer token and returns the decoded
// answer; a 401 on an authenticated call ends the session.
async function api(method, path, body, opts = {}) {
  const headers = {};
  if (S.token && !opts.anonymous) headers.Authorization = 'Bearer ' + S.token;
  let payload;
  if (body instanceof FormData) {
    payload = body;
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(API + path, { method, headers, body: payload, cache: 'no-store' });
  } catch {
    throw new ApiError(0, '', 'The server cannot be reached. Check your connection.');
  }
  if (opts.blob && res.ok) return res.blob();
  let data = {};
  const text = await res.text();
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = {};
    }
  }
  if (!res.ok) {
    if (res.status === 401 && !opts.anonymous && S.token) sessionEnded('Your session has ended. Please sign in again.');
    throw new ApiError(res.status, data.error_code || '', data.error_message || res.statusText);
  }
  return data;
}

function toast(message, kind = 'error') {
  const box = $('#toasts');
  const t = el('div', { class: 'toast toast--' + kind }, message);
  box.append(t);
  setTimeout(() => t.remove(), 6000);
}

function persist() {
  if (!S.token) return;
  const tabs = [...S.chats.keys()];
  sessionStorage.setItem(STORE_KEY, JSON.stringify({ token: S.token, agent: S.agent, tabs, active: S.active }));
}

function restore() {
  try {
    return JSON.parse(sessionStorage.getItem(STORE_KEY) || 'null');
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- sound

// The AudioContext is made on the first gesture: browsers refuse to start
// one before, and the console must not fail where sound is blocked.
function unlockAudio() {
  try {
    if (!S.audio) {
      const AC = window.AudioContext || window.webkitAudioContext;
      if (AC) S.audio = new AC();
    }
    if (S.audio && S.audio.state === 'suspended') S.audio.resume().catch(() => {});
  } catch {
    S.audio = null;
  }
}

function beep() {
  try {
    const ctx = S.audio;
    if (!ctx || ctx.state !== 'running') return;
    const start = ctx.currentTime + 0.01;
    [660, 880].forEach((freq, i) => {
      const t = start + i * 0.16;
      const osc = ctx.createOscillator();
      const gain = ctx.createGain();
      osc.type = 'sine';
      osc.frequency.value = freq;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.18, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.14);
      osc.connect(gain).connect(ctx.destination);
      osc.start(t);
      osc.stop(t + 0.15);
    });
  } catch {
    // No sound is not an error: the offer is shown anyway.
  }
}

// ---------------------------------------------------------------- login

function showLogin(message) {
  $('#console-view').hidden = true;
  $('#login-view').hidden = false;
  const err = $('#login-error');
  err.hidden = !message;
  err.textContent = message || '';
  const last = JSON.parse(localStorage.getItem(STORE_KEY + '.last') || '{}');
  const tenant = $('#login-tenant');
  const user = $('#login-username');
  if (!tenant.value) tenant.value = last.tenant || '';
  if (!user.value) user.value = last.username || '';
  (tenant.value ? (user.value ? $('#login-password') : user) : tenant).focus();
  document.title = 'Sign in · Parley agent console';
}

async function onLogin(e) {
  e.preventDefault();
  unlockAudio();
  const tenant = $('#login-tenant').value.trim();
  const username = $('#login-username').value.trim();
  const password = $('#login-password').value;
  const err = $('#login-error');
  if (!tenant || !username || !password) {
    err.textContent = 'Enter your tenant, username and password.';
    err.hidden = false;
    return;
  }
  const btn = $('#login-submit');
  btn.disabled = true;
  btn.textContent = 'Signing in…';
  try {
    const res = await api('POST', 'login', { tenant, username, password }, { anonymous: true });
    localStorage.setItem(STORE_KEY + '.last', JSON.stringify({ tenant, username }));
    $('#login-password').value = '';
    err.hidden = true;
    S.token = res.token;
    S.agent = res.agent;
    persist();
    startConsole(null, [], '');
  } catch (ex) {
    err.textContent = ex.status === 401 ? 'Wrong tenant, username or password.' : ex.message;
    err.hidden = false;
    $('#login-password').select();
  } finally {
    btn.disabled = false;
    btn.textContent = 'Sign in';
  }
}

async function logout() {
  try {
    await api('POST', 'logout', {});
  } catch {
    // The token is forgotten here either way.
  }
  sessionEnded('');
}

// sessionEnded forgets the login and everything shown with it.
function sessionEnded(message) {
  if (!S.token) return;
  S.token = '';
  S.agent = null;
  sessionStorage.removeItem(STORE_KEY);
  clearTimeout(S.wsTimer);
  if (S.ws) {
    const ws = S.ws;
    S.ws = null;
    ws.close();
  }
  for (const c of [...S.chats.values()]) dropChat(c);
  for (const id of [...S.offers.keys()]) removeOffer(id);
  S.active = '';
  S.routing = { state: 'logged_out', reason: '', offers: [], chats: [] };
  showLogin(message);
}

// ---------------------------------------------------------------- console

async function startConsole(routing, tabs, active) {
  $('#login-view').hidden = true;
  $('#console-view').hidden = false;
  $('#me-name').textContent = agentName(S.agent);
  setConn('connecting');
  renderEmpty();
  // Tabs open before a reload come back first, with their details, so that
  // the stream's replay finds them and knows which party is this agent.
  const restored = tabs.map((id) => ensureChat(id));
  if (active && S.chats.has(active)) activate(active);
  else if (restored.length) activate(restored[0].id);
  if (routing) onRouting(routing);
  await Promise.all(restored.map((c) => loadDetails(c, !routing || !routing.chats.includes(c.id))));
  if (S.token) connect();
}

function agentName(a) {
  if (!a) return '';
  return a.display_name || [a.first_name, a.last_name].filter(Boolean).join(' ') || a.username;
}

function setConn(state, delay) {
  const box = $('#conn');
  box.dataset.state = state;
  $('#conn-text').textContent =
    state === 'online' ? 'Live' : state === 'connecting' ? 'Connecting…' : `Reconnecting${delay ? ' in ' + Math.ceil(delay / 1000) + ' s' : ''}…`;
}

function renderState() {
  const r = S.routing;
  const ready = r.state === 'ready';
  const pill = $('#state-pill');
  pill.dataset.state = r.state;
  pill.classList.toggle('pill--warn', !ready && r.reason === 'missed offer');
  $('#state-text').textContent = ready ? 'Ready' : r.state === 'not_ready' ? 'Not ready' + (r.reason ? ' · ' + r.reason : '') : 'Offline';
  const btn = $('#state-toggle');
  btn.textContent = ready ? 'Go not ready' : 'Go ready';
  btn.classList.toggle('btn--primary', !ready);
  btn.classList.toggle('btn--secondary', ready);
  const sel = $('#state-reason');
  if (!ready && [...sel.options].some((o) => o.value === r.reason)) sel.value = r.reason;
}

async function toggleState() {
  const ready = S.routing.state === 'ready';
  const body = ready ? { state: 'not_ready', reason: $('#state-reason').value } : { state: 'ready' };
  await setState(body);
}

async function setState(body) {
  const btn = $('#state-toggle');
  btn.disabled = true;
  try {
    onRouting(await api('PUT', 'me/state', body));
  } catch (e) {
    toast('Could not change your state: ' + e.message);
  } finally {
    btn.disabled = false;
  }
}

function onReasonChange() {
  if (S.routing.state === 'not_ready') setState({ state: 'not_ready', reason: $('#state-reason').value });
}

function updateTitle() {
  const offers = S.offers.size;
  let unread = 0;
  for (const c of S.chats.values()) unread += c.unacked.size;
  document.title = offers
    ? `(${offers}) New chat offer · Parley`
    : unread
      ? `(${unread}) Parley agent console`
      : 'Parley agent console';
}

// ---------------------------------------------------------------- stream

function connect() {
  clearTimeout(S.wsTimer);
  if (!S.token || S.wsPaused) return;
  const cursors = [...S.chats.values()]
    .filter((c) => c.streamSeq > 0)
    .map((c) => c.id + ':' + c.streamSeq)
    .join(',');
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  let url = `${proto}//${location.host}${API}stream?token=${encodeURIComponent(S.token)}`;
  if (cursors) url += '&cursors=' + encodeURIComponent(cursors);
  const ws = new WebSocket(url);
  S.ws = ws;
  setConn('connecting');
  ws.onmessage = (m) => {
    if (S.ws !== ws) return;
    if (!S.online) {
      S.online = true;
      S.wsTry = 0;
      setConn('online');
    }
    let msg;
    try {
      msg = JSON.parse(m.data);
    } catch {
      return;
    }
    if (msg.type === 'routing' && msg.routing) onRouting(msg.routing);
    else if (msg.type === 'events' && msg.chat_id && Array.isArray(msg.events)) onStreamEvents(msg.chat_id, msg.events);
  };
  ws.onclose = () => {
    if (S.ws !== ws) return;
    S.ws = null;
    S.online = false;
    if (S.token && !S.wsPaused) scheduleReconnect();
  };
}

// scheduleReconnect reopens the stream after an exponential backoff with
// jitter (0.5 s doubling up to 30 s), checking first that the login is still
// valid: a handshake refused for an expired token looks like any drop.
function scheduleReconnect() {
  const delay = Math.min(30000, 500 * 2 ** S.wsTry) * (0.75 + Math.random() * 0.5);
  S.wsTry++;
  setConn('offline', delay);
  S.wsTimer = setTimeout(async () => {
    try {
      const me = await api('GET', 'me');
      onRouting(me.routing);
    } catch (e) {
      if (e.status !== 401) scheduleReconnect();
      return;
    }
    connect();
  }, delay);
}

function onRouting(r) {
  S.routing = { state: r.state, reason: r.reason || '', offers: r.offers || [], chats: r.chats || [] };
  renderState();
  renderOffers();
  const mine = new Set(S.routing.chats);
  for (const id of mine) {
    const c = ensureChat(id);
    if (!c.assigned) {
      c.assigned = true;
      c.wasMine = true;
      c.assignedAt = Date.now();
      renderChatState(c);
    }
  }
  for (const c of S.chats.values()) {
    // A routing message written just before an accept took effect may
    // arrive after it: a chat accepted a moment ago is not given up for it.
    if (c.assigned && !mine.has(c.id) && Date.now() - c.assignedAt > 3000) {
      c.assigned = false;
      // The stream sends a chat's last events before the routing message
      // that drops it; if no end was seen, the chat ended or moved while
      // the stream was away: read what happened.
      if (!c.ended) backfill(c).finally(() => renderChatState(c));
      renderChatState(c);
    }
  }
  updateTitle();
}

function onStreamEvents(chatId, evs) {
  const c = ensureChat(chatId);
  for (const ev of evs) if (ev.seq > c.streamSeq) c.streamSeq = ev.seq;
  if (!c.details) {
    // A chat first seen on the stream: hold its events until its details
    // say who the customer is and which party is this agent.
    c.held.push(...evs);
    // A chat given back to this agent continues on the stream after what
    // was sent before: read the beginning of its transcript too.
    const partial = c.seqs.size === 0 && evs.length > 0 && evs[0].seq > 1;
    if (!c.loading) c.loading = loadDetails(c, partial).finally(() => releaseHeld(c));
    return;
  }
  applyEvents(c, evs);
}

function releaseHeld(c) {
  c.loading = null;
  const evs = c.held;
  c.held = [];
  if (evs.length && S.chats.get(c.id) === c) applyEvents(c, evs);
}

// ---------------------------------------------------------------- offers

function renderOffers() {
  const list = S.routing.offers;
  const ids = new Set(list.map((o) => o.chat_id));
  for (const id of [...S.offers.keys()]) if (!ids.has(id)) removeOffer(id);
  let fresh = false;
  for (const o of list) {
    const have = S.offers.get(o.chat_id);
    if (have) {
      have.offer = o;
      continue;
    }
    fresh = true;
    S.offers.set(o.chat_id, { offer: o, node: offerCard(o) });
  }
  $('#offers-empty').hidden = S.offers.size > 0;
  if (fresh) {
    S.alerts++;
    beep();
  }
  tickOffers();
  if (S.offers.size && !S.tick) S.tick = setInterval(tickOffers, 250);
  if (!S.offers.size && S.tick) {
    clearInterval(S.tick);
    S.tick = 0;
  }
  updateTitle();
}

function offerCard(o) {
  const name = el('strong', { class: 'offer-name' }, 'New chat');
  const left = el('span', { class: 'offer-left', 'aria-hidden': 'true' });
  const preview = el('p', { class: 'offer-preview', hidden: true });
  const bar = el('span', { class: 'offer-bar-fill' });
  const accept = el('button', { type: 'button', class: 'btn btn--primary btn--small offer-accept' }, 'Accept');
  const reject = el('button', { type: 'button', class: 'btn btn--ghost btn--small offer-reject' }, 'Reject');
  const node = el(
    'article',
    { class: 'offer offer--new', 'data-chat-id': o.chat_id, 'aria-label': 'Chat offer' },
    el('div', { class: 'offer-head' }, name, left),
    el('p', { class: 'offer-meta small muted' }, `${o.app_id}${o.queue && o.queue !== o.app_id ? ' · ' + o.queue : ''} · waited ${duration(o.waited)}`),
    preview,
    el('div', { class: 'offer-bar', role: 'progressbar', 'aria-label': 'Seconds left to accept', 'aria-valuemin': '0' }, bar),
    el('div', { class: 'offer-actions' }, reject, accept),
  );
  accept.addEventListener('click', () => answerOffer(o.chat_id, true));
  reject.addEventListener('click', () => answerOffer(o.chat_id, false));
  $('#offers').append(node);
  setTimeout(() => node.classList.remove('offer--new'), 3000);
  // Who is waiting: the offered chat is readable by the agent it is offered to.
  api('GET', 'chats/' + encodeURIComponent(o.chat_id))
    .then((d) => {
      name.textContent = customerName(d.chat);
      node.setAttribute('aria-label', 'Chat offer from ' + customerName(d.chat));
      const platform = platformText(d.chat.parameters);
      if (platform) node.querySelector('.offer-meta').append(' · ' + platform);
      return api('GET', 'chats/' + encodeURIComponent(o.chat_id) + '/events');
    })
    .then((d) => {
      const first = (d.events || []).find((e) => e.event === 'chat_session_message' && e.party_id === o.chat_id);
      if (first) {
        preview.textContent = '“' + (first.msg_text || first.msg) + '”';
        preview.hidden = false;
      }
    })
    .catch(() => {});
  return node;
}

function tickOffers() {
  const now = Date.now();
  for (const { offer, node } of S.offers.values()) {
    const remaining = Date.parse(offer.expires) - now;
    // The bar runs from the time left when the offer was first seen.
    if (!node.dataset.total) {
      node.dataset.total = String(Math.max(1, remaining));
      node.querySelector('.offer-bar').setAttribute('aria-valuemax', String(Math.ceil(Math.max(1, remaining) / 1000)));
    }
    const left = Math.max(0, Math.ceil(remaining / 1000));
    const frac = Math.max(0, Math.min(1, remaining / Number(node.dataset.total)));
    node.querySelector('.offer-left').textContent = left + ' s';
    node.querySelector('.offer-bar-fill').style.width = (frac * 100).toFixed(1) + '%';
    node.querySelector('.offer-bar').setAttribute('aria-valuenow', String(left));
    node.classList.toggle('offer--urgent', left <= 10);
  }
}

function removeOffer(id) {
  const o = S.offers.get(id);
  if (!o) return;
  o.node.remove();
  S.offers.delete(id);
  $('#offers-empty').hidden = S.offers.size > 0;
  updateTitle();
}

async function answerOffer(id, accept) {
  const o = S.offers.get(id);
  if (o) o.node.querySelectorAll('button').forEach((b) => (b.disabled = true));
  try {
    if (accept) {
      const res = await api('POST', 'chats/' + encodeURIComponent(id) + '/accept', {});
      removeOffer(id);
      const c = ensureChat(id);
      c.assigned = true;
      c.wasMine = true;
      c.assignedAt = Date.now();
      setDetails(c, res.chat, []);
      activate(id, true);
    } else {
      await api('POST', 'chats/' + encodeURIComponent(id) + '/reject', {});
      removeOffer(id);
    }
  } catch (e) {
    removeOffer(id);
    toast(e.code === '5005' ? 'That offer is no longer available.' : 'Could not answer the offer: ' + e.message);
  }
}

// ---------------------------------------------------------------- chats

function newChat(id) {
  return {
    id,
    details: null, // the chat view of GET chats/{id}
    wrapups: [],
    partyId: '', // this agent's party while assigned
    held: [], // stream events waiting for the details
    loading: null,
    parties: new Map(), // party id → { name, type }
    seqs: new Set(), // seqs applied: nothing is shown twice
    streamSeq: 0, // last seq the stream gave: the reconnect cursor
    assigned: false, // in the routing view's chats
    assignedAt: 0,
    wasMine: false,
    ended: false,
    gone: '', // why the chat left this agent without ending
    lastStatus: '',
    myPartyLeft: false,
    unacked: new Map(), // seq → msg_id of customer messages not yet read here
    delivered: new Set(), // customer msg ids acknowledged as delivered
    receipts: new Map(), // agent msg id → 'delivered' | 'read'
    msgNodes: new Map(), // agent msg id → node
    pending: new Map(), // msg id → node of a send not confirmed yet
    blobs: new Map(), // file id → Promise<{ url, image }>
    typingSent: false,
    typingTimer: 0,
    customerTypingTimer: 0,
    preview: '',
    caseNote: '',
    call: null, // the call in progress (see startCall)
    callRequest: null, // { video } while the customer asks for a call
    liveFrom: -1, // last_seq when the details first came: later signaling is live
    els: null,
  };
}

function ensureChat(id) {
  let c = S.chats.get(id);
  if (c) return c;
  c = newChat(id);
  S.chats.set(id, c);
  buildChat(c);
  renderEmpty();
  persist();
  return c;
}

function buildChat(c) {
  const tab = el(
    'button',
    { type: 'button', role: 'tab', id: 'tab-' + c.id, 'aria-controls': 'panel-' + c.id, 'aria-selected': 'false', tabindex: '-1', class: 'tab' },
    el('span', { class: 'avatar', 'aria-hidden': 'true' }, '?'),
    el('span', { class: 'tab-main' }, el('span', { class: 'tab-name' }, 'Customer'), el('span', { class: 'tab-preview' }, '')),
    el('span', { class: 'tab-side' }, el('span', { class: 'tab-state' }, ''), el('span', { class: 'badge', hidden: true })),
  );
  tab.addEventListener('click', () => activate(c.id, true));
  tab.addEventListener('keydown', onTabKey);
  $('#tablist').append(tab);

  const panel = $('#chat-template').content.firstElementChild.cloneNode(true);
  panel.id = 'panel-' + c.id;
  panel.setAttribute('aria-labelledby', 'tab-' + c.id);
  panel.hidden = true;
  $('#panels').append(panel);
  const q = (s) => panel.querySelector(s);
  c.els = {
    tab,
    panel,
    name: q('.chat-name'),
    sub: q('.chat-sub'),
    log: q('.transcript'),
    typing: q('.typing'),
    typingText: q('.typing-text'),
    composer: q('.composer'),
    input: q('.composer-input'),
    file: q('.file-input'),
    wrapup: q('.wrapup'),
    closed: q('.closed-bar'),
    facts: q('.customer-facts'),
    caseId: q('.case-id'),
    history: q('.history'),
    caseError: q('.case-error'),
    call: q('.call'),
    callRequest: q('.call-request'),
    callRequestText: q('.call-request-text'),
    callLive: q('.call-live'),
    callState: q('.call-state'),
    callRemote: q('.call-remote'),
    callLocal: q('.call-local'),
    audioCall: q('.act-audio'),
    videoCall: q('.act-video'),
  };
  q('.transcript').setAttribute('aria-label', 'Transcript');
  wireChat(c, q);
  renderChatState(c);
}

function wireChat(c, q) {
  const { input, composer, file } = c.els;
  composer.addEventListener('submit', (e) => {
    e.preventDefault();
    sendMessage(c);
  });
  input.addEventListener('keydown', (e) => {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      sendMessage(c);
    }
  });
  input.addEventListener('input', () => {
    autosize(input);
    onAgentTyping(c);
  });
  input.addEventListener('blur', () => stopTyping(c));
  file.addEventListener('change', () => {
    for (const f of file.files) sendFile(c, f);
    file.value = '';
  });
  const main = q('.chat-main');
  main.addEventListener('dragover', (e) => {
    if (canSend(c) && e.dataTransfer && [...e.dataTransfer.types].includes('Files')) {
      e.preventDefault();
      main.classList.add('chat-main--drop');
    }
  });
  main.addEventListener('dragleave', () => main.classList.remove('chat-main--drop'));
  main.addEventListener('drop', (e) => {
    main.classList.remove('chat-main--drop');
    if (!canSend(c) || !e.dataTransfer) return;
    e.preventDefault();
    for (const f of e.dataTransfer.files) sendFile(c, f);
  });
  q('.act-transfer').addEventListener('click', () => openTransfer(c));
  q('.act-audio').addEventListener('click', () => startCall(c, false));
  q('.act-video').addEventListener('click', () => startCall(c, true));
  q('.call-hangup').addEventListener('click', () => hangUp(c, ''));
  q('.call-start').addEventListener('click', () => c.callRequest && startCall(c, c.callRequest.video));
  q('.call-decline').addEventListener('click', () => declineCall(c));
  const end = q('.act-end');
  end.addEventListener('click', () => {
    if (end.dataset.confirm) {
      delete end.dataset.confirm;
      end.textContent = 'End chat';
      endChat(c);
      return;
    }
    end.dataset.confirm = '1';
    end.textContent = 'Confirm end';
    setTimeout(() => {
      delete end.dataset.confirm;
      end.textContent = 'End chat';
    }, 4000);
  });
  const details = q('.act-details');
  details.addEventListener('click', () => {
    // Wide screens show the details beside the transcript, narrow ones
    // over it on demand: toggle whatever is shown now.
    const shown = sideShown(c);
    c.els.panel.classList.toggle('chat--side-hidden', shown);
    c.els.panel.classList.toggle('chat--side-shown', !shown);
    details.setAttribute('aria-expanded', String(!shown));
  });
  c.els.panel.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && c.els.panel.classList.contains('chat--side-shown')) q('.side-close').click();
  });
  q('.side-close').addEventListener('click', () => {
    c.els.panel.classList.remove('chat--side-shown');
    details.setAttribute('aria-expanded', 'false');
    details.focus();
  });
  c.els.wrapup.addEventListener('submit', (e) => {
    e.preventDefault();
    saveWrapUp(c);
  });
  q('.wrapup-skip').addEventListener('click', () => closeChat(c));
  q('.closed-close').addEventListener('click', () => closeChat(c));
  q('.case-new').addEventListener('click', () => setCase(c, ''));
  q('.case-close').addEventListener('click', () => closeCase(c));
  q('.case-attach').addEventListener('submit', (e) => {
    e.preventDefault();
    const v = q('.case-attach-input').value.trim();
    if (v) setCase(c, v).then((ok) => ok && (q('.case-attach-input').value = ''));
  });
}

function sideShown(c) {
  return getComputedStyle(c.els.panel.querySelector('.chat-side')).display !== 'none';
}

function autosize(t) {
  t.style.height = 'auto';
  t.style.height = Math.min(t.scrollHeight, 160) + 'px';
}

function onTabKey(e) {
  const tabs = [...document.querySelectorAll('#tablist [role=tab]')];
  const i = tabs.indexOf(e.currentTarget);
  let j = -1;
  if (e.key === 'ArrowDown' || e.key === 'ArrowRight') j = (i + 1) % tabs.length;
  else if (e.key === 'ArrowUp' || e.key === 'ArrowLeft') j = (i - 1 + tabs.length) % tabs.length;
  else if (e.key === 'Home') j = 0;
  else if (e.key === 'End') j = tabs.length - 1;
  if (j < 0) return;
  e.preventDefault();
  const id = tabs[j].id.slice('tab-'.length);
  activate(id);
  tabs[j].focus();
}

function activate(id, focusComposer) {
  if (!S.chats.has(id)) id = '';
  const before = S.active;
  S.active = id;
  for (const c of S.chats.values()) {
    const on = c.id === id;
    c.els.tab.setAttribute('aria-selected', String(on));
    c.els.tab.tabIndex = on ? 0 : -1;
    c.els.panel.hidden = !on;
  }
  renderEmpty();
  const c = S.chats.get(id);
  if (c) {
    if (before !== id) c.els.log.scrollTop = c.els.log.scrollHeight;
    c.els.panel.querySelector('.act-details').setAttribute('aria-expanded', String(sideShown(c)));
    acknowledge(c);
    if (focusComposer && canSend(c)) c.els.input.focus();
  }
  persist();
}

function renderEmpty() {
  $('#no-chat').hidden = !!S.active;
  $('#chats-empty').hidden = S.chats.size > 0;
}

function closeChat(c) {
  const ids = [...S.chats.keys()];
  const i = ids.indexOf(c.id);
  dropChat(c);
  if (S.active === c.id) {
    const rest = [...S.chats.keys()];
    activate(rest[Math.min(i, rest.length - 1)] || '');
  }
  renderEmpty();
  persist();
  updateTitle();
}

function dropChat(c) {
  endCall(c, '');
  clearTimeout(c.typingTimer);
  clearTimeout(c.customerTypingTimer);
  for (const p of c.blobs.values()) p.then((f) => URL.revokeObjectURL(f.url)).catch(() => {});
  c.els.tab.remove();
  c.els.panel.remove();
  S.chats.delete(c.id);
}

// loadDetails reads the chat's view (customer, case, this agent's party).
// A chat that is not live for this agent gets its transcript read too, as
// the stream only carries the agent's live chats.
async function loadDetails(c, withTranscript) {
  try {
    const d = await api('GET', 'chats/' + encodeURIComponent(c.id));
    setDetails(c, d.chat, d.wrapups || []);
    if (withTranscript || d.chat.ended) await backfill(c);
  } catch (e) {
    if (e.status === 404 || e.code === '5005') {
      c.gone = c.gone || 'unavailable';
      renderChatState(c);
    }
  }
}

function setDetails(c, view, wrapups) {
  if (!view) return;
  const hadCase = c.details && c.details.case_id;
  c.details = view;
  c.wrapups = wrapups || c.wrapups;
  if (view.agent_id && S.agent && view.agent_id === S.agent.id) c.wasMine = true;
  if (view.party_id && view.party_id !== c.partyId) {
    c.partyId = view.party_id;
    for (const n of c.els.log.querySelectorAll('[data-party]')) {
      n.classList.toggle('msg--mine', n.dataset.party === c.partyId);
    }
  }
  if (view.ended) c.ended = true;
  if (c.liveFrom < 0) c.liveFrom = view.last_seq || 0;
  renderCustomer(c);
  renderChatState(c);
  if (view.case_id !== hadCase) loadHistory(c);
  if (c.held.length) releaseHeld(c);
}

async function backfill(c) {
  try {
    const d = await api('GET', 'chats/' + encodeURIComponent(c.id) + '/events?after=0');
    applyEvents(c, d.events || []);
  } catch (e) {
    if (!c.ended) c.gone = c.gone || 'unavailable';
  }
}

function customerName(view) {
  const p = (view && view.parameters) || {};
  const name = [p.first_name, p.last_name].filter((x) => typeof x === 'string' && x).join(' ');
  return name || (typeof p.email === 'string' && p.email) || (view && view.phone_number) || 'Customer';
}

function platformText(params) {
  const p = params && params.user_platform;
  if (!p) return '';
  if (typeof p !== 'object') return String(p);
  const os = [p.os, p.sdk != null ? 'SDK ' + p.sdk : p.os_version || p.version].filter((x) => x != null && x !== '').join(' ');
  const device = [p.manufacturer, p.model || p.name].filter(Boolean).join(' ');
  return [os, device].filter(Boolean).join(' · ');
}

function valueText(v) {
  if (v == null) return '';
  if (typeof v === 'object') {
    return Object.entries(v)
      .map(([k, x]) => `${k}: ${typeof x === 'object' ? JSON.stringify(x) : x}`)
      .join(', ');
  }
  return String(v);
}

function renderCustomer(c) {
  const v = c.details;
  const name = customerName(v);
  c.els.name.textContent = name;
  c.els.tab.querySelector('.tab-name').textContent = name;
  c.els.tab.querySelector('.avatar').textContent = name.trim().charAt(0).toUpperCase() || '?';
  const p = v.parameters || {};
  const rows = [];
  const add = (label, value, cls) => value && rows.push([label, value, cls]);
  add('Name', [p.first_name, p.last_name].filter(Boolean).join(' '));
  add('Email', typeof p.email === 'string' ? p.email : '');
  add('Phone', v.phone_number);
  add('Platform', platformText(p), 'fact-platform');
  if (p.user_platform && typeof p.user_platform === 'object') {
    const known = ['os', 'sdk', 'os_version', 'version', 'manufacturer', 'model', 'name'];
    const extra = Object.fromEntries(Object.entries(p.user_platform).filter(([k]) => !known.includes(k)));
    if (Object.keys(extra).length) add('Device', valueText(extra), 'small');
  }
  for (const [k, x] of Object.entries(p)) {
    if (['first_name', 'last_name', 'email', 'user_platform'].includes(k)) continue;
    add(k.replace(/_/g, ' '), valueText(x));
  }
  add('From', v.from);
  add('Entry', v.app_id);
  add('Client id', v.client_id, 'mono');
  add('Chat id', v.chat_id, 'mono');
  add('Started', v.created ? new Date(v.created).toLocaleString() : '');
  c.els.facts.replaceChildren(
    ...rows.flatMap(([label, value, cls]) => [el('dt', {}, label), el('dd', { class: cls || null }, value)]),
  );
  c.els.caseId.replaceChildren(
    v.case_id ? el('span', {}, 'Case ', el('code', { title: v.case_id }, v.case_id)) : el('span', { class: 'muted' }, 'No case linked.'),
    c.caseNote ? el('span', { class: 'muted' }, ' · ' + c.caseNote) : '',
  );
}

function canSend(c) {
  return c.assigned && !c.ended && !c.gone;
}

function renderChatState(c) {
  const live = canSend(c);
  const { panel, composer, wrapup, closed, tab } = c.els;
  let phase = 'waiting';
  let label = 'Waiting';
  if (c.ended) {
    phase = 'ended';
    label = 'Ended';
  } else if (c.gone) {
    phase = 'gone';
    label = c.gone === 'transferred' ? 'Transferred' : 'Not yours';
  } else if (c.assigned) {
    phase = 'live';
    label = 'Live';
  }
  panel.dataset.phase = phase;
  tab.dataset.phase = phase;
  tab.querySelector('.tab-state').textContent = phase === 'live' ? '' : label;
  composer.hidden = !live && !(phase === 'waiting' && !c.details);
  composer.querySelectorAll('textarea, button, input').forEach((x) => (x.disabled = !live));
  panel.querySelectorAll('.act-transfer, .act-end, .case-new, .case-attach button, .case-attach input').forEach((x) => (x.disabled = !live));
  panel.querySelector('.case-close').disabled = !(c.details && c.details.case_id);
  const mineAtEnd = c.ended && c.wasMine && !(c.details && c.details.agent_id && S.agent && c.details.agent_id !== S.agent.id);
  const wrapped = c.wrapups.some((w) => S.agent && w.agent_id === S.agent.id);
  wrapup.hidden = !(mineAtEnd && !wrapped);
  closed.hidden = !((c.ended && wrapup.hidden) || (c.gone && !c.ended));
  if (!closed.hidden) {
    panel.querySelector('.closed-text').textContent = c.ended
      ? wrapped
        ? 'This chat has ended and is wrapped up.'
        : 'This chat has ended.'
      : c.gone === 'transferred'
        ? 'You transferred this chat.'
        : 'This chat is no longer assigned to you.';
  }
  if (c.ended || c.gone) {
    c.els.typing.hidden = true;
  }
  if (!live) {
    // Parley does not end calls: a chat that ends or leaves this agent
    // takes its call with it here.
    c.callRequest = null;
    endCall(c, '');
  }
  renderCall(c);
  const sub = [];
  if (c.details) {
    const plat = platformText(c.details.parameters);
    if (plat) sub.push(plat);
    sub.push(c.details.app_id);
  }
  sub.push(label);
  c.els.sub.textContent = sub.filter(Boolean).join(' · ');
}

// ---------------------------------------------------------------- events

function applyEvents(c, evs) {
  for (const ev of evs) {
    try {
      applyEvent(c, ev);
    } catch (e) {
      console.warn('parley: cannot show event', ev && ev.event, e);
    }
  }
  afterBatch(c);
}

function kindOf(c, partyId) {
  if (!partyId) return 'system';
  if (partyId === c.id) return 'customer';
  if (partyId === c.partyId) return 'me';
  return 'agent';
}

function partyName(c, partyId) {
  const kind = kindOf(c, partyId);
  if (kind === 'customer') {
    const p = (c.details && c.details.parameters) || {};
    return (typeof p.first_name === 'string' && p.first_name) || 'Customer';
  }
  if (kind === 'me') return 'You';
  const p = c.parties.get(partyId);
  return (p && p.name) || 'Agent';
}

function applyEvent(c, ev) {
  if (typeof ev.seq === 'number') {
    if (c.seqs.has(ev.seq)) {
      S.dupes++;
      return;
    }
    c.seqs.add(ev.seq);
  }
  const kind = kindOf(c, ev.party_id);
  switch (ev.event) {
    case 'chat_session_message':
      showMessage(c, ev, kind);
      break;
    case 'chat_session_file':
      showFile(c, ev, kind);
      break;
    case 'chat_session_location':
      showLocation(c, ev, kind);
      break;
    case 'chat_session_message_delivered':
    case 'chat_session_message_read':
      onReceipt(c, ev, kind);
      break;
    case 'chat_session_typing':
    case 'chat_session_not_typing':
      if (kind === 'customer') customerTyping(c, ev.event === 'chat_session_typing', ev.timestamp);
      break;
    case 'chat_session_party_joined': {
      const name =
        ev.display_name || [ev.first_name, ev.last_name].filter(Boolean).join(' ') || (ev.type === 'internal' ? 'An agent' : 'The assistant');
      c.parties.set(ev.party_id, { name, type: ev.type });
      const who = kindOf(c, ev.party_id) === 'me' ? 'You' : name;
      notice(c, ev, `${who} joined the chat`);
      break;
    }
    case 'chat_session_party_left': {
      const me = kindOf(c, ev.party_id) === 'me';
      notice(c, ev, `${me ? 'You' : partyName(c, ev.party_id)} left the chat`);
      if (me && !c.ended) c.myPartyLeft = true;
      break;
    }
    case 'chat_session_status':
      onStatus(c, ev);
      break;
    case 'chat_session_case_set':
      if (c.details) c.details.case_id = ev.case_id;
      notice(c, ev, ev.case_id ? `Linked to case ${shortId(ev.case_id)}` : 'Case unlinked');
      if (c.details) {
        renderCustomer(c);
        loadHistory(c);
      }
      break;
    case 'chat_session_timeout_warning':
      notice(c, ev, ev.msg || 'The customer has been inactive for a while.', 'warn');
      break;
    case 'chat_session_inactivity_timeout':
      notice(c, ev, ev.msg || 'The chat was closed for inactivity.', 'warn');
      break;
    case 'chat_session_disconnect':
      notice(c, ev, `${partyName(c, c.id)} left the conversation`);
      break;
    case 'chat_session_end':
      notice(c, ev, `${partyName(c, c.id)} ended the chat`);
      break;
    case 'chat_session_ended':
      c.ended = true;
      c.assigned = false;
      notice(c, ev, 'Chat ended', 'end');
      customerTyping(c, false);
      break;
    case 'chat_session_form_show':
      notice(c, ev, `Form sent: ${ev.form_name || ev.form_request_id || ''}`);
      break;
    case 'chat_session_form_data':
      notice(c, ev, `Form ${ev.form_name ? '“' + ev.form_name + '” ' : ''}answered: ${valueText(ev.data)}`);
      break;
    case 'chat_session_signaling':
      onSignaling(c, ev, kind);
      break;
    default:
      break;
  }
}

function onStatus(c, ev) {
  const st = ev.state;
  if (st === c.lastStatus) return;
  c.lastStatus = st;
  if (st === 'queued' && c.myPartyLeft && !c.ended) {
    // This agent's party left and the chat waits again: a transfer.
    c.gone = c.gone || 'transferred';
    c.assigned = false;
  }
  const text = {
    queued: 'Waiting in the queue',
    connected: 'Connected',
    ivr: 'With the virtual assistant',
    failed: 'The chat failed',
  }[st];
  if (text) notice(c, ev, text, 'status');
}

// place inserts a transcript node at its seq; sends not yet confirmed stay
// last. Scrolls along when the reader was at the bottom.
function place(c, node, seq, force) {
  const log = c.els.log;
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 60;
  if (seq != null) node.dataset.seq = String(seq);
  let before = null;
  if (seq != null) {
    for (let n = log.lastElementChild; n; n = n.previousElementSibling) {
      if (n.dataset.seq === undefined || Number(n.dataset.seq) > seq) before = n;
      else break;
    }
  }
  log.insertBefore(node, before);
  if (atBottom || force) log.scrollTop = log.scrollHeight;
}

function notice(c, ev, text, kind) {
  const node = el(
    'div',
    { class: 'notice' + (kind ? ' notice--' + kind : '') },
    el('span', { class: 'notice-text' }, text),
    el('time', {}, clockTime(ev.timestamp)),
  );
  place(c, node, ev.seq);
}

function messageShell(c, ev, kind) {
  const mine = kind === 'me';
  const side = kind === 'customer' ? 'customer' : 'agent';
  const node = el(
    'div',
    { class: `msg msg--${side}${mine ? ' msg--mine' : ''}`, 'data-party': ev.party_id || '' },
    el('div', { class: 'msg-meta' }, el('span', { class: 'msg-author' }, partyName(c, ev.party_id)), el('time', {}, clockTime(ev.timestamp))),
  );
  if (ev.msg_id) node.dataset.msgId = ev.msg_id;
  return node;
}

function statusNode() {
  return el('div', { class: 'msg-status' }, el('span', { class: 'ticks', 'aria-hidden': 'true' }), el('span', { class: 'status-text' }));
}

function setMsgStatus(node, state) {
  const s = node.querySelector('.msg-status');
  if (!s) return;
  node.dataset.status = state;
  s.querySelector('.ticks').textContent = { sending: '…', sent: '✓', delivered: '✓✓', read: '✓✓', failed: '!' }[state] || '';
  s.querySelector('.status-text').textContent = { sending: 'Sending', sent: 'Sent', delivered: 'Delivered', read: 'Read', failed: 'Not sent' }[state] || '';
}

function confirmSent(c, ev, node) {
  const old = ev.msg_id && c.pending.get(ev.msg_id);
  if (old) {
    old.remove();
    c.pending.delete(ev.msg_id);
  }
  node.append(statusNode());
  if (ev.msg_id) c.msgNodes.set(ev.msg_id, node);
  setMsgStatus(node, c.receipts.get(ev.msg_id) || 'sent');
}

function showMessage(c, ev, kind) {
  const node = messageShell(c, ev, kind);
  node.append(el('div', { class: 'msg-body' }, ev.msg_text || ev.msg || ''));
  if (kind === 'customer') {
    onCustomerContent(c, ev);
    c.preview = ev.msg_text || ev.msg || '';
  } else {
    if (kind === 'me' || c.pending.has(ev.msg_id)) confirmSent(c, ev, node);
    c.preview = (kind === 'me' ? 'You: ' : '') + (ev.msg_text || ev.msg || '');
  }
  place(c, node, ev.seq, kind === 'me');
}

function onCustomerContent(c, ev) {
  customerTyping(c, false);
  c.unacked.set(ev.seq, ev.msg_id || '');
}

function showFile(c, ev, kind) {
  const node = messageShell(c, ev, kind);
  node.classList.add('msg--file');
  node.append(fileView(c, ev));
  if (kind === 'customer') {
    onCustomerContent(c, ev);
    c.preview = 'File: ' + (ev.file_name || 'file');
  } else {
    if (kind === 'me' || c.pending.has(ev.msg_id)) confirmSent(c, ev, node);
    c.preview = (kind === 'me' ? 'You: ' : '') + 'File: ' + (ev.file_name || 'file');
  }
  place(c, node, ev.seq, kind === 'me');
}

const previewTypes = new Set(['image/png', 'image/jpeg', 'image/gif', 'image/webp', 'image/bmp']);

// fileBlob downloads a chat file with the bearer token into an object URL,
// once per chat. Only pictures keep their type; anything else becomes an
// opaque download, so that no customer file can run as a page of this origin.
function fileBlob(c, fileId) {
  let p = c.blobs.get(fileId);
  if (!p) {
    p = api('GET', 'files/' + encodeURIComponent(fileId), undefined, { blob: true }).then((b) => {
      const image = previewTypes.has(b.type);
      return { url: URL.createObjectURL(image ? b : new Blob([b], { type: 'application/octet-stream' })), image };
    });
    c.blobs.set(fileId, p);
    p.catch(() => c.blobs.delete(fileId));
  }
  return p;
}

function fileView(c, ev) {
  const name = ev.file_name || 'file';
  const link = el(
    'a',
    { class: 'file-link', href: '#', download: name },
    el('span', { class: 'file-icon' }, icon(ev.file_type === 'image' ? 'image' : 'file')),
    el('span', { class: 'file-name' }, name),
    el('span', { class: 'file-action small' }, 'Download'),
  );
  const box = el('div', { class: 'file' });
  let url = '';
  link.addEventListener('click', async (e) => {
    if (url) return; // the browser downloads the object URL
    e.preventDefault();
    try {
      url = (await fileBlob(c, ev.file_id)).url;
      link.href = url;
      link.click();
    } catch (err) {
      toast('Could not download the file: ' + err.message);
    }
  });
  if (ev.file_type === 'image') {
    const img = el('img', { class: 'file-preview', alt: name });
    const fig = el('figure', { class: 'file-figure' }, img);
    box.append(fig);
    fileBlob(c, ev.file_id)
      .then((f) => {
        url = f.url;
        link.href = f.url;
        if (f.image) img.src = f.url;
        else fig.remove();
      })
      .catch(() => fig.replaceChildren(el('span', { class: 'muted small' }, 'Preview unavailable')));
  }
  box.append(link);
  return box;
}

function showLocation(c, ev, kind) {
  const node = messageShell(c, ev, kind);
  const coords = `${ev.latitude}, ${ev.longitude}`;
  let href = '';
  if (typeof ev.url === 'string' && /^https?:\/\//i.test(ev.url)) href = ev.url;
  else if (ev.latitude && ev.longitude) {
    href = `https://www.openstreetmap.org/?mlat=${encodeURIComponent(ev.latitude)}&mlon=${encodeURIComponent(ev.longitude)}`;
  }
  node.append(
    el(
      'div',
      { class: 'msg-body' },
      icon('pin'),
      ' Shared a location: ',
      href ? el('a', { href, target: '_blank', rel: 'noopener noreferrer' }, coords) : coords,
    ),
  );
  if (kind === 'customer') onCustomerContent(c, ev);
  else if (kind === 'me') confirmSent(c, ev, node);
  c.preview = 'Location';
  place(c, node, ev.seq);
}

function onReceipt(c, ev, kind) {
  const read = ev.event === 'chat_session_message_read';
  if (kind === 'customer') {
    const was = c.receipts.get(ev.ref_msg_id);
    if (was === 'read') return;
    c.receipts.set(ev.ref_msg_id, read ? 'read' : 'delivered');
    const node = c.msgNodes.get(ev.ref_msg_id);
    if (node) setMsgStatus(node, read ? 'read' : 'delivered');
    return;
  }
  // An agent's receipt (this one's, replayed after a reload, or a
  // colleague's before a transfer): that customer message is acknowledged.
  if (read) {
    for (const [seq, id] of c.unacked) if (id === ev.ref_msg_id) c.unacked.delete(seq);
  }
  c.delivered.add(ev.ref_msg_id);
}

function customerTyping(c, on, ts) {
  clearTimeout(c.customerTypingTimer);
  if (on && ts && Date.now() / 1000 - Number(ts) > TYPING_STALE_S) on = false;
  if (on && (c.ended || c.gone)) on = false;
  const log = c.els.log;
  const atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < 60;
  c.els.typing.hidden = !on;
  if (atBottom) log.scrollTop = log.scrollHeight;
  c.els.tab.classList.toggle('tab--typing', on);
  if (on) {
    c.els.typingText.textContent = `${partyName(c, c.id)} is typing…`;
    c.customerTypingTimer = setTimeout(() => customerTyping(c, false), TYPING_STALE_S * 1000);
  }
}

function afterBatch(c) {
  renderChatState(c);
  const tabPreview = c.els.tab.querySelector('.tab-preview');
  tabPreview.textContent = c.preview;
  acknowledge(c);
}

// acknowledge sends read receipts for the customer's messages when their
// chat is in front of the agent, and delivered receipts otherwise; the
// unread badge counts what is not read yet.
function acknowledge(c) {
  const visible = S.active === c.id && document.visibilityState === 'visible' && !$('#console-view').hidden;
  const live = canSend(c);
  if (visible) {
    const ids = [...new Set([...c.unacked.values()].filter(Boolean))];
    c.unacked.clear();
    if (live && ids.length) {
      ids.forEach((id) => c.delivered.add(id));
      sendEvents(c, ids.map((id) => ({ event: 'chat_session_message_read', ref_msg_id: id }))).catch(() => {});
    }
  } else if (live) {
    const ids = [...new Set([...c.unacked.values()].filter((id) => id && !c.delivered.has(id)))];
    if (ids.length) {
      ids.forEach((id) => c.delivered.add(id));
      sendEvents(c, ids.map((id) => ({ event: 'chat_session_message_delivered', ref_msg_id: id }))).catch(() => {});
    }
  }
  const badge = c.els.tab.querySelector('.badge');
  const n = c.unacked.size;
  badge.hidden = n === 0;
  badge.replaceChildren(String(n), el('span', { class: 'visually-hidden' }, n === 1 ? ' unread message' : ' unread messages'));
  c.els.tab.classList.toggle('tab--unread', n > 0);
  updateTitle();
}

// ---------------------------------------------------------------- sending

function sendEvents(c, events) {
  return api('POST', 'chats/' + encodeURIComponent(c.id) + '/events', { events });
}

function onAgentTyping(c) {
  if (!canSend(c)) return;
  if (!c.els.input.value.trim()) {
    stopTyping(c);
    return;
  }
  if (!c.typingSent) {
    c.typingSent = true;
    sendEvents(c, [{ event: 'chat_session_typing' }]).catch(() => {});
  }
  clearTimeout(c.typingTimer);
  c.typingTimer = setTimeout(() => stopTyping(c), TYPING_IDLE_MS);
}

function stopTyping(c) {
  clearTimeout(c.typingTimer);
  if (!c.typingSent) return;
  c.typingSent = false;
  if (canSend(c)) sendEvents(c, [{ event: 'chat_session_not_typing' }]).catch(() => {});
}

function pendingNode(c, msgId, body) {
  const node = el(
    'div',
    { class: 'msg msg--agent msg--mine msg--pending', 'data-msg-id': msgId },
    el('div', { class: 'msg-meta' }, el('span', { class: 'msg-author' }, 'You'), el('time', {}, clockTime())),
    body,
    statusNode(),
  );
  setMsgStatus(node, 'sending');
  c.pending.set(msgId, node);
  place(c, node, null, true);
  return node;
}

function failed(c, node, err, retry) {
  setMsgStatus(node, 'failed');
  node.classList.add('msg--failed');
  const s = node.querySelector('.msg-status');
  s.querySelector('.status-text').textContent = 'Not sent: ' + err.message + ' ';
  const again = el('button', { type: 'button', class: 'link-button' }, 'Retry');
  again.addEventListener('click', () => {
    again.remove();
    node.classList.remove('msg--failed');
    setMsgStatus(node, 'sending');
    retry();
  });
  s.append(again);
}

function sendMessage(c) {
  const input = c.els.input;
  const text = input.value.trim();
  if (!text || !canSend(c)) return;
  input.value = '';
  autosize(input);
  const msgId = newId();
  const node = pendingNode(c, msgId, el('div', { class: 'msg-body' }, text));
  const events = [];
  if (c.typingSent) {
    clearTimeout(c.typingTimer);
    c.typingSent = false;
    events.push({ event: 'chat_session_not_typing' });
  }
  events.push({ event: 'chat_session_message', msg_id: msgId, msg: text });
  const attempt = (evs) =>
    sendEvents(c, evs)
      .then((res) => applyEvents(c, res.events || []))
      .catch((e) => failed(c, node, e, () => attempt([{ event: 'chat_session_message', msg_id: msgId, msg: text }])));
  attempt(events);
}

function sendFile(c, file) {
  if (!canSend(c)) return;
  const msgId = newId();
  const node = pendingNode(c, msgId, el('div', { class: 'msg-body' }, icon('clip'), ' ' + file.name));
  const attempt = async () => {
    try {
      const fd = new FormData();
      fd.append('file', file, file.name);
      const up = await api('POST', 'files', fd);
      const res = await sendEvents(c, [
        {
          event: 'chat_session_file',
          msg_id: msgId,
          file_id: up.file_id,
          file_name: up.file_name || file.name,
          file_type: file.type && file.type.startsWith('image/') ? 'image' : 'attachment',
        },
      ]);
      applyEvents(c, res.events || []);
    } catch (e) {
      failed(c, node, e, attempt);
    }
  };
  attempt();
}

// ---------------------------------------------------------------- calls
//
// A call is WebRTC between this console and the customer's app, signaled
// with chat_session_signaling events (docs/calls.md): the agent offers
// (OFFER_CALL), the customer answers (ANSWER_CALL) or declines
// (CALL_REJECTED), ICE candidates trickle both ways, and END_CALL ends it.
// Media never passes through Parley; TURN relays come from GET iceservers.

const RING_TIMEOUT_MS = 60000; // an offer nobody answers is ended after this

function callsOn(c) {
  return canSend(c) && !!(c.details && c.details.calls);
}

// iceConfig makes the RTCPeerConnection configuration of an iceservers
// answer. window.parleyForceRelay = true (a test hook) makes the call use
// TURN relays only.
function iceConfig(servers) {
  const iceServers = (servers || []).map((s) => ({
    urls: Array.isArray(s.urls) && s.urls.length ? s.urls : s.url,
    username: s.username,
    credential: s.credential,
  }));
  const cfg = { iceServers };
  if (window.parleyForceRelay === true) cfg.iceTransportPolicy = 'relay';
  return cfg;
}

// iceCandidate is a candidate as signaling carries it, made fit for
// addIceCandidate (sdpMLineIndex arrives as a string).
function iceCandidate(d) {
  const index = d.sdpMLineIndex === '' || d.sdpMLineIndex == null ? null : Number(d.sdpMLineIndex);
  return { candidate: d.candidate, sdpMid: d.sdpMid === '' ? null : d.sdpMid, sdpMLineIndex: Number.isFinite(index) ? index : null };
}

function stopTracks(stream) {
  if (stream) for (const t of stream.getTracks()) t.stop();
}

async function startCall(c, video) {
  if (c.call || !callsOn(c)) return;
  c.callRequest = null;
  const call = {
    chatId: c.id,
    video: !!video,
    state: 'starting',
    pc: null,
    local: null,
    offered: false, // OFFER_CALL is on its way: candidates may follow
    remoteSet: false,
    early: [], // local candidates found before the offer went
    remoteCands: [], // the customer's candidates before their answer
    outbox: [],
    flushing: false,
    chain: Promise.resolve(),
    ringTimer: 0,
    clock: 0,
    connectedAt: 0,
  };
  c.call = call;
  S.lastCall = call;
  renderCall(c);
  try {
    const ice = await api('GET', 'chats/' + encodeURIComponent(c.id) + '/iceservers');
    if (c.call !== call) return;
    const pc = new RTCPeerConnection(iceConfig(ice.servers));
    call.pc = pc;
    pc.onicecandidate = (e) => {
      const cand = e.candidate;
      if (!cand || !cand.candidate || c.call !== call) return;
      const data = { type: 'ICE_CANDIDATE', candidate: cand.candidate, sdpMid: cand.sdpMid || '', sdpMLineIndex: cand.sdpMLineIndex ?? '' };
      if (call.offered) signal(c, call, data);
      else call.early.push(data);
    };
    pc.ontrack = (e) => {
      if (c.call !== call) return;
      const v = c.els.callRemote;
      v.srcObject = e.streams[0] || new MediaStream([e.track]);
      v.play().catch(() => {});
    };
    pc.onconnectionstatechange = () => onPeerState(c, call);
    call.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: call.video });
    if (c.call !== call) {
      stopTracks(call.local);
      return;
    }
    c.els.callLocal.srcObject = call.local;
    for (const t of call.local.getTracks()) pc.addTrack(t, call.local);
    await pc.setLocalDescription(await pc.createOffer());
    if (c.call !== call) return;
    call.state = 'calling';
    call.offered = true;
    signal(c, call, { type: 'OFFER_CALL', sdp: pc.localDescription.sdp, offerVideo: call.video ? 'true' : 'false' });
    for (const d of call.early.splice(0)) signal(c, call, d);
    call.ringTimer = setTimeout(() => {
      if (c.call === call && call.state === 'calling') hangUp(c, 'The customer did not answer.');
    }, RING_TIMEOUT_MS);
  } catch (e) {
    if (c.call !== call) return;
    const what = e && e.name === 'NotAllowedError' ? 'the browser was not allowed to use your microphone or camera' : e.message || String(e);
    hangUp(c, 'The call could not start: ' + what);
    return;
  }
  renderCall(c);
}

// signal sends a signaling event of the call to the customer. Events go in
// order, one request at a time; what queues up meanwhile (trickled
// candidates) goes in the next request.
function signal(c, call, data) {
  call.outbox.push({ event: 'chat_session_signaling', msg_id: newId(), data });
  if (call.flushing) return;
  call.flushing = true;
  call.chain = call.chain
    .then(() => {
      call.flushing = false;
      const events = call.outbox.splice(0);
      return events.length ? sendEvents(c, events) : null;
    })
    .catch((e) => {
      call.flushing = false;
      if (c.call === call) {
        call.outbox = [];
        endCall(c, 'The call failed: ' + e.message);
      }
    });
}

function onPeerState(c, call) {
  if (c.call !== call || !call.pc) return;
  const st = call.pc.connectionState;
  if (st === 'connected') {
    call.state = 'connected';
    if (!call.connectedAt) call.connectedAt = Date.now();
    clearTimeout(call.ringTimer);
    if (!call.clock) call.clock = setInterval(() => renderCall(c), 1000);
  } else if (st === 'disconnected' && call.state === 'connected') {
    call.state = 'reconnecting';
  } else if (st === 'failed') {
    hangUp(c, 'The call could not connect.');
    return;
  }
  renderCall(c);
}

// onSignaling shows a signaling event in the transcript and, when it is the
// customer's and new, acts on it.
function onSignaling(c, ev, kind) {
  const d = ev.data || {};
  const who = partyName(c, c.id);
  const video = d.offerVideo === 'true';
  const mine = kind === 'me';
  switch (d.type) {
    case 'REQUEST_CALL':
      if (kind === 'customer') notice(c, ev, `${who} asked for a${video ? ' video' : 'n audio'} call`);
      break;
    case 'OFFER_CALL':
      notice(c, ev, mine ? `You started a${video ? ' video' : 'n audio'} call` : `${partyName(c, ev.party_id)} offered a call`);
      break;
    case 'ANSWER_CALL':
      if (kind === 'customer') notice(c, ev, `${who} answered the call`);
      break;
    case 'CALL_REJECTED':
      notice(c, ev, mine ? 'You declined the call' : `${partyName(c, ev.party_id)} declined the call`);
      break;
    case 'END_CALL':
      notice(c, ev, 'Call ended');
      break;
    default:
      break;
  }
  const forMe = !ev.destination_party_id || ev.destination_party_id === c.partyId;
  if (kind !== 'customer' || !forMe || !(ev.seq > c.liveFrom) || !canSend(c)) return;
  const call = c.call;
  switch (d.type) {
    case 'REQUEST_CALL':
    case 'OFFER_CALL':
      // A customer's offer is taken as a request too: the console calls,
      // it does not answer calls.
      if (!call && callsOn(c)) {
        c.callRequest = { video };
        beep();
      }
      break;
    case 'ANSWER_CALL':
      if (call && call.state === 'calling' && call.pc) {
        call.state = 'connecting';
        clearTimeout(call.ringTimer);
        call.pc
          .setRemoteDescription({ type: 'answer', sdp: d.sdp })
          .then(() => {
            call.remoteSet = true;
            for (const cand of call.remoteCands.splice(0)) call.pc.addIceCandidate(cand).catch(() => {});
          })
          .catch(() => c.call === call && hangUp(c, 'The call could not connect.'));
      }
      break;
    case 'ICE_CANDIDATE':
      if (call && call.pc && d.candidate) {
        const cand = iceCandidate(d);
        if (call.remoteSet) call.pc.addIceCandidate(cand).catch(() => {});
        else call.remoteCands.push(cand);
      }
      break;
    case 'CALL_REJECTED':
      if (call) endCall(c, `${who} declined the call.`);
      break;
    case 'END_CALL':
      if (call) endCall(c, '');
      c.callRequest = null;
      break;
    default:
      break;
  }
  renderCall(c);
}

// hangUp ends the call and tells the customer (once an offer went).
function hangUp(c, reason) {
  const call = c.call;
  if (!call) return;
  if (call.offered) {
    call.outbox = call.outbox.filter((e) => e.data.type !== 'ICE_CANDIDATE');
    signal(c, call, { type: 'END_CALL' });
  }
  endCall(c, reason);
}

// endCall closes the call here; reason, if any, is shown.
function endCall(c, reason) {
  const call = c.call;
  if (!call) return;
  c.call = null;
  call.state = 'idle';
  clearTimeout(call.ringTimer);
  clearInterval(call.clock);
  if (call.pc) {
    call.pc.onicecandidate = null;
    call.pc.ontrack = null;
    call.pc.onconnectionstatechange = null;
    call.pc.close();
  }
  stopTracks(call.local);
  c.els.callRemote.srcObject = null;
  c.els.callLocal.srcObject = null;
  if (reason) toast(reason, 'info');
  renderCall(c);
}

function declineCall(c) {
  if (!c.callRequest) return;
  c.callRequest = null;
  renderCall(c);
  sendEvents(c, [{ event: 'chat_session_signaling', data: { type: 'CALL_REJECTED', reason_code: '603', reason: 'declined' } }]).catch((e) =>
    toast('Could not decline the call: ' + e.message),
  );
}

function callStateText(call) {
  const kind = call.video ? 'Video call' : 'Audio call';
  switch (call.state) {
    case 'starting':
      return `${kind}: starting…`;
    case 'calling':
      return `${kind}: calling the customer…`;
    case 'connecting':
      return `${kind}: connecting…`;
    case 'reconnecting':
      return `${kind}: reconnecting…`;
    case 'connected': {
      const s = Math.floor((Date.now() - call.connectedAt) / 1000);
      return `${kind} · ${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    }
    default:
      return kind;
  }
}

function renderCall(c) {
  const els = c.els;
  const call = c.call;
  const req = !call && c.callRequest;
  els.call.hidden = !call && !req;
  els.call.dataset.state = call ? call.state : req ? 'requested' : 'idle';
  els.call.classList.toggle('call--audio', !!call && !call.video);
  els.callRequest.hidden = !req;
  if (req) els.callRequestText.textContent = `${partyName(c, c.id)} asks for a${req.video ? ' video' : 'n audio'} call`;
  els.callLive.hidden = !call;
  if (call) els.callState.textContent = callStateText(call);
  const on = callsOn(c);
  els.audioCall.hidden = !on;
  els.videoCall.hidden = !on;
  els.audioCall.disabled = !!call;
  els.videoCall.disabled = !!call;
}

// ---------------------------------------------------------------- actions

async function endChat(c) {
  try {
    await api('POST', 'chats/' + encodeURIComponent(c.id) + '/end', {});
  } catch (e) {
    toast('Could not end the chat: ' + e.message);
  }
}

async function saveWrapUp(c) {
  const form = c.els.wrapup;
  const err = form.querySelector('.wrapup-error');
  const btn = form.querySelector('.wrapup-save');
  btn.disabled = true;
  try {
    await api('POST', 'chats/' + encodeURIComponent(c.id) + '/wrapup', {
      code: form.querySelector('.wrapup-code').value,
      notes: form.querySelector('.wrapup-notes').value.trim(),
    });
    closeChat(c);
  } catch (e) {
    err.textContent = 'Could not save the wrap-up: ' + e.message;
    err.hidden = false;
  } finally {
    btn.disabled = false;
  }
}

async function setCase(c, caseId) {
  c.els.caseError.hidden = true;
  try {
    const res = await api('POST', 'chats/' + encodeURIComponent(c.id) + '/case', caseId ? { case_id: caseId } : {});
    if (c.details) c.details.case_id = res.case_id;
    c.caseNote = '';
    renderCustomer(c);
    renderChatState(c);
    loadHistory(c);
    return true;
  } catch (e) {
    c.els.caseError.textContent = e.message;
    c.els.caseError.hidden = false;
    return false;
  }
}

async function closeCase(c) {
  c.els.caseError.hidden = true;
  try {
    await api('POST', 'chats/' + encodeURIComponent(c.id) + '/case/close', {});
    c.caseNote = 'closed';
    renderCustomer(c);
  } catch (e) {
    c.els.caseError.textContent = e.message;
    c.els.caseError.hidden = false;
  }
}

// loadHistory shows the earlier chats of the chat's case, newest first.
async function loadHistory(c) {
  const box = c.els.history;
  const caseId = c.details && c.details.case_id;
  if (!caseId) {
    box.replaceChildren(el('p', { class: 'muted small' }, 'No case linked.'));
    return;
  }
  let d;
  try {
    d = await api('GET', 'chats/' + encodeURIComponent(c.id) + '/casehistory');
  } catch {
    box.replaceChildren(el('p', { class: 'muted small' }, 'The case history cannot be read.'));
    return;
  }
  const earlier = (d.sessions || []).filter((s) => s.chat && s.chat.chat_id !== c.id).reverse();
  if (!earlier.length) {
    box.replaceChildren(el('p', { class: 'muted small' }, 'This is the first chat of the case.'));
    return;
  }
  box.replaceChildren(
    ...earlier.map((s) => {
      const lines = (s.events || [])
        .filter((e) => e.event === 'chat_session_message' || e.event === 'chat_session_file')
        .map((e) => {
          const who = e.party_id === s.chat.chat_id ? 'customer' : 'agent';
          const text = e.event === 'chat_session_file' ? 'File: ' + (e.file_name || 'file') : e.msg_text || e.msg || '';
          return el('li', { class: 'hist-line hist-line--' + who }, el('span', { class: 'hist-who' }, who === 'customer' ? 'Customer' : 'Agent'), text);
        });
      const when = s.chat.created ? new Date(s.chat.created).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' }) : '';
      return el(
        'details',
        { class: 'hist' },
        el('summary', {}, el('span', {}, when), el('span', { class: 'muted small' }, ` · ${lines.length} message${lines.length === 1 ? '' : 's'}`)),
        lines.length ? el('ol', { class: 'hist-lines' }, ...lines) : el('p', { class: 'muted small' }, 'No messages.'),
      );
    }),
  );
}

// ---------------------------------------------------------------- transfer

let transferChat = null;

async function openTransfer(c) {
  if (!canSend(c)) return;
  transferChat = c;
  const dlg = $('#transfer-dialog');
  const err = $('#transfer-error');
  err.hidden = true;
  $('#transfer-queue').value = (c.details && c.details.app_id) || '';
  const select = $('#transfer-agent-select');
  const idInput = $('#transfer-agent-id');
  const hint = $('#transfer-agent-hint');
  select.replaceChildren();
  idInput.value = '';
  const admin = S.agent && S.agent.role === 'admin';
  let listed = 0;
  if (admin) {
    try {
      const d = await api('GET', 'agents');
      for (const a of d.agents || []) {
        if (a.id === S.agent.id || !a.routing || a.routing.state === 'logged_out' || a.disabled) continue;
        const state = a.routing.state === 'ready' ? 'ready' : 'not ready';
        select.append(el('option', { value: a.id }, `${agentName(a)} (${a.username}) · ${state}`));
        listed++;
      }
    } catch {
      listed = 0;
    }
  }
  const useSelect = admin && listed > 0;
  select.hidden = !useSelect;
  $('#transfer-agent-select-label').hidden = !useSelect;
  idInput.hidden = useSelect;
  $('#transfer-agent-id-label').hidden = useSelect;
  hint.textContent = admin && !listed ? 'No other agent is logged in; enter an agent id or choose a queue.' : '';
  syncTransferMode();
  dlg.showModal();
}

function syncTransferMode() {
  const toQueue = $('#transfer-form').elements.to.value === 'queue';
  $('#transfer-agent-row').hidden = toQueue;
  $('#transfer-queue-row').hidden = !toQueue;
}

async function submitTransfer(e) {
  e.preventDefault();
  const c = transferChat;
  if (!c) return;
  const toQueue = $('#transfer-form').elements.to.value === 'queue';
  const body = {};
  if (toQueue) body.queue = $('#transfer-queue').value.trim();
  else body.agent_id = $('#transfer-agent-select').hidden ? $('#transfer-agent-id').value.trim() : $('#transfer-agent-select').value;
  const err = $('#transfer-error');
  if (!body.queue && !body.agent_id) {
    err.textContent = toQueue ? 'Enter a queue name.' : 'Choose an agent.';
    err.hidden = false;
    return;
  }
  const btn = $('#transfer-submit');
  btn.disabled = true;
  try {
    await api('POST', 'chats/' + encodeURIComponent(c.id) + '/transfer', body);
    c.gone = 'transferred';
    c.assigned = false;
    stopTyping(c);
    renderChatState(c);
    $('#transfer-dialog').close();
  } catch (ex) {
    err.textContent = ex.message;
    err.hidden = false;
  } finally {
    btn.disabled = false;
  }
}

// ---------------------------------------------------------------- start

function wireStatic() {
  $('#login-form').addEventListener('submit', onLogin);
  $('#logout').addEventListener('click', logout);
  $('#state-toggle').addEventListener('click', toggleState);
  $('#state-reason').addEventListener('change', onReasonChange);
  $('#transfer-form').addEventListener('submit', submitTransfer);
  $('#transfer-form').addEventListener('change', syncTransferMode);
  $('#transfer-cancel').addEventListener('click', () => $('#transfer-dialog').close());
  document.addEventListener('pointerdown', unlockAudio, { capture: true });
  document.addEventListener('keydown', unlockAudio, { capture: true });
  document.addEventListener('visibilitychange', () => {
    const c = S.chats.get(S.active);
    if (c) acknowledge(c);
  });
}

function boot() {
  wireStatic();
  const saved = restore();
  if (!saved || !saved.token) {
    showLogin('');
    return;
  }
  S.token = saved.token;
  S.agent = saved.agent;
  $('#login-view').hidden = true;
  api('GET', 'me')
    .then((me) => {
      S.agent = me.agent;
      return startConsole(me.routing, saved.tabs || [], saved.active || '');
    })
    .catch((e) => {
      if (e.status === 401) return; // sessionEnded has shown the login
      startConsole(null, saved.tabs || [], saved.active || '');
    });
}

// A small window onto the console for tests and debugging: read-only
// counters, the last call (its RTCPeerConnection included, for its stats),
// and a switch to drop the stream as a network failure would.
window.parleyConsole = {
  get call() {
    const call = S.lastCall;
    return call ? { chatId: call.chatId, state: call.state, video: call.video, pc: call.pc } : null;
  },
  get alerts() {
    return S.alerts;
  },
  get dupes() {
    return S.dupes;
  },
  get online() {
    return S.online;
  },
  get active() {
    return S.active;
  },
  get routing() {
    return S.routing;
  },
  dropStream(pause) {
    S.wsPaused = !!pause;
    if (S.ws) S.ws.close();
  },
  resumeStream() {
    S.wsPaused = false;
    if (!S.ws) scheduleReconnect();
  },
};

boot();
