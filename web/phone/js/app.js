// The app shell: state from the phone process, hash routing between the
// screens, the push channel (Server-Sent Events) with its banner, dialogs,
// error screens and the language toggle.
import { h } from './dom.js';
import { call } from './api.js';
import { t, setLang, lang } from './i18n.js';
import { screens } from './screens.js';

const $ = (id) => document.getElementById(id);

export const app = {
  state: null,
  params: {},
  progress: new Set(),
  submitting: false,

  screenName() { return location.hash.replace(/^#\/?/, '') || 'home'; },

  go(name, params = {}) {
    app.params = params;
    if (app.screenName() === name) render();
    else location.hash = '#/' + name;
  },

  async refresh() {
    const r = await call('state');
    if (r.ok) app.state = r.data;
    showOffline();
    return app.state;
  },

  dialog(content) {
    const d = $('dialog');
    d.replaceChildren(h('div', { class: 'dialog', role: 'dialog', 'aria-modal': 'true' }, content));
    d.hidden = false;
  },
  closeDialog() { $('dialog').hidden = true; $('dialog').replaceChildren(); },

  // Picks the error screen from the phone process's answer; `context` says
  // which secret was being checked ("card" for ④/⑧, "pin" for the auth PIN).
  fail(res, context = '', retry = 'menu') {
    const d = res.data ?? {};
    let variant = 'generic';
    if (d.where === 'service' && d.error === 'unavailable') variant = 'service';
    else if (context === 'card' && d.where === 'card' && d.error === 'locked') variant = 'card_locked';
    else if (context === 'card' && d.where === 'card' && d.error === 'unauthorized') variant = 'card_wrong';
    else if (context === 'pin' && d.where !== 'service' && d.error === 'locked') variant = 'pin_locked';
    else if (context === 'pin' && d.where !== 'service' && d.error === 'unauthorized') variant = 'pin_wrong';
    else if (d.where === 'card') variant = 'card';
    app.closeDialog();
    app.go('error', { variant, tries: d.tries_left, message: d.message ?? '', retry });
  },

  render: () => render(),
};

let renderSeq = 0;
async function render() {
  const seq = ++renderSeq;
  const name = app.screenName();
  const screen = screens[name] ?? screens.home;
  if (!app.state) await app.refresh();
  const view = await screen(app);
  if (seq !== renderSeq) return;  // a newer screen won
  $('title').textContent = view.title;
  const back = $('back');
  back.hidden = !view.back;
  back.textContent = t('back');
  back.onclick = () => (typeof view.back === 'function' ? view.back() : app.go(view.back));
  renderTabs(view.tab);
  const main = $('screen');
  main.replaceChildren(view.body);
  main.dataset.screen = name;
  document.body.dataset.screen = name;
  main.scrollTop = 0;
  $('lang').textContent = t('lang_toggle');
}

function renderTabs(active) {
  const tabs = $('tabs');
  tabs.hidden = !active;
  if (!active) return;
  tabs.replaceChildren(...[['home', 'tab_home'], ['mypage', 'tab_mypage'], ['menu', 'tab_menu']].map(([name, key]) =>
    h('button', { type: 'button', class: name === active ? 'active' : '', onclick: () => app.go(name) }, t(key))));
}

function showOffline() {
  const off = $('offline');
  off.hidden = app.state?.service_up !== false;
  off.textContent = t('offline');
}

let bannerTimer = null;
function showBanner(key, title = 'banner_ready_title', target = 'mypage') {
  const b = $('banner');
  b.replaceChildren(
    h('div', { class: 'app' }, h('b', {}, t('banner_app')), h('span', {}, t('banner_now'))),
    h('div', { class: 'title' }, t(title)),
    h('div', { class: 'body' }, t(key)));
  b.dataset.kind = key;
  b.hidden = false;
  b.onclick = () => { b.hidden = true; app.go(target); };
  clearTimeout(bannerTimer);
  bannerTimer = setTimeout(() => { b.hidden = true; }, 20000);
}

function listen() {
  const es = new EventSource('api/events?after=' + (app.state?.event_cursor ?? 0));
  const onScreens = (names) => names.includes(app.screenName());
  es.addEventListener('progress', (e) => {
    app.progress.add(JSON.parse(e.data).step);
    document.querySelectorAll('[data-step]').forEach((li) => {
      if (app.progress.has(li.dataset.step)) li.classList.add('done');
    });
  });
  es.addEventListener('registration_ready', async () => {
    await app.refresh();
    showBanner('banner_ready');
    if (onScreens(['home', 'mypage'])) render();
  });
  es.addEventListener('wipe', async () => {
    await app.refresh();
    showBanner('banner_wipe', 'banner_ready_title', 'wiped');
    app.go('wiped');
  });
  for (const [type, key] of [['suspended', 'banner_suspended'], ['resumed', 'banner_resumed'],
    ['revoked', 'banner_revoked'], ['application_rejected', 'banner_rejected']]) {
    es.addEventListener(type, async () => {
      await app.refresh();
      showBanner(key);
      if (onScreens(['home', 'mypage'])) render();
    });
  }
  for (const type of ['service', 'applied', 'registered']) {
    es.addEventListener(type, async () => {
      await app.refresh();
      if (type === 'service' && onScreens(['home', 'mypage'])) render();
    });
  }
}

function tick() {
  const d = new Date();
  $('clock').textContent = `${d.getHours()}:${String(d.getMinutes()).padStart(2, '0')}`;
}

async function main() {
  setLang(localStorage.getItem('smacert.lang') ?? 'ja');
  $('lang').addEventListener('click', () => {
    setLang(lang() === 'ja' ? 'en' : 'ja');
    localStorage.setItem('smacert.lang', lang());
    showOffline();
    render();
  });
  tick();
  setInterval(tick, 10000);
  await app.refresh();
  listen();
  window.addEventListener('hashchange', render);
  await render();
  document.body.dataset.ready = 'yes';
}

main();
