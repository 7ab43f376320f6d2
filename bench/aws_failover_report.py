#!/usr/bin/env python3
"""bench/aws-failover: the results table (markdown on stdout) and the JSON file, from the rounds' records.
Args: RAW_JSONL OUT_JSON META_JSON (run facts gathered by the shell script)."""
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
meta = json.loads(sys.argv[3])
labels = {"floatlb": "floatlb (--cloud=aws, private VIP + EIP)",
          "floatlb_routed": "floatlb --cloudmode=routed (routes only; EIP, VIP subnet/ENI fixed in AZ-c)",
          "keepalived_diy": "keepalived 2.2 VRRPv2 1 s + notify awscli associate-address"}
summary = {}
def mm(xs):
    xs = [x for x in xs if x is not None]
    if not xs:
        return None, None, None
    return statistics.median(xs), min(xs), max(xs)
print("| variant | failovers | outage ms median (min-max) | detected ms median | EC2 restore ms median (min-max) | serial EC2 calls | EC2 calls | EIP re-associations | sessions intact per round | leaked ENIs+subnets |")
print("|---|---|---|---|---|---|---|---|---|---|")
for v in meta["variants"]:
    rs = [r for r in rows if r["variant"] == v]
    if not rs:
        continue
    om, olo, ohi = mm([r["outage_ms"] for r in rs])
    rm, rlo, rhi = mm([r["restore_ms"] for r in rs])
    dm = mm([r.get("detected_after_ms") for r in rs])[0]
    sc = [r["serial_calls"] for r in rs]
    summary[v] = {"label": labels.get(v, v), "failovers": len(rs), "outage_ms_median": om, "outage_ms_min": olo,
                  "outage_ms_max": ohi, "detected_ms_median": dm, "restore_ms_median": rm, "restore_ms_min": rlo, "restore_ms_max": rhi,
                  "serial_calls": sc, "critical_calls": [r["critical_calls"] for r in rs],
                  "intact": ["%d/%d" % (r["intact"], r["sessions"]) for r in rs],
                  "leaked": sum(r["leaked"] for r in rs),
                  "session_max_stall_ms_median": mm([r["hold_max_gap_ms"] for r in rs if r["intact"] > 0])[0],
                  "phases_ms_median": {k: mm([r["phases_ms"].get(k) for r in rs])[0] for k in rs[0]["phases_ms"]}}
    restore = "%.0f (%.0f-%.0f)" % (rm, rlo, rhi) if rm is not None else "n/a"
    summary[v]["eip_reassociations"] = [r.get("eip_reassociations") for r in rs]
    print("| %s | %d | %.0f (%.0f-%.0f) | %s | %s | %s | %s | %s | %s | %d |" % (
        labels.get(v, v), len(rs), om, olo, ohi, "%.0f" % dm if dm is not None else "n/a", restore, " / ".join(str(x) for x in sc),
        " / ".join(str(x) for x in summary[v]["critical_calls"]), " / ".join(str(x) for x in summary[v]["eip_reassociations"]),
        " ".join(summary[v]["intact"]), summary[v]["leaked"]))
print()
for v, sm in summary.items():
    print("%s: where the time goes (median ms): %s; longest session stall (median, surviving rounds): %s" % (
        v, ", ".join("%s %s" % (k, "n/a" if x is None else "%.0f" % x) for k, x in sm["phases_ms_median"].items()),
        "n/a" if sm["session_max_stall_ms_median"] is None else "%.0f ms" % sm["session_max_stall_ms_median"]))
json.dump({"meta": meta, "summary": summary, "rounds": rows}, open(sys.argv[2], "w"), indent=1)
