#include "http/response_head.h"

#include <boost/beast/http/status.hpp>
#include <charconv>
#include <ostream>  // boost/beast/http/status.hpp uses it without including it

namespace smacert::http::detail {

bool write_response_head(std::string& out, int status, std::string_view date,
                         std::string_view content_type, const Headers& headers,
                         std::size_t content_length, bool keep_alive) {
  if (status < 200 || status > 599 || status == 204 || status == 304) return false;
  for (const auto& [name, value] : headers) {
    if (name.empty() || name.find_first_of("\r\n:") != std::string::npos ||
        value.find_first_of("\r\n") != std::string::npos)
      return false;
    for (std::string_view managed :
         {"Connection", "Content-Length", "Transfer-Encoding", "Date", "Content-Type"})
      if (iequals(name, managed)) return false;
  }
  const auto reason = boost::beast::http::obsolete_reason(
      static_cast<boost::beast::http::status>(static_cast<unsigned>(status)));
  char number[24];
  out.clear();
  out += "HTTP/1.1 ";
  out.append(number, std::to_chars(number, number + sizeof number, status).ptr);
  out += ' ';
  out.append(reason.data(), reason.size());
  out += "\r\nDate: ";
  out += date;
  if (!content_type.empty()) {
    out += "\r\nContent-Type: ";
    out += content_type;
  }
  for (const auto& [name, value] : headers) {
    out += "\r\n";
    out += name;
    out += ": ";
    out += value;
  }
  if (!keep_alive) out += "\r\nConnection: close";
  out += "\r\nContent-Length: ";
  out.append(number, std::to_chars(number, number + sizeof number, content_length).ptr);
  out += "\r\n\r\n";
  return true;
}

}  // namespace smacert::http::detail
