#!/usr/bin/env python3
"""vpcsim traffic proof: the internet client reaches a web server on instance 1 through the Elastic
IP; the private VIP then moves to instance 2 in the other AZ through awscli (the loxilb multi-AZ
sequence, done by hand) and the same EIP reaches instance 2. Root; exits 77 otherwise."""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sim_lib import require_root, run_with_servers, start_sim, wait_for  # noqa: E402

VIP, BLOCK, PORT = "192.168.248.254", "192.168.248.0/24", 8080


def ok(sim, *args):
    out, err = sim.aws(*args)
    if err:
        raise AssertionError(f"{args[0]} failed: {err}")
    return out


def start_web(sim, ns, text, tmp, procs):
    d = os.path.join(tmp, ns)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "index.html"), "w") as f:
        f.write(text + "\n")
    p = subprocess.Popen(["ip", "netns", "exec", ns, sys.executable, "-m", "http.server", str(PORT), "--bind",
                          "0.0.0.0", "--directory", d], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    procs.append(p)


def fetch(sim, eip):
    return sim.sh(sim.ns("inet"), f"curl -s --max-time 2 http://{eip}:{PORT}/", check=False)


def claim(sim, instance, az, dev_ns):
    """Create the VIP subnet in `az`, an ENI on `instance` (device 1), assign the VIP, configure the OS."""
    e = sim.env
    s = ok(sim, "create-subnet", "--vpc-id", e["VPCSIM_VPC_ID"], "--cidr-block", BLOCK, "--availability-zone", az,
           "--tag-specifications", "ResourceType=subnet,Tags=[{Key=loxiType,Value=loxilb-subnet0}]")["Subnet"]
    eni = ok(sim, "create-network-interface", "--subnet-id", s["SubnetId"], "--description", "loxilb-eni",
             "--tag-specifications", "ResourceType=network-interface,Tags=[{Key=loxiType,Value=loxilb-eni0}]")
    eni_id = eni["NetworkInterface"]["NetworkInterfaceId"]
    ok(sim, "attach-network-interface", "--network-interface-id", eni_id, "--instance-id", instance, "--device-index", "1")
    ok(sim, "modify-network-interface-attribute", "--network-interface-id", eni_id, "--no-source-dest-check")
    ok(sim, "assign-private-ip-addresses", "--network-interface-id", eni_id, "--private-ip-addresses", VIP,
       "--allow-reassignment")
    # The instance's own software configures the hot-plugged interface, as on AWS.
    wait_for("eth1 hot-plug", lambda: sim.sh(dev_ns, "ip link show dev eth1", check=False))
    # Replies from the VIP must leave through eth1 (the ENI that owns it): vpcsim enforces the
    # source/dest check of eth0's ENI as AWS does, so the instance routes by source (what
    # ec2-net-utils, or floatlb's ENI configurator, sets up for a secondary ENI).
    sim.sh(dev_ns, f"ip link set eth1 up && ip addr add {VIP}/24 dev eth1 && "
                   f"ip route replace default via 192.168.248.1 dev eth1 table 100 && "
                   f"ip rule add from {VIP} lookup 100 pref 100")
    return eni_id


def run(sim, tmp, procs):
    e = sim.env
    eip, alloc = e["VPCSIM_EIP_LB_EIP"], e["VPCSIM_EIPALLOC_LB_EIP"]
    ns1, ns2 = sim.ns("lb1"), sim.ns("lb2")
    start_web(sim, ns1, "hello from lb1", tmp, procs)
    start_web(sim, ns2, "hello from lb2", tmp, procs)

    eni1 = claim(sim, e["VPCSIM_INSTANCE_LB1"], "ap-northeast-3a", ns1)
    ok(sim, "associate-address", "--allocation-id", alloc, "--network-interface-id", eni1, "--private-ip-address", VIP)
    got = wait_for("lb1 through the EIP", lambda: fetch(sim, eip) == "hello from lb1" and "yes", timeout=20)
    print(f"phase 1: client -> {eip} -> {VIP} on lb1: {got}")

    # Takeover by lb2 (AZ-b): detach + wait available, delete ENI, delete subnet, re-create in AZ-b...
    f = ok(sim, "describe-network-interfaces", "--filters", "Name=tag:loxiType,Values=loxilb-eni0")
    old = f["NetworkInterfaces"][0]
    ok(sim, "detach-network-interface", "--attachment-id", old["Attachment"]["AttachmentId"], "--force")
    wait_for("old ENI available", lambda: ok(sim, "describe-network-interfaces", "--network-interface-ids",
                                             old["NetworkInterfaceId"])["NetworkInterfaces"][0]["Status"] == "available")
    ok(sim, "delete-network-interface", "--network-interface-id", old["NetworkInterfaceId"])
    ok(sim, "delete-subnet", "--subnet-id", old["SubnetId"])
    if fetch(sim, eip) != "":
        raise AssertionError("EIP still answers while no ENI holds the VIP")
    eni2 = claim(sim, e["VPCSIM_INSTANCE_LB2"], "ap-northeast-3b", ns2)
    addr = ok(sim, "describe-addresses", "--filters", f"Name=public-ip,Values={eip}")["Addresses"][0]
    ok(sim, "associate-address", "--allocation-id", addr["AllocationId"], "--network-interface-id", eni2,
       "--private-ip-address", VIP, "--allow-reassociation")
    got = wait_for("lb2 through the same EIP", lambda: fetch(sim, eip) == "hello from lb2" and "yes", timeout=20)
    print(f"phase 2: client -> {eip} -> {VIP} on lb2 (AZ-b): {got}")
    # lb1 no longer owns the VIP: nothing routes to it any more.
    if "hello from lb1" in fetch(sim, eip):
        raise AssertionError("traffic still reaches lb1")


def main():
    require_root()
    sim = start_sim()
    if sim is None:
        return 1
    return run_with_servers(sim, run)


if __name__ == "__main__":
    sys.exit(main())
