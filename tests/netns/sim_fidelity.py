#!/usr/bin/env python3
"""vpcsim fidelity: drive every implemented EC2 call and error case through awscli against a live
vpcsim (seed topology, real namespaces) and check the JSON awscli prints. Root; exits 77 otherwise."""
import os
import shutil
import sys
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sim_lib import Sim, require_root, wait_for  # noqa: E402

checks = 0


def expect(cond, msg):
    global checks
    checks += 1
    if not cond:
        raise AssertionError(msg)


def expect_err(sim, code, *args, **kw):
    out, err = sim.aws(*args, **kw)
    expect(err == code, f"{args[0]}: expected {code}, got {err} / {out}")


def ok(sim, *args, **kw):
    out, err = sim.aws(*args, **kw)
    expect(err is None, f"{args[0]} failed with {err}")
    return out


def run(sim):
    e = sim.env
    vpc, sub_a, sub_b = e["VPCSIM_VPC_ID"], e["VPCSIM_SUBNET_LOXILB_SUBNET_A"], e["VPCSIM_SUBNET_LOXILB_SUBNET_B"]
    lb1, lb2 = e["VPCSIM_INSTANCE_LB1"], e["VPCSIM_INSTANCE_LB2"]
    eip, alloc = e["VPCSIM_EIP_LB_EIP"], e["VPCSIM_EIPALLOC_LB_EIP"]

    # --- auth ---
    expect_err(sim, "SignatureDoesNotMatch", "describe-vpcs", AWS_SECRET_ACCESS_KEY="wrong")
    expect_err(sim, "AuthFailure", "describe-vpcs", AWS_ACCESS_KEY_ID="AKIDUNKNOWN")

    # --- VPCs, zones, secondary CIDRs ---
    v = ok(sim, "describe-vpcs", "--filters", "Name=cidr-block-association.cidr-block,Values=192.168.0.0/16")
    expect([x["VpcId"] for x in v["Vpcs"]] == [vpc], f"describe-vpcs {v}")
    z = ok(sim, "describe-availability-zones")
    expect([x["ZoneName"] for x in z["AvailabilityZones"]][:2] == ["ap-northeast-3a", "ap-northeast-3b"], str(z))
    expect_err(sim, "VpcCidrConflict", "associate-vpc-cidr-block", "--vpc-id", vpc, "--cidr-block", "192.168.248.0/24")
    a = ok(sim, "associate-vpc-cidr-block", "--vpc-id", vpc, "--cidr-block", "10.20.0.0/24")
    expect(a["CidrBlockAssociation"]["CidrBlockState"]["State"] in ("associating", "associated"), str(a))
    assoc = a["CidrBlockAssociation"]["AssociationId"]
    wait_for("cidr associated", lambda: ok(sim, "describe-vpcs", "--filters",
             "Name=cidr-block-association.state,Values=associated",
             "Name=cidr-block-association.cidr-block,Values=10.20.0.0/24")["Vpcs"])
    d = ok(sim, "disassociate-vpc-cidr-block", "--association-id", assoc)
    expect(d["CidrBlockAssociation"]["CidrBlockState"]["State"] == "disassociating", str(d))
    primary = v["Vpcs"][0]["CidrBlockAssociationSet"][0]["AssociationId"]
    expect_err(sim, "OperationNotPermitted", "disassociate-vpc-cidr-block", "--association-id", primary)
    expect_err(sim, "InvalidVpcCidrBlockAssociationID.NotFound", "disassociate-vpc-cidr-block", "--association-id",
               "vpc-cidr-assoc-0000")

    # --- subnets ---
    expect_err(sim, "InvalidSubnet.Range", "create-subnet", "--vpc-id", vpc, "--cidr-block", "10.99.0.0/24")
    expect_err(sim, "InvalidSubnet.Conflict", "create-subnet", "--vpc-id", vpc, "--cidr-block", "192.168.218.0/25")
    expect_err(sim, "InvalidParameterValue", "create-subnet", "--vpc-id", vpc, "--cidr-block", "192.168.248.0/24",
               "--availability-zone", "ap-northeast-3z")
    expect_err(sim, "InvalidVpcID.NotFound", "create-subnet", "--vpc-id", "vpc-0nope", "--cidr-block", "192.168.1.0/24")
    s = ok(sim, "create-subnet", "--vpc-id", vpc, "--cidr-block", "192.168.248.0/24", "--availability-zone",
           "ap-northeast-3a", "--tag-specifications", "ResourceType=subnet,Tags=[{Key=loxiType,Value=loxilb-subnet0}]")
    vip_sub = s["Subnet"]["SubnetId"]
    expect(s["Subnet"]["AvailabilityZone"] == "ap-northeast-3a" and s["Subnet"]["CidrBlock"] == "192.168.248.0/24", str(s))
    f = ok(sim, "describe-subnets", "--filters", "Name=tag:loxiType,Values=loxilb-subnet0")
    expect([x["SubnetId"] for x in f["Subnets"]] == [vip_sub], str(f))
    f = ok(sim, "describe-subnets", "--filters", "Name=availability-zone,Values=ap-northeast-3b", f"Name=vpc-id,Values={vpc}")
    expect([x["SubnetId"] for x in f["Subnets"]] == [sub_b], str(f))
    expect_err(sim, "InvalidSubnetID.NotFound", "describe-subnets", "--subnet-ids", "subnet-0nope")
    expect_err(sim, "InvalidSubnetID.NotFound", "delete-subnet", "--subnet-id", "subnet-0nope")
    expect_err(sim, "InvalidParameterValue", "describe-subnets", "--filters", "Name=colour,Values=blue")
    br = sim.sh(sim.ns("vpc"), "ip -br addr show | grep 192.168.248.1/24")
    expect("192.168.248.1/24" in br, "subnet bridge missing in the vpc namespace")

    # --- route tables and gateways ---
    igw = ok(sim, "describe-internet-gateways", "--filters", f"Name=attachment.vpc-id,Values={vpc}")
    igw_id = igw["InternetGateways"][0]["InternetGatewayId"]
    rt = ok(sim, "create-route-table", "--vpc-id", vpc, "--tag-specifications",
            "ResourceType=route-table,Tags=[{Key=loxiType,Value=loxilb-routetable0}]")
    rtb = rt["RouteTable"]["RouteTableId"]
    ra = ok(sim, "associate-route-table", "--route-table-id", rtb, "--subnet-id", vip_sub)
    expect_err(sim, "Resource.AlreadyAssociated", "associate-route-table", "--route-table-id", rtb, "--subnet-id", vip_sub)
    ok(sim, "create-route", "--route-table-id", rtb, "--destination-cidr-block", "0.0.0.0/0", "--gateway-id", igw_id)
    expect_err(sim, "RouteAlreadyExists", "create-route", "--route-table-id", rtb, "--destination-cidr-block", "0.0.0.0/0",
               "--gateway-id", igw_id)
    expect_err(sim, "InvalidGatewayID.NotFound", "create-route", "--route-table-id", rtb, "--destination-cidr-block",
               "10.0.0.0/8", "--gateway-id", "igw-0nope")
    d = ok(sim, "describe-route-tables", "--filters", "Name=tag:loxiType,Values=loxilb-routetable0")
    expect(d["RouteTables"][0]["Associations"][0]["SubnetId"] == vip_sub, str(d))
    expect(any(r.get("GatewayId") == igw_id for r in d["RouteTables"][0]["Routes"]), str(d))
    expect_err(sim, "DependencyViolation", "delete-route-table", "--route-table-id", rtb)
    ok(sim, "disassociate-route-table", "--association-id", ra["AssociationId"])
    expect_err(sim, "InvalidAssociationID.NotFound", "disassociate-route-table", "--association-id", ra["AssociationId"])
    ok(sim, "delete-route-table", "--route-table-id", rtb)
    expect_err(sim, "InvalidRouteTableID.NotFound", "delete-route-table", "--route-table-id", rtb)

    # --- instances ---
    i = ok(sim, "describe-instances", "--filters", "Name=availability-zone,Values=ap-northeast-3b",
           "Name=tag:Name,Values=lb2")
    inst = i["Reservations"][0]["Instances"][0]
    expect(inst["InstanceId"] == lb2 and inst["PrivateIpAddress"] == "192.168.228.108", str(inst))
    expect(inst["NetworkInterfaces"][0]["Attachment"]["DeviceIndex"] == 0, str(inst))
    expect_err(sim, "InvalidInstanceID.NotFound", "describe-instances", "--instance-ids", "i-0nope")
    r = ok(sim, "run-instances", "--image-id", "ami-0123", "--instance-type", "t3.medium", "--subnet-id", sub_a,
           "--tag-specifications", "ResourceType=instance,Tags=[{Key=Name,Value=extra1}]")
    new_inst = r["Instances"][0]
    expect(new_inst["Placement"]["AvailabilityZone"] == "ap-northeast-3a", str(new_inst))
    ip = new_inst["PrivateIpAddress"]
    out = sim.sh(sim.prefix + "extra1", "ip -br addr show dev eth0")
    expect(ip in out, f"new instance eth0 lacks {ip}: {out}")

    # --- ENIs ---
    sg = inst["NetworkInterfaces"][0]["Groups"][0]["GroupId"]
    c = ok(sim, "create-network-interface", "--subnet-id", vip_sub, "--description", "loxilb-eni", "--groups", sg,
           "--tag-specifications", "ResourceType=network-interface,Tags=[{Key=loxiType,Value=loxilb-eni0}]")
    eni = c["NetworkInterface"]
    eni_id, mac = eni["NetworkInterfaceId"], eni["MacAddress"]
    expect(eni["Status"] == "available" and eni["Description"] == "loxilb-eni" and
           eni["PrivateIpAddress"] == "192.168.248.4" and eni["Groups"][0]["GroupId"] == sg, str(eni))
    expect(eni["TagSet"] == [{"Key": "loxiType", "Value": "loxilb-eni0"}], str(eni))
    expect_err(sim, "InvalidIPAddress.InUse", "create-network-interface", "--subnet-id", sub_a, "--private-ip-address",
               "192.168.218.60")
    expect_err(sim, "InvalidGroup.NotFound", "create-network-interface", "--subnet-id", sub_a, "--groups", "sg-0nope")
    expect_err(sim, "InvalidSubnetID.NotFound", "create-network-interface", "--subnet-id", "subnet-0nope")
    expect_err(sim, "InvalidParameterCombination", "attach-network-interface", "--network-interface-id", eni_id,
               "--instance-id", lb2, "--device-index", "1")
    expect_err(sim, "InvalidParameterValue", "attach-network-interface", "--network-interface-id", eni_id,
               "--instance-id", lb1, "--device-index", "0")
    expect_err(sim, "InvalidInstanceID.NotFound", "attach-network-interface", "--network-interface-id", eni_id,
               "--instance-id", "i-0nope", "--device-index", "1")
    at = ok(sim, "attach-network-interface", "--network-interface-id", eni_id, "--instance-id", lb1, "--device-index", "1")
    attach_id = at["AttachmentId"]
    expect(attach_id.startswith("eni-attach-"), str(at))
    link = sim.sh(sim.ns("lb1"), "ip -o link show dev eth1")
    expect(mac in link, f"eth1 in lb1 does not carry the ENI MAC {mac}: {link}")
    expect_err(sim, "InvalidNetworkInterface.InUse", "attach-network-interface", "--network-interface-id", eni_id,
               "--instance-id", lb1, "--device-index", "2")
    expect_err(sim, "InvalidNetworkInterface.InUse", "delete-network-interface", "--network-interface-id", eni_id)
    f = ok(sim, "describe-network-interfaces", "--filters", f"Name=attachment.instance-id,Values={lb1}")
    expect(sorted(x["Attachment"]["DeviceIndex"] for x in f["NetworkInterfaces"]) == [0, 1], str(f))
    ok(sim, "modify-network-interface-attribute", "--network-interface-id", eni_id, "--no-source-dest-check")
    f = ok(sim, "describe-network-interfaces", "--network-interface-ids", eni_id)
    expect(f["NetworkInterfaces"][0]["SourceDestCheck"] is False, str(f))
    expect_err(sim, "InvalidNetworkInterfaceID.NotFound", "describe-network-interfaces", "--network-interface-ids",
               "eni-0123456789abcdef0")

    # --- private IPs (and IMDS reflecting them) ---
    expect_err(sim, "InvalidParameterValue", "assign-private-ip-addresses", "--network-interface-id", eni_id,
               "--private-ip-addresses", "192.168.218.77")
    ok(sim, "assign-private-ip-addresses", "--network-interface-id", eni_id, "--private-ip-addresses", "192.168.248.254")
    other = ok(sim, "create-network-interface", "--subnet-id", vip_sub)["NetworkInterface"]["NetworkInterfaceId"]
    expect_err(sim, "InvalidParameterValue", "assign-private-ip-addresses", "--network-interface-id", other,
               "--private-ip-addresses", "192.168.248.254")
    expect_err(sim, "PrivateIpAddressLimitExceeded", "assign-private-ip-addresses", "--network-interface-id", other,
               "--secondary-private-ip-address-count", "9")
    token = sim.sh(sim.ns("lb1"), "curl -sf -X PUT -H 'Content-Length: 0' "
                   "-H 'X-aws-ec2-metadata-token-ttl-seconds: 60' http://169.254.169.254/latest/api/token")
    imds = lambda ns, tok, p: sim.sh(ns, f"curl -s -H 'X-aws-ec2-metadata-token: {tok}' "
                                         f"http://169.254.169.254/latest/meta-data/{p}", check=False)
    expect(imds(sim.ns("lb1"), token, "instance-id") == lb1, "IMDS instance-id")
    expect(imds(sim.ns("lb1"), token, "placement/availability-zone") == "ap-northeast-3a", "IMDS az")
    expect(imds(sim.ns("lb1"), token, f"network/interfaces/macs/{mac}/local-ipv4s").split() ==
           ["192.168.248.4", "192.168.248.254"], "IMDS local-ipv4s")
    expect(imds(sim.ns("lb1"), token, f"network/interfaces/macs/{mac}/device-number") == "1", "IMDS device-number")
    expect(imds(sim.ns("lb1"), token, f"network/interfaces/macs/{mac}/subnet-ipv4-cidr-block") == "192.168.248.0/24",
           "IMDS subnet cidr")
    expect(imds(sim.ns("lb1"), token, f"network/interfaces/macs/{mac}/security-group-ids") == sg, "IMDS sgs")
    expect(imds(sim.ns("lb1"), "bogus", "instance-id") == "Unauthorized", "IMDS without a valid token")
    ok(sim, "assign-private-ip-addresses", "--network-interface-id", other, "--private-ip-addresses", "192.168.248.254",
       "--allow-reassignment")
    expect(imds(sim.ns("lb1"), token, f"network/interfaces/macs/{mac}/local-ipv4s").split() == ["192.168.248.4"],
           "IMDS still lists the moved IP")
    expect_err(sim, "InvalidParameterValue", "unassign-private-ip-addresses", "--network-interface-id", eni_id,
               "--private-ip-addresses", "192.168.248.254")
    ok(sim, "unassign-private-ip-addresses", "--network-interface-id", other, "--private-ip-addresses", "192.168.248.254")

    # --- Elastic IPs ---
    addr = ok(sim, "describe-addresses", "--filters", f"Name=public-ip,Values={eip}")["Addresses"]
    expect(len(addr) == 1 and addr[0]["AllocationId"] == alloc and "AssociationId" not in addr[0], str(addr))
    expect_err(sim, "InvalidAllocationID.NotFound", "associate-address", "--allocation-id", "eipalloc-0bad",
               "--network-interface-id", eni_id)
    as1 = ok(sim, "associate-address", "--allocation-id", alloc, "--network-interface-id", eni_id,
             "--private-ip-address", "192.168.248.4")
    expect(as1["AssociationId"].startswith("eipassoc-"), str(as1))
    lb2_eni = e["VPCSIM_ENI_LB2"]
    expect_err(sim, "Resource.AlreadyAssociated", "associate-address", "--allocation-id", alloc,
               "--network-interface-id", lb2_eni)
    as2 = ok(sim, "associate-address", "--allocation-id", alloc, "--network-interface-id", lb2_eni,
             "--allow-reassociation")
    a = ok(sim, "describe-addresses", "--allocation-ids", alloc)["Addresses"][0]
    expect(a["NetworkInterfaceId"] == lb2_eni and a["PrivateIpAddress"] == "192.168.228.108" and a["InstanceId"] == lb2,
           str(a))
    nft = sim.sh(sim.ns("vpc"), "nft list map ip vpcsim eip_to_private")
    expect(f"{eip} : 192.168.228.108" in nft, f"NAT map not updated: {nft}")
    expect_err(sim, "InvalidAssociationID.NotFound", "disassociate-address", "--association-id", as1["AssociationId"])
    ok(sim, "disassociate-address", "--association-id", as2["AssociationId"])
    new = ok(sim, "allocate-address", "--domain", "vpc")
    expect(new["PublicIp"].startswith("198.18.") and new["Domain"] == "vpc", str(new))
    ok(sim, "release-address", "--allocation-id", new["AllocationId"])
    expect_err(sim, "InvalidAllocationID.NotFound", "release-address", "--allocation-id", new["AllocationId"])

    # --- tags ---
    ok(sim, "create-tags", "--resources", eni_id, vip_sub, "--tags", "Key=team,Value=lb")
    f = ok(sim, "describe-network-interfaces", "--filters", "Name=tag:team,Values=lb")
    expect([x["NetworkInterfaceId"] for x in f["NetworkInterfaces"]] == [eni_id], str(f))
    expect_err(sim, "InvalidNetworkInterfaceID.NotFound", "create-tags", "--resources", "eni-0nope", "--tags",
               "Key=a,Value=b")

    # --- asynchronous detach, dependency violations ---
    sim.admin("/config", {"detach_ms": 6000})  # > two awscli round trips
    expect_err(sim, "OperationNotPermitted", "detach-network-interface", "--attachment-id",
               inst["NetworkInterfaces"][0]["Attachment"]["AttachmentId"])
    ok(sim, "detach-network-interface", "--attachment-id", attach_id, "--force")
    st = ok(sim, "describe-network-interfaces", "--network-interface-ids", eni_id)["NetworkInterfaces"][0]
    expect(st["Attachment"]["Status"] == "detaching", f"expected detaching: {st.get('Attachment')}")
    expect_err(sim, "InvalidNetworkInterface.InUse", "delete-network-interface", "--network-interface-id", eni_id)
    wait_for("ENI available", lambda: ok(sim, "describe-network-interfaces", "--network-interface-ids",
                                         eni_id)["NetworkInterfaces"][0]["Status"] == "available")
    wait_for("eth1 gone from lb1", lambda: sim.sh(sim.ns("lb1"), "ip link show dev eth1", check=False) == "")
    expect_err(sim, "InvalidAttachmentID.NotFound", "detach-network-interface", "--attachment-id", attach_id)
    expect_err(sim, "DependencyViolation", "delete-subnet", "--subnet-id", vip_sub)
    ok(sim, "delete-network-interface", "--network-interface-id", eni_id)
    ok(sim, "delete-network-interface", "--network-interface-id", other)
    expect_err(sim, "InvalidNetworkInterfaceID.NotFound", "delete-network-interface", "--network-interface-id", eni_id)
    ok(sim, "delete-subnet", "--subnet-id", vip_sub)
    expect(sim.sh(sim.ns("vpc"), "ip -br addr show | grep -c 192.168.248.1/24", check=False) == "0",
           "bridge of the deleted subnet still present")

    # --- throttling and fault injection (admin endpoint) ---
    sim.admin("/throttle", {"buckets": {"mutating": {"capacity": 1, "refill_per_s": 0.001}}})
    ok(sim, "create-tags", "--resources", vpc, "--tags", "Key=a,Value=1")  # CreateTags has its own bucket
    ok(sim, "allocate-address")
    expect_err(sim, "RequestLimitExceeded", "allocate-address")
    sim.admin("/throttle", {"buckets": {"mutating": {"capacity": 50, "refill_per_s": 5}}})
    sim.admin("/faults", {"action": "DescribeVpcs", "code": "InternalError", "http_status": 500, "count": 1})
    expect_err(sim, "InternalError", "describe-vpcs")
    ok(sim, "describe-vpcs")
    state = sim.admin("/state")
    expect(len(state["instances"]) == 5 and state["region"] == "ap-northeast-3", "state dump")

    # --- the other awscli (v2) if installed ---
    if shutil.which("/usr/bin/aws"):
        v2 = ok(sim, "describe-addresses", "--public-ips", eip, cli="/usr/bin/aws")
        expect(v2["Addresses"][0]["AllocationId"] == alloc, str(v2))
        expect_err(sim, "InvalidAllocationID.NotFound", "describe-addresses", "--allocation-ids", "eipalloc-0bad",
                   cli="/usr/bin/aws")
    else:
        print("note: /usr/bin/aws (awscli v2) not installed; checked with awscli v1 only")


def main():
    require_root()
    sim = None
    try:
        sim = Sim()
        run(sim)
    except Exception:
        traceback.print_exc()
        if sim:
            sim.down(keep_log=True)
        print(f"FAIL after {checks} checks (vpcsim log: {sim.state_dir if sim else '/tmp/vpcsim-flbsim*'}.log)")
        return 1
    sim.down(keep_log=False)
    print(f"PASS: {checks} checks")
    return 0


if __name__ == "__main__":
    sys.exit(main())
