#include "common/version.h"

namespace floatlb {

const char* projectVersion() { return FLOATLB_VERSION; }

}  // namespace floatlb
