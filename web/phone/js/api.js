// The phone process's local JSON API (same origin; paths relative to the page,
// so the app also works when mounted under /phones/NAME/ by the lab).
export async function call(path, body) {
  const init = body === undefined
    ? { method: 'GET' }
    : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
  let res;
  try {
    res = await fetch('api/' + path, init);
  } catch (e) {
    // The phone process itself is gone.
    return { ok: false, status: 0, data: { error: 'unavailable', where: 'app', message: String(e) } };
  }
  let data = {};
  try { data = await res.json(); } catch { data = {}; }
  return { ok: res.ok, status: res.status, data };
}
