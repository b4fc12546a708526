// smacert phone ui — the app's screens in a browser, for one virtual phone;
// smacert lab — phones side by side with the service's certificate table.
// This file only wires objects together; the work is in src/phone/ui.
#include "cli/phone_ui_command.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <iostream>

#include "cli/background.h"
#include "cli/command.h"
#include "core/encoding.h"
#include "core/files.h"
#include "http/server.h"
#include "http/shutdown_signal.h"
#include "phone/state.h"
#include "phone/ui/lab.h"
#include "phone/ui/phone_ui.h"
#include "phone/ui/web_dir.h"

namespace smacert::cli {
namespace {

namespace fs = std::filesystem;

struct UiOptions {
  std::string dir, listen = "127.0.0.1:0", card, reader, web, token_file, holder;
  std::vector<std::string> phones;
  bool server_given = false;
};

Result<std::pair<std::string, std::uint16_t>> host_port(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0)
    return fail(Errc::invalid_argument, "--listen must be HOST:PORT, e.g. 127.0.0.1:0");
  std::string host = text.substr(0, colon), port = text.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), ::isdigit) ||
      std::stoi(port) > 65535)
    return fail(Errc::invalid_argument, "--listen must end in a port number 0-65535");
  return std::pair{host, static_cast<std::uint16_t>(std::stoi(port))};
}

Result<std::unique_ptr<http::Server>> listen(http::Router router, const std::string& where) {
  auto hp = host_port(where);
  if (!hp) return fail(hp.error());
  http::ServerOptions options;
  options.address = hp->first;
  options.port = hp->second;
  // An application or a registration holds a thread for a second or two.
  options.threads = 4;
  return http::Server::start(std::move(router), options);
}

// The card a phone reads by default: --card, else card.json beside the
// phone's folder (the layout `smacert demo` makes).
fs::path default_card(const std::string& given, const fs::path& phone_dir) {
  if (!given.empty()) return given;
  auto beside = fs::absolute(phone_dir).lexically_normal().parent_path() / "card.json";
  std::error_code ec;
  return fs::is_regular_file(beside, ec) ? beside : fs::path();
}

int phone_ui(const GlobalOptions& g, const UiOptions& o) {
  auto web = phone::ui::find_web_dir(o.web);
  if (!web) return report(web.error(), g);
  auto ui = phone::ui::PhoneUi::open({o.dir, o.server_given ? g.server : std::string(),
                                      default_card(o.card, o.dir), o.reader, *web / "phone"});
  if (!ui) return report(ui.error(), g);
  http::Router router;
  (*ui)->add_routes(router, "");
  auto server = listen(std::move(router), o.listen);
  if (!server) return report(server.error(), g);
  (*ui)->start();
  std::cout << "smacert phone ui on " << (*server)->url() << "/" << std::endl;
  http::wait_for_shutdown_signal(**server);
  (*ui)->stop();
  return kExitOk;
}

Result<std::string> read_token(const UiOptions& o, const fs::path& dir) {
  if (const char* env = std::getenv("SMACERT_ADMIN_TOKEN"); env && *env && o.token_file.empty())
    return std::string(env);
  auto data =
      read_file(o.token_file.empty() ? dir / "data" / "admin.token" : fs::path(o.token_file), 4096);
  if (!data) return fail(data.error().context("reading the admin token"));
  std::string t(as_chars(*data));
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r')) t.pop_back();
  return t;
}

int lab(const GlobalOptions& g, const UiOptions& o) {
  fs::path dir = o.dir;
  auto web = phone::ui::find_web_dir(o.web);
  if (!web) return report(web.error(), g);
  // The phones: the folders named by --phones, else every folder with a phone.json.
  std::vector<std::string> all;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (fs::is_regular_file(e.path() / "phone.json")) all.push_back(e.path().filename());
  std::sort(all.begin(), all.end());
  std::vector<std::string> names = o.phones.empty() ? all : o.phones;
  if (names.empty())
    return report(Error{Errc::not_found, "no phone folders (with phone.json) in " + dir.string()},
                  g);
  std::string service = g.server;
  if (!o.server_given) {
    auto s = phone::load_state(dir / names.front());
    if (!s) return report(s.error(), g);
    service = s->server;
  }
  auto token = read_token(o, dir);
  if (!token) return report(token.error(), g);
  fs::path card = dir / "card.json";
  std::string holder = o.holder;
  if (holder.empty()) {
    auto h = phone::ui::holder_of_card(card, service, *token);
    if (!h) return report(h.error().context("finding the holder (give --holder ID)"), g);
    holder = *h;
  }

  http::Router router;
  std::vector<std::unique_ptr<phone::ui::PhoneUi>> uis;
  phone::ui::LabOptions lab_options{service, *token, holder, *web / "lab", {}, {}};
  for (const auto& name : all)
    if (auto st = phone::load_state(dir / name))
      lab_options.device_names.emplace_back(st->device_id, name);
  for (const auto& name : names) {
    if (name.empty() || name.front() == '.' || name.find('/') != std::string::npos)
      return report(Error{Errc::invalid_argument, "a phone is a folder name in --dir: " + name}, g);
    auto ui = phone::ui::PhoneUi::open({dir / name, o.server_given ? g.server : std::string(),
                                        fs::is_regular_file(card) ? card : fs::path(), o.reader,
                                        *web / "phone"});
    if (!ui) return report(ui.error(), g);
    std::string path = "/phones/" + name;
    (*ui)->add_routes(router, path);
    lab_options.phones.push_back({name, (*ui)->model(), (*ui)->device_id(), path + "/"});
    uis.push_back(std::move(*ui));
  }
  phone::ui::Lab the_lab(std::move(lab_options));
  the_lab.add_routes(router);
  auto server = listen(std::move(router), o.listen);
  if (!server) return report(server.error(), g);
  for (auto& ui : uis) ui->start();
  the_lab.start();
  std::cout << "smacert lab on " << (*server)->url() << "/lab/" << std::endl;
  http::wait_for_shutdown_signal(**server);
  the_lab.stop();
  for (auto& ui : uis) ui->stop();
  return kExitOk;
}

void web_option(CLI::App* sub, UiOptions& o) {
  sub->add_option("--web", o.web,
                  "Folder holding phone/ and lab/ (default: $SMACERT_WEB_DIR, else the source "
                  "tree's web/)");
}

void server_option(CLI::App* sub, GlobalOptions& g, UiOptions& o) {
  sub->add_option_function<std::string>(
      "--server",
      [&g, &o](const std::string& v) {
        g.server = v;
        o.server_given = true;
      },
      "Service URL (default: the one the phone remembers)");
}

}  // namespace

Result<LabProcess> start_lab_process(const fs::path& dir, const std::string& service,
                                     const std::vector<std::string>& phones, const fs::path& log) {
  std::string list;
  for (const auto& p : phones) list += (list.empty() ? "" : ",") + p;
  auto started = start_background({"--server", service, "lab", "--dir", dir.string(), "--phones",
                                   list, "--listen", "127.0.0.1:0"},
                                  log, "the lab");
  if (!started) return fail(started.error());
  return LabProcess{started->pid, started->url};
}

void add_phone_ui_command(CLI::App& phone, GlobalOptions& g, int& result) {
  auto o = std::make_shared<UiOptions>();
  auto* ui =
      add_command(phone, "ui", "The app's screens in a browser for this phone (prints its URL)",
                  result, [&g, o] { return phone_ui(g, *o); });
  ui->add_option("--dir", o->dir, "The phone's folder")->required();
  ui->add_option("--listen", o->listen, "HOST:PORT (port 0 = any free)")->capture_default_str();
  auto* card = ui->add_option("--card", o->card,
                              "The virtual My Number Card file (default: card.json beside --dir)");
  auto* reader =
      ui->add_option("--reader", o->reader, "Read a card in this PC/SC reader ('-' = the first)");
  card->excludes(reader);
  web_option(ui, *o);
  server_option(ui, g, *o);

  // `smacert lab` sits at the top level: it is not one phone's command.
  CLI::App* top = phone.get_parent();
  if (top == nullptr) return;
  auto* lab_cmd =
      add_command(*top, "lab", "Phones side by side and the service's certificate table, live",
                  result, [&g, o] { return lab(g, *o); });
  lab_cmd->add_option("--dir", o->dir, "A demo folder: data/, card.json and phone folders")
      ->required()
      ->check(CLI::ExistingDirectory);
  lab_cmd->add_option("--phones", o->phones, "Phone folders to show (default: all)")
      ->delimiter(',');
  lab_cmd->add_option("--listen", o->listen, "HOST:PORT (port 0 = any free)")
      ->capture_default_str();
  lab_cmd->add_option("--token-file", o->token_file,
                      "Admin token (default: DIR/data/admin.token, or SMACERT_ADMIN_TOKEN)");
  lab_cmd->add_option("--holder", o->holder, "Holder id (default: the holder of DIR/card.json)");
  web_option(lab_cmd, *o);
  server_option(lab_cmd, g, *o);
}

}  // namespace smacert::cli
