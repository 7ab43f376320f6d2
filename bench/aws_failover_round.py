#!/usr/bin/env python3
"""bench/aws-failover: one failover round's record (one JSON line on stdout) from the round's
logs: probe/hold results, vpcsim's EC2 request log, the takeover timeline.
Args: DIR VARIANT ROUND T0_MS T_SERVED_MS T_MASTER_MS SETUP_MS ENIS SUBNETS OWNER INSTANCE_LB2."""
import calendar, datetime, json, os, re, sys
d, v, rnd, t0, t_served, t_master, setup_ms, enis, subnets, owner, inst2 = sys.argv[1:]
t0, t_served = int(t0), int(t_served)
def load(name, default):
    try:
        return json.load(open(os.path.join(d, name)))
    except (OSError, ValueError):
        return default
probe = load("probe.json", {"max_outage_ms": -1, "outages_ms": [], "ended_ok": False, "probes": 0, "ok": 0})
hold = load("hold.json", {"sessions": 20, "failed": 20, "errors": ["hold tool produced no result"], "max_gap_ms": -1})
# EC2 calls from the instances (not from this script's awscli on 127.0.0.1) in [failure, recovery]
calls = []
line_re = re.compile(r"^(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)\.(\d{3})Z .*EC2 (\w+) from ([0-9.]+) -> (\d+)")
for line in open(os.path.join(d, "vpcsim.log"), errors="replace"):
    m = line_re.match(line)
    if not m:
        continue
    y, mo, da, h, mi, s, ms = (int(x) for x in m.groups()[:7])
    ts = calendar.timegm((y, mo, da, h, mi, s)) * 1000 + ms
    if m.group(9) != "127.0.0.1" and t0 <= ts <= t_served:
        calls.append({"action": m.group(8), "from": m.group(9), "status": int(m.group(10)), "at_ms": ts - t0})
row = {"variant": v, "round": int(rnd), "outage_ms": round(probe["max_outage_ms"], 1),
       "outages_ms": [round(x, 1) for x in probe["outages_ms"]], "probes": probe["probes"],
       "probes_ok": probe["ok"], "probe_ended_ok": probe["ended_ok"],
       "new_master_seen_ms": int(t_master), "served_again_ms": t_served - t0, "setup_ms": int(setup_ms),
       "sessions": hold["sessions"], "intact": hold["sessions"] - hold["failed"],
       "session_errors": hold["errors"][:5], "hold_max_gap_ms": round(hold["max_gap_ms"], 1),
       "ec2_calls_logged": len(calls), "ec2_calls": calls,
       "tagged_enis": int(enis), "tagged_subnets": int(subnets),
       "leaked": max(0, int(enis) - 1) + max(0, int(subnets) - 1),
       "eip_owner": owner, "eip_on_survivor": owner.split()[0] == inst2}
if v in ("floatlb", "floatlb_routed"):
    tl = load("timeline.json", {})
    det = (tl["detectedWallMs"] - t0) if tl.get("detectedWallMs") else None
    row.update({"restore_ms": det + tl["restoredMs"] if det is not None and tl.get("restoredMs") is not None else None,
                "timeline_restored_ms": tl.get("restoredMs"), "serial_calls": tl.get("criticalSerialCalls"),
                "critical_calls": tl.get("criticalCalls"), "converged": tl.get("converged"),
                "detected_after_ms": det,
                "timeline_error": tl.get("error"),
                "timeline_calls": [{k: c.get(k) for k in ("action", "startMs", "latencyMs", "ok", "critical",
                                                          "concurrent", "poll")} for c in tl.get("calls", [])]})
else:
    runs = []
    for line in open(os.path.join(d, "associate-lb2.log")):
        f = line.split()
        if len(f) == 3:
            runs.append({"start_ms": int(f[0]) - t0, "end_ms": int(f[1]) - t0, "rc": int(f[2])})
    after = [r for r in runs if r["start_ms"] >= 0]
    first = after[0] if after else None
    row.update({"notify_runs": runs, "notify_rc": first["rc"] if first else None,
                "detected_after_ms": first["start_ms"] if first else None,
                "notify_script_ms": (first["end_ms"] - first["start_ms"]) if first else None,
                "restore_ms": first["end_ms"] if first and first["rc"] == 0 else None,
                "serial_calls": len(calls), "critical_calls": len(calls)})
# cross-check: EC2 calls the instances made from the failure up to the (first) AssociateAddress
first_assoc = next((i for i, c in enumerate(calls) if c["action"] == "AssociateAddress"), None)
row["ec2_calls_logged_to_restore"] = first_assoc + 1 if first_assoc is not None else None
row["eip_reassociations"] = sum(1 for c in calls if c["action"] == "AssociateAddress" and c["status"] == 200)
row["serial_rounds"] = tl.get("cycles") if v in ("floatlb", "floatlb_routed") else None
# where the time goes (ms)
if v == "floatlb_routed":
    crit = [c for c in row["timeline_calls"] if c["critical"]]
    row["phases_ms"] = {"detect": row["detected_after_ms"],
                        "replace_routes": max((c["latencyMs"] for c in crit if c["action"] == "ReplaceRoute"), default=None)}
elif v == "floatlb":
    crit = [c for c in row["timeline_calls"] if c["critical"]]
    def first(action):
        return next((c for c in crit if c["action"] == action), None)
    det, dl, dn, cs, ce, at, aa = (first(a) for a in ("DetachNetworkInterface", "DeleteNetworkInterface", "DeleteSubnet",
                                                      "CreateSubnet", "CreateNetworkInterface",
                                                      "AttachNetworkInterface", "AssociateAddress"))
    row["phases_ms"] = {
        "detect": row["detected_after_ms"],
        "reads": max((c["latencyMs"] for c in crit if c["startMs"] == 0), default=None),
        "detach_and_wait": dl["startMs"] - det["startMs"] if det and dl else None,
        "delete_eni_and_subnet": (dl["latencyMs"] + dn["latencyMs"]) if dl and dn else None,
        "create_subnet": cs["latencyMs"] if cs else None,
        "create_eni": ce["latencyMs"] if ce else None,
        "attach": at["latencyMs"] if at else None,
        "associate_address": aa["latencyMs"] if aa else None}
else:
    assoc_at = calls[first_assoc]["at_ms"] if first_assoc is not None else None
    row["phases_ms"] = {
        "detect": row["detected_after_ms"],
        "awscli_startup_and_credentials": (assoc_at - row["detected_after_ms"])
        if assoc_at is not None and row["detected_after_ms"] is not None else None,
        "associate_address": (row["restore_ms"] - assoc_at) if assoc_at is not None and row["restore_ms"] else None}
print(json.dumps(row))
