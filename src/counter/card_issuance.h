// The counter's side of card issuance (交付): the card makes its keys and
// signs its requests; the service's admin API issues the certificates; the
// card stores them. Used by `smacert counter issue-card` and `smacert demo`.
#pragma once

#include <filesystem>
#include <string>

#include "card/virtual_card.h"
#include "http/api_client.h"

namespace smacert::counter {

struct NewHolder {
  std::string name, address, birth_date;
  int sex = 9;  // ISO/IEC 5218: 1, 2, 9
  std::string sign_password, auth_pin;
};

struct IssuedCard {
  std::string holder_id;
  std::string card_id;
};

// Creates the card file at `out` (never overwriting one).
Result<IssuedCard> issue_card(http::ApiClient& admin_api, const NewHolder& holder,
                              const std::filesystem::path& out, Random& random);

}  // namespace smacert::counter
