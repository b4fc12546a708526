// One function per screen of the seed. Each returns {title, back, tab, body};
// the shell (app.js) puts it on the phone. Every secret typed here is sent
// at once to the phone process and not kept by the page.
import { h, lines } from './dom.js';
import { call } from './api.js';
import { t } from './i18n.js';

const kindName = (kind) => (kind === 'phone_sign' ? t('sign_cert') : t('auth_cert'));
const kindDesc = (kind) => (kind === 'phone_sign' ? t('sign_cert_desc') : t('auth_cert_desc'));

function button(label, onclick, cls = 'btn', extra = {}) {
  return h('button', { type: 'button', class: cls, onclick, ...extra }, label);
}

function menuItem(label, sub, onclick, step = '') {
  return h('button', { type: 'button', onclick },
    h('span', { class: 'label' }, step ? h('span', { class: 'step' }, step) : null, label,
      sub ? h('span', { class: 'sub' }, sub) : null));
}

// The state a certificate shows on My Page (the seed's "● 登録準備が完了しています").
function stateOf(appStatus, cert) {
  if (cert.status === 'revoked') return ['revoked', t('state_revoked')];
  if (cert.status === 'suspended') return ['suspended', t('state_suspended')];
  if (appStatus === 'registered') return ['registered', t('state_registered')];
  if (appStatus === 'ready') return ['ready', t('state_ready')];
  return ['applied', t('state_applied')];
}

// Live rule feedback: the phone process's rules answer as the user types;
// 次へ stays disabled until they hold.
function ruleChecker(which, inputs, feedback, nextButton, neutralText) {
  let seq = 0;
  return async () => {
    const mine = ++seq;
    const [value, confirm] = inputs.map((i) => i.value);
    nextButton.disabled = true;
    if (!value) {
      feedback.className = 'feedback';
      feedback.textContent = '';
      return;
    }
    const r = await call('rules/' + which, { value, confirm: confirm ?? '' });
    if (mine !== seq || !r.ok) return;
    const lang = document.documentElement.lang === 'en' ? 'en' : 'ja';
    if (r.data.ok) {
      feedback.className = 'feedback good';
      feedback.textContent = '✓ ' + t('rule_ok');
      nextButton.disabled = false;
    } else if (/mismatch/.test(r.data.rule) && !confirm) {
      feedback.className = 'feedback';
      feedback.textContent = neutralText;
    } else {
      feedback.className = 'feedback bad';
      feedback.textContent = r.data.message[lang];
    }
  };
}

// After ⑧/⑨ and after each new secret: the next screen, or the application itself.
async function nextStep(app, done) {
  const s = await app.refresh();
  const d = s.draft;
  if (done === 'card' && d.want_sign) return app.go('sign-password');
  if ((done === 'card' || done === 'sign') && d.want_auth) return app.go('auth-pin');
  return submit(app);
}

async function submit(app) {
  if (app.submitting) return;
  app.submitting = true;
  app.progress = new Set();
  app.go('applying');
  const r = await call('application/submit', {});
  app.submitting = false;
  await app.refresh();
  if (!r.ok) return app.fail(r, 'card');
  app.go('applied', r.data);
}

function passwordField(label, autocomplete = 'new-password', inputmode = 'text') {
  return h('input', { type: 'password', 'aria-label': label, autocomplete, inputmode,
    autocapitalize: 'characters', spellcheck: 'false', maxlength: '16' });
}

function unlockDialog(app, title, action) {
  const pin = passwordField(t('pin'), 'off', 'numeric');
  pin.maxLength = 4;
  const body = [h('h2', {}, title), h('p', {}, t('unlock_lead')), pin];
  const buttons = h('div', { class: 'buttons' },
    button(t('revoke_cancel'), () => app.closeDialog(), 'btn secondary'),
    button(t('use_pin'), () => action({ auth_pin: pin.value })));
  if (app.state.biometrics)
    body.push(button(t('use_biometric'), () => action({ biometric: true }), 'btn secondary'));
  app.dialog(h('div', {}, ...body, buttons));
  pin.focus();
}

export const screens = {
  // ① the app opens.
  async home(app) {
    const s = await app.refresh();
    const status = s.wiped ? h('span', { class: 'state revoked' }, t('wiped_heading'))
      : s.certificates.length === 0 && !s.application.status ? h('span', { class: 'state applied' }, t('home_none'))
        : h('div', {}, ...(s.certificates.length ? s.certificates : [{ kind: '', status: '' }]).map((c) => {
          const [cls, label] = stateOf(s.application.status, c);
          return h('div', {}, c.kind ? h('b', {}, kindName(c.kind)) : null, h('span', { class: 'state ' + cls }, label));
        }));
    return {
      title: t('home_title'), tab: 'home',
      body: h('div', {},
        h('div', { class: 'card' }, h('h2', {}, t('home_hello')), h('p', { class: 'lead' }, t('home_lead'))),
        h('div', { class: 'card' }, h('h3', {}, t('home_status')), status),
        h('p', { class: 'note' }, t('home_menu_hint')),
        h('p', { class: 'note' }, `${t('phone_label')}: ${s.model} (${s.device_id})`)),
    };
  },

  // ② メニュー.
  async menu(app) {
    const start = async (kind) => {
      const r = await call('application/start', { kind });
      if (!r.ok) return app.fail(r);
      app.go('apply-form');
    };
    return {
      title: t('menu_title'), tab: 'menu',
      body: h('div', {},
        h('div', { class: 'list' },
          menuItem(t('menu_change'), t('menu_change_sub'), () => start('device_change'), '③'),
          menuItem(t('menu_apply'), t('menu_apply_sub'), () => start('new'))),
        h('div', { class: 'list' },
          menuItem(t('menu_mypage'), t('menu_mypage_sub'), () => app.go('mypage')),
          menuItem(t('menu_bio'), '', () => app.go('biometrics')),
          menuItem(t('menu_check'), '', () => app.go('check'))),
        h('div', { class: 'list' },
          menuItem(t('menu_settings'), t('menu_settings_sub'), () => app.go('settings')),
          menuItem(t('menu_help'), '', () => app.go('help')))),
    };
  },

  // ④–⑦ マイナンバーカード用電子証明書のパスワード等入力 (one screen, scrolled).
  async 'apply-form'(app) {
    const pw = passwordField(t('form_card_label'), 'off');
    const feedback = h('div', { class: 'feedback' });
    const sign = h('input', { type: 'checkbox', checked: true, 'aria-label': t('sign_cert') });
    const auth = h('input', { type: 'checkbox', checked: true, 'aria-label': t('auth_cert') });
    const agree = h('input', { type: 'checkbox', 'aria-label': t('form_agree') });
    const apply = button(t('form_submit'), async () => {
      apply.disabled = true;
      const r = await call('application/form', { card_password: pw.value, sign: sign.checked,
        auth: auth.checked, agree_terms: agree.checked });
      pw.value = '';
      if (!r.ok) return app.fail(r, 'card', 'apply-form');
      app.go('card-read');
    }, 'btn', { disabled: true });
    let pwOk = false;
    const update = () => { apply.disabled = !(pwOk && agree.checked && (sign.checked || auth.checked)); };
    let seq = 0;
    pw.addEventListener('input', async () => {
      const mine = ++seq;
      pwOk = false;
      update();
      if (!pw.value) { feedback.textContent = ''; return; }
      const r = await call('rules/card-password', { value: pw.value });
      if (mine !== seq || !r.ok) return;
      pwOk = r.data.ok;
      feedback.className = 'feedback ' + (pwOk ? 'good' : 'bad');
      feedback.textContent = pwOk ? '✓' : r.data.message[document.documentElement.lang === 'en' ? 'en' : 'ja'];
      update();
    });
    for (const c of [sign, auth, agree]) c.addEventListener('change', update);
    const check = (input, title, desc) => h('label', { class: 'check' }, input, h('div', {}, h('b', {}, title), h('span', {}, desc)));
    return {
      title: t('form_title'), back: async () => { await call('application/cancel', {}); app.go('menu'); },
      body: h('div', {},
        h('div', { class: 'card' },
          h('h3', {}, h('span', { class: 'step' }, '④'), t('form_card_heading')),
          h('p', { class: 'note' }, t('form_card_hint')),
          h('label', { class: 'field' }, t('form_card_label')), pw, feedback),
        h('div', { class: 'card' },
          h('h3', {}, h('span', { class: 'step' }, '⑤'), t('form_certs_heading')),
          h('p', { class: 'note' }, t('form_certs_lead')),
          check(sign, t('sign_cert'), t('sign_cert_desc')),
          check(auth, t('auth_cert'), t('auth_cert_desc'))),
        h('div', { class: 'card' },
          h('h3', {}, h('span', { class: 'step' }, '⑥'), t('form_terms_heading')),
          h('div', { class: 'terms' }, t('form_terms_text')),
          check(agree, t('form_agree'), '')),
        apply),
    };
  },

  // ⑧ マイナンバーカード読み取り, then ⑨ the old phone's revocation dialog.
  async 'card-read'(app) {
    const s = await app.refresh();
    const picture = h('div', { class: 'illustration' },
      h('div', { class: 'nfc-phone' }, h('div', { class: 'nfc-waves' }), h('div', { class: 'nfc-card' }, t('card_label'))));
    const status = h('p', { class: 'note center' },
      s.card.source === 'reader' ? `${t('read_source_reader')} ${s.card.reader || ''}` : `${t('read_source_file')} (${s.card.file || '—'})`);
    const start = button(t('read_start'), async () => {
      start.disabled = true;
      picture.classList.add('reading');
      status.textContent = t('read_reading');
      const r = await call('application/read-card', {});
      if (!r.ok) return app.fail(r, 'card', 'apply-form');
      if (r.data.kind !== 'device_change') return nextStep(app, 'card');
      // ⑨ 古いスマホの旧電子証明書の失効確認ダイアログ
      app.dialog(h('div', { dataset: { dialog: 'revoke-old' } },
        h('h2', {}, t('revoke_title')),
        h('p', {}, t('revoke_text')),
        h('p', { class: 'note' }, t('revoke_text2')),
        h('div', { class: 'buttons' },
          button(t('revoke_cancel'), async () => { app.closeDialog(); await call('application/cancel', {}); app.go('menu'); }, 'btn secondary'),
          button(t('revoke_agree'), async () => {
            const c = await call('application/consent', { revoke_old: true });
            app.closeDialog();
            if (!c.ok) return app.fail(c);
            nextStep(app, 'card');
          }))));
    });
    return {
      title: t('read_title'), back: 'apply-form',
      body: h('div', {}, h('p', { class: 'lead' }, h('span', { class: 'step' }, '⑧'), t('read_lead')), picture, status, start),
    };
  },

  // ⑩ 新しいパスワードの設定 (署名用電子証明書).
  async 'sign-password'(app) {
    const pw = passwordField(t('password'));
    const confirm = passwordField(t('password_confirm'));
    const feedback = h('div', { class: 'feedback' });
    const next = button(t('next'), async () => {
      next.disabled = true;
      const r = await call('application/sign-password', { password: pw.value, confirm: confirm.value });
      pw.value = confirm.value = '';
      if (!r.ok) return app.fail(r);
      nextStep(app, 'sign');
    }, 'btn', { disabled: true });
    const check = ruleChecker('sign-password', [pw, confirm], feedback, next, t('confirm_wait'));
    pw.addEventListener('input', check);
    confirm.addEventListener('input', check);
    return {
      title: t('sign_title'), back: 'card-read',
      body: h('div', {},
        h('div', { class: 'card' },
          h('p', { class: 'lead' }, t('sign_lead_1'), h('br'), h('b', {}, t('sign_cert')), h('br'), t('sign_lead_2')),
          h('p', { class: 'hint' }, t('sign_hint')),
          h('label', { class: 'field' }, t('password')), pw,
          h('p', { class: 'note' }, t('confirm_lead')),
          h('label', { class: 'field' }, t('password_confirm')), confirm,
          feedback),
        next),
    };
  },

  // The same for the user-authentication certificate's 4-digit PIN.
  async 'auth-pin'(app) {
    const pin = passwordField(t('pin'), 'new-password', 'numeric');
    const confirm = passwordField(t('pin_confirm'), 'new-password', 'numeric');
    pin.maxLength = confirm.maxLength = 4;
    const feedback = h('div', { class: 'feedback' });
    const next = button(t('next'), async () => {
      next.disabled = true;
      const r = await call('application/auth-pin', { pin: pin.value, confirm: confirm.value });
      pin.value = confirm.value = '';
      if (!r.ok) return app.fail(r);
      nextStep(app, 'auth');
    }, 'btn', { disabled: true });
    const check = ruleChecker('auth-pin', [pin, confirm], feedback, next, t('confirm_wait'));
    pin.addEventListener('input', check);
    confirm.addEventListener('input', check);
    return {
      title: t('pin_title'), back: 'card-read',
      body: h('div', {},
        h('div', { class: 'card' },
          h('p', { class: 'lead' }, t('sign_lead_1'), h('br'), h('b', {}, t('auth_cert')), h('br'), t('pin_lead_2')),
          h('p', { class: 'hint' }, t('pin_hint')),
          h('label', { class: 'field' }, t('pin')), pin,
          h('p', { class: 'note' }, t('confirm_lead')),
          h('label', { class: 'field' }, t('pin_confirm')), confirm,
          feedback),
        next),
    };
  },

  // The application on its way: the steps tick as the phone process reports them.
  async applying(app) {
    const steps = [['④', 'step_4'], ['⑧', 'step_8'], ['⑩', 'step_10'], ['⑪', 'step_11']];
    return {
      title: t('applying_title'),
      body: h('div', {},
        h('div', { class: 'spinner' }), h('p', { class: 'center' }, t('applying_lead')),
        h('ul', { class: 'steps' }, ...steps.map(([step, key]) =>
          h('li', { dataset: { step }, class: app.progress.has(step) ? 'done' : '' }, `${step} ${t(key)}`)))),
    };
  },

  // 申請の完了.
  async applied(app) {
    const p = app.params ?? {};
    return {
      title: t('applied_title'),
      body: h('div', {},
        h('div', { class: 'card center' },
          h('div', { class: 'done-mark' }),
          h('h2', {}, t('applied_heading')),
          h('p', { class: 'lead' }, t('applied_lead'))),
        h('div', { class: 'card' },
          h('p', {}, h('b', {}, t('applied_push'))),
          h('p', { class: 'note' }, t('applied_evening')),
          p.status === 'waiting' ? h('p', { class: 'hint' }, t('applied_waiting', { at: new Date(p.ready_at).toLocaleString() })) : null,
          h('p', {}, ...lines(t('applied_next')))),
        button(t('to_menu'), () => app.go('menu'))),
    };
  },

  // ⑫ マイページ.
  async mypage(app) {
    const s = await app.refresh();
    const certs = [...s.certificates].sort((a, b) => (a.kind === 'phone_auth' ? -1 : 1) - (b.kind === 'phone_auth' ? -1 : 1));
    const certSection = h('div', { class: 'card' }, h('h3', {}, t('mypage_certs')));
    if (s.wiped) certSection.append(h('span', { class: 'state revoked' }, t('wiped_heading')));
    else if (certs.length === 0 && !s.application.status) certSection.append(h('p', { class: 'note' }, t('mypage_none')));
    else if (certs.length === 0) certSection.append(h('span', { class: 'state applied' }, t('state_applied')));
    for (const c of certs) {
      const [cls, label] = stateOf(s.application.status, c);
      certSection.append(h('div', { class: 'cert', dataset: { kind: c.kind } },
        h('h4', {}, kindName(c.kind)), h('span', { class: 'state ' + cls }, label),
        h('p', { class: 'note' }, kindDesc(c.kind)),
        h('div', { class: 'serial' }, c.serial)));
    }
    if (s.application.status === 'ready' && !s.wiped)
      certSection.append(button(t('register'), () => app.go('register')));
    const revokeOther = () => unlockDialog(app, t('revoke_other_title'), async (unlock) => {
      const r = await call('revoke-other', unlock);
      if (!r.ok) return app.fail(r, 'pin', 'mypage');
      app.dialog(h('div', {},
        h('h2', {}, t('revoke_other_title')),
        h('p', {}, r.data.revoked.length ? t('revoked_other', { n: r.data.revoked.length }) : t('revoked_none')),
        button(t('close'), () => app.closeDialog())));
    });
    return {
      title: t('mypage_title'), tab: 'mypage',
      body: h('div', {},
        certSection,
        h('div', { class: 'card' },
          h('div', { class: 'row' }, h('b', {}, t('other_phone')),
            button(t('revoke'), revokeOther, 'btn small danger', { disabled: s.application.status !== 'registered' })),
          h('p', { class: 'note' }, t('other_phone_lead'))),
        h('div', { class: 'card' }, h('h3', {}, t('card_section')),
          h('div', { class: 'list' }, menuItem(t('card_settings'), t('menu_settings_sub'), () => app.go('settings'))))),
    };
  },

  // ⑬ スマホ用電子証明書の登録.
  async register(app) {
    const go = button(t('register'), async () => {
      go.disabled = true;
      go.textContent = t('registering');
      const r = await call('register', {});
      if (!r.ok) return app.fail(r, '', 'mypage');
      await app.refresh();
      app.go('registered');
    });
    return {
      title: t('register_title'), back: 'mypage',
      body: h('div', {}, h('div', { class: 'card' }, h('p', { class: 'lead' }, ...lines(t('register_lead')))), go),
    };
  },

  // 登録完了.
  async registered(app) {
    return {
      title: t('registered_title'),
      body: h('div', {},
        h('div', { class: 'card center' }, h('div', { class: 'done-mark' }), h('h2', {}, t('registered_heading')),
          h('p', {}, ...lines(t('registered_lead')))),
        button(t('to_bio'), () => app.go('biometrics')),
        button(t('to_check'), () => app.go('check'), 'btn secondary'),
        button(t('to_menu'), () => app.go('menu'), 'btn secondary'),
        h('p', { class: 'note' }, t('registered_bio_note'))),
    };
  },

  // 生体認証などの利用登録.
  async biometrics(app) {
    const s = await app.refresh();
    const pin = passwordField(t('pin'), 'off', 'numeric');
    pin.maxLength = 4;
    const enrol = button(t('register'), async () => {
      enrol.disabled = true;
      const r = await call('biometrics', { auth_pin: pin.value });
      pin.value = '';
      if (!r.ok) return app.fail(r, 'pin', 'biometrics');
      await app.refresh();
      app.go('biometrics-done');
    }, 'btn', { disabled: true });
    pin.addEventListener('input', () => { enrol.disabled = !/^[0-9]{4}$/.test(pin.value); });
    return {
      title: t('bio_title'), back: 'menu',
      body: h('div', {},
        h('div', { class: 'finger' }),
        s.biometrics ? h('p', { class: 'hint center' }, t('bio_already')) : null,
        h('div', { class: 'card' }, h('p', {}, t('bio_lead')),
          h('label', { class: 'field' }, t('pin')), pin, h('p', { class: 'note' }, t('bio_touch'))),
        enrol),
    };
  },

  async 'biometrics-done'(app) {
    return {
      title: t('bio_done_title'),
      body: h('div', {},
        h('div', { class: 'card center' }, h('div', { class: 'done-mark' }), h('h2', {}, t('bio_done'))),
        button(t('to_check'), () => app.go('check')),
        button(t('to_menu'), () => app.go('menu'), 'btn secondary')),
    };
  },

  // 動作確認.
  async check(app) {
    const s = await app.refresh();
    const pin = passwordField(t('pin'), 'off', 'numeric');
    pin.maxLength = 4;
    const status = h('p', { class: 'center note' });
    const run = async (unlock) => {
      status.textContent = t('checking');
      const r = await call('check', unlock);
      pin.value = '';
      if (!r.ok) return app.fail(r, 'pin', 'check');
      app.go('check-result', r.data);
    };
    const byPin = button(t('use_pin'), () => run({ auth_pin: pin.value }), s.biometrics ? 'btn secondary' : 'btn', { disabled: true });
    pin.addEventListener('input', () => { byPin.disabled = !/^[0-9]{4}$/.test(pin.value); });
    return {
      title: t('check_title'), back: 'menu',
      body: h('div', {},
        h('div', { class: 'card' }, h('p', { class: 'lead' }, t('check_lead'))),
        s.biometrics ? button(t('use_biometric'), () => run({ biometric: true })) : null,
        h('div', { class: 'card' }, h('p', { class: 'note' }, t('unlock_lead')), pin),
        byPin, status),
    };
  },

  async 'check-result'(app) {
    const r = app.params ?? {};
    const row = (k, v) => h('div', { class: 'row' }, h('span', { class: 'note' }, k), h('b', {}, v));
    return {
      title: t('check_done_title'),
      body: h('div', {},
        h('div', { class: 'card center' }, h('div', { class: 'done-mark' }), h('h2', {}, t('check_done'))),
        h('div', { class: 'card' },
          row(t('check_login'), t('check_login_ok')),
          row(t('check_ocsp'), r.ocsp === 'good' ? t('ocsp_good') : r.ocsp ?? ''),
          h('p', { class: 'note' }, t('check_serial')), h('div', { class: 'serial' }, r.serial ?? ''),
          r.session_expires_at ? row(t('check_session'), new Date(r.session_expires_at).toLocaleTimeString()) : null),
        button(t('to_menu'), () => app.go('menu'))),
    };
  },

  // The old phone after the device change: erased.
  async wiped(app) {
    return {
      title: t('wiped_title'),
      body: h('div', {},
        h('div', { class: 'card center' }, h('div', { class: 'warn-mark' }, '!'), h('h2', {}, t('wiped_heading'))),
        h('div', { class: 'card' }, h('p', {}, t('wiped_lead')), h('p', { class: 'note' }, t('wiped_again'))),
        button(t('menu_help'), () => app.go('help'), 'btn secondary'),
        button(t('to_menu'), () => app.go('menu'))),
    };
  },

  // お問合せ: the seed's numbers and hours.
  async help() {
    const tel = (n, cls = 'tel') => h('a', { class: cls, href: 'tel:' + n }, n);
    return {
      title: t('help_title'), back: 'menu', tab: 'menu',
      body: h('div', {},
        h('h2', {}, t('help_heading')),
        h('div', { class: 'card' },
          h('b', {}, t('help_free')), tel('0120-95-0178'),
          h('div', { class: 'hours' }, h('b', {}, t('help_hours_label')), h('br'), t('help_weekday'), h('br'), t('help_weekend')),
          h('p', { class: 'hint' }, t('help_247'))),
        h('div', { class: 'card' },
          h('p', { class: 'note' }, t('help_ip')),
          h('div', {}, t('help_card')), tel('050-3818-1250', 'tel small'),
          h('div', {}, t('help_other')), tel('050-3816-9405', 'tel small')),
        h('div', { class: 'card' },
          h('p', { class: 'note' }, t('help_multi')),
          h('p', { class: 'note' }, t('help_multi_en')),
          h('div', {}, t('help_system')), tel('0120-0178-26', 'tel small'),
          h('div', { class: 'note' }, t('help_system_en')),
          h('div', {}, t('help_card')), tel('0120-0178-27', 'tel small'),
          h('div', { class: 'note' }, t('help_card_en'))),
        h('p', { class: 'note' }, t('help_disclaimer'))),
    };
  },

  // マイナンバーカードの設定: the virtual card file or a PC/SC reader.
  async settings(app) {
    const r = await call('settings');
    const s = r.data ?? {};
    const fileRadio = h('input', { type: 'radio', name: 'source', value: 'file', checked: s.source !== 'reader', disabled: !s.file });
    const readerRadio = h('input', { type: 'radio', name: 'source', value: 'reader', checked: s.source === 'reader', disabled: !(s.readers ?? []).length });
    const select = h('select', { 'aria-label': t('settings_reader') },
      ...(s.readers ?? []).map((name) => h('option', { value: name, selected: name === s.reader }, name)));
    const saved = h('p', { class: 'feedback good' });
    const save = button(t('settings_save'), async () => {
      const w = await call('settings', { source: readerRadio.checked ? 'reader' : 'file', reader: readerRadio.checked ? select.value : '' });
      if (!w.ok) return app.fail(w, '', 'settings');
      saved.textContent = '✓ ' + t('settings_saved');
      await app.refresh();
    });
    return {
      title: t('settings_title'), back: 'menu',
      body: h('div', {},
        h('p', {}, t('settings_lead')),
        h('div', { class: 'card' },
          h('label', { class: 'radio' }, fileRadio, h('div', {}, h('b', {}, t('settings_file')), h('div', { class: 'serial' }, s.file || '—'))),
          h('label', { class: 'radio' }, readerRadio, h('div', {}, h('b', {}, t('settings_reader')),
            (s.readers ?? []).length ? select : h('div', { class: 'note' }, t('settings_no_readers'), s.readers_error ? ` (${s.readers_error})` : '')))),
        save, saved),
    };
  },

  // Clear screens for what went wrong.
  async error(app) {
    const p = app.params ?? {};
    const v = p.variant ?? 'generic';
    const text = {
      card_wrong: ['err_card_wrong_title', 'err_card_wrong', 'err_card_wrong_note'],
      card_locked: ['err_card_locked_title', 'err_card_locked', 'err_card_locked_note'],
      pin_wrong: ['err_pin_wrong_title', 'err_pin_wrong', 'err_pin_wrong_note'],
      pin_locked: ['err_pin_locked_title', 'err_pin_locked', 'err_pin_locked_note'],
      service: ['err_service_title', 'err_service', 'err_service_note'],
      card: ['err_card_title', 'err_card', 'err_card_note'],
      generic: ['err_generic_title', 'err_generic', ''],
    }[v] ?? ['err_generic_title', 'err_generic', ''];
    const retryLabel = v.endsWith('_wrong') ? t('retry') : t('try_again');
    const locked = v.endsWith('_locked');
    return {
      title: t('err_title'),
      body: h('div', { dataset: { error: v } },
        h('div', { class: 'card center' }, h('div', { class: 'warn-mark' }, '!'), h('h2', {}, t(text[0]))),
        h('div', { class: 'card' },
          h('p', {}, t(text[1])),
          p.tries !== undefined && !locked ? h('p', { class: 'big center tries' }, t('err_tries', { n: p.tries })) : null,
          text[2] ? h('p', { class: 'note' }, t(text[2])) : null),
        locked ? button(t('menu_help'), () => app.go('help')) : button(retryLabel, () => app.go(p.retry ?? 'menu')),
        button(t('to_menu'), () => app.go('menu'), 'btn secondary'),
        p.message ? h('details', {}, h('summary', {}, t('err_detail')), p.message) : null),
    };
  },
};
