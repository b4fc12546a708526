// The web phone UI in a real browser (Debian's Chromium driven by
// playwright-core) against real processes: `smacert serve`, and one
// `smacert phone ui` for each phone. The whole device change (機種変更) is
// clicked through on the new phone's page while the old phone's page turns
// to its wiped screen; every screen is checked for its key text in Japanese
// and English and saved as a screenshot.
//
// Usage: node phone_ui.test.mjs   (env: SMACERT_BIN, SCREENSHOT_DIR, CHROMIUM)
// Exits 0 when every check passed; the last line says "N passed, M failed".
import { chromium } from 'playwright-core';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const bin = process.env.SMACERT_BIN ?? 'smacert';
const shots = process.env.SCREENSHOT_DIR ?? path.resolve('browser-screenshots');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const tmp = mkdtempSync(path.join(tmpdir(), 'smacert-browser-'));
mkdirSync(shots, { recursive: true });

let passed = 0;
let failed = 0;
const children = [];
const screenshots = [];

function check(ok, label) {
  if (ok) { passed++; console.log(`  ok   ${label}`); } else { failed++; console.log(`  FAIL ${label}`); }
}

// A child process that prints its URL on its first line of output.
function start(args, log) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let out = '';
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/(http:\/\/[^\s]+)/);
      if (m) resolve({ child, url: m[1].replace(/\/$/, '') });
    });
    child.on('exit', (code) => reject(new Error(`${log} exited (${code}) before printing its URL: ${err}`)));
  });
}

function stop(child) {
  if (child.exitCode === null && !child.killed) child.kill('SIGTERM');
}

function smacert(args, env = {}) {
  return execFileSync(bin, args, { env: { ...process.env, ...env }, encoding: 'utf8' });
}

async function shot(page, name) {
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file, animations: 'disabled' });
  screenshots.push(file);
}

// Waits for a screen and checks that each of `texts` is on it.
async function expectScreen(page, name, texts, label = name) {
  await page.locator(`main[data-screen="${name}"]`).waitFor({ timeout: 15000 });
  const body = await page.locator('#phone').innerText();
  const missing = texts.filter((t) => !body.includes(t));
  check(missing.length === 0, `${label}: ${texts.join(' / ')}${missing.length ? ` — missing ${missing.join(', ')}` : ''}`);
}

const button = (page, name) => page.getByRole('button', { name, exact: true });

async function main() {
  // The world: a service, a card, an old phone that applied and registered
  // (by the CLI), and a new phone that has only just been set up.
  const service = await start(['serve', '--data', path.join(tmp, 'data'), '--listen', '127.0.0.1:0'], 'smacert serve');
  const token = readFileSync(path.join(tmp, 'data', 'admin.token'), 'utf8').trim();
  const card = path.join(tmp, 'card.json');
  const old = path.join(tmp, 'old-phone');
  const fresh = path.join(tmp, 'new-phone');
  const s = ['--server', service.url];
  smacert([...s, 'counter', 'issue-card', '--name', '見本　花子', '--address', '東京都千代田区霞が関１－２－３',
    '--birth', '1980-01-01', '--sex', '2', '--sign-password', 'CARD1234', '--auth-pin', '1234', '--out', card],
  { SMACERT_ADMIN_TOKEN: token });
  smacert([...s, 'phone', 'new', '--dir', old, '--model', 'Pixel 7']);
  smacert([...s, 'phone', 'apply', '--dir', old, '--card', card, '--card-password', 'CARD1234',
    '--sign-password', 'OLDPASS1', '--auth-pin', '1111', '--agree']);
  smacert([...s, 'phone', 'sync', '--dir', old, '--wait', '5']);
  smacert([...s, 'phone', 'register', '--dir', old]);
  smacert([...s, 'phone', 'new', '--dir', fresh, '--model', 'Pixel 9']);
  const oldUi = await start(['phone', 'ui', '--dir', old, '--listen', '127.0.0.1:0'], 'old phone ui');
  const newUi = await start(['phone', 'ui', '--dir', fresh, '--card', card, '--listen', '127.0.0.1:0'], 'new phone ui');
  console.log(`service ${service.url}, old phone ${oldUi.url}, new phone ${newUi.url}`);

  const browser = await chromium.launch({
    executablePath: chromiumPath, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'],
  });
  try {
    const viewport = { width: 390, height: 844 };
    const oldPage = await (await browser.newContext({ viewport, locale: 'ja-JP' })).newPage();
    const page = await (await browser.newContext({ viewport, locale: 'ja-JP' })).newPage();
    const errors = [];
    for (const p of [page, oldPage]) p.on('pageerror', (e) => errors.push(String(e)));

    // The old phone's app is open too: it must turn to its wiped screen by itself.
    await oldPage.goto(oldUi.url + '/');
    await expectScreen(oldPage, 'home', ['マイナポータル', '● 登録済'], 'old phone home');
    await shot(oldPage, '00-old-phone-before');

    // ① the app opens; ② メニュー; ③ 機種変更.
    await page.goto(newUi.url + '/');
    await expectScreen(page, 'home', ['マイナポータル', 'このスマホにはまだ登録されていません']);
    await shot(page, '01-home');
    await button(page, 'メニュー').click();
    await expectScreen(page, 'menu', ['機種変更', 'マイページ', '生体認証などの利用登録', '動作確認', 'お問合せ']);
    await shot(page, '02-menu');
    await page.getByRole('button', { name: /機種変更/ }).click();

    // ④ the card's password: the rule shows while typing, 申請する stays disabled.
    await expectScreen(page, 'apply-form', ['マイナンバーカード用電子証明書のパスワード', '半角の英大文字と数字を含む、6文字から16文字',
      '申請するスマホ用電子証明書', '署名用電子証明書', '利用者証明用電子証明書', '確認しました', '申請する']);
    const cardPw = page.getByLabel('署名用電子証明書のパスワード');
    await cardPw.fill('abc');
    await page.locator('.feedback.bad').filter({ hasText: '半角の英大文字と数字を含む6文字から16文字' }).waitFor();
    check(await button(page, '申請する').isDisabled(), 'card password of the wrong shape: 申請する disabled');
    await shot(page, '03-card-password-rule');

    // A wrong card password: the card counts it, the screen says how many tries are left.
    const fillForm = async (pw) => {
      await cardPw.fill(pw);
      await page.locator('.feedback.good').waitFor();
      await page.getByLabel('確認しました').check();
    };
    await fillForm('WRONG123');
    await button(page, '申請する').click();
    await expectScreen(page, 'card-read', ['マイナンバーカード', '読み取り開始']);
    await shot(page, '04-card-read');
    await button(page, '読み取り開始').click();
    await expectScreen(page, 'error', ['パスワードが違います', '残り 4 回入力できます。'], 'wrong card password');
    await shot(page, '05-card-wrong-password');
    await button(page, 'もう一度入力する').click();

    // ④–⑦ with the right password.
    await expectScreen(page, 'apply-form', ['確認しました']);
    await fillForm('CARD1234');
    check(await page.getByLabel('署名用電子証明書', { exact: true }).isChecked() &&
      await page.getByLabel('利用者証明用電子証明書', { exact: true }).isChecked(), '⑤ both certificates checked by default');
    await shot(page, '06-apply-form');
    await button(page, '申請する').click();

    // ⑧ the card; ⑨ the dialog: the old phone's certificates will be revoked.
    await expectScreen(page, 'card-read', ['読み取り開始']);
    await button(page, '読み取り開始').click();
    const dialog = page.locator('[data-dialog="revoke-old"]');
    await dialog.waitFor();
    check((await dialog.innerText()).includes('古いスマホ'), '⑨ dialog names the old phone');
    await shot(page, '07-revoke-dialog');
    await button(page, '同意して次へ').click();

    // ⑩ the new password: live feedback on the rule, 次へ disabled until it holds.
    await expectScreen(page, 'sign-password', ['新しいパスワードの設定', '署名用電子証明書', '6~16ケタ、英大文字と数字の組み合わせ',
      '確認のため、もう一度入力してください。', 'パスワード(確認)']);
    const pw = page.getByLabel('パスワード', { exact: true });
    const pw2 = page.getByLabel('パスワード(確認)');
    await pw.fill('abc12');
    await page.locator('.feedback.bad').filter({ hasText: '6~16ケタ、英大文字と数字の組み合わせ' }).waitFor();
    check(await button(page, '次へ').isDisabled(), 'invalid new password: the rule is shown and 次へ is disabled');
    await shot(page, '08-sign-password-invalid');
    await pw.fill('NEWPASS2');
    await pw2.fill('NEWPASS3');
    await page.locator('.feedback.bad').filter({ hasText: '一致しません' }).waitFor();
    check(await button(page, '次へ').isDisabled(), 'mismatched confirmation: 次へ disabled');
    await pw2.fill('NEWPASS2');
    await page.locator('.feedback.good').waitFor();
    check(await button(page, '次へ').isEnabled(), 'valid password: 次へ enabled');
    await shot(page, '09-sign-password-ok');
    await button(page, '次へ').click();

    // The auth certificate's PIN, then ⑪ 次へ → 申請の完了.
    await expectScreen(page, 'auth-pin', ['新しい暗証番号の設定', '利用者証明用電子証明書', '数字4ケタ']);
    await page.getByLabel('暗証番号', { exact: true }).fill('2222');
    await page.getByLabel('暗証番号(確認)').fill('2222');
    await page.locator('.feedback.good').waitFor();
    await shot(page, '10-auth-pin');
    await button(page, '次へ').click();
    await expectScreen(page, 'applied', ['申請の完了', 'スマホ用電子証明書の利用を申請しました', 'この後プッシュ通知が届きます',
      '※19:30以降の申請は翌朝に届きます', 'プッシュ通知が届いた後、スマホに登録するための操作を行ってください。', 'メニューへ']);
    await shot(page, '11-applied');

    // The push banner, live from the push channel.
    const banner = page.locator('#banner').filter({ hasText: '登録準備が完了しています' });
    await banner.waitFor({ timeout: 15000 });
    check(true, 'push banner: 登録準備が完了しています');
    await shot(page, '12-push-banner');

    // The old phone, untouched by the test, shows that it was wiped.
    await expectScreen(oldPage, 'wiped', ['このスマホのスマホ用電子証明書は削除されました'], 'old phone wiped (live)');
    await shot(oldPage, '13-old-phone-wiped');

    // ⑫ マイページ → 登録する; ⑬ 登録する → 登録完了.
    await banner.click();
    await expectScreen(page, 'mypage', ['利用者証明用電子証明書', '署名用電子証明書', '● 登録準備が完了しています',
      'マイナポータルへのログインなどをスマホからできるようになります。', 'マイナポータル等での各種オンライン申請をスマホからできるようになります。',
      '別のスマホのスマホ用電子証明書', '失効', 'マイナンバーカードの設定']);
    check((await page.locator('.state.ready').count()) === 2, 'both certificates: ● 登録準備が完了しています');
    await shot(page, '14-mypage-ready');
    await button(page, '登録する').click();
    await expectScreen(page, 'register', ['スマホ用電子証明書の登録', '登録準備が完了しています。', '申請いただいたスマホ用電子証明書をスマートフォンに登録します。']);
    await shot(page, '15-register');
    await button(page, '登録する').click();
    await expectScreen(page, 'registered', ['登録完了', '登録が完了しました。', '15分ほど待ってからご利用ください。',
      '生体認証などの利用登録する', '動作確認する', 'メニューへ', '※生体認証を利用される場合は、登録完了後に、生体認証登録に進みます']);
    await shot(page, '16-registered');

    // 生体認証などの利用登録: a wrong PIN first (tries left), then the right one.
    await button(page, '生体認証などの利用登録する').click();
    await expectScreen(page, 'biometrics', ['生体認証などの利用登録', '暗証番号']);
    await shot(page, '17-biometrics');
    await page.getByLabel('暗証番号', { exact: true }).fill('9999');
    await button(page, '登録する').click();
    await expectScreen(page, 'error', ['暗証番号が違います', '残り 2 回入力できます。'], 'wrong auth PIN');
    await shot(page, '18-pin-wrong');
    await button(page, 'もう一度入力する').click();
    await page.getByLabel('暗証番号', { exact: true }).fill('2222');
    await button(page, '登録する').click();
    await expectScreen(page, 'biometrics-done', ['生体認証の利用登録が完了しました。', '動作確認する']);
    await shot(page, '19-biometrics-done');

    // 動作確認 with biometrics: a real login and OCSP.
    await button(page, '動作確認する').click();
    await expectScreen(page, 'check', ['動作確認', '生体認証で確認する']);
    await shot(page, '20-check');
    await button(page, '生体認証で確認する').click();
    await expectScreen(page, 'check-result', ['動作確認が完了しました', 'ログイン', '成功', '電子証明書の状態（OCSP）', '有効']);
    await shot(page, '21-check-result');

    // マイページ after registration, and the other phone's revocation.
    await button(page, 'メニューへ').click();
    await button(page, 'マイページ').click();
    await expectScreen(page, 'mypage', ['● 登録済'], 'mypage registered');
    check((await page.locator('.state.registered').count()) === 2, 'both certificates: ● 登録済');
    await shot(page, '22-mypage-registered');
    await button(page, '失効').click();
    await page.getByRole('dialog').getByLabel('暗証番号').fill('2222');
    await button(page, '暗証番号で確認する').click();
    await page.getByRole('dialog').filter({ hasText: '別のスマホに有効なスマホ用電子証明書はありません。' }).waitFor();
    check(true, 'other phone revocation: the old phone has nothing active left');
    await shot(page, '23-revoke-other');
    await button(page, '閉じる').click();

    // お問合せ: the seed's numbers and hours.
    await button(page, 'メニュー').click();
    await page.getByRole('button', { name: /お問合せ/ }).click();
    await expectScreen(page, 'help', ['マイナンバー総合フリーダイヤル', '0120-95-0178', '平日：9時30分～20時00分',
      '土日祝：9時30分～17時30分（年末年始を除く）', '24時間365日受付', '050-3818-1250', '050-3816-9405', '0120-0178-26', '0120-0178-27']);
    await shot(page, '24-help');
    await page.goto(newUi.url + '/#/settings');
    await expectScreen(page, 'settings', ['マイナンバーカードの設定', '仮想マイナンバーカード', 'ICカードリーダー']);
    await shot(page, '25-settings');

    // English: the toggle, and each screen's key text.
    await page.goto(newUi.url + '/#/menu');
    await expectScreen(page, 'menu', ['機種変更']);
    await page.locator('#lang').click();
    await expectScreen(page, 'menu', ['Menu', 'Device change', 'My Page', 'Operation check', 'Contact'], 'menu (English)');
    await shot(page, '26-menu-en');
    const english = [
      ['home', ['Welcome', 'Smartphone certificates', '● Registered']],
      ['apply-form', ['My Number Card certificate password', 'Certificates to apply for', 'I have read this', 'Apply']],
      ['card-read', ['Read My Number Card', 'Start reading']],
      ['sign-password', ['Set a new password', '6 to 16 characters, a combination of capital letters and digits', 'Password (confirm)']],
      ['applied', ['Application complete', 'A push notification will follow', 'Applications after 19:30']],
      ['mypage', ['My Page', '● Registered', 'Another phone\'s smartphone certificates', 'Revoke']],
      ['registered', ['Registration complete', 'wait about 15 minutes', 'Set up biometrics', 'Run the operation check']],
      ['wiped', ['This phone\'s smartphone certificates were erased']],
      ['help', ['My Number toll-free line', '0120-95-0178', 'Weekdays: 9:30–20:00', '0120-0178-27']],
    ];
    for (const [name, texts] of english) {
      await page.goto(`${newUi.url}/#/${name}`);
      await expectScreen(page, name, texts, `${name} (English)`);
      await shot(page, `27-${name}-en`);
    }
    await page.goto(`${newUi.url}/#/sign-password`);
    await page.getByLabel('Password', { exact: true }).fill('abc12');
    await page.locator('.feedback.bad').filter({ hasText: '6 to 16 characters' }).waitFor();
    check(await button(page, 'Next').isDisabled(), 'English: the rule is shown and Next is disabled');
    await shot(page, '28-sign-password-invalid-en');
    await page.locator('#lang').click();

    // A locked card: five wrong passwords in a row (the count is the card's).
    for (let i = 4; i >= 0; i--) {
      await page.goto(newUi.url + '/#/menu');
      await page.getByRole('button', { name: /機種変更/ }).click();
      await fillForm('WRONG123');
      await button(page, '申請する').click();
      await button(page, '読み取り開始').click();
      if (i > 0) await expectScreen(page, 'error', [`残り ${i} 回入力できます。`], `wrong card password, ${i} left`);
    }
    await expectScreen(page, 'error', ['パスワードがロックされています', '市区町村の窓口'], 'locked card');
    await shot(page, '29-card-locked');

    // The service goes down: a clear screen, not a stack trace.
    stop(service.child);
    await new Promise((r) => service.child.once('exit', r));
    await page.goto(newUi.url + '/#/check');
    await button(page, '生体認証で確認する').click();
    await expectScreen(page, 'error', ['サービスに接続できません', 'しばらくしてから'], 'service down');
    await shot(page, '30-service-down');

    check(errors.length === 0, `no script errors in the pages${errors.length ? ': ' + errors.join('; ') : ''}`);
  } finally {
    await browser.close();
  }
}

const started = Date.now();
try {
  await main();
} catch (e) {
  failed++;
  console.log(`  FAIL ${e.stack ?? e}`);
} finally {
  for (const c of children) stop(c);
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`screenshots (${screenshots.length}) in ${shots}`);
console.log(`${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
