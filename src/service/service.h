// The domain of smacert: holders and cards, applications and device change,
// registration, the certificate lifecycle, the push outbox and the audit log.
// It knows nothing of HTTP. Each use case lives in its own file; this class
// holds what they share. Every change of state happens in one store
// transaction together with its audit entry, its pre-signed OCSP responses
// and its push events; the in-memory responder is updated after the commit.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <set>

#include "core/random.h"
#include "core/worker_pool.h"
#include "pki/authority.h"
#include "pki/crl.h"
#include "pki/ocsp.h"
#include "pki/presented.h"
#include "service/event_signer.h"
#include "service/requests.h"
#include "service/window.h"
#include "store/store.h"

namespace smacert::service {

struct ServiceConfig {
  IssuanceWindow window;        // issuance.window
  Seconds challenge_ttl{300};   // challenges.ttl
  Seconds activation_delay{0};  // registration.activation_delay (the seed's 15 minutes)
  Seconds session_ttl{900};     // sessions.ttl
  // The HMAC key that seals session tokens; every node of one service needs
  // the same (DATA/session.key). Empty: a random key (one node, and a
  // restart logs everyone out).
  Bytes session_key{};
};

// Counters for /metrics.
struct ServiceStats {
  std::atomic<std::uint64_t> issued{0}, revoked{0}, suspended{0}, resumed{0}, applications{0},
      rejected{0};
  // Certificates and OCSP answers signed before an application's write
  // transaction (Presigned): taken by it, or dropped because the holder had
  // changed meanwhile.
  std::atomic<std::uint64_t> signed_ahead_used{0}, signed_ahead_dropped{0};
};

class Service {
 public:
  // Called after a commit with the devices that have new events.
  using Notify = std::function<void(const std::string& device_id)>;

  Service(store::Store& store, const pki::Authorities& authorities, pki::OcspResponder& ocsp,
          EventSigner& events, const Clock& clock, Random& random, ServiceConfig config);

  void on_events(Notify notify) { notify_ = std::move(notify); }

  // Start-up: every pre-signed response from the store into the responder.
  Result<std::size_t> load_ocsp();
  // Re-signs responses that near their nextUpdate and stores them.
  Result<std::size_t> refresh_ocsp();
  // For nodes that share one store (PostgreSQL): brings memory — OCSP
  // answers, CRLs, push streams — up to every certificate change and event
  // committed since the last call, by any node; the number of certificate
  // changes read. StoreFollower calls it when the store's change feed fires
  // and every few seconds. Once it has been called, commit() also calls it
  // instead of applying its own effects directly, so memory changes in the
  // store's commit order only.
  Result<std::size_t> follow_store();
  // Issues waiting applications whose time has come (operating hours).
  Result<std::size_t> issue_due_applications();

  // Counter and hotline (admin token).
  Result<CardIssued> issue_card(const CardIssueRequest& request);
  Status change_records(const std::string& holder_id, const RecordsChange& change);
  Result<store::CertificateRecord> change_status(const std::string& serial, StatusAction action,
                                                 pki::RevocationReason reason,
                                                 const std::string& actor);

  // Reads for the counter and the lab page.
  Result<store::CertificateRecord> certificate(const std::string& serial);
  Result<std::vector<store::CertificateRecord>> holder_certificates(const std::string& holder_id);

  // Phone app.
  Result<store::ChallengeRecord> new_challenge(const std::string& purpose,
                                               const std::string& subject);
  Result<ApplicationAccepted> submit_application(const ApplicationRequest& request);
  Result<ApplicationView> application(const std::string& id, const std::string& device_token);
  Status register_application(const std::string& id, const std::string& device_token,
                              const Registration& registration);
  Result<std::vector<store::EventRecord>> events(const std::string& device_id,
                                                 const std::string& device_token,
                                                 std::int64_t after_seq, int limit);
  Status acknowledge_wipe(const std::string& device_id, const std::string& device_token,
                          std::int64_t seq);
  Result<Session> login(const LoginRequest& request);
  Result<Session> session(const std::string& token);
  Result<MyPage> my_page(const Session& session);
  Result<store::CertificateRecord> revoke_by_holder(const Session& session,
                                                    const std::string& serial);
  Result<store::CertificateRecord> revoke_with_card(const std::string& serial,
                                                    const CardRevocation& proof);

  // Relying parties and the public endpoints: the current CRL, held in
  // memory and rebuilt (incrementally) after a change.
  Result<std::shared_ptr<const Bytes>> crl(pki::CaKind ca);
  const pki::Authorities& authorities() const { return authorities_; }
  const EventSigner& event_signer() const { return events_; }
  const ServiceStats& stats() const { return stats_; }
  Result<std::int64_t> waiting_applications();
  const Clock& clock() const { return clock_; }

 private:
  // What a transaction did that must reach memory after it commits.
  struct Effects {
    std::vector<std::tuple<pki::CaKind, Bytes, std::shared_ptr<const pki::OcspEntry>>> ocsp;
    std::set<std::string> devices;  // with new events
    // CRL changes: an entry set (revoked, suspended) or, without one, removed (resumed).
    struct CrlChange {
      pki::CaKind ca;
      std::string serial;
      std::optional<pki::CrlEntry> entry;
    };
    std::vector<CrlChange> crl;
    std::uint64_t issued = 0, revoked = 0, suspended = 0, resumed = 0, signed_ahead = 0;
  };
  struct IssueSpec {
    pki::CertificateKind kind;
    const pki::CertificateRequest* csr;
    std::string holder_id, card_id, device_id, application_id;
    std::optional<pki::HolderFacts> facts;
    TimePoint not_after;
    std::optional<TimePoint> not_after_limit;
  };

  // What issuing an application will sign (two certificates, their OCSP
  // answers, the answers revoking the phone it replaces), made before the
  // write transaction from a read-only snapshot (presign_application), so
  // the store's single writer does not wait on RSA and every core signs.
  // Inside the transaction a piece is taken only if it still fits what is
  // decided there: a certificate for the same facts and validity whose
  // serial is still free, an answer for the same revocation; anything else
  // is signed there, as without it.
  struct Presigned {
    struct Certificate {
      std::string serial, subject_id;
      Bytes der;
      TimePoint not_before, not_after;
      std::optional<pki::HolderFacts> facts;
      std::shared_ptr<const pki::OcspEntry> ocsp;  // good
    };
    std::map<pki::CertificateKind, Certificate> certificates;
    std::map<std::string, std::shared_ptr<const pki::OcspEntry>> revocations;  // by serial
  };

  Result<IssuedCertificate> issue_in(store::Transaction& tx, Effects& fx, const IssueSpec& spec,
                                     const std::string& actor,
                                     const Presigned::Certificate* ahead = nullptr);
  // Whether a status change is pushed to the certificate's phone. A phone
  // that the same decision tells to wipe gets the wipe event alone, naming
  // what was revoked: it erases every certificate anyway.
  enum class TellPhone { yes, no };
  // `ahead`: an OCSP answer signed before the transaction; used when it
  // states exactly this change (revoked, same reason), its time included.
  Status set_status_in(store::Transaction& tx, Effects& fx, const store::CertificateRecord& cert,
                       const std::string& status, pki::RevocationReason reason,
                       const std::string& actor, const std::string& action,
                       std::shared_ptr<const pki::OcspEntry> ahead = nullptr,
                       TellPhone tell = TellPhone::yes);
  Status audit_in(store::Transaction& tx, const std::string& actor, const std::string& action,
                  const std::string& subject, const nlohmann::json& details);
  Status event_in(store::Transaction& tx, Effects& fx, const std::string& device_id,
                  const std::string& type, nlohmann::json data);
  // The phone's requests of an application, read once: at acceptance, or
  // from the stored payload when the application is issued later.
  struct PhoneRequests {
    std::optional<pki::CertificateRequest> sign, auth;
  };
  // `holder_certs`: the holder's certificates if this transaction has read
  // them already, under the holder's lock.
  Status issue_application_in(store::Transaction& tx, Effects& fx, store::ApplicationRecord& app,
                              const PhoneRequests* accepted = nullptr,
                              const Presigned* ahead = nullptr,
                              const std::vector<store::CertificateRecord>* holder_certs = nullptr);
  Presigned presign_application(const ApplicationRequest& r, const std::string& card_serial,
                                const PhoneRequests& requests);
  Result<store::DeviceRecord> device_for(store::Transaction& tx, const std::string& device_id,
                                         const std::string& token);
  Result<pki::HolderFacts> facts_of(store::Transaction& tx, const std::string& holder_id);
  // The store's record of a certificate someone presented (pki/presented.h):
  // there under its serial, byte for byte the same, and valid at `now`.
  // Otherwise Errc::verification, said of `what` ("the card certificate").
  Result<store::CertificateRecord> registered(store::Transaction& tx,
                                              const pki::PresentedCertificate& presented,
                                              std::string_view what, TimePoint now);
  Status commit(std::unique_ptr<store::Transaction>& tx, Effects& fx);
  void remember(Effects& fx);  // OCSP answers, CRL caches, push streams
  Result<std::unique_ptr<store::Transaction>> begin();
  std::string new_id(std::string_view prefix);
  // The same shape, but the text sorts by creation time: 12 hex digits of
  // milliseconds, then 48 random bits. For keys of rows inserted often (an
  // application per apply): each lands at the key index's right edge, on a
  // page the last inserts wrote and the cache holds, where a random key needs
  // a random page, read from disk once the index outgrows memory.
  std::string new_ordered_id(std::string_view prefix);

  store::Store& store_;
  const pki::Authorities& authorities_;
  pki::OcspResponder& ocsp_;
  EventSigner& events_;
  const Clock& clock_;
  Random& random_;
  ServiceConfig config_;
  Notify notify_;
  ServiceStats stats_;

  Bytes session_key_;  // seals session tokens (sessions.cpp)

  std::mutex follow_mutex_;
  std::atomic<bool> following_{false};
  std::int64_t seen_certificate_change_ = 0, seen_event_ = 0;  // under follow_mutex_

  std::mutex crl_mutex_;
  // Service::commit applies effects in the order of the tickets it took.
  std::atomic<std::uint64_t> effects_ticket_{0};
  std::mutex effects_mutex_;
  std::condition_variable effects_turn_;
  std::uint64_t effects_applied_ = 0;  // under effects_mutex_
  // Each CA's revoked entries, encoded once (pki::CrlBuilder): loaded from
  // the store on first use and every half validity, kept current after each
  // commit, so a new CRL re-encodes only what changed and never re-reads a
  // country's millions of rows.
  struct CrlCache {
    std::unique_ptr<pki::CrlBuilder> builder;
    TimePoint loaded{};
    std::shared_ptr<const Bytes> der;
    TimePoint built{};
    bool stale = true;
  } crl_cache_[2];
  // Signs applications ahead of their write transaction
  // (presign_application; core/worker_pool.h says why not on the request's
  // thread): the cores the process may run on, plus one. Last, so that it
  // is stopped first: its threads use everything above.
  WorkerPool signers_;
};

}  // namespace smacert::service
