#include "k8s/yaml_json.h"

#include <yaml.h>

#include <charconv>
#include <memory>
#include <vector>

namespace floatlb::k8s {

namespace {

Json scalar(const yaml_event_t& ev) {
  std::string v(reinterpret_cast<const char*>(ev.data.scalar.value), ev.data.scalar.length);
  if (ev.data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return v;
  if (v == "true" || v == "True" || v == "TRUE") return true;
  if (v == "false" || v == "False" || v == "FALSE") return false;
  if (v == "null" || v == "~" || v.empty()) return nullptr;
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec == std::errc() && p == v.data() + v.size()) return n;
  return v;
}

}  // namespace

Result<Json> yamlToJson(std::string_view text) {
  yaml_parser_t parser;
  if (yaml_parser_initialize(&parser) == 0) return makeError(ErrorCode::kInternal, "libyaml: init failed");
  std::unique_ptr<yaml_parser_t, void (*)(yaml_parser_t*)> guard(&parser, yaml_parser_delete);
  yaml_parser_set_input_string(&parser, reinterpret_cast<const unsigned char*>(text.data()), text.size());
  // Stack of containers being built; for a mapping, the pending key.
  struct Frame {
    Json value;
    std::optional<std::string> key;
  };
  std::vector<Frame> stack;
  std::optional<Json> root;
  constexpr size_t kMaxDepth = 64;
  auto add = [&](Json v) -> Status {
    if (stack.empty()) {
      if (!root) root = std::move(v);
      return okStatus();
    }
    Frame& top = stack.back();
    if (top.value.is_array()) {
      top.value.push_back(std::move(v));
    } else if (!top.key) {
      if (!v.is_string() && !v.is_number() && !v.is_boolean()) {
        return makeError(ErrorCode::kInvalidArgument, "YAML: mapping keys must be scalars");
      }
      top.key = v.is_string() ? v.get<std::string>() : v.dump();
    } else {
      top.value[*top.key] = std::move(v);
      top.key.reset();
    }
    return okStatus();
  };
  for (;;) {
    yaml_event_t ev;
    if (yaml_parser_parse(&parser, &ev) == 0) {
      std::string msg = parser.problem != nullptr ? parser.problem : "syntax error";
      return makeError(ErrorCode::kInvalidArgument,
                       "YAML line " + std::to_string(parser.problem_mark.line + 1) + ": " + msg);
    }
    std::unique_ptr<yaml_event_t, void (*)(yaml_event_t*)> evg(&ev, yaml_event_delete);
    Status st = okStatus();
    switch (ev.type) {
      case YAML_STREAM_END_EVENT:
        return root ? *root : Json::object();
      case YAML_DOCUMENT_END_EVENT:
        if (root) return *root;
        break;
      case YAML_MAPPING_START_EVENT:
      case YAML_SEQUENCE_START_EVENT:
        if (stack.size() >= kMaxDepth) return makeError(ErrorCode::kInvalidArgument, "YAML nested too deeply");
        stack.push_back({ev.type == YAML_MAPPING_START_EVENT ? Json::object() : Json::array(), std::nullopt});
        break;
      case YAML_MAPPING_END_EVENT:
      case YAML_SEQUENCE_END_EVENT: {
        Json v = std::move(stack.back().value);
        stack.pop_back();
        st = add(std::move(v));
        break;
      }
      case YAML_SCALAR_EVENT:
        st = add(scalar(ev));
        break;
      case YAML_ALIAS_EVENT:
        return makeError(ErrorCode::kInvalidArgument, "YAML aliases are not supported");
      default:
        break;
    }
    if (!st.ok()) return st.error();
  }
}

}  // namespace floatlb::k8s
