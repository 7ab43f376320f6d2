// Tiny XML text helpers for EC2 responses (no DOM; responses are built as strings).
#pragma once

#include <string>

#include "sim/api_types.h"

namespace floatlb::sim::xml {

std::string escape(const std::string& s);
// <name>escaped text</name>
std::string el(const std::string& name, const std::string& text);
inline std::string el(const std::string& name, const char* text) { return el(name, std::string(text)); }
std::string el(const std::string& name, bool b);
std::string el(const std::string& name, int v);
// <name>raw inner xml</name>
std::string raw(const std::string& name, const std::string& inner);
std::string tagSet(const Tags& tags);

inline constexpr const char* kNamespace = "http://ec2.amazonaws.com/doc/2016-11-15/";
std::string successDocument(const std::string& action, const std::string& request_id,
                            const std::string& inner);
std::string errorDocument(const std::string& code, const std::string& message, const std::string& request_id);

}  // namespace floatlb::sim::xml
