#!/bin/sh
# keepalived notify scripts for bench/aws-failover's keepalived_diy variant (the usual
# do-it-yourself pattern: the Elastic IP follows the VRRP master by `aws ec2 associate-address`).
# Runs inside the instance's network namespace (keepalived's child), so awscli finds the
# instance-role credentials and the EC2 endpoint through vpcsim's IMDS at 169.254.169.254.
#
#   aws_failover_notify.sh master LOG AWS_BIN REGION ALLOCATION_ID ENI_ID PRIVATE_IP
#       notify_master: associate the EIP with our own primary ENI/IP; appends to LOG one line
#       "start_ms end_ms rc" (wall clock, ms) and keeps awscli's output in LOG.out
#   aws_failover_notify.sh state FILE TYPE NAME STATE PRIORITY
#       notify (keepalived appends TYPE NAME STATE PRIORITY): writes STATE to FILE
mode=$1
shift
case $mode in
  master)
    log=$1 aws_bin=$2 region=$3 alloc=$4 eni=$5 ip=$6
    start=$(date +%s%3N)
    env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root AWS_DEFAULT_REGION="$region" \
      AWS_ENDPOINT_URL=http://169.254.169.254 AWS_EC2_METADATA_SERVICE_ENDPOINT=http://169.254.169.254 \
      "$aws_bin" --region "$region" --output json ec2 associate-address --allocation-id "$alloc" --network-interface-id "$eni" \
      --private-ip-address "$ip" --allow-reassociation >>"$log.out" 2>&1
    rc=$?
    echo "$start $(date +%s%3N) $rc" >>"$log"
    exit $rc
    ;;
  state)
    echo "$4" >"$1"
    ;;
  *)
    echo "usage: $0 master|state ..." >&2
    exit 2
    ;;
esac
