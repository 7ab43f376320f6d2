#!/usr/bin/env python3
"""Traffic proof via the client library: the product's takeover (flb-ec2 takeover -> TakeoverExecutor
over Ec2Client and ImdsClient, the code the daemon's CloudHook runs) against vpcsim from INSIDE the
instance namespaces, with identity, region and instance-role credentials from IMDSv2 and the EC2 endpoint from
vpcsim's env file. Instance 1 (AZ-a) claims the VIP subnet/ENI/private VIP/EIP and the internet client
reaches its web server through the EIP; instance 2 (AZ-b) then takes everything over (force detach,
wait for the detach, delete ENI and subnet, re-create them in AZ-b with the VIP, attach, re-associate) and the same
EIP reaches instance 2. Asserts the end state with the client library and nothing leaked. Root;
exits 77 otherwise."""
import json
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cloud_vpcsim_lib import (flb_host, flb_in_instance, ok, parse_imds, parse_steps,  # noqa: E402
                              require_flb_ec2, stats)
from sim_lib import require_root, run_with_servers, start_sim, wait_for  # noqa: E402
from sim_traffic import fetch, start_web  # noqa: E402  (web server in a namespace, curl from inet)

# The seed's VIP block (TESTBED.md address plan); inside the VPC's primary 192.168.0.0/16.
BLOCK, VIP = "192.168.248.0/24", "192.168.248.254"
AZ_A, AZ_B = "ap-northeast-3a", "ap-northeast-3b"
TAG = "tag:loxiType"  # the product's tags: loxiType=loxilb-eni / loxilb-subnet / loxilb-routetable


def check(cond, what):
    if not cond:
        raise AssertionError(what)
    print(f"ok: {what}")


def link_mac(sim, ns, dev):
    out = sim.sh(ns, f"cat /sys/class/net/{dev}/address", check=False)
    return out.strip()


def check_imds(sim, name, az):
    """ImdsClient inside the instance: instance-id, AZ, region, primary ENI (mac matches eth0), creds."""
    ns = sim.ns(name)
    info = parse_imds(ok(flb_in_instance(sim, ns, "imds"), f"imds in {name}"))
    check(info.get("instance-id") == sim.env[f"VPCSIM_INSTANCE_{name.upper()}"], f"{name}: IMDS instance-id")
    check(info.get("az") == az and info.get("region") == sim.env["VPCSIM_REGION"], f"{name}: IMDS AZ {az}, region")
    prim = [e for e in info["enis"] if e.get("dev") == "0"]
    check(len(prim) == 1 and prim[0]["id"] == sim.env[f"VPCSIM_ENI_{name.upper()}"], f"{name}: primary ENI id")
    check(prim[0]["mac"] == link_mac(sim, ns, "eth0"), f"{name}: IMDS mac == eth0 mac ({prim[0]['mac']})")
    check(prim[0]["ip"] == [sim.env[f"VPCSIM_IP_{name.upper()}"]] and prim[0]["vpc"] == sim.env["VPCSIM_VPC_ID"],
          f"{name}: IMDS local-ipv4s and vpc-id")
    cred = info.get("credentials", {})
    check(cred.get("access-key", "").startswith("ASIA") and cred.get("session-token") == "yes" and
          int(cred.get("expires", "0")) > time.time(), f"{name}: instance-profile credentials (temporary, unexpired)")


def takeover(sim, name):
    """flb-ec2 takeover inside the instance; returns (calls, eni_id): calls = [(action, call)] from the
    executor's timeline, in order."""
    res = flb_in_instance(sim, sim.ns(name), "--stats", "takeover", "--cidr", BLOCK,
                          "--vip", f"{VIP}={sim.env['VPCSIM_EIP_LB_EIP']}")
    out = ok(res, f"takeover on {name}")
    print(out.rstrip())
    print(f"{name}: {stats(res[2])}")
    lines_ = dict(parse_steps(out))
    tl = json.loads(lines_["timeline"])
    ctx = dict(kv.split("=", 1) for kv in lines_["context"].split())
    check(tl["converged"] and not tl["error"], f"{name}: the takeover converged")
    check(ctx["eni"].startswith("eni-"), f"{name}: ENI {ctx['eni']} in the context")
    return [(c["action"], c) for c in tl["calls"] if c["ok"]], ctx["eni"]


def tagged(sim, kind, value):
    return lines(ok(flb_host(sim, f"describe-{kind}", "--filter", f"{TAG}={value}"), kind))


def configure_vip(sim, name, eni_id):
    """What the instance OS does: find the hot-plugged interface by the MAC IMDS reports for the new
    ENI (device 1) and configure the VIP on it."""
    ns = sim.ns(name)

    def dev1():
        info = parse_imds(ok(flb_in_instance(sim, ns, "imds"), f"imds in {name}"))
        e = [x for x in info["enis"] if x.get("dev") == "1"]
        return e[0] if e and VIP in e[0].get("ip", []) else None

    eni = wait_for(f"{name}: IMDS shows the VIP on device 1", dev1, timeout=20, interval=0.5)
    check(eni["id"] == eni_id and eni["cidr"] == BLOCK, f"{name}: IMDS device 1 is {eni_id} in {BLOCK}")
    dev = wait_for(f"{name}: interface with MAC {eni['mac']}",
                   lambda: next((d for d in sim.sh(ns, "ls /sys/class/net").split()
                                 if link_mac(sim, ns, d) == eni["mac"]), None), timeout=20)
    # Replies from the VIP leave through the ENI that owns it (vpcsim enforces the source/dest check
    # of eth0's ENI, as AWS does): route by source, as floatlb's ENI configurator does.
    sim.sh(ns, f"ip link set {dev} up && ip addr add {VIP}/24 dev {dev} && "
               f"ip route replace default via 192.168.248.1 dev {dev} table 100 && "
               f"ip rule del pref 100 2>/dev/null; ip rule add from {VIP} lookup 100 pref 100")
    print(f"{name}: {VIP}/24 on {dev} (mac {eni['mac']})")


def lines(out):
    return [x for x in out.splitlines() if x.strip()]


def run(sim, tmp, procs):
    e = sim.env
    eip, lb1, lb2 = e["VPCSIM_EIP_LB_EIP"], e["VPCSIM_INSTANCE_LB1"], e["VPCSIM_INSTANCE_LB2"]
    check_imds(sim, "lb1", AZ_A)
    check_imds(sim, "lb2", AZ_B)
    start_web(sim, sim.ns("lb1"), "hello from lb1", tmp, procs)
    start_web(sim, sim.ns("lb2"), "hello from lb2", tmp, procs)

    # Phase 1: lb1 (AZ-a) claims the VIP.
    calls, eni1 = takeover(sim, "lb1")
    acts = [a for a, _ in calls]
    check(not any(a.startswith("Detach") or a.startswith("Delete") for a in acts), "phase 1: nothing to tear down")
    subnets = tagged(sim, "subnets", "loxilb-subnet")
    check(len(subnets) == 1 and subnets[0].split()[3] == AZ_A, f"phase 1: VIP subnet in {AZ_A}: {subnets}")
    enis = tagged(sim, "network-interfaces", "loxilb-eni")
    check(len(enis) == 1 and enis[0].split()[0] == eni1 and f"attach={lb1}#1" in enis[0],
          "phase 1: ENI attached to lb1")
    check(any(a == "AssociateAddress" for a in acts), "phase 1: EIP associated")
    configure_vip(sim, "lb1", eni1)
    wait_for("lb1 through the EIP", lambda: fetch(sim, eip) == "hello from lb1", timeout=20)
    print(f"phase 1: client -> {eip} -> {VIP} on lb1")

    # Phase 2: lb2 (AZ-b) takes over. A 1.5 s detach makes the sequence wait for it before deleting.
    sim.admin("/config", {"detach_ms": 1500})
    calls, eni2 = takeover(sim, "lb2")
    acts = [a for a, _ in calls]
    order = ["DetachNetworkInterface", "DeleteNetworkInterface", "DeleteSubnet", "CreateSubnet",
             "CreateNetworkInterface", "AttachNetworkInterface", "AssociateAddress"]
    check(all(a in acts for a in order), f"phase 2: every step ran: {acts}")
    idx = [acts.index(a) for a in order]
    check(idx == sorted(idx), "phase 2: detach, delete ENI, delete subnet, create subnet, ENI (with the VIP), "
                              "attach, associate (in this order)")
    polls = [c for a, c in calls[idx[0]:idx[1]] if a == "DescribeNetworkInterfaces" and c.get("poll")]
    check(len(polls) >= 1 and acts.count("DeleteNetworkInterface") == 1,
          f"phase 2: the 1.5 s detach was waited for ({len(polls)} poll(s)), then the ENI deleted once")
    wait_for("lb1 lost the hot-plugged interface",
             lambda: sorted(sim.sh(sim.ns("lb1"), "ls /sys/class/net").split()) == ["eth0", "lo"], timeout=10)
    configure_vip(sim, "lb2", eni2)
    wait_for("lb2 through the same EIP", lambda: fetch(sim, eip) == "hello from lb2", timeout=20)
    print(f"phase 2: client -> {eip} -> {VIP} on lb2 ({AZ_B})")
    for _ in range(3):
        check("hello from lb1" not in fetch(sim, eip), "traffic no longer reaches lb1")

    # End state through the client library (host side, static keys): nothing leaked.
    enis = tagged(sim, "network-interfaces", "loxilb-eni")
    check(len(enis) == 1, f"exactly one tagged ENI: {enis}")
    f = enis[0].split()
    check(f[0] == eni2 and f[3] == AZ_B and f"attach={lb2}#1" in enis[0] and "ips=2" in enis[0] and
          "srcdst=0" in enis[0], f"the ENI is {eni2} in {AZ_B}, on lb2 at device 1, VIP assigned, src/dst off")
    subnets = tagged(sim, "subnets", "loxilb-subnet")
    check(len(subnets) == 1 and subnets[0].split()[2] == BLOCK and subnets[0].split()[3] == AZ_B,
          f"exactly one tagged subnet, {BLOCK} in {AZ_B}: {subnets}")
    rts = tagged(sim, "route-tables", "loxilb-routetable")
    check(len(rts) == 1, f"exactly one tagged route table: {rts}")
    addr = lines(ok(flb_host(sim, "describe-addresses", "--public-ip", eip), "addresses"))
    check(len(addr) == 1 and f"eni={eni2}" in addr[0] and f"priv={VIP}" in addr[0],
          f"EIP {eip} -> {eni2}/{VIP}: {addr}")
    on_lb1 = lines(ok(flb_host(sim, "describe-network-interfaces", "--filter", f"attachment.instance-id={lb1}"),
                      "lb1 enis"))
    check(len(on_lb1) == 1 and on_lb1[0].split()[0] == e["VPCSIM_ENI_LB1"], "lb1 keeps only its primary ENI")
    all_subnets = lines(ok(flb_host(sim, "describe-subnets"), "all subnets"))
    check(len(all_subnets) == 3, f"no leftover subnets (2 seed + VIP): {len(all_subnets)}")
    if shutil.which("aws"):  # independent cross-check with awscli
        out, err = sim.aws("describe-addresses", "--public-ips", eip)
        check(err is None and out["Addresses"][0]["NetworkInterfaceId"] == eni2 and
              out["Addresses"][0]["PrivateIpAddress"] == VIP, "awscli agrees: EIP on the lb2 ENI")


def main():
    require_root()
    require_flb_ec2()
    sim = start_sim()
    if sim is None:
        return 1
    return run_with_servers(sim, run)


if __name__ == "__main__":
    sys.exit(main())
