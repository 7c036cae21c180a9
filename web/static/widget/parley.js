/*
 * Parley chat widget. One file, no dependencies, no build step. A site adds it
 * with one tag:
 *
 *   <script src="https://HOST/widget/parley.js" data-tenant="TENANT" data-app="APP_ID" async></script>
 *
 * It speaks the customer API v2 (/clientweb/api/v2/) of the server it was
 * loaded from, inside a <parley-chat> element whose shadow root keeps its
 * styles and the page's apart. It defines no global besides that element.
 *
 * Identity is a client id kept in localStorage per tenant and app (never the
 * WebChat cookie: third-party cookies are unreliable), so a reload or a second
 * tab resumes the live chat. Tabs of one browser share the conversation: one
 * of them (holding a Web Lock) long-polls and passes what it gets to the
 * others over a BroadcastChannel, since the server answers one poll per chat.
 *
 * Calls: an agent's OFFER_CALL rings in the widget, which answers with WebRTC
 * (ICE servers from GET iceservers) through chat_session_signaling events. A
 * page whose entry has calls on adds data-calls="true" to the tag: the
 * customer may then ask the agent for a call (REQUEST_CALL). Tests set
 * window.parleyForceRelay = true to make calls use TURN relays only, and read
 * the element's `call` property (state and RTCPeerConnection).
 */
(() => {
  'use strict';

  const TAG = 'parley-chat';
  if (!('customElements' in window) || customElements.get(TAG)) return;

  const API = '/clientweb/api/v2/';
  const SCHEME = 'MOBILE-API-140-327-PLAIN';
  const TYPING_EVERY = 2000; // the longest a draft the agent sees may lag
  const TYPING_IDLE = 3000; // silence after which the customer stops typing
  const AGENT_TYPING_MAX = 30000; // hide an agent's indicator nobody cleared
  const RING_MAX = 60000; // an incoming call rings this long at most
  const OFFER_MAX_AGE = 90; // seconds: an older offer (a reload's backlog) does not ring

  const script = document.currentScript || document.querySelector('script[src*="/widget/parley.js"]');

  // ---------------------------------------------------------------- helpers

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    // crypto.randomUUID needs a secure context; getRandomValues does not.
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const x = Array.from(b, (v) => v.toString(16).padStart(2, '0')).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }

  function sleep(ms, signal) {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      if (signal) signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
    });
  }

  // h builds an element. Text is always set as text: nothing a server sends
  // is ever parsed as HTML.
  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = v;
      else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
    return el;
  }

  const str = (v) => (typeof v === 'string' ? v.trim() : '');

  function humanize(name) {
    const s = String(name).replace(/[_-]+/g, ' ').replace(/([a-z])([A-Z])/g, '$1 $2').trim().toLowerCase();
    return s ? s[0].toUpperCase() + s.slice(1) : 'Field';
  }

  function waitText(seconds) {
    const s = Number(seconds);
    if (!(s > 0)) return '';
    const min = Math.max(1, Math.round(s / 60));
    if (min >= 90) return `Estimated wait: about ${Math.round(min / 60)} h`;
    return `Estimated wait: about ${min} min`;
  }

  function clock(ts) {
    const n = Number(ts);
    const d = n > 0 ? new Date(n * 1000) : new Date();
    return d.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  }

  const nowSeconds = () => String(Math.floor(Date.now() / 1000));

  function initials(name) {
    const parts = String(name || '').trim().split(/\s+/).filter(Boolean);
    return ((parts[0] || '?')[0] + (parts.length > 1 ? parts[parts.length - 1][0] : '')).toUpperCase();
  }

  function httpURL(s, base) {
    try {
      const u = new URL(s, base);
      return u.protocol === 'https:' || u.protocol === 'http:' ? u.href : '';
    } catch {
      return '';
    }
  }

  // appendText adds text with its web addresses as links (http and https
  // only); everything else stays text.
  function appendText(parent, text) {
    const re = /\bhttps?:\/\/[^\s<>"']*[^\s<>"'.,;:!?)\]}]/gi;
    let last = 0;
    for (const m of text.matchAll(re)) {
      parent.append(text.slice(last, m.index));
      parent.append(h('a', { href: m[0], target: '_blank', rel: 'noopener noreferrer', text: m[0] }));
      last = m.index + m[0].length;
    }
    parent.append(text.slice(last));
  }

  const ICONS = {
    chat: '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true"><path fill="currentColor" d="M12 3C6.5 3 2 6.8 2 11.5c0 2.4 1.2 4.6 3.1 6.1L4.3 21l3.9-2.1c1.2.4 2.5.6 3.8.6 5.5 0 10-3.8 10-8.5S17.5 3 12 3zm-4.5 9.8a1.3 1.3 0 1 1 0-2.6 1.3 1.3 0 0 1 0 2.6zm4.5 0a1.3 1.3 0 1 1 0-2.6 1.3 1.3 0 0 1 0 2.6zm4.5 0a1.3 1.3 0 1 1 0-2.6 1.3 1.3 0 0 1 0 2.6z"/></svg>',
    down: '<svg viewBox="0 0 24 24" width="28" height="28" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2.4" stroke-linecap="round" stroke-linejoin="round" d="M6 9l6 6 6-6"/></svg>',
    close: '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" d="M6 6l12 12M18 6L6 18"/></svg>',
    end: '<svg viewBox="0 0 24 24" width="21" height="21" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2.2" stroke-linecap="round" d="M12 3v8M7.1 6.2a7.5 7.5 0 1 0 9.8 0"/></svg>',
    clip: '<svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" d="M20.5 11.5l-8.3 8.3a5 5 0 0 1-7-7l8.6-8.6a3.3 3.3 0 0 1 4.7 4.7l-8.6 8.6a1.7 1.7 0 0 1-2.4-2.4l7.9-7.9"/></svg>',
    send: '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="currentColor" d="M3.4 20.4l17.5-7.5a1 1 0 0 0 0-1.8L3.4 3.6a1 1 0 0 0-1.4 1.1L3.9 11 14 12 3.9 13l-1.9 6.3a1 1 0 0 0 1.4 1.1z"/></svg>',
    file: '<svg viewBox="0 0 24 24" width="20" height="20" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" d="M14 3H7a2 2 0 0 0-2 2v14a2 2 0 0 0 2 2h10a2 2 0 0 0 2-2V8l-5-5zM14 3v5h5"/></svg>',
    phone: '<svg viewBox="0 0 24 24" width="21" height="21" aria-hidden="true"><path fill="none" stroke="currentColor" stroke-width="2" stroke-linejoin="round" d="M5 3.5h3.2l1.6 4.3-2.2 1.5a11 11 0 0 0 5.1 5.1l1.5-2.2 4.3 1.6V17a2.5 2.5 0 0 1-2.7 2.5A15.5 15.5 0 0 1 2.5 6.2 2.5 2.5 0 0 1 5 3.5z"/></svg>',
  };

  // icon returns one of the constant SVGs above (never server data).
  function icon(name) {
    const s = h('span', { class: 'ico', 'aria-hidden': 'true' });
    s.innerHTML = ICONS[name];
    return s;
  }

  // Input attributes per parameter type of GET parameters.
  const FIELDS = {
    FIRST_NAME: { type: 'text', autocomplete: 'given-name' },
    LAST_NAME: { type: 'text', autocomplete: 'family-name' },
    EMAIL: { type: 'email', autocomplete: 'email', inputmode: 'email' },
    PHONE: { type: 'tel', autocomplete: 'tel', inputmode: 'tel' },
    COMPANY: { type: 'text', autocomplete: 'organization' },
    ACCOUNT: { type: 'text', autocomplete: 'off' },
    TEXT: { type: 'text' },
  };

  // ----------------------------------------------------------------- calls

  // iceConfig makes the RTCPeerConnection configuration of an iceservers
  // answer. The page's window.parleyForceRelay = true (a test hook) makes
  // calls use TURN relays only.
  function iceConfig(servers) {
    const iceServers = (Array.isArray(servers) ? servers : []).map((s) => ({
      urls: Array.isArray(s.urls) && s.urls.length ? s.urls : s.url,
      username: s.username,
      credential: s.credential,
    }));
    const cfg = { iceServers };
    if (window.parleyForceRelay === true) cfg.iceTransportPolicy = 'relay';
    return cfg;
  }

  // iceCandidate makes a signaled candidate fit for addIceCandidate: every
  // value arrives as a string.
  function iceCandidate(d) {
    const i = d.sdpMLineIndex === '' || d.sdpMLineIndex == null ? NaN : Number(d.sdpMLineIndex);
    return { candidate: String(d.candidate), sdpMid: str(d.sdpMid) || null, sdpMLineIndex: Number.isFinite(i) ? i : null };
  }

  function stopTracks(stream) {
    if (stream) for (const t of stream.getTracks()) t.stop();
  }

  // ------------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(status, code, message) {
      super(message || `request failed (${status})`);
      this.status = status;
      this.code = code || '';
    }
  }

  class Api {
    constructor(base, tenant, app) {
      this.base = base;
      this.tenant = tenant;
      this.app = app;
      this.clientId = '';
    }

    async request(method, path, { query, json, form, signal, timeout = 15000 } = {}) {
      const url = new URL(this.base + API + path);
      url.searchParams.set('tenantUrl', this.tenant);
      for (const [k, v] of Object.entries(query || {})) url.searchParams.set(k, String(v));
      const headers = { Authorization: `${SCHEME} appId="${this.app}", clientId="${this.clientId}"` };
      let body;
      if (form) body = form;
      else if (json !== undefined) {
        body = JSON.stringify(json);
        headers['Content-Type'] = 'application/json; charset=utf-8';
      }
      const ctl = new AbortController();
      const timer = setTimeout(() => ctl.abort(), timeout);
      const onAbort = () => ctl.abort();
      if (signal) signal.addEventListener('abort', onAbort, { once: true });
      try {
        const res = await fetch(url, { method, headers, body, signal: ctl.signal, credentials: 'omit', cache: 'no-store' });
        const data = await res.json().catch(() => ({}));
        if (!res.ok) throw new ApiError(res.status, data.error_code, data.error_message);
        return data || {};
      } catch (err) {
        if (err instanceof ApiError) throw err;
        throw new ApiError(0, '', 'The connection failed.');
      } finally {
        clearTimeout(timer);
        if (signal) signal.removeEventListener('abort', onAbort);
      }
    }
  }

  // Store keeps the widget's identity for a tenant and app: the client id and
  // the live chat. Storage may be refused (privacy modes); memory then stands in.
  class Store {
    constructor(key) {
      this.key = key;
      this.mem = {};
    }

    load() {
      try {
        const v = JSON.parse(localStorage.getItem(this.key) || '{}');
        return v && typeof v === 'object' ? v : {};
      } catch {
        return { ...this.mem };
      }
    }

    save(patch) {
      const v = { ...this.load(), ...patch };
      this.mem = v;
      try {
        localStorage.setItem(this.key, JSON.stringify(v));
      } catch { /* memory only */ }
      return v;
    }

    session(name, value) {
      try {
        if (value === undefined) return sessionStorage.getItem(`${this.key}:${name}`);
        if (value === null) sessionStorage.removeItem(`${this.key}:${name}`);
        else sessionStorage.setItem(`${this.key}:${name}`, value);
      } catch { /* not kept */ }
      return null;
    }
  }

  // ---------------------------------------------------------------- styles

  const STYLES = `
:host { all: initial; }
*, *::before, *::after { box-sizing: border-box; }
[hidden] { display: none !important; }
.root {
  all: initial; display: block;
  --brand: #3b5bdb; --on-brand: #ffffff; --ink: #1d2130; --muted: #646b80; --line: #e3e6ee;
  --paper: #f4f5f9; --font: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  font-family: var(--font); font-size: 15px; line-height: 1.45; color: var(--ink);
  -webkit-font-smoothing: antialiased; text-align: left;
}
button, input, textarea { font: inherit; color: inherit; }
button { cursor: pointer; }
:focus-visible { outline: 3px solid var(--brand); outline-offset: 2px; }
.head :focus-visible, .launcher:focus-visible { outline-color: var(--ink); box-shadow: 0 0 0 3px #fff; }
.launcher {
  position: fixed; right: 20px; bottom: 20px; z-index: 2147483000; width: 60px; height: 60px;
  border: 0; border-radius: 50%; background: var(--brand); color: var(--on-brand);
  display: flex; align-items: center; justify-content: center; padding: 0;
  box-shadow: 0 8px 24px rgba(17, 24, 39, .25); transition: transform .15s ease, opacity .2s ease;
  opacity: 0; pointer-events: none;
}
.root.ready .launcher { opacity: 1; pointer-events: auto; }
.launcher:hover { transform: scale(1.06); }
.launcher .ico { display: flex; }
.launcher .ico-down, .root.open .launcher .ico-chat { display: none; }
.root.open .launcher .ico-down { display: flex; }
.badge {
  position: absolute; top: -3px; right: -3px; min-width: 22px; height: 22px; padding: 0 6px;
  border-radius: 11px; background: #e03131; color: #fff; font-size: 12px; font-weight: 700;
  line-height: 22px; text-align: center; box-shadow: 0 0 0 2px #fff;
}
.root.left .launcher { right: auto; left: 20px; }
.root.left .window { right: auto; left: 20px; }
.window {
  position: fixed; right: 20px; bottom: 92px; z-index: 2147483001;
  width: 380px; height: min(640px, calc(100vh - 112px)); min-height: 320px;
  display: flex; flex-direction: column; overflow: hidden;
  background: #fff; border-radius: 18px; box-shadow: 0 16px 48px rgba(17, 24, 39, .28), 0 2px 6px rgba(17, 24, 39, .08);
  animation: pc-in .18s ease-out;
}
@keyframes pc-in { from { opacity: 0; transform: translateY(12px); } to { opacity: 1; transform: none; } }
.head {
  display: flex; align-items: center; gap: 12px; padding: 14px 10px 14px 16px;
  background: var(--brand); color: var(--on-brand); flex: none;
}
.head-text { flex: 1; min-width: 0; }
.title { margin: 0; font-size: 16.5px; font-weight: 650; line-height: 1.25; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.subtitle { margin: 2px 0 0; font-size: 13px; opacity: .92; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.subtitle .dot { display: inline-block; width: 8px; height: 8px; border-radius: 50%; background: #51cf66; margin-right: 6px; vertical-align: 1px; }
.subtitle .dot.off { background: #adb5bd; }
.avatar {
  position: relative; flex: none; width: 40px; height: 40px; border-radius: 50%; overflow: hidden;
  display: flex; align-items: center; justify-content: center; font-weight: 650; font-size: 15px;
  background: rgba(255, 255, 255, .22); color: inherit;
}
.avatar img { width: 100%; height: 100%; object-fit: cover; display: block; }
.avatar .ico { display: flex; }
.icon-btn {
  flex: none; width: 38px; height: 38px; border: 0; border-radius: 10px; padding: 0;
  background: transparent; color: inherit; display: inline-flex; align-items: center; justify-content: center;
}
.head .icon-btn:hover { background: rgba(255, 255, 255, .16); }
.confirm {
  display: flex; align-items: center; gap: 8px; padding: 10px 14px; background: #fff4e6;
  border-bottom: 1px solid #ffe3bf; font-size: 14px; flex: none;
}
.confirm span { flex: 1; }
.btn { border: 1px solid var(--line); background: #fff; border-radius: 9px; padding: 6px 12px; font-size: 14px; font-weight: 600; }
.btn.danger { background: #e03131; border-color: #e03131; color: #fff; }
.banner {
  display: flex; align-items: center; gap: 10px; padding: 10px 16px; font-size: 13.5px;
  background: #fff; border-bottom: 1px solid var(--line); color: var(--muted); flex: none;
}
.spinner {
  width: 16px; height: 16px; flex: none; border-radius: 50%; border: 2px solid var(--line); border-top-color: var(--brand);
  animation: pc-spin 1s linear infinite;
}
@keyframes pc-spin { to { transform: rotate(360deg); } }
.pane { flex: 1; min-height: 0; display: flex; flex-direction: column; background: var(--paper); }
.prechat { overflow-y: auto; padding: 20px 18px 18px; }
.greeting {
  margin: 0 0 6px; padding: 14px 16px; background: #fff; border-radius: 16px 16px 16px 6px;
  box-shadow: 0 1px 2px rgba(17, 24, 39, .08); white-space: pre-wrap;
}
.wait { margin: 0 0 16px 4px; font-size: 13px; color: var(--muted); }
.note { margin: 0 0 14px; padding: 10px 12px; border-radius: 10px; background: #fff4e6; color: #8a4b00; font-size: 14px; }
.note.error { background: #fff0f0; color: #b42318; }
.field { display: flex; flex-direction: column; gap: 5px; margin: 0 0 12px; }
.field label { font-size: 13px; font-weight: 600; color: #3b4157; }
.field input {
  width: 100%; padding: 10px 12px; border: 1px solid #cfd4df; border-radius: 10px; background: #fff; font-size: 15px;
}
.field input:focus-visible, .input:focus-visible { outline: none; border-color: var(--brand); box-shadow: 0 0 0 3px color-mix(in srgb, var(--brand) 28%, transparent); }
.primary {
  width: 100%; margin-top: 4px; padding: 12px 16px; border: 0; border-radius: 11px;
  background: var(--brand); color: var(--on-brand); font-weight: 650; font-size: 15px;
}
.primary:disabled { opacity: .6; cursor: default; }
.log {
  flex: 1; min-height: 0; overflow-y: auto; padding: 14px 14px 10px; display: flex; flex-direction: column;
  overscroll-behavior: contain;
}
.log:focus-visible { outline-offset: -3px; }
.row { display: flex; align-items: flex-end; gap: 8px; margin-top: 12px; }
.row.cont { margin-top: 3px; }
.row.me { justify-content: flex-end; }
.row .avatar { width: 30px; height: 30px; font-size: 12px; background: #dde2ee; color: #3b4157; }
.row.cont .avatar { visibility: hidden; }
.stack { display: flex; flex-direction: column; align-items: flex-start; max-width: 78%; min-width: 0; }
.row.me .stack { align-items: flex-end; }
.name { margin: 0 0 3px 4px; font-size: 12px; color: var(--muted); }
.bubble {
  padding: 9px 13px; border-radius: 18px; background: #fff; color: var(--ink); max-width: 100%;
  box-shadow: 0 1px 2px rgba(17, 24, 39, .08); white-space: pre-wrap; overflow-wrap: anywhere;
}
.them .bubble { border-bottom-left-radius: 6px; }
.row.cont.them .bubble { border-top-left-radius: 6px; }
.me .bubble { background: var(--brand); color: var(--on-brand); border-bottom-right-radius: 6px; }
.row.cont.me .bubble { border-top-right-radius: 6px; }
.bubble a { color: inherit; text-decoration: underline; }
.bubble.media { padding: 0; background: none; box-shadow: none; overflow: hidden; border-radius: 14px; }
.bubble.media a { display: block; }
.bubble.media img { display: block; max-width: 230px; max-height: 230px; border-radius: 14px; background: #e9ecf3; }
.uploading img { opacity: .55; }
.file { display: inline-flex; align-items: center; gap: 8px; text-decoration: none !important; }
.file .ico { display: flex; flex: none; }
.meta { display: flex; align-items: center; gap: 5px; margin: 3px 6px 0; font-size: 11.5px; color: var(--muted); }
.mark { letter-spacing: -3px; padding-right: 3px; font-weight: 700; }
.me[data-status="read"] .mark { color: #1c7ed6; }
.me[data-status="failed"] .meta { color: #c92a2a; }
.retry { border: 0; background: none; padding: 0; color: inherit; text-decoration: underline; font-size: inherit; }
.notice {
  align-self: center; max-width: 90%; margin: 14px 0 2px; padding: 4px 12px; border-radius: 999px;
  background: #e7eaf2; color: #4d556b; font-size: 12.5px; text-align: center;
}
.notice.warn { background: #fff4e6; color: #8a4b00; }
.typing { display: flex; align-items: center; gap: 8px; padding: 0 16px 8px; font-size: 12.5px; color: var(--muted); flex: none; }
.dots { display: inline-flex; gap: 3px; padding: 8px 10px; border-radius: 14px; background: #fff; box-shadow: 0 1px 2px rgba(17, 24, 39, .08); }
.dots i { width: 6px; height: 6px; border-radius: 50%; background: #98a0b3; animation: pc-blink 1.2s infinite ease-in-out; }
.dots i:nth-child(2) { animation-delay: .15s; }
.dots i:nth-child(3) { animation-delay: .3s; }
@keyframes pc-blink { 0%, 80%, 100% { opacity: .3; transform: translateY(0); } 40% { opacity: 1; transform: translateY(-2px); } }
.composer { display: flex; align-items: flex-end; gap: 6px; padding: 10px 10px 10px 8px; background: #fff; border-top: 1px solid var(--line); flex: none; }
.composer .attach { color: var(--muted); }
.composer .attach:hover { background: var(--paper); }
.input {
  flex: 1; min-width: 0; height: 40px; max-height: 128px; resize: none; padding: 9px 14px;
  border: 1px solid #cfd4df; border-radius: 20px; background: #fff; line-height: 1.35; font-size: 15px;
}
.send { border-radius: 50%; background: var(--brand); color: var(--on-brand); }
.send:disabled { opacity: .45; cursor: default; }
.ended { padding: 14px 16px 16px; background: #fff; border-top: 1px solid var(--line); text-align: center; flex: none; }
.ended p { margin: 0 0 10px; color: var(--muted); font-size: 14px; }
.drop { outline: 3px dashed var(--brand); outline-offset: -8px; }
.call { flex: none; padding: 10px 12px; background: #fff; border-bottom: 1px solid var(--line); }
.ring { display: flex; flex-wrap: wrap; align-items: center; gap: 8px; }
.ring-text { flex: 1; min-width: 150px; margin: 0; font-weight: 650; }
.ring-actions { display: flex; gap: 8px; }
.btn.accept { background: #2b8a3e; border-color: #2b8a3e; color: #fff; }
.call-media { position: relative; margin-bottom: 8px; border-radius: 12px; overflow: hidden; background: #111827; aspect-ratio: 4 / 3; max-height: 40vh; }
.call.audio .call-media { display: none; }
.call-media video { display: block; }
.call-media .remote { width: 100%; height: 100%; object-fit: contain; }
.call-media .local { position: absolute; right: 8px; bottom: 8px; width: 30%; border-radius: 8px; border: 2px solid rgba(255, 255, 255, .7); background: #1f2937; }
.call-bar { display: flex; align-items: center; gap: 8px; }
.call-state { flex: 1; font-size: 14px; font-weight: 600; }
.call[data-state="connected"] .call-state { color: #2b8a3e; }
.powered { margin: 0; padding: 5px 0 7px; background: #fff; font-size: 11px; color: #9096a8; text-align: center; flex: none; }
.sr { position: absolute; width: 1px; height: 1px; margin: -1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
@media (max-width: 480px) {
  .window, .root.left .window { inset: 0; width: 100%; height: 100%; min-height: 0; max-height: none; border-radius: 0; }
  .root.open .launcher { display: none; }
  .bubble.media img { max-width: 200px; }
}
@media (prefers-reduced-motion: reduce) {
  .window, .spinner, .dots i { animation: none; }
  .launcher { transition: none; }
}
`;

  const TEMPLATE = `
<div class="root">
  <button type="button" class="launcher" aria-expanded="false" aria-controls="pc-window">
    <span class="ico ico-chat"></span><span class="ico ico-down"></span>
    <span class="badge" hidden aria-hidden="true"></span>
  </button>
  <section id="pc-window" class="window" role="dialog" aria-modal="false" hidden>
    <header class="head">
      <div class="avatar head-avatar" aria-hidden="true"></div>
      <div class="head-text">
        <h2 class="title"></h2>
        <p class="subtitle"></p>
      </div>
      <button type="button" class="icon-btn call-btn" aria-label="Ask for a call" title="Ask for a call" hidden></button>
      <button type="button" class="icon-btn end-btn" aria-label="End chat" title="End chat" hidden></button>
      <button type="button" class="icon-btn close-btn" aria-label="Close chat window" title="Close"></button>
    </header>
    <div class="confirm end-confirm" role="group" aria-label="End the chat?" hidden>
      <span>End this chat?</span>
      <button type="button" class="btn keep">Cancel</button>
      <button type="button" class="btn danger confirm-end">End chat</button>
    </div>
    <div class="confirm ask" role="group" aria-label="Ask the agent to call you" hidden>
      <span>Ask for a call?</span>
      <button type="button" class="btn ask-cancel">Cancel</button>
      <button type="button" class="btn ask-audio">Voice</button>
      <button type="button" class="btn ask-video">Video</button>
    </div>
    <div class="pane prechat">
      <p class="greeting"></p>
      <p class="wait"></p>
      <p class="note" role="alert" hidden></p>
      <form class="form">
        <div class="fields"></div>
        <button type="submit" class="primary start">Start chat</button>
      </form>
    </div>
    <div class="pane conversation" hidden>
      <div class="banner" role="status" hidden><span class="spinner" aria-hidden="true"></span><span class="banner-text"></span></div>
      <section class="call" aria-label="Call" hidden>
        <div class="ring" role="group" aria-label="Incoming call">
          <p class="ring-text" aria-live="assertive"></p>
          <div class="ring-actions">
            <button type="button" class="btn danger decline">Decline</button>
            <button type="button" class="btn accept answer">Answer</button>
          </div>
        </div>
        <div class="live">
          <div class="call-media">
            <video class="remote" autoplay playsinline aria-label="The agent's video"></video>
            <video class="local" autoplay playsinline muted aria-label="Your camera"></video>
          </div>
          <div class="call-bar">
            <span class="call-state" role="status"></span>
            <button type="button" class="btn danger hangup">Hang up</button>
          </div>
        </div>
      </section>
      <div class="log" role="log" aria-live="polite" aria-label="Conversation" tabindex="0"></div>
      <div class="typing" role="status" hidden><span class="dots" aria-hidden="true"><i></i><i></i><i></i></span><span class="typing-text"></span></div>
      <form class="composer">
        <input type="file" class="file-input" multiple hidden tabindex="-1" aria-hidden="true">
        <button type="button" class="icon-btn attach" aria-label="Attach a file" title="Attach a file"></button>
        <textarea class="input" rows="1" aria-label="Message" placeholder="Write a message…" enterkeyhint="send"></textarea>
        <button type="submit" class="icon-btn send" aria-label="Send message" title="Send"></button>
      </form>
      <div class="ended" hidden>
        <p>Thanks for chatting with us.</p>
        <button type="button" class="primary restart">Start a new chat</button>
      </div>
    </div>
    <p class="powered">Powered by Parley</p>
  </section>
</div>`;

  // ---------------------------------------------------------------- element

  class ParleyChat extends HTMLElement {
    connectedCallback() {
      if (this.running) return;
      this.running = true;
      this.setup();
    }

    disconnectedCallback() {
      if (!this.running) return;
      this.running = false;
      this.hangUp();
      if (this.chat) this.stopPolling(this.chat);
      if (this.channel) this.channel.close();
      document.removeEventListener('visibilitychange', this.onVisibility);
      clearTimeout(this.readyTimer);
    }

    setup() {
      const base = (this.getAttribute('server') || '').replace(/\/+$/, '');
      const tenant = this.getAttribute('tenant') || '';
      const app = this.getAttribute('app') || '';
      this.base = base;
      this.api = new Api(base, tenant, app);
      this.key = `parley:${tenant}:${app}`;
      this.store = new Store(this.key);
      this.cfg = { title: 'Chat with us', greeting: '', available: '', closed: '', logo: '', showEwtClosed: false };
      this.avail = null;
      this.params = [];
      this.lastValues = {};
      this.chat = null;
      this.sendQueue = Promise.resolve();

      const shadow = this.shadowRoot || this.attachShadow({ mode: 'open' });
      shadow.innerHTML = `<style>${STYLES}</style>${TEMPLATE}`;
      const $ = (sel) => shadow.querySelector(sel);
      this.$ = $;
      this.root = $('.root');
      this.launcher = $('.launcher');
      this.win = $('.window');
      this.log = $('.log');
      this.input = $('.input');
      this.fileInput = $('.file-input');
      $('.ico-chat').replaceWith(Object.assign(icon('chat'), { className: 'ico ico-chat' }));
      $('.ico-down').replaceWith(Object.assign(icon('down'), { className: 'ico ico-down' }));
      $('.close-btn').append(icon('close'));
      $('.end-btn').append(icon('end'));
      $('.call-btn').append(icon('phone'));
      $('.attach').append(icon('clip'));
      $('.send').append(icon('send'));

      this.launcher.addEventListener('click', () => (this.isOpen() ? this.close() : this.open(true)));
      $('.close-btn').addEventListener('click', () => this.close());
      this.win.addEventListener('keydown', (e) => {
        if (e.key !== 'Escape') return;
        e.stopPropagation();
        if (!$('.ask').hidden) this.hideAsk();
        else if (!$('.end-confirm').hidden) this.hideConfirm();
        else this.close();
      });
      $('.form').addEventListener('submit', (e) => { e.preventDefault(); this.requestChat(); });
      $('.composer').addEventListener('submit', (e) => { e.preventDefault(); this.submitMessage(); });
      this.input.addEventListener('keydown', (e) => {
        this.sentByEnter = e.key === 'Enter' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey && !e.isComposing;
        if (this.sentByEnter) {
          e.preventDefault();
          this.submitMessage();
        }
      });
      // A line break that still arrives for that Enter (synthesized key
      // events send the character apart from the key) is not the draft's.
      this.input.addEventListener('beforeinput', (e) => {
        if (this.sentByEnter && (e.inputType === 'insertLineBreak' || e.inputType === 'insertParagraph')) e.preventDefault();
      });
      this.input.addEventListener('keyup', () => { this.sentByEnter = false; });
      this.input.addEventListener('input', () => this.onDraft());
      this.input.addEventListener('paste', (e) => {
        const files = e.clipboardData ? Array.from(e.clipboardData.files || []) : [];
        if (files.length) { e.preventDefault(); this.uploadFiles(files); }
      });
      $('.attach').addEventListener('click', () => this.fileInput.click());
      this.fileInput.addEventListener('change', () => {
        const files = Array.from(this.fileInput.files || []);
        this.fileInput.value = '';
        this.uploadFiles(files);
      });
      const conv = $('.conversation');
      conv.addEventListener('dragover', (e) => {
        if (!this.canSend() || !e.dataTransfer || !Array.from(e.dataTransfer.types).includes('Files')) return;
        e.preventDefault();
        conv.classList.add('drop');
      });
      conv.addEventListener('dragleave', () => conv.classList.remove('drop'));
      conv.addEventListener('drop', (e) => {
        conv.classList.remove('drop');
        if (!this.canSend() || !e.dataTransfer) return;
        e.preventDefault();
        this.uploadFiles(Array.from(e.dataTransfer.files || []));
      });
      $('.end-btn').addEventListener('click', () => this.showConfirm());
      $('.keep').addEventListener('click', () => this.hideConfirm());
      $('.confirm-end').addEventListener('click', () => this.endChat());
      $('.restart').addEventListener('click', () => this.restart());
      $('.call-btn').addEventListener('click', () => { $('.ask').hidden = false; $('.ask-audio').focus(); });
      $('.ask-cancel').addEventListener('click', () => this.hideAsk());
      $('.ask-audio').addEventListener('click', () => this.requestCall(false));
      $('.ask-video').addEventListener('click', () => this.requestCall(true));
      $('.answer').addEventListener('click', () => this.answerCall());
      $('.decline').addEventListener('click', () => this.declineCall());
      $('.hangup').addEventListener('click', () => this.hangUp());
      this.onVisibility = () => this.markRead();
      document.addEventListener('visibilitychange', this.onVisibility);

      if ('BroadcastChannel' in window) {
        this.channel = new BroadcastChannel(this.key);
        this.channel.onmessage = (e) => this.onPeer(e.data);
      }

      this.renderHeader();
      this.renderPrechat();
      // The launcher appears once the configuration (colours) is known, so
      // it does not flash from the default colour; slow servers get it anyway.
      this.readyTimer = setTimeout(() => this.root.classList.add('ready'), 4000);
      this.start();
    }

    async start() {
      const saved = this.store.load();
      // Until a chat starts, requests carry a throwaway client id: nothing is
      // stored for visitors who never chat.
      this.api.clientId = saved.clientId || `web-${uuid()}`;
      const remembered = saved.clientId && saved.chatId;
      if (remembered) this.showPane('conversation');
      if (this.store.session('open') === '1') this.open(false);
      const info = Promise.allSettled([
        this.api.request('GET', 'configuration'),
        this.api.request('GET', 'availability'),
        this.api.request('GET', 'parameters'),
      ]);
      if (remembered) this.resume(saved.chatId);
      const [config, avail, params] = await info;
      if (!this.running) return;
      if (config.status === 'fulfilled') this.applyConfig(config.value);
      if (avail.status === 'fulfilled') this.avail = avail.value;
      if (params.status === 'fulfilled') this.params = Array.isArray(params.value.parameters) ? params.value.parameters : [];
      if (config.status === 'rejected' && avail.status === 'rejected') {
        this.prechatNote('Chat is not available right now. Please try again later.', true);
      }
      clearTimeout(this.readyTimer);
      if (this.cfg.enabled !== false || this.chat) this.root.classList.add('ready');
      this.renderHeader();
      this.renderPrechat();
    }

    applyConfig(data) {
      const w = (Array.isArray(data.widgets) && data.widgets[0]) || {};
      const tab = (w.definition && w.definition.contact_tab) || {};
      const styles = w.styles || {};
      const c = this.cfg;
      c.title = str(tab.title) || c.title;
      c.greeting = str(tab.greeting);
      c.available = str(tab.agents_available_msg);
      c.closed = str(tab.out_of_hours_msg);
      c.showEwtClosed = tab.show_ewt_out_of_hours === true;
      c.enabled = tab.enabled;
      c.logo = tab.logo ? httpURL(String(tab.logo), this.base || location.href) : '';
      const css = window.CSS && CSS.supports ? CSS : { supports: () => false };
      if (str(tab.bg_color) && css.supports('color', tab.bg_color)) this.root.style.setProperty('--brand', tab.bg_color);
      if (str(tab.color) && css.supports('color', tab.color)) this.root.style.setProperty('--on-brand', tab.color);
      if (str(styles.font_family) && css.supports('font-family', styles.font_family)) this.root.style.setProperty('--font', styles.font_family);
      this.root.classList.toggle('left', /left/.test(str(tab.location)));
    }

    // ------------------------------------------------------------ window

    isOpen() { return !this.win.hidden; }

    open(focus) {
      if (!this.isOpen()) {
        this.win.hidden = false;
        this.root.classList.add('open');
        this.launcher.setAttribute('aria-expanded', 'true');
        this.store.session('open', '1');
      }
      if (focus) this.focusFirst();
      this.scrollToEnd();
      this.markRead();
    }

    close() {
      if (!this.isOpen()) return;
      const hadFocus = this.shadowRoot.activeElement && this.win.contains(this.shadowRoot.activeElement);
      this.win.hidden = true;
      this.root.classList.remove('open');
      this.launcher.setAttribute('aria-expanded', 'false');
      this.store.session('open', null);
      this.hideConfirm();
      if (hadFocus) this.launcher.focus();
    }

    focusFirst() {
      const $ = this.$;
      let target;
      if (!$('.prechat').hidden) target = $('.fields input') || $('.start');
      else if (this.chat && this.chat.ended) target = $('.restart');
      else target = this.input;
      (target || $('.close-btn')).focus();
    }

    showPane(name) {
      this.$('.prechat').hidden = name !== 'prechat';
      this.$('.conversation').hidden = name !== 'conversation';
    }

    showConfirm() {
      this.$('.end-confirm').hidden = false;
      this.$('.keep').focus();
    }

    hideConfirm() {
      const c = this.$('.end-confirm');
      if (c.hidden) return;
      const inside = c.contains(this.shadowRoot.activeElement);
      c.hidden = true;
      if (inside) this.$('.end-btn').focus();
    }

    // ------------------------------------------------------------ header

    renderHeader() {
      const $ = this.$;
      const chat = this.chat;
      const agent = chat && !chat.ended && chat.agent ? chat.parties.get(chat.agent) : null;
      $('.title').textContent = agent ? agent.name : this.cfg.title;
      this.win.setAttribute('aria-label', this.cfg.title);
      this.launcher.setAttribute('aria-label', this.launcherLabel());
      const sub = $('.subtitle');
      sub.textContent = '';
      if (agent) {
        sub.append(h('span', { class: 'dot', 'aria-hidden': 'true' }), this.cfg.title);
      } else if (chat && chat.ended) {
        sub.textContent = 'Chat ended';
      } else if (chat) {
        sub.textContent = chat.state === 'ivr' ? 'Virtual assistant' : 'Waiting for an agent';
      } else if (this.avail) {
        const open = this.avail.chat === 'available';
        sub.append(h('span', { class: open ? 'dot' : 'dot off', 'aria-hidden': 'true' }),
          open ? (this.cfg.available || 'We are online') : (this.cfg.closed || 'We are closed right now'));
      }
      const av = $('.head-avatar');
      av.textContent = '';
      if (agent) this.fillAvatar(av, agent);
      else if (this.cfg.logo) {
        const img = h('img', { src: this.cfg.logo, alt: '' });
        img.addEventListener('error', () => { img.remove(); av.append(icon('chat')); }, { once: true });
        av.append(img);
      } else av.append(icon('chat'));
      $('.end-btn').hidden = !chat || chat.ended;
      if (!chat || chat.ended) this.hideConfirm();
      $('.call-btn').hidden = !this.canAskCall();
      if ($('.call-btn').hidden) this.hideAsk();
      this.renderBanner();
    }

    launcherLabel() {
      const n = this.unread || 0;
      return n ? `${this.cfg.title} (${n} unread ${n === 1 ? 'message' : 'messages'})` : this.cfg.title;
    }

    renderBanner() {
      const chat = this.chat;
      const banner = this.$('.banner');
      let text = '';
      if (chat && !chat.ended && (chat.state === 'queued' || chat.state === 'connecting')) {
        text = chat.state === 'connecting' ? 'Connecting you to an agent…'
          : waitText(chat.ewt) || 'An agent will be with you shortly.';
      }
      banner.hidden = !text;
      this.$('.banner-text').textContent = text;
    }

    fillAvatar(el, party) {
      el.textContent = '';
      el.dataset.party = party.id;
      if (party.photo) el.append(h('img', { src: party.photo, alt: '' }));
      else el.append(initials(party.name));
    }

    // ------------------------------------------------------------ pre-chat

    renderPrechat() {
      const $ = this.$;
      $('.greeting').textContent = this.cfg.greeting || 'Hi! How can we help you today?';
      const open = !this.avail || this.avail.chat === 'available';
      $('.wait').textContent = open || this.cfg.showEwtClosed ? waitText(this.avail && this.avail.ewt) : '';
      $('.wait').hidden = !$('.wait').textContent;
      if (this.avail && !open && !this.noteSet) this.prechatNote(this.cfg.closed || 'We are closed right now.', false);
      const fields = $('.fields');
      const values = this.formValues();
      fields.textContent = '';
      for (const p of this.params) {
        const entry = p && typeof p === 'object' ? Object.entries(p)[0] : null;
        if (!entry) continue;
        const [name, type] = entry;
        const id = `pc-f-${name.replace(/[^\w-]/g, '_')}`;
        const attrs = FIELDS[String(type).toUpperCase()] || FIELDS.TEXT;
        const input = h('input', { id, name, ...attrs, value: values[name] || this.lastValues[name] || '' });
        fields.append(h('div', { class: 'field' }, h('label', { for: id, text: humanize(name) }), input));
      }
    }

    prechatNote(text, error) {
      const note = this.$('.note');
      note.textContent = text;
      note.hidden = !text;
      note.classList.toggle('error', !!error);
      this.noteSet = !!text;
    }

    formValues() {
      const out = {};
      for (const input of this.$('.fields').querySelectorAll('input')) {
        if (input.value.trim()) out[input.name] = input.value.trim();
      }
      return out;
    }

    async requestChat() {
      const start = this.$('.start');
      if (start.disabled) return;
      const values = this.formValues();
      this.lastValues = values;
      start.disabled = true;
      start.textContent = 'Starting…';
      this.prechatNote('', false);
      let saved = this.store.load();
      if (!saved.clientId) saved = this.store.save({ clientId: uuid() });
      this.api.clientId = saved.clientId;
      const parameters = { ...values, user_platform: { os: 'web', name: navigator.userAgent, language: navigator.language || '' } };
      try {
        const info = await this.api.request('POST', 'chats', { json: { parameters } });
        await this.enterChat(info, !info.is_new_chat);
        this.peer({ type: 'chat', chat: info.chat_id });
        if (this.isOpen()) this.focusFirst();
      } catch (err) {
        const msg = err.status === 503
          ? (this.cfg.closed || 'No one can take your chat right now. Please try again later.')
          : (err.status === 0 ? 'We could not reach the chat service. Please check your connection and try again.'
            : 'The chat could not be started. Please try again.');
        this.prechatNote(msg, true);
      } finally {
        start.disabled = false;
        start.textContent = 'Start chat';
      }
    }

    // ------------------------------------------------------------ chat

    async resume(chatId) {
      try {
        const info = await this.api.request('GET', 'chats/active');
        if (!this.running || (this.chat && this.chat.id === info.chat_id)) return;
        await this.enterChat(info, true);
      } catch (err) {
        if (err.status === 404) this.store.save({ chatId: '' });
        if (!this.chat) this.showPane('prechat');
        if (err.status !== 404 && chatId) this.prechatNote('Your chat could not be restored. Please try again.', true);
      }
    }

    newChatState(info) {
      return {
        id: info.chat_id, state: info.state || 'queued', ewt: Number(info.ewt) || 0, lastSeq: 0,
        ended: false, loading: false, queue: [], parties: new Map(), agent: '', mine: new Map(),
        marks: new Map(), theirs: new Map(), typingParty: '', lastSender: '', abort: null, polling: false,
      };
    }

    async enterChat(info, withHistory) {
      if (this.chat) this.stopPolling(this.chat);
      const chat = this.newChatState(info);
      this.chat = chat;
      this.store.save({ chatId: chat.id });
      this.log.textContent = '';
      this.unread = 0;
      this.updateBadge();
      this.hideTyping();
      this.$('.composer').hidden = false;
      this.$('.ended').hidden = true;
      this.showPane('conversation');
      this.renderHeader();
      if (withHistory) {
        chat.loading = true;
        try {
          const data = await this.api.request('GET', `chats/${encodeURIComponent(chat.id)}/history`);
          if (this.chat !== chat) return;
          this.applyEvents(chat, Array.isArray(data.events) ? data.events : [], 'history');
        } catch (err) {
          if (this.chat !== chat) return;
          if (err.status === 404) {
            this.chat = null;
            this.store.save({ chatId: '' });
            this.showPane('prechat');
            this.renderHeader();
            return;
          }
        }
        chat.loading = false;
        for (const m of chat.queue.splice(0)) this.onPeer(m);
      }
      if (!chat.ended) this.startPolling(chat);
      this.markRead();
      this.scrollToEnd();
    }

    startPolling(chat) {
      if (chat.polling || chat.ended) return;
      chat.polling = true;
      const ctl = new AbortController();
      chat.abort = ctl;
      const run = () => this.pollLoop(chat, ctl.signal);
      if (navigator.locks && navigator.locks.request) {
        // Only the tab holding the lock polls; the others hear from it.
        navigator.locks.request(`${this.key}:poll:${chat.id}`, { signal: ctl.signal }, run).catch(() => {});
      } else {
        run();
      }
    }

    stopPolling(chat) {
      if (chat.abort) chat.abort.abort();
      chat.abort = null;
      chat.polling = false;
    }

    async pollLoop(chat, signal) {
      let delay = 0;
      while (!signal.aborted && !chat.ended && this.chat === chat) {
        const started = Date.now();
        try {
          const data = await this.api.request('GET', `chats/${encodeURIComponent(chat.id)}/events`,
            { query: { after: chat.lastSeq }, signal, timeout: 30000 });
          delay = 0;
          const events = Array.isArray(data.events) ? data.events : [];
          if (signal.aborted || this.chat !== chat) return;
          if (events.length) {
            // A poll that waited brought events as they happened: their
            // time tells how far this clock is from the server's.
            if (Date.now() - started > 1000) {
              const ts = Math.max(...events.map((e) => Number(e && e.timestamp) || 0));
              if (ts > 0) this.skew = Date.now() / 1000 - ts;
            }
            this.applyEvents(chat, events, 'poll');
            // The other tabs learn what this one acknowledged, so that they
            // do not acknowledge it again.
            const acked = {};
            for (const ev of events) {
              const t = ev && ev.msg_id && chat.theirs.get(ev.msg_id);
              if (t && t.acked) acked[ev.msg_id] = t.acked;
            }
            this.peer({ type: 'events', chat: chat.id, events, acked });
          } else if (Date.now() - started < 1000) {
            // An empty answer at once means another poll took our place.
            await sleep(1000 + Math.random() * 1000, signal);
          }
        } catch (err) {
          if (signal.aborted || this.chat !== chat) return;
          if (err.status === 404) {
            // The chat is over (or no longer ours): polling stops here.
            this.peer({ type: 'ended', chat: chat.id });
            this.chatEnded(chat);
            return;
          }
          if (err.status === 401 || err.status === 403) {
            this.notice('The chat service refused this page. Please reload it.', true);
            return;
          }
          delay = Math.min(delay ? delay * 2 : 1000, 30000);
          await sleep(delay * (0.75 + Math.random() / 2), signal);
        }
      }
    }

    // applyEvents handles a batch of server events (from history, this tab's
    // poll or another tab) or of this customer's own sends made in another
    // tab ('own').
    applyEvents(chat, events, source) {
      const stick = this.nearEnd();
      // An offer followed in the same batch by its end (a backlog after a
      // reload) never rings.
      const open = new Map();
      for (const ev of events) {
        if (!ev || ev.event !== 'chat_session_signaling' || !ev.data) continue;
        const type = ev.data.type;
        if (type === 'OFFER_CALL' || type === 'END_CALL' || type === 'CALL_REJECTED') {
          const earlier = open.get(ev.party_id);
          if (earlier) earlier.superseded = true;
          open.set(ev.party_id, type === 'OFFER_CALL' ? ev : null);
        }
      }
      for (const ev of events) {
        if (!ev || typeof ev !== 'object') continue;
        if (typeof ev.seq === 'number') {
          if (ev.seq <= chat.lastSeq) continue;
          chat.lastSeq = ev.seq;
        }
        this.onEvent(chat, ev, source);
      }
      if (this.chat !== chat) return;
      this.renderHeader();
      this.flushReceipts(chat);
      this.markRead();
      this.updateBadge();
      if (stick) this.scrollToEnd();
    }

    onEvent(chat, ev, source) {
      const own = source === 'own' || (ev.party_id && ev.party_id === chat.id);
      const live = source !== 'history';
      switch (ev.event) {
        case 'chat_session_status':
          chat.state = str(ev.state) || chat.state;
          if (ev.ewt !== undefined) chat.ewt = Number(ev.ewt) || 0;
          if (chat.state === 'failed') this.notice('The chat could not be connected.', true);
          break;
        case 'chat_session_party_joined': {
          const name = str(ev.display_name) || [str(ev.first_name), str(ev.last_name)].filter(Boolean).join(' ')
            || (ev.type === 'scenario' ? 'Assistant' : 'Agent');
          const party = { id: ev.party_id, name, type: ev.type, photo: '' };
          chat.parties.set(ev.party_id, party);
          if (ev.type !== 'scenario' || !chat.agent) chat.agent = ev.party_id;
          this.loadPhoto(chat, party);
          this.notice(`${name} joined the chat`);
          break;
        }
        case 'chat_session_party_left': {
          if (own) break;
          const party = chat.parties.get(ev.party_id);
          if (party) this.notice(`${party.name} left the chat`);
          if (chat.typingParty === ev.party_id) this.hideTyping();
          if (chat.agent === ev.party_id) chat.agent = '';
          break;
        }
        case 'chat_session_message':
        case 'chat_session_file':
        case 'chat_session_location':
          if (own) this.addOwn(chat, ev, 'sent');
          else this.addTheirs(chat, ev, source);
          break;
        case 'chat_session_message_delivered':
        case 'chat_session_message_read': {
          const read = ev.event === 'chat_session_message_read';
          if (own) {
            const t = chat.theirs.get(ev.ref_msg_id);
            if (t) t.acked = Math.max(t.acked, read ? 2 : 1);
          } else {
            this.markOwn(chat, ev.ref_msg_id, read ? 'read' : 'delivered');
          }
          break;
        }
        case 'chat_session_typing':
          if (!own && live) this.showTyping(chat, ev.party_id);
          break;
        case 'chat_session_not_typing':
          if (!own && live && chat.typingParty === ev.party_id) this.hideTyping();
          break;
        case 'chat_session_timeout_warning':
          if (str(ev.msg)) this.notice(ev.msg, true);
          break;
        case 'chat_session_inactivity_timeout':
          if (str(ev.msg)) this.notice(ev.msg, true);
          this.chatEnded(chat);
          break;
        case 'chat_session_ended':
          this.chatEnded(chat);
          break;
        case 'chat_session_signaling':
          if (live && !own) this.onSignal(chat, ev);
          break;
        default:
          // case_set, forms: nothing to show in a text chat.
      }
    }

    // ------------------------------------------------------------ rendering

    nearEnd(slack = 80) {
      const l = this.log;
      return l.scrollHeight - l.scrollTop - l.clientHeight < slack;
    }

    scrollToEnd() {
      this.log.scrollTop = this.log.scrollHeight;
    }

    notice(text, warn) {
      const stick = this.nearEnd();
      this.log.append(h('div', { class: warn ? 'notice warn' : 'notice', text }));
      if (this.chat) this.chat.lastSender = '';
      if (stick) this.scrollToEnd();
    }

    row(chat, who, party) {
      const cont = chat.lastSender === who;
      chat.lastSender = who;
      const own = who === 'me';
      const row = h('div', { class: `row ${own ? 'me' : 'them'}${cont ? ' cont' : ''}` });
      const stack = h('div', { class: 'stack' });
      if (!own) {
        const av = h('div', { class: 'avatar', 'aria-hidden': 'true' });
        if (party) this.fillAvatar(av, party);
        row.append(av);
        if (!cont) stack.append(h('div', { class: 'name', text: party ? party.name : 'Agent' }));
      }
      row.append(stack);
      return { row, stack };
    }

    body(ev) {
      if (ev.event === 'chat_session_file') return this.fileBody(ev);
      if (ev.event === 'chat_session_location') {
        const b = h('div', { class: 'bubble' });
        const url = httpURL(str(ev.url));
        const label = `Location: ${str(ev.latitude)}, ${str(ev.longitude)}`;
        b.append(url ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', text: label }) : label);
        return b;
      }
      const b = h('div', { class: 'bubble' });
      // msg_text is the plain text of a message (msg may be sanitized HTML);
      // either way it is shown as text, never parsed.
      appendText(b, String(ev.msg_text || ev.msg || ''));
      return b;
    }

    fileBody(ev, localURL) {
      const name = str(ev.file_name) || 'file';
      const url = `${this.base}/clientweb/file/${encodeURIComponent(ev.file_id || '')}`;
      const link = () => h('div', { class: 'bubble' },
        h('a', { class: 'file', href: url, target: '_blank', rel: 'noopener noreferrer', download: name }, icon('file'), h('span', { text: name })));
      const isImage = ev.file_type === 'image' || /^image\//.test(String(ev.file_type || ''));
      if (!isImage) return link();
      const img = h('img', { src: localURL || url, alt: name });
      const bubble = h('div', { class: 'bubble media' }, h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', title: name }, img));
      img.addEventListener('load', () => { if (this.nearEnd(200)) this.scrollToEnd(); });
      img.addEventListener('error', () => { if (!localURL) bubble.replaceWith(link()); }, { once: true });
      return bubble;
    }

    meta(ev, own) {
      const meta = h('div', { class: 'meta' }, h('time', { text: clock(ev.timestamp) }));
      if (own) meta.append(h('span', { class: 'mark', 'aria-hidden': 'true' }), h('span', { class: 'sr state' }));
      return meta;
    }

    addOwn(chat, ev, status) {
      const id = ev.msg_id;
      if (id && chat.mine.has(id)) {
        this.setStatus(chat, id, status);
        return;
      }
      const { row, stack } = this.row(chat, 'me');
      stack.append(this.body(ev), this.meta(ev, true));
      this.log.append(row);
      if (id) chat.mine.set(id, { row, status: '' });
      this.setStatus(chat, id, status, row);
      const mark = chat.marks.get(id);
      if (mark) this.setStatus(chat, id, mark);
    }

    addTheirs(chat, ev, source) {
      const party = chat.parties.get(ev.party_id);
      if (chat.typingParty && chat.typingParty === ev.party_id) this.hideTyping();
      const { row, stack } = this.row(chat, ev.party_id || 'them', party);
      stack.append(this.body(ev), this.meta(ev, false));
      this.log.append(row);
      const id = ev.msg_id;
      if (!id) return;
      const t = chat.theirs.get(id) || { acked: 0 };
      chat.theirs.set(id, t);
      if (source === 'poll' && t.acked < 1) {
        // This tab received it from the server: acknowledge delivery.
        this.queueReceipt(chat, 'delivered', id);
        t.acked = 1;
      }
    }

    setStatus(chat, id, status, row) {
      const m = chat.mine.get(id);
      const el = row || (m && m.row);
      if (!el) {
        if (id) chat.marks.set(id, status);
        return;
      }
      const order = { sending: 0, failed: 0, sent: 1, delivered: 2, read: 3 };
      const cur = el.dataset.status;
      if (cur && order[cur] > order[status] && status !== 'sending') return;
      el.dataset.status = status;
      if (m) m.status = status;
      const mark = el.querySelector('.mark');
      const state = el.querySelector('.state');
      const meta = el.querySelector('.meta');
      const old = meta && meta.querySelector('.retry');
      if (old) old.remove();
      if (!mark) return;
      const text = { sending: '', failed: '', sent: '✓', delivered: '✓✓', read: '✓✓' }[status];
      mark.textContent = text;
      mark.title = status === 'sending' ? '' : status[0].toUpperCase() + status.slice(1);
      state.textContent = { sending: 'Sending', failed: 'Not sent', sent: 'Sent', delivered: 'Delivered', read: 'Read' }[status];
      state.className = status === 'sending' || status === 'failed' ? 'state' : 'sr state';
      if (status === 'failed' && el.retry) {
        meta.append(h('button', { type: 'button', class: 'retry', text: 'Retry', onclick: el.retry }));
      }
    }

    markOwn(chat, ref, status) {
      if (!ref) return;
      if (chat.mine.has(ref)) this.setStatus(chat, ref, status);
      else {
        const order = { delivered: 2, read: 3 };
        const prev = chat.marks.get(ref);
        if (!prev || order[status] > (order[prev] || 0)) chat.marks.set(ref, status);
      }
    }

    showTyping(chat, partyId) {
      const party = chat.parties.get(partyId);
      chat.typingParty = partyId;
      this.$('.typing-text').textContent = `${party ? party.name : 'The agent'} is typing…`;
      const stick = this.nearEnd();
      this.$('.typing').hidden = false;
      if (stick) this.scrollToEnd();
      clearTimeout(this.typingTimer);
      this.typingTimer = setTimeout(() => this.hideTyping(), AGENT_TYPING_MAX);
    }

    hideTyping() {
      clearTimeout(this.typingTimer);
      if (this.chat) this.chat.typingParty = '';
      this.$('.typing').hidden = true;
    }

    // loadPhoto tries the party's profile photo once; without one the
    // avatars keep the initials.
    loadPhoto(chat, party) {
      const url = `${this.base}${API}chats/${encodeURIComponent(chat.id)}/profilephotos/${encodeURIComponent(party.id)}?tenantUrl=${encodeURIComponent(this.api.tenant)}`;
      const probe = new Image();
      probe.onload = () => {
        party.photo = url;
        for (const av of this.shadowRoot.querySelectorAll('.avatar')) {
          if (av.dataset.party === party.id) this.fillAvatar(av, party);
        }
      };
      probe.src = url;
    }

    updateBadge() {
      const chat = this.chat;
      let n = 0;
      if (chat) for (const t of chat.theirs.values()) if (t.acked < 2) n++;
      this.unread = this.isOpen() ? 0 : n;
      const badge = this.$('.badge');
      badge.textContent = this.unread > 9 ? '9+' : String(this.unread);
      badge.hidden = !this.unread;
      this.launcher.setAttribute('aria-label', this.launcherLabel());
    }

    // ------------------------------------------------------------ sending

    canSend() { return !!(this.chat && !this.chat.ended); }

    // post sends events in order (one request at a time) and reports whether
    // the server took them. Lost connections are retried when asked: the
    // msg_id makes a resent message count once.
    post(events, retries = 0) {
      const chat = this.chat;
      const run = async () => {
        for (let attempt = 0; ; attempt++) {
          if (!chat || chat.ended || this.chat !== chat) return false;
          try {
            await this.api.request('POST', `chats/${encodeURIComponent(chat.id)}/events`, { json: { events } });
            return true;
          } catch (err) {
            if (err.status === 404) {
              this.peer({ type: 'ended', chat: chat.id });
              this.chatEnded(chat);
              return false;
            }
            if ((err.status === 0 || err.status >= 500) && attempt < retries) {
              await sleep(1000 * 2 ** attempt);
              continue;
            }
            return false;
          }
        }
      };
      const p = this.sendQueue.then(run, run);
      this.sendQueue = p.catch(() => false);
      return p;
    }

    submitMessage() {
      const text = this.input.value.trim();
      if (!text || !this.canSend()) return;
      const chat = this.chat;
      this.input.value = '';
      this.autoGrow();
      const ev = { event: 'chat_session_message', msg_id: uuid(), msg: text, msg_text: text, timestamp: nowSeconds() };
      const events = [ev];
      if (this.stopTyping(false)) events.push({ event: 'chat_session_not_typing' });
      this.addOwn(chat, ev, 'sending');
      this.scrollToEnd();
      this.deliver(chat, ev, events);
      this.input.focus();
    }

    async deliver(chat, ev, events) {
      const entry = chat.mine.get(ev.msg_id);
      if (entry) entry.row.retry = () => { this.setStatus(chat, ev.msg_id, 'sending'); this.deliver(chat, ev, [ev]); };
      const ok = await this.post(events.map(({ timestamp, ...rest }) => rest), 3);
      this.setStatus(chat, ev.msg_id, ok ? 'sent' : 'failed');
      if (ok) this.peer({ type: 'own', chat: chat.id, events: [ev] });
    }

    onDraft() {
      this.autoGrow();
      if (!this.canSend()) return;
      clearTimeout(this.idleTimer);
      const text = this.input.value;
      if (!text.trim()) {
        this.stopTyping(true);
        return;
      }
      const since = Date.now() - (this.typingAt || 0);
      if (!this.typing || since >= TYPING_EVERY) this.sendTyping();
      else if (!this.typingTrail) {
        this.typingTrail = setTimeout(() => {
          this.typingTrail = null;
          if (this.typing && this.input.value.trim() && this.input.value !== this.typingDraft) this.sendTyping();
        }, TYPING_EVERY - since);
      }
      this.idleTimer = setTimeout(() => this.stopTyping(true), TYPING_IDLE);
    }

    sendTyping() {
      this.typing = true;
      this.typingAt = Date.now();
      this.typingDraft = this.input.value;
      this.post([{ event: 'chat_session_typing', msg: this.typingDraft }]);
    }

    // stopTyping ends the customer's typing state, telling the agent unless
    // the caller sends the not_typing itself. It reports whether it was on.
    stopTyping(send) {
      clearTimeout(this.idleTimer);
      clearTimeout(this.typingTrail);
      this.typingTrail = null;
      if (!this.typing) return false;
      this.typing = false;
      if (send && this.canSend()) this.post([{ event: 'chat_session_not_typing' }]);
      return true;
    }

    autoGrow() {
      const i = this.input;
      i.style.height = 'auto';
      i.style.height = `${Math.min(Math.max(i.scrollHeight + 2, 40), 128)}px`;
    }

    queueReceipt(chat, kind, msgId) {
      chat.receipts = chat.receipts || [];
      chat.receipts.push({ event: `chat_session_message_${kind}`, ref_msg_id: msgId });
    }

    flushReceipts(chat) {
      const events = chat.receipts || [];
      chat.receipts = [];
      if (!events.length || chat.ended) return;
      this.post(events).then((ok) => { if (ok) this.peer({ type: 'own', chat: chat.id, events }); });
    }

    // markRead tells the agent their messages were read, once the customer
    // can see them: the window open in a visible tab.
    markRead() {
      const chat = this.chat;
      if (!chat || chat.ended || chat.loading || !this.isOpen() || document.visibilityState !== 'visible') {
        this.updateBadge();
        return;
      }
      for (const [id, t] of chat.theirs) {
        if (t.acked < 2) {
          this.queueReceipt(chat, 'read', id);
          t.acked = 2;
        }
      }
      this.flushReceipts(chat);
      this.updateBadge();
    }

    async uploadFiles(files) {
      for (const file of files) {
        if (!this.canSend()) return;
        await this.uploadFile(this.chat, file);
      }
    }

    async uploadFile(chat, file) {
      const image = /^image\//.test(file.type);
      const ev = {
        event: 'chat_session_file', msg_id: uuid(), file_id: '', file_name: file.name || 'file',
        file_type: image ? 'image' : 'attachment', timestamp: nowSeconds(),
      };
      const local = image ? URL.createObjectURL(file) : '';
      const { row, stack } = this.row(chat, 'me');
      const body = image ? this.fileBody(ev, local) : h('div', { class: 'bubble' }, h('span', { class: 'file' }, icon('file'), h('span', { text: ev.file_name })));
      row.classList.add('uploading');
      stack.append(body, this.meta(ev, true));
      this.log.append(row);
      chat.mine.set(ev.msg_id, { row, status: '' });
      this.setStatus(chat, ev.msg_id, 'sending');
      this.scrollToEnd();
      const form = new FormData();
      form.append('file', file, ev.file_name);
      try {
        const res = await this.api.request('POST', 'files', { form, timeout: 120000 });
        ev.file_id = res.file_id;
        ev.file_name = res.file_name || ev.file_name;
      } catch (err) {
        row.classList.remove('uploading');
        this.setStatus(chat, ev.msg_id, 'failed');
        this.notice(err.status === 400 && err.message ? `${ev.file_name}: ${err.message}` : `${ev.file_name} could not be sent.`, true);
        if (local) URL.revokeObjectURL(local);
        return;
      }
      const { timestamp, ...send } = ev;
      const ok = await this.post([send], 3);
      row.classList.remove('uploading');
      const fresh = this.fileBody(ev);
      if (image) {
        // Keep the local preview until the server's copy has loaded.
        const img = fresh.querySelector('img');
        img.addEventListener('load', () => { body.replaceWith(fresh); URL.revokeObjectURL(local); }, { once: true });
        img.addEventListener('error', () => URL.revokeObjectURL(local), { once: true });
      } else body.replaceWith(fresh);
      this.setStatus(chat, ev.msg_id, ok ? 'sent' : 'failed');
      if (ok) this.peer({ type: 'own', chat: chat.id, events: [ev] });
    }

    async endChat() {
      const chat = this.chat;
      this.hideConfirm();
      if (!this.canSend()) return;
      this.stopTyping(false);
      if (await this.post([{ event: 'chat_session_end' }], 2)) {
        this.peer({ type: 'ended', chat: chat.id });
        this.chatEnded(chat);
      }
    }

    chatEnded(chat) {
      if (chat.ended) return;
      chat.ended = true;
      this.stopPolling(chat);
      if (this.chat !== chat) return;
      // Parley does not end calls: the chat's end ends its call here.
      this.endCall('');
      this.stopTyping(false);
      this.hideTyping();
      this.notice('The chat has ended.');
      const active = this.shadowRoot.activeElement;
      const refocus = !!active && (this.$('.composer').contains(active) || this.$('.end-confirm').contains(active) || active === this.$('.end-btn'));
      this.$('.composer').hidden = true;
      this.$('.ended').hidden = false;
      const saved = this.store.load();
      if (saved.chatId === chat.id) this.store.save({ chatId: '' });
      this.renderHeader();
      this.updateBadge();
      if (refocus && this.isOpen()) this.$('.restart').focus();
      this.scrollToEnd();
    }

    restart() {
      if (this.chat && !this.chat.ended) return;
      this.chat = null;
      this.log.textContent = '';
      this.hideTyping();
      this.showPane('prechat');
      this.prechatNote('', false);
      this.renderHeader();
      this.renderPrechat();
      this.updateBadge();
      this.focusFirst();
    }

    // ------------------------------------------------------------ calls

    // call is the latest call, for tests and debugging: its state ('ringing',
    // 'starting', 'connecting', 'connected', 'reconnecting', then 'idle')
    // and its RTCPeerConnection (kept once the call is over).
    get call() {
      const c = this.lastCall;
      return c ? { state: c.state, video: c.video, pc: c.pc } : null;
    }

    canAskCall() {
      const chat = this.chat;
      if (!this.hasAttribute('calls') || !chat || chat.ended || !chat.agent || this.callState) return false;
      const party = chat.parties.get(chat.agent);
      return !!party && party.type === 'internal';
    }

    hideAsk() {
      const ask = this.$('.ask');
      if (ask.hidden) return;
      const inside = ask.contains(this.shadowRoot.activeElement);
      ask.hidden = true;
      if (inside) (this.canAskCall() ? this.$('.call-btn') : this.input).focus();
    }

    async requestCall(video) {
      const chat = this.chat;
      this.hideAsk();
      if (!this.canAskCall()) return;
      const ok = await this.post([{
        event: 'chat_session_signaling', msg_id: uuid(), destination_party_id: chat.agent,
        data: { type: 'REQUEST_CALL', offerVideo: video ? 'true' : 'false' },
      }], 2);
      if (this.chat !== chat) return;
      chat.askedCall = ok;
      this.notice(ok ? `You asked for a${video ? ' video' : 'n audio'} call. The agent will call you.` : 'Calls are not available right now.', !ok);
    }

    onSignal(chat, ev) {
      if (this.chat !== chat || chat.ended) return;
      const d = ev.data && typeof ev.data === 'object' ? ev.data : {};
      const call = this.callState;
      const from = str(ev.party_id);
      switch (d.type) {
        case 'OFFER_CALL': {
          if (ev.superseded || !str(d.sdp)) return;
          if (Date.now() / 1000 - (this.skew || 0) - Number(ev.timestamp) > OFFER_MAX_AGE) return;
          if (call) {
            // Busy with another call: say so, and leave this one be.
            if (call.agent !== from || call.state !== 'ringing') {
              this.post([{ event: 'chat_session_signaling', msg_id: uuid(), destination_party_id: from,
                data: { type: 'CALL_REJECTED', reason_code: '486', reason: 'busy' } }]);
              return;
            }
            this.endCall('');
          }
          chat.askedCall = false;
          this.ring(chat, from, d);
          break;
        }
        case 'ICE_CANDIDATE':
          if (call && call.agent === from && str(d.candidate)) {
            const cand = iceCandidate(d);
            if (call.remoteSet) call.pc.addIceCandidate(cand).catch(() => {});
            else call.remoteCands.push(cand);
          }
          break;
        case 'END_CALL':
          if (call && call.agent === from) this.endCall(call.state === 'ringing' ? 'Missed call.' : 'The call has ended.');
          break;
        case 'CALL_REJECTED':
          if (call && call.agent === from) this.endCall('The call has ended.');
          else if (chat.askedCall) {
            chat.askedCall = false;
            this.notice('The agent cannot call right now.');
          }
          break;
        default:
          // REQUEST_CALL and ANSWER_CALL: this widget answers calls, it
          // does not place them.
      }
    }

    ring(chat, agent, d) {
      const call = {
        state: 'ringing', video: d.offerVideo === 'true', agent, sdp: String(d.sdp), pc: null, local: null,
        remoteSet: false, remoteCands: [], answered: false, early: [], outbox: [], flushTimer: 0, ringTimer: 0,
      };
      this.callState = call;
      this.lastCall = call;
      this.hideAsk();
      call.ringTimer = setTimeout(() => {
        if (this.callState === call && call.state === 'ringing') this.declineCall('no answer', 'Missed call.');
      }, RING_MAX);
      const hadFocus = this.isOpen() && this.win.contains(this.shadowRoot.activeElement);
      if (!this.isOpen()) this.open(false);
      this.renderCall();
      // Set once the region shows, so that screen readers announce it.
      const party = chat.parties.get(agent);
      this.$('.ring-text').textContent = `Incoming ${call.video ? 'video' : 'audio'} call from ${party ? party.name : 'the agent'}`;
      if (hadFocus) this.$('.answer').focus();
    }

    // signal sends a signaling event of the call to the agent; events made
    // in one go (trickled candidates) share a request, in order.
    signal(call, data) {
      call.outbox.push({ event: 'chat_session_signaling', msg_id: uuid(), destination_party_id: call.agent, data });
      if (call.flushTimer) return;
      call.flushTimer = setTimeout(() => {
        call.flushTimer = 0;
        const events = call.outbox.splice(0);
        if (!events.length) return;
        this.post(events, 2).then((ok) => {
          if (!ok && this.callState === call) this.endCall('The call was lost.');
        });
      }, 0);
    }

    async answerCall() {
      const call = this.callState;
      const chat = this.chat;
      if (!call || call.state !== 'ringing' || !chat) return;
      clearTimeout(call.ringTimer);
      call.state = 'starting';
      this.peer({ type: 'call-taken', chat: chat.id });
      this.renderCall();
      try {
        const ice = await this.api.request('GET', 'iceservers');
        if (this.callState !== call) return;
        const pc = new RTCPeerConnection(iceConfig(ice.servers));
        call.pc = pc;
        pc.onicecandidate = (e) => {
          const c = e.candidate;
          if (!c || !c.candidate || this.callState !== call) return;
          const data = { type: 'ICE_CANDIDATE', candidate: c.candidate, sdpMid: c.sdpMid || '', sdpMLineIndex: c.sdpMLineIndex ?? '' };
          if (call.answered) this.signal(call, data);
          else call.early.push(data);
        };
        pc.ontrack = (e) => {
          if (this.callState !== call) return;
          const v = this.$('.remote');
          v.srcObject = e.streams[0] || new MediaStream([e.track]);
          v.play().catch(() => {});
        };
        pc.onconnectionstatechange = () => this.onPeerState(call);
        await pc.setRemoteDescription({ type: 'offer', sdp: call.sdp });
        call.remoteSet = true;
        for (const c of call.remoteCands.splice(0)) pc.addIceCandidate(c).catch(() => {});
        try {
          call.local = await navigator.mediaDevices.getUserMedia({ audio: true, video: call.video });
        } catch (err) {
          // No camera (or not allowed): answer with the voice alone.
          if (!call.video) throw err;
          call.local = await navigator.mediaDevices.getUserMedia({ audio: true });
        }
        if (this.callState !== call) { stopTracks(call.local); return; }
        this.$('.local').srcObject = call.local;
        for (const t of call.local.getTracks()) pc.addTrack(t, call.local);
        await pc.setLocalDescription(await pc.createAnswer());
        if (this.callState !== call) return;
        call.answered = true;
        call.state = 'connecting';
        this.signal(call, { type: 'ANSWER_CALL', sdp: pc.localDescription.sdp });
        for (const data of call.early.splice(0)) this.signal(call, data);
      } catch (err) {
        if (this.callState !== call) return;
        const denied = err && err.name === 'NotAllowedError';
        this.declineCall(denied ? 'microphone not allowed' : 'could not answer',
          denied ? 'The call needs your microphone. Allow it in your browser to take calls.' : 'The call could not be answered.');
        return;
      }
      this.renderCall();
    }

    onPeerState(call) {
      if (this.callState !== call || !call.pc) return;
      const st = call.pc.connectionState;
      if (st === 'connected') call.state = 'connected';
      else if (st === 'disconnected' && call.state === 'connected') call.state = 'reconnecting';
      else if (st === 'failed') {
        this.hangUp('The call could not connect.');
        return;
      }
      this.renderCall();
    }

    // declineCall refuses the ringing (or failing) call: CALL_REJECTED.
    declineCall(reason = 'declined', text = 'You declined the call.') {
      const call = this.callState;
      if (!call) return;
      if (this.chat) this.peer({ type: 'call-taken', chat: this.chat.id });
      call.outbox = [];
      this.signal(call, { type: 'CALL_REJECTED', reason_code: '603', reason });
      this.endCall(text);
    }

    // hangUp ends the call and tells the agent.
    hangUp(text = '') {
      const call = this.callState;
      if (!call) return;
      if (call.state === 'ringing') {
        this.declineCall();
        return;
      }
      call.outbox = call.outbox.filter((e) => e.data.type !== 'ICE_CANDIDATE');
      this.signal(call, { type: 'END_CALL' });
      this.endCall(text || 'The call has ended.');
    }

    // endCall closes the call here and notes text, if any, in the log.
    endCall(text) {
      const call = this.callState;
      if (!call) return;
      this.callState = null;
      call.state = 'idle';
      clearTimeout(call.ringTimer);
      if (call.pc) {
        call.pc.onicecandidate = null;
        call.pc.ontrack = null;
        call.pc.onconnectionstatechange = null;
        call.pc.close();
      }
      stopTracks(call.local);
      this.$('.remote').srcObject = null;
      this.$('.local').srcObject = null;
      const focused = this.$('.call').contains(this.shadowRoot.activeElement);
      this.renderCall();
      if (text) this.notice(text);
      if (focused && this.canSend()) this.input.focus();
    }

    renderCall() {
      const call = this.callState;
      const box = this.$('.call');
      box.hidden = !call;
      box.dataset.state = call ? call.state : 'idle';
      box.classList.toggle('audio', !!call && !call.video);
      this.$('.ring').hidden = !call || call.state !== 'ringing';
      this.$('.live').hidden = !call || call.state === 'ringing';
      if (call) {
        const kind = call.video ? 'Video call' : 'Audio call';
        this.$('.call-state').textContent = {
          starting: `${kind}: starting…`, connecting: `${kind}: connecting…`, connected: `${kind}: connected`,
          reconnecting: `${kind}: reconnecting…`,
        }[call.state] || kind;
      }
      this.renderHeader();
    }

    // ------------------------------------------------------------ other tabs

    peer(msg) {
      try {
        if (this.channel) this.channel.postMessage(msg);
      } catch { /* a closed channel: alone again */ }
    }

    onPeer(m) {
      if (!m || typeof m !== 'object' || !this.running) return;
      const chat = this.chat;
      if (m.type === 'chat') {
        if (typeof m.chat === 'string' && (!chat || (chat.ended && chat.id !== m.chat))) {
          this.api.clientId = this.store.load().clientId || this.api.clientId;
          this.enterChat({ chat_id: m.chat, state: 'queued', ewt: '0' }, true);
        }
        return;
      }
      if (!chat || m.chat !== chat.id) return;
      if (chat.loading) {
        chat.queue.push(m);
        return;
      }
      if (m.type === 'events' && Array.isArray(m.events)) {
        for (const [id, level] of Object.entries(m.acked || {})) {
          const t = chat.theirs.get(id) || { acked: 0 };
          t.acked = Math.max(t.acked, Number(level) || 0);
          chat.theirs.set(id, t);
        }
        this.applyEvents(chat, m.events, 'peer');
      }
      else if (m.type === 'own' && Array.isArray(m.events)) this.applyEvents(chat, m.events, 'own');
      else if (m.type === 'ended') this.chatEnded(chat);
      else if (m.type === 'call-taken') {
        // Another tab of this customer answered or declined.
        const call = this.callState;
        if (call && call.state === 'ringing') this.endCall('');
      }
    }
  }

  customElements.define(TAG, ParleyChat);

  // Mount the widget the script tag describes.
  function mount() {
    if (!script || !script.src || !script.dataset.tenant) return;
    const src = new URL(script.src, location.href);
    const base = src.origin + src.pathname.replace(/\/widget\/parley\.js$/, '').replace(/\/+$/, '');
    const el = document.createElement(TAG);
    el.setAttribute('server', base);
    el.setAttribute('tenant', script.dataset.tenant);
    el.setAttribute('app', script.dataset.app || '');
    if (script.dataset.calls === 'true') el.setAttribute('calls', '');
    document.body.append(el);
  }
  if (document.body) mount();
  else document.addEventListener('DOMContentLoaded', mount, { once: true });
})();
