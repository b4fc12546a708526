#include "card/stored_applet.h"

namespace smacert::card {

Result<StoredApplet> StoredApplet::open(const std::filesystem::path& path, Random& random) {
  auto image = load_card_image(path);
  if (!image) return fail(image.error());
  auto applet = Applet::open(std::move(*image), random);
  if (!applet) return fail(applet.error().context(path.string()));
  return StoredApplet(path, std::move(*applet));
}

Result<StoredApplet> StoredApplet::create(const std::filesystem::path& path, CardImage image,
                                          Random& random) {
  SMACERT_TRY_STATUS(save_card_image(path, image));
  return open(path, random);
}

Result<Bytes> StoredApplet::transmit(ByteView command) {
  const auto before = applet_.generation();
  Bytes response = applet_.process(command);
  if (applet_.generation() != before) SMACERT_TRY_STATUS(save_card_image(path_, applet_.image()));
  return response;
}

}  // namespace smacert::card
