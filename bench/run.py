#!/usr/bin/python3
"""make bench: every benchmark beside its baseline, measured in the same go.

Writes bench/results/latest.json and bench/results/latest.txt: each figure,
its baseline and their ratio, with the machine, the cores each process had,
and the load average before and after. Debian's python3 standard library only.

Every process started here is stopped here, by process id (its own process
group, so `openssl ocsp -multi` children go too); every load run is bounded
in time; every target is 127.0.0.1.
"""
import argparse
import base64
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- processes

class Proc:
    """A child in its own process group, stopped by its id."""

    def __init__(self, args, cores=None, log=None, env=None, cwd=None):
        if cores is not None:
            args = ["taskset", "-c", ",".join(map(str, cores))] + list(args)
        self.args = args
        self.log = open(log, "wb") if log else subprocess.DEVNULL
        self.started = time.monotonic()
        self.p = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT,
                                  start_new_session=True, env=env, cwd=cwd)
        self.pid = self.p.pid

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.p.poll() is None:
            try:
                os.killpg(self.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.pid, signal.SIGKILL)
                self.p.wait()
        # Children left in the group (openssl ocsp -multi workers).
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.log is not subprocess.DEVNULL:
            self.log.close()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            time.sleep(0.02)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


def group_pids(pgid):
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[2]) == pgid:
                    out.append(int(d))
            except (OSError, IndexError):
                pass
    return out


def cpu_seconds(pids):
    """utime + stime of the given processes (their threads included)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except OSError:
            pass
    return total / tick


def memory_kib(pids, field="VmRSS"):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith(field + ":"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


# ---------------------------------------------------------------- DER, OCSP

def der_read(b, i=0):
    """(tag, content start, content end) of the TLV at b[i]."""
    tag = b[i]
    n = b[i + 1]
    j = i + 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(b[j:j + k], "big")
        j += k
    return tag, j, j + n


def der_children(b, start, end):
    out = []
    i = start
    while i < end:
        t, s, e = der_read(b, i)
        out.append((t, s, e))
        i = e
    return out


def der_tlv(tag, content):
    n = len(content)
    if n < 0x80:
        head = bytes([tag, n])
    else:
        ln = n.to_bytes((n.bit_length() + 7) // 8, "big")
        head = bytes([tag, 0x80 | len(ln)]) + ln
    return head + content


def ocsp_request(template, serial_hex):
    """The template request (one SHA-1 CertID) with another serial."""
    _, s, e = der_read(template)               # OCSPRequest
    _, s, e = der_read(template, s)            # TBSRequest
    _, s, e = der_read(template, s)            # requestList
    _, s, e = der_read(template, s)            # Request
    t, s, e = der_read(template, s)            # CertID
    alg, name, key, _serial = der_children(template, s, e)
    certid_head = template[alg[1] - 2:key[2]]  # AlgorithmIdentifier, both hashes
    v = int(serial_hex, 16)
    mag = v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")
    if mag[0] & 0x80:
        mag = b"\0" + mag
    certid = der_tlv(0x30, certid_head + der_tlv(0x02, mag))
    return der_tlv(0x30, der_tlv(0x30, der_tlv(0x30, der_tlv(0x30, certid))))


def ocsp_status(resp):
    """'good' | 'revoked:REASON' | 'unknown' | 'error:N' from a DER OCSPResponse."""
    _, s, e = der_read(resp)
    kids = der_children(resp, s, e)
    if resp[kids[0][1]] != 0:
        return f"error:{resp[kids[0][1]]}"
    _, s, e = der_read(resp, kids[1][1])       # [0] -> ResponseBytes
    _, os_, oe = der_children(resp, s, e)[1]    # response OCTET STRING
    _, s, e = der_read(resp, os_)              # BasicOCSPResponse
    _, s, e = der_read(resp, s)                # tbsResponseData
    kids = der_children(resp, s, e)
    responses = [k for k in kids if k[0] == 0x30][0]
    _, s, e = der_read(resp, responses[1])     # first SingleResponse
    single = der_children(resp, s, e)
    st = single[1]
    if st[0] == 0x80:
        return "good"
    if st[0] == 0x82:
        return "unknown"
    info = der_children(resp, st[1], st[2])
    reason = 0
    if len(info) > 1:
        _, rs, re_ = der_read(resp, info[1][1])
        reason = resp[rs]
    return f"revoked:{reason}"


# ---------------------------------------------------------------- wrk

WRK_COMMON = r"""
-- Resolve without wrk's probe connection (it makes `openssl ocsp` spin).
wrk.resolve = function(host, service)
  wrk.addrs = wrk.lookup(host, service)
end
done = function(summary, latency, requests)
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "bytes": %d, "errors": %d, ' ..
    '"non2xx": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, summary.bytes,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
"""


def wrk_script(path, method, body_file=None, close=False, delay_ms=None):
    lines = [WRK_COMMON]
    if method == "POST":
        lines.append(f"""
local f = assert(io.open("{body_file}", "rb"))
wrk.method = "POST"
wrk.body = f:read("*all")
f:close()
wrk.headers["Content-Type"] = "application/ocsp-request"
""")
    if close:
        lines.append('wrk.headers["Connection"] = "close"\n')
    if delay_ms is not None:
        lines.append(f"delay = function() return {delay_ms} end\n")
    with open(path, "w") as f:
        f.write("".join(lines))
    return path


def wrk(url, script, cores, connections=8, seconds=10, threads=1):
    out = run(["taskset", "-c", ",".join(map(str, cores)), "wrk", "-t", str(threads),
               "-c", str(connections), "-d", f"{seconds}s", "--timeout", "5s", "-s", script, url],
              timeout=seconds + 60)
    m = re.search(r"^WRKJSON (.*)$", out, re.M)
    r = json.loads(m.group(1))
    r["rps"] = r["requests"] / (r["duration_us"] / 1e6)
    r["connections"] = connections
    r["seconds"] = seconds
    return r


# ---------------------------------------------------------------- the peers

def nginx_start(tmp, response_file, port, cores, workers=1):
    """A private nginx on 127.0.0.1: every path answers the one file, GET or POST."""
    root = os.path.join(tmp, "nginx")
    www = os.path.join(root, "www")
    os.makedirs(www, exist_ok=True)
    os.makedirs(os.path.join(root, "logs"), exist_ok=True)
    shutil.copy(response_file, os.path.join(www, "response.der"))
    # Workers run as www-data: the folders on the way must be readable.
    for d in (tmp, root, www):
        os.chmod(d, 0o755)
    os.chmod(os.path.join(www, "response.der"), 0o644)
    conf = os.path.join(root, "nginx.conf")
    with open(conf, "w") as f:
        f.write(f"""
daemon off;
master_process on;
worker_processes {workers};
pid {root}/nginx.pid;
error_log {root}/logs/error.log warn;
events {{ worker_connections 1024; }}
http {{
  access_log off;
  client_body_temp_path {root}/body;
  proxy_temp_path {root}/proxy;
  fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi;
  scgi_temp_path {root}/scgi;
  keepalive_requests 1000000;
  server {{
    listen 127.0.0.1:{port};
    root {www};
    default_type application/ocsp-response;
    location / {{
      try_files /response.der =404;
      # The static module refuses POST with 405: answer it with the file as well.
      error_page 405 =200 /response.der;
    }}
  }}
}}
""")
    p = Proc(["nginx", "-p", root, "-c", conf], cores=cores,
             log=os.path.join(root, "logs", "stdout.log"))
    wait_port(port)
    return p


def openssl_ocsp_start(tmp, fx, port, cores, multi=None):
    ca = fx["ca_dir"]
    args = ["openssl", "ocsp", "-index", fx["index"], "-rsigner", f"{ca}/ocsp.pem",
            "-rkey", f"{ca}/ocsp.key", "-CA", f"{ca}/ca.pem", "-port", str(port),
            "-nmin", "60"]
    if multi:
        args += ["-multi", str(multi)]
    log = os.path.join(tmp, f"openssl-ocsp-{port}.log")
    p = Proc(args, cores=cores, log=log)
    # Not wait_port(): a connection closed without a request makes it spin.
    end = time.monotonic() + 30
    while "waiting for OCSP client connections" not in open(log, errors="replace").read():
        if time.monotonic() > end or p.p.poll() is not None:
            raise RuntimeError(f"openssl ocsp did not start: {open(log).read()}")
        time.sleep(0.05)
    return p


# Server threads per core for the device-change runs (see device_change).
DEVICE_CHANGE_THREADS_PER_CORE = 4


def smacert_start(build, data, port, cores, threads, tmp, name="smacert", store=None):
    cfg = os.path.join(tmp, f"{name}.toml")
    with open(cfg, "w") as f:
        f.write(f'[server]\nthreads = {threads}\naccess_log = false\nlog_level = "warn"\n')
        if store:
            f.write(f'[store]\nurl = "{store}"\n')
    p = Proc([os.path.join(build, "smacert"), "serve", "--data", data, "--config", cfg,
              "--listen", f"127.0.0.1:{port}"], cores=cores,
             log=os.path.join(tmp, f"{name}-{port}.log"))
    return p


def http_get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.read()


def first_answer(port, req_b64, proc, timeout=600):
    """Seconds from the process start to its first OCSP answer."""
    end = time.monotonic() + timeout
    url = f"http://127.0.0.1:{port}/ocsp/auth/{req_b64}"
    while time.monotonic() < end:
        try:
            http_get(url, timeout=1)
            return time.monotonic() - proc.started
        except OSError:
            if proc.p.poll() is not None:
                raise RuntimeError(f"{proc.args} exited with {proc.p.returncode}")
            time.sleep(0.01)
    raise RuntimeError("no OCSP answer")


# ---------------------------------------------------------------- the benchmarks

class Bench:
    def __init__(self, opt):
        self.opt = opt
        self.build = os.path.abspath(opt.build)
        self.tmp = tempfile.mkdtemp(prefix="smacert-bench-")
        self.rows = []
        self.extra = {}
        cores = sorted(os.sched_getaffinity(0))
        self.server_core = [cores[0]]
        self.load_core = [cores[1]] if len(cores) > 1 else [cores[0]]
        self.all_cores = cores
        self.fixtures = {}

    def row(self, item, figure, value, unit, baseline, baseline_value, better="higher",
            target=None, note=""):
        if better == "higher":
            ratio = value / baseline_value if baseline_value else None
        else:  # lower is better: the ratio says how many times better we are
            ratio = baseline_value / value if value else None
        r = {"item": item, "figure": figure, "value": value, "unit": unit,
             "baseline": baseline, "baseline_value": baseline_value, "ratio": ratio,
             "better": better, "target": target, "note": note}
        self.rows.append(r)
        print(f"  [{item}] {figure}: {value:,.4g} {unit} vs {baseline}: {baseline_value:,.4g}"
              f" -> x{ratio:.3g}" if ratio else f"  [{item}] {figure}: {value}", flush=True)
        return r

    def fixture(self, count, algorithm="rsa2048", where=None):
        """bench_fixture's folder for `count` certificates: made in this run's
        temporary folder, or in `where` (--scale-data), where a complete one
        from an earlier run (bench/fixture.json present) is used again."""
        key = (count, algorithm, where)
        if key in self.fixtures:
            return self.fixtures[key]
        data = os.path.join(where or self.tmp, f"data-{count}-{algorithm}")
        d = os.path.join(data, "bench")
        done = os.path.join(d, "fixture.json")
        t = time.monotonic()
        if where and os.path.exists(done):
            generator = json.load(open(done))
            generate_s = generator["seconds"]
            print(f"  using the store of {count:,} certificates in {data} "
                  f"(generated in {generate_s:.0f} s)", flush=True)
        else:
            if os.path.exists(data):
                raise RuntimeError(f"{data} exists but is incomplete (no bench/fixture.json): "
                                   "delete it first")
            print(f"  generating {count:,} certificates ({algorithm}) in {data}", flush=True)
            out = run([os.path.join(self.build, "bench", "bench_fixture"), data, str(count),
                       algorithm], timeout=24 * 3600)
            generator = json.loads(out)
            generate_s = time.monotonic() - t
        fx = {"data": data, "count": count, "ca_dir": os.path.join(data, "ca", "auth"),
              "index": os.path.join(d, "index.txt"), "request": os.path.join(d, "request.der"),
              "response": os.path.join(d, "response.der"),
              "serials_path": os.path.join(d, "serials.txt"),
              "b64url": open(os.path.join(d, "request.b64url")).read().strip(),
              "generate_s": generate_s, "generator": generator}
        # Every serial as a list only for stores small enough to hold in
        # Python; large ones are sampled from the file (sample_serials).
        if count <= 1_000_000:
            fx["serials"] = open(fx["serials_path"]).read().split()
        fx["request_bytes"] = open(fx["request"], "rb").read()
        fx["response_bytes"] = len(open(fx["response"], "rb").read())
        self.fixtures[key] = fx
        return fx

    # ---- RSA-2048 bound (openssl speed)
    def speed(self):
        print("openssl speed rsa2048", flush=True)
        res = {}
        for label, extra in (("1 core", []), ("all cores", ["-multi", str(len(self.all_cores))])):
            out = run(["openssl", "speed", "-seconds", str(self.opt.speed_seconds)] + extra +
                      ["rsa2048"], timeout=300)
            line = [ln for ln in out.splitlines() if ln.strip().startswith("rsa 2048 bits")][-1]
            res[label] = float(line.split()[-2])
        self.extra["rsa2048_sign_per_s"] = res
        print(f"  {res}", flush=True)
        return res

    # ---- the OCSP answer path in process (Google Benchmark)
    def inprocess(self):
        print("OCSP answer path in process", flush=True)
        out = run(["taskset", "-c", str(self.server_core[0]),
                   os.path.join(self.build, "bench", "ocsp_bench"), "--benchmark_format=json",
                   "--benchmark_min_time=1"], timeout=600)
        doc = json.loads(out)
        rate = {b["name"]: b["items_per_second"] for b in doc["benchmarks"]}
        self.extra["inprocess"] = rate
        self.row(1, "OCSP answer in process, pre-signed (answers/s, 1 core)",
                 rate["BM_OcspPresigned"], "answers/s",
                 "signing each answer on demand (answers/s)", rate["BM_OcspSignOnDemand"])

    # ---- item 1 and 6: OCSP over HTTP
    def ocsp_http(self):
        fx = self.fixture(self.opt.certs)
        secs = self.opt.seconds
        sc, lc = self.server_core, self.load_core
        post = wrk_script(os.path.join(self.tmp, "post.lua"), "POST", fx["request"])
        post_close = wrk_script(os.path.join(self.tmp, "post-close.lua"), "POST", fx["request"],
                                close=True)
        get = wrk_script(os.path.join(self.tmp, "get.lua"), "GET")
        get_close = wrk_script(os.path.join(self.tmp, "get-close.lua"), "GET", close=True)
        std_b64 = urllib.parse.quote(base64.b64encode(fx["request_bytes"]).decode(), safe="")
        ocsp = {}

        print(f"OCSP over HTTP ({fx['count']:,} certificates, {secs}s runs, server on cores {sc},"
              f" wrk on {lc})", flush=True)
        # nginx: the ceiling, same bytes, same pinning.
        port = free_port()
        ng = nginx_start(self.tmp, fx["response"], port, sc)
        try:
            ocsp["nginx_get"] = wrk(f"http://127.0.0.1:{port}/ocsp/auth/{fx['b64url']}", get, lc,
                                    seconds=secs)
            ocsp["nginx_post"] = wrk(f"http://127.0.0.1:{port}/ocsp/auth", post, lc, seconds=secs)
            pids = group_pids(ng.pid)
            c0 = cpu_seconds(pids)
            r = wrk(f"http://127.0.0.1:{port}/ocsp/auth/{fx['b64url']}", get, lc, seconds=secs)
            r["cpu_s"] = cpu_seconds(pids) - c0
            r["rss_kib"] = memory_kib(pids)
            ocsp["nginx_get_cpu"] = r
            ocsp["nginx_p80"] = self.paced(f"http://127.0.0.1:{port}/ocsp/auth/{fx['b64url']}",
                                           ocsp["nginx_get"]["rps"], lc)
        finally:
            ng.stop()
        port = free_port()
        ng = nginx_start(self.tmp, fx["response"], port, self.all_cores,
                         workers=len(self.all_cores))
        try:
            ocsp["nginx_get_allcores"] = wrk(f"http://127.0.0.1:{port}/ocsp/auth/{fx['b64url']}",
                                             get, self.all_cores, seconds=secs)
        finally:
            ng.stop()

        # openssl ocsp: one keep-alive connection, and 8 connections with close.
        for name, script, conns, url_kind in (
                ("openssl_post_keepalive", post, 1, "post"),
                ("openssl_post_close", post_close, 8, "post"),
                ("openssl_get_keepalive", get, 1, "get"),
                ("openssl_get_close", get_close, 8, "get")):
            port = free_port()
            p = openssl_ocsp_start(self.tmp, fx, port, sc)
            try:
                url = (f"http://127.0.0.1:{port}/" if url_kind == "post"
                       else f"http://127.0.0.1:{port}/{std_b64}")
                ocsp[name] = wrk(url, script, lc, connections=conns, seconds=secs)
            finally:
                p.stop()

        # smacert: one I/O thread on the server core.
        port = free_port()
        sm = smacert_start(self.build, fx["data"], port, sc, 1, self.tmp)
        try:
            ocsp["smacert_startup_s"] = first_answer(port, fx["b64url"], sm)
            got = http_get(f"http://127.0.0.1:{port}/ocsp/auth/{fx['b64url']}")
            ocsp["same_bytes_as_nginx"] = got == open(fx["response"], "rb").read()
            base = f"http://127.0.0.1:{port}/ocsp/auth"
            ocsp["smacert_post"] = wrk(base, post, lc, seconds=secs)
            ocsp["smacert_get"] = wrk(f"{base}/{fx['b64url']}", get, lc, seconds=secs)
            pids = [sm.pid] + [q for q in group_pids(sm.pid) if q != sm.pid]
            rss0 = memory_kib(pids)
            c0 = cpu_seconds(pids)
            r = wrk(f"{base}/{fx['b64url']}", get, lc, seconds=secs)
            r["cpu_s"] = cpu_seconds(pids) - c0
            r["rss_kib"] = memory_kib(pids)
            r["rss_before_kib"] = rss0
            r["hwm_kib"] = memory_kib(pids, "VmHWM")
            ocsp["smacert_get_cpu"] = r
            ocsp["smacert_p80"] = self.paced(f"{base}/{fx['b64url']}", ocsp["smacert_get"]["rps"],
                                             lc)
            if self.opt.perf:
                ocsp["perf"] = self.profile(sm.pid, f"{base}/{fx['b64url']}", get, lc)
        finally:
            sm.stop()
        port = free_port()
        sm = smacert_start(self.build, fx["data"], port, self.all_cores, len(self.all_cores),
                           self.tmp, name="smacert-all")
        try:
            first_answer(port, fx["b64url"], sm)
            ocsp["smacert_get_allcores"] = wrk(f"http://127.0.0.1:{port}/ocsp/auth/{fx['b64url']}",
                                               get, self.all_cores, seconds=secs)
        finally:
            sm.stop()
        self.extra["ocsp_http"] = ocsp
        self.extra["ocsp_http"]["certificates"] = fx["count"]
        self.extra["ocsp_http"]["response_bytes"] = fx["response_bytes"]

        best_openssl = max(ocsp[k]["rps"] for k in ocsp if k.startswith("openssl_"))
        for m in ("post", "get"):
            self.row(1, f"OCSP {m.upper()} req/s, smacert, 1 core", ocsp[f"smacert_{m}"]["rps"],
                     "req/s", f"nginx static file, {m.upper()}, 1 core (ceiling)",
                     ocsp[f"nginx_{m}"]["rps"], target=">= 0.90")
            self.row(1, f"OCSP {m.upper()} req/s, smacert, 1 core", ocsp[f"smacert_{m}"]["rps"],
                     "req/s", "openssl ocsp, best of keep-alive and close, POST or GET, 1 core",
                     best_openssl, target=">= 10")
        self.row(1, "OCSP GET req/s, smacert, all cores (wrk shares them)",
                 ocsp["smacert_get_allcores"]["rps"], "req/s",
                 "nginx, one worker per core, all cores (wrk shares them)",
                 ocsp["nginx_get_allcores"]["rps"])
        p80 = ocsp["smacert_p80"]
        self.row(1, f"OCSP GET p99 latency at {p80['fraction_of_peak']:.0%} of peak, smacert",
                 p80["p99_us"] / 1000, "ms", "the 5 ms goal", 5.0, better="lower",
                 target=">= 1 (p99 <= 5 ms)",
                 note=f"nginx at {ocsp['nginx_p80']['fraction_of_peak']:.0%} of its peak: "
                      f"p99 {ocsp['nginx_p80']['p99_us'] / 1000:.2f} ms")
        sm_cpu = ocsp["smacert_get_cpu"]
        ng_cpu = ocsp["nginx_get_cpu"]
        self.row(6, "CPU per OCSP GET at peak, smacert", 1e6 * sm_cpu["cpu_s"] / sm_cpu["requests"],
                 "us/req", "nginx static file", 1e6 * ng_cpu["cpu_s"] / ng_cpu["requests"],
                 better="lower")
        self.row(6, f"resident memory at peak, smacert ({fx['count']:,} responses)", sm_cpu["rss_kib"] / 1024,
                 "MiB", "nginx (master + worker)", ng_cpu["rss_kib"] / 1024, better="lower",
                 note=f"RSS grew {sm_cpu['rss_kib'] - sm_cpu['rss_before_kib']} KiB over "
                      f"{sm_cpu['requests']:,} requests")

    def paced(self, url, peak, cores, fraction=0.8):
        """p99 at about `fraction` of peak: wrk connections that each wait 1 ms
        between requests; the number of connections is tuned to the rate."""
        script = wrk_script(os.path.join(self.tmp, "paced.lua"), "GET", delay_ms=1)
        target = peak * fraction
        conns = max(1, int(target / 900))
        runs = []
        for _ in range(6):
            r = wrk(url, script, cores, connections=conns, seconds=max(4, self.opt.seconds // 2))
            runs.append(r)
            if abs(r["rps"] - target) / target < 0.05:
                break
            conns = max(1, round(conns * target / max(r["rps"], 1)))
        r = min(runs, key=lambda x: abs(x["rps"] - target))
        r["fraction_of_peak"] = r["rps"] / peak
        return r

    def profile(self, pid, url, script, cores):
        """perf record the server under load; the top symbols."""
        if not shutil.which("perf"):
            return None
        data = os.path.join(self.tmp, "perf.data")
        perf = subprocess.Popen(["perf", "record", "-F", "999", "-g", "-p", str(pid), "-o", data,
                                 "--", "sleep", str(self.opt.seconds)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wrk(url, script, cores, seconds=self.opt.seconds)
        perf.wait(timeout=60)
        out = subprocess.run(["perf", "report", "-i", data, "--no-children", "--stdio",
                              "--percent-limit", "1", "-g", "none", "--sort", "dso,symbol"],
                             capture_output=True, text=True).stdout
        # perf pads the symbol column to the longest name: squeeze the runs of blanks.
        top = [re.sub(r"\s{2,}", "  ", ln.strip()) for ln in out.splitlines()
               if ln.strip() and not ln.startswith("#")]
        os.makedirs(self.opt.out, exist_ok=True)
        with open(os.path.join(self.opt.out, "perf-ocsp.txt"), "w") as f:
            f.write("\n".join(top) + "\n")
        return top[:40]

    # ---- item 2: status visibility
    def visibility(self):
        fx = self.fixture(self.opt.certs)
        port = free_port()
        sm = smacert_start(self.build, fx["data"], port, self.all_cores, len(self.all_cores),
                           self.tmp, name="smacert-vis")
        n = self.opt.changes
        print(f"status visibility ({n} changes)", flush=True)
        try:
            first_answer(port, fx["b64url"], sm)
            token = open(os.path.join(fx["data"], "admin.token")).read().strip()
            import http.client
            admin = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            ocsp = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            lag_ack, lag_send, polls = [], [], []
            serials = fx["serials"][-n:]
            for i, serial in enumerate(serials):
                action, want = (("revoke", "revoked:0"), ("suspend", "revoked:6"))[i % 2]
                req = base64.urlsafe_b64encode(ocsp_request(fx["request_bytes"], serial)).decode()
                t0 = time.monotonic()
                admin.request("POST", f"/admin/v1/certificates/{serial}/{action}", body=b"{}",
                              headers={"Authorization": f"Bearer {token}",
                                       "Content-Type": "application/json"})
                resp = admin.getresponse()
                resp.read()
                if resp.status != 200:
                    raise RuntimeError(f"{action} {serial}: HTTP {resp.status}")
                t1 = time.monotonic()
                k = 0
                while True:
                    k += 1
                    ocsp.request("GET", f"/ocsp/auth/{req}")
                    body = ocsp.getresponse().read()
                    if ocsp_status(body) == want:
                        break
                    if time.monotonic() - t1 > 5:
                        raise RuntimeError(f"{serial} not {want} after 5 s")
                t2 = time.monotonic()
                lag_ack.append(t2 - t1)
                lag_send.append(t2 - t0)
                polls.append(k)
        finally:
            sm.stop()

        def pct(v, q):
            v = sorted(v)
            return v[min(len(v) - 1, int(q * len(v)))]

        res = {"changes": n, "p50_after_commit_ms": 1e3 * pct(lag_ack, 0.5),
               "p99_after_commit_ms": 1e3 * pct(lag_ack, 0.99),
               "p99_from_request_ms": 1e3 * pct(lag_send, 0.99),
               "max_from_request_ms": 1e3 * max(lag_send),
               "polls_needed_max": max(polls),
               "first_poll_already_new": sum(1 for k in polls if k == 1)}
        self.extra["visibility"] = res
        self.row(2, f"status visible in OCSP, p99 over {n} revocations/suspensions, from the "
                    "change request to the new answer", res["p99_from_request_ms"], "ms",
                 "the 1 s target", 1000.0, better="lower", target=">= 1",
                 note=f"{res['first_poll_already_new']}/{n} first polls after the commit "
                      f"already answered the new status; p99 after the commit "
                      f"{res['p99_after_commit_ms']:.2f} ms")

    # ---- item 4: CRL
    def crl(self):
        print("CRL", flush=True)
        n_big, n_base = self.opt.crl_big, self.opt.crl_base
        out = run([os.path.join(self.build, "bench", "crl_bench"), str(n_big), str(n_base),
                   os.path.join(self.tmp, "crl")], timeout=3600)
        ours = json.loads(out)
        # openssl ca -gencrl on the same CA key, n_base revoked lines.
        d = os.path.join(self.tmp, "crl")
        ca = ours["ca_dir"]
        t = ours["index_file"]
        with open(os.path.join(d, "crlnumber"), "w") as f:
            f.write("1000\n")
        cnf = os.path.join(d, "openssl-ca.cnf")
        with open(cnf, "w") as f:
            f.write(f"""[ca]
default_ca = bench
[bench]
database = {t}
certificate = {ca}/ca.pem
private_key = {ca}/ca.key
crlnumber = {d}/crlnumber
default_md = sha256
default_crl_days = 1
crl_extensions = crl_ext
[crl_ext]
authorityKeyIdentifier = keyid:always
""")
        with open(t + ".attr", "w") as f:
            f.write("unique_subject = no\n")
        times = []
        for _ in range(self.opt.crl_repeat):
            t0 = time.monotonic()
            run(["taskset", "-c", str(self.server_core[0]), "openssl", "ca", "-gencrl",
                 "-config", cnf, "-out", os.path.join(d, "openssl.crl")], timeout=3600)
            times.append(time.monotonic() - t0)
        base = min(times)
        ours["openssl_gencrl_s"] = base
        ours["openssl_crl_bytes"] = os.path.getsize(os.path.join(d, "openssl.crl"))
        self.extra["crl"] = ours
        self.row(4, f"full CRL, {n_big:,} revoked serials, built and signed",
                 ours["full_big_s"], "s", "the 3 s target", 3.0, better="lower", target=">= 1")
        self.row(4, f"CRL time per entry, {n_base:,} entries (full build)",
                 1e6 * ours["full_base_s"] / n_base, "us/entry",
                 f"openssl ca -gencrl, {n_base:,} entries", 1e6 * base / n_base, better="lower",
                 target=">= 10")
        self.row(4, f"CRL rebuild after one more revocation, {n_big:,} entries (incremental)",
                 ours["incremental_big_s"], "s", f"full build of the same {n_big:,}",
                 ours["full_big_s"], better="lower")

    # ---- item 3: device change over HTTP
    def rsa_speed(self, cores):
        """openssl speed rsa2048 on exactly `cores` (sign/s): the bound of one device-change
        round, measured just before and just after it on the same cores."""
        extra = ["-multi", str(len(cores))] if len(cores) > 1 else []
        out = run(["taskset", "-c", ",".join(map(str, cores)), "openssl", "speed", "-seconds",
                   str(self.opt.speed_seconds)] + extra + ["rsa2048"], timeout=300)
        line = [ln for ln in out.splitlines() if ln.strip().startswith("rsa 2048 bits")][-1]
        return float(line.split()[-2])

    def device_change_round(self, cores, threads, n, conc, name, probe_ocsp=False):
        """One device-change run: the clients' set-up (cards, old phones), then openssl speed on
        the server's cores, the timed device changes, and openssl speed again. Returns
        devicechange_bench's figures with the bound measured around them. With probe_ocsp, each
        client asks OCSP for the old phone's status after each 202 (item 2)."""
        data = os.path.join(self.tmp, name)
        port = free_port()
        sm = smacert_start(self.build, data, port, cores, threads, self.tmp, name=name)
        try:
            wait_port(port)
            token = open(os.path.join(data, "admin.token")).read().strip()
            client_cores = self.load_core if len(cores) == 1 else self.all_cores
            proc = subprocess.Popen(
                ["taskset", "-c", ",".join(map(str, client_cores)),
                 os.path.join(self.build, "bench", "devicechange_bench"),
                 f"http://127.0.0.1:{port}", token, str(n), str(conc), "--go-on-stdin"]
                + (["--probe-ocsp"] if probe_ocsp else []),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            try:
                for line in proc.stderr:
                    if line.startswith("set-up done"):
                        break
                else:
                    raise RuntimeError("devicechange_bench ended during its set-up: " +
                                       proc.stdout.read().strip())
                before = self.rsa_speed(cores)
                out, err = proc.communicate(input="go\n", timeout=3600)
            finally:
                if proc.poll() is None:
                    proc.kill()
            if proc.returncode != 0:
                raise RuntimeError(f"devicechange_bench failed: {err.strip()}")
            r = json.loads(out.strip().splitlines()[-1])
        finally:
            sm.stop()
        after = self.rsa_speed(cores)
        r["rsa2048_sign_per_s_before_after"] = [before, after]
        r["rsa2048_sign_per_s"] = (before + after) / 2
        r["server_threads"] = threads
        return r

    def device_change(self):
        n, conc = self.opt.holders, self.opt.concurrency
        # Private-key operations one device change needs of the service: two
        # certificates signed by the CA, four OCSP responses pre-signed (the
        # old phone's two, revoked, and the new phone's two), all RSA-2048
        # with the default CAs; and two P-256 push events (a "wipe" naming the
        # revoked serials to the old phone, "registration_ready" to the new one).
        rsa_per_change = 6
        res = {}
        # A registration node's handlers wait for the durable commit (fsync):
        # with one thread per core the core idles meanwhile and commit groups
        # stay at about one change, so a node of that role runs four threads per
        # core (docs/configuration.md).
        # The one-core rounds time device changes alone; the all-cores round
        # also asks OCSP for each old phone's status right after its 202
        # (item 2's row below), one GET more per change inside its timing.
        for label, cores, threads, rounds, probe in (
                ("1 core", self.server_core, DEVICE_CHANGE_THREADS_PER_CORE, self.opt.rounds,
                 False),
                ("all cores", self.all_cores,
                 DEVICE_CHANGE_THREADS_PER_CORE * len(self.all_cores), 1, True)):
            # This machine's speed drifts by tens of percent within minutes:
            # each round's bound is openssl speed on the same cores just before
            # and just after it, and the round with the median ratio is reported.
            tries = []
            for i in range(rounds):
                print(f"device change ({n} holders, {conc} clients, server on cores {cores}, "
                      f"round {i + 1} of {rounds})", flush=True)
                r = self.device_change_round(cores, threads, n, conc,
                                             f"smacert-dc-{len(cores)}-{i}", probe_ocsp=probe)
                before, after = r["rsa2048_sign_per_s_before_after"]
                bound = r["rsa2048_sign_per_s"]
                r["rsa_signatures_per_change"] = rsa_per_change
                r["bound_per_s"] = bound / rsa_per_change
                r["ratio"] = r["per_s"] / r["bound_per_s"]
                print(f"  {r['per_s']:.1f} changes/s, bound {r['bound_per_s']:.1f} "
                      f"(openssl speed {before:,.0f} / {after:,.0f}): x{r['ratio']:.3f}", flush=True)
                tries.append(r)
            tries.sort(key=lambda t: t["ratio"])
            r = tries[len(tries) // 2]
            r["ratios_of_rounds"] = [t["ratio"] for t in tries]
            res[label] = r
            spread = (f"; ratios of {rounds} rounds {', '.join(f'x{t:.2f}' for t in r['ratios_of_rounds'])}"
                      f", the median shown" if rounds > 1 else "")
            self.row(3, f"device changes/s end to end over HTTP, server on {label}", r["per_s"],
                     "changes/s",
                     f"RSA-2048 bound: openssl speed {r['rsa2048_sign_per_s']:,.0f} sign/s "
                     f"(same cores, before and after) / {rsa_per_change} signatures per change",
                     r["bound_per_s"], target=">= 0.50",
                     note=f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms per device change "
                          f"with {conc} concurrent clients{spread}; the client itself used "
                          f"{r.get('client_cores', 0):.2f} cores"
                          + ("; each change also followed by one OCSP GET (item 2)" if probe else ""))
        self.extra["device_change"] = res
        self.device_change_postgresql(res["1 core"])
        r = res["all cores"]
        self.row(2, f"device change visible in OCSP: old phone revoked in the first answer after "
                    f"the 202, of {n}", r["old_phone_revoked_at_first_ocsp_answer"], "changes",
                 "device changes made", n, target="= 1",
                 note=f"that OCSP GET took at most {r['ocsp_after_change_max_ms']:.2f} ms")

    def device_change_postgresql(self, sqlite):
        """The same device changes on a PostgreSQL store (durable, on this machine), beside
        SQLite's figure from this run: what a node pays for the shared store."""
        n, conc = self.opt.holders, self.opt.concurrency
        pg = pg_start(self.tmp, free_port())
        try:
            url = open(os.path.join(pg, "url")).read().strip()
            data = os.path.join(self.tmp, "dc-pg")
            port = free_port()
            sm = smacert_start(self.build, data, port, self.server_core,
                               DEVICE_CHANGE_THREADS_PER_CORE, self.tmp,
                               name="smacert-dc-pg", store=url)
            try:
                wait_port(port)
                token = open(os.path.join(data, "admin.token")).read().strip()
                print(f"device change on PostgreSQL ({n} holders, {conc} clients, smacert on "
                      f"cores {self.server_core}, PostgreSQL unpinned)", flush=True)
                out = run(["taskset", "-c", ",".join(map(str, self.load_core)),
                           os.path.join(self.build, "bench", "devicechange_bench"),
                           f"http://127.0.0.1:{port}", token, str(n), str(conc), "--probe-ocsp"],
                          timeout=3600)
                r = json.loads(out.strip().splitlines()[-1])
            finally:
                sm.stop()
        finally:
            pg_stop(pg)
        self.extra["device_change_postgresql"] = r
        self.row(3, "device changes/s end to end over HTTP, PostgreSQL store (durable, same "
                    "machine), smacert on 1 core", r["per_s"], "changes/s",
                 "the same on SQLite, this run", sqlite["per_s"],
                 note=f"p50 {r['p50_ms']:.1f} ms, p99 {r['p99_ms']:.1f} ms (SQLite: p50 "
                      f"{sqlite['p50_ms']:.1f} ms, p99 {sqlite['p99_ms']:.1f} ms); old phone "
                      f"revoked in the first OCSP answer after the 202: "
                      f"{r['old_phone_revoked_at_first_ocsp_answer']}/{n}")

    # ---- item 5: scale (a larger store, requests spread over every serial)
    def scale(self):
        n_small, n_big = self.opt.certs, self.opt.scale_certs
        sc, lc = self.server_core, self.load_core
        res = {}
        for n in (n_small, n_big):
            fx = self.fixture(n, self.opt.scale_algorithm, where=self.opt.scale_data)
            # 2,000 GET paths for serials drawn from the whole store.
            paths = [base64.urlsafe_b64encode(ocsp_request(fx["request_bytes"], s)).decode()
                     for s in sample_serials(fx["serials_path"], 2000, seed=5)]
            script = os.path.join(self.tmp, f"spread-{n}.lua")
            with open(script, "w") as f:
                f.write(WRK_COMMON)
                f.write("local paths = {" + ",".join(f'"/ocsp/auth/{p}"' for p in paths) + "}\n")
                f.write("request = function()\n  return wrk.format(nil, "
                        "paths[math.random(#paths)])\nend\n")
            port = free_port()
            sm = smacert_start(self.build, fx["data"], port, sc, 1, self.tmp, name=f"smacert-{n}")
            try:
                startup = first_answer(port, fx["b64url"], sm, timeout=3600)
                pids = [sm.pid] + [q for q in group_pids(sm.pid) if q != sm.pid]
                rss = memory_kib(pids)
                hwm = memory_kib(pids, "VmHWM")  # the load's peak
                r = wrk(f"http://127.0.0.1:{port}/", script, lc, seconds=self.opt.seconds)
                r["startup_s"] = startup
                r["rss_kib"] = rss
                r["hwm_kib"] = hwm
                r["rss_after_kib"] = memory_kib(pids)
                r["generate_s"] = fx["generate_s"]
                res[n] = r
            finally:
                sm.stop()
            print(f"  {n:,} certificates: start-up {startup:.2f} s, RSS {rss / 1024:.0f} MiB "
                  f"(VmHWM {hwm / 1024:.0f} MiB), {r['rps']:,.0f} req/s, "
                  f"p99 {r['p99_us'] / 1000:.2f} ms", flush=True)
        self.extra["scale"] = {str(k): v for k, v in res.items()}
        small, big = res[n_small], res[n_big]
        per_response = (big["rss_kib"] - small["rss_kib"]) * 1024 / (n_big - n_small)
        self.row(5, f"OCSP GET p99 at peak, {n_big:,} certificates, requests over 2,000 random "
                    "serials", big["p99_us"] / 1000, "ms", f"the same with {n_small:,}",
                 small["p99_us"] / 1000, better="lower", target=">= 0.67 (within 1.5x)")
        if n_big >= 10_000_000:
            projection = "measured at this size"
        else:
            projection = ("linear extrapolation to 10,000,000: "
                          f"{(small['rss_kib'] * 1024 + per_response * (10_000_000 - n_small)) / 2**30:.1f}"
                          " GiB (EXTRAPOLATED, not measured)")
        self.row(5, f"responder RSS, {n_big:,} certificates", big["rss_kib"] / 1024, "MiB",
                 "8 GiB limit", 8192.0, better="lower", target=">= 1",
                 note=f"{per_response:,.0f} bytes per response held ({self.opt.scale_algorithm} "
                      f"OCSP signer); {projection}; after the load run "
                      f"{big['rss_after_kib'] / 1024:.0f} MiB")
        self.row(5, f"responder VmHWM (peak during the load), {n_big:,} certificates",
                 big["hwm_kib"] / 1024, "MiB", "8 GiB limit", 8192.0, better="lower",
                 target=">= 1")
        self.row(5, f"start-up to first OCSP answer, {n_big:,} certificates", big["startup_s"], "s",
                 f"the same with {n_small:,}", small["startup_s"], better="lower",
                 note=f"store generated directly by bench_fixture in {big['generate_s']:.0f} s")


def sample_serials(path, k, seed):
    """k serials drawn uniformly from the file (one a line) without holding
    it: reservoir sampling, the same draw for the same file and seed."""
    import random
    rnd = random.Random(seed)
    out = []
    with open(path) as f:
        for i, line in enumerate(f):
            if i < k:
                out.append(line.strip())
            else:
                j = rnd.randint(0, i)
                if j < k:
                    out[j] = line.strip()
    return out


def pg_start(tmp, port):
    """A throwaway PostgreSQL 15 with its durable defaults (fsync, synchronous_commit on)."""
    state = os.path.join(tmp, "pg")
    env = dict(os.environ, PG_DURABLE="1")
    subprocess.run([os.path.join(HERE, "..", "scripts", "pg-test.sh"), "start", state, str(port)],
                   check=True, env=env, timeout=120, stdout=subprocess.DEVNULL)
    return state


def pg_stop(state):
    subprocess.run([os.path.join(HERE, "..", "scripts", "pg-test.sh"), "stop", state],
                   timeout=120, stdout=subprocess.DEVNULL)


def machine():
    model = ""
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break

    def version(args):
        try:
            r = subprocess.run(args, capture_output=True, text=True, timeout=10)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError):
            return None

    return {"cpu": model, "cores": os.cpu_count(), "affinity": sorted(os.sched_getaffinity(0)),
            "kernel": platform.release(), "loadavg_before": os.getloadavg(),
            "openssl": version(["openssl", "version"]), "nginx": version(["nginx", "-v"]),
            "wrk": version(["wrk", "-v"]),
            "mem_total_kib": int(open("/proc/meminfo").readline().split()[1])}


def write_results(b, out_dir, m):
    m["loadavg_after"] = os.getloadavg()
    os.makedirs(out_dir, exist_ok=True)
    doc = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(), "machine": m,
           "cores": {"server": b.server_core, "load": b.load_core, "all": b.all_cores},
           "results": b.rows, "details": b.extra}
    with open(os.path.join(out_dir, "latest.json"), "w") as f:
        json.dump(doc, f, indent=2)
    lines = [f"smacert benchmarks, {doc['date']}",
             f"machine: {m['cpu']}, {m['cores']} cores, kernel {m['kernel']}, {m['openssl']}, "
             f"{m['nginx']}, {m['wrk']}",
             f"cores: server {b.server_core}, load generator {b.load_core}; load average before "
             f"{m['loadavg_before'][0]:.2f}, after {m['loadavg_after'][0]:.2f}", ""]
    w = max(len(r["figure"]) for r in b.rows) if b.rows else 10
    wb = max(len(r["baseline"]) for r in b.rows) if b.rows else 10
    lines.append(f"{'#':<2} {'figure':<{w}} {'value':>12} {'unit':<9} {'baseline':<{wb}} "
                 f"{'value':>12}  ratio   target")
    for r in b.rows:
        ratio = f"x{r['ratio']:.3g}" if r["ratio"] is not None else "-"
        lines.append(f"{r['item']:<2} {r['figure']:<{w}} {r['value']:>12,.4g} {r['unit']:<9} "
                     f"{r['baseline']:<{wb}} {r['baseline_value']:>12,.4g}  {ratio:<7} "
                     f"{r['target'] or ''}")
        if r["note"]:
            lines.append(f"{'':<3}  ({r['note']})")
    lines.append("")
    lines.append("ratio: figure / baseline where higher is better, baseline / figure where lower "
                 "is better (time, latency, CPU, memory): above 1 means smacert is better.")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out_dir, "latest.txt"), "w") as f:
        f.write(text)
    print(text)


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--build", default="build")
    ap.add_argument("--out", default=os.path.join(HERE, "results"))
    ap.add_argument("--only", default="speed,inprocess,crl,ocsp,visibility,devicechange",
                    help="comma-separated: speed, inprocess, crl, ocsp, visibility, "
                         "devicechange, scale")
    ap.add_argument("--seconds", type=int, default=10, help="length of each load run")
    ap.add_argument("--speed-seconds", type=int, default=3)
    ap.add_argument("--certs", type=int, default=10000)
    ap.add_argument("--changes", type=int, default=1000)
    ap.add_argument("--crl-big", type=int, default=1000000)
    ap.add_argument("--crl-base", type=int, default=100000)
    ap.add_argument("--crl-repeat", type=int, default=3)
    ap.add_argument("--scale-certs", type=int, default=200000,
                    help="the larger store of the scale run (10,000,000 is the issue's figure)")
    ap.add_argument("--scale-algorithm", default="rsa2048", choices=["rsa2048", "p256"])
    ap.add_argument("--scale-data", default=None,
                    help="folder for the scale run's stores (kept, and used again when "
                         "complete); default: this run's temporary folder, deleted after")
    ap.add_argument("--holders", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=7,
                    help="device-change rounds on one core (the median ratio is reported)")
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--perf", action="store_true", help="profile the OCSP server with perf")
    opt = ap.parse_args()
    m = machine()
    b = Bench(opt)
    only = opt.only.split(",")
    try:
        if "speed" in only or "devicechange" in only:
            b.speed()
        if "inprocess" in only:
            b.inprocess()
        if "crl" in only:
            b.crl()
        if "ocsp" in only:
            b.ocsp_http()
        if "visibility" in only:
            b.visibility()
        if "devicechange" in only:
            b.device_change()
        if "scale" in only:
            b.scale()
    finally:
        write_results(b, opt.out, m)
        shutil.rmtree(b.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
