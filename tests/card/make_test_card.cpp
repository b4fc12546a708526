// Issues a virtual card for the peer tests: CAs in --ca-dir (created on first
// use), the card at --out. A test tool, not a product command: real cards
// come from `smacert counter issue-card` through the service.
#include <iostream>
#include <string>

#include "card/virtual_card.h"

int main(int argc, char** argv) {
  using namespace smacert;
  if (argc != 5) {
    std::cerr << "usage: make_test_card CA_DIR CARD AUTH_PIN SIGN_PASSWORD\n";
    return 2;
  }
  SystemClock clock;
  OsRandom random;
  auto authorities = pki::Authorities::open_or_create(argv[1], pki::PkiConfig{}, clock, random);
  if (!authorities) {
    std::cerr << authorities.error().message << "\n";
    return 1;
  }
  card::CardIssueRequest req;
  req.facts.name = "見本　太郎";
  req.facts.birth_date = "1985-04-01";
  req.facts.sex = 1;
  req.facts.address = "東京都千代田区霞が関１－２－３";
  req.auth_pin = argv[3];
  req.sign_password = argv[4];
  auto image = card::issue_virtual_card(req, *authorities, clock, random);
  if (!image) {
    std::cerr << image.error().message << "\n";
    return 1;
  }
  if (auto st = card::save_card_image(argv[2], *image); !st) {
    std::cerr << st.error().message << "\n";
    return 1;
  }
  return 0;
}
