#include "kubesim/selector.h"

#include <gtest/gtest.h>

#include "kubesim/status.h"

using namespace floatlb::kubesim;

TEST(LabelSelector, ParsesEveryOperator) {
  json labels = json::parse(R"({"app":"nginx","tier":"web","n":"5"})");
  auto ok = [&](const std::string& s) {
    auto sel = parseLabelSelector(s);
    EXPECT_TRUE(sel.ok()) << s;
    return sel.ok() && sel->matches(labels);
  };
  EXPECT_TRUE(ok(""));
  EXPECT_TRUE(ok("app=nginx"));
  EXPECT_TRUE(ok("app==nginx,tier!=db"));
  EXPECT_FALSE(ok("app!=nginx"));
  EXPECT_TRUE(ok("tier in (web, db)"));
  EXPECT_FALSE(ok("tier notin (web,db)"));
  EXPECT_TRUE(ok("app,!missing"));
  EXPECT_FALSE(ok("!app"));
  EXPECT_TRUE(ok("n>3,n<9"));
  EXPECT_TRUE(ok("kubernetes.io/service-name!=x"));
  EXPECT_FALSE(parseLabelSelector("app in web").ok());
  EXPECT_FALSE(parseLabelSelector("app=nginx,").ok());
  EXPECT_FALSE(parseLabelSelector("n>x").ok());
}

TEST(LabelSelector, FromMatchExpressions) {
  auto s = selectorFromJson(json::parse(
      R"({"matchLabels":{"a":"1"},"matchExpressions":[{"key":"b","operator":"In","values":["2"]}]})"));
  EXPECT_TRUE(s.matches(json::parse(R"({"a":"1","b":"2"})")));
  EXPECT_FALSE(s.matches(json::parse(R"({"a":"1","b":"3"})")));
  EXPECT_TRUE(selectorFromJson(json::parse(R"({"what":"nginx-test"})"))
                  .matches(json::parse(R"({"what":"nginx-test"})")));
}

TEST(FieldSelector, SupportedFieldsAndErrors) {
  json pod = json::parse(
      R"({"metadata":{"name":"nginx-test","namespace":"default"},"spec":{"nodeName":"n1"},"status":{"phase":"Running"}})");
  auto s = parseFieldSelector("pods", "metadata.name=nginx-test,spec.nodeName==n1,status.phase!=Failed");
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->matches("pods", pod));
  EXPECT_FALSE(parseFieldSelector("pods", "metadata.name=other")->matches("pods", pod));
  auto bad = parseFieldSelector("services", "spec.nodeName=x");
  ASSERT_FALSE(bad.ok());
  json st = statusOf(bad.error());
  EXPECT_EQ(st["code"], 400);
  EXPECT_EQ(st["message"], "field label not supported: spec.nodeName");
  // kubectl describe svc's event query.
  auto ev = parseFieldSelector("events",
                               "involvedObject.namespace=default,involvedObject.kind=Service,involvedObject."
                               "uid=u,involvedObject.name=nginx-lb1");
  ASSERT_TRUE(ev.ok());
  EXPECT_EQ(ev->terms.size(), 4u);
}
