// The project's version (CMake's PROJECT_VERSION), for --version, /netlox/v1/version and
// User-Agent strings. Defined in one translation unit so a version bump rebuilds one file.
#pragma once

namespace floatlb {

const char* projectVersion();

}  // namespace floatlb
