// Outpost console. The server renders every page; this script only
//  1. keeps one server-sent-events stream open (/console/stream) and, when news comes, refreshes the regions of the
//     page that show it (each region is fetched alone: ?region=NAME) or updates an agent's state in place;
//  2. sends the forms' requests to the operator API (/api/v1/*) with the page's CSRF token;
//  3. keeps "3 min ago" times current.
// Reading pages needs none of it. No library, no build step.
'use strict';
(function () {
  const meta = document.querySelector('meta[name="csrf-token"]');
  const csrf = meta ? meta.content : '';
  const liveStatus = document.getElementById('live');
  const stream = document.body.dataset.stream;

  // ------------------------------------------------------------------ times

  function ago(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    if (s < 60) return s + ' s ago';
    if (s < 3600) return Math.floor(s / 60) + ' min ago';
    if (s < 86400) return Math.floor(s / 3600) + ' h ago';
    return Math.floor(s / 86400) + ' d ago';
  }

  function tickTimes(root) {
    (root || document).querySelectorAll('time[data-ago]').forEach(function (t) {
      const at = Date.parse(t.dateTime);
      if (!isNaN(at)) t.textContent = ago(Date.now() - at);
    });
  }
  setInterval(tickTimes, 10000);

  // ------------------------------------------------------------------ regions

  // how long news waits before its region is fetched: news comes in bursts, a region is fetched once per burst
  const DELAYS = { counts: 1500, table: 2000, charts: 10000, health: 2000, deployed: 2000, runs: 1500, summary: 700, results: 1500 };
  const timers = new Map();
  const wantOpen = new Set(); // details the operator should see open (the command they just ran)

  function refresh(name, delay) {
    if (timers.has(name)) return;
    const wait = delay === undefined ? (DELAYS[name] || 800) : delay;
    timers.set(name, setTimeout(function () {
      timers.delete(name);
      load(name);
    }, wait));
  }

  function refreshAll() {
    document.querySelectorAll('[data-region]').forEach(function (r) { refresh(r.dataset.region, 0); });
  }

  async function load(name) {
    const el = document.querySelector('[data-region="' + name + '"]');
    if (!el) return;
    const url = new URL(location.href);
    url.searchParams.set('region', name);
    url.hash = '';
    let rs;
    try {
      rs = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'text/html' } });
    } catch (e) {
      return; // the server is away: the stream's reconnect refreshes everything later
    }
    if (rs.redirected && new URL(rs.url).pathname === '/console/signin') {
      location.assign(rs.url);
      return;
    }
    if (!rs.ok) return;
    swap(el, await rs.text());
  }

  /** Replaces a region's content, keeping what the operator was doing in it: focus, ticked boxes, open details. */
  function swap(el, html) {
    const active = document.activeElement;
    const focus = active && el.contains(active) ? selectorOf(active) : null;
    const ticked = new Set();
    el.querySelectorAll('input[type=checkbox]:checked').forEach(function (c) { ticked.add(c.name + '=' + c.value); });
    const open = new Set();
    el.querySelectorAll('details[open][data-details]').forEach(function (d) { open.add(d.dataset.details); });
    el.innerHTML = html;
    el.querySelectorAll('input[type=checkbox]').forEach(function (c) { if (ticked.has(c.name + '=' + c.value)) c.checked = true; });
    el.querySelectorAll('details[data-details]').forEach(function (d) {
      if (open.has(d.dataset.details) || wantOpen.has(d.dataset.details)) d.open = true;
    });
    if (focus) {
      const again = el.querySelector(focus);
      if (again) again.focus();
    }
    tickTimes(el);
  }

  function selectorOf(e) {
    if (e.id) return '#' + CSS.escape(e.id);
    if (e.dataset.cancel) return '[data-cancel="' + CSS.escape(e.dataset.cancel) + '"]';
    if (e.tagName === 'SUMMARY' && e.parentElement.dataset.details) return '[data-details="' + CSS.escape(e.parentElement.dataset.details) + '"] > summary';
    if (e.tagName === 'INPUT' && e.name) return 'input[name="' + CSS.escape(e.name) + '"][value="' + CSS.escape(e.value) + '"]';
    if (e.tagName === 'A') return 'a[href="' + CSS.escape(e.getAttribute('href')) + '"]';
    return null;
  }

  // ------------------------------------------------------------------ the stream

  function say(text) {
    if (liveStatus) liveStatus.textContent = text;
  }

  function news(kind) {
    document.querySelectorAll('[data-refresh-on]').forEach(function (r) {
      if (r.dataset.refreshOn.split(' ').indexOf(kind) >= 0) refresh(r.dataset.region);
    });
  }

  function agentNews(m) {
    const id = CSS.escape(m.id);
    document.querySelectorAll('[data-agent-state="' + id + '"]').forEach(function (e) {
      e.textContent = m.state;
      e.className = 'state s-' + m.state;
    });
    document.querySelectorAll('[data-agent-seen="' + id + '"]').forEach(function (e) {
      const t = document.createElement('time');
      t.dateTime = m.lastSeen;
      t.title = m.lastSeen;
      t.setAttribute('data-ago', '');
      t.textContent = ago(Date.now() - Date.parse(m.lastSeen));
      e.replaceChildren(t);
    });
    if (stream.indexOf('page=agent') === 0) say('The agent is ' + m.state + '.');
    news('agent');
  }

  async function stillSignedIn() {
    try {
      const rs = await fetch(location.href, { credentials: 'same-origin' });
      if (rs.redirected && new URL(rs.url).pathname === '/console/signin') {
        location.assign(rs.url);
        return false;
      }
    } catch (e) {
      // the server is away: try the stream again later
    }
    return true;
  }

  let broken = false;

  function connect() {
    const es = new EventSource('/console/stream?' + stream + '&v=' + encodeURIComponent(document.body.dataset.version || ''));
    es.addEventListener('hello', function () {
      say('Live updates: on');
      if (broken) refreshAll(); // whatever happened while the stream was broken
      broken = false;
    });
    es.addEventListener('agent', function (e) { agentNews(JSON.parse(e.data)); });
    es.addEventListener('result', function () { news('result'); });
    es.addEventListener('event', function () { news('event'); });
    es.addEventListener('refresh', refreshAll);
    es.addEventListener('signedout', function () {
      es.close();
      location.assign('/console/signin?next=' + encodeURIComponent(location.pathname + location.search));
    });
    es.onerror = function () {
      broken = true;
      say('Live updates: reconnecting…');
      if (es.readyState === EventSource.CLOSED) {
        // the browser gave up (an answer that is no stream): see whether the session ended, then try again
        setTimeout(async function () { if (await stillSignedIn()) connect(); }, 3000);
      }
    };
  }

  if (stream && window.EventSource) connect();

  // ------------------------------------------------------------------ forms

  async function api(path, body, type) {
    const rs = await fetch(path, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': type || 'application/json', 'X-CSRF-Token': csrf, Accept: 'application/json' },
      body: type ? body : JSON.stringify(body)
    });
    let data = null;
    try {
      data = await rs.json();
    } catch (e) {
      data = null;
    }
    if (!rs.ok) throw new Error((data && data.error) || 'the server answered ' + rs.status);
    return data;
  }

  function formStatus(f, text) {
    const s = f.querySelector('.form-status');
    if (s) s.textContent = text;
  }

  function formError(f, text) {
    const s = f.querySelector('.form-error');
    if (s) s.textContent = text;
  }

  /** The command fields common to the forms: action, params (a JSON object), timeout, dry run. */
  function commandFields(f) {
    const action = f.elements.action.value.trim();
    if (!action) throw new Error('Action is required, e.g. agent.ping.');
    let params = {};
    const text = f.elements.params.value.trim();
    if (text) {
      try {
        params = JSON.parse(text);
      } catch (e) {
        throw new Error('Params is not valid JSON: ' + e.message);
      }
      if (params === null || typeof params !== 'object' || Array.isArray(params)) throw new Error('Params must be a JSON object, like {"echo": 1}.');
    }
    const c = { action: action, params: params };
    if (f.elements.timeout && f.elements.timeout.value) c.timeoutSeconds = Number(f.elements.timeout.value);
    if (f.elements.dryRun && f.elements.dryRun.checked) c.dryRun = true;
    return c;
  }

  /** The agents a form sends to: every one, or those its text area names (ids or host names; "host  id" lines give the id). */
  async function targets(f) {
    if (f.elements.to.value === 'all') return null;
    const names = f.elements.agents.value.split(/[\n,]+/).map(function (l) { return l.trim().split(/\s+/).pop(); })
      .filter(function (n) { return n; });
    if (names.length === 0) throw new Error('Name at least one agent, or choose every enrolled agent.');
    const found = await api('/console/targets', { names: names });
    if (found.unknown.length) throw new Error('No agent has the id or host name ' + found.unknown.join(', ') + '.');
    return found.agents.map(function (a) { return a.agentId; });
  }

  async function sendCommands(c, agents) {
    if (agents === null) return api('/api/v1/commands', Object.assign({ all: true }, c));
    return api('/api/v1/commands', { commands: agents.map(function (id) { return Object.assign({ agentId: id }, c); }) });
  }

  const handlers = {
    run: async function (f) {
      const c = commandFields(f);
      c.agentId = f.dataset.agent;
      const rs = await api('/api/v1/commands', c);
      const id = rs.commands[0].id;
      wantOpen.add(id);
      formStatus(f, (c.dryRun ? 'Dry run of ' : '') + c.action + ' sent; its result appears below when it comes.');
      refresh('commands', 0);
    },
    inventory: async function (f) {
      await api('/api/v1/commands', { agentId: f.dataset.agent, action: 'health.inventory' });
      formStatus(f, 'Asked the agent; the inventory is shown when it answers.');
    },
    send: async function (f) {
      const c = commandFields(f);
      const rs = await sendCommands(c, await targets(f));
      formStatus(f, 'Sent to ' + rs.commands.length + ' agents.');
      if (rs.runId) location.assign('/console/runs/' + encodeURIComponent(rs.runId));
    },
    upload: async function (f) {
      const file = f.elements.jar.files[0];
      if (!file) throw new Error('Choose a jar file first.');
      const b = await api('/api/v1/bundles', file, 'application/java-archive');
      formStatus(f, 'Uploaded ' + b.bsn + ' ' + b.version + ' (sha256 ' + b.sha256.slice(0, 12) + '…).');
      f.reset();
      refresh('bundles', 0);
      refresh('push', 0);
    },
    push: async function (f) {
      const op = f.elements.op.value;
      const c = { action: 'plugin.' + op, params: {} };
      if (op === 'remove') {
        const bsn = f.elements.bsn.value.trim();
        if (!bsn) throw new Error('Name the bundle to remove (its symbolic name).');
        c.params.bsn = bsn;
      } else {
        const sha = f.elements.sha256.value;
        if (!sha) throw new Error('Upload a bundle first, then choose it.');
        c.params.url = '/agent/v1/bundles/' + sha;
        c.params.sha256 = sha;
        if (op === 'install') c.params.start = f.elements.start.checked;
        else c.params.allowDowngrade = f.elements.allowDowngrade.checked;
      }
      if (f.elements.dryRun.checked) c.dryRun = true;
      const rs = await sendCommands(c, await targets(f));
      formStatus(f, 'Sent to ' + rs.commands.length + ' agents.');
      if (rs.runId) location.assign('/console/runs/' + encodeURIComponent(rs.runId));
    }
  };

  document.addEventListener('submit', function (e) {
    const f = e.target;
    const handler = handlers[f.dataset.form];
    if (!handler) return; // a plain form (filters, sign-out): the browser sends it
    e.preventDefault();
    const button = f.querySelector('button[type=submit]');
    formError(f, '');
    formStatus(f, 'Sending…');
    if (button) button.disabled = true;
    handler(f).catch(function (err) {
      formStatus(f, '');
      formError(f, err.message);
    }).finally(function () {
      if (button) button.disabled = false;
    });
  });

  document.addEventListener('click', async function (e) {
    const cancel = e.target.closest('[data-cancel]');
    if (cancel) {
      cancel.disabled = true;
      try {
        await api('/api/v1/commands/' + encodeURIComponent(cancel.dataset.cancel) + '/cancel', {});
        say('Cancel sent.');
      } catch (err) {
        say('Cancel refused: ' + err.message);
      }
      refresh('commands', 0);
      refresh('command', 0);
      return;
    }
    const push = e.target.closest('[data-push]');
    if (push) {
      const f = document.getElementById('push-form');
      f.elements.sha256.value = push.dataset.push;
      f.elements.op.value = 'install';
      showOps(f);
      f.scrollIntoView({ block: 'start' });
      f.querySelector('input[name=op]:checked').focus();
    }
  });

  // the push form shows the fields of the chosen operation only
  function showOps(f) {
    const op = f.elements.op.value;
    f.querySelectorAll('[data-for-op]').forEach(function (e) {
      e.hidden = e.dataset.forOp.split(' ').indexOf(op) < 0;
    });
  }
  document.addEventListener('change', function (e) {
    if (e.target.name === 'op' && e.target.form && e.target.form.id === 'push-form') showOps(e.target.form);
  });
})();
