// polybroker web UI: plain ES module, no build step. Every call goes through the management
// API with the user's basic-auth credentials, so the UI has exactly the API's permissions.

const $ = (sel) => document.querySelector(sel);
let credentials = sessionStorage.getItem('polybroker-auth');
let me = null;
let timer = null;

async function api(method, path, body) {
  const res = await fetch(path, {
    method,
    headers: { authorization: `Basic ${credentials}`, 'content-type': 'application/json', 'x-requested-with': 'polybroker-ui' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const data = text ? JSON.parse(text) : null;
  if (res.status === 401) {
    logout();
    throw new Error(data?.reason ?? 'not authorised');
  }
  if (!res.ok) throw new Error(data?.reason ?? `HTTP ${res.status}`);
  return data;
}

const enc = encodeURIComponent;
const esc = (v) => String(v ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
const num = (n) => (typeof n === 'number' ? (Number.isInteger(n) ? n.toLocaleString('en') : n.toFixed(1)) : '');

function table(el, columns, rows, actions) {
  const head = `<tr>${columns.map(([label]) => `<th>${esc(label)}</th>`).join('')}${actions ? '<th></th>' : ''}</tr>`;
  const body = rows
    .map((r, i) => `<tr>${columns.map(([, get, isNum]) => `<td${isNum ? ' class="num"' : ''}>${isNum ? num(get(r)) : esc(get(r))}</td>`).join('')}${actions ? `<td>${actions(r, i)}</td>` : ''}</tr>`)
    .join('');
  el.innerHTML = head + (body || `<tr><td colspan="${columns.length + 1}">none</td></tr>`);
}

// --- charts: a small line chart on a canvas (no library) ------------------------------------

function lineChart(canvas, series) {
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, h);
  const pad = 36;
  const max = Math.max(1, ...series.flatMap((s) => s.points));
  ctx.strokeStyle = '#d8dde5';
  ctx.fillStyle = '#5c6675';
  ctx.font = '11px sans-serif';
  for (let i = 0; i <= 4; i++) {
    const y = pad / 2 + ((h - pad) * i) / 4;
    ctx.beginPath();
    ctx.moveTo(pad, y);
    ctx.lineTo(w - 8, y);
    ctx.stroke();
    ctx.fillText(num(Math.round(max - (max * i) / 4)), 2, y + 4);
  }
  for (const s of series) {
    const n = s.points.length;
    if (n === 0) continue;
    ctx.strokeStyle = s.color;
    ctx.lineWidth = 2;
    ctx.beginPath();
    s.points.forEach((v, i) => {
      const x = pad + ((w - pad - 8) * i) / Math.max(1, n - 1);
      const y = pad / 2 + (h - pad) * (1 - v / max);
      if (i === 0) ctx.moveTo(x, y);
      else ctx.lineTo(x, y);
    });
    ctx.stroke();
  }
}

// --- views ------------------------------------------------------------------------------------

const views = {
  async overview() {
    const o = await api('GET', '/api/overview');
    const t = o.object_totals;
    const stat = (label, value, id) => `<div class="stat" data-stat="${id}"><b>${num(value)}</b><span>${esc(label)}</span></div>`;
    $('#totals').innerHTML =
      stat('publish / s', o.message_stats.publish_details.rate, 'publish-rate') +
      stat('deliver / s', o.message_stats.deliver_get_details.rate, 'deliver-rate') +
      stat('messages queued', o.queue_totals.messages, 'messages') +
      stat('connections', t.connections, 'connections') +
      stat('queues', t.queues, 'queues') +
      stat('consumers', t.consumers, 'consumers') +
      stat('published', o.message_stats.publish, 'published') +
      stat('delayed', o.polybroker.delayed, 'delayed');
    const hist = o.polybroker.rate_history;
    lineChart($('#rate-chart'), [
      { color: '#1c7ed6', points: hist.map((p) => p.publishRate) },
      { color: '#2f9e44', points: hist.map((p) => p.deliverRate) },
    ]);
    lineChart($('#depth-chart'), [{ color: '#e8590c', points: hist.map((p) => p.messages) }]);
    const byProto = Object.entries(o.polybroker.connections_by_protocol).map(([protocol, n]) => ({ protocol, n, network: o.polybroker.network_connections[protocol] ?? 0, published: o.polybroker.published_by_protocol[protocol] ?? 0, delivered: o.polybroker.delivered_by_protocol[protocol] ?? 0 }));
    table($('#by-protocol'), [['Protocol', (r) => r.protocol], ['Connections', (r) => r.n, true], ['Sockets', (r) => r.network, true], ['Published', (r) => r.published, true], ['Delivered', (r) => r.delivered, true]], byProto);
  },
  async connections() {
    const list = await api('GET', '/api/connections');
    table(
      $('#connections-table'),
      [['Name', (c) => c.name], ['Protocol', (c) => c.protocol], ['Vhost', (c) => c.vhost], ['User', (c) => c.user], ['Client', (c) => c.client_id], ['From', (c) => c.peer_host], ['Channels', (c) => c.channels, true], ['Published', (c) => c.message_stats.publish, true], ['Delivered', (c) => c.message_stats.deliver_get, true]],
      list,
      (c) => `<button class="small" data-close="${esc(c.name)}">Close</button>`,
    );
  },
  async queues() {
    const list = await api('GET', '/api/queues');
    table(
      $('#queues-table'),
      [['Vhost', (q) => q.vhost], ['Name', (q) => q.name], ['Type', (q) => q.type], ['Ready', (q) => q.messages_ready, true], ['Unacked', (q) => q.messages_unacknowledged, true], ['Consumers', (q) => q.consumers, true], ['In / s', (q) => q.message_stats.publish_details.rate, true], ['Out / s', (q) => q.message_stats.deliver_get_details.rate, true], ['Policy', (q) => q.policy ?? '']],
      list,
      (q) => `<button class="small" data-purge="${esc(q.vhost)}|${esc(q.name)}">Purge</button>`,
    );
  },
  async streams() {
    const list = await api('GET', '/api/streams');
    table($('#streams-table'), [['Vhost', (s) => s.vhost], ['Name', (s) => s.name], ['Partitions', (s) => s.partitions, true], ['Messages', (s) => s.messages, true], ['Append / s', (s) => s.messages_details.rate, true], ['Retention (ms)', (s) => s.retention_ms, true]], list);
  },
  async groups() {
    const list = await api('GET', '/api/consumer-groups');
    $('#groups-list').innerHTML = list.length
      ? list
          .map(
            (g, i) => `<div class="card"><h3>${esc(g.group)} <small>(${esc(g.vhost)}, ${esc(g.state)}, ${g.members.length} member(s), lag ${num(g.lag)})</small></h3><table id="group-${i}"></table></div>`,
          )
          .join('')
      : '<div class="card">no consumer groups</div>';
    list.forEach((g, i) => {
      const owner = (o) => g.members.find((m) => m.assignments.some((a) => a.stream === o.stream && a.partitions.includes(o.partition)))?.client_id ?? '';
      table($(`#group-${i}`), [['Stream', (o) => o.stream], ['Partition', (o) => o.partition, true], ['Committed', (o) => o.committed_offset, true], ['End', (o) => o.high_watermark, true], ['Lag', (o) => o.lag, true], ['Member', owner]], g.offsets);
    });
  },
  async sessions() {
    const list = await api('GET', '/api/mqtt/sessions');
    table($('#sessions-table'), [['Client id', (s) => s.client_id], ['Vhost', (s) => s.vhost], ['Connected', (s) => (s.connected ? 'yes' : 'no')], ['User', (s) => s.user ?? ''], ['Queued', (s) => s.messages, true], ['Subscriptions', (s) => s.subscriptions.join(' ')]], list);
  },
  async messages() {},
  async definitions() {},
};

function current() {
  const id = (location.hash || '#overview').slice(1);
  return views[id] ? id : 'overview';
}

async function render() {
  const id = current();
  for (const s of document.querySelectorAll('main > section')) s.hidden = s.id !== id;
  for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.getAttribute('href') === `#${id}`);
  try {
    await views[id]();
  } catch (err) {
    console.error(err);
  }
}

function start() {
  $('#login').hidden = true;
  $('#tabs').hidden = false;
  $('#who').textContent = `${me.name} (${me.tags.join(', ')}) · `;
  const out = document.createElement('a');
  out.href = '#';
  out.textContent = 'log out';
  out.style.color = 'inherit';
  out.onclick = (e) => {
    e.preventDefault();
    logout();
  };
  $('#who').append(out);
  for (const a of document.querySelectorAll('[data-admin]')) a.hidden = !me.tags.includes('administrator');
  render();
  clearInterval(timer);
  timer = setInterval(render, 2000);
}

function logout() {
  sessionStorage.removeItem('polybroker-auth');
  credentials = null;
  clearInterval(timer);
  $('#tabs').hidden = true;
  $('#who').textContent = '';
  for (const s of document.querySelectorAll('main > section')) s.hidden = true;
  $('#login').hidden = false;
}

$('#login').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  credentials = btoa(`${f.get('username')}:${f.get('password')}`);
  try {
    me = await api('GET', '/api/whoami');
    sessionStorage.setItem('polybroker-auth', credentials);
    $('#login-error').textContent = '';
    start();
  } catch (err) {
    $('#login-error').textContent = `Login failed: ${err.message}`;
  }
});

window.addEventListener('hashchange', render);

document.addEventListener('click', async (e) => {
  const close = e.target.closest('[data-close]');
  if (close) {
    await api('DELETE', `/api/connections/${enc(close.dataset.close)}`).catch((err) => alert(err.message));
    render();
  }
  const purge = e.target.closest('[data-purge]');
  if (purge) {
    const [vhost, name] = purge.dataset.purge.split('|');
    await api('DELETE', `/api/queues/${enc(vhost)}/${enc(name)}/contents`).catch((err) => alert(err.message));
    render();
  }
});

$('#publish').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    const r = await api('POST', `/api/exchanges/${enc(f.get('vhost'))}/${enc(f.get('exchange') || 'amq.default')}/publish`, { routing_key: f.get('routing_key'), payload: f.get('payload'), payload_encoding: 'string', properties: {} });
    $('#publish-result').textContent = r.routed ? 'Message published.' : 'Message published, but not routed.';
  } catch (err) {
    $('#publish-result').textContent = `Error: ${err.message}`;
  }
});

$('#get').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try {
    const msgs = await api('POST', `/api/queues/${enc(f.get('vhost'))}/${enc(f.get('queue'))}/get`, { count: Number(f.get('count')), ackmode: f.get('ackmode'), encoding: 'auto' });
    $('#get-result').textContent = msgs.length ? msgs.map((m) => `${m.routing_key}: ${m.payload}`).join('\n') : 'Queue is empty.';
  } catch (err) {
    $('#get-result').textContent = `Error: ${err.message}`;
  }
});

$('#export').addEventListener('click', async () => {
  const defs = await api('GET', '/api/definitions');
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([JSON.stringify(defs, null, 2)], { type: 'application/json' }));
  a.download = 'polybroker-definitions.json';
  a.click();
});

$('#import').addEventListener('submit', async (e) => {
  e.preventDefault();
  const file = new FormData(e.target).get('file');
  try {
    const r = await api('POST', '/api/definitions', JSON.parse(await file.text()));
    $('#import-result').textContent = r.changes.length ? r.changes.join('\n') : 'Nothing changed.';
  } catch (err) {
    $('#import-result').textContent = `Error: ${err.message}`;
  }
});

if (credentials) {
  api('GET', '/api/whoami').then(
    (w) => {
      me = w;
      start();
    },
    () => logout(),
  );
} else logout();
