// Static website hosting: Put/Get/DeleteBucketWebsite and the website endpoint, which answers
// anonymous GET and HEAD requests with index documents, error documents, redirects and HTML error
// pages the way S3's website endpoints do.
//
// Endpoint forms: the Host `<bucket>.s3-website-<region>.<domain>` or
// `<bucket>.s3-website.<region>.<domain>` (AWS's two forms; `*.localhost` names resolve to the
// loopback address on most systems), and the path `/_website/<bucket>/<key>` on fogbank's port,
// which needs no DNS at all (bucket names cannot contain '_', so no bucket is shadowed).

#include "s3_internal.hpp"

namespace fogbank::s3 {

namespace {

using nlohmann::json;

constexpr std::string_view kPathForm = "/_website/";

std::string html_escape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string status_text(int status) {
  switch (status) {
    case 403: return "403 Forbidden";
    case 404: return "404 Not Found";
    case 405: return "405 Method Not Allowed";
    default: return std::to_string(status);
  }
}

/// S3's website error page.
Response html_error(int status, std::string_view code, std::string_view message, const RequestContext& ctx,
                    std::vector<std::pair<std::string, std::string>> fields = {}) {
  std::string body = "<html>\n<head><title>" + status_text(status) + "</title></head>\n<body>\n<h1>" +
                     status_text(status) + "</h1>\n<ul>\n<li>Code: " + html_escape(code) + "</li>\n<li>Message: " +
                     html_escape(message) + "</li>\n";
  for (const auto& [name, value] : fields) {
    body += "<li>" + html_escape(name) + ": " + html_escape(value) + "</li>\n";
  }
  body += "<li>RequestId: " + html_escape(ctx.request_id) + "</li>\n<li>HostId: " + html_escape(ctx.request_id) +
          "</li>\n</ul>\n<hr/>\n</body>\n</html>\n";
  Response r(status, ctx.head.method == "HEAD" ? std::string() : body, "text/html; charset=utf-8");
  if (ctx.head.method == "HEAD") {
    r.content_length = body.size();
  }
  return r;
}

Response redirect(int code, std::string location) {
  Response r(code, "");
  r.headers.set("Location", std::move(location));
  return r;
}

void check_protocol(const json& v) {
  if (auto p = v.find("Protocol"); p != v.end() && *p != "http" && *p != "https") {
    throw AwsError("InvalidArgument", 400, "Invalid protocol, protocol can be http or https. If not defined the "
                                           "protocol will be selected automatically.");
  }
}

}  // namespace

std::optional<WebsiteTarget> website_target(const protocol::RequestHead& head) {
  auto decode = [](std::string_view raw) -> std::optional<std::string> {
    return protocol::percent_decode(raw, false);
  };
  std::string_view path = head.path;
  if (path.starts_with(kPathForm)) {
    path.remove_prefix(kPathForm.size());
    const auto slash = path.find('/');
    auto bucket = decode(path.substr(0, slash));
    auto key = decode(slash == std::string_view::npos ? std::string_view() : path.substr(slash + 1));
    if (!bucket || !key || bucket->empty()) {
      return std::nullopt;
    }
    return WebsiteTarget{std::move(*bucket), std::move(*key), std::string(kPathForm) + std::string(path.substr(0, slash)) + "/"};
  }
  const auto host = head.host_name();
  for (std::string_view marker : {".s3-website-", ".s3-website."}) {
    if (auto at = host.find(marker); at != std::string_view::npos && at > 0) {
      auto key = decode(path.empty() ? path : path.substr(1));
      if (!key) {
        return std::nullopt;
      }
      return WebsiteTarget{std::string(host.substr(0, at)), std::move(*key), "/"};
    }
  }
  return std::nullopt;
}

Response S3Service::put_bucket_website(Call& c) {
  require_bucket(c);
  auto config = decode_body_xml("PutBucketWebsite", c.body);
  const bool redirect_all = config.contains("RedirectAllRequestsTo");
  if (redirect_all) {
    if (config.size() != 1) {
      throw AwsError("InvalidArgument", 400, "RedirectAllRequestsTo cannot be provided in conjunction with other "
                                             "Routing Rules.");
    }
    check_protocol(config["RedirectAllRequestsTo"]);
  } else {
    auto index = config.find("IndexDocument");
    if (index == config.end()) {
      throw AwsError("InvalidArgument", 400, "A value for IndexDocument Suffix must be provided if "
                                             "RedirectAllRequestsTo is empty");
    }
    const auto suffix = index->value("Suffix", std::string());
    if (suffix.empty() || suffix.find('/') != std::string::npos) {
      throw AwsError("InvalidArgument", 400, "The IndexDocument Suffix is not well formed");
    }
    if (auto rules = config.find("RoutingRules"); rules != config.end()) {
      for (const auto& rule : *rules) {
        const auto& r = rule.value("Redirect", json::object());
        if (r.contains("ReplaceKeyPrefixWith") && r.contains("ReplaceKeyWith")) {
          throw AwsError("InvalidRequest", 400, "You can only define ReplaceKeyPrefix or ReplaceKey but not both.");
        }
        if (auto code = r.find("HttpRedirectCode"); code != r.end()) {
          const auto text = code->get<std::string>();
          if (text.size() != 3 || text[0] != '3') {
            throw AwsError("InvalidRedirectLocation", 400, "The provided HTTP redirect code (" + text +
                                                               ") is not valid. Valid codes are 3XX except 300.");
          }
        }
        check_protocol(r);
      }
    }
  }
  return update_bucket(c, 200, [&](BucketRecord& b) { b.website = config.dump(); });
}

Response S3Service::get_bucket_website(Call& c) {
  auto b = require_bucket(c);
  if (b.website.empty()) {
    throw AwsError("NoSuchWebsiteConfiguration", 404, "The specified bucket does not have a website configuration")
        .with_field("BucketName", c.bucket);
  }
  return xml_response(encode_output_xml("GetBucketWebsite", json::parse(b.website), "WebsiteConfiguration"));
}

Response S3Service::delete_bucket_website(Call& c) {
  return update_bucket(c, 204, [&](BucketRecord& b) { b.website.clear(); });
}

Response S3Service::serve_website(RequestContext& ctx, const WebsiteTarget& target) {
  ctx.operation = "WebsiteRequest";
  if (ctx.head.method != "GET" && ctx.head.method != "HEAD") {
    auto r = html_error(405, "MethodNotAllowed", "The specified method is not allowed against this resource.", ctx,
                        {{"Method", ctx.head.method}, {"ResourceType", "OBJECT"}});
    r.headers.set("Allow", "GET, HEAD");
    return r;
  }
  auto b = bucket(target.bucket);
  if (!b) {
    return html_error(404, "NoSuchBucket", "The specified bucket does not exist", ctx,
                      {{"BucketName", target.bucket}});
  }
  if (b->website.empty()) {
    return html_error(404, "NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration",
                      ctx, {{"BucketName", target.bucket}});
  }
  const json config = json::parse(b->website);
  const std::string host(ctx.head.host_name());
  const std::string scheme = ctx.head.tls ? "https" : "http";
  if (auto all = config.find("RedirectAllRequestsTo"); all != config.end()) {
    return redirect(301, all->value("Protocol", scheme) + "://" + all->value("HostName", host) + "/" + target.key);
  }
  // Routing rules: the first whose condition holds (a key prefix now; an error code once known).
  auto routed = [&](int error_code) -> std::optional<Response> {
    auto rules = config.find("RoutingRules");
    if (rules == config.end()) {
      return std::nullopt;
    }
    for (const auto& rule : *rules) {
      const json cond = rule.value("Condition", json::object());
      if (auto prefix = cond.find("KeyPrefixEquals"); prefix != cond.end() &&
                                                     !target.key.starts_with(prefix->get<std::string>())) {
        continue;
      }
      if (auto code = cond.find("HttpErrorCodeReturnedEquals"); code != cond.end()) {
        if (std::to_string(error_code) != code->get<std::string>()) {
          continue;
        }
      } else if (error_code != 0) {
        continue;  // a rule without an error-code condition redirects before the object is looked at
      }
      const json r = rule.value("Redirect", json::object());
      std::string key = target.key;
      if (auto with = r.find("ReplaceKeyWith"); with != r.end()) {
        key = with->get<std::string>();
      } else if (auto prefix_with = r.find("ReplaceKeyPrefixWith"); prefix_with != r.end()) {
        const auto matched = cond.value("KeyPrefixEquals", std::string());
        key = prefix_with->get<std::string>() + key.substr(matched.size());
      }
      const int status = std::stoi(r.value("HttpRedirectCode", std::string("301")));
      const std::string location = r.contains("HostName")
                                       ? r.value("Protocol", scheme) + "://" + r.value("HostName", host) + "/" + key
                                       : target.base + key;
      return redirect(status, location);
    }
    return std::nullopt;
  };
  if (auto r = routed(0)) {
    return std::move(*r);
  }
  const std::string suffix = config["IndexDocument"].value("Suffix", std::string("index.html"));
  std::string key = target.key;
  if (key.empty() || key.ends_with('/')) {
    key += suffix;
  }
  // Serve an object as the owner would read it: the website is public by the owner's choice.
  ctx.account_id = b->account;
  auto serve = [&](const std::string& object_key, int status) -> std::optional<Response> {
    auto o = load_object(target.bucket, object_key);
    if (!o || o->delete_marker) {
      return std::nullopt;
    }
    for (const auto& [name, value] : o->headers) {
      if (protocol::iequals(name, "x-amz-website-redirect-location")) {
        return redirect(301, value);
      }
    }
    Call call(ctx);
    call.bucket = target.bucket;
    call.key = object_key;
    call.scheduler = &scheduler_;
    Response r = ctx.head.method == "HEAD" ? head_object(call) : get_object(call);
    if (status != 200 && r.status == 200) {
      r.status = status;
    }
    return r;
  };
  try {
    if (auto r = serve(key, 200)) {
      return std::move(*r);
    }
    // "photos" without the slash, when "photos/index.html" exists: S3 redirects to the folder.
    if (auto index = key.ends_with(suffix) ? std::nullopt : load_object(target.bucket, key + "/" + suffix);
        index && !index->delete_marker) {
      return redirect(302, target.base + target.key + "/");
    }
    if (auto r = routed(404)) {
      return std::move(*r);
    }
    if (auto error_doc = config.find("ErrorDocument"); error_doc != config.end()) {
      if (auto r = serve(error_doc->value("Key", std::string()), 404)) {
        return std::move(*r);
      }
    }
  } catch (const AwsError& e) {
    return html_error(e.status, e.code, e.message, ctx);
  }
  return html_error(404, "NoSuchKey", "The specified key does not exist.", ctx, {{"Key", key}});
}

}  // namespace fogbank::s3
