#include <gtest/gtest.h>

#include "store/store.h"
#include "store_test_support.h"

namespace smacert::store {
namespace {

using testing::audit;
using testing::StoreTest;

TEST(AuditHash, MatchesTheDocumentedConstruction) {
  // Computed outside smacert (Python hashlib) from the construction described
  // in audit.cpp; a change here would orphan every existing chain.
  auto e = audit("certificate.issue", R"({"kind":"card_sign"})");
  e.seq = 1;
  e.prev_hash = std::string(64, '0');
  EXPECT_EQ(audit_hash(e), "cc664c15f6a89994c6658d550546a949da3c02afe2fdaf94aec3a77b037cd8c4");
}

TEST(AuditHash, FieldBoundariesCannotBeShifted) {
  auto a = audit("bc");
  a.actor = "a";
  auto b = audit("c");
  b.actor = "ab";
  EXPECT_NE(audit_hash(a), audit_hash(b));
  EXPECT_EQ(audit_hash(a).size(), 64u);
}

class AuditChainTest : public StoreTest {
 protected:
  void append(int n) {
    auto tx = begin();
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(tx->append_audit(audit("step", "{\"i\":" + std::to_string(i) + "}")));
    }
    ASSERT_TRUE(tx->commit());
  }
  void tamper(const std::string& sql) { raw_exec(sql); }
  Error verify_fails() {
    auto result = verify_audit_chain(*store_);
    EXPECT_FALSE(result);
    return result ? Error{} : result.error();
  }
};

SMACERT_STORE_BACKENDS(AuditChainTest);

TEST_P(AuditChainTest, EmptyAndIntactChainsVerify) {
  EXPECT_TRUE(verify_audit_chain(*store_));
  append(5);
  auto ok = verify_audit_chain(*store_);
  EXPECT_TRUE(ok) << ok.error().message;
}

TEST_P(AuditChainTest, ChainLongerThanOnePageVerifies) {
  append(2500);
  auto ok = verify_audit_chain(*store_);
  EXPECT_TRUE(ok) << ok.error().message;
  tamper("UPDATE audit_log SET actor = 'hotline' WHERE seq = 2001");
  EXPECT_EQ(verify_fails().message, "audit entry 2001: its content does not match its hash");
}

TEST_P(AuditChainTest, EditedDetailsAreCaughtAtThatSeq) {
  append(5);
  tamper("UPDATE audit_log SET details = '{\"i\":99}' WHERE seq = 3");
  const Error e = verify_fails();
  EXPECT_EQ(e.code, Errc::verification);
  EXPECT_EQ(e.message, "audit entry 3: its content does not match its hash");
}

TEST_P(AuditChainTest, RehashedEntryBreaksTheNextLink) {
  append(5);
  // A forger who edits a row and recomputes its hash is caught by the
  // following entry's prev_hash.
  auto forged = (*begin()->audit_entries(1, 1))[0];
  forged.details = R"({"i":"forged"})";
  forged.hash = audit_hash(forged);
  tamper("UPDATE audit_log SET details = '" + forged.details + "', hash = '" + forged.hash +
         "' WHERE seq = 2");
  EXPECT_EQ(verify_fails().message, "audit entry 3: prev_hash does not match the hash of entry 2");
}

TEST_P(AuditChainTest, BrokenLinkNamesTheEntry) {
  append(4);
  tamper("UPDATE audit_log SET prev_hash = '" + std::string(64, 'e') + "' WHERE seq = 4");
  EXPECT_EQ(verify_fails().message, "audit entry 4: prev_hash does not match the hash of entry 3");
}

TEST_P(AuditChainTest, FirstEntryMustStartFromZeros) {
  append(2);
  tamper("UPDATE audit_log SET prev_hash = '" + std::string(64, '1') + "' WHERE seq = 1");
  EXPECT_EQ(verify_fails().message, "audit entry 1: the first entry's prev_hash is not 64 zeros");
}

TEST_P(AuditChainTest, DeletedEntryIsNamed) {
  append(4);
  tamper("DELETE FROM audit_log WHERE seq = 2");
  EXPECT_EQ(verify_fails().message, "audit entry 2 is missing (next entry is 3)");
}

}  // namespace
}  // namespace smacert::store
