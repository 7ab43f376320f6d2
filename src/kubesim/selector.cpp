#include "kubesim/selector.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "kubesim/status.h"

namespace floatlb::kubesim {

namespace {

bool isKeyChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == '/';
}

struct Lexer {
  const std::string& s;
  size_t i = 0;
  void skipWs() {
    while (i < s.size() && s[i] == ' ') ++i;
  }
  std::string word() {
    skipWs();
    size_t b = i;
    while (i < s.size() && isKeyChar(s[i])) ++i;
    return s.substr(b, i - b);
  }
  bool eat(const std::string& t) {
    skipWs();
    if (s.compare(i, t.size(), t) == 0) {
      i += t.size();
      return true;
    }
    return false;
  }
  bool done() {
    skipWs();
    return i >= s.size();
  }
};

Error parseError(const std::string& s, const std::string& why) {
  return badRequest("unable to parse requirement: " + why + " in selector \"" + s + "\"");
}

bool isDigits(const std::string& v) {
  return !v.empty() &&
         std::all_of(v.begin(), v.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); });
}

}  // namespace

bool LabelSelector::matches(const nlohmann::json& labels) const {
  for (const auto& r : reqs) {
    bool has = labels.is_object() && labels.contains(r.key) && labels[r.key].is_string();
    std::string v = has ? labels[r.key].get<std::string>() : "";
    bool inSet = has && std::find(r.values.begin(), r.values.end(), v) != r.values.end();
    switch (r.op) {
      case Requirement::Op::kEq:
      case Requirement::Op::kIn:
        if (!inSet) return false;
        break;
      case Requirement::Op::kNotEq:
      case Requirement::Op::kNotIn:
        if (inSet) return false;
        break;
      case Requirement::Op::kExists:
        if (!has) return false;
        break;
      case Requirement::Op::kNotExists:
        if (has) return false;
        break;
      case Requirement::Op::kGt:
      case Requirement::Op::kLt: {
        if (!has || !isDigits(v)) return false;
        long long a = std::stoll(v), b = std::stoll(r.values[0]);
        if (r.op == Requirement::Op::kGt ? !(a > b) : !(a < b)) return false;
        break;
      }
    }
  }
  return true;
}

Result<LabelSelector> parseLabelSelector(const std::string& s) {
  LabelSelector sel;
  Lexer lx{s};
  if (lx.done()) return sel;
  while (true) {
    Requirement r;
    if (lx.eat("!")) {
      r.key = lx.word();
      if (r.key.empty()) return parseError(s, "missing key after '!'");
      r.op = Requirement::Op::kNotExists;
    } else {
      r.key = lx.word();
      if (r.key.empty()) return parseError(s, "found '" + s.substr(lx.i, 1) + "', expected: identifier");
      if (lx.eat("==") || lx.eat("=")) {
        r.op = Requirement::Op::kEq;
        r.values.push_back(lx.word());
      } else if (lx.eat("!=")) {
        r.op = Requirement::Op::kNotEq;
        r.values.push_back(lx.word());
      } else if (lx.eat(">") || lx.eat("<")) {
        r.op = s[lx.i - 1] == '>' ? Requirement::Op::kGt : Requirement::Op::kLt;
        r.values.push_back(lx.word());
        if (!isDigits(r.values[0]))
          return parseError(s, "for 'Gt', 'Lt' operators, the value must be an integer");
      } else {
        size_t save = lx.i;
        std::string w = lx.word();
        if (w == "in" || w == "notin") {
          r.op = w == "in" ? Requirement::Op::kIn : Requirement::Op::kNotIn;
          if (!lx.eat("(")) return parseError(s, "found '" + s.substr(lx.i, 1) + "', expected: '('");
          while (true) {
            std::string v = lx.word();
            r.values.push_back(v);
            if (lx.eat(")")) break;
            if (!lx.eat(",")) return parseError(s, "found '" + s.substr(lx.i, 1) + "', expected: ',' or ')'");
          }
        } else {
          lx.i = save;
          r.op = Requirement::Op::kExists;
        }
      }
    }
    sel.reqs.push_back(std::move(r));
    if (lx.done()) break;
    if (!lx.eat(","))
      return parseError(s, "found '" + s.substr(lx.i, 1) + "', expected: ',' or end of string");
  }
  return sel;
}

LabelSelector selectorFromJson(const nlohmann::json& sel) {
  LabelSelector out;
  if (!sel.is_object()) return out;
  bool structured = sel.contains("matchLabels") || sel.contains("matchExpressions");
  const nlohmann::json& ml = structured ? sel.value("matchLabels", nlohmann::json::object()) : sel;
  for (auto it = ml.begin(); it != ml.end(); ++it)
    if (it.value().is_string())
      out.reqs.push_back({it.key(), Requirement::Op::kEq, {it.value().get<std::string>()}});
  if (structured && sel.contains("matchExpressions") && sel["matchExpressions"].is_array()) {
    static const std::map<std::string, Requirement::Op> ops = {{"In", Requirement::Op::kIn},
                                                               {"NotIn", Requirement::Op::kNotIn},
                                                               {"Exists", Requirement::Op::kExists},
                                                               {"DoesNotExist", Requirement::Op::kNotExists}};
    for (const auto& e : sel["matchExpressions"]) {
      auto op = ops.find(e.value("operator", ""));
      if (op == ops.end()) continue;
      Requirement r{e.value("key", ""), op->second, {}};
      for (const auto& v : e.value("values", nlohmann::json::array()))
        if (v.is_string()) r.values.push_back(v.get<std::string>());
      out.reqs.push_back(std::move(r));
    }
  }
  return out;
}

std::string fieldValue(const nlohmann::json& obj, const std::string& field) {
  const nlohmann::json* cur = &obj;
  size_t start = 0;
  while (start <= field.size()) {
    size_t dot = field.find('.', start);
    std::string part = field.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (!cur->is_object() || !cur->contains(part)) return "";
    cur = &(*cur)[part];
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (cur->is_string()) return cur->get<std::string>();
  if (cur->is_boolean()) return cur->get<bool>() ? "true" : "false";
  if (cur->is_number()) return cur->dump();
  return "";
}

bool FieldSelector::matches(const std::string& /*resource*/, const nlohmann::json& obj) const {
  for (const auto& t : terms) {
    std::string v = fieldValue(obj, t.field);
    if (t.field == "spec.hostNetwork" && v.empty()) v = "false";
    if (t.field == "spec.unschedulable" && v.empty()) v = "false";
    if ((v == t.value) != t.equal) return false;
  }
  return true;
}

Result<FieldSelector> parseFieldSelector(const std::string& resource, const std::string& s) {
  static const std::map<std::string, std::set<std::string>> extra = {
      {"pods",
       {"spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
        "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"}},
      {"events",
       {"involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
        "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath", "reason",
        "reportingComponent", "source", "type"}},
      {"nodes", {"spec.unschedulable"}},
      {"namespaces", {"status.phase"}},
      {"secrets", {"type"}},
      {"services", {"spec.clusterIP", "spec.type"}},
  };
  FieldSelector out;
  std::string cur;
  std::vector<std::string> parts;
  for (size_t i = 0; i < s.size(); ++i) {  // split on unescaped ','
    if (s[i] == '\\' && i + 1 < s.size()) {
      cur += s[++i];
    } else if (s[i] == ',') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += s[i];
    }
  }
  if (!cur.empty() || !parts.empty()) parts.push_back(cur);
  for (const auto& p : parts) {
    if (p.empty()) continue;
    FieldSelector::Term t;
    size_t pos;
    if ((pos = p.find("!=")) != std::string::npos) {
      t.equal = false;
      t.field = p.substr(0, pos);
      t.value = p.substr(pos + 2);
    } else if ((pos = p.find("==")) != std::string::npos) {
      t.field = p.substr(0, pos);
      t.value = p.substr(pos + 2);
    } else if ((pos = p.find('=')) != std::string::npos) {
      t.field = p.substr(0, pos);
      t.value = p.substr(pos + 1);
    } else {
      return badRequest("invalid selector: '" + s + "'; can't understand '" + p + "'");
    }
    bool known = t.field == "metadata.name" || t.field == "metadata.namespace";
    auto it = extra.find(resource);
    if (!known && it != extra.end()) known = it->second.count(t.field) > 0;
    if (!known) return badRequest("field label not supported: " + t.field);
    out.terms.push_back(std::move(t));
  }
  return out;
}

}  // namespace floatlb::kubesim
