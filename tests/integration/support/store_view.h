// Looks into the store of a running (or stopped) server from the test: a
// raw dump of every row, to prove that a rejected request changed nothing,
// and typed reads through the project's own Store. Each takes the server's
// store_url(): sqlite:PATH or postgresql://….
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/store.h"

namespace smacert::integration {

// Every row of every table, one string per row ("table|col=value|…"), in a
// stable order; read in one read-only transaction.
std::vector<std::string> store_rows(const std::string& store_url);
// Succeeds when both dumps hold the same rows; otherwise names the rows that
// appeared and the rows that went away.
::testing::AssertionResult same_rows(const std::vector<std::string>& before,
                                     const std::vector<std::string>& after);

// holder → device → statuses of its phone certificates, from one read-only
// snapshot (no write lock: safe to poll while the server works).
using PhoneMap = std::map<std::string, std::map<std::string, std::vector<std::string>>>;
PhoneMap phone_certificate_snapshot(const std::string& store_url);
// The device-change invariant on one snapshot: a sentence for every holder
// with active (or suspended) certificates on more than one phone.
std::vector<std::string> two_phone_violations(const PhoneMap& phones);

class StoreView {
 public:
  explicit StoreView(const std::string& store_url);
  std::vector<store::CertificateRecord> certificates_of_holder(const std::string& holder_id);
  std::vector<store::CertificateRecord> certificates_of_device(const std::string& device_id);
  std::optional<store::CertificateRecord> certificate(const std::string& serial);
  std::optional<store::DeviceRecord> device(const std::string& id);
  std::optional<store::ApplicationRecord> application(const std::string& id);
  std::vector<store::EventRecord> events(const std::string& device_id);
  std::vector<store::AuditEntry> audit();
  Status verify_audit_chain();

 private:
  std::unique_ptr<store::Transaction> begin();
  std::unique_ptr<store::Store> store_;
};

// Phone certificates that count for the one-phone invariant.
inline bool active_phone_certificate(const store::CertificateRecord& c) {
  return !c.device_id.empty() && (c.status == "active" || c.status == "suspended");
}

}  // namespace smacert::integration
