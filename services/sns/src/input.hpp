#pragma once
// Reading decoded Query inputs: SNS answers a missing top-level parameter with InvalidParameter
// ("... Reason: no value for required parameter"), not with the model's generic validation.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "errors.hpp"

namespace fogbank::sns::input {

inline std::optional<std::string> optional_string(const nlohmann::json& in, const char* name) {
  auto it = in.find(name);
  if (it == in.end() || !it->is_string()) {
    return std::nullopt;
  }
  return it->get<std::string>();
}

inline std::string required_string(const nlohmann::json& in, const char* name) {
  auto v = optional_string(in, name);
  if (!v) {
    throw missing_parameter(name);
  }
  return *v;
}

/// A string→string map member (Attributes); values that are not strings are skipped.
inline std::map<std::string, std::string> string_map(const nlohmann::json& in, const char* name) {
  std::map<std::string, std::string> out;
  auto it = in.find(name);
  if (it != in.end() && it->is_object()) {
    for (const auto& [k, v] : it->items()) {
      if (v.is_string()) {
        out[k] = v.get<std::string>();
      }
    }
  }
  return out;
}

inline std::vector<std::string> string_list(const nlohmann::json& in, const char* name) {
  std::vector<std::string> out;
  auto it = in.find(name);
  if (it != in.end() && it->is_array()) {
    for (const auto& v : *it) {
      if (v.is_string()) {
        out.push_back(v.get<std::string>());
      }
    }
  }
  return out;
}

inline bool boolean(const nlohmann::json& in, const char* name) {
  auto it = in.find(name);
  return it != in.end() && it->is_boolean() && it->get<bool>();
}

}  // namespace fogbank::sns::input
