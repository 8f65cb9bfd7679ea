#include "services/openchat/search.h"

#include <algorithm>
#include <cstdint>

namespace modu::openchat {
namespace {

// Splits UTF-8 text into code points (as byte ranges); invalid bytes stand alone.
std::vector<std::string_view> code_points(std::string_view s) {
  std::vector<std::string_view> out;
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 1;
    if (i + n > s.size()) n = 1;
    out.push_back(s.substr(i, n));
    i += n;
  }
  return out;
}

std::uint32_t decode(std::string_view cp) {
  auto b = [&](std::size_t i) { return static_cast<std::uint32_t>(static_cast<unsigned char>(cp[i])); };
  switch (cp.size()) {
    case 2: return ((b(0) & 0x1F) << 6) | (b(1) & 0x3F);
    case 3: return ((b(0) & 0x0F) << 12) | ((b(1) & 0x3F) << 6) | (b(2) & 0x3F);
    case 4: return ((b(0) & 0x07) << 18) | ((b(1) & 0x3F) << 12) | ((b(2) & 0x3F) << 6) | (b(3) & 0x3F);
    default: return b(0);
  }
}

// Letters and digits of any script belong to words; ASCII punctuation and space, and the
// Unicode space and punctuation blocks, separate them.
bool is_word_char(std::string_view cp) {
  std::uint32_t c = decode(cp);
  if (c < 0x80) return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  if (c == 0xA0 || (c >= 0x2000 && c <= 0x206F)) return false;  // spaces, general punctuation
  if (c >= 0x3000 && c <= 0x303F) return false;                  // CJK symbols and punctuation
  if (c >= 0xFF01 && c <= 0xFF0F) return false;                  // fullwidth punctuation
  return true;
}

// Words of the (case-folded) text, each as its code points.
std::vector<std::vector<std::string_view>> words_of(std::string_view folded) {
  std::vector<std::vector<std::string_view>> words(1);
  for (auto cp : code_points(folded)) {
    if (is_word_char(cp)) words.back().push_back(cp);
    else if (!words.back().empty()) words.emplace_back();
  }
  if (words.back().empty()) words.pop_back();
  return words;
}

void add_grams(const std::vector<std::string_view>& word, std::vector<std::string>& out) {
  for (std::size_t i = 0; i < word.size(); ++i) {
    out.emplace_back(word[i]);
    if (i + 1 < word.size()) out.push_back(std::string(word[i]) + std::string(word[i + 1]));
  }
}

}  // namespace

std::string fold_case(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return out;
}

std::string index_terms(std::string_view title, std::string_view description,
                        const std::vector<std::string>& tags) {
  std::string text = fold_case(title);
  text += ' ';
  text += fold_case(description);
  for (const auto& t : tags) {
    text += ' ';
    text += fold_case(t);
  }
  std::string folded = text;
  std::vector<std::string> grams;
  for (const auto& w : words_of(folded)) add_grams(w, grams);
  std::sort(grams.begin(), grams.end());
  grams.erase(std::unique(grams.begin(), grams.end()), grams.end());
  std::string out;
  for (const auto& g : grams) {
    if (!out.empty()) out += ' ';
    out += g;
  }
  return out;
}

std::vector<std::string> query_words(std::string_view query) {
  std::string folded = fold_case(query);
  std::vector<std::string> out;
  for (const auto& w : words_of(folded)) {
    std::string word;
    for (auto cp : w) word += cp;
    out.push_back(std::move(word));
  }
  return out;
}

std::vector<std::string> query_terms(const std::vector<std::string>& words) {
  std::vector<std::string> terms;
  for (const auto& word : words) {
    auto cps = code_points(word);
    if (cps.size() == 1) terms.emplace_back(cps[0]);
    for (std::size_t i = 0; i + 1 < cps.size(); ++i)
      terms.push_back(std::string(cps[i]) + std::string(cps[i + 1]));
  }
  std::sort(terms.begin(), terms.end());
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  return terms;
}

bool matches(const std::vector<std::string>& words, std::string_view title,
             std::string_view description, const std::vector<std::string>& tags) {
  std::string hay = fold_case(title);
  hay += '\n';
  hay += fold_case(description);
  for (const auto& t : tags) {
    hay += '\n';
    hay += fold_case(t);
  }
  return std::all_of(words.begin(), words.end(),
                     [&](const std::string& w) { return hay.find(w) != std::string::npos; });
}

}  // namespace modu::openchat
