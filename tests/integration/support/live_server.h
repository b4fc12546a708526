// One real server per test suite (window "always", --test-clock), for the
// endpoint and rejection tests; each test makes its own holders and phones.
#pragma once

#include <gtest/gtest.h>

#include <memory>

#include "integration/support/actors.h"
#include "integration/support/api.h"
#include "integration/support/server_process.h"
#include "integration/support/store_view.h"
#include "support/temp_dir.h"

namespace smacert::integration {

class LiveServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<smacert::testing::TempDir>("it-live");
    ServerOptions o;
    o.test_clock = true;
    server_ = std::make_unique<ServerProcess>(dir_->path() / "data", o);
    auto started = server_->start();
    if (!started) {
      ADD_FAILURE() << started.message();
      server_.reset();
    }
  }
  static void TearDownTestSuite() {
    if (server_) {
      EXPECT_EQ(server_->terminate(), 0) << "SIGTERM must end the server with 0";
    }
    server_.reset();
    dir_.reset();
  }
  void SetUp() override {
    ASSERT_TRUE(server_) << "the server did not start";
    api_ = std::make_unique<Api>(server_->url(), server_->admin_token());
  }

  ServerProcess& server() { return *server_; }
  Api& api() { return *api_; }
  std::vector<std::string> rows() { return store_rows(server_->store_url()); }
  StoreView view() { return StoreView(server_->store_url()); }

  static inline std::unique_ptr<smacert::testing::TempDir> dir_;
  static inline std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<Api> api_;
};

}  // namespace smacert::integration
