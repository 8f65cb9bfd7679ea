// Finding open chats by words, in Korean and English alike.
//
// Korean attaches particles to words (독서모임에, 독서를), so splitting on spaces misses
// most matches. Rooms are indexed by n-grams instead: every character and every pair of
// adjacent characters of each word, lower-cased. A query word must have all its pairs (or,
// for a one-character word, that character) in a room's index, which an FTS5 index answers
// with one lookup per n-gram; `matches` then checks that the word really is a substring, since
// the pairs of a word may also occur apart.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace modu::openchat {

// The room's searchable text (title, description, tags) as space-separated n-grams.
std::string index_terms(std::string_view title, std::string_view description,
                        const std::vector<std::string>& tags);

// The query's words, lower-cased; empty if it holds no word characters.
std::vector<std::string> query_words(std::string_view query);

// The n-grams every matching room must hold, for `query_words`.
std::vector<std::string> query_terms(const std::vector<std::string>& words);

// Whether every word occurs in the room's text (case-insensitively for ASCII).
bool matches(const std::vector<std::string>& words, std::string_view title,
             std::string_view description, const std::vector<std::string>& tags);

// Lower-cases ASCII letters; other bytes are kept.
std::string fold_case(std::string_view text);

}  // namespace modu::openchat
