// Routing, error shapes and the Errc → HTTP status mapping.
#include "http/router.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "http/client.h"
#include "http/error_status.h"
#include "test_server.h"

namespace smacert::http {
namespace {

Request make_request(std::string method, std::string target) {
  Request r;
  r.method = std::move(method);
  r.target = std::move(target);
  return r;
}

Handler named(std::string name) {
  return [name](Request& req) {
    nlohmann::json params = nlohmann::json::object();
    for (const auto& [k, v] : req.params) params[k] = v;
    return json_response(200, {{"route", name}, {"params", params}});
  };
}

nlohmann::json body_of(const Response& r) {
  return nlohmann::json::parse(std::get<std::string>(r.body));
}

Router sample_router() {
  Router r;
  r.add("GET", "/v1/applications/{id}", "application", named("application"));
  r.add("POST", "/v1/applications/{id}/registration", "registration", named("registration"));
  r.add("GET", "/v1/applications/{id}/registration", "registration_status",
        named("registration_status"));
  r.add("GET", "/ocsp/{ca}/{request}", "ocsp_get", named("ocsp_get"));
  r.add("GET", "/v1/applications/new", "new_form", named("new_form"));
  r.add("GET", "/", "root", named("root"));
  return r;
}

TEST(Router, CapturesParametersBySegment) {
  const auto router = sample_router();
  auto req = make_request("POST", "/v1/applications/app-42/registration");
  const auto res = router.dispatch(req);
  EXPECT_EQ(res.status, 200);
  EXPECT_EQ(body_of(res)["route"], "registration");
  EXPECT_EQ(req.param("id"), "app-42");
  EXPECT_EQ(req.param("missing"), "");
}

TEST(Router, DecodesEachSegmentSoAnEncodedSlashStaysInItsParameter) {
  const auto router = sample_router();
  auto req = make_request("GET", "/ocsp/sign/MEow%2FAB%2B%3D%3D");
  const auto res = router.dispatch(req);
  EXPECT_EQ(body_of(res)["route"], "ocsp_get");
  EXPECT_EQ(req.param("ca"), "sign");
  EXPECT_EQ(req.param("request"), "MEow/AB+==");
}

TEST(Router, LiteralSegmentWinsOverCaptureWhateverTheOrder) {
  const auto router = sample_router();
  auto req = make_request("GET", "/v1/applications/new");
  EXPECT_EQ(body_of(router.dispatch(req))["route"], "new_form");
  auto other = make_request("GET", "/v1/applications/x1");
  EXPECT_EQ(body_of(router.dispatch(other))["route"], "application");
}

TEST(Router, RootAndQueryAreMatchedOnThePathOnly) {
  const auto router = sample_router();
  auto req = make_request("GET", "/?x=1");
  EXPECT_EQ(body_of(router.dispatch(req))["route"], "root");
}

TEST(Router, UnknownPathIs404WithJsonErrorShape) {
  const auto router = sample_router();
  for (const char* target : {"/nope", "/v1/applications", "/v1/applications/1/registration/extra",
                             "/v1/applications//registration", "/v1/applications/1/"}) {
    auto req = make_request("GET", target);
    const auto res = router.dispatch(req);
    EXPECT_EQ(res.status, 404) << target;
    EXPECT_EQ(res.content_type, "application/json");
    const auto body = body_of(res);
    EXPECT_EQ(body["error"], "not_found");
    EXPECT_TRUE(body["message"].is_string());
    EXPECT_EQ(body.size(), 2u);
  }
}

TEST(Router, WrongMethodIs405WithAllow) {
  const auto router = sample_router();
  auto req = make_request("DELETE", "/v1/applications/7/registration");
  const auto res = router.dispatch(req);
  EXPECT_EQ(res.status, 405);
  EXPECT_EQ(res.headers.get("allow"), "POST, GET");
  EXPECT_EQ(body_of(res)["error"], "method_not_allowed");
}

TEST(Router, BadPercentEscapeIs400) {
  const auto router = sample_router();
  auto req = make_request("GET", "/ocsp/sign/%zz");
  EXPECT_EQ(router.dispatch(req).status, 400);
}

TEST(Router, BadPatternsAndDuplicatesAreReportedAtStartup) {
  Router dup;
  dup.add("GET", "/a/{x}", "one", named("one")).add("GET", "/a/{y}", "two", named("two"));
  ASSERT_FALSE(dup.check());
  EXPECT_EQ(dup.check().error().code, Errc::conflict);

  Router bad;
  bad.add("GET", "/a/{}", "bad", named("bad"));
  EXPECT_EQ(bad.check().error().code, Errc::invalid_argument);
  Router relative;
  relative.add("GET", "a/b", "bad", named("bad"));
  EXPECT_FALSE(relative.check());

  auto server = Server::start(std::move(dup));
  ASSERT_FALSE(server);
  EXPECT_EQ(server.error().code, Errc::conflict);
}

TEST(Router, SameAnswersOverTheWire) {
  auto server = testing::start_server(sample_router());
  ASSERT_TRUE(server);
  Client client;
  auto found = client.get(server->url() + "/v1/applications/a%20b");
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(found->status, 200);
  EXPECT_EQ(nlohmann::json::parse(found->body)["params"]["id"], "a b");

  auto missing = client.get(server->url() + "/missing");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(missing->header("content-type"), "application/json");
  EXPECT_EQ(nlohmann::json::parse(missing->body)["error"], "not_found");

  auto wrong = client.request("PUT", server->url() + "/v1/applications/1/registration");
  ASSERT_TRUE(wrong);
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->header("Allow"), "POST, GET");
}

TEST(ErrorStatus, EveryErrcHasItsStatus) {
  const std::pair<Errc, int> table[] = {
      {Errc::invalid_argument, 400},
      {Errc::malformed, 400},
      {Errc::too_large, 413},
      {Errc::not_found, 404},
      {Errc::conflict, 409},
      {Errc::unauthorized, 401},
      {Errc::forbidden, 403},
      {Errc::locked, 423},
      {Errc::policy, 422},
      {Errc::verification, 422},
      {Errc::expired, 410},
      {Errc::unavailable, 503},
      {Errc::io, 500},
      {Errc::crypto, 500},
      {Errc::internal, 500},
  };
  for (const auto& [code, status] : table) {
    EXPECT_EQ(to_http_status(code), status) << errc_name(code);
  }
}

TEST(ErrorStatus, ErrorResponseCarriesCodeAndMessage) {
  const auto res = error_response(Error{Errc::locked, "The signature password is blocked."});
  EXPECT_EQ(res.status, 423);
  const auto body = body_of(res);
  EXPECT_EQ(body["error"], "locked");
  EXPECT_EQ(body["message"], "The signature password is blocked.");
}

TEST(ErrorStatus, InternalErrorsDoNotLeakTheirText) {
  const auto res = error_response(Error{Errc::crypto, "EVP_DigestSign failed at /srv/ca/key.pem"});
  EXPECT_EQ(res.status, 500);
  const auto text = std::get<std::string>(res.body);
  EXPECT_EQ(text.find("/srv/ca"), std::string::npos);
  EXPECT_EQ(body_of(res)["error"], "crypto");
}

TEST(ErrorStatus, ClientSideMappingRoundTripsTheDistinctCodes) {
  for (auto code :
       {Errc::invalid_argument, Errc::too_large, Errc::not_found, Errc::conflict,
        Errc::unauthorized, Errc::forbidden, Errc::locked, Errc::expired, Errc::unavailable}) {
    EXPECT_EQ(errc_from_http_status(to_http_status(code)), code) << errc_name(code);
  }
}

}  // namespace
}  // namespace smacert::http
