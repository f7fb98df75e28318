#!/usr/bin/env python3
"""Outbound benchmarks (run through bench/run).

Every scenario prints its figure beside a ceiling measured in the same run on the same machine,
and the ratio, so that noisy machines still compare. GET scenarios use wrk; the deadline rush
is driven here through the JSON API (sign in, fill, upload two 300 KB files, submit).
Results go to bench/results/<date>-<host>.md.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from concurrent.futures import ThreadPoolExecutor

import requests

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STUDENT_PASSWORD = "Demo@2026"
STAFF_PASSWORD = "Staff@2026"
RUSH_FIRST = 2099100001  # src/generate.rs RUSH_FIRST
BULK_FIRST = 2099500001  # src/generate.rs BULK_FIRST
RUSH_COMMITS = 7
# src/export.rs Column codes: the export ticks every column.
EXPORT_COLUMNS = ["student_no", "name", "college", "major", "grade", "level", "program", "year",
                  "program_type", "country", "choice_1", "choice_2", "status", "stage",
                  "submitted_at", "id_number", "mobile", "email", "gpa", "admitted_school"]

LINES = []


def say(line=""):
    print(line, flush=True)
    LINES.append(line)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def machine():
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem_kb = 0
    try:
        with open("/proc/meminfo") as f:
            mem_kb = int(f.readline().split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return {
        "host": socket.gethostname(),
        "cpu": cpu,
        "nproc": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
    }


def rss_kib(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    """User + system CPU seconds the process has used so far."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def own_cpu_seconds():
    import resource
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def reset_peak(pid):
    """Resets VmHWM (the peak RSS) of pid, so a later read is the peak of what follows."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, text=True, capture_output=True, **kw)


# --------------------------------------------------------------------------------------------
# wrk


def wrk(url, connections, seconds, cookie=None, threads=2):
    cmd = ["wrk", f"-t{min(threads, connections)}", f"-c{connections}", f"-d{seconds}s",
           "--latency", "--timeout", "10s"]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    out = run(cmd + [url]).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = {}
    # wrk prints "50%  1.23ms", wrk2 "50.000%  1.23ms".
    for pct, value, unit in re.findall(r"^\s+(50|99)(?:\.0+)?%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        lat[pct] = float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors:.*", out)
    bad = int(errors.group(1)) if errors else 0
    if socket_errors:
        bad += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(0)))
    return {"rps": rps, "p50": lat.get("50"), "p99": lat.get("99"), "errors": bad}


# --------------------------------------------------------------------------------------------
# The API client


class Api:
    def __init__(self, base):
        self.base = base
        self.s = requests.Session()
        self.latencies = []
        self.steps = []
        self.errors = []

    def _record(self, what, r, started, expect):
        took = time.perf_counter() - started
        self.latencies.append(took)
        self.steps.append((step_of(what), took))
        if r.status_code not in expect:
            self.errors.append(f"{what}: {r.status_code} {r.text[:200]}")
            raise RuntimeError(self.errors[-1])
        return r

    def call(self, method, path, expect=(200,), **kw):
        headers = kw.pop("headers", {})
        if method != "GET":
            headers["X-CSRF-Token"] = self.s.cookies.get("outbound_csrf", "")
        started = time.perf_counter()
        r = self.s.request(method, self.base + path, headers=headers, timeout=60, **kw)
        return self._record(f"{method} {path}", r, started, expect)

    def sign_in(self, username, password):
        self.call("GET", "/api/v1/csrf")
        self.call("POST", "/api/v1/session", json={"username": username, "password": password})
        return self

    def cookie_header(self):
        return "; ".join(f"{k}={v}" for k, v in self.s.cookies.items())


def step_of(what):
    """A request's step name: its method and path with numbers left out."""
    path = what.split("?")[0]
    return re.sub(r"/\d+", "/{id}", path)


def attachment(n, size=300 * 1024):
    """A 300 KB PDF (a real header and trailer around an uncompressed comment block)."""
    head = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
    tail = b"trailer<</Root 1 0 R>>\n%%EOF\n"
    filler = (b"% bench attachment " + str(n).encode() + b"\n") * size
    return head + filler[: size - len(head) - len(tail)] + tail


def rush_one(base, n, programs, codes, files, api=None):
    """One student's journey; `api` is an already signed-in client, else it signs in first."""
    if api is None:
        api = Api(base)
        signed_in = False
    else:
        api.steps, api.latencies, api.errors = [], [], []
        signed_in = True
    try:
        if not signed_in:
            api.sign_in(str(RUSH_FIRST + n), STUDENT_PASSWORD)
        pid, detail = programs[n % len(programs)]
        app = api.call("POST", f"/api/v1/programs/{pid}/applications", expect=(201,),
                       json={"commitment": True}).json()
        aid = app["id"]
        schools = [s["id"] for s in detail["schools"]]
        fund = codes["funding_source"]
        info = api.call("PUT", f"/api/v1/applications/{aid}/info", json={
            "version": app.get("version", 1),
            "choice_1": schools[0],
            "choice_2": str(schools[1]) if len(schools) > 1 else "",
            "exchange_from": detail.get("start_date") or "2027-02-15",
            "exchange_to": detail.get("end_date") or "2027-06-30",
            "exchange_duration": detail.get("duration") or "一学期",
            "depart_date": detail.get("start_date") or "2027-02-10",
            "return_date": detail.get("end_date") or "2027-07-05",
            "gpa": 3.6, "weighted_avg": "88.5", "one_china_issue": "no", "has_passport": "no",
            "emergency_relation": "母亲", "emergency_name": "王丽",
            "emergency_phone": "13700001111",
            "funding_round_trip": fund, "funding_accommodation": fund, "funding_meals": fund,
            "funding_intercity": fund, "funding_registration": fund, "funding_tuition": fund,
        }).json()
        api.call("POST", f"/api/v1/applications/{aid}/languages", expect=(201,), json={
            "language": codes["language"], "exam_type": codes["exam_type"], "score": "560",
            "exam_date": "2026-06-15"})
        types = sorted(detail["attachment_types"], key=lambda t: not t["required"])
        for k in range(2):
            t = types[k % len(types)]["id"]
            api.call("POST", f"/api/v1/applications/{aid}/attachments?type={t}", expect=(201,),
                     files={"file": (f"材料{k + 1}.pdf", files[k], "application/pdf")})
        version = api.call("GET", f"/api/v1/applications/{aid}").json()["version"]
        done = api.call("POST", f"/api/v1/applications/{aid}/submit",
                        json={"version": version}).json()
        if done.get("status") != "under_review":
            api.errors.append(f"submit of {aid} left it {done.get('status')}")
        del info
    except (RuntimeError, requests.RequestException, KeyError, IndexError, ValueError) as e:
        if not api.errors:
            api.errors.append(repr(e))
    return api.steps, api.errors


def rush_setup(base):
    probe = Api(base).sign_in(str(RUSH_FIRST), STUDENT_PASSWORD)
    page = probe.call("GET", "/api/v1/programs?open_only=true&per_page=100").json()
    programs = []
    for item in page["items"]:
        if item.get("eligibility", {}).get("can_apply") and item.get("code", "").startswith("BENCH-"):
            detail = probe.call("GET", f"/api/v1/programs/{item['id']}").json()
            if detail.get("schools") and detail.get("attachment_types"):
                programs.append((item["id"], detail))
    if not programs:
        raise SystemExit("no open generated program for the rush students")
    codes = {}
    for kind in ("funding_source", "language", "exam_type"):
        codes[kind] = probe.call("GET", f"/api/v1/dictionaries/{kind}").json()["items"][0]["code"]
    probe.call("DELETE", "/api/v1/session")
    return programs, codes


def rush(base, students, concurrency, setup, first=0, signed_in=None):
    """`students` journeys from RUSH_FIRST + first, `concurrency` at a time; with `signed_in`
    (one client per student) the sign-in is already done and not timed."""
    programs, codes = setup
    files = [attachment(1), attachment(2)]
    started = time.perf_counter()
    latencies, errors, by_step = [], [], {}
    clients = signed_in or [None] * students
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        for steps, err in pool.map(
                lambda n: rush_one(base, first + n, programs, codes, files, clients[n]),
                range(students)):
            for name, took in steps:
                latencies.append(took)
                by_step.setdefault(name, []).append(took)
            errors += err
    seconds = time.perf_counter() - started
    return latencies, errors, seconds, len(programs), by_step


def sign_in_wave(base, first, students, concurrency):
    """Signs `students` in from RUSH_FIRST + first, `concurrency` at a time: (clients,
    latencies, errors, seconds)."""
    def one(n):
        api = Api(base)
        try:
            api.sign_in(str(RUSH_FIRST + first + n), STUDENT_PASSWORD)
        except (RuntimeError, requests.RequestException) as e:
            api.errors.append(repr(e))
        return api
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        clients = list(pool.map(one, range(students)))
    seconds = time.perf_counter() - started
    sign_ins = [took for c in clients for (name, took) in c.steps if name.startswith("POST")]
    errors = [e for c in clients for e in c.errors]
    return clients, sign_ins, errors, seconds


def sheet_rows(xlsx):
    """Data rows in the first sheet of an .xlsx (its header row not counted)."""
    import io
    import zipfile
    try:
        with zipfile.ZipFile(io.BytesIO(xlsx)) as z:
            return z.read("xl/worksheets/sheet1.xml").count(b"<row ") - 1
    except (zipfile.BadZipFile, KeyError):
        return 0


def pct(values, p):
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


# --------------------------------------------------------------------------------------------


def ceiling(binary, workdir, commits, concurrency, database_url=None):
    cmd = [binary, "generate", "--data-dir", workdir, "--ceiling", str(commits),
           "--concurrency", str(concurrency)]
    if database_url:
        cmd += ["--database-url", database_url]
    out = run(cmd).stdout.strip().splitlines()[-1]
    return json.loads(out)


def postgres_ceiling(binary, workdir, commits, concurrency):
    if not shutil.which("psql"):
        return None
    name = f"outbound_bench_{os.getpid()}"
    base = os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432")
    try:
        run(["psql", f"{base}/postgres", "-qc", f"CREATE DATABASE {name}"])
    except subprocess.CalledProcessError:
        return None
    try:
        return ceiling(binary, workdir, commits, concurrency, f"{base}/{name}")
    finally:
        subprocess.run(["psql", f"{base}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name}"],
                       capture_output=True)


def ratio_line(name, figure, unit, ceiling_value, ceiling_name, goal):
    ratio = figure / ceiling_value if ceiling_value else float("nan")
    say(f"| {name} | {figure:,.1f} {unit} | {ceiling_value:,.1f} ({ceiling_name}) | {ratio:.2f} | {goal} |")
    return ratio


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--binary", default=os.path.join(ROOT, "target/release/outbound"))
    ap.add_argument("--students", type=int, default=2000)
    ap.add_argument("--applications", type=int, default=100_000)
    ap.add_argument("--concurrency", type=int, default=200)
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--keep", action="store_true", help="keep the temporary data folder")
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="outbound-bench-")
    info = machine()
    now = datetime.datetime.now()
    say(f"# Outbound benchmark, {now:%Y-%m-%d %H:%M}")
    say()
    say(f"- machine: {info['host']}, {info['nproc']} CPU ({info['cpu']}), "
        f"{info['memory_gib']} GiB RAM, Linux {info['kernel']}")
    commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    say(f"- code: {commit or 'unknown'} (release build); data: demo set + 50 programs, "
        f"{args.students} rush students, {args.applications:,} generated applications")
    say()

    # Storage ceilings: durable single-row commits, same settings as the server.
    sqlite_ceiling = ceiling(args.binary, os.path.join(work, "ceiling"), 2000, 64)
    pg = postgres_ceiling(args.binary, os.path.join(work, "ceiling-pg"), 2000, 64)

    started = time.perf_counter()
    gen = run([args.binary, "generate", "--data-dir", os.path.join(work, "data"),
               "--students", str(2 * args.students), "--applications", str(args.applications)])
    gen_seconds = time.perf_counter() - started
    print(gen.stdout.strip(), flush=True)

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = dict(os.environ, OUTBOUND_BENCH="1", RUST_LOG="outbound=warn")
    t0 = time.perf_counter()
    server = subprocess.Popen([args.binary, "serve", "--data-dir", os.path.join(work, "data"),
                               "--listen", f"127.0.0.1:{port}"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        while True:
            try:
                if requests.get(base + "/healthz", timeout=1).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if server.poll() is not None:
                raise SystemExit("the server stopped: " + server.stderr.read())
            time.sleep(0.01)
        healthy_ms = (time.perf_counter() - t0) * 1000
        time.sleep(1)
        idle_rss = rss_kib(server.pid) / 1024

        say("| scenario | figure | ceiling | ratio | goal |")
        say("| --- | --- | --- | --- | --- |")
        ping = wrk(base + "/bench/ping", 64, args.seconds)
        say(f"| framework ceiling: trivial handler, 64 connections | {ping['rps']:,.0f} req/s "
            f"(p50 {ping['p50']:.2f} ms, p99 {ping['p99']:.2f} ms) | — | 1.00 | — |")
        say(f"| storage ceiling: durable single-row commits, SQLite (64 writers) | "
            f"{sqlite_ceiling['per_second']:,.0f} commits/s | — | 1.00 | — |")
        if pg:
            say(f"| storage ceiling: durable single-row commits, PostgreSQL (64 writers) | "
                f"{pg['per_second']:,.0f} commits/s | — | — | — |")

        student = Api(base).sign_in("2023020105", STUDENT_PASSWORD)
        catalogue_url = base + "/programs?" + urllib.parse.urlencode({"keyword": "BENCH", "open_only": "true"})
        cat = wrk(catalogue_url, 64, args.seconds, cookie=student.cookie_header())
        r = cat["rps"] / ping["rps"]
        say(f"| catalogue: /programs with a filter, 64 connections | {cat['rps']:,.0f} req/s, "
            f"p50 {cat['p50']:.1f} ms, p99 {cat['p99']:.1f} ms, {cat['errors']} errors | "
            f"{ping['rps']:,.0f} req/s | {r:.2f} | ratio ≥ 0.5, p99 ≤ 10 ms |")

        setup = rush_setup(base)
        server_cpu, client_cpu = cpu_seconds(server.pid), own_cpu_seconds()
        latencies, errors, seconds, nprog, by_step = rush(base, args.students, args.concurrency, setup)
        server_cpu = cpu_seconds(server.pid) - server_cpu
        client_cpu = own_cpu_seconds() - client_cpu
        per_s = args.students / seconds
        r = per_s / sqlite_ceiling["per_second"]
        say(f"| deadline rush: {args.students} students × (sign in, fill, 2 × 300 KB, submit), "
            f"{args.concurrency} at a time | {per_s:,.1f} submissions/s, {len(errors)} errors, "
            f"{len(latencies):,} requests p50 {pct(latencies, 50) * 1000:.0f} ms, "
            f"p99 {pct(latencies, 99) * 1000:.0f} ms ({seconds:.1f} s) | "
            f"{sqlite_ceiling['per_second']:,.0f} commits/s | {r:.3f} | 0 errors, ratio ≥ 0.5, p99 ≤ 250 ms |")
        # Each submission is 7 durable commits (session, application, 申请信息, language score,
        # two files, submit): their rate is what compares fairly with the single-row ceiling.
        commits = per_s * RUSH_COMMITS
        say(f"| deadline rush, as durable commits ({RUSH_COMMITS} per submission) | "
            f"{commits:,.0f} commits/s | {sqlite_ceiling['per_second']:,.0f} commits/s | "
            f"{commits / sqlite_ceiling['per_second']:.2f} | ratio ≥ 0.5 |")
        steps = ", ".join(f"{k} p50 {pct(v, 50) * 1000:.0f} / p99 {pct(v, 99) * 1000:.0f} ms"
                          for k, v in by_step.items())
        say(f"| deadline rush, per step | {steps} | — | — | p99 ≤ 250 ms |")
        cores = os.cpu_count() or 1
        say(f"| deadline rush, CPU | server {server_cpu:.1f} s, load generator {client_cpu:.1f} s "
            f"of {seconds * cores:.1f} core-seconds | — | — | — |")
        # The same rush taken apart: the sign-ins alone (Argon2id, 19 MiB × 2 passes each),
        # then the journeys of students already signed in.
        t0 = cpu_seconds(server.pid)
        clients, sign_ins, sign_errors, sign_seconds = sign_in_wave(
            base, args.students, args.students, args.concurrency)
        sign_cpu = cpu_seconds(server.pid) - t0
        say(f"| sign-in wave: {args.students} other students, {args.concurrency} at a time | "
            f"{args.students / sign_seconds:,.1f} sign-ins/s, {len(sign_errors)} errors, "
            f"p50 {pct(sign_ins, 50) * 1000:.0f} ms, p99 {pct(sign_ins, 99) * 1000:.0f} ms; "
            f"server CPU {sign_cpu * 1000 / args.students:.0f} ms per sign-in | — | — | — |")
        lat2, err2, sec2, _, _ = rush(base, args.students, args.concurrency, setup,
                                      first=args.students, signed_in=clients)
        per_s2 = args.students / sec2
        say(f"| deadline rush of signed-in students (fill, 2 × 300 KB, submit) | "
            f"{per_s2:,.1f} submissions/s, {len(err2)} errors, {len(lat2):,} requests "
            f"p50 {pct(lat2, 50) * 1000:.0f} ms, p99 {pct(lat2, 99) * 1000:.0f} ms ({sec2:.1f} s); "
            f"{per_s2 * (RUSH_COMMITS - 1):,.0f} commits/s | "
            f"{sqlite_ceiling['per_second']:,.0f} commits/s | "
            f"{per_s2 * (RUSH_COMMITS - 1) / sqlite_ceiling['per_second']:.2f} | ratio ≥ 0.5, p99 ≤ 250 ms |")
        errors += sign_errors + err2
        for e in errors[:5]:
            print("  rush error:", e, flush=True)

        office = Api(base).sign_in("gjc_officer", STAFF_PASSWORD)
        reviewer = Api(base).sign_in("xx_reviewer", STAFF_PASSWORD)
        queues = [
            ("the office: 申请中, oldest first, page 3", office,
             {"status": "under_review", "sort": "submitted", "page": "3"}),
            ("a college reviewer (two colleges): first page", reviewer, {}),
            ("the office: one student's number", office, {"q": str(BULK_FIRST + 1234)}),
            ("the office: a keyword in every name (学生), page 3", office,
             {"status": "under_review", "q": "学生", "sort": "submitted", "page": "3"}),
        ]
        for what, who, params in queues:
            url = base + "/staff/reviews?" + urllib.parse.urlencode(params)
            check = who.s.get(url, timeout=60)
            q = wrk(url, 1, args.seconds, cookie=who.cookie_header())
            say(f"| reviewer queue over {args.applications:,} applications, {what} "
                f"(one reviewer at a time; HTTP {check.status_code}) | p50 {q['p50']:.1f} ms, "
                f"p99 {q['p99']:.1f} ms, {q['rps']:,.0f} req/s | {ping['rps']:,.0f} req/s | "
                f"{q['rps'] / ping['rps']:.3f} | ≤ 20 ms |")

        before = rss_kib(server.pid) / 1024
        peak_reset = reset_peak(server.pid)
        t = time.perf_counter()
        every_column = [("col", c) for c in EXPORT_COLUMNS]
        export = office.s.get(base + "/staff/applications/export.xlsx?"
                              + urllib.parse.urlencode(every_column), timeout=600)
        export_s = time.perf_counter() - t
        peak = rss_kib(server.pid, "VmHWM") / 1024
        say(f"| xlsx export of every application, all {len(EXPORT_COLUMNS)} columns "
            f"(HTTP {export.status_code}, {sheet_rows(export.content):,} rows, "
            f"{len(export.content) / 1e6:.1f} MB) | {export_s:.2f} s, peak RSS {peak:.0f} MB, "
            f"{peak - before:+.0f} MB over the {before:.0f} MB before it"
            f"{'' if peak_reset else ' (process peak)'} | — | — | ≤ 5 s, ≤ 200 MB |")

        # PDF: the staff copy of generated applications' forms, one at a time.
        ids = [a["id"] for a in student.call("GET", "/api/v1/applications").json()["items"]]
        pdf_url = base + f"/applications/{ids[0]}/form.pdf"
        times = []
        for _ in range(20):
            t = time.perf_counter()
            resp = student.s.get(pdf_url, timeout=60)
            times.append(time.perf_counter() - t)
            if resp.status_code != 200:
                raise SystemExit(f"PDF: HTTP {resp.status_code}")
        say(f"| PDF 申请表, one form at a time (20 runs) | median {statistics.median(times) * 1000:.0f} ms, "
            f"max {max(times) * 1000:.0f} ms per form | — | — | — |")
        say(f"| footprint | idle RSS {idle_rss:.0f} MB after start; start-to-healthy "
            f"{healthy_ms:.0f} ms (migrate + open, data already generated) | — | — | — |")
        say()
        say(f"Data generation (demo + {args.applications:,} applications): {gen_seconds:.1f} s.")
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print("data kept in", work)

    results = os.path.join(ROOT, "bench", "results")
    os.makedirs(results, exist_ok=True)
    path = os.path.join(results, f"{now:%Y-%m-%d}-{info['host']}.md")
    with open(path, "w") as f:
        f.write("\n".join(LINES) + "\n")
    print(f"\nwritten to {os.path.relpath(path, ROOT)}")


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
