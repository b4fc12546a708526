// A Beast body over a response's owned text or shared bytes. The serializer
// sends header and body in one gather write; shared bytes are never copied.
// Internal to src/http.
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/optional.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <variant>

#include "http/response.h"

namespace smacert::http::detail {

struct PayloadBody {
  using value_type = std::variant<std::string, SharedBytes>;

  static std::uint64_t size(const value_type& body) noexcept { return view(body).size(); }

  static boost::asio::const_buffer view(const value_type& body) noexcept {
    if (const auto* text = std::get_if<std::string>(&body)) {
      return {text->data(), text->size()};
    }
    const auto& bytes = std::get<SharedBytes>(body);
    if (!bytes) return {};
    return {bytes->data(), bytes->size()};
  }

  class writer {
   public:
    using const_buffers_type = boost::asio::const_buffer;

    template <bool isRequest, class Fields>
    writer(const boost::beast::http::header<isRequest, Fields>&, const value_type& body)
        : body_(body) {}

    void init(boost::beast::error_code& ec) { ec = {}; }

    boost::optional<std::pair<const_buffers_type, bool>> get(boost::beast::error_code& ec) {
      ec = {};
      return {{view(body_), false}};
    }

   private:
    const value_type& body_;
  };
};

}  // namespace smacert::http::detail
