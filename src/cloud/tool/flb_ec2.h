// flb-ec2: manual-testing tool for the floatlb AWS client (apps/flb-ec2 is a thin main over this).
// One EC2 Describe call, the IMDS view, or the product's takeover (TakeoverExecutor; the dry run
// only observes and prints the plan). Configuration from the usual AWS_* variables (docs/cloud.md).
#pragma once

namespace floatlb::cloud::tool {

// Parses argv (CLI11) and runs the command; the process exit code (0 ok, 1 failure, 2 usage).
int runFlbEc2(int argc, char** argv);

}  // namespace floatlb::cloud::tool
