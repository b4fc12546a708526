#include "service/service.h"

#include <malloc.h>

#include <cstdio>

#include "core/encoding.h"
#include "protocol/canonical.h"

namespace smacert::service {

using store::CertificateRecord;
using store::Transaction;

Service::Service(store::Store& store, const pki::Authorities& authorities, pki::OcspResponder& ocsp,
                 EventSigner& events, const Clock& clock, Random& random, ServiceConfig config)
    : store_(store),
      authorities_(authorities),
      ocsp_(ocsp),
      events_(events),
      clock_(clock),
      random_(random),
      config_(std::move(config)),
      session_key_(config_.session_key.empty() ? random_.bytes(32) : config_.session_key),
      signers_(usable_cores() + 1) {}

std::string Service::new_id(std::string_view prefix) {
  return std::string(prefix) + "-" + hex_encode(random_.bytes(12));
}

std::string Service::new_ordered_id(std::string_view prefix) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(clock_.now().time_since_epoch())
          .count();
  char time_hex[13];  // 48 bits of milliseconds: until the year 10889
  std::snprintf(time_hex, sizeof time_hex, "%012llx",
                static_cast<unsigned long long>(ms) & 0xffff'ffff'ffffULL);
  return std::string(prefix) + "-" + time_hex + hex_encode(random_.bytes(6));
}

Result<std::unique_ptr<Transaction>> Service::begin() {
  auto tx = store_.begin();
  if (!tx) return fail(tx.error().context("opening a store transaction"));
  return tx;
}

namespace {

// The in-memory OCSP answer for a stored row (load_ocsp, follow_store).
// Takes the record by value: a caller that is done with it moves it in, and
// the response bytes move into the entry instead of being copied.
std::shared_ptr<const pki::OcspEntry> ocsp_entry_of(CertificateRecord r) {
  pki::CertStatus st = pki::Good{};
  if (r.status == "revoked" || r.status == "suspended") {
    auto reason = pki::reason_from_code(r.revocation_reason < 0 ? 0 : r.revocation_reason);
    st = pki::Revoked{from_unix(r.revoked_at),
                      reason ? *reason : pki::RevocationReason::unspecified};
  }
  return std::make_shared<const pki::OcspEntry>(
      pki::OcspEntry{std::move(r.ocsp_response), st, from_unix(r.ocsp_next_update)});
}

constexpr int kFollowPage = 1000;
// Re-signed OCSP answers written per transaction: one fsync for many, and
// short enough (tens of ms) that device changes queued behind it barely wait.
constexpr std::size_t kRefreshPerTransaction = 500;

}  // namespace

Status Service::commit(std::unique_ptr<Transaction>& tx, Effects& fx) {
  // Effects reach memory in commit order. Transactions that commit together
  // (SQLite's group commit) return together, and the answers of the one
  // committed later must not be overwritten by the earlier one's. The
  // ticket is taken while this transaction still holds the store's writer.
  const std::uint64_t ticket = effects_ticket_.fetch_add(1);
  auto committed = tx->commit();
  std::unique_lock lock(effects_mutex_);
  effects_turn_.wait(lock, [&] { return effects_applied_ == ticket; });
  struct Next {
    Service& s;
    ~Next() {
      ++s.effects_applied_;
      s.effects_turn_.notify_all();
    }
  } next{*this};
  SMACERT_TRY_STATUS(committed);
  stats_.issued += fx.issued;
  stats_.revoked += fx.revoked;
  stats_.suspended += fx.suspended;
  stats_.resumed += fx.resumed;
  stats_.signed_ahead_used += fx.signed_ahead;
  // A node that shares its store with others takes every change, its own
  // included, from the store in commit order, so that a change another node
  // committed just after this one is never overwritten in memory by this
  // one. If the store cannot be read right now, the node's own effects are
  // put directly and the follower catches up later.
  if (following_ && follow_store()) return {};
  remember(fx);
  return {};
}

void Service::remember(Effects& fx) {
  // The store is the truth; memory follows it right after the commit.
  for (auto& [ca, serial, entry] : fx.ocsp) ocsp_.put(ca, serial, entry);
  {
    std::lock_guard lock(crl_mutex_);
    for (const auto& c : fx.crl) {
      auto& cache = crl_cache_[c.ca == pki::CaKind::sign ? 0 : 1];
      cache.stale = true;
      if (!cache.builder) continue;  // loaded from the store when first needed
      if (!c.entry)
        cache.builder->remove(c.serial);
      else if (!cache.builder->set(*c.entry))
        cache.builder.reset();  // cannot happen for a stored serial; reload to be sure
    }
  }
  if (notify_)
    for (const auto& d : fx.devices) notify_(d);
}

Result<std::size_t> Service::follow_store() {
  std::lock_guard lock(follow_mutex_);
  // The first call only catches up with what load_ocsp() may have missed;
  // CRLs are loaded on first use and push streams read on connect.
  const bool baseline = !following_;
  auto tx = begin();
  if (!tx) return fail(tx.error().context("following the store"));
  Effects fx;
  std::size_t changes = 0;
  for (;;) {
    auto rows = (*tx)->certificate_changes(seen_certificate_change_, kFollowPage);
    if (!rows) return fail(rows.error().context("following the store"));
    for (const auto& r : *rows) {
      seen_certificate_change_ = r.change_seq;
      ++changes;
      auto ca = pki::parse_ca_kind(r.ca);
      auto serial = pki::serial_bytes(r.serial);
      if (!ca || !serial || r.ocsp_response.empty()) continue;
      auto entry = ocsp_entry_of(r);
      fx.ocsp.emplace_back(*ca, *serial, entry);
      if (baseline) continue;
      if (auto* revoked = std::get_if<pki::Revoked>(&entry->status))
        fx.crl.push_back({*ca, r.serial, pki::CrlEntry{r.serial, revoked->at, revoked->reason}});
      else
        fx.crl.push_back({*ca, r.serial, std::nullopt});
    }
    if (rows->size() < static_cast<std::size_t>(kFollowPage)) break;
  }
  for (;;) {
    auto events = (*tx)->events_since(seen_event_, kFollowPage);
    if (!events) return fail(events.error().context("following the store"));
    for (const auto& e : *events) {
      seen_event_ = e.seq;
      if (!baseline) fx.devices.insert(e.device_id);
    }
    if (events->size() < static_cast<std::size_t>(kFollowPage)) break;
  }
  tx->reset();
  remember(fx);
  following_ = true;
  return changes;
}

Status Service::audit_in(Transaction& tx, const std::string& actor, const std::string& action,
                         const std::string& subject, const nlohmann::json& details) {
  store::AuditEntry e;
  e.at = to_unix(clock_.now());
  e.actor = actor;
  e.action = action;
  e.subject = subject;
  e.details = details.dump();
  auto r = tx.append_audit(e);
  if (!r) return fail(r.error().context("writing the audit log"));
  return {};
}

Status Service::event_in(Transaction& tx, Effects& fx, const std::string& device_id,
                         const std::string& type, nlohmann::json data) {
  data["event_id"] = new_id("ev");
  data["issued_at"] = to_rfc3339(clock_.now());
  std::string data_json = data.dump();
  auto sig = events_.sign(protocol::event_bytes(device_id, type, data_json));
  if (!sig) return fail(sig.error().context("signing a push event"));
  nlohmann::json payload{{"type", type},
                         {"device", device_id},
                         {"data", data_json},
                         {"signature", base64_encode(*sig)}};
  store::EventRecord e;
  e.device_id = device_id;
  e.type = type;
  e.payload = payload.dump();
  e.created_at = to_unix(clock_.now());
  auto seq = tx.enqueue_event(e);
  if (!seq) return fail(seq.error().context("queueing a push event"));
  fx.devices.insert(device_id);
  return {};
}

Result<IssuedCertificate> Service::issue_in(Transaction& tx, Effects& fx, const IssueSpec& spec,
                                            const std::string& actor,
                                            const Presigned::Certificate* ahead) {
  pki::CaKind ca_kind = pki::ca_of(spec.kind);
  const auto& ca = authorities_.of(ca_kind);
  auto now = clock_.now();
  // A certificate signed ahead is taken only if it was made for what is
  // asked now; one that is not taken never leaves the process.
  if (ahead != nullptr && (ahead->facts != spec.facts || ahead->not_after != spec.not_after))
    ahead = nullptr;
  auto record = [&](const std::string& serial) {
    CertificateRecord rec;
    rec.serial = serial;
    rec.ca = std::string(pki::ca_kind_name(ca_kind));
    rec.kind = std::string(pki::certificate_kind_name(spec.kind));
    rec.holder_id = spec.holder_id;
    rec.card_id = spec.card_id;
    rec.device_id = spec.device_id;
    rec.application_id = spec.application_id;
    rec.status = "pending";
    rec.issued_at = to_unix(now);
    return rec;
  };
  CertificateRecord rec;
  std::shared_ptr<const pki::OcspEntry> entry;
  if (ahead != nullptr) {
    // Signed before the transaction: its row goes in whole, unless its
    // serial was taken meanwhile (then it is dropped and signed afresh).
    rec = record(ahead->serial);
    rec.der = ahead->der;
    rec.not_before = to_unix(ahead->not_before);
    rec.not_after = to_unix(ahead->not_after);
    rec.status = "active";
    rec.ocsp_response = ahead->ocsp->response;
    rec.ocsp_next_update = to_unix(ahead->ocsp->next_update);
    if (auto inserted = tx.insert_issued(rec); inserted) {
      entry = ahead->ocsp;
      ++fx.signed_ahead;
    } else if (inserted.error().code != Errc::conflict) {
      return fail(inserted.error());
    }
  }
  if (!entry) {
    // Step 1: reserve the serial in the store before the certificate is
    // signed, so a serial can never be issued twice (the table's key refuses
    // a repeat).
    for (int attempt = 0;; ++attempt) {
      rec = record(pki::random_serial(random_));
      auto reserved = tx.reserve_serial(rec);
      if (reserved) break;
      if (reserved.error().code != Errc::conflict || attempt == 3)
        return fail(reserved.error().context("reserving a serial"));
    }
    auto serial_bytes = pki::serial_bytes(rec.serial);
    if (!serial_bytes) return fail(serial_bytes.error());
    // Step 2: the CA checks the request and signs.
    pki::IssueRequest request{.kind = spec.kind,
                              .csr = spec.csr,
                              .subject_id = new_id(pki::is_phone(spec.kind) ? "P" : "C"),
                              .facts = spec.facts,
                              .serial = rec.serial,
                              .not_before = now,
                              .not_after = spec.not_after,
                              .not_after_limit = spec.not_after_limit};
    auto cert = ca.issue(request);
    if (!cert) return fail(cert.error());
    // Step 3: its OCSP answer, signed now, stored with it.
    auto signed_entry = ocsp_.sign_entry(ca_kind, *serial_bytes, pki::Good{});
    if (!signed_entry) return fail(signed_entry.error());
    entry = std::move(*signed_entry);
    rec.der = std::move(*cert);
    rec.not_before = to_unix(request.not_before);
    rec.not_after = to_unix(request.not_after);
    rec.status = "active";
    rec.ocsp_response = entry->response;
    rec.ocsp_next_update = to_unix(entry->next_update);
    SMACERT_TRY_STATUS(tx.store_issued(rec));
  }
  auto serial_bytes = pki::serial_bytes(rec.serial);
  if (!serial_bytes) return fail(serial_bytes.error());
  SMACERT_TRY_STATUS(audit_in(tx, actor, "certificate.issue", rec.serial,
                              {{"kind", rec.kind},
                               {"holder", rec.holder_id},
                               {"card", rec.card_id},
                               {"device", rec.device_id},
                               {"application", rec.application_id},
                               {"not_after", to_rfc3339(from_unix(rec.not_after))}}));
  fx.ocsp.emplace_back(ca_kind, *serial_bytes, entry);
  ++fx.issued;
  return IssuedCertificate{rec.kind, rec.serial, rec.der, from_unix(rec.not_after)};
}

Status Service::set_status_in(Transaction& tx, Effects& fx, const CertificateRecord& cert,
                              const std::string& status, pki::RevocationReason reason,
                              const std::string& actor, const std::string& action,
                              std::shared_ptr<const pki::OcspEntry> ahead, TellPhone tell) {
  auto ca_kind = pki::parse_ca_kind(cert.ca);
  if (!ca_kind) return fail(Errc::internal, "certificate " + cert.serial + " names an unknown CA");
  auto serial_bytes = pki::serial_bytes(cert.serial);
  if (!serial_bytes) return fail(serial_bytes.error());
  // The holder's lock first (one decision about a holder at a time, store.h).
  // On a shared store another node may have changed the certificate since
  // `cert` was read, and a status must never be written over one the caller
  // did not see (a suspension over a revocation would bring a superseded
  // phone back): the store writes it only over cert.status (Errc::conflict).
  if (!cert.holder_id.empty()) SMACERT_TRY_STATUS(tx.lock_holder(cert.holder_id));
  auto now = from_unix(to_unix(clock_.now()));
  const auto* ahead_revoked = ahead ? std::get_if<pki::Revoked>(&ahead->status) : nullptr;
  if (status != "revoked" || ahead_revoked == nullptr || ahead_revoked->reason != reason)
    ahead = nullptr;
  else
    now = ahead_revoked->at;  // signed a moment ago, and the store says the same time
  pki::CertStatus st = pki::Good{};
  int reason_code = -1;
  long long at = 0;
  if (status == "revoked" || status == "suspended") {
    st = pki::Revoked{now, reason};
    reason_code = static_cast<int>(reason);
    at = to_unix(now);
  }
  // The new status and its new OCSP answer in the same transaction, so the
  // responder and the store never disagree.
  std::shared_ptr<const pki::OcspEntry> entry = std::move(ahead);
  if (entry) ++fx.signed_ahead;
  if (!entry) {
    auto signed_entry = ocsp_.sign_entry(*ca_kind, *serial_bytes, st);
    if (!signed_entry) return fail(signed_entry.error());
    entry = std::move(*signed_entry);
  }
  SMACERT_TRY_STATUS(tx.set_certificate_status(cert.serial, cert.status, status, reason_code, at,
                                               entry->response, to_unix(entry->next_update)));
  nlohmann::json details{{"kind", cert.kind}, {"holder", cert.holder_id}, {"from", cert.status}};
  if (reason_code >= 0) details["reason"] = std::string(pki::reason_name(reason));
  SMACERT_TRY_STATUS(audit_in(tx, actor, action, cert.serial, details));
  fx.ocsp.emplace_back(*ca_kind, *serial_bytes, entry);
  if (reason_code >= 0)
    fx.crl.push_back({*ca_kind, cert.serial, pki::CrlEntry{cert.serial, now, reason}});
  else
    fx.crl.push_back({*ca_kind, cert.serial, std::nullopt});
  if (status == "revoked")
    ++fx.revoked;
  else if (status == "suspended")
    ++fx.suspended;
  else
    ++fx.resumed;
  if (!cert.device_id.empty() && tell == TellPhone::yes) {
    std::string type = status == "active" ? "resumed" : status;  // "revoked" | "suspended"
    nlohmann::json data{{"serial", cert.serial}, {"kind", cert.kind}};
    if (reason_code >= 0) data["reason"] = std::string(pki::reason_name(reason));
    SMACERT_TRY_STATUS(event_in(tx, fx, cert.device_id, type, data));
  }
  return {};
}

Result<pki::HolderFacts> Service::facts_of(Transaction& tx, const std::string& holder_id) {
  auto h = tx.find_holder(holder_id);
  if (!h) return fail(h.error());
  if (!*h) return fail(Errc::not_found, "no holder " + holder_id);
  pki::HolderFacts f;
  f.name = (*h)->name;
  f.address = (*h)->address;
  f.birth_date = (*h)->birth_date;
  f.sex = pki::jpki_sex_code((*h)->sex);
  return f;
}

Result<store::CertificateRecord> Service::registered(store::Transaction& tx,
                                                     const pki::PresentedCertificate& presented,
                                                     std::string_view what, TimePoint now) {
  auto rec = tx.find_certificate(presented.serial());
  if (!rec) return fail(rec.error());
  if (!*rec || (*rec)->der != presented.der())
    return fail(Errc::verification, std::string(what) + " is not one the smacert CAs issued");
  if (now < from_unix((*rec)->not_before) || now > from_unix((*rec)->not_after))
    return fail(Errc::verification, std::string(what) + " is valid only from " +
                                        to_rfc3339(from_unix((*rec)->not_before)) + " to " +
                                        to_rfc3339(from_unix((*rec)->not_after)));
  return std::move(**rec);
}

Result<std::size_t> Service::load_ocsp() {
  auto tx = begin();
  if (!tx) return fail(tx.error());
  std::size_t n = 0;
  auto install = [&](CertificateRecord& r, pki::CaKind kind) {
    auto serial = pki::serial_bytes(r.serial);
    if (!serial || r.ocsp_response.empty()) return;
    ocsp_.put(kind, *serial, *ocsp_entry_of(std::move(r)));
    ++n;
  };
  // In pages of kLoadPage rows in change order (one read transaction), so a
  // store of millions is never held in memory as rows. A store with rows
  // from before change numbers (change_seq 0, which cannot be paged by it)
  // is read at once, per CA.
  auto oldest = (*tx)->certificate_changes(-1, 1);
  if (!oldest) return fail(oldest.error());
  if (!oldest->empty() && oldest->front().change_seq == 0) {
    for (auto kind : {pki::CaKind::sign, pki::CaKind::auth}) {
      auto rows = (*tx)->ocsp_responses(std::string(pki::ca_kind_name(kind)));
      if (!rows) return fail(rows.error());
      for (auto& r : *rows) install(r, kind);
    }
    malloc_trim(0);  // hand the rows' pages back (glibc keeps them otherwise)
    return n;
  }
  constexpr int kLoadPage = 10000;
  std::int64_t after = 0;
  for (;;) {
    auto rows = (*tx)->certificate_changes(after, kLoadPage);
    if (!rows) return fail(rows.error());
    for (auto& r : *rows) {
      after = r.change_seq;
      if (auto kind = pki::parse_ca_kind(r.ca)) install(r, *kind);
    }
    if (rows->size() < static_cast<std::size_t>(kLoadPage)) break;
  }
  // Followers of a shared store start after what was loaded here.
  std::lock_guard lock(follow_mutex_);
  seen_certificate_change_ = std::max(seen_certificate_change_, after);
  return n;
}

Result<std::size_t> Service::refresh_ocsp() {
  // Re-sign when less than half the validity is left, so a responder that
  // misses a round still never serves a stale answer.
  auto refreshed = ocsp_.refresh(
      std::chrono::duration_cast<Seconds>(authorities_.sign->config().ocsp_validity / 2));
  if (refreshed.empty()) return std::size_t{0};
  // Written in transactions of up to kRefreshPerTransaction answers (one
  // COMMIT, one fsync each). Each is checked against the store under its
  // holder's lock, because on a shared store another node may have revoked
  // the certificate since this node's memory was last brought up to date;
  // the holders are locked in one order (sorted), before any write, as
  // store.h asks of every transaction that takes several.
  for (std::size_t from = 0; from < refreshed.size(); from += kRefreshPerTransaction) {
    const std::size_t to = std::min(refreshed.size(), from + kRefreshPerTransaction);
    auto tx = begin();
    if (!tx) return fail(tx.error());
    std::set<std::string> holders;
    for (std::size_t i = from; i < to; ++i) {
      auto found = (*tx)->find_certificate(refreshed[i].serial_hex);
      if (!found) return fail(found.error());
      if (*found && !(*found)->holder_id.empty()) holders.insert((*found)->holder_id);
    }
    for (const auto& h : holders) SMACERT_TRY_STATUS((*tx)->lock_holder(h));
    for (std::size_t i = from; i < to; ++i) {
      const auto& r = refreshed[i];
      auto found = (*tx)->find_certificate(r.serial_hex);
      if (!found) return fail(found.error());
      if (!*found) continue;
      const auto& current = **found;
      const bool revoked = current.status == "revoked" || current.status == "suspended";
      if (revoked != std::holds_alternative<pki::Revoked>(r.entry->status)) {
        auto ca = pki::parse_ca_kind(current.ca);
        auto serial = pki::serial_bytes(current.serial);
        if (ca && serial && !current.ocsp_response.empty())
          ocsp_.put(*ca, *serial, ocsp_entry_of(current));  // the store's answer wins
        continue;
      }
      SMACERT_TRY_STATUS(
          (*tx)->set_ocsp_response(r.serial_hex, r.entry->response, to_unix(r.entry->next_update)));
    }
    SMACERT_TRY_STATUS((*tx)->commit());
  }
  return refreshed.size();
}

Result<std::shared_ptr<const Bytes>> Service::crl(pki::CaKind ca) {
  std::lock_guard lock(crl_mutex_);
  auto& cache = crl_cache_[ca == pki::CaKind::sign ? 0 : 1];
  const auto& authority = authorities_.of(ca);
  auto now = clock_.now();
  const auto half = authority.config().crl_validity / 2;
  // Rebuilt after a revocation, and when half its validity has passed.
  if (cache.der && !cache.stale && now - cache.built < half) return cache.der;
  auto tx = begin();
  if (!tx) return fail(tx.error());
  // The store is the truth: the entries are read in full at first use and
  // every half validity; in between, commit() applies each change.
  if (!cache.builder || now - cache.loaded >= half) {
    auto rows = (*tx)->revoked_certificates(std::string(pki::ca_kind_name(ca)));
    if (!rows) return fail(rows.error());
    std::vector<pki::CrlEntry> entries;
    entries.reserve(rows->size());
    for (const auto& r : *rows) {
      auto reason = pki::reason_from_code(r.revocation_reason < 0 ? 0 : r.revocation_reason);
      entries.push_back({r.serial, from_unix(r.revoked_at),
                         reason ? *reason : pki::RevocationReason::unspecified});
    }
    auto builder = std::make_unique<pki::CrlBuilder>(authority);
    SMACERT_TRY_STATUS(builder->assign(entries));
    cache.builder = std::move(builder);
    cache.loaded = now;
  }
  auto number = (*tx)->next_crl_number(std::string(pki::ca_kind_name(ca)));
  if (!number) return fail(number.error());
  auto der = cache.builder->build({*number, now, now + authority.config().crl_validity});
  if (!der) return fail(der.error());
  SMACERT_TRY_STATUS((*tx)->commit());
  cache.der = std::make_shared<const Bytes>(std::move(*der));
  cache.built = now;
  cache.stale = false;
  return cache.der;
}

Result<std::int64_t> Service::waiting_applications() {
  auto tx = begin();
  if (!tx) return fail(tx.error());
  auto rows = (*tx)->applications_waiting(std::numeric_limits<long long>::max());
  if (!rows) return fail(rows.error());
  return static_cast<std::int64_t>(rows->size());
}

}  // namespace smacert::service
