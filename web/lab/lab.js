// The lab: each phone's own UI in a frame, and the service's certificate
// table, pushed by the lab process (Server-Sent Events) whenever it changes.
const $ = (id) => document.getElementById(id);
const el = (tag, attrs = {}, ...kids) => {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const k of kids) e.append(k);
  return e;
};

const kinds = { card_sign: 'card · sign', card_auth: 'card · auth', phone_sign: 'phone · sign', phone_auth: 'phone · auth' };
let previous = new Map();

function cls(text) {
  if (text.startsWith('good') || text === 'active') return 'good';
  if (text.includes('certificateHold') || text === 'suspended') return 'suspended';
  if (text.startsWith('revoked')) return 'revoked';
  return '';
}

function show(doc) {
  if (!doc) return;
  $('error').hidden = !doc.error;
  $('error').textContent = doc.error ?? '';
  const rows = (doc.certificates ?? []).map((c) => {
    const status = c.status + (c.reason ? ` (${c.reason})` : '');
    const key = `${c.status}|${c.ocsp}`;
    const tr = el('tr', { 'data-serial': c.serial, 'data-phone': c.phone },
      el('td', { class: 'serial' }, c.serial), el('td', {}, kinds[c.kind] ?? c.kind), el('td', {}, c.phone),
      el('td', { class: cls(c.status) }, status), el('td', { class: cls(c.ocsp) + ' ocsp' }, c.ocsp));
    if (previous.size && previous.get(c.serial) !== key) tr.classList.add('changed');
    return [c.serial, key, tr];
  });
  previous = new Map(rows.map(([s, k]) => [s, k]));
  $('rows').replaceChildren(...rows.map(([, , tr]) => tr));
  $('updated').textContent = new Date().toLocaleTimeString();
}

async function main() {
  const config = await (await fetch('api/config')).json();
  $('service').textContent = `service ${config.service} · holder ${config.holder_id}`;
  $('phones').replaceChildren(...config.phones.map((p) => el('div', { class: 'phone' },
    el('h2', {}, `${p.name} `, el('small', {}, p.model)),
    el('iframe', { src: p.path, title: p.name, name: p.name }))));
  show(await (await fetch('api/certificates')).json());
  const es = new EventSource('api/events');
  es.addEventListener('certificates', (e) => show(JSON.parse(e.data)));
}

main();
