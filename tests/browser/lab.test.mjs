// The lab that `smacert demo --keep` leaves running: new-phone and
// next-phone side by side (each one's own UI in a frame) and the service's
// certificate table. A second device change is clicked through in
// next-phone's frame; the table must follow it live (new-phone's
// certificates revoked as superseded, next-phone's good) and new-phone's
// frame must turn to its wiped screen.
//
// Usage: node lab.test.mjs   (env: SMACERT_BIN, SCREENSHOT_DIR, CHROMIUM)
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const bin = process.env.SMACERT_BIN ?? 'smacert';
const shots = process.env.SCREENSHOT_DIR ?? path.resolve('browser-screenshots');
const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const tmp = mkdtempSync(path.join(tmpdir(), 'smacert-lab-'));
mkdirSync(shots, { recursive: true });

let passed = 0;
let failed = 0;
let pids = [];
const screenshots = [];
function check(ok, label) {
  if (ok) { passed++; console.log(`  ok   ${label}`); } else { failed++; console.log(`  FAIL ${label}`); }
}
async function shot(page, name) {
  const file = path.join(shots, `${name}.png`);
  await page.screenshot({ path: file, animations: 'disabled' });
  screenshots.push(file);
}

// The table's OCSP cells of one phone, once they all read `want`.
async function ocspOf(page, phone, want) {
  const cells = page.locator(`tr[data-phone="${phone}"] td.ocsp`);
  await page.waitForFunction(([p, w]) => {
    const c = [...document.querySelectorAll(`tr[data-phone="${p}"] td.ocsp`)];
    return c.length === 2 && c.every((td) => td.textContent === w);
  }, [phone, want], { timeout: 20000 });
  return cells.allInnerTexts();
}

async function main() {
  const dir = path.join(tmp, 'demo');
  const out = execFileSync(bin, ['--lang', 'en', 'demo', '--keep', '--dir', dir], { encoding: 'utf8' });
  const lab = out.match(/lab \(open in a browser\): (http:\/\/\S+)/)?.[1];
  pids = (out.match(/kill ([0-9 ]+)/)?.[1] ?? '').trim().split(/\s+/).map(Number).filter(Boolean);
  check(Boolean(lab) && pids.length === 2, `demo --keep prints the lab's URL and two process ids (${lab})`);
  if (!lab) return;

  const browser = await chromium.launch({
    executablePath: chromiumPath, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--no-first-run'],
  });
  try {
    const page = await (await browser.newContext({ viewport: { width: 1560, height: 900 }, locale: 'ja-JP' })).newPage();
    await page.goto(lab);
    check((await ocspOf(page, 'old-phone', 'revoked (superseded)')).length === 2, 'old-phone: OCSP revoked (superseded)');
    check((await ocspOf(page, 'new-phone', 'good')).length === 2, 'new-phone: OCSP good');
    const now = page.frameLocator('iframe[name="new-phone"]');
    const next = page.frameLocator('iframe[name="next-phone"]');
    await now.locator('main[data-screen="home"]').filter({ hasText: '● 登録済' }).waitFor();
    await next.locator('main[data-screen="home"]').waitFor();
    await shot(page, 'lab-01-before');

    // 機種変更 in next-phone's frame, ④–⑬.
    const b = (name) => next.getByRole('button', { name, exact: true });
    await b('メニュー').click();
    await next.getByRole('button', { name: /機種変更/ }).click();
    await next.getByLabel('署名用電子証明書のパスワード').fill('CARD1234');
    await next.locator('.feedback.good').waitFor();
    await next.getByLabel('確認しました').check();
    await b('申請する').click();
    await b('読み取り開始').click();
    await b('同意して次へ').click();
    await next.getByLabel('パスワード', { exact: true }).fill('NEXTPASS3');
    await next.getByLabel('パスワード(確認)').fill('NEXTPASS3');
    await next.locator('.feedback.good').waitFor();
    await b('次へ').click();
    await next.getByLabel('暗証番号', { exact: true }).fill('3333');
    await next.getByLabel('暗証番号(確認)').fill('3333');
    await next.locator('.feedback.good').waitFor();
    await b('次へ').click();
    await next.locator('main[data-screen="applied"]').waitFor({ timeout: 20000 });

    // Live: new-phone is wiped and its certificates superseded at once.
    await now.locator('main[data-screen="wiped"]').waitFor({ timeout: 20000 });
    check(true, 'new-phone frame: wiped screen');
    check((await ocspOf(page, 'new-phone', 'revoked (superseded)')).length === 2, 'new-phone: OCSP revoked (superseded), live');

    await next.locator('#banner').filter({ hasText: '登録準備が完了しています' }).click();
    await b('登録する').click();
    await b('登録する').click();
    await next.locator('main[data-screen="registered"]').waitFor({ timeout: 20000 });
    check((await ocspOf(page, 'next-phone', 'good')).length === 2, 'next-phone: OCSP good after registration');
    await shot(page, 'lab-02-after');
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
  for (const pid of pids) { try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ } }
  rmSync(tmp, { recursive: true, force: true });
}
console.log(`screenshots (${screenshots.length}) in ${shots}`);
console.log(`${passed} passed, ${failed} failed (${((Date.now() - started) / 1000).toFixed(1)} s)`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
