// ApiServer reads: get, list (limit/continue, selectors, Tables) and watch streams.
#include <fmt/format.h>

#include <algorithm>

#include "kubesim/apiserver.h"
#include "kubesim/apiserver_support.h"
#include "kubesim/patch.h"
#include "kubesim/status.h"
#include "kubesim/table.h"

namespace floatlb::kubesim {

using namespace apiserver_support;  // NOLINT(google-build-using-namespace): the split's shared helpers

// ---------------------------------------------------------------------------------------------- reads

Result<Response> ApiServer::doGet(const Request& req, const Parsed& p) {
  const json* o = store_.get(p.res->plural, p.ns, p.name);
  if (!o) return notFound(p.res->plural, p.res->group, p.name);
  if (wantsTable(req.accept)) {
    Response r = jsonResponse(200, renderTable(p.res->plural, {*o}, now(), q(req, "includeObject"), ""));
    r.contentType = "application/json;as=Table;v=v1;g=meta.k8s.io";
    return r;
  }
  return jsonResponse(200, *o);
}

Result<Response> ApiServer::doList(const Request& req, const Parsed& p) {
  FLB_ASSIGN_OR_RETURN(LabelSelector ls, parseLabelSelector(q(req, "labelSelector")));
  FLB_ASSIGN_OR_RETURN(FieldSelector fs, parseFieldSelector(p.res->plural, q(req, "fieldSelector")));
  std::string rvs = q(req, "resourceVersion");
  if (!rvs.empty() && rvs != "0") {
    uint64_t rv = std::strtoull(rvs.c_str(), nullptr, 10);
    if (rv > store_.revision()) FLB_TRY(store_.since(rv));  // 504 Too large resource version
    if (q(req, "resourceVersionMatch") == "Exact" && rv != store_.revision())
      return apiError(410, "Expired",
                      "too old resource version: " + rvs + " (" + std::to_string(store_.revision()) + ")");
  }
  std::string listRv = std::to_string(store_.revision());
  std::string start;
  if (!q(req, "continue").empty()) {
    auto raw = unbase64(q(req, "continue"));
    json tok = raw ? json::parse(*raw, nullptr, false) : json();
    if (!tok.is_object()) return badRequest("continue key is not valid: illegal base64 data");
    uint64_t trv = tok.value("rv", uint64_t{0});
    if (trv < store_.compactedRevision())
      return apiError(
          410, "Expired",
          "The provided continue parameter is too old to display a consistent list result. You can start "
          "a new list without the continue parameter.");
    listRv = std::to_string(trv);
    start = tok.value("start", "");
  }
  int64_t limit = std::atoll(q(req, "limit").c_str());
  std::vector<json> items;
  std::string cont;
  int64_t remaining = 0;
  for (const json* o : store_.list(p.res->plural, p.ns)) {
    if (!start.empty() && keyFor(*o) <= start) continue;
    if (!ls.matches((*o)["metadata"].value("labels", json::object())) || !fs.matches(p.res->plural, *o))
      continue;
    if (limit > 0 && static_cast<int64_t>(items.size()) >= limit) {
      ++remaining;
      continue;
    }
    items.push_back(*o);
  }
  if (remaining > 0) cont = base64(json{{"rv", std::stoull(listRv)}, {"start", keyFor(items.back())}}.dump());
  if (wantsTable(req.accept)) {
    json t = renderTable(p.res->plural, items, now(), q(req, "includeObject"), listRv);
    if (!cont.empty()) {
      t["metadata"]["continue"] = cont;
      t["metadata"]["remainingItemCount"] = remaining;
    }
    Response r = jsonResponse(200, t);
    r.contentType = "application/json;as=Table;v=v1;g=meta.k8s.io";
    return r;
  }
  json list = {{"kind", p.res->kind + "List"},
               {"apiVersion", p.res->apiVersion()},
               {"metadata", {{"resourceVersion", listRv}}},
               {"items", json::array()}};
  if (!cont.empty()) {
    list["metadata"]["continue"] = cont;
    list["metadata"]["remainingItemCount"] = remaining;
  }
  for (auto& o : items) {
    o.erase("kind");
    o.erase("apiVersion");
    list["items"].push_back(std::move(o));
  }
  return jsonResponse(200, list);
}

bool ApiServer::matches(const WatchCursor& c, const json& obj) const {
  if (!c.ns.empty() && obj["metadata"].value("namespace", "") != c.ns) return false;
  return c.labels.matches(obj["metadata"].value("labels", json::object())) &&
         c.fields.matches(c.res->plural, obj);
}

std::string ApiServer::eventLine(const std::string& type, const WatchCursor& c, const json& obj) {
  json o;
  if (c.table) {
    o = renderTable(c.res->plural, {obj}, now(), c.includeObject, "", !c.columnsSent);
  } else {
    o = obj;
  }
  return json{{"type", type}, {"object", o}}.dump() + "\n";
}

std::string ApiServer::bookmarkLine(const WatchCursor& c) {
  std::lock_guard<std::mutex> l(mu_);
  return json{{"type", "BOOKMARK"},
              {"object",
               {{"kind", c.res->kind},
                {"apiVersion", c.res->apiVersion()},
                {"metadata", {{"resourceVersion", std::to_string(c.rv)}}}}}}
             .dump() +
         "\n";
}

Result<Response> ApiServer::doWatch(const Request& req, const Parsed& p) {
  auto c = std::make_shared<WatchCursor>();
  c->res = p.res;
  c->ns = p.ns;
  FLB_ASSIGN_OR_RETURN(c->labels, parseLabelSelector(q(req, "labelSelector")));
  FLB_ASSIGN_OR_RETURN(c->fields, parseFieldSelector(p.res->plural, q(req, "fieldSelector")));
  if (parseBool(q(req, "sendInitialEvents")))
    return apiError(400, "BadRequest", "sendInitialEvents is not supported by this server");
  c->bookmarks = parseBool(q(req, "allowWatchBookmarks"));
  c->table = wantsTable(req.accept);
  c->includeObject = q(req, "includeObject");
  c->timeoutSeconds = std::atoi(q(req, "timeoutSeconds").c_str());
  c->dropGen = dropGen_;
  std::string rvs = q(req, "resourceVersion");
  if (rvs.empty() || rvs == "0") {
    c->rv = store_.revision();
    for (const json* o : store_.list(p.res->plural, p.ns))
      if (matches(*c, *o)) {
        c->pending.push_back(eventLine("ADDED", *c, *o));
        c->columnsSent = true;
      }
  } else {
    c->rv = std::strtoull(rvs.c_str(), nullptr, 10);
    auto ev = store_.since(c->rv);
    if (!ev.ok()) {
      json st = statusOf(ev.error());
      if (httpCodeOf(st) != 410) return ev.error();
      c->pending.push_back(json{{"type", "ERROR"}, {"object", st}}.dump() + "\n");
      c->endAfterPending = true;
    }
  }
  Response r;
  r.contentType = c->table ? "application/json;as=Table;v=v1;g=meta.k8s.io" : "application/json";
  r.watch = c;
  return r;
}

ApiServer::WatchStep ApiServer::pollWatch(WatchCursor& c, std::chrono::milliseconds wait, std::string& out) {
  std::unique_lock<std::mutex> l(mu_);
  for (int round = 0; round < 2; ++round) {
    if (c.dropGen != dropGen_) return dropReset_ ? WatchStep::kReset : WatchStep::kEnd;
    if (!c.pending.empty()) {
      while (!c.pending.empty()) {
        out += c.pending.front();
        c.pending.pop_front();
      }
      return WatchStep::kData;
    }
    if (c.endAfterPending) return WatchStep::kEnd;
    auto ev = store_.since(c.rv);
    if (!ev.ok()) {
      out += json{{"type", "ERROR"}, {"object", statusOf(ev.error())}}.dump() + "\n";
      c.endAfterPending = true;
      return WatchStep::kData;
    }
    for (const StoreEvent* e : *ev) {
      if (e->resource != c.res->plural) continue;
      bool now = e->type != "DELETED" && matches(c, e->object);
      bool before = !e->prev.is_null() && matches(c, e->prev);
      std::string type;
      if (e->type == "ADDED" && now) type = "ADDED";
      if (e->type == "MODIFIED") type = now && before ? "MODIFIED" : now ? "ADDED" : before ? "DELETED" : "";
      if (e->type == "DELETED" && before) type = "DELETED";
      if (type.empty()) continue;
      out += eventLine(type, c, e->object);
      c.columnsSent = true;
    }
    c.rv = store_.revision();
    if (!out.empty()) return WatchStep::kData;
    if (round == 0) cv_.wait_for(l, wait);
  }
  return WatchStep::kIdle;
}

}  // namespace floatlb::kubesim
