// The Store contract, checked against every implementation (SQLite and
// PostgreSQL): one suite, value-parameterised by store_test_support.h.
#include <gtest/gtest.h>

#include "store_test_support.h"

namespace smacert::store {
namespace {

using namespace testing;  // record builders

class StoreBehaviourTest : public StoreTest {
 protected:
  void seed(Transaction& tx) override {
    ASSERT_TRUE(tx.insert_holder(holder("h-1")));
    ASSERT_TRUE(tx.insert_holder(holder("h-2")));
    ASSERT_TRUE(tx.insert_card(card("c-1", "h-1")));
    ASSERT_TRUE(tx.insert_device(device("d-1", "h-1")));
    ASSERT_TRUE(tx.insert_device(device("d-2", "h-2")));
  }
};

SMACERT_STORE_BACKENDS(StoreBehaviourTest);

// --- Transactions ---------------------------------------------------------

TEST_P(StoreBehaviourTest, TransactionDestroyedWithoutCommitLeavesNothing) {
  {
    auto tx = begin();
    ASSERT_TRUE(tx->insert_holder(holder("h-gone")));
    ASSERT_TRUE(tx->reserve_serial(certificate("0abc", "h-gone")));
    ASSERT_TRUE(tx->append_audit(audit("holder.create")));
    ASSERT_TRUE(tx->enqueue_event({0, "d-1", "wipe", "{}", 5, 0}));
    ASSERT_TRUE(tx->next_crl_number("sign"));
  }
  auto tx = begin();
  EXPECT_FALSE(*tx->find_holder("h-gone"));
  EXPECT_FALSE(*tx->find_certificate("0abc"));
  EXPECT_TRUE(tx->audit_entries(0, 10)->empty());
  EXPECT_TRUE(tx->events_after("d-1", 0, 10)->empty());
  EXPECT_EQ(*tx->next_crl_number("sign"), 1);
}

TEST_P(StoreBehaviourTest, CommittedTransactionSurvivesReopen) {
  {
    auto tx = begin();
    ASSERT_TRUE(tx->insert_holder(holder("h-kept")));
    ASSERT_TRUE(tx->commit());
  }
  reopen();
  auto tx = begin();
  EXPECT_TRUE(*tx->find_holder("h-kept"));
}

TEST_P(StoreBehaviourTest, AReadTransactionSeesOneSnapshotAndHoldsBackNoWriter) {
  auto reader = store_->begin_read();
  ASSERT_TRUE(reader) << reader.error().message;
  EXPECT_TRUE(*(*reader)->find_holder("h-1"));
  {
    // A writer neither waits for the reader nor is seen by it.
    auto writer = begin();
    ASSERT_TRUE(writer->insert_holder(holder("h-later")));
    ASSERT_TRUE(writer->commit());
  }
  EXPECT_FALSE(*(*reader)->find_holder("h-later"));
  // Writing in it fails and changes nothing.
  EXPECT_FALSE((*reader)->insert_holder(holder("h-from-reader")));
  reader->reset();
  // Its connection goes back to the pool writable.
  for (int i = 0; i < 6; ++i) {
    auto tx = begin();
    ASSERT_TRUE(tx->insert_holder(holder("h-after-" + std::to_string(i))));
    ASSERT_TRUE(tx->commit());
  }
  auto tx = begin();
  EXPECT_FALSE(*tx->find_holder("h-from-reader"));
  EXPECT_TRUE(*tx->find_holder("h-later"));
}

TEST_P(StoreBehaviourTest, FinishedTransactionRefusesFurtherWork) {
  auto tx = begin();
  ASSERT_TRUE(tx->commit());
  auto again = tx->commit();
  ASSERT_FALSE(again);
  EXPECT_NE(again.error().message.find("already ended"), std::string::npos);
  auto write = tx->insert_holder(holder("h-late"));
  ASSERT_FALSE(write);
  EXPECT_NE(write.error().message.find("already ended"), std::string::npos);
  tx.reset();
  EXPECT_FALSE(*begin()->find_holder("h-late"));
}

TEST_P(StoreBehaviourTest, FailedStatementDoesNotSpoilTheTransaction) {
  auto tx = begin();
  ASSERT_FALSE(tx->insert_holder(holder("h-1")));  // duplicate
  ASSERT_TRUE(tx->insert_holder(holder("h-3")));
  ASSERT_TRUE(tx->commit());
  EXPECT_TRUE(*begin()->find_holder("h-3"));
}

TEST_P(StoreBehaviourTest, TransactionMayOutliveItsStore) {
  auto tx = begin();
  store_.reset();
  ASSERT_TRUE(tx->insert_holder(holder("h-after")));
  ASSERT_TRUE(tx->commit());
  tx.reset();
  reopen();
  EXPECT_TRUE(*begin()->find_holder("h-after"));
}

// --- Holders, cards, devices ----------------------------------------------

TEST_P(StoreBehaviourTest, HolderRoundTripsAndUpdates) {
  auto tx = begin();
  auto found = tx->find_holder("h-1");
  ASSERT_TRUE(found && *found);
  EXPECT_EQ((*found)->name, "山田\u3000太郎");
  EXPECT_EQ((*found)->birth_date, "1980-01-02");
  EXPECT_EQ((*found)->sex, 1);

  HolderRecord changed = **found;
  changed.address = "大阪府大阪市";
  changed.updated_at = 500;
  changed.created_at = 999;  // not rewritten
  ASSERT_TRUE(tx->update_holder(changed));
  auto after = *tx->find_holder("h-1");
  EXPECT_EQ(after->address, "大阪府大阪市");
  EXPECT_EQ(after->updated_at, 500);
  EXPECT_EQ(after->created_at, 100);
  EXPECT_FALSE(*tx->find_holder("h-none"));
}

TEST_P(StoreBehaviourTest, HolderErrors) {
  auto tx = begin();
  auto duplicate = tx->insert_holder(holder("h-1"));
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, Errc::conflict);
  EXPECT_EQ(duplicate.error().message, "inserting holder h-1: holder already exists");

  auto missing = tx->update_holder(holder("h-none"));
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);
  EXPECT_EQ(missing.error().message, "updating holder h-none: no such holder");

  auto bad = holder("h-bad");
  bad.sex = 3;
  auto check = tx->insert_holder(bad);
  ASSERT_FALSE(check);
  EXPECT_EQ(check.error().code, Errc::invalid_argument);
  EXPECT_NE(check.error().message.find("CHECK constraint failed"), std::string::npos);
}

TEST_P(StoreBehaviourTest, CardStatusAndReferences) {
  auto tx = begin();
  ASSERT_TRUE(tx->set_card_status("c-1", "lost"));
  EXPECT_EQ((*tx->find_card("c-1"))->status, "lost");
  EXPECT_EQ((*tx->find_card("c-1"))->holder_id, "h-1");

  auto missing = tx->set_card_status("c-none", "lost");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, Errc::not_found);

  auto bad_status = tx->set_card_status("c-1", "stolen");
  ASSERT_FALSE(bad_status);
  EXPECT_EQ(bad_status.error().code, Errc::invalid_argument);

  auto orphan = tx->insert_card(card("c-2", "h-none"));
  ASSERT_FALSE(orphan);
  EXPECT_EQ(orphan.error().code, Errc::invalid_argument);
  EXPECT_NE(orphan.error().message.find("FOREIGN KEY constraint failed"), std::string::npos)
      << orphan.error().message;
  EXPECT_EQ(tx->insert_card(card("c-1", "h-1")).error().code, Errc::conflict);
}

TEST_P(StoreBehaviourTest, DeviceWithoutHolderThenAssigned) {
  auto tx = begin();
  ASSERT_TRUE(tx->insert_device(device("d-new", "")));
  auto found = *tx->find_device("d-new");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->holder_id, "");
  EXPECT_EQ(found->model, "Pixel 8");
  EXPECT_EQ(found->token_hash, "ab12");

  found->holder_id = "h-2";
  found->status = "wipe_pending";
  found->token_hash = "cd34";
  ASSERT_TRUE(tx->update_device(*found));
  EXPECT_EQ((*tx->find_device("d-new"))->holder_id, "h-2");
  EXPECT_EQ((*tx->find_device("d-new"))->status, "wipe_pending");
  EXPECT_EQ((*tx->find_device("d-new"))->token_hash, "cd34");

  EXPECT_EQ(tx->update_device(device("d-none", "")).error().code, Errc::not_found);
  EXPECT_EQ(tx->insert_device(device("d-new", "")).error().code, Errc::conflict);
  EXPECT_EQ(tx->insert_device(device("d-x", "h-none")).error().code, Errc::invalid_argument);
}

// --- Certificates ---------------------------------------------------------

TEST_P(StoreBehaviourTest, ReserveSerialInsertsPendingRowWithoutDer) {
  auto tx = begin();
  auto c = certificate("0a1b", "h-1");
  c.card_id = "c-1";
  c.status = "active";            // ignored: a reserved serial is pending
  c.der = Bytes{1, 2, 3};         // ignored: nothing is signed yet
  c.ocsp_response = Bytes{4, 5};  // ignored
  ASSERT_TRUE(tx->reserve_serial(c));
  auto found = *tx->find_certificate("0a1b");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, "pending");
  EXPECT_TRUE(found->der.empty());
  EXPECT_TRUE(found->ocsp_response.empty());
  EXPECT_EQ(found->card_id, "c-1");
  EXPECT_EQ(found->device_id, "");
  EXPECT_EQ(found->revocation_reason, -1);
}

TEST_P(StoreBehaviourTest, ReserveSerialTwiceIsConflict) {
  auto tx = begin();
  ASSERT_TRUE(tx->reserve_serial(certificate("0a1b", "h-1")));
  auto again = tx->reserve_serial(certificate("0a1b", "h-2", "auth"));
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::conflict);
  EXPECT_EQ(again.error().message, "inserting certificate 0a1b: serial already exists");
  EXPECT_EQ((*tx->find_certificate("0a1b"))->holder_id, "h-1");
}

// A certificate of holder h-1 as issuance hands it to the store, signed.
CertificateRecord signed_certificate(const std::string& serial) {
  auto issued = certificate(serial, "h-1");
  issued.status = "active";
  issued.der = Bytes{0x30, 0x82, 0x01};
  issued.not_before = 1100;
  issued.not_after = 2100;
  issued.issued_at = 1100;
  issued.ocsp_response = Bytes{0x30, 0x03};
  issued.ocsp_next_update = 1500;
  return issued;
}

// The row as stored holds what signed_certificate() said.
void expect_signed_row(const std::optional<CertificateRecord>& found, const CertificateRecord& c) {
  ASSERT_TRUE(found);
  EXPECT_EQ(found->status, "active");
  EXPECT_EQ(found->revocation_reason, -1);
  EXPECT_EQ(found->der, c.der);
  EXPECT_EQ(found->not_before, 1100);
  EXPECT_EQ(found->not_after, 2100);
  EXPECT_EQ(found->issued_at, 1100);
  EXPECT_EQ(found->ocsp_response, c.ocsp_response);
  EXPECT_EQ(found->ocsp_next_update, 1500);
}

TEST_P(StoreBehaviourTest, StoreIssuedFillsTheReservedRow) {
  auto tx = begin();
  ASSERT_TRUE(tx->reserve_serial(certificate("0a1b", "h-1")));
  auto issued = signed_certificate("0a1b");
  ASSERT_TRUE(tx->store_issued(issued));
  expect_signed_row(*tx->find_certificate("0a1b"), issued);

  auto twice = tx->store_issued(issued);
  ASSERT_FALSE(twice);
  EXPECT_EQ(twice.error().code, Errc::conflict);
}

TEST_P(StoreBehaviourTest, InsertIssuedWritesTheWholeRowOnceAsAChange) {
  auto tx = begin();
  ASSERT_TRUE(tx->reserve_serial(certificate("0a1b", "h-1")));
  auto issued = signed_certificate("0c2d");
  ASSERT_TRUE(tx->insert_issued(issued));
  expect_signed_row(*tx->find_certificate("0c2d"), issued);
  auto changes = *tx->certificate_changes(0, 10);
  ASSERT_EQ(changes.size(), 1u) << "followers hear of it like a stored one";
  EXPECT_EQ(changes[0].serial, "0c2d");

  // A serial someone holds, reserved or issued: refused, nothing changed.
  for (const char* taken : {"0a1b", "0c2d"}) {
    auto again = issued;
    again.serial = taken;
    again.der = Bytes{0x30, 0x09};
    auto twice = tx->insert_issued(again);
    ASSERT_FALSE(twice);
    EXPECT_EQ(twice.error().code, Errc::conflict);
    EXPECT_NE((*tx->find_certificate(taken))->der, again.der);
  }
  auto empty = certificate("0e3f", "h-1");
  EXPECT_EQ(tx->insert_issued(empty).error().code, Errc::invalid_argument);
  EXPECT_TRUE(tx->commit());
}

TEST_P(StoreBehaviourTest, StoreIssuedWithoutReservationIsNotFound) {
  auto tx = begin();
  auto issued = certificate("0bad", "h-1");
  issued.der = Bytes{0x30};
  auto result = tx->store_issued(issued);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, Errc::not_found);
  EXPECT_EQ(result.error().message, "storing issued certificate 0bad: the serial was not reserved");
  EXPECT_FALSE(*tx->find_certificate("0bad"));
}

TEST_P(StoreBehaviourTest, SetCertificateStatusWritesStatusAndResponseTogether) {
  auto tx = begin();
  ASSERT_TRUE(tx->reserve_serial(certificate("0a1b", "h-1")));
  ASSERT_TRUE(tx->set_certificate_status("0a1b", "pending", "revoked", 1, 1234, Bytes{9, 9}, 1300));
  auto found = *tx->find_certificate("0a1b");
  EXPECT_EQ(found->status, "revoked");
  EXPECT_EQ(found->revocation_reason, 1);
  EXPECT_EQ(found->revoked_at, 1234);
  EXPECT_EQ(found->ocsp_response, (Bytes{9, 9}));
  EXPECT_EQ(found->ocsp_next_update, 1300);

  ASSERT_TRUE(tx->set_ocsp_response("0a1b", Bytes{7}, 1400));
  found = *tx->find_certificate("0a1b");
  EXPECT_EQ(found->status, "revoked");
  EXPECT_EQ(found->ocsp_response, Bytes{7});
  EXPECT_EQ(found->ocsp_next_update, 1400);

  EXPECT_EQ(tx->set_certificate_status("0none", "active", "revoked", 1, 1, {}, 1).error().code,
            Errc::not_found);
  EXPECT_EQ(tx->set_ocsp_response("0none", Bytes{7}, 1).error().code, Errc::not_found);
  EXPECT_EQ(tx->set_certificate_status("0a1b", "revoked", "burnt", 1, 1, {}, 1).error().code,
            Errc::invalid_argument);
}

TEST_P(StoreBehaviourTest, SetCertificateStatusOnlyOverTheStatusTheCallerSaw) {
  auto tx = begin();
  ASSERT_TRUE(tx->reserve_serial(certificate("0a1b", "h-1")));
  ASSERT_TRUE(tx->set_certificate_status("0a1b", "pending", "revoked", 1, 1234, Bytes{9}, 1300));
  // Someone who saw it before the revocation must not suspend it over it.
  auto late = tx->set_certificate_status("0a1b", "pending", "suspended", 6, 1300, Bytes{8}, 1400);
  ASSERT_FALSE(late);
  EXPECT_EQ(late.error().code, Errc::conflict);
  EXPECT_EQ(late.error().message,
            "setting the status of certificate 0a1b: it is revoked now, not pending (it changed "
            "while this request ran; try again)");
  auto found = *tx->find_certificate("0a1b");
  EXPECT_EQ(found->status, "revoked");
  EXPECT_EQ(found->revocation_reason, 1);
  EXPECT_EQ(found->ocsp_response, Bytes{9});
  EXPECT_EQ(found->ocsp_next_update, 1300);
}

TEST_P(StoreBehaviourTest, CertificateListsByHolderDeviceAndCa) {
  auto tx = begin();
  auto a = certificate("01", "h-1");
  a.issued_at = 10;
  auto b = certificate("02", "h-1", "auth");
  b.issued_at = 5;
  auto c = certificate("03", "h-2");
  c.device_id = "d-2";
  c.kind = "phone_sign";
  auto d = certificate("04", "h-2", "auth");
  d.device_id = "d-2";
  for (const auto& cert : {a, b, c, d}) ASSERT_TRUE(tx->reserve_serial(cert));
  for (const auto& serial : {"01", "02", "03", "04"}) {
    auto issued = *tx->find_certificate(serial);
    issued->der = Bytes{0x30, 0x01};
    issued->status = "active";
    ASSERT_TRUE(tx->store_issued(*issued));
  }
  ASSERT_TRUE(tx->set_certificate_status("01", "active", "revoked", 4, 50, Bytes{1}, 60));
  ASSERT_TRUE(tx->set_certificate_status("03", "active", "suspended", 6, 51, Bytes{2}, 61));
  ASSERT_TRUE(tx->set_certificate_status("02", "active", "revoked", 1, 52, Bytes{3}, 62));

  auto of_holder = *tx->certificates_of_holder("h-1");
  ASSERT_EQ(of_holder.size(), 2u);
  EXPECT_EQ(of_holder[0].serial, "02");  // issued first
  EXPECT_FALSE(of_holder[0].der.empty());
  auto of_device = *tx->certificates_of_device("d-2");
  ASSERT_EQ(of_device.size(), 2u);
  EXPECT_EQ(of_device[0].serial, "03");
  EXPECT_EQ(of_device[1].serial, "04");
  EXPECT_TRUE(tx->certificates_of_device("d-1")->empty());

  auto revoked_sign = *tx->revoked_certificates("sign");
  ASSERT_EQ(revoked_sign.size(), 2u);
  EXPECT_EQ(revoked_sign[0].serial, "01");
  EXPECT_EQ(revoked_sign[0].revocation_reason, 4);
  EXPECT_EQ(revoked_sign[0].revoked_at, 50);
  EXPECT_FALSE(revoked_sign[0].der.empty());
  EXPECT_EQ(revoked_sign[1].serial, "03");
  EXPECT_EQ(revoked_sign[1].status, "suspended");
  auto revoked_auth = *tx->revoked_certificates("auth");
  ASSERT_EQ(revoked_auth.size(), 1u);
  EXPECT_EQ(revoked_auth[0].serial, "02");
}

TEST_P(StoreBehaviourTest, OcspResponsesSkipDerAndRowsWithoutResponse) {
  auto tx = begin();
  ASSERT_TRUE(tx->reserve_serial(certificate("01", "h-1")));
  ASSERT_TRUE(tx->reserve_serial(certificate("02", "h-1")));  // no response yet
  ASSERT_TRUE(tx->reserve_serial(certificate("03", "h-1", "auth")));
  auto issued = certificate("01", "h-1");
  issued.status = "active";
  issued.der = Bytes{0x30, 0x01};
  issued.ocsp_response = Bytes{0xaa};
  issued.ocsp_next_update = 300;
  ASSERT_TRUE(tx->store_issued(issued));
  ASSERT_TRUE(tx->set_ocsp_response("03", Bytes{0xbb}, 100));

  auto sign = *tx->ocsp_responses("sign");
  ASSERT_EQ(sign.size(), 1u);
  EXPECT_EQ(sign[0].serial, "01");
  EXPECT_EQ(sign[0].ca, "sign");
  EXPECT_EQ(sign[0].status, "active");
  EXPECT_EQ(sign[0].ocsp_response, Bytes{0xaa});
  EXPECT_EQ(sign[0].ocsp_next_update, 300);
  EXPECT_TRUE(sign[0].der.empty()) << "the bulk load does not read der";

  auto expiring = *tx->ocsp_responses_expiring(400, 10);
  ASSERT_EQ(expiring.size(), 2u);
  EXPECT_EQ(expiring[0].serial, "03");  // soonest first
  EXPECT_EQ(expiring[1].serial, "01");
  EXPECT_EQ(tx->ocsp_responses_expiring(400, 1)->size(), 1u);
  EXPECT_EQ(tx->ocsp_responses_expiring(300, 10)->size(), 1u) << "next_update < before";
  EXPECT_EQ(tx->ocsp_responses_expiring(400, 0).error().code, Errc::invalid_argument);
}

TEST_P(StoreBehaviourTest, CertificateChangesComeInCommitOrderWithoutDer) {
  {
    auto tx = begin();
    ASSERT_TRUE(tx->reserve_serial(certificate("01", "h-1")));
    ASSERT_TRUE(tx->reserve_serial(certificate("02", "h-1", "auth")));
    EXPECT_TRUE(tx->certificate_changes(0, 10)->empty()) << "a reserved serial is no change";
    auto issued = certificate("02", "h-1", "auth");
    issued.status = "active";
    issued.der = Bytes{0x30, 0x01};
    issued.ocsp_response = Bytes{0xaa};
    ASSERT_TRUE(tx->store_issued(issued));
    ASSERT_TRUE(tx->commit());
  }
  std::int64_t after_issue = 0;
  {
    auto tx = begin();
    auto changes = *tx->certificate_changes(0, 10);
    ASSERT_EQ(changes.size(), 1u);
    EXPECT_EQ(changes[0].serial, "02");
    EXPECT_TRUE(changes[0].der.empty());
    EXPECT_EQ(changes[0].ocsp_response, Bytes{0xaa});
    after_issue = changes[0].change_seq;
    EXPECT_GT(after_issue, 0);
    ASSERT_TRUE(tx->set_certificate_status("01", "pending", "revoked", 1, 50, Bytes{0xbb}, 60));
    ASSERT_TRUE(tx->set_ocsp_response("02", Bytes{0xcc}, 70));
    ASSERT_TRUE(tx->commit());
  }
  auto tx = begin();
  auto later = *tx->certificate_changes(after_issue, 10);
  ASSERT_EQ(later.size(), 2u);
  EXPECT_EQ(later[0].serial, "01");
  EXPECT_EQ(later[0].status, "revoked");
  EXPECT_EQ(later[1].serial, "02");
  EXPECT_EQ(later[1].ocsp_response, Bytes{0xcc});
  EXPECT_GT(later[1].change_seq, later[0].change_seq);
  EXPECT_EQ(tx->certificate_changes(after_issue, 1)->size(), 1u);
  EXPECT_TRUE(tx->certificate_changes(later[1].change_seq, 10)->empty());
  EXPECT_EQ(tx->certificate_changes(0, 0).error().code, Errc::invalid_argument);
}

// --- Applications ---------------------------------------------------------

TEST_P(StoreBehaviourTest, ApplicationRoundTripsAndUpdates) {
  auto tx = begin();
  auto a = application("a-1", "key-1");
  a.holder_id = "h-1";
  a.device_id = "d-1";
  a.payload = R"({"model":"Pixel 8"})";
  ASSERT_TRUE(tx->insert_application(a));
  auto found = *tx->find_application("a-1");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->payload, a.payload);
  EXPECT_EQ(found->idempotency_key, "key-1");
  EXPECT_EQ(found->device_id, "d-1");
  EXPECT_EQ((*tx->find_application_by_idempotency_key("key-1"))->id, "a-1");
  EXPECT_FALSE(*tx->find_application_by_idempotency_key("key-2"));

  found->status = "issued";
  found->updated_at = 300;
  ASSERT_TRUE(tx->update_application(*found));
  EXPECT_EQ((*tx->find_application("a-1"))->status, "issued");
  EXPECT_EQ((*tx->find_application("a-1"))->updated_at, 300);
  EXPECT_EQ(tx->update_application(application("a-none")).error().code, Errc::not_found);
  EXPECT_EQ(tx->insert_application(application("a-1")).error().code, Errc::conflict);
}

TEST_P(StoreBehaviourTest, DuplicateIdempotencyKeyIsConflictButEmptyKeysAreNot) {
  auto tx = begin();
  ASSERT_TRUE(tx->insert_application(application("a-1", "same")));
  auto duplicate = tx->insert_application(application("a-2", "same"));
  ASSERT_FALSE(duplicate);
  EXPECT_EQ(duplicate.error().code, Errc::conflict);
  EXPECT_EQ(duplicate.error().message,
            "inserting application a-2: the idempotency key belongs to another application");
  EXPECT_FALSE(*tx->find_application("a-2"));

  ASSERT_TRUE(tx->insert_application(application("a-3")));
  ASSERT_TRUE(tx->insert_application(application("a-4")));
  EXPECT_EQ((*tx->find_application("a-3"))->idempotency_key, "");
  EXPECT_FALSE(*tx->find_application_by_idempotency_key(""));
}

TEST_P(StoreBehaviourTest, ApplicationsWaitingAreThoseReadyByTheTime) {
  auto tx = begin();
  auto early = application("a-early");
  early.ready_at = 100;
  auto late = application("a-late");
  late.ready_at = 900;
  auto done = application("a-done");
  done.ready_at = 50;
  done.status = "issued";
  for (const auto& a : {late, early, done}) ASSERT_TRUE(tx->insert_application(a));
  auto waiting = *tx->applications_waiting(100);
  ASSERT_EQ(waiting.size(), 1u);
  EXPECT_EQ(waiting[0].id, "a-early");
  waiting = *tx->applications_waiting(1000);
  ASSERT_EQ(waiting.size(), 2u);
  EXPECT_EQ(waiting[0].id, "a-early");
  EXPECT_EQ(waiting[1].id, "a-late");
}

TEST_P(StoreBehaviourTest, ApplicationsReadyAtTheSameTimeComeInTheOrderTheyWereAccepted) {
  auto tx = begin();
  // Ids that sort the other way round: the order must not come from them.
  for (const char* id : {"a-9", "a-5", "a-1", "a-7"}) {
    auto a = application(id);
    a.ready_at = 500;
    ASSERT_TRUE(tx->insert_application(a));
  }
  auto waiting = *tx->applications_waiting(500);
  ASSERT_EQ(waiting.size(), 4u);
  EXPECT_EQ(waiting[0].id, "a-9");
  EXPECT_EQ(waiting[1].id, "a-5");
  EXPECT_EQ(waiting[2].id, "a-1");
  EXPECT_EQ(waiting[3].id, "a-7");
}

// --- Challenges -----------------------------------------------------------

class ChallengeTest : public StoreBehaviourTest {
 protected:
  void seed(Transaction& tx) override {
    StoreBehaviourTest::seed(tx);
    if (HasFatalFailure()) return;
    ASSERT_TRUE(tx.insert_challenge({"n-1", "registration", "a-1", 1000, 0}));
  }
};

SMACERT_STORE_BACKENDS(ChallengeTest);

TEST_P(ChallengeTest, ConsumeReturnsTheRecordAndMarksItUsed) {
  auto tx = begin();
  auto c = tx->consume_challenge("n-1", "registration", 999);
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->subject, "a-1");
  EXPECT_EQ(c->used_at, 999);
  auto again = tx->consume_challenge("n-1", "registration", 999);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, Errc::conflict);
  EXPECT_EQ(again.error().message, "challenge already used");
}

TEST_P(ChallengeTest, UnknownChallengeIsNotFound) {
  auto tx = begin();
  auto c = tx->consume_challenge("n-none", "registration", 1);
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().code, Errc::not_found);
  EXPECT_EQ(c.error().message, "unknown challenge");
}

TEST_P(ChallengeTest, WrongPurposeAndExpiryDoNotConsume) {
  auto tx = begin();
  auto wrong = tx->consume_challenge("n-1", "session", 10);
  ASSERT_FALSE(wrong);
  EXPECT_EQ(wrong.error().code, Errc::invalid_argument);
  auto expired = tx->consume_challenge("n-1", "registration", 1000);
  ASSERT_FALSE(expired);
  EXPECT_EQ(expired.error().code, Errc::expired);
  // Neither failure used it up.
  EXPECT_TRUE(tx->consume_challenge("n-1", "registration", 10));
}

TEST_P(ChallengeTest, DeleteExpiredKeepsLiveOnes) {
  auto tx = begin();
  ASSERT_TRUE(tx->insert_challenge({"n-2", "session", "", 500, 0}));
  EXPECT_EQ(tx->insert_challenge({"n-2", "session", "", 500, 0}).error().code, Errc::conflict);
  ASSERT_TRUE(tx->delete_expired_challenges(500));
  EXPECT_EQ(tx->consume_challenge("n-2", "session", 1).error().code, Errc::not_found);
  EXPECT_TRUE(tx->consume_challenge("n-1", "registration", 600));
}

// --- Events ---------------------------------------------------------------

TEST_P(StoreBehaviourTest, EventSeqsIncreaseAcrossDevicesAndTransactions) {
  std::vector<std::int64_t> seqs;
  for (int i = 0; i < 3; ++i) {
    auto tx = begin();
    for (const char* d : {"d-1", "d-2"}) {
      auto seq = tx->enqueue_event({0, d, "wipe", "{\"n\":" + std::to_string(i) + "}", 10, 0});
      ASSERT_TRUE(seq) << seq.error().message;
      seqs.push_back(*seq);
    }
    ASSERT_TRUE(tx->commit());
  }
  for (std::size_t i = 1; i < seqs.size(); ++i) EXPECT_GT(seqs[i], seqs[i - 1]);

  auto tx = begin();
  auto all = *tx->events_after("d-1", 0, 100);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].seq, seqs[0]);
  EXPECT_EQ(all[2].seq, seqs[4]);
  EXPECT_EQ(all[1].payload, "{\"n\":1}");
  for (const auto& e : all) EXPECT_EQ(e.device_id, "d-1");

  auto after = *tx->events_after("d-1", seqs[0], 1);
  ASSERT_EQ(after.size(), 1u);
  EXPECT_EQ(after[0].seq, seqs[2]);

  EXPECT_EQ(tx->enqueue_event({0, "d-none", "wipe", "{}", 1, 0}).error().code,
            Errc::invalid_argument);
  EXPECT_EQ(tx->events_after("d-1", 0, 0).error().code, Errc::invalid_argument);
}

TEST_P(StoreBehaviourTest, EventsSinceListsEveryDevice) {
  auto tx = begin();
  auto s1 = *tx->enqueue_event({0, "d-1", "wipe", "{}", 10, 0});
  auto s2 = *tx->enqueue_event({0, "d-2", "revoked", "{\"x\":1}", 11, 0});
  auto all = *tx->events_since(0, 10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].seq, s1);
  EXPECT_EQ(all[0].device_id, "d-1");
  EXPECT_EQ(all[1].seq, s2);
  EXPECT_EQ(all[1].payload, "{\"x\":1}");
  EXPECT_EQ(tx->events_since(s1, 10)->size(), 1u);
  EXPECT_EQ(tx->events_since(0, 0).error().code, Errc::invalid_argument);
}

TEST_P(StoreBehaviourTest, AckEventsMarksOnlyThatDeviceUpToSeq) {
  auto tx = begin();
  auto s1 = *tx->enqueue_event({0, "d-1", "wipe", "{}", 10, 0});
  auto s2 = *tx->enqueue_event({0, "d-2", "wipe", "{}", 10, 0});
  auto s3 = *tx->enqueue_event({0, "d-1", "revoked", "{}", 10, 0});
  ASSERT_TRUE(tx->ack_events("d-1", s1, 77));
  auto d1 = *tx->events_after("d-1", 0, 10);
  ASSERT_EQ(d1.size(), 2u);
  EXPECT_EQ(d1[0].acked_at, 77);
  EXPECT_EQ(d1[1].seq, s3);
  EXPECT_EQ(d1[1].acked_at, 0);
  EXPECT_EQ((*tx->events_after("d-2", 0, 10))[0].seq, s2);
  EXPECT_EQ((*tx->events_after("d-2", 0, 10))[0].acked_at, 0);
}

// --- Audit and CRL numbers ------------------------------------------------

TEST_P(StoreBehaviourTest, AppendAuditChainsEntries) {
  auto tx = begin();
  auto first = tx->append_audit(audit("certificate.issue"));
  ASSERT_TRUE(first) << first.error().message;
  EXPECT_EQ(first->seq, 1);
  EXPECT_EQ(first->prev_hash, std::string(64, '0'));
  EXPECT_EQ(first->hash, audit_hash(*first));
  EXPECT_EQ(first->action, "certificate.issue");
  auto second = *tx->append_audit(audit("certificate.revoke"));
  EXPECT_EQ(second.seq, 2);
  EXPECT_EQ(second.prev_hash, first->hash);
  ASSERT_TRUE(tx->commit());

  auto read = *begin()->audit_entries(0, 10);
  ASSERT_EQ(read.size(), 2u);
  EXPECT_EQ(read[0].hash, first->hash);
  EXPECT_EQ(read[1].details, "{}");
  EXPECT_EQ(begin()->audit_entries(1, 10)->size(), 1u);
  EXPECT_TRUE(verify_audit_chain(*store_));
}

TEST_P(StoreBehaviourTest, CrlNumbersStartAtOneAndCountPerCa) {
  {
    auto tx = begin();
    EXPECT_EQ(*tx->next_crl_number("sign"), 1);
    EXPECT_EQ(*tx->next_crl_number("sign"), 2);
    EXPECT_EQ(*tx->next_crl_number("auth"), 1);
    ASSERT_TRUE(tx->commit());
  }
  reopen();
  EXPECT_EQ(*begin()->next_crl_number("sign"), 3);
}

}  // namespace
}  // namespace smacert::store
