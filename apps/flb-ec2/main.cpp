// flb-ec2: manual-testing tool for the floatlb AWS client (src/cloud/tool/flb_ec2.h).
#include "cloud/tool/flb_ec2.h"

int main(int argc, char** argv) { return floatlb::cloud::tool::runFlbEc2(argc, argv); }
