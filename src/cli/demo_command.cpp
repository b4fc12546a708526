// smacert demo — the main job: a fresh service, a card, an old phone, then
// the seed's device change ①–⑬ on a new phone, narrated step by step, with
// real peers (openssl) checking the outcome at the end.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "card/stored_applet.h"
#include "cli/background.h"
#include "cli/command.h"
#include "cli/phone_ui_command.h"
#include "core/encoding.h"
#include "core/files.h"
#include "counter/card_issuance.h"
#include "phone/app.h"
#include "pki/ocsp.h"

namespace smacert::cli {
namespace {

namespace fs = std::filesystem;

struct DemoOptions {
  bool keep = false;
  std::string dir;
};

// `smacert serve` as a child process on a free loopback port.
struct ServiceProcess {
  pid_t pid = -1;
  std::string url;
  ~ServiceProcess() { stop(); }
  void stop() {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    int status = 0;
    ::waitpid(pid, &status, 0);
    pid = -1;
  }
  void detach() { pid = -1; }
};

Result<std::unique_ptr<ServiceProcess>> start_service(const fs::path& data, const fs::path& log) {
  auto started = start_background({"serve", "--data", data.string(), "--listen", "127.0.0.1:0"},
                                  log, "the service");
  if (!started) return fail(started.error());
  auto proc = std::make_unique<ServiceProcess>();
  proc->pid = started->pid;
  proc->url = started->url;
  return proc;
}

class Narrator {
 public:
  explicit Narrator(const GlobalOptions& g) : g_(g) {}
  void step(std::string_view number, std::string_view ja, std::string_view en) {
    auto now = std::chrono::system_clock::now();
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now - start_).count();
    char stamp[32];
    std::snprintf(stamp, sizeof stamp, "[%7.3fs] ", static_cast<double>(ms) / 1000.0);
    std::string num(number.empty() ? "  " : number);
    std::cout << stamp << num << "  " << say(g_, ja, en) << std::endl;
  }

 private:
  const GlobalOptions& g_;
  std::chrono::system_clock::time_point start_ = std::chrono::system_clock::now();
};

// openssl ocsp, a real peer, asks the running responder about one certificate.
struct PeerAnswer {
  std::string status;  // "good", "revoked (superseded)", …
  bool verified = false;
};

PeerAnswer openssl_ocsp(const fs::path& cert, const fs::path& ca, const std::string& url) {
  std::string cmd = "openssl ocsp -issuer '" + ca.string() + "' -cert '" + cert.string() +
                    "' -url '" + url + "' -CAfile '" + ca.string() + "' 2>&1";
  PeerAnswer a;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return a;
  std::string out;
  char buf[512];
  while (std::fgets(buf, sizeof buf, p) != nullptr) out += buf;
  ::pclose(p);
  a.verified = out.find("Response verify OK") != std::string::npos;
  std::string tag = cert.string() + ": ";
  auto at = out.find(tag);
  if (at != std::string::npos)
    a.status = out.substr(at + tag.size(), out.find('\n', at) - at - tag.size());
  auto reason = out.find("Reason: ");
  if (a.status == "revoked" && reason != std::string::npos)
    a.status += " (" + out.substr(reason + 8, out.find('\n', reason) - reason - 8) + ")";
  return a;
}

int run_demo(const GlobalOptions& g, const DemoOptions& o) {
  Narrator say_step(g);
  fs::path dir = o.dir;
  if (dir.empty()) {
    std::string tmpl = (fs::temp_directory_path() / "smacert-demo-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      return report(Error{Errc::io, "cannot make a folder for the demo"}, g);
    dir = tmpl;
  }
  if (auto st = ensure_directory(dir, 0700); !st) return report(st.error(), g);
  OsRandom random;
  auto fail_with = [&](const Error& e) { return report(e.context("demo"), g); };

  auto service = start_service(dir / "data", dir / "service.log");
  if (!service) return fail_with(service.error());
  say_step.step("", "サービスを起動しました: " + (*service)->url,
                "service started: " + (*service)->url);

  // The counter issues the holder's My Number Card.
  auto token = read_file(dir / "data" / "admin.token", 4096);
  if (!token) return fail_with(token.error());
  std::string t(as_chars(*token));
  while (!t.empty() && t.back() == '\n') t.pop_back();
  http::ApiClient admin((*service)->url, t);
  fs::path card_file = dir / "card.json";
  auto card = counter::issue_card(
      admin, {"見本　花子", "東京都千代田区霞が関１－２－３", "1980-01-01", 2, "CARD1234", "1234"},
      card_file, random);
  if (!card) return fail_with(card.error());
  say_step.step("", "市区町村窓口: マイナンバーカードを交付しました（見本　花子）",
                "counter: issued a My Number Card to 見本　花子");
  auto card_transport = card::StoredApplet::open(card_file, random);
  if (!card_transport) return fail_with(card_transport.error());

  // The old phone: first application, registration, check.
  auto old_phone =
      phone::PhoneApp::create(dir / "old-phone", "android", "Pixel 7", (*service)->url, random);
  if (!old_phone) return fail_with(old_phone.error());
  phone::ApplyInput first{"new", &*card_transport, "CARD1234", true,   true,   true,
                          false, "OLDPASS1",       "OLDPASS1", "1111", "1111", {}};
  if (auto r = old_phone->apply(first); !r) return fail_with(r.error());
  if (auto r = old_phone->sync(std::chrono::seconds(5)); !r) return fail_with(r.error());
  if (auto r = old_phone->register_certificates(); !r) return fail_with(r.error());
  if (auto r = old_phone->check({std::string("1111"), false}); !r) return fail_with(r.error());
  auto old_certs = old_phone->state().certificates;
  say_step.step("", "古いスマホ: 利用申請・登録・動作確認が完了しています",
                "old phone: applied, registered and checked");

  // The seed: the device change from the NEW phone.
  auto new_phone =
      phone::PhoneApp::create(dir / "new-phone", "android", "Pixel 9", (*service)->url, random);
  if (!new_phone) return fail_with(new_phone.error());
  say_step.step("①", "新しいスマホでマイナポータルアプリを開きます",
                "open the app on the new phone");
  say_step.step("②", "「メニュー」を押します", "tap Menu");
  say_step.step("③", "「機種変更」を押します", "tap 機種変更 (device change)");
  phone::ApplyInput change{"device_change", &*card_transport, "CARD1234", true,   true, true, true,
                           "NEWPASS2",      "NEWPASS2",       "2222",     "2222", {}};
  // The screens before the card is read (⑤–⑦, ⑨) are choices the app
  // collects; the steps with work behind them are reported as it finishes.
  change.progress = [&](std::string_view step) {
    if (step == "④") {
      say_step.step("④", "マイナンバーカードの署名用パスワードを入力（カードが照合）",
                    "card signature password entered (checked by the card)");
      say_step.step("⑤", "申請するスマホ用電子証明書にチェック（署名用・利用者証明用）",
                    "both certificates checked");
      say_step.step("⑥", "「確認しました」にチェックを付けます", "tick 確認しました");
      say_step.step("⑦", "「申請する」を押します", "tap 申請する (apply)");
    } else if (step == "⑧") {
      say_step.step("⑧", "マイナンバーカードを読み取りました",
                    "card read: its signature certificate");
      say_step.step("⑨", "古いスマホの電子証明書の失効に「同意して次へ」",
                    "agree that the old phone's certificates are revoked");
    } else if (step == "⑩") {
      say_step.step("⑩",
                    "新しいパスワードを設定（6~16ケタ、英大文字と数字の組み合わせ）; "
                    "鍵はスマホの安全な領域で生成",
                    "new passwords set; keys made in the phone's secure element");
    } else if (step == "⑪") {
      say_step.step("⑪", "「次へ」→ 申請の完了（カードが申請に署名）",
                    "tap 次へ → application complete (signed by the card)");
    }
  };
  auto applied = new_phone->apply(change);
  if (!applied) return fail_with(applied.error());
  auto pushed = new_phone->sync(std::chrono::seconds(10));
  if (!pushed) return fail_with(pushed.error());
  say_step.step("", "プッシュ通知: 登録準備が完了しています",
                "push notification: ready to register");
  say_step.step("⑫", "マイページで「登録する」を押します", "tap 登録する on My Page");
  if (auto r = new_phone->register_certificates(); !r) return fail_with(r.error());
  say_step.step("⑬", "「登録する」→ 登録完了", "tap 登録する → registration complete");
  auto wiped = old_phone->sync(std::chrono::seconds(10));
  if (!wiped) return fail_with(wiped.error());
  bool old_wiped = old_phone->state().wiped;
  say_step.step("",
                old_wiped ? "古いスマホ: 削除の通知を受け、電子証明書を削除しました"
                          : "古いスマホ: 削除の通知がまだありません",
                old_wiped ? "old phone: wipe event received, secure element erased"
                          : "old phone: no wipe event yet");
  if (auto r = new_phone->enroll_biometrics("2222"); !r) return fail_with(r.error());
  say_step.step("", "生体認証などの利用登録をしました", "biometrics enrolled");
  auto check = new_phone->check({std::nullopt, true});
  if (!check) return fail_with(check.error());
  say_step.step("", "動作確認: ログインとOCSPの確認ができました",
                "operation check passed (login + OCSP)");

  // A document signed on the new phone, checked by openssl.
  auto doc = to_bytes("電子申請書 / e-application\n");
  auto sig = new_phone->sign("NEWPASS2", doc);
  if (!sig) return fail_with(sig.error());
  if (auto st = write_file_atomic(dir / "document.txt", doc); !st) return fail_with(st.error());
  if (auto st = write_file_atomic(dir / "document.p7s", *sig); !st) return fail_with(st.error());
  std::string verify = "openssl cms -verify -binary -inform DER -in '" +
                       (dir / "document.p7s").string() + "' -content '" +
                       (dir / "document.txt").string() + "' -CAfile '" +
                       (dir / "data/ca/sign/ca.pem").string() + "' -out /dev/null > /dev/null 2>&1";
  bool cms_ok = std::system(verify.c_str()) == 0;
  say_step.step("",
                cms_ok ? "新しいスマホの署名を openssl cms -verify で検証しました"
                       : "openssl cms -verify が署名を拒否しました",
                cms_ok ? "the new phone's CMS signature verified by openssl cms -verify"
                       : "openssl cms -verify refused the signature");

  // The summary: every phone certificate, as openssl ocsp hears it from the responder.
  std::cout << "\n"
            << say(g, "結果（openssl ocsp による確認）", "Summary (as openssl ocsp hears it)")
            << "\n";
  std::cout << std::left << std::setw(6) << "phone" << std::setw(12) << "kind" << std::setw(34)
            << "serial"
            << "OCSP\n";
  bool ok = old_wiped && cms_ok;
  auto rows = [&](const std::string& who, const std::vector<phone::PhoneCertificate>& certs,
                  bool expect_good) {
    for (const auto& c : certs) {
      auto rec = admin.get("/admin/v1/certificates/" + c.serial);
      auto der =
          rec ? base64_decode(rec->value("certificate", "")) : Result<Bytes>(fail(rec.error()));
      auto cert = der ? pki::parse_certificate(*der) : Result<pki::X509Ptr>(fail(der.error()));
      std::string ca = c.kind == "phone_sign" ? "sign" : "auth";
      PeerAnswer answer;
      if (cert) {
        fs::path pem = dir / (who + "-" + c.kind + ".pem");
        if (write_file_atomic(pem, as_bytes(pki::to_pem(cert->get()))))
          answer =
              openssl_ocsp(pem, dir / "data/ca" / ca / "ca.pem", (*service)->url + "/ocsp/" + ca);
      }
      bool right = answer.verified && (expect_good ? answer.status == "good"
                                                   : answer.status == "revoked (superseded)");
      ok = ok && right;
      std::cout << std::setw(6) << who << std::setw(12) << c.kind << std::setw(34) << c.serial
                << (answer.status.empty() ? "error" : answer.status)
                << (answer.verified ? "" : " (unverified)") << "\n";
    }
  };
  rows("old", old_certs, false);
  rows("new", new_phone->state().certificates, true);
  std::cout << say(g, "古いスマホの電子証明書: ", "old phone's secure element: ")
            << (old_wiped ? say(g, "削除済", "erased") : say(g, "未削除", "NOT erased")) << "\n"
            << say(g, "動作確認: ", "operation check: ") << say(g, "完了", "passed") << "\n"
            << say(g, "CMS署名 (openssl cms -verify): ", "CMS signature (openssl cms -verify): ")
            << (cms_ok ? say(g, "検証成功", "verified") : say(g, "失敗", "FAILED")) << "\n";

  if (o.keep) {
    pid_t pid = (*service)->pid;
    (*service)->detach();
    // The lab: new-phone (now holding the certificates) beside a fresh
    // next-phone, so that a person can click through the whole device change
    // again in the browser while the certificate table follows it live.
    std::string stop = std::to_string(pid);
    auto next =
        phone::PhoneApp::create(dir / "next-phone", "android", "Pixel 10", (*service)->url, random);
    if (!next) return fail_with(next.error());
    auto lab =
        start_lab_process(dir, (*service)->url, {"new-phone", "next-phone"}, dir / "lab.log");
    if (!lab) return fail_with(lab.error());
    stop += " " + std::to_string(lab->pid);
    std::cout << "\n"
              << say(g, "サービスは動作し続けます: ", "The service keeps running: ")
              << (*service)->url << "\n"
              << "  " << say(g, "ラボ（ブラウザで開く）: ", "lab (open in a browser): ") << lab->url
              << "\n"
              << "  "
              << say(g, "next-phone で機種変更できます（カードのパスワード CARD1234）",
                     "next-phone can make a device change (card password CARD1234)")
              << "\n"
              << "  " << say(g, "フォルダ: ", "folder: ") << dir.string() << "\n"
              << "  " << say(g, "例: ", "try: ") << "smacert --server " << (*service)->url
              << " phone status --dir " << (dir / "new-phone").string() << " --auth-pin 2222\n"
              << "  " << say(g, "停止: ", "stop: ") << "kill " << stop << "\n";
  } else {
    (*service)->stop();
    if (o.dir.empty()) fs::remove_all(dir);
  }
  return ok ? kExitOk : kExitFailure;
}

}  // namespace

void add_demo_command(CLI::App& app, GlobalOptions& g, int& result) {
  auto o = std::make_shared<DemoOptions>();
  auto* demo =
      add_command(app, "demo", "The main job: the seed's device change ①–⑬, narrated, end to end",
                  result, [&g, o] { return run_demo(g, *o); });
  demo->add_flag("--keep", o->keep, "Leave the service running and print how to reach it");
  demo->add_option("--dir", o->dir, "Folder for the demo (default: a new temporary folder)");
}

}  // namespace smacert::cli
