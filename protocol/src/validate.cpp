// Constraint validation from the model, worded as AWS's Coral framework words it:
//   "2 validation errors detected: Value 'x y' at 'streamName' failed to satisfy constraint:
//    Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+; Value null at ..."
// Paths, the order of a member's checks (pattern, then length) and the cap of ten listed errors
// follow what kinesalite measured against Kinesis; list items are "records.1.member", map values
// "tags.<key>.member". Sensitive members are named without their value ("Value at 'password'"),
// as Cognito answers. Blobs render as Java's ByteBuffer.toString(), which is what AWS prints.
//
// Model patterns are Java regular expressions. They are translated to ECMAScript for std::wregex
// over code points (Java matches code points, not UTF-16 units) and matched in full, as Coral
// does. The most common shape, one character class with a quantifier ("[\w+=,.@-]*"), never goes
// near std::regex: its backtracking executor recurses per character. A pattern that does not
// translate (lookbehind, class intersection, unknown \p{..}) is not checked at all.

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <regex>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "fogbank/protocol/aws_error.hpp"
#include "shape_walk.hpp"

namespace fogbank::protocol::codec {

namespace {

using model::Member;
using model::Shape;
using model::ShapeType;

static_assert(sizeof(wchar_t) == 4, "patterns are matched as UTF-32 code points in std::wregex");

constexpr std::size_t kMaxListedErrors = 10;
/// Longest input std::regex is given. Its executor recurses per character (about 260 bytes of
/// stack each, measured with GCC 12), so a longer value skips a pattern that is not a plain
/// character run rather than risk the stack; ARNs, the longest patterned values, stop at 2048.
constexpr std::size_t kRegexInputLimit = 2048;
constexpr char32_t kMaxCodePoint = 0x10FFFF;

// --- character sets ---------------------------------------------------------------------------

class CharSet {
 public:
  void add(char32_t lo, char32_t hi) {
    ranges_.emplace_back(lo, hi);
    normalized_ = false;
  }
  void add(const CharSet& other) {
    ranges_.insert(ranges_.end(), other.ranges_.begin(), other.ranges_.end());
    normalized_ = false;
  }

  [[nodiscard]] CharSet complement() const {
    CharSet sorted = *this;
    sorted.normalize();
    CharSet out;
    char32_t next = 0;
    for (auto [lo, hi] : sorted.ranges_) {
      if (lo > next) {
        out.add(next, lo - 1);
      }
      next = hi + 1;
    }
    if (next <= kMaxCodePoint) {
      out.add(next, kMaxCodePoint);
    }
    out.normalize();
    return out;
  }

  void normalize() {
    if (normalized_) {
      return;
    }
    std::sort(ranges_.begin(), ranges_.end());
    std::vector<std::pair<char32_t, char32_t>> merged;
    for (auto r : ranges_) {
      if (!merged.empty() && r.first <= merged.back().second + 1) {
        merged.back().second = std::max(merged.back().second, r.second);
      } else {
        merged.push_back(r);
      }
    }
    ranges_ = std::move(merged);
    normalized_ = true;
  }

  /// Needs normalize() first.
  [[nodiscard]] bool contains(char32_t c) const {
    auto it = std::upper_bound(ranges_.begin(), ranges_.end(), c,
                               [](char32_t x, const std::pair<char32_t, char32_t>& r) { return x < r.first; });
    return it != ranges_.begin() && c <= std::prev(it)->second;
  }

  [[nodiscard]] const std::vector<std::pair<char32_t, char32_t>>& ranges() const { return ranges_; }
  [[nodiscard]] bool empty() const { return ranges_.empty(); }

 private:
  std::vector<std::pair<char32_t, char32_t>> ranges_;
  bool normalized_ = true;
};

CharSet set_of(std::initializer_list<std::pair<char32_t, char32_t>> ranges) {
  CharSet s;
  for (auto [lo, hi] : ranges) {
    s.add(lo, hi);
  }
  s.normalize();
  return s;
}

// Java's predefined classes are ASCII-only unless UNICODE_CHARACTER_CLASS is set, which models
// never do.
const CharSet& digits() {
  static const CharSet s = set_of({{'0', '9'}});
  return s;
}
const CharSet& word_chars() {
  static const CharSet s = set_of({{'a', 'z'}, {'A', 'Z'}, {'0', '9'}, {'_', '_'}});
  return s;
}
const CharSet& spaces() {
  static const CharSet s = set_of({{' ', ' '}, {'\t', '\r'}});
  return s;
}

// Unicode categories, approximated by blocks: letters take most of the non-ASCII planes, minus
// the blocks that are punctuation, symbols, marks or private. Erring towards "is a letter" lets
// real tag keys in any script through; a few symbols slipping by costs nothing.
const CharSet& other_letters() {
  static const CharSet s = set_of({{0xAA, 0xAA},     {0xB5, 0xB5},       {0xBA, 0xBA},     {0xC0, 0xD6},
                                   {0xD8, 0xF6},     {0xF8, 0x2FF},      {0x370, 0x1FFF},  {0x2C00, 0x2DFF},
                                   {0x3040, 0x9FFF}, {0xA000, 0xD7FF},   {0xF900, 0xFDFF}, {0xFE70, 0xFEFF},
                                   {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A},   {0xFF66, 0xFFDC}, {0x10000, 0x1EFFF},
                                   {0x20000, 0x3FFFF}});
  return s;
}
const CharSet& other_numbers() {
  static const CharSet s = set_of({{0xB2, 0xB3},     {0xB9, 0xB9},     {0xBC, 0xBE},     {0x660, 0x669},
                                   {0x6F0, 0x6F9},   {0x966, 0x96F},   {0x2070, 0x2079}, {0x2080, 0x2089},
                                   {0x2150, 0x2189}, {0x2460, 0x249B}, {0x24EA, 0x24FF}, {0x2776, 0x2793},
                                   {0x3007, 0x3007}, {0x3021, 0x3029}, {0xFF10, 0xFF19}});
  return s;
}
const CharSet& separators() {
  static const CharSet s = set_of({{0x20, 0x20},
                                   {0xA0, 0xA0},
                                   {0x1680, 0x1680},
                                   {0x2000, 0x200A},
                                   {0x2028, 0x2029},
                                   {0x202F, 0x202F},
                                   {0x205F, 0x205F},
                                   {0x3000, 0x3000}});
  return s;
}

/// \p{name}: Unicode categories and Java's POSIX classes; nullopt for what we do not know.
std::optional<CharSet> property(std::string_view name) {
  if (name.starts_with("Is") && name.size() > 2) {
    name.remove_prefix(2);
  }
  CharSet s;
  if (name == "L" || name == "Letter" || name == "Alphabetic" || name == "Lt" || name == "Lm" || name == "Lo") {
    if (name != "Lt" && name != "Lm" && name != "Lo") {
      s.add('a', 'z');
      s.add('A', 'Z');
    }
    s.add(other_letters());
  } else if (name == "Lu" || name == "Uppercase") {
    s.add('A', 'Z');
    s.add(other_letters());
  } else if (name == "Ll" || name == "Lowercase") {
    s.add('a', 'z');
    s.add(other_letters());
  } else if (name == "N" || name == "Nd" || name == "Nl" || name == "No") {
    s.add('0', '9');
    s.add(other_numbers());
  } else if (name == "Z" || name == "Zs" || name == "Zl" || name == "Zp") {
    s.add(separators());
  } else if (name == "Lower") {
    s.add('a', 'z');
  } else if (name == "Upper") {
    s.add('A', 'Z');
  } else if (name == "ASCII") {
    s.add(0, 0x7F);
  } else if (name == "Alpha") {
    s.add('a', 'z');
    s.add('A', 'Z');
  } else if (name == "Digit") {
    s.add('0', '9');
  } else if (name == "Alnum") {
    s.add('a', 'z');
    s.add('A', 'Z');
    s.add('0', '9');
  } else if (name == "Punct") {
    s.add('!', '/');
    s.add(':', '@');
    s.add('[', '`');
    s.add('{', '~');
  } else if (name == "Graph") {
    s.add('!', '~');
  } else if (name == "Print") {
    s.add(' ', '~');
  } else if (name == "Blank") {
    s.add(' ', ' ');
    s.add('\t', '\t');
  } else if (name == "Cntrl") {
    s.add(0, 0x1F);
    s.add(0x7F, 0x7F);
  } else if (name == "XDigit") {
    s.add('0', '9');
    s.add('a', 'f');
    s.add('A', 'F');
  } else if (name == "Space") {
    s.add(spaces());
  } else {
    return std::nullopt;
  }
  s.normalize();
  return s;
}

// --- Java pattern → ECMAScript --------------------------------------------------------------

struct Token {
  enum class Kind { kSet, kQuantifier, kSyntax } kind = Kind::kSyntax;
  CharSet set;                       ///< kSet
  std::size_t min = 0;               ///< kQuantifier
  std::size_t max = 0;
  std::wstring text;                 ///< kQuantifier, kSyntax: emitted as is
};

/// Parses a Java pattern into tokens: every character class, escape class and literal becomes a
/// set (so \w, \p{L} and '.' mean what they mean in Java), everything else is passed through.
class JavaPatternParser {
 public:
  explicit JavaPatternParser(std::u32string source) : s_(std::move(source)) {}

  /// False when the pattern uses something we do not translate.
  bool parse(std::vector<Token>& out) {
    while (i_ < s_.size()) {
      const char32_t c = s_[i_];
      if (c == '\\') {
        ++i_;
        if (!top_escape(out)) {
          return false;
        }
      } else if (c == '[') {
        CharSet set;
        if (!char_class(set)) {
          return false;
        }
        push_set(out, std::move(set));
      } else if (c == '.') {
        ++i_;
        static const CharSet kAnyButLineEnd =
            set_of({{'\n', '\n'}, {'\r', '\r'}, {0x85, 0x85}, {0x2028, 0x2029}}).complement();
        push_set(out, kAnyButLineEnd);
      } else if (c == '(') {
        ++i_;
        if (i_ < s_.size() && s_[i_] == '?') {
          if (i_ + 1 >= s_.size() || (s_[i_ + 1] != ':' && s_[i_ + 1] != '=' && s_[i_ + 1] != '!')) {
            return false;  // lookbehind, named groups, inline flags
          }
          push_syntax(out, std::wstring(L"(?") + static_cast<wchar_t>(s_[i_ + 1]));
          i_ += 2;
        } else {
          push_syntax(out, L"(");
        }
      } else if (c == '*' || c == '+' || c == '?' || c == '{') {
        if (!quantifier(out)) {
          return false;
        }
      } else if (c == ')' || c == '|' || c == '^' || c == '$') {
        ++i_;
        push_syntax(out, std::wstring(1, static_cast<wchar_t>(c)));
      } else {
        ++i_;
        push_char(out, c);
      }
    }
    return true;
  }

 private:
  static void push_set(std::vector<Token>& out, CharSet set) {
    Token t;
    t.kind = Token::Kind::kSet;
    t.set = std::move(set);
    out.push_back(std::move(t));
  }
  static void push_char(std::vector<Token>& out, char32_t c) {
    CharSet set;
    set.add(c, c);
    push_set(out, std::move(set));
  }
  static void push_syntax(std::vector<Token>& out, std::wstring text) {
    Token t;
    t.kind = Token::Kind::kSyntax;
    t.text = std::move(text);
    out.push_back(std::move(t));
  }

  bool number(std::size_t& n) {
    const std::size_t start = i_;
    n = 0;
    while (i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '9') {
      n = n * 10 + (s_[i_] - '0');
      if (n > 100000) {
        return false;
      }
      ++i_;
    }
    return i_ > start;
  }

  bool quantifier(std::vector<Token>& out) {
    Token t;
    t.kind = Token::Kind::kQuantifier;
    const char32_t c = s_[i_++];
    if (c == '*') {
      t.min = 0;
      t.max = std::numeric_limits<std::size_t>::max();
      t.text = L"*";
    } else if (c == '+') {
      t.min = 1;
      t.max = std::numeric_limits<std::size_t>::max();
      t.text = L"+";
    } else if (c == '?') {
      t.min = 0;
      t.max = 1;
      t.text = L"?";
    } else {
      if (!number(t.min)) {
        return false;
      }
      t.max = t.min;
      if (i_ < s_.size() && s_[i_] == ',') {
        ++i_;
        t.max = std::numeric_limits<std::size_t>::max();
        if (i_ < s_.size() && s_[i_] != '}' && !number(t.max)) {
          return false;
        }
      }
      if (i_ >= s_.size() || s_[i_] != '}' || t.max < t.min) {
        return false;
      }
      ++i_;
      t.text = L"{" + std::to_wstring(t.min);
      if (t.max != t.min) {
        t.text += L",";
        if (t.max != std::numeric_limits<std::size_t>::max()) {
          t.text += std::to_wstring(t.max);
        }
      }
      t.text += L"}";
    }
    if (i_ < s_.size() && s_[i_] == '?') {
      ++i_;
      t.text += L"?";  // reluctant: same full-match result, kept for the regex engine
    } else if (i_ < s_.size() && s_[i_] == '+') {
      return false;  // possessive
    }
    out.push_back(std::move(t));
    return true;
  }

  bool hex(std::size_t count, char32_t& out) {
    out = 0;
    for (std::size_t k = 0; k < count; ++k) {
      if (i_ >= s_.size()) {
        return false;
      }
      const char32_t d = s_[i_++];
      int v = 0;
      if (d >= '0' && d <= '9') {
        v = static_cast<int>(d - '0');
      } else if (d >= 'a' && d <= 'f') {
        v = static_cast<int>(d - 'a' + 10);
      } else if (d >= 'A' && d <= 'F') {
        v = static_cast<int>(d - 'A' + 10);
      } else {
        return false;
      }
      out = out * 16 + static_cast<char32_t>(v);
    }
    return true;
  }

  enum class Escape { kChar, kSet, kOther, kUnsupported };

  /// After a backslash: a single character (`c`), a class (`set`), or something else.
  Escape escape(char32_t& c, CharSet& set) {
    if (i_ >= s_.size()) {
      return Escape::kUnsupported;
    }
    const char32_t e = s_[i_++];
    switch (e) {
      case 'd': set = digits(); return Escape::kSet;
      case 'D': set = digits().complement(); return Escape::kSet;
      case 'w': set = word_chars(); return Escape::kSet;
      case 'W': set = word_chars().complement(); return Escape::kSet;
      case 's': set = spaces(); return Escape::kSet;
      case 'S': set = spaces().complement(); return Escape::kSet;
      case 'p':
      case 'P': {
        std::string name;
        if (i_ < s_.size() && s_[i_] == '{') {
          ++i_;
          while (i_ < s_.size() && s_[i_] != '}') {
            if (s_[i_] > 0x7F) {
              return Escape::kUnsupported;
            }
            name += static_cast<char>(s_[i_++]);
          }
          if (i_ >= s_.size()) {
            return Escape::kUnsupported;
          }
          ++i_;
        } else if (i_ < s_.size() && s_[i_] < 0x80) {
          name = static_cast<char>(s_[i_++]);
        }
        auto p = property(name);
        if (!p) {
          return Escape::kUnsupported;
        }
        set = e == 'P' ? p->complement() : std::move(*p);
        return Escape::kSet;
      }
      case 't': c = '\t'; return Escape::kChar;
      case 'n': c = '\n'; return Escape::kChar;
      case 'r': c = '\r'; return Escape::kChar;
      case 'f': c = '\f'; return Escape::kChar;
      case 'a': c = 0x07; return Escape::kChar;
      case 'e': c = 0x1B; return Escape::kChar;
      case 'u': return hex(4, c) ? Escape::kChar : Escape::kUnsupported;  // Java: exactly 4 digits
      case 'x':
        if (i_ < s_.size() && s_[i_] == '{') {
          ++i_;
          c = 0;
          std::size_t digits_read = 0;
          while (i_ < s_.size() && s_[i_] != '}') {
            char32_t d = 0;
            if (!hex(1, d) || ++digits_read > 6) {
              return Escape::kUnsupported;
            }
            c = c * 16 + d;
          }
          if (i_ >= s_.size() || digits_read == 0 || c > kMaxCodePoint) {
            return Escape::kUnsupported;
          }
          ++i_;
          return Escape::kChar;
        }
        return hex(2, c) ? Escape::kChar : Escape::kUnsupported;
      case '0': {
        c = 0;
        for (int k = 0; k < 3 && i_ < s_.size() && s_[i_] >= '0' && s_[i_] <= '7'; ++k) {
          c = c * 8 + (s_[i_++] - '0');
        }
        return Escape::kChar;
      }
      case 'c':
        if (i_ >= s_.size()) {
          return Escape::kUnsupported;
        }
        c = s_[i_++] ^ 0x40;
        return Escape::kChar;
      default:
        break;
    }
    if ((e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z') || (e >= '0' && e <= '9')) {
      --i_;
      return Escape::kOther;
    }
    c = e;  // an escaped metacharacter or any other non-alphanumeric stands for itself
    return Escape::kChar;
  }

  bool top_escape(std::vector<Token>& out) {
    char32_t c = 0;
    CharSet set;
    switch (escape(c, set)) {
      case Escape::kChar:
        push_char(out, c);
        return true;
      case Escape::kSet:
        push_set(out, std::move(set));
        return true;
      case Escape::kUnsupported:
        return false;
      case Escape::kOther:
        break;
    }
    const char32_t e = s_[i_++];
    if (e == 'b' || e == 'B') {
      push_syntax(out, e == 'b' ? L"\\b" : L"\\B");
      return true;
    }
    if (e == 'A') {
      push_syntax(out, L"^");
      return true;
    }
    if (e == 'z' || e == 'Z') {
      push_syntax(out, L"$");
      return true;
    }
    if (e >= '1' && e <= '9') {
      push_syntax(out, std::wstring(L"\\") + static_cast<wchar_t>(e));
      return true;
    }
    if (e == 'Q') {
      while (i_ < s_.size()) {
        if (s_[i_] == '\\' && i_ + 1 < s_.size() && s_[i_ + 1] == 'E') {
          i_ += 2;
          return true;
        }
        push_char(out, s_[i_++]);
      }
      return true;
    }
    return false;
  }

  bool class_atom(char32_t& c, CharSet& set, bool& is_set) {
    is_set = false;
    if (s_[i_] != '\\') {
      c = s_[i_++];
      return true;
    }
    ++i_;
    switch (escape(c, set)) {
      case Escape::kChar:
        return true;
      case Escape::kSet:
        is_set = true;
        return true;
      default:
        return false;
    }
  }

  bool char_class(CharSet& out) {
    ++i_;  // '['
    bool negate = false;
    if (i_ < s_.size() && s_[i_] == '^') {
      negate = true;
      ++i_;
    }
    CharSet set;
    bool first = true;
    for (;;) {
      if (i_ >= s_.size()) {
        return false;
      }
      const char32_t c = s_[i_];
      if (c == ']' && !first) {
        ++i_;
        break;
      }
      if (c == '[' || (c == '&' && i_ + 1 < s_.size() && s_[i_ + 1] == '&')) {
        return false;  // Java's nested unions and intersections
      }
      first = false;
      char32_t lo = 0;
      CharSet atom_set;
      bool is_set = false;
      if (!class_atom(lo, atom_set, is_set)) {
        return false;
      }
      if (is_set) {
        set.add(atom_set);
        continue;
      }
      if (i_ + 1 < s_.size() && s_[i_] == '-' && s_[i_ + 1] != ']') {
        ++i_;
        char32_t hi = 0;
        if (!class_atom(hi, atom_set, is_set) || is_set || hi < lo) {
          return false;
        }
        set.add(lo, hi);
      } else {
        set.add(lo, lo);
      }
    }
    set.normalize();
    out = negate ? set.complement() : std::move(set);
    return true;
  }

  std::u32string s_;
  std::size_t i_ = 0;
};

void emit_char(std::wstring& out, char32_t c, bool in_class) {
  static constexpr std::u32string_view kOutside = U"^$\\.*+?()[]{}|/";
  static constexpr std::u32string_view kInside = U"\\]^-[";
  if (c < 0x20 || c == 0x7F) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += L"\\x";
    out += static_cast<wchar_t>(kHex[c >> 4]);
    out += static_cast<wchar_t>(kHex[c & 15]);
    return;
  }
  const auto& specials = in_class ? kInside : kOutside;
  if (specials.find(c) != std::u32string_view::npos) {
    out += L'\\';
  }
  out += static_cast<wchar_t>(c);
}

bool emit_set(std::wstring& out, const CharSet& set) {
  const auto& ranges = set.ranges();
  if (ranges.empty()) {
    return false;
  }
  if (ranges.size() == 1 && ranges[0].first == ranges[0].second) {
    emit_char(out, ranges[0].first, false);
    return true;
  }
  out += L'[';
  for (auto [lo, hi] : ranges) {
    emit_char(out, lo, true);
    if (hi > lo) {
      if (hi > lo + 1) {
        out += L'-';
      }
      emit_char(out, hi, true);
    }
  }
  out += L']';
  return true;
}

// --- compiled patterns ------------------------------------------------------------------------

struct CompiledPattern {
  enum class Kind { kUnchecked, kRun, kRegex } kind = Kind::kUnchecked;
  CharSet run;  ///< kRun: every character in `run`, between min and max of them
  std::size_t min = 0;
  std::size_t max = 0;
  std::wregex regex;

  [[nodiscard]] bool matches(std::string_view text) const {
    if (kind == Kind::kUnchecked) {
      return true;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(text.data());
    const auto* const end = p + text.size();
    if (kind == Kind::kRun) {
      std::size_t count = 0;
      while (p < end) {
        char32_t cp = 0;
        if (!walk::next_code_point(p, end, cp)) {
          return false;
        }
        if (!run.contains(cp) || ++count > max) {
          return false;
        }
      }
      return count >= min;
    }
    std::wstring wide;
    wide.reserve(text.size());
    while (p < end) {
      char32_t cp = 0;
      if (!walk::next_code_point(p, end, cp)) {
        return false;
      }
      wide += static_cast<wchar_t>(cp);
    }
    if (wide.size() > kRegexInputLimit) {
      return true;
    }
    return std::regex_match(wide, regex);
  }
};

std::unique_ptr<CompiledPattern> compile(const std::string& java) {
  auto compiled = std::make_unique<CompiledPattern>();
  std::u32string source;
  const auto* p = reinterpret_cast<const unsigned char*>(java.data());
  const auto* const end = p + java.size();
  while (p < end) {
    char32_t cp = 0;
    if (!walk::next_code_point(p, end, cp)) {
      return compiled;
    }
    source += cp;
  }
  std::vector<Token> tokens;
  if (!JavaPatternParser(std::move(source)).parse(tokens)) {
    return compiled;
  }
  // One set, optionally quantified and anchored: matched by a loop instead of a regex.
  std::size_t first = 0;
  std::size_t last = tokens.size();
  if (first < last && tokens[first].kind == Token::Kind::kSyntax && tokens[first].text == L"^") {
    ++first;
  }
  if (last > first && tokens[last - 1].kind == Token::Kind::kSyntax && tokens[last - 1].text == L"$") {
    --last;
  }
  const std::size_t n = last - first;
  if ((n == 1 || n == 2) && tokens[first].kind == Token::Kind::kSet &&
      (n == 1 || tokens[first + 1].kind == Token::Kind::kQuantifier)) {
    compiled->kind = CompiledPattern::Kind::kRun;
    compiled->run = tokens[first].set;
    compiled->run.normalize();
    compiled->min = n == 2 ? tokens[first + 1].min : 1;
    compiled->max = n == 2 ? tokens[first + 1].max : 1;
    return compiled;
  }
  std::wstring ecma;
  for (const auto& t : tokens) {
    if (t.kind == Token::Kind::kSet) {
      if (!emit_set(ecma, t.set)) {
        return compiled;
      }
    } else {
      ecma += t.text;
    }
  }
  try {
    compiled->regex = std::wregex(ecma, std::regex_constants::ECMAScript | std::regex_constants::nosubs);
    compiled->kind = CompiledPattern::Kind::kRegex;
  } catch (const std::regex_error&) {
    compiled->kind = CompiledPattern::Kind::kUnchecked;
  }
  return compiled;
}

/// Each pattern is compiled once per process. Entries are never removed, so the pointers handed
/// out stay valid without reference counting on the request path.
const CompiledPattern& pattern_for(const std::string& java) {
  static std::shared_mutex mutex;
  static std::map<std::string, std::unique_ptr<CompiledPattern>, std::less<>> cache;
  {
    std::shared_lock lock(mutex);
    if (auto it = cache.find(java); it != cache.end()) {
      return *it->second;
    }
  }
  auto compiled = compile(java);  // outside the lock: std::regex compiles slowly
  std::unique_lock lock(mutex);
  auto [it, inserted] = cache.try_emplace(java, std::move(compiled));
  return *it->second;
}

// --- rendering values as Coral (Java) prints them -------------------------------------------------

/// Java's Double.toString: "1.0", "0.5", "1.0E10", "NaN".
void append_java_double(std::string& out, double d) {
  if (std::isnan(d)) {
    out += "NaN";
    return;
  }
  if (std::isinf(d)) {
    out += d > 0 ? "Infinity" : "-Infinity";
    return;
  }
  char buf[40];
  const double magnitude = std::fabs(d);
  if (magnitude == 0 || (magnitude >= 1e-3 && magnitude < 1e7)) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::fixed);
    std::string_view text(buf, static_cast<std::size_t>(end - buf));
    out += text;
    if (text.find('.') == std::string_view::npos) {
      out += ".0";
    }
    return;
  }
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
  std::string_view text(buf, static_cast<std::size_t>(end - buf));
  const auto e = text.find('e');
  std::string_view mantissa = text.substr(0, e);
  std::string_view exponent = text.substr(e + 1);
  out += mantissa;
  if (mantissa.find('.') == std::string_view::npos) {
    out += ".0";
  }
  out += 'E';
  if (exponent.front() == '-') {
    out += '-';
  }
  exponent.remove_prefix(exponent.front() == '-' || exponent.front() == '+' ? 1 : 0);
  while (exponent.size() > 1 && exponent.front() == '0') {
    exponent.remove_prefix(1);
  }
  out += exponent;
}

template <class Int>
void append_int(std::string& out, Int n) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, n);
  out.append(buf, end);
}

void render(std::string& out, const Value& v) {
  switch (v.type()) {
    case Value::value_t::string:
      out += v.get_ref<const std::string&>();
      return;
    case Value::value_t::boolean:
      out += v.get<bool>() ? "true" : "false";
      return;
    case Value::value_t::number_unsigned:
      append_int(out, v.get<std::uint64_t>());
      return;
    case Value::value_t::number_integer:
      append_int(out, v.get<std::int64_t>());
      return;
    case Value::value_t::number_float:
      append_java_double(out, v.get<double>());
      return;
    case Value::value_t::binary: {
      const auto size = std::to_string(v.get_binary().size());
      out += "java.nio.HeapByteBuffer[pos=0 lim=" + size + " cap=" + size + "]";
      return;
    }
    case Value::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& item : v) {
        if (!first) {
          out += ", ";
        }
        first = false;
        render(out, item);
      }
      out += ']';
      return;
    }
    case Value::value_t::object: {
      out += '{';
      bool first = true;
      for (const auto& [key, item] : v.items()) {
        if (!first) {
          out += ", ";
        }
        first = false;
        out += key;
        out += '=';
        render(out, item);
      }
      out += '}';
      return;
    }
    default:
      out += "null";
      return;
  }
}

/// Model bounds print as the model has them: "900", "0.5".
std::string bound(double b) {
  std::string out;
  if (std::trunc(b) == b && std::fabs(b) < 9.2e18) {
    append_int(out, static_cast<std::int64_t>(b));
  } else {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, b);
    out.append(buf, end);
  }
  return out;
}

/// String length as Java counts it: UTF-16 code units.
std::size_t java_length(std::string_view s) {
  std::size_t n = 0;
  for (const char ch : s) {
    const auto b = static_cast<unsigned char>(ch);
    n += (b & 0xC0) != 0x80 ? 1 : 0;  // one per lead byte
    n += b >= 0xF0 ? 1 : 0;           // a second unit for code points beyond the BMP
  }
  return n;
}

// --- the validator ----------------------------------------------------------------------------

class Validator {
 public:
  explicit Validator(const ValidationStyle& style) : style_(style) {}

  void structure(const Shape& shape, const Value& v, std::string& path) {
    for (const Member& member : shape.members) {
      if (full()) {
        return;
      }
      const std::size_t mark = path.size();
      if (!path.empty()) {
        path += '.';
      }
      append_member(path, member.name);
      auto it = v.find(member.name);
      if (it == v.end() || it->is_null()) {
        if (member.required) {
          null_value(path);
        }
      } else if (member.shape != nullptr) {
        check(*member.shape, *it, path);
      }
      path.resize(mark);
    }
  }

  [[nodiscard]] const std::vector<std::string>& errors() const { return errors_; }

 private:
  [[nodiscard]] bool full() const { return errors_.size() >= kMaxListedErrors; }

  static void append_member(std::string& path, const std::string& name) {
    if (name.empty()) {
      return;
    }
    const char first = name[0];
    path += (first >= 'A' && first <= 'Z') ? static_cast<char>(first - 'A' + 'a') : first;
    path.append(name, 1);
  }

  void null_value(const std::string& path) {
    if (!full()) {
      errors_.push_back("Value null at '" + path + "' failed to satisfy constraint: Member must not be null");
    }
  }

  void violation(const Shape& shape, const Value& v, const std::string& path, std::string_view constraint) {
    if (full()) {
      return;
    }
    std::string message = "Value ";
    if (!shape.sensitive) {
      message += '\'';
      render(message, v);
      message += "' ";
    }
    message += "at '";
    message += path;
    message += "' failed to satisfy constraint: ";
    message += constraint;
    errors_.push_back(std::move(message));
  }

  void length(const Shape& shape, const Value& v, const std::string& path, std::size_t n) {
    if (shape.min && static_cast<double>(n) < *shape.min) {
      violation(shape, v, path, "Member must have length greater than or equal to " + bound(*shape.min));
    }
    if (shape.max && static_cast<double>(n) > *shape.max) {
      violation(shape, v, path, "Member must have length less than or equal to " + bound(*shape.max));
    }
  }

  /// The string constraints of `shape` that `s` breaks, in the order Coral lists them.
  std::vector<std::string> string_violations(const Shape& shape, const std::string& s) const {
    std::vector<std::string> broken;
    if (style_.check_patterns && !shape.pattern.empty() && !pattern_for(shape.pattern).matches(s)) {
      broken.push_back("Member must satisfy regular expression pattern: " + shape.pattern);
    }
    if (shape.min || shape.max) {
      const auto n = static_cast<double>(java_length(s));
      if (shape.min && n < *shape.min) {
        broken.push_back("Member must have length greater than or equal to " + bound(*shape.min));
      }
      if (shape.max && n > *shape.max) {
        broken.push_back("Member must have length less than or equal to " + bound(*shape.max));
      }
    }
    if (style_.check_enums && !shape.enum_values.empty() &&
        std::find(shape.enum_values.begin(), shape.enum_values.end(), s) == shape.enum_values.end()) {
      std::string set = "Member must satisfy enum value set: [";
      for (std::size_t i = 0; i < shape.enum_values.size(); ++i) {
        set += i == 0 ? "" : ", ";
        set += shape.enum_values[i];
      }
      set += ']';
      broken.push_back(std::move(set));
    }
    return broken;
  }

  void check(const Shape& shape, const Value& v, std::string& path) {
    if (full() || shape.document) {
      return;
    }
    switch (shape.type) {
      case ShapeType::kStructure:
      case ShapeType::kUnion:
        if (v.is_object()) {
          structure(shape, v, path);
        }
        return;
      case ShapeType::kList:
        if (v.is_array()) {
          length(shape, v, path, v.size());
          list_items(shape, v, path);
        }
        return;
      case ShapeType::kMap:
        if (v.is_object()) {
          length(shape, v, path, v.size());
          map_entries(shape, v, path);
        }
        return;
      case ShapeType::kString:
        if (v.is_string()) {
          for (const auto& constraint : string_violations(shape, v.get_ref<const std::string&>())) {
            violation(shape, v, path, constraint);
          }
        }
        return;
      case ShapeType::kBlob: {
        const std::uint8_t* data = nullptr;
        std::size_t size = 0;
        if (walk::blob_bytes(v, data, size)) {
          length(shape, v, path, size);
        }
        return;
      }
      case ShapeType::kInteger:
      case ShapeType::kLong:
      case ShapeType::kFloat:
      case ShapeType::kDouble:
      case ShapeType::kBigDecimal:
        if (v.is_number()) {
          const double d = v.get<double>();
          if (shape.min && d < *shape.min) {
            violation(shape, v, path, "Member must have value greater than or equal to " + bound(*shape.min));
          }
          if (shape.max && d > *shape.max) {
            violation(shape, v, path, "Member must have value less than or equal to " + bound(*shape.max));
          }
        }
        return;
      case ShapeType::kBoolean:
      case ShapeType::kTimestamp:
        return;
    }
  }

  void list_items(const Shape& shape, const Value& v, std::string& path) {
    if (shape.member.shape == nullptr) {
      return;
    }
    const std::size_t mark = path.size();
    std::size_t index = 0;
    for (const auto& item : v) {
      if (full()) {
        break;
      }
      path += '.';
      append_int(path, ++index);
      path += ".member";
      if (item.is_null()) {
        null_value(path);
      } else {
        check(*shape.member.shape, item, path);
      }
      path.resize(mark);
    }
  }

  void map_entries(const Shape& shape, const Value& v, std::string& path) {
    const std::size_t mark = path.size();
    for (const auto& [key, item] : v.items()) {
      if (full()) {
        break;
      }
      if (const Shape* key_shape = shape.key.shape; key_shape != nullptr && key_shape->type == ShapeType::kString) {
        auto broken = string_violations(*key_shape, key);
        if (!broken.empty()) {
          std::string constraint = "Map keys must satisfy constraint: [";
          for (std::size_t i = 0; i < broken.size(); ++i) {
            constraint += i == 0 ? "" : ", ";
            constraint += broken[i];
          }
          constraint += ']';
          violation(*key_shape, Value(key), path, constraint);
        }
      }
      if (shape.value.shape == nullptr) {
        continue;
      }
      path += '.';
      path += key;
      path += ".member";
      if (item.is_null()) {
        null_value(path);
      } else {
        check(*shape.value.shape, item, path);
      }
      path.resize(mark);
    }
  }

  const ValidationStyle& style_;
  std::vector<std::string> errors_;
};

}  // namespace

void validate(const model::Shape* input, const Value& value, const ValidationStyle& style) {
  if (input == nullptr || !value.is_object()) {
    return;
  }
  Validator validator(style);
  std::string path;
  validator.structure(*input, value, path);
  const auto& errors = validator.errors();
  if (errors.empty()) {
    return;
  }
  std::string message = std::to_string(errors.size()) +
                        (errors.size() == 1 ? " validation error detected: " : " validation errors detected: ");
  for (std::size_t i = 0; i < errors.size(); ++i) {
    if (i > 0) {
      message += "; ";
    }
    message += errors[i];
  }
  throw AwsError(style.code, style.status, std::move(message));
}

}  // namespace fogbank::protocol::codec
