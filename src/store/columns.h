// Column lists and the readers that turn a selected row into a record, shared
// by SqliteStore and PgStore: the column order is the schema's, not the
// engine's, so it is written once, and each list stands next to its reader so
// that the order in the SELECT and the index in the reader cannot drift apart.
//
// A reader takes any row `r` with r.text(column), r.int64(column) and
// r.bytes(column) (column indexes from 0); each store adapts its own
// statement or result to that. The WHERE clauses, with each engine's
// placeholders, stay in the stores.
//
// Only src/store includes this header.
#pragma once

#include <string>
#include <string_view>

#include "store/records.h"

namespace smacert::store {

constexpr std::string_view kHolderColumns =
    "id, name, address, birth_date, sex, created_at, updated_at";
inline constexpr auto read_holder = [](const auto& r) -> HolderRecord {
  return {r.text(0),  r.text(1), r.text(2), r.text(3), static_cast<int>(r.int64(4)),
          r.int64(5), r.int64(6)};
};

constexpr std::string_view kCardColumns = "id, holder_id, status, created_at";
inline constexpr auto read_card = [](const auto& r) -> CardRecord {
  return {r.text(0), r.text(1), r.text(2), r.int64(3)};
};

constexpr std::string_view kDeviceColumns =
    "id, holder_id, platform, model, status, created_at, token_hash";
inline constexpr auto read_device = [](const auto& r) -> DeviceRecord {
  return {r.text(0), r.text(1), r.text(2), r.text(3), r.text(4), r.int64(5), r.text(6)};
};

// der comes last so that the bulk reads for CRL and OCSP can leave it out.
constexpr std::string_view kCertificateColumnsWithoutDer =
    "serial, ca, kind, holder_id, card_id, device_id, application_id, status,"
    " revocation_reason, revoked_at, not_before, not_after, issued_at, ocsp_response,"
    " ocsp_next_update, change_seq";
template <class Row>
CertificateRecord read_certificate(const Row& r, bool with_der) {
  CertificateRecord c;
  c.serial = r.text(0);
  c.ca = r.text(1);
  c.kind = r.text(2);
  c.holder_id = r.text(3);
  c.card_id = r.text(4);
  c.device_id = r.text(5);
  c.application_id = r.text(6);
  c.status = r.text(7);
  c.revocation_reason = static_cast<int>(r.int64(8));
  c.revoked_at = r.int64(9);
  c.not_before = r.int64(10);
  c.not_after = r.int64(11);
  c.issued_at = r.int64(12);
  c.ocsp_response = r.bytes(13);
  c.ocsp_next_update = r.int64(14);
  c.change_seq = r.int64(15);
  if (with_der) c.der = r.bytes(16);
  return c;
}
inline constexpr auto read_full_certificate = [](const auto& r) {
  return read_certificate(r, true);
};
inline constexpr auto read_light_certificate = [](const auto& r) {
  return read_certificate(r, false);
};
// "SELECT <certificate columns>[, der] FROM certificates <where>".
inline std::string select_certificates(std::string_view where, bool with_der) {
  std::string sql = "SELECT ";
  sql += kCertificateColumnsWithoutDer;
  if (with_der) sql += ", der";
  sql += " FROM certificates ";
  sql += where;
  return sql;
}

constexpr std::string_view kApplicationColumns =
    "id, kind, holder_id, device_id, status, idempotency_key, request_hash, payload,"
    " created_at, ready_at, updated_at";
inline constexpr auto read_application = [](const auto& r) {
  ApplicationRecord a;
  a.id = r.text(0);
  a.kind = r.text(1);
  a.holder_id = r.text(2);
  a.device_id = r.text(3);
  a.status = r.text(4);
  a.idempotency_key = r.text(5);
  a.request_hash = r.text(6);
  a.payload = r.text(7);
  a.created_at = r.int64(8);
  a.ready_at = r.int64(9);
  a.updated_at = r.int64(10);
  return a;
};
// "SELECT <application columns> FROM applications <where>".
inline std::string select_applications(std::string_view where) {
  return "SELECT " + std::string(kApplicationColumns) + " FROM applications " + std::string(where);
}

constexpr std::string_view kChallengeColumns = "nonce, purpose, subject, expires_at, used_at";
inline constexpr auto read_challenge = [](const auto& r) -> ChallengeRecord {
  return {r.text(0), r.text(1), r.text(2), r.int64(3), r.int64(4)};
};

constexpr std::string_view kEventColumns = "seq, device_id, type, payload, created_at, acked_at";
inline constexpr auto read_event = [](const auto& r) -> EventRecord {
  return {r.int64(0), r.text(1), r.text(2), r.text(3), r.int64(4), r.int64(5)};
};

constexpr std::string_view kAuditColumns =
    "seq, at, actor, action, subject, details, prev_hash, hash";
inline constexpr auto read_audit = [](const auto& r) -> AuditEntry {
  return {r.int64(0), r.int64(1), r.text(2), r.text(3), r.text(4), r.text(5), r.text(6), r.text(7)};
};

}  // namespace smacert::store
