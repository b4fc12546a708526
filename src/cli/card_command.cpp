// `smacert card …`: a virtual card file or a real card in a PC/SC reader.
// Parses options, builds src/card objects and prints what they return.
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "card/jpki_client.h"
#include "card/pcsc_transport.h"
#include "card/stored_applet.h"
#include "card/token_report.h"
#include "card/vpcd.h"
#include "cli/command.h"
#include "core/encoding.h"
#include "core/files.h"

namespace smacert::cli {
namespace {

using namespace smacert::card;

struct Source {
  std::string card;    // image file
  std::string reader;  // PC/SC reader name
  bool any_reader = false;
};

void add_source_options(CLI::App* sub, Source& s) {
  auto* c = sub->add_option("--card", s.card, "Virtual card image file");
  auto* r = sub->add_option("--reader", s.reader, "PC/SC reader name (see `smacert card readers`)");
  auto* a = sub->add_flag("--any-reader", s.any_reader, "The first PC/SC reader with a card");
  c->excludes(r)->excludes(a);
  r->excludes(a);
}

// The transport to a virtual card file or a reader; `random` outlives it.
struct OpenToken {
  std::optional<StoredApplet> file;
  std::unique_ptr<PcscTransport> pcsc;
  Transport& transport() { return file ? static_cast<Transport&>(*file) : *pcsc; }
};

Result<OpenToken> open_token(const Source& s, Random& random) {
  OpenToken t;
  if (!s.card.empty()) {
    auto f = StoredApplet::open(s.card, random);
    if (!f) return fail(f.error());
    t.file.emplace(std::move(*f));
    return t;
  }
  if (s.reader.empty() && !s.any_reader)
    return fail(Errc::invalid_argument,
                "say which card: --card FILE, --reader NAME or --any-reader");
  auto p = PcscTransport::connect(s.reader);
  if (!p) return fail(p.error());
  t.pcsc = std::move(*p);
  return t;
}

nlohmann::json summary_json(const CertificateSummary& c) {
  return {{"subject", c.subject},
          {"issuer", c.issuer},
          {"serial", c.serial},
          {"not_before", to_rfc3339(c.not_before)},
          {"not_after", to_rfc3339(c.not_after)}};
}

nlohmann::json report_json(const TokenReport& r) {
  nlohmann::json certs = nlohmann::json::object(), pins = nlohmann::json::object();
  for (const auto& [name, c] : r.certificates) certs[name] = summary_json(c);
  for (PinRef p : kPinRefs) {
    const auto& s = r.pins[static_cast<std::size_t>(p)];
    pins[std::string(pin_name(p))] = s ? nlohmann::json{{"tries_left", s->tries_left},
                                                        {"max_tries", s->max_tries},
                                                        {"blocked", s->blocked()}}
                                       : nlohmann::json(nullptr);
  }
  nlohmann::json doc = {{"label", r.label}, {"certificates", certs}, {"pins", pins}};
  if (r.facts)
    doc["holder"] = {{"name", r.facts->name},
                     {"birth", r.facts->birth},
                     {"sex", r.facts->sex},
                     {"address", r.facts->address}};
  return doc;
}

void print_report(const TokenReport& r, bool sign_requested) {
  std::cout << "token: " << r.label << "\n";
  const std::pair<const char*, const char*> names[] = {{"auth", "authentication certificate"},
                                                       {"auth_ca", "authentication CA"},
                                                       {"sign", "signature certificate"},
                                                       {"sign_ca", "signature CA"}};
  for (const auto& [key, title] : names) {
    auto it = r.certificates.find(key);
    if (it == r.certificates.end()) {
      std::cout << title << ": "
                << (std::string(key) == "sign" && !sign_requested ? "(needs --sign-password)"
                                                                  : "(none)")
                << "\n";
      continue;
    }
    const auto& c = it->second;
    std::cout << title << ":\n  subject: " << c.subject << "\n  serial:  " << c.serial
              << "\n  valid:   " << to_rfc3339(c.not_before) << " to " << to_rfc3339(c.not_after)
              << "\n";
  }
  for (PinRef p : kPinRefs) {
    const auto& s = r.pins[static_cast<std::size_t>(p)];
    std::cout << (p == PinRef::Auth ? "auth PIN: " : "signature password: ");
    if (!s)
      std::cout << "not set\n";
    else
      std::cout << s->tries_left << " of " << s->max_tries << " tries left"
                << (s->blocked() ? " (blocked)" : "") << "\n";
  }
  if (r.facts)
    std::cout << "holder:\n  name:    " << r.facts->name << "\n  birth:   " << r.facts->birth
              << "\n  sex:     " << r.facts->sex << "\n  address: " << r.facts->address << "\n";
}

int card_info(const Source& src, const std::optional<std::string>& password, GlobalOptions& g) {
  OsRandom random;
  auto token = open_token(src, random);
  if (!token) return report(token.error(), g);
  JpkiClient client(token->transport());
  auto r = read_token_report(client, password);
  if (!r) return report(r.error(), g);
  if (g.json)
    print_json(report_json(*r));
  else
    print_report(*r, password.has_value());
  return kExitOk;
}

Result<std::uint16_t> certificate_ef(const std::string& which) {
  if (which == "auth") return kAuthCertFile;
  if (which == "sign") return kSignCertFile;
  if (which == "auth-ca") return kAuthCaFile;
  if (which == "sign-ca") return kSignCaFile;
  return fail(Errc::invalid_argument, "--cert is one of auth, sign, auth-ca, sign-ca");
}

int card_read_cert(const Source& src, const std::string& which,
                   const std::optional<std::string>& password, const std::string& out, bool der,
                   GlobalOptions& g) {
  auto ef = certificate_ef(which);
  if (!ef) return report(ef.error(), g);
  OsRandom random;
  auto token = open_token(src, random);
  if (!token) return report(token.error(), g);
  JpkiClient client(token->transport());
  if (password) {
    if (auto v = client.verify(PinRef::Sign, *password); !v) return report(v.error(), g);
  }
  auto bytes = client.read_certificate(*ef);
  if (!bytes) return report(bytes.error(), g);
  auto cert = pki::parse_certificate(*bytes);
  if (!cert) return report(cert.error(), g);
  std::string pem = pki::to_pem(cert->get());
  if (!out.empty()) {
    auto st = der ? write_file_atomic(out, *bytes) : write_file_atomic(out, as_bytes(pem));
    if (!st) return report(st.error(), g);
  } else if (!g.json) {
    std::cout << pem;
  }
  if (g.json) print_json({{"certificate", which}, {"pem", pem}});
  return kExitOk;
}

int card_sign(const Source& src, const std::string& key, const std::string& pin,
              const std::string& in, const std::string& out, GlobalOptions& g) {
  const PinRef ref = key == "sign" ? PinRef::Sign : PinRef::Auth;
  auto data = read_file(in);
  if (!data) return report(data.error(), g);
  OsRandom random;
  auto token = open_token(src, random);
  if (!token) return report(token.error(), g);
  auto signer = CardSigner::open(token->transport(), ref, pin);
  if (!signer) return report(signer.error(), g);
  auto sig = signer->sign_sha256(pki::sha256(*data));
  if (!sig) return report(sig.error(), g);
  if (auto st = write_file_atomic(out, *sig); !st) return report(st.error(), g);
  if (g.json)
    print_json({{"key", key},
                {"algorithm", "sha256WithRSAEncryption"},
                {"signature", out},
                {"bytes", sig->size()}});
  else
    std::cout << "signed " << in << " with the " << key << " key: " << out << "\n";
  return kExitOk;
}

int card_readers(GlobalOptions& g) {
  auto readers = PcscTransport::list_readers();
  if (!readers) return report(readers.error(), g);
  if (g.json)
    print_json({{"readers", *readers}});
  else
    for (const auto& r : *readers) std::cout << r << "\n";
  return kExitOk;
}

// SIGINT/SIGTERM become readable bytes on a signalfd the bridge polls: no
// handler, no global flag.
class StopSignals {
 public:
  StopSignals() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGINT);
    sigaddset(&set_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set_, &old_);
    fd_ = ::signalfd(-1, &set_, SFD_CLOEXEC | SFD_NONBLOCK);
  }
  ~StopSignals() {
    // Take the signal that stopped us, or unblocking would deliver it again.
    signalfd_siginfo info;
    while (fd_ >= 0 && ::read(fd_, &info, sizeof info) == sizeof info) {
    }
    if (fd_ >= 0) ::close(fd_);
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  StopSignals(const StopSignals&) = delete;
  StopSignals& operator=(const StopSignals&) = delete;
  int fd() const { return fd_; }

 private:
  sigset_t set_{}, old_{};
  int fd_ = -1;
};

int card_attach(const std::string& card_path, const std::string& vpcd, const std::string& listen,
                const std::string& atr_hex, GlobalOptions& g) {
  VpcdOptions o;
  if (!listen.empty()) o.mode = VpcdOptions::Mode::Listen;
  auto addr =
      parse_host_port(listen.empty() ? (vpcd.empty() ? "127.0.0.1" : vpcd) : listen, kVpcdPort);
  if (!addr) return report(addr.error(), g);
  o.address = *addr;
  if (atr_hex.empty()) {
    o.atr.assign(kCardAtr.begin(), kCardAtr.end());
  } else {
    auto atr = hex_decode(atr_hex);
    if (!atr || atr->size() < 2 || atr->size() > 33)
      return report({Errc::invalid_argument, "--atr is 2 to 33 bytes of hex"}, g);
    o.atr = *atr;
  }
  OsRandom random;
  auto card = StoredApplet::open(card_path, random);
  if (!card) return report(card.error(), g);
  StopSignals stop;
  o.stop_fd = stop.fd();
  o.log = [](const std::string& line) { std::cerr << "smacert: " << line << std::endl; };
  auto st = serve_vpcd(*card, o);
  if (!st) return report(st.error(), g);
  if (g.json)
    print_json({{"card", card_path}, {"status", "detached"}});
  else
    std::cerr << "smacert: card detached\n";
  return kExitOk;
}

}  // namespace

void add_card_commands(CLI::App& app, GlobalOptions& g, int& result) {
  auto* card = app.add_subcommand("card", "A My Number Card: virtual (a file) or in a reader");
  card->require_subcommand(1);

  {
    auto src = std::make_shared<Source>();
    auto pw = std::make_shared<std::optional<std::string>>();
    auto* sub = add_command(*card, "info",
                            "Certificates, tries left and (with the password) the holder's facts",
                            result, [src, pw, &g] { return card_info(*src, *pw, g); });
    add_source_options(sub, *src);
    sub->add_option("--sign-password", *pw,
                    "Signature password; checked by the card (a wrong one costs a try)");
  }
  {
    auto card_path = std::make_shared<std::string>();
    auto vpcd = std::make_shared<std::string>();
    auto listen = std::make_shared<std::string>();
    auto atr = std::make_shared<std::string>();
    auto* sub = add_command(
        *card, "attach", "Insert the virtual card into pcscd's vpcd reader until interrupted",
        result, [=, &g] { return card_attach(*card_path, *vpcd, *listen, *atr, g); });
    sub->add_option("--card", *card_path, "Virtual card image file")->required();
    auto* v =
        sub->add_option("--vpcd", *vpcd, "Connect to a listening vpcd (default 127.0.0.1:35963)");
    auto* l = sub->add_option("--listen", *listen, "Wait for vpcd to connect (its reversed mode)");
    v->excludes(l);
    sub->add_option("--atr", *atr, "ATR to present, hex (default: a real card's contact ATR)");
  }
  {
    auto* sub = add_command(*card, "readers", "List PC/SC readers", result,
                            [&g] { return card_readers(g); });
    (void)sub;
  }
  {
    auto src = std::make_shared<Source>();
    auto which = std::make_shared<std::string>();
    auto pw = std::make_shared<std::optional<std::string>>();
    auto out = std::make_shared<std::string>();
    auto der = std::make_shared<bool>(false);
    auto* sub = add_command(*card, "read-cert", "Read a certificate from the card", result,
                            [=, &g] { return card_read_cert(*src, *which, *pw, *out, *der, g); });
    add_source_options(sub, *src);
    sub->add_option("--cert", *which, "auth | sign | auth-ca | sign-ca")->required();
    sub->add_option("--sign-password", *pw, "Needed for the signature certificate");
    sub->add_option("--out", *out, "Write to FILE (PEM, or DER with --der) instead of stdout");
    sub->add_flag("--der", *der, "Write DER");
  }
  {
    auto src = std::make_shared<Source>();
    auto key = std::make_shared<std::string>("auth");
    auto pin = std::make_shared<std::string>();
    auto in = std::make_shared<std::string>();
    auto out = std::make_shared<std::string>();
    auto* sub =
        add_command(*card, "sign", "Sign SHA-256(FILE) with a card key (raw PKCS#1 v1.5 signature)",
                    result, [=, &g] { return card_sign(*src, *key, *pin, *in, *out, g); });
    add_source_options(sub, *src);
    sub->add_option("--key", *key, "auth | sign")->check(CLI::IsMember({"auth", "sign"}));
    sub->add_option("--pin", *pin, "The key's PIN or password")->required();
    sub->add_option("--in", *in, "File to sign")->required();
    sub->add_option("--out", *out, "Signature file")->required();
  }
}

}  // namespace smacert::cli
