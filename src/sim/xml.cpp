#include "sim/xml.h"

namespace floatlb::sim::xml {

std::string escape(const std::string& s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        out.push_back(c);
    }
  }
  return out;
}

std::string el(const std::string& name, const std::string& text) {
  return "<" + name + ">" + escape(text) + "</" + name + ">";
}
std::string el(const std::string& name, bool b) { return el(name, std::string(b ? "true" : "false")); }
std::string el(const std::string& name, int v) { return el(name, std::to_string(v)); }
std::string raw(const std::string& name, const std::string& inner) {
  return "<" + name + ">" + inner + "</" + name + ">";
}

std::string tagSet(const Tags& tags) {
  std::string inner;
  for (const auto& [k, v] : tags) inner += raw("item", el("key", k) + el("value", v));
  return raw("tagSet", inner);
}

std::string successDocument(const std::string& action, const std::string& request_id,
                            const std::string& inner) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<" + action + "Response xmlns=\"" + kNamespace + "\">" +
         el("requestId", request_id) + inner + "</" + action + "Response>";
}

std::string errorDocument(const std::string& code, const std::string& message,
                          const std::string& request_id) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Response><Errors><Error>" + el("Code", code) +
         el("Message", message) + "</Error></Errors>" + el("RequestID", request_id) + "</Response>";
}

}  // namespace floatlb::sim::xml
