// The four basic facts as relying parties receive them in JSON, from the
// `smacert verify` commands and from POST /rp/v1/signatures/verify alike.
#pragma once

#include <nlohmann/json.hpp>

#include "pki/facts.h"

namespace smacert::rp {

inline nlohmann::json facts_json(const pki::CertifiedFacts& f) {
  return {{"name", f.name},
          {"address", f.address},
          {"birth_date", f.birth_date},
          {"birth_era", std::string(pki::era_name(f.birth_era))},
          {"sex", f.sex}};
}

}  // namespace smacert::rp
