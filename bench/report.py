#!/usr/bin/env python3
"""Summaries for the bench/ scripts (stdlib only).

  report.py wrk FILE            parse one `wrk --latency` output -> "rps p50_ms p99_ms socket_errors non2xx"
  report.py dataplane RAW.tsv DPBENCH.txt META.json OUT.json
      medians per (variant, mode) over the interleaved rounds, ratios to direct / HAProxy / iptables,
      prints a markdown table and writes OUT.json. A round with any invalid run (wrk failed, socket
      errors, non-2xx) is left out of every median and ratio and listed; exit 3 if any round was.
  report.py failover RAW.jsonl META.json OUT.json
      outage median/max and session survival per variant, prints a markdown table, writes OUT.json
"""
import json
import re
import statistics
import sys

UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def to_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text)
    return float(m.group(1)) * UNIT_MS[m.group(2)] if m else float("nan")


def parse_wrk(path):
    out = {"rps": 0.0, "p50_ms": float("nan"), "p99_ms": float("nan"), "socket_errors": 0, "non2xx": 0}
    for line in open(path, errors="replace"):
        s = line.split()
        if line.startswith("Requests/sec:"):
            out["rps"] = float(s[1])
        elif len(s) == 2 and s[0] == "50%":
            out["p50_ms"] = to_ms(s[1])
        elif len(s) == 2 and s[0] == "99%":
            out["p99_ms"] = to_ms(s[1])
        elif line.strip().startswith("Socket errors:"):
            out["socket_errors"] = sum(int(n) for n in re.findall(r"(\d+)", line))
        elif line.strip().startswith("Non-2xx"):
            out["non2xx"] = int(s[-1])
    return out


# What each ratio's reference is (printed with every table and stored in the JSON's meta).
DIRECT_PATH = ("'direct' = client -> backend IP through the variant's own LB namespace by plain kernel IP "
               "forwarding (routing only: no LB, no conntrack, no netfilter rules). floatlb's tc program "
               "redirects at that namespace's ingress (bpf_fib_lookup + bpf_redirect to the back interface) "
               "and so skips its IP forwarding path: floatlb/direct > 1.00x means the redirect is cheaper than "
               "kernel forwarding, not faster than the wire. HAProxy terminates both TCP legs in its LB "
               "namespace; iptables DNAT takes the forwarding path plus conntrack and the nat hook.")


def invalid_reasons(run):
    """Why a wrk run cannot be counted (empty: valid)."""
    why = []
    if run["wrk_exit"] != 0:
        why.append("wrk exit %d" % run["wrk_exit"])
    if run["socket_errors"]:
        why.append("%d socket errors" % run["socket_errors"])
    if run["non2xx"]:
        why.append("%d non-2xx" % run["non2xx"])
    if run["rps"] <= 0:
        why.append("no requests/sec")
    # a stalled handshake or a dropped SYN is a 1 s (or longer) pause that has nothing to do with
    # the path's speed: the round is not clean
    c = run.get("counters", {})
    for key, what in (("client_syn_retrans", "client SYN retransmits"), ("backend_paws_rejects", "backend PAWS rejects")):
        if run.get(key):
            why.append("%d %s" % (run[key], what))
    for key in CLEAN_KEYS:
        if c.get(key):
            why.append("%s=%d" % (key, c[key]))
    return why


# Counters that must stay 0 in a clean run (bench/dataplane's clean_counters)
CLEAN_KEYS = ("lb_syn_rtx", "lb_listen_drops", "b1_listen_drops", "syncookies", "lb_paws", "hap_econ", "hap_wretr")
SHOWN_KEYS = CLEAN_KEYS + ("tw_overflow", "lb_timewait_start", "lb_timewait_end", "b1_timewait_start", "b1_timewait_end",
                           "hap_qmax", "hap_be_smax")


def fmt_ratio(a, b):
    return "%.2fx" % (a / b) if a and b else "n/a"


def dataplane(raw_path, dpbench_path, meta_path, out_path, latency_path=None):
    meta = json.load(open(meta_path))
    runs = []
    for line in open(raw_path):
        if not line.strip() or line.startswith("#"):
            continue
        f = line.rstrip("\n").split("\t")
        rnd, variant, mode, rps, p50, p99, err, non2xx, synrt, paws, cpu, wps, wrk_rc = f[:13]
        extra = dict(kv.split("=", 1) for kv in f[13:] if "=" in kv)  # named counters (clean-round proof)
        run = {"round": int(rnd), "variant": variant, "mode": mode, "rps": float(rps), "p50_ms": float(p50),
               "p99_ms": float(p99), "socket_errors": int(err), "non2xx": int(non2xx),
               "client_syn_retrans": int(synrt), "backend_paws_rejects": int(paws),
               "lb_process_cpu_pct": None if int(cpu) < 0 else int(cpu),
               "lb_process_ctxsw_per_s": None if int(wps) < 0 else int(wps), "wrk_exit": int(wrk_rc),
               "counters": {k: int(v) for k, v in extra.items()}}
        run["invalid"] = invalid_reasons(run)
        runs.append(run)
    # A run with socket errors, non-2xx answers, no answers at all or a failed wrk invalidates its
    # whole round: ratios are taken side by side within a round, so the round's other runs go too.
    invalid_rounds = {}
    for r in runs:
        if r["invalid"]:
            invalid_rounds.setdefault(r["round"], []).append("%s/%s: %s" % (r["variant"], r["mode"], ", ".join(r["invalid"])))
    all_rounds = sorted({r["round"] for r in runs})
    valid_rounds = [n for n in all_rounds if n not in invalid_rounds]
    all_runs, runs = runs, [r for r in runs if r["round"] not in invalid_rounds]
    variants = meta["variants"]
    modes = ["keepalive", "close"]
    med = {}
    for v in variants:
        for m in modes:
            rs = [r for r in runs if r["variant"] == v and r["mode"] == m]
            if not rs:
                continue
            med[(v, m)] = {
                "rps_median": statistics.median(r["rps"] for r in rs),
                "rps_runs": [r["rps"] for r in rs],
                "p50_ms_median": statistics.median(r["p50_ms"] for r in rs),
                "p99_ms_median": statistics.median(r["p99_ms"] for r in rs),
                "socket_errors": sum(r["socket_errors"] for r in rs),
                "client_syn_retrans": sum(r["client_syn_retrans"] for r in rs),
                "backend_paws_rejects": sum(r["backend_paws_rejects"] for r in rs),
                "lb_process_cpu_pct_median": (statistics.median(r["lb_process_cpu_pct"] for r in rs)
                                              if all(r["lb_process_cpu_pct"] is not None for r in rs) else None),
                "lb_process_ctxsw_per_s_median": (statistics.median(r["lb_process_ctxsw_per_s"] for r in rs)
                                                  if all(r.get("lb_process_ctxsw_per_s") is not None for r in rs)
                                                  else None),
            }
    # Ratios per round (side by side in the same round), then the median of those ratios.
    def round_ratios(v, m, ref, spread=False):
        out = []
        for rnd in sorted({r["round"] for r in runs}):
            a = [r["rps"] for r in runs if r["variant"] == v and r["mode"] == m and r["round"] == rnd]
            b = [r["rps"] for r in runs if r["variant"] == ref and r["mode"] == m and r["round"] == rnd]
            if a and b and b[0] > 0:
                out.append(a[0] / b[0])
        if spread:
            return (min(out), max(out)) if out else None
        return statistics.median(out) if out else None

    for (v, m), d in med.items():
        for ref in ("direct", "haproxy", "iptables"):
            d["ratio_to_" + ref] = round_ratios(v, m, ref)
            d["ratio_to_%s_range" % ref] = round_ratios(v, m, ref, spread=True)

    # flb-dpbench's detail line: "# repeat=N: ct_hit_ns=.. pass_ns=.. | single runs xN: new_flow_ns=.. ..."
    dp = {}
    for line in open(dpbench_path):
        if not line.startswith("# repeat="):
            continue
        repeat_part, single_part = line.split("|", 1)
        for prefix, part in (("repeat_", repeat_part), ("single_", single_part)):
            for k, val in re.findall(r"(\w+_ns)=([0-9.]+)", part):
                dp.setdefault(prefix + k, []).append(float(val))
    dp_med = {k: statistics.median(vs) for k, vs in dp.items()}

    labels = meta["labels"]
    lines = ["Valid rounds: %d of %d%s" % (len(valid_rounds), len(all_rounds), "".join(
        "\n- round %d invalid: %s" % (n, "; ".join(why)) for n, why in sorted(invalid_rounds.items()))), "",
             "Paths: " + DIRECT_PATH, ""]
    lines.append("| variant | mode | RPS median | runs | vs direct (round min-max) | vs HAProxy | vs iptables | p50 ms | p99 ms | "
                 "sock err | SYN rtx | LB process CPU, ctx switches |")
    lines.append("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for m in modes:
        for v in variants:
            d = med.get((v, m))
            if not d:
                continue
            def r(ref):
                if not d["ratio_to_" + ref] or not d["ratio_to_%s_range" % ref]:
                    return "n/a"
                lo, hi = d["ratio_to_%s_range" % ref]
                return "%.2fx" % d["ratio_to_" + ref] if v == ref else "%.2fx (%.2f-%.2f)" % (
                    d["ratio_to_" + ref], lo, hi)
            cpu = "-" if d["lb_process_cpu_pct_median"] is None else "%d %%" % d["lb_process_cpu_pct_median"]
            if d["lb_process_ctxsw_per_s_median"] is not None:
                cpu += ", %d cs/s" % d["lb_process_ctxsw_per_s_median"]
            lines.append("| %s | %s | %.0f | %s | %s | %s | %s | %.2f | %.2f | %d | %d | %s |" % (
                labels[v], "keep-alive" if m == "keepalive" else "new conn", d["rps_median"],
                " / ".join("%.0f" % x for x in d["rps_runs"]), r("direct"), r("haproxy"), r("iptables"),
                d["p50_ms_median"], d["p99_ms_median"], d["socket_errors"], d["client_syn_retrans"], cpu))
    lines.append("")
    lines.append("BPF_PROG_TEST_RUN (flb-dpbench, median of %d runs): %s" % (
        max((len(v) for v in dp.values()), default=0),
        ", ".join("%s = %.0f" % (k, v) for k, v in sorted(dp_med.items()))))
    latency = {}
    if latency_path:
        for line in open(latency_path):
            v, conn_us, total_us, n = line.split("\t")
            latency[v] = {"connect_us_median": int(conn_us), "request_us_median": int(total_us), "samples": int(n)}
        lines.append("")
        lines.append("Unloaded new connection (300 sequential curl, median): " + ", ".join(
            "%s connect %d us / request %d us" % (labels[v], d["connect_us_median"], d["request_us_median"])
            for v, d in latency.items()))
    lines.append("")
    lines.append("Clean-round counters (valid rounds; sums, TIME_WAIT and HAProxy high-water marks as max over "
                 "runs; a non-zero value among %s invalidates the round):" % ", ".join(CLEAN_KEYS))
    lines.append("")
    lines.append("| variant | mode | client SYN rtx | " + " | ".join(SHOWN_KEYS) + " |")
    lines.append("|---|---|---|" + "---|" * len(SHOWN_KEYS))
    for m in modes:
        for v in variants:
            rs = [r for r in runs if r["variant"] == v and r["mode"] == m]
            if not rs:
                continue
            cells = []
            for k in SHOWN_KEYS:
                vals = [r["counters"][k] for r in rs if k in r["counters"]]
                agg = max if "timewait" in k or k.startswith("hap_qmax") or k.endswith("smax") else sum
                cells.append("%d" % agg(vals) if vals else "-")
            lines.append("| %s | %s | %d | %s |" % (labels[v], m, sum(r["client_syn_retrans"] for r in rs), " | ".join(cells)))
    table = "\n".join(lines)
    print(table)

    targets = []
    def target(name, value, op, limit):
        ok = value is not None and (value >= limit if op == ">=" else value <= limit)
        targets.append({"target": name, "measured": value, "limit": "%s %s" % (op, limit), "met": ok})
    for v in ("flb_fullnat", "flb_dnat"):
        ka, cl = med.get((v, "keepalive"), {}), med.get((v, "close"), {})
        target(v + " keep-alive vs direct", ka.get("ratio_to_direct"), ">=", 0.95)
        target(v + " new conn vs direct", cl.get("ratio_to_direct"), ">=", 0.90)
        target(v + " keep-alive vs HAProxy", ka.get("ratio_to_haproxy"), ">=", 1.5)
        target(v + " new conn vs HAProxy", cl.get("ratio_to_haproxy"), ">=", 1.5)
        target(v + " keep-alive vs iptables", ka.get("ratio_to_iptables"), ">=", 1.05)
        target(v + " new conn vs iptables", cl.get("ratio_to_iptables"), ">=", 1.05)
    target("ct hit ns (repeat mode: lookup + NAT rewrite, no fib/redirect)", dp_med.get("repeat_ct_hit_ns"), "<=", 100)
    if len(valid_rounds) < 3:  # TESTBED.md: medians of >= 3 rounds, else no claim
        for t in targets:
            if not t["target"].startswith("ct hit"):
                t["met"] = False
                t["note"] = "only %d valid round(s)" % len(valid_rounds)
    print()
    print("| target | measured | limit | met |")
    print("|---|---|---|---|")
    for t in targets:
        val = "n/a" if t["measured"] is None else ("%.2f" % t["measured"])
        print("| %s | %s | %s | %s |" % (t["target"], val, t["limit"], ("yes" if t["met"] else "**no**") +
                                         (" (%s)" % t["note"] if t.get("note") else "")))

    meta["direct_path"] = DIRECT_PATH
    result = {"meta": meta, "runs": all_runs, "valid_rounds": valid_rounds,
              "invalid_rounds": {str(k): v for k, v in invalid_rounds.items()},
              "summary": {"%s/%s" % k: v for k, v in med.items()},
              "dpbench": {"runs": dp, "median": dp_med}, "unloaded_latency": latency, "targets": targets}
    json.dump(result, open(out_path, "w"), indent=1)
    return 0 if not invalid_rounds and valid_rounds else 3


def failover(raw_path, meta_path, out_path):
    meta = json.load(open(meta_path))
    rounds = [json.loads(line) for line in open(raw_path) if line.strip()]
    lines = ["| variant | failovers | outage median ms | outage max ms | sessions survived | stalled >3 s | "
             "reset/other | new-conn probes ok after |",
             "|---|---|---|---|---|---|---|---|"]
    summary = {}
    for v in meta["variants"]:
        rs = [r for r in rounds if r["variant"] == v]
        if not rs:
            continue
        outages = [r["outage_ms"] for r in rs]
        total = sum(r["sessions"] for r in rs)
        survived = sum(r["survived"] for r in rs)
        stalled = sum(r["timed_out"] for r in rs)
        other = sum(r["reset_or_other"] for r in rs)
        ended_ok = sum(1 for r in rs if r["probe_ended_ok"])
        s = {"failovers": len(rs), "outage_ms_median": statistics.median(outages), "outage_ms_max": max(outages),
             "outages_ms": outages, "sessions": total, "survived": survived,
             "survived_fraction": survived / total if total else None, "timed_out": stalled, "reset_or_other": other,
             "probe_ended_ok": ended_ok}
        summary[v] = s
        lines.append("| %s | %d | %.0f | %.0f | %d/%d (%.0f %%) | %d | %d | %d/%d |" % (
            meta["labels"][v], len(rs), s["outage_ms_median"], s["outage_ms_max"], survived, total,
            100.0 * survived / total if total else 0, stalled, other, ended_ok, len(rs)))
    print("\n".join(lines))
    json.dump({"meta": meta, "rounds": rounds, "summary": summary}, open(out_path, "w"), indent=1)


def main():
    cmd = sys.argv[1]
    if cmd == "wrk":
        w = parse_wrk(sys.argv[2])
        print("%.2f %.3f %.3f %d %d" % (w["rps"], w["p50_ms"], w["p99_ms"], w["socket_errors"], w["non2xx"]))
    elif cmd == "dataplane":
        sys.exit(dataplane(*sys.argv[2:7]))
    elif cmd == "failover":
        failover(*sys.argv[2:5])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
