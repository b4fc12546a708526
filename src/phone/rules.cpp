#include "phone/rules.h"

#include <algorithm>

namespace smacert::phone {
namespace {

bool digit(char c) {
  return c >= '0' && c <= '9';
}
bool upper(char c) {
  return c >= 'A' && c <= 'Z';
}

Rule sign_shape(std::string_view p) {
  if (p.size() < 6 || p.size() > 16) return Rule::sign_length;
  if (!std::all_of(p.begin(), p.end(), [](char c) { return digit(c) || upper(c); }))
    return Rule::sign_charset;
  if (std::none_of(p.begin(), p.end(), digit) || std::none_of(p.begin(), p.end(), upper))
    return Rule::sign_mix;
  return Rule::ok;
}

}  // namespace

Rule check_sign_password(std::string_view password, std::string_view confirmation) {
  if (auto r = sign_shape(password); r != Rule::ok) return r;
  return password == confirmation ? Rule::ok : Rule::sign_mismatch;
}

Rule check_auth_pin(std::string_view pin, std::string_view confirmation) {
  if (pin.size() != 4 || !std::all_of(pin.begin(), pin.end(), digit)) return Rule::pin_format;
  return pin == confirmation ? Rule::ok : Rule::pin_mismatch;
}

Rule check_card_password(std::string_view password) {
  // Clients upper-case the card's password before sending (jpki-card.md §2).
  std::string up(password);
  std::transform(up.begin(), up.end(), up.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  return sign_shape(up) == Rule::ok ? Rule::ok : Rule::card_password_format;
}

std::string rule_message(Rule rule, bool ja) {
  switch (rule) {
    case Rule::ok:
      return "";
    case Rule::sign_length:
    case Rule::sign_charset:
    case Rule::sign_mix:
      return ja ? "パスワードは" + std::string(kSignPasswordHintJa) + "で入力してください"
                : "the password must be " + std::string(kSignPasswordHintEn);
    case Rule::sign_mismatch:
      return ja ? "確認のために入力したパスワードが一致しません"
                : "the password and its confirmation do not match";
    case Rule::pin_format:
      return ja ? "利用者証明用の暗証番号は数字4ケタで入力してください"
                : "the authentication PIN must be exactly 4 digits";
    case Rule::pin_mismatch:
      return ja ? "確認のために入力した暗証番号が一致しません"
                : "the PIN and its confirmation do not match";
    case Rule::card_password_format:
      return ja ? "マイナンバーカードの署名用電子証明書のパスワードは、半角の英大文字と数字を含む6"
                  "文字から16文字です"
                : "the card's signature password is 6 to 16 capital letters and digits, with at "
                  "least one of each";
  }
  return "";
}

}  // namespace smacert::phone
