// The phone app (Mynaportal's role): one library that the `smacert phone`
// commands and the web UI share. Every flow follows the seed's steps; the
// secure element (se.img) does all key operations over APDUs.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "card/transport.h"
#include "core/random.h"
#include "http/api_client.h"
#include "phone/keystore.h"
#include "phone/rules.h"
#include "phone/state.h"
#include "pki/revocation.h"

namespace smacert::phone {

// How the user unlocks the authentication key: the PIN, or biometrics.
struct Unlock {
  std::optional<std::string> auth_pin;
  bool biometric = false;
};

struct ApplyInput {
  std::string kind = "new";  // "new" (利用申請) | "device_change" (機種変更)
  card::Transport* card = nullptr;
  std::string card_password;  // ④
  bool want_sign = true;      // ⑤ both checked by default
  bool want_auth = true;
  bool agree_terms = false;                          // ⑥ 確認しました
  bool agree_revoke_old = false;                     // ⑨ 同意して次へ
  std::string sign_password, sign_password_confirm;  // ⑩
  std::string auth_pin, auth_pin_confirm;            // ⑪
  // Called as each seed step's work is done ("④", "⑧", …), for narration and the UI.
  std::function<void(std::string_view step)> progress;
};

struct ApplyResult {
  std::string application_id;
  std::string status;    // "issued" | "waiting"
  std::string ready_at;  // RFC 3339
};

struct SyncedEvent {
  std::int64_t seq = 0;
  std::string type;  // "registration_ready" | "wipe" | "suspended" | "resumed" | "revoked"
  std::string detail;
};

struct CheckResult {
  std::string serial;
  pki::CertStatus ocsp;  // what the responder said of this phone's auth certificate
  std::string session_expires_at;
};

struct StatusView {
  PhoneState state;
  // OCSP's word on each of this phone's certificates (serial → status).
  std::vector<std::pair<std::string, pki::CertStatus>> ocsp;
  // With an unlock: the service's My Page (every phone of the holder).
  std::optional<nlohmann::json> my_page;
};

class PhoneApp {
 public:
  // `smacert phone new`: a fresh folder with a device id and an empty element.
  static Result<PhoneApp> create(const std::filesystem::path& dir, const std::string& platform,
                                 const std::string& model, const std::string& server,
                                 Random& random);
  static Result<PhoneApp> open(const std::filesystem::path& dir, Random& random,
                               const std::string& server_override = {});

  const PhoneState& state() const { return state_; }
  const std::filesystem::path& dir() const { return dir_; }

  // ②–⑪: rules first, then the card, the element, the service.
  Result<ApplyResult> apply(const ApplyInput& in);
  // Push events: waits up to `wait` for new ones (0: what is there now).
  Result<std::vector<SyncedEvent>> sync(std::chrono::milliseconds wait);
  // ⑫–⑬ 登録する.
  Status register_certificates();
  // 生体認証などの利用登録: the PIN is checked by the element, then sealed.
  Status enroll_biometrics(const std::string& auth_pin);
  Status remove_biometrics();
  // 動作確認: a login to the service with the auth key, and OCSP on it.
  Result<CheckResult> check(const Unlock& unlock);
  // マイページ.
  Result<StatusView> status(const std::optional<Unlock>& unlock);
  // 利用をやめる (this phone) or 別のスマホのスマホ用電子証明書 失効 (other phones).
  Result<std::vector<std::string>> revoke(bool other_phone, const Unlock& unlock);
  // The same with the card instead of the auth key (a phone whose PIN is lost).
  Result<std::vector<std::string>> revoke_with_card(card::Transport& card,
                                                    const std::string& card_password);
  // CMS detached signature with the phone's signature key.
  Result<Bytes> sign(const std::string& sign_password, ByteView data);
  // Login to a relying party (or the service itself when rp_url is empty).
  Result<nlohmann::json> login(const Unlock& unlock, const std::string& rp_url);

 private:
  PhoneApp(std::filesystem::path dir, PhoneState state, Keystore keystore, Random& random)
      : dir_(std::move(dir)),
        state_(std::move(state)),
        keystore_(std::move(keystore)),
        random_(&random) {}
  Status save() { return save_state(dir_, state_); }
  http::ApiClient service(bool with_token = true) const;
  Result<std::string> unlock_pin(const Unlock& unlock) const;
  Result<std::string> session(const Unlock& unlock);  // returns a service session token
  Status wipe(std::int64_t seq);
  // ERASE of the secure element and the keystore; the state says so.
  Status erase_credentials();
  Status require_not_wiped() const;
  std::filesystem::path se_path() const { return dir_ / "se.img"; }

  std::filesystem::path dir_;
  PhoneState state_;
  Keystore keystore_;
  Random* random_;
};

}  // namespace smacert::phone
