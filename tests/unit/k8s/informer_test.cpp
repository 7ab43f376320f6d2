#include "k8s/informer.h"

#include <gtest/gtest.h>

#include "k8s/watch_decoder.h"

namespace floatlb::k8s {
namespace {

Json svc(const std::string& name, const std::string& rv) {
  return {{"metadata", {{"name", name}, {"namespace", "default"}, {"resourceVersion", rv}}}};
}
Json list(std::vector<Json> items, const std::string& rv, const std::string& cont = "") {
  Json l = {{"kind", "ServiceList"}, {"metadata", {{"resourceVersion", rv}}}, {"items", items}};
  if (!cont.empty()) l["metadata"]["continue"] = cont;
  return l;
}
WatchEvent ev(const std::string& line) { return *parseWatchEvent(line); }

TEST(WatchDecoder, EventsSplitAcrossChunks) {
  WatchDecoder d;
  std::vector<WatchEvent> out;
  std::string a = R"({"type":"ADDED","object":{"metadata":{"name":"a","resourceVersion":"5"}}})";
  std::string b = R"({"type":"BOOKMARK","object":{"kind":"Service","metadata":{"resourceVersion":"9"}}})";
  std::string all = a + "\n" + b + "\n";
  for (size_t i = 0; i < all.size(); i += 7) ASSERT_TRUE(d.feed(all.substr(i, 7), out).ok());
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].type, EventType::kAdded);
  EXPECT_EQ(out[1].type, EventType::kBookmark);
  EXPECT_EQ(d.buffered(), 0u);
  EXPECT_FALSE(d.feed("{\"type\":\"NOPE\",\"object\":{}}\n", out).ok());
  WatchDecoder small(16);
  EXPECT_FALSE(small.feed(std::string(40, 'x'), out).ok());  // cap per event
}

TEST(Reflector, ListThenWatchFromTheListRvWithBookmarks) {
  FakeClock clock;
  Reflector r(clock);
  auto req = r.next();
  ASSERT_EQ(req.kind, InformerRequest::kList);
  EXPECT_EQ(req.query(), "limit=500&resourceVersion=0");
  std::vector<Delta> out;
  r.onList(200, list({svc("a", "10")}, "20", "tok1"), out);
  EXPECT_TRUE(out.empty());  // first page: nothing delivered before the list completes
  req = r.next();
  EXPECT_EQ(req.query(), "limit=500&continue=tok1");
  r.onList(200, list({svc("b", "11")}, "20"), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_TRUE(r.synced());
  req = r.next();
  ASSERT_EQ(req.kind, InformerRequest::kWatch);
  EXPECT_EQ(req.resource_version, "20");
  EXPECT_GE(req.timeout_seconds, 300);
  EXPECT_LE(req.timeout_seconds, 600);
  EXPECT_NE(req.query().find("allowWatchBookmarks=true"), std::string::npos);
  out.clear();
  r.onWatchEvent(ev(R"({"type":"BOOKMARK","object":{"kind":"Service","metadata":{"resourceVersion":"33"}}})"),
                 out);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(r.resourceVersion(), "33");
  r.onWatchEvent(
      ev(R"({"type":"DELETED","object":{"metadata":{"name":"a","namespace":"default","resourceVersion":"34"}}})"),
      out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].kind, Delta::kDelete);
  EXPECT_EQ(out[0].key, "default/a");
}

TEST(Reflector, CleanEndOrResetRewatchesWithoutRelist) {
  FakeClock clock;
  Reflector r(clock);
  std::vector<Delta> out;
  r.next();
  r.onList(200, list({svc("a", "10")}, "20"), out);
  r.next();
  clock.advance(std::chrono::seconds(5));
  r.onWatchEvent(
      ev(R"({"type":"MODIFIED","object":{"metadata":{"name":"a","namespace":"default","resourceVersion":"25"}}})"),
      out);
  r.onWatchEnd(WatchEnd::kReset);
  auto req = r.next();
  ASSERT_EQ(req.kind, InformerRequest::kWatch);
  EXPECT_EQ(req.resource_version, "25");
  clock.advance(std::chrono::seconds(400));
  r.onWatchEnd(WatchEnd::kClean);
  req = r.next();
  ASSERT_EQ(req.kind, InformerRequest::kWatch);
  EXPECT_EQ(r.lists(), 1);
}

TEST(Reflector, Gone410RelistsConsistentlyAndSynthesisesDeletes) {
  FakeClock clock;
  Reflector r(clock);
  std::vector<Delta> out;
  r.next();
  r.onList(200, list({svc("a", "10"), svc("b", "11"), svc("c", "12")}, "20"), out);
  r.next();
  out.clear();
  r.onWatchEvent(ev(R"({"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired",)"
                    R"x("message":"too old resource version: 20 (2000)"}})x"),
                 out);
  r.onWatchEnd(WatchEnd::kClean);
  auto req = r.next();
  ASSERT_EQ(req.kind, InformerRequest::kList);
  EXPECT_EQ(req.resource_version, "");  // consistent read
  // Meanwhile b was deleted and c changed.
  r.onList(200, list({svc("a", "10"), svc("c", "2100")}, "2200"), out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].kind, Delta::kDelete);
  EXPECT_EQ(out[0].key, "default/b");
  EXPECT_EQ(out[1].kind, Delta::kUpsert);
  EXPECT_EQ(out[1].key, "default/c");  // unchanged a is not re-delivered
  EXPECT_EQ(r.lists(), 2);
  // HTTP 410 on the watch request itself: relist too.
  r.next();
  r.onWatchEnd(WatchEnd::kClean, 410);
  EXPECT_EQ(r.next().kind, InformerRequest::kList);
}

TEST(Reflector, TooLargeRvRetriesThenRelistsAndOtherErrorsBackOff) {
  FakeClock clock;
  Reflector r(clock);
  std::vector<Delta> out;
  r.next();
  r.onList(200, list({}, "20"), out);
  for (int i = 0; i < 2; ++i) {
    r.next();
    r.onWatchEnd(WatchEnd::kClean, 504);
    auto w = r.next();
    ASSERT_EQ(w.kind, InformerRequest::kWait);
    clock.advance(std::chrono::seconds(1));
  }
  r.next();
  r.onWatchEnd(WatchEnd::kClean, 504);
  EXPECT_EQ(r.next().kind, InformerRequest::kList);
  r.onList(500, Json(), out);
  auto w = r.next();
  ASSERT_EQ(w.kind, InformerRequest::kWait);
  Duration first = w.until - clock.now();
  EXPECT_GE(first, std::chrono::milliseconds(800));
  EXPECT_LE(first, std::chrono::milliseconds(1000));
  clock.advance(first);
  ASSERT_EQ(r.next().kind, InformerRequest::kList);
  r.onList(503, Json(), out);
  w = r.next();
  EXPECT_GE(w.until - clock.now(), std::chrono::milliseconds(1600));  // doubled
  for (int i = 0; i < 10; ++i) {
    clock.advance(w.until - clock.now());
    r.next();
    r.onList(503, Json(), out);
    w = r.next();
  }
  EXPECT_LE(w.until - clock.now(), std::chrono::milliseconds(37500));  // capped at 30 s + jitter
}

TEST(Reflector, AWatchThatEndsAtOnceIsAFailureNotASpin) {
  FakeClock clock;
  Reflector r(clock);
  std::vector<Delta> out;
  r.next();
  r.onList(200, list({}, "20"), out);
  r.next();
  r.onWatchEnd(WatchEnd::kClean);
  EXPECT_EQ(r.next().kind, InformerRequest::kWait);
}

}  // namespace
}  // namespace floatlb::k8s
