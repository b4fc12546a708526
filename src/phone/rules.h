// The phone's password and PIN rules (seed ⑩–⑪), checked before anything is
// sent, with the seed's wording in Japanese and an English version beside it.
#pragma once

#include <string>
#include <string_view>

namespace smacert::phone {

enum class Rule {
  ok,
  sign_length,    // not 6 to 16 characters
  sign_charset,   // something other than A-Z 0-9
  sign_mix,       // no letter, or no digit
  sign_mismatch,  // the confirmation differs
  pin_format,     // not exactly 4 digits
  pin_mismatch,
  card_password_format,  // ④ the card's signature password has the same shape
};

// ⑩ スマホ用署名用電子証明書の新しいパスワード, and its confirmation.
Rule check_sign_password(std::string_view password, std::string_view confirmation);
// The phone's new user-authentication PIN, and its confirmation.
Rule check_auth_pin(std::string_view pin, std::string_view confirmation);
// ④ the card's signature password (半角の英大文字と数字を含む、6文字から16文字).
Rule check_card_password(std::string_view password);

std::string rule_message(Rule rule, bool japanese);

// The seed's hint under the password field: 6~16ケタ、英大文字と数字の組み合わせ
inline constexpr std::string_view kSignPasswordHintJa = "6~16ケタ、英大文字と数字の組み合わせ";
inline constexpr std::string_view kSignPasswordHintEn =
    "6 to 16 characters, a combination of capital letters and digits";

}  // namespace smacert::phone
