#!/usr/bin/env python3
"""Regenerates the botocore-made golden vectors used by tests/unit/cloud.

  python3 tests/unit/cloud/golden/make_vectors.py > tests/unit/cloud/golden/botocore_vectors.json

Two kinds of vectors, both produced by botocore itself (the reference implementation that awscli
uses), with the signing clock frozen so the output is reproducible:
  * "sigv4": SigV4Auth over an EC2 Query POST (with and without a session token, short and long
    bodies); we record canonical request, string to sign and the final headers.
  * "query": botocore's ec2-protocol serializer + form encoder for takeover-relevant calls; we
    record the exact x-www-form-urlencoded body botocore would send.
"""
import datetime
import json
import sys
from unittest import mock

import botocore
import botocore.auth
import botocore.credentials
import botocore.session
from botocore.awsrequest import AWSRequest, prepare_request_dict
from botocore.serialize import create_serializer

FROZEN = datetime.datetime(2024, 1, 2, 3, 4, 5)
AKID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
CONTENT_TYPE = "application/x-www-form-urlencoded; charset=utf-8"


def sign(name, url, body, region, token=None):
    creds = botocore.credentials.Credentials(AKID, SECRET, token)
    req = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": CONTENT_TYPE})
    auth = botocore.auth.SigV4Auth(creds, "ec2", region)
    with mock.patch("botocore.auth.get_current_datetime", return_value=FROZEN):
        # Same steps as add_auth, but keep the intermediate strings (before Authorization exists).
        req.context["timestamp"] = FROZEN.strftime(botocore.auth.SIGV4_TIMESTAMP)
        auth._modify_request_before_signing(req)
        canonical = auth.canonical_request(req)
        sts = auth.string_to_sign(req, canonical)
        auth.add_auth(req)
    return {
        "name": name,
        "url": url,
        "region": region,
        "service": "ec2",
        "access_key": AKID,
        "secret_key": SECRET,
        "session_token": token or "",
        "amz_date": req.context["timestamp"],
        "content_type": CONTENT_TYPE,
        "body": body,
        "canonical_request": canonical,
        "string_to_sign": sts,
        "authorization": req.headers["Authorization"],
        "x_amz_security_token": req.headers.get("X-Amz-Security-Token", ""),
    }


def serialize(model, op, params):
    ser = create_serializer("ec2")
    d = ser.serialize_to_request(params, model.operation_model(op))
    prepare_request_dict(d, endpoint_url="https://ec2.eu-west-1.amazonaws.com")
    req = AWSRequest(method=d["method"], url=d["url"], data=d["body"], headers=d["headers"])
    body = req.prepare().body
    return {"name": op, "params": params, "body": body if isinstance(body, str) else body.decode()}


def main():
    session = botocore.session.get_session()
    model = session.get_service_model("ec2")
    long_body = serialize(model, "CreateNetworkInterface", {
        "SubnetId": "subnet-0abc", "Description": "floatlb eni / test & more", "Groups": ["sg-1", "sg-2"],
        "TagSpecifications": [{"ResourceType": "network-interface",
                               "Tags": [{"Key": "floatlbType", "Value": "floatlb-eni0"}]}],
        "ClientToken": "3f2c0e5e-0b7b-4e0e-9b8d-0a1b2c3d4e5f"})["body"]
    sig = [
        sign("describe-addresses", "https://ec2.ap-northeast-3.amazonaws.com/",
             "Action=DescribeAddresses&Version=2016-11-15", "ap-northeast-3"),
        sign("session-token", "https://ec2.eu-west-1.amazonaws.com/",
             "Action=DescribeInstances&Version=2016-11-15", "eu-west-1",
             token="IQoJb3JpZ2luX2VjEXAMPLETOKEN//////////wEaCXVzLWVhc3QtMSJHMEUCIQ+test/token="),
        sign("long-body", "https://ec2.eu-west-1.amazonaws.com/", long_body, "eu-west-1"),
        sign("custom-endpoint-port", "http://127.0.0.1:18777/",
             "Action=DescribeAddresses&Version=2016-11-15&Filter.1.Name=public-ip&Filter.1.Value.1=203.0.113.10",
             "us-east-1", token="tok"),
    ]
    q = [
        serialize(model, "DescribeAddresses", {"PublicIps": ["203.0.113.10"],
                                               "Filters": [{"Name": "tag:Name", "Values": ["lb-vip"]}]}),
        serialize(model, "AssociateAddress", {"AllocationId": "eipalloc-1", "NetworkInterfaceId": "eni-1",
                                              "PrivateIpAddress": "124.124.124.250", "AllowReassociation": True}),
        serialize(model, "AssignPrivateIpAddresses", {"NetworkInterfaceId": "eni-1",
                                                      "PrivateIpAddresses": ["10.0.0.5", "10.0.0.6"],
                                                      "AllowReassignment": True}),
        serialize(model, "ModifyNetworkInterfaceAttribute", {"NetworkInterfaceId": "eni-1",
                                                             "SourceDestCheck": {"Value": False}}),
        serialize(model, "CreateSubnet", {"VpcId": "vpc-1", "CidrBlock": "124.124.124.0/24",
                                          "AvailabilityZone": "eu-west-1a",
                                          "TagSpecifications": [{"ResourceType": "subnet", "Tags": [
                                              {"Key": "floatlbType", "Value": "floatlb-subnet0"},
                                              {"Key": "Name", "Value": "a b+c"}]}]}),
        serialize(model, "DetachNetworkInterface", {"AttachmentId": "eni-attach-1", "Force": True}),
        serialize(model, "DescribeNetworkInterfaces", {"Filters": [
            {"Name": "tag:floatlbType", "Values": ["floatlb-eni0"]},
            {"Name": "attachment.instance-id", "Values": ["i-1", "i-2"]}]}),
        serialize(model, "CreateTags", {"Resources": ["eni-1", "subnet-1"],
                                        "Tags": [{"Key": "k", "Value": "v=1;x"}]}),
        serialize(model, "AttachNetworkInterface", {"NetworkInterfaceId": "eni-1", "InstanceId": "i-1",
                                                    "DeviceIndex": 1}),
        serialize(model, "CreateRoute", {"RouteTableId": "rtb-1", "DestinationCidrBlock": "0.0.0.0/0",
                                         "GatewayId": "igw-1"}),
        serialize(model, "RunInstances", {"ImageId": "ami-1", "InstanceType": "t3.micro", "MinCount": 1,
                                          "MaxCount": 1, "SubnetId": "subnet-1"}),
    ]
    json.dump({"botocore_version": botocore.__version__, "sigv4": sig, "query": q}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
