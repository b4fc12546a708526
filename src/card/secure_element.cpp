#include "card/secure_element.h"

namespace smacert::card {

CardImage blank_secure_element(PhonePlatform platform) {
  CardImage im;
  im.token = platform == PhonePlatform::Android ? TokenKind::Android : TokenKind::Ios;
  im.lifecycle = Lifecycle::Operational;
  return im;
}

Result<StoredApplet> create_secure_element(const std::filesystem::path& path,
                                           PhonePlatform platform, Random& random) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec))
    return fail(Errc::conflict, path.string() + " already holds a secure element");
  return StoredApplet::create(path, blank_secure_element(platform), random);
}

}  // namespace smacert::card
